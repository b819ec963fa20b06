package pkgdb

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect/hostos/rootfs"
)

// copyRoot copies a test root into a temporary directory, so a test may
// set modification times and add or break files.
func copyRoot(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func installed(pkgs []RPMPackage) *Installed { return NewRPMInstalled(pkgs, "test") }

func openRoot(t testing.TB, dir string) *rootfs.Root {
	t.Helper()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return rootfs.New(r.FS(), dir)
}

// rockyPackages is what the rocky9 test root has installed (rpmsqlite's
// and hostos's tests write it into rpmdb.sqlite).
var rockyPackages = []RPMPackage{
	{Name: "openssl", Arch: "x86_64", EVR: EVR{1, "3.0.7", "24.el9"}},
	{Name: "openssl-libs", Arch: "x86_64", EVR: EVR{1, "3.0.7", "24.el9"}},
	{Name: "openssl-libs", Arch: "i686", EVR: EVR{1, "3.0.7", "24.el9"}},
	{Name: "bash", Arch: "x86_64", EVR: EVR{0, "5.1.8", "9.el9"}},
	{Name: "glibc", Arch: "x86_64", EVR: EVR{0, "2.34", "100.el9"}},
	{Name: "kernel", Arch: "x86_64", EVR: EVR{0, "5.14.0", "362.8.1.el9_3"}},
	{Name: "kernel", Arch: "x86_64", EVR: EVR{0, "5.14.0", "427.13.1.el9_4"}},
	{Name: "curl", Arch: "x86_64", EVR: EVR{0, "7.76.1", "26.el9"}},
	{Name: "sudo", Arch: "x86_64", EVR: EVR{0, "1.9.5p2", "9.el9"}},
	{Name: "less", Arch: "x86_64", EVR: EVR{0, "590", "2.el9"}},
	{Name: "nodejs", Arch: "x86_64", EVR: EVR{1, "18.19.0", "1.module+el9.3.0+21000+aaaaaaaa"}},
	{Name: "python3-setuptools", Arch: "noarch", EVR: EVR{0, "53.0.0", "12.el9"}},
}

func touchAll(t testing.TB, dir, glob string, at time.Time) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, glob))
	if len(m) == 0 {
		t.Fatalf("nothing matches %s", glob)
	}
	for _, p := range m {
		os.Chtimes(p, at, at)
	}
}

// TestRPMSecurityRocky: the rocky9 root's dnf cache. Pending: openssl and
// openssl-libs (an erratum in BaseOS, both arches), nodejs (the enabled
// stream 18), python3-setuptools (noarch). Not pending: bash (a bug fix),
// glibc (the advisory is older than what is installed), kernel (the newest
// installed kernel is the advisory's), curl (an aarch64 package only),
// sudo (BaseOS's primary no longer offers the advisory's version), nodejs
// 20 (a stream not enabled) and less (CRB is disabled).
func TestRPMSecurityRocky(t *testing.T) {
	dir := copyRoot(t, "../testdata/roots/rocky9")
	base := time.Date(2025, 12, 30, 8, 0, 0, 0, time.UTC)
	app := time.Date(2025, 12, 29, 8, 0, 0, 0, time.UTC)
	touchAll(t, dir, "var/cache/dnf/baseos-*/repodata/repomd.xml", base)
	touchAll(t, dir, "var/cache/dnf/appstream-*/repodata/repomd.xml", app)
	touchAll(t, dir, "var/cache/dnf/crb-*/repodata/repomd.xml", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	r := openRoot(t, dir)
	p := RPMSecurity(r, installed(rockyPackages))
	if !p.Known {
		t.Fatalf("not known: %s", p.Reason)
	}
	want := []string{"nodejs", "openssl", "openssl-libs", "python3-setuptools"}
	if !slices.Equal(p.Security, want) {
		t.Errorf("pending %v, want %v", p.Security, want)
	}
	if !p.DataAge.Equal(app) {
		t.Errorf("data age %v, want the older repository's %v", p.DataAge, app)
	}
	if len(p.Sources) != 2 || !strings.Contains(p.Sources[0], "appstream-") || !strings.HasSuffix(p.Sources[0], ".zst") {
		t.Errorf("sources %v", p.Sources)
	}
	for _, s := range []string{"8 security advisories in appstream, baseos", "disabled or removed repositories not read: crb",
		"1 advisory package lists of module streams not enabled", "1 advisory versions no repository offers"} {
		if !strings.Contains(p.Note, s) {
			t.Errorf("note %q lacks %q", p.Note, s)
		}
	}

	// rpm -qa gives no architectures: curl's aarch64 advisory then
	// counts by name (the primary check still drops sudo).
	var qa bytes.Buffer
	for _, pk := range rockyPackages {
		qa.WriteString(pk.Name + "\t" + "0:" + pk.EVR.String() + "\n")
	}
	p = RPMSecurity(r, ParseRpmQA(qa.Bytes()))
	if !p.Known || !slices.Contains(p.Security, "openssl") {
		t.Errorf("rpm -qa: %v %s", p.Security, p.Reason)
	}
}

func TestRPMSecurityZypperAndYum(t *testing.T) {
	r := openRoot(t, copyRoot(t, "testdata/roots/sles15"))
	p := RPMSecurity(r, installed([]RPMPackage{
		{Name: "libopenssl3", Arch: "x86_64", EVR: EVR{0, "3.0.8", "150500.5.8.1"}},
		{Name: "openssl-3", Arch: "x86_64", EVR: EVR{0, "3.0.8", "150500.5.27.1"}},
		{Name: "zypper", Arch: "x86_64", EVR: EVR{0, "1.14.60", "150400.3.40.1"}},
	}))
	if !p.Known || !slices.Equal(p.Security, []string{"libopenssl3"}) {
		t.Errorf("sles: %v %q", p.Security, p.Reason)
	}
	if !strings.Contains(p.Note, "primary metadata is cached") {
		t.Errorf("sles note %q", p.Note)
	}

	r = openRoot(t, copyRoot(t, "testdata/roots/amzn2"))
	p = RPMSecurity(r, installed([]RPMPackage{{Name: "sudo", Arch: "x86_64", EVR: EVR{0, "1.8.23", "10.amzn2.3.2"}}}))
	if !p.Known || !slices.Equal(p.Security, []string{"sudo"}) || len(p.Sources) != 1 {
		t.Errorf("amzn2: %v %q %v", p.Security, p.Reason, p.Sources)
	}
	p = RPMSecurity(r, installed([]RPMPackage{{Name: "sudo", Arch: "x86_64", EVR: EVR{0, "1.9.15p5", "1.amzn2.0.1"}}}))
	if !p.Known || len(p.Security) != 0 {
		t.Errorf("amzn2 up to date: %v %q", p.Security, p.Reason)
	}
}

// TestRPMSecurityUnknown: missing, partial or broken metadata gives
// Known false with the reason.
func TestRPMSecurityUnknown(t *testing.T) {
	inst := installed(rockyPackages)
	cases := []struct {
		name    string
		breakIt func(dir string)
		reason  string
	}{
		{"no cache", func(dir string) { os.RemoveAll(filepath.Join(dir, "var/cache")) }, "no cached repository metadata"},
		{"enabled repository never fetched", func(dir string) {
			m, _ := filepath.Glob(filepath.Join(dir, "var/cache/dnf/appstream-*"))
			os.RemoveAll(m[0])
		}, "enabled repositories without cached metadata: appstream"},
		{"no updateinfo anywhere", func(dir string) {
			m, _ := filepath.Glob(filepath.Join(dir, "var/cache/dnf/*/repodata/*updateinfo*"))
			for _, f := range m {
				os.Remove(f)
			}
		}, "publishes security advisories"},
		{"corrupt gzip", func(dir string) {
			m, _ := filepath.Glob(filepath.Join(dir, "var/cache/dnf/baseos-*/repodata/*updateinfo.xml.gz"))
			b, _ := os.ReadFile(m[0])
			os.WriteFile(m[0], b[:len(b)/2], 0o644)
		}, "updateinfo.xml.gz"},
		{"not xml", func(dir string) {
			m, _ := filepath.Glob(filepath.Join(dir, "var/cache/dnf/baseos-*/repodata/repomd.xml"))
			os.WriteFile(m[0], []byte("<html>"), 0o644)
		}, "repomd.xml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyRoot(t, "../testdata/roots/rocky9")
			c.breakIt(dir)
			p := RPMSecurity(openRoot(t, dir), inst)
			if p.Known || !strings.Contains(p.Reason, c.reason) {
				t.Errorf("known %v reason %q, want %q", p.Known, p.Reason, c.reason)
			}
		})
	}
}

func TestParseUpdateInfo(t *testing.T) {
	var got []Advisory
	err := ParseUpdateInfo(strings.NewReader(updateInfoSample), func(a Advisory) error {
		got = append(got, a)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "FEDORA-2024-1a2b3c" || got[0].Type != "security" || got[1].Type != "bugfix" {
		t.Fatalf("%+v", got)
	}
	c := got[0].Collections
	if len(c) != 2 || c[1].Module == nil || c[1].Module.Stream != "18" || len(c[0].Packages) != 2 {
		t.Fatalf("collections %+v", c)
	}
	if p := c[0].Packages[0]; p.Name != "openssl" || p.EVR != (EVR{1, "3.1.4", "3.fc39"}) || p.Arch != "x86_64" {
		t.Errorf("package %+v", p)
	}
	for _, bad := range []string{"", "<html></html>", "<updates><update type='security'><id>x</id>", "<updates><update></updates>"} {
		if err := ParseUpdateInfo(strings.NewReader(bad), func(Advisory) error { return nil }); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

const updateInfoSample = `<?xml version="1.0" encoding="UTF-8"?>
<updates>
  <update from="updates@fedoraproject.org" status="stable" type="security" version="2.0">
    <id>FEDORA-2024-1a2b3c</id>
    <title>openssl-3.1.4-3.fc39</title>
    <severity>Moderate</severity>
    <description>Fixes &lt;CVE-2024-0727&gt; &amp; more.</description>
    <pkglist>
      <collection short="F39">
        <name>Fedora 39</name>
        <package name="openssl" version="3.1.4" release="3.fc39" epoch="1" arch="x86_64" src="https://download.fedoraproject.org/pub/fedora/linux/updates/39/x86_64/o/openssl-3.1.4-3.fc39.x86_64.rpm">
          <filename>openssl-3.1.4-3.fc39.x86_64.rpm</filename>
          <sum type="sha256">0000</sum>
        </package>
        <package name="openssl-libs" version="3.1.4" release="3.fc39" epoch="1" arch="x86_64"><filename>x</filename></package>
      </collection>
      <collection short="nodejs-18"><module name="nodejs" stream="18" version="1" context="a" arch="x86_64"/>
        <package name="nodejs" version="18.20.2" release="1" epoch="1" arch="x86_64"/>
      </collection>
    </pkglist>
  </update>
  <update from="updates@fedoraproject.org" status="stable" type="bugfix" version="2.0"><id>FEDORA-2024-ffff</id></update>
</updates>
`

// FuzzParseUpdateInfo: any input parses or fails cleanly, and when the
// fast scanner and encoding/xml both read a document they read the same.
func FuzzParseUpdateInfo(f *testing.F) {
	f.Add([]byte(updateInfoSample))
	for _, p := range []string{"../testdata/roots/rocky9/var/cache/dnf/baseos-044cae74d71fe9ea/repodata", "testdata/roots/sles15/var/cache/zypp/raw/SLE-Module-Basesystem15-SP5-Updates/repodata"} {
		m, _ := filepath.Glob(filepath.Join(p, "*updateinfo.xml.gz"))
		for _, file := range m {
			fh, err := os.Open(file)
			if err != nil {
				continue
			}
			z, err := gzip.NewReader(fh)
			if err == nil {
				var b bytes.Buffer
				b.ReadFrom(z)
				f.Add(b.Bytes())
			}
			fh.Close()
		}
	}
	f.Add([]byte("<updates><update type='security'><pkglist><collection><package name='a' version='1' release='1' epoch='x'/></collection></pkglist></update></updates>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast, strict []Advisory
		errFast := ParseUpdateInfo(bytes.NewReader(b), func(a Advisory) error {
			for _, c := range a.Collections {
				for _, p := range c.Packages {
					if p.Name == "" || p.EVR.Version == "" {
						t.Fatalf("empty package %+v", p)
					}
				}
			}
			fast = append(fast, a)
			return nil
		})
		errStrict := parseUpdateInfoStrict(bytes.NewReader(b), func(a Advisory) error {
			strict = append(strict, a)
			return nil
		})
		if errFast == nil && errStrict == nil && !reflect.DeepEqual(normalise(fast), normalise(strict)) {
			t.Fatalf("fast %+v\nstrict %+v", fast, strict)
		}
	})
}

// normalise makes empty and nil package lists alike.
func normalise(as []Advisory) []Advisory {
	for i := range as {
		for j := range as[i].Collections {
			if len(as[i].Collections[j].Packages) == 0 {
				as[i].Collections[j].Packages = nil
			}
		}
		if len(as[i].Collections) == 0 {
			as[i].Collections = nil
		}
	}
	return as
}

// TestParseUpdateInfoAgreesWithXML: the fast scanner and encoding/xml read
// the same from the test roots' files and from the ways XML allows an
// advisory to be written (comments, CDATA, entities, single quotes,
// prefixes, self-closing and repeated elements, an unusual nesting).
func TestParseUpdateInfoAgreesWithXML(t *testing.T) {
	docs := map[string]string{"sample": updateInfoSample, "synthetic": string(synthUpdateInfo(50)),
		"no advisories": "<?xml version=\"1.0\"?>\n<updates/>\n", "no advisories either": "<updates>\n</updates>"}
	for _, p := range []string{"../testdata/roots/rocky9/var/cache/dnf/baseos-044cae74d71fe9ea/repodata/*updateinfo.xml.gz",
		"testdata/roots/sles15/var/cache/zypp/raw/*/repodata/*updateinfo.xml.gz", "testdata/roots/amzn2/var/cache/yum/x86_64/2/amzn2-core/*updateinfo.xml.gz"} {
		m, _ := filepath.Glob(p)
		for _, file := range m {
			fh, _ := os.Open(file)
			z, err := gzip.NewReader(fh)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			b.ReadFrom(z)
			fh.Close()
			docs[file] = b.String()
		}
	}
	upd := func(body string) string { return "<updates>" + body + "</updates>" }
	for name, body := range map[string]string{
		"comment":        `<!-- c --><update type="security"><id>A</id><!-- <id>B</id> --><pkglist><collection><package name="p" version="1" release="1" arch="x"/></collection></pkglist></update>`,
		"cdata":          `<update type="security"><id><![CDATA[A<1>]]></id><pkglist><collection><package name="p" version="1"/></collection></pkglist></update>`,
		"entities":       `<update type="Security"><id>A&amp;B&#65;&#x42;</id><pkglist><collection><package name="p&lt;" version="1&quot;" release='2&apos;' arch="x86_64"/></collection></pkglist></update>`,
		"single quotes":  `<update type='security' ><id >A</id ><pkglist ><collection short = 'x'><module name='m' stream='1'/><package name = 'p' version='1' release='1' epoch='2' arch='noarch'></package></collection></pkglist></update>`,
		"prefixed":       `<u:update xmlns:u="urn:x" type="security"><u:id>A</u:id></u:update><update type="security"><id>B</id></update>`,
		"nested id":      `<update type="security"><references><id>X</id></references><id>A</id></update>`,
		"repeated id":    `<update type="security"><id>A</id><id>B</id></update>`,
		"two modules":    `<update type="security"><pkglist><collection><module name="a" stream="1"/><module name="b"/><package name="p" version="1"/></collection></pkglist></update>`,
		"deep packages":  `<update type="security"><pkglist><collection><x><package name="p" version="1"/></x></collection><package name="q" version="1"/></pkglist><package name="r" version="1"/></update>`,
		"empty":          `<update/><update type="bugfix"></update>`,
		"crlf":           "<update type=\"security\">\r\n<id>A\r\nB</id>\r\n<severity>\rLow</severity></update>",
		"pi":             `<update type="security"><?pi x?><id>A</id></update>`,
		"white space id": "<update type=\" security \"><id>\n  RHSA-1  \n</id></update>",
	} {
		docs[name] = upd(body)
	}
	for name, doc := range docs {
		var fast, strict []Advisory
		errFast := ParseUpdateInfo(strings.NewReader(doc), func(a Advisory) error { fast = append(fast, a); return nil })
		errStrict := parseUpdateInfoStrict(strings.NewReader(doc), func(a Advisory) error { strict = append(strict, a); return nil })
		if errFast != nil || errStrict != nil {
			t.Errorf("%s: fast %v, strict %v", name, errFast, errStrict)
			continue
		}
		if !reflect.DeepEqual(normalise(fast), normalise(strict)) {
			t.Errorf("%s:\n fast %+v\n  xml %+v", name, fast, strict)
		}
	}
}

// parseUpdateInfoStrict decodes a whole updateinfo.xml with encoding/xml:
// the reference ParseUpdateInfo's fast path is checked against.
func parseUpdateInfoStrict(rd io.Reader, fn func(Advisory) error) error {
	d := xml.NewDecoder(rd)
	d.Strict = true
	root := false
	n := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if !root {
				return errors.New("not updateinfo: no <updates> element")
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("updateinfo: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case !root:
			if se.Name.Local != "updates" {
				return fmt.Errorf("not updateinfo: root element <%s>", se.Name.Local)
			}
			root = true
		case se.Name.Local == "update":
			n++
			if n > maxAdvisories {
				return fmt.Errorf("updateinfo: more than %d advisories", maxAdvisories)
			}
			var u xmlUpdate
			if err := d.DecodeElement(&u, &se); err != nil {
				return fmt.Errorf("updateinfo: advisory %d: %w", n, err)
			}
			if err := fn(u.advisory()); err != nil {
				return err
			}
		default:
			if err := d.Skip(); err != nil {
				return fmt.Errorf("updateinfo: %w", err)
			}
		}
	}
}

// FuzzScanPrimary: the byte scanner never panics and only records names
// asked for.
func FuzzScanPrimary(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><metadata packages="1"><package type="rpm"><name>a</name><arch>x86_64</arch><version epoch="0" ver="1" rel="2"/></package></metadata>`))
	f.Add([]byte(`<metadata><package><name>a</name><arch>noarch</arch><version ver="1.0" epoch="3" rel="1.el9"></package>`))
	f.Add([]byte(`<metadata><package><name>a</name><arch></arch><version xver="1" ver=" rel="/></package>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		avail := map[RPMKey]EVR{}
		_ = scanPrimary(bytes.NewReader(b), map[string]bool{"a": true}, avail)
		for k := range avail {
			if k.Name != "a" {
				t.Fatalf("recorded %q", k.Name)
			}
		}
	})
}

// FuzzParseRepoMD: repomd.xml parses or fails cleanly, and hrefs stay
// relative.
func FuzzParseRepoMD(f *testing.F) {
	b, _ := os.ReadFile("../testdata/roots/rocky9/var/cache/dnf/baseos-044cae74d71fe9ea/repodata/repomd.xml")
	f.Add(b)
	f.Add([]byte(`<repomd><data type="updateinfo"><location href="../../../../etc/shadow"/><timestamp>1e12</timestamp></data></repomd>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		md, err := parseRepoMD(b)
		if err != nil {
			return
		}
		for _, href := range md.Files {
			if strings.HasPrefix(href, "/") || href == ".." || strings.HasPrefix(href, "../") {
				t.Fatalf("href %q escapes", href)
			}
		}
	})
}

// TestOpenDataLimits: a stream that inflates past the limit, and an xz
// stream asking for a huge dictionary, fail instead of eating memory.
func TestOpenDataLimits(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	z := gzip.NewWriter(&gz)
	z.Write(bytes.Repeat([]byte("<updates>"), 1<<16))
	z.Close()
	os.WriteFile(filepath.Join(dir, "big.xml.gz"), gz.Bytes(), 0o644)
	// An xz stream whose LZMA2 properties ask for a 1.5 GiB dictionary
	// (property byte 37), and one xz -9 made (64 MiB).
	xzHuge := []byte("\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46\x02\x00\x21\x01\x25\x00\x00\x00\x00\x00\x00\x00")
	os.WriteFile(filepath.Join(dir, "huge.xml.xz"), xzHuge, 0o644)
	r := openRoot(t, dir)
	rd, closeFn, err := openData(r, "/big.xml.gz", 1000)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(rd)
	closeFn()
	if err == nil || !strings.Contains(err.Error(), "more than 1000 bytes") {
		t.Errorf("inflation past the limit: %v", err)
	}
	if _, _, err := openData(r, "/huge.xml.xz", 1<<20); err == nil || !strings.Contains(err.Error(), "1536 MiB") {
		t.Errorf("huge xz dictionary: %v", err)
	}
	m, _ := filepath.Glob("../testdata/roots/rocky9/var/cache/dnf/appstream-*/repodata/*primary.xml.xz")
	r = openRoot(t, filepath.Dir(m[0]))
	rd, closeFn, err = openData(r, "/"+filepath.Base(m[0]), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	if b, err := io.ReadAll(rd); err != nil || !bytes.Contains(b, []byte("<metadata")) {
		t.Errorf("xz -9 file: %v", err)
	}
}
