// Package pkgdb reads the package manager's local data through a root:
// what is installed (dpkg status, apk installed, rpm's rpmdb.sqlite, or
// `rpm -qa` output on the live host) and which installed packages have a
// security update waiting in the package data already downloaded (apt's
// /var/lib/apt/lists; the updateinfo and primary metadata dnf, yum and
// zypper cache under /var/cache). It never contacts a mirror and runs no
// package tool.
package pkgdb

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"path"
	"sort"
	"strings"
	"time"

	debversion "github.com/knqyf263/go-deb-version"

	"github.com/rampart-sec/rampart/internal/collect/hostos/rootfs"
)

// Limits on package data read.
const (
	maxStatus = 64 << 20
	maxList   = 512 << 20 // decompressed Packages file
)

// Installed is the installed package set.
type Installed struct {
	Manager string
	// Versions maps package name to version; Arch the architecture.
	Versions map[string]string
	Arch     map[string]string
	Source   string
	// RPM holds, on rpm hosts, the newest EVR installed per name and
	// architecture (architecture "" when the source does not say).
	RPM map[RPMKey]EVR
	// Note says how the data was read when that matters (a fallback, a
	// write-ahead log not applied).
	Note string
}

// ReadDpkg parses /var/lib/dpkg/status; only "install ok installed"
// packages count.
func ReadDpkg(r *rootfs.Root) (*Installed, error) {
	const file = "/var/lib/dpkg/status"
	b, err := r.ReadFile(file, maxStatus)
	if err != nil {
		return nil, err
	}
	inst := &Installed{Manager: "dpkg", Versions: map[string]string{}, Arch: map[string]string{}, Source: file}
	err = eachStanza(bytes.NewReader(b), func(f map[string]string) {
		if f["Package"] == "" || !strings.HasSuffix(f["Status"], " installed") {
			return
		}
		inst.Versions[f["Package"]] = f["Version"]
		inst.Arch[f["Package"]] = f["Architecture"]
	})
	if err != nil {
		// A package list cut short could lack the one with the update.
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return inst, nil
}

// ReadApk parses /lib/apk/db/installed (P: name, V: version).
func ReadApk(r *rootfs.Root) (*Installed, error) {
	const file = "/lib/apk/db/installed"
	b, err := r.ReadFile(file, maxStatus)
	if err != nil {
		return nil, err
	}
	inst := &Installed{Manager: "apk", Versions: map[string]string{}, Arch: map[string]string{}, Source: file}
	var name string
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "P:"):
			name = line[2:]
		case strings.HasPrefix(line, "V:") && name != "":
			inst.Versions[name] = line[2:]
		case line == "":
			name = ""
		}
	}
	return inst, nil
}

// stanzaFields are the fields of a stanza the readers use.
var stanzaFields = []string{"Package", "Status", "Version", "Architecture"}

// eachStanza calls fn with the fields of every stanza of a Debian control
// file (dpkg's status, apt's Packages lists): blocks of "Field: value"
// lines, continuation lines indented, separated by blank lines, the
// RFC 822 header syntax net/textproto reads. A stanza it cannot read is an
// error naming the stanza, so a list is never silently cut short (a line
// over bufio.Scanner's limit used to end the list there without one).
func eachStanza(rd io.Reader, fn func(map[string]string)) error {
	tp := textproto.NewReader(bufio.NewReaderSize(rd, 64<<10))
	for n := 1; ; n++ {
		h, err := tp.ReadMIMEHeader()
		if len(h) > 0 {
			f := make(map[string]string, len(stanzaFields))
			for _, k := range stanzaFields {
				if v := strings.TrimSpace(h.Get(k)); v != "" {
					f[k] = v
				}
			}
			fn(f)
		}
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return fmt.Errorf("stanza %d: %w", n, err)
		}
	}
}

// Pending is what the local package lists (apt) or repository metadata
// (dnf, yum, zypper) say of security updates.
type Pending struct {
	Known  bool
	Reason string
	// DataAge is the Date of the newest security Release file read (or the
	// lists' modification time).
	DataAge time.Time
	// Security lists installed packages with a newer version in a security
	// list, sorted.
	Security []string
	Sources  []string
	// Note summarises what was read and what was left out.
	Note string
}

// AptSecurity compares the installed dpkg packages with the security
// suites' Packages lists in /var/lib/apt/lists.
func AptSecurity(r *rootfs.Root, inst *Installed) Pending {
	const dir = "/var/lib/apt/lists"
	ents, err := r.ReadDir(dir)
	if err != nil {
		return Pending{Reason: fmt.Sprintf("%s cannot be read: %v (apt-get update never ran?)", dir, err)}
	}
	var lists, releases []string
	for _, e := range ents {
		n := e.Name()
		if !strings.Contains(n, "security") {
			continue
		}
		switch {
		case strings.Contains(n, "_Packages"):
			lists = append(lists, path.Join(dir, n))
		case strings.HasSuffix(n, "_InRelease") || strings.HasSuffix(n, "_Release"):
			releases = append(releases, path.Join(dir, n))
		}
	}
	if len(lists) == 0 {
		return Pending{Reason: fmt.Sprintf("no security suite's package list in %s (no -security source configured, or apt-get update never ran)", dir)}
	}
	p := Pending{Known: true, Security: []string{}}
	for _, rel := range releases {
		if t, ok := releaseDate(r, rel); ok && t.After(p.DataAge) {
			p.DataAge = t
		}
	}
	pending := map[string]bool{}
	for _, l := range lists {
		if p.DataAge.IsZero() {
			if fi, err := r.Stat(l); err == nil {
				p.DataAge = fi.ModTime().UTC()
			}
		}
		rd, closeFn, err := openData(r, l, maxList)
		if err != nil {
			return Pending{Reason: fmt.Sprintf("%s: %v", l, err)}
		}
		err = eachStanza(rd, func(f map[string]string) {
			name := f["Package"]
			have, ok := inst.Versions[name]
			if !ok {
				return
			}
			if a := f["Architecture"]; a != "all" && inst.Arch[name] != "all" && a != inst.Arch[name] {
				return
			}
			if newer(f["Version"], have) {
				pending[name] = true
			}
		})
		closeFn()
		if err != nil {
			return Pending{Reason: fmt.Sprintf("%s: %v", l, err)}
		}
		p.Sources = append(p.Sources, l)
	}
	for n := range pending {
		p.Security = append(p.Security, n)
	}
	sort.Strings(p.Security)
	return p
}

// newer reports whether Debian version a sorts after b.
func newer(a, b string) bool {
	va, err := debversion.NewVersion(a)
	if err != nil {
		return false
	}
	vb, err := debversion.NewVersion(b)
	if err != nil {
		return false
	}
	return va.GreaterThan(vb)
}

// releaseDate reads the Date: field of a Release or InRelease file.
func releaseDate(r *rootfs.Root, p string) (time.Time, bool) {
	b, err := r.ReadFile(p, 16<<20)
	if err != nil {
		return time.Time{}, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Date:"); ok {
			t, err := time.Parse(time.RFC1123, strings.TrimSpace(strings.Replace(strings.TrimSpace(v), "UTC", "GMT", 1)))
			if err != nil {
				t, err = time.Parse("Mon, 2 Jan 2006 15:04:05 MST", strings.TrimSpace(v))
			}
			if err == nil {
				return t.UTC(), true
			}
		}
	}
	return time.Time{}, false
}
