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

// Firings run one at a time and each schedule fires repeatedly.
func TestRunnerSerialises(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	running, maxRunning := 0, 0
	counts := map[string]int{}
	a, _ := Parse("a", 20*time.Millisecond, "")
	b, _ := Parse("b", 30*time.Millisecond, "")
	a.RunAtStart = true
	r := &Runner{Schedules: []Schedule{a, b}, Run: func(ctx context.Context, name string) {
		mu.Lock()
		running++
		maxRunning = max(maxRunning, running)
		counts[name]++
		mu.Unlock()
		time.Sleep(10 * time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
	}}
	stopped := make(chan struct{})
	go func() { r.Start(ctx); close(stopped) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		ok := counts["a"] >= 3 && counts["b"] >= 2
		mu.Unlock()
		if ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-stopped
	mu.Lock()
	defer mu.Unlock()
	if counts["a"] < 3 || counts["b"] < 2 {
		t.Errorf("runs = %v; want a>=3, b>=2", counts)
	}
	if maxRunning != 1 {
		t.Errorf("%d runs at once; want 1", maxRunning)
	}
}
