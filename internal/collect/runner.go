package collect

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/target"
)

// Expected lists the fact namespaces a target of each kind should have:
// when none of the collectors provides one, rules needing it report
// "collector not available" rather than silently not applying.
func Expected(k target.Kind) []string {
	switch k {
	case target.Directory:
		return []string{facts.NSProduct}
	case target.Host:
		return []string{facts.NSHost}
	case target.Endpoint:
		return []string{facts.NSTLS, facts.NSHTTP, facts.NSSSH}
	case target.Node:
		return []string{facts.NSPorts}
	}
	return nil
}

// Run runs every collector that applies to t concurrently, each bounded by
// env.Timeout, and merges their facts into base (which carries the target
// and scan namespaces). A collector that fails, times out or panics marks
// its namespaces Failed; the others are unaffected.
func Run(ctx context.Context, t target.Target, cs []Collector, env *Env, base *facts.Facts) *facts.Facts {
	out := base
	provided := map[string]bool{}
	type result struct {
		c   Collector
		f   *facts.Facts
		err error
	}
	var applicable []Collector
	for _, c := range cs {
		for _, ns := range c.Provides() {
			provided[ns] = true
		}
		if c.Applies(t) {
			applicable = append(applicable, c)
		}
	}
	results := make([]result, len(applicable))
	var wg sync.WaitGroup
	for i, c := range applicable {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := runOne(ctx, c, t, env)
			results[i] = result{c: c, f: f, err: err}
		}()
	}
	wg.Wait()

	ran := map[string]bool{}
	for _, r := range results {
		for _, ns := range r.c.Provides() {
			ran[ns] = true
		}
		if r.err != nil {
			env.Log().Debug("collector failed", "collector", r.c.Name(), "target", t.Name, "err", r.err)
			for _, ns := range r.c.Provides() {
				out.SetStatus(ns, Failure(r.err))
			}
			continue
		}
		out.Merge(r.f)
		for _, ns := range r.c.Provides() {
			if _, has := out.Status[ns]; has {
				continue
			}
			if out.Present(ns) {
				out.SetStatus(ns, facts.Status{State: facts.Collected})
			} else {
				out.SetStatus(ns, facts.Status{State: facts.Absent, Reason: fmt.Sprintf("the %s collector found nothing of this kind here", r.c.Name())})
			}
		}
	}
	// Namespaces this kind of target should have but nothing collected.
	expected := Expected(t.Kind)
	sort.Strings(expected)
	for _, ns := range expected {
		if _, has := out.Status[ns]; has {
			continue
		}
		switch {
		case !provided[ns]:
			out.SetStatus(ns, facts.Status{State: facts.Unavailable, Reason: "no " + ns + " collector in this build"})
		case !ran[ns]:
			out.SetStatus(ns, facts.Status{State: facts.Absent, Reason: "does not apply to a " + string(t.Kind) + " target"})
		}
	}
	return out
}

// runOne runs one collector under the per-collector timeout, turning a
// panic into an error so one broken collector cannot take the scan down.
func runOne(ctx context.Context, c Collector, t target.Target, env *Env) (f *facts.Facts, err error) {
	if env.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, env.Timeout)
		defer cancel()
	}
	defer func() {
		if p := recover(); p != nil {
			stack := debug.Stack()
			if gp, ok := p.(*Panic); ok { // raised again by Group.Wait: show where it happened
				stack = gp.Stack
			}
			env.Log().Error("collector panicked", "collector", c.Name(), "target", t.Name, "panic", p, "stack", string(stack))
			f, err = nil, fmt.Errorf("internal error in the %s collector (panic): %v", c.Name(), p)
		}
	}()
	start := time.Now()
	f, err = c.Collect(ctx, t, env)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s: %w", time.Since(start).Round(time.Millisecond), err)
	}
	if err == nil && f == nil {
		f = &facts.Facts{}
	}
	return f, err
}
