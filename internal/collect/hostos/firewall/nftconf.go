package firewall

import (
	"fmt"
	"path"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
)

// ReadFile reads an in-root file for include directives.
type ReadFile func(p string) ([]byte, error)

// Glob lists in-root files matching a pattern.
type Glob func(pattern string) ([]string, error)

// maxIncludeDepth bounds nested nft include statements.
const maxIncludeDepth = 8

// ParseNftConf reads the nft text syntax of /etc/nftables.conf (the
// common subset: tables, base and regular chains, named sets, define,
// include, the usual matches and verdicts). What it cannot read becomes a
// Problem, not an error.
func ParseNftConf(text, source string, read ReadFile, glob Glob) *Ruleset {
	p := &nftParser{rs: newRuleset(), defines: map[string][]string{}, read: read, glob: glob, sets: map[string][]string{}}
	p.file(text, source, 0)
	return p.rs
}

type nftParser struct {
	rs      *Ruleset
	defines map[string][]string
	sets    map[string][]string // "family table name" -> elements
	read    ReadFile
	glob    Glob
}

// token is one word of nft text with its line.
type token struct {
	s    string
	line int
}

func tokenize(text string) []token {
	var out []token
	line := 1
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, token{cur.String(), line})
			cur.Reset()
		}
	}
	inQ := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inQ:
			if c == '"' {
				inQ = false
				cur.WriteByte(c)
				flush()
			} else if c == '\n' {
				inQ = false
				flush()
				out = append(out, token{"\n", line})
				line++
			} else {
				cur.WriteByte(c)
			}
		case c == '"':
			flush()
			inQ = true
			cur.WriteByte(c)
		case c == '#':
			for i < len(text) && text[i] != '\n' {
				i++
			}
			i--
		case c == '\\' && i+1 < len(text) && text[i+1] == '\n':
			i++
			line++
		case c == '\n' || c == ';':
			flush()
			out = append(out, token{"\n", line})
			if c == '\n' {
				line++
			}
		case c == ' ' || c == '\t' || c == '\r':
			flush()
		case c == '{' || c == '}' || c == ',' || c == '=':
			flush()
			out = append(out, token{string(c), line})
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}

// statements splits tokens into statements (ended by newline or ";"),
// keeping braces as their own statements so blocks can be tracked. A
// brace list inside a statement ("{ 22, 80 }") stays in it.
func statements(toks []token) [][]token {
	var out [][]token
	var cur []token
	depth := 0 // braces opened inside the current statement
	for _, t := range toks {
		switch t.s {
		case "\n":
			if depth == 0 {
				if len(cur) > 0 {
					out = append(out, cur)
				}
				cur = nil
			}
		case "{":
			if len(cur) > 0 && isBlockHead(cur) {
				out = append(out, append(cur, t))
				cur = nil
				continue
			}
			depth++
			cur = append(cur, t)
		case "}":
			if depth > 0 {
				depth--
				cur = append(cur, t)
				continue
			}
			if len(cur) > 0 {
				out = append(out, cur)
			}
			out = append(out, []token{t})
			cur = nil
		default:
			cur = append(cur, t)
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func isBlockHead(st []token) bool {
	switch st[0].s {
	case "table", "chain", "set", "map":
		return true
	}
	return false
}

func (p *nftParser) file(text, source string, depth int) {
	var family, table, chain, set string
	var stack []string // block kinds
	for _, st := range statements(tokenize(text)) {
		words := make([]string, len(st))
		for i, t := range st {
			words[i] = t.s
		}
		origin := facts.Origin{File: source, Line: st[0].line}
		last := words[len(words)-1]
		switch {
		case words[0] == "}":
			if len(stack) > 0 {
				switch stack[len(stack)-1] {
				case "table":
					family, table = "", ""
				case "chain":
					chain = ""
				case "set", "map":
					set = ""
				}
				stack = stack[:len(stack)-1]
			}
		case last == "{" && words[0] == "table":
			stack = append(stack, "table")
			family, table = "ip", ""
			switch len(words) {
			case 3:
				table = words[1]
			case 4:
				family, table = words[1], words[2]
			}
		case last == "{" && words[0] == "chain":
			stack = append(stack, "chain")
			if len(words) >= 3 {
				chain = words[1]
				p.rs.chain(family, table, chain)
			}
		case last == "{" && (words[0] == "set" || words[0] == "map"):
			stack = append(stack, words[0])
			if len(words) >= 3 {
				set = words[1]
			}
		case words[0] == "define" && len(words) >= 4 && words[2] == "=":
			p.defines[words[1]] = p.values(words[3:])
		case words[0] == "include" && len(words) >= 2:
			p.include(strings.Trim(words[1], `"`), source, depth)
		case words[0] == "flush":
		case set != "":
			if words[0] == "elements" && len(words) > 2 {
				k := key(family, table, set)
				p.sets[k] = append(p.sets[k], p.values(words[2:])...)
			}
		case chain != "":
			c := p.rs.chain(family, table, chain)
			switch words[0] {
			case "type":
				for i := 0; i+1 < len(words); i++ {
					if words[i] == "hook" {
						c.Hook = words[i+1]
					}
				}
				if len(words) > 1 && words[1] != "filter" {
					c.Hook = "" // nat and route chains do not filter
				}
			case "policy":
				if len(words) > 1 {
					c.Policy = strings.TrimSuffix(words[1], ";")
				}
			default:
				r, err := p.rule(words, family, table)
				if err != nil {
					p.rs.Problems = append(p.rs.Problems, fmt.Sprintf("%s:%d: %v", source, st[0].line, err))
				}
				r.Origin = origin
				c.Rules = append(c.Rules, r)
			}
		default:
			p.rs.Problems = append(p.rs.Problems, fmt.Sprintf("%s:%d: statement not understood: %s", source, st[0].line, clip(strings.Join(words, " "))))
		}
	}
}

func (p *nftParser) include(pattern, from string, depth int) {
	if depth >= maxIncludeDepth || p.read == nil {
		p.rs.Problems = append(p.rs.Problems, fmt.Sprintf("%s: include %s not followed", from, pattern))
		return
	}
	if !strings.HasPrefix(pattern, "/") {
		pattern = path.Join(path.Dir(from), pattern)
	}
	files := []string{pattern}
	if strings.ContainsAny(pattern, "*?[") && p.glob != nil {
		files, _ = p.glob(pattern)
	}
	for _, f := range files {
		b, err := p.read(f)
		if err != nil {
			p.rs.Problems = append(p.rs.Problems, fmt.Sprintf("%s: include %s: %v", from, f, err))
			continue
		}
		p.file(string(b), f, depth+1)
	}
}

// values reads a value or a brace list, substituting $defines and
// splitting comma lists.
func (p *nftParser) values(words []string) []string {
	var out []string
	for _, w := range words {
		switch w {
		case "{", "}", ",", "=":
			continue
		}
		if name, ok := strings.CutPrefix(w, "$"); ok {
			out = append(out, p.defines[name]...)
			continue
		}
		for _, x := range strings.Split(w, ",") {
			if x != "" {
				out = append(out, strings.Trim(x, `"`))
			}
		}
	}
	return out
}

// rule reads one rule statement.
func (p *nftParser) rule(w []string, family, table string) (Rule, error) {
	var r Rule
	var err error
	// arg returns the value after index i: one word, or a brace list.
	arg := func(i int) ([]string, int) {
		if i >= len(w) {
			return nil, i
		}
		if w[i] == "{" {
			j := i
			for j < len(w) && w[j] != "}" {
				j++
			}
			return p.expand(w[i:min(j+1, len(w))], family, table), j
		}
		return p.expand(w[i:i+1], family, table), i
	}
	for i := 0; i < len(w); i++ {
		neg := i+1 < len(w) && w[i+1] == "!="
		skip := 0
		if neg {
			skip = 1
		}
		switch w[i] {
		case "tcp", "udp", "th":
			if i+1 < len(w) && w[i+1] == "dport" {
				vals, j := arg(i + 2 + boolInt(i+2 < len(w) && w[i+2] == "!="))
				negated := i+2 < len(w) && w[i+2] == "!="
				if !negated {
					if w[i] != "th" {
						r.Protocol = w[i]
					}
					for _, v := range vals {
						pr, ok := parsePortRange(v)
						if !ok {
							err = fmt.Errorf("port %q not understood", v)
							pr = PortRange{0, 65535}
						}
						r.Ports = append(r.Ports, pr)
					}
				}
				i = j
			}
		case "ip", "ip6":
			if i+1 < len(w) && (w[i+1] == "saddr" || w[i+1] == "daddr") {
				negated := i+2 < len(w) && w[i+2] == "!="
				vals, j := arg(i + 2 + boolInt(negated))
				if !negated {
					if w[i+1] == "saddr" {
						r.Sources = append(r.Sources, vals...)
					} else {
						r.Dests = append(r.Dests, vals...)
					}
				}
				i = j
			}
		case "ct":
			if i+1 < len(w) && w[i+1] == "state" {
				negated := i+2 < len(w) && w[i+2] == "!="
				vals, j := arg(i + 2 + boolInt(negated))
				if !negated {
					r.States = append(r.States, vals...)
				}
				i = j
			}
		case "meta":
			if i+2 < len(w) && w[i+1] == "l4proto" {
				vals, j := arg(i + 2)
				if len(vals) == 1 && (vals[0] == "tcp" || vals[0] == "udp") {
					r.Protocol = vals[0]
				} else if len(vals) == 1 && isICMP(vals[0]) {
					r.Protocol = "icmp"
				}
				i = j
			} else if i+2 < len(w) && (w[i+1] == "iifname" || w[i+1] == "iif") {
				r.InIface = strings.Trim(w[i+2], `"`)
				i += 2
			} else if i+2 < len(w) && (w[i+1] == "oifname" || w[i+1] == "oif") {
				r.OutIface = strings.Trim(w[i+2], `"`)
				i += 2
			}
		case "iif", "iifname":
			if i+1+skip < len(w) && !neg {
				r.InIface = strings.Trim(w[i+1], `"`)
			}
			i += 1 + skip
		case "oif", "oifname":
			if i+1+skip < len(w) && !neg {
				r.OutIface = strings.Trim(w[i+1], `"`)
			}
			i += 1 + skip
		case "accept", "drop", "reject", "return":
			r.Verdict = w[i]
		case "jump", "goto":
			if i+1 < len(w) {
				r.Verdict, r.Target = w[i], w[i+1]
				i++
			}
		}
	}
	return r, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// expand reads values, resolving @named sets of the same table.
func (p *nftParser) expand(words []string, family, table string) []string {
	var out []string
	for _, v := range p.values(words) {
		if name, ok := strings.CutPrefix(v, "@"); ok {
			if el, ok := p.sets[key(family, table, name)]; ok {
				out = append(out, el...)
				continue
			}
		}
		out = append(out, v)
	}
	return out
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80]
	}
	return s
}
