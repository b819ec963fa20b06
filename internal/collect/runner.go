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

// Expected lists the fact namespaces a target of each kind should have
// (each namespace's NamespaceSpec says which): when none of the collectors
// provides one, rules needing it report "collector not available" rather
// than silently not applying.
func Expected(k target.Kind) []string { return facts.ForTarget(string(k)) }

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
	offered := Offered(t, env)
	results := make([]result, len(applicable))
	var wg sync.WaitGroup
	for i, c := range applicable {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := collectOffered(ctx, c, t, env, offered)
			results[i] = result{c: c, f: f, err: err}
		}()
	}
	wg.Wait()

	ran := map[string]bool{}
	for _, r := range results {
		for _, ns := range r.c.Provides() {
			ran[ns] = true
		}
		var miss *missingError
		if errors.As(r.err, &miss) {
			for _, ns := range r.c.Provides() {
				out.SetStatus(ns, facts.Status{State: facts.Unavailable, Reason: miss.Error()})
			}
			continue
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

// Collect runs one collector on t as Run does: it checks what the
// collector needs against what the scan offers on t (a requirement not
// offered is an error, and the collector does not run), grants it what it
// uses, bounds it by env.Timeout and turns a panic into an error. Tests
// that exercise one collector call it rather than the collector itself.
func Collect(ctx context.Context, c Collector, t target.Target, env *Env) (*facts.Facts, error) {
	return collectOffered(ctx, c, t, env, Offered(t, env))
}

// missingError: a collector's requirement the scan does not offer.
type missingError struct {
	collector string
	missing   Capability
	kind      target.Kind
}

func (e *missingError) Error() string {
	return fmt.Sprintf("the %s collector needs %s, which a %s target does not offer here", e.collector, e.missing, e.kind)
}

func collectOffered(ctx context.Context, c Collector, t target.Target, env *Env, offered Capability) (*facts.Facts, error) {
	if env == nil {
		env = &Env{}
	}
	n := c.Needs()
	if missing := n.Requires &^ offered; missing != 0 {
		return nil, &missingError{collector: c.Name(), missing: missing, kind: t.Kind}
	}
	granted := *env
	granted.Granted = offered & (n.Requires | n.Uses)
	return runOne(ctx, c, t, &granted)
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
