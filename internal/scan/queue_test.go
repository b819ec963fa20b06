package scan

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/waiver"
)

// peakCollector finds port 443 open on every node it is given and notes
// how many of its calls run at once and how many goroutines the process
// has meanwhile, at most.
type peakCollector struct {
	mu                      sync.Mutex
	inFlight, peak, maxGoro int
	calls                   int
}

func (*peakCollector) Name() string                 { return "ports" }
func (*peakCollector) Provides() []string           { return []string{facts.NSPorts} }
func (*peakCollector) Applies(t target.Target) bool { return t.Kind == target.Node }
func (*peakCollector) Needs() collect.Needs         { return collect.Needs{Requires: collect.Network} }
func (p *peakCollector) Collect(_ context.Context, t target.Target, _ *collect.Env) (*facts.Facts, error) {
	p.mu.Lock()
	p.calls++
	p.inFlight++
	p.peak = max(p.peak, p.inFlight)
	p.maxGoro = max(p.maxGoro, runtime.NumGoroutine())
	p.inFlight--
	p.mu.Unlock()
	return &facts.Facts{Ports: &facts.Ports{Host: t.Host, Open: []facts.OpenPort{{Port: 443, Service: "https"}}}}, nil
}

// A fleet's targets wait their turn in a queue, not each in a goroutine:
// with 300 nodes (and the 300 endpoints they lead to) scanned 4 at a time,
// the process never holds a goroutine per target, every target and child
// is in the report, and no more than 4 are scanned at once.
func TestQueuedTargetsAreNotGoroutines(t *testing.T) {
	const nodes, concurrency = 300, 4
	pc := &peakCollector{}
	s := &Scanner{
		Collectors:  []collect.Collector{pc},
		Rules:       builtin(t, "NET-001"),
		Concurrency: concurrency,
		Exceptions:  &waiver.Set{},
		Scan:        facts.DefaultScan(time.Now()),
	}
	var targets []target.Target
	for i := range nodes {
		targets = append(targets, node(fmt.Sprintf("n%03d", i), fmt.Sprintf("192.0.2.%d", i%250+1)))
	}
	before := runtime.NumGoroutine()
	r := s.Run(context.Background(), targets).Report
	if pc.calls != nodes {
		t.Errorf("the collector ran on %d nodes, want %d", pc.calls, nodes)
	}
	if len(r.Targets) < nodes+1 {
		t.Errorf("%d targets in the report, want the %d nodes and the endpoints they lead to", len(r.Targets), nodes)
	}
	if pc.peak > concurrency {
		t.Errorf("%d targets scanned at once, want at most %d", pc.peak, concurrency)
	}
	// The scan's workers and what the rules and runtime start: far below
	// one per target.
	if grown := pc.maxGoro - before; grown > nodes/4 {
		t.Errorf("%d goroutines more during the scan, for %d targets at %d at once", grown, nodes, concurrency)
	}
}
