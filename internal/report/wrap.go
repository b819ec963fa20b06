package report

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// DefaultWidth is the line width of the human formats when the output is
// not a terminal and COLUMNS is not set.
const DefaultWidth = 100

// minWidth is the narrowest the human formats lay out for.
const minWidth = 40

// MinWidth is minWidth for the other human renderers.
const MinWidth = minWidth

// WrapHanging wraps s as the text report does: a first line of at most
// first characters and the next ones of at most rest (ANSI colours take
// no room; a word longer than a line is cut). Other human renderers (the
// fix summary) share it.
func WrapHanging(s string, first, rest int) []string { return wrapHanging(s, first, rest) }

// Visible counts the characters of s a terminal shows.
func Visible(s string) int { return visible(s) }

// wrapHanging wraps s with a first line of at most first characters and
// the next ones of at most rest (a label before the first line, an indent
// before the others).
func wrapHanging(s string, first, rest int) []string {
	first, rest = max(first, 1), max(rest, 1)
	var out []string
	capacity := func() int {
		if len(out) == 0 {
			return first
		}
		return rest
	}
	for _, para := range strings.Split(s, "\n") {
		words := strings.Fields(para)
		if len(words) == 0 {
			out = append(out, "")
			continue
		}
		line := ""
		for _, w := range words {
			for visible(w) > capacity() && line == "" {
				head, tail := cutRunes(w, capacity())
				out = append(out, head)
				w = tail
			}
			if w == "" {
				continue
			}
			switch {
			case line == "":
				line = w
			case visible(line)+1+visible(w) <= capacity():
				line += " " + w
			default:
				out = append(out, line)
				line = ""
				for visible(w) > capacity() {
					head, tail := cutRunes(w, capacity())
					out = append(out, head)
					w = tail
				}
				line = w
			}
		}
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}

// visible counts the characters of s a terminal shows: ANSI colour
// sequences take no room.
func visible(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] == ';' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			if j < len(s) && s[j] == 'm' {
				i = j + 1
				continue
			}
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return n
}

func cutRunes(s string, n int) (string, string) {
	i := 0
	for j := range s {
		if i == n {
			return s[:j], s[j:]
		}
		i++
	}
	return s, ""
}

// truncate shortens s to at most n characters, ending it with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	head, _ := cutRunes(s, n-1)
	return head + "…"
}

// truncateLeft keeps the end of s ("…wso2am-4.1.0"): for paths and names
// whose tail says the most.
func truncateLeft(s string, n int) string {
	c := utf8.RuneCountInString(s)
	if c <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	_, tail := cutRunes(s, c-(n-1))
	return "…" + tail
}

// moreHint is what a summarised list ends with.
func moreHint(n int) string { return fmt.Sprintf("+%d more; -v for all", n) }

// summarize fits a message that lists things ("14 plain-text secrets: a,
// b, c, …; more text") into budget characters: the head, as many items as
// fit and "+N more; -v for all", then the rest. Other messages are prose
// written by the rule's author and are kept whole.
func summarize(msg string, budget int) string {
	if utf8.RuneCountInString(msg) <= budget {
		return msg
	}
	head, list, tail, ok := cutList(msg)
	if !ok {
		return msg
	}
	items := strings.Split(list, ", ")
	for keep := len(items) - 1; keep >= 1; keep-- {
		s := head + strings.Join(items[:keep], ", ") + ", " + moreHint(len(items)-keep) + tail
		if utf8.RuneCountInString(s) <= budget {
			return s
		}
	}
	return head + items[0] + ", " + moreHint(len(items)-1) + tail
}

// cutList finds the first list in a message: what follows "…: " up to the
// next "; " (or the end), when it has at least three comma-separated
// items.
func cutList(msg string) (head, list, tail string, ok bool) {
	i := strings.Index(msg, ": ")
	if i < 0 {
		return "", "", "", false
	}
	head, rest := msg[:i+2], msg[i+2:]
	list, tail = rest, ""
	if j := strings.Index(rest, "; "); j >= 0 {
		list, tail = rest[:j], rest[j:]
	}
	if strings.Count(list, ", ") < 2 {
		return "", "", "", false
	}
	return head, list, tail, true
}

// reflow joins the lines of each paragraph of s (text folded at some width
// in a YAML file) so it can be wrapped to another width. Blank lines end
// paragraphs; a line that starts a list item ("- ", "* ", "1. ") starts a
// new line.
func reflow(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	var b strings.Builder
	for i, l := range lines {
		l = strings.TrimSpace(l)
		switch {
		case i == 0:
		case l == "" || strings.TrimSpace(lines[i-1]) == "" || listItem(l):
			b.WriteString("\n")
		default:
			b.WriteString(" ")
		}
		b.WriteString(l)
	}
	return b.String()
}

func listItem(l string) bool {
	if strings.HasPrefix(l, "- ") || strings.HasPrefix(l, "* ") {
		return true
	}
	i := 0
	for i < len(l) && l[i] >= '0' && l[i] <= '9' {
		i++
	}
	return i > 0 && i+1 < len(l) && (l[i] == '.' || l[i] == ')') && l[i+1] == ' '
}
