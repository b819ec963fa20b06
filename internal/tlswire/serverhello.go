package tlswire

import (
	"bytes"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
)

// helloRetryRandom is the Random value that marks a TLS 1.3 ServerHello as a
// HelloRetryRequest (RFC 8446, 4.1.3).
var helloRetryRandom = []byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// Extension is one raw extension.
type Extension struct {
	Type uint16
	Data []byte
}

// ServerHello is a decoded ServerHello (or HelloRetryRequest).
type ServerHello struct {
	LegacyVersion Version
	Random        []byte
	SessionID     []byte
	Suite         uint16
	Compression   uint8
	Extensions    []Extension
	// SupportedVersion is the supported_versions selection (TLS 1.3), 0 when absent.
	SupportedVersion Version
	// HelloRetry marks a HelloRetryRequest.
	HelloRetry bool
	// KeyShareGroup is the group of the server's key share, or the group a
	// HelloRetryRequest asks for; KeyShare the server's public value.
	KeyShareGroup uint16
	KeyShare      []byte
	// RenegotiationInfo is present (non-nil, possibly empty) when the server
	// supports RFC 5746 secure renegotiation.
	RenegotiationInfo []byte
	ExtendedMasterSec bool
}

// Version is the negotiated version: supported_versions when present,
// otherwise the legacy field.
func (s *ServerHello) Version() Version {
	if s.SupportedVersion != 0 {
		return s.SupportedVersion
	}
	return s.LegacyVersion
}

// ParseServerHello decodes a ServerHello body (without the handshake header).
func ParseServerHello(body []byte) (*ServerHello, error) {
	in := cryptobyte.String(body)
	s := &ServerHello{}
	var ver uint16
	var sid cryptobyte.String
	if !in.ReadUint16(&ver) || !in.ReadBytes(&s.Random, 32) || !in.ReadUint8LengthPrefixed(&sid) ||
		!in.ReadUint16(&s.Suite) || !in.ReadUint8(&s.Compression) {
		return nil, truncated("server_hello")
	}
	s.LegacyVersion, s.Random, s.SessionID = Version(ver), slices.Clip(s.Random), slices.Clip([]byte(sid))
	if len(s.SessionID) > 32 {
		return nil, fmt.Errorf("server_hello.session_id of %d bytes: %w", len(s.SessionID), ErrMalformed)
	}
	if s.LegacyVersion>>8 != 3 {
		return nil, fmt.Errorf("server_hello.version 0x%04X: %w", uint16(s.LegacyVersion), ErrMalformed)
	}
	s.HelloRetry = bytes.Equal(s.Random, helloRetryRandom)
	if in.Empty() {
		return s, nil
	}
	var exts cryptobyte.String
	if !in.ReadUint16LengthPrefixed(&exts) {
		return nil, truncated("server_hello.extensions")
	}
	if !in.Empty() {
		return nil, fmt.Errorf("server_hello: %d trailing bytes: %w", len(in), ErrMalformed)
	}
	seen := map[uint16]bool{}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return nil, truncated("server_hello.extension")
		}
		if seen[typ] {
			return nil, fmt.Errorf("server_hello: extension %d twice: %w", typ, ErrMalformed)
		}
		seen[typ] = true
		s.Extensions = append(s.Extensions, Extension{Type: typ, Data: slices.Clip([]byte(data))})
		if err := s.extension(typ, data); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// extension decodes the extensions the prober reads; each must be read
// to its end.
func (s *ServerHello) extension(typ uint16, d cryptobyte.String) error {
	ok := true
	switch typ {
	case ExtSupportedVersions:
		var v uint16
		ok = d.ReadUint16(&v)
		s.SupportedVersion = Version(v)
	case ExtKeyShare:
		ok = d.ReadUint16(&s.KeyShareGroup)
		if ok && !s.HelloRetry {
			var ks cryptobyte.String
			ok = d.ReadUint16LengthPrefixed(&ks)
			s.KeyShare = slices.Clip([]byte(ks))
		}
	case ExtRenegotiationInfo:
		var ri cryptobyte.String
		ok = d.ReadUint8LengthPrefixed(&ri)
		// Present means non-nil, even when empty.
		s.RenegotiationInfo = append([]byte{}, ri...)
	case ExtExtendedMasterSec:
		s.ExtendedMasterSec = true
	default:
		return nil
	}
	switch {
	case !ok:
		return truncated(fmt.Sprintf("server_hello: extension %d", typ))
	case !d.Empty():
		return fmt.Errorf("server_hello: extension %d has %d trailing bytes: %w", typ, len(d), ErrMalformed)
	}
	return nil
}

// truncated is the error of a message that ends before what was read.
func truncated(what string) error {
	return fmt.Errorf("%s: truncated: %w", what, ErrMalformed)
}

// maxChainCerts bounds a served chain (the message size bounds it too).
const maxChainCerts = 256

// ParseCertificates decodes a Certificate message body into DER
// certificates, leaf first. tls13 selects the TLS 1.3 layout (request
// context and per-entry extensions).
func ParseCertificates(body []byte, tls13 bool) ([][]byte, error) {
	in := cryptobyte.String(body)
	var ctx, list cryptobyte.String
	if tls13 && !in.ReadUint8LengthPrefixed(&ctx) {
		return nil, truncated("certificate.request_context")
	}
	if !in.ReadUint24LengthPrefixed(&list) {
		return nil, truncated("certificate.list")
	}
	if !in.Empty() {
		return nil, fmt.Errorf("certificate: %d trailing bytes: %w", len(in), ErrMalformed)
	}
	var out [][]byte
	for !list.Empty() {
		var der, exts cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&der) || (tls13 && !list.ReadUint16LengthPrefixed(&exts)) {
			return nil, truncated("certificate.entry")
		}
		if len(der) == 0 {
			return nil, fmt.Errorf("certificate: empty entry: %w", ErrMalformed)
		}
		if len(out) == maxChainCerts {
			return nil, fmt.Errorf("certificate: more than %d certificates: %w", maxChainCerts, ErrTooLarge)
		}
		out = append(out, slices.Clip([]byte(der)))
	}
	return out, nil
}
