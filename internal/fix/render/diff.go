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
	// Refused says --apply was asked for and wrote nothing because a fix
	// is in error.
	Refused bool
	// Stamp is the backup stamp of an applied plan.
	Stamp string
	// Width is the summary's line width (report.DefaultWidth when 0), as
	// the scan's text report wraps.
	Width int
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
	if c.Action == fix.Chmod {
		fmt.Fprintln(w, pt.paint(bold, fmt.Sprintf("# %s: %s: %s", path.Base(c.Path), rules, modeChange(c))))
		return nil
	}
	if c.Binary {
		verb := "replaced"
		if c.Action == fix.Create {
			verb = "created"
		}
		fmt.Fprintln(w, pt.paint(bold, fmt.Sprintf("Binary file %s %s (%s): %s", b, verb, rules, c.Summary)))
		if modeChanged(c) {
			fmt.Fprintln(w, pt.paint(bold, "# "+path.Base(c.Path)+": "+modeChange(c)))
		}
		return nil
	}
	d := udiff.Unified(a, b, string(c.Before), string(c.After))
	if d == "" {
		return nil
	}
	head := "# " + path.Base(c.Path) + ": " + rules
	if len(fix.ReadOnly([]*fix.Change{c})) > 0 {
		head += " (read-only now: --apply needs write permission)"
	}
	fmt.Fprintln(w, pt.paint(bold, head))
	if modeChanged(c) {
		fmt.Fprintln(w, pt.paint(bold, "# "+path.Base(c.Path)+": "+modeChange(c)))
	}
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

// modeChanged: an existing file gets a new mode.
func modeChanged(c *fix.Change) bool {
	return c.Action != fix.Create && c.ModeBefore != 0 && c.Mode != c.ModeBefore
}

// modeChange says what a mode change does ("mode 0644 -> 0640 of b/PATH"),
// shown as a comment: a unified diff has no line for it.
func modeChange(c *fix.Change) string {
	return fmt.Sprintf("mode %s -> %s of b/%s", modeString(c.ModeBefore), modeString(c.Mode), c.Path)
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
