package keygen_test

import (
	"crypto/rand"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/rampart-sec/rampart/internal/collect/wso2/keystore"
	"github.com/rampart-sec/rampart/internal/fix/fixtest"
	"github.com/rampart-sec/rampart/internal/fix/keygen"
	"github.com/rampart-sec/rampart/internal/testenv"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newStore(t *testing.T, alg string) ([]byte, []byte) {
	t.Helper()
	key, err := (&fixtest.Keys{}).Key(alg)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := keygen.SelfSigned(rand.Reader, key, keygen.CertRequest{Hostname: "is.example.com", Names: []string{"10.0.1.11"}, NotBefore: now, Validity: 397 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	p12, err := keygen.EncodePKCS12(rand.Reader, []keygen.KeyEntry{{Alias: "is", Key: key, Chain: [][]byte{cert}}}, nil, "s3cret-Pass")
	if err != nil {
		t.Fatal(err)
	}
	return p12, cert
}

// TestKeystoreReadByKeytoolGoAndTheCollector: the PKCS#12 store written
// opens in keytool with its password, in go-pkcs12, and in rampart's own
// keystore reader both with the password and without it (certificates are
// in plain content, as a Secure Vault reference leaves the collector
// without the password).
func TestKeystoreReadByKeytoolGoAndTheCollector(t *testing.T) {
	for _, alg := range []string{keygen.RSA3072, keygen.ECP256} {
		p12, cert := newStore(t, alg)
		key, c, err := pkcs12.Decode(p12, "s3cret-Pass")
		if err != nil || key == nil || !c.Equal(mustParse(t, cert)) {
			t.Fatalf("%s: go-pkcs12: %v", alg, err)
		}
		if _, err := keystore.Open(p12, "wrong"); err == nil {
			t.Fatalf("%s: a wrong password opened the store", alg)
		}
		st, err := keystore.Open(p12, "s3cret-Pass")
		if err != nil || len(st.Entries) != 1 || st.Entries[0].Alias != "is" || st.Entries[0].Kind != keystore.KindPrivateKey {
			t.Fatalf("%s: collector: %v %+v", alg, err, st)
		}
		un, err := keystore.ReadUnverified(p12)
		if err != nil || len(un.Entries) != 1 || un.Entries[0].Alias != "is" || un.Entries[0].Kind != keystore.KindPrivateKey {
			t.Fatalf("%s: unverified: %v %+v", alg, err, un)
		}
		path := filepath.Join(t.TempDir(), "is.p12")
		if err := os.WriteFile(path, p12, 0o600); err != nil {
			t.Fatal(err)
		}
		out := fixtest.Keytool(t, "-list", "-v", "-keystore", path, "-storetype", "PKCS12", "-storepass", "s3cret-Pass")
		want := []string{"Your keystore contains 1 entry", "Alias name: is", "Entry type: PrivateKeyEntry", "Owner: CN=is.example.com", "DNSName: is.example.com", "IPAddress: 10.0.1.11"}
		if alg == keygen.RSA3072 {
			want = append(want, "SHA256withRSA", "3072-bit RSA key")
		} else {
			want = append(want, "SHA256withECDSA", "256-bit EC (secp256r1) key")
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: keytool -list lacks %q:\n%s", alg, w, out)
			}
		}
	}
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTruststores rewrites the real shipped truststores (JKS and PKCS#12)
// without WSO2's default certificate, with a new one and a new password;
// keytool lists the result.
func TestTruststores(t *testing.T) {
	fx := filepath.Join(testenv.Shared(t), "fixtures", "wso2")
	_, cert := newStore(t, keygen.RSA3072)
	for _, f := range []string{"apim-4.5.0/repository/resources/security/client-truststore.jks", "apim-4.1.0/repository/resources/security/client-truststore.jks", "is-7.1.0/repository/resources/security/client-truststore.p12"} {
		b, err := os.ReadFile(filepath.Join(fx, f))
		if err != nil {
			t.Fatal(err)
		}
		// API-M 4.5's .jks files are PKCS#12 without a MAC: any password opens them (as in Java).
		if _, err := keygen.ReadTrustStore(b, "not-it"); err != keygen.ErrWrongPassword && !strings.HasPrefix(f, "apim-4.5.0") {
			t.Fatalf("%s: wrong password gave %v", f, err)
		}
		ts, err := keygen.ReadTrustStore(b, "wso2carbon")
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n := len(ts.Certs)
		removed := ts.RemoveWSO2Defaults()
		if len(removed) == 0 {
			t.Fatalf("%s: no default certificate found", f)
		}
		ts.Add("is", cert, now)
		out, err := ts.Encode(rand.Reader, "N3w-Trust", now)
		if err != nil {
			t.Fatal(err)
		}
		// The collector reads it without the password, and finds no default.
		un, err := keystore.ReadUnverified(out)
		if err != nil {
			t.Fatalf("%s: unverified read: %v", f, err)
		}
		if len(un.Entries) != n-len(removed)+1 {
			t.Fatalf("%s: %d entries, want %d", f, len(un.Entries), n-len(removed)+1)
		}
		path := filepath.Join(t.TempDir(), filepath.Base(f))
		if err := os.WriteFile(path, out, 0o600); err != nil {
			t.Fatal(err)
		}
		typ := "JKS"
		if ts.Format == keystore.FormatPKCS12 {
			typ = "PKCS12"
		}
		list := fixtest.Keytool(t, "-list", "-keystore", path, "-storetype", typ, "-storepass", "N3w-Trust")
		if !strings.Contains(list, "is, ") || !strings.Contains(list, "trustedCertEntry") {
			t.Errorf("%s: keytool does not list the new entry:\n%s", f, list)
		}
		if strings.Contains(list, "wso2carbon,") {
			t.Errorf("%s: the default entry is still listed", f)
		}
		wantCount := "Your keystore contains " + itoa(n-len(removed)+1) + " entries"
		if !strings.Contains(list, wantCount) {
			t.Errorf("%s: keytool lists %q, want %q", f, firstLine(list, "Your keystore"), wantCount)
		}
	}
}

func itoa(n int) string {
	const d = "0123456789"
	if n < 10 {
		return d[n : n+1]
	}
	return itoa(n/10) + d[n%10:n%10+1]
}

func firstLine(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func TestCSR(t *testing.T) {
	key, _ := (&fixtest.Keys{}).Key(keygen.RSA3072)
	p, err := keygen.CSR(rand.Reader, key, keygen.CertRequest{Hostname: "gw.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gw.csr")
	if err := os.WriteFile(path, p, 0o644); err != nil {
		t.Fatal(err)
	}
	out := fixtest.Keytool(t, "-printcertreq", "-file", path)
	if !strings.Contains(out, "CN=gw.example.com") || !strings.Contains(out, "SHA256withRSA") {
		t.Fatalf("keytool -printcertreq:\n%s", out)
	}
}

// BenchmarkRSA3072Keygen is the prime search rampart fix does once per run
// for a new keystore (the planner's benchmark uses fixed test keys).
func BenchmarkRSA3072Keygen(b *testing.B) {
	for b.Loop() {
		if _, err := (keygen.RandomSource{}).Key(keygen.RSA3072); err != nil {
			b.Fatal(err)
		}
	}
}
