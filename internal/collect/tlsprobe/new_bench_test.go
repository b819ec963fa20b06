package tlsprobe

import "testing"

// BenchmarkNew is the collector's construction: the suite registry and the
// ranked candidate lists, paid once per process.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		_ = New(Options{})
	}
}

// BenchmarkLoadSystemRoots reads and indexes the system roots, once per
// collector.
func BenchmarkLoadSystemRoots(b *testing.B) {
	for b.Loop() {
		if r := loadSystemRoots(); len(r.bySubject) == 0 && r.pool == nil {
			b.Fatal("no roots")
		}
	}
}
