package alert

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/store"
)

// clock is a settable time for the dispatcher.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }
func newClock(t time.Time) *clock    { return &clock{t: t} }
func plainDest(name, url string) Destination {
	return Destination{Name: name, URL: url, Format: "generic"}
}

// statusReceiver answers every delivery with its current status and
// counts what arrived by idempotency key.
type statusReceiver struct {
	status atomic.Int32
	mu     sync.Mutex
	keys   map[string]int
}

func (r *statusReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.keys[req.Header.Get(HeaderKey)]++
	r.mu.Unlock()
	code := int(r.status.Load())
	if code == http.StatusGone {
		http.Error(w, "this hook was deleted\n<html>", code)
		return
	}
	w.WriteHeader(code)
}

func (r *statusReceiver) got(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.keys[key]
}

func openStore(t *testing.T) *store.SQL {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func webhook(t *testing.T, d Destination) *Webhook {
	t.Helper()
	wh, err := NewWebhook(d, []byte("k"), "rampart-test")
	if err != nil {
		t.Fatal(err)
	}
	return wh
}

// An alert whose destination stays down longer than the retry window
// becomes a dead letter at the end of it, with the last error; it is
// never retried after the window's end; an admin's retry once the
// destination is back delivers it.
func TestDeadLetterAfterRetryWindow(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down
	clk := newClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	start := clk.Now()
	dest := plainDest("hook", "http://"+addr+"/hook")
	items := Route(FromDrift(drift())[:1], []Destination{dest}, "test-installation")
	items[0].EnqueuedAt = start
	if _, err := st.Enqueue(ctx, items); err != nil {
		t.Fatal(err)
	}
	d := &Dispatcher{Store: st, Destinations: map[string]Deliverer{"hook": webhook(t, dest)}, Now: clk.Now, RetryFor: 72 * time.Hour}
	deadline := start.Add(72 * time.Hour)
	attempts := 0
	for i := 0; i < 2000; i++ {
		d.Flush(ctx)
		s, _ := st.OutboxStats(ctx)
		if s.Dead == 1 {
			break
		}
		due, _ := st.Outbox(ctx, store.OutboxPending, 10)
		if len(due) != 1 {
			t.Fatalf("pending = %+v", due)
		}
		attempts = due[0].Attempts
		if due[0].NextAttempt.After(deadline) {
			t.Fatalf("next attempt %v is after the window's end %v", due[0].NextAttempt, deadline)
		}
		clk.Set(due[0].NextAttempt)
	}
	if !clk.Now().Equal(deadline) {
		t.Errorf("died at %v; want at the window's end %v", clk.Now(), deadline)
	}
	dead, _ := st.Outbox(ctx, store.OutboxDead, 10)
	if len(dead) != 1 || !strings.Contains(dead[0].LastError, "gave up after 72h0m0s") || !strings.Contains(dead[0].LastError, "connection refused") {
		t.Fatalf("dead letters = %+v", dead)
	}
	t.Logf("%d attempts over 72h before the dead letter (backoff capped at 10m)", attempts+1)
	// Nothing more is tried, however long we wait.
	clk.Add(24 * time.Hour)
	if n := d.Flush(ctx); n != 0 {
		t.Fatal("a dead letter was delivered")
	}
	// The receiver comes back; an admin retries; it arrives.
	rcv := &statusReceiver{keys: map[string]int{}}
	rcv.status.Store(http.StatusNoContent)
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rcv}
	go srv.Serve(ln)
	defer srv.Close()
	if n, err := st.RetryDead(ctx, dead[0].ID, clk.Now(), store.Audit{}); err != nil || n != 1 {
		t.Fatalf("retry = %d, %v", n, err)
	}
	if n := d.Flush(ctx); n != 1 || rcv.got(items[0].Key) != 1 {
		t.Fatalf("after the retry: delivered %d, received %d", n, rcv.got(items[0].Key))
	}
}

// A receiver that answers 410 Gone: each alert is tried once and becomes
// a dead letter with the answer as its error; 408, 429 and 5xx answers
// are retried instead. Once the receiver answers 200, a retry delivers
// every dead letter.
func TestPermanentErrorsDeadLetter(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	gone := &statusReceiver{keys: map[string]int{}}
	gone.status.Store(http.StatusGone)
	goneSrv := httptest.NewServer(gone)
	defer goneSrv.Close()
	busy := map[int]*statusReceiver{}
	var dests []Destination
	delivs := map[string]Deliverer{}
	add := func(name, url string) {
		d := plainDest(name, url)
		dests = append(dests, d)
		delivs[name] = webhook(t, d)
	}
	add("gone", goneSrv.URL+"/hook")
	for _, code := range []int{http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		r := &statusReceiver{keys: map[string]int{}}
		r.status.Store(int32(code))
		srv := httptest.NewServer(r)
		defer srv.Close()
		busy[code] = r
		add(http.StatusText(code), srv.URL+"/hook")
	}
	evs := FromDrift(drift())
	items := Route(evs, dests, "test-installation")
	// And one for a destination removed from the configuration.
	items = append(items, store.OutboxItem{Destination: "removed", Key: "k-removed", Kind: KindFixed, Body: []byte(`{}`)})
	if _, err := st.Enqueue(ctx, items); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	results := map[string]int{}
	d := &Dispatcher{Store: st, Destinations: delivs, Observe: func(dest, kind, result string) {
		mu.Lock()
		results[result]++
		mu.Unlock()
	}}
	if n := d.Flush(ctx); n != 0 {
		t.Fatalf("delivered %d", n)
	}
	stats, _ := st.OutboxStats(ctx)
	if stats.Dead != len(evs)+1 || stats.DeadBy["gone"] != len(evs) || stats.DeadBy["removed"] != 1 {
		t.Errorf("stats = %+v; want every alert to gone and the removed destination's dead", stats)
	}
	// 408, 429, 503: tried once (the destination is then down for the
	// pass), still pending.
	if stats.Pending != 3*len(evs) || stats.Retrying != 3 {
		t.Errorf("stats = %+v; want %d pending, 3 retrying", stats, 3*len(evs))
	}
	for code, r := range busy {
		r.mu.Lock()
		n := len(r.keys)
		r.mu.Unlock()
		if n != 1 {
			t.Errorf("receiver %d got %d alerts in one pass; want 1 (then it is down for the pass)", code, n)
		}
	}
	dead, _ := st.Outbox(ctx, store.OutboxDead, 100)
	for _, it := range dead {
		switch it.Destination {
		case "gone":
			if it.LastError != "post gone: status 410: this hook was deleted <html>" || it.Attempts != 1 {
				t.Errorf("dead letter %s: %q after %d attempts", it.Key, it.LastError, it.Attempts)
			}
			if gone.got(it.Key) != 1 {
				t.Errorf("%s was sent %d times; want once", it.Key, gone.got(it.Key))
			}
		case "removed":
			if !strings.Contains(it.LastError, "no longer in the configuration") {
				t.Errorf("removed destination: %q", it.LastError)
			}
		}
	}
	mu.Lock()
	if results[ResultDead] != len(evs)+1 || results[ResultFailed] != 3 {
		t.Errorf("observed results = %v", results)
	}
	mu.Unlock()
	// Dead letters stay dead, whatever the receiver does meanwhile.
	gone.status.Store(http.StatusOK)
	if n := d.Flush(ctx); n != 0 {
		t.Fatalf("a dead letter was retried without an admin")
	}
	// The admin retries them all: the receiver answers 200 now.
	if n, err := st.RetryDead(ctx, 0, time.Now(), store.Audit{}); err != nil || n != len(evs)+1 {
		t.Fatalf("retry all = %d, %v", n, err)
	}
	if n := d.Flush(ctx); n != len(evs) {
		t.Errorf("delivered %d after the retry; want %d", n, len(evs))
	}
	for _, e := range evs {
		if k := Scope("test-installation", e.Key); gone.got(k) != 2 {
			t.Errorf("%s arrived %d times; want twice (410, then 200)", k, gone.got(k))
		}
	}
	stats, _ = st.OutboxStats(ctx)
	if stats.Dead != 1 || stats.DeadBy["removed"] != 1 {
		t.Errorf("after the retry: %+v; want only the removed destination's alert dead again", stats)
	}
}

// A destination that is down does not hold up the alerts of one that is
// up, however many of its own alerts are due first.
func TestDownDestinationDoesNotStarveOthers(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	downURL := "http://" + ln.Addr().String() + "/hook"
	ln.Close()
	up := &statusReceiver{keys: map[string]int{}}
	up.status.Store(http.StatusOK)
	upSrv := httptest.NewServer(up)
	defer upSrv.Close()
	t0 := time.Now().Add(-time.Hour)
	var items []store.OutboxItem
	for i := 0; i < 120; i++ {
		items = append(items, store.OutboxItem{Destination: "down", Key: "d" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Kind: KindFixed, Body: []byte(`{"kind":"fixed"}`), CreatedAt: t0})
	}
	items = append(items, store.OutboxItem{Destination: "up", Key: "u1", Kind: KindFixed, Body: []byte(`{"kind":"fixed"}`), CreatedAt: t0.Add(time.Minute)})
	if _, err := st.Enqueue(ctx, items); err != nil {
		t.Fatal(err)
	}
	d := &Dispatcher{Store: st, Destinations: map[string]Deliverer{
		"down": webhook(t, plainDest("down", downURL)), "up": webhook(t, plainDest("up", upSrv.URL)),
	}}
	if n := d.Flush(ctx); n != 1 || up.got("u1") != 1 {
		t.Errorf("delivered %d; the up destination got %d", n, up.got("u1"))
	}
}
