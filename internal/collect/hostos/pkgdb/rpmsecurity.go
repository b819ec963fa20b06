package pkgdb

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/collect/hostos/rootfs"
)

// Limits on repository metadata read (decompressed).
const (
	maxRepoMD     = 16 << 20
	maxUpdateInfo = 2 << 30
	maxPrimary    = 4 << 30
)

// RPMSecurity tells which installed rpm packages have a security update
// waiting, from the repository metadata dnf, yum or zypper already cached:
// an advisory of type "security" in a repository's updateinfo that ships a
// newer EVR of an installed package for the same architecture (the newest
// installed of that name and architecture: several kernels may be
// installed). Advisories of module streams count only for streams enabled
// in /etc/dnf/modules.d. When every repository read has its primary
// metadata cached, an advisory counts only if a repository offers that
// version or a newer one (Fedora's updateinfo keeps advisories whose
// packages were since replaced). Nothing is downloaded and no package
// tool runs.
func RPMSecurity(r *rootfs.Root, inst *Installed) Pending {
	caches := findRepoCaches(r)
	if len(caches) == 0 {
		return Pending{Reason: "no cached repository metadata of dnf, yum or zypper under /var/cache (dnf makecache or zypper refresh never ran, or the cache was cleaned)"}
	}
	enabled, cfgFiles := repoConfig(r)
	var use []repoCache
	var skipped []string
	for _, c := range caches {
		if len(cfgFiles) > 0 && !enabled[c.ID] {
			skipped = append(skipped, c.ID)
			continue
		}
		use = append(use, c)
	}
	var missing []string
	for id, on := range enabled {
		if on && !slices.ContainsFunc(use, func(c repoCache) bool { return c.ID == id }) {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		return Pending{Reason: fmt.Sprintf("enabled repositories without cached metadata: %s (run dnf makecache or zypper refresh)", strings.Join(missing, ", "))}
	}
	if len(use) == 0 {
		return Pending{Reason: fmt.Sprintf("no enabled repository in %s has cached metadata", strings.Join(cfgFiles, ", "))}
	}

	modules := enabledModules(r)
	m := &matcher{inst: inst, modules: modules, cands: map[RPMKey]candidate{}}
	p := Pending{Known: true, Security: []string{}}
	var oldest time.Time
	var noAdvisories, primaries []string
	var repos []string
	for _, c := range use {
		b, err := r.ReadFile(c.RepoMD, maxRepoMD)
		if err != nil {
			return Pending{Reason: fmt.Sprintf("%s: %v", c.RepoMD, err)}
		}
		md, err := parseRepoMD(b)
		if err != nil {
			return Pending{Reason: fmt.Sprintf("%s: %v", c.RepoMD, err)}
		}
		if t, ok := fileAge(r, c.RepoMD); ok && (oldest.IsZero() || t.Before(oldest)) {
			oldest = t
		}
		repos = append(repos, c.ID)
		if prim, ok := metaFile(r, c, md, "primary"); ok {
			primaries = append(primaries, prim)
		}
		ui, ok := metaFile(r, c, md, "updateinfo")
		if !ok {
			noAdvisories = append(noAdvisories, c.ID)
			continue
		}
		if err := m.read(r, ui, c.ID); err != nil {
			return Pending{Reason: err.Error()}
		}
		p.Sources = append(p.Sources, ui)
	}
	if len(p.Sources) == 0 {
		return Pending{Reason: fmt.Sprintf("none of the cached repositories (%s) publishes security advisories (updateinfo), so pending security updates cannot be told from them", strings.Join(repos, ", "))}
	}
	p.DataAge = oldest

	notes := []string{fmt.Sprintf("%d security advisories in %s", m.advisories, strings.Join(repos, ", "))}
	if len(noAdvisories) > 0 {
		notes = append(notes, "no updateinfo in "+strings.Join(noAdvisories, ", "))
	}
	if len(skipped) > 0 {
		notes = append(notes, "caches of disabled or removed repositories not read: "+strings.Join(skipped, ", "))
	}
	if m.otherStreams > 0 {
		notes = append(notes, fmt.Sprintf("%d advisory package lists of module streams not enabled were not counted", m.otherStreams))
	}
	if inst.RPM != nil && len(m.cands) > 0 {
		if len(primaries) == len(use) {
			dropped, err := m.confirm(r, primaries)
			if err != nil {
				return Pending{Reason: err.Error()}
			}
			if dropped > 0 {
				notes = append(notes, fmt.Sprintf("%d advisory versions no repository offers any more were not counted", dropped))
			}
		} else {
			notes = append(notes, "not every repository's primary metadata is cached: advisories counted without checking a repository still offers the version")
		}
	}
	names := map[string]bool{}
	for _, c := range m.cands {
		names[c.name] = true
	}
	for n := range names {
		p.Security = append(p.Security, n)
	}
	sort.Strings(p.Security)
	p.Note = strings.Join(notes, "; ")
	return p
}

// metaFile finds a data file repomd.xml lists: under the repository's
// directory as listed (dnf, zypper), or beside repomd.xml (yum keeps the
// files flat).
func metaFile(r *rootfs.Root, c repoCache, md *repoMD, typ string) (string, bool) {
	href, ok := md.Files[typ]
	if !ok {
		return "", false
	}
	dir := path.Dir(c.RepoMD)
	for _, p := range []string{path.Join(path.Dir(dir), href), path.Join(dir, path.Base(href))} {
		if fi, err := r.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}

// candidate is an installed package an advisory updates.
type candidate struct {
	name, arch string // arch as the advisory lists it
	evr        EVR    // the newest advisory version
	advisory   string
}

// matcher collects candidates across every repository's updateinfo.
type matcher struct {
	inst         *Installed
	modules      map[string]bool
	cands        map[RPMKey]candidate
	advisories   int
	otherStreams int
}

func (m *matcher) read(r *rootfs.Root, file, repo string) error {
	rd, closeFn, err := openData(r, file, maxUpdateInfo)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	defer closeFn()
	err = ParseUpdateInfo(rd, func(a Advisory) error {
		if a.Type != "security" {
			return nil
		}
		m.advisories++
		for _, col := range a.Collections {
			if col.Module != nil && !m.modules[col.Module.Name+":"+col.Module.Stream] {
				m.otherStreams++
				continue
			}
			for _, ap := range col.Packages {
				m.consider(ap, a.ID)
			}
		}
		return nil
	})
	if err != nil {
		var tl errTooLarge
		if errors.As(err, &tl) {
			return err
		}
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// consider records ap when it is newer than what is installed of its name
// and architecture. An installed set without architectures (rpm -qa)
// compares by name alone.
func (m *matcher) consider(ap AdvisoryPackage, id string) {
	if ap.Arch == "src" || ap.Arch == "nosrc" {
		return
	}
	key := RPMKey{Name: ap.Name, Arch: ap.Arch}
	have, ok := m.inst.RPM[key]
	if !ok {
		key.Arch = ""
		if have, ok = m.inst.RPM[key]; !ok {
			return
		}
	}
	if ap.EVR.Compare(have) <= 0 {
		return
	}
	ck := RPMKey{Name: ap.Name, Arch: ap.Arch}
	if old, ok := m.cands[ck]; ok && old.evr.Compare(ap.EVR) >= 0 {
		return
	}
	m.cands[ck] = candidate{name: ap.Name, arch: ap.Arch, evr: ap.EVR, advisory: id}
}

// confirm keeps the candidates some repository offers at the advisory's
// version or newer, and returns how many it dropped.
func (m *matcher) confirm(r *rootfs.Root, primaries []string) (int, error) {
	names := map[string]bool{}
	for _, c := range m.cands {
		names[c.name] = true
	}
	avail := map[RPMKey]EVR{}
	for _, p := range primaries {
		rd, closeFn, err := openData(r, p, maxPrimary)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", p, err)
		}
		err = scanPrimary(rd, names, avail)
		closeFn()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", p, err)
		}
	}
	dropped := 0
	for k, c := range m.cands {
		if have, ok := avail[k]; !ok || have.Compare(c.evr) < 0 {
			delete(m.cands, k)
			dropped++
		}
	}
	return dropped, nil
}
