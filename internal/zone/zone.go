// Package zone judges exposure across vantage points. Scan agents run in
// the inventory's network zones (a DMZ, the internal network, the
// management network); each scans the same target from where it stands
// and reports what it reached. This package turns a target's declared
// expectations (which zones must, may and must not reach each port or
// path, with defaults from its product profile) and what every zone saw
// into an exposure matrix, and judges the exposure rules (NET-001..004,
// OS-004, SSH-005, HTTP-004, HTTP-005) from the combination: reachable
// from a zone that must not reach it fails, with the zone and the agent
// as evidence; a zone that could not judge (no live agent) makes the rule
// an error, never a pass. It does no I/O.
package zone

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rampart-sec/rampart/internal/target"
)

// Expect is what a zone should see of a port or path.
type Expect string

const (
	// Must: the zone must reach it (blocked is a mismatch, not a
	// security failure: something the zone needs is cut off).
	Must Expect = "must"
	// MustNot: the zone must not reach it; reachable fails a rule.
	MustNot Expect = "must_not"
	// May: either is fine.
	May Expect = "may"
	// Undeclared: nothing is declared about it (the matrix shows what was
	// seen; the per-zone rule verdicts decide).
	Undeclared Expect = "undeclared"
)

// Seen is what a zone observed of a port or path.
type Seen string

const (
	// Reachable: the port accepted a connection, or the path answered
	// with content or asked for credentials.
	Reachable Seen = "reachable"
	// Blocked: the port was scanned and refused or filtered, or the path
	// was refused (403/404) or its port was blocked.
	Blocked Seen = "blocked"
	// Unknown: the zone's scan did not cover it (port not scanned, path
	// not probed, or the probe failed).
	Unknown Seen = "unknown"
	// NoResult: the zone has no result for this target (no live agent,
	// the job is still pending, or it was dead-lettered).
	NoResult Seen = "no_result"
)

// Item is one port, or one HTTP path on a port, of a target.
type Item struct {
	Port int    `json:"port"`
	Path string `json:"path,omitempty"`
}

// Key names the item: "9443" or "9443/carbon".
func (i Item) Key() string {
	if i.Path == "" {
		return fmt.Sprint(i.Port)
	}
	return fmt.Sprintf("%d%s", i.Port, i.Path)
}

func (i Item) less(j Item) bool {
	if i.Port != j.Port {
		return i.Port < j.Port
	}
	return i.Path < j.Path
}

// Zones is the inventory's zone list with lookups.
type Zones []target.Zone

// Role returns a zone's role ("" when unknown).
func (zs Zones) Role(name string) string {
	for _, z := range zs {
		if z.Name == name {
			return z.Role
		}
	}
	return ""
}

// Has reports whether a zone of that name exists.
func (zs Zones) Has(name string) bool { return zs.Role(name) != "" }

// For returns the zones that judge a target: its declared zones, else all.
func (zs Zones) For(t target.Target) []target.Zone {
	if len(t.Decl.Zones) == 0 {
		return slices.Clone(zs)
	}
	var out []target.Zone
	for _, z := range zs {
		if slices.Contains(t.Decl.Zones, z.Name) {
			out = append(out, z)
		}
	}
	return out
}

// Judged reports whether zones judge a target at all: network targets
// (endpoints and nodes) of an inventory with zones. Directories and
// hosts are read where rampart serve runs.
func Judged(t target.Target, zs Zones) bool {
	return len(zs) > 0 && (t.Kind == target.Endpoint || t.Kind == target.Node) && len(zs.For(t)) > 0
}

// ZonedName is the name a zone's findings about a target are stored
// under: "is-node-1@dmz". The bare name holds the verdicts across zones.
func ZonedName(target, zone string) string { return target + "@" + zone }

// SplitZoned splits "is-node-1@dmz" into its target and zone.
func SplitZoned(name string) (target, zone string, ok bool) {
	i := strings.LastIndexByte(name, '@')
	if i <= 0 || i == len(name)-1 {
		return name, "", false
	}
	return name[:i], name[i+1:], true
}

// The special names of a reach expectation's from and may lists.
const (
	ReachAny            = target.ReachAny
	ReachCluster        = target.ReachCluster
	ReachAllowedSources = target.ReachAllowedSources
)
