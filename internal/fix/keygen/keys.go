// Package keygen makes the key material `rampart fix` installs: a new key
// pair (RSA 3072 or EC P-256), a self-signed certificate for the product's
// host name or a certificate signing request for the organisation's CA,
// PKCS#12 keystores, and truststores with WSO2's public default
// certificate removed and the new one added. It writes bytes; it touches
// no file.
package keygen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"time"
)

// Algorithms of a new key.
const (
	RSA3072 = "rsa"
	ECP256  = "ec"
)

// Source makes keys. GenerateRSA and GenerateEC may be slow (an RSA 3072
// prime search takes up to seconds); tests give a fixed source.
type Source interface {
	Key(alg string) (crypto.Signer, error)
}

// RandomSource generates fresh keys from rand.
type RandomSource struct{ Rand io.Reader }

// Key implements Source.
func (s RandomSource) Key(alg string) (crypto.Signer, error) {
	r := s.Rand
	if r == nil {
		r = rand.Reader
	}
	switch alg {
	case RSA3072:
		return rsa.GenerateKey(r, 3072)
	case ECP256:
		return ecdsa.GenerateKey(elliptic.P256(), r)
	}
	return nil, fmt.Errorf("key algorithm %q: want rsa (RSA 3072) or ec (EC P-256)", alg)
}

// CertRequest says what a certificate is for.
type CertRequest struct {
	// Hostname is the certificate's subject CN and first SAN.
	Hostname string
	// Names are further subjectAltNames (DNS names or IP addresses).
	Names        []string
	Organization string
	NotBefore    time.Time
	Validity     time.Duration
}

func (r CertRequest) subject() pkix.Name {
	n := pkix.Name{CommonName: r.Hostname}
	if r.Organization != "" {
		n.Organization = []string{r.Organization}
	}
	return n
}

func (r CertRequest) sans() ([]string, []net.IP) {
	var dns []string
	var ips []net.IP
	seen := map[string]bool{}
	for _, n := range append([]string{r.Hostname}, r.Names...) {
		n = strings.TrimSpace(n)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		if ip := net.ParseIP(n); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, n)
		}
	}
	return dns, ips
}

// SelfSigned returns the DER of a certificate for key, signed by itself
// with SHA-256, for TLS server and client use.
func SelfSigned(rnd io.Reader, key crypto.Signer, req CertRequest) ([]byte, error) {
	if req.Hostname == "" {
		return nil, errors.New("a certificate needs a host name")
	}
	serial, err := rand.Int(rnd, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	serial.Add(serial, big.NewInt(1))
	dns, ips := req.sans()
	ku := x509.KeyUsageDigitalSignature
	if _, isRSA := key.Public().(*rsa.PublicKey); isRSA {
		ku |= x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               req.subject(),
		NotBefore:             req.NotBefore.UTC().Add(-time.Hour),
		NotAfter:              req.NotBefore.UTC().Add(req.Validity),
		KeyUsage:              ku,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		DNSNames:              dns,
		IPAddresses:           ips,
		SignatureAlgorithm:    sigAlg(key),
	}
	return x509.CreateCertificate(rnd, tmpl, tmpl, key.Public(), key)
}

func sigAlg(key crypto.Signer) x509.SignatureAlgorithm {
	if _, ok := key.Public().(*ecdsa.PublicKey); ok {
		return x509.ECDSAWithSHA256
	}
	return x509.SHA256WithRSA
}

// CSR returns a PEM certificate signing request for key.
func CSR(rnd io.Reader, key crypto.Signer, req CertRequest) ([]byte, error) {
	dns, ips := req.sans()
	der, err := x509.CreateCertificateRequest(rnd, &x509.CertificateRequest{
		Subject: req.subject(), DNSNames: dns, IPAddresses: ips, SignatureAlgorithm: sigAlg(key),
	}, key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// Fingerprint is the lower-case hex SHA-256 of a certificate's DER.
func Fingerprint(der []byte) string {
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:])
}

// Password returns a random password of n characters from an alphabet
// without characters that need quoting in a shell, TOML or properties.
func Password(rnd io.Reader, n int) (string, error) {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		k, err := rand.Int(rnd, max)
		if err != nil {
			return "", err
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b), nil
}
