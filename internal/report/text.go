package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/rampart-sec/rampart/internal/finding"
)

// Text writes a report for people: one section per target with the
// findings that need attention first, each with its message, evidence and
// fix, wrapped to Options.Width; the manual rules once for all the targets
// they apply to; then each target's score and a summary line. Long lists
// are summarised ("+33 more; -v for all") unless Verbose.
type Text struct{ Options }

const (
	ansiReset   = "\x1b[0m"
	ansiBold    = "\x1b[1m"
	ansiDim     = "\x1b[2m"
	ansiRed     = "\x1b[31m"
	ansiGreen   = "\x1b[32m"
	ansiYellow  = "\x1b[33m"
	ansiBlue    = "\x1b[34m"
	ansiMagenta = "\x1b[35m"
	ansiCyan    = "\x1b[36m"
	ansiBoldRed = "\x1b[1;31m"
)

func ansiStatus(k finding.Status) (string, bool) {
	switch k {
	case finding.Fail:
		return ansiRed, true
	case finding.Error:
		return ansiYellow, true
	case finding.Manual:
		return ansiCyan, true
	case finding.Waived:
		return ansiBlue, true
	case finding.Attested:
		return ansiBlue, true
	case finding.Pass:
		return ansiGreen, true
	case finding.NotApplicable:
		return ansiDim, true
	}
	return "", false
}

func ansiSeverity(k finding.Severity) (string, bool) {
	switch k {
	case finding.Critical:
		return ansiBoldRed, true
	case finding.High:
		return ansiRed, true
	case finding.Medium:
		return ansiYellow, true
	case finding.Low:
		return ansiBlue, true
	case finding.Info:
		return ansiDim, true
	}
	return "", false
}

// statusRank orders statuses as finding.Statuses lists them.
func statusRank(s finding.Status) int {
	for i, st := range finding.Statuses() {
		if st == s {
			return i
		}
	}
	return len(finding.Statuses())
}

// Layout of a finding: "  STATUS  severity RULE-ID  title", details
// indented under the severity.
const (
	statusWidth = 9
	sevWidth    = 9
	idWidth     = 9
	// detailIndent is where messages, evidence and fixes start.
	detailIndent = 2 + statusWidth
	// titleIndent is where a finding's title starts.
	titleIndent = detailIndent + sevWidth + idWidth
	// groupErrors is how many rules must share an error before the text
	// report shows them as one.
	groupErrors = 3
	// evidencePerPath is how many evidence items of one fact are shown
	// before the rest is summarised; evidenceLines bounds one item and
	// messageLines a message.
	evidencePerPath = 3
	evidenceLines   = 3
	messageLines    = 3
	// targetsListed is how many targets a grouped manual rule names.
	targetsListed = 3
	// scoresListed is how many target scores the summary lists before it
	// summarises the rest.
	scoresListed = 20
)

// textWriter holds the state of one rendering.
type textWriter struct {
	Options
	w     *bufio.Writer
	width int
}

func (t *textWriter) c(code, s string) string {
	if !t.Color || s == "" {
		return s
	}
	return code + s + ansiReset
}

// para writes text wrapped to the width: the first line after first (a
// label or an indent whose visible width is firstWidth), the next ones
// indented by indent.
func (t *textWriter) para(first string, firstWidth, indent int, text string) {
	t.paraN(first, firstWidth, indent, text, 0)
}

// paraN is para keeping at most maxLines lines (0: all), the last one
// ending in "…" when text was cut.
func (t *textWriter) paraN(first string, firstWidth, indent int, text string, maxLines int) {
	lines := wrapHanging(text, max(t.width-firstWidth, 10), max(t.width-indent, 10))
	if maxLines > 0 && len(lines) > maxLines {
		lines = lines[:maxLines]
		last := lines[maxLines-1]
		capacity := t.width - indent
		if maxLines == 1 {
			capacity = t.width - firstWidth
		}
		lines[maxLines-1] = truncate(last+" …", max(capacity, 2))
		if visible(last)+2 > capacity {
			lines[maxLines-1] = truncate(last, max(capacity, 2))
		}
	}
	for i, l := range lines {
		if i == 0 {
			fmt.Fprintf(t.w, "%s%s\n", first, l)
			continue
		}
		fmt.Fprintf(t.w, "%s%s\n", strings.Repeat(" ", indent), l)
	}
}

// Render implements Renderer.
func (o Text) Render(w io.Writer, r *finding.Report) error {
	t := &textWriter{Options: o.Options, w: bufio.NewWriter(w), width: o.Width}
	if t.width <= 0 {
		t.width = DefaultWidth
	}
	t.width = max(t.width, minWidth)
	t.para("", 0, 2, fmt.Sprintf("%s %s: %s, %s", r.Tool.Name, r.Tool.Version, plural(len(r.Targets), "target"), plural(len(r.Findings), "finding")))
	if r.Interrupted {
		t.para("", 0, 2, t.c(ansiYellow, "interrupted: the report holds only the targets that finished"))
	}
	targets, groups := byTarget(r)
	manual := t.manualGroups(targets, groups)
	if !t.Quiet {
		for _, ti := range targets {
			t.target(ti, groups[ti.Name], manual)
		}
		t.manualSection(manual)
	}
	if fs := fleetSummary(r, t.c); fs != "" {
		fmt.Fprintln(t.w)
		for _, l := range strings.Split(strings.TrimSuffix(fs, "\n"), "\n") {
			t.para("", 0, 4, l)
		}
	}
	t.scores(targets)
	fmt.Fprintln(t.w)
	t.summary(r.Summary)
	return t.w.Flush()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func sortFindings(fs []finding.Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if statusRank(a.Status) != statusRank(b.Status) {
			return statusRank(a.Status) < statusRank(b.Status)
		}
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		return a.RuleID < b.RuleID
	})
}

// manualGroup is a manual rule listed once for every target it awaits an
// attestation on.
type manualGroup struct {
	f       finding.Finding
	targets []string
}

// grouped reports whether a finding is shown in the manual section rather
// than under its target: a manual finding without an exception to tell.
func grouped(f finding.Finding) bool {
	return f.Status == finding.Manual && f.Exception == nil
}

func (t *textWriter) manualGroups(targets []finding.TargetInfo, groups map[string][]finding.Finding) []*manualGroup {
	var out []*manualGroup
	byRule := map[string]*manualGroup{}
	for _, ti := range targets {
		for _, f := range groups[ti.Name] {
			if !grouped(f) {
				continue
			}
			g := byRule[f.RuleID]
			if g == nil {
				g = &manualGroup{f: f}
				byRule[f.RuleID] = g
				out = append(out, g)
			}
			g.targets = append(g.targets, ti.Name)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].f.Severity != out[j].f.Severity {
			return out[i].f.Severity > out[j].f.Severity
		}
		return out[i].f.RuleID < out[j].f.RuleID
	})
	return out
}

func (t *textWriter) target(ti finding.TargetInfo, fs []finding.Finding, manual []*manualGroup) {
	sortFindings(fs)
	header := t.c(ansiBold, ti.Name) + describe(ti)
	if ti.Score != nil {
		header += "  " + t.scoreLabel(ti.Score)
	}
	fmt.Fprintln(t.w)
	t.para("", 0, 2, header)
	for _, e := range ti.Errors {
		t.para("  "+t.c(ansiYellow, "collector error:")+" ", 19, 4, e)
	}
	// Many rules ending in error for one reason (an endpoint that refuses
	// connections) are shown once, with the rules listed.
	sameError := map[string][]string{}
	for _, f := range fs {
		if f.Status == finding.Error {
			sameError[f.Message] = append(sameError[f.Message], f.RuleID)
		}
	}
	shown := map[string]bool{}
	hidden := map[finding.Status]int{}
	manualHere := 0
	for _, f := range fs {
		if grouped(f) {
			manualHere++
			continue
		}
		if !t.Verbose && (f.Status == finding.Pass || f.Status == finding.NotApplicable) {
			hidden[f.Status]++
			continue
		}
		if ids := sameError[f.Message]; f.Status == finding.Error && len(ids) >= groupErrors {
			if !shown[f.Message] {
				shown[f.Message] = true
				t.label(finding.Error)
				t.para("", detailIndent, detailIndent, fmt.Sprintf("%d rules could not be determined: %s", len(ids), f.Message))
				t.para(strings.Repeat(" ", detailIndent), detailIndent, detailIndent, strings.Join(ids, " "))
			}
			continue
		}
		t.finding(f)
	}
	var notes []string
	if manualHere > 0 {
		notes = append(notes, fmt.Sprintf("%d manual (listed once below)", manualHere))
	}
	if len(hidden) > 0 {
		notes = append(notes, fmt.Sprintf("%d passed, %d not applicable (-v to list them)", hidden[finding.Pass], hidden[finding.NotApplicable]))
	}
	if len(notes) > 0 {
		t.para("  ", 2, 2, t.c(ansiDim, strings.Join(notes, "; ")))
	}
}

// label writes a status label without a newline ("  ERROR  ").
func (t *textWriter) label(st finding.Status) {
	fmt.Fprintf(t.w, "  %s", t.c(ansiStatusOf(st), fmt.Sprintf("%-*s", statusWidth, statusLabel(st))))
}

func statusLabel(st finding.Status) string {
	if st == finding.NotApplicable {
		return "N/A"
	}
	return strings.ToUpper(string(st))
}

// head writes a finding's first line: status, severity, rule and title.
func (t *textWriter) head(st finding.Status, f finding.Finding, suffix string) {
	t.label(st)
	sev := t.c(ansiSeverityOf(f.Severity), fmt.Sprintf("%-*s", sevWidth, f.Severity))
	id := fmt.Sprintf("%-*s", idWidth, f.RuleID)
	if utf8.RuneCountInString(f.RuleID) >= idWidth {
		id = f.RuleID + " "
	}
	first := sev + id
	t.para(first, detailIndent+sevWidth+utf8.RuneCountInString(id), titleIndent, f.Title+suffix)
}

func (t *textWriter) message(msg string) {
	msg = reflow(msg)
	if !t.Verbose {
		msg = summarize(msg, messageLines*(t.width-detailIndent))
	}
	t.para(strings.Repeat(" ", detailIndent), detailIndent, detailIndent, msg)
}

func (t *textWriter) finding(f finding.Finding) {
	t.head(f.Status, f, "")
	if f.Message != "" && f.Message != f.Title {
		t.message(f.Message)
	}
	pad := strings.Repeat(" ", detailIndent)
	if f.Exception != nil && !f.Exception.Expired {
		t.para(pad, detailIndent, detailIndent, fmt.Sprintf("%s by %s until %s: %s", f.Exception.Kind, f.Exception.By, f.Exception.Expires, f.Exception.Reason))
	}
	if f.Status == finding.Pass || f.Status == finding.NotApplicable {
		return
	}
	t.evidence(f.Evidence)
	if f.Status == finding.Fail && f.Remediation != "" {
		t.para(pad+t.c(ansiDim, "fix:")+" ", detailIndent+5, detailIndent+5, reflow(f.Remediation))
	}
}

// evidence writes a finding's evidence, one item a line; unless Verbose, a
// fact with many items shows the first few and how many more there are,
// and a long value is cut.
func (t *textWriter) evidence(es []finding.Evidence) {
	const label = "evidence: "
	pad := strings.Repeat(" ", detailIndent)
	indent := detailIndent + len(label)
	perPath := map[string]int{}
	for _, e := range es {
		perPath[e.Path]++
	}
	shown := map[string]int{}
	for _, e := range es {
		// One more item is shown rather than "+1 more".
		summarised := !t.Verbose && perPath[e.Path] > evidencePerPath+1
		if summarised && shown[e.Path] == evidencePerPath {
			shown[e.Path]++
			t.para(pad+t.c(ansiDim, label), indent, indent, fmt.Sprintf("%s: %s", e.Path, moreHint(perPath[e.Path]-evidencePerPath)))
			continue
		}
		if summarised && shown[e.Path] > evidencePerPath {
			continue
		}
		shown[e.Path]++
		where := e.Location()
		if where != "" {
			where += " "
		}
		text := where + e.Path + " = " + e.Value
		lines := evidenceLines
		if t.Verbose {
			lines = 0
		}
		t.paraN(pad+t.c(ansiDim, label), indent, indent, text, lines)
	}
}

// manualSection lists each manual rule once, with the targets it awaits an
// attestation on.
func (t *textWriter) manualSection(groups []*manualGroup) {
	if len(groups) == 0 {
		return
	}
	fmt.Fprintln(t.w)
	t.para("", 0, 0, t.c(ansiBold, "Manual rules: attest them with --attestations (each listed once, with its targets)"))
	pad := strings.Repeat(" ", detailIndent)
	for _, g := range groups {
		t.head(finding.Manual, g.f, "")
		if g.f.Message != "" && g.f.Message != g.f.Title {
			t.message(g.f.Message)
		}
		names := g.targets
		more := 0
		if !t.Verbose && len(names) > targetsListed {
			more = len(names) - targetsListed
			names = names[:targetsListed]
		}
		list := strings.Join(names, ", ")
		if more > 0 {
			list += ", " + moreHint(more)
		}
		on := fmt.Sprintf("on %s:", plural(len(g.targets), "target"))
		t.para(pad+t.c(ansiDim, on)+" ", detailIndent+len(on)+1, detailIndent+4, list)
	}
}

func (t *textWriter) scoreLabel(s *finding.Score) string {
	code := ansiGreen
	switch {
	case s.Value < 50:
		code = ansiRed
	case s.Value < 80:
		code = ansiYellow
	}
	return t.c(code, fmt.Sprintf("score %d/100", s.Value))
}

// scores lists each target's score, lowest first; a fleet shows the
// lowest ones and the average of all.
func (t *textWriter) scores(targets []finding.TargetInfo) {
	var scored []finding.TargetInfo
	for _, ti := range targets {
		if ti.Score != nil {
			scored = append(scored, ti)
		}
	}
	if len(scored) == 0 {
		return
	}
	sort.SliceStable(scored, func(i, j int) bool { return scored[i].Score.Value < scored[j].Score.Value })
	fmt.Fprintf(t.w, "\n%s\n", t.c(ansiBold, "Scores"))
	t.para("  ", 2, 2, t.c(ansiDim, "0-100: the passing share of the rules judged, weighted by severity (critical 10, high 7, medium 4, low 2, info 1); manual rules and errors excluded"))
	shown := scored
	if !t.Verbose && len(shown) > scoresListed {
		shown = shown[:scoresListed]
	}
	for _, ti := range shown {
		s := ti.Score
		detail := fmt.Sprintf("%d of %d rules pass", s.Passed, s.Judged)
		if s.Undetermined > 0 {
			detail += fmt.Sprintf(", %d undetermined", s.Undetermined)
		}
		label := fmt.Sprintf("  %3d  ", s.Value)
		t.para(t.c(t.scoreColor(s), label), len(label), len(label), truncateLeft(ti.Name, t.width-len(label))+"  "+t.c(ansiDim, "("+detail+")"))
	}
	if len(shown) < len(scored) {
		sum := 0
		for _, ti := range scored {
			sum += ti.Score.Value
		}
		t.para("  ", 2, 2, t.c(ansiDim, fmt.Sprintf("the %d lowest of %d targets; average %d; -v for all", len(shown), len(scored), (sum+len(scored)/2)/len(scored))))
	}
}

func (t *textWriter) scoreColor(s *finding.Score) string {
	switch {
	case s.Value < 50:
		return ansiRed
	case s.Value < 80:
		return ansiYellow
	}
	return ansiGreen
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

// summary writes the summary line, wrapped.
func (t *textWriter) summary(s finding.Summary) {
	line := summaryLine(s, t.c)
	t.para("Summary: ", 9, 9, strings.TrimPrefix(line, "Summary: "))
}

func summaryLine(s finding.Summary, c func(string, string) string) string {
	var sev []string
	for i := len(finding.Severities()) - 1; i >= 0; i-- {
		sv := finding.Severities()[i]
		if n := s.BySeverity[sv.String()]; n > 0 {
			sev = append(sev, c(ansiSeverityOf(sv), fmt.Sprintf("%d %s", n, sv)))
		}
	}
	fail := c(ansiStatusOf(finding.Fail), fmt.Sprintf("%d fail", s.ByStatus[finding.Fail]))
	if len(sev) > 0 {
		fail += " (" + strings.Join(sev, ", ") + ")"
	}
	parts := []string{fail}
	for _, st := range []finding.Status{finding.Error, finding.Manual, finding.Waived, finding.Attested, finding.Pass, finding.NotApplicable} {
		label := string(st)
		if st == finding.NotApplicable {
			label = "not applicable"
		}
		parts = append(parts, c(ansiStatusOf(st), fmt.Sprintf("%d %s", s.ByStatus[st], label)))
	}
	return "Summary: " + strings.Join(parts, ", ")
}

// ansiStatusOf is the terminal colour of a status.
func ansiStatusOf(s finding.Status) string {
	c, _ := ansiStatus(s)
	return c
}

// ansiSeverityOf is the terminal colour of a severity.
func ansiSeverityOf(s finding.Severity) string {
	c, _ := ansiSeverity(s)
	return c
}
