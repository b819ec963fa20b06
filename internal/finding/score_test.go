package finding

import "testing"

func TestScoreOf(t *testing.T) {
	f := func(st Status, sev Severity) Finding { return Finding{Status: st, Severity: sev} }
	s := ScoreOf([]Finding{
		f(Pass, Critical), // 10 met
		f(Fail, High),     // 7 not met
		f(Waived, Medium), // 4 not met: a waiver accepts the risk, it does not remove it
		f(Pass, Low),      // 2 met
		f(Error, Critical), f(Manual, High), f(Attested, High), f(NotApplicable, Critical),
	})
	// 12 of 23 = 52.17 → 52
	if s == nil || s.Value != 52 || s.Judged != 4 || s.Passed != 2 || s.Undetermined != 1 {
		t.Fatalf("%+v", s)
	}
	if ScoreOf([]Finding{f(Manual, High), f(Error, Low), f(NotApplicable, Low)}) != nil {
		t.Fatal("a target with nothing judged has a score")
	}
	if s := ScoreOf([]Finding{f(Pass, Info)}); s.Value != 100 {
		t.Fatalf("%+v", s)
	}
}
