package hostos

import (
	"fmt"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/collect/hostos/pkgdb"
	"github.com/rampart-sec/rampart/internal/collect/hostos/pkgdb/rpmsqlite"
	"github.com/rampart-sec/rampart/internal/facts"
)

// rpmQA is the allow-listed rpm query (cmdexec): every installed package's
// name and EVR.
var rpmQA = []string{"-qa", "--qf", `%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\n`}

// packages reads the installed packages from the first package database
// found.
func (s *scan) packages() *pkgdb.Installed {
	var inst *pkgdb.Installed
	var err error
	rpmdb, haveRPMDB := pkgdb.FindRPMDB(s.r)
	switch {
	case s.r.Exists("/var/lib/dpkg/status"):
		inst, err = pkgdb.ReadDpkg(s.r)
	case s.r.Exists("/lib/apk/db/installed"):
		inst, err = pkgdb.ReadApk(s.r)
	case haveRPMDB || s.r.Exists("/var/lib/rpm") || s.r.Exists("/usr/lib/sysimage/rpm"):
		inst, err = s.rpmPackages(rpmdb, haveRPMDB)
	default:
		s.absent("packages", "no package database (dpkg, apk or rpm) in "+s.r.Dir)
		return nil
	}
	if err != nil {
		s.fail("packages", err)
		return nil
	}
	s.h.Packages = facts.Packages{Manager: inst.Manager, Installed: inst.Versions, Origin: facts.Origin{File: inst.Source, Note: inst.Note}}
	return inst
}

// rpmPackages reads rpm's SQLite database as a file where it can (an
// image, or the live host while no rpm transaction is under way), else
// runs `rpm -qa` on the live host.
func (s *scan) rpmPackages(db pkgdb.RPMDB, found bool) (*pkgdb.Installed, error) {
	live := s.env.Can(collect.LiveSystem)
	var fileErr error
	switch {
	case !found:
		fileErr = fmt.Errorf("no rpm database file (rpmdb.sqlite, Packages.db, Packages) in /usr/lib/sysimage/rpm or /var/lib/rpm of %s", s.r.Dir)
	case db.Format != pkgdb.RPMDBSQLite:
		fileErr = fmt.Errorf("%s is a %s rpm database: rampart reads only rpm's SQLite database (rpmdb.sqlite) as a file", db.File, db.Format)
	case db.WALBytes > 0 && live:
		fileErr = fmt.Errorf("%s has %d bytes of write-ahead log (an rpm transaction is under way)", db.File, db.WALBytes)
	default:
		inst, err := rpmsqlite.Read(s.ctx, s.r, db.File)
		if err == nil {
			if db.WALBytes > 0 {
				inst.Note = fmt.Sprintf("read without the %d bytes of its write-ahead log (rpm was writing when the image was taken)", db.WALBytes)
			}
			return inst, nil
		}
		fileErr = err
	}
	out, ok, err := s.exec("rpm", rpmQA...)
	switch {
	case !ok:
		return nil, fmt.Errorf("%w; the rpm command runs only on the live host", fileErr)
	case err != nil:
		return nil, fmt.Errorf("%v; rpm -qa: %w", fileErr, err)
	}
	inst := pkgdb.ParseRpmQA(out)
	inst.Note = "rpm -qa, without architectures (" + fileErr.Error() + ")"
	return inst, nil
}

// updates tells pending security updates from the local package data.
func (s *scan) updates(inst *pkgdb.Installed) {
	u := facts.Updates{PendingSecurity: []string{}}
	var p pkgdb.Pending
	switch {
	case inst == nil:
		u.Reason = "the installed packages are unknown"
		s.h.Updates = u
		return
	case inst.Manager == "dpkg":
		p = pkgdb.AptSecurity(s.r, inst)
		u.Origin = facts.Origin{File: "/var/lib/apt/lists", Note: "security suite lists compared with /var/lib/dpkg/status"}
	case inst.Manager == "rpm":
		p = pkgdb.RPMSecurity(s.r, inst)
		u.Origin = facts.Origin{File: "/var/cache", Note: "security advisories (updateinfo) of the cached repository metadata compared with " + inst.Source}
		if len(p.Sources) == 1 {
			u.Origin.File = p.Sources[0]
		}
		if p.Note != "" {
			u.Origin.Note += ": " + p.Note
		}
	default:
		u.Reason = "pending security updates are read from apt's lists and the dnf, yum and zypper caches; " + inst.Manager + " hosts are not covered yet"
		s.h.Updates = u
		return
	}
	u.Known, u.Reason, u.DataAge = p.Known, p.Reason, p.DataAge
	if p.Known {
		u.PendingSecurity = p.Security
	} else {
		u.Origin = facts.Origin{}
	}
	s.h.Updates = u
}
