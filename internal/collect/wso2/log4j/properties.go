// Package log4j reads log4j2.properties files: Java properties syntax and
// the appenders it declares (type, rolling policies, rollover bound,
// layout pattern), each with the line it was declared on.
package log4j

import (
	"strings"
	"unicode/utf8"
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
		for continues(line) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(strings.TrimRight(lines[i], "\r"), " \t\f")
		}
		if continues(line) {
			line = line[:len(line)-1]
		}
		k, v := split(line)
		p := Prop{Key: unescape(k), Value: unescape(v), Line: start}
		if j, ok := idx[p.Key]; ok {
			out[j] = p
			continue
		}
		idx[p.Key] = len(out)
		out = append(out, p)
	}
	return out
}

func continues(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// split cuts a logical line at the first unescaped separator.
func split(line string) (string, string) {
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '=', ':':
			return line[:i], strings.TrimLeft(line[i+1:], " \t\f")
		case ' ', '\t', '\f':
			rest := strings.TrimLeft(line[i:], " \t\f")
			if rest != "" && (rest[0] == '=' || rest[0] == ':') {
				rest = strings.TrimLeft(rest[1:], " \t\f")
			}
			return line[:i], rest
		}
	}
	return line, ""
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+4 < len(s)+0 && i+5 <= len(s) {
				if r, ok := hex4(s[i+1 : i+5]); ok {
					b.WriteRune(r)
					i += 4
					continue
				}
			}
			b.WriteByte('u')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func hex4(s string) (rune, bool) {
	var r rune
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | (c - '0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | (c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | (c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, utf8.ValidRune(r)
}
