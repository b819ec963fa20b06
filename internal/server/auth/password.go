// Package auth holds the server's sign-in machinery: argon2id password
// hashes, sessions kept only as hashes of long random IDs, the one-time
// setup token that creates the first admin, and a login rate limiter.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultParams follow the RFC 9106 second recommended option (64 MiB,
// 3 passes), with two lanes for a small server.
var DefaultParams = Params{Memory: 64 * 1024, Time: 3, Threads: 2}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 12

// ErrMismatch is returned when a password does not match its hash.
var ErrMismatch = errors.New("password does not match")

// CheckPassword enforces the password policy.
func CheckPassword(p string) error {
	if len([]rune(p)) < MinPasswordLength {
		return fmt.Errorf("password must be at least %d characters", MinPasswordLength)
	}
	if len(p) > 1024 {
		return errors.New("password is too long")
	}
	return nil
}

// Bounds on argon2id's parameters, for hashes made and hashes read (a
// stored hash is input too: argon2.IDKey panics on zero passes, and large
// costs would let a tampered store stall every sign-in).
const (
	maxMemory  = 1 << 21 // KiB: 2 GiB
	maxTime    = 20
	minSaltLen = 8 // RFC 9106 recommends 16; 8 is the PHC format's minimum
	maxSaltLen = 64
	maxSumLen  = 64
)

// Valid reports whether the parameters are ones argon2id can run and this
// server accepts: at least one pass and one lane, at least 8 KiB of
// memory per lane (RFC 9106), within the bounds above.
func (p Params) Valid() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2id passes t=%d: want 1 to %d", p.Time, maxTime)
	case p.Threads < 1:
		return errors.New("argon2id lanes p=0: want at least 1")
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("argon2id memory m=%d KiB: want %d (8 per lane) to %d", p.Memory, 8*uint32(p.Threads), maxMemory)
	}
	return nil
}

// HashPassword hashes p with argon2id and a random salt, in the PHC
// string format ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
func HashPassword(p string, prm Params) (string, error) {
	if err := prm.Valid(); err != nil {
		return "", err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	sum := argon2.IDKey([]byte(p), salt, prm.Time, prm.Memory, prm.Threads, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, prm.Memory, prm.Time, prm.Threads, enc.EncodeToString(salt), enc.EncodeToString(sum)), nil
}

// VerifyPassword checks p against an encoded hash in constant time. A
// hash that is not a well-formed argon2id PHC string with valid
// parameters is an error, never a panic.
func VerifyPassword(encoded, p string) error {
	prm, salt, want, err := parseHash(encoded)
	if err != nil {
		return err
	}
	got := argon2.IDKey([]byte(p), salt, prm.Time, prm.Memory, prm.Threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

// parseHash reads "$argon2id$v=19$m=M,t=T,p=P$salt$sum" exactly: the
// version this package makes, the three parameters in that order as
// decimal numbers and nothing else, unpadded base64 salt and sum.
func parseHash(encoded string) (Params, []byte, []byte, error) {
	var prm Params
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return prm, nil, nil, errors.New("password hash: not argon2id")
	}
	if parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return prm, nil, nil, errors.New("password hash: unsupported version")
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return prm, nil, nil, errors.New("password hash: parameters: want m=,t=,p=")
	}
	var vals [3]uint64
	for i, key := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(kv[i], key+"=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return prm, nil, nil, fmt.Errorf("password hash: parameter %d: want %s=<number>, got %q", i+1, key, kv[i])
		}
		vals[i] = n
	}
	if vals[2] > 255 {
		return prm, nil, nil, fmt.Errorf("password hash: parameters out of range: argon2id lanes p=%d: want 1 to 255", vals[2])
	}
	prm = Params{Memory: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2])}
	if err := prm.Valid(); err != nil {
		return prm, nil, nil, fmt.Errorf("password hash: parameters out of range: %w", err)
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return prm, nil, nil, fmt.Errorf("password hash: salt (%d to %d bytes of unpadded base64)", minSaltLen, maxSaltLen)
	}
	sum, err := enc.DecodeString(parts[5])
	if err != nil || len(sum) == 0 || len(sum) > maxSumLen {
		return prm, nil, nil, errors.New("password hash: sum")
	}
	return prm, salt, sum, nil
}
