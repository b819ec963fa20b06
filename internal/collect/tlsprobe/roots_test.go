package tlsprobe

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/testenv"
)

// systemRootSubjects is the set of subjects in the standard library's
// system pool.
func systemRootSubjects(t *testing.T) map[string]bool {
	t.Helper()
	pool, err := x509.SystemCertPool()
	if err != nil {
		testenv.Missing(t, "no system roots: %v", err)
	}
	out := map[string]bool{}
	//lint:ignore SA1019 on Linux the system pool lists its subjects (what this test compares with)
	for _, s := range pool.Subjects() {
		out[string(s)] = true
	}
	return out
}

// The index reads the same files as crypto/x509 and holds the same roots.
func TestTrustStoreIndexesTheSystemRoots(t *testing.T) {
	if runtime.GOOS != "linux" {
		testenv.Missing(t, "the index replaces the system pool on Linux only")
	}
	want := systemRootSubjects(t)
	ts, err := loadTrustStore(loadSystemRoots(), "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for subject, ders := range ts.bySubject {
		for _, der := range ders {
			if _, err := x509.ParseCertificate(der); err == nil {
				got[subject] = true
			}
		}
	}
	if len(want) == 0 || len(got) != len(want) {
		t.Fatalf("%d subjects indexed, the system pool has %d", len(got), len(want))
	}
	for s := range want {
		if !got[s] {
			t.Errorf("system root subject %x not indexed", s)
		}
	}
}

// Verifying against the pool built for a chain gives the same answer (and
// error text) as against the full system pool.
func TestTrustStorePoolVerifiesLikeTheSystemPool(t *testing.T) {
	sys, err := x509.SystemCertPool()
	//lint:ignore SA1019 on Linux the system pool lists its subjects
	if err != nil || len(sys.Subjects()) == 0 {
		testenv.Missing(t, "no system roots: %v", err)
	}
	ts, err := loadTrustStore(loadSystemRoots(), "")
	if err != nil {
		t.Fatal(err)
	}
	// A real root from the store, served as a chain of one.
	var root *x509.Certificate
	for _, ders := range ts.bySubject {
		if c, err := x509.ParseCertificate(ders[0]); err == nil && c.IsCA && c.CheckSignatureFrom(c) == nil && time.Now().Before(c.NotAfter) {
			root = c
			break
		}
	}
	if root == nil {
		testenv.Missing(t, "no usable self-signed root in the system store")
	}
	pki := newPKI(t, false)
	leaf, _ := x509.ParseCertificate(pki.leaf.Certificate[0])
	ca, _ := x509.ParseCertificate(pki.leaf.Certificate[1])
	// A certificate that names a system root as its issuer but is signed
	// by another key: x509 tries that root and says so in its error.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(5), Subject: pkix.Name{CommonName: "forged.test"}, DNSNames: []string{"forged.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	parent := *root
	parent.PublicKey = &key.PublicKey
	der, err := x509.CreateCertificate(rand.Reader, tmpl, &parent, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := x509.ParseCertificate(der)
	now := time.Now()
	for name, chain := range map[string][]*x509.Certificate{
		"system root": {root}, "private CA": {leaf, ca}, "leaf only": {leaf}, "forged issuer": {forged},
	} {
		want := verify(chain, sys, now)
		got := verify(chain, ts.poolFor(chain), now)
		if (want == nil) != (got == nil) || (want != nil && want.Error() != got.Error()) {
			t.Errorf("%s: system pool says %v, the chain's pool %v", name, want, got)
		}
	}
	if verify([]*x509.Certificate{root}, ts.poolFor([]*x509.Certificate{root}), now) != nil {
		t.Error("a system root is not trusted")
	}
}

// The user's bundle is trusted in full; a bad one is an error.
func TestTrustStoreUserBundle(t *testing.T) {
	pki := newPKI(t, false)
	dir := t.TempDir()
	bundle := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(bundle, pki.caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ts, err := loadTrustStore(loadSystemRoots(), bundle)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(pki.leaf.Certificate[0])
	if err := verify([]*x509.Certificate{leaf}, ts.poolFor([]*x509.Certificate{leaf}), time.Now()); err != nil {
		t.Errorf("leaf of the bundle's CA: %v", err)
	}
	empty := filepath.Join(dir, "empty.pem")
	_ = os.WriteFile(empty, []byte("not a certificate"), 0o600)
	for _, f := range []string{empty, filepath.Join(dir, "missing.pem")} {
		if _, err := loadTrustStore(&systemRoots{}, f); err == nil {
			t.Errorf("%s: no error", f)
		}
	}
}

// The first certificate file that reads counts, then every file of the
// directories; a symlink to a file of the same directory is read once.
// (The process environment is left alone: crypto/x509 reads it once.)
func TestSystemRootFiles(t *testing.T) {
	a, b := newPKI(t, false), newPKI(t, true)
	dir := t.TempDir()
	file := filepath.Join(dir, "bundle.pem")
	_ = os.WriteFile(file, a.caPEM, 0o600)
	certDir := filepath.Join(dir, "certs")
	_ = os.Mkdir(certDir, 0o755)
	_ = os.WriteFile(filepath.Join(certDir, "b.pem"), b.caPEM, 0o600)
	if err := os.Symlink("b.pem", filepath.Join(certDir, "1234abcd.0")); err != nil {
		t.Fatal(err)
	}
	// A copy of the bundle in the directory holds nothing new.
	_ = os.WriteFile(filepath.Join(certDir, "copy.pem"), a.caPEM, 0o600)
	var reads int
	files := []string{filepath.Join(dir, "absent.pem"), file, file}
	dirs := []string{certDir, filepath.Join(dir, "absent")}
	forEachRootPEM(files, dirs, func([]byte) { reads++ })
	if reads != 2 {
		t.Errorf("%d files passed on, want the bundle and b.pem", reads)
	}
	ts := &systemRoots{bySubject: map[string][][]byte{}}
	forEachRootPEM(files, dirs, ts.addPEM)
	// Both test CAs have the same subject name.
	if n := len(ts.bySubject[string(mustParse(t, a.caPEM).RawSubject)]); n != 2 {
		t.Errorf("%d certificates under the CAs' subject, want 2", n)
	}
	// A bundle made of certificate files (as update-ca-certificates makes
	// /etc/ssl/certs/ca-certificates.crt): each file is part of the
	// bundle and adds nothing; a file that is not, or only part of one of
	// its blocks, is passed on.
	c := newPKI(t, false)
	_ = os.WriteFile(file, append(append([]byte{}, a.caPEM...), c.caPEM...), 0o600)
	_ = os.Remove(filepath.Join(certDir, "copy.pem"))
	_ = os.WriteFile(filepath.Join(certDir, "c.pem"), c.caPEM, 0o600)
	_ = os.WriteFile(filepath.Join(certDir, "a-head.pem"), a.caPEM[:len(a.caPEM)/2], 0o600)
	var passed []string
	forEachRootPEM(files, dirs, func(data []byte) { passed = append(passed, string(data)) })
	if len(passed) != 3 || passed[1] != string(a.caPEM[:len(a.caPEM)/2]) || passed[2] != string(b.caPEM) {
		t.Errorf("%d files passed on, want the bundle, a-head.pem and b.pem (c.pem is in the bundle)", len(passed))
	}
}

func mustParse(t *testing.T, pemData []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(pemData)
	if block == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// FuzzCertSubject: wherever crypto/x509 parses a certificate, the subject
// walk finds the same raw subject.
func FuzzCertSubject(f *testing.F) {
	pki := newPKI(f, true)
	for _, der := range pki.leaf.Certificate {
		f.Add(der)
	}
	if block, _ := pem.Decode(pki.caPEM); block != nil {
		f.Add(block.Bytes)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		subject, ok := certSubject(der)
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		if !ok || string(subject) != string(c.RawSubject) {
			t.Fatalf("walk found %x (%v), x509 %x", subject, ok, c.RawSubject)
		}
	})
}
