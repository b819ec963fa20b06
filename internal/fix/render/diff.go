// Package render writes a fix plan for people and tools: a unified diff
// with a per-rule summary (colour on a terminal), JSON, or an Ansible
// playbook. It only renders: no file is read or written here.
package render

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/rampart-sec/rampart/internal/fix"
)

// Options shape the output.
type Options struct {
	// Color uses ANSI colours (a terminal that wants them).
	Color bool
	// Applied says the plan was written (the summary says so).
	Applied bool
	// Stamp is the backup stamp of an applied plan.
	Stamp string
}

const (
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	cyan   = "\x1b[36m"
	yellow = "\x1b[33m"
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
)

type painter struct{ on bool }

func (p painter) paint(code, s string) string {
	if !p.on || s == "" {
		return s
	}
	return code + s + reset
}

// Diff writes every change as a unified diff a/PATH b/PATH relative to its
// target's root (patch -p1 applies it from there), binary files as one
// line saying what they hold, then the summary.
func Diff(w io.Writer, p *fix.Plan, o Options) error {
	bw := bufio.NewWriter(w)
	pt := painter{o.Color}
	if p.Nothing() {
		fmt.Fprintln(bw, "nothing to fix")
		return bw.Flush()
	}
	target := ""
	for _, c := range p.Changes {
		if c.Target != target {
			target = c.Target
			fmt.Fprintln(bw, pt.paint(bold, "# rampart fix: "+c.Target+" (files under "+c.Root+")"))
		}
		if err := writeChange(bw, pt, c); err != nil {
			return err
		}
	}
	if len(p.Changes) > 0 {
		fmt.Fprintln(bw)
	}
	writeSummary(bw, pt, p, o)
	return bw.Flush()
}

func writeChange(w io.Writer, pt painter, c *fix.Change) error {
	a, b := "a/"+c.Path, "b/"+c.Path
	if c.Action == fix.Create {
		a = "/dev/null"
	}
	rules := strings.Join(c.Rules, ", ")
	if c.Binary {
		verb := "replaced"
		if c.Action == fix.Create {
			verb = "created"
		}
		fmt.Fprintln(w, pt.paint(bold, fmt.Sprintf("Binary file %s %s (%s): %s", b, verb, rules, c.Summary)))
		return nil
	}
	d := udiff.Unified(a, b, string(c.Before), string(c.After))
	if d == "" {
		return nil
	}
	fmt.Fprintln(w, pt.paint(bold, "# "+path.Base(c.Path)+": "+rules))
	for _, line := range strings.SplitAfter(d, "\n") {
		if line == "" {
			continue
		}
		text := strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(text, "---") || strings.HasPrefix(text, "+++"):
			text = pt.paint(bold, text)
		case strings.HasPrefix(text, "@@"):
			text = pt.paint(cyan, text)
		case strings.HasPrefix(text, "+"):
			text = pt.paint(green, text)
		case strings.HasPrefix(text, "-"):
			text = pt.paint(red, text)
		}
		fmt.Fprintln(w, text)
	}
	return nil
}

func statusWordOf(k fix.Status) (string, bool) {
	switch k {
	case fix.Fixed:
		return "fixed", true
	case fix.NeedsInput:
		return "needs input", true
	case fix.Manual:
		return "manual", true
	case fix.Failed:
		return "error", true
	}
	return "", false
}

func writeSummary(w io.Writer, pt painter, p *fix.Plan, o Options) {
	head := "Summary (dry run: nothing was written; --apply writes it)"
	if o.Applied {
		head = "Summary (applied; backups FILE.rampart-" + o.Stamp + ", undo with --undo " + o.Stamp + ")"
	}
	fmt.Fprintln(w, pt.paint(bold, head))
	colour := map[fix.Status]string{fix.Fixed: green, fix.NeedsInput: yellow, fix.Manual: cyan, fix.Failed: red}
	target := ""
	for _, r := range p.Results {
		if r.Target != target {
			target = r.Target
			fmt.Fprintln(w, "  "+pt.paint(bold, r.Target))
		}
		word, _ := statusWordOf(r.Status)
		fmt.Fprintf(w, "    %s %-8s %s\n", pt.paint(colour[r.Status], fmt.Sprintf("%-11s", word)), r.Rule, r.Summary)
		if len(r.Inputs) > 0 {
			fmt.Fprintf(w, "    %-20s pass %s\n", "", strings.Join(r.Inputs, " "))
		}
		for _, t := range r.Todo {
			fmt.Fprintf(w, "    %-20s then: %s\n", "", t)
		}
	}
	for _, v := range p.Validations {
		fmt.Fprintln(w, "  checked: "+v)
	}
	fmt.Fprintf(w, "%d fixed, %d need input, %d manual, %d errors; %d files changed\n",
		p.Count(fix.Fixed), p.Count(fix.NeedsInput), p.Count(fix.Manual), p.Count(fix.Failed), len(p.Changes))
}
