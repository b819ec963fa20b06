// Package textsafe makes text safe to show: characters that are invisible
// or change the direction of the text around them are made visible.
package textsafe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Neutralize makes invisible and direction-changing characters visible:
// Unicode bidirectional overrides and isolates (U+202A-U+202E,
// U+2066-U+2069, the marks U+200E, U+200F, U+061C), other format
// characters (zero-width spaces and joiners, U+FEFF, ...), line and
// paragraph separators and control characters other than tab, newline
// and carriage return each become "[U+XXXX]". A target or user name
// holding them could otherwise read differently from what it is (an
// override turns "gw-\u202Etxt.exe" into "gw-exe.txt") on a page, in an
// export or in an alert. Text without them is returned as it is.
func Neutralize(s string) string {
	if !needsNeutralizing(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for _, r := range s {
		if hidden(r) {
			fmt.Fprintf(&b, "[U+%04X]", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// NeutralizeBytes is Neutralize for a rendered page or document.
func NeutralizeBytes(p []byte) []byte {
	if !needsNeutralizing(string(p)) {
		return p
	}
	return []byte(Neutralize(string(p)))
}

func needsNeutralizing(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if hidden(r) {
			return true
		}
		i += n
	}
	return false
}

// hidden reports whether r is invisible or changes the direction of the
// text around it.
func hidden(r rune) bool {
	switch r {
	case '\t', '\n', '\r':
		return false
	case '\u2028', '\u2029':
		return true
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}
