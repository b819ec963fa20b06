package sshprobe

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/rules"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/testenv"
	builtinrules "github.com/rampart-sec/rampart/rules"
)

// needEval requires the eval sshd at addr (see testenv.Listening).
func needEval(t *testing.T, addr string) {
	t.Helper()
	testenv.Listening(t, addr, "start it with ../shared/eval/targets/up.sh sshweak sshstrong")
}

func endpoint(t testing.TB, s string) target.Target {
	t.Helper()
	tg, err := target.ParseEndpoint(s)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// update records the transcripts again against the live servers
// (go test -update -run TestName; see internal/testenv/transcript).
var update = flag.Bool("update", false, "record the transcripts in testdata/transcripts again, against the live servers")

func collectSSH(t *testing.T, c *Collector, s string) *facts.SSH {
	t.Helper()
	return collectSSHWith(t, c, s, &collect.Env{})
}

// collectSSHWith collects through env (a transcript's).
func collectSSHWith(t *testing.T, c *Collector, s string, env *collect.Env) *facts.SSH {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := c.Collect(ctx, endpoint(t, s), env)
	if err != nil {
		t.Fatalf("collect %s: %v", s, err)
	}
	if f == nil || f.SSH == nil {
		t.Fatalf("collect %s: no ssh facts", s)
	}
	return f.SSH
}

// judge runs the built-in rules over SSH facts and returns status by rule.
func judge(t *testing.T, tg target.Target, s *facts.SSH) map[string]finding.Finding {
	t.Helper()
	set, err := rules.Load(rules.Source{Name: "rules", FS: builtinrules.FS})
	if err != nil {
		t.Fatal(err)
	}
	f := &facts.Facts{Target: tg.Facts(), Scan: facts.DefaultScan(time.Now()), SSH: s}
	out := map[string]finding.Finding{}
	for _, fd := range rules.Judge(set.Rules(), rules.Input{Facts: f, Offers: map[string]bool{"probe": true}}) {
		out[fd.RuleID] = fd
	}
	return out
}
