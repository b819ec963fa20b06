package zone

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/rules"
	"github.com/rampart-sec/rampart/internal/target"
)

// ExposureRules are the rules judged across zones.
var exposureRules = []string{"NET-001", "NET-002", "NET-003", "NET-004", "OS-004", "SSH-005", "HTTP-004", "HTTP-005"}

// ExposureRules returns the IDs of the rules judged across zones.
func ExposureRules() []string { return slices.Clone(exposureRules) }

// IsExposureRule reports whether a rule is judged across zones.
func IsExposureRule(id string) bool { return slices.Contains(exposureRules, id) }

// Catalog holds the loaded exposure rules: their titles, severities,
// profiles and remediation go into the findings judged across zones.
type Catalog map[string]*rules.Rule

// NewCatalog picks the exposure rules out of a rule set; rules left out
// (scan.skip) are not judged.
func NewCatalog(rs []*rules.Rule) Catalog {
	c := Catalog{}
	for _, r := range rs {
		if IsExposureRule(r.ID) {
			c[r.ID] = r
		}
	}
	return c
}

// applies reports whether rule id is in the catalog and applies to a
// target of this profile ("" : every rule applies).
func (c Catalog) applies(id, profile string) bool {
	r, ok := c[id]
	if !ok {
		return false
	}
	return profile == "" || len(r.Profiles) == 0 || slices.Contains(r.Profiles, profile)
}

// fallback returns id when it applies to the profile, else NET-001 (an
// open port nothing else covers).
func (c Catalog) fallback(id, profile string) string {
	if c.applies(id, profile) {
		return id
	}
	return "NET-001"
}

// Judge returns the verdicts of the exposure rules on a target across
// its zones, under the target's bare name. For each rule:
//
//   - fail when a zone reaches a port or path of the rule that it must
//     not reach, or when a zone's own verdict fails (evidence: the zone,
//     its agent and its source address, and what answered);
//   - else error when a zone has no result (no live agent in it, its job
//     pending or dead), or a zone's verdict is an error, or a port or path
//     the zone must not reach could not be checked;
//   - else pass when at least one zone checked that what it must not
//     reach is blocked, or a zone's own verdict passes;
//   - else not_applicable when every zone's verdict is, and manual
//     otherwise (nothing declared to compare with).
func Judge(t target.Target, m Matrix, results []Result, cat Catalog) []finding.Finding {
	var out []finding.Finding
	for _, id := range exposureRules {
		r, ok := cat[id]
		if !ok {
			continue
		}
		f := finding.Finding{RuleID: id, Title: r.Title, Target: t.Name, Severity: r.Severity, Domain: r.Domain,
			Checks: []string{"probe"}, Evidence: []finding.Evidence{}, Remediation: strings.TrimSpace(r.Remediation),
			References: r.References, Fingerprint: finding.Fingerprint(t.Name, id, "zones")}
		if f.References == nil {
			f.References = []string{}
		}
		if !cat.applies(id, t.Profile) {
			f.Status = finding.NotApplicable
			f.Message = fmt.Sprintf("applies to %s targets; this one is %s", strings.Join(r.Profiles, ", "), t.Profile)
			out = append(out, f)
			continue
		}
		judgeRule(&f, m, results)
		out = append(out, f)
	}
	return out
}

// matrixDecides reports the rules whose failures come from the matrix alone
// once the target declares expectations for them: the inventory then says
// which zones may reach those ports, which overrides the rule's own
// single-vantage judgement. The path rules and NET-002 keep the zones'
// own failures too (what they judge reaches beyond the declared items).
func matrixDecides(ruleID string) bool {
	switch ruleID {
	case "NET-001", "NET-003", "NET-004", "OS-004", "SSH-005":
		return true
	}
	return false
}

// zoneVerdict is one zone's own verdict on a rule: the worst status over
// the target and the targets it led to.
type zoneVerdict struct {
	status finding.Status
	msg    string
}

// statusRank orders statuses by how much they say about a zone.
func statusRank(s finding.Status) int {
	switch s {
	case finding.Fail, finding.Waived:
		return 5
	case finding.Error:
		return 4
	case finding.Manual:
		return 3
	case finding.Attested, finding.Pass:
		return 2
	case finding.NotApplicable:
		return 1
	}
	return 0
}

func verdictOf(r Result, id string) (zoneVerdict, bool) {
	var v zoneVerdict
	found := false
	for _, f := range r.Findings {
		if f.RuleID != id {
			continue
		}
		st := f.Status
		if f.Exception != nil && f.Exception.Original != "" {
			st = f.Exception.Original // exceptions are the server's to apply, on the combined verdict
		}
		if !found || statusRank(st) > statusRank(v.status) {
			v = zoneVerdict{status: st, msg: f.Target + ": " + f.Message}
		}
		found = true
	}
	return v, found
}

func judgeRule(f *finding.Finding, m Matrix, results []Result) {
	var fails, errs, passes, manuals, nas []string
	var checked []string
	addEv := func(r Result, what, value string) {
		f.Evidence = append(f.Evidence, finding.Evidence{Source: who(r), Path: what, Value: value, Check: "probe"})
	}
	declared := false
	for _, row := range m.Rows {
		if row.Rule != f.RuleID {
			continue
		}
		declared = declared || row.Declared != ""
		for i, c := range row.Cells {
			r := results[i]
			switch {
			case c.Mismatch == Violation:
				fails = append(fails, fmt.Sprintf("%s reachable from %s%s", row.Item.Key(), who(r), detail(c.Detail)))
				addEv(r, "reach "+row.Item.Key(), string(c.Seen)+detail(c.Detail)+"; expected: "+string(c.Expect))
			case c.Expect == MustNot && c.Seen == Blocked:
				checked = append(checked, row.Item.Key()+" from "+r.Zone.Name)
			case c.Expect == MustNot && c.Seen == Unknown:
				errs = append(errs, fmt.Sprintf("could not tell whether %s reaches %s (%s)", who(r), row.Item.Key(), c.Detail))
			}
		}
	}
	for _, r := range results {
		if r.Obs == nil {
			errs = append(errs, r.Missing)
			continue
		}
		v, ok := verdictOf(r, f.RuleID)
		if !ok {
			continue
		}
		line := who(r) + ": " + v.msg
		switch v.status {
		case finding.Fail, finding.Waived:
			if declared && matrixDecides(f.RuleID) {
				// The inventory says which zones may reach these ports;
				// the matrix above judged them.
				continue
			}
			fails = append(fails, line)
			addEv(r, f.RuleID, v.msg)
		case finding.Error:
			errs = append(errs, line)
		case finding.Pass, finding.Attested:
			passes = append(passes, r.Zone.Name)
		case finding.Manual:
			manuals = append(manuals, line)
		default:
			nas = append(nas, line)
		}
	}
	switch {
	case len(fails) > 0:
		f.Status = finding.Fail
		f.Message = strings.Join(dedupe(fails), "; ")
	case len(errs) > 0:
		f.Status = finding.Error
		f.Message = strings.Join(dedupe(errs), "; ")
	case len(checked) > 0 || len(passes) > 0:
		f.Status = finding.Pass
		var parts []string
		if len(checked) > 0 {
			parts = append(parts, "blocked where it must be: "+strings.Join(checked, ", "))
		}
		if len(passes) > 0 {
			parts = append(parts, "passes from "+strings.Join(dedupe(passes), ", "))
		}
		f.Message = strings.Join(parts, "; ")
		for _, r := range results {
			addEv(r, "zone", "judged from "+r.Zone.Name+" ("+r.Zone.Role+")")
		}
	case declared:
		// Expectations exist but every zone may reach them: nothing shows
		// whether anyone else would be kept out.
		f.Status = finding.Error
		f.Message = "every zone judging this target may reach what this rule covers, so none shows it is blocked elsewhere; add an agent in a zone that must not reach it"
	case len(manuals) > 0:
		f.Status = finding.Manual
		f.Message = strings.Join(dedupe(manuals), "; ")
	case len(nas) > 0:
		f.Status = finding.NotApplicable
		f.Message = strings.Join(dedupe(nas), "; ")
	default:
		f.Status = finding.Error
		f.Message = "no zone judged this rule on the target"
	}
	sort.SliceStable(f.Evidence, func(i, j int) bool { return f.Evidence[i].Source < f.Evidence[j].Source })
}

// who names a zone's vantage point for messages and evidence.
func who(r Result) string {
	s := "zone " + r.Zone.Name
	var in []string
	if r.Agent != "" {
		in = append(in, "agent "+r.Agent)
	}
	if r.Obs != nil && r.Obs.Source != "" {
		in = append(in, "from "+r.Obs.Source)
	}
	if len(in) > 0 {
		s += " (" + strings.Join(in, ", ") + ")"
	}
	return s
}

func detail(d string) string {
	if d == "" {
		return ""
	}
	return ": " + d
}

func dedupe(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
