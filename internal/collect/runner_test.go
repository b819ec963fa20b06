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
	needs    collect.Needs
	// granted, when set, is told what the runner granted.
	granted *collect.Capability
}

func (c fn) Name() string               { return c.name }
func (c fn) Provides() []string         { return []string{c.ns} }
func (c fn) Applies(target.Target) bool { return c.applies }
func (c fn) Needs() collect.Needs       { return c.needs }
func (c fn) Collect(ctx context.Context, _ target.Target, env *collect.Env) (*facts.Facts, error) {
	if c.granted != nil {
		*c.granted = env.Granted
	}
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

// TestRunnerChecksNeeds: the runner alone decides what a target offers: a
// collector whose requirement is not offered does not run and its
// namespace says why (an error, never "not applicable"); one that uses the
// live system or commands gets them only on this machine's own root, and
// commands only with an executor.
func TestRunnerChecksNeeds(t *testing.T) {
	ran := false
	net := fn{name: "net", ns: "tls", applies: true, needs: collect.Needs{Requires: collect.Network},
		f: func(context.Context) (*facts.Facts, error) { ran = true; return &facts.Facts{}, nil }}
	f := collect.Run(context.Background(), target.Target{Name: "/opt/x", Kind: target.Directory, Dir: "/opt/x"}, []collect.Collector{net}, &collect.Env{}, &facts.Facts{})
	if ran || f.Status["tls"].State != facts.Unavailable || !strings.Contains(f.Status["tls"].Reason, "needs the network, which a directory target does not offer") {
		t.Fatalf("ran %v, status %+v", ran, f.Status["tls"])
	}

	var granted collect.Capability
	host := fn{name: "hostos", ns: "host", applies: true, granted: &granted,
		needs: collect.Needs{Requires: collect.Files, Uses: collect.LiveSystem | collect.Commands},
		f:     func(context.Context) (*facts.Facts, error) { return &facts.Facts{Host: &facts.Host{}}, nil }}
	for _, c := range []struct {
		dir  string
		exec collect.Executor
		want collect.Capability
	}{
		{"/", nil, collect.Files | collect.LiveSystem},
		{"", noExec{}, collect.Files | collect.LiveSystem | collect.Commands},
		{"/mnt/image", noExec{}, collect.Files},
	} {
		granted = 0
		tg := target.Target{Name: "h", Kind: target.Host, Dir: c.dir}
		f := collect.Run(context.Background(), tg, []collect.Collector{host}, &collect.Env{Exec: c.exec}, &facts.Facts{})
		if granted != c.want || f.Status["host"].State != facts.Collected {
			t.Errorf("root %q exec %v: granted %s, want %s (%+v)", c.dir, c.exec != nil, granted, c.want, f.Status["host"])
		}
		if _, err := collect.Collect(context.Background(), host, tg, &collect.Env{Exec: c.exec}); err != nil || granted != c.want {
			t.Errorf("Collect on root %q: granted %s, want %s (%v)", c.dir, granted, c.want, err)
		}
	}
	if _, err := collect.Collect(context.Background(), net, target.Target{Kind: target.Host, Dir: "/"}, &collect.Env{}); err == nil || ran {
		t.Errorf("Collect ran a network collector on a host root: %v", err)
	}
}

type noExec struct{}

func (noExec) Run(context.Context, string, ...string) ([]byte, error) { return nil, errors.New("no") }
