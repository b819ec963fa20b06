package tlsprobe

import "testing"

// BenchmarkNew is the collector's construction: the suite registry and the
// ranked candidate lists, paid once per process.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		_ = New(Options{})
	}
}
