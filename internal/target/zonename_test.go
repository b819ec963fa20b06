package target

import (
	"regexp"
	"strings"
	"testing"
)

// FuzzValidZoneName: the hand-written check agrees with the expression it
// replaced (compiled at every start of rampart, and its {0,62} made that
// the costliest initialisation of the binary's own packages).
func FuzzValidZoneName(f *testing.F) {
	for _, s := range []string{"dmz", "a", "", "-a", "_a", "a-b_c9", "A", "a.b", "a b", "zone*", strings.Repeat("a", 63), strings.Repeat("a", 64), "é", "9"} {
		f.Add(s)
	}
	zoneName := regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidZoneName(s), zoneName.MatchString(s); got != want {
			t.Errorf("ValidZoneName(%q) = %v, the expression says %v", s, got, want)
		}
	})
}
