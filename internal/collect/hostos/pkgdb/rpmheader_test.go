package pkgdb

import "testing"

// FuzzRPMHeader: any blob yields a package or an error, never a panic.
// The seeds (testdata/fuzz) are headers rpmdbtest wrote, which the real
// rpm reads (rpmsqlite's tests).
func FuzzRPMHeader(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseRPMHeader(b)
		if err == nil && (p.Name == "" || p.EVR.Version == "") {
			t.Fatalf("accepted a header without name or version: %+v", p)
		}
	})
}
