package wso2

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rampart-sec/rampart/internal/certinfo/certtest"
	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/rules"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/testenv"
	builtinrules "github.com/rampart-sec/rampart/rules"
)

// verdictCase is one case of the verdict corpus (testdata/verdicts).
type verdictCase struct {
	Description string   `yaml:"description"`
	Base        string   `yaml:"base"`
	Build       []string `yaml:"build"`
	Clock       string   `yaml:"clock"`
	Inherit     string   `yaml:"inherit"`
	Declared    struct {
		BehindProxy    bool  `yaml:"behind_proxy"`
		MinUpdateLevel int   `yaml:"min_update_level"`
		MemoryMB       int64 `yaml:"memory_mb"`
	} `yaml:"declared"`
	Expect map[string]finding.Status `yaml:"expect"`
}

func readCase(t *testing.T, name string) verdictCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "verdicts", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c verdictCase
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

// expectations resolves a case's statuses: the directory baseline, then
// the inherited case's, then its own.
func expectations(t *testing.T, name string, depth int) map[string]finding.Status {
	t.Helper()
	if depth > 4 {
		t.Fatalf("%s: inheritance too deep", name)
	}
	c := readCase(t, name)
	out := map[string]finding.Status{}
	if c.Inherit != "" {
		out = expectations(t, c.Inherit, depth+1)
	} else {
		for k, v := range readCase(t, "directory").Expect {
			out[k] = v
		}
	}
	for k, v := range c.Expect {
		out[k] = v
	}
	return out
}

// buildCase makes the directory a case describes.
func buildCase(t *testing.T, c verdictCase) string {
	t.Helper()
	if len(c.Build) == 0 {
		return fixtureDir(t, c.Base)
	}
	var dir string
	if c.Build[0] == "hardened" {
		dir = buildHardened(t, c.Base)
	} else {
		dir = editCopy(t, c.Base, func(s string) string { return s })
	}
	toml := filepath.Join(dir, "conf/deployment.toml")
	if _, err := os.Stat(toml); err != nil {
		toml = filepath.Join(dir, "repository/conf/deployment.toml")
	}
	editTOML := func(f func(string) string) {
		b, err := os.ReadFile(toml)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, toml, []byte(f(string(b))))
	}
	replace := func(s, old, new string) string {
		t.Helper()
		if !strings.Contains(s, old) {
			t.Fatalf("%s: %q not in %s", c.Base, old, toml)
		}
		return strings.Replace(s, old, new, 1)
	}
	security := filepath.Join(dir, "repository/resources/security")
	for _, step := range c.Build {
		switch step {
		case "hardened":
		case "bom-crlf":
			editTOML(func(s string) string { return "\xEF\xBB\xBF" + strings.ReplaceAll(s, "\n", "\r\n") })
		case "quoted-keys":
			editTOML(func(s string) string {
				s = replace(s, "[server]\nhostname = \"localhost\"", "[server]\n\"hostname\" = \"is.example.com\"")
				return s + "\n[transport.https.\"sslHostConfig\".properties]\n\"protocols\" = \"TLSv1.2,TLSv1.3\"\n"
			})
		case "sys-ref":
			editTOML(func(s string) string {
				s = replace(s, "[server]\nhostname = \"localhost\"", "[server]\nhostname = \"$sys{public.host}\"")
				return replace(s, "[super_admin]\nusername = \"admin\"\npassword = \"admin\"", "[super_admin]\nusername = \"admin\"\npassword = \"$sys{admin.pw}\"")
			})
			withScript(t, dir, "bin/wso2server.sh", "admin.pw=Str0ng-Admin-Pw")
		case "secrets-brackets":
			editTOML(func(s string) string {
				s = replace(s, "[super_admin]\nusername = \"admin\"\npassword = \"admin\"", "[super_admin]\nusername = \"admin\"\npassword = \"$secret{admin_password}\"")
				return s + "\n[secrets]\nadmin_password = \"[admin]\"\n"
			})
		case "pkcs12-behind-jks":
			jks := filepath.Join(security, "wso2carbon.jks")
			p12 := filepath.Join(t.TempDir(), "converted.p12")
			certtest.Keytool(t, "-importkeystore", "-noprompt", "-srckeystore", jks, "-srcstorepass", "wso2carbon", "-srcstoretype", "JKS",
				"-destkeystore", p12, "-deststoretype", "PKCS12", "-deststorepass", "wso2carbon", "-destkeypass", "wso2carbon")
			b, err := os.ReadFile(p12)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, jks, b)
		case "negative-serial-ca":
			ca := certtest.NegativeSerialCA(t, "Negative Serial Root")
			for _, s := range []string{"wso2carbon.jks", "client-truststore.jks"} {
				certtest.ImportCA(t, filepath.Join(security, s), "wso2carbon", "negative-serial-root", ca)
			}
		case "expired-keystore-cert":
			certtest.Keytool(t, "-genkeypair", "-alias", "acme", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=mi.example.com",
				"-startdate", "-400d", "-validity", "365", "-storetype", "PKCS12", "-keystore", filepath.Join(security, "acme.p12"),
				"-storepass", "acme-Pw-9", "-keypass", "acme-Pw-9")
			editTOML(func(s string) string {
				return replace(s, "[keystore.primary]\nfile_name = \"repository/resources/security/wso2carbon.jks\"\npassword = \"wso2carbon\"\nalias = \"wso2carbon\"\nkey_password = \"wso2carbon\"",
					"[keystore.primary]\nfile_name = \"repository/resources/security/acme.p12\"\ntype = \"PKCS12\"\npassword = \"acme-Pw-9\"\nalias = \"acme\"\nkey_password = \"acme-Pw-9\"")
			})
		case "truncated-keystore":
			p := filepath.Join(security, "wso2carbon.p12")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, p, b[:len(b)/2])
		case "env-ref":
			editTOML(func(s string) string {
				s = replace(s, "[server]\nhostname = \"localhost\"", "[server]\nhostname = \"$env{HOSTNAME}\"")
				return replace(s, "[keystore.primary]\nfile_name = \"repository/resources/security/wso2carbon.jks\"\npassword = \"wso2carbon\"",
					"[keystore.primary]\nfile_name = \"repository/resources/security/wso2carbon.jks\"\npassword = \"$env{KS_PASSWORD}\"")
			})
		default:
			t.Fatalf("unknown build step %q", step)
		}
	}
	return dir
}

// TestVerdictCorpus judges every case of testdata/verdicts with every
// built-in rule, as a scan judges a product directory, and compares each
// rule's status with the one written by hand.
func TestVerdictCorpus(t *testing.T) {
	set, err := rules.Load(rules.Source{Name: "rules", FS: builtinrules.FS})
	if err != nil {
		t.Fatal(err)
	}
	all := set.Rules()
	files, _ := filepath.Glob(filepath.Join("testdata", "verdicts", "*.yaml"))
	var names []string
	for _, f := range files {
		if n := strings.TrimSuffix(filepath.Base(f), ".yaml"); n != "directory" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	covered := map[string]bool{}
	for _, name := range names {
		c := readCase(t, name)
		covered[c.Base] = true
		for _, s := range c.Build {
			covered[s] = true
		}
		t.Run(name, func(t *testing.T) {
			if len(c.Build) > 0 && c.Build[0] == "hardened" {
				testenv.Short(t, "generates 3072-bit keys")
			}
			want := expectations(t, name, 0)
			if len(want) != len(all) {
				var missing []string
				for _, r := range all {
					if _, ok := want[r.ID]; !ok {
						missing = append(missing, r.ID)
					}
				}
				t.Fatalf("%d expectations for %d rules; missing %v", len(want), len(all), missing)
			}
			dir := buildCase(t, c)
			tg := target.Target{Name: name, Kind: target.Directory, Dir: dir,
				Decl: target.Declared{BehindProxy: c.Declared.BehindProxy, MinUpdateLevel: c.Declared.MinUpdateLevel}}
			f, err := New().Collect(context.Background(), tg, &collect.Env{})
			if err != nil {
				t.Fatalf("collect: %v", err)
			}
			if c.Declared.MemoryMB > 0 && f.Product.MachineMemoryMB == 0 {
				f.Product.MachineMemoryMB = c.Declared.MemoryMB // a home found running on a host
			}
			f.Target = tg.Facts()
			f.Target.Profiles = []string{f.Product.Profile}
			now := rules.TestClock
			if c.Clock == "now" {
				now = time.Now()
			}
			f.Scan = facts.DefaultScan(now)
			for _, fd := range rules.Judge(all, rules.Input{Facts: f, Offers: map[string]bool{rules.KindFile: true}}) {
				if w := want[fd.RuleID]; fd.Status != w {
					t.Errorf("%s: %s, want %s: %s", fd.RuleID, fd.Status, w, fd.Message)
				}
			}
		})
	}
	// The corpus holds every fixture (shared or built by recipe) and every
	// tricky input.
	for _, n := range allFixtureNames(t) {
		if !covered[n] {
			t.Errorf("fixture %s has no verdict case", n)
		}
	}
	for _, s := range []string{"hardened", "bom-crlf", "quoted-keys", "sys-ref", "secrets-brackets", "pkcs12-behind-jks",
		"negative-serial-ca", "expired-keystore-cert", "truncated-keystore", "env-ref"} {
		if !covered[s] {
			t.Errorf("no verdict case builds %s", s)
		}
	}
}
