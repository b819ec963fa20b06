// Package sshdconf reads sshd's effective configuration: from `sshd -T`
// output when that could be run, else from sshd_config itself, following
// Include and recording Match blocks, with OpenSSH's defaults for what is
// not set. Every parser tolerates garbage: an unreadable line is skipped.
package sshdconf

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/hostos/rootfs"
	"github.com/rampart-sec/rampart/internal/facts"
)

// Limits.
const (
	maxFile     = 1 << 20
	maxDepth    = 16 // Include nesting (OpenSSH's limit)
	maxIncluded = 256
)

// multiValued reports whether every occurrence of a keyword counts; for
// the others the first value obtained wins, as in sshd.
func multiValued(k string) bool {
	switch k {
	case "port", "listenaddress", "hostkey", "hostcertificate", "acceptenv", "setenv", "subsystem",
		"allowusers", "denyusers", "allowgroups", "denygroups":
		return true
	}
	return false
}

// alias is the name sshd -T prints for a deprecated keyword.
func alias(k string) (string, bool) {
	switch k {
	case "challengeresponseauthentication":
		return "kbdinteractiveauthentication", true
	case "dsaauthentication":
		return "pubkeyauthentication", true
	case "pubkeyacceptedkeytypes":
		return "pubkeyacceptedalgorithms", true
	case "hostbasedacceptedkeytypes":
		return "hostbasedacceptedalgorithms", true
	}
	return "", false
}

// defaultValue is OpenSSH 9's value for a keyword the rules read.
func defaultValue(k string) (string, bool) {
	switch k {
	case "port":
		return "22", true
	case "permitrootlogin":
		return "prohibit-password", true
	case "passwordauthentication":
		return "yes", true
	case "kbdinteractiveauthentication":
		return "yes", true
	case "pubkeyauthentication":
		return "yes", true
	case "banner":
		return "none", true
	case "permitemptypasswords":
		return "no", true
	case "x11forwarding":
		return "no", true
	case "addressfamily":
		return "any", true
	}
	return "", false
}

// No sshd keyword carries a secret (keys are named by file path), so the
// values are kept as written; facts.RedactValue would hide
// "PasswordAuthentication no" for its name alone.

// Config is a parsed configuration: global settings and Match blocks.
type Config struct {
	Settings map[string]facts.Setting
	// values keeps every occurrence of multi-valued keywords, in order.
	values  map[string][]string
	Matches []facts.SSHDMatch
	// Problems are lines or includes that could not be read.
	Problems []string
	// fixed are keywords the command line set: the files cannot change
	// them (sshd: -p and -o override the configuration file).
	fixed map[string]bool
}

func newConfig() *Config {
	return &Config{Settings: map[string]facts.Setting{}, values: map[string][]string{}, Matches: []facts.SSHDMatch{}}
}

func (c *Config) set(key, value string, o facts.Origin) {
	if c.fixed[key] && o.Note != "command line" {
		return
	}
	if multiValued(key) {
		c.values[key] = append(c.values[key], value)
		if s, ok := c.Settings[key]; ok {
			s.Value += "," + value
			c.Settings[key] = s
			return
		}
	} else if _, ok := c.Settings[key]; ok {
		return
	}
	c.Settings[key] = facts.Setting{Key: key, Value: value, Set: true, Origin: o}
}

// ReadFiles parses the sshd_config at file inside the root, following
// Include directives (relative names are under /etc/ssh).
func ReadFiles(r *rootfs.Root, file string) (*Config, error) {
	return ReadFilesWith(r, file, nil)
}

// ReadFilesWith is ReadFiles for an sshd started with command-line
// settings (-p port, -o "Keyword value"), which override the files.
func ReadFilesWith(r *rootfs.Root, file string, cmdline []string) (*Config, error) {
	c := newConfig()
	c.fixed = map[string]bool{}
	o := facts.Origin{Note: "command line"}
	for _, line := range cmdline {
		key, args, ok := splitLine(line)
		if !ok {
			c.Problems = append(c.Problems, fmt.Sprintf("command line: cannot parse %q", clip(line)))
			continue
		}
		oo := o
		oo.Key = key
		c.fixed[key] = false // set() below must not skip it
		c.set(key, strings.Join(args, " "), oo)
		c.fixed[key] = true
	}
	p := &fileParser{r: r, c: c}
	if err := p.parse(file, 0, -1); err != nil {
		return nil, err
	}
	return c, nil
}

type fileParser struct {
	r        *rootfs.Root
	c        *Config
	included int
}

// parse reads one file. match is the index of the Match block in effect
// (-1: global); a Match inside an included file ends with that file.
func (p *fileParser) parse(file string, depth, match int) error {
	b, err := p.r.ReadFile(file, maxFile)
	if err != nil {
		return err
	}
	p.parseText(string(b), file, depth, match)
	return nil
}

func (p *fileParser) parseText(text, file string, depth, match int) {
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, args, ok := splitLine(line)
		if !ok {
			p.c.Problems = append(p.c.Problems, fmt.Sprintf("%s:%d: cannot parse %q", file, i+1, clip(line)))
			continue
		}
		o := facts.Origin{File: file, Line: i + 1, Key: key}
		switch key {
		case "include":
			p.include(args, o, depth, match)
			continue
		case "match":
			crit := strings.Join(args, " ")
			if strings.EqualFold(crit, "all") {
				match = -1
				continue
			}
			p.c.Matches = append(p.c.Matches, facts.SSHDMatch{Criteria: crit, Settings: map[string]facts.Setting{}, Origin: o})
			match = len(p.c.Matches) - 1
			continue
		}
		value := strings.Join(args, " ")
		if match >= 0 {
			m := p.c.Matches[match]
			if _, ok := m.Settings[key]; !ok {
				m.Settings[key] = facts.Setting{Key: key, Value: value, Set: true, Origin: o}
			}
			continue
		}
		p.c.set(key, value, o)
	}
}

func (p *fileParser) include(globs []string, o facts.Origin, depth, match int) {
	if depth+1 > maxDepth {
		p.c.Problems = append(p.c.Problems, fmt.Sprintf("%s:%d: Include nested deeper than %d", o.File, o.Line, maxDepth))
		return
	}
	for _, g := range globs {
		if !strings.HasPrefix(g, "/") {
			g = path.Join("/etc/ssh", g)
		}
		files, err := p.r.Glob(g)
		if err != nil {
			p.c.Problems = append(p.c.Problems, fmt.Sprintf("%s:%d: Include %s: %v", o.File, o.Line, g, err))
			continue
		}
		sort.Strings(files)
		for _, f := range files {
			p.included++
			if p.included > maxIncluded {
				p.c.Problems = append(p.c.Problems, fmt.Sprintf("%s:%d: more than %d included files", o.File, o.Line, maxIncluded))
				return
			}
			if err := p.parse(f, depth+1, match); err != nil {
				p.c.Problems = append(p.c.Problems, fmt.Sprintf("%s:%d: Include %s: %v", o.File, o.Line, f, err))
			}
		}
	}
}

// splitLine splits "Keyword[ =]args" with sshd's quoting; the keyword is
// lower-cased and de-aliased.
func splitLine(line string) (string, []string, bool) {
	i := strings.IndexAny(line, " \t=")
	if i <= 0 {
		return "", nil, false
	}
	key := strings.ToLower(line[:i])
	rest := strings.TrimLeft(line[i:], " \t")
	rest = strings.TrimPrefix(rest, "=")
	for _, c := range key {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return "", nil, false
		}
	}
	if a, ok := alias(key); ok {
		key = a
	}
	args, ok := splitArgs(rest)
	if !ok || len(args) == 0 {
		return "", nil, false
	}
	return key, args, true
}

// splitArgs splits on blanks, honouring double quotes; a # outside quotes
// starts a comment.
func splitArgs(s string) ([]string, bool) {
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
		case !inQ && c == '#' && !have:
			if have {
				out = append(out, cur.String())
			}
			return out, true
		default:
			cur.WriteRune(c)
			have = true
		}
	}
	if inQ {
		return nil, false
	}
	if have {
		out = append(out, cur.String())
	}
	return out, true
}

// ParseDashT parses `sshd -T` output: one "keyword value" per line.
func ParseDashT(out []byte) *Config {
	c := newConfig()
	o := facts.Origin{Note: "sshd -T"}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || k == "" {
			continue
		}
		k = strings.ToLower(k)
		if a, ok := alias(k); ok {
			k = a
		}
		oo := o
		oo.Key = k
		c.set(k, strings.TrimSpace(v), oo)
	}
	return c
}

// Facts turns a configuration into the host.sshd facts. source names how
// it was read; files (may be nil) lends file:line origins to values that
// sshd -T printed.
func Facts(c *Config, source string, files *Config) facts.SSHD {
	s := facts.SSHD{Present: true, Source: source, Settings: map[string]facts.Setting{}, Matches: c.Matches,
		Ports: []int{}, ListenAddresses: []string{}}
	if files != nil && len(s.Matches) == 0 {
		s.Matches = files.Matches
	}
	for k, v := range c.Settings {
		if files != nil {
			if fv, ok := files.Settings[k]; ok && strings.EqualFold(fv.Value, v.Value) {
				v.Origin = fv.Origin
			}
		}
		s.Settings[k] = v
	}
	get := func(k string) facts.Setting {
		if v, ok := s.Settings[k]; ok {
			return v
		}
		return facts.Setting{Key: k, Value: func() string { v, _ := defaultValue(k); return v }(), Origin: facts.Origin{Key: k, Note: "OpenSSH default"}}
	}
	s.PermitRootLogin = get("permitrootlogin")
	s.PasswordAuthentication = get("passwordauthentication")
	s.KbdInteractive = get("kbdinteractiveauthentication")
	s.PubkeyAuthentication = get("pubkeyauthentication")
	s.Banner = get("banner")

	// A port sshd would refuse (0, over 65535, not a number) makes the
	// whole configuration one sshd does not start with: where it would
	// listen cannot be told, which the rules report as an error.
	var bad []string
	for _, p := range c.values["port"] {
		n, err := parsePort(strings.TrimSpace(p))
		if err != nil {
			bad = append(bad, fmt.Sprintf("Port %s: %v", clip(p), err))
			continue
		}
		if !slices.Contains(s.Ports, n) {
			s.Ports = append(s.Ports, n)
		}
	}
	for _, la := range c.values["listenaddress"] {
		host, port, err := splitListen(la)
		if err != nil {
			bad = append(bad, fmt.Sprintf("ListenAddress %s: %v", clip(la), err))
			continue
		}
		if host != "" && !slices.Contains(s.ListenAddresses, host) {
			s.ListenAddresses = append(s.ListenAddresses, host)
		}
		if port > 0 && !slices.Contains(s.Ports, port) {
			s.Ports = append(s.Ports, port)
		}
	}
	if len(bad) > 0 {
		s.Error = source + ": " + strings.Join(bad, "; ") + " (sshd refuses to start with it, so where it listens cannot be told)"
	}
	if len(s.Ports) == 0 {
		s.Ports = append(s.Ports, 22)
	}
	if len(s.ListenAddresses) == 0 {
		switch strings.ToLower(get("addressfamily").Value) {
		case "inet":
			s.ListenAddresses = []string{"0.0.0.0"}
		case "inet6":
			s.ListenAddresses = []string{"::"}
		default:
			s.ListenAddresses = []string{"0.0.0.0", "::"}
		}
	}
	sort.Ints(s.Ports)
	return s
}

// splitListen reads a ListenAddress value: "0.0.0.0", "[::]:22",
// "10.0.0.1:2222", "::1", "host rdomain x". The port is 0 when none is
// given; one given must be a port number sshd accepts.
func splitListen(v string) (string, int, error) {
	v = strings.Fields(v + " ")[0]
	if strings.HasPrefix(v, "[") {
		h, rest, ok := strings.Cut(v[1:], "]")
		if !ok {
			return "", 0, errors.New("no closing ]")
		}
		if rest == "" {
			return h, 0, nil
		}
		ps, ok := strings.CutPrefix(rest, ":")
		if !ok {
			return "", 0, fmt.Errorf("%q after the address", rest)
		}
		p, err := parsePort(ps)
		return h, p, err
	}
	if strings.Count(v, ":") == 1 {
		h, ps, _ := strings.Cut(v, ":")
		p, err := parsePort(ps)
		return h, p, err
	}
	return v, 0, nil
}

// parsePort reads a port number as sshd does: 1 to 65535.
func parsePort(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535", s)
	}
	return int(n), nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80]
	}
	return s
}
