// Package shedit sets JVM system properties (-Dname=value) in a WSO2 start
// script (bin/wso2server.sh, bin/api-manager.sh, bin/micro-integrator.sh)
// without rewriting it: a property already on the java command line (or in
// an assignment the script expands there) gets its value replaced in
// place; a new one is added as its own line right after the java command's
// first line, indented like the options below it, so the script's layout,
// comments and line endings stay as written.
package shedit

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/rampart-sec/rampart/internal/fix/edit"
)

// MaxSize bounds the scripts edited (real ones are ~15 KiB).
const MaxSize = 1 << 20

// Doc is a start script and the properties asked of it.
type Doc struct {
	src []byte
	nl  string
	// cmdStart/cmdEnd are the offsets of the java command's first line and
	// the end of its last (continued) line.
	cmdStart, cmdEnd int
	cmdLine          int
	multiLine        bool
	javaTokEnd       int // offset just after the java token on the first line
	indent           string
	sets             []*set
}

type set struct {
	name, value string
	line        int // where the property is written now (0: add it)
	rules       []string
	seq         int
}

// ErrNoJavaCommand means no java launch line was recognised.
var ErrNoJavaCommand = errors.New("no java command line found in the start script")

// Parse finds the java command of a start script.
func Parse(src []byte) (*Doc, error) {
	if len(src) > MaxSize {
		return nil, fmt.Errorf("%d bytes is over the %d KiB limit for a start script", len(src), MaxSize>>10)
	}
	javaCmd := regexp.MustCompile(`(^|\s)(exec\s+)?("?\$\{?JAVACMD\}?"?|"?\$\{?JAVA_HOME\}?"?/bin/java|\bjava)(\s|$)`)
	assignment := regexp.MustCompile(`^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_]*=`)
	d := &Doc{src: src, nl: edit.LineEnding(src), cmdStart: -1}
	off, line := 0, 0
	for off < len(src) {
		line++
		end := edit.LineEnd(src, off)
		text := strings.TrimRight(string(src[off:end]), "\r\n")
		code := stripComment(text)
		if m := javaCmd.FindStringSubmatchIndex(code); m != nil && !assignment.MatchString(code) && !strings.Contains(code, "-version") {
			d.cmdStart, d.cmdLine = off, line
			d.javaTokEnd = off + m[7]
			d.cmdEnd = end
			next := end
			for strings.HasSuffix(strings.TrimRight(code, " \t"), `\`) && next < len(src) {
				d.multiLine = true
				ne := edit.LineEnd(src, next)
				nt := strings.TrimRight(string(src[next:ne]), "\r\n")
				if d.indent == "" {
					d.indent = nt[:len(nt)-len(strings.TrimLeft(nt, " \t"))]
				}
				code = stripComment(nt)
				d.cmdEnd = ne
				next = ne
			}
			return d, nil
		}
		off = end
	}
	return nil, ErrNoJavaCommand
}

func stripComment(s string) string {
	t := strings.TrimLeft(s, " \t")
	if strings.HasPrefix(t, "#") {
		return ""
	}
	if i := strings.Index(s, " #"); i >= 0 {
		return s[:i]
	}
	return s
}

// Set asks for -Dname=value. line is where the property is written now
// (from the facts' origin), 0 when it is not set.
func (d *Doc) Set(name, value string, line int, rule string) {
	for _, s := range d.sets {
		if s.name == name {
			s.value = value
			s.rules = append(s.rules, rule)
			return
		}
	}
	d.sets = append(d.sets, &set{name: name, value: value, line: line, rules: []string{rule}, seq: len(d.sets)})
}

// Render returns the edited script and a record per change.
func (d *Doc) Render() ([]byte, []edit.Record, error) {
	var reps []edit.Replacement
	var adds []string
	var addRules []string
	for _, s := range d.sets {
		rule := strings.Join(s.rules, ",")
		what := "-D" + s.name
		start, end, ok := d.find(s.name, s.line)
		if ok {
			cur := string(d.src[start:end])
			if unquote(cur) == s.value {
				continue
			}
			reps = append(reps, edit.Replacement{Start: start, End: end, Text: s.value, Rule: rule, What: what, Seq: s.seq})
			continue
		}
		adds = append(adds, "-D"+s.name+"="+s.value)
		addRules = append(addRules, rule)
	}
	for i, a := range adds {
		if d.multiLine {
			reps = append(reps, edit.Replacement{Start: d.firstLineEnd(), End: d.firstLineEnd(), Text: d.indent + a + ` \` + d.nl, Rule: addRules[i], What: strings.SplitN(a, "=", 2)[0], Seq: 1000 + i})
		} else {
			reps = append(reps, edit.Replacement{Start: d.javaTokEnd, End: d.javaTokEnd, Text: " " + a, Rule: addRules[i], What: strings.SplitN(a, "=", 2)[0], Seq: 1000 + i})
		}
	}
	return edit.Apply(d.src, reps)
}

func (d *Doc) firstLineEnd() int { return edit.LineEnd(d.src, d.cmdStart) }

// find locates the value of -Dname= on the given line, or on the java
// command's lines.
func (d *Doc) find(name string, line int) (int, int, bool) {
	ranges := [][2]int{{d.cmdStart, d.cmdEnd}}
	if line > 0 {
		if off := edit.LineOffset(d.src, line); off >= 0 {
			ranges = append([][2]int{{off, edit.LineEnd(d.src, off)}}, ranges...)
		}
	}
	tok := []byte("-D" + name + "=")
	for _, r := range ranges {
		seg := d.src[r[0]:r[1]]
		i := bytes.Index(seg, tok)
		for i >= 0 && i > 0 && !isDelim(seg[i-1]) {
			j := bytes.Index(seg[i+1:], tok)
			if j < 0 {
				i = -1
				break
			}
			i += 1 + j
		}
		if i < 0 {
			continue
		}
		vs := r[0] + i + len(tok)
		ve := vs
		quote := byte(0)
		if ve < r[1] && (d.src[ve] == '"' || d.src[ve] == '\'') {
			quote = d.src[ve]
			vs++
			ve++
		}
		for ve < r[1] {
			c := d.src[ve]
			if quote != 0 && c == quote || quote == 0 && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == '\\') {
				break
			}
			ve++
		}
		return vs, ve, true
	}
	return 0, 0, false
}

func isDelim(c byte) bool { return c == ' ' || c == '\t' || c == '"' || c == '\'' || c == '=' }

func unquote(s string) string { return strings.Trim(s, `"'`) }
