package rules_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/rampart-sec/rampart/internal/rules"
	builtin "github.com/rampart-sec/rampart/rules"
)

var update = flag.Bool("update", false, "rewrite rules/compiled.bin from the rule files")

// TestCompiledFresh: rules/compiled.bin is what WriteCompiled makes from
// the built-in rule files now. When a rule changes, run
//
//	go test ./internal/rules -run TestCompiledFresh -update
//
// (until then rampart still works, reading the files: only slower).
func TestCompiledFresh(t *testing.T) {
	want, err := rules.WriteCompiled(rules.Source{Name: "built-in", FS: builtin.FS, Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "rules", "compiled.bin")
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return // the embedded copy is the one this test binary was built with
	}
	got := []byte(builtin.Compiled)
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale (%d bytes, %d when made from the rule files now): run go test ./internal/rules -run TestCompiledFresh -update", path, len(got), len(want))
	}
}

// TestCompiledSameVerdicts: rules and programs from the compiled file
// judge exactly as the ones read and compiled from the YAML: every inline
// test of every built-in rule passes with them, with the same finding,
// and so do the eval targets' facts.
func TestCompiledSameVerdicts(t *testing.T) {
	fromYAML := loadBuiltin(t)
	fast, err := rules.Load(rules.Source{Name: "rules", FS: builtin.FS, Trusted: true, Compiled: builtin.Compiled})
	if err != nil {
		t.Fatal(err)
	}
	if len(fast.Rules()) != len(fromYAML.Rules()) {
		t.Fatalf("%d rules from the compiled file, %d from the YAML", len(fast.Rules()), len(fromYAML.Rules()))
	}
	tested := 0
	for i, r := range fast.Rules() {
		y := fromYAML.Rules()[i]
		if !sameExported(reflect.ValueOf(r).Elem(), reflect.ValueOf(y).Elem(), "Tests") {
			t.Fatalf("rule %d (%s, %s) differs between the compiled file and the YAML", i, r.ID, y.ID)
		}
		for j := range r.Checks {
			if !sameExported(reflect.ValueOf(r.Checks[j]).Elem(), reflect.ValueOf(y.Checks[j]).Elem(), "") {
				t.Fatalf("%s check %d differs between the compiled file and the YAML", r.ID, j+1)
			}
		}
		if len(r.Tests) != 0 {
			t.Fatalf("%s: the compiled file carries inline tests", r.ID)
		}
		withTests := *r
		withTests.Tests = y.Tests
		for _, res := range rules.RunTests([]*rules.Rule{&withTests}) {
			tested++
			if !res.OK {
				t.Errorf("%s %q from the compiled file: want %s, got %s: %s", r.ID, res.Test, res.Want, res.Got, res.Message)
			}
		}
		for _, tc := range y.Tests {
			f, err := rules.TestFacts(tc)
			if err != nil {
				t.Fatal(err)
			}
			offers := map[string]bool{}
			for _, k := range rules.OffersFor(f) {
				offers[k] = true
			}
			in := rules.Input{Facts: f, Offers: offers}
			if a, b := rules.Judge([]*rules.Rule{r}, in), rules.Judge([]*rules.Rule{y}, in); !reflect.DeepEqual(a, b) {
				t.Errorf("%s %q: the compiled file judges\n%+v\nthe YAML\n%+v", r.ID, tc.Name, a, b)
			}
		}
	}
	if tested < 100 {
		t.Fatalf("only %d inline tests ran", tested)
	}
	for _, name := range []string{"endpoint-https-weak", "endpoint-ssh-weak"} {
		in := endpointInput(t, name)
		if a, b := rules.Judge(fast.Rules(), in), rules.Judge(fromYAML.Rules(), in); !reflect.DeepEqual(a, b) {
			t.Errorf("%s: the compiled file and the YAML judge differently", name)
		}
	}
	if probs := fast.CompileAll(); len(probs) > 0 {
		t.Fatal(probs)
	}
}

// sameExported compares two structs' exported fields (but skip), pointers
// to structs by their exported fields too: a field added to Rule or Check
// that the compiled file does not carry fails here.
func sameExported(a, b reflect.Value, skip string) bool {
	for i := 0; i < a.NumField(); i++ {
		f := a.Type().Field(i)
		if !f.IsExported() || f.Name == skip {
			continue
		}
		x, y := a.Field(i), b.Field(i)
		if f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Pointer {
			if x.Len() != y.Len() {
				return false
			}
			for j := 0; j < x.Len(); j++ {
				if !sameExported(x.Index(j).Elem(), y.Index(j).Elem(), "") {
					return false
				}
			}
			continue
		}
		if !reflect.DeepEqual(x.Interface(), y.Interface()) {
			return false
		}
	}
	return true
}
