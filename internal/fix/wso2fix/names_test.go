package wso2fix

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// FuzzNamesAgreeWithRegexps: the hand-written alias and label helpers
// agree with the expressions they replaced.
func FuzzNamesAgreeWithRegexps(f *testing.F) {
	for _, s := range []string{"secret", "secret_2", "a_12", "_5", "a5", "a_", "", "database.identity_db.password", "x..y", "héllo wörld", "\xff\xfe", "wso2carbon", "api.example.com", "A-B-C"} {
		f.Add(s)
	}
	aliasSuffix := regexp.MustCompile(`_([0-9]+)$`)
	aliasJunk := regexp.MustCompile(`[^A-Za-z0-9]+`)
	labelJunk := regexp.MustCompile(`[^a-z0-9-]+`)
	f.Fuzz(func(t *testing.T, s string) {
		want := s + "_2"
		if m := aliasSuffix.FindStringSubmatch(s); m != nil {
			n := 0
			fmt.Sscan(m[1], &n)
			want = s[:len(s)-len(m[0])] + fmt.Sprintf("_%d", n+1)
		}
		if got := nextAlias(s); got != want {
			t.Errorf("nextAlias(%q) = %q, want %q", s, got, want)
		}
		if got, want := aliasFor(s), strings.Trim(aliasJunk.ReplaceAllString(s, "_"), "_"); got != want {
			t.Errorf("aliasFor(%q) = %q, want %q", s, got, want)
		}
		isLabel := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' }
		if got, want := collapseRuns(s, isLabel, '-'), labelJunk.ReplaceAllString(s, "-"); got != want {
			t.Errorf("collapseRuns(%q) = %q, want %q", s, got, want)
		}
	})
}
