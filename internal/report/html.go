package report

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
)

//go:embed html/*.tmpl html/style.css
var htmlFS embed.FS

// HTML writes one self-contained HTML file (styles inline, charts as
// inline SVG, no scripts and no external resources) that prints well: the
// same look as the dashboard's target view, for auditors.
type HTML struct{}

// CSS returns the style sheet shared by the report and the dashboard.
func CSS() string {
	b, err := htmlFS.ReadFile("html/style.css")
	if err != nil {
		panic(err) // embedded at build time
	}
	return string(b)
}

// HTMLTemplates returns the shared templates ("target", "finding",
// "status-badge", "severity-badge", "report") with their functions; the
// dashboard clones it and adds its pages.
func HTMLTemplates() *template.Template {
	return template.Must(template.New("rampart").Funcs(TemplateFuncs()).ParseFS(htmlFS, "html/*.tmpl"))
}

// TemplateFuncs are the functions the shared templates use.
func TemplateFuncs() template.FuncMap {
	return template.FuncMap{
		"fmtTime": func(v any) string {
			switch t := v.(type) {
			case time.Time:
				if t.IsZero() {
					return "—"
				}
				return t.UTC().Format("2006-01-02 15:04 UTC")
			case *time.Time:
				if t == nil || t.IsZero() {
					return "—"
				}
				return t.UTC().Format("2006-01-02 15:04 UTC")
			}
			return fmt.Sprint(v)
		},
		"statusLabel": StatusLabel,
		"join":        strings.Join,
	}
}

// StatusLabel names a status for people.
func StatusLabel(s finding.Status) string {
	if s == finding.NotApplicable {
		return "n/a"
	}
	return string(s)
}

// FindingView is a finding as the HTML views show it, with its history
// when it comes from the store.
type FindingView struct {
	finding.Finding
	FirstSeen *time.Time
	LastSeen  *time.Time
	FixedAt   *time.Time
}

// StatusCount is one status and how many findings have it.
type StatusCount struct {
	Status finding.Status
	N      int
}

// TargetView is one target's section.
type TargetView struct {
	finding.TargetInfo
	Anchor       string
	StatusCounts []StatusCount
	// Attention holds fail, error and manual findings (shown in full, the
	// most severe first); Others the rest (one line each).
	Attention []FindingView
	Others    []FindingView
	Chart     template.HTML
}

// NewTargetView builds a target's section from its findings.
func NewTargetView(info finding.TargetInfo, fs []FindingView) TargetView {
	v := TargetView{TargetInfo: info, Anchor: Anchor(info.Name)}
	counts := map[finding.Status]int{}
	for _, f := range fs {
		counts[f.Status]++
		switch f.Status {
		case finding.Fail, finding.Error, finding.Manual:
			v.Attention = append(v.Attention, f)
		default:
			v.Others = append(v.Others, f)
		}
	}
	sort.SliceStable(v.Attention, func(i, j int) bool {
		a, b := v.Attention[i], v.Attention[j]
		if a.Status != b.Status {
			return statusRank(a.Status) < statusRank(b.Status)
		}
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		return a.RuleID < b.RuleID
	})
	sort.SliceStable(v.Others, func(i, j int) bool {
		a, b := v.Others[i], v.Others[j]
		if a.Status != b.Status {
			return statusRank(a.Status) < statusRank(b.Status)
		}
		return a.RuleID < b.RuleID
	})
	v.StatusCounts = CountStatuses(counts)
	v.Chart = Donut(v.StatusCounts, 96)
	return v
}

// CountStatuses lists counts in report order.
func CountStatuses(m map[finding.Status]int) []StatusCount {
	out := make([]StatusCount, 0, len(finding.Statuses()))
	for _, s := range finding.Statuses() {
		out = append(out, StatusCount{Status: s, N: m[s]})
	}
	return out
}

// Anchor makes a stable HTML id for a name.
func Anchor(name string) string {
	h := sha256.Sum256([]byte(name))
	return hex.EncodeToString(h[:6])
}

type reportView struct {
	*finding.Report
	CSS           template.CSS
	Targets       []TargetView
	StatusCounts  []StatusCount
	StatusOrder   []finding.Status
	StatusChart   template.HTML
	SeverityChart template.HTML
	DomainChart   template.HTML
}

// Render implements Renderer.
func (HTML) Render(w io.Writer, r *finding.Report) error {
	targets, groups := byTarget(r)
	v := reportView{Report: r, CSS: template.CSS(CSS()), StatusOrder: finding.Statuses()}
	all := map[finding.Status]int{}
	sev := map[string]int{}
	dom := map[string]int{}
	for _, f := range r.Findings {
		all[f.Status]++
		if f.Status == finding.Fail {
			sev[f.Severity.String()]++
			dom[f.Domain]++
		}
	}
	for _, t := range targets {
		fs := groups[t.Name]
		views := make([]FindingView, len(fs))
		for i, f := range fs {
			views[i] = FindingView{Finding: f}
		}
		v.Targets = append(v.Targets, NewTargetView(t, views))
	}
	v.StatusCounts = CountStatuses(all)
	v.StatusChart = Donut(v.StatusCounts, 150)
	v.SeverityChart = SeverityBars(sev)
	v.DomainChart = DomainBars(dom)
	return HTMLTemplates().ExecuteTemplate(w, "report", v)
}
