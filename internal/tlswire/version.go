// Package tlswire encodes and decodes SSL and TLS at the record and
// handshake level: ClientHellos for SSLv2 through TLS 1.3 built by hand,
// ServerHello, Certificate, ServerKeyExchange and alert parsing, the IANA
// cipher-suite and named-group registries, and a minimal TLS 1.0-1.2
// client (Client, Conn: ECDHE, DHE or RSA key exchange; AES-GCM,
// ChaCha20-Poly1305 or AES-CBC with HMAC) for what crypto/tls cannot do: DHE-only servers and
// client-initiated renegotiation. Every parser bounds what it reads and
// returns an error, never panics, on malformed input.
package tlswire

import "fmt"

// Version is a protocol version as it appears on the wire. SSLv2 has no
// two-byte code in TLS; VersionSSL20 is the value SSLv2 hellos carry.
type Version uint16

const (
	VersionSSL20 Version = 0x0002
	VersionSSL30 Version = 0x0300
	VersionTLS10 Version = 0x0301
	VersionTLS11 Version = 0x0302
	VersionTLS12 Version = 0x0303
	VersionTLS13 Version = 0x0304
)

// AllVersions lists every version a prober asks about, oldest first.
var AllVersions = []Version{VersionSSL20, VersionSSL30, VersionTLS10, VersionTLS11, VersionTLS12, VersionTLS13}

// String names the version as the facts do: SSLv2, SSLv3, TLSv1.0 ... TLSv1.3.
func (v Version) String() string {
	switch v {
	case VersionSSL20:
		return "SSLv2"
	case VersionSSL30:
		return "SSLv3"
	case VersionTLS10:
		return "TLSv1.0"
	case VersionTLS11:
		return "TLSv1.1"
	case VersionTLS12:
		return "TLSv1.2"
	case VersionTLS13:
		return "TLSv1.3"
	}
	return fmt.Sprintf("0x%04X", uint16(v))
}
