package wso2

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// badCopy copies mi-4.1.0 (a real pack) and lets a case break one file.
func badCopy(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	copyTree(t, filepath.Join(fixturesDir(t), "mi-4.1.0"), dst)
	return dst
}

// expect checks that the named rules end in error with a message holding
// want, and that rules which do not read the broken file still decide.
func expect(t *testing.T, dir string, broken []string, want string, unaffected map[string]finding.Status) {
	t.Helper()
	_, fs := scan(t, dir, target.Declared{})
	got := map[string]finding.Finding{}
	for _, f := range fs {
		got[f.RuleID] = f
	}
	for _, id := range broken {
		f := got[id]
		if f.Status != finding.Error || !strings.Contains(f.Message, want) {
			t.Errorf("%s = %s %q, want error containing %q", id, f.Status, f.Message, want)
		}
	}
	for id, st := range unaffected {
		if got[id].Status != st {
			t.Errorf("%s = %s %q, want %s (it does not read the broken file)", id, got[id].Status, got[id].Message, st)
		}
	}
}

var stillJudged = map[string]finding.Status{"SEC-002": finding.Fail, "NET-007": finding.Fail, "TLS-011": finding.Fail}

func TestTruncatedKeystore(t *testing.T) {
	dir := badCopy(t)
	ks := filepath.Join(dir, "repository/resources/security/wso2carbon.jks")
	b, _ := os.ReadFile(ks)
	writeFile(t, ks, b[:len(b)/3])
	expect(t, dir, []string{"KEY-001"}, "malformed JKS", stillJudged)
}

func TestGarbageKeystore(t *testing.T) {
	dir := badCopy(t)
	writeFile(t, filepath.Join(dir, "repository/resources/security/client-truststore.jks"), []byte("this is not a keystore at all\n"))
	expect(t, dir, []string{"KEY-004"}, "not a keystore", stillJudged)
}

func TestForgedJKSLength(t *testing.T) {
	// A JKS header claiming 2^31 entries and a 4 GiB alias must fail fast
	// without allocating.
	dir := badCopy(t)
	forged := []byte{0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2, 0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, 0xFF, 0xFF}
	writeFile(t, filepath.Join(dir, "repository/resources/security/wso2carbon.jks"), forged)
	expect(t, dir, []string{"KEY-001"}, "malformed JKS", stillJudged)
}

func TestWrongKeystorePassword(t *testing.T) {
	dir := badCopy(t)
	p := filepath.Join(dir, "conf/deployment.toml")
	b, _ := os.ReadFile(p)
	writeFile(t, p, []byte(strings.Replace(string(b), `password = "wso2carbon"
alias = "wso2carbon"`, `password = "not-the-password"
alias = "wso2carbon"`, 1)))
	expect(t, dir, []string{"KEY-001"}, "password was incorrect", stillJudged)
}

func TestHugeFileIsNotRead(t *testing.T) {
	dir := badCopy(t)
	p := filepath.Join(dir, "conf/log4j2.properties")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	// 200 MB, sparse: the collector must refuse it by size, not read it.
	if err := f.Truncate(200 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	expect(t, dir, []string{"LOG-001", "LOG-002"}, "over the 16 MiB limit", stillJudged)
}

func TestFIFOIsNotOpened(t *testing.T) {
	dir := badCopy(t)
	p := filepath.Join(dir, "conf/log4j2.properties")
	os.Remove(p)
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		testenv.Missing(t, "mkfifo: %v", err)
	}
	expect(t, dir, []string{"LOG-001"}, "not a regular file", stillJudged)
}

func TestUnreadableFile(t *testing.T) {
	if testenv.Unprivileged(t) {
		return // root reads mode-000 files: run as nobody, and passed
	}
	dir := badCopy(t)
	p := filepath.Join(dir, "conf/log4j2.properties")
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	expect(t, dir, []string{"LOG-001"}, "permission denied", stillJudged)
}

func TestSymlinkLoop(t *testing.T) {
	dir := badCopy(t)
	p := filepath.Join(dir, "conf/log4j2.properties")
	os.Remove(p)
	if err := os.Symlink("log4j2.properties", p); err != nil {
		t.Fatal(err)
	}
	expect(t, dir, []string{"LOG-001"}, "log4j2.properties", stillJudged)
}

func TestSymlinkOutsideHomeRefused(t *testing.T) {
	dir := badCopy(t)
	outside := filepath.Join(t.TempDir(), "secret.jks")
	b, _ := os.ReadFile(filepath.Join(dir, "repository/resources/security/wso2carbon.jks"))
	writeFile(t, outside, b)
	p := filepath.Join(dir, "repository/resources/security/wso2carbon.jks")
	os.Remove(p)
	if err := os.Symlink(outside, p); err != nil {
		t.Fatal(err)
	}
	expect(t, dir, []string{"KEY-001"}, "outside the product directory", stillJudged)
}

func TestMalformedTOML(t *testing.T) {
	dir := badCopy(t)
	writeFile(t, filepath.Join(dir, "conf/deployment.toml"), []byte("[server]\nhostname = \"a\"\n[keystore.primary\nfile_name = 1\n"))
	_, err := New().Collect(context.Background(), target.Target{Kind: target.Directory, Dir: dir}, &collect.Env{})
	if err == nil || !strings.Contains(err.Error(), "conf/deployment.toml:3") {
		t.Fatalf("err = %v, want one naming conf/deployment.toml:3", err)
	}
}

func TestNotAProduct(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "README"), []byte("hello"))
	_, err := New().Collect(context.Background(), target.Target{Kind: target.Directory, Dir: dir}, &collect.Env{})
	if err == nil || !strings.Contains(err.Error(), "not a WSO2 product installation: no repository/conf/deployment.toml or conf/deployment.toml") {
		t.Fatalf("err = %v", err)
	}
}

func TestMissingStartScriptOnlyErrsJVMRules(t *testing.T) {
	f, fs := scan(t, filepath.Join(fixturesDir(t), "apim-4.1.0"), target.Declared{})
	if st, ok := f.Lookup("product.jvm"); !ok || st.State != "failed" {
		t.Fatalf("product.jvm status = %+v", st)
	}
	got := statusOf(fs)
	for _, id := range []string{"TLS-008", "TLS-009"} {
		if got[id] != finding.Error {
			t.Errorf("%s = %s, want error", id, got[id])
		}
	}
	// TLS-013's PassThrough check still finds the shipped DefaultAndLocalhost.
	if got["TLS-013"] != finding.Fail {
		t.Errorf("TLS-013 = %s, want fail", got["TLS-013"])
	}
}
