package glob

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		p, s string
		ok   bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything/at all", true},
		{"gw*", "gw-1", true},
		{"gw*", "xgw", false},
		{"10.0.1.*", "10.0.1.17", true},
		{"10.0.1.*", "10.0.10.1", false},
		{"/opt/wso2*", "/opt/wso2am-4.5.0/x", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "aéc", true}, // ? is one character, not one byte
		{"*b*b*", "abxbyb", true},
		{"*.example.com", "gw.example.com", true},
		{"*.example.com", "gw.example.org", false},
		{"a*b?", "aXXbY", true},
		{"a*b?", "aXXb", false},
		{"**", "x", true},
		{"[a]", "[a]", true}, // no classes
		{`a\*`, `a\xyz`, true},
	} {
		if got := Match(c.p, c.s); got != c.ok {
			t.Errorf("Match(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

// Matching compiles nothing and allocates nothing: waivers and token
// scopes are matched against every finding's target.
func TestMatchDoesNotAllocate(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { Match("/opt/wso2*/repo?itory/*", "/opt/wso2am-4.5.0/repository/conf") }); n != 0 {
		t.Errorf("%v allocations per match", n)
	}
}

// reference is the glob as a regular expression, on characters.
func reference(pattern, s string) bool {
	var re strings.Builder
	re.WriteString(`^(?s:`)
	for _, r := range pattern {
		switch r {
		case '*':
			re.WriteString(".*")
		case '?':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	re.WriteString(`)$`)
	return regexp.MustCompile(re.String()).MatchString(s)
}

// FuzzMatch: Match agrees with the glob written as a regular expression,
// for valid UTF-8 (the regular expression reads invalid bytes as U+FFFD).
func FuzzMatch(f *testing.F) {
	f.Add("/opt/wso2*", "/opt/wso2am-4.5.0")
	f.Add("a?c*", "aéc\n")
	f.Add("*b*b*", "abxbyb")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(s) || len(pattern) > 64 || len(s) > 256 {
			return
		}
		if got, want := Match(pattern, s), reference(pattern, s); got != want {
			t.Fatalf("Match(%q, %q) = %v, the regular expression says %v", pattern, s, got, want)
		}
	})
}
