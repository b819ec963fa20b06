package pkgdb

import (
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

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

// statusRoot is a root whose /var/lib/dpkg/status is status.
func statusRoot(t *testing.T, status string) *rootfs.Root {
	t.Helper()
	return rootfs.New(fstest.MapFS{"var/lib/dpkg/status": {Data: []byte(status)}}, "/image")
}

// A stanza with a line over 1 MiB (a long Description or Conffiles) used
// to end bufio.Scanner's reading there: the packages after it were missing
// and ReadDpkg said nothing. Now every package is read, and a stanza that
// cannot be read is an error.
func TestDpkgStatusLongStanza(t *testing.T) {
	long := "Description: " + strings.Repeat("x", 2<<20) + "\n " + strings.Repeat("y", 1<<20) + "\n"
	status := "Package: before\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n" +
		"Package: big\nStatus: install ok installed\nVersion: 2:3.4-5\nArchitecture: all\n" + long + "\n" +
		"Package: after\nStatus: install ok installed\nVersion: 7.8\nArchitecture: arm64\n" +
		"Conffiles:\n /etc/after.conf 0123456789abcdef\n\n" +
		"Package: removed\nStatus: deinstall ok config-files\nVersion: 0.1\n"
	inst, err := ReadDpkg(statusRoot(t, status))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"before": "1.0", "big": "2:3.4-5", "after": "7.8"}
	if !maps.Equal(inst.Versions, want) || inst.Arch["after"] != "arm64" || inst.Arch["big"] != "all" {
		t.Errorf("versions %v arch %v; want %v", inst.Versions, inst.Arch, want)
	}
	// A stanza that is not "Field: value" lines is an error, not the end
	// of the list.
	_, err = ReadDpkg(statusRoot(t, "Package: a\nStatus: install ok installed\nVersion: 1\n\nPackage: b\nthis line has no colon\nVersion: 2\n\nPackage: c\n"))
	if err == nil || !strings.Contains(err.Error(), "stanza 2") {
		t.Errorf("malformed stanza: %v; want an error naming stanza 2", err)
	}
}

// FuzzEachStanza: a stanza read is one the text holds: every field value
// passed on is in the input (continuation lines joined by a space), and a
// status file written from what was read reads back the same.
func FuzzEachStanza(f *testing.F) {
	f.Add("Package: a\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\nDescription: x\n y\n .\n z\n\nPackage: b\nStatus: deinstall ok config-files\nVersion: 2\n")
	f.Add("\n\nPackage: a\r\nVersion: 1\r\n\r\n")
	f.Fuzz(func(t *testing.T, text string) {
		var got []map[string]string
		err := eachStanza(strings.NewReader(text), func(m map[string]string) { got = append(got, m) })
		var b strings.Builder
		for _, m := range got {
			for _, k := range stanzaFields {
				v, ok := m[k]
				if !ok {
					continue
				}
				if v == "" || strings.ContainsAny(v, "\r\n") || strings.TrimSpace(v) != v {
					t.Fatalf("%s: %q", k, v)
				}
				for _, part := range strings.Fields(v) {
					if !strings.Contains(text, part) {
						t.Fatalf("%s: %q is not in the input", k, part)
					}
				}
				b.WriteString(k + ": " + v + "\n")
			}
			b.WriteString("\n")
		}
		if err != nil {
			return
		}
		var again []map[string]string
		if err := eachStanza(strings.NewReader(b.String()), func(m map[string]string) { again = append(again, m) }); err != nil {
			t.Fatalf("written back %q: %v", b.String(), err)
		}
		var nonEmpty []map[string]string
		for _, m := range got {
			if len(m) > 0 {
				nonEmpty = append(nonEmpty, m)
			}
		}
		if !slices.EqualFunc(nonEmpty, again, maps.Equal) {
			t.Fatalf("read %v, written back and read again %v", nonEmpty, again)
		}
	})
}
