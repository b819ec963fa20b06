package target

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
)

// A target's identity (Target.ID) is what findings are fingerprinted by and
// what `rampart diff` matches reports on. Spellings of one thing give one
// identity:
//
//   - a directory: its cleaned absolute path (relative, "./", a trailing
//     slash all name the same installation);
//   - an endpoint: host:port with the host lower-cased (an IP address in its
//     canonical form, IPv6 in brackets), and the URL's path when it is not
//     "/": 127.0.0.1:8443, tls://127.0.0.1:8443 and https://127.0.0.1:8443/
//     are one endpoint for the rules they share;
//   - a node: its canonical address, or masked prefix;
//   - an inventory entry with a name: that name (the operator's identity,
//     kept when two zones reach the node by different addresses), and the
//     services found on it "name:port".

// DirID is the identity of a directory target: its cleaned absolute path.
func DirID(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("directory %q: %w", dir, err)
	}
	return filepath.Clean(abs), nil
}

// HostID canonicalises a host name or address: lower case, no trailing
// dot, an IP address in its canonical text form (::1, 10.0.0.1).
func HostID(host string) string {
	h := strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap().String()
	}
	return h
}

// EndpointID is the identity of an endpoint: host:port, plus the path when
// an HTTP URL names one other than "/".
func EndpointID(host string, port int, path string) string {
	id := net.JoinHostPort(HostID(host), strconv.Itoa(port))
	if p := strings.TrimSuffix(path, "/"); p != "" {
		id += p
	}
	return id
}

// NodeID is the identity of a node: its canonical address or prefix.
func NodeID(addr string) string {
	if p, err := netip.ParsePrefix(addr); err == nil {
		return p.Masked().String()
	}
	return HostID(addr)
}

// Identity returns the target's identity, falling back to its name for a
// target built without one.
func (t Target) Identity() string {
	if t.ID != "" {
		return t.ID
	}
	return t.Name
}

// ambiguousV6 reports whether s is an IPv6 address that could as well be an
// address and a port written without brackets (::1:9443 is the address
// ::1:9443, or port 9443 on ::1), and returns the bracketed spelling of the
// second reading. The unspecified address "::" followed by a group is not
// taken for an address and a port (::1 is loopback, not port 1 on ::).
func ambiguousV6(s string) (hint string, ambiguous bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return "", false
	}
	i := strings.LastIndexByte(s, ':')
	head, tail := s[:i], s[i+1:]
	if tail == "" || strings.Trim(tail, "0123456789") != "" {
		return "", false
	}
	if p, err := strconv.Atoi(tail); err != nil || p < 1 || p > 65535 {
		return "", false
	}
	h, err := netip.ParseAddr(head)
	if err != nil || !h.Is6() || h.IsUnspecified() {
		return "", false
	}
	return "[" + head + "]:" + tail, true
}

// errAmbiguousV6 is the error for an ambiguous IPv6 spelling.
func errAmbiguousV6(s, hint string) error {
	return fmt.Errorf("%q is ambiguous: an IPv6 address and a port are written %s; for the address %s alone write [%s]", s, hint, s, s)
}
