package sshprobe

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"strings"

	"github.com/rampart-sec/rampart/internal/netfail"
)

// SSH message numbers used here (RFC 4250 section 4.1).
const (
	msgDisconnect     = 1
	msgIgnore         = 2
	msgUnimplemented  = 3
	msgDebug          = 4
	msgServiceRequest = 5
	msgServiceAccept  = 6
	msgExtInfo        = 7
	msgKexInit        = 20
	msgNewKeys        = 21
	msgKexDHInit      = 30 // also KEX_ECDH_INIT
	msgKexDHReply     = 31 // also KEX_ECDH_REPLY, KEX_DH_GEX_GROUP
	msgKexGexInit     = 32
	msgKexGexReply    = 33
	msgKexGexRequest  = 34
	msgUserAuthReq    = 50
	msgUserAuthFail   = 51
	msgUserAuthOK     = 52
	msgUserAuthBanner = 53
)

// Limits on what a server may send.
const (
	// maxPacket is the largest packet_length accepted (RFC 4253 6.1 asks
	// implementations to handle 35000 bytes).
	maxPacket = 35000
	// maxNameList bounds one name-list, maxNames the names in it.
	maxNames = 256
)

var errShort = netfail.New(netfail.ProtocolMismatch, "message too short")

// protocolErr is the error of a server that broke the SSH protocol (a
// malformed or unexpected message).
func protocolErr(format string, args ...any) error {
	return netfail.Mark(netfail.ProtocolMismatch, fmt.Errorf(format, args...))
}

// reader decodes SSH wire types (RFC 4251 section 5) from a byte slice. The
// first error sticks; later reads return zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) u8() byte {
	if r.err != nil || len(r.b) < 1 {
		r.fail(errShort)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) boolean() bool { return r.u8() != 0 }

func (r *reader) u32() uint32 {
	if r.err != nil || len(r.b) < 4 {
		r.fail(errShort)
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || len(r.b) < n {
		r.fail(errShort)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) str() []byte {
	n := r.u32()
	if r.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(r.b)) {
		r.fail(protocolErr("string of %d bytes in a %d-byte remainder", n, len(r.b)))
		return nil
	}
	return r.bytes(int(n))
}

// nameList reads a comma-separated list of US-ASCII names.
func (r *reader) nameList() []string {
	s := r.str()
	if r.err != nil {
		return nil
	}
	if len(s) == 0 {
		return []string{}
	}
	for _, c := range s {
		if c < 0x21 || c > 0x7e {
			r.fail(protocolErr("name-list holds a non-printable byte 0x%02x", c))
			return nil
		}
	}
	names := strings.Split(string(s), ",")
	if len(names) > maxNames {
		r.fail(netfail.Mark(netfail.TooLarge, fmt.Errorf("name-list of %d names (limit %d)", len(names), maxNames)))
		return nil
	}
	for _, n := range names {
		if n == "" {
			r.fail(protocolErr("name-list holds an empty name"))
			return nil
		}
	}
	return names
}

// mpint reads a non-negative multiple-precision integer.
func (r *reader) mpint() *big.Int {
	b := r.str()
	if r.err != nil {
		return nil
	}
	if len(b) > 0 && b[0]&0x80 != 0 {
		r.fail(protocolErr("negative mpint"))
		return nil
	}
	return new(big.Int).SetBytes(b)
}

// Appenders build SSH wire types.

func appendU32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }

func appendString(b []byte, s []byte) []byte {
	b = appendU32(b, uint32(len(s)))
	return append(b, s...)
}

func appendNameList(b []byte, names []string) []byte {
	return appendString(b, []byte(strings.Join(names, ",")))
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendMpint encodes a non-negative integer: big-endian, minimal, with a
// leading zero byte when the top bit would otherwise be set.
func appendMpint(b []byte, n *big.Int) []byte {
	if n.Sign() == 0 {
		return appendU32(b, 0)
	}
	v := n.Bytes()
	if v[0]&0x80 != 0 {
		b = appendU32(b, uint32(len(v)+1))
		b = append(b, 0)
		return append(b, v...)
	}
	return appendString(b, v)
}

// disconnectError is a server's SSH_MSG_DISCONNECT.
type disconnectError struct {
	code   uint32
	reason string
}

func (e *disconnectError) Error() string {
	return fmt.Sprintf("server disconnected (code %d): %s", e.code, e.reason)
}

// NetfailReason: the server ended the exchange before it was done.
func (e *disconnectError) NetfailReason() netfail.Reason { return netfail.ClosedEarly }

func parseDisconnect(p []byte) error {
	r := reader{b: p[1:]}
	code := r.u32()
	reason := r.str()
	if len(reason) > 200 {
		reason = reason[:200]
	}
	return &disconnectError{code: code, reason: printable(string(reason))}
}

// printable replaces control characters so server text cannot forge
// report lines or terminal escapes.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return '?'
		}
		return r
	}, s)
}
