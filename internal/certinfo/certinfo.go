// Package certinfo turns X.509 certificates into certificate facts, the same
// way for a certificate read from a keystore and one served in a TLS
// handshake, and recognises the certificates WSO2 ships in its default
// keystores.
package certinfo

import (
	"bytes"
	//lint:ignore SA1019 DSA keys must still be recognised to be reported.
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/wso2kb"
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
	return isWSO2Default(hex.EncodeToString(sum[:]), c.Subject)
}

func isWSO2Default(sha256hex string, s pkix.Name) bool {
	if IsKnownWSO2Fingerprint(sha256hex) {
		return true
	}
	d := wso2kb.Default().DefaultCertificateSubject()
	return s.CommonName == d.CN && has(s.OrganizationalUnit, d.OU) && has(s.Organization, d.O)
}

// FromDER describes a certificate from its DER encoding, the way Facts
// does when Go's X.509 parser accepts it. When the parser rejects it (a
// negative serial number, as in a CA that WSO2's shipped truststores hold,
// or another departure from RFC 5280 that Java accepts), the certificate is
// read leniently instead and ParseError says what the parser objected to:
// one odd entry never hides the others of a keystore. When not even the
// structure can be read, only the fingerprint is known (Unreadable).
func FromDER(der []byte) facts.Certificate {
	c, err := x509.ParseCertificate(der)
	if err == nil {
		return Facts(c)
	}
	return lenientFacts(der, err.Error())
}

// lenientFacts describes der read by the lenient reader; reason is what
// Go's parser objected to.
func lenientFacts(der []byte, reason string) facts.Certificate {
	sum := sha256.Sum256(der)
	fp := hex.EncodeToString(sum[:])
	f := facts.Certificate{SHA256: fp, DNSNames: []string{}, IPAddresses: []string{}, ParseError: reason}
	l, err := parseLenient(der)
	if err != nil {
		f.Unreadable = true
		f.ParseError = reason + "; not readable as a certificate at all: " + err.Error()
		f.WSO2Default = IsKnownWSO2Fingerprint(fp)
		return f
	}
	f.Subject, f.Issuer = l.subjectStr, l.issuerStr
	f.Serial = l.serial.Text(16)
	f.NotBefore, f.NotAfter = l.notBefore, l.notAfter
	f.KeyType, f.KeyBits = l.keyType, l.keyBits
	f.SignatureAlgorithm = l.sigAlg
	f.SelfSigned = l.selfSigned()
	f.IsCA = l.isCA
	f.DNSNames = append(f.DNSNames, l.dnsNames...)
	f.IPAddresses = append(f.IPAddresses, l.ipAddresses...)
	f.WSO2Default = isWSO2Default(fp, l.subject)
	return f
}

func has(list []string, want string) bool {
	for _, v := range list {
		if strings.EqualFold(v, want) {
			return true
		}
	}
	return false
}
