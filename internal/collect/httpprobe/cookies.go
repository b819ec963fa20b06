package httpprobe

import (
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/rampart-sec/rampart/internal/facts"
)

// sessionCookie matches the names of session-ID cookies: the servlet
// JSESSIONID (and JSESSIONIDSSO), WSO2 IS's SSO session cookies
// (commonAuthId, samlssoTokenId), and the usual names of other stacks
// (PHPSESSID, ASP.NET_SessionId, connect.sid, *_session). Not opbs: the
// OIDC browser-state cookie must stay readable by scripts and holds no
// session credential.
var sessionCookie = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)^(jsessionid(sso)?|commonauthid|samlssotokenid|sid|connect\.sid|phpsessid|asp\.net_sessionid|(.*[_.-])?sess(ion)?(_?id)?)$`)
})

// IsSessionCookie reports whether a cookie name is a session ID's.
func IsSessionCookie(name string) bool { return sessionCookie().MatchString(name) }

// ParseSetCookie reads one Set-Cookie header value (RFC 6265 section
// 5.2): the name, the length of the value (never the value itself), and
// the Secure, HttpOnly and SameSite attributes. ok is false for a header
// with no cookie name.
func ParseSetCookie(line string) (facts.Cookie, bool) {
	parts := strings.Split(line, ";")
	name, value, found := strings.Cut(parts[0], "=")
	name = strings.TrimSpace(name)
	if !found || name == "" {
		return facts.Cookie{}, false
	}
	value = strings.TrimSpace(value)
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	c := facts.Cookie{Name: clipName(name), Length: utf8.RuneCountInString(value)}
	for _, attr := range parts[1:] {
		k, v, _ := strings.Cut(attr, "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "secure":
			c.Secure = true
		case "httponly":
			c.HTTPOnly = true
		case "samesite":
			c.SameSite = sameSite(strings.TrimSpace(v))
		}
	}
	c.Session = IsSessionCookie(name)
	return c, true
}

// deletes reports whether a Set-Cookie removes the cookie rather than
// setting it: an empty value or Max-Age of zero or less.
func deletes(line string) bool {
	parts := strings.Split(line, ";")
	_, value, _ := strings.Cut(parts[0], "=")
	if v := strings.Trim(strings.TrimSpace(value), `"`); v == "" {
		return true
	}
	for _, attr := range parts[1:] {
		k, v, _ := strings.Cut(attr, "=")
		if strings.EqualFold(strings.TrimSpace(k), "max-age") {
			v = strings.TrimSpace(v)
			if strings.HasPrefix(v, "-") || (v != "" && strings.Trim(v, "0") == "") {
				return true
			}
		}
	}
	return false
}

// sameSite normalises a SameSite value's case; an unknown value is kept
// (clipped) so the evidence shows what was sent.
func sameSite(v string) string {
	switch strings.ToLower(v) {
	case "strict":
		return "Strict"
	case "lax":
		return "Lax"
	case "none":
		return "None"
	}
	if len(v) > 20 {
		v = v[:20]
	}
	return strings.ToValidUTF8(v, "")
}

// clipName keeps at most 64 bytes of a cookie name, with invalid UTF-8
// shown as U+FFFD.
func clipName(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	for len(s) > 64 { // a replacement character can be longer than the byte it replaced
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// cookiesOf returns the cookies a response sets.
func cookiesOf(h *hop) []facts.Cookie {
	var out []facts.Cookie
	for _, line := range h.Header.Values("Set-Cookie") {
		if deletes(line) {
			continue
		}
		if c, ok := ParseSetCookie(line); ok {
			c.URL = h.URL
			c.Origin = facts.Origin{Endpoint: h.URL}
			out = append(out, c)
		}
	}
	return out
}
