package httpprobe

import (
	"crypto/sha256"
	"html"
	"net/url"
	"strings"
	"unicode"
)

// signature is a compact summary of a final answer, enough to tell whether
// two paths got the same page: a proxy's catch-all ("everything else gets
// 200 'welcome'") or a login redirect every unknown path gets. Paths that
// answer like a path that cannot exist say nothing about themselves.
type signature struct {
	valid    bool
	status   int
	location string
	hash     [32]byte
	length   int
	tokens   map[string]struct{}
}

const maxTokens = 2048

// makeSignature summarises an answer's final response; answers that
// failed have no valid signature.
func makeSignature(a *answer) signature {
	h := a.final()
	if h == nil || a.err != nil {
		return signature{}
	}
	norm := normalizeFor(string(a.body), a.path, h.URL)
	s := signature{
		valid:    true,
		status:   h.Status,
		location: normalizeFor(h.Header.Get("Location"), a.path, h.URL),
		hash:     sha256.Sum256([]byte(norm)),
		length:   len(norm),
		tokens:   map[string]struct{}{},
	}
	addTokens(s.tokens, norm)
	return s
}

// addTokens adds the words (runs of letters and digits) of s to set, up
// to maxTokens distinct ones, without building a list of all words.
func addTokens(set map[string]struct{}, s string) {
	start := -1
	for i, r := range s {
		word := unicode.IsLetter(r) || unicode.IsDigit(r)
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			set[s[start:i]] = struct{}{}
			start = -1
			if len(set) >= maxTokens {
				return
			}
		}
	}
	if start >= 0 && len(set) < maxTokens {
		set[s[start:]] = struct{}{}
	}
}

// normalizeFor removes what a page may echo of its own request (the path,
// escaped or not, and the URL) and collapses numbers (dates, request IDs),
// so two catch-all answers compare equal.
func normalizeFor(s, path, rawURL string) string {
	if s == "" {
		return ""
	}
	variants := make([]string, 0, 9) // rawURL and 4 of each path
	add := func(v string) {
		if len(v) > 1 {
			variants = append(variants, v)
		}
	}
	add(rawURL)
	for _, p := range []string{path, strings.SplitN(path, "?", 2)[0]} {
		add(p)
		add(html.EscapeString(p))
		add(url.PathEscape(p))
		add(strings.TrimPrefix(p, "/"))
	}
	for _, v := range variants {
		s = strings.ReplaceAll(s, v, "{path}")
	}
	return collapseDigits(s)
}

// collapseDigits replaces every run of ASCII digits with one "0".
func collapseDigits(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	inRun := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			if !inRun {
				b.WriteByte('0')
			}
			inRun = true
			continue
		}
		inRun = false
		b.WriteByte(c)
	}
	return b.String()
}

// sameAnswer reports whether two signatures are the same page: same
// status and redirect target, and the same normalised body or one at
// least 90% alike (word sets) and of about the same length. The media
// type is not compared: servers derive it from the path's extension even
// for one and the same catch-all page.
func sameAnswer(a, b signature) bool {
	if !a.valid || !b.valid || a.status != b.status || a.location != b.location {
		return false
	}
	if a.hash == b.hash {
		return true
	}
	longer, shorter := a.length, b.length
	if shorter > longer {
		longer, shorter = shorter, longer
	}
	if longer == 0 || float64(longer-shorter)/float64(longer) > 0.1 {
		return false
	}
	return jaccard(a.tokens, b.tokens) >= 0.9
}

func jaccard(a, b map[string]struct{}) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	inter := 0
	for w := range a {
		if _, ok := b[w]; ok {
			inter++
		}
	}
	union := len(a) + len(b) - inter
	return float64(inter) / float64(union)
}
