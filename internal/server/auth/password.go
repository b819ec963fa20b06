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

// HashPassword hashes p with argon2id and a random salt, in the PHC
// string format ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
func HashPassword(p string, prm Params) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	sum := argon2.IDKey([]byte(p), salt, prm.Time, prm.Memory, prm.Threads, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, prm.Memory, prm.Time, prm.Threads, enc.EncodeToString(salt), enc.EncodeToString(sum)), nil
}

// VerifyPassword checks p against an encoded hash in constant time.
func VerifyPassword(encoded, p string) error {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("password hash: not argon2id")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return errors.New("password hash: unsupported version")
	}
	var prm Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &prm.Memory, &prm.Time, &prm.Threads); err != nil {
		return fmt.Errorf("password hash: parameters: %w", err)
	}
	if prm.Memory > 1<<21 || prm.Time > 20 || prm.Threads == 0 {
		return errors.New("password hash: parameters out of range")
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return errors.New("password hash: salt")
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 64 {
		return errors.New("password hash: sum")
	}
	got := argon2.IDKey([]byte(p), salt, prm.Time, prm.Memory, prm.Threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}
