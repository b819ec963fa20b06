package facts

import "time"

// Certificate is one X.509 certificate, from a keystore or a TLS handshake.
type Certificate struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	Serial    string    `json:"serial,omitempty"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	// KeyType is RSA, EC, DSA, Ed25519 or Ed448.
	KeyType string `json:"key_type"`
	KeyBits int    `json:"key_bits"`
	// SignatureAlgorithm as Go names it: SHA256-RSA, SHA1-RSA, MD5-RSA,
	// ECDSA-SHA256, DSA-SHA1, Ed25519, ...
	SignatureAlgorithm string   `json:"signature_algorithm"`
	SelfSigned         bool     `json:"self_signed"`
	IsCA               bool     `json:"is_ca"`
	DNSNames           []string `json:"dns_names"`
	IPAddresses        []string `json:"ip_addresses"`
	// SHA256 is the fingerprint of the DER encoding, lower-case hex.
	SHA256 string `json:"sha256"`
	// WSO2Default is true when this is one of the certificates WSO2 ships
	// in its default keystores (recognised by fingerprint or by the subject
	// CN=localhost, OU=WSO2, O=WSO2).
	WSO2Default bool `json:"wso2_default"`
	// ParseError says why Go's X.509 parser rejected the certificate (for
	// example "x509: negative serial number"); the fields above were then
	// read leniently from the DER. Empty when it parsed.
	ParseError string `json:"parse_error,omitempty"`
	// Unreadable: not even the certificate's structure could be read; only
	// SHA256 (and WSO2Default, by fingerprint) is known.
	Unreadable bool `json:"unreadable,omitempty"`
}
