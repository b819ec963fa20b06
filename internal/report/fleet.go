package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rampart-sec/rampart/internal/finding"
)

// fleetMin is the number of targets from which the text report adds a
// fleet summary: with one or two, their sections say it all.
const fleetMin = 3

// fleetSummary tells, for a report of many targets, what the fleet looks
// like as a whole: targets by kind, how many fail or could not be fully
// collected, the rules failing on the most targets, and the open ports
// seen most often on the nodes. "" for a report of few targets.
func fleetSummary(r *finding.Report, c func(string, string) string) string {
	if len(r.Targets) < fleetMin {
		return ""
	}
	kinds := map[string]int{}
	withErrors := 0
	ports := map[string]int{}
	nodes := 0
	for _, t := range r.Targets {
		kinds[t.Kind]++
		if len(t.Errors) > 0 {
			withErrors++
		}
		if t.Kind == "node" {
			nodes++
			for _, p := range t.OpenPorts {
				ports[p]++
			}
		}
	}
	failingTargets := map[string]bool{}
	ruleTargets := map[string]int{}
	for _, f := range r.Findings {
		if f.Status == finding.Fail {
			failingTargets[f.Target] = true
			ruleTargets[f.RuleID]++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d targets (%s); %s, %d with collector errors\n", c(ansiBold, "Fleet:"), len(r.Targets),
		joinCounts(kinds, 0), c(ansiRed, fmt.Sprintf("%d with failing findings", len(failingTargets))), withErrors)
	if len(ruleTargets) > 0 {
		fmt.Fprintf(&b, "  failing on the most targets: %s\n", joinCounts(ruleTargets, 6))
	}
	if nodes > 0 {
		fmt.Fprintf(&b, "  open ports on %d node(s): %s\n", nodes, joinCounts(ports, 8))
	}
	return b.String()
}

// joinCounts renders "a 3, b 1" by count, then name; limit > 0 keeps the
// first limit and says how many more there are.
func joinCounts(m map[string]int, limit int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	more := 0
	if limit > 0 && len(keys) > limit {
		more = len(keys) - limit
		keys = keys[:limit]
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	s := strings.Join(parts, ", ")
	if more > 0 {
		s += fmt.Sprintf(", %d more", more)
	}
	return s
}
