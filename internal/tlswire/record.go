package tlswire

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"

	"github.com/rampart-sec/rampart/internal/netfail"
)

// Record content types.
const (
	TypeChangeCipherSpec uint8 = 20
	TypeAlert            uint8 = 21
	TypeHandshake        uint8 = 22
	TypeApplicationData  uint8 = 23
	TypeHeartbeat        uint8 = 24
)

// Size limits. A record may carry at most 2^14 bytes of plaintext plus 2048
// of expansion; a handshake message above MaxHandshakeMessage (a generous
// bound for certificate chains) is refused.
const (
	MaxPlaintext        = 1 << 14
	MaxRecordPayload    = 1<<14 + 2048
	MaxHandshakeMessage = 1 << 18
)

// The package's errors carry their network cause (internal/netfail).
var (
	// ErrMalformed marks a message that does not decode.
	ErrMalformed = netfail.New(netfail.ProtocolMismatch, "malformed message")
	// ErrNotTLS marks bytes that are not a TLS record at all.
	ErrNotTLS = netfail.New(netfail.ProtocolMismatch, "not a TLS record")
	// ErrTooLarge marks a record or message over the limits above.
	ErrTooLarge = netfail.New(netfail.TooLarge, "message too large")
	// ErrUnexpected marks a message that may not come at this point.
	ErrUnexpected = netfail.New(netfail.ProtocolMismatch, "unexpected message")
)

// Record is one TLS record.
type Record struct {
	Type    uint8
	Version uint16
	Payload []byte
}

// ParseRecordHeader checks a five-byte record header and returns the
// content type, version and payload length.
func ParseRecordHeader(h []byte) (typ uint8, ver uint16, n int, err error) {
	in := cryptobyte.String(h)
	var n16 uint16
	if !in.ReadUint8(&typ) || !in.ReadUint16(&ver) || !in.ReadUint16(&n16) {
		return 0, 0, 0, fmt.Errorf("record header of %d bytes: %w", len(h), ErrMalformed)
	}
	n = int(n16)
	if typ < TypeChangeCipherSpec || typ > TypeHeartbeat || h[1] != 3 {
		return 0, 0, 0, fmt.Errorf("header % x: %w", h[:5], ErrNotTLS)
	}
	if n > MaxRecordPayload {
		return 0, 0, 0, fmt.Errorf("record of %d bytes (limit %d): %w", n, MaxRecordPayload, ErrTooLarge)
	}
	return typ, ver, n, nil
}

// ReadRecord reads one record from r.
func ReadRecord(r io.Reader) (Record, error) {
	var h [5]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return Record{}, err
	}
	typ, ver, n, err := ParseRecordHeader(h[:])
	if err != nil {
		return Record{}, err
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Record{}, fmt.Errorf("record body: %w", err)
	}
	return Record{Type: typ, Version: ver, Payload: p}, nil
}

// AppendRecords appends payload to dst as records of type typ, split into
// fragments of at most MaxPlaintext bytes.
func AppendRecords(dst []byte, typ uint8, ver Version, payload []byte) []byte {
	for {
		n := min(len(payload), MaxPlaintext)
		dst = append(dst, typ, byte(ver>>8), byte(ver), byte(n>>8), byte(n))
		dst = append(dst, payload[:n]...)
		payload = payload[n:]
		if len(payload) == 0 {
			return dst
		}
	}
}

// RecordCipher protects records once ChangeCipherSpec has been sent or
// received. A nil RecordCipher means plaintext.
type RecordCipher interface {
	Encrypt(typ uint8, ver Version, plaintext []byte) ([]byte, error)
	Decrypt(typ uint8, ver Version, payload []byte) ([]byte, error)
}

// Message is the next thing a peer sent: a handshake message (Raw holds its
// four-byte header and body, as the transcript needs it), an alert, a
// ChangeCipherSpec or application data.
type Message struct {
	ContentType uint8
	HSType      uint8
	Body        []byte
	Raw         []byte
	Alert       Alert
}

// Reader reads records from a peer and reassembles handshake messages that
// span records (and splits records that carry several).
type Reader struct {
	r io.Reader
	// Cipher, when set, decrypts every record read from now on.
	Cipher RecordCipher
	hs     []byte
}

// NewReader reads records from r.
func NewReader(r io.Reader) *Reader { return &Reader{r: r} }

// Next returns the next message.
func (r *Reader) Next() (Message, error) {
	for {
		if m, ok, err := r.takeHandshake(); err != nil || ok {
			return m, err
		}
		rec, err := ReadRecord(r.r)
		if err != nil {
			return Message{}, err
		}
		payload := rec.Payload
		if r.Cipher != nil {
			payload, err = r.Cipher.Decrypt(rec.Type, Version(rec.Version), payload)
			if err != nil {
				return Message{}, fmt.Errorf("decrypt %s record: %w", typeName(rec.Type), err)
			}
			if len(payload) > MaxPlaintext {
				return Message{}, fmt.Errorf("plaintext of %d bytes: %w", len(payload), ErrTooLarge)
			}
		}
		if len(r.hs) > 0 && rec.Type != TypeHandshake {
			return Message{}, fmt.Errorf("%s record inside a fragmented handshake message: %w", typeName(rec.Type), ErrUnexpected)
		}
		switch rec.Type {
		case TypeHandshake:
			if len(payload) == 0 {
				return Message{}, fmt.Errorf("empty handshake record: %w", ErrMalformed)
			}
			r.hs = append(r.hs, payload...)
		case TypeAlert:
			a, err := ParseAlert(payload)
			if err != nil {
				return Message{}, err
			}
			return Message{ContentType: TypeAlert, Alert: a}, nil
		default:
			return Message{ContentType: rec.Type, Body: payload}, nil
		}
	}
}

// takeHandshake returns a complete buffered handshake message, if any.
func (r *Reader) takeHandshake() (Message, bool, error) {
	in := cryptobyte.String(r.hs)
	var typ uint8
	var n32 uint32
	if !in.ReadUint8(&typ) || !in.ReadUint24(&n32) {
		return Message{}, false, nil
	}
	n := int(n32)
	if n > MaxHandshakeMessage {
		return Message{}, false, fmt.Errorf("handshake message type %d of %d bytes (limit %d): %w", typ, n, MaxHandshakeMessage, ErrTooLarge)
	}
	if len(in) < n {
		return Message{}, false, nil
	}
	raw := r.hs[: 4+n : 4+n]
	r.hs = r.hs[4+n:]
	if len(r.hs) == 0 {
		r.hs = nil
	}
	return Message{ContentType: TypeHandshake, HSType: raw[0], Body: raw[4:], Raw: raw}, true, nil
}

func typeName(t uint8) string {
	switch t {
	case TypeChangeCipherSpec:
		return "change_cipher_spec"
	case TypeAlert:
		return "alert"
	case TypeHandshake:
		return "handshake"
	case TypeApplicationData:
		return "application_data"
	case TypeHeartbeat:
		return "heartbeat"
	}
	return fmt.Sprintf("type %d", t)
}
