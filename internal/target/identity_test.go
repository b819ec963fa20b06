package target

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDirectorySpellingsOneIdentity: relative, ./, trailing slash, doubled
// slashes and the absolute path name one installation.
func TestDirectorySpellingsOneIdentity(t *testing.T) {
	base := t.TempDir()
	home := filepath.Join(base, "wso2is-7.1.0")
	if err := os.MkdirAll(filepath.Join(home, "repository", "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(base)
	want, err := filepath.EvalSymlinks(home)
	if err != nil {
		t.Fatal(err)
	}
	for _, spelling := range []string{"wso2is-7.1.0", "./wso2is-7.1.0", "wso2is-7.1.0/", "./wso2is-7.1.0//", "wso2is-7.1.0/repository/..", home, home + "/"} {
		ts, err := Parse(spelling, "")
		if err != nil {
			t.Fatalf("%s: %v", spelling, err)
		}
		got := ts[0]
		// t.TempDir may sit behind a symlink (macOS /var): compare resolved.
		if r, _ := filepath.EvalSymlinks(got.Name); r != want || got.ID != got.Name || got.Dir != got.Name {
			t.Errorf("%q: name %q id %q dir %q, want %q", spelling, got.Name, got.ID, got.Dir, want)
		}
		if !filepath.IsAbs(got.Name) {
			t.Errorf("%q: name %q is not absolute", spelling, got.Name)
		}
	}
}

// TestEndpointSpellingsOneIdentity: host:port, tls://host:port and
// https://host:port/ are one endpoint; a path other than / is another.
func TestEndpointSpellingsOneIdentity(t *testing.T) {
	for _, c := range []struct {
		spellings []string
		want      string
	}{
		{[]string{"127.0.0.1:8443", "tls://127.0.0.1:8443", "https://127.0.0.1:8443/", "https://127.0.0.1:8443", "HTTPS://127.0.0.1:8443/"}, "127.0.0.1:8443"},
		{[]string{"GW.Example.com:443", "https://gw.example.com/", "tls://gw.example.com.:443", "https://gw.example.com:443/"}, "gw.example.com:443"},
		{[]string{"[::1]:9443", "https://[::1]:9443/", "tls://[0:0::1]:9443", "[0:0:0:0:0:0:0:1]:9443"}, "[::1]:9443"},
		{[]string{"ssh://bastion:22", "bastion:22", "ssh://bastion"}, "bastion:22"},
		{[]string{"https://gw.example.com:8243/api", "https://gw.example.com:8243/api/"}, "gw.example.com:8243/api"},
	} {
		for _, s := range c.spellings {
			ts, err := Parse(s, "")
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			if ts[0].ID != c.want || ts[0].Name != s {
				t.Errorf("%s: id %q name %q, want id %q and the name as written", s, ts[0].ID, ts[0].Name, c.want)
			}
		}
	}
}

// TestAmbiguousIPv6Refused: ::1:9443 could be an address or an address and
// a port; rampart refuses to guess and says how to write each.
func TestAmbiguousIPv6Refused(t *testing.T) {
	for _, s := range []string{"::1:9443", "2001:db8::5:443", "fe80::1:22"} {
		_, err := Parse(s, "")
		if err == nil || !strings.Contains(err.Error(), "ambiguous") || !strings.Contains(err.Error(), "]:") {
			t.Errorf("%s: %v", s, err)
		}
		if _, _, err := ParseInventory(strings.NewReader("targets:\n  - address: \""+s+"\"\n"), "inv.yaml", ""); err == nil || !strings.Contains(err.Error(), "ambiguous") {
			t.Errorf("inventory %s: %v", s, err)
		}
	}
	// What is not ambiguous still parses: loopback, a bracketed address,
	// the bracketed address and port, addresses whose last group is hex.
	for _, s := range []string{"::1", "[::1:9443]", "[::1]:9443", "2001:db8::5", "fe80::abcd", "::ffff:10.0.0.1", "10.0.0.1"} {
		if _, err := Parse(s, ""); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	ts, err := Parse("[::1]:9443", "")
	if err != nil || ts[0].Kind != Endpoint || ts[0].Host != "::1" || ts[0].Port != 9443 {
		t.Fatalf("[::1]:9443: %+v %v", ts, err)
	}
	ts, err = Parse("[::1:9443]", "")
	if err != nil || ts[0].Kind != Node || ts[0].ID != "::1:9443" {
		t.Fatalf("[::1:9443]: %+v %v", ts, err)
	}
}

// TestInventoryIdentity: a named entry is identified by its name, an
// unnamed one by what it points at, an unnamed directory by its absolute
// path.
func TestInventoryIdentity(t *testing.T) {
	inv := "targets:\n  - {name: gw, address: \"https://10.0.1.5:8243/\"}\n  - {address: \"tls://10.0.1.6:636\"}\n  - {directory: ./homes/is/}\n  - {address: 10.0.1.7}\n"
	_, ts, err := ParseInventory(strings.NewReader(inv), "inv.yaml", "/srv")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tg := range ts {
		got[tg.Name] = tg.ID
	}
	want := map[string]string{"gw": "gw", "tls://10.0.1.6:636": "10.0.1.6:636", "/srv/homes/is": "/srv/homes/is", "10.0.1.7": "10.0.1.7"}
	for name, id := range want {
		if got[name] != id {
			t.Errorf("%s: id %q, want %q (all: %v)", name, got[name], id, got)
		}
	}
}
