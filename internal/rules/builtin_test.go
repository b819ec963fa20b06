package rules_test

import (
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/rules"
	builtin "github.com/rampart-sec/rampart/rules"
)

func loadBuiltin(t testing.TB) *rules.Set {
	t.Helper()
	set, err := rules.Load(rules.Source{Name: "rules", FS: builtin.FS, Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	if probs := set.CompileAll(); len(probs) > 0 {
		t.Fatalf("built-in rules do not compile:\n%s", strings.Join(probs, "\n"))
	}
	return set
}

// TestBuiltinRuleTests runs every inline test of the built-in rules.
func TestBuiltinRuleTests(t *testing.T) {
	set := loadBuiltin(t)
	for _, r := range rules.RunTests(set.Rules()) {
		if !r.OK {
			t.Errorf("%s:%d: %s %q: want %s, got %s: %s", r.File, r.Line, r.RuleID, r.Test, r.Want, r.Got, r.Message)
		}
	}
}

// TestBuiltinFilesStrict loads the built-in files the strict way custom
// rules are loaded (unknown keys are errors), since a scan decodes them
// without that check.
func TestBuiltinFilesStrict(t *testing.T) {
	if _, err := rules.Load(rules.Source{Name: "rules", FS: builtin.FS}); err != nil {
		t.Fatal(err)
	}
}
