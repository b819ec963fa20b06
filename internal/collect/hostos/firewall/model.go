// Package firewall reads a host firewall's rule set (nftables JSON from
// `nft -j list ruleset`, the nftables.conf text, or iptables-save output)
// into one model, and reduces it to what exposure rules need: the
// effective input and output policies, and the accept rules that let new
// connections in or out, with their ports and addresses.
package firewall

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
)

// maxPortsPerRule bounds the expansion of port ranges; a wider range is
// reported as "any port" (which errs towards exposure).
const maxPortsPerRule = 1024

// maxChainDepth bounds jump/goto nesting while walking chains.
const maxChainDepth = 16

// Ruleset is a parsed firewall configuration.
type Ruleset struct {
	Chains map[string]*Chain // by table-qualified name "family table chain"
	// Problems are statements that could not be understood.
	Problems []string
}

// Chain is one chain; Hook is set for base chains ("input", "output").
type Chain struct {
	Family, Table, Name string
	Hook                string
	Policy              string // accept, drop ("" for regular chains)
	Rules               []Rule
}

// Rule is one rule, reduced to the matches that matter.
type Rule struct {
	Protocol string // tcp, udp, or "" (any)
	Ports    []PortRange
	// AnyPort is set when a port match was too wide or not understood.
	Sources, Dests []string
	InIface        string
	OutIface       string
	States         []string // conntrack states matched
	Verdict        string   // accept, drop, reject, jump, goto, return, ""
	Target         string   // chain of jump/goto
	Origin         facts.Origin
}

// PortRange is an inclusive port range (Lo == Hi for one port).
type PortRange struct{ Lo, Hi int }

func newRuleset() *Ruleset { return &Ruleset{Chains: map[string]*Chain{}} }

func key(family, table, chain string) string { return family + " " + table + " " + chain }

func (rs *Ruleset) chain(family, table, name string) *Chain {
	k := key(family, table, name)
	c, ok := rs.Chains[k]
	if !ok {
		c = &Chain{Family: family, Table: table, Name: name}
		rs.Chains[k] = c
	}
	return c
}

// Reduce turns the rule set into the host.firewall facts.
func (rs *Ruleset) Reduce(backend, source string) facts.Firewall {
	fw := facts.Firewall{Backend: backend, Source: source, Rules: []facts.FirewallRule{}}
	keys := make([]string, 0, len(rs.Chains))
	for k := range rs.Chains {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, hook := range []string{"input", "output"} {
		policy := ""
		for _, k := range keys {
			c := rs.Chains[k]
			if c.Hook != hook {
				continue
			}
			fw.Enabled = true
			p := c.Policy
			if p == "" {
				p = "accept"
			}
			policy = stricter(policy, p)
			rs.walk(c, hook, 0, map[string]bool{}, &fw)
		}
		if hook == "input" {
			fw.InputPolicy = policy
		} else {
			fw.OutputPolicy = policy
		}
	}
	if !fw.Enabled {
		fw.Backend = backend
	}
	return fw
}

// stricter returns the more restrictive of two policies: a packet must
// pass every base chain on a hook.
func stricter(a, b string) string {
	rank := map[string]int{"": 0, "accept": 1, "reject": 2, "drop": 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// walk collects the accept rules reachable from c.
func (rs *Ruleset) walk(c *Chain, hook string, depth int, seen map[string]bool, fw *facts.Firewall) {
	k := key(c.Family, c.Table, c.Name)
	if depth > maxChainDepth || seen[k] {
		return
	}
	seen[k] = true
	defer delete(seen, k)
	for _, r := range c.Rules {
		switch r.Verdict {
		case "accept":
			if opensNothing(r, hook) {
				continue
			}
			fw.Rules = append(fw.Rules, toFact(r, hook))
		case "jump", "goto":
			if t, ok := rs.Chains[key(c.Family, c.Table, r.Target)]; ok {
				rs.walk(t, hook, depth+1, seen, fw)
			}
		}
	}
}

// opensNothing: rules for established/related traffic only, for the
// loopback interface only, or for ICMP only (no TCP or UDP port), let no
// new connection from another host in.
func opensNothing(r Rule, hook string) bool {
	if r.Protocol == "icmp" {
		return true
	}
	if len(r.States) > 0 && !slices.Contains(r.States, "new") && !slices.Contains(r.States, "untracked") {
		return true
	}
	iface := r.InIface
	if hook == "output" {
		iface = r.OutIface
	}
	return iface == "lo"
}

func toFact(r Rule, hook string) facts.FirewallRule {
	fr := facts.FirewallRule{Chain: hook, Action: "accept", Protocol: r.Protocol, Ports: []int{},
		Sources: nonNil(r.Sources), Dests: nonNil(r.Dests), Origin: r.Origin}
	if fr.Protocol == "" {
		fr.Protocol = "any"
	}
	n := 0
	for _, p := range r.Ports {
		n += p.Hi - p.Lo + 1
	}
	if n > maxPortsPerRule {
		fr.Origin.Note = strings.TrimSpace(fr.Origin.Note + fmt.Sprintf(" port range of %d ports reported as any port", n))
		return fr
	}
	for _, p := range r.Ports {
		for x := p.Lo; x <= p.Hi; x++ {
			if !slices.Contains(fr.Ports, x) {
				fr.Ports = append(fr.Ports, x)
			}
		}
	}
	sort.Ints(fr.Ports)
	return fr
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// servicePort is the number of a port name nft and iptables accept.
func servicePort(k string) (int, bool) {
	switch k {
	case "ssh":
		return 22, true
	case "http":
		return 80, true
	case "https":
		return 443, true
	case "smtp":
		return 25, true
	case "domain":
		return 53, true
	case "ftp":
		return 21, true
	case "telnet":
		return 23, true
	case "ntp":
		return 123, true
	case "snmp":
		return 161, true
	case "ldap":
		return 389, true
	case "ldaps":
		return 636, true
	case "mysql":
		return 3306, true
	case "postgresql":
		return 5432, true
	case "http-alt":
		return 8080, true
	case "submission":
		return 587, true
	case "imap":
		return 143, true
	case "imaps":
		return 993, true
	case "pop3":
		return 110, true
	case "pop3s":
		return 995, true
	}
	return 0, false
}

// parsePortRange reads "22", "ssh", "1000-2000" or "1000:2000".
func parsePortRange(s string) (PortRange, bool) {
	s = strings.Trim(strings.TrimSpace(s), `"`)
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		lo, hi, isRange = strings.Cut(s, ":")
	}
	a, ok := parsePort(lo)
	if !ok {
		return PortRange{}, false
	}
	if !isRange {
		return PortRange{a, a}, true
	}
	if lo == "" {
		a = 0
	}
	b, ok := parsePort(hi)
	if hi == "" {
		b, ok = 65535, true
	}
	if !ok || b < a {
		return PortRange{}, false
	}
	return PortRange{a, b}, true
}

func parsePort(s string) (int, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, n >= 0 && n <= 65535
	}
	n, ok := servicePort(strings.ToLower(s))
	return n, ok
}

// isICMP names ICMP for IPv4 or IPv6 as nft and iptables write it.
func isICMP(p string) bool {
	switch strings.ToLower(strings.TrimSpace(p)) {
	case "icmp", "icmpv6", "ipv6-icmp", "ipv6-icmpv6", "1", "58":
		return true
	}
	return false
}
