package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
)

// BenchmarkSaveRunZoneBatch stores what the zone coordinator stores for
// one batch of a first round: a run of 32 targets never seen before (69
// findings each, every one new) with their 32 jobs claimed. The store
// grows as a real first round's does.
func BenchmarkSaveRunZoneBatch(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		s, err := Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchZoneBatch(b, s)
	})
	b.Run("postgres", func(b *testing.B) { benchZoneBatch(b, openTestPostgres(b)) })
}

func benchZoneBatch(b *testing.B, s *SQL) {
	ctx := context.Background()
	const perBatch, rules = 32, 69
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		at := t0.Add(time.Duration(i) * time.Second)
		var targets []string
		var fs []finding.Finding
		var jobs []JobClaim
		for k := range perBatch {
			name := fmt.Sprintf("t%07d@dmz", i*perBatch+k)
			targets = append(targets, name)
			jobs = append(jobs, JobClaim{ID: fmt.Sprintf("1.dmz.%d", i*perBatch+k), Round: 1, Zone: "dmz", Target: name, Agent: "dmz-1", State: JobDone})
			for r := range rules {
				st := finding.Pass
				if r%5 == 0 {
					st = finding.Fail
				}
				fs = append(fs, fnd(name, fmt.Sprintf("HTTP-%03d", r), st, finding.Medium))
			}
		}
		r := report(at, targets, fs...)
		if _, err := s.SaveRun(ctx, RunInput{Report: r, Now: at, Source: "zone:dmz agent:dmz-1", Jobs: jobs}, alertAll); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(perBatch*rules), "findings/run")
}
