// Package keystore opens Java keystores and truststores (JKS and PKCS#12)
// with a password and lists their entries' certificates. It never returns,
// keeps or decrypts private key material: private-key entries are reported
// by their certificate chain only. Certificates are returned as DER, each
// entry on its own: a certificate that one X.509 parser or another rejects
// (a CA with a negative serial number) never makes the store unreadable.
package keystore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/rampart-sec/rampart/internal/certinfo"
)

// Formats a store can have.
const (
	FormatJKS    = "JKS"
	FormatJCEKS  = "JCEKS"
	FormatPKCS12 = "PKCS12"
)

// Entry kinds.
const (
	KindPrivateKey  = "private_key"
	KindTrustedCert = "trusted_cert"
)

// ErrWrongPassword means the store's integrity check failed with the
// password given.
var ErrWrongPassword = errors.New("keystore password was incorrect")

// Store is an opened keystore.
type Store struct {
	// Format is what the bytes are, whatever the file is called.
	Format  string
	Entries []Entry
	// Notes are caveats: an integrity MAC missing, entries without a
	// friendly name.
	Notes []string
	// PasswordChecked: the password opened the store's integrity check
	// (JKS digest, PKCS#12 MAC). False when the store was read without
	// one, or has none (a PKCS#12 file without MAC opens with any).
	PasswordChecked bool
}

// Entry is one keystore entry.
type Entry struct {
	Alias string
	Kind  string
	// Chain is the DER of a private-key entry's certificate chain (leaf
	// first), or of the single certificate of a trusted entry.
	Chain [][]byte
	// Error says why a private-key entry's certificate could not be read
	// (Chain is then empty).
	Error string
}

const (
	jksMagic   = 0xFEEDFEED
	jceksMagic = 0xCECECECE
)

// Sniff names the format of data from its first bytes.
func Sniff(data []byte) (string, error) {
	if len(data) >= 4 {
		switch binary.BigEndian.Uint32(data) {
		case jksMagic:
			return FormatJKS, nil
		case jceksMagic:
			return FormatJCEKS, nil
		}
	}
	if len(data) >= 2 && data[0] == 0x30 {
		return FormatPKCS12, nil
	}
	if len(data) == 0 {
		return "", errors.New("empty file")
	}
	return "", errors.New("not a keystore: neither JKS (FEEDFEED) nor PKCS#12 (DER) content")
}

// Open reads a keystore of any supported format with password.
func Open(data []byte, password string) (*Store, error) {
	format, err := Sniff(data)
	if err != nil {
		return nil, err
	}
	switch format {
	case FormatJKS:
		return openJKS(data, password)
	case FormatPKCS12:
		return readPKCS12(data, password, true)
	default:
		return nil, fmt.Errorf("%s keystores are not supported", format)
	}
}

// chainFrom orders certificates into a chain starting at leaf, following
// issuer to subject by name, at most 10 long. Names are read leniently, so
// a CA certificate Go's X.509 parser rejects still links the chain.
func chainFrom(leaf []byte, pool [][]byte) [][]byte {
	chain := [][]byte{leaf}
	type names struct{ issuer, subject []byte }
	read := func(der []byte) (names, bool) {
		i, s, err := certinfo.RawNames(der)
		return names{i, s}, err == nil
	}
	cur, ok := read(leaf)
	used := map[int]bool{}
	for ok && len(chain) < 10 && !bytes.Equal(cur.issuer, cur.subject) {
		next := -1
		for i, der := range pool {
			if used[i] || bytes.Equal(der, chain[len(chain)-1]) {
				continue
			}
			if n, ok := read(der); ok && bytes.Equal(n.subject, cur.issuer) {
				next = i
				cur = n
				break
			}
		}
		if next < 0 {
			break
		}
		used[next] = true
		chain = append(chain, pool[next])
	}
	return chain
}
