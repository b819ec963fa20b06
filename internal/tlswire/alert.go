package tlswire

import (
	"fmt"

	"github.com/rampart-sec/rampart/internal/netfail"
)

// Alert is a TLS alert (level and description).
type Alert struct {
	Level       uint8
	Description uint8
}

// Alert descriptions the prober reacts to.
const (
	AlertCloseNotify          uint8 = 0
	AlertUnexpectedMessage    uint8 = 10
	AlertHandshakeFailure     uint8 = 40
	AlertIllegalParameter     uint8 = 47
	AlertDecodeError          uint8 = 50
	AlertProtocolVersion      uint8 = 70
	AlertInsufficientSecurity uint8 = 71
	AlertInappropriateFallbk  uint8 = 86
	AlertNoRenegotiation      uint8 = 100
)

var alertNames = map[uint8]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed",
	22: "record_overflow", 30: "decompression_failure", 40: "handshake_failure", 41: "no_certificate",
	42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked",
	45: "certificate_expired", 46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca",
	49: "access_denied", 50: "decode_error", 51: "decrypt_error", 60: "export_restriction",
	70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
	86: "inappropriate_fallback", 90: "user_canceled", 100: "no_renegotiation",
	109: "missing_extension", 110: "unsupported_extension", 111: "certificate_unobtainable",
	112: "unrecognized_name", 113: "bad_certificate_status_response", 114: "bad_certificate_hash_value",
	115: "unknown_psk_identity", 116: "certificate_required", 120: "no_application_protocol",
}

// Fatal reports whether the alert ends the connection.
func (a Alert) Fatal() bool { return a.Level == 2 }

func (a Alert) String() string {
	name, ok := alertNames[a.Description]
	if !ok {
		name = fmt.Sprintf("alert %d", a.Description)
	}
	if a.Level == 1 {
		return "warning " + name
	}
	return name
}

// Error makes an alert usable as an error: the server refused with it.
func (a Alert) Error() string { return "server sent alert: " + a.String() }

// NetfailReason classifies an alert as a failure: the server refused with it.
func (a Alert) NetfailReason() netfail.Reason { return netfail.TLSAlert }

// ParseAlert decodes an alert record's payload.
func ParseAlert(p []byte) (Alert, error) {
	if len(p) != 2 {
		return Alert{}, fmt.Errorf("alert of %d bytes (want 2): %w", len(p), ErrMalformed)
	}
	return Alert{Level: p[0], Description: p[1]}, nil
}
