package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// exitRules are custom rules whose verdict on any product home is fixed,
// so the exit-code table does not depend on what the built-in rules make
// of a fixture.
const exitRules = `domain: custom
rules:
  - id: CUS-101
    title: Always passes
    severity: high
    checks: [{kind: file, requires: [product], assert: "true"}]
    remediation: none
  - id: CUS-102
    title: Always fails, low
    severity: low
    checks: [{kind: file, requires: [product], assert: "false", message: "'low failure'"}]
    remediation: none
  - id: CUS-103
    title: Always fails, high
    severity: high
    checks: [{kind: file, requires: [product], assert: "false", message: "'high failure'"}]
    remediation: none
  - id: CUS-104
    title: Never determinable
    severity: medium
    checks: [{kind: file, requires: [product], assert: "true", errors: "['cannot tell: test rule']"}]
    remediation: none
`

// TestExitCodeTable: the exit code for every combination of what the scan
// found (pass, low or high failure, error) and the flags that decide it.
func TestExitCodeTable(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules")
	writeFile(t, rules, "exit.yaml", exitRules)
	home := fixture(t, "mi-4.3.0")
	for _, c := range []struct {
		only string
		args []string
		code int
	}{
		{"CUS-101", nil, ExitOK},
		{"CUS-102", nil, ExitFindings},
		{"CUS-102", []string{"--fail-on", "medium"}, ExitOK},
		{"CUS-103", []string{"--fail-on", "high"}, ExitFindings},
		{"CUS-103", []string{"--fail-on", "critical"}, ExitOK},
		{"CUS-103", []string{"--fail-on", "none"}, ExitOK},
		{"CUS-101,CUS-104", nil, ExitIncomplete},
		{"CUS-102,CUS-104", []string{"--fail-on", "medium"}, ExitIncomplete},
		{"CUS-103,CUS-104", []string{"--fail-on", "high"}, ExitFindings},
		{"CUS-104", []string{"--fail-on", "none"}, ExitOK},
		{"CUS-103,CUS-104", []string{"--fail-on", "none"}, ExitOK},
		{"CUS-104", []string{"--error-exit-code", "7"}, 7},
		{"CUS-104", []string{"--error-exit-code", "0"}, ExitOK},
		{"CUS-102,CUS-104", []string{"--error-exit-code", "7"}, ExitFindings},
		{"CUS-104", []string{"--fail-on", "none", "--error-exit-code", "7"}, ExitOK},
		{"CUS-101", []string{"--error-exit-code", "200"}, ExitUsage},
		{"CUS-101", []string{"--error-exit-code", "-1"}, ExitUsage},
	} {
		args := append([]string{"scan", home, "--rules", rules, "--only", c.only}, c.args...)
		r := runCLI(t, nil, false, args...)
		if r.code != c.code {
			t.Errorf("--only %s %v: exit %d, want %d\n%s%s", c.only, c.args, r.code, c.code, r.stdout, r.stderr)
		}
		// Errors are shown whatever the exit code.
		if strings.Contains(c.only, "CUS-104") && c.code != ExitUsage && !strings.Contains(r.stdout, "cannot tell: test rule") {
			t.Errorf("--only %s %v: the error is not shown:\n%s", c.only, c.args, r.stdout)
		}
	}
}
