package wso2

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/target"
)

// BenchmarkCollectLargest scans the largest fixture (apim-4.5.0: 186
// files, 2.4 MB, two 150-entry keystores). Target: under 100 ms and 50 MiB
// per product home (go test -bench . -benchmem ./internal/collect/wso2).
func BenchmarkCollectLargest(b *testing.B) {
	dir := filepath.Join(fixturesDir(b), "apim-4.5.0")
	tg := target.Target{Kind: target.Directory, Dir: dir}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New().Collect(context.Background(), tg, &collect.Env{}); err != nil {
			b.Fatal(err)
		}
	}
}
