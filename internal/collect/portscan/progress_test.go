package portscan

import (
	"strconv"
	"sync"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/netnstest"
	"github.com/rampart-sec/rampart/internal/target"
)

// TestPortProgress: a port scan tells its progress (ports decided, open
// so far) every few hundred ports and at the end, never going back, to a
// display that may be called from many workers.
func TestPortProgress(t *testing.T) {
	ns := netnstest.New(t)
	for _, p := range []int{22, 443, 2000} {
		serve(t, ns.Listen(t, "tcp", "127.0.0.1:"+strconv.Itoa(p)), closeHandler)
	}
	type event struct{ done, total, open int }
	var (
		mu     sync.Mutex
		events []event
	)
	env := &collect.Env{Dialer: ns.Dialer(t, 64), PerHost: 8, PortProgress: func(host string, done, total, open int) {
		if host != "127.0.0.1" {
			t.Errorf("progress for host %q", host)
		}
		mu.Lock()
		defer mu.Unlock()
		events = append(events, event{done, total, open})
	}}
	tg := target.Target{Name: "ns", Kind: target.Node, Host: "127.0.0.1", Decl: target.Declared{Ports: "1-2048"}}
	p := collectPorts(t, fastCollector(), tg, env)
	if len(p.Open) != 3 {
		t.Fatalf("open %v", p.Open)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2048/progressEvery {
		t.Fatalf("%d progress events for 2048 ports, want %d: %v", len(events), 2048/progressEvery, events)
	}
	last := events[len(events)-1]
	if last.total != 2048 || last.open != 3 {
		t.Fatalf("last event %+v", last)
	}
	seen := map[int]bool{}
	for _, e := range events {
		if e.total != 2048 || e.open > 3 || e.done%progressEvery != 0 || seen[e.done] {
			t.Errorf("event %+v", e)
		}
		seen[e.done] = true
	}
	if !seen[2048] {
		t.Error("no final event")
	}
}
