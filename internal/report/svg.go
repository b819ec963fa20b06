package report

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
)

// Charts are inline SVG built here, with colours as attributes (no style
// attributes, so a strict Content-Security-Policy allows them).

// statusColorOf is a status colour (as in style.css).
func statusColorOf(k finding.Status) (string, bool) {
	switch k {
	case finding.Fail:
		return "#c62828", true
	case finding.Error:
		return "#b26a00", true
	case finding.Manual:
		return "#00838f", true
	case finding.Waived:
		return "#3949ab", true
	case finding.Attested:
		return "#5e35b1", true
	case finding.Pass:
		return "#2e7d32", true
	case finding.NotApplicable:
		return "#9aa3ad", true
	}
	return "", false
}

// severityColorOf is a severity colour.
func severityColorOf(k string) (string, bool) {
	switch k {
	case "critical":
		return "#6a1b9a", true
	case "high":
		return "#c62828", true
	case "medium":
		return "#ef6c00", true
	case "low":
		return "#c8a200", true
	case "info":
		return "#607d8b", true
	}
	return "", false
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// Donut draws the share of each status as a ring with the total inside.
func Donut(counts []StatusCount, size int) template.HTML {
	total := 0
	for _, c := range counts {
		total += c.N
	}
	r := float64(size)/2 - 8
	cx := float64(size) / 2
	circ := 2 * math.Pi * r
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart donut" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="findings by status">`, size, size, size, size)
	fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="none" stroke="#e6e9ed" stroke-width="14"/>`, cx, cx, r)
	off := 0.0
	for _, c := range counts {
		if c.N == 0 || total == 0 {
			continue
		}
		l := circ * float64(c.N) / float64(total)
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="none" stroke="%s" stroke-width="14" stroke-dasharray="%.2f %.2f" stroke-dashoffset="%.2f" transform="rotate(-90 %.1f %.1f)"><title>%s: %d</title></circle>`,
			cx, cx, r, StatusColor(c.Status), l, circ-l, -off, cx, cx, esc(StatusLabel(c.Status)), c.N)
		off += l
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="%d" font-weight="700" fill="#1d232b">%d</text>`, cx, cx+2, size/6, total)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">findings</text></svg>`, cx, cx+float64(size)/6)
	return template.HTML(b.String())
}

// Bar is one labelled bar.
type Bar struct {
	Label string
	N     int
	Color string
}

// Bars draws horizontal bars with their values.
func Bars(bars []Bar) template.HTML {
	if len(bars) == 0 {
		return template.HTML(`<p class="muted">nothing failing</p>`)
	}
	maxN := 1
	for _, x := range bars {
		maxN = max(maxN, x.N)
	}
	const w, rowH, labelW = 320, 22, 110
	h := rowH * len(bars)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart bars" width="%d" height="%d" viewBox="0 0 %d %d" role="img">`, w, h, w, h)
	for i, x := range bars {
		y := i * rowH
		bw := float64(w-labelW-40) * float64(x.N) / float64(maxN)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelW-6, y+15, esc(x.Label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" rx="3" fill="%s"><title>%s: %d</title></rect>`, labelW, y+4, bw, rowH-8, x.Color, esc(x.Label), x.N)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%d</text>`, float64(labelW)+bw+5, y+15, x.N)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// SeverityBars draws failing findings by severity, most severe first.
func SeverityBars(m map[string]int) template.HTML {
	var bars []Bar
	sevs := finding.Severities()
	for i := len(sevs) - 1; i >= 0; i-- {
		s := sevs[i].String()
		bars = append(bars, Bar{Label: s, N: m[s], Color: SeverityColor(s)})
	}
	return Bars(bars)
}

// DomainBars draws failing findings by domain, largest first.
func DomainBars(m map[string]int) template.HTML {
	var bars []Bar
	for d, n := range m {
		if n > 0 {
			if d == "" {
				d = "other"
			}
			bars = append(bars, Bar{Label: d, N: n, Color: "#24416b"})
		}
	}
	sort.Slice(bars, func(i, j int) bool {
		if bars[i].N != bars[j].N {
			return bars[i].N > bars[j].N
		}
		return bars[i].Label < bars[j].Label
	})
	return Bars(bars)
}

// TrendPoint is one run in a trend chart.
type TrendPoint struct {
	At     time.Time
	RunID  int64
	Counts map[finding.Status]int
	// Link, when set, makes the point's column a link.
	Link string
}

// Trend draws failing, error and passing findings over runs (oldest on
// the left) as lines with dots.
func Trend(points []TrendPoint, width, height int) template.HTML {
	if len(points) == 0 {
		return template.HTML(`<p class="muted">no runs yet</p>`)
	}
	series := []finding.Status{finding.Pass, finding.Fail, finding.Error, finding.Manual}
	maxN := 1
	for _, p := range points {
		for _, s := range series {
			maxN = max(maxN, p.Counts[s])
		}
	}
	const left, right, top, bottom = 40, 12, 10, 26
	pw, ph := float64(width-left-right), float64(height-top-bottom)
	x := func(i int) float64 {
		if len(points) == 1 {
			return float64(left) + pw/2
		}
		return float64(left) + pw*float64(i)/float64(len(points)-1)
	}
	y := func(n int) float64 { return float64(top) + ph - ph*float64(n)/float64(maxN) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart trend" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="findings over runs">`, width, height, width, height)
	for _, frac := range []float64{0, 0.5, 1} {
		n := int(math.Round(float64(maxN) * frac))
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e6e9ed"/><text x="%d" y="%.1f" text-anchor="end">%d</text>`, left, width-right, y(n), y(n), left-4, y(n)+4, n)
	}
	for _, s := range series {
		var pts []string
		for i, p := range points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(p.Counts[s])))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.Join(pts, " "), StatusColor(s))
		for i, p := range points {
			dot := fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>run %d (%s): %d %s</title></circle>`,
				x(i), y(p.Counts[s]), StatusColor(s), p.RunID, p.At.UTC().Format("2006-01-02 15:04"), p.Counts[s], esc(StatusLabel(s)))
			if p.Link != "" {
				dot = `<a href="` + esc(p.Link) + `">` + dot + `</a>`
			}
			b.WriteString(dot)
		}
	}
	first, last := points[0].At.UTC(), points[len(points)-1].At.UTC()
	fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`, left, height-6, first.Format("01-02 15:04"))
	if len(points) > 1 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, width-right, height-6, last.Format("01-02 15:04"))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// StatusColor is the colour of a status (as in style.css).
func StatusColor(s finding.Status) string {
	c, _ := statusColorOf(s)
	return c
}

// SeverityColor is the colour of a severity.
func SeverityColor(s string) string {
	c, _ := severityColorOf(s)
	return c
}
