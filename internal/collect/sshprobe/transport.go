package sshprobe

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"hash"
	"io"

	"github.com/rampart-sec/rampart/internal/netfail"
)

// transport is the SSH binary packet protocol (RFC 4253 section 6) over one
// connection: clear text until NEWKEYS, then the negotiated cipher and MAC.
type transport struct {
	w    io.Writer
	br   *bufio.Reader
	rand io.Reader // padding, cookies, key exchange secrets
	in   direction
	out  direction
}

// newTransport speaks over w and br, with its randomness from rand
// (crypto/rand when nil).
func newTransport(w io.Writer, br *bufio.Reader, rnd io.Reader) *transport {
	if rnd == nil {
		rnd = rand.Reader
	}
	return &transport{w: w, br: br, rand: rnd, in: direction{blockSize: 8}, out: direction{blockSize: 8}}
}

// direction is the packet protection of one direction.
type direction struct {
	seq       uint32
	blockSize int
	// Exactly one of these is set after NEWKEYS (none before).
	stream cipher.Stream    // aes*-ctr
	cbcEnc cipher.BlockMode // aes*-cbc (writing)
	cbcDec cipher.BlockMode // aes*-cbc (reading)
	aead   cipher.AEAD      // aes*-gcm@openssh.com
	iv     []byte           // GCM nonce: 4 fixed bytes + 8-byte counter
	chacha *chachaPoly      // chacha20-poly1305@openssh.com
	mac    hash.Hash
	macLen int
	etm    bool
}

func (d *direction) encrypted() bool {
	return d.stream != nil || d.cbcEnc != nil || d.cbcDec != nil || d.aead != nil || d.chacha != nil
}

// cipherSpec describes a cipher rampart can speak, by its SSH name.
type cipherSpec struct {
	keyLen, ivLen int
	mode          string // ctr, cbc, gcm, chachapoly
}

// authenticated reports whether the cipher carries its own tag (no MAC is
// negotiated for it).
func (s cipherSpec) authenticated() bool { return s.mode == "gcm" || s.mode == "chachapoly" }

var cipherSpecs = map[string]cipherSpec{
	"chacha20-poly1305@openssh.com": {chachaPolyKeyLen, 0, "chachapoly"},
	"aes128-gcm@openssh.com":        {16, 12, "gcm"},
	"aes256-gcm@openssh.com":        {32, 12, "gcm"},
	"aes128-ctr":                    {16, 16, "ctr"},
	"aes192-ctr":                    {24, 16, "ctr"},
	"aes256-ctr":                    {32, 16, "ctr"},
	"aes128-cbc":                    {16, 16, "cbc"},
	"aes192-cbc":                    {24, 16, "cbc"},
	"aes256-cbc":                    {32, 16, "cbc"},
}

// cipherPreference is the order rampart asks for ciphers in.
var cipherPreference = []string{
	"aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes128-ctr", "aes256-ctr", "aes192-ctr",
	"aes128-cbc", "aes256-cbc", "aes192-cbc",
}

type macSpec struct {
	keyLen int
	newH   func() hash.Hash
	etm    bool
}

var macSpecs = map[string]macSpec{
	"hmac-sha2-256-etm@openssh.com": {32, sha256.New, true},
	"hmac-sha2-512-etm@openssh.com": {64, sha512.New, true},
	"hmac-sha1-etm@openssh.com":     {20, sha1.New, true},
	"hmac-sha2-256":                 {32, sha256.New, false},
	"hmac-sha2-512":                 {64, sha512.New, false},
	"hmac-sha1":                     {20, sha1.New, false},
}

var macPreference = []string{
	"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512",
	"hmac-sha1-etm@openssh.com", "hmac-sha1",
}

// setup keys one direction with the negotiated algorithms.
func (d *direction) setup(cipherName, macName string, iv, key, macKey []byte, reading bool) error {
	spec := cipherSpecs[cipherName]
	if spec.mode == "chachapoly" {
		var err error
		d.chacha, err = newChachaPoly(key)
		return err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return fmt.Errorf("cipher %s: %w", cipherName, err)
	}
	d.blockSize = aes.BlockSize
	switch spec.mode {
	case "gcm":
		d.aead, err = cipher.NewGCM(block)
		if err != nil {
			return fmt.Errorf("cipher %s: %w", cipherName, err)
		}
		d.iv = append([]byte(nil), iv...)
		return nil
	case "ctr":
		d.stream = cipher.NewCTR(block, iv)
	case "cbc":
		if reading {
			d.cbcDec = cipher.NewCBCDecrypter(block, iv)
		} else {
			d.cbcEnc = cipher.NewCBCEncrypter(block, iv)
		}
	}
	ms := macSpecs[macName]
	d.mac = hmac.New(ms.newH, macKey)
	d.macLen = d.mac.Size()
	d.etm = ms.etm
	return nil
}

// writePacket frames, protects and sends one payload.
func (t *transport) writePacket(payload []byte) error {
	d := &t.out
	bs := d.blockSize
	// Length covered by the block-size rule: everything for E&M and clear
	// text, everything after packet_length for ETM and AEAD.
	aadLen := d.aead != nil || d.etm || d.chacha != nil
	covered := 4 + 1 + len(payload)
	if aadLen {
		covered = 1 + len(payload)
	}
	pad := bs - covered%bs
	if pad < 4 {
		pad += bs
	}
	pkt := make([]byte, 4, 4+1+len(payload)+pad+64)
	binary.BigEndian.PutUint32(pkt, uint32(1+len(payload)+pad))
	pkt = append(pkt, byte(pad))
	pkt = append(pkt, payload...)
	padding := make([]byte, pad)
	if _, err := io.ReadFull(t.rand, padding); err != nil {
		return err
	}
	pkt = append(pkt, padding...)

	var out []byte
	switch {
	case d.chacha != nil:
		var err error
		if out, err = d.chacha.seal(d.seq, pkt); err != nil {
			return err
		}
	case d.aead != nil:
		out = d.aead.Seal(pkt[:4:4], d.iv, pkt[4:], pkt[:4])
		incGCMCounter(d.iv)
	case d.etm:
		body := pkt[4:]
		d.crypt(body, body)
		out = append(pkt, d.sum(pkt)...)
	case d.encrypted():
		m := d.sum(pkt)
		d.crypt(pkt, pkt)
		out = append(pkt, m...)
	default:
		out = pkt
	}
	d.seq++
	_, err := t.w.Write(out)
	return err
}

func (d *direction) crypt(dst, src []byte) {
	switch {
	case d.stream != nil:
		d.stream.XORKeyStream(dst, src)
	case d.cbcEnc != nil:
		d.cbcEnc.CryptBlocks(dst, src)
	case d.cbcDec != nil:
		d.cbcDec.CryptBlocks(dst, src)
	}
}

// sum is the MAC of sequence number and data.
func (d *direction) sum(data []byte) []byte {
	d.mac.Reset()
	var seq [4]byte
	binary.BigEndian.PutUint32(seq[:], d.seq)
	d.mac.Write(seq[:])
	d.mac.Write(data)
	return d.mac.Sum(nil)
}

func incGCMCounter(iv []byte) {
	c := binary.BigEndian.Uint64(iv[4:])
	binary.BigEndian.PutUint64(iv[4:], c+1)
}

var errMAC = netfail.New(netfail.ProtocolMismatch, "packet authentication failed")

// readPacket reads and unprotects one packet and returns its payload. It
// never reads more than maxPacket bytes for one packet.
func (t *transport) readPacket() ([]byte, error) {
	d := &t.in
	var pkt []byte // packet_length || padding_length || payload || padding
	switch {
	case d.chacha != nil:
		var l [4]byte
		if _, err := io.ReadFull(t.br, l[:]); err != nil {
			return nil, err
		}
		plainLen, err := d.chacha.length(d.seq, l[:])
		if err != nil {
			return nil, err
		}
		n, err := checkLen(plainLen, d.blockSize, true)
		if err != nil {
			return nil, err
		}
		rest := make([]byte, n+16)
		if _, err := io.ReadFull(t.br, rest); err != nil {
			return nil, err
		}
		plain, err := d.chacha.open(d.seq, l[:], rest[:n], rest[n:])
		if err != nil {
			return nil, err
		}
		pkt = binary.BigEndian.AppendUint32(make([]byte, 0, 4+n), plainLen)
		pkt = append(pkt, plain...)
	case d.aead != nil:
		var l [4]byte
		if _, err := io.ReadFull(t.br, l[:]); err != nil {
			return nil, err
		}
		n, err := checkLen(binary.BigEndian.Uint32(l[:]), d.blockSize, true)
		if err != nil {
			return nil, err
		}
		ct := make([]byte, n+d.aead.Overhead())
		if _, err := io.ReadFull(t.br, ct); err != nil {
			return nil, err
		}
		plain, err := d.aead.Open(nil, d.iv, ct, l[:])
		if err != nil {
			return nil, errMAC
		}
		incGCMCounter(d.iv)
		pkt = append(l[:], plain...)
	case d.etm:
		var l [4]byte
		if _, err := io.ReadFull(t.br, l[:]); err != nil {
			return nil, err
		}
		n, err := checkLen(binary.BigEndian.Uint32(l[:]), d.blockSize, true)
		if err != nil {
			return nil, err
		}
		rest := make([]byte, 4+n+d.macLen)
		copy(rest, l[:])
		if _, err := io.ReadFull(t.br, rest[4:]); err != nil {
			return nil, err
		}
		body, tag := rest[:4+n], rest[4+n:]
		if subtle.ConstantTimeCompare(d.sum(body), tag) != 1 {
			return nil, errMAC
		}
		d.crypt(body[4:], body[4:])
		pkt = body
	case d.encrypted():
		first := make([]byte, d.blockSize)
		if _, err := io.ReadFull(t.br, first); err != nil {
			return nil, err
		}
		d.crypt(first, first)
		n, err := checkLen(binary.BigEndian.Uint32(first), d.blockSize, false)
		if err != nil {
			return nil, err
		}
		pkt = make([]byte, 4+n)
		copy(pkt, first)
		rest := pkt[d.blockSize:]
		if _, err := io.ReadFull(t.br, rest); err != nil {
			return nil, err
		}
		d.crypt(rest, rest)
		tag := make([]byte, d.macLen)
		if _, err := io.ReadFull(t.br, tag); err != nil {
			return nil, err
		}
		if subtle.ConstantTimeCompare(d.sum(pkt), tag) != 1 {
			return nil, errMAC
		}
	default:
		var l [4]byte
		if _, err := io.ReadFull(t.br, l[:]); err != nil {
			return nil, err
		}
		n, err := checkLen(binary.BigEndian.Uint32(l[:]), 8, false)
		if err != nil {
			return nil, err
		}
		pkt = make([]byte, 4+n)
		copy(pkt, l[:])
		if _, err := io.ReadFull(t.br, pkt[4:]); err != nil {
			return nil, err
		}
	}
	d.seq++
	return payloadOf(pkt)
}

// checkLen validates a packet_length against the limits. Clear-text
// packets are not held to the block size: some servers pad loosely.
func checkLen(n uint32, bs int, aad bool) (int, error) {
	if n < 5 || n > maxPacket {
		if n > maxPacket {
			return 0, netfail.Mark(netfail.TooLarge, fmt.Errorf("packet length %d outside 5..%d", n, maxPacket))
		}
		return 0, protocolErr("packet length %d outside 5..%d", n, maxPacket)
	}
	total := int(n)
	if !aad {
		total += 4
	}
	if bs > 8 && total%bs != 0 {
		return 0, protocolErr("packet length %d is not a multiple of the block size %d", n, bs)
	}
	return int(n), nil
}

func payloadOf(pkt []byte) ([]byte, error) {
	n := int(binary.BigEndian.Uint32(pkt))
	pad := int(pkt[4])
	if pad < 4 || pad > n-1 {
		return nil, protocolErr("padding length %d in a %d-byte packet", pad, n)
	}
	p := pkt[5 : 4+n-pad]
	if len(p) == 0 {
		return nil, protocolErr("empty packet payload")
	}
	return p, nil
}

// next reads the next packet that is not IGNORE, DEBUG or UNIMPLEMENTED,
// turning DISCONNECT into an error. skipped bounds how many such packets
// are passed over.
func (t *transport) next() ([]byte, error) {
	for skipped := 0; skipped < 64; skipped++ {
		p, err := t.readPacket()
		if err != nil {
			return nil, err
		}
		switch p[0] {
		case msgIgnore, msgDebug, msgUnimplemented, msgExtInfo:
			continue
		case msgDisconnect:
			return nil, parseDisconnect(p)
		}
		return p, nil
	}
	return nil, protocolErr("server sent only IGNORE/DEBUG packets")
}

// expect reads the next packet and checks its message number.
func (t *transport) expect(want byte, what string) ([]byte, error) {
	p, err := t.next()
	if err != nil {
		return nil, fmt.Errorf("waiting for %s: %w", what, err)
	}
	if p[0] != want {
		return nil, protocolErr("waiting for %s: got message %d", what, p[0])
	}
	return p, nil
}
