// Package tlsconf gives the server its TLS: the certificate it was given,
// or one it generates (a local CA and a server certificate signed by it,
// both ECDSA P-256 with SHA-256, so the served certificate is not
// self-signed and the CA can be trusted by clients), and a configuration
// that offers only TLS 1.2 and 1.3 with forward-secret AEAD suites.
//
// A generated CA is name-constrained (critical) to the hosts of the
// certificate it signs, and its private key is never written down: it
// signs the one server certificate and is forgotten. A client that
// trusts ca.pem therefore trusts nothing but this server's names, and a
// copy of the data directory cannot mint certificates. A new server
// certificate (new hosts, close to expiry) comes with a new CA.
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
	CAFile = "ca.pem"
	// CAKey is where versions before name-constrained CAs kept the CA's
	// key; it is removed (and the CA replaced) when found.
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
// there is none, when it no longer covers hosts, when it expires within
// 30 days, or when the CA's key was kept by an earlier version (that CA
// had no name constraints). generated reports whether new files were
// written.
func LoadOrGenerate(dir string, hosts []string, now time.Time) (cert tls.Certificate, generated bool, err error) {
	hosts = allHosts(hosts)
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	_, oldCAKey := os.Stat(filepath.Join(dir, CAKey))
	if c, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil && c.Leaf != nil && fresh(c.Leaf, hosts, now) && oldCAKey != nil {
		return c, false, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return c, false, fmt.Errorf("tls: %s: %w", certPath, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, false, fmt.Errorf("tls: %w", err)
	}
	notAfter := now.Add(397 * 24 * time.Hour)
	ca, caKey, err := makeCA(hosts, now, notAfter)
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
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		SignatureAlgorithm:    x509.ECDSAWithSHA256,
	}
	tmpl.DNSNames, tmpl.IPAddresses = splitHosts(hosts)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("tls: certificate: %w", err)
	}
	// The CA's key goes out of scope here: it is never written.
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), caPEM...)
	if err := writeKey(keyPath, key); err != nil {
		return tls.Certificate{}, false, err
	}
	if err := writeFile(certPath, chain); err != nil {
		return tls.Certificate{}, false, err
	}
	if err := writeFile(filepath.Join(dir, CAFile), caPEM); err != nil {
		return tls.Certificate{}, false, err
	}
	if err := os.Remove(filepath.Join(dir, CAKey)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return tls.Certificate{}, false, fmt.Errorf("tls: remove the old CA key: %w", err)
	}
	c, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return c, false, fmt.Errorf("tls: %w", err)
	}
	return c, true, nil
}

// splitHosts sorts host names from IP addresses.
func splitHosts(hosts []string) (dns []string, ips []net.IP) {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, h)
		}
	}
	return dns, ips
}

// makeCA makes a CA that may sign only for hosts (critical name
// constraints: the DNS names and their subdomains, each IP address
// alone) and only until notAfter.
func makeCA(hosts []string, now, notAfter time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	dns, ips := splitHosts(hosts)
	tmpl := &x509.Certificate{
		SerialNumber:                serial(),
		Subject:                     pkix.Name{CommonName: "rampart local CA for " + hosts[0], Organization: []string{"rampart"}},
		NotBefore:                   now.Add(-time.Hour),
		NotAfter:                    notAfter.Add(24 * time.Hour),
		KeyUsage:                    x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid:       true,
		IsCA:                        true,
		MaxPathLenZero:              true,
		SignatureAlgorithm:          x509.ECDSAWithSHA256,
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         dns,
	}
	for _, ip := range ips {
		bits := 128
		if ip.To4() != nil {
			ip, bits = ip.To4(), 32
		}
		tmpl.PermittedIPRanges = append(tmpl.PermittedIPRanges, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: CA: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	return ca, key, err
}

// writeFile writes a public file (a certificate) atomically.
func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	return nil
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
