package tomlcfg

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// checkEntries: every entry names its file and a line of it,
// and no key appears twice.
func checkEntries(t *testing.T, es []Entry, file string, data []byte, layer Layer) {
	t.Helper()
	lines := bytes.Count(data, []byte("\n")) + 1
	seen := map[string]bool{}
	for _, e := range es {
		if e.File != file || e.Line < 1 || e.Line > lines || e.Layer != layer {
			t.Fatalf("entry %+v (of %d lines)", e, lines)
		}
		if seen[e.Key] {
			t.Fatalf("key %q twice", e.Key)
		}
		seen[e.Key] = true
	}
}

// FuzzOverlay: a deployment.toml rampart reads is TOML go-toml reads too
// (the product's own reader would refuse what neither reads), its entries
// are each on a line of the file, once; the configuration built from it
// lists its keys sorted and once, and every one of them can be looked up.
func FuzzOverlay(f *testing.F) {
	f.Add([]byte("[server]\nhostname = \"h\"\n[[a.b]]\nx = \"$ref{server.hostname}\"\n"))
	f.Add([]byte("a = \"$ref{b}\"\nb = \"$ref{a}\"\n"))
	f.Add([]byte("x = {a = [1, {b = 2}], 'q.k' = true}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		user, err := ParseTOML(data, "d.toml")
		if err != nil {
			return
		}
		stripped, _ := StripBOM(data)
		var doc map[string]any
		if err := toml.Unmarshal(stripped, &doc); err != nil {
			t.Fatalf("read %q, which go-toml refuses: %v", data, err)
		}
		checkEntries(t, user, "d.toml", stripped, User)
		rules := InferRules{"user_store.type": {"x": {"user_store.class": "C", "$1.y": "$1"}}, "a.$1.t": {"1": {"a.$1.u": "v"}}}
		c := Build(Inputs{User: user, Infer: rules, Mappings: KeyMappings{"server.hostname": {"server.host"}}})
		keys := c.Keys()
		if !slices.IsSorted(keys) || len(slices.Compact(slices.Clone(keys))) != len(keys) {
			t.Fatalf("keys not sorted and unique: %q", keys)
		}
		for _, k := range keys {
			if _, ok := c.Lookup(k); !ok {
				t.Fatalf("key %q listed but not found", k)
			}
		}
	})
}

// FuzzDefaults: the default.json, infer.json and key-mappings.json
// readers never panic; a default.json read is JSON and its entries are
// each on a line of it, once (a repeated key keeps its last value).
func FuzzDefaults(f *testing.F) {
	f.Add([]byte(`{"a.b": "x", "c": [1, 2], "d": {"e": true}}`))
	f.Add([]byte(`{"a": 1.5e300, "a": null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if es, err := ParseDefaults(data, "default.json"); err == nil {
			if !json.Valid(data) {
				t.Fatalf("read %q, which is not JSON", data)
			}
			checkEntries(t, es, "default.json", data, Default)
		}
		_, _ = ParseInfer(data, "infer.json")
		_, _ = ParseKeyMappings(data, "key-mappings.json")
	})
}

// A default.json is one JSON object: what follows it is an error naming
// the line (found by FuzzDefaults: "{}0" was read as an empty object).
func TestDefaultsRefuseTrailingData(t *testing.T) {
	for _, in := range []string{"{}0", "{\"a\": 1}\n{\"b\": 2}", "{\"a\": 1}}", "{\"a\": 1}\n]"} {
		if _, err := ParseDefaults([]byte(in), "default.json"); err == nil {
			t.Errorf("%q: read", in)
		}
	}
	if es, err := ParseDefaults([]byte("{\"a\": 1}\n\n"), "default.json"); err != nil || len(es) != 1 {
		t.Errorf("object and blank lines: %v %v", es, err)
	}
}
