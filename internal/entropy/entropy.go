// Package entropy is the randomness the probes take from their
// environment (collect.Env.Entropy): crypto/rand for a scan, and for tests
// one deterministic stream per connection, derived from the connection's
// label, so a probe sends the same bytes on every run and a recorded
// conversation with a real server replays offline.
package entropy

import (
	"crypto/ecdh"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
)

// Seeded gives each label its own stream: ChaCha8 keyed by
// SHA-256(seed, label). It is predictable by design: for tests only,
// never for a scan.
type Seeded struct{ Seed string }

// Stream returns label's stream (a fresh one on every call: the same
// label gives the same bytes).
func (s Seeded) Stream(label string) io.Reader {
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s/%s", len(s.Seed), s.Seed, label)
	var key [32]byte
	copy(key[:], h.Sum(nil))
	return rand.NewChaCha8(key)
}

// ECDHKey generates a private key on curve with r's bytes. Unlike
// curve.GenerateKey, which since Go 1.26 ignores its reader, the key is
// r's: a scalar of the curve's size, bits above the order's length
// cleared, drawn again while the curve rejects it (zero, or not below the
// order: rare for every curve).
func ECDHKey(curve ecdh.Curve, r io.Reader) (*ecdh.PrivateKey, error) {
	size, mask := 32, byte(0xff)
	switch curve {
	case ecdh.P384():
		size = 48
	case ecdh.P521():
		size, mask = 66, 0x01
	}
	b := make([]byte, size)
	for range 64 {
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("ECDH key: %w", err)
		}
		b[0] &= mask
		if k, err := curve.NewPrivateKey(b); err == nil {
			return k, nil
		}
	}
	return nil, errors.New("ECDH key: 64 candidates rejected")
}
