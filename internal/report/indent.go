package report

import "bytes"

// appendIndented appends src, valid compact JSON as encoding/json writes
// it (no space outside strings), indented the way json.Indent(dst, src,
// prefix, indent) indents it: a newline, prefix and depth × indent after
// every opening bracket and comma and before every closing bracket, ": "
// after every key, and empty objects and arrays kept as {} and []. It is
// json.Indent without its validating scanner, which costs three times the
// encoding of a fleet's findings.
func appendIndented(dst, src []byte, prefix, indent string) []byte {
	needIndent := false
	depth := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		if needIndent && c != '}' && c != ']' {
			needIndent = false
			depth++
			dst = appendNewline(dst, prefix, indent, depth)
		}
		switch c {
		case '"':
			// Copy the string to its closing quote, escapes included.
			j := i + 1
			for j < len(src) {
				k := bytes.IndexAny(src[j:], `"\`)
				if k < 0 {
					j = len(src)
					break
				}
				j += k
				if src[j] == '"' {
					break
				}
				j += 2 // a backslash and the byte it escapes
			}
			if j >= len(src) {
				j = len(src) - 1
			}
			dst = append(dst, src[i:j+1]...)
			i = j
		case '{', '[':
			needIndent = true // {} and [] stay on one line
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = appendNewline(dst, prefix, indent, depth)
		case ':':
			dst = append(dst, c, ' ')
		case '}', ']':
			if needIndent {
				needIndent = false
			} else {
				depth--
				dst = appendNewline(dst, prefix, indent, depth)
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func appendNewline(dst []byte, prefix, indent string, depth int) []byte {
	dst = append(dst, '\n')
	dst = append(dst, prefix...)
	for range depth {
		dst = append(dst, indent...)
	}
	return dst
}
