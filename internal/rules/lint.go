package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rampart-sec/rampart/internal/finding"
)

// LintOptions tune the linter.
type LintOptions struct {
	// Seeds are the seed document names a rule may cite in sources; empty
	// skips that check (custom rules cite their own documents).
	Seeds []string
}

// Lint is one style or completeness problem of a rule.
type Lint struct {
	RuleID  string `json:"rule"`
	File    string `json:"file"`
	Line    int    `json:"line"`
	Problem string `json:"problem"`
}

func (l Lint) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", l.File, l.Line, l.RuleID, l.Problem)
}

// idFamily is the capitals a rule ID starts with, when a dash follows
// them ("TLS" of "TLS-004").
func idFamily(id string) (string, bool) {
	i := 0
	for i < len(id) && id[i] >= 'A' && id[i] <= 'Z' {
		i++
	}
	if i == 0 || i == len(id) || id[i] != '-' {
		return "", false
	}
	return id[:i], true
}

// LintRules checks what loading does not: every automated rule has at
// least one passing, one failing and one inconclusive (error) test, every rule has remediation,
// sources and checks of consistent kinds, IDs match their domain's family.
func LintRules(rules []*Rule, opt LintOptions) []Lint {
	var out []Lint
	add := func(r *Rule, format string, a ...any) {
		out = append(out, Lint{RuleID: r.ID, File: r.File, Line: r.Line, Problem: fmt.Sprintf(format, a...)})
	}
	families := map[string]string{}
	for _, r := range rules {
		if strings.TrimSpace(r.Remediation) == "" {
			add(r, "no remediation")
		}
		if len(r.Sources) == 0 {
			add(r, "no sources (name the seed documents, or the hardening practice)")
		}
		for _, s := range r.Sources {
			if len(opt.Seeds) > 0 && !slices.Contains(opt.Seeds, s) && !strings.HasPrefix(s, "hardening:") {
				add(r, "source %q is not a known seed document", s)
			}
		}
		if fam, ok := idFamily(r.ID); ok {
			if d, ok := families[fam]; ok && d != r.Domain {
				add(r, "family %s is in domain %s elsewhere, %s here", fam, d, r.Domain)
			}
			families[fam] = r.Domain
		}
		var hasManual bool
		for _, c := range r.Checks {
			if c != nil && c.Kind == KindManual {
				hasManual = true
			}
			if c != nil && c.Partial && !hasManualCheck(r) {
				add(r, "a partial check needs a manual check beside it")
			}
			if c != nil && c.When != "" && c.SkipMessage == "" {
				add(r, "the %s check has a when but no skip_message: say in words why it may not apply", c.Kind)
			}
		}
		statuses := map[finding.Status]int{}
		for _, t := range r.Tests {
			if t != nil {
				statuses[t.Status]++
			}
		}
		if r.Automated() {
			// A rule whose automated checks are all partial never passes on
			// them alone: its "good" outcome is manual (awaiting attestation).
			if statuses[finding.Pass] == 0 && !(onlyPartial(r) && statuses[finding.Manual] > 0) {
				add(r, "no test expecting pass")
			}
			if statuses[finding.Fail] == 0 {
				add(r, "no test expecting fail")
			}
			// Every automated check can be unable to tell (its facts failed,
			// a value is unknown): a test shows that this ends in error,
			// never in pass or not_applicable.
			if statuses[finding.Error] == 0 {
				add(r, "no test expecting error (the inconclusive case: the facts could not be collected, or a value is unknown)")
			}
		} else if hasManual && statuses[finding.Manual] == 0 {
			add(r, "no test expecting manual")
		}
	}
	return out
}

func onlyPartial(r *Rule) bool {
	for _, c := range r.Checks {
		if c != nil && c.Kind != KindManual && !c.Partial {
			return false
		}
	}
	return true
}

func hasManualCheck(r *Rule) bool {
	for _, c := range r.Checks {
		if c != nil && c.Kind == KindManual {
			return true
		}
	}
	return false
}
