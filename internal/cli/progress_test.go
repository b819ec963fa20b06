package cli

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	for _, c := range []struct {
		done, total int
		elapsed     time.Duration
		want        []string
	}{
		{0, 10, 0, []string{"[>                       ] 0/10   0%  first"}},
		{5, 10, 2 * time.Second, []string{"[============>           ] 5/10  50%", "2.5/s", "eta 2s"}},
		{10, 10, 4 * time.Second, []string{"[========================] 10/10 100%", "2.5/s"}},
		{3, 0, 0, []string{"1/1 100%"}},
	} {
		got := progressLine(c.done, c.total, "first", c.elapsed)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("progressLine(%d, %d) = %q, want %q in it", c.done, c.total, got, w)
			}
		}
	}
	long := progressLine(1, 2, strings.Repeat("x", 100)+"end", 0)
	if !strings.HasSuffix(long, "xxend") || len(long) > 100 {
		t.Errorf("long name: %q", long)
	}
}

// TestProgressConcurrent: targets finish on many goroutines; the printer
// serializes and throttles, and always draws the final state.
func TestProgressConcurrent(t *testing.T) {
	var buf bytes.Buffer
	p := progressPrinter(&buf)
	var wg sync.WaitGroup
	for i := 1; i <= 200; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); p(i, 201, "t") }()
	}
	wg.Wait()
	p(201, 201, "last")
	out := buf.String()
	if !strings.HasSuffix(out, "201/201 100%  last") {
		t.Errorf("final draw missing: %q", out[max(0, len(out)-80):])
	}
	if n := strings.Count(out, "\r"); n > 20 {
		t.Errorf("%d redraws for 201 updates within 100ms", n)
	}
}

// TestPortProgressDisplay: a port scan under way shows ports decided of
// the total, the open ones so far and the rate; the part goes when the
// scans are done, and the line never passes the terminal's width.
func TestPortProgressDisplay(t *testing.T) {
	var buf bytes.Buffer
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := clock
	p := newProgress(&buf, 120, func() time.Time { return now })
	p.targets(0, 1, "10.0.1.7")
	now = now.Add(200 * time.Millisecond)
	p.portsOf("10.0.1.7", 256, 65535, 0)
	now = now.Add(500 * time.Millisecond)
	p.portsOf("10.0.1.7", 768, 65535, 2)
	lines := strings.Split(buf.String(), "\r\x1b[K")
	last := lines[len(lines)-1]
	for _, want := range []string{"0/1", "ports 768/65535, 2 open, 1536/s", "10.0.1.7"} {
		if !strings.Contains(last, want) {
			t.Errorf("%q lacks %q", last, want)
		}
	}
	now = now.Add(time.Second)
	p.portsOf("10.0.1.7", 65535, 65535, 3)
	p.targets(1, 1, "10.0.1.7:9443")
	lines = strings.Split(buf.String(), "\r\x1b[K")
	if last := lines[len(lines)-1]; strings.Contains(last, "ports") || !strings.Contains(last, "1/1 100%") {
		t.Errorf("after the scan: %q", last)
	}
	narrow := newProgress(&buf, 40, func() time.Time { return now })
	buf.Reset()
	narrow.portsOf("h", 1, 10, 0)
	narrow.targets(0, 2, strings.Repeat("n", 60))
	for _, l := range strings.Split(buf.String(), "\r\x1b[K") {
		if len(l) > 39 {
			t.Errorf("line of %d on a 40-column terminal: %q", len(l), l)
		}
	}
}

// TestFactsHelpShowsFactsFlags: `facts --help` lists what decides the
// collection, not the judging or reporting flags of scan.
func TestFactsHelpShowsFactsFlags(t *testing.T) {
	r := runCLI(t, nil, false, "facts", "--help")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"--collectors", "--profile", "--ports", "--intrusive", "--ca-bundle", "--root"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("facts --help lacks %s", want)
		}
	}
	for _, not := range []string{"--fail-on", "--waivers", "--role", "--cert-warn-days", "--backup-max-age", "--severity", "--upload", "--rules"} {
		if strings.Contains(r.stdout, not) {
			t.Errorf("facts --help shows %s", not)
		}
	}
	if r := runCLI(t, nil, false, "scan", "--help"); !strings.Contains(r.stdout, "--cert-warn-days") || !strings.Contains(r.stdout, "--role") {
		t.Error("scan lost its judging flags")
	}
}

// progressPrinter is a progress display of targets alone.
func progressPrinter(w io.Writer) func(done, total int, name string) {
	return newProgress(w, 0, nil).targets
}
