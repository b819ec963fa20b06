package target

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseEndpoint(t *testing.T) {
	for _, c := range []struct {
		in           string
		host, scheme string
		port         int
	}{
		{"127.0.0.1:8443", "127.0.0.1", "", 8443},
		{"[::1]:9443", "::1", "", 9443},
		{"https://gw.example.com/", "gw.example.com", "https", 443},
		{"https://gw.example.com:8243/api", "gw.example.com", "https", 8243},
		{"http://10.0.0.1", "10.0.0.1", "http", 80},
		{"ssh://bastion:2222", "bastion", "ssh", 2222},
		{"tls://ldap.example.com:636", "ldap.example.com", "tls", 636},
	} {
		tg, err := ParseEndpoint(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if tg.Host != c.host || tg.Port != c.port || tg.Scheme != c.scheme || tg.Kind != Endpoint {
			t.Errorf("%s: got %+v", c.in, tg)
		}
	}
	for _, bad := range []string{"ftp://x", "tls://ldap.example.com", "https://:443", "host:0", "host:99999", "host:abc", "noport"} {
		if _, err := ParseEndpoint(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func TestParseTargets(t *testing.T) {
	dir := t.TempDir()
	if ts, err := Parse("local", ""); err != nil || ts[0].Kind != Host || ts[0].Dir != "/" {
		t.Fatalf("local: %+v %v", ts, err)
	}
	if ts, err := Parse("local", dir); err != nil || ts[0].Dir != dir {
		t.Fatalf("local with root: %+v %v", ts, err)
	}
	if ts, err := Parse(dir, ""); err != nil || ts[0].Kind != Directory {
		t.Fatalf("dir: %+v %v", ts, err)
	}
	for _, node := range []string{"10.0.0.5", "::1", "[::1]", "192.0.2.0/28"} {
		ts, err := Parse(node, "")
		if err != nil || len(ts) != 1 || ts[0].Kind != Node || ts[0].Name != node {
			t.Errorf("%s: %+v %v", node, ts, err)
		}
	}
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	if _, err := Parse(file, ""); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Fatalf("file: %v", err)
	}
}

func TestInventory(t *testing.T) {
	inv := `defaults:
  role: dmz
  expected_ports: [443]
targets:
  - name: is-1
    deployment: is-prod
    address: 10.0.1.11
    directory: is-home
    local: true
    cluster_members: [10.0.1.12]
    behind_proxy: true
  - name: is-2
    deployment: is-prod
    address: https://10.0.1.12:9443/
    role: internal
  - address: relay.example.com:443
    profile: webhook-relay
    allowed_sources: [203.0.113.0/24]
`
	_, ts, err := ParseInventory(strings.NewReader(inv), "inv.yaml", "/srv")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Target{}
	for _, tg := range ts {
		got[tg.Name] = tg
	}
	if len(ts) != 5 {
		t.Fatalf("%d targets: %+v", len(ts), ts)
	}
	node := got["is-1/10.0.1.11"]
	if node.Kind != Node || node.Decl.Role != "dmz" || node.Decl.Nodes != 2 || !node.Decl.BehindProxy || node.Decl.ExpectedPorts[0] != 443 {
		t.Errorf("node: %+v", node)
	}
	if d := got["is-1/files"]; d.Kind != Directory || d.Dir != "/srv/is-home" {
		t.Errorf("directory: %+v", d)
	}
	if h := got["is-1/host"]; h.Kind != Host || h.Dir != "/" {
		t.Errorf("host: %+v", h)
	}
	if e := got["is-2"]; e.Kind != Endpoint || e.Decl.Role != "internal" || e.Port != 9443 {
		t.Errorf("endpoint: %+v", e)
	}
	if r := got["relay.example.com:443"]; r.Profile != "webhook-relay" || r.Decl.AllowedSources[0] != "203.0.113.0/24" {
		t.Errorf("relay: %+v", r)
	}
}

func TestInventoryErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"targets: []\n", "no targets"},
		{"targets:\n  - name: a\n", "needs an address"},
		{"targets:\n  - address: a\n    directory: b\n", "needs a name"},
		{"targets:\n  - name: a\n    address: x\n  - name: a\n    address: y\n", "already used"},
		{"targets:\n  - address: x\n    allowed_sources: [not-a-cidr]\n", "not an IP address or CIDR"},
		{"targets:\n  - address: x\n    allowed_paths: [oauth2]\n", "must start with /"},
		{"targets:\n  - address: x\n    ports: 10-5\n", "backwards"},
		{"targets:\n  - address: \"a b\"\n", "not a host"},
	} {
		_, _, err := ParseInventory(strings.NewReader(c.in), "inv.yaml", "")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.in, err, c.want)
		}
	}
}

func TestParsePorts(t *testing.T) {
	p, err := ParsePorts("22, 443,9443-9445,443")
	if err != nil || len(p) != 5 || p[0] != 22 || p[4] != 9445 {
		t.Fatalf("%v %v", p, err)
	}
	if p, err := ParsePorts("1-65535"); err != nil || len(p) != 65535 {
		t.Fatalf("%d %v", len(p), err)
	}
	for _, bad := range []string{"0", "65536", "a-b", "5-1", ","} {
		if _, err := ParsePorts(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzInventory(f *testing.F) {
	f.Add("targets:\n  - name: a\n    address: 10.0.0.1\n    ports: top\n")
	f.Add("defaults: {role: dmz}\ntargets:\n  - {address: \"https://h:1/\", expected_ports: [1, 65535]}\n")
	f.Add("targets: [{local: true, directory: d, name: x, backup_locations: [/b]}]")
	f.Add("zones: [{name: dmz, role: dmz}, {name: mgmt, role: management}]\ntargets:\n  - {address: 10.0.0.1, zones: [dmz], reach: [{port: 9443, path: /carbon, from: [mgmt], may: [cluster]}], reach_defaults: false}\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, ts, err := ParseInventory(strings.NewReader(s), "fuzz.yaml", "/base")
		if err == nil && len(ts) == 0 {
			t.Fatal("no error and no targets")
		}
	})
}
