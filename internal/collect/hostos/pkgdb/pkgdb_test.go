package pkgdb

import (
	"os"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect/hostos/rootfs"
	"github.com/rampart-sec/rampart/internal/testenv"
)

func liveRoot(t *testing.T) *rootfs.Root {
	t.Helper()
	r, err := os.OpenRoot("/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return rootfs.New(r.FS(), "/")
}

// TestLiveDebian reads this machine's dpkg database and apt lists, when it
// is a Debian-family host.
func TestLiveDebian(t *testing.T) {
	r := liveRoot(t)
	if !r.Exists("/var/lib/dpkg/status") {
		testenv.Missing(t, "not a dpkg host: no /var/lib/dpkg/status")
	}
	inst, err := ReadDpkg(r)
	if err != nil {
		t.Fatal(err)
	}
	if inst.Versions["dpkg"] == "" || inst.Versions["base-files"] == "" {
		t.Fatalf("dpkg and base-files must be installed on a dpkg host: %d packages", len(inst.Versions))
	}
	p := AptSecurity(r, inst)
	t.Logf("known %v reason %q data age %v pending %d: %v", p.Known, p.Reason, p.DataAge, len(p.Security), p.Security)
	if p.Known && p.DataAge.IsZero() {
		t.Error("lists read but no data age")
	}
}

func TestNewer(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"3.0.17-1~deb12u2", "3.0.15-1~deb12u1", true},
		{"1:9.2p1-2+deb12u10", "1:9.2p1-2+deb12u5", true},
		{"2.36-9+deb12u10", "2.36-9+deb12u10", false},
		{"1.0~rc1", "1.0", false},
		{"garbage version!", "1.0", false},
	} {
		if got := newer(c.a, c.b); got != c.want {
			t.Errorf("newer(%q, %q) = %v", c.a, c.b, got)
		}
	}
}
