package tlswire

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"

	"golang.org/x/crypto/chacha20poly1305"
)

// errBadRecordMAC is what a failed record check reports.
var errBadRecordMAC = errors.New("bad record MAC")

// gcmCipher protects TLS 1.2 AES-GCM records (RFC 5288) in one direction.
type gcmCipher struct {
	aead    cipher.AEAD
	fixedIV []byte
	seq     uint64
}

// NewGCMCipher returns record protection for one direction of an AES-GCM
// suite with the given key and four-byte implicit IV.
func NewGCMCipher(key, fixedIV []byte) (RecordCipher, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return &gcmCipher{aead: a, fixedIV: append([]byte(nil), fixedIV...)}, nil
}

func (g *gcmCipher) additional(typ uint8, ver Version, n int) []byte {
	ad := binary.BigEndian.AppendUint64(nil, g.seq)
	ad = append(ad, typ, byte(ver>>8), byte(ver))
	return binary.BigEndian.AppendUint16(ad, uint16(n))
}

func (g *gcmCipher) Encrypt(typ uint8, ver Version, plaintext []byte) ([]byte, error) {
	explicit := binary.BigEndian.AppendUint64(nil, g.seq)
	nonce := append(append([]byte(nil), g.fixedIV...), explicit...)
	out := g.aead.Seal(explicit, nonce, plaintext, g.additional(typ, ver, len(plaintext)))
	g.seq++
	return out, nil
}

func (g *gcmCipher) Decrypt(typ uint8, ver Version, payload []byte) ([]byte, error) {
	if len(payload) < 8+g.aead.Overhead() {
		return nil, fmt.Errorf("GCM record of %d bytes: %w", len(payload), ErrMalformed)
	}
	nonce := append(append([]byte(nil), g.fixedIV...), payload[:8]...)
	ct := payload[8:]
	pt, err := g.aead.Open(nil, nonce, ct, g.additional(typ, ver, len(ct)-g.aead.Overhead()))
	if err != nil {
		return nil, errBadRecordMAC
	}
	g.seq++
	return pt, nil
}

// cbcCipher protects AES-CBC records with HMAC (MAC-then-encrypt) in one
// direction. TLS 1.0 chains the IV across records; 1.1 and later send an
// explicit IV per record.
type cbcCipher struct {
	rand    io.Reader // explicit IVs
	block   cipher.Block
	macKey  []byte
	hash    func() hash.Hash
	version Version
	iv      []byte
	seq     uint64
}

// NewCBCCipher returns record protection for one direction of an AES-CBC
// suite. iv is used only by TLS 1.0.
func NewCBCCipher(v Version, key, macKey, iv []byte, h func() hash.Hash) (RecordCipher, error) {
	return newCBCCipher(v, key, macKey, iv, h, rand.Reader)
}

// newCBCCipher is NewCBCCipher drawing TLS 1.1+ explicit IVs from r.
func newCBCCipher(v Version, key, macKey, iv []byte, h func() hash.Hash, r io.Reader) (RecordCipher, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return &cbcCipher{rand: r, block: b, macKey: append([]byte(nil), macKey...), hash: h, version: v, iv: append([]byte(nil), iv...)}, nil
}

func (c *cbcCipher) mac(typ uint8, ver Version, data []byte) []byte {
	m := hmac.New(c.hash, c.macKey)
	var hdr [13]byte
	binary.BigEndian.PutUint64(hdr[:8], c.seq)
	hdr[8], hdr[9], hdr[10] = typ, byte(ver>>8), byte(ver)
	binary.BigEndian.PutUint16(hdr[11:], uint16(len(data)))
	m.Write(hdr[:])
	m.Write(data)
	return m.Sum(nil)
}

func (c *cbcCipher) Encrypt(typ uint8, ver Version, plaintext []byte) ([]byte, error) {
	bs := c.block.BlockSize()
	data := append(append([]byte(nil), plaintext...), c.mac(typ, ver, plaintext)...)
	pad := bs - (len(data)+1)%bs
	for i := 0; i <= pad; i++ {
		data = append(data, byte(pad))
	}
	var out []byte
	iv := c.iv
	if c.version >= VersionTLS11 {
		iv = make([]byte, bs)
		if _, err := io.ReadFull(c.rand, iv); err != nil {
			return nil, err
		}
		out = append(out, iv...)
	}
	ct := make([]byte, len(data))
	cipher.NewCBCEncrypter(c.block, iv).CryptBlocks(ct, data)
	if c.version < VersionTLS11 {
		c.iv = append([]byte(nil), ct[len(ct)-bs:]...)
	}
	c.seq++
	return append(out, ct...), nil
}

func (c *cbcCipher) Decrypt(typ uint8, ver Version, payload []byte) ([]byte, error) {
	bs := c.block.BlockSize()
	iv := c.iv
	if c.version >= VersionTLS11 {
		if len(payload) < bs {
			return nil, fmt.Errorf("CBC record of %d bytes: %w", len(payload), ErrMalformed)
		}
		iv, payload = payload[:bs], payload[bs:]
	}
	macLen := c.hash().Size()
	if len(payload) == 0 || len(payload)%bs != 0 || len(payload) < macLen+1 {
		return nil, fmt.Errorf("CBC record of %d bytes: %w", len(payload), ErrMalformed)
	}
	pt := make([]byte, len(payload))
	cipher.NewCBCDecrypter(c.block, iv).CryptBlocks(pt, payload)
	if c.version < VersionTLS11 {
		c.iv = append([]byte(nil), payload[len(payload)-bs:]...)
	}
	pad := int(pt[len(pt)-1])
	if pad+1+macLen > len(pt) {
		return nil, errBadRecordMAC
	}
	data := pt[:len(pt)-pad-1-macLen]
	got := pt[len(data) : len(data)+macLen]
	if subtle.ConstantTimeCompare(got, c.mac(typ, ver, data)) != 1 {
		return nil, errBadRecordMAC
	}
	c.seq++
	return data, nil
}

// chachaCipher protects TLS 1.2 ChaCha20-Poly1305 records (RFC 7905) in
// one direction: the nonce is the 12-byte IV XOR the sequence number, and
// nothing of it is sent.
type chachaCipher struct {
	aead cipher.AEAD
	iv   [chacha20poly1305.NonceSize]byte
	seq  uint64
}

// NewChaCha20Poly1305Cipher returns record protection for one direction of
// a ChaCha20-Poly1305 suite with the given 32-byte key and 12-byte IV.
func NewChaCha20Poly1305Cipher(key, iv []byte) (RecordCipher, error) {
	a, err := chacha20poly1305.New(key)
	if err != nil {
		return nil, err
	}
	if len(iv) != chacha20poly1305.NonceSize {
		return nil, fmt.Errorf("ChaCha20-Poly1305 IV of %d bytes", len(iv))
	}
	c := &chachaCipher{aead: a}
	copy(c.iv[:], iv)
	return c, nil
}

func (c *chachaCipher) nonce() []byte {
	n := c.iv
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], c.seq)
	for i := range s {
		n[4+i] ^= s[i]
	}
	return n[:]
}

func (c *chachaCipher) additional(typ uint8, ver Version, n int) []byte {
	ad := binary.BigEndian.AppendUint64(nil, c.seq)
	ad = append(ad, typ, byte(ver>>8), byte(ver))
	return binary.BigEndian.AppendUint16(ad, uint16(n))
}

func (c *chachaCipher) Encrypt(typ uint8, ver Version, plaintext []byte) ([]byte, error) {
	out := c.aead.Seal(nil, c.nonce(), plaintext, c.additional(typ, ver, len(plaintext)))
	c.seq++
	return out, nil
}

func (c *chachaCipher) Decrypt(typ uint8, ver Version, payload []byte) ([]byte, error) {
	if len(payload) < c.aead.Overhead() {
		return nil, fmt.Errorf("ChaCha20-Poly1305 record of %d bytes: %w", len(payload), ErrMalformed)
	}
	pt, err := c.aead.Open(nil, c.nonce(), payload, c.additional(typ, ver, len(payload)-c.aead.Overhead()))
	if err != nil {
		return nil, errBadRecordMAC
	}
	c.seq++
	return pt, nil
}
