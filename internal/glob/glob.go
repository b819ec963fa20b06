// Package glob matches names against the patterns rampart's users write
// for target names (waivers and attestations, API token scopes): `*` is
// any run of characters, slashes included ("/opt/wso2*" covers every
// product home under /opt), `?` is one character, anything else stands
// for itself. path.Match does not do this (its `*` stops at a slash and it
// has classes and escapes); a regular expression would be compiled for
// every match. Match needs no compilation and allocates nothing.
package glob

import "unicode/utf8"

// Match reports whether s matches pattern as a whole.
func Match(pattern, s string) bool {
	p, i := 0, 0        // positions in pattern and s
	star, mark := -1, 0 // just after the last '*' seen, and where s resumes from it
	for i < len(s) {
		if p < len(pattern) {
			switch pattern[p] {
			case '*':
				star, mark = p+1, i
				p++
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(s[i:])
				p++
				i += n
				continue
			default:
				_, pn := utf8.DecodeRuneInString(pattern[p:])
				_, sn := utf8.DecodeRuneInString(s[i:])
				if pn == sn && pattern[p:p+pn] == s[i:i+sn] {
					p += pn
					i += sn
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		// Let the last '*' take one more character and try again.
		_, n := utf8.DecodeRuneInString(s[mark:])
		mark += n
		p, i = star, mark
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
