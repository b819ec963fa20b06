package httpprobe

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
)

// ParseHSTS reads a Strict-Transport-Security header value by RFC 6797
// section 6.1: directives separated by ";", names case-insensitive, values
// tokens or quoted strings, max-age required and every directive at most
// once, unknown directives ignored. A header that breaks those rules is
// returned with Problem set, since a browser ignores it.
func ParseHSTS(raw string) facts.HSTS {
	h := facts.HSTS{Present: true, Raw: clip(raw), MissingOn: []string{}}
	seen := map[string]bool{}
	for _, part := range splitOutsideQuotes(raw, ';') {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, hasValue := strings.Cut(part, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		if seen[name] {
			setProblem(&h, "directive "+name+" is given more than once")
			continue
		}
		seen[name] = true
		switch name {
		case "max-age":
			if !hasValue {
				setProblem(&h, "max-age has no value")
				continue
			}
			v, ok := unquote(value)
			if !ok || v == "" || strings.Trim(v, "0123456789") != "" {
				setProblem(&h, "max-age is not a number of seconds: "+clip(value))
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil { // only digits, so it overflowed: a very long time
				n = math.MaxInt64
			}
			h.MaxAge = n
		case "includesubdomains":
			h.IncludeSubDomains = true
		case "preload":
			h.Preload = true
		}
	}
	if !seen["max-age"] {
		setProblem(&h, "no max-age directive")
	}
	return h
}

func setProblem(h *facts.HSTS, p string) {
	if h.Problem == "" {
		h.Problem = p
	}
}

// hstsOf returns the HSTS policy a response sets. RFC 6797 section 8.1
// has a browser use only the first header when several are sent; over
// plain HTTP the header is ignored, so it counts as absent.
func hstsOf(h http.Header, https bool) facts.HSTS {
	vals := h.Values("Strict-Transport-Security")
	if !https || len(vals) == 0 {
		return facts.HSTS{MissingOn: []string{}}
	}
	return ParseHSTS(vals[0])
}

// splitOutsideQuotes splits s at sep, except inside double quotes (with
// backslash escapes).
func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	inQuote, esc, start := false, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case inQuote && c == '\\':
			esc = true
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unquote returns a token as is, or the content of a quoted string with
// its escapes resolved; ok is false for an unterminated quote.
func unquote(v string) (string, bool) {
	if !strings.HasPrefix(v, `"`) {
		return v, !strings.Contains(v, `"`)
	}
	if len(v) < 2 || !strings.HasSuffix(v, `"`) {
		return "", false
	}
	var b strings.Builder
	esc := false
	for _, r := range v[1 : len(v)-1] {
		switch {
		case esc:
			b.WriteRune(r)
			esc = false
		case r == '\\':
			esc = true
		case r == '"':
			return "", false
		default:
			b.WriteRune(r)
		}
	}
	if esc {
		return "", false
	}
	return b.String(), true
}
