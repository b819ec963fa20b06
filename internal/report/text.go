package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/rampart-sec/rampart/internal/finding"
)

// Text writes a report for people: one section per target, the findings
// that need attention first, each with its evidence and fix, then a
// summary line.
type Text struct{ Options }

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
	ansiCyan   = "\x1b[36m"
)

var statusColor = map[finding.Status]string{
	finding.Fail:          ansiRed,
	finding.Error:         ansiYellow,
	finding.Manual:        ansiCyan,
	finding.Waived:        ansiBlue,
	finding.Attested:      ansiBlue,
	finding.Pass:          ansiGreen,
	finding.NotApplicable: ansiDim,
}

var statusRank = func() map[finding.Status]int {
	m := map[finding.Status]int{}
	for i, s := range finding.Statuses() {
		m[s] = i
	}
	return m
}()

// Render implements Renderer.
func (t Text) Render(w io.Writer, r *finding.Report) error {
	bw := bufio.NewWriter(w)
	c := func(code, s string) string {
		if !t.Color {
			return s
		}
		return code + s + ansiReset
	}
	fmt.Fprintf(bw, "%s %s: %d target(s), %d finding(s)\n", r.Tool.Name, r.Tool.Version, len(r.Targets), len(r.Findings))
	if r.Interrupted {
		fmt.Fprintln(bw, c(ansiYellow, "interrupted: the report holds only the targets that finished"))
	}
	targets, groups := byTarget(r)
	for _, ti := range targets {
		fs := groups[ti.Name]
		sort.SliceStable(fs, func(i, j int) bool {
			a, b := fs[i], fs[j]
			if statusRank[a.Status] != statusRank[b.Status] {
				return statusRank[a.Status] < statusRank[b.Status]
			}
			if a.Severity != b.Severity {
				return a.Severity > b.Severity
			}
			return a.RuleID < b.RuleID
		})
		fmt.Fprintf(bw, "\n%s%s\n", c(ansiBold, ti.Name), describe(ti))
		for _, e := range ti.Errors {
			fmt.Fprintf(bw, "  %s %s\n", c(ansiYellow, "collector error:"), e)
		}
		// Many rules ending in error for one reason (an endpoint that
		// refuses connections) are shown once, with the rules listed.
		sameError := map[string][]string{}
		for _, f := range fs {
			if f.Status == finding.Error {
				sameError[f.Message] = append(sameError[f.Message], f.RuleID)
			}
		}
		shown := map[string]bool{}
		hidden := map[finding.Status]int{}
		for _, f := range fs {
			if !t.Verbose && (f.Status == finding.Pass || f.Status == finding.NotApplicable) {
				hidden[f.Status]++
				continue
			}
			if ids := sameError[f.Message]; f.Status == finding.Error && len(ids) >= groupErrors {
				if !shown[f.Message] {
					shown[f.Message] = true
					fmt.Fprintf(bw, "  %s %d rules could not be determined: %s\n", c(statusColor[finding.Error], fmt.Sprintf("%-8s", "ERROR")), len(ids), f.Message)
					fmt.Fprintf(bw, "%s%s\n", indent, strings.Join(ids, " "))
				}
				continue
			}
			t.finding(bw, c, f)
		}
		if len(hidden) > 0 {
			fmt.Fprintf(bw, "  %s\n", c(ansiDim, fmt.Sprintf("%d passed, %d not applicable (-v to list them)", hidden[finding.Pass], hidden[finding.NotApplicable])))
		}
	}
	if fs := fleetSummary(r, c); fs != "" {
		fmt.Fprintf(bw, "\n%s", fs)
	}
	fmt.Fprintf(bw, "\n%s\n", summaryLine(r.Summary, c))
	return bw.Flush()
}

func describe(ti finding.TargetInfo) string {
	var parts []string
	if ti.Kind != "" {
		parts = append(parts, ti.Kind)
	}
	if ti.Product != "" {
		parts = append(parts, strings.TrimSpace(ti.Product+" "+ti.Version))
	}
	if len(ti.Profiles) > 0 {
		parts = append(parts, strings.Join(ti.Profiles, ","))
	}
	if ti.Role != "" {
		parts = append(parts, "role "+ti.Role)
	}
	if ti.Parent != "" {
		parts = append(parts, "found on "+ti.Parent)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func (t Text) finding(w io.Writer, c func(string, string) string, f finding.Finding) {
	label := strings.ToUpper(string(f.Status))
	if f.Status == finding.NotApplicable {
		label = "N/A"
	}
	fmt.Fprintf(w, "  %s %-8s %-8s %s\n", c(statusColor[f.Status], fmt.Sprintf("%-8s", label)), f.Severity, f.RuleID, f.Title)
	if f.Message != "" && f.Message != f.Title {
		fmt.Fprintf(w, "%s%s\n", indent, f.Message)
	}
	if f.Exception != nil && !f.Exception.Expired {
		fmt.Fprintf(w, "%s%s by %s until %s: %s\n", indent, f.Exception.Kind, f.Exception.By, f.Exception.Expires, f.Exception.Reason)
	}
	if f.Status == finding.Pass || f.Status == finding.NotApplicable {
		return
	}
	for _, e := range f.Evidence {
		where := e.Location()
		if where != "" {
			where += " "
		}
		fmt.Fprintf(w, "%s%s %s%s = %s\n", indent, c(ansiDim, "evidence:"), where, e.Path, e.Value)
	}
	if f.Status == finding.Fail && f.Remediation != "" {
		lines := strings.Split(strings.TrimSpace(f.Remediation), "\n")
		fmt.Fprintf(w, "%s%s %s\n", indent, c(ansiDim, "fix:"), lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "%s     %s\n", indent, l)
		}
	}
}

// groupErrors is how many rules must share an error before the text
// report shows them as one.
const groupErrors = 3

const indent = "                             "

func summaryLine(s finding.Summary, c func(string, string) string) string {
	var sev []string
	for i := len(finding.Severities()) - 1; i >= 0; i-- {
		name := finding.Severities()[i].String()
		if n := s.BySeverity[name]; n > 0 {
			sev = append(sev, fmt.Sprintf("%d %s", n, name))
		}
	}
	fail := fmt.Sprintf("%d fail", s.ByStatus[finding.Fail])
	if len(sev) > 0 {
		fail += " (" + strings.Join(sev, ", ") + ")"
	}
	parts := []string{c(ansiRed, fail)}
	for _, st := range []finding.Status{finding.Error, finding.Manual, finding.Waived, finding.Attested, finding.Pass, finding.NotApplicable} {
		label := string(st)
		if st == finding.NotApplicable {
			label = "not applicable"
		}
		parts = append(parts, c(statusColor[st], fmt.Sprintf("%d %s", s.ByStatus[st], label)))
	}
	return "Summary: " + strings.Join(parts, ", ")
}
