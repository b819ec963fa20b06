// Package log4j reads log4j2.properties files: Java properties syntax and
// the appenders it declares (type, rolling policies, rollover bound,
// layout pattern), each with the line it was declared on.
package log4j

import (
	"strings"

	"github.com/rampart-sec/rampart/internal/javaprops"
)

// Prop is one property with the line its key is on.
type Prop struct {
	Key   string
	Value string
	Line  int
}

// maxProps bounds the properties read from one file.
const maxProps = 100_000

// ParseProperties reads Java properties: comments (# !), key/value
// separators (= : or white space), backslash continuation lines and
// escapes. A later key replaces an earlier one, as java.util.Properties
// does. Invalid UTF-8 is kept byte for byte.
func ParseProperties(data []byte) []Prop {
	var out []Prop
	idx := map[string]int{}
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines) && len(out) < maxProps; i++ {
		start := i + 1
		line := strings.TrimLeft(strings.TrimRight(lines[i], "\r"), " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		// Join continuation lines (an odd number of trailing backslashes).
		for javaprops.Continues(line) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(strings.TrimRight(lines[i], "\r"), " \t\f")
		}
		if javaprops.Continues(line) {
			line = line[:len(line)-1]
		}
		k, sep := javaprops.SplitKey(line)
		p := Prop{Key: javaprops.Unescape(line[:k]), Value: javaprops.Unescape(line[k+sep:]), Line: start}
		if j, ok := idx[p.Key]; ok {
			out[j] = p
			continue
		}
		idx[p.Key] = len(out)
		out = append(out, p)
	}
	return out
}
