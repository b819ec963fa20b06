package wso2

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/target"
)

// BenchmarkCollectLargest scans the largest fixture (apim-4.5.0: 186
// files, 2.4 MB, two 150-entry keystores). Target: under 100 ms and 50 MiB
// per product home (go test -bench . -benchmem ./internal/collect/wso2).
// cpu-ms/op (user + system time of the process) is steadier than wall
// time on a shared machine.
func BenchmarkCollectLargest(b *testing.B) {
	dir := filepath.Join(fixturesDir(b), "apim-4.5.0")
	tg := target.Target{Kind: target.Directory, Dir: dir}
	b.ReportAllocs()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := New().Collect(context.Background(), tg, &collect.Env{}); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(n), "cpu-ms/op")
}

// BenchmarkCollectLargestWarm scans the same fixture with one Collector,
// as a scan of several homes (an inventory, the homes of a local scan)
// does: from the second home on, certificates it has described already
// are not verified again.
func BenchmarkCollectLargestWarm(b *testing.B) {
	dir := filepath.Join(fixturesDir(b), "apim-4.5.0")
	tg := target.Target{Kind: target.Directory, Dir: dir}
	c := New()
	if _, err := c.Collect(context.Background(), tg, &collect.Env{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := c.Collect(context.Background(), tg, &collect.Env{}); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(n), "cpu-ms/op")
}

// BenchmarkCollectFixtures scans each fixture with a fresh Collector.
func BenchmarkCollectFixtures(b *testing.B) {
	for _, name := range fixtureNames(b) {
		b.Run(name, func(b *testing.B) {
			tg := target.Target{Kind: target.Directory, Dir: filepath.Join(fixturesDir(b), name)}
			b.ReportAllocs()
			n := 0
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := New().Collect(context.Background(), tg, &collect.Env{}); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(n), "cpu-ms/op")
		})
	}
}

// cpuTime is the CPU time this process has used (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
