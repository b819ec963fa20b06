// Package script reads the JVM options a WSO2 start script (bin/wso2server.sh,
// bin/api-manager.sh, bin/micro-integrator.sh) passes to java, without
// running it: the options on the java command line, with the shell
// variables it expands ($JVM_MEM_OPTS, $JAVA_OPTS) taken from assignments
// that always run. Assignments inside other branches (the --debug option's
// JAVA_OPTS with jdwp) are conditional and reported apart.
package script

import (
	"regexp"
	"strings"
	"sync"
)

// Option is one JVM option and the script line it is on.
type Option struct {
	Text string
	Line int
	// Conditional is true for an option set only in a branch the script
	// takes on request (a --debug run), not on a plain start.
	Conditional bool
}

// JVM is what a start script passes to java.
type JVM struct {
	// Found is true when a java command line was recognised.
	Found   bool
	Options []Option
}

// patterns are the script reader's regular expressions, compiled on first
// use (a scan that reads no start script compiles none).
type patterns struct {
	assign, varRef, open, close, unsetTest, javaCmd *regexp.Regexp
}

var scriptPatterns struct {
	once sync.Once
	re   *patterns
}

func compiled() *patterns {
	scriptPatterns.once.Do(func() { scriptPatterns.re = compilePatterns() })
	return scriptPatterns.re
}

func compilePatterns() *patterns {
	return &patterns{
		assign:    regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$`),
		varRef:    regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`),
		open:      regexp.MustCompile(`^\s*(if|case|while|until|for)\b`),
		close:     regexp.MustCompile(`^\s*(fi|esac|done)\b`),
		unsetTest: regexp.MustCompile(`^\s*if\s+\[\s+-z\s+"?\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?"?\s+\]`),
		javaCmd:   regexp.MustCompile(`(^|\s)(exec\s+)?("?\$\{?JAVACMD\}?"?|"?\$\{?JAVA_HOME\}?"?/bin/java|\bjava)\s`),
	}
}

type assignment struct {
	value       string
	line        int
	conditional bool
}

// maxLines bounds the script lines read (real scripts have ~350).
const maxLines = 100_000

// Parse reads a start script.
func Parse(data []byte) JVM {
	lines := strings.Split(string(data), "\n")
	if len(lines) > maxLines {
		lines = lines[:maxLines]
	}
	re := compiled()
	closeRe, unsetTest, openRe, javaCmdRe, assignRe := re.close, re.unsetTest, re.open, re.javaCmd, re.assign
	vars := map[string][]assignment{}
	var stack []string // open block kinds; "unset:VAR" for if [ -z "$VAR" ]
	var cmd []Option
	found := false
	for i := 0; i < len(lines); i++ {
		raw := strings.TrimRight(lines[i], "\r")
		line := stripComment(raw)
		if strings.TrimSpace(line) == "" {
			continue
		}
		if m := closeRe.FindStringSubmatch(line); m != nil && len(stack) > 0 {
			stack = stack[:len(stack)-1]
			continue
		}
		if m := unsetTest.FindStringSubmatch(line); m != nil {
			stack = append(stack, "unset:"+m[1])
			continue
		}
		if m := openRe.FindStringSubmatch(line); m != nil {
			if strings.Contains(line, "; fi") || strings.HasSuffix(strings.TrimSpace(line), "fi") && m[1] == "if" {
				continue // one-line if
			}
			stack = append(stack, m[1])
			continue
		}
		if javaCmdRe.MatchString(" "+line+" ") && !assignRe.MatchString(line) && !strings.Contains(line, "-version") {
			// Gather the command and its continuation lines.
			start := i + 1
			text := line
			for strings.HasSuffix(strings.TrimSpace(text), `\`) && i+1 < len(lines) {
				text = strings.TrimSuffix(strings.TrimSpace(text), `\`) + " "
				i++
				text += stripComment(strings.TrimRight(lines[i], "\r"))
			}
			if !looksLikeLaunch(text) {
				continue
			}
			found = true
			cmd = append(cmd, options(text, start, vars, false, 0)...)
			continue
		}
		if m := assignRe.FindStringSubmatch(line); m != nil {
			cond := false
			for _, s := range stack {
				if s == "unset:"+m[1] {
					continue // a default for an unset variable: it applies
				}
				if s == "while" || s == "until" || s == "for" {
					continue
				}
				cond = true
			}
			vars[m[1]] = append(vars[m[1]], assignment{value: unquote(m[2]), line: i + 1, conditional: cond})
		}
	}
	return JVM{Found: found, Options: cmd}
}

// looksLikeLaunch tells the product's launch apart from other java calls
// (java -version, keytool helpers): it names a main class or -jar.
func looksLikeLaunch(s string) bool {
	return strings.Contains(s, "org.wso2") || strings.Contains(s, "Bootstrap") || strings.Contains(s, "-jar") ||
		strings.Contains(s, "-classpath") || strings.Contains(s, "-cp ")
}

// options splits a command line into JVM options, expanding variables
// from their assignments.
func options(text string, line int, vars map[string][]assignment, cond bool, depth int) []Option {
	var out []Option
	varRefRe := compiled().varRef
	for _, tok := range fields(text) {
		if depth < 4 && varRefRe.MatchString(tok) && !strings.HasPrefix(unquote(tok), "-") {
			m := varRefRe.FindStringSubmatch(tok)
			for _, a := range vars[m[1]] {
				out = append(out, options(a.value, a.line, vars, cond || a.conditional, depth+1)...)
			}
			continue
		}
		t := unquote(tok)
		if strings.HasPrefix(t, "-D") || strings.HasPrefix(t, "-X") || strings.HasPrefix(t, "-agentlib") ||
			strings.HasPrefix(t, "-agentpath") || strings.HasPrefix(t, "-javaagent") || strings.HasPrefix(t, "--add-") ||
			t == "-cp" || t == "-classpath" || t == "--class-path" {
			// The class path option is kept without its value, as
			// jvmflags.Args keeps it from a live command line.
			out = append(out, Option{Text: t, Line: line, Conditional: cond})
		}
	}
	return out
}

// fields splits on white space outside quotes.
func fields(s string) []string {
	var out []string
	var b strings.Builder
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			b.WriteByte(c)
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
			b.WriteByte(c)
		case c == ' ' || c == '\t':
			if b.Len() > 0 {
				out = append(out, b.String())
				b.Reset()
			}
		default:
			b.WriteByte(c)
		}
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	return strings.NewReplacer(`"`, "", `'`, "").Replace(s)
}

func stripComment(s string) string {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "#") {
		return ""
	}
	if i := strings.Index(s, " #"); i >= 0 && !strings.ContainsAny(s[:i], `"'`) {
		return s[:i]
	}
	return s
}
