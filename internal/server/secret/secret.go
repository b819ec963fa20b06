// Package secret keeps the server's secrets at rest: a 256-bit key in a
// file of the data directory (mode 0600, created at first start) seals
// values with AES-256-GCM, and keys the hashes of API tokens, so a copy
// of the database alone reveals neither.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFile is the key's name in the data directory.
const KeyFile = "secret.key"

// Box seals and opens secrets with one key.
type Box struct {
	aead cipher.AEAD
	mac  []byte
}

// LoadOrCreate reads the key file in dir, creating it (0600) when absent.
// A key file readable by others is refused.
func LoadOrCreate(dir string) (*Box, error) {
	path := filepath.Join(dir, KeyFile)
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
		if _, err := f.Write(key); err != nil {
			f.Close()
			return nil, fmt.Errorf("secret key: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	} else {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("secret key %s: mode %v lets others read it; chmod 600 it", path, fi.Mode().Perm())
		}
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("secret key %s: %d bytes, want 32", path, len(key))
	}
	return New(key)
}

// New builds a box from a 32-byte key.
func New(key []byte) (*Box, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("rampart/token-hash/v1"))
	return &Box{aead: aead, mac: m.Sum(nil)}, nil
}

// Seal encrypts plaintext; label binds it to its purpose (a setting key),
// so a sealed value cannot be moved to another place.
func (b *Box) Seal(label string, plaintext []byte) string {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	ct := b.aead.Seal(nonce, nonce, plaintext, []byte(label))
	return "v1:" + base64.RawStdEncoding.EncodeToString(ct)
}

// Open decrypts a value sealed with the same label.
func (b *Box) Open(label, sealed string) ([]byte, error) {
	raw, ok := strings.CutPrefix(sealed, "v1:")
	if !ok {
		return nil, errors.New("secret: unknown format")
	}
	ct, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil || len(ct) < b.aead.NonceSize() {
		return nil, errors.New("secret: malformed")
	}
	pt, err := b.aead.Open(nil, ct[:b.aead.NonceSize()], ct[b.aead.NonceSize():], []byte(label))
	if err != nil {
		return nil, errors.New("secret: cannot decrypt (wrong key or tampered)")
	}
	return pt, nil
}

// Hash is a keyed hash of a token, for lookups without keeping the token.
func (b *Box) Hash(token string) string {
	m := hmac.New(sha256.New, b.mac)
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// Token returns a new random token: 32 bytes, URL-safe base64, with a
// prefix that says what it is.
func Token(prefix string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// Keyed is an HMAC of msg under a key derived for purpose (CSRF tokens),
// separate from the token hashes.
func (b *Box) Keyed(purpose, msg string) string {
	k := hmac.New(sha256.New, b.mac)
	k.Write([]byte("rampart/keyed/" + purpose))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
