package scan

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/rules"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/waiver"
	builtinrules "github.com/rampart-sec/rampart/rules"
)

// portsCollector stands in for the port scanner: quick finishes at once,
// every other host blocks until the scan's context ends, and "boom"
// panics in one of its goroutines. started, when set, is told each
// blocking host as it begins.
type portsCollector struct{ started chan<- string }

func (portsCollector) Name() string                 { return "ports" }
func (portsCollector) Provides() []string           { return []string{facts.NSPorts} }
func (portsCollector) Applies(t target.Target) bool { return t.Kind == target.Node }
func (portsCollector) Needs() collect.Needs         { return collect.Needs{Requires: collect.Network} }
func (p portsCollector) Collect(ctx context.Context, t target.Target, _ *collect.Env) (*facts.Facts, error) {
	switch t.Host {
	case "192.0.2.1":
		return &facts.Facts{Ports: &facts.Ports{Host: t.Host, Open: []facts.OpenPort{{Port: 443, Service: "unknown"}}}}, nil
	case "192.0.2.66":
		var g collect.Group
		g.Go(func() { panic("a collector bug") })
		g.Wait()
		return nil, nil
	}
	if p.started != nil {
		p.started <- t.Host
	}
	<-ctx.Done()
	// A collector may well return what it had when the deadline hit.
	return &facts.Facts{Ports: &facts.Ports{Host: t.Host}}, nil
}

// builtinSet loads the built-in rules once for the package's tests.
var builtinSet = sync.OnceValues(func() (*rules.Set, error) {
	return rules.Load(rules.Source{Name: "rules", FS: builtinrules.FS})
})

func builtin(t *testing.T, ids ...string) []*rules.Rule {
	t.Helper()
	set, err := builtinSet()
	if err != nil {
		t.Fatal(err)
	}
	rs, unknown := set.Filter(ids, nil)
	if len(unknown) > 0 {
		t.Fatal(unknown)
	}
	return rs
}

func node(name, host string) target.Target {
	return target.Target{Name: name, Kind: target.Node, Host: host, Decl: target.Declared{ExpectedPorts: []int{443}}}
}

func byTarget(r *finding.Report) map[string]finding.Finding {
	m := map[string]finding.Finding{}
	for _, f := range r.Findings {
		m[f.Target] = f
	}
	return m
}

// TestDeadlineKeepsUnfinishedTargets: with the scan's deadline passing
// while targets are under way or still queued, every target is in the
// report; one that finished is judged, the others have their rules in
// error saying the scan timed out, and none of what a cut-short collector
// returned can pass.
func TestDeadlineKeepsUnfinishedTargets(t *testing.T) {
	// run scans targets under a deadline that passes when expire says so
	// (not on a timer: a loaded machine must not change the outcome).
	run := func(t *testing.T, concurrency int, expire func(ctx *deadline, started <-chan string, progress <-chan string), targets ...target.Target) *finding.Report {
		started := make(chan string, len(targets))
		progress := make(chan string, len(targets))
		s := &Scanner{
			Collectors:  []collect.Collector{portsCollector{started: started}},
			Rules:       builtin(t, "NET-001"),
			Concurrency: concurrency,
			Exceptions:  &waiver.Set{},
			Scan:        facts.DefaultScan(time.Now()),
			Timeout:     300 * time.Millisecond,
			Progress:    func(_, _ int, name string) { progress <- name },
		}
		ctx := newDeadline(time.Now().Add(time.Hour))
		go expire(ctx, started, progress)
		r := s.Run(ctx, targets).Report
		if !r.Interrupted {
			t.Error("report not marked interrupted")
		}
		if len(r.Targets) != len(targets) {
			t.Fatalf("%d targets in the report, want %d: %+v", len(r.Targets), len(targets), r.Targets)
		}
		for _, ti := range r.Targets {
			if ti.Name != "quick" && len(ti.Errors) == 0 {
				t.Errorf("%s: the target lists no error", ti.Name)
			}
		}
		return r
	}
	t.Run("under way", func(t *testing.T) {
		// The deadline passes once quick is judged and stuck has begun.
		expire := func(ctx *deadline, started <-chan string, progress <-chan string) {
			<-started
			for name := range progress {
				if name == "quick" {
					break
				}
			}
			ctx.expire()
		}
		got := byTarget(run(t, 4, expire, node("quick", "192.0.2.1"), node("stuck", "192.0.2.2")))
		if f := got["quick"]; f.Status != finding.Pass {
			t.Errorf("quick: %s %s, want pass", f.Status, f.Message)
		}
		if f := got["stuck"]; f.Status != finding.Error || !strings.Contains(f.Message, "timed out after 300ms (the scan's deadline) before this target finished") {
			t.Errorf("stuck: %s %q", f.Status, f.Message)
		}
	})
	t.Run("queued", func(t *testing.T) {
		// One at a time: the deadline passes while the first blocks.
		expire := func(ctx *deadline, started <-chan string, _ <-chan string) {
			<-started
			ctx.expire()
		}
		r := run(t, 1, expire, node("a", "192.0.2.2"), node("b", "192.0.2.3"), node("c", "192.0.2.4"))
		var finished, queued int
		for _, f := range r.Findings {
			switch {
			case f.Status != finding.Error || !strings.Contains(f.Message, "timed out after 300ms"):
				t.Errorf("%s: %s %q", f.Target, f.Status, f.Message)
			case strings.Contains(f.Message, "before this target finished"):
				finished++
			case strings.Contains(f.Message, "before this target was scanned"):
				queued++
			}
		}
		if finished != 1 || queued != 2 {
			t.Errorf("%d cut short and %d never started, want 1 and 2", finished, queued)
		}
	})
}

// deadline is a context whose deadline passes when the test says so:
// Err is context.DeadlineExceeded from then on, exactly as when a real
// deadline passes, without a timer racing a loaded machine.
type deadline struct {
	context.Context
	at   time.Time
	done chan struct{}
	once sync.Once
}

func newDeadline(at time.Time) *deadline {
	return &deadline{Context: context.Background(), at: at, done: make(chan struct{})}
}

func (d *deadline) expire()                     { d.once.Do(func() { close(d.done) }) }
func (d *deadline) Deadline() (time.Time, bool) { return d.at, true }
func (d *deadline) Done() <-chan struct{}       { return d.done }
func (d *deadline) Value(any) any               { return nil }
func (d *deadline) Err() error {
	select {
	case <-d.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// TestPanicEndsOneTarget: a collector's panic, even in a goroutine it
// started, costs that target its verdicts (error), not the scan.
func TestPanicEndsOneTarget(t *testing.T) {
	s := &Scanner{
		Collectors: []collect.Collector{portsCollector{}},
		Rules:      builtin(t, "NET-001"),
		Exceptions: &waiver.Set{},
		Scan:       facts.DefaultScan(time.Now()),
	}
	res := s.Run(context.Background(), []target.Target{node("ok", "192.0.2.1"), node("buggy", "192.0.2.66")})
	got := byTarget(res.Report)
	if got["ok"].Status != finding.Pass {
		t.Errorf("ok: %s %s", got["ok"].Status, got["ok"].Message)
	}
	if f := got["buggy"]; f.Status != finding.Error || !strings.Contains(f.Message, "panic") || !strings.Contains(f.Message, "a collector bug") {
		t.Errorf("buggy: %s %q, want error naming the panic", f.Status, f.Message)
	}
	if res.Report.Interrupted {
		t.Error("a panic is not an interrupt")
	}
}
