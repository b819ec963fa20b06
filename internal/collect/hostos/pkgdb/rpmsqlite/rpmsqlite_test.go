package rpmsqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect/hostos/pkgdb"
	"github.com/rampart-sec/rampart/internal/collect/hostos/pkgdb/rpmdbtest"
	"github.com/rampart-sec/rampart/internal/collect/hostos/rootfs"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// rockyPackages is what the rocky9 test root has installed.
var rockyPackages = []rpmdbtest.Package{
	{Name: "openssl", Epoch: 1, HasEpoch: true, Version: "3.0.7", Release: "24.el9", Arch: "x86_64"},
	{Name: "openssl-libs", Epoch: 1, HasEpoch: true, Version: "3.0.7", Release: "24.el9", Arch: "x86_64"},
	{Name: "openssl-libs", Epoch: 1, HasEpoch: true, Version: "3.0.7", Release: "24.el9", Arch: "i686"},
	{Name: "bash", Version: "5.1.8", Release: "9.el9", Arch: "x86_64"},
	{Name: "glibc", Version: "2.34", Release: "100.el9", Arch: "x86_64"},
	{Name: "kernel", Version: "5.14.0", Release: "362.8.1.el9_3", Arch: "x86_64"},
	{Name: "kernel", Version: "5.14.0", Release: "427.13.1.el9_4", Arch: "x86_64"},
	{Name: "curl", Version: "7.76.1", Release: "26.el9", Arch: "x86_64"},
	{Name: "sudo", Version: "1.9.5p2", Release: "9.el9", Arch: "x86_64"},
	{Name: "less", Version: "590", Release: "2.el9", Arch: "x86_64"},
	{Name: "nodejs", Epoch: 1, HasEpoch: true, Version: "18.19.0", Release: "1.module+el9.3.0+21000+aaaaaaaa", Arch: "x86_64"},
	{Name: "python3-setuptools", Version: "53.0.0", Release: "12.el9", Arch: "noarch"},
	{Name: "gpg-pubkey", Version: "350d275d", Release: "6279464b", Arch: ""},
}

func openRoot(t testing.TB, dir string) *rootfs.Root {
	t.Helper()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return rootfs.New(r.FS(), dir)
}

// TestRPMSQLite writes an rpm database as rpm lays it out (at
// /usr/lib/sysimage/rpm, /var/lib/rpm a link to it), reads it back through
// the root, and checks that the read left no trace.
func TestRead(t *testing.T) {
	dir := t.TempDir()
	dbdir := filepath.Join(dir, "usr/lib/sysimage/rpm")
	os.MkdirAll(dbdir, 0o755)
	os.MkdirAll(filepath.Join(dir, "var/lib"), 0o755)
	if err := os.Symlink("../../usr/lib/sysimage/rpm", filepath.Join(dir, "var/lib/rpm")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dbdir, "rpmdb.sqlite")
	if err := rpmdbtest.WriteSQLite(file, rockyPackages); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(file, old, old)
	before := dirState(t, dbdir)

	r := openRoot(t, dir)
	db, ok := pkgdb.FindRPMDB(r)
	if !ok || db.File != "/usr/lib/sysimage/rpm/rpmdb.sqlite" || db.Format != pkgdb.RPMDBSQLite {
		t.Fatalf("FindRPMDB: %+v %v", db, ok)
	}
	// Through the link, as an image whose rpm lives at /var/lib/rpm.
	inst, err := Read(context.Background(), r, "/var/lib/rpm/rpmdb.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	if inst.Manager != "rpm" || len(inst.Versions) != 11 {
		t.Fatalf("%d names: %v", len(inst.Versions), inst.Versions)
	}
	for name, want := range map[string]string{
		"openssl": "1:3.0.7-24.el9", "kernel": "5.14.0-427.13.1.el9_4", "bash": "5.1.8-9.el9", "gpg-pubkey": "350d275d-6279464b",
	} {
		if inst.Versions[name] != want {
			t.Errorf("%s: %q, want %q", name, inst.Versions[name], want)
		}
	}
	if inst.Arch["openssl-libs"] != "i686,x86_64" || inst.Arch["python3-setuptools"] != "noarch" {
		t.Errorf("arches %v", inst.Arch)
	}
	if e := inst.RPM[pkgdb.RPMKey{Name: "kernel", Arch: "x86_64"}]; e.Release != "427.13.1.el9_4" {
		t.Errorf("newest kernel %v", e)
	}
	if after := dirState(t, dbdir); after != before {
		t.Errorf("the read changed the database directory:\n%s\n%s", before, after)
	}
}

// dirState lists a directory's files with size and modification time.
func dirState(t testing.TB, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range ents {
		fi, _ := e.Info()
		fmt.Fprintf(&b, "%s %d %s\n", e.Name(), fi.Size(), fi.ModTime())
	}
	return b.String()
}

// TestRPMReadsOurDatabase: the real rpm lists the packages of a database
// rpmdbtest wrote, so the test databases have rpm's shape.
func TestRPMReadsOurDatabase(t *testing.T) {
	bin := testenv.Tool(t, "rpm", "apt-get install rpm")
	dir := t.TempDir()
	if err := rpmdbtest.WriteSQLite(filepath.Join(dir, "rpmdb.sqlite"), rockyPackages); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--dbpath", dir, "-qa", "--qf", `%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\n`).Output()
	if err != nil {
		t.Fatalf("rpm -qa: %v", err)
	}
	got := pkgdb.ParseRpmQA(out)
	r := openRoot(t, dir)
	ours, err := Read(context.Background(), r, "/rpmdb.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Versions) != len(ours.Versions) {
		t.Fatalf("rpm lists %d names, rampart %d", len(got.Versions), len(ours.Versions))
	}
	for n, v := range ours.Versions {
		if got.Versions[n] != v {
			t.Errorf("%s: rpm %q, rampart %q", n, got.Versions[n], v)
		}
	}
}

// TestDatabaseRPMWrote reads a database the real rpm wrote when it
// installed a package rpmbuild built.
func TestDatabaseRPMWrote(t *testing.T) {
	rpmbin := testenv.Tool(t, "rpm", "apt-get install rpm")
	build := testenv.Tool(t, "rpmbuild", "apt-get install rpm")
	work := t.TempDir()
	spec := filepath.Join(work, "t.spec")
	os.WriteFile(spec, []byte("Name: rampart-probe\nVersion: 2.4.1~rc2\nRelease: 3.el9_4\nEpoch: 7\nSummary: t\nLicense: MIT\nBuildArch: noarch\n%description\nt\n%files\n"), 0o644)
	cmd := exec.Command(build, "-bb", "--quiet", "--define", "_topdir "+filepath.Join(work, "top"), spec)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rpmbuild: %v\n%s", err, out)
	}
	pkg := filepath.Join(work, "top/RPMS/noarch/rampart-probe-2.4.1~rc2-3.el9_4.noarch.rpm")
	root := t.TempDir()
	dbpath := filepath.Join(root, "var/lib/rpm")
	if out, err := exec.Command(rpmbin, "--dbpath", dbpath, "--initdb").CombinedOutput(); err != nil {
		t.Fatalf("rpm --initdb: %v %s", err, out)
	}
	if out, err := exec.Command(rpmbin, "--dbpath", dbpath, "-i", "--justdb", "--nodeps", "--ignoreos", pkg).CombinedOutput(); err != nil {
		t.Fatalf("rpm -i: %v %s", err, out)
	}
	r := openRoot(t, root)
	db, ok := pkgdb.FindRPMDB(r)
	if !ok || db.Format != pkgdb.RPMDBSQLite || db.WALBytes != 0 {
		t.Fatalf("FindRPMDB: %+v %v", db, ok)
	}
	inst, err := Read(context.Background(), r, db.File)
	if err != nil {
		t.Fatal(err)
	}
	if inst.Versions["rampart-probe"] != "7:2.4.1~rc2-3.el9_4" || inst.Arch["rampart-probe"] != "noarch" {
		t.Errorf("read %v %v", inst.Versions, inst.Arch)
	}
}

func TestReadBad(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "garbage.sqlite"), bytes.Repeat([]byte("not a database "), 100), 0o644)
	good := filepath.Join(dir, "good.sqlite")
	if err := rpmdbtest.WriteSQLite(good, rockyPackages); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(good)
	os.WriteFile(filepath.Join(dir, "truncated.sqlite"), b[:len(b)/3], 0o644)
	// A database whose one header is garbage.
	bad := filepath.Join(dir, "badheader.sqlite")
	if err := rpmdbtest.WriteSQLite(bad, rockyPackages[:2]); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO Packages (blob) VALUES (?)", []byte("\x00\x00\x00\x05garbage")); err != nil {
		t.Fatal(err)
	}
	db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	db.Close()
	r := openRoot(t, dir)
	for _, f := range []string{"/garbage.sqlite", "/truncated.sqlite", "/missing.sqlite", "/badheader.sqlite"} {
		if _, err := Read(context.Background(), r, f); err == nil {
			t.Errorf("%s read without error", f)
		} else {
			t.Logf("%s: %v", f, err)
		}
	}
}

func TestParseRPMHeader(t *testing.T) {
	for _, p := range rockyPackages[:3] {
		got, err := pkgdb.ParseRPMHeader(rpmdbtest.Header(p))
		if err != nil {
			t.Fatal(err)
		}
		want := pkgdb.RPMPackage{Name: p.Name, Arch: p.Arch, EVR: pkgdb.EVR{Epoch: uint64(p.Epoch), Version: p.Version, Release: p.Release}}
		if got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	}
	h := rpmdbtest.Header(rockyPackages[0])
	for _, bad := range [][]byte{nil, h[:7], h[:40], h[:len(h)-20], append([]byte{0xff, 0xff, 0xff, 0xff}, h[4:]...)} {
		if _, err := pkgdb.ParseRPMHeader(bad); err == nil {
			t.Errorf("%d bytes parsed", len(bad))
		}
	}
}
