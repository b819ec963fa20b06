package pkgdb

import "strings"

// Advisory is one <update> of a repository's updateinfo.xml: an erratum
// (RHEL, Rocky, Alma, Amazon Linux), a Fedora update or a SUSE patch.
type Advisory struct {
	ID string
	// Type is "security", "bugfix", "enhancement", "newpackage" or
	// "recommended" (SUSE), as the repository says.
	Type        string
	Severity    string
	Collections []Collection
}

// Collection is one package list of an advisory; Module is set when its
// packages belong to a module stream (RHEL 8+ AppStream).
type Collection struct {
	Module   *ModuleRef
	Packages []AdvisoryPackage
}

// ModuleRef names a module stream.
type ModuleRef struct{ Name, Stream string }

// AdvisoryPackage is a package version an advisory ships.
type AdvisoryPackage struct {
	Name string
	Arch string
	EVR  EVR
}

// xmlUpdate is the part of <update> read; descriptions, references and
// checksums are skipped.
type xmlUpdate struct {
	Type     string `xml:"type,attr"`
	ID       string `xml:"id"`
	Severity string `xml:"severity"`
	Pkglist  struct {
		Collections []struct {
			Module *struct {
				Name   string `xml:"name,attr"`
				Stream string `xml:"stream,attr"`
			} `xml:"module"`
			Packages []struct {
				Name    string `xml:"name,attr"`
				Epoch   string `xml:"epoch,attr"`
				Version string `xml:"version,attr"`
				Release string `xml:"release,attr"`
				Arch    string `xml:"arch,attr"`
			} `xml:"package"`
		} `xml:"collection"`
	} `xml:"pkglist"`
}

// maxAdvisories bounds the advisories read from one file.
const maxAdvisories = 1 << 20

func (u *xmlUpdate) advisory() Advisory {
	a := Advisory{ID: strings.TrimSpace(u.ID), Type: strings.ToLower(strings.TrimSpace(u.Type)), Severity: strings.TrimSpace(u.Severity)}
	for _, c := range u.Pkglist.Collections {
		col := Collection{Packages: make([]AdvisoryPackage, 0, len(c.Packages))}
		if c.Module != nil && c.Module.Name != "" {
			col.Module = &ModuleRef{Name: c.Module.Name, Stream: c.Module.Stream}
		}
		for _, p := range c.Packages {
			if p.Name == "" || p.Version == "" {
				continue
			}
			col.Packages = append(col.Packages, AdvisoryPackage{
				Name: p.Name, Arch: p.Arch,
				EVR: EVR{Epoch: ParseEpoch(p.Epoch), Version: p.Version, Release: p.Release},
			})
		}
		a.Collections = append(a.Collections, col)
	}
	return a
}
