package tlswire

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"

	"github.com/rampart-sec/rampart/internal/netfail"
	"golang.org/x/crypto/cryptobyte"
)

// SSLv2 message types.
const (
	sslv2MsgError       = 0
	sslv2MsgClientHello = 1
	sslv2MsgServerHello = 4
)

// MarshalSSLv2ClientHello builds an SSLv2 CLIENT-HELLO record offering the
// given cipher kinds with a 16-byte challenge.
func MarshalSSLv2ClientHello(kinds []uint32, challenge [16]byte) []byte {
	body := []byte{sslv2MsgClientHello, 0x00, 0x02}
	body = binary.BigEndian.AppendUint16(body, uint16(3*len(kinds)))
	body = binary.BigEndian.AppendUint16(body, 0) // session id
	body = binary.BigEndian.AppendUint16(body, uint16(len(challenge)))
	for _, k := range kinds {
		body = append(body, byte(k>>16), byte(k>>8), byte(k))
	}
	body = append(body, challenge[:]...)
	n := len(body)
	return append([]byte{0x80 | byte(n>>8), byte(n)}, body...)
}

// SSLv2ServerHello is a decoded SSLv2 SERVER-HELLO.
type SSLv2ServerHello struct {
	Version     uint16
	Certificate []byte
	CipherKinds []uint32
}

// ErrSSLv2Error marks an SSLv2 ERROR message from the server.
var ErrSSLv2Error = netfail.New(netfail.TLSAlert, "server sent an SSLv2 error")

// ReadSSLv2ServerHello reads one SSLv2 record from r and decodes it as a
// SERVER-HELLO. A TLS record (a modern server's alert) yields ErrNotTLS
// wrapped with what was seen, so the caller can tell "refused" from garbage.
func ReadSSLv2ServerHello(r io.Reader) (*SSLv2ServerHello, error) {
	var h [3]byte
	if _, err := io.ReadFull(r, h[:2]); err != nil {
		return nil, err
	}
	var n int
	switch {
	case h[0]&0x80 != 0:
		n = int(h[0]&0x7f)<<8 | int(h[1])
	case h[0] >= TypeChangeCipherSpec && h[0] <= TypeHeartbeat && h[1] == 3:
		return nil, fmt.Errorf("server answered SSLv2 with a TLS record (type %d): %w", h[0], ErrUnexpected)
	default:
		// Three-byte header (padding follows the body).
		if _, err := io.ReadFull(r, h[2:3]); err != nil {
			return nil, err
		}
		n = int(h[0]&0x3f)<<8 | int(h[1])
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("sslv2 record: %w", err)
	}
	return ParseSSLv2ServerHello(body)
}

// ParseSSLv2ServerHello decodes an SSLv2 SERVER-HELLO message.
func ParseSSLv2ServerHello(body []byte) (*SSLv2ServerHello, error) {
	in := cryptobyte.String(body)
	var typ uint8
	if !in.ReadUint8(&typ) {
		return nil, truncated("sslv2.msg_type")
	}
	switch typ {
	case sslv2MsgError:
		var code uint16
		in.ReadUint16(&code) // a short error message still is one (code 0)
		return nil, fmt.Errorf("code %d: %w", code, ErrSSLv2Error)
	case sslv2MsgServerHello:
	default:
		return nil, fmt.Errorf("sslv2 message type %d: %w", typ, ErrUnexpected)
	}
	s := &SSLv2ServerHello{}
	var hit, certType uint8
	var certLen, specLen, connLen uint16
	var specs, connID []byte
	if !in.ReadUint8(&hit) || !in.ReadUint8(&certType) || !in.ReadUint16(&s.Version) ||
		!in.ReadUint16(&certLen) || !in.ReadUint16(&specLen) || !in.ReadUint16(&connLen) ||
		!in.ReadBytes(&s.Certificate, int(certLen)) || !in.ReadBytes(&specs, int(specLen)) || !in.ReadBytes(&connID, int(connLen)) {
		return nil, truncated("sslv2.server_hello")
	}
	s.Certificate = slices.Clip(s.Certificate)
	if specLen%3 != 0 {
		return nil, fmt.Errorf("sslv2 cipher specs of %d bytes: %w", specLen, ErrMalformed)
	}
	for i := 0; i+3 <= len(specs); i += 3 {
		s.CipherKinds = append(s.CipherKinds, uint32(specs[i])<<16|uint32(specs[i+1])<<8|uint32(specs[i+2]))
	}
	return s, nil
}
