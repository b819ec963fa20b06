package tlsconf

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	c, gen, err := LoadOrGenerate(dir, []string{"rampart.example.test"}, now)
	if err != nil || !gen {
		t.Fatalf("generate: %v, %v", gen, err)
	}
	leaf := c.Leaf
	if leaf.SignatureAlgorithm != x509.ECDSAWithSHA256 || leaf.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("leaf is %v / %v; want ECDSA with SHA-256", leaf.PublicKeyAlgorithm, leaf.SignatureAlgorithm)
	}
	if leaf.Issuer.String() == leaf.Subject.String() {
		t.Error("served certificate is self-signed; want one signed by the generated CA")
	}
	for _, h := range []string{"rampart.example.test", "localhost", "127.0.0.1", "::1"} {
		if err := leaf.VerifyHostname(h); err != nil {
			t.Errorf("not valid for %s: %v", h, err)
		}
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost"}); err != nil {
		t.Errorf("leaf does not verify against the generated CA: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, KeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v; want mode 0600", KeyFile, err)
	}
	// A restart reuses the certificate.
	c2, gen, err := LoadOrGenerate(dir, []string{"rampart.example.test"}, now)
	if err != nil || gen || !c2.Leaf.Equal(leaf) {
		t.Errorf("restart regenerated (%v, %v)", gen, err)
	}
	// A new host name gets a new certificate (from a new CA).
	c3, gen, err := LoadOrGenerate(dir, []string{"other.example.test"}, now)
	if err != nil || !gen || c3.Leaf.VerifyHostname("other.example.test") != nil {
		t.Errorf("new host: %v, %v", gen, err)
	}
	cfg := Config(c)
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Error("TLS below 1.2 allowed")
	}
	for _, id := range cfg.CipherSuites {
		s := tls.CipherSuiteName(id)
		if !(strings.Contains(s, "GCM") || strings.Contains(s, "CHACHA20")) || !strings.Contains(s, "ECDHE") {
			t.Errorf("suite %s is not ECDHE with AEAD", s)
		}
	}
}

// The generated CA could sign for any name and its key was kept in the
// data directory: whoever read it could mint a certificate for any site
// that clients trusting ca.pem would accept. The CA is now
// name-constrained to the server's hosts and its key is not kept.
func TestGeneratedCAIsNameConstrainedAndKeyless(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	c, _, err := LoadOrGenerate(dir, []string{"rampart.example.test", "10.1.2.3"}, now)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if e.Name() != KeyFile && strings.Contains(string(b), "PRIVATE KEY") {
			t.Errorf("%s holds a private key; only the server's key (%s) may be kept", e.Name(), KeyFile)
		}
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(caPEM)
	ca, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !ca.PermittedDNSDomainsCritical {
		t.Error("the CA's name constraints are not critical")
	}
	if want := []string{"rampart.example.test", "localhost"}; !slices.Equal(ca.PermittedDNSDomains, want) {
		t.Errorf("permitted DNS names %v; want %v", ca.PermittedDNSDomains, want)
	}
	var ranges []string
	for _, r := range ca.PermittedIPRanges {
		ranges = append(ranges, r.String())
	}
	if want := []string{"10.1.2.3/32", "127.0.0.1/32", "::1/128"}; !slices.Equal(ranges, want) {
		t.Errorf("permitted IP ranges %v; want %v", ranges, want)
	}
	if ca.NotAfter.After(c.Leaf.NotAfter.Add(48 * time.Hour)) {
		t.Errorf("the CA outlives its one certificate: %v > %v", ca.NotAfter, c.Leaf.NotAfter)
	}
	// Name constraints at work: a certificate the CA would sign for
	// another name does not verify. (The CA's key is gone, so the check
	// uses a twin CA with the same constraints.)
	twin, twinKey, err := makeCA([]string{"rampart.example.test", "localhost", "10.1.2.3"}, now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(twin)
	for name, ok := range map[string]bool{"rampart.example.test": true, "www.bank.example": false} {
		leaf := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
			NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		der, err := x509.CreateCertificate(rand.Reader, leaf, twin, &twinKey.PublicKey, twinKey)
		if err != nil {
			t.Fatal(err)
		}
		cert, _ := x509.ParseCertificate(der)
		_, err = cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: name})
		if (err == nil) != ok {
			t.Errorf("a certificate for %s: verify error %v; want ok=%v", name, err, ok)
		}
	}
	// An installation from before (CA key kept, no constraints) gets a new
	// CA and loses the old key at the next start.
	if err := os.WriteFile(filepath.Join(dir, CAKey), []byte("-----BEGIN PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, gen, err := LoadOrGenerate(dir, []string{"rampart.example.test", "10.1.2.3"}, now); err != nil || !gen {
		t.Errorf("with an old CA key present: generated=%v, %v; want a new CA", gen, err)
	}
	if _, err := os.Stat(filepath.Join(dir, CAKey)); !os.IsNotExist(err) {
		t.Errorf("the old CA key is still there: %v", err)
	}
}
