package tlswire

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/rampart-sec/rampart/internal/netfail"
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
	r := reader{b: body}
	switch t := r.u8("sslv2.msg_type"); {
	case r.err != nil:
		return nil, r.err
	case t == sslv2MsgError:
		return nil, fmt.Errorf("code %d: %w", r.u16("sslv2.error"), ErrSSLv2Error)
	case t != sslv2MsgServerHello:
		return nil, fmt.Errorf("sslv2 message type %d: %w", t, ErrUnexpected)
	}
	r.u8("sslv2.session_id_hit")
	r.u8("sslv2.certificate_type")
	s := &SSLv2ServerHello{Version: r.u16("sslv2.version")}
	certLen, specLen, connLen := int(r.u16("sslv2.cert_len")), int(r.u16("sslv2.specs_len")), int(r.u16("sslv2.conn_id_len"))
	s.Certificate = r.bytes(certLen, "sslv2.certificate")
	specs := r.bytes(specLen, "sslv2.cipher_specs")
	r.bytes(connLen, "sslv2.connection_id")
	if r.err != nil {
		return nil, r.err
	}
	if specLen%3 != 0 {
		return nil, fmt.Errorf("sslv2 cipher specs of %d bytes: %w", specLen, ErrMalformed)
	}
	for i := 0; i+3 <= len(specs); i += 3 {
		s.CipherKinds = append(s.CipherKinds, uint32(specs[i])<<16|uint32(specs[i+1])<<8|uint32(specs[i+2]))
	}
	return s, nil
}
