package facts

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// A Namespace is one top-level group of facts as the rest of rampart
// handles it. Everything about a namespace is read from the Facts struct
// and the namespace's own type: its name is the JSON name of its Facts
// field, its Go type is the field's, and the type's NamespaceSpec method
// (in the namespace's own file) says which targets it is collected for and
// which kinds of rule check may read it. The rule engine's CEL variables,
// the runner's expected namespaces, the check kinds' allowed namespaces,
// Present and Merge all come from here, so adding a namespace is its type
// (with NamespaceSpec), one field of Facts, and its collector.
type Namespace struct {
	// Name is what rules call it (tls, product).
	Name string
	// Type is the struct type that holds its facts.
	Type reflect.Type
	// Always: on every target (target, scan), not collected.
	Always bool
	// Targets are the target kinds (directory, host, endpoint, node) whose
	// scan should collect it: when no collector of the build provides it,
	// the rules needing it say the collector is not available.
	Targets []string
	// Checks are the kinds of rule check (file, host, probe) that may
	// require it.
	Checks []string

	field int
}

// Spec is what a namespace's type says of itself.
type Spec struct {
	Targets []string
	Checks  []string
}

// specified is implemented, with a value receiver, by each namespace's
// type.
type specified interface{ NamespaceSpec() Spec }

// namespaces are read from the Facts struct once, when first asked for.
var namespaces struct {
	once sync.Once
	list []Namespace
}

func registry() []Namespace {
	namespaces.once.Do(func() {
		ns, err := readRegistry()
		if err != nil {
			// The Facts struct is fixed at build time and TestRegistry
			// reads it: this is a defect of the build, not of any input.
			panic("facts: " + err.Error())
		}
		namespaces.list = ns
	})
	return namespaces.list
}

func readRegistry() ([]Namespace, error) { return namespacesOf(reflect.TypeOf(Facts{})) }

// namespacesOf reads the namespaces of a struct shaped like Facts.
func namespacesOf(t reflect.Type) ([]Namespace, error) {
	var out []Namespace
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Name == "Status" || name == "" || name == "-" {
			continue
		}
		n := Namespace{Name: name, Type: f.Type, field: i}
		switch f.Type.Kind() {
		case reflect.Struct:
			n.Always = true
		case reflect.Pointer:
			n.Type = f.Type.Elem()
			if n.Type.Kind() != reflect.Struct {
				return nil, fmt.Errorf("field %s of Facts: a namespace is a struct or a pointer to one", f.Name)
			}
		default:
			return nil, fmt.Errorf("field %s of Facts: a namespace is a struct or a pointer to one", f.Name)
		}
		s, ok := reflect.Zero(n.Type).Interface().(specified)
		if !ok {
			return nil, fmt.Errorf("field %s of Facts: %s has no NamespaceSpec method", f.Name, n.Type)
		}
		spec := s.NamespaceSpec()
		n.Targets, n.Checks = spec.Targets, spec.Checks
		if n.Always && len(n.Targets) > 0 {
			return nil, fmt.Errorf("field %s of Facts is on every target, so no target kind collects it (its spec names %v)", f.Name, n.Targets)
		}
		out = append(out, n)
	}
	return out, nil
}

// AllNamespaces describes every namespace, in the order of Facts' fields.
func AllNamespaces() []Namespace { return slices.Clone(registry()) }

// Namespaces lists every namespace name in a stable order.
func Namespaces() []string {
	ns := registry()
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Name
	}
	return out
}

// NamespaceNamed describes the namespace called name.
func NamespaceNamed(name string) (Namespace, bool) {
	for _, n := range registry() {
		if n.Name == name {
			return n, true
		}
	}
	return Namespace{}, false
}

// ForTarget lists the namespaces a target of kind should have collected.
func ForTarget(kind string) []string {
	var out []string
	for _, n := range registry() {
		if slices.Contains(n.Targets, kind) {
			out = append(out, n.Name)
		}
	}
	return out
}

// ForCheck lists the namespaces a rule check of kind may require.
func ForCheck(kind string) []string {
	var out []string
	for _, n := range registry() {
		if slices.Contains(n.Checks, kind) {
			out = append(out, n.Name)
		}
	}
	return out
}

// Present reports whether the namespace value itself is non-nil (always
// for target and scan). The engine uses it together with Lookup: a
// collected namespace must be present.
func (f *Facts) Present(ns string) bool {
	n, ok := NamespaceNamed(ns)
	if !ok {
		return false
	}
	return n.Always || !reflect.ValueOf(f).Elem().Field(n.field).IsNil()
}

// Value returns the namespace's facts for evaluation: target and scan as
// they are, a collected namespace by pointer, one not collected as a
// pointer to its zero value (so a rule reading it sees empty facts, never
// a nil). nil for an unknown name.
func (f *Facts) Value(ns string) any {
	n, ok := NamespaceNamed(ns)
	if !ok {
		return nil
	}
	v := reflect.ValueOf(f).Elem().Field(n.field)
	if !n.Always && v.IsNil() {
		return reflect.New(n.Type).Interface()
	}
	return v.Interface()
}

// Merge copies the namespaces and statuses that other holds into f. Each
// collector returns its own Facts value; the runner merges them, so no two
// goroutines ever write the same struct.
func (f *Facts) Merge(other *Facts) {
	if other == nil {
		return
	}
	dst, src := reflect.ValueOf(f).Elem(), reflect.ValueOf(other).Elem()
	for _, n := range registry() {
		if n.Always {
			continue
		}
		if v := src.Field(n.field); !v.IsNil() {
			dst.Field(n.field).Set(v)
		}
	}
	keys := make([]string, 0, len(other.Status))
	for k := range other.Status {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		f.SetStatus(k, other.Status[k])
	}
}
