package hostos

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/collect/hostos/pkgdb/rpmdbtest"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/target"
)

// rockyInstalled is the rocky9 root's package set; see pkgdb's
// TestRPMSecurityRocky for which of them have advisories.
var rockyInstalled = []rpmdbtest.Package{
	{Name: "openssl", Epoch: 1, HasEpoch: true, Version: "3.0.7", Release: "24.el9", Arch: "x86_64"},
	{Name: "openssl-libs", Epoch: 1, HasEpoch: true, Version: "3.0.7", Release: "24.el9", Arch: "x86_64"},
	{Name: "bash", Version: "5.1.8", Release: "9.el9", Arch: "x86_64"},
	{Name: "glibc", Version: "2.34", Release: "100.el9", Arch: "x86_64"},
	{Name: "kernel", Version: "5.14.0", Release: "427.13.1.el9_4", Arch: "x86_64"},
	{Name: "nodejs", Epoch: 1, HasEpoch: true, Version: "18.19.0", Release: "1.module+el9.3.0+21000+aaaaaaaa", Arch: "x86_64"},
	{Name: "gcc", Version: "11.4.1", Release: "3.el9", Arch: "x86_64"},
}

// rockyRoot is the rocky9 test root with an rpm database of pkgs (at
// /var/lib/rpm, as RHEL 9 keeps it) and the repository metadata fetched
// a day before the tests' clock.
func rockyRoot(t testing.TB, pkgs []rpmdbtest.Package) string {
	t.Helper()
	dir := fakeRoot(t, "rocky9")
	os.MkdirAll(filepath.Join(dir, "var/lib/rpm"), 0o755)
	if err := rpmdbtest.WriteSQLite(filepath.Join(dir, "var/lib/rpm/rpmdb.sqlite"), pkgs); err != nil {
		t.Fatal(err)
	}
	fetched := now.Add(-24 * time.Hour)
	m, _ := filepath.Glob(filepath.Join(dir, "var/cache/dnf/*/repodata/repomd.xml"))
	for _, p := range m {
		os.Chtimes(p, fetched, fetched)
	}
	return dir
}

// TestRockyImage audits the rocky9 root offline: packages from
// rpmdb.sqlite, pending security updates from the dnf cache; OS-005 fails
// with the packages, and passes once they are updated. No command runs.
func TestRockyImage(t *testing.T) {
	dir := rockyRoot(t, rockyInstalled)
	f := collectHost(t, hostTarget(dir, target.Declared{}), &collect.Env{Exec: panicExec{}})
	h := f.Host
	if h.OS.ID != "rocky" || h.Packages.Manager != "rpm" || h.Packages.Installed["openssl"] != "1:3.0.7-24.el9" || h.Packages.Origin.File != "/var/lib/rpm/rpmdb.sqlite" {
		t.Fatalf("os %+v packages %s %v %+v", h.OS, h.Packages.Manager, h.Packages.Installed, h.Packages.Origin)
	}
	u := h.Updates
	if !u.Known || !slices.Equal(u.PendingSecurity, []string{"nodejs", "openssl", "openssl-libs"}) || !u.DataAge.Equal(now.Add(-24*time.Hour)) {
		t.Fatalf("updates %+v", u)
	}
	if !strings.Contains(u.Origin.Note, "security advisories") {
		t.Errorf("origin %+v", u.Origin)
	}
	got := judgeHost(t, f)
	if fd := got["OS-005"]; fd.Status != finding.Fail || !strings.Contains(fd.Message, "3 package(s)") {
		t.Errorf("OS-005 %s: %s", fd.Status, fd.Message)
	}
	if fd := got["OS-002"]; fd.Status != finding.Fail || !strings.Contains(fd.Message, "gcc") {
		t.Errorf("OS-002 %s: %s", fd.Status, fd.Message)
	}

	updated := slices.Clone(rockyInstalled[:5])
	updated[0].Release, updated[1].Release = "27.el9", "27.el9"
	f = collectHost(t, hostTarget(rockyRoot(t, updated), target.Declared{}), &collect.Env{Exec: panicExec{}})
	if fd := judgeHost(t, f)["OS-005"]; fd.Status != finding.Pass {
		t.Errorf("updated: OS-005 %s: %s (%+v)", fd.Status, fd.Message, f.Host.Updates)
	}

	// Metadata a month old: the rule cannot vouch for it.
	f = collectHost(t, hostTarget(rockyRoot(t, updated), target.Declared{}), &collect.Env{Exec: panicExec{}})
	f.Scan.Now = now.AddDate(0, 1, 0)
	if fd := judgeHost(t, f)["OS-005"]; fd.Status != finding.Error || !strings.Contains(fd.Message, "older than 7 days") {
		t.Errorf("stale: OS-005 %s: %s", fd.Status, fd.Message)
	}
}

// TestRockyImageWithoutCache: no dnf cache means OS-005 cannot be told.
func TestRockyImageWithoutCache(t *testing.T) {
	dir := rockyRoot(t, rockyInstalled)
	os.RemoveAll(filepath.Join(dir, "var/cache/dnf"))
	f := collectHost(t, hostTarget(dir, target.Declared{}), nil)
	if fd := judgeHost(t, f)["OS-005"]; fd.Status != finding.Error || !strings.Contains(fd.Message, "dnf makecache") {
		t.Errorf("OS-005 %s: %s", fd.Status, fd.Message)
	}
}

// TestRPMBerkeleyDB: an image with a Berkeley DB rpm database (RHEL 8) is
// not read offline, and says so; on the live root the allow-listed
// `rpm -qa` gives the packages instead.
func TestRPMBerkeleyDB(t *testing.T) {
	dir := fakeRoot(t, "rocky9")
	os.MkdirAll(filepath.Join(dir, "var/lib/rpm"), 0o755)
	os.WriteFile(filepath.Join(dir, "var/lib/rpm/Packages"), make([]byte, 8192), 0o644)
	f := collectHost(t, hostTarget(dir, target.Declared{}), &collect.Env{Exec: panicExec{}})
	st, _ := f.Lookup("host.packages")
	if !strings.Contains(st.Reason, "bdb rpm database") || !strings.Contains(st.Reason, "live host") {
		t.Errorf("packages status %+v", st)
	}
	if fd := judgeHost(t, f)["OS-005"]; fd.Status != finding.Error {
		t.Errorf("OS-005 %s: %s", fd.Status, fd.Message)
	}

	// The same files as the live root: rpm -qa runs.
	ex := &fakeRPM{out: "openssl\t1:3.0.7-24.el9\nbash\t0:5.1.8-9.el9\ngpg-pubkey\t0:350d275d-6279464b\n"}
	env := &collect.Env{FS: os.DirFS(dir), Exec: ex}
	f, err := collect.Collect(context.Background(), New(), target.Target{Name: "local", Kind: target.Host, Dir: "/"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ex.ran, "rpm -qa --qf %{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\n") {
		t.Errorf("ran %q", ex.ran)
	}
	if f.Host.Packages.Installed["openssl"] != "1:3.0.7-24.el9" || !strings.Contains(f.Host.Packages.Origin.Note, "rpm -qa") {
		t.Errorf("packages %+v", f.Host.Packages)
	}
	if u := f.Host.Updates; !u.Known || !slices.Contains(u.PendingSecurity, "openssl") {
		t.Errorf("updates %+v", u)
	}

	// rpm failing is the packages' error.
	ex = &fakeRPM{err: errors.New("rpmdb: BDB0113 Thread/process 4242 failed")}
	f, err = collect.Collect(context.Background(), New(), target.Target{Name: "local", Kind: target.Host, Dir: "/"}, &collect.Env{FS: os.DirFS(dir), Exec: ex})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := f.Lookup("host.packages"); !strings.Contains(st.Reason, "BDB0113") {
		t.Errorf("packages status %+v", st)
	}
}

// fakeRPM stands in for the rpm command on a live root made of test files;
// other commands are not installed.
type fakeRPM struct {
	out string
	err error
	ran []string
}

func (e *fakeRPM) Run(_ context.Context, name string, args ...string) ([]byte, error) {
	e.ran = append(e.ran, strings.Join(append([]string{name}, args...), " "))
	if name != "rpm" {
		return nil, errors.New(name + ": program not installed")
	}
	return []byte(e.out), e.err
}
