package firewall

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
)

// ParseNftJSON reads `nft -j list ruleset` output.
func ParseNftJSON(b []byte, source string) (*Ruleset, error) {
	var doc struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	rs := newRuleset()
	sets := map[string][]any{} // "family table name" -> elements
	type ruleObj struct {
		Family, Table, Chain string
		Handle               int
		Expr                 []map[string]json.RawMessage
	}
	var rules []ruleObj
	for _, obj := range doc.Nftables {
		switch {
		case obj["chain"] != nil:
			var c struct {
				Family, Table, Name, Type, Hook, Policy string
			}
			if json.Unmarshal(obj["chain"], &c) != nil {
				continue
			}
			ch := rs.chain(c.Family, c.Table, c.Name)
			if c.Type == "filter" || c.Type == "" {
				ch.Hook = c.Hook
			}
			ch.Policy = c.Policy
		case obj["set"] != nil:
			var s struct {
				Family, Table, Name string
				Elem                []any
			}
			if json.Unmarshal(obj["set"], &s) == nil {
				sets[key(s.Family, s.Table, s.Name)] = s.Elem
			}
		case obj["rule"] != nil:
			var r ruleObj
			if json.Unmarshal(obj["rule"], &r) == nil {
				rules = append(rules, r)
			}
		}
	}
	for _, r := range rules {
		ch := rs.chain(r.Family, r.Table, r.Chain)
		rule := Rule{Origin: facts.Origin{Endpoint: "", Note: fmt.Sprintf("%s: table %s %s chain %s handle %d", source, r.Family, r.Table, r.Chain, r.Handle)}}
		resolve := func(name string) []any { return sets[key(r.Family, r.Table, name)] }
		for _, e := range r.Expr {
			if err := applyJSONExpr(&rule, e, resolve); err != nil {
				rs.Problems = append(rs.Problems, fmt.Sprintf("%s handle %d: %v", r.Chain, r.Handle, err))
			}
		}
		ch.Rules = append(ch.Rules, rule)
	}
	return rs, nil
}

func applyJSONExpr(r *Rule, e map[string]json.RawMessage, resolve func(string) []any) error {
	for verb, raw := range e {
		switch verb {
		case "accept", "drop", "return":
			r.Verdict = verb
		case "reject":
			r.Verdict = "reject"
		case "jump", "goto":
			var t struct{ Target string }
			json.Unmarshal(raw, &t)
			r.Verdict, r.Target = verb, t.Target
		case "match":
			var m struct {
				Op    string
				Left  map[string]json.RawMessage
				Right any
			}
			if err := json.Unmarshal(raw, &m); err != nil {
				return err
			}
			if m.Op == "!=" {
				continue // a negated match widens the rule: ignore it
			}
			right := flatten(m.Right, resolve)
			switch {
			case m.Left["payload"] != nil:
				var p struct{ Protocol, Field string }
				json.Unmarshal(m.Left["payload"], &p)
				switch {
				case p.Field == "dport":
					if p.Protocol == "tcp" || p.Protocol == "udp" {
						r.Protocol = p.Protocol
					}
					for _, v := range right {
						pr, ok := parsePortRange(v)
						if !ok {
							r.Ports = append(r.Ports, PortRange{0, 65535})
							return fmt.Errorf("port %q not understood", v)
						}
						r.Ports = append(r.Ports, pr)
					}
				case p.Field == "saddr" && (p.Protocol == "ip" || p.Protocol == "ip6"):
					r.Sources = append(r.Sources, right...)
				case p.Field == "daddr" && (p.Protocol == "ip" || p.Protocol == "ip6"):
					r.Dests = append(r.Dests, right...)
				}
			case m.Left["meta"] != nil:
				var mk struct{ Key string }
				json.Unmarshal(m.Left["meta"], &mk)
				switch mk.Key {
				case "l4proto":
					if len(right) == 1 && (right[0] == "tcp" || right[0] == "udp") {
						r.Protocol = right[0]
					} else if len(right) == 1 && isICMP(right[0]) {
						r.Protocol = "icmp"
					}
				case "iifname", "iif":
					if len(right) == 1 {
						r.InIface = right[0]
					}
				case "oifname", "oif":
					if len(right) == 1 {
						r.OutIface = right[0]
					}
				}
			case m.Left["ct"] != nil:
				var ck struct{ Key string }
				json.Unmarshal(m.Left["ct"], &ck)
				if ck.Key == "state" {
					r.States = append(r.States, right...)
				}
			}
		}
	}
	return nil
}

// flatten turns a JSON match value into strings: numbers, names,
// "lo-hi" ranges, "addr/len" prefixes, named and anonymous sets.
func flatten(v any, resolve func(string) []any) []string {
	switch x := v.(type) {
	case float64:
		return []string{strconv.Itoa(int(x))}
	case string:
		if name, ok := strings.CutPrefix(x, "@"); ok {
			var out []string
			for _, e := range resolve(name) {
				out = append(out, flatten(e, nil)...)
			}
			if out == nil {
				return []string{x}
			}
			return out
		}
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, flatten(e, resolve)...)
		}
		return out
	case map[string]any:
		if s, ok := x["set"]; ok {
			return flatten(s, resolve)
		}
		if r, ok := x["range"].([]any); ok && len(r) == 2 {
			a, b := flatten(r[0], nil), flatten(r[1], nil)
			if len(a) == 1 && len(b) == 1 {
				return []string{a[0] + "-" + b[0]}
			}
		}
		if p, ok := x["prefix"].(map[string]any); ok {
			addr, _ := p["addr"].(string)
			l, _ := p["len"].(float64)
			return []string{addr + "/" + strconv.Itoa(int(l))}
		}
		if e, ok := x["elem"]; ok {
			if m, ok := e.(map[string]any); ok {
				return flatten(m["val"], resolve)
			}
		}
		if val, ok := x["val"]; ok {
			return flatten(val, resolve)
		}
	}
	return nil
}
