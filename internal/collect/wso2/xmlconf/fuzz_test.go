package xmlconf

import (
	"bytes"
	"testing"
)

// FuzzParse: a document read is a tree within the limits (elements,
// depth) whose elements are in document order with lines of the input,
// and All and First find exactly the elements so named.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`<Server><Service><Connector port="9443" SSLEnabled="true"><SSLHostConfig protocols="+TLSv1.2"/></Connector></Service></Server>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "aaaa">]><web-app><filter><filter-class>X</filter-class></filter></web-app>`))
	f.Add([]byte("<a><b>\x00</b>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data)
		if err != nil {
			return
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		count, last := 0, 0
		names := map[string]int{}
		var walk func(n *Node, depth int)
		walk = func(n *Node, depth int) {
			for _, c := range n.Children {
				count++
				names[c.Name]++
				if depth > maxDepth+1 || c.Line < 1 || c.Line > lines || c.Line < last || c.Attrs == nil {
					t.Fatalf("element %q at depth %d, line %d (previous %d, %d lines)", c.Name, depth, c.Line, last, lines)
				}
				last = c.Line
				walk(c, depth+1)
			}
		}
		walk(doc, 1)
		if count == 0 || count > maxNodes {
			t.Fatalf("%d elements", count)
		}
		for name, n := range names {
			all := doc.All(name)
			if len(all) != n {
				t.Fatalf("All(%q): %d elements, the tree has %d", name, len(all), n)
			}
			for _, e := range all {
				if e.Name != name {
					t.Fatalf("All(%q) returned %q", name, e.Name)
				}
			}
			if name != "" && !bytes.Contains([]byte(name), []byte("/")) && doc.First(name) != all[0] {
				t.Fatalf("First(%q) is not the first of All", name)
			}
		}
	})
}
