package schedule

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 17, 0, 0, time.UTC)
	s, err := Parse("nightly", 0, "0 2 * * *")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Next(at), time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("cron next = %v; want %v", got, want)
	}
	s, err = Parse("often", 15*time.Minute, "")
	if err != nil || !s.Next(at).Equal(at.Add(15*time.Minute)) {
		t.Errorf("interval next = %v, %v", s.Next(at), err)
	}
	for _, bad := range []struct {
		every time.Duration
		cron  string
	}{{0, ""}, {time.Minute, "* * * * *"}, {0, "61 * * * *"}, {0, "nonsense"}, {time.Millisecond, ""}} {
		if _, err := Parse("x", bad.every, bad.cron); err == nil {
			t.Errorf("Parse(%v, %q) accepted", bad.every, bad.cron)
		}
	}
}

// Firings run one at a time and each schedule fires repeatedly: each run
// is held by the test until another schedule has fired meanwhile (the
// runner took that firing and queued it), then released.
func TestRunnerSerialises(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	running, maxRunning := 0, 0
	counts := map[string]int{}
	fired := map[string]int{} // NextRuns calls: one at start, one after each firing taken
	firedSignal := make(chan struct{}, 1)
	starts := make(chan string)
	release := make(chan struct{})
	a, _ := Parse("a", 20*time.Millisecond, "")
	b, _ := Parse("b", 30*time.Millisecond, "")
	a.RunAtStart = true
	r := &Runner{Schedules: []Schedule{a, b}, Run: func(ctx context.Context, name string) {
		mu.Lock()
		running++
		maxRunning = max(maxRunning, running)
		counts[name]++
		mu.Unlock()
		select {
		case starts <- name:
			<-release
		case <-ctx.Done():
		}
		mu.Lock()
		running--
		mu.Unlock()
	}, NextRuns: func(name string, _ time.Time) {
		mu.Lock()
		fired[name]++
		mu.Unlock()
		select {
		case firedSignal <- struct{}{}:
		default:
		}
	}}
	stopped := make(chan struct{})
	go func() { r.Start(ctx); close(stopped) }()
	timeout := time.After(20 * time.Second)
	for {
		var name string
		select {
		case name = <-starts:
		case <-timeout:
			t.Fatalf("runs = %v: no run started", counts)
		}
		// While this run holds the runner, wait for the other schedule
		// to fire once more.
		other := map[string]string{"a": "b", "b": "a"}[name]
		mu.Lock()
		seen := fired[other]
		mu.Unlock()
		for more := false; !more; {
			select {
			case <-firedSignal:
			case <-timeout:
				t.Fatalf("%s did not fire while %s ran", other, name)
			}
			mu.Lock()
			more = fired[other] > seen
			mu.Unlock()
		}
		release <- struct{}{}
		mu.Lock()
		ok := counts["a"] >= 3 && counts["b"] >= 2
		mu.Unlock()
		if ok {
			break
		}
	}
	cancel()
	<-stopped
	mu.Lock()
	defer mu.Unlock()
	if maxRunning != 1 {
		t.Errorf("%d runs at once; want 1", maxRunning)
	}
}
