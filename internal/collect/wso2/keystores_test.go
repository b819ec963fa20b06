package wso2

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/certinfo/certtest"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/target"
)

func findingOf(fs []finding.Finding, id string) finding.Finding {
	for _, f := range fs {
		if f.RuleID == id {
			return f
		}
	}
	return finding.Finding{RuleID: id, Status: "missing"}
}

func wantStatus(t *testing.T, fs []finding.Finding, want map[string]finding.Status, contains map[string]string) {
	t.Helper()
	for id, st := range want {
		f := findingOf(fs, id)
		if f.Status != st {
			t.Errorf("%s: %s (%s), want %s", id, f.Status, f.Message, st)
		}
		if s := contains[id]; s != "" && !strings.Contains(f.Message, s) {
			t.Errorf("%s: message %q lacks %q", id, f.Message, s)
		}
	}
}

// The shipped keystore and truststore with a CA whose serial number is
// negative added by keytool (as in the CA bundle of recent WSO2 kernels):
// the default key is found and fails KEY-001; the truststore's default
// entry fails KEY-004; KEY-002/003 judge the key. Before, the one odd CA
// made both stores unreadable: KEY-001/004 error, KEY-002/003 "no keystore
// with a private key".
func TestNegativeSerialCAKeepsStoresReadable(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, filepath.Join(fixturesDir(t), "mi-4.3.0"), dir)
	ca := certtest.NegativeSerialCA(t, "Negative Serial Root")
	for _, s := range []string{"wso2carbon.jks", "client-truststore.jks"} {
		certtest.ImportCA(t, filepath.Join(dir, "repository/resources/security", s), "wso2carbon", "negative-serial-root", ca)
	}
	f, fs := scan(t, dir, target.Declared{})
	wantStatus(t, fs, map[string]finding.Status{
		"KEY-001": finding.Fail, "KEY-002": finding.Pass, "KEY-003": finding.Pass, "KEY-004": finding.Fail,
	}, map[string]string{"KEY-001": "wso2carbon.jks", "KEY-004": "alias wso2carbon"})
	found := false
	for _, ks := range f.Product.Keystores {
		for _, e := range ks.Entries {
			if e.Alias == "negative-serial-root" {
				found = true
				if !strings.Contains(e.Certificate.ParseError, "negative serial") || !strings.Contains(e.Origin.Note, "read leniently") {
					t.Errorf("%s: %+v", ks.File, e)
				}
			}
		}
	}
	if !found {
		t.Error("the odd CA is not listed")
	}
}

// A keystore cut short is an error on every rule that reads its keys,
// never "no keystore with a private key".
func TestTruncatedKeystoreIsAnError(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, filepath.Join(fixturesDir(t), "is-7.1.0"), dir)
	p := filepath.Join(dir, "repository/resources/security/wso2carbon.p12")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, fs := scan(t, dir, target.Declared{})
	wantStatus(t, fs, map[string]finding.Status{
		"KEY-001": finding.Error, "KEY-002": finding.Error, "KEY-003": finding.Error, "KEY-006": finding.Error,
	}, map[string]string{"KEY-002": "wso2carbon.p12", "KEY-003": "wso2carbon.p12"})
}

// A product key certificate that has expired fails KEY-006 in a directory
// scan; one valid for long passes it.
func TestExpiredKeystoreCertificate(t *testing.T) {
	for _, c := range []struct {
		name, start, validity string
		want                  finding.Status
		msg                   string
	}{
		{"expired", "-400d", "365", finding.Fail, "expired on"},
		{"expiring", "-300d", "310", finding.Fail, "within 30 days"},
		{"valid", "-1d", "365", finding.Pass, "valid for more than 30 days"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			copyTree(t, filepath.Join(fixturesDir(t), "mi-4.3.0"), dir)
			ks := filepath.Join(dir, "repository/resources/security/acme.p12")
			certtest.Keytool(t, "-genkeypair", "-alias", "acme", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=mi.example.com",
				"-startdate", c.start, "-validity", c.validity, "-storetype", "PKCS12", "-keystore", ks, "-storepass", "acme-Pw-9", "-keypass", "acme-Pw-9")
			toml := filepath.Join(dir, "conf/deployment.toml")
			b, _ := os.ReadFile(toml)
			b = []byte(strings.Replace(string(b), `file_name = "repository/resources/security/wso2carbon.jks"`, `file_name = "repository/resources/security/acme.p12"`, 1))
			b = []byte(strings.Replace(string(b), "[keystore.primary]", "[keystore.primary]\ntype = \"PKCS12\"", 1))
			b = []byte(strings.NewReplacer(`password = "wso2carbon"
alias = "wso2carbon"
key_password = "wso2carbon"`, `password = "acme-Pw-9"
alias = "acme"
key_password = "acme-Pw-9"`).Replace(string(b)))
			writeFile(t, toml, b)
			// Judged now: keytool dates the certificate from the real clock.
			_, fs := scanNow(t, dir)
			wantStatus(t, fs, map[string]finding.Status{"KEY-006": c.want}, map[string]string{"KEY-006": c.msg})
		})
	}
}
