package render

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/rampart-sec/rampart/internal/fix"
	"github.com/rampart-sec/rampart/internal/report"
)

// item is one line of a rule's summary: a clause of its details, the
// inputs to pass, a command to run or a to-do.
type item struct{ prefix, text string }

func (i item) key() string { return i.prefix + i.text }

func itemsOf(r fix.Result, hoisted map[string]bool) []item {
	var out []item
	details := r.Details
	if len(details) == 0 && r.Summary != "" {
		details = []string{r.Summary}
	}
	for _, d := range details {
		out = append(out, item{"", d})
	}
	if len(r.Inputs) > 0 {
		out = append(out, item{"needs: ", strings.Join(r.Inputs, "; ")})
	}
	for _, c := range r.Commands {
		out = append(out, item{"run: ", c})
	}
	for _, t := range r.Todo {
		if !hoisted[t] {
			out = append(out, item{"then: ", t})
		}
	}
	return out
}

// summary lays the per-rule summary out at a width: each clause on its own
// line, wrapped with a hanging indent; a rule whose lines include all of
// an earlier rule's says "same as RULE" instead of repeating them, and a
// single line shared with an earlier rule is shortened and points to it;
// a to-do every fixed rule of a target shares (restart the product) is said
// once for the target.
type summary struct {
	w     io.Writer
	pt    painter
	width int
}

func writeSummary(w io.Writer, pt painter, p *fix.Plan, o Options) {
	width := o.Width
	if width <= 0 {
		width = report.DefaultWidth
	}
	s := &summary{w: w, pt: pt, width: max(width, report.MinWidth)}
	head := "Summary (dry run: nothing was written; --apply writes it)"
	switch {
	case o.Applied:
		head = "Summary (applied; backups FILE.rampart-" + o.Stamp + ", undo with --undo " + o.Stamp + ")"
	case o.Refused:
		head = "Summary (--apply wrote nothing: every error below must be resolved first)"
	case p.Count(fix.Failed) > 0:
		head = "Summary (dry run: nothing was written; --apply refuses until the errors below are resolved)"
	}
	fmt.Fprintln(w, pt.paint(bold, head))
	readOnly := fix.ReadOnly(p.Changes)
	for _, t := range targetsOf(p) {
		fmt.Fprintln(w, "  "+pt.paint(bold, t))
		for _, n := range p.Notes {
			if n.Target == t {
				s.lines("    ", "note: ", n.Text)
			}
		}
		s.target(p, t)
		if !o.Applied && !o.Refused {
			var files []string
			for _, c := range readOnly {
				if c.Target == t {
					files = append(files, c.Path+" (mode "+modeString(c.ModeBefore)+")")
				}
			}
			if len(files) > 0 {
				s.lines("    ", pt.paint(yellow, "warning: "), "read-only now: "+strings.Join(files, ", ")+
					": --apply needs write permission on each (chmod u+w) and writes nothing at all until it has it")
			}
		}
	}
	for _, v := range p.Validations {
		s.lines("  ", "checked: ", v)
	}
	counts := fmt.Sprintf("%d fixed, %d need input, %d manual, %d errors; ",
		p.Count(fix.Fixed), p.Count(fix.NeedsInput), p.Count(fix.Manual), p.Count(fix.Failed))
	n := len(p.Changes)
	switch {
	case o.Applied:
		counts += plural(n, "file") + " changed"
	case o.Refused:
		counts += "nothing written (" + plural(n, "file") + " would change)"
	default:
		counts += plural(n, "file") + " to change"
		if len(readOnly) > 0 {
			counts += fmt.Sprintf(", %d of them read-only now", len(readOnly))
		}
	}
	s.lines("", "", counts)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// targetsOf lists the targets of a plan's results, notes and changes, in
// order.
func targetsOf(p *fix.Plan) []string {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, r := range p.Results {
		add(r.Target)
	}
	for _, n := range p.Notes {
		add(n.Target)
	}
	for _, c := range p.Changes {
		add(c.Target)
	}
	sort.Strings(out)
	return out
}

// target writes one target's results.
func (s *summary) target(p *fix.Plan, t string) {
	var rs []fix.Result
	for _, r := range p.Results {
		if r.Target == t {
			rs = append(rs, r)
		}
	}
	hoisted, order := commonTodos(rs)
	colour := map[fix.Status]string{fix.Fixed: green, fix.NeedsInput: yellow, fix.Manual: cyan, fix.Failed: red}
	first := map[string]string{} // item -> the rule that showed it first
	var shown []shownRule
	for _, r := range rs {
		items := itemsOf(r, hoisted)
		keys := map[string]bool{}
		for _, it := range items {
			keys[it.key()] = true
		}
		// The earlier rule with the most lines, all of which this one has.
		same, most := "", 0
		for _, e := range shown {
			if len(e.keys) <= most || !e.hasDetail {
				continue
			}
			all := true
			for k := range e.keys {
				all = all && keys[k]
			}
			if all {
				same, most = e.rule, len(e.keys)
			}
		}
		word, _ := statusWordOf(r.Status)
		label := fmt.Sprintf("    %s %-8s ", s.pt.paint(colour[r.Status], fmt.Sprintf("%-11s", word)), r.Rule)
		indent := strings.Repeat(" ", report.Visible(label))
		lead := label
		emit := func(prefix, text string) {
			s.lines(lead, prefix, text)
			lead = indent
		}
		if same != "" {
			var rest []item
			for _, it := range items {
				if !shownBy(shown, same)[it.key()] {
					rest = append(rest, it)
				}
			}
			text := "same as " + same
			if len(rest) > 0 {
				text += ", and:"
			}
			emit("", text)
			items = rest
		}
		for _, it := range items {
			// A shared clause longer than a line is shortened to one,
			// pointing to the rule that says it whole.
			at := report.Visible(indent) + report.Visible(it.prefix)
			if by, ok := first[it.key()]; ok && by != r.Rule && it.prefix != "needs: " && report.Visible(it.text) > s.width-at {
				emit(it.prefix, s.shorten(at, it.text, " (as "+by+")"))
				continue
			}
			emit(it.prefix, it.text)
		}
		if len(items) == 0 && same == "" {
			emit("", "")
		}
		for _, it := range itemsOf(r, hoisted) {
			if _, ok := first[it.key()]; !ok {
				first[it.key()] = r.Rule
			}
		}
		hasDetail := false
		for _, it := range itemsOf(r, hoisted) {
			hasDetail = hasDetail || it.prefix == ""
		}
		shown = append(shown, shownRule{r.Rule, keys, hasDetail})
	}
	for _, t := range order {
		s.lines("    ", "then, for all of the above: ", t)
	}
}

// shownRule is a rule already written and its lines.
type shownRule struct {
	rule      string
	keys      map[string]bool
	hasDetail bool
}

func shownBy(shown []shownRule, rule string) map[string]bool {
	for _, e := range shown {
		if e.rule == rule {
			return e.keys
		}
	}
	return nil
}

// commonTodos are the to-dos every fixed result has, when there are at
// least two (restart the product): said once per target.
func commonTodos(rs []fix.Result) (map[string]bool, []string) {
	var fixed []fix.Result
	for _, r := range rs {
		if r.Status == fix.Fixed {
			fixed = append(fixed, r)
		}
	}
	out := map[string]bool{}
	var order []string
	if len(fixed) < 2 {
		return out, nil
	}
	for _, t := range fixed[0].Todo {
		all := true
		for _, r := range fixed[1:] {
			found := false
			for _, x := range r.Todo {
				found = found || x == t
			}
			all = all && found
		}
		if all && !out[t] {
			out[t] = true
			order = append(order, t)
		}
	}
	return out, order
}

// shorten fits text and its suffix on one line that starts at column at.
func (s *summary) shorten(at int, text, suffix string) string {
	room := s.width - at - utf8.RuneCountInString(suffix)
	if room < 12 || utf8.RuneCountInString(text) <= room {
		return text + suffix
	}
	cut := []rune(text)[:room-1]
	return strings.TrimRight(string(cut), " ,;:") + "…" + suffix
}

// lines writes lead+prefix+text wrapped at the width: the next lines are
// indented under the text.
func (s *summary) lines(lead, prefix, text string) {
	at := report.Visible(lead) + report.Visible(prefix)
	room := max(s.width-at, 20)
	ls := report.WrapHanging(text, room, room)
	pad := strings.Repeat(" ", at)
	for i, l := range ls {
		if i == 0 {
			fmt.Fprintln(s.w, strings.TrimRight(lead+prefix+l, " "))
			continue
		}
		fmt.Fprintln(s.w, pad+l)
	}
}
