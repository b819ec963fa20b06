package keystore

import (
	"encoding/asn1"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/certinfo"
	"github.com/rampart-sec/rampart/internal/certinfo/certtest"
	"github.com/rampart-sec/rampart/internal/testenv"
)

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func openFile(t *testing.T, path, pw string) *Store {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(b, pw)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return st
}

func entry(st *Store, alias string) *Entry {
	for i := range st.Entries {
		if st.Entries[i].Alias == alias {
			return &st.Entries[i]
		}
	}
	return nil
}

// A CA with a negative serial number, added with keytool to each shipped
// keystore and truststore (JKS, PKCS#12, and API-M 4.5's PKCS#12 behind a
// .jks name), as the CA bundle of recent WSO2 kernels carries one: the
// store still opens, the default wso2carbon key is still found by its
// fingerprint and subject, and the odd CA is listed, read leniently.
func TestNegativeSerialCAInShippedStores(t *testing.T) {
	ca := certtest.NegativeSerialCA(t, "Negative Serial Root")
	// One store of each layout: JKS, PKCS#12 (RC2-40 certificates), PKCS#12
	// without MAC behind a .jks name; keystore and truststore.
	for _, rel := range []string{
		"mi-4.3.0/repository/resources/security/wso2carbon.jks",
		"mi-4.3.0/repository/resources/security/client-truststore.jks",
		"is-7.1.0/repository/resources/security/wso2carbon.p12",
		"is-7.1.0/repository/resources/security/client-truststore.p12",
		"apim-4.5.0/repository/resources/security/wso2carbon.jks",
	} {
		p := filepath.Join(testenv.Shared(t), "fixtures", "wso2", rel)
		t.Run(rel, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), filepath.Base(p))
			copyFile(t, p, dst)
			certtest.ImportCA(t, dst, "wso2carbon", "negative-serial-root", ca)
			st := openFile(t, dst, "wso2carbon")
			e := entry(st, "negative-serial-root")
			if e == nil || e.Kind != KindTrustedCert {
				t.Fatalf("the imported CA is not listed: %+v", e)
			}
			f := certinfo.FromDER(e.Chain[0])
			if !strings.Contains(f.ParseError, "negative serial") || f.Subject == "" || !f.IsCA {
				t.Errorf("odd CA described as %+v", f)
			}
			if strings.Contains(p, "wso2carbon") {
				k := entry(st, "wso2carbon")
				if k == nil || k.Kind != KindPrivateKey || !certinfo.FromDER(k.Chain[0]).WSO2Default {
					t.Errorf("default key not found: %+v", k)
				}
			}
		})
	}
}

// PKCS#12 stores keytool writes today (AES-256 under PBES2, HMAC-SHA256
// MAC) and wrote before JDK 12 (RC2-40 certificates, SHA-1 MAC; what IS 7.1
// ships): entries by alias (friendly name), the key's chain leaf first,
// and a wrong password refused.
func TestKeytoolPKCS12(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		name := "modern"
		if legacy {
			name = "legacy"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			ks := filepath.Join(dir, "acme.p12")
			var jopt []string
			if legacy {
				jopt = []string{"-J-Dkeystore.pkcs12.legacy"}
			}
			certtest.Keytool(t, append(jopt, "-genkeypair", "-alias", "acme-tls", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=is.example.com,O=Acme",
				"-validity", "90", "-storetype", "PKCS12", "-keystore", ks, "-storepass", "Sup3r-s3cret", "-keypass", "Sup3r-s3cret")...)
			certtest.ImportCA(t, ks, "Sup3r-s3cret", "corp-root", certtest.NegativeSerialCA(t, "Corp Root"))
			b, _ := os.ReadFile(ks)
			wantAlg := map[bool]string{false: oidPBES2.String(), true: oidPBEWithSHA40BitRC2.String()}[legacy]
			if algs := contentAlgorithms(t, b); len(algs) != 1 || algs[0] != wantAlg {
				t.Errorf("certificates encrypted with %v, want %s", algs, wantAlg)
			}
			st := openFile(t, ks, "Sup3r-s3cret")
			if len(st.Entries) != 2 {
				t.Fatalf("entries: %+v", st.Entries)
			}
			k, c := entry(st, "acme-tls"), entry(st, "corp-root")
			if k == nil || k.Kind != KindPrivateKey || len(k.Chain) != 1 || certinfo.FromDER(k.Chain[0]).Subject != "CN=is.example.com,O=Acme" {
				t.Errorf("key entry: %+v", k)
			}
			if c == nil || c.Kind != KindTrustedCert {
				t.Errorf("CA entry: %+v", c)
			}
			if _, err := Open(b, "wso2carbon"); !errors.Is(err, ErrWrongPassword) {
				t.Errorf("wrong password: %v", err)
			}
		})
	}
}

// PKCS#12 files OpenSSL writes: its 3.x default (AES-256-CBC, PBKDF2,
// HMAC-SHA256 MAC), -legacy (RC2-40 and 3DES), and without encryption or
// MAC; a key with a CA chain, aliases from -name and -caname.
func TestOpenSSLPKCS12(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		testenv.Missing(t, "openssl not installed")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			if strings.Contains(string(out), "legacy") {
				testenv.Missing(t, "openssl without the legacy provider: %s", out)
			}
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("ca.key"), "-out", p("ca.pem"), "-subj", "/CN=Test Root", "-days", "30")
	run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", p("srv.key"), "-out", p("srv.csr"), "-subj", "/CN=srv.example.com")
	run("x509", "-req", "-in", p("srv.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial", "-out", p("srv.pem"), "-days", "30")
	for _, v := range []struct {
		name string
		args []string
		mac  bool
	}{
		{"default", nil, true},
		{"legacy", []string{"-legacy"}, true},
		{"plain", []string{"-certpbe", "NONE", "-keypbe", "NONE", "-nomac"}, false},
	} {
		t.Run(v.name, func(t *testing.T) {
			out := p(v.name + ".p12")
			run(append([]string{"pkcs12", "-export", "-inkey", p("srv.key"), "-in", p("srv.pem"), "-certfile", p("ca.pem"),
				"-name", "srv", "-caname", "test-root", "-passout", "pass:x-Pw-1", "-out", out}, v.args...)...)
			st := openFile(t, out, "x-Pw-1")
			k := entry(st, "srv")
			if k == nil || k.Kind != KindPrivateKey || len(k.Chain) != 2 ||
				certinfo.FromDER(k.Chain[0]).Subject != "CN=srv.example.com" || certinfo.FromDER(k.Chain[1]).Subject != "CN=Test Root" {
				t.Fatalf("key entry %+v of %+v", k, st.Entries)
			}
			b, _ := os.ReadFile(out)
			_, err := Open(b, "wrong")
			if v.mac && !errors.Is(err, ErrWrongPassword) {
				t.Errorf("wrong password: %v", err)
			}
			if !v.mac && len(st.Notes) == 0 {
				t.Error("no note that the password cannot be verified")
			}
		})
	}
}

// A keystore cut short (a failed copy, a full disk) is an error, never an
// empty store.
func TestTruncatedStores(t *testing.T) {
	for _, p := range fixtureStores(t) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{len(b) / 2, len(b) - 21, 100} {
			if st, err := Open(b[:n], "wso2carbon"); err == nil {
				t.Errorf("%s cut to %d bytes opened: %d entries", p, n, len(st.Entries))
			}
		}
	}
}

// A private key whose certificate bag carries no matching local key ID
// is an entry with an error, not a key without a certificate.
func TestKeyWithoutCertificate(t *testing.T) {
	st := &Store{}
	entries(st, []bag{{key: true, alias: "orphan", keyID: "01"}, {cert: []byte{0x30, 0}, alias: "other", keyID: "02"}})
	e := entry(st, "orphan")
	if e == nil || e.Kind != KindPrivateKey || e.Error == "" || len(e.Chain) != 0 {
		t.Errorf("%+v", st.Entries)
	}
}

// contentAlgorithms lists the encryption algorithms of a PKCS#12 file's
// encrypted content.
func contentAlgorithms(t *testing.T, data []byte) []string {
	t.Helper()
	var pfx pfxPDU
	if _, err := asn1.Unmarshal(data, &pfx); err != nil {
		t.Fatal(err)
	}
	var authSafe []byte
	var infos []contentInfo
	if _, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &authSafe); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(authSafe, &infos); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ci := range infos {
		if ci.ContentType.Equal(oidEncryptedData) {
			var ed encryptedData
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil {
				t.Fatal(err)
			}
			out = append(out, ed.Info.Algorithm.Algorithm.String())
		}
	}
	return out
}
