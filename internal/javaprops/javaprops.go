// Package javaprops holds the syntax of java.util.Properties files, the
// format of log4j2.properties and of several WSO2 configuration files:
// logical lines continued by a backslash, the key/value separator and
// the escapes. The scanner that reads such files (collect/wso2/log4j)
// and the editor that changes them (fix/propedit) both use it, so a fix
// writes exactly what the scan will read back.
package javaprops

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Continues reports whether a physical line continues on the next one:
// it ends in an odd number of backslashes.
func Continues(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// blank reports whether c is white space to java.util.Properties.
func blank(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

// SplitKey returns the length of the key at the start of a logical line
// (leading white space already removed) and of the separator after it:
// the key ends at the first unescaped '=', ':' or white space; the
// separator is the white space, at most one '=' or ':', and the white
// space after it.
func SplitKey(s string) (keyLen, sepLen int) {
	i := 0
	for i < len(s) {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			i += 2
			continue
		}
		if c == '=' || c == ':' || blank(c) {
			break
		}
		i++
	}
	j := i
	for j < len(s) && blank(s[j]) {
		j++
	}
	if j < len(s) && (s[j] == '=' || s[j] == ':') {
		j++
		for j < len(s) && blank(s[j]) {
			j++
		}
	}
	return i, j - i
}

// Unescape reads a key or value as java.util.Properties does: \t \n \r \f,
// \uXXXX (a UTF-16 surrogate pair written as two escapes is one
// character; a lone surrogate becomes U+FFFD), and a backslash before any
// other character stands for that character. A malformed \u escape, which
// Java refuses, is kept as written; a lone backslash at the end is kept.
func Unescape(s string) string {
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
			r, ok := hex4(s[i+1:])
			if !ok {
				b.WriteByte('u')
				continue
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if lo, ok := lowSurrogate(s[i+1:]); ok {
					if pair := utf16.DecodeRune(r, lo); pair != utf8.RuneError {
						b.WriteRune(pair)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			b.WriteRune(r)
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// lowSurrogate reads a \uXXXX escape at the start of s holding a UTF-16
// low surrogate.
func lowSurrogate(s string) (rune, bool) {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return 0, false
	}
	r, ok := hex4(s[2:])
	return r, ok && r >= 0xDC00 && r <= 0xDFFF
}

// hex4 reads four hex digits at the start of s.
func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[:4]) {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// EscapeKey writes a key so that SplitKey and Unescape read it back whole.
func EscapeKey(k string) string {
	var b strings.Builder
	for i, r := range k {
		switch r {
		case '\\', '=', ':', ' ', '\t', '\f':
			b.WriteByte('\\')
		case '#', '!':
			if i == 0 {
				b.WriteByte('\\')
			}
		case '\n':
			b.WriteString(`\n`)
			continue
		case '\r':
			b.WriteString(`\r`)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// EscapeValue writes a value so that java.util.Properties reads it back as
// is: backslashes, line breaks and tabs escaped, and a leading blank
// escaped (Java skips the white space before a value).
func EscapeValue(v string) string {
	var b strings.Builder
	for i, r := range v {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == ' ' && i == 0:
			b.WriteString(`\ `)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
