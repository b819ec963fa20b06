package pkgdb

import (
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/hostos/rootfs"
)

// rpmdbDirs are where rpm keeps its database: the newer place (Fedora 36+,
// openSUSE, SLES 15 SP5+) first; /var/lib/rpm is often a link to it.
var rpmdbDirs = []string{"/usr/lib/sysimage/rpm", "/var/lib/rpm"}

// Formats of an rpm database (rpm's %_db_backend).
const (
	RPMDBSQLite = "sqlite" // rpmdb.sqlite: rpm 4.16+ (Fedora 33+, RHEL 9, Amazon Linux 2023)
	RPMDBBDB    = "bdb"    // Packages: Berkeley DB (RHEL 7 and 8, Amazon Linux 2)
	RPMDBNDB    = "ndb"    // Packages.db: rpm's own format (SUSE)
)

// RPMDB is where an rpm database was found and in which format.
type RPMDB struct {
	// File is the database file, as an in-root path.
	File   string
	Format string
	// WALBytes is the size of rpmdb.sqlite-wal: transactions committed to
	// the write-ahead log and not yet copied into the database file, which
	// a read of the file alone (immutable) does not see. rpm checkpoints
	// and empties it when it closes the database, so it is 0 unless rpm is
	// running (or was, when an image was taken).
	WALBytes int64
}

// FindRPMDB looks for an rpm database in the usual places; ok is false
// when there is none.
func FindRPMDB(r *rootfs.Root) (db RPMDB, ok bool) {
	for _, dir := range rpmdbDirs {
		for _, c := range []struct{ file, format string }{
			{"rpmdb.sqlite", RPMDBSQLite}, {"Packages.db", RPMDBNDB}, {"Packages", RPMDBBDB},
		} {
			p := path.Join(dir, c.file)
			if fi, err := r.Stat(p); err != nil || !fi.Mode().IsRegular() {
				continue
			}
			db = RPMDB{File: p, Format: c.format}
			if c.format == RPMDBSQLite {
				if fi, err := r.Stat(p + "-wal"); err == nil {
					db.WALBytes = fi.Size()
				}
			}
			return db, true
		}
	}
	return RPMDB{}, false
}

// ParseRpmQA reads `rpm -qa --qf '%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\n'`
// (no architecture: every package's Arch is empty).
func ParseRpmQA(out []byte) *Installed {
	var pkgs []RPMPackage
	for _, line := range strings.Split(string(out), "\n") {
		n, v, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if !ok || n == "" {
			continue
		}
		evr, _ := ParseEVR(v)
		pkgs = append(pkgs, RPMPackage{Name: n, EVR: evr})
	}
	return NewRPMInstalled(pkgs, "rpm -qa")
}

// NewRPMInstalled builds the installed set of an rpm host: per name the
// newest version installed (several versions of install-only packages
// such as the kernel may be), per name and architecture the newest EVR.
func NewRPMInstalled(pkgs []RPMPackage, source string) *Installed {
	inst := &Installed{Manager: "rpm", Versions: map[string]string{}, Arch: map[string]string{}, Source: source,
		RPM: map[RPMKey]EVR{}}
	newest := map[string]EVR{}
	arches := map[string][]string{}
	for _, p := range pkgs {
		k := RPMKey{Name: p.Name, Arch: p.Arch}
		if old, ok := inst.RPM[k]; !ok || p.EVR.Compare(old) > 0 {
			inst.RPM[k] = p.EVR
		}
		if old, ok := newest[p.Name]; !ok || p.EVR.Compare(old) > 0 {
			newest[p.Name] = p.EVR
		}
		if p.Arch != "" && !slices.Contains(arches[p.Name], p.Arch) {
			arches[p.Name] = append(arches[p.Name], p.Arch)
		}
	}
	for n, e := range newest {
		inst.Versions[n] = e.String()
	}
	for n, a := range arches {
		sort.Strings(a)
		inst.Arch[n] = strings.Join(a, ",")
	}
	return inst
}

// RPMKey is an installed package name and architecture ("" when unknown).
type RPMKey struct{ Name, Arch string }
