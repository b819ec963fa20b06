// Package propedit changes a Java .properties file (log4j2.properties,
// passthru-http.properties, secret-conf.properties) in place: a value is
// replaced where its last definition stands (the one java.util.Properties
// keeps), its separator and the rest of the file left as written; a new key
// is appended at the end in the file's own separator style.
package propedit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rampart-sec/rampart/internal/fix/edit"
	"github.com/rampart-sec/rampart/internal/javaprops"
)

// MaxSize bounds the files edited.
const MaxSize = 4 << 20

// Doc is a parsed properties file and the changes asked of it.
type Doc struct {
	src   []byte
	nl    string
	props []prop
	sep   string
	sets  []*set
	index map[string]int
	seq   int
	// dangling: the file ends in a line continuation with nothing after it.
	dangling bool
}

type prop struct {
	key       string
	value     string // unescaped, continuation lines joined
	line      int
	valStart  int // offset of the value's first byte
	valEnd    int // offset of the end of the value (before the final newline)
	lineStart int
	continued bool
	noSep     bool
}

type set struct {
	key   string
	value string
	rules []string
	seq   int
}

// Parse reads a properties file.
func Parse(src []byte) (*Doc, error) {
	if len(src) > MaxSize {
		return nil, fmt.Errorf("%d bytes is over the %d MiB limit", len(src), MaxSize>>20)
	}
	d := &Doc{src: src, nl: edit.LineEnding(src), index: map[string]int{}}
	seps := map[string]int{}
	off, line := 0, 0
	for off < len(src) {
		line++
		start := off
		end := edit.LineEnd(src, off)
		off = end
		text := strings.TrimRight(string(src[start:end]), "\r\n")
		trimmed := strings.TrimLeft(text, " \t\f")
		if trimmed == "" || trimmed[0] == '#' || trimmed[0] == '!' {
			continue
		}
		// A logical line continues while a line ends in an odd number of
		// backslashes.
		first := line
		logical := text
		valEnd := start + len(text)
		for javaprops.Continues(logical) && off < len(src) {
			line++
			next := edit.LineEnd(src, off)
			cont := strings.TrimRight(string(src[off:next]), "\r\n")
			valEnd = off + len(cont)
			logical = logical[:len(logical)-1] + strings.TrimLeft(cont, " \t\f")
			off = next
		}
		if javaprops.Continues(logical) {
			// A backslash at the very end continues nothing: Java drops it.
			logical = logical[:len(logical)-1]
			valEnd--
			d.dangling = true
		}
		lead := len(text) - len(trimmed)
		body := logical[lead:]
		k, sepLen := javaprops.SplitKey(body)
		firstLen := len(text) - lead
		if line > first {
			firstLen-- // the continuation backslash
		}
		if k+sepLen > firstLen {
			continue // a key broken over lines: left alone
		}
		seps[body[k:k+sepLen]]++
		vs := start + lead + k + sepLen
		p := prop{
			key:       javaprops.Unescape(body[:k]),
			value:     javaprops.Unescape(strings.TrimLeft(body[k+sepLen:], " \t\f")),
			line:      first,
			valStart:  vs,
			valEnd:    valEnd,
			lineStart: start,
			continued: line > first,
			noSep:     sepLen == 0,
		}
		if p.valStart > p.valEnd {
			p.valStart = p.valEnd
		}
		d.props = append(d.props, p)
	}
	d.sep = " = "
	best := 0
	for s, n := range seps {
		if n > best || (n == best && s < d.sep) {
			d.sep, best = s, n
		}
	}
	if strings.TrimSpace(d.sep) == "" {
		d.sep = "="
	}
	return d, nil
}

// Get returns the value java.util.Properties would load for key (its last
// definition) and its line.
func (d *Doc) Get(key string) (string, int, bool) {
	for i := len(d.props) - 1; i >= 0; i-- {
		if d.props[i].key == key {
			return d.props[i].value, d.props[i].line, true
		}
	}
	return "", 0, false
}

// Keys lists the keys defined, in file order (once each).
func (d *Doc) Keys() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range d.props {
		if !seen[p.key] {
			seen[p.key] = true
			out = append(out, p.key)
		}
	}
	return out
}

// Set asks for key to hold value. A later Set of the same key wins.
func (d *Doc) Set(key, value, rule string) {
	d.seq++
	if i, ok := d.index[key]; ok {
		d.sets[i].value = value
		if !slices.Contains(d.sets[i].rules, rule) {
			d.sets[i].rules = append(d.sets[i].rules, rule)
		}
		return
	}
	d.index[key] = len(d.sets)
	d.sets = append(d.sets, &set{key: key, value: value, rules: []string{rule}, seq: d.seq})
}

// Render returns the edited file and a record per change.
func (d *Doc) Render() ([]byte, []edit.Record, error) {
	var reps []edit.Replacement
	var appended []string
	var appendRules []string
	for _, s := range d.sets {
		rule := strings.Join(s.rules, ",")
		idx := -1
		for i := len(d.props) - 1; i >= 0; i-- {
			if d.props[i].key == s.key {
				idx = i
				break
			}
		}
		if idx >= 0 {
			p := d.props[idx]
			if p.value == s.value {
				continue
			}
			text := javaprops.EscapeValue(s.value)
			if p.noSep {
				text = d.sep + text
			}
			reps = append(reps, edit.Replacement{Start: p.valStart, End: p.valEnd, Text: text, Rule: rule, What: s.key, Seq: s.seq})
			continue
		}
		appended = append(appended, javaprops.EscapeKey(s.key)+d.sep+javaprops.EscapeValue(s.value)+d.nl)
		appendRules = append(appendRules, rule)
	}
	end := len(d.src)
	for i, line := range appended {
		if i == 0 && d.dangling {
			line = d.nl + line // end the dangling continuation first
		}
		if i == 0 && end > 0 && d.src[end-1] != '\n' {
			line = d.nl + line
		}
		reps = append(reps, edit.Replacement{Start: end, End: end, Text: line, Rule: appendRules[i], What: strings.TrimSpace(strings.SplitN(line, "=", 2)[0]), Seq: 1<<30 + i})
	}
	return edit.Apply(d.src, reps)
}
