package wso2kb

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// overlay lays top over base: mappings merge key by key, a key set to null
// removes what base holds for it, anything else replaces. Neither input is
// changed.
func overlay(base, top *yaml.Node) *yaml.Node {
	if base == nil || base.Kind != yaml.MappingNode || top.Kind != yaml.MappingNode {
		return clone(top)
	}
	out := clone(base)
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		j := keyIndex(out, k.Value)
		switch {
		case isNull(v) && j >= 0:
			out.Content = append(out.Content[:j], out.Content[j+2:]...)
		case isNull(v):
		case j >= 0:
			out.Content[j+1] = overlay(out.Content[j+1], v)
		default:
			out.Content = append(out.Content, clone(k), clone(v))
		}
	}
	return out
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func keyIndex(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// value returns the value of key in mapping m, nil when absent.
func value(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	if i := keyIndex(m, key); i >= 0 {
		return m.Content[i+1]
	}
	return nil
}

// without returns a copy of mapping m without key.
func without(m *yaml.Node, key string) *yaml.Node {
	out := clone(m)
	if i := keyIndex(out, key); i >= 0 {
		out.Content = append(out.Content[:i], out.Content[i+2:]...)
	}
	return out
}

func clone(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, x := range n.Content {
		c.Content[i] = clone(x)
	}
	return &c
}

// decode decodes n into v; strict refuses keys v has no field for (a
// misspelt key in products.yaml is an error, not silently nothing).
func decode(n *yaml.Node, v any, strict bool) error {
	if !strict {
		return n.Decode(v)
	}
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	return dec.Decode(v)
}

// checkPlain refuses anchors, aliases and merge keys: overlay works on the
// tree as written, and a reader should see each value where it applies.
func checkPlain(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" || (n.Kind == yaml.ScalarNode && n.Tag == "!!merge") {
		return fmt.Errorf("line %d: anchors, aliases and merge keys are not used in products.yaml", n.Line)
	}
	for _, c := range n.Content {
		if err := checkPlain(c); err != nil {
			return err
		}
	}
	return nil
}
