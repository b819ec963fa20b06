package wso2

import (
	"regexp"
	"slices"
	"testing"
)

// FuzzRefScannersAgree: the hand-written reference scanners that replaced
// the collector's regular expressions (compiled at start-up before) give
// the answers the expressions give, on any input.
func FuzzRefScannersAgree(f *testing.F) {
	for _, s := range []string{"", "$secret{a}", "$secret{}", "$secret{a}b}", "x$env{A}y$env{B}", "$env{a$env{b}", "$sys{p", "${carbon.host}:${a-b}",
		"${}", "$${x}", "${a${b}}", "${a b}", "$sys{a}$sys{b}", "$secret{a\n}", "JAVA_VERSION=\"17.0.2\"\n", "X=1\nJAVA_VERSION=\"\"\nJAVA_VERSION=\"21\"", "JAVA_VERSION=\"a\nb\""} {
		f.Add(s)
	}
	whole := map[string]*regexp.Regexp{
		secretRefOpen: regexp.MustCompile(`^\$secret\{([^}]*)\}$`),
		envRefOpen:    regexp.MustCompile(`^\$env\{([^}]*)\}$`),
		sysRefOpen:    regexp.MustCompile(`^\$sys\{([^}]*)\}$`),
		propRefOpen:   regexp.MustCompile(`^\$\{([^}]*)\}$`),
	}
	anyRef := map[string]*regexp.Regexp{
		envRefOpen: regexp.MustCompile(`\$env\{([^}]*)\}`),
		sysRefOpen: regexp.MustCompile(`\$sys\{([^}]*)\}`),
	}
	prop := regexp.MustCompile(`\$\{([A-Za-z0-9_.\-]+)\}`)
	javaVersion := regexp.MustCompile(`(?m)^JAVA_VERSION="([^"]+)"`)
	value := func(name string) (string, bool) {
		if len(name)%2 == 0 {
			return "<" + name + ">", true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, s string) {
		for open, re := range whole {
			name, ok := wholeRef(s, open)
			m := re.FindStringSubmatch(s)
			if ok != (m != nil) || ok && name != m[1] {
				t.Fatalf("wholeRef(%q, %q) = %q %v, pattern %q", s, open, name, ok, m)
			}
		}
		for open, re := range anyRef {
			var want []string
			for _, m := range re.FindAllStringSubmatch(s, -1) {
				want = append(want, m[1])
			}
			if got := refsIn(s, open); !slices.Equal(got, want) {
				t.Fatalf("refsIn(%q, %q) = %q, pattern %q", s, open, got, want)
			}
			wantR := re.ReplaceAllStringFunc(s, func(m string) string {
				if v, ok := value(m[len(open) : len(m)-1]); ok {
					return v
				}
				return m
			})
			if got := replaceRefs(s, open, value); got != wantR {
				t.Fatalf("replaceRefs(%q, %q) = %q, pattern %q", s, open, got, wantR)
			}
		}
		wantP := prop.ReplaceAllStringFunc(s, func(m string) string {
			if v, ok := value(m[2 : len(m)-1]); ok {
				return v
			}
			return m
		})
		if got := replaceProps(s, value); got != wantP {
			t.Fatalf("replaceProps(%q) = %q, pattern %q", s, got, wantP)
		}
		v, ok := releaseVersion([]byte(s))
		if m := javaVersion.FindStringSubmatch(s); ok != (m != nil) || ok && v != m[1] {
			t.Fatalf("releaseVersion(%q) = %q %v, pattern %q", s, v, ok, m)
		}
	})
}
