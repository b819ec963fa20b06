package tomlcfg

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// maxInferDepth bounds chained inferences (a value implying a key that
// implies more); real infer.json files chain two levels at most.
const maxInferDepth = 8

// maxRefDepth bounds $ref{} chains and catches cycles.
const maxRefDepth = 16

// Inputs are the parsed configuration files of one product. Any of them
// may be empty (a source-only installation has no default.json).
type Inputs struct {
	User     []Entry
	Defaults []Entry
	Infer    InferRules
	Mappings KeyMappings
	// Documented are documented product defaults (Layer Documented): they
	// fill keys no file sets.
	Documented []Entry
}

// Config is the effective configuration: every key with the entry that
// wins (user over inferred over default), after key renames.
type Config struct {
	entries map[string]Entry
	keys    []string
}

// Build overlays the inputs the way the product's config mapper does.
func Build(in Inputs) *Config {
	inferred := infer(in.User, in.Infer)
	c := &Config{entries: map[string]Entry{}}
	for _, layer := range [][]Entry{in.Documented, in.Defaults, inferred, in.User} {
		for _, e := range layer {
			for _, k := range mapKey(e.Key, in.Mappings) {
				m := e
				if k != e.Key {
					m.Key = k
					if m.From == "" {
						m.From = e.Key
					}
				}
				if prev, ok := c.entries[k]; ok && prev.Layer > m.Layer {
					continue
				}
				c.entries[k] = m
			}
		}
	}
	c.keys = sortedKeys(c.entries)
	return c
}

func mapKey(key string, m KeyMappings) []string {
	if t, ok := m[key]; ok && len(t) > 0 {
		return t
	}
	return []string{key}
}

// infer derives the values infer.json implies from the user's values.
func infer(user []Entry, rules InferRules) []Entry {
	if len(rules) == 0 {
		return nil
	}
	patterns := compileInfer(rules)
	var out []Entry
	var walk func(key string, val any, src Entry, depth int)
	walk = func(key string, val any, src Entry, depth int) {
		if depth > maxInferDepth {
			return
		}
		ruleKey, subst, ok := matchInfer(key, rules, patterns)
		if !ok {
			return
		}
		implied, ok := rules[ruleKey][String(val)]
		if !ok {
			return
		}
		for _, k := range sortedKeys(implied) {
			v := implied[k]
			rk := k
			for ph, part := range subst {
				rk = strings.ReplaceAll(rk, ph, part)
				if s, ok := v.(string); ok {
					v = strings.ReplaceAll(s, ph, part)
				}
			}
			e := Entry{Key: rk, Value: v, File: src.File, Line: src.Line, Layer: Inferred,
				From: fmt.Sprintf("inferred from %s = %s (infer.json)", src.Key, String(src.Value))}
			out = append(out, e)
			walk(rk, v, src, depth+1)
		}
	}
	for _, e := range user {
		walk(e.Key, e.Value, e, 0)
	}
	return out
}

// placeholderPart matches infer.json's $1-style placeholders; compiled on
// first use.
var placeholderRE struct {
	once sync.Once
	re   *regexp.Regexp
}

func placeholderPart() *regexp.Regexp {
	placeholderRE.once.Do(func() { placeholderRE.re = regexp.MustCompile(`\$[0-9]+`) })
	return placeholderRE.re
}

type inferPattern struct {
	key string
	re  *regexp.Regexp
	phs []string
}

func compileInfer(rules InferRules) []inferPattern {
	var ps []inferPattern
	for _, k := range sortedKeys(rules) {
		if !placeholderPart().MatchString(k) {
			continue
		}
		parts := strings.Split(k, ".")
		var b strings.Builder
		var phs []string
		for i, p := range parts {
			if i > 0 {
				b.WriteString(`\.`)
			}
			if placeholderPart().MatchString(p) && placeholderPart().FindString(p) == p {
				b.WriteString(`([^.]+)`)
				phs = append(phs, p)
				continue
			}
			b.WriteString(regexp.QuoteMeta(p))
		}
		re, err := regexp.Compile("^" + b.String() + "$")
		if err != nil {
			continue
		}
		ps = append(ps, inferPattern{key: k, re: re, phs: phs})
	}
	return ps
}

func matchInfer(key string, rules InferRules, ps []inferPattern) (string, map[string]string, bool) {
	if _, ok := rules[key]; ok {
		return key, nil, true
	}
	for _, p := range ps {
		m := p.re.FindStringSubmatch(key)
		if m == nil {
			continue
		}
		subst := map[string]string{}
		for i, ph := range p.phs {
			subst[ph] = m[i+1]
		}
		return p.key, subst, true
	}
	return "", nil, false
}

// Keys lists every effective key, sorted.
func (c *Config) Keys() []string { return c.keys }

// Entry returns the winning entry of key as written (no resolution).
func (c *Config) Entry(key string) (Entry, bool) {
	e, ok := c.entries[key]
	return e, ok
}

// Has reports whether key has a value in any layer.
func (c *Config) Has(key string) bool {
	_, ok := c.entries[key]
	return ok
}

// WithPrefix lists the effective keys under prefix (prefix + "."), sorted.
func (c *Config) WithPrefix(prefix string) []string {
	var out []string
	p := prefix + "."
	for _, k := range c.keys {
		if strings.HasPrefix(k, p) {
			out = append(out, k)
		}
	}
	return out
}

// Value is a key's effective value with its $ref{} references followed.
type Value struct {
	Key string
	// Entry is where the key itself was set.
	Entry Entry
	// Source is where the resolved value was written: Entry itself, or,
	// when the value is a whole $ref{other}, the entry of other.
	Source Entry
	// Value is the resolved value: a string with every $ref{} replaced, or
	// the referenced key's value when the whole value was one reference.
	Value any
	// Refs are the keys followed, in order.
	Refs []string
	// Err says why a reference could not be followed (missing key, cycle).
	Err error
}

// Text is the resolved value as a string.
func (v Value) Text() string { return String(v.Value) }

// refPattern matches a $ref{key}; compiled on first use.
var refRE struct {
	once sync.Once
	re   *regexp.Regexp
}

func refPattern() *regexp.Regexp {
	refRE.once.Do(func() { refRE.re = regexp.MustCompile(`\$ref\{([^}]*)\}`) })
	return refRE.re
}

// Lookup returns key's effective value with $ref{} resolved. ok is false
// when no layer sets key.
func (c *Config) Lookup(key string) (Value, bool) {
	e, ok := c.entries[key]
	if !ok {
		return Value{Key: key}, false
	}
	v := Value{Key: key, Entry: e, Source: e}
	v.Value, v.Source, v.Err = c.resolve(e, &v.Refs, 0)
	return v, true
}

func (c *Config) resolve(e Entry, refs *[]string, depth int) (any, Entry, error) {
	s, isString := e.Value.(string)
	if !isString || !strings.Contains(s, "$ref{") {
		return e.Value, e, nil
	}
	if depth >= maxRefDepth {
		return s, e, fmt.Errorf("$ref chain deeper than %d at %s (cycle?)", maxRefDepth, e.Key)
	}
	// A whole-value reference keeps the referenced value's type and origin.
	if m := refPattern().FindStringSubmatch(s); m != nil && m[0] == s {
		*refs = append(*refs, m[1])
		target, ok := c.entries[m[1]]
		if !ok {
			return s, e, fmt.Errorf("%s: $ref{%s} names a key that is not set", e.Key, m[1])
		}
		return c.resolve(target, refs, depth+1)
	}
	var firstErr error
	out := refPattern().ReplaceAllStringFunc(s, func(ref string) string {
		name := ref[len("$ref{") : len(ref)-1]
		*refs = append(*refs, name)
		target, ok := c.entries[name]
		if !ok {
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: $ref{%s} names a key that is not set", e.Key, name)
			}
			return ref
		}
		v, _, err := c.resolve(target, refs, depth+1)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return String(v)
	})
	return out, e, firstErr
}
