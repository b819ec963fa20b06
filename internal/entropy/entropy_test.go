package entropy

import (
	"bytes"
	"crypto/ecdh"
	"io"
	"testing"
)

// The same seed and label give the same bytes; another label or seed
// other bytes.
func TestSeededStreams(t *testing.T) {
	read := func(s Seeded, label string) []byte {
		b := make([]byte, 64)
		if _, err := io.ReadFull(s.Stream(label), b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := Seeded{Seed: "one"}
	if !bytes.Equal(read(a, "hello"), read(a, "hello")) {
		t.Error("one label gave two streams")
	}
	if bytes.Equal(read(a, "hello"), read(a, "hello2")) || bytes.Equal(read(a, "hello"), read(Seeded{Seed: "two"}, "hello")) {
		t.Error("different labels or seeds gave the same stream")
	}
	// The seed's length is part of the key: seed "a" label "b/c" is not
	// seed "a/b" label "c".
	if bytes.Equal(read(Seeded{Seed: "a"}, "b/c"), read(Seeded{Seed: "a/b"}, "c")) {
		t.Error("seed and label run together")
	}
}

// ECDHKey makes a valid key of every curve from the reader's bytes: the
// same bytes give the same key, and the key agrees with its peer.
func TestECDHKey(t *testing.T) {
	for _, c := range []ecdh.Curve{ecdh.X25519(), ecdh.P256(), ecdh.P384(), ecdh.P521()} {
		k1, err := ECDHKey(c, Seeded{Seed: "s"}.Stream("k"))
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		k2, _ := ECDHKey(c, Seeded{Seed: "s"}.Stream("k"))
		peer, _ := ECDHKey(c, Seeded{Seed: "s"}.Stream("peer"))
		if !k1.Equal(k2) || k1.Equal(peer) {
			t.Errorf("%v: same bytes, different keys, or two labels, one key", c)
		}
		s1, err1 := k1.ECDH(peer.PublicKey())
		s2, err2 := peer.ECDH(k1.PublicKey())
		if err1 != nil || err2 != nil || !bytes.Equal(s1, s2) {
			t.Errorf("%v: shared secrets differ (%v, %v)", c, err1, err2)
		}
	}
	// A reader that runs dry is an error, not a weak key.
	if _, err := ECDHKey(ecdh.P256(), bytes.NewReader(make([]byte, 10))); err == nil {
		t.Error("10 bytes made a P-256 key")
	}
	// A reader of zeros only (every candidate rejected) is an error.
	if _, err := ECDHKey(ecdh.P256(), zeros{}); err == nil {
		t.Error("an all-zero reader made a P-256 key")
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
