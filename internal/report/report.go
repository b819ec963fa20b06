// Package report renders a finished report in one of the output formats.
// Renderers only render: they read a finding.Report and write bytes, with
// no I/O of their own beyond the writer they are given.
package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/rampart-sec/rampart/internal/finding"
)

// Renderer writes a report in one format.
type Renderer interface {
	Render(w io.Writer, r *finding.Report) error
}

// Options tune the human formats.
type Options struct {
	// Color enables ANSI colours in the text format.
	Color bool
	// Verbose lists passing and not-applicable findings too, and every
	// item of long lists.
	Verbose bool
	// Width is the line width of the text and table formats (0: 100).
	Width int
	// Quiet leaves only the summary (scores and counts) in the text and
	// table formats.
	Quiet bool
}

// Formats lists the formats New accepts.
func Formats() []string {
	return []string{"text", "table", "json", "sarif", "junit", "html"}
}

// New returns the renderer for format.
func New(format string, opt Options) (Renderer, error) {
	switch format {
	case "text", "":
		return Text{Options: opt}, nil
	case "table":
		return Table{Options: opt}, nil
	case "json":
		return JSON{}, nil
	case "sarif":
		return SARIF{}, nil
	case "junit":
		return JUnit{}, nil
	case "html":
		return HTML{}, nil
	}
	return nil, fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats(), ", "))
}

// byTarget groups findings by target, in the report's target order.
func byTarget(r *finding.Report) ([]finding.TargetInfo, map[string][]finding.Finding) {
	groups := map[string][]finding.Finding{}
	for _, f := range r.Findings {
		groups[f.Target] = append(groups[f.Target], f)
	}
	targets := append([]finding.TargetInfo{}, r.Targets...)
	known := map[string]bool{}
	for _, t := range targets {
		known[t.Name] = true
	}
	var extra []string
	for name := range groups {
		if !known[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		targets = append(targets, finding.TargetInfo{Name: name})
	}
	return targets, groups
}
