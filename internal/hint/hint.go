// Package hint helps error messages point at the fix: the closest known
// name to a misspelt one ("did you mean"), and what a YAML decoder's
// complaint about an unknown key or a tab means. It depends on the
// standard library only.
package hint

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
)

// Closest returns the candidate nearest to word by edit distance (case
// insensitive), when it is near enough to be a likely misspelling.
func Closest(word string, candidates []string) (string, bool) {
	w := strings.ToLower(word)
	best, bestDist := "", -1
	for _, c := range candidates {
		d := distance(w, strings.ToLower(c))
		if bestDist < 0 || d < bestDist || (d == bestDist && c < best) {
			best, bestDist = c, d
		}
	}
	if bestDist < 0 {
		return "", false
	}
	limit := max(2, len([]rune(word))/3)
	return best, bestDist <= limit
}

// DidYouMean is "; did you mean X?" for the closest candidate, or "".
func DidYouMean(word string, candidates []string) string {
	if c, ok := Closest(word, candidates); ok && c != word {
		return fmt.Sprintf("; did you mean %s?", c)
	}
	return ""
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// YAML explains a YAML decoding error of data: an unknown key gets the
// known key it most likely meant ("did you mean title?", or the keys that
// type has), and a file indented with tabs is told so (YAML indents with
// spaces only). types are values of the types the file decodes into; the
// keys of every struct reachable from them are known.
func YAML(err error, data []byte, types ...any) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	// unknownField is how go.yaml.in/yaml/v3 reports a key a strict
	// decoder does not know: "line 4: field titel not found in type
	// rules.Rule".
	unknownField := regexp.MustCompile(`line (\d+): field (\S+) not found in type (\S+)`)
	keys := map[string][]string{}
	for _, v := range types {
		collectKeys(reflect.TypeOf(v), keys)
	}
	msg = unknownField.ReplaceAllStringFunc(msg, func(m string) string {
		sub := unknownField.FindStringSubmatch(m)
		known := keys[sub[3]]
		if s, ok := Closest(sub[2], known); ok {
			return fmt.Sprintf("line %s: unknown key %q; did you mean %q?", sub[1], sub[2], s)
		}
		if len(known) > 0 {
			return fmt.Sprintf("line %s: unknown key %q (known here: %s)", sub[1], sub[2], strings.Join(known, ", "))
		}
		return m
	})
	if line := tabLine(data); line > 0 {
		msg += fmt.Sprintf(" (line %d is indented with a tab: YAML indents with spaces only)", line)
	}
	return fmt.Errorf("%s", msg)
}

// tabLine returns the first line whose indentation holds a tab, or 0.
func tabLine(data []byte) int {
	for i, line := range strings.Split(string(data), "\n") {
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		if strings.Contains(indent, "\t") {
			return i + 1
		}
	}
	return 0
}

// collectKeys records the yaml keys of t and of every struct type it
// holds, by the name the YAML decoder gives the type ("rules.Rule").
func collectKeys(t reflect.Type, out map[string][]string) {
	for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map) {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return
	}
	name := t.String()
	if _, done := out[name]; done {
		return
	}
	out[name] = nil
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		key, _, _ := strings.Cut(tag, ",")
		if key == "-" {
			continue
		}
		if key == "" {
			key = strings.ToLower(f.Name)
		}
		names = append(names, key)
		collectKeys(f.Type, out)
	}
	sort.Strings(names)
	out[name] = names
}
