package hostos

import (
	"errors"

	"github.com/rampart-sec/rampart/internal/collect/hostos/pkgdb"
	"github.com/rampart-sec/rampart/internal/facts"
)

// packages reads the installed packages from the first package database
// found.
func (s *scan) packages() *pkgdb.Installed {
	var inst *pkgdb.Installed
	var err error
	switch {
	case s.r.Exists("/var/lib/dpkg/status"):
		inst, err = pkgdb.ReadDpkg(s.r)
	case s.r.Exists("/lib/apk/db/installed"):
		inst, err = pkgdb.ReadApk(s.r)
	case s.r.Exists("/var/lib/rpm"):
		out, ok, rerr := s.exec("rpm", "-qa", "--qf", `%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\n`)
		switch {
		case !ok:
			err = errors.New("the rpm database (/var/lib/rpm) is read with the rpm command, which runs only on the live host")
		case rerr != nil:
			err = rerr
		default:
			inst = pkgdb.ParseRpmQA(out)
		}
	default:
		s.absent("packages", "no package database (dpkg, apk or rpm) in "+s.r.Dir)
		return nil
	}
	if err != nil {
		s.fail("packages", err)
		return nil
	}
	s.h.Packages = facts.Packages{Manager: inst.Manager, Installed: inst.Versions, Origin: facts.Origin{File: inst.Source}}
	return inst
}

// updates tells pending security updates from the local package lists.
func (s *scan) updates(inst *pkgdb.Installed) {
	u := facts.Updates{PendingSecurity: []string{}}
	switch {
	case inst == nil:
		u.Reason = "the installed packages are unknown"
	case inst.Manager == "dpkg":
		p := pkgdb.AptSecurity(s.r, inst)
		u.Known, u.Reason, u.DataAge = p.Known, p.Reason, p.DataAge
		if p.Known {
			u.PendingSecurity = p.Security
			u.Origin = facts.Origin{File: "/var/lib/apt/lists", Note: "security suite lists compared with /var/lib/dpkg/status"}
		}
	default:
		u.Reason = "pending security updates are read from apt's lists only; " + inst.Manager + " hosts are not covered yet"
	}
	s.h.Updates = u
}
