package tomlcfg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// ParseDefaults reads a default.json: one JSON object of flat dotted keys.
// Each entry keeps the line of its key. A key repeated in the file keeps
// its last value, as a JSON object reader does.
func ParseDefaults(data []byte, file string) ([]Entry, error) {
	ls := lineIndex(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%s: want a JSON object of dotted keys", file)
	}
	var out []Entry
	idx := map[string]int{}
	for dec.More() {
		off := int(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, ls.line(off), err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%s:%d: want a key", file, ls.line(off))
		}
		line := ls.line(keyOffset(data, off))
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %w", file, line, key, err)
		}
		e := Entry{Key: key, Value: fromJSON(v), File: file, Line: line, Layer: Default}
		if i, dup := idx[key]; dup {
			out[i] = e
			continue
		}
		idx[key] = len(out)
		out = append(out, e)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	// The object must be the whole file: '{}0' is not a default.json.
	if tok, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s:%d: data after the JSON object (%v%v)", file, ls.line(int(dec.InputOffset())), tok, errOrNil(err))
	}
	return out, nil
}

func errOrNil(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}

// keyOffset skips the separator and white space the decoder leaves before
// a key, so the line is the key's own.
func keyOffset(data []byte, off int) int {
	for off < len(data) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',':
			off++
			continue
		}
		break
	}
	return off
}

// fromJSON turns decoded JSON into the value types entries use: numbers
// become int64 when whole, float64 otherwise.
func fromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = fromJSON(x[i])
		}
		return x
	case map[string]any:
		for k := range x {
			x[k] = fromJSON(x[k])
		}
		return x
	}
	return v
}

// InferRules are infer.json: for a key (which may hold $1, $2 wildcards
// for one key part) and a value, the keys and values it implies.
type InferRules map[string]map[string]map[string]any

// ParseInfer reads an infer.json. Blocks of another shape (directives such
// as "$extends" in newer kernels) are skipped rather than failing the read.
func ParseInfer(data []byte, file string) (InferRules, error) {
	var raw map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	out := InferRules{}
	for key, byValRaw := range raw {
		byVal, ok := byValRaw.(map[string]any)
		if !ok {
			continue
		}
		for val, impliedRaw := range byVal {
			implied, ok := impliedRaw.(map[string]any)
			if !ok {
				continue
			}
			m := map[string]any{}
			for k, v := range implied {
				if strings.HasPrefix(k, "$") {
					continue
				}
				m[k] = fromJSON(v)
			}
			if out[key] == nil {
				out[key] = map[string]map[string]any{}
			}
			out[key][val] = m
		}
	}
	return out, nil
}

// KeyMappings are key-mappings.json: a user-facing key renamed to one or
// more internal keys.
type KeyMappings map[string][]string

// ParseKeyMappings reads a key-mappings.json.
func ParseKeyMappings(data []byte, file string) (KeyMappings, error) {
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	out := KeyMappings{}
	for k, v := range raw {
		switch x := v.(type) {
		case string:
			out[k] = []string{x}
		case []any:
			for _, e := range x {
				if s, ok := e.(string); ok {
					out[k] = append(out[k], s)
				}
			}
		}
	}
	return out, nil
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
