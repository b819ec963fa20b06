package finding

import (
	"reflect"
	"sort"
	"testing"
)

// Finalize orders findings by target, rule and fingerprint whether they
// came in order or not, and scores each target on its own findings.
func TestFinalizeOrderAndScores(t *testing.T) {
	mk := func(target, rule string, st Status, sev Severity) Finding {
		return Finding{Target: target, RuleID: rule, Status: st, Severity: sev, Fingerprint: target + rule}
	}
	ordered := []Finding{
		mk("a", "R1", Fail, High), mk("a", "R2", Pass, Low), mk("b", "R1", Pass, High), mk("b", "R2", Fail, Low), mk("c", "R1", NotApplicable, Medium),
	}
	for _, in := range [][]Finding{ordered, {ordered[4], ordered[2], ordered[0], ordered[3], ordered[1]}} {
		r := &Report{Targets: []TargetInfo{{Name: "c"}, {Name: "a"}, {Name: "b"}}, Findings: append([]Finding(nil), in...)}
		r.Finalize()
		if !reflect.DeepEqual(r.Findings, ordered) {
			t.Fatalf("order: %v", r.Findings)
		}
		if !sort.SliceIsSorted(r.Targets, func(i, j int) bool { return r.Targets[i].Name < r.Targets[j].Name }) {
			t.Fatalf("targets: %v", r.Targets)
		}
		for i, ti := range r.Targets {
			var own []Finding
			for _, f := range ordered {
				if f.Target == ti.Name {
					own = append(own, f)
				}
			}
			if want := ScoreOf(own); !reflect.DeepEqual(ti.Score, want) {
				t.Errorf("target %d %s: score %+v, want %+v", i, ti.Name, ti.Score, want)
			}
		}
	}
}
