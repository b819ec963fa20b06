// Package keystore opens Java keystores and truststores (JKS and PKCS#12)
// with a password and lists their entries' certificates. It never returns
// or keeps private key material: private-key entries are reported by their
// certificate chain only.
package keystore

import (
	"bytes"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
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
	// Notes are caveats: an integrity MAC missing, aliases that sit in
	// encrypted bags and could not be read.
	Notes []string
}

// Entry is one keystore entry.
type Entry struct {
	Alias string
	Kind  string
	// Chain is the certificate chain of a private-key entry (leaf first),
	// or the single certificate of a trusted entry.
	Chain []*x509.Certificate
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
		return openPKCS12(data, password)
	default:
		return nil, fmt.Errorf("%s keystores are not supported", format)
	}
}

// chainFrom orders certs into a chain starting at leaf, following issuer
// to subject, at most 10 long.
func chainFrom(leaf *x509.Certificate, pool []*x509.Certificate) []*x509.Certificate {
	chain := []*x509.Certificate{leaf}
	cur := leaf
	for len(chain) < 10 {
		if bytes.Equal(cur.RawIssuer, cur.RawSubject) {
			break
		}
		var next *x509.Certificate
		for _, c := range pool {
			if c != cur && bytes.Equal(c.RawSubject, cur.RawIssuer) && cur.CheckSignatureFrom(c) == nil {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		chain = append(chain, next)
		cur = next
	}
	return chain
}
