package cli

import (
	"encoding/json"
	"net"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// TestFleetJSONFromSpill: a JSON scan of more than a few targets keeps
// the findings in a temporary file until the report is written. Its
// findings, summary and scores are those of scanning each target alone
// (findings held in memory), its exit code still sees the errors, and the
// waiver checks still see the targets judged.
func TestFleetJSONFromSpill(t *testing.T) {
	var addrs []string
	for range smallScan + 1 {
		addrs = append(addrs, testenv.Serve(t, 20*time.Second, func(net.Conn) {}))
	}
	w := writeFile(t, t.TempDir(), "w.yaml", `waivers:
  - {rule: TLS-002, target: "nowhere:1", reason: r, by: me, expires: 2030-01-01}
`)
	only := "TLS-002,HTTP-001"
	args := append([]string{"scan", "-f", "json", "--only", only, "--waivers", w}, addrs...)
	r := runCLI(t, nil, false, args...)
	if r.code != ExitIncomplete {
		t.Fatalf("exit %d, want %d (rules in error)\n%s", r.code, ExitIncomplete, r.stderr)
	}
	if !strings.Contains(r.stderr, filepath.Base(w)+":2: waiver of TLS-002 matched nothing: target \"nowhere:1\" is none of") {
		t.Errorf("no unused-waiver warning:\n%s", r.stderr)
	}
	var fleet finding.Report
	if err := json.Unmarshal([]byte(r.stdout), &fleet); err != nil {
		t.Fatalf("report: %v\n%s", err, r.stdout)
	}
	var want []finding.Finding
	var targets []finding.TargetInfo
	for _, a := range addrs {
		one := runCLI(t, nil, false, "scan", "-f", "json", "--only", only, a)
		var rep finding.Report
		if err := json.Unmarshal([]byte(one.stdout), &rep); err != nil {
			t.Fatalf("report of %s: %v", a, err)
		}
		want = append(want, rep.Findings...)
		targets = append(targets, rep.Targets...)
	}
	sort.SliceStable(targets, func(i, j int) bool { return targets[i].Name < targets[j].Name })
	sort.SliceStable(want, func(i, j int) bool { return want[i].Target < want[j].Target })
	if len(fleet.Findings) != 2*len(addrs) || !reflect.DeepEqual(fleet.Findings, want) {
		t.Errorf("fleet findings differ from each target's own (%d, want %d)", len(fleet.Findings), len(want))
	}
	if !reflect.DeepEqual(fleet.Targets, targets) {
		t.Errorf("targets differ:\n%+v\n%+v", fleet.Targets, targets)
	}
	if fleet.Summary.Total != len(want) || fleet.Summary.ByStatus[finding.Error] == 0 {
		t.Errorf("summary %+v", fleet.Summary)
	}
}
