package wso2fix_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rampart-sec/rampart/internal/fix"
	"github.com/rampart-sec/rampart/internal/fix/fixtest"
	"github.com/rampart-sec/rampart/internal/testenv"
)

func TestDebugPlan(t *testing.T) {
	name := os.Getenv("FIXTURE")
	if name == "" {
		t.Skip("FIXTURE not set")
	}
	rs := loadRules(t)
	dir := copyTree(t, filepath.Join(testenv.Shared(t), "fixtures", "wso2", name))
	sc := scanDir(t, rs, dir, "")
	keys := &fixtest.Keys{}
	opt := options(keys)
	if os.Getenv("VAULTCERT") != "" {
		opt.VaultCert = vaultCert(t, keys)
	}
	plan := planDir(t, dir, sc, opt)
	for _, r := range plan.Results {
		t.Logf("%s %s: %s | inputs %v | todo %v", r.Rule, r.Status, r.Summary, r.Inputs, r.Todo)
	}
	for _, c := range plan.Changes {
		if os.Getenv("V") == "" {
			break
		}
		t.Logf("== %s %s %v %s", c.Action, c.Path, c.Rules, c.Summary)
		for _, e := range c.Edits {
			t.Logf("   %s %s old %d-%d new %d-%d\n-%s+%s", e.Rule, e.What, e.OldFirst, e.OldLast, e.NewFirst, e.NewLast, e.Before, e.After)
		}
	}
	if len(plan.Failed()) > 0 {
		t.Fatalf("failed: %+v", plan.Failed())
	}
	app, err := fix.Apply(plan.Changes, testNow)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("written %d, backups %d", len(app.Written), len(app.Backups))
	after := scanDir(t, rs, dir, "")
	for _, r := range plan.Results {
		t.Logf("%s %s -> %s", r.Rule, r.Status, after.status[r.Rule])
	}
	for id, st := range sc.status {
		if st != after.status[id] {
			t.Logf("CHANGED %s: %s -> %s", id, st, after.status[id])
		}
	}
	for _, f := range after.findings {
		if f.Status == "fail" || f.Status == "error" {
			t.Logf("AFTER %s %s %.200s", f.RuleID, f.Status, f.Message)
		}
	}
}
