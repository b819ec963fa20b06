package pkgdb

import (
	"bytes"
	"fmt"
	"testing"
)

// synthUpdateInfo is an updateinfo.xml of n security advisories of three
// packages each, shaped like RHEL's (descriptions and references
// included): RHEL 9 AppStream's holds about 4,000.
func synthUpdateInfo(n int) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<updates>\n")
	for i := range n {
		fmt.Fprintf(&b, `<update from="security@example.com" status="final" type="security" version="2"><id>RLSA-2024:%d</id><title>Important: pkg%d security update</title><issued date="2024-05-01 10:00:00"/><severity>Important</severity><description>%s</description><references><reference href="https://example.com/CVE-2024-%d" id="CVE-2024-%d" type="cve"/></references><pkglist><collection short="x"><name>Rocky Linux 9</name>`,
			i, i, bytes.Repeat([]byte("A flaw was found that allows an attacker to do things. "), 20), i, i)
		for j := range 3 {
			fmt.Fprintf(&b, `<package name="pkg%d-%d" version="1.%d" release="%d.el9" epoch="0" arch="x86_64" src="pkg%d-1.%d-%d.el9.src.rpm"><filename>pkg%d-%d.rpm</filename><sum type="sha256">0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef</sum></package>`, i, j, i, i, i, i, i, i, j)
		}
		b.WriteString("</collection></pkglist></update>\n")
	}
	b.WriteString("</updates>\n")
	return b.Bytes()
}

func BenchmarkParseUpdateInfo(b *testing.B) {
	data := synthUpdateInfo(4000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := ParseUpdateInfo(bytes.NewReader(data), func(Advisory) error { n++; return nil }); err != nil || n != 4000 {
			b.Fatal(err, n)
		}
	}
}

func BenchmarkRPMSecurityRocky(b *testing.B) {
	r := openRoot(b, "../testdata/roots/rocky9")
	inst := installed(rockyPackages)
	b.ReportAllocs()
	for b.Loop() {
		if p := RPMSecurity(r, inst); !p.Known {
			b.Fatal(p.Reason)
		}
	}
}
