package rules

import (
	"strings"
	"testing"

	builtin "github.com/rampart-sec/rampart/rules"
)

// TestCompiledExpressionsUsed: every expression of the built-in rules
// loaded from the compiled file is planned from its checked form (a
// fingerprint or decoding mismatch would silently fall back to compiling
// the source, which is correct but as slow as before).
func TestCompiledExpressionsUsed(t *testing.T) {
	set, err := Load(Source{Name: "built-in", FS: builtin.FS, Trusted: true, Compiled: builtin.Compiled})
	if err != nil {
		t.Fatal(err)
	}
	used := 0
	for _, r := range set.Rules() {
		for _, c := range r.Checks {
			if c.Kind == KindManual {
				continue
			}
			if c.checked == nil {
				t.Fatalf("%s: not loaded from the compiled file", r.ID)
			}
			for _, src := range append([]string{c.When, c.SkipMessage, c.Assert, c.Message, c.PassMessage, c.Errors}, c.Evidence...) {
				if strings.TrimSpace(src) == "" {
					continue
				}
				if _, ok := c.checked.program(c.env, src, nil, true); !ok {
					t.Errorf("%s: %q has no usable checked form", r.ID, src)
				}
				used++
			}
		}
	}
	if used < 200 {
		t.Fatalf("only %d expressions", used)
	}
}

// FuzzLoadCompiled: a damaged or foreign compiled file is refused or read
// without a panic, and the checked expressions found in it are only ever
// used through program, which falls back to the source on any problem.
func FuzzLoadCompiled(f *testing.F) {
	f.Add(builtin.Compiled)
	f.Add(builtin.Compiled[:len(builtin.Compiled)/2])
	f.Add("")
	f.Add("\x05hello")
	f.Add("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01")
	env := &lazyEnv{}
	if _, err := env.get(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data string) {
		src := Source{Name: "built-in", FS: builtin.FS, Trusted: true, Compiled: data}
		rules, x, ok := loadCompiled(src)
		if !ok {
			return
		}
		for _, r := range rules {
			if r == nil {
				t.Fatal("nil rule")
			}
		}
		x.env = env.fingerprint()
		for _, s := range []string{"tls.versions", "size(http.disclosures) == 0", "nonsense"} {
			x.program(env, s, nil, true)
		}
	})
}
