package collect_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/target"
)

// fn is a collector made of a function, for testing the runner's own
// contract (timeouts, panics, statuses) independently of any real one.
type fn struct {
	name, ns string
	applies  bool
	f        func(ctx context.Context) (*facts.Facts, error)
}

func (c fn) Name() string               { return c.name }
func (c fn) Provides() []string         { return []string{c.ns} }
func (c fn) Applies(target.Target) bool { return c.applies }
func (c fn) Collect(ctx context.Context, _ target.Target, _ *collect.Env) (*facts.Facts, error) {
	return c.f(ctx)
}

func TestRunnerStates(t *testing.T) {
	ep := target.Target{Name: "h:443", Kind: target.Endpoint, Host: "h", Port: 443}
	cs := []collect.Collector{
		fn{name: "tls", ns: "tls", applies: true, f: func(context.Context) (*facts.Facts, error) {
			return &facts.Facts{TLS: &facts.TLS{Versions: []string{"TLSv1.3"}}}, nil
		}},
		fn{name: "http", ns: "http", applies: true, f: func(ctx context.Context) (*facts.Facts, error) {
			<-ctx.Done() // a server that never answers
			return nil, ctx.Err()
		}},
		fn{name: "ssh", ns: "ssh", applies: true, f: func(context.Context) (*facts.Facts, error) { panic("boom") }},
	}
	env := &collect.Env{Timeout: 50 * time.Millisecond}
	start := time.Now()
	f := collect.Run(context.Background(), ep, cs, env, &facts.Facts{})
	if time.Since(start) > 5*time.Second {
		t.Fatal("the runner did not bound the hanging collector")
	}
	want := map[string]facts.State{"tls": facts.Collected, "http": facts.Failed, "ssh": facts.Failed}
	for ns, st := range want {
		if got := f.Status[ns].State; got != st {
			t.Errorf("%s: %s, want %s (%s)", ns, got, st, f.Status[ns].Reason)
		}
	}
	if !strings.Contains(f.Status["http"].Reason, "timed out") || !strings.Contains(f.Status["ssh"].Reason, "panic") {
		t.Errorf("reasons: %q / %q", f.Status["http"].Reason, f.Status["ssh"].Reason)
	}
}

func TestRunnerAbsentAndUnavailable(t *testing.T) {
	ep := target.Target{Name: "h:22", Kind: target.Endpoint}
	cs := []collect.Collector{
		fn{name: "tls", ns: "tls", applies: true, f: func(context.Context) (*facts.Facts, error) { return nil, nil }},
		fn{name: "http", ns: "http", applies: false},
		fn{name: "x", ns: "x", applies: true, f: func(context.Context) (*facts.Facts, error) { return nil, errors.New("x") }},
	}
	f := collect.Run(context.Background(), ep, cs, &collect.Env{}, &facts.Facts{})
	if f.Status["tls"].State != facts.Absent || f.Status["http"].State != facts.Absent || f.Status["ssh"].State != facts.Unavailable {
		t.Fatalf("statuses: %+v", f.Status)
	}
}
