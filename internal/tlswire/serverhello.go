package tlswire

import (
	"bytes"
	"fmt"
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
	r := reader{b: body}
	s := &ServerHello{}
	s.LegacyVersion = Version(r.u16("server_hello.version"))
	s.Random = r.bytes(32, "server_hello.random")
	s.SessionID = r.vec8("server_hello.session_id")
	s.Suite = r.u16("server_hello.cipher_suite")
	s.Compression = r.u8("server_hello.compression")
	if r.err != nil {
		return nil, r.err
	}
	if len(s.SessionID) > 32 {
		return nil, fmt.Errorf("server_hello.session_id of %d bytes: %w", len(s.SessionID), ErrMalformed)
	}
	if s.LegacyVersion>>8 != 3 {
		return nil, fmt.Errorf("server_hello.version 0x%04X: %w", uint16(s.LegacyVersion), ErrMalformed)
	}
	s.HelloRetry = bytes.Equal(s.Random, helloRetryRandom)
	if r.empty() {
		return s, nil
	}
	exts := reader{b: r.vec16("server_hello.extensions")}
	if r.err != nil {
		return nil, r.err
	}
	if !r.empty() {
		return nil, fmt.Errorf("server_hello: %d trailing bytes: %w", len(r.b), ErrMalformed)
	}
	seen := map[uint16]bool{}
	for !exts.empty() && exts.err == nil {
		typ := exts.u16("extension.type")
		data := exts.vec16("extension.data")
		if exts.err != nil {
			break
		}
		if seen[typ] {
			return nil, fmt.Errorf("server_hello: extension %d twice: %w", typ, ErrMalformed)
		}
		seen[typ] = true
		s.Extensions = append(s.Extensions, Extension{Type: typ, Data: data})
		d := reader{b: data}
		switch typ {
		case ExtSupportedVersions:
			s.SupportedVersion = Version(d.u16("supported_versions"))
		case ExtKeyShare:
			s.KeyShareGroup = d.u16("key_share.group")
			if !s.HelloRetry {
				s.KeyShare = d.vec16("key_share.key_exchange")
			}
		case ExtRenegotiationInfo:
			s.RenegotiationInfo = d.vec8("renegotiation_info")
			if s.RenegotiationInfo == nil {
				s.RenegotiationInfo = []byte{}
			}
		case ExtExtendedMasterSec:
			s.ExtendedMasterSec = true
		default:
			continue
		}
		if d.err != nil {
			return nil, d.err
		}
		if !d.empty() {
			return nil, fmt.Errorf("server_hello: extension %d has %d trailing bytes: %w", typ, len(d.b), ErrMalformed)
		}
	}
	if exts.err != nil {
		return nil, exts.err
	}
	return s, nil
}

// maxChainCerts bounds a served chain (the message size bounds it too).
const maxChainCerts = 256

// ParseCertificates decodes a Certificate message body into DER
// certificates, leaf first. tls13 selects the TLS 1.3 layout (request
// context and per-entry extensions).
func ParseCertificates(body []byte, tls13 bool) ([][]byte, error) {
	r := reader{b: body}
	if tls13 {
		r.vec8("certificate.request_context")
	}
	list := reader{b: r.vec24("certificate.list")}
	if r.err != nil {
		return nil, r.err
	}
	if !r.empty() {
		return nil, fmt.Errorf("certificate: %d trailing bytes: %w", len(r.b), ErrMalformed)
	}
	var out [][]byte
	for !list.empty() {
		der := list.vec24("certificate.entry")
		if tls13 {
			list.vec16("certificate.entry.extensions")
		}
		if list.err != nil {
			return nil, list.err
		}
		if len(der) == 0 {
			return nil, fmt.Errorf("certificate: empty entry: %w", ErrMalformed)
		}
		if len(out) == maxChainCerts {
			return nil, fmt.Errorf("certificate: more than %d certificates: %w", maxChainCerts, ErrTooLarge)
		}
		out = append(out, der)
	}
	return out, nil
}
