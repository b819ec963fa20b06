package facts

import "strings"

// secretSuffixes end the last segment of a configuration key that names
// a secret: password, ConnectionPassword, key_password, passphrase, pwd,
// client_secret, access_token, credentials. Suffix checks, not a regular
// expression: this runs for every setting of every scan.
var secretSuffixes = []string{"password", "passwd", "passphrase", "pass", "pwd", "secret", "token", "credential", "credentials"}

// isSecretKeyName reports whether a whole last segment names key material.
func isSecretKeyName(l string) bool {
	switch l {
	case "private_key", "privatekey", "api_key", "apikey", "secret_key", "symmetric_key":
		return true
	}
	return false
}

// Redacted replaces a secret value wherever one would be shown.
const Redacted = "[redacted]"

// IsSecretKey reports whether a configuration key names a secret
// ("super_admin.password", "keystore.tls.key_password", "encryption.key",
// "user_store.properties.ConnectionPassword"). Only the last segment is
// judged, so "transport.passthru_https.sender.parameters.HostnameVerifier"
// or "keystore.primary.alias" are not secrets.
func IsSecretKey(key string) bool {
	last := key
	if i := strings.LastIndexAny(key, ".["); i >= 0 {
		last = strings.TrimRight(key[i+1:], "]'\"")
	}
	l := strings.ToLower(last)
	switch {
	case l != "bypass" && hasSecretSuffix(l):
		return true
	case isSecretKeyName(l):
		return true
	case l == "key" && strings.Contains(strings.ToLower(key), "encryption"):
		return true
	}
	return false
}

func hasSecretSuffix(l string) bool {
	for _, suf := range secretSuffixes {
		if strings.HasSuffix(l, suf) {
			return true
		}
	}
	return false
}

// RedactValue returns value, or Redacted when key names a secret and the
// value is not empty.
func RedactValue(key, value string) string {
	if value != "" && IsSecretKey(key) {
		return Redacted
	}
	return value
}
