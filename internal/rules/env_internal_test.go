package rules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/interpreter"

	"github.com/rampart-sec/rampart/internal/facts"
	builtin "github.com/rampart-sec/rampart/rules"
)

// TestProbeEnvSamePrograms: every built-in expression lazyEnv.forChecked
// plans in the probe environment evaluates there exactly as it does in
// the full one (same value, or the same error), on the facts of every
// inline test of its rule and on the facts gathered from the eval
// targets (testdata/bench), and the other expressions are planned in the
// full one.
func TestProbeEnvSamePrograms(t *testing.T) {
	yaml, err := Load(Source{Name: "built-in", FS: builtin.FS, Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	_, x, ok := loadCompiled(Source{Name: "built-in", FS: builtin.FS, Trusted: true, Compiled: builtin.Compiled})
	if !ok {
		t.Fatal("the compiled file is not usable")
	}
	full, err := newEnv()
	if err != nil {
		t.Fatal(err)
	}
	probe, err := newEnvOf(probeNamespaces())
	if err != nil {
		t.Fatal(err)
	}
	var endpoints []*facts.Facts
	for _, name := range []string{"endpoint-https-weak", "endpoint-ssh-weak"} {
		data, err := os.ReadFile(filepath.Join("testdata", "bench", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var f facts.Facts
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		endpoints = append(endpoints, &f)
	}
	namespaces := namespaceMap()
	inProbe, inFull, evals := 0, 0, 0
	for _, r := range yaml.Rules() {
		acts := make([]interpreter.Activation, 0, len(r.Tests)+len(endpoints))
		for _, f := range endpoints {
			acts = append(acts, activation(f))
		}
		for _, tc := range r.Tests {
			f, err := TestFacts(tc)
			if err != nil {
				t.Fatal(err)
			}
			acts = append(acts, activation(f))
		}
		for _, c := range r.Checks {
			if c.Kind == KindManual {
				continue
			}
			for _, src := range append([]string{c.When, c.SkipMessage, c.Assert, c.Message, c.PassMessage, c.Errors}, c.Evidence...) {
				if strings.TrimSpace(src) == "" {
					continue
				}
				b, found := x.find(src)
				if !found {
					t.Fatalf("%s: %q is not in the compiled file", r.ID, src)
				}
				a, err := decodeAST(b)
				if err != nil {
					t.Fatal(err)
				}
				if !probeOnly(a, namespaces) {
					inFull++
					if strings.Contains(src, "product.") || strings.Contains(src, "host.") {
						continue
					}
					t.Logf("%s: %q is planned in the full environment", r.ID, src)
					continue
				}
				if strings.Contains(src, "product.") || strings.Contains(src, "host.") {
					t.Fatalf("%s: %q names a namespace the probe environment lacks, yet would be planned in it", r.ID, src)
				}
				inProbe++
				pf, err := planAST(full, a, true)
				if err != nil {
					t.Fatal(err)
				}
				pp, err := planAST(probe, a, true)
				if err != nil {
					t.Fatalf("%s: %q in the probe environment: %v", r.ID, src, err)
				}
				for _, act := range acts {
					evals++
					v1, _, err1 := pf.Eval(act)
					v2, _, err2 := pp.Eval(act)
					switch {
					case err1 != nil || err2 != nil:
						if err1 == nil || err2 == nil || err1.Error() != err2.Error() {
							t.Fatalf("%s: %q: full %v, %v; probe %v, %v", r.ID, src, v1, err1, v2, err2)
						}
					case v1.Type().TypeName() != v2.Type().TypeName() || !reflect.DeepEqual(plain(v1), plain(v2)):
						t.Fatalf("%s: %q: full %v; probe %v", r.ID, src, v1, v2)
					}
				}
			}
		}
	}
	t.Logf("%d expressions planned in the probe environment (%d evaluations compared), %d in the full one", inProbe, evals, inFull)
	if inProbe < 100 || inFull < 50 {
		t.Fatalf("%d expressions in the probe environment, %d in the full one: the split is not what the built-in rules make", inProbe, inFull)
	}
}

// plain is a value without the environment it came from: lists and maps
// element by element, anything else its Go value.
func plain(v ref.Val) any {
	switch x := v.(type) {
	case traits.Lister:
		var out []any
		for it := x.Iterator(); it.HasNext() == types.True; {
			out = append(out, plain(it.Next()))
		}
		return out
	case traits.Mapper:
		out := map[any]any{}
		for it := x.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			out[plain(k)] = plain(x.Get(k))
		}
		return out
	}
	return v.Value()
}

// TestForCheckedEnv: an expression naming only probe namespaces is planned
// in the probe environment until the full one exists; one naming another
// namespace, a qualified name or a struct always in the full one.
func TestForCheckedEnv(t *testing.T) {
	l := &lazyEnv{}
	full, err := newEnv()
	if err != nil {
		t.Fatal(err)
	}
	check := func(src string) bool {
		a, iss := full.Compile(src)
		if iss.Err() != nil {
			t.Fatal(iss.Err())
		}
		return probeOnly(a.NativeRep(), namespaceMap())
	}
	for src, want := range map[string]bool{
		`tls.versions.exists(v, v == "TLSv1.0")`:                 true,
		`target.kind == "endpoint" && ssh.banner != ""`:          true,
		`size(http.server_headers) > 0 || ports.tried > 0`:       true,
		`[1, 2].all(x, x > 0) && cel.bind(y, 1, y == 1)`:         true,
		`product.name != ""`:                                     false,
		`tls.versions.size() > 0 && host.os.id != ""`:            false,
		`google.protobuf.Duration{seconds: 1} != duration("0s")`: false,
	} {
		if got := check(src); got != want {
			t.Errorf("probeOnly(%q) = %v, want %v", src, got, want)
		}
	}
	a, _ := full.Compile(`tls.versions.size() > 0`)
	e1, err := l.forChecked(a.NativeRep())
	if err != nil {
		t.Fatal(err)
	}
	if l.built.Load() {
		t.Fatal("a probe expression built the full environment")
	}
	b, _ := full.Compile(`product.name != ""`)
	e2, err := l.forChecked(b.NativeRep())
	if err != nil {
		t.Fatal(err)
	}
	if e1 == e2 {
		t.Fatal("a product expression was planned in the probe environment")
	}
	if e3, _ := l.forChecked(a.NativeRep()); e3 != e2 {
		t.Fatal("once the full environment exists, every expression is planned in it")
	}
}
