package rules

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"
	"github.com/rampart-sec/rampart/internal/facts"
)

// Cost and size limits for one evaluation. Facts are bounded by their
// collectors, but a custom rule could still write a quadratic expression;
// the limit turns that into a clear error instead of a stall.
const (
	costLimit = 10_000_000
)

// lazyEnv is the CEL environment of one rule set, built when the first
// check is compiled: `rampart rules list` and a scan whose rules were all
// filtered out never pay for it (it reflects over every fact type).
type lazyEnv struct {
	once sync.Once
	env  *cel.Env
	err  error
	// built is set once env is.
	built atomic.Bool
	// probe is the environment of the namespaces probe checks read (see
	// probeEnv).
	probeOnce sync.Once
	probe     *cel.Env
	probeErr  error
	// namespaces are the namespace names, true for the probe ones.
	nsOnce     sync.Once
	namespaces map[string]bool
	// fp is the environment's fingerprint (see fingerprint).
	fpOnce sync.Once
	fp     string
	// programs are the set's planned expressions by programKey.
	programs sync.Map
}

func (l *lazyEnv) get() (*cel.Env, error) {
	l.once.Do(func() {
		l.env, l.err = newEnv()
		l.built.Store(true)
	})
	return l.env, l.err
}

// forChecked returns the environment to plan a checked expression in: the
// probe environment when every namespace it names is one of the probe
// namespaces (and the full one is not built already), else the full one.
//
// A checked expression is planned, not compiled: its variables need no
// declaration, and the only types the planner and the evaluation look up
// are those of the values it reaches, all registered in an environment
// that registers the namespaces it names (each with every type its fields
// lead to). The functions and options are the same. So a program planned
// in either environment is the same program; the probe one costs a third
// of the full one to build (the product and host fact types are most of
// the reflection NativeTypes does), which a scan of endpoints no longer
// pays.
func (l *lazyEnv) forChecked(a *celast.AST) (*cel.Env, error) {
	l.nsOnce.Do(func() { l.namespaces = namespaceMap() })
	if l.built.Load() || !probeOnly(a, l.namespaces) {
		return l.get()
	}
	l.probeOnce.Do(func() { l.probe, l.probeErr = newEnvOf(probeNamespaces()) })
	return l.probe, l.probeErr
}

// probeNamespaces are the namespaces on every target and those probe
// checks read.
func probeNamespaces() []facts.Namespace {
	var out []facts.Namespace
	for _, ns := range facts.AllNamespaces() {
		if ns.Always || slices.Contains(ns.Checks, KindProbe) {
			out = append(out, ns)
		}
	}
	return out
}

// namespaceMap maps every namespace name to whether it is a probe one.
func namespaceMap() map[string]bool {
	out := map[string]bool{}
	for _, ns := range facts.AllNamespaces() {
		out[ns.Name] = false
	}
	for _, ns := range probeNamespaces() {
		out[ns.Name] = true
	}
	return out
}

// probeOnly reports whether a names no namespace but the probe ones, and
// no type or constant by a qualified name (a struct literal, a type
// name): what the probe environment may lack. namespaces maps every
// namespace name to whether it is a probe one.
func probeOnly(a *celast.AST, namespaces map[string]bool) bool {
	for _, r := range a.ReferenceMap() {
		if len(r.OverloadIDs) > 0 {
			continue // a function: the same in both
		}
		if probe, isNS := namespaces[r.Name]; isNS && !probe || strings.Contains(r.Name, ".") || r.Value != nil {
			return false
		}
	}
	ok := true
	celast.PostOrderVisit(a.Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		if e.Kind() == celast.StructKind {
			ok = false
		}
	}))
	return ok
}

// newEnv builds the CEL environment every rule is compiled in: one
// variable per fact namespace, typed by the Go fact structs (so a rule that
// names an unknown fact fails to compile), and the string, list, set, math
// and optional extensions. Nothing in it can reach the outside world.
func newEnv() (*cel.Env, error) {
	return buildEnv(facts.AllNamespaces(), ext.NativeTypes(reflect.TypeOf(&facts.Facts{}), ext.ParseStructTag("json")))
}

// newEnvOf builds the environment of some namespaces only: their fact
// types and variables, the same functions and options (see forChecked).
func newEnvOf(nss []facts.Namespace) (*cel.Env, error) {
	roots := make([]any, 0, len(nss)+1)
	for _, ns := range nss {
		roots = append(roots, reflect.PointerTo(ns.Type))
	}
	roots = append(roots, ext.ParseStructTag("json"))
	return buildEnv(nss, ext.NativeTypes(roots...))
}

func buildEnv(nss []facts.Namespace, types cel.EnvOption) (*cel.Env, error) {
	opts := []cel.EnvOption{
		types,
		ext.Strings(), ext.Lists(), ext.Sets(), ext.Math(), ext.Bindings(),
		cel.OptionalTypes(),
		cel.CrossTypeNumericComparisons(true),
	}
	for _, ns := range nss {
		opts = append(opts, cel.Variable(ns.Name, cel.ObjectType(ns.Type.String())))
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, fmt.Errorf("cel env: %w", err)
	}
	return env, nil
}

// activation returns the variables for one evaluation. Absent namespaces
// are bound to empty values, so a `when` on a present namespace never
// trips over a missing one; checks that need a namespace say so in
// requires and are not evaluated without it.
func activation(f *facts.Facts) interpreter.Activation {
	names := facts.Namespaces()
	a := make(map[string]any, len(names))
	for _, ns := range names {
		a[ns] = f.Value(ns)
	}
	return vars(a)
}

// vars is the activation of one target's facts, built once and shared by
// every evaluation on that target.
type vars map[string]any

// ResolveName implements interpreter.Activation.
func (v vars) ResolveName(name string) (any, bool) {
	x, ok := v[name]
	return x, ok
}

// Parent implements interpreter.Activation.
func (v vars) Parent() interpreter.Activation { return nil }
