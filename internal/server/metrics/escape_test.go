package metrics

import (
	"strings"
	"testing"
)

// FuzzEscapeLabel: label values are escaped as the strings.Replacer that
// escapeLabel replaced (built at every start of rampart) escaped them.
func FuzzEscapeLabel(f *testing.F) {
	for _, s := range []string{"", "plain", `a\b`, `say "hi"`, "two\nlines", "\\\"\n\\", "é\x00"} {
		f.Add(s)
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := escapeLabel(s), r.Replace(s); got != want {
			t.Errorf("escapeLabel(%q) = %q, want %q", s, got, want)
		}
	})
}
