package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/target"
)

// stallCollector finishes port 1 at once and holds every other target
// until the scan is interrupted.
type stallCollector struct{ finished chan struct{} }

func (stallCollector) Name() string                 { return "ports" }
func (stallCollector) Provides() []string           { return []string{facts.NSPorts} }
func (stallCollector) Applies(t target.Target) bool { return t.Kind == target.Node }
func (stallCollector) Needs() collect.Needs         { return collect.Needs{Requires: collect.Network} }
func (c stallCollector) Collect(ctx context.Context, t target.Target, _ *collect.Env) (*facts.Facts, error) {
	if t.Host == "192.0.2.1" {
		defer close(c.finished)
		return &facts.Facts{Ports: &facts.Ports{Host: t.Host, Open: []facts.OpenPort{{Port: 7, Service: "unknown"}}}}, nil
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestInterruptWritesWhatFinished: an interrupt (the context main cancels
// on SIGINT) stops the scan; the report is still written, marked
// interrupted, with the target that finished judged and the ones cut short
// present with their rules in error ("the scan was interrupted").
func TestInterruptWritesWhatFinished(t *testing.T) {
	dir := t.TempDir()
	inv := writeFile(t, dir, "inv.yaml", "targets:\n  - {name: done, address: 192.0.2.1}\n  - {name: stuck1, address: 192.0.2.2}\n  - {name: stuck2, address: 192.0.2.3}\n")
	out := filepath.Join(dir, "report.json")
	c := stallCollector{finished: make(chan struct{})}
	d := defaultDeps()
	d.now = func() time.Time { return testClock }
	d.isTerminal = func(io.Writer) bool { return false }
	d.collectors = func() []collect.Collector { return []collect.Collector{c} }
	ctx, cancel := context.WithCancel(context.Background())
	// Interrupt once the finished target is judged and in the report.
	judged := make(chan struct{})
	d.targetDone = func(_, _ int, name string) {
		if name == "done" {
			close(judged)
		}
	}
	go func() { <-judged; cancel() }()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"scan", "@" + inv, "-f", "json", "-o", out, "--only", "NET-001"}, &stdout, &stderr, d)
	if code != ExitIncomplete {
		t.Errorf("exit %d, want %d (incomplete); stderr %s", code, ExitIncomplete, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("no report written: %v", err)
	}
	var r finding.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if !r.Interrupted || len(r.Targets) != 3 || len(r.Findings) != 3 {
		t.Fatalf("report: interrupted %v, targets %+v, %d findings", r.Interrupted, r.Targets, len(r.Findings))
	}
	for _, f := range r.Findings {
		switch {
		case f.Target == "done" && f.Status == finding.Manual: // no expected_ports declared: judged, awaiting attestation
		case f.Target != "done" && f.Status == finding.Error && strings.Contains(f.Message, "the scan was interrupted"):
		default:
			t.Errorf("%s: %s %q", f.Target, f.Status, f.Message)
		}
	}
}
