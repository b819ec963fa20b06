package e2e

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// rampart audits itself: `rampart scan https://127.0.0.1:PORT/` against
// `rampart serve`, with every collector of the build, reports no failing
// TLS, key or HTTP rule. The generated CA is passed with --ca-bundle, as a
// client that trusts the server would, so KEY-005 (trusted CA) and KEY-006
// (name and validity) are judged against it too.
func TestSelfAudit(t *testing.T) {
	testenv.Short(t, "end-to-end test")
	dir := t.TempDir()
	p := startServe(t, dir, "listen: 127.0.0.1:0\ndata_dir: data\n")
	scan := exec.Command(binary, "scan", p.base+"/", "--ca-bundle", filepath.Join(p.dataDir, "ca.pem"), "--format", "json", "--fail-on", "none", "--timeout", "3m")
	var out, errb bytes.Buffer
	scan.Stdout, scan.Stderr = &out, &errb
	err := scan.Run()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 2 {
		t.Fatalf("scan: %v\n%s", err, errb.String())
	}
	var rep finding.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("scan output: %v\n%s", err, errb.String())
	}
	judged := map[finding.Status]int{}
	for _, f := range rep.Findings {
		if !(strings.HasPrefix(f.RuleID, "TLS-") || strings.HasPrefix(f.RuleID, "KEY-") || strings.HasPrefix(f.RuleID, "HTTP-")) {
			continue
		}
		judged[f.Status]++
		if f.Status == finding.Fail {
			t.Errorf("%s fails against rampart serve: %s", f.RuleID, f.Message)
		}
		if f.Status == finding.Error {
			t.Logf("%s could not be judged: %s", f.RuleID, f.Message)
		}
	}
	if judged[finding.Pass] < 8 {
		t.Errorf("only %d TLS/KEY/HTTP rules passed (%v); the probes did not reach the server", judged[finding.Pass], judged)
	}
	want := map[string]finding.Status{"TLS-001": finding.Pass, "TLS-002": finding.Pass, "TLS-004": finding.Pass, "TLS-005": finding.Pass,
		"KEY-001": finding.Pass, "KEY-002": finding.Pass, "KEY-003": finding.Pass, "KEY-005": finding.Pass, "HTTP-001": finding.Pass, "HTTP-002": finding.Pass}
	for _, f := range rep.Findings {
		if w, ok := want[f.RuleID]; ok && f.Status != w {
			t.Errorf("%s = %s (%s); want %s", f.RuleID, f.Status, f.Message, w)
		}
	}
	t.Logf("TLS/KEY/HTTP rules against rampart serve: %v", judged)
}
