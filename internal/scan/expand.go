package scan

import (
	"net"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/target"
)

// Expand returns the targets a scanned target leads to: the product homes
// of the WSO2 processes running on a host (scanned with the file rules),
// the TLS, HTTP and SSH services found open on a node (scanned with the
// probe rules), and the live addresses of a CIDR node (each scanned as a
// node). Children inherit the parent's declarations.
func Expand(t target.Target, f *facts.Facts) []target.Target {
	var out []target.Target
	switch {
	case t.Kind == target.Host && f.Host != nil:
		seen := map[string]bool{}
		for _, p := range f.Host.Processes {
			if p.ProductHome == "" || seen[p.ProductHome] {
				continue
			}
			seen[p.ProductHome] = true
			dir := filepath.Join(t.Dir, p.ProductHome)
			name := p.ProductHome
			if t.Dir != "/" {
				name = dir
			}
			run := &target.Running{MemoryMB: f.Host.MemoryMB}
			if p.JDKMajor > 0 {
				run.Java = facts.JavaRuntime{Version: p.JDKVersion, Major: p.JDKMajor, Origin: p.Origin}
			}
			out = append(out, target.Target{Name: name, ID: filepath.Clean(name), Kind: target.Directory, Dir: dir, Profile: t.Profile, Decl: t.Decl, Running: run})
		}
	case t.Kind == target.Node && f.Ports != nil:
		// A CIDR range: each live address becomes a node of its own.
		for _, h := range f.Ports.Hosts {
			out = append(out, target.Target{Name: h, ID: target.NodeID(h), Kind: target.Node, Host: h, Profile: t.Profile, Decl: t.Decl})
		}
		for _, p := range f.Ports.Open {
			scheme, ok := serviceScheme(p.Service)
			if !ok {
				continue
			}
			if p.Service == "tls" && (!handshook(p.Banner) || strings.HasSuffix(p.Banner, facts.TLSSilentSuffix)) {
				// The identification's own handshake failed (a server Go's TLS
				// cannot talk to, such as DHE only), or the server said nothing
				// to its HTTP request within the wait (a slow application), so
				// whether HTTP runs on it is unknown: leave the scheme open and
				// let every collector try.
				scheme = ""
			}
			ep := target.Target{Kind: target.Endpoint, Host: t.Host, Port: p.Port, Scheme: scheme, Profile: t.Profile, Decl: t.Decl}
			ep.Name = t.Name + ":" + strconv.Itoa(p.Port)
			ep.ID = t.Identity() + ":" + strconv.Itoa(p.Port)
			if t.Name == t.Host {
				ep.Name = net.JoinHostPort(t.Host, strconv.Itoa(p.Port)) // [::1]:9443
			}
			if t.Identity() == target.NodeID(t.Host) {
				// A node known by its address: its services are endpoints
				// like any other host:port.
				ep.ID = target.EndpointID(t.Host, p.Port, "")
			}
			out = append(out, ep)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// handshook reports whether a TLS port's identification completed a
// handshake: its banner is then the version ("TLS 1.2", "SSLv3"), else an
// answer such as "TLS alert", "SSLv2" or nothing.
func handshook(banner string) bool {
	return banner == "SSLv3" || (strings.HasPrefix(banner, "TLS 1.") && banner != "TLS alert")
}

// serviceScheme maps an identified service to the scheme their endpoint is
// probed with.
func serviceScheme(k string) (string, bool) {
	switch k {
	case "https":
		return "https", true
	case "http":
		return "http", true
	case "ssh":
		return "ssh", true
	case "tls":
		return "tls", true
	case "ldaps":
		return "tls", true
	}
	return "", false
}
