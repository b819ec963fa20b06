package finding

import "math"

// A target's score says, from 0 to 100, how much of what could be judged
// on it is hardened, in the spirit of Lynis's hardening index: each
// automated rule that was judged weighs by its severity,
//
//	critical 10, high 7, medium 4, low 2, info 1,
//
// and the score is 100 × (weight of the rules that pass) / (weight of the
// rules that pass, fail or are waived), rounded. A waiver accepts a risk;
// it does not remove it, so a waived rule counts as not met. Manual rules
// (manual, attested) are excluded, as are rules that do not apply and
// rules that ended in error: the score covers what was determined, and
// Undetermined says how much was not.

// scoreWeightOf is the weight of a severity in a score.
func scoreWeightOf(k Severity) (int, bool) {
	switch k {
	case Critical:
		return 10, true
	case High:
		return 7, true
	case Medium:
		return 4, true
	case Low:
		return 2, true
	case Info:
		return 1, true
	}
	return 0, false
}

// Score is a target's hardening score.
type Score struct {
	// Value is 0-100; meaningless when Judged is 0.
	Value int `json:"value"`
	// Judged is how many rules counted (pass, fail, waived); Passed how
	// many of them pass.
	Judged int `json:"judged"`
	Passed int `json:"passed"`
	// Undetermined is how many rules ended in error and so could not count.
	Undetermined int `json:"undetermined"`
}

// ScoreOf scores the findings of one target; nil when no rule counted.
func ScoreOf(fs []Finding) *Score {
	var s Score
	var met, total int
	for _, f := range fs {
		w, _ := scoreWeightOf(f.Severity)
		switch f.Status {
		case Pass:
			met += w
			total += w
			s.Passed++
			s.Judged++
		case Fail, Waived:
			total += w
			s.Judged++
		case Error:
			s.Undetermined++
		}
	}
	if s.Judged == 0 || total == 0 {
		return nil
	}
	s.Value = int(math.Round(100 * float64(met) / float64(total)))
	return &s
}
