package firewall

import (
	"fmt"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
)

// ParseIptablesSave reads iptables-save (or ip6tables-save, or a
// rules.v4 file) output; only the filter table matters here.
func ParseIptablesSave(text, source, family string, rs *Ruleset) *Ruleset {
	if rs == nil {
		rs = newRuleset()
	}
	table := ""
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		switch {
		case strings.HasPrefix(line, "*"):
			table = line[1:]
		case line == "COMMIT":
			table = ""
		case table != "filter":
		case strings.HasPrefix(line, ":"):
			f := strings.Fields(line[1:])
			if len(f) < 2 {
				rs.Problems = append(rs.Problems, fmt.Sprintf("%s:%d: bad chain line", source, i+1))
				continue
			}
			c := rs.chain(family, "filter", f[0])
			switch f[0] {
			case "INPUT":
				c.Hook = "input"
			case "OUTPUT":
				c.Hook = "output"
			case "FORWARD":
				c.Hook = "forward"
			}
			if f[1] != "-" {
				c.Policy = strings.ToLower(f[1])
			}
		case strings.HasPrefix(line, "-A "):
			args := splitQuoted(line[3:])
			if len(args) == 0 {
				continue
			}
			c := rs.chain(family, "filter", args[0])
			r, err := parseIptablesRule(args[1:])
			if err != nil {
				rs.Problems = append(rs.Problems, fmt.Sprintf("%s:%d: %v", source, i+1, err))
			}
			r.Origin = facts.Origin{File: source, Line: i + 1}
			c.Rules = append(c.Rules, r)
		}
	}
	return rs
}

func parseIptablesRule(args []string) (Rule, error) {
	var r Rule
	var err error
	neg := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		if a == "!" {
			neg = true
			continue
		}
		n := neg
		neg = false
		switch a {
		case "-p", "--protocol":
			v := strings.ToLower(val())
			if !n && (v == "tcp" || v == "udp") {
				r.Protocol = v
			} else if !n && isICMP(v) {
				r.Protocol = "icmp"
			}
		case "-s", "--source", "--src":
			v := val()
			if !n {
				r.Sources = append(r.Sources, strings.Split(v, ",")...)
			}
		case "-d", "--destination", "--dst":
			v := val()
			if !n {
				r.Dests = append(r.Dests, strings.Split(v, ",")...)
			}
		case "--dport", "--destination-port", "--dports", "--destination-ports":
			v := val()
			if n {
				continue
			}
			for _, p := range strings.Split(v, ",") {
				pr, ok := parsePortRange(p)
				if !ok {
					err = fmt.Errorf("port %q not understood", p)
					r.Ports = append(r.Ports, PortRange{0, 65535})
					continue
				}
				r.Ports = append(r.Ports, pr)
			}
		case "-i", "--in-interface":
			v := val()
			if !n {
				r.InIface = v
			}
		case "-o", "--out-interface":
			v := val()
			if !n {
				r.OutIface = v
			}
		case "--ctstate", "--state":
			v := val()
			if !n {
				r.States = strings.Split(strings.ToLower(v), ",")
			}
		case "-j", "--jump":
			v := val()
			switch strings.ToUpper(v) {
			case "ACCEPT", "DROP", "REJECT", "RETURN":
				r.Verdict = strings.ToLower(v)
			default:
				r.Verdict, r.Target = "jump", v
			}
		case "-g", "--goto":
			r.Verdict, r.Target = "goto", val()
		case "-m", "--match", "--comment", "--reject-with", "--log-prefix", "--sport", "--sports", "--source-port", "--icmp-type", "--tcp-flags", "--limit", "--limit-burst", "--uid-owner":
			val()
			if a == "--tcp-flags" {
				val()
			}
		}
	}
	return r, err
}

// splitQuoted splits on blanks, keeping "double quoted" words whole.
func splitQuoted(s string) []string {
	var out []string
	var cur strings.Builder
	inQ, have := false, false
	for _, c := range s {
		switch {
		case c == '"':
			inQ = !inQ
			have = true
		case !inQ && (c == ' ' || c == '\t'):
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(c)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}
