package cli

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// TestDroppingEndpointIsIncomplete: a host:port whose server accepts and
// closes every connection without a byte (a server dropping connections
// under load or on purpose) must not leave the scan all clear. Every TLS,
// HTTP and SSH rule is an error naming the drop, and the exit code says
// the scan could not tell everything (3), not 0.
func TestDroppingEndpointIsIncomplete(t *testing.T) {
	addr := testenv.Serve(t, 10*time.Second, func(net.Conn) {})
	r := runCLI(t, nil, false, "scan", addr, "-f", "json", "--only", "TLS-00*,KEY-00*,HTTP-00*,SSH-00*")
	if r.code != ExitIncomplete {
		t.Errorf("exit %d, want %d (incomplete)\n%s", r.code, ExitIncomplete, r.stderr)
	}
	var rep finding.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, r.stdout)
	}
	seen := map[string]bool{}
	for _, f := range rep.Findings {
		domain, _, _ := strings.Cut(f.RuleID, "-")
		if f.Status == finding.Pass || f.Status == finding.Fail {
			t.Errorf("%s %s (%s): a server that answered nothing", f.RuleID, f.Status, f.Message)
		}
		if f.Status == finding.Error && strings.Contains(f.Message, "drops connections") {
			seen[domain] = true
		}
	}
	for _, d := range []string{"TLS", "KEY", "HTTP", "SSH"} {
		if !seen[d] {
			t.Errorf("no %s rule is an error naming the drop", d)
		}
	}
}
