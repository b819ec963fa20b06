package wso2kb

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a product line, major.minor: WSO2 describes its products by
// it, and a patch release shares its line's layout.
type Version struct{ Major, Minor int }

// ParseVersion reads the line of a version as a product writes it
// ("7.2.0", "4.5.0-beta", "7.2"). ok is false when it does not start with
// two numbers.
func ParseVersion(s string) (v Version, ok bool) {
	parts := strings.SplitN(strings.TrimSpace(s), ".", 3)
	if len(parts) < 2 {
		return Version{}, false
	}
	major, err := strconv.Atoi(parts[0])
	if err != nil || major < 0 {
		return Version{}, false
	}
	minor := leadingDigits(parts[1])
	if minor == "" {
		return Version{}, false
	}
	m, err := strconv.Atoi(minor)
	if err != nil {
		return Version{}, false
	}
	return Version{major, m}, true
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

func (v Version) String() string { return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor) }

// Less orders versions.
func (v Version) Less(w Version) bool {
	if v.Major != w.Major {
		return v.Major < w.Major
	}
	return v.Minor < w.Minor
}

// parseRange reads "5.11 - 7.3" (inclusive).
func parseRange(s string) ([2]Version, error) {
	from, to, ok := strings.Cut(s, "-")
	a, okA := ParseVersion(from)
	b, okB := ParseVersion(to)
	if !ok || !okA || !okB || b.Less(a) {
		return [2]Version{}, fmt.Errorf("versions %q: want \"from - to\", such as \"5.11 - 7.3\"", s)
	}
	return [2]Version{a, b}, nil
}

func within(v Version, r [2]Version) bool { return !v.Less(r[0]) && !r[1].Less(v) }
