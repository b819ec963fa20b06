package report

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/rampart-sec/rampart/internal/finding"
)

// appendIndented gives the bytes json.Indent gives, for any compact JSON
// value (as encoding/json writes it): strings with escapes, brackets and punctuation
// inside strings, empty and nested objects and arrays, numbers, literals.
func FuzzAppendIndentedIsJSONIndent(f *testing.F) {
	seeds := []any{
		nil, true, 0, -1.5e-7, "", `a "quoted" \ back\\slash \"`, "tab\t nl\n {[,:]} \u2028 <&>",
		[]any{}, map[string]any{}, []any{[]any{}, map[string]any{}, []any{[]any{1}}},
		map[string]any{"a": []any{}, "b": map[string]any{"c": map[string]any{}}, `"k\`: "v,:{}"},
		finding.Finding{RuleID: "TLS-004", Title: "t", Status: finding.Fail, Severity: finding.High, Message: "m\n\"x\"", Checks: []string{"probe"},
			Evidence: []finding.Evidence{{Path: "tls.versions", Value: `[{"v": "TLSv1.0"}]`, Line: 3}}, References: []string{}},
	}
	for _, s := range seeds {
		b, err := json.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		var compact bytes.Buffer
		if err := json.Compact(&compact, src); err != nil {
			return // not JSON
		}
		src = compact.Bytes()
		for _, pi := range [][2]string{{"", "  "}, {"    ", "  "}, {"\t", "\t"}} {
			var want bytes.Buffer
			if err := json.Indent(&want, src, pi[0], pi[1]); err != nil {
				t.Fatal(err)
			}
			got := appendIndented([]byte("x"), src, pi[0], pi[1])
			if !bytes.Equal(got[1:], want.Bytes()) || got[0] != 'x' {
				t.Errorf("prefix %q indent %q of %s:\n got %s\nwant %s", pi[0], pi[1], src, got, want.Bytes())
			}
		}
	})
}
