package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/finding"
)

func reportJSON(t *testing.T, role string, open []string, st finding.Status) string {
	t.Helper()
	r := &finding.Report{SchemaVersion: finding.SchemaVersion,
		Targets:  []finding.TargetInfo{{Name: "node1", Kind: "node", Role: role, OpenPorts: open}},
		Findings: []finding.Finding{{RuleID: "NET-003", Title: "JMX", Target: "node1", Status: st, Severity: finding.High}}}
	r.Finalize()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDiffCommand(t *testing.T) {
	dir := t.TempDir()
	dmz := writeFile(t, dir, "dmz.json", reportJSON(t, "dmz", []string{"443/https"}, finding.Pass))
	dmz2 := writeFile(t, dir, "dmz2.json", reportJSON(t, "dmz", []string{"443/https"}, finding.Pass))
	internal := writeFile(t, dir, "internal.json", reportJSON(t, "internal", []string{"443/https", "9999/jmx"}, finding.Fail))
	garbage := writeFile(t, dir, "garbage.json", "<html>not a report</html>")
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"identical", []string{"diff", dmz, dmz2}, ExitOK, "identical", ""},
		{"differ", []string{"diff", dmz, internal}, ExitFindings, "open only from B: 9999/jmx", ""},
		{"differ json", []string{"diff", dmz, internal, "-f", "json"}, ExitFindings, `"portsOnlyB": [`, ""},
		{"not a report", []string{"diff", dmz, garbage}, ExitUsage, "", "not a rampart JSON report"},
		{"missing file", []string{"diff", dmz, dir + "/nope.json"}, ExitUsage, "", "no such file"},
		{"one argument", []string{"diff", dmz}, ExitUsage, "", "needs two reports"},
		{"bad format", []string{"diff", dmz, dmz2, "-f", "sarif"}, ExitUsage, "", "--format"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, nil, false, c.args...)
			if r.code != c.code || !strings.Contains(r.stdout, c.stdout) || !strings.Contains(r.stderr, c.stderr) {
				t.Errorf("code %d (want %d)\nstdout: %s\nstderr: %s", r.code, c.code, r.stdout, r.stderr)
			}
		})
	}
}
