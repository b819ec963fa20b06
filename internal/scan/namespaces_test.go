package scan

import (
	"slices"
	"testing"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/rules"
	"github.com/rampart-sec/rampart/internal/target"
)

// TestNamespaceSpecsUseRealKinds: what each fact namespace's NamespaceSpec
// says (facts stays free of the packages that define kinds) names real
// target kinds and rule check kinds, a target collecting a namespace
// offers a check that may read it, and every namespace a collector of this
// build provides is expected of some target kind.
func TestNamespaceSpecsUseRealKinds(t *testing.T) {
	kinds := []string{string(target.Directory), string(target.Host), string(target.Endpoint), string(target.Node)}
	for _, n := range facts.AllNamespaces() {
		for _, k := range n.Targets {
			if !slices.Contains(kinds, k) {
				t.Errorf("%s: target kind %q is none of %v", n.Name, k, kinds)
				continue
			}
			offered := false
			for _, c := range n.Checks {
				offered = offered || Offers(target.Kind(k))[c]
			}
			if !offered {
				t.Errorf("%s is collected for %s targets, which offer none of the checks %v that read it", n.Name, k, n.Checks)
			}
		}
		for _, c := range n.Checks {
			if !slices.Contains(rules.Kinds(), c) || c == rules.KindManual {
				t.Errorf("%s: check kind %q is none of %v", n.Name, c, rules.Kinds())
			}
		}
	}
	for _, c := range Collectors(Config{}) {
		for _, ns := range c.Provides() {
			n, ok := facts.NamespaceNamed(ns)
			if !ok || len(n.Targets) == 0 {
				t.Errorf("collector %s provides %q, which no target kind expects", c.Name(), ns)
			}
		}
	}
}
