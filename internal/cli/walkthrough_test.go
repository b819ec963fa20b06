package cli

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/testenv"
)

// copyTree copies a fixture so a test can change a file of it.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	testenv.CopyTree(t, src, dst)
}

// TestReadmeWalkthrough runs the README's "Write your own rule" as it
// stands: its rule file, `rules test`, `rules lint`, and the scan that
// fails a shipped API Manager and passes a product whose deployment.toml
// sets an offset.
func TestReadmeWalkthrough(t *testing.T) {
	readme := mustRead(t, filepath.Join("..", "..", "README.md"))
	m := regexp.MustCompile("(?s)```yaml\n# my-rules/ports.yaml\n(.*?)```").FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("the README has no my-rules/ports.yaml block")
	}
	apim, is := absPath(t, fixture(t, "apim-4.1.0")), absPath(t, fixture(t, "is-7.3.0-docker-compose"))
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, dir, "my-rules/ports.yaml", m[1])

	if r := runCLI(t, nil, false, "rules", "test", "my-rules"); r.code != ExitOK || !strings.Contains(r.stdout, "1 rules, 3 tests, 0 failed") {
		t.Fatalf("rules test: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, nil, false, "rules", "lint", "my-rules"); r.code != ExitOK || !strings.Contains(r.stdout, "no problems") {
		t.Fatalf("rules lint: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, nil, false, "rules", "show", "acme-001", "--rules", "my-rules/ports.yaml"); r.code != ExitOK || !strings.Contains(r.stdout, "hardening: ACME port plan") {
		t.Fatalf("rules show: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := runCLI(t, nil, false, "scan", apim, "--rules", "my-rules/ports.yaml", "--only", "acme-001")
	if r.code != ExitFindings || !strings.Contains(r.stdout, "ACME-001") || !strings.Contains(r.stdout, "the port offset is 0") {
		t.Fatalf("scan of the shipped API Manager: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The same product family with `[server] offset = 3` passes.
	home := filepath.Join(dir, "wso2is")
	copyTree(t, is, home)
	toml := filepath.Join(home, "repository", "conf", "deployment.toml")
	conf := mustRead(t, toml)
	if !strings.Contains(conf, "[server]\n") {
		t.Fatal("the fixture has no [server] table")
	}
	writeFile(t, filepath.Dir(toml), "deployment.toml", strings.Replace(conf, "[server]\n", "[server]\noffset = 3\n", 1))
	r = runCLI(t, nil, false, "scan", home, "--rules", "my-rules", "--only", "ACME-001", "-v")
	if r.code != ExitOK || !strings.Contains(r.stdout, "port offset 3") {
		t.Fatalf("scan with an offset: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestRulesCommandLine: rule IDs in any case, "did you mean", --rules with
// a file, sources by title, shell completion of IDs, formats and profiles,
// rampart --version, and lint reporting every problem of a file at once.
func TestRulesCommandLine(t *testing.T) {
	for _, c := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"rules", "show", "tls-004"}, ExitOK, "TLS-004", ""},
		{[]string{"rules", "show", "TLS-04"}, ExitUsage, "", "no rule TLS-04; did you mean TLS-004?"},
		{[]string{"rules", "show", "SEC-001"}, ExitOK, "Production Deployment Guidelines", ""},
		{[]string{"rules", "list", "--only", "tls-00?"}, ExitOK, "TLS-009", ""},
		{[]string{"rules", "list", "--only", "SEC-01"}, ExitUsage, "", "SEC-01 did you mean SEC-001?"},
		{[]string{"--version"}, ExitOK, "rampart 0.1.0", ""},
		{[]string{"__complete", "scan", "--only", "tls-00"}, ExitOK, "TLS-001\tSSLv2 and SSLv3 are not offered", ""},
		{[]string{"__complete", "scan", "--only", "TLS-001,key-00"}, ExitOK, "TLS-001,KEY-001", ""},
		{[]string{"__complete", "rules", "show", "SEC"}, ExitOK, "SEC-002", ""},
		{[]string{"__complete", "scan", "--format", ""}, ExitOK, "table", ""},
		{[]string{"__complete", "scan", "--profile", ""}, ExitOK, "wso2-mi", ""},
		{[]string{"__complete", "scan", "--severity", ""}, ExitOK, "critical", ""},
	} {
		r := runCLI(t, nil, false, c.args...)
		if r.code != c.code || !strings.Contains(r.stdout, c.stdout) || !strings.Contains(r.stderr, c.stderr) {
			t.Errorf("%v: exit %d\nstdout %s\nstderr %s", c.args, r.code, r.stdout, r.stderr)
		}
	}
	if strings.Contains(runCLI(t, nil, false, "rules", "show", "SEC-001").stdout, "001_1ac9c93b587140e7.txt") {
		t.Error("rules show names a seed by its file")
	}
	// Lint: an unknown key, a CEL error (at its line), a missing title and
	// a missing failing test, all in one run.
	dir := t.TempDir()
	f := writeFile(t, dir, "bad.yaml", `domain: custom
rules:
  - id: CUS-001
    severity: low
    sources: ["hardening: ours"]
    checks:
      - kind: file
        requires: [product]
        assert: "product.ports.ofset != 0"
    remediaton: fix it
    tests:
      - {name: ok, facts: {product: {ports: {offset: 3}}}, status: pass}
`)
	r := runCLI(t, nil, false, "rules", "lint", f)
	if r.code != ExitFindings {
		t.Fatalf("lint: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		`unknown key "remediaton"; did you mean "remediation"?`,
		"bad.yaml:9: rule CUS-001 check 1 (file) assert:", "undefined field 'ofset'",
		"rule CUS-001: missing title",
		"CUS-001: no test expecting fail",
		"CUS-001: no remediation",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("lint output lacks %q:\n%s", want, r.stdout)
		}
	}
}
