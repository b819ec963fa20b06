// Package target says what can be scanned: a product installation
// directory, this host (or a mounted root file system), a network endpoint,
// or an inventory file that lists many of them. It parses the command line's
// TARGET arguments and inventory files; it does no I/O beyond reading an
// inventory file.
package target

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
)

// Kind is what sort of thing a target is; it decides which collectors run
// and so which kinds of rule checks (file, host, probe) can be judged.
type Kind string

const (
	// Directory is a product installation read from its files.
	Directory Kind = "directory"
	// Endpoint is one network service, host:port or a URL.
	Endpoint Kind = "endpoint"
	// Host is an operating system: this machine, or a root file system
	// mounted elsewhere (Root).
	Host Kind = "host"
	// Node is a remote machine named by address only; its ports are scanned
	// and each service found becomes an Endpoint.
	Node Kind = "node"
)

// Target is one thing to scan, with what the operator declared about it.
type Target struct {
	// Name identifies the target in reports and waivers.
	Name string
	// ID is the target's identity: what its findings are fingerprinted by
	// and what `rampart diff` matches on (see identity.go). Empty means Name.
	ID   string
	Kind Kind

	// Dir is the installation directory (Directory) or the root file system
	// (Host; "/" for this machine).
	Dir string

	// Host and Port address an Endpoint or Node; Scheme is https, http, ssh
	// or "" (unknown: the collectors find out); Path is a URL's path.
	Host   string
	Port   int
	Scheme string
	Path   string

	// Profile forces a product profile instead of auto-detection.
	Profile string

	// Decl holds what the inventory (or the command line) declared: role,
	// expected ports, allowed paths, cluster members, backups, ...
	Decl Declared

	// Running, for a product home found running on a host, is what the
	// host showed of it: the machine's memory and the JDK of its process.
	Running *Running
}

// Running is what a host showed of a product it runs.
type Running struct {
	MemoryMB int64
	Java     facts.JavaRuntime
}

// Declared is what an operator states about a target rather than what
// rampart observes.
type Declared struct {
	Role            string
	ExpectedPorts   []int
	AllowedPaths    []string
	ClusterMembers  []string
	BackupLocations []string
	HealthPaths     []string
	AllowedSources  []string
	Hostname        string
	BehindProxy     bool
	MinUpdateLevel  int
	Ports           string // a port specification for Node scans: "top", "1-65535", "22,443"
	Nodes           int
	// Zones lists the inventory zones that judge the target (empty: all).
	Zones []string
	// Reach are the declared exposure expectations; NoReachDefaults
	// leaves the product profile's defaults out.
	Reach           []Reach
	NoReachDefaults bool
}

// Address returns host:port for endpoints and nodes ("" otherwise).
func (t Target) Address() string {
	if t.Host == "" || t.Port == 0 {
		return ""
	}
	return net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
}

// URL returns the target as a URL for endpoints whose scheme is known.
func (t Target) URL() string {
	if t.Kind != Endpoint || t.Scheme == "" || t.Address() == "" {
		return ""
	}
	p := t.Path
	if p == "" {
		p = "/"
	}
	return (&url.URL{Scheme: t.Scheme, Host: t.Address(), Path: p}).String()
}

// Facts returns the target as rules see it (the "target" namespace).
func (t Target) Facts() facts.Target {
	ft := facts.Target{
		Name:            t.Name,
		ID:              t.Identity(),
		Kind:            string(t.Kind),
		Profiles:        []string{},
		Directory:       t.Dir,
		Address:         t.Address(),
		Host:            t.Host,
		Port:            t.Port,
		Scheme:          t.Scheme,
		URL:             t.URL(),
		Role:            t.Decl.Role,
		ExpectedPorts:   nonNilInts(t.Decl.ExpectedPorts),
		AllowedPaths:    nonNil(t.Decl.AllowedPaths),
		ClusterMembers:  nonNil(t.Decl.ClusterMembers),
		BackupLocations: nonNil(t.Decl.BackupLocations),
		HealthPaths:     nonNil(t.Decl.HealthPaths),
		AllowedSources:  nonNil(t.Decl.AllowedSources),
		Hostname:        t.Decl.Hostname,
		BehindProxy:     t.Decl.BehindProxy,
		MinUpdateLevel:  t.Decl.MinUpdateLevel,
		Nodes:           t.Decl.Nodes,
	}
	if t.Profile != "" {
		ft.Profiles = append(ft.Profiles, t.Profile)
	}
	return ft
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilInts(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

// ParseEndpoint parses "host:port", "[v6]:port", "https://host[:port]/path"
// or "ssh://host[:port]" into an Endpoint target.
func ParseEndpoint(s string) (Target, error) {
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return Target{}, fmt.Errorf("endpoint %q: %w", s, err)
		}
		scheme := strings.ToLower(u.Scheme)
		def, ok := defaultPort(scheme)
		if !ok {
			return Target{}, fmt.Errorf("endpoint %q: unsupported scheme %q (want https, http, ssh or tls)", s, u.Scheme)
		}
		host := u.Hostname()
		if host == "" {
			return Target{}, fmt.Errorf("endpoint %q: no host", s)
		}
		port := def
		if ps := u.Port(); ps != "" {
			p, err := parsePort(ps)
			if err != nil {
				return Target{}, fmt.Errorf("endpoint %q: %w", s, err)
			}
			port = p
		}
		if port == 0 {
			return Target{}, fmt.Errorf("endpoint %q: a %s:// endpoint needs a port", s, scheme)
		}
		return Target{Name: s, ID: EndpointID(host, port, u.EscapedPath()), Kind: Endpoint, Host: host, Port: port, Scheme: scheme, Path: u.EscapedPath()}, nil
	}
	if hint, ok := ambiguousV6(s); ok {
		return Target{}, errAmbiguousV6(s, hint)
	}
	host, ps, err := net.SplitHostPort(s)
	if err != nil {
		return Target{}, fmt.Errorf("endpoint %q: %w", s, err)
	}
	if host == "" {
		return Target{}, fmt.Errorf("endpoint %q: no host", s)
	}
	port, err := parsePort(ps)
	if err != nil {
		return Target{}, fmt.Errorf("endpoint %q: %w", s, err)
	}
	return Target{Name: s, ID: EndpointID(host, port, ""), Kind: Endpoint, Host: host, Port: port}, nil
}

// defaultPort says whether scheme is one an endpoint may have, with its
// default port; tls:// (TLS that is not HTTP: LDAPS, AMQPS) has none.
func defaultPort(scheme string) (int, bool) {
	switch scheme {
	case "https":
		return 443, true
	case "http":
		return 80, true
	case "ssh":
		return 22, true
	case "tls":
		return 0, true
	}
	return 0, false
}

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("bad port %q (want 1-65535)", s)
	}
	return p, nil
}
