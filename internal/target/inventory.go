package target

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/rampart-sec/rampart/internal/hint"
)

// Inventory is a file listing the targets of a deployment and what the
// operator declares about each.
type Inventory struct {
	// Defaults apply to every entry that does not set the field itself.
	Defaults Entry   `yaml:"defaults"`
	Targets  []Entry `yaml:"targets"`
	// Zones are the network zones scan agents run in (rampart serve with
	// agents); targets say which zones must and must not reach them.
	Zones []Zone `yaml:"zones"`
}

// Entry is one node, endpoint or installation of the inventory.
type Entry struct {
	Name string `yaml:"name"`
	// Address is a host (scanned port by port), host:port, or a URL.
	Address string `yaml:"address"`
	// Directory is a product installation to read (file checks).
	Directory string `yaml:"directory"`
	// Local audits the machine rampart runs on (host checks).
	Local bool `yaml:"local"`
	// Deployment groups nodes of one deployment (for failover checks).
	Deployment string `yaml:"deployment"`

	Profile         string   `yaml:"profile"`
	Role            string   `yaml:"role"`
	ExpectedPorts   []int    `yaml:"expected_ports"`
	AllowedPaths    []string `yaml:"allowed_paths"`
	ClusterMembers  []string `yaml:"cluster_members"`
	BackupLocations []string `yaml:"backup_locations"`
	HealthPaths     []string `yaml:"health_paths"`
	AllowedSources  []string `yaml:"allowed_sources"`
	Hostname        string   `yaml:"hostname"`
	BehindProxy     *bool    `yaml:"behind_proxy"`
	MinUpdateLevel  int      `yaml:"min_update_level"`
	// Ports is the port specification scanned on a bare host: "top" (the
	// products' and common ports), "1-65535", "22,443,9443-9445".
	Ports string `yaml:"ports"`
	// Zones lists the zones that judge this target (default: every zone).
	Zones []string `yaml:"zones"`
	// Reach lists which zones must (and may) reach a port or path; every
	// other zone must not. They add to (and, for the same port or path,
	// replace) the product profile's defaults.
	Reach []Reach `yaml:"reach"`
	// ReachDefaults: false leaves the product profile's default
	// expectations out.
	ReachDefaults *bool `yaml:"reach_defaults"`

	line int
}

// Roles lists the vantage points a scan can run from.
func Roles() []string { return []string{"dmz", "internal", "management"} }

// Profiles lists the product profiles.
func Profiles() []string {
	return []string{"wso2-is", "wso2-apim", "wso2-mi", "webhook-relay", "linux-host"}
}

const maxInventorySize = 8 << 20

// ParseInventory reads and validates an inventory, returning every
// problem found (with its line) at once. base is the directory relative
// directory paths are resolved against.
func ParseInventory(r io.Reader, name, base string) (*Inventory, []Target, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxInventorySize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("inventory %s: %w", name, err)
	}
	if len(data) > maxInventorySize {
		return nil, nil, fmt.Errorf("inventory %s: larger than %d bytes", name, maxInventorySize)
	}
	var inv Inventory
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&inv); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("inventory %s: empty file", name)
		}
		return nil, nil, fmt.Errorf("inventory %s: %w", name, hint.YAML(err, data, inv))
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) == nil && len(doc.Content) > 0 {
		if seq := mapValue(doc.Content[0], "targets"); seq != nil && seq.Kind == yaml.SequenceNode {
			for i, n := range seq.Content {
				if i < len(inv.Targets) {
					inv.Targets[i].line = n.Line
				}
			}
		}
	}
	if len(inv.Targets) == 0 {
		return nil, nil, fmt.Errorf("inventory %s: no targets", name)
	}
	probs := checkZones(inv.Zones, name)
	var targets []Target
	names := map[string]int{}
	deployments := map[string]int{}
	for _, e := range inv.Targets {
		if e.Deployment != "" {
			deployments[e.Deployment]++
		}
	}
	for i := range inv.Targets {
		e := merge(inv.Defaults, inv.Targets[i])
		at := fmt.Sprintf("inventory %s:%d: target %d", name, inv.Targets[i].line, i+1)
		if e.Name != "" {
			at += " (" + e.Name + ")"
		}
		ts, p := e.targets(base, deployments[e.Deployment])
		p = append(p, e.checkReach(inv.Zones)...)
		for _, msg := range p {
			probs = append(probs, at+": "+msg)
		}
		for _, t := range ts {
			if prev, dup := names[t.Name]; dup {
				probs = append(probs, fmt.Sprintf("%s: name %q is already used by target %d", at, t.Name, prev))
				continue
			}
			names[t.Name] = i + 1
			targets = append(targets, t)
		}
	}
	if len(probs) > 0 {
		return nil, nil, errors.New(strings.Join(probs, "\n"))
	}
	return &inv, targets, nil
}

// merge fills e's unset fields from d.
func merge(d, e Entry) Entry {
	if e.Profile == "" {
		e.Profile = d.Profile
	}
	if e.Role == "" {
		e.Role = d.Role
	}
	if e.ExpectedPorts == nil {
		e.ExpectedPorts = d.ExpectedPorts
	}
	if e.AllowedPaths == nil {
		e.AllowedPaths = d.AllowedPaths
	}
	if e.ClusterMembers == nil {
		e.ClusterMembers = d.ClusterMembers
	}
	if e.BackupLocations == nil {
		e.BackupLocations = d.BackupLocations
	}
	if e.HealthPaths == nil {
		e.HealthPaths = d.HealthPaths
	}
	if e.AllowedSources == nil {
		e.AllowedSources = d.AllowedSources
	}
	if e.Hostname == "" {
		e.Hostname = d.Hostname
	}
	if e.BehindProxy == nil {
		e.BehindProxy = d.BehindProxy
	}
	if e.MinUpdateLevel == 0 {
		e.MinUpdateLevel = d.MinUpdateLevel
	}
	if e.Ports == "" {
		e.Ports = d.Ports
	}
	if e.Zones == nil {
		e.Zones = d.Zones
	}
	if e.Reach == nil {
		e.Reach = d.Reach
	}
	if e.ReachDefaults == nil {
		e.ReachDefaults = d.ReachDefaults
	}
	return e
}

// targets validates the entry and turns it into targets: one per thing it
// names (an address, a directory, this host).
func (e Entry) targets(base string, nodes int) ([]Target, []string) {
	var probs []string
	if e.Role != "" && !slices.Contains(Roles(), e.Role) {
		probs = append(probs, fmt.Sprintf("role %q is not one of %s", e.Role, strings.Join(Roles(), ", ")))
	}
	if e.Profile != "" && !slices.Contains(Profiles(), e.Profile) {
		probs = append(probs, fmt.Sprintf("profile %q is not one of %s", e.Profile, strings.Join(Profiles(), ", ")))
	}
	for _, p := range e.ExpectedPorts {
		if p < 1 || p > 65535 {
			probs = append(probs, fmt.Sprintf("expected port %d is out of range 1-65535", p))
		}
	}
	for _, p := range e.AllowedPaths {
		if !strings.HasPrefix(p, "/") {
			probs = append(probs, fmt.Sprintf("allowed path %q must start with /", p))
		}
	}
	for _, s := range e.AllowedSources {
		if !isAddrOrPrefix(s) {
			probs = append(probs, fmt.Sprintf("allowed source %q is not an IP address or CIDR", s))
		}
	}
	for _, s := range e.ClusterMembers {
		if !isAddrOrPrefix(s) {
			probs = append(probs, fmt.Sprintf("cluster member %q is not an IP address or CIDR", s))
		}
	}
	if e.MinUpdateLevel < 0 {
		probs = append(probs, "min_update_level must not be negative")
	}
	if e.Ports != "" {
		if _, err := ParsePorts(e.Ports); err != nil {
			probs = append(probs, err.Error())
		}
	}
	kinds := 0
	for _, set := range []bool{e.Address != "", e.Directory != "", e.Local} {
		if set {
			kinds++
		}
	}
	if kinds == 0 {
		probs = append(probs, "needs an address, a directory or local: true")
	}
	if e.Name == "" && kinds > 1 {
		probs = append(probs, "needs a name when it lists more than one of address, directory and local")
	}
	decl := Declared{
		Role: e.Role, ExpectedPorts: e.ExpectedPorts, AllowedPaths: e.AllowedPaths, ClusterMembers: e.ClusterMembers,
		BackupLocations: e.BackupLocations, HealthPaths: e.HealthPaths, AllowedSources: e.AllowedSources,
		Hostname: e.Hostname, MinUpdateLevel: e.MinUpdateLevel, Ports: e.Ports, Nodes: nodes,
		Zones: e.Zones, Reach: e.Reach, NoReachDefaults: e.ReachDefaults != nil && !*e.ReachDefaults,
	}
	if e.BehindProxy != nil {
		decl.BehindProxy = *e.BehindProxy
	}
	name := func(def, suffix string) string {
		switch {
		case e.Name == "":
			return def
		case kinds == 1:
			return e.Name
		default:
			return e.Name + "/" + suffix
		}
	}
	// An entry with a name is identified by it (the node keeps its identity
	// when two zones reach it by different addresses); one without is
	// identified by what it points at.
	id := func(t Target) string {
		if e.Name != "" {
			return t.Name
		}
		return t.Identity()
	}
	var out []Target
	if e.Address != "" {
		t, err := parseAddress(e.Address)
		if err != nil {
			probs = append(probs, err.Error())
		} else {
			t.Name = name(e.Address, e.Address)
			t.ID = id(t)
			t.Profile, t.Decl = e.Profile, decl
			out = append(out, t)
		}
	}
	if e.Directory != "" {
		dir := e.Directory
		if !filepath.IsAbs(dir) && base != "" {
			dir = filepath.Join(base, dir)
		}
		dir = filepath.Clean(dir)
		if abs, err := DirID(dir); err == nil {
			dir = abs
		}
		t := Target{Name: name(dir, "files"), ID: dir, Kind: Directory, Dir: dir, Profile: e.Profile, Decl: decl}
		t.ID = id(t)
		out = append(out, t)
	}
	if e.Local {
		t := Target{Name: name("local", "host"), ID: "local", Kind: Host, Dir: "/", Profile: e.Profile, Decl: decl}
		t.ID = id(t)
		out = append(out, t)
	}
	return out, probs
}

// parseAddress reads an inventory address: a URL or host:port is an
// endpoint, a bare host or IP a node whose ports are scanned, a CIDR range
// a node whose live addresses are found and scanned.
func parseAddress(s string) (Target, error) {
	if strings.Contains(s, "://") {
		return ParseEndpoint(s)
	}
	if hint, ok := ambiguousV6(s); ok {
		return Target{}, errAmbiguousV6(s, hint)
	}
	if _, _, err := net.SplitHostPort(s); err == nil {
		return ParseEndpoint(s)
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		return Target{Name: s, ID: NodeID(s), Kind: Node, Host: p.Masked().String()}, nil // a range: its live hosts become nodes
	}
	host := strings.Trim(s, "[]")
	if host == "" || strings.ContainsAny(host, " /") {
		return Target{}, fmt.Errorf("address %q is not a host, host:port or URL", s)
	}
	return Target{Name: s, ID: NodeID(host), Kind: Node, Host: host}, nil
}

func isAddrOrPrefix(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	_, err := netip.ParsePrefix(s)
	return err == nil
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
