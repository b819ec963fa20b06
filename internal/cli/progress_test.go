package cli

import (
	"bytes"
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
