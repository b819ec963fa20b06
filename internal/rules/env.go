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
	"cel.dev/cel-go/common/types"
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
	// scope is the probe namespaces of the first target prepared or
	// judged (setScope); scoped is the environment of those only (and
	// the namespaces on every target), where an expression that names
	// no other is planned (see forChecked).
	scopeOnce  sync.Once
	scope      map[string]bool
	scopedOnce sync.Once
	scoped     *cel.Env
	scopedErr  error
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
//
// The same holds of an environment of fewer probe namespaces: an
// expression that names only namespaces of the scope (the probe
// namespaces the first target prepared or judged has: tls and http for an
// HTTPS endpoint) is planned in the environment of those, which costs
// less again (the SSH and port fact types are a third of the probe one);
// any other probe expression in the probe one.
func (l *lazyEnv) forChecked(a *celast.AST) (*cel.Env, error) {
	l.nsOnce.Do(func() { l.namespaces = namespaceMap() })
	if l.built.Load() {
		return l.get()
	}
	probe, inScope := l.classify(a)
	switch {
	case !probe:
		return l.get()
	case inScope:
		l.scopedOnce.Do(func() {
			var nss []facts.Namespace
			for _, ns := range probeNamespaces() {
				if l.scope[ns.Name] {
					nss = append(nss, ns)
				}
			}
			l.scoped, l.scopedErr = newEnvOf(nss)
		})
		return l.scoped, l.scopedErr
	}
	l.probeOnce.Do(func() { l.probe, l.probeErr = newEnvOf(probeNamespaces()) })
	return l.probe, l.probeErr
}

// setScope sets the scope (see forChecked) to the namespaces on every
// target and the probe namespaces for which has is true, unless it is set
// already (or was looked at unset).
func (l *lazyEnv) setScope(has func(ns string) bool) {
	l.scopeOnce.Do(func() {
		l.scope = map[string]bool{}
		for _, ns := range probeNamespaces() {
			if ns.Always || has(ns.Name) {
				l.scope[ns.Name] = true
			}
		}
	})
}

// classify reports whether a can be planned in the probe environment
// (probeOnly) and, if so, whether in the scoped one too: the scope is set
// and holds every namespace a names.
func (l *lazyEnv) classify(a *celast.AST) (probe, inScope bool) {
	if !probeOnly(a, l.namespaces) {
		return false, false
	}
	l.scopeOnce.Do(func() {}) // a scope not set by now stays unset
	if l.scope == nil {
		return true, false
	}
	for _, r := range a.ReferenceMap() {
		if len(r.OverloadIDs) == 0 && l.namespaces[r.Name] && !l.scope[r.Name] {
			return true, false
		}
	}
	return true, true
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
	opts = append(opts, cacheFieldTypes)
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, fmt.Errorf("cel env: %w", err)
	}
	return env, nil
}

// cacheFieldTypes makes the environment's type provider remember the
// fields it has looked up. Planning a field selection asks the provider
// for the field (for a Go fact type: its CEL type, and a getter and a
// tester built by reflection, each time); the built-in checks select the
// same few fields (s.version, s.mode, tls.suites) in many expressions, and
// those look-ups were a quarter of planning them (BenchmarkJudgeEndpoint,
// cold-compiled). A field's answer is immutable: the provider's types are
// all registered by then, and the getter and tester are pure functions of
// the value they read.
func cacheFieldTypes(e *cel.Env) (*cel.Env, error) {
	return cel.CustomTypeProvider(&fieldTypeCache{Provider: e.CELTypeProvider()})(e)
}

// fieldTypeCache is a types.Provider that remembers FindStructFieldType's
// answers.
type fieldTypeCache struct {
	types.Provider
	fields sync.Map // fieldKey -> fieldAnswer
}

type fieldKey struct{ structType, field string }

type fieldAnswer struct {
	ft    *types.FieldType
	found bool
}

// FindStructFieldType implements types.Provider.
func (c *fieldTypeCache) FindStructFieldType(structType, field string) (*types.FieldType, bool) {
	k := fieldKey{structType, field}
	if a, ok := c.fields.Load(k); ok {
		return a.(fieldAnswer).ft, a.(fieldAnswer).found
	}
	ft, found := c.Provider.FindStructFieldType(structType, field)
	c.fields.Store(k, fieldAnswer{ft, found})
	return ft, found
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
