package httpprobe_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/testenv"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/collect/httpprobe"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/rules"
	"github.com/rampart-sec/rampart/internal/target"
	builtinrules "github.com/rampart-sec/rampart/rules"
)

// The rules this collector feeds, judged in these tests.
var httpRules = []string{"HTTP-001", "HTTP-002", "HTTP-003", "HTTP-004", "HTTP-005", "HTTP-006", "IAM-005", "MON-001", "SEC-002"}

var fixedNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func testEnv(intrusive bool) *collect.Env {
	return &collect.Env{
		Dialer:    &net.Dialer{},
		Now:       func() time.Time { return fixedNow },
		Timeout:   60 * time.Second,
		PerHost:   4,
		Intrusive: intrusive,
	}
}

// collectHTTP runs the collector on t and fails the test on an error.
func collectHTTP(t testing.TB, c *httpprobe.Collector, tg target.Target, env *collect.Env) *facts.Facts {
	t.Helper()
	f, err := c.Collect(context.Background(), tg, env)
	if err != nil {
		t.Fatalf("collect %s: %v", tg.Name, err)
	}
	if f == nil || f.HTTP == nil {
		t.Fatalf("collect %s: no http facts", tg.Name)
	}
	return f
}

// judge decides the HTTP rules on the collected facts of tg, as the scan
// does for an endpoint (probe checks offered).
func judge(t testing.TB, tg target.Target, collected *facts.Facts, intrusive bool) map[string]finding.Finding {
	t.Helper()
	set, err := rules.Load(rules.Source{Name: "rules", FS: builtinrules.FS})
	if err != nil {
		t.Fatal(err)
	}
	var rs []*rules.Rule
	for _, id := range httpRules {
		r, ok := set.Get(id)
		if !ok {
			t.Fatalf("rule %s missing", id)
		}
		rs = append(rs, r)
	}
	sc := facts.DefaultScan(fixedNow)
	sc.Intrusive = intrusive
	f := &facts.Facts{Target: tg.Facts(), Scan: sc}
	f.Merge(collected)
	out := map[string]finding.Finding{}
	for _, fd := range rules.Judge(rs, rules.Input{Facts: f, Offers: map[string]bool{"probe": true}}) {
		out[fd.RuleID] = fd
	}
	return out
}

// wantStatuses checks the rule statuses and logs every finding.
func wantStatuses(t *testing.T, got map[string]finding.Finding, want map[string]finding.Status) {
	t.Helper()
	for _, id := range httpRules {
		fd := got[id]
		t.Logf("%s %-14s %s", id, fd.Status, fd.Message)
		if w, ok := want[id]; ok && fd.Status != w {
			t.Errorf("%s: status %s, want %s (%s)", id, fd.Status, w, fd.Message)
		}
	}
}

// evalTarget returns the endpoint of an eval target, skipping the test
// when it is not listening (failing under RAMPART_EVAL=1).
func evalTarget(t *testing.T, addr string) target.Target {
	t.Helper()
	testenv.Listening(t, addr, "start them with ../shared/eval/targets/up.sh")
	tg, err := target.ParseEndpoint("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	return tg
}
