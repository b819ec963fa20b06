package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progressPrinter draws a one-line progress bar on a terminal (stderr):
//
//	[=========>          ]  412/1000  41%  37.5/s  eta 16s  10.0.1.7:9443
//
// The total grows as nodes lead to endpoints. Targets finish on many
// goroutines at once, so drawing is serialized; redraws are limited to
// ten a second, except the last. The caller clears the line at the end.
func progressPrinter(w io.Writer) func(done, total int, name string) {
	var (
		mu    sync.Mutex
		start = time.Now()
		last  time.Time
	)
	return func(done, total int, name string) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		if done < total && now.Sub(last) < 100*time.Millisecond {
			return
		}
		last = now
		fmt.Fprint(w, "\r\x1b[K"+progressLine(done, total, name, now.Sub(start)))
	}
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
	if len(name) > 40 {
		name = "..." + name[len(name)-37:]
	}
	return line + "  " + name
}
