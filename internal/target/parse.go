package target

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Parse turns one command-line TARGET into targets: "local" is this host
// (or root when set: a mounted image), "@file" an inventory, an existing
// directory a product installation, a bare IP address or CIDR range a node
// whose ports are scanned, anything else an endpoint.
func Parse(arg, root string) ([]Target, error) {
	switch {
	case arg == "local":
		dir := "/"
		if root != "" {
			dir = root
		}
		return []Target{{Name: "local", ID: "local", Kind: Host, Dir: dir}}, nil
	case strings.HasPrefix(arg, "@"):
		path := arg[1:]
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("inventory: %w", err)
		}
		defer f.Close()
		_, ts, err := ParseInventory(f, path, filepath.Dir(path))
		return ts, err
	}
	if !strings.Contains(arg, "://") {
		if fi, err := os.Stat(arg); err == nil {
			if !fi.IsDir() {
				return nil, fmt.Errorf("target %q is a file, not a product directory", arg)
			}
			abs, err := DirID(arg)
			if err != nil {
				return nil, fmt.Errorf("target %q: %w", arg, err)
			}
			// Named by its cleaned absolute path: ./opt/is/, opt/is and
			// /srv/opt/is are one installation, with one fingerprint.
			return []Target{{Name: abs, ID: abs, Kind: Directory, Dir: abs}}, nil
		}
	}
	// ::1:9443 is the address ::1:9443 or port 9443 on ::1: refuse to guess
	// (a scanner must never touch an address the user did not write).
	if hint, ok := ambiguousV6(arg); ok {
		return nil, errAmbiguousV6(arg, hint)
	}
	// A bare IP address or a CIDR range is a node: its ports are scanned
	// (--ports) and each service found is probed.
	if bare := strings.Trim(arg, "[]"); isAddrOrPrefix(bare) {
		t, err := parseAddress(arg)
		if err != nil {
			return nil, err
		}
		t.Name = arg
		t.ID = NodeID(bare)
		return []Target{t}, nil
	}
	t, err := ParseEndpoint(arg)
	if err != nil {
		if !strings.Contains(arg, ":") {
			return nil, fmt.Errorf("target %q is neither an existing directory, local, @inventory.yaml, an IP address or CIDR range, nor host:port or a URL", arg)
		}
		return nil, err
	}
	return []Target{t}, nil
}
