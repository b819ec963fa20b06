package rules_test

import (
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/rules"
)

const customRule = `domain: custom
rules:
  - id: CUS-001
    title: hostname set
    severity: low
    sources: ["hardening: ours"]
    checks:
      - kind: file
        requires: [product]
        assert: "product.hostname.value != 'localhost'"
        message: "'hostname is ' + product.hostname.value"
    remediation: set it
    tests:
      - {name: ok, facts: {product: {hostname: {value: a}}}, status: pass}
      - {name: bad, facts: {product: {hostname: {value: localhost}}}, status: fail}
`

func load(t *testing.T, files map[string]string) (*rules.Set, error) {
	t.Helper()
	m := fstest.MapFS{}
	for k, v := range files {
		m[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return rules.Load(rules.Source{Name: "custom", FS: m})
}

// TestAllProblemsReportedTogether: a rule author sees every compile error
// at once, each with its file and line.
func TestAllProblemsReportedTogether(t *testing.T) {
	bad := strings.Replace(customRule, "product.hostname.value != 'localhost'", "product.hostname.value !=", 1)
	bad2 := strings.Replace(strings.Replace(customRule, "CUS-001", "CUS-002", 1), "product.hostname.value != 'localhost'", "product.nope == 1", 1)
	_, err := load(t, map[string]string{"a.yaml": bad, "b.yaml": bad2})
	le, ok := err.(*rules.LoadError)
	if !ok || len(le.Problems) != 2 {
		t.Fatalf("want 2 problems, got %v", err)
	}
	// The line is the expression's (assert: on line 10), not the rule's.
	if !strings.Contains(le.Problems[0], "custom/a.yaml:10:") || !strings.Contains(le.Problems[1], "custom/b.yaml:10:") || !strings.Contains(le.Problems[1], "undefined field 'nope'") {
		t.Fatalf("problems lack file:line: %q", le.Problems)
	}
}

// TestExpressionLines: a CEL error points at the line of the expression
// inside the YAML, also inside a block scalar and an evidence list.
func TestExpressionLines(t *testing.T) {
	src := `domain: custom
rules:
  - id: CUS-001
    title: t
    severity: low
    checks:
      - kind: file
        requires: [product]
        when: "true"
        assert: |
          product.hostname.value != 'localhost' &&
          product.hostnme.value != ''
        message: "'x'"
        evidence:
          - product.hostname
          - product.nope
    remediation: r
`
	_, err := load(t, map[string]string{"c.yaml": src})
	le, ok := err.(*rules.LoadError)
	if !ok || len(le.Problems) != 2 {
		t.Fatalf("want 2 problems, got %v", err)
	}
	if !strings.HasPrefix(le.Problems[0], "custom/c.yaml:12: rule CUS-001 check 1 (file) assert:") || !strings.HasPrefix(le.Problems[1], "custom/c.yaml:16: rule CUS-001 check 1 (file) evidence[1]:") {
		t.Fatalf("%q", le.Problems)
	}
}

// TestLoadAllKeepsGoing: an unknown key, a rule without checks and a CEL
// error in one file are all reported, and the rules are still returned.
func TestLoadAllKeepsGoing(t *testing.T) {
	src := strings.Replace(customRule, "    remediation: set it\n", "    remediaton: set it\n", 1)
	src = strings.Replace(src, "product.hostname.value != 'localhost'", "product.hostnme.value != 'localhost'", 1)
	m := fstest.MapFS{"a.yaml": &fstest.MapFile{Data: []byte(src)}}
	set, probs := rules.LoadAll(rules.Source{Name: "custom", FS: m})
	joined := strings.Join(probs, "\n")
	if len(probs) != 2 || !strings.Contains(joined, `unknown key "remediaton"; did you mean "remediation"?`) || !strings.Contains(joined, "undefined field 'hostnme'") {
		t.Fatalf("%q", probs)
	}
	if _, ok := set.Get("CUS-001"); !ok {
		t.Fatal("the rule was dropped")
	}
}

func TestStructuralProblems(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{strings.Replace(customRule, "CUS-001", "cus1", 1), "id must look like"},
		{strings.Replace(customRule, "severity: low", "severity: severe", 1), "unknown severity"},
		{strings.Replace(customRule, "kind: file", "kind: disk", 1), "unknown kind"},
		{strings.Replace(customRule, "requires: [product]", "requires: [tls]", 1), "cannot require \"tls\""},
		{strings.Replace(customRule, "status: fail", "status: failed", 1), "unknown status"},
		{strings.Replace(customRule, "domain: custom\n", "", 1), "missing domain"},
		{"", "empty rule file"},
		{"domain: x\nrules: {}\n", "cannot unmarshal"},
	} {
		_, err := load(t, map[string]string{"r.yaml": c.yaml})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want %q, got %v", c.want, err)
		}
	}
}

// TestCustomRulesHaveACostLimit: an untrusted rule that would run away ends
// in error, in bounded time.
func TestCustomRulesHaveACostLimit(t *testing.T) {
	runaway := strings.Replace(customRule, "product.hostname.value != 'localhost'",
		"lists.range(3000).all(i, lists.range(3000).all(j, i + j >= 0))", 1)
	set, err := load(t, map[string]string{"r.yaml": runaway})
	if err != nil {
		t.Fatal(err)
	}
	f := &facts.Facts{Target: facts.Target{Name: "x"}, Product: &facts.Product{}}
	got := rules.Judge(set.Rules(), rules.Input{Facts: f, Offers: map[string]bool{"file": true}})[0]
	if got.Status != finding.Error || !strings.Contains(got.Message, "cost") {
		t.Fatalf("want an error about cost, got %s: %s", got.Status, got.Message)
	}
}

// TestEvaluationErrorIsAnError: a runtime failure (a missing map key) is an
// error finding, never a pass or a crash.
func TestEvaluationErrorIsAnError(t *testing.T) {
	r := strings.Replace(customRule, "product.hostname.value != 'localhost'", "product.settings['missing'].value == 'x'", 1)
	set, err := load(t, map[string]string{"r.yaml": r})
	if err != nil {
		t.Fatal(err)
	}
	f := &facts.Facts{Target: facts.Target{Name: "x"}, Product: &facts.Product{}}
	got := rules.Judge(set.Rules(), rules.Input{Facts: f, Offers: map[string]bool{"file": true}})[0]
	if got.Status != finding.Error || !strings.Contains(got.Message, "missing") {
		t.Fatalf("got %s: %s", got.Status, got.Message)
	}
}

func TestNamespaceStates(t *testing.T) {
	set, err := load(t, map[string]string{"r.yaml": customRule})
	if err != nil {
		t.Fatal(err)
	}
	judge := func(f *facts.Facts) finding.Finding {
		f.Target.Name = "x"
		return rules.Judge(set.Rules(), rules.Input{Facts: f, Offers: map[string]bool{"file": true}})[0]
	}
	if got := judge(&facts.Facts{Status: map[string]facts.Status{"product": {State: facts.Unavailable}}}); got.Status != finding.Error || !strings.Contains(got.Message, "collector not available") {
		t.Errorf("unavailable: %s %s", got.Status, got.Message)
	}
	if got := judge(&facts.Facts{Status: map[string]facts.Status{"product": {State: facts.Failed, Reason: "deployment.toml: line 3: bad"}}}); got.Status != finding.Error || !strings.Contains(got.Message, "line 3") {
		t.Errorf("failed: %s %s", got.Status, got.Message)
	}
	if got := judge(&facts.Facts{Status: map[string]facts.Status{"product": {State: facts.Absent}}}); got.Status != finding.NotApplicable {
		t.Errorf("absent: %s %s", got.Status, got.Message)
	}
	// A target that offers no file evidence: not applicable, not error.
	f := &facts.Facts{Target: facts.Target{Name: "x"}, Product: &facts.Product{}}
	if got := rules.Judge(set.Rules(), rules.Input{Facts: f, Offers: map[string]bool{"probe": true}})[0]; got.Status != finding.NotApplicable {
		t.Errorf("not offered: %s", got.Status)
	}
	// Fingerprints are stable across runs and statuses, distinct across targets.
	a := judge(&facts.Facts{Product: &facts.Product{Hostname: facts.Setting{Value: "localhost"}}})
	b := judge(&facts.Facts{Product: &facts.Product{Hostname: facts.Setting{Value: "a.example.com"}}})
	if a.Fingerprint != b.Fingerprint || a.Status == b.Status {
		t.Errorf("fingerprint should follow target and rule only: %s/%s", a.Fingerprint, b.Fingerprint)
	}
	c := rules.Judge(set.Rules(), rules.Input{Facts: &facts.Facts{Target: facts.Target{Name: "y"}, Product: &facts.Product{}}, Offers: map[string]bool{"file": true}})[0]
	if c.Fingerprint == a.Fingerprint {
		t.Error("two targets share a fingerprint")
	}
}

// FuzzLoad: a rule file that loads judges to one finding per rule, in
// the rules' order, each with a valid status and severity, and the same
// findings every time (judging is a function of the facts).
func FuzzLoad(f *testing.F) {
	f.Add(customRule)
	f.Add("domain: x\nrules:\n  - id: X-001\n    title: t\n    severity: info\n    checks: [{kind: manual, message: m}]\n")
	f.Add("domain: x\nrules: [{id: X-002, checks: [{kind: probe, requires: [tls], assert: \"size(tls.versions) > 0\"}]}]")
	f.Fuzz(func(t *testing.T, s string) {
		set, err := rules.Load(rules.Source{Name: "fuzz", FS: fstest.MapFS{"r.yaml": &fstest.MapFile{Data: []byte(s)}}})
		if err != nil {
			return
		}
		rules.RunTests(set.Rules())
		in := rules.Input{Facts: &facts.Facts{Product: &facts.Product{}, TLS: &facts.TLS{}}, Offers: map[string]bool{"file": true, "probe": true}}
		fs := rules.Judge(set.Rules(), in)
		if len(fs) != len(set.Rules()) {
			t.Fatalf("%d findings for %d rules", len(fs), len(set.Rules()))
		}
		for i, fd := range fs {
			if fd.RuleID != set.Rules()[i].ID {
				t.Fatalf("finding %d is of %s, rule %d is %s", i, fd.RuleID, i, set.Rules()[i].ID)
			}
			if _, err := finding.ParseStatus(string(fd.Status)); err != nil || fd.Severity < finding.Info || fd.Severity > finding.Critical {
				t.Fatalf("finding %+v", fd)
			}
		}
		if again := rules.Judge(set.Rules(), in); !reflect.DeepEqual(fs, again) {
			t.Fatalf("judged twice, different findings:\n%+v\n%+v", fs, again)
		}
	})
}
