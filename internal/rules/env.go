package rules

import (
	"fmt"
	"reflect"
	"sync"

	"cel.dev/cel-go/cel"
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
	// fp is the environment's fingerprint (see fingerprint).
	fpOnce sync.Once
	fp     string
	// programs are the set's planned expressions by programKey.
	programs sync.Map
}

func (l *lazyEnv) get() (*cel.Env, error) {
	l.once.Do(func() { l.env, l.err = newEnv() })
	return l.env, l.err
}

// newEnv builds the CEL environment every rule is compiled in: one
// variable per fact namespace, typed by the Go fact structs (so a rule that
// names an unknown fact fails to compile), and the string, list, set, math
// and optional extensions. Nothing in it can reach the outside world.
func newEnv() (*cel.Env, error) {
	opts := []cel.EnvOption{
		ext.NativeTypes(reflect.TypeOf(&facts.Facts{}), ext.ParseStructTag("json")),
		ext.Strings(), ext.Lists(), ext.Sets(), ext.Math(), ext.Bindings(),
		cel.OptionalTypes(),
		cel.CrossTypeNumericComparisons(true),
	}
	for _, ns := range facts.AllNamespaces() {
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
