package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// progress draws a one-line progress display on a terminal (stderr):
//
//	[=========>          ]  412/1000  41%  37.5/s  eta 16s  ports 12032/65535, 3 open, 9500/s  10.0.1.7:9443
//
// Targets finish, and port scans advance, on many goroutines at once, so
// drawing is serialized; redraws are limited to ten a second, except the
// last. The port part shows the port scans under way (ports decided of
// those to scan, open ones found so far, the rate) and goes once they are
// done. The line is cut to the terminal's width. The caller clears the
// line at the end.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	width int
	now   func() time.Time
	start time.Time
	last  time.Time

	done, total int
	name        string

	portStart time.Time
	ports     map[string]portCount
}

type portCount struct{ done, total, open int }

func newProgress(w io.Writer, width int, now func() time.Time) *progress {
	if now == nil {
		now = time.Now
	}
	return &progress{w: w, width: width, now: now, start: now(), ports: map[string]portCount{}}
}

// targets records that done of total targets are finished, name last.
func (p *progress) targets(done, total int, name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done, p.total, p.name = done, total, name
	p.draw(done >= total)
}

// portsOf records how the port scan of host advances.
func (p *progress) portsOf(host string, done, total, open int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.ports) == 0 {
		p.portStart = p.now()
	}
	p.ports[host] = portCount{done, total, open}
	p.draw(false)
}

func (p *progress) draw(final bool) {
	now := p.now()
	if !final && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	line := progressLine(p.done, max(p.total, 1), p.name, now.Sub(p.start))
	if ports := p.portPart(now); ports != "" {
		line = progressLine(p.done, max(p.total, 1), "", now.Sub(p.start)) + ports + "  " + trimName(p.name)
	}
	if p.width > 0 && utf8.RuneCountInString(line) > p.width-1 {
		r := []rune(line)
		line = string(r[:max(p.width-1, 0)])
	}
	fmt.Fprint(p.w, "\r\x1b[K"+strings.TrimRight(line, " "))
}

// portPart sums the port scans under way: "ports 12032/65535, 3 open,
// 9500/s"; "" when none is.
func (p *progress) portPart(now time.Time) string {
	var sum portCount
	active := 0
	hosts := make([]string, 0, len(p.ports))
	for h := range p.ports {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		c := p.ports[h]
		if c.done < c.total {
			active++
		}
		sum.done += c.done
		sum.total += c.total
		sum.open += c.open
	}
	if active == 0 {
		return ""
	}
	s := fmt.Sprintf("ports %d/%d, %d open", sum.done, sum.total, sum.open)
	if el := now.Sub(p.portStart).Seconds(); el >= 0.5 {
		s += fmt.Sprintf(", %.0f/s", float64(sum.done)/el)
	}
	if active > 1 {
		s += fmt.Sprintf(" on %d hosts", active)
	}
	return s
}

// progressLine renders the bar for done of total after elapsed.
func progressLine(done, total int, name string, elapsed time.Duration) string {
	const width = 24
	if total < 1 {
		total = 1
	}
	done = min(done, total)
	filled := width * done / total
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	line := fmt.Sprintf("[%s] %d/%d %3d%%", bar, done, total, 100*done/total)
	if s := elapsed.Seconds(); s >= 1 && done > 0 {
		rate := float64(done) / s
		line += fmt.Sprintf("  %.1f/s", rate)
		if done < total {
			eta := time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second)
			line += "  eta " + eta.String()
		}
	}
	return line + "  " + trimName(name)
}

func trimName(name string) string {
	if len(name) > 40 {
		return "..." + name[len(name)-37:]
	}
	return name
}
