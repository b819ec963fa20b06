package wso2

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/target"
)

// editCopy copies a fixture and rewrites its deployment.toml with edit.
func editCopy(t *testing.T, fixture string, edit func(string) string) string {
	t.Helper()
	dir := t.TempDir()
	copyTree(t, fixtureDir(t, fixture), dir)
	toml := filepath.Join(dir, "conf/deployment.toml")
	if _, err := os.Stat(toml); err != nil {
		toml = filepath.Join(dir, "repository/conf/deployment.toml")
	}
	b, err := os.ReadFile(toml)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, toml, []byte(edit(string(b))))
	return dir
}

// withScript adds the hardened start script with extra -D options.
func withScript(t *testing.T, dir, name string, props ...string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "hardened", "start.sh"))
	if err != nil {
		t.Fatal(err)
	}
	extra := ""
	for _, p := range props {
		extra += "    -D" + p + " \\\n"
	}
	s := strings.Replace(string(b), "    -Djava.io.tmpdir=", extra+"    -Djava.io.tmpdir=", 1)
	writeFile(t, filepath.Join(dir, name), []byte(s))
}

// A [secrets] entry still in brackets ("[admin]", never encrypted by the
// cipher tool) is a plain-text secret, and the reference to it is seen
// through: SEC-001 names the key, SEC-002 finds admin/admin.
func TestSecretsInBracketsSeenThrough(t *testing.T) {
	dir := editCopy(t, "is-7.1.0", func(s string) string {
		s = strings.Replace(s, "[super_admin]\nusername = \"admin\"\npassword = \"admin\"", "[super_admin]\nusername = \"admin\"\npassword = \"$secret{admin_password}\"", 1)
		return s + "\n[secrets]\nadmin_password = \"[admin]\"\n"
	})
	f, fs := scan(t, dir, target.Declared{})
	if f.Product.SuperAdmin.Password.Form != "plain" || !f.Product.SuperAdmin.Password.KnownDefault {
		t.Fatalf("super admin password: %+v", f.Product.SuperAdmin.Password)
	}
	wantStatus(t, fs, map[string]finding.Status{"SEC-001": finding.Fail, "SEC-002": finding.Fail, "SEC-005": finding.Fail},
		map[string]string{"SEC-001": "super_admin.password", "SEC-002": "admin/admin", "SEC-005": "not yet encrypted"})
}

// $sys{prop}: a system property. Set by the start script, it is resolved
// (and a password there is plain text in that file); set nowhere the files
// show, the value is unknown: error, never "plain text", never a pass.
func TestSysReferences(t *testing.T) {
	edit := func(s string) string {
		s = strings.Replace(s, "[server]\nhostname = \"localhost\"", "[server]\nhostname = \"$sys{public.host}\"", 1)
		return strings.Replace(s, "[super_admin]\nusername = \"admin\"\npassword = \"admin\"", "[super_admin]\nusername = \"admin\"\npassword = \"$sys{admin.pw}\"", 1)
	}
	t.Run("set in the start script", func(t *testing.T) {
		dir := editCopy(t, "is-7.1.0", edit)
		withScript(t, dir, "bin/wso2server.sh", "admin.pw=admin", "public.host=is.example.com")
		f, fs := scan(t, dir, target.Declared{})
		if h := f.Product.Hostname; h.Value != "is.example.com" || h.Unresolved != "" {
			t.Errorf("hostname %+v", h)
		}
		pw := f.Product.SuperAdmin.Password
		if pw.Form != "plain" || !pw.KnownDefault || pw.Origin.File != "bin/wso2server.sh" {
			t.Errorf("admin password %+v", pw)
		}
		wantStatus(t, fs, map[string]finding.Status{"SEC-001": finding.Fail, "SEC-002": finding.Fail, "NET-007": finding.Pass},
			map[string]string{"SEC-001": "super_admin.password"})
	})
	t.Run("set nowhere in the files", func(t *testing.T) {
		dir := editCopy(t, "is-7.1.0", edit)
		withScript(t, dir, "bin/wso2server.sh")
		f, fs := scan(t, dir, target.Declared{})
		if pw := f.Product.SuperAdmin.Password; pw.Form != "sys_ref" || !pw.Unknown {
			t.Errorf("admin password %+v", pw)
		}
		wantStatus(t, fs, map[string]finding.Status{"SEC-002": finding.Error, "NET-007": finding.Error},
			map[string]string{"SEC-002": "$sys{admin.pw}", "NET-007": "$sys{public.host}"})
		// SEC-001 still fails: the shipped toml has other plain-text passwords;
		// the unknown one is not counted as plain text.
		if m := findingOf(fs, "SEC-001").Message; strings.Contains(m, "super_admin.password") {
			t.Errorf("SEC-001 counts the $sys{} reference as plain text: %s", m)
		}
	})
}

// $env{VAR}: the environment of the product's process is not in the files.
// A keystore password from the environment is judged by the store itself:
// the shipped store still opens with wso2carbon, so KEY-007 fails.
func TestEnvReferences(t *testing.T) {
	dir := editCopy(t, "mi-4.3.0", func(s string) string {
		s = strings.Replace(s, "[keystore.primary]\nfile_name = \"repository/resources/security/wso2carbon.jks\"\npassword = \"wso2carbon\"",
			"[keystore.primary]\nfile_name = \"repository/resources/security/wso2carbon.jks\"\npassword = \"$env{KS_PASSWORD}\"", 1)
		return strings.Replace(s, "[server]\nhostname = \"localhost\"", "[server]\nhostname = \"$env{HOSTNAME}\"", 1)
	})
	f, fs := scan(t, dir, target.Declared{})
	var primary = f.Product.Keystores[0]
	if primary.Role != "primary" || !primary.Password.KnownDefault || !primary.Opened {
		t.Errorf("primary keystore %+v", primary)
	}
	wantStatus(t, fs, map[string]finding.Status{"KEY-007": finding.Fail, "KEY-001": finding.Fail, "NET-007": finding.Error},
		map[string]string{"KEY-007": "primary", "NET-007": "$env{HOSTNAME}"})
}

// Quoted keys mean what the product's config mapper makes of them, and a
// byte-order mark or CRLF line ends change nothing.
func TestQuotedKeysBOMAndCRLF(t *testing.T) {
	dir := editCopy(t, "is-7.1.0", func(s string) string {
		s = strings.Replace(s, "[server]\nhostname = \"localhost\"", "[server]\n\"hostname\" = \"is.example.com\"", 1)
		s += "\n[transport.https.\"sslHostConfig\".properties]\n\"protocols\" = \"TLSv1.2,TLSv1.3\"\n"
		return "\xEF\xBB\xBF" + strings.ReplaceAll(s, "\n", "\r\n")
	})
	f, fs := scan(t, dir, target.Declared{})
	if f.Product.Hostname.Value != "is.example.com" {
		t.Errorf("hostname %+v", f.Product.Hostname)
	}
	for _, l := range f.Product.TLSListeners {
		if l.Name == "https" && strings.Join(l.Protocols, ",") != "TLSv1.2,TLSv1.3" {
			t.Errorf("https listener %+v", l)
		}
	}
	wantStatus(t, fs, map[string]finding.Status{"NET-007": finding.Pass, "TLS-002": finding.Pass, "KEY-001": finding.Fail, "SEC-002": finding.Fail}, nil)
	for _, fd := range fs {
		if fd.Status == finding.Error && !strings.Contains(fd.Message, "start script") && !strings.Contains(fd.Message, "JDK") {
			t.Errorf("%s error: %s", fd.RuleID, fd.Message)
		}
	}
}
