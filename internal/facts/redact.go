package facts

import (
	"regexp"
)

// secretKey matches configuration keys whose values are secrets.
var secretKey = regexp.MustCompile(`(?i)(pass(word|wd|phrase)?|secret|credential|token|private[_.-]?key|api[_.-]?key|symmetric|encryption\.key|app_password|\bpwd\b)`)

// Redacted replaces a secret value wherever one would be shown.
const Redacted = "[redacted]"

// IsSecretKey reports whether a configuration key names a secret
// ("super_admin.password", "encryption.key", "keystore.tls.key_password").
func IsSecretKey(key string) bool { return secretKey.MatchString(key) }

// RedactValue returns value, or Redacted when key names a secret and the
// value is not empty.
func RedactValue(key, value string) string {
	if value != "" && IsSecretKey(key) {
		return Redacted
	}
	return value
}
