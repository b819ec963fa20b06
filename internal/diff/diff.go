// Package diff compares two rampart JSON reports, typically of the same
// inventory scanned from two vantage points (the DMZ and the internal
// zone): which targets each one reached, which open ports each one saw on
// every node, and which findings ended differently. It does no I/O beyond
// reading the reports it is handed.
package diff

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/jsonstrict"
)

// maxReportSize bounds a report read from disk.
const maxReportSize = 256 << 20

// Read parses a JSON report, refusing anything that is not one.
func Read(r io.Reader, name string) (*finding.Report, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxReportSize+1))
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", name, err)
	}
	if len(data) > maxReportSize {
		return nil, fmt.Errorf("report %s: larger than %d bytes", name, maxReportSize)
	}
	var rep finding.Report
	if err := jsonstrict.Decode(bytes.NewReader(data), &rep); err != nil {
		if errors.Is(err, jsonstrict.ErrTrailing) {
			return nil, fmt.Errorf("report %s: %w", name, err)
		}
		return nil, fmt.Errorf("report %s: not a rampart JSON report: %w", name, err)
	}
	if rep.SchemaVersion == "" {
		return nil, fmt.Errorf("report %s: no schemaVersion: not a rampart JSON report (scan with --format json)", name)
	}
	major, _, _ := strings.Cut(rep.SchemaVersion, ".")
	want, _, _ := strings.Cut(finding.SchemaVersion, ".")
	if major != want {
		return nil, fmt.Errorf("report %s: schema version %s, this rampart reads %s.x", name, rep.SchemaVersion, want)
	}
	for i, t := range rep.Targets {
		if t.Name == "" {
			return nil, fmt.Errorf("report %s: target %d has no name", name, i+1)
		}
	}
	return &rep, nil
}

// Side describes one of the two reports.
type Side struct {
	// Name is how the user named the report (its file name).
	Name string `json:"name"`
	// Roles are the vantage points its targets were scanned from.
	Roles       []string `json:"roles"`
	Interrupted bool     `json:"interrupted,omitempty"`
}

// Label names the side for people: "a.json (dmz)".
func (s Side) Label() string {
	if len(s.Roles) == 0 {
		return s.Name
	}
	return s.Name + " (" + strings.Join(s.Roles, ",") + ")"
}

// Result is what differs between report A and report B.
type Result struct {
	A Side `json:"a"`
	B Side `json:"b"`
	// Identical is true when both reached the same targets, saw the same
	// open ports and ended every finding with the same status.
	Identical bool `json:"identical"`
	// Targets lists the targets that differ, by name.
	Targets []Target `json:"targets"`
	Summary Summary  `json:"summary"`
}

// Summary counts the differences.
type Summary struct {
	Targets  int `json:"targets"`
	OnlyA    int `json:"onlyA"`
	OnlyB    int `json:"onlyB"`
	Ports    int `json:"ports"`
	Findings int `json:"findings"`
}

// Target is what differs about one target.
type Target struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Only is "a" or "b" when just one report has the target (the other
	// vantage point did not reach it, or did not find it).
	Only string `json:"only,omitempty"`
	// PortsOnlyA and PortsOnlyB are open ports (port/service) only one side
	// saw; PortsChanged the ports both saw with a different service.
	PortsOnlyA   []string `json:"portsOnlyA,omitempty"`
	PortsOnlyB   []string `json:"portsOnlyB,omitempty"`
	PortsChanged []string `json:"portsChanged,omitempty"`
	// Findings whose status differs (or that only one side has).
	Findings []Finding `json:"findings,omitempty"`
}

// Finding is one rule's verdict on both sides; a nil side did not judge it.
type Finding struct {
	Rule     string       `json:"rule"`
	Title    string       `json:"title"`
	Severity string       `json:"severity"`
	A        *FindingSide `json:"a"`
	B        *FindingSide `json:"b"`
}

// FindingSide is the status and message on one side.
type FindingSide struct {
	Status  finding.Status `json:"status"`
	Message string         `json:"message,omitempty"`
}

// Compare diffs two reports. aName and bName label them.
func Compare(a, b *finding.Report, aName, bName string) *Result {
	res := &Result{A: side(a, aName), B: side(b, bName), Targets: []Target{}}
	ta, tb := targets(a), targets(b)
	fa, fb := findings(a), findings(b)
	names := map[string]bool{}
	for n := range ta {
		names[n] = true
	}
	for n := range tb {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		x, inA := ta[n]
		y, inB := tb[n]
		d := Target{Name: displayName(n, x, y, inA, inB), Kind: x.Kind}
		if !inA {
			d.Kind = y.Kind
		}
		switch {
		case !inA:
			d.Only = "b"
			res.Summary.OnlyB++
		case !inB:
			d.Only = "a"
			res.Summary.OnlyA++
		}
		d.PortsOnlyA, d.PortsOnlyB, d.PortsChanged = ports(x.OpenPorts, y.OpenPorts)
		res.Summary.Ports += len(d.PortsOnlyA) + len(d.PortsOnlyB) + len(d.PortsChanged)
		d.Findings = findingDiffs(fa[n], fb[n])
		res.Summary.Findings += len(d.Findings)
		if d.Only != "" || len(d.PortsOnlyA)+len(d.PortsOnlyB)+len(d.PortsChanged)+len(d.Findings) > 0 {
			res.Targets = append(res.Targets, d)
		}
	}
	res.Summary.Targets = len(res.Targets)
	res.Identical = len(res.Targets) == 0
	return res
}

func side(r *finding.Report, name string) Side {
	s := Side{Name: name, Roles: []string{}, Interrupted: r.Interrupted}
	for _, t := range r.Targets {
		if t.Role != "" && !slices.Contains(s.Roles, t.Role) {
			s.Roles = append(s.Roles, t.Role)
		}
	}
	sort.Strings(s.Roles)
	return s
}

// key is what targets are matched on: their identity (a directory's
// absolute path, an endpoint's host:port, an inventory name), or the name
// in a report written before targets had one.
func key(t finding.TargetInfo) string {
	if t.ID != "" {
		return t.ID
	}
	return t.Name
}

func targets(r *finding.Report) map[string]finding.TargetInfo {
	m := make(map[string]finding.TargetInfo, len(r.Targets))
	for _, t := range r.Targets {
		m[key(t)] = t
	}
	return m
}

func findings(r *finding.Report) map[string]map[string]finding.Finding {
	keys := make(map[string]string, len(r.Targets))
	for _, t := range r.Targets {
		keys[t.Name] = key(t)
	}
	m := map[string]map[string]finding.Finding{}
	for _, f := range r.Findings {
		k, ok := keys[f.Target]
		if !ok {
			k = f.Target
		}
		if m[k] == nil {
			m[k] = map[string]finding.Finding{}
		}
		m[k][f.RuleID] = f
	}
	return m
}

// displayName names a matched target: its name, or both names when the
// two reports spell it differently (127.0.0.1:8443 and https://127.0.0.1:8443/).
func displayName(k string, x, y finding.TargetInfo, inA, inB bool) string {
	switch {
	case inA && inB && x.Name != y.Name:
		return x.Name + " = " + y.Name
	case inA:
		return x.Name
	case inB:
		return y.Name
	}
	return k
}

// ports compares two port/service lists by port number.
func ports(a, b []string) (onlyA, onlyB, changed []string) {
	pa, pb := portMap(a), portMap(b)
	for _, p := range sortedKeys(pa) {
		sb, ok := pb[p]
		switch {
		case !ok:
			onlyA = append(onlyA, p+"/"+pa[p])
		case sb != pa[p]:
			changed = append(changed, fmt.Sprintf("%s: %s / %s", p, pa[p], sb))
		}
	}
	for _, p := range sortedKeys(pb) {
		if _, ok := pa[p]; !ok {
			onlyB = append(onlyB, p+"/"+pb[p])
		}
	}
	return onlyA, onlyB, changed
}

func portMap(list []string) map[string]string {
	m := make(map[string]string, len(list))
	for _, s := range list {
		p, svc, _ := strings.Cut(s, "/")
		m[p] = svc
	}
	return m
}

// sortedKeys orders port numbers numerically (shorter strings first).
func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) < len(out[j])
		}
		return out[i] < out[j]
	})
	return out
}

// findingDiffs lists the rules whose status differs between the sides.
func findingDiffs(a, b map[string]finding.Finding) []Finding {
	ids := map[string]bool{}
	for id := range a {
		ids[id] = true
	}
	for id := range b {
		ids[id] = true
	}
	var out []Finding
	for _, id := range sortedSet(ids) {
		x, inA := a[id]
		y, inB := b[id]
		if inA && inB && x.Status == y.Status {
			continue
		}
		f := Finding{Rule: id}
		for _, v := range []struct {
			in  bool
			f   finding.Finding
			dst **FindingSide
		}{{inA, x, &f.A}, {inB, y, &f.B}} {
			if !v.in {
				continue
			}
			*v.dst = &FindingSide{Status: v.f.Status, Message: v.f.Message}
			f.Title, f.Severity = v.f.Title, v.f.Severity.String()
		}
		out = append(out, f)
	}
	return out
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ErrFormat is returned for an unknown output format.
var ErrFormat = errors.New("unknown format")

// Formats lists the output formats.
func Formats() []string { return []string{"text", "json"} }

// Render writes res in format ("text" or "json").
func Render(w io.Writer, res *Result, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(res)
	case "text":
		return renderText(w, res)
	}
	return fmt.Errorf("%w %q (want %s)", ErrFormat, format, strings.Join(Formats(), ", "))
}

func renderText(w io.Writer, res *Result) error {
	var b strings.Builder
	a, bl := res.A.Label(), res.B.Label()
	fmt.Fprintf(&b, "rampart diff: A = %s, B = %s\n", a, bl)
	for _, s := range []Side{res.A, res.B} {
		if s.Interrupted {
			fmt.Fprintf(&b, "note: %s was interrupted; it holds only the targets that finished\n", s.Name)
		}
	}
	if res.Identical {
		b.WriteString("\nidentical: both reached the same targets, saw the same open ports and judged every rule the same\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	for _, t := range res.Targets {
		fmt.Fprintf(&b, "\n%s", t.Name)
		if t.Kind != "" {
			fmt.Fprintf(&b, " (%s)", t.Kind)
		}
		b.WriteString("\n")
		switch t.Only {
		case "a":
			fmt.Fprintf(&b, "  only in A: B (%s) did not reach or find it\n", bl)
		case "b":
			fmt.Fprintf(&b, "  only in B: A (%s) did not reach or find it\n", a)
		}
		if len(t.PortsOnlyA) > 0 {
			fmt.Fprintf(&b, "  open only from A: %s\n", strings.Join(t.PortsOnlyA, ", "))
		}
		if len(t.PortsOnlyB) > 0 {
			fmt.Fprintf(&b, "  open only from B: %s\n", strings.Join(t.PortsOnlyB, ", "))
		}
		if len(t.PortsChanged) > 0 {
			fmt.Fprintf(&b, "  service differs (A / B): %s\n", strings.Join(t.PortsChanged, ", "))
		}
		if t.Only != "" {
			fmt.Fprintf(&b, "  %d finding(s) on one side only\n", len(t.Findings))
			continue
		}
		for _, f := range t.Findings {
			fmt.Fprintf(&b, "  %-8s %-8s %s: A %s, B %s\n", f.Rule, f.Severity, f.Title, status(f.A), status(f.B))
			for _, s := range []struct {
				n string
				f *FindingSide
			}{{"A", f.A}, {"B", f.B}} {
				if s.f != nil && s.f.Message != "" && (s.f.Status == finding.Fail || s.f.Status == finding.Error) {
					fmt.Fprintf(&b, "           %s: %s\n", s.n, s.f.Message)
				}
			}
		}
	}
	s := res.Summary
	fmt.Fprintf(&b, "\n%d target(s) differ (%d only in A, %d only in B), %d open port(s), %d finding(s)\n",
		s.Targets, s.OnlyA, s.OnlyB, s.Ports, s.Findings)
	_, err := io.WriteString(w, b.String())
	return err
}

func status(s *FindingSide) string {
	if s == nil {
		return "-"
	}
	return string(s.Status)
}
