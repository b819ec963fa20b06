package cli

import (
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// TestTimeoutKeepsEveryTarget: `scan --timeout` over several real TCP
// servers that accept and then never say a word. The scan ends at its
// deadline; the report lists every target, none of their rules passes,
// each one in error says why, and the exit code is 3 (incomplete), never
// 0 with an empty report.
func TestTimeoutKeepsEveryTarget(t *testing.T) {
	silent := func(c net.Conn) { _, _ = io.Copy(io.Discard, c) } // reads, never answers
	var args []string
	for range 3 {
		args = append(args, "tls://"+testenv.Serve(t, 30*time.Second, silent))
	}
	args = append([]string{"scan", "-f", "json", "--timeout", "1s", "--concurrency", "1", "--only", "TLS-*,KEY-*"}, args...)
	r := runCLI(t, nil, false, args...)
	if r.code != ExitIncomplete {
		t.Errorf("exit %d, want %d; stderr %s", r.code, ExitIncomplete, r.stderr)
	}
	var rep finding.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if len(rep.Targets) != 3 {
		t.Fatalf("%d targets in the report, want 3", len(rep.Targets))
	}
	errs := map[string]int{}
	for _, f := range rep.Findings {
		switch f.Status {
		case finding.Pass, finding.Fail:
			t.Errorf("%s %s: %s %q from a server that never answered", f.Target, f.RuleID, f.Status, f.Message)
		case finding.Error:
			errs[f.Target]++
		}
	}
	timedOut := 0
	for _, ti := range rep.Targets {
		if errs[ti.Name] == 0 {
			t.Errorf("%s: no rule in error", ti.Name)
		}
		if strings.Contains(strings.Join(ti.Errors, " "), "timed out after 1s") {
			timedOut++
		}
	}
	if timedOut < 2 {
		t.Errorf("%d targets say the scan timed out after 1s, want at least the 2 that were queued: %+v", timedOut, rep.Targets)
	}
}
