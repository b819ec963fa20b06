package tomlcfg

import "testing"

// FuzzOverlay: any deployment.toml either fails to parse with an error or
// builds a configuration whose every key can be looked up.
func FuzzOverlay(f *testing.F) {
	f.Add([]byte("[server]\nhostname = \"h\"\n[[a.b]]\nx = \"$ref{server.hostname}\"\n"))
	f.Add([]byte("a = \"$ref{b}\"\nb = \"$ref{a}\"\n"))
	f.Add([]byte("x = {a = [1, {b = 2}], 'q.k' = true}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		user, err := ParseTOML(data, "d.toml")
		if err != nil {
			return
		}
		rules := InferRules{"user_store.type": {"x": {"user_store.class": "C", "$1.y": "$1"}}, "a.$1.t": {"1": {"a.$1.u": "v"}}}
		c := Build(Inputs{User: user, Infer: rules, Mappings: KeyMappings{"server.hostname": {"server.host"}}})
		for _, k := range c.Keys() {
			c.Lookup(k)
		}
	})
}

// FuzzDefaults: default.json readers never panic.
func FuzzDefaults(f *testing.F) {
	f.Add([]byte(`{"a.b": "x", "c": [1, 2], "d": {"e": true}}`))
	f.Add([]byte(`{"a": 1.5e300, "a": null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseDefaults(data, "default.json")
		_, _ = ParseInfer(data, "infer.json")
		_, _ = ParseKeyMappings(data, "key-mappings.json")
	})
}
