package target

import (
	"fmt"
	"slices"
	"strings"
)

// Zone is a network zone of the inventory: a vantage point where scan
// agents run (`rampart agent --zone NAME`). Its role says what kind of
// network it is (dmz, internal, management, or a custom role); exposure
// expectations name zones or roles.
type Zone struct {
	Name string `yaml:"name" json:"name"`
	Role string `yaml:"role" json:"role"`
}

// Reach is one exposure expectation of a target: which zones must reach a
// port (or a path on it) and which may; every other zone must not.
type Reach struct {
	Port int `yaml:"port" json:"port"`
	// Path, when set, is an HTTP path on Port ("/carbon").
	Path string `yaml:"path,omitempty" json:"path,omitempty"`
	// From names the zones that must reach it: zone names, zone roles, or
	// "any" (every zone). Every zone not in From or May must not reach it.
	From []string `yaml:"from" json:"from"`
	// May names zones that may reach it without having to: zone names,
	// roles, "any", "cluster" (a zone whose agents connect from a declared
	// cluster member) or "allowed_sources" (from a declared allowed source).
	May []string `yaml:"may,omitempty" json:"may,omitempty"`
}

// Key names the port or path the expectation is about: "9443" or
// "9443/carbon".
func (r Reach) Key() string {
	if r.Path == "" {
		return fmt.Sprint(r.Port)
	}
	return fmt.Sprintf("%d%s", r.Port, r.Path)
}

// Special names a Reach's From and May lists take besides zones and roles.
const (
	ReachAny            = "any"
	ReachCluster        = "cluster"
	ReachAllowedSources = "allowed_sources"
)

// ValidZoneName reports whether s can name a zone, a zone role or an
// agent: 1 to 63 of a-z, 0-9, _ and -, starting with a letter or digit. It
// becomes a NATS subject token, so no dots, wildcards or spaces.
func ValidZoneName(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '_' || c == '-')) {
			return false
		}
	}
	return true
}

// checkZones validates the inventory's zones.
func checkZones(zs []Zone, name string) []string {
	var probs []string
	seen := map[string]bool{}
	for i, z := range zs {
		at := fmt.Sprintf("inventory %s: zones[%d]", name, i)
		switch {
		case !ValidZoneName(z.Name):
			probs = append(probs, fmt.Sprintf("%s: name %q: want lower-case letters, digits, - and _ (at most 63)", at, z.Name))
		case seen[z.Name]:
			probs = append(probs, fmt.Sprintf("%s: name %q is used twice", at, z.Name))
		case slices.Contains([]string{ReachAny, ReachCluster, ReachAllowedSources}, z.Name):
			probs = append(probs, fmt.Sprintf("%s: name %q is reserved", at, z.Name))
		}
		seen[z.Name] = true
		if !ValidZoneName(z.Role) {
			probs = append(probs, fmt.Sprintf("%s (%s): role %q: want dmz, internal, management or a custom role (lower-case letters, digits, - and _)", at, z.Name, z.Role))
		}
	}
	return probs
}

// checkReach validates an entry's zone list and exposure expectations
// against the inventory's zones.
func (e Entry) checkReach(zones []Zone) []string {
	var probs []string
	known := map[string]bool{ReachAny: true}
	names := map[string]bool{}
	for _, z := range zones {
		known[z.Name], known[z.Role], names[z.Name] = true, true, true
	}
	if (len(e.Zones) > 0 || len(e.Reach) > 0) && len(zones) == 0 {
		probs = append(probs, "zones and reach need the inventory's zones: list")
		return probs
	}
	for _, z := range e.Zones {
		if !names[z] {
			probs = append(probs, fmt.Sprintf("zone %q is not one of the inventory's zones", z))
		}
	}
	seen := map[string]bool{}
	for i, r := range e.Reach {
		at := fmt.Sprintf("reach[%d]", i)
		if r.Port < 1 || r.Port > 65535 {
			probs = append(probs, fmt.Sprintf("%s: port %d is out of range 1-65535", at, r.Port))
		}
		if r.Path != "" && !strings.HasPrefix(r.Path, "/") {
			probs = append(probs, fmt.Sprintf("%s: path %q must start with /", at, r.Path))
		}
		if seen[r.Key()] {
			probs = append(probs, fmt.Sprintf("%s: %s is listed twice", at, r.Key()))
		}
		seen[r.Key()] = true
		for _, f := range r.From {
			if !known[f] {
				probs = append(probs, fmt.Sprintf("%s: from %q is neither a zone, a zone role nor any", at, f))
			}
		}
		for _, f := range r.May {
			if !known[f] && f != ReachCluster && f != ReachAllowedSources {
				probs = append(probs, fmt.Sprintf("%s: may %q is neither a zone, a zone role, any, cluster nor allowed_sources", at, f))
			}
		}
	}
	return probs
}
