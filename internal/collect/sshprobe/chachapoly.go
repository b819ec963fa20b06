package sshprobe

import (
	"crypto/subtle"
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/chacha20"
	//lint:ignore SA1019 OpenSSH's construction needs the raw one-time MAC, which x/crypto offers only here.
	"golang.org/x/crypto/poly1305"
)

// chachaPoly is OpenSSH's chacha20-poly1305@openssh.com
// (PROTOCOL.chacha20poly1305 in OpenSSH's sources), the only cipher some
// servers offer (tinyssh; OpenSSH configured so). It is not RFC 8439's
// AEAD: the 64-byte key splits into a main key (the first 32 bytes) and a
// header key (the last 32); the sequence number is the nonce. The packet
// length is encrypted on its own with the header key, the rest of the
// packet with the main key from block counter 1, and the Poly1305 tag,
// keyed by the main key's block 0, covers the encrypted length and
// payload.
type chachaPoly struct {
	main, header [32]byte
}

// chachaPolyKeyLen is the key length the key exchange derives for it.
const chachaPolyKeyLen = 64

func newChachaPoly(key []byte) (*chachaPoly, error) {
	if len(key) != chachaPolyKeyLen {
		return nil, fmt.Errorf("chacha20-poly1305@openssh.com: key of %d bytes, want %d", len(key), chachaPolyKeyLen)
	}
	c := &chachaPoly{}
	copy(c.main[:], key[:32])
	copy(c.header[:], key[32:])
	return c, nil
}

// nonce is the sequence number as ChaCha20's 64-bit nonce, written as the
// 96-bit IETF nonce with its first 32 bits zero (equivalent while the
// block counter stays below 2^32, as it does for any packet).
func nonce(seq uint32) []byte {
	n := make([]byte, chacha20.NonceSize)
	binary.BigEndian.PutUint32(n[8:], seq)
	return n
}

// length decrypts an encrypted packet_length.
func (c *chachaPoly) length(seq uint32, enc []byte) (uint32, error) {
	s, err := chacha20.NewUnauthenticatedCipher(c.header[:], nonce(seq))
	if err != nil {
		return 0, err
	}
	var plain [4]byte
	s.XORKeyStream(plain[:], enc[:4])
	return binary.BigEndian.Uint32(plain[:]), nil
}

// body returns the main cipher positioned at block 1 and the Poly1305 key
// taken from block 0.
func (c *chachaPoly) body(seq uint32) (*chacha20.Cipher, *[32]byte, error) {
	s, err := chacha20.NewUnauthenticatedCipher(c.main[:], nonce(seq))
	if err != nil {
		return nil, nil, err
	}
	var polyKey [32]byte
	s.XORKeyStream(polyKey[:], polyKey[:])
	s.SetCounter(1)
	return s, &polyKey, nil
}

// seal encrypts pkt (packet_length || padding_length || payload ||
// padding) and appends the tag.
func (c *chachaPoly) seal(seq uint32, pkt []byte) ([]byte, error) {
	out := make([]byte, len(pkt), len(pkt)+poly1305.TagSize)
	hs, err := chacha20.NewUnauthenticatedCipher(c.header[:], nonce(seq))
	if err != nil {
		return nil, err
	}
	hs.XORKeyStream(out[:4], pkt[:4])
	bs, polyKey, err := c.body(seq)
	if err != nil {
		return nil, err
	}
	bs.XORKeyStream(out[4:], pkt[4:])
	var tag [poly1305.TagSize]byte
	poly1305.Sum(&tag, out, polyKey)
	return append(out, tag[:]...), nil
}

// open checks the tag over the encrypted length and body and decrypts the
// body (everything after packet_length).
func (c *chachaPoly) open(seq uint32, encLen, encBody, tag []byte) ([]byte, error) {
	bs, polyKey, err := c.body(seq)
	if err != nil {
		return nil, err
	}
	mac := poly1305.New(polyKey)
	_, _ = mac.Write(encLen)
	_, _ = mac.Write(encBody)
	if subtle.ConstantTimeCompare(mac.Sum(nil), tag) != 1 {
		return nil, errMAC
	}
	plain := make([]byte, len(encBody))
	bs.XORKeyStream(plain, encBody)
	return plain, nil
}
