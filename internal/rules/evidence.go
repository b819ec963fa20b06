package rules

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/interpreter"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
)

const (
	// maxEvidenceItems bounds how many items one evidence expression adds
	// to a finding that needs attention; a pass shows a sample of
	// passEvidenceItems (a truststore of 120 certificates that all pass is
	// proven by the rule, not by listing them).
	maxEvidenceItems  = 50
	passEvidenceItems = 5
	// maxValueLen bounds one evidence value.
	maxValueLen = 400
)

// evidence evaluates a check's evidence expressions. Evidence is
// best-effort: an expression that fails (a map key that is not there) adds
// nothing rather than changing the verdict.
func evidence(c *Check, act interpreter.Activation, limit int) []finding.Evidence {
	var out []finding.Evidence
	for i, p := range c.prog.evidence {
		if p == nil {
			continue
		}
		v, _, err := p.Eval(act)
		if err != nil || types.IsError(v) {
			continue
		}
		out = append(out, toEvidence(displayPath(c.Evidence[i]), c.Kind, v, limit)...)
	}
	return out
}

// factPath returns the leading fact path of an expression: names joined
// by dots, with constant indexes ("product.secrets" in
// "product.secrets.filter(s, s.form == 'plain')", "tls.chain[0].subject").
func factPath(expr string) string {
	ident := func(s string) int { // length of a [a-z_][a-z0-9_]* prefix
		i := 0
		for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] == '_' || i > 0 && s[i] >= '0' && s[i] <= '9') {
			i++
		}
		return i
	}
	end := ident(expr)
	if end == 0 {
		return ""
	}
	for end < len(expr) {
		switch expr[end] {
		case '.':
			n := ident(expr[end+1:])
			if n == 0 {
				return expr[:end]
			}
			end += 1 + n
		case '[':
			j := end + 1
			for j < len(expr) && expr[j] >= '0' && expr[j] <= '9' {
				j++
			}
			if j == end+1 || j == len(expr) || expr[j] != ']' {
				return expr[:end]
			}
			end = j + 1
		default:
			return expr[:end]
		}
	}
	return expr
}

// isMacro reports whether name is a list function that may follow a fact
// path.
func isMacro(name string) bool {
	switch name {
	case "filter", "map", "exists", "all", "exists_one", "size", "flatten", "join":
		return true
	}
	return false
}

// displayPath names the fact an evidence expression reads, without the
// filtering that selected the items: evidence shows where a value lives.
func displayPath(expr string) string {
	expr = strings.TrimSpace(expr)
	p := factPath(expr)
	if p == "" {
		return expr
	}
	if i := strings.LastIndexByte(p, '.'); i > 0 && isMacro(p[i+1:]) {
		p = p[:i]
	}
	return p
}

// toEvidence turns a CEL value into evidence items: a list of facts gives
// one item each (with its own file and line), a list of plain values one
// item, anything else one item.
func toEvidence(path, kind string, v ref.Val, limit int) []finding.Evidence {
	if s, ok := v.(types.String); ok && s == "" {
		return nil // an unset value says nothing
	}
	l, isList := v.(traits.Lister)
	n := 0
	if isList {
		size, ok := l.Size().(types.Int)
		if !ok {
			return nil
		}
		n = int(size)
		if n == 0 {
			return nil // nothing matched: no item to show
		}
	}
	if !isList || isPrimitive(l.Get(types.Int(0))) {
		ev := finding.Evidence{Path: path, Check: kind, Value: render(v)}
		if o, ok := facts.OriginOf(native(v)); ok {
			ev.Source, ev.Line = where(o)
		}
		return []finding.Evidence{ev}
	}
	out := make([]finding.Evidence, 0, min(n, limit+1))
	for i := 0; i < n; i++ {
		if i == limit {
			out = append(out, finding.Evidence{Path: path, Check: kind, Value: fmt.Sprintf("... and %d more", n-i)})
			break
		}
		item := l.Get(types.Int(i))
		ev := finding.Evidence{Path: path, Check: kind, Value: render(item)}
		if o, ok := facts.OriginOf(native(item)); ok {
			ev.Source, ev.Line = where(o)
		}
		out = append(out, ev)
	}
	return out
}

func where(o facts.Origin) (string, int) {
	if o.File != "" {
		return o.File, o.Line
	}
	if o.Endpoint != "" {
		return o.Endpoint, 0
	}
	return o.Note, 0
}

// listItems returns the elements of a CEL list, or nil for a non-list.
func listItems(v ref.Val) []ref.Val {
	l, ok := v.(traits.Lister)
	if !ok {
		return nil
	}
	n, ok := l.Size().(types.Int)
	if !ok {
		return nil
	}
	out := make([]ref.Val, 0, int(n))
	for i := types.Int(0); i < n; i++ {
		out = append(out, l.Get(i))
	}
	return out
}

func isPrimitive(v ref.Val) bool {
	switch v.(type) {
	case types.String, types.Int, types.Uint, types.Double, types.Bool:
		return true
	}
	return false
}

func native(v ref.Val) any {
	if v == nil {
		return nil
	}
	return v.Value()
}

// summarizer is implemented by fact types that render themselves as one
// line of evidence without secrets.
type summarizer interface{ Summary() string }

// render gives a value's evidence text. Fact types render themselves;
// plain lists are joined; anything else is compact JSON without origins.
func render(v ref.Val) string {
	if items := listItems(v); items != nil {
		parts := make([]string, 0, len(items))
		for _, it := range items {
			parts = append(parts, render(it))
		}
		if len(parts) == 0 {
			return "(none)"
		}
		return clip(strings.Join(parts, ", "))
	}
	switch x := v.(type) {
	case types.String:
		return clip(string(x))
	case types.Bool, types.Int, types.Uint, types.Double:
		return fmt.Sprint(x.Value())
	}
	n := native(v)
	if s, ok := deref(n).(summarizer); ok {
		return clip(s.Summary())
	}
	b, err := json.Marshal(n)
	if err != nil {
		return clip(fmt.Sprint(n))
	}
	return clip(stripOrigin(string(b)))
}

// deref returns the value a pointer points at, so value-receiver Summary
// methods are found through pointers too.
func deref(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return rv.Elem().Interface()
	}
	return v
}

func stripOrigin(js string) string {
	var m map[string]any
	if json.Unmarshal([]byte(js), &m) != nil {
		return js
	}
	delete(m, "origin")
	for k, v := range m {
		if s, ok := v.(string); ok {
			m[k] = facts.RedactValue(k, s)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return js
	}
	return string(b)
}

func clip(s string) string {
	if len(s) <= maxValueLen {
		return s
	}
	return s[:maxValueLen] + "..."
}
