package httpprobe

import (
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
)

// CacheDirectives returns the directive names of Cache-Control header
// values (RFC 9111 section 5.2), lower-cased, in order. Commas inside
// quoted directive values (private="a, b") do not split.
func CacheDirectives(values []string) []string {
	var out []string
	for _, v := range values {
		for _, part := range splitOutsideQuotes(v, ',') {
			name, _, _ := strings.Cut(part, "=")
			name = strings.ToLower(strings.TrimSpace(name))
			if name != "" {
				out = append(out, name)
			}
		}
	}
	return out
}

// NoStore reports whether Cache-Control forbids storing the response.
func NoStore(values []string) bool {
	for _, d := range CacheDirectives(values) {
		if d == "no-store" {
			return true
		}
	}
	return false
}

// pageOf is the cache-relevant view of a dynamic page's answer.
func pageOf(k knownPath, h *hop) facts.Page {
	cc := h.Header.Values("Cache-Control")
	return facts.Page{
		URL:          h.URL,
		Path:         k.path,
		Kind:         k.page,
		Status:       h.Status,
		CacheControl: clip(strings.Join(cc, ", ")),
		Pragma:       clip(strings.Join(h.Header.Values("Pragma"), ", ")),
		Expires:      clip(strings.Join(h.Header.Values("Expires"), ", ")),
		NoStore:      NoStore(cc),
		Origin:       facts.Origin{Endpoint: h.URL},
	}
}

// isContent reports whether a status carries a page (2xx).
func isContent(status int) bool { return status >= 200 && status < 300 }
