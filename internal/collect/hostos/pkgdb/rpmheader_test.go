package pkgdb

import (
	"testing"

	"github.com/rampart-sec/rampart/internal/collect/hostos/pkgdb/rpmdbtest"
)

// FuzzRPMHeader: no blob makes the reader panic; a header it accepts has
// a name and a version, and written again as rpm lays a header out
// (rpmdbtest, whose headers the real rpm reads) it reads back the same.
func FuzzRPMHeader(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0})
	f.Add(rpmdbtest.Header(rpmdbtest.Package{Name: "openssl", Version: "3.0.7", Release: "24.el9", Arch: "x86_64", Epoch: 1, HasEpoch: true}))
	f.Add(rpmdbtest.Header(rpmdbtest.Package{Name: "gpg-pubkey", Version: "fd431d51", Release: "4ae0493b"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseRPMHeader(b)
		if err != nil {
			return
		}
		if p.Name == "" || p.EVR.Version == "" {
			t.Fatalf("accepted a header without name or version: %+v", p)
		}
		if p.EVR.Epoch > 1<<32-1 {
			t.Fatalf("epoch %d from a 32-bit field", p.EVR.Epoch)
		}
		again, err := ParseRPMHeader(rpmdbtest.Header(rpmdbtest.Package{Name: p.Name, Version: p.EVR.Version, Release: p.EVR.Release,
			Arch: p.Arch, Epoch: uint32(p.EVR.Epoch), HasEpoch: p.EVR.Epoch != 0}))
		if err != nil || again != p {
			t.Fatalf("%+v written again reads as %+v (%v)", p, again, err)
		}
	})
}
