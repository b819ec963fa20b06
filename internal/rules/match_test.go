package rules

import (
	"regexp"
	"strconv"
	"testing"
)

// The matchers below replaced package-level regular expressions (compiled
// at every start of rampart); each must agree with the expression it
// replaced, on any input.
func FuzzMatchersAgreeWithRegexps(f *testing.F) {
	for _, s := range []string{"TLS-004", "KEY-0001", "T-001", "ABCDEFGHIJK-001", "TLS-04", "tls-004", "TLS-0a4", "A1-001", "1A-001", "TLS-004-",
		"product.secrets.filter(s, s.form == 'plain')", "tls.chain[0].subject", "a[1", "a.", "a.b.size()", "_x9.y_[12][3].z", "Product.x",
		"<input>:2:14: undeclared reference", "ERROR: <input>:12:3: x", "<input>:x:1 <input>:3:4", "<input>:7:", "", "-", "TLS-"} {
		f.Add(s)
	}
	idPattern := regexp.MustCompile(`^[A-Z][A-Z0-9]{1,9}-[0-9]{3,4}$`)
	factPathRE := regexp.MustCompile(`^[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*|\[[0-9]+\])*`)
	prefixDomain := regexp.MustCompile(`^([A-Z]+)-`)
	celPosition := regexp.MustCompile(`<input>:(\d+):(\d+)`)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validID(s), idPattern.MatchString(s); got != want {
			t.Errorf("validID(%q) = %v, the expression says %v", s, got, want)
		}
		if got, want := factPath(s), factPathRE.FindString(s); got != want {
			t.Errorf("factPath(%q) = %q, the expression says %q", s, got, want)
		}
		fam, ok := idFamily(s)
		if m := prefixDomain.FindStringSubmatch(s); (m != nil) != ok || m != nil && m[1] != fam {
			t.Errorf("idFamily(%q) = %q, %v; the expression says %q", s, fam, ok, m)
		}
		line, ok := celLine(s)
		m := celPosition.FindStringSubmatch(s)
		if (m != nil) != ok {
			t.Fatalf("celLine(%q) found %v, the expression %q", s, ok, m)
		}
		if m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n != line {
				t.Errorf("celLine(%q) = %d, the expression says %s", s, line, m[1])
			}
		}
	})
}
