package monitor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/alert"
	"github.com/rampart-sec/rampart/internal/store"
)

// A real loopback endpoint that is healthy, then slow, then down, then up.
// The checkers' clock is the test's: the endpoint takes 10 ms to answer
// when healthy and 300 ms when slow by moving it, so latencies are exact
// and nothing sleeps.
func TestChecker(t *testing.T) {
	ctx := context.Background()
	var clock atomic.Int64 // Unix nanoseconds
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	var mode atomic.Int32 // 0 ok, 1 slow, 2 down
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode.Load() {
		case 0:
			clock.Add(int64(10 * time.Millisecond))
		case 1:
			clock.Add(int64(300 * time.Millisecond))
		case 2:
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"UP"}`))
	}))
	defer srv.Close()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var mu sync.Mutex
	var events []alert.Event
	c := &Checker{
		Endpoints: []Endpoint{{Target: "svc", URL: srv.URL + "/healthz"}},
		Client:    srv.Client(), Store: st, Timeout: 5 * time.Second,
		SlowFactor: 3, MinSlow: 100 * time.Millisecond, Baseline: 10, Now: now,
		Alert: func(_ context.Context, evs []alert.Event) { mu.Lock(); events = append(events, evs...); mu.Unlock() },
	}
	for i := 0; i < MinSamples+1; i++ {
		s := c.Round(ctx)
		if !s[0].OK || s[0].Anomaly || s[0].LatencyMS != 10 {
			t.Fatalf("healthy round %d: %+v", i, s[0])
		}
	}
	mode.Store(1)
	for i := 0; i < 2; i++ {
		s := c.Round(ctx)
		if !s[0].OK || !s[0].Anomaly || s[0].LatencyMS != 300 {
			t.Fatalf("slow round: %+v; want an anomaly", s[0])
		}
	}
	mode.Store(2)
	for i := 0; i < 2; i++ {
		if s := c.Round(ctx); s[0].OK || s[0].Status != 503 {
			t.Fatalf("down round: %+v", s[0])
		}
	}
	mode.Store(0)
	if s := c.Round(ctx); !s[0].OK || s[0].Anomaly {
		t.Fatalf("recovered: %+v", s[0])
	}
	mu.Lock()
	defer mu.Unlock()
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, e.Kind)
	}
	if len(kinds) != 2 || kinds[0] != alert.KindHealthSlow || kinds[1] != alert.KindHealthDown {
		t.Errorf("alerts = %v; want one slow then one down", kinds)
	}
	hs, err := st.HealthHistory(ctx, srv.URL+"/healthz", 100)
	if err != nil || len(hs) != MinSamples+6 {
		t.Errorf("stored samples = %d, %v", len(hs), err)
	}
	// A new checker (a restart) warms its baseline from the store.
	c2 := &Checker{Endpoints: c.Endpoints, Client: srv.Client(), Store: st, Timeout: 5 * time.Second, SlowFactor: 3, MinSlow: 100 * time.Millisecond, Baseline: 10, Now: now}
	mode.Store(1)
	if s := c2.Round(ctx); !s[0].Anomaly {
		t.Errorf("after restart the baseline was lost: %+v", s[0])
	}
}

func TestUnreachable(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := &Checker{Endpoints: []Endpoint{{Target: "x", URL: url}}, Client: &http.Client{}, Store: st, Timeout: time.Second, SlowFactor: 3, Baseline: 5}
	s := c.Round(ctx)
	if s[0].OK || s[0].Error == "" {
		t.Errorf("closed port: %+v", s[0])
	}
}
