package vault_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect/wso2/keystore"
	"github.com/rampart-sec/rampart/internal/fix/fixtest"
	"github.com/rampart-sec/rampart/internal/fix/keygen"
	"github.com/rampart-sec/rampart/internal/fix/vault"
	"github.com/rampart-sec/rampart/internal/testenv"
)

var values = []string{"admin", "wso2carbon", "pässwörd with spaces & ümlauts", "x"}

var transformations = []string{
	vault.DefaultTransformation,
	"RSA/ECB/OAEPWithSHA-256AndMGF1Padding",
	"RSA/ECB/PKCS1Padding",
	"RSA",
}

// TestJavaDecryptsRampartsKeystore: values encrypted for a keystore rampart
// writes are decrypted by the JDK's javax.crypto.Cipher with that store's
// private key, for every transformation a product may be configured with.
func TestJavaDecryptsRampartsKeystore(t *testing.T) {
	key, err := (&fixtest.Keys{}).Key(keygen.RSA3072)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := keygen.SelfSigned(rand.Reader, key, keygen.CertRequest{Hostname: "is.example.com", NotBefore: time.Now(), Validity: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	p12, err := keygen.EncodePKCS12(rand.Reader, []keygen.KeyEntry{{Alias: "is", Key: key, Chain: [][]byte{cert}}}, nil, "St0re-pass")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "is.p12")
	if err := os.WriteFile(path, p12, 0o600); err != nil {
		t.Fatal(err)
	}
	java := fixtest.CompileDecrypt(t)
	for _, tr := range transformations {
		enc, err := vault.New(key.Public(), tr, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		var cts []string
		for _, v := range values {
			ct, err := enc.Encrypt(v)
			if err != nil {
				t.Fatal(err)
			}
			if back, err := vault.Decrypt(key.(*rsa.PrivateKey), tr, ct); err != nil || back != v {
				t.Fatalf("%s: Go round trip: %q %v", tr, back, err)
			}
			cts = append(cts, ct)
		}
		got := java.Decrypt(t, path, "PKCS12", "St0re-pass", "is", tr, cts...)
		if len(got) != len(values) {
			t.Fatalf("%s: java printed %q", tr, got)
		}
		for i := range values {
			if got[i] != values[i] {
				t.Errorf("%s: java decrypted %q, want %q", tr, got[i], values[i])
			}
		}
	}
}

// TestJavaDecryptsWithTheShippedKeystore: encrypting with the certificate
// of a real product keystore (MI 4.3's wso2carbon.jks, as the cipher tool
// would before the keystore is replaced), the JDK decrypts with that
// store's private key.
func TestJavaDecryptsWithTheShippedKeystore(t *testing.T) {
	path := filepath.Join(testenv.Shared(t), "fixtures", "wso2", "mi-4.3.0", "repository", "resources", "security", "wso2carbon.jks")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := keystore.Open(b, "wso2carbon")
	if err != nil {
		t.Fatal(err)
	}
	var pub any
	for _, e := range st.Entries {
		if e.Alias == "wso2carbon" && e.Kind == keystore.KindPrivateKey {
			c, err := x509.ParseCertificate(e.Chain[0]) // entries carry DER
			if err != nil {
				t.Fatal(err)
			}
			pub = c.PublicKey
		}
	}
	if pub == nil {
		t.Fatal("no wso2carbon key entry")
	}
	enc, err := vault.New(pub, vault.DefaultTransformation, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := enc.Encrypt("admin")
	if err != nil {
		t.Fatal(err)
	}
	got := fixtest.CompileDecrypt(t).Decrypt(t, path, "JKS", "wso2carbon", "wso2carbon", vault.DefaultTransformation, ct)
	if len(got) != 1 || got[0] != "admin" {
		t.Fatalf("java decrypted %q", got)
	}
}

func TestRefusals(t *testing.T) {
	key, _ := (&fixtest.Keys{}).Key(keygen.ECP256)
	if _, err := vault.New(key.Public(), vault.DefaultTransformation, rand.Reader); err == nil {
		t.Error("an EC key was accepted")
	}
	rk, _ := (&fixtest.Keys{}).Key(keygen.RSA3072)
	for _, tr := range []string{"AES/GCM/NoPadding", "RSA/CBC/PKCS1Padding", "RSA/ECB/OAEPWithMD5AndMGF1Padding", ""} {
		if _, err := vault.New(rk.Public(), tr, rand.Reader); err == nil {
			t.Errorf("%q was accepted", tr)
		}
	}
}
