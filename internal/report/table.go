package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/rampart-sec/rampart/internal/finding"
)

// Table writes one line per failing finding (target, severity, rule,
// title), most severe first, cut to Options.Width, then the summary line:
// for a quick look or grep. Errors and manual rules are counted in the
// summary; the text format shows them.
type Table struct{ Options }

// Render implements Renderer.
func (o Table) Render(w io.Writer, r *finding.Report) error {
	t := &textWriter{Options: o.Options, w: bufio.NewWriter(w), width: o.Width}
	if t.width <= 0 {
		t.width = DefaultWidth
	}
	t.width = max(t.width, minWidth)
	var fails []finding.Finding
	for _, f := range r.Findings {
		if f.Status == finding.Fail {
			fails = append(fails, f)
		}
	}
	sort.SliceStable(fails, func(i, j int) bool {
		a, b := fails[i], fails[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.Target != b.Target {
			return a.Target < b.Target
		}
		return a.RuleID < b.RuleID
	})
	if !t.Quiet && len(fails) > 0 {
		targetWidth := len("TARGET")
		idWidth := len("RULE")
		for _, f := range fails {
			targetWidth = max(targetWidth, len([]rune(f.Target)))
			idWidth = max(idWidth, len(f.RuleID))
		}
		// The target column takes at most a third of the line.
		targetWidth = min(targetWidth, t.width/3)
		const sevCol = 8
		titleWidth := t.width - targetWidth - sevCol - idWidth - 6
		if titleWidth < 10 {
			// Narrow: the target column gives up room to the title.
			targetWidth = max(targetWidth-(10-titleWidth), 8)
			titleWidth = max(t.width-targetWidth-sevCol-idWidth-6, 1)
		}
		fmt.Fprintf(t.w, "%s\n", t.c(ansiBold, fmt.Sprintf("%-*s  %-*s  %-*s  %s", targetWidth, "TARGET", sevCol, "SEVERITY", idWidth, "RULE", "TITLE")))
		for _, f := range fails {
			fmt.Fprintf(t.w, "%-*s  %s  %-*s  %s\n", targetWidth, truncateLeft(f.Target, targetWidth),
				t.c(ansiSeverityOf(f.Severity), fmt.Sprintf("%-*s", sevCol, f.Severity)), idWidth, f.RuleID,
				truncate(strings.Join(strings.Fields(f.Title), " "), titleWidth))
		}
		fmt.Fprintln(t.w)
	}
	t.summary(r.Summary)
	return t.w.Flush()
}
