package waiver

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/glob"
)

// RuleKinds says whether a rule has automated checks and a manual check;
// ok is false for a rule that does not exist.
type RuleKinds func(rule string) (automated, manual, ok bool)

// Misplaced warns of entries that can never apply: an attestation of a rule
// without a manual check (only manual findings are attested; a failing
// automated rule is waived), a waiver of a rule that is only manual (it never
// fails; it is attested).
func (s *Set) Misplaced(kinds RuleKinds) []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, e := range s.Attestations {
		if _, manual, ok := kinds(e.Rule); ok && !manual {
			out = append(out, fmt.Sprintf("%s:%d: attestation of %s, a rule rampart judges itself: attestations settle manual rules only (accept a failure of %s with a waiver in a --waivers file)", e.Source, e.Line, e.Rule, e.Rule))
		}
	}
	for _, e := range s.Waivers {
		if automated, _, ok := kinds(e.Rule); ok && !automated {
			out = append(out, fmt.Sprintf("%s:%d: waiver of %s, a manual rule: it never fails, so nothing is waived (record its evidence with an attestation in an --attestations file)", e.Source, e.Line, e.Rule))
		}
	}
	return out
}

// Unused warns of entries that matched no finding of this scan: their rule
// was not judged (--only, --skip), or their target pattern names none of
// the targets that were.
func (s *Set) Unused(fs []finding.Finding) []string {
	if s == nil {
		return nil
	}
	targets := map[string][]string{} // rule -> targets judged
	for _, f := range fs {
		targets[f.RuleID] = append(targets[f.RuleID], f.Target)
	}
	var out []string
	check := func(kind string, es []Entry) {
		for _, e := range es {
			ts, judged := targets[e.Rule]
			if !judged {
				out = append(out, fmt.Sprintf("%s:%d: %s of %s matched nothing: %s was not judged in this scan", e.Source, e.Line, kind, e.Rule, e.Rule))
				continue
			}
			if e.Target == "" || e.Target == "*" {
				continue
			}
			matched := false
			for _, t := range ts {
				if glob.Match(e.Target, t) {
					matched = true
					break
				}
			}
			if !matched {
				out = append(out, fmt.Sprintf("%s:%d: %s of %s matched nothing: target %q is none of %s", e.Source, e.Line, kind, e.Rule, e.Target, sample(ts)))
			}
		}
	}
	check("waiver", s.Waivers)
	check("attestation", s.Attestations)
	return out
}

// sample names a few targets: "a, b, c and 7 more".
func sample(ts []string) string {
	u := map[string]bool{}
	for _, t := range ts {
		u[t] = true
	}
	names := make([]string, 0, len(u))
	for t := range u {
		names = append(names, t)
	}
	sort.Strings(names)
	const n = 3
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}
