package metrics

import (
	"bufio"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/store"
)

// Every line is a comment or a valid sample, and the values add up.
func TestExposition(t *testing.T) {
	m := New()
	at := time.Unix(1700000000, 0)
	m.ScanDone("schedule:nightly", 12*time.Second, true, at)
	m.ScanDone("schedule:nightly", 400*time.Second, true, at)
	m.Health(store.HealthSample{Target: `gw "1"`, URL: "https://127.0.0.1:1/healthz", LatencyMS: 42, OK: true})
	m.Alert("ops", "new_failure", "failed")
	m.Alert("ops", "new_failure", "delivered")
	m.Alert("gone", "fixed", "dead")
	ts := store.TargetState{Name: "gw", ByStatus: map[finding.Status]int{finding.Fail: 3, finding.Pass: 10}, FailBySeverity: map[string]int{"high": 2, "low": 1}}
	var b strings.Builder
	if err := m.Write(&b, Fleet{Targets: []store.TargetState{ts}, Outbox: store.OutboxStats{Pending: 1, Dead: 3, Discarded: 1, DeadBy: map[string]int{"gone": 2, "removed": 1}}}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	line := regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+0-9.eE]+|NaN|\+Inf$`)
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "# HELP ") || strings.HasPrefix(l, "# TYPE ") {
			continue
		}
		if !line.MatchString(l) {
			t.Errorf("bad exposition line %q", l)
		}
	}
	for _, want := range []string{
		`rampart_findings{status="fail"} 3`,
		`rampart_failing_findings{severity="high"} 2`,
		`rampart_scan_duration_seconds_bucket{source="schedule:nightly",le="15"} 1`,
		`rampart_scan_duration_seconds_bucket{source="schedule:nightly",le="+Inf"} 2`,
		`rampart_scan_duration_seconds_sum{source="schedule:nightly"} 412`,
		`rampart_endpoint_latency_seconds{target="gw \"1\"",url="https://127.0.0.1:1/healthz"} 0.042`,
		`rampart_alert_deliveries_total{destination="ops",kind="new_failure",result="failed"} 1`,
		`rampart_alert_outbox{state="pending"} 1`,
		`rampart_alert_outbox{state="dead"} 3`,
		`rampart_alert_outbox{state="discarded"} 1`,
		`rampart_alert_dead_letters{destination="gone"} 2`,
		`rampart_alert_dead_letters{destination="removed"} 1`,
		`rampart_alert_deliveries_total{destination="gone",kind="fixed",result="dead"} 1`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

// The fleet's totals are written always, the per-target series only when
// the targets are given (metrics.per_target): eight series a target.
func TestPerTargetSeriesAskedFor(t *testing.T) {
	at := time.Unix(1700000000, 0)
	fc := store.FleetCounts{ByStatus: map[finding.Status]int{finding.Fail: 3, finding.Pass: 10}, FailBySeverity: map[string]int{"high": 3},
		Targets: 2, FailingTargets: 1, OldestScan: at}
	ts := []store.TargetState{
		{Name: "gw", LastSeen: at.Add(time.Hour), ByStatus: map[finding.Status]int{finding.Fail: 3, finding.Pass: 5}},
		{Name: "db", LastSeen: at, ByStatus: map[finding.Status]int{finding.Pass: 5}},
	}
	write := func(f Fleet) string {
		var b strings.Builder
		if err := New().Write(&b, f); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	totals := []string{"rampart_targets 2\n", "rampart_failing_targets 1\n", "rampart_oldest_target_scan_timestamp_seconds 1.7e+09\n",
		`rampart_findings{status="fail"} 3` + "\n"}
	out := write(Fleet{Counts: &fc})
	for _, want := range totals {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "rampart_target_") {
		t.Errorf("per-target series not asked for:\n%s", out)
	}
	out = write(Fleet{Counts: &fc, Targets: ts})
	for _, want := range append(totals, `rampart_target_findings{target="gw",status="fail"} 3`+"\n", `rampart_target_findings{target="db",status="fail"} 0`+"\n",
		`rampart_target_last_scan_timestamp_seconds{target="gw"} 1.7000036e+09`+"\n") {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\nrampart_target_"); n != 2*8 {
		t.Errorf("%d per-target series for 2 targets; want 16", n)
	}
}
