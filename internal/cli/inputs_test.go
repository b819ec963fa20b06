package cli

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
	"strings"
	"testing"
	"time"
)

func selfSignedCA(t *testing.T) (certDER, keyDER []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: testClock, NotAfter: testClock.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	certDER, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err = x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return certDER, keyDER
}

// TestCABundleRefusedWithoutCertificate: a --ca-bundle with no certificate
// in it is refused (exit 2) with what it holds instead; a PEM bundle is
// accepted.
func TestCABundleRefusedWithoutCertificate(t *testing.T) {
	dir := t.TempDir()
	certDER, keyDER := selfSignedCA(t)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}))
	home := fixture(t, "mi-4.3.0")
	for _, c := range []struct {
		file, want string
	}{
		{write("empty.pem", nil), "holds no certificate"},
		{write("ca.der", certDER), "looks like DER"},
		{write("key.pem", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})), "private key"},
		{write("broken.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")})), "could not be parsed"},
		{filepath.Join(dir, "missing.pem"), "missing.pem"},
	} {
		r := runCLI(t, nil, false, "scan", home, "--only", "SEC-001", "--ca-bundle", c.file)
		if r.code != ExitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", filepath.Base(c.file), r.code, r.stderr, c.want)
		}
	}
	if r := runCLI(t, nil, false, "scan", home, "--only", "SEC-001", "--ca-bundle", good); r.code == ExitUsage {
		t.Fatalf("a PEM CA refused: %s", r.stderr)
	}
}

// TestInputWarnings: a --profile the files contradict, an attestation of
// an automated rule, a waiver of a manual rule, and entries that match no
// rule judged or no target are warned of, with both sides and the file and
// line; the scan still runs.
func TestInputWarnings(t *testing.T) {
	dir := t.TempDir()
	w := writeFile(t, dir, "w.yaml", `waivers:
  - {rule: LOG-003, reason: r, by: me, expires: 2030-01-01}
  - {rule: SEC-001, target: "/nowhere/*", reason: r, by: me, expires: 2030-01-01}
  - {rule: TLS-002, reason: r, by: me, expires: 2030-01-01}
  - {rule: SEC-001, target: "*mi-4.3.0", reason: fine, by: me, expires: 2030-01-01}
`)
	a := writeFile(t, dir, "a.yaml", "attestations:\n  - {rule: SEC-001, evidence: e, by: me, expires: 2030-01-01}\n")
	home := fixture(t, "mi-4.3.0")
	r := runCLI(t, nil, false, "scan", home, "--profile", "wso2-is", "--only", "SEC-001,LOG-003", "--waivers", w, "--attestations", a, "--fail-on", "none")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"warning: " + absPath(t, home) + ": judged as wso2-is as asked, but its files show wso2-mi",
		"warning: " + a + ":2: attestation of SEC-001, a rule rampart judges itself",
		"warning: " + w + ":2: waiver of LOG-003, a manual rule",
		"warning: " + w + ":3: waiver of SEC-001 matched nothing: target \"/nowhere/*\" is none of " + absPath(t, home),
		"warning: " + w + ":4: waiver of TLS-002 matched nothing: TLS-002 was not judged in this scan",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, w+":5") {
		t.Errorf("a waiver that applies was warned of:\n%s", r.stderr)
	}
	// Without a contradiction, no warning.
	r = runCLI(t, nil, false, "scan", home, "--profile", "wso2-mi", "--only", "SEC-001")
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("warning without a cause:\n%s", r.stderr)
	}
}
