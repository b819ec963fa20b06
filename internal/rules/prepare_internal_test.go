package rules

import (
	"context"
	"strings"
	"testing"

	builtin "github.com/rampart-sec/rampart/rules"
)

func loadBuiltinSet(t *testing.T) *Set {
	t.Helper()
	set, err := Load(Source{Name: "built-in", FS: builtin.FS, Trusted: true, Compiled: builtin.Compiled})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// isCompiled reports whether c's expressions were compiled (ready ran).
func isCompiled(c *Check) bool { return c.prog.assert != nil }

// Prepare compiles exactly the checks a target offering probe checks, with
// tls and http collectors, could be judged by: no file or host check, no
// probe check needing a namespace those collectors do not provide.
func TestPrepareCompilesWhatCanApply(t *testing.T) {
	set := loadBuiltinSet(t)
	Prepare(context.Background(), set.Rules(), map[string]bool{KindProbe: true}, []string{"tls", "http"})
	var ready, other, missing int
	for _, r := range set.Rules() {
		for _, c := range r.Checks {
			switch {
			case c.Kind == KindManual:
			case c.Kind != KindProbe:
				if isCompiled(c) {
					t.Errorf("%s: %s check compiled for a probe target", r.ID, c.Kind)
				}
				other++
			case needsOnly(c.Requires, "tls", "http"):
				if !isCompiled(c) {
					t.Errorf("%s: probe check on %v not compiled", r.ID, c.Requires)
				}
				ready++
			default:
				if isCompiled(c) {
					t.Errorf("%s: probe check on %v compiled without its collector", r.ID, c.Requires)
				}
				missing++
			}
		}
	}
	if ready == 0 || other == 0 || missing == 0 {
		t.Fatalf("compiled %d, other kinds %d, other namespaces %d: the rule set no longer tells them apart", ready, other, missing)
	}
}

func needsOnly(requires []string, namespaces ...string) bool {
	for _, req := range requires {
		ns, _, _ := strings.Cut(req, ".")
		if ns != "target" && ns != "scan" && !contains(namespaces, ns) {
			return false
		}
	}
	return true
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// A scan that ends before Prepare starts compiles nothing.
func TestPrepareStopsWithItsContext(t *testing.T) {
	set := loadBuiltinSet(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	Prepare(ctx, set.Rules(), map[string]bool{KindProbe: true}, []string{"tls", "http"})
	for _, r := range set.Rules() {
		for _, c := range r.Checks {
			if isCompiled(c) {
				t.Fatalf("%s compiled after its scan ended", r.ID)
			}
		}
	}
}
