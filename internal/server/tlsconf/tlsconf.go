// Package tlsconf gives the server its TLS: the certificate it was given,
// or one it generates (a local CA and a server certificate signed by it,
// both ECDSA P-256 with SHA-256, so the served certificate is not
// self-signed and the CA can be trusted by clients), and a configuration
// that offers only TLS 1.2 and 1.3 with forward-secret AEAD suites.
package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Files in the data directory.
const (
	CAFile   = "ca.pem"
	CAKey    = "ca-key.pem"
	CertFile = "server.pem"
	KeyFile  = "server-key.pem"
)

// Config returns the server's TLS configuration for a certificate.
func Config(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		// TLS 1.2: ECDHE with AEAD only (TLS 1.3 suites are all AEAD).
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		CurvePreferences: []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256, tls.CurveP384},
		Renegotiation:    tls.RenegotiateNever,
		NextProtos:       []string{"h2", "http/1.1"},
	}
}

// Load reads a given certificate and key.
func Load(certFile, keyFile string) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return c, fmt.Errorf("tls: %w", err)
	}
	return c, nil
}

// LoadOrGenerate returns the generated certificate in dir, making a CA
// and a certificate for hosts (plus localhost, 127.0.0.1 and ::1) when
// there is none, when it no longer covers hosts, or when it expires within
// 30 days. generated reports whether new files were written.
func LoadOrGenerate(dir string, hosts []string, now time.Time) (cert tls.Certificate, generated bool, err error) {
	hosts = allHosts(hosts)
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	if c, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil && c.Leaf != nil && fresh(c.Leaf, hosts, now) {
		return c, false, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return c, false, fmt.Errorf("tls: %s: %w", certPath, err)
	}
	ca, caKey, err := loadOrMakeCA(dir, now)
	if err != nil {
		return tls.Certificate{}, false, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, false, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: hosts[0], Organization: []string{"rampart"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(397 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		SignatureAlgorithm:    x509.ECDSAWithSHA256,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("tls: certificate: %w", err)
	}
	chain := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})...)
	if err := writeKey(keyPath, key); err != nil {
		return tls.Certificate{}, false, err
	}
	if err := os.WriteFile(certPath, chain, 0o644); err != nil {
		return tls.Certificate{}, false, fmt.Errorf("tls: %w", err)
	}
	c, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return c, false, fmt.Errorf("tls: %w", err)
	}
	return c, true, nil
}

func allHosts(hosts []string) []string {
	out := []string{}
	for _, h := range append(append([]string{}, hosts...), "localhost", "127.0.0.1", "::1") {
		if h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

func fresh(leaf *x509.Certificate, hosts []string, now time.Time) bool {
	if now.Add(30 * 24 * time.Hour).After(leaf.NotAfter) {
		return false
	}
	for _, h := range hosts {
		if leaf.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

func loadOrMakeCA(dir string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	caPath, caKeyPath := filepath.Join(dir, CAFile), filepath.Join(dir, CAKey)
	if pair, err := tls.LoadX509KeyPair(caPath, caKeyPath); err == nil && pair.Leaf != nil && now.Add(400*24*time.Hour).Before(pair.Leaf.NotAfter) {
		if k, ok := pair.PrivateKey.(*ecdsa.PrivateKey); ok {
			return pair.Leaf, k, nil
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "rampart local CA", Organization: []string{"rampart"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(5 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		SignatureAlgorithm:    x509.ECDSAWithSHA256,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: CA: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("tls: %w", err)
	}
	if err := writeKey(caKeyPath, key); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(caPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, nil, fmt.Errorf("tls: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	return ca, key, err
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	return os.Rename(tmp, path)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err)
	}
	return n
}
