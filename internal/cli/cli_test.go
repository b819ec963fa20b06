package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/testenv"
)

var testClock = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// fixture returns the path of a shared WSO2 fixture (the real default
// files of a product).
func fixture(t *testing.T, name string) string {
	t.Helper()
	return testenv.WSO2Fixture(t, name)
}

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, env map[string]string, tty bool, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	d := defaultDeps()
	d.now = func() time.Time { return testClock }
	d.getenv = func(k string) string { return env[k] }
	d.isTerminal = func(io.Writer) bool { return tty }
	code := run(context.Background(), args, &out, &errb, d)
	return result{code, out.String(), errb.String()}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExitCodes(t *testing.T) {
	apim := fixture(t, "apim-4.1.0")
	notProduct := t.TempDir()
	writeFile(t, notProduct, "README.txt", "not a product")
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring expected on stdout
		stderr string // substring expected on stderr
	}{
		{"version", []string{"version"}, ExitOK, "rampart 0.1.0", ""},
		{"failing finding", []string{"scan", apim, "--only", "SEC-001"}, ExitFindings, "SEC-001", ""},
		{"fail-on none", []string{"scan", apim, "--only", "SEC-001", "--fail-on", "none"}, ExitOK, "SEC-001", ""},
		{"below threshold", []string{"scan", apim, "--only", "NET-002", "--fail-on", "medium"}, ExitOK, "NET-002", ""},
		{"at threshold", []string{"scan", apim, "--only", "NET-002", "--fail-on", "low"}, ExitFindings, "NET-002", ""},
		{"incomplete: no start script in the fixture", []string{"scan", apim, "--only", "TLS-008"}, ExitIncomplete, "no start script", ""},
		{"not a product home", []string{"scan", notProduct, "--only", "SEC-001"}, ExitUsage, "", "not a product home"},
		{"the repository/ of a product home", []string{"scan", filepath.Join(apim, "repository"), "--only", "SEC-001"}, ExitUsage, "", "did you mean " + absPath(t, apim) + "?"},
		{"ambiguous IPv6 address and port", []string{"scan", "::1:9443"}, ExitUsage, "", "[::1]:9443"},
		{"unknown format", []string{"scan", apim, "--format", "yaml"}, ExitUsage, "", "text, table, json, sarif, junit"},
		{"unknown flag", []string{"scan", "--bogus"}, ExitUsage, "", "unknown flag"},
		{"unknown command", []string{"frobnicate"}, ExitUsage, "", "unknown command"},
		{"bad fail-on", []string{"scan", apim, "--fail-on", "severe"}, ExitUsage, "", "--fail-on"},
		{"unknown rule in --only", []string{"scan", apim, "--only", "NOPE-001"}, ExitUsage, "", "NOPE-001"},
		{"bad role", []string{"scan", apim, "--role", "dmzz"}, ExitUsage, "", "--role"},
		{"missing target", []string{"scan", "/does/not/exist/anywhere"}, ExitUsage, "", "neither an existing directory"},
		{"rules test", []string{"rules", "test"}, ExitOK, "0 failed", ""},
		{"rules lint", []string{"rules", "lint"}, ExitOK, "no problems", ""},
		{"rules show", []string{"rules", "show", "TLS-004"}, ExitOK, "remediation:", ""},
		{"rules show unknown", []string{"rules", "show", "TLS-999"}, ExitUsage, "", "no rule TLS-999"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, nil, false, c.args...)
			if r.code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, c.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, c.stdout) {
				t.Errorf("stdout lacks %q:\n%s", c.stdout, r.stdout)
			}
			if !strings.Contains(r.stderr, c.stderr) {
				t.Errorf("stderr lacks %q:\n%s", c.stderr, r.stderr)
			}
			if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
				t.Errorf("panic on stderr:\n%s", r.stderr)
			}
		})
	}
}

// TestBadInput: every malformed input a user can hand rampart gets a clear
// error naming the file (and line) and exit code 2, never a panic.
func TestBadInput(t *testing.T) {
	apim := fixture(t, "apim-4.1.0")
	dir := t.TempDir()
	rule := func(name, assert string) string {
		d := filepath.Join(dir, name)
		writeFile(t, d, "custom.yaml", `domain: custom
rules:
  - id: CUS-001
    title: A custom rule
    severity: low
    sources: ["hardening: ours"]
    checks:
      - kind: file
        requires: [product]
        assert: "`+assert+`"
    remediation: fix it
    tests:
      - {name: ok, facts: {product: {hostname: {value: a.example.com, set: true}}}, status: pass}
      - {name: bad, facts: {product: {hostname: {value: localhost, set: true}}}, status: fail}
`)
		return d
	}
	syntax := rule("syntax", "product.hostname.value ==")
	unknownFact := rule("unknownfact", "product.hostnme.value != 'localhost'")
	wrongType := rule("wrongtype", "product.hostname.value")
	good := rule("good", "product.hostname.value != 'localhost'")
	dup := filepath.Join(dir, "dup")
	writeFile(t, dup, "dup.yaml", "domain: x\nrules:\n  - id: TLS-001\n    title: t\n    severity: low\n    checks: [{kind: manual, message: m}]\n")
	unknownKey := filepath.Join(dir, "unknownkey")
	writeFile(t, unknownKey, "k.yaml", "domain: x\nrules:\n  - id: CUS-002\n    titel: t\n")
	waivers := writeFile(t, dir, "waivers.yaml", "waivers:\n  - rule: SEC-001\n    reason: r\n    by: me\n    expires: next week\n")
	waiverUnknownRule := writeFile(t, dir, "waivers2.yaml", "waivers:\n  - rule: SEC-999\n    reason: r\n    by: me\n    expires: 2027-01-01\n")
	waiverYAML := writeFile(t, dir, "waivers3.yaml", "waivers: [rule: x\n")
	invBad := writeFile(t, dir, "inv.yaml", "targets:\n  - name: a\n    address: 10.0.0.1\n    role: dmzz\n    expected_ports: [70000]\n  - name: b\n")
	invUnknown := writeFile(t, dir, "inv2.yaml", "targets:\n  - name: a\n    adress: 10.0.0.1\n")
	invEmpty := writeFile(t, dir, "inv3.yaml", "")
	invTab := writeFile(t, dir, "inv4.yaml", "targets:\n  - name: a\n\t  address: 10.0.0.1\n")
	waiverNearRule := writeFile(t, dir, "waivers4.yaml", "waivers:\n  - rule: SEC-01\n    reason: r\n    by: me\n    expires: 2027-01-01\n")
	waiverKey := writeFile(t, dir, "waivers5.yaml", "waivers:\n  - rule: SEC-001\n    reason: r\n    by: me\n    expire: 2027-01-01\n")

	cases := []struct {
		name   string
		args   []string
		stderr []string
	}{
		{"CEL syntax error", []string{"scan", apim, "--rules", syntax}, []string{"custom.yaml:10: rule CUS-001 check 1 (file) assert:", "Syntax error"}},
		{"unknown fact", []string{"scan", apim, "--rules", unknownFact}, []string{"custom.yaml:10:", "undefined field 'hostnme'"}},
		{"assert not bool", []string{"scan", apim, "--rules", wrongType}, []string{"want bool"}},
		{"duplicate rule ID", []string{"scan", apim, "--rules", dup}, []string{"TLS-001 already defined"}},
		{"unknown rule key", []string{"rules", "test", unknownKey}, []string{`line 4: unknown key "titel"; did you mean "title"?`}},
		{"rules dir missing", []string{"scan", apim, "--rules", filepath.Join(dir, "nope")}, []string{"--rules"}},
		{"waiver bad date", []string{"scan", apim, "--waivers", waivers}, []string{"waivers.yaml:2", "YYYY-MM-DD"}},
		{"waiver unknown rule", []string{"scan", apim, "--waivers", waiverUnknownRule}, []string{"unknown rule \"SEC-999\""}},
		{"waiver malformed YAML", []string{"scan", apim, "--waivers", waiverYAML}, []string{"waivers3.yaml"}},
		{"attestations in a waiver file", []string{"scan", apim, "--attestations", waivers}, []string{"waivers.yaml"}},
		{"inventory invalid", []string{"scan", "@" + invBad}, []string{"inv.yaml:2", "role \"dmzz\"", "70000", "inv.yaml:6", "needs an address"}},
		{"inventory unknown field", []string{"scan", "@" + invUnknown}, []string{`line 3: unknown key "adress"; did you mean "address"?`}},
		{"inventory indented with a tab", []string{"scan", "@" + invTab}, []string{"inv4.yaml", "line 3 is indented with a tab"}},
		{"waiver unknown rule, near a known one", []string{"scan", apim, "--waivers", waiverNearRule}, []string{`unknown rule "SEC-01"; did you mean SEC-001?`}},
		{"waiver unknown key", []string{"scan", apim, "--waivers", waiverKey}, []string{`line 5: unknown key "expire"; did you mean "expires"?`}},
		{"inventory empty", []string{"scan", "@" + invEmpty}, []string{"empty"}},
		{"inventory missing", []string{"scan", "@" + filepath.Join(dir, "none.yaml")}, []string{"none.yaml"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, nil, false, c.args...)
			if r.code != ExitUsage {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", r.code, ExitUsage, r.stderr)
			}
			for _, want := range c.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
		})
	}
	// The good custom rule loads, runs its own tests, and judges the fixture.
	if r := runCLI(t, nil, false, "rules", "test", good); r.code != ExitOK || !strings.Contains(r.stdout, "1 rules, 2 tests, 0 failed") {
		t.Fatalf("rules test %s: exit %d\n%s%s", good, r.code, r.stdout, r.stderr)
	}
	r := runCLI(t, nil, false, "scan", apim, "--rules", good, "--only", "CUS-001", "-f", "json")
	if r.code != ExitFindings || !strings.Contains(r.stdout, `"rule": "CUS-001"`) || !strings.Contains(r.stdout, `"status": "fail"`) {
		t.Fatalf("custom rule on the fixture: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A failing inline test makes `rules test` exit 1 and say where.
	failing := filepath.Join(dir, "failing")
	writeFile(t, failing, "f.yaml", strings.Replace(mustRead(t, filepath.Join(good, "custom.yaml")), "status: fail", "status: pass", 1))
	if r := runCLI(t, nil, false, "rules", "test", failing); r.code != ExitFindings || !strings.Contains(r.stdout, "FAIL") || !strings.Contains(r.stdout, "want pass, got fail") {
		t.Fatalf("failing rule test: exit %d\n%s", r.code, r.stdout)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCatalogComplete: `rules list --format json` lists exactly the rule
// IDs of the catalog, ../shared/spec/guidelines.md.
func TestCatalogComplete(t *testing.T) {
	spec := mustRead(t, filepath.Join(testenv.Shared(t), "spec", "guidelines.md"))
	var want []string
	for _, m := range regexp.MustCompile(`(?m)^\| ([A-Z]+-[0-9]{3}) \|`).FindAllStringSubmatch(spec, -1) {
		want = append(want, m[1])
	}
	if len(want) != 69 {
		t.Fatalf("the catalog has %d IDs, expected 69", len(want))
	}
	r := runCLI(t, nil, false, "rules", "list", "--format", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var list []struct {
		ID          string   `json:"id"`
		Checks      []string `json:"checks"`
		Remediation string   `json:"remediation"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range list {
		got = append(got, l.ID)
		if l.Remediation == "" || len(l.Checks) == 0 {
			t.Errorf("%s: no remediation or checks", l.ID)
		}
	}
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("rule IDs differ from the catalog:\ngot  %v\nwant %v", got, want)
	}
}

func TestWaiversAndAttestations(t *testing.T) {
	apim := fixture(t, "apim-4.1.0")
	dir := t.TempDir()
	w := writeFile(t, dir, "w.yaml", `waivers:
  - rule: SEC-001
    target: "*apim-4.1.0"
    reason: vault migration planned for Q1
    by: alice@example.com
    expires: 2027-03-31
  - rule: NET-007
    reason: expired
    by: bob@example.com
    expires: 2026-01-01
`)
	a := writeFile(t, dir, "a.yaml", `attestations:
  - rule: LOG-003
    evidence: SIEM ticket 42
    by: carol@example.com
    expires: 2027-01-01
`)
	r := runCLI(t, nil, false, "scan", apim, "--only", "SEC-001,NET-007,LOG-003", "--waivers", w, "--attestations", a, "-f", "json")
	if r.code != ExitFindings {
		t.Fatalf("exit %d (NET-007's waiver expired, so it still fails)\n%s", r.code, r.stderr)
	}
	var rep struct {
		Findings []struct {
			Rule, Status, Message string
			Exception             *struct{ Expired bool }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range rep.Findings {
		got[f.Rule] = f.Status
		if f.Rule == "NET-007" && (f.Exception == nil || !f.Exception.Expired || !strings.Contains(f.Message, "expired on 2026-01-01")) {
			t.Errorf("NET-007 should record its expired waiver: %+v", f)
		}
	}
	want := map[string]string{"SEC-001": "waived", "NET-007": "fail", "LOG-003": "attested"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
}

func TestColorAndOutputFile(t *testing.T) {
	apim := fixture(t, "apim-4.1.0")
	if r := runCLI(t, nil, true, "scan", apim, "--only", "SEC-001"); !strings.Contains(r.stdout, "\x1b[31m") {
		t.Error("no colour on a terminal")
	}
	if r := runCLI(t, map[string]string{"NO_COLOR": "1"}, true, "scan", apim, "--only", "SEC-001"); strings.Contains(r.stdout, "\x1b[") {
		t.Error("colour despite NO_COLOR")
	}
	out := filepath.Join(t.TempDir(), "r.sarif")
	r := runCLI(t, nil, true, "scan", apim, "--only", "SEC-001", "-f", "sarif", "-o", out)
	if r.code != ExitFindings || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	if b := mustRead(t, out); !strings.Contains(b, `"version": "2.1.0"`) || strings.Contains(b, "\x1b[") {
		t.Fatalf("bad SARIF file:\n%s", b)
	}
}

func TestFactsCommand(t *testing.T) {
	r := runCLI(t, nil, false, "facts", fixture(t, "is-7.1.0"))
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var f struct {
		Target  struct{ Kind string }
		Product struct {
			Profile, Version string
			Secrets          []struct{ Form string }
			Settings         map[string]struct{ Key, Value string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &f); err != nil {
		t.Fatal(err)
	}
	if f.Target.Kind != "directory" || f.Product.Profile != "wso2-is" || f.Product.Version == "" || len(f.Product.Secrets) == 0 {
		t.Fatalf("unexpected facts: %+v", f)
	}
	// Secrets never appear: every secret-named setting is redacted or a
	// reference, so the fixture's default passwords are not printed.
	checked := 0
	for k, s := range f.Product.Settings {
		if !facts.IsSecretKey(k) || s.Value == "" {
			continue
		}
		checked++
		if s.Value != facts.Redacted && !strings.HasPrefix(s.Value, "$secret{") && !strings.HasPrefix(s.Value, "$env{") {
			t.Errorf("facts print the secret %s = %q", k, s.Value)
		}
	}
	if checked == 0 {
		t.Fatal("no secret setting found to check: the fixture has default passwords")
	}
}

// absPath is the cleaned absolute path rampart names a directory by.
func absPath(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
