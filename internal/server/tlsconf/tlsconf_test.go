package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
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
	for _, f := range []string{KeyFile, CAKey} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, %v; want 0600", f, fi.Mode().Perm(), err)
		}
	}
	// A restart reuses the certificate.
	c2, gen, err := LoadOrGenerate(dir, []string{"rampart.example.test"}, now)
	if err != nil || gen || !c2.Leaf.Equal(leaf) {
		t.Errorf("restart regenerated (%v, %v)", gen, err)
	}
	// A new host name gets a new certificate from the same CA.
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
