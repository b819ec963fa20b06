package target

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ParsePorts parses a port specification: "top", a list of ports and
// ranges ("22,443,9443-9445"), or "1-65535". "top" returns nil: the port
// scanner decides what the top ports are.
func ParsePorts(spec string) ([]int, error) {
	spec = strings.TrimSpace(spec)
	if spec == "top" || spec == "" {
		return nil, nil
	}
	seen := map[int]bool{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := port(lo)
		if err != nil {
			return nil, fmt.Errorf("ports %q: %w", spec, err)
		}
		b := a
		if isRange {
			if b, err = port(hi); err != nil {
				return nil, fmt.Errorf("ports %q: %w", spec, err)
			}
			if b < a {
				return nil, fmt.Errorf("ports %q: range %d-%d is backwards", spec, a, b)
			}
		}
		for p := a; p <= b; p++ {
			seen[p] = true
		}
	}
	out := make([]int, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Ints(out)
	return out, nil
}

func port(s string) (int, error) {
	p, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("bad port %q (want 1-65535)", s)
	}
	return p, nil
}
