package wso2kb

import (
	"strings"
	"testing"
)

// FuzzParse: products.yaml is rampart's own data, but its reader must
// still refuse what it cannot use rather than half-read it: an accepted
// catalog resolves each described version to a layout that says it is
// that version, or refuses it with an error, never with a panic.
func FuzzParse(f *testing.F) {
	f.Add(productsYAML)
	f.Add([]byte(strings.ReplaceAll(testYAML, "\t", "  ")))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		c, err := Parse(b)
		if err != nil {
			return
		}
		if len(c.Profiles()) == 0 {
			t.Fatal("accepted a catalog without products")
		}
		for _, p := range c.Profiles() {
			vs := c.Versions(p)
			if len(vs) == 0 {
				t.Fatalf("%s: accepted without described versions", p)
			}
			for _, d := range vs {
				l, err := c.Layout(p, d.Key)
				if err != nil {
					continue
				}
				if l.Described != d.Key || l.Note != "" || l.Profile != p {
					t.Fatalf("%s %s resolved as %q (%s)", p, d.Key, l.Described, l.Note)
				}
			}
		}
	})
}
