package wso2fix_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect/wso2"
	"github.com/rampart-sec/rampart/internal/fix"
	"github.com/rampart-sec/rampart/internal/fix/fixtest"
	"github.com/rampart-sec/rampart/internal/fix/keygen"
	"github.com/rampart-sec/rampart/internal/fix/tomledit"
	"github.com/rampart-sec/rampart/internal/fix/vault"
	"github.com/rampart-sec/rampart/internal/testenv"
)

func reveal(t *testing.T, plan *fix.Plan, what string) string {
	t.Helper()
	for _, r := range plan.Reveals {
		if strings.Contains(r.What, what) {
			return r.Value
		}
	}
	t.Fatalf("no generated %s among %+v", what, plan.Reveals)
	return ""
}

// TestJDKReadsTheAppliedFix applies the fix to a JKS product (API-M 4.1)
// and a PKCS#12 one (IS 7.1), then lets the JDK judge the result: keytool
// lists the new keystore and the rewritten truststore with the passwords
// rampart generated (the default certificate gone, the new one trusted),
// and javax.crypto.Cipher decrypts every [secrets] value with the new
// key to what it must be.
func TestJDKReadsTheAppliedFix(t *testing.T) {
	rs := loadRules(t)
	java := fixtest.CompileDecrypt(t)
	for _, name := range []string{"apim-4.1.0", "is-7.1.0"} {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join(testenv.Shared(t), "fixtures", "wso2", name)
			orig, err := wso2.EffectiveConfig(src, "")
			if err != nil {
				t.Fatal(err)
			}
			dir := copyTree(t, src)
			sc := scanDir(t, rs, dir, "")
			plan := planDir(t, dir, sc, options(&fixtest.Keys{}))
			if _, err := fix.Apply(plan.Changes, testNow); err != nil {
				t.Fatal(err)
			}
			ksPw := reveal(t, plan, "new keystore")
			tsPw := reveal(t, plan, "truststore")
			adminPw := reveal(t, plan, "administrator")
			ks := filepath.Join(dir, "repository/resources/security/node1.p12")
			list := fixtest.Keytool(t, "-list", "-v", "-keystore", ks, "-storetype", "PKCS12", "-storepass", ksPw)
			for _, want := range []string{"Alias name: node1", "PrivateKeyEntry", "Owner: CN=node1.example.com", "3072-bit RSA key", "SHA256withRSA"} {
				if !strings.Contains(list, want) {
					t.Errorf("keytool -list of the new keystore lacks %q", want)
				}
			}
			ts := filepath.Join(dir, "repository/resources/security", map[string]string{"apim-4.1.0": "client-truststore.jks", "is-7.1.0": "client-truststore.p12"}[name])
			tsType := map[string]string{"apim-4.1.0": "JKS", "is-7.1.0": "PKCS12"}[name]
			tl := fixtest.Keytool(t, "-list", "-v", "-keystore", ts, "-storetype", tsType, "-storepass", tsPw)
			if !strings.Contains(tl, "Alias name: node1") || strings.Contains(tl, "Owner: CN=localhost, OU=WSO2") {
				t.Errorf("the truststore does not trust node1 only in place of the default certificate")
			}

			// Decrypt every [secrets] value with the JDK.
			b, err := os.ReadFile(filepath.Join(dir, "repository/conf/deployment.toml"))
			if err != nil {
				t.Fatal(err)
			}
			d, err := tomledit.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"keystore_password": ksPw, "truststore_password": tsPw, "admin_password": adminPw}
			refs := map[string]string{} // alias -> a key that references it
			for _, k := range d.Keys() {
				v, _, _ := d.Lookup(k)
				if s, ok := v.(string); ok && strings.HasPrefix(s, "$secret{") {
					refs[strings.TrimSuffix(strings.TrimPrefix(s, "$secret{"), "}")] = k
				}
			}
			var aliases, cts []string
			for _, k := range d.Keys() {
				alias, ok := strings.CutPrefix(k, "secrets.")
				if !ok {
					continue
				}
				v, _, _ := d.Lookup(k)
				aliases = append(aliases, alias)
				cts = append(cts, v.(string))
			}
			if len(aliases) < 6 {
				t.Fatalf("[secrets] holds %d values: %v", len(aliases), aliases)
			}
			got := java.Decrypt(t, ks, "PKCS12", ksPw, "node1", vault.DefaultTransformation, cts...)
			for i, alias := range aliases {
				switch {
				case want[alias] != "":
					if got[i] != want[alias] {
						t.Errorf("%s decrypts to %q, want %q", alias, got[i], want[alias])
					}
				case alias == "app_password":
					sum := sha256.Sum256([]byte(got[i]))
					if h, _, _ := d.Lookup("account_recovery.endpoint.auth.hash"); h != hex.EncodeToString(sum[:]) {
						t.Errorf("the app_password hash is not the SHA-256 of the decrypted app_password")
					}
				case alias == "symmetric_key":
					if !regexp.MustCompile(`^[0-9A-F]{32}$`).MatchString(got[i]) {
						t.Errorf("symmetric_key decrypts to %q, not 128 bits of hex", got[i])
					}
				default:
					// A secret moved as it was decrypts to its old value.
					key := refs[alias]
					v, ok := orig.Config.Lookup(key)
					for _, c := range orig.Mappings[key] {
						if !ok {
							v, ok = orig.Config.Lookup(c)
						}
					}
					if !ok {
						t.Errorf("%s: no key references it (%q)", alias, key)
						continue
					}
					if got[i] != v.Text() {
						t.Errorf("%s decrypts to %q, want %s's original %q", alias, got[i], key, v.Text())
					}
				}
			}
		})
	}
}

// TestECKeyAndCSR: --key-type ec gives the TLS keystore an EC P-256 key
// (the primary stays RSA: it signs tokens and encrypts secrets), --csr
// writes signing requests keytool reads, and the re-scan passes the key
// rules.
func TestECKeyAndCSR(t *testing.T) {
	rs := loadRules(t)
	dir := copyTree(t, filepath.Join(testenv.Shared(t), "fixtures", "wso2", "apim-4.5.0"))
	sc := scanDir(t, rs, dir, "")
	opt := options(&fixtest.Keys{})
	opt.KeyType, opt.CSR = keygen.ECP256, true
	plan := planDir(t, dir, sc, opt)
	if _, err := fix.Apply(plan.Changes, testNow); err != nil {
		t.Fatal(err)
	}
	list := fixtest.Keytool(t, "-list", "-v", "-keystore", filepath.Join(dir, "repository/resources/security/node1.p12"), "-storetype", "PKCS12", "-storepass", reveal(t, plan, "new keystore"))
	for _, want := range []string{"Alias name: node1\n", "Alias name: node1-ec", "256-bit EC (secp256r1) key", "3072-bit RSA key"} {
		if !strings.Contains(list, want) {
			t.Errorf("keytool -list lacks %q", want)
		}
	}
	for _, csr := range []string{"node1.csr", "node1-ec.csr"} {
		out := fixtest.Keytool(t, "-printcertreq", "-file", filepath.Join(dir, "repository/resources/security", csr))
		if !strings.Contains(out, "CN=node1.example.com") {
			t.Errorf("%s: %s", csr, out)
		}
	}
	after := scanDir(t, rs, dir, "")
	for _, id := range []string{"KEY-001", "KEY-002", "KEY-003", "KEY-004", "KEY-007"} {
		if after.status[id] != "pass" {
			t.Errorf("%s is %s after the fix", id, after.status[id])
		}
	}
	if v, _, _ := mustDoc(t, dir).Lookup("keystore.tls.alias"); v != "node1-ec" {
		t.Errorf("[keystore.tls] alias = %v, want node1-ec", v)
	}
}

func mustDoc(t *testing.T, dir string) *tomledit.Doc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "repository/conf/deployment.toml"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := tomledit.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
