package facts

import (
	"regexp"
	"strings"
)

// secretName matches the last segment of a configuration key when it names
// a secret: password, ConnectionPassword, key_password, app_password,
// passphrase, pwd, client_secret, access_token, credentials.
var secretName = regexp.MustCompile(`(?i)(pass(word|wd|phrase)?|pwd|secret|token|credentials?)$`)

// secretKeys are whole last segments that name key material.
var secretKeys = map[string]bool{"private_key": true, "privatekey": true, "api_key": true, "apikey": true, "secret_key": true, "symmetric_key": true}

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
	case secretName.MatchString(l) && !strings.HasSuffix(l, "_tokens") && l != "bypass":
		return true
	case secretKeys[l]:
		return true
	case l == "key" && strings.Contains(strings.ToLower(key), "encryption"):
		return true
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
