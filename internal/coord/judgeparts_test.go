package coord_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/coord"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/zonetest"
)

// TestPartsJudgedAsTheyComplete: a round's part whose every result is
// stored is judged (its verdicts stored as a run) while the other part's
// scans still hang; the round is judged once they end, each part stored
// once, and the round's run is its first part's.
func TestPartsJudgedAsTheyComplete(t *testing.T) {
	ctx := context.Background()
	n := zonetest.New(t, "dmz")
	ready := endpoints(t, n, 2, 8400)
	gate := zonetest.HoldHTTP(t, n.Target.Listen(t, "tcp", zonetest.TargetAddr+":8410"), zonetest.Gateway(), func(string) bool { return true })
	t.Cleanup(gate.Release)
	var held []target.Target
	for _, p := range []string{"/a", "/b"} {
		held = append(held, target.Target{Name: "held" + strings.TrimPrefix(p, "/"), Kind: target.Endpoint, Host: zonetest.TargetAddr, Port: 8410, Scheme: "http", Path: p,
			Decl: target.Declared{NoReachDefaults: true}})
	}
	targets := append(ready, held...)
	logger, parts := watch("round part judged")
	f := newFixture(t, embedded(t, t.TempDir()), fixtureOpts{zones: []target.Zone{{Name: "dmz", Role: "dmz"}}, targets: targets, judgePart: 2, logger: logger})
	f.startAgent("dmz-1", "dmz", coord.KindPassword, n.Zones["dmz"].Dialer(t, 8))
	f.waitHeard("dmz-1")
	_, round, err := f.co.FanOut(ctx, "s", targets)
	if err != nil {
		t.Fatal(err)
	}
	<-gate.Held
	waitFor(t, parts, 1, "the first part judged")
	verdictRuns := func() map[string]int64 {
		runs, err := f.store.Runs(ctx, 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for _, r := range runs {
			if strings.HasPrefix(r.Source, fmt.Sprintf("zones:s round:%d", round)) {
				if _, dup := out[r.Source]; dup {
					t.Errorf("%s stored twice", r.Source)
				}
				out[r.Source] = r.ID
			}
		}
		return out
	}
	first := fmt.Sprintf("zones:s round:%d part:1/2", round)
	before := verdictRuns()
	if len(before) != 1 || before[first] == 0 {
		t.Fatalf("verdict runs while the second part's scans hang: %v; want only %q", before, first)
	}
	select {
	case j := <-f.judged:
		t.Fatalf("round judged (%v) before its held scans ended", j)
	default:
	}
	for _, name := range []string{"ep8400", "ep8401"} {
		findingOf(t, f.store, before[first], name, "NET-001") // fails the test when the part's run lacks it
	}
	gate.Release()
	run := f.waitJudged(round)
	after := verdictRuns()
	if len(after) != 2 || after[first] != before[first] || run != before[first] {
		t.Fatalf("verdict runs after the round: %v (round's run %d); want the first part's run %d kept and a second part", after, run, before[first])
	}
}
