// Package certinfo turns X.509 certificates into certificate facts, the same
// way for a certificate read from a keystore and one served in a TLS
// handshake, and recognises the certificates WSO2 ships in its default
// keystores.
package certinfo

import (
	"bytes"
	"crypto/dsa" //nolint:staticcheck // DSA keys must still be recognised to be reported.
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
)

// Facts describes c as a certificate fact.
func Facts(c *x509.Certificate) facts.Certificate {
	sum := sha256.Sum256(c.Raw)
	kt, bits := KeyInfo(c.PublicKey)
	f := facts.Certificate{
		Subject:            c.Subject.String(),
		Issuer:             c.Issuer.String(),
		NotBefore:          c.NotBefore.UTC(),
		NotAfter:           c.NotAfter.UTC(),
		KeyType:            kt,
		KeyBits:            bits,
		SignatureAlgorithm: c.SignatureAlgorithm.String(),
		SelfSigned:         selfSigned(c),
		IsCA:               c.IsCA,
		DNSNames:           append([]string{}, c.DNSNames...),
		IPAddresses:        []string{},
		SHA256:             hex.EncodeToString(sum[:]),
	}
	if c.SerialNumber != nil {
		f.Serial = c.SerialNumber.Text(16)
	}
	for _, ip := range c.IPAddresses {
		f.IPAddresses = append(f.IPAddresses, ip.String())
	}
	f.WSO2Default = IsWSO2Default(c)
	return f
}

// KeyInfo names a public key's type and size in bits.
func KeyInfo(pub any) (string, int) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		return "EC", k.Curve.Params().BitSize
	case *dsa.PublicKey:
		return "DSA", k.P.BitLen()
	case ed25519.PublicKey:
		return "Ed25519", 256
	default:
		return "unknown", 0
	}
}

// selfSigned reports whether c names itself as its issuer and, where it
// carries both key identifiers, they are the same key. The signature is not
// verified: that took most of a product scan's time (a truststore holds
// some 150 roots, many of them P-384 ECDSA), and whether a chain is to be
// trusted is decided by x509 verification elsewhere, not by this flag.
func selfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawIssuer, c.RawSubject) {
		return false
	}
	if len(c.AuthorityKeyId) > 0 && len(c.SubjectKeyId) > 0 {
		return bytes.Equal(c.AuthorityKeyId, c.SubjectKeyId)
	}
	return true
}

// IsWSO2Default reports whether c is a certificate WSO2 ships in the
// default wso2carbon keystores: by SHA-256 fingerprint, or by the subject
// every shipped one carries (CN=localhost, OU=WSO2, O=WSO2).
func IsWSO2Default(c *x509.Certificate) bool {
	sum := sha256.Sum256(c.Raw)
	if _, ok := wso2DefaultFingerprints[hex.EncodeToString(sum[:])]; ok {
		return true
	}
	s := c.Subject
	return s.CommonName == "localhost" && has(s.OrganizationalUnit, "WSO2") && has(s.Organization, "WSO2")
}

func has(list []string, want string) bool {
	for _, v := range list {
		if strings.EqualFold(v, want) {
			return true
		}
	}
	return false
}
