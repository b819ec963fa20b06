// Package xmlconf reads the product's rendered XML configuration files
// (catalina-server.xml, web.xml, context.xml, carbon.xml, jmx.xml,
// axis2.xml) into a small element tree with line numbers, and answers the
// few questions the rules ask of them.
package xmlconf

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits for one document.
const (
	maxDepth = 256
	maxNodes = 200_000
)

// Node is one XML element.
type Node struct {
	Name     string // local name
	Attrs    map[string]string
	Text     string // character data directly inside, trimmed
	Line     int
	Children []*Node
}

// Parse reads an XML document. DTDs and entities beyond XML's own are not
// expanded (encoding/xml does not fetch or expand external entities).
func Parse(data []byte) (*Node, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	dec.AutoClose = xml.HTMLAutoClose
	dec.Entity = xml.HTMLEntity
	root := &Node{Name: "#document"}
	stack := []*Node{root}
	count := 0
	for {
		line, _ := dec.InputPos()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			count++
			if count > maxNodes {
				return nil, fmt.Errorf("more than %d elements", maxNodes)
			}
			if len(stack) > maxDepth {
				return nil, fmt.Errorf("line %d: elements nested more than %d deep", line, maxDepth)
			}
			n := &Node{Name: t.Name.Local, Attrs: map[string]string{}, Line: line}
			for _, a := range t.Attr {
				n.Attrs[a.Name.Local] = a.Value
			}
			parent := stack[len(stack)-1]
			parent.Children = append(parent.Children, n)
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) > 1 {
				n := stack[len(stack)-1]
				n.Text = strings.TrimSpace(n.Text)
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			if len(stack) > 1 {
				n := stack[len(stack)-1]
				if len(n.Text) < 1<<16 {
					n.Text += string(t)
				}
			}
		}
	}
	if len(root.Children) == 0 {
		return nil, errors.New("no XML element found")
	}
	return root, nil
}

// All returns every descendant element named name, in document order.
func (n *Node) All(name string) []*Node {
	var out []*Node
	var walk func(*Node)
	walk = func(x *Node) {
		for _, c := range x.Children {
			if c.Name == name {
				out = append(out, c)
			}
			walk(c)
		}
	}
	walk(n)
	return out
}

// First returns the first descendant at the path of element names
// ("Ports/Offset"), or nil.
func (n *Node) First(path string) *Node {
	cur := []*Node{n}
	for _, part := range strings.Split(path, "/") {
		var next []*Node
		for _, c := range cur {
			next = append(next, c.All(part)...)
		}
		if len(next) == 0 {
			return nil
		}
		cur = next[:1]
	}
	return cur[0]
}

// Child returns the first direct child named name, or nil.
func (n *Node) Child(name string) *Node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}
