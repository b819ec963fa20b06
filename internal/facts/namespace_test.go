package facts

import (
	"reflect"
	"slices"
	"testing"
)

// TestRegistry: the namespaces read from Facts are the ones rules know by
// name, each with a spec, and Present, Value and Merge handle every one of
// them (a namespace added to Facts is handled with no other change).
func TestRegistry(t *testing.T) {
	// The namespaces rules know by name are there, target and scan first
	// (a namespace added later is one more field, and nothing here).
	got := Namespaces()
	for _, ns := range []string{NSTarget, NSScan, NSProduct, NSHost, NSTLS, NSHTTP, NSSSH, NSPorts} {
		if !slices.Contains(got, ns) {
			t.Errorf("Namespaces() = %v lacks %s", got, ns)
		}
	}
	if len(got) < 2 || got[0] != NSTarget || got[1] != NSScan {
		t.Errorf("Namespaces() = %v: target and scan first", got)
	}
	if _, err := readRegistry(); err != nil {
		t.Fatal(err)
	}
	for _, n := range AllNamespaces() {
		if !n.Always && (len(n.Targets) == 0 || len(n.Checks) == 0) {
			t.Errorf("%s: collected for %v and read by %v checks", n.Name, n.Targets, n.Checks)
		}
	}
	empty, full := &Facts{}, &Facts{}
	v := reflect.ValueOf(full).Elem()
	for _, n := range AllNamespaces() {
		if n.Always {
			if !empty.Present(n.Name) {
				t.Errorf("%s not present on an empty Facts", n.Name)
			}
			continue
		}
		if empty.Present(n.Name) {
			t.Errorf("%s present on an empty Facts", n.Name)
		}
		zero := empty.Value(n.Name)
		if reflect.TypeOf(zero) != reflect.PointerTo(n.Type) || reflect.ValueOf(zero).IsNil() {
			t.Errorf("%s: Value of an absent namespace is %#v, want a pointer to a zero %s", n.Name, zero, n.Type)
		}
		v.Field(n.field).Set(reflect.New(n.Type))
	}
	merged := &Facts{}
	merged.Merge(full)
	for _, n := range AllNamespaces() {
		if !merged.Present(n.Name) {
			t.Errorf("%s not merged", n.Name)
		}
		if !n.Always && merged.Value(n.Name) != full.Value(n.Name) {
			t.Errorf("%s: merged a different value", n.Name)
		}
	}
	if empty.Present("nope") || empty.Value("nope") != nil {
		t.Error("an unknown namespace")
	}
	if got := ForTarget("endpoint"); !slices.Equal(got, []string{NSTLS, NSHTTP, NSSSH}) {
		t.Errorf("ForTarget(endpoint) = %v", got)
	}
	if got := ForCheck("host"); !slices.Equal(got, []string{NSProduct, NSHost}) {
		t.Errorf("ForCheck(host) = %v", got)
	}
}

// TestRegistryRefusesBadNamespaces: a Facts field that is no struct, or a
// struct without NamespaceSpec, stops the build's tests rather than being
// silently left out.
func TestRegistryRefusesBadNamespaces(t *testing.T) {
	type noSpec struct{ X int }
	for name, typ := range map[string]reflect.Type{
		"no spec": reflect.TypeOf(struct {
			N *noSpec `json:"n"`
		}{}),
		"no struct": reflect.TypeOf(struct {
			N *int `json:"n"`
		}{}),
	} {
		if _, err := namespacesOf(typ); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
