package zone

import (
	"slices"
	"sort"

	"github.com/rampart-sec/rampart/internal/target"
)

// Expectation is one port or path with the rule that judges its exposure
// and the reach expectation it was declared with.
type Expectation struct {
	Item Item
	// Rule is the exposure rule a zone reaching it against expectation
	// fails: SSH-005, NET-003, OS-004, NET-004, HTTP-004, HTTP-005 or
	// NET-001.
	Rule string
	// Reach is the declaration (the inventory's, or the profile default).
	Reach target.Reach
	// Default is true for a product profile default.
	Default bool
}

// Vantage is what decides a zone's expectation beyond its name and role:
// whether its agents connect from a declared cluster member or allowed
// source (known once the zone has scanned the target).
type Vantage struct {
	Zone           target.Zone
	ClusterMember  bool
	AllowedSource  bool
	SourceObserved bool
}

// For returns what a zone should see of the expectation.
func (e Expectation) For(v Vantage) Expect {
	match := func(list []string) bool {
		return slices.Contains(list, ReachAny) || slices.Contains(list, v.Zone.Name) || slices.Contains(list, v.Zone.Role)
	}
	switch {
	case match(e.Reach.From):
		return Must
	case match(e.Reach.May),
		v.ClusterMember && slices.Contains(e.Reach.May, ReachCluster),
		v.AllowedSource && slices.Contains(e.Reach.May, ReachAllowedSources):
		return May
	}
	return MustNot
}

// wso2PortsOf are a product profile' default expectations at port
// offset 0 (every port but 22 moves with the offset).
func wso2PortsOf(k string) ([]target.Reach, bool) {
	switch k {
	case "wso2-is":
		return []target.Reach{
			{Port: 9443, From: []string{ReachAny}},
			{Port: 9443, Path: "/carbon", From: []string{"management", "internal"}},
			{Port: 9443, Path: "/services", From: []string{"management", "internal"}},
			{Port: 9763, From: []string{"internal", "management"}},
			{Port: 4000, May: []string{ReachCluster}},
			{Port: 4001, May: []string{ReachCluster}},
		}, true
	case "wso2-apim":
		return []target.Reach{
			{Port: 8243, From: []string{ReachAny}},
			{Port: 8280, From: []string{"internal", "management"}},
			{Port: 9443, From: []string{"internal", "management"}},
			{Port: 9443, Path: "/carbon", From: []string{"management", "internal"}},
			{Port: 9443, Path: "/services", From: []string{"management", "internal"}},
			{Port: 9443, Path: "/admin", From: []string{"management", "internal"}},
			{Port: 9443, Path: "/publisher", From: []string{"management", "internal"}},
			{Port: 9999, From: []string{"management"}},
			{Port: 11111, From: []string{"management"}},
			{Port: 5672, From: []string{"internal", "management"}},
			{Port: 4000, May: []string{ReachCluster}},
			{Port: 4001, May: []string{ReachCluster}},
		}, true
	case "wso2-mi":
		return []target.Reach{
			{Port: 8253, From: []string{ReachAny}},
			{Port: 8290, From: []string{"internal", "management"}},
			{Port: 9164, From: []string{"management"}},
		}, true
	}
	return nil, false
}

// Defaults returns a target's profile default expectations at a port
// offset: SSH (22) only from the management zone for every target, the
// WSO2 products' ports and admin paths, and a webhook relay's ports only
// from its allowed sources.
func Defaults(t target.Target, offset int) []target.Reach {
	out := []target.Reach{{Port: 22, From: []string{"management"}}}
	ports, _ := wso2PortsOf(t.Profile)
	for _, r := range ports {
		r.Port += offset
		out = append(out, r)
	}
	if t.Profile == "webhook-relay" {
		ports := t.Decl.ExpectedPorts
		if len(ports) == 0 && t.Port > 0 {
			ports = []int{t.Port}
		}
		for _, p := range ports {
			if p != 22 {
				out = append(out, target.Reach{Port: p, May: []string{ReachAllowedSources}})
			}
		}
	}
	return out
}

// Declares reports whether a target says which ports should be open (a
// WSO2 or webhook profile, reach entries or expected_ports), so that a
// port open beyond them fails NET-001 rather than being undeclared.
func Declares(t target.Target) bool {
	_, wso2 := wso2PortsOf(t.Profile)
	return (wso2 && !t.Decl.NoReachDefaults) || t.Profile == "webhook-relay" || len(t.Decl.Reach) > 0 || len(t.Decl.ExpectedPorts) > 0
}

// Expectations returns a target's exposure expectations at a port offset:
// the inventory's reach entries, the profile defaults they do not
// replace, and expected_ports as "may be reached from anywhere". Sorted
// by port and path.
func Expectations(t target.Target, offset int) []Expectation {
	byKey := map[string]Expectation{}
	if !t.Decl.NoReachDefaults {
		for _, r := range Defaults(t, offset) {
			byKey[r.Key()] = Expectation{Item: Item{r.Port, r.Path}, Reach: r, Default: true}
		}
	}
	for _, r := range t.Decl.Reach {
		byKey[r.Key()] = Expectation{Item: Item{r.Port, r.Path}, Reach: r}
	}
	for _, p := range t.Decl.ExpectedPorts {
		k := target.Reach{Port: p}.Key()
		if _, ok := byKey[k]; !ok {
			byKey[k] = Expectation{Item: Item{Port: p}, Reach: target.Reach{Port: p, May: []string{ReachAny}}}
		}
	}
	out := make([]Expectation, 0, len(byKey))
	for _, e := range byKey {
		e.Rule = RuleFor(e.Item, "", offset, t.Profile == "webhook-relay" && slices.Contains(e.Reach.May, ReachAllowedSources))
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Item.less(out[j].Item) })
	return out
}

// adminPrefixes are the paths HTTP-004 keeps from the DMZ: the product
// admin consoles and management APIs.
var adminPrefixes = []string{"/carbon", "/services", "/management", "/api/am/admin", "/api/am/publisher", "/publisher", "/admin", "/console", "/api/server", "/internal/data", "/keymanager-operations"}

// IsAdminPath reports whether a path is an admin console or management
// API path (HTTP-004's).
func IsAdminPath(p string) bool {
	for _, a := range adminPrefixes {
		if p == a || len(p) > len(a) && p[:len(a)] == a && (p[len(a)] == '/' || p[len(a)] == '?') {
			return true
		}
	}
	return false
}

// RuleFor returns the exposure rule that judges an item: HTTP-004 for
// admin paths and HTTP-005 for others; for ports SSH-005 (22 or an SSH
// service), NET-003 (JMX), OS-004 (clustering), NET-004 (a webhook
// relay's port limited to its allowed sources), else NET-001.
func RuleFor(it Item, service string, offset int, webhook bool) string {
	switch {
	case it.Path != "" && IsAdminPath(it.Path):
		return "HTTP-004"
	case it.Path != "":
		return "HTTP-005"
	case it.Port == 22 || service == "ssh":
		return "SSH-005"
	case service == "jmx" || it.Port == 9999+offset || it.Port == 11111+offset:
		return "NET-003"
	case service == "hazelcast" || it.Port == 4000+offset || it.Port == 4001+offset:
		return "OS-004"
	case webhook:
		return "NET-004"
	}
	return "NET-001"
}
