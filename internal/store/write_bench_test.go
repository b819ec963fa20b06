package store

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
)

// BenchmarkSaveRunZoneBatch stores what the zone coordinator stores for
// one batch of a first round: a run of 32 targets never seen before with
// their 32 jobs claimed (ZONE_BATCH targets instead of 32), each target
// with the 69 findings of a real scan of an HTTP endpoint from a zone
// (internal/bus/testdata/report-endpoint.json: 61 not applicable, about
// 720 bytes of JSON each), named as the coordinator names them. The store
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
	raw, err := os.ReadFile("../bus/testdata/report-endpoint.json")
	if err != nil {
		b.Fatal(err)
	}
	var real finding.Report
	if err := json.Unmarshal(raw, &real); err != nil {
		b.Fatal(err)
	}
	perBatch := 32
	if v, err := strconv.Atoi(os.Getenv("ZONE_BATCH")); err == nil && v > 0 {
		perBatch = v
	}
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
			for _, f := range real.Findings {
				f.Target = name
				f.Fingerprint = finding.Fingerprint(name, f.RuleID, "")
				fs = append(fs, f)
			}
		}
		r := report(at, targets, fs...)
		if _, err := s.SaveRun(ctx, RunInput{Report: r, Now: at, Source: "zone:dmz agent:dmz-1", Jobs: jobs}, alertAll); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(perBatch*len(real.Findings)), "findings/run")
}

// BenchmarkSaveRunFleetChange stores a fleet's run in which a third of
// its findings changed (issue 12's upload: 10,000 targets x 20 findings,
// FLEET_TARGETS to change the size) after a first run of the whole fleet
// (not timed; its time is reported as first-run-ms).
func BenchmarkSaveRunFleetChange(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		s, err := Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchFleetChange(b, s)
	})
	b.Run("postgres", func(b *testing.B) { benchFleetChange(b, openTestPostgres(b)) })
}

func benchFleetChange(b *testing.B, s *SQL) {
	ctx := context.Background()
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("FLEET_TARGETS")); err == nil && v > 0 {
		n = v
	}
	const per = 20
	targets := make([]string, n)
	fs := make([]finding.Finding, 0, n*per)
	for i := range n {
		targets[i] = fmt.Sprintf("https://10.%d.%d.%d:9443/", i/65536, i/256%256, i%256)
		for r := range per {
			st := finding.Pass
			if r%4 == 0 {
				st = finding.Fail
			}
			fs = append(fs, fnd(targets[i], fmt.Sprintf("TLS-%03d", r), st, finding.Medium))
		}
	}
	start := time.Now()
	if _, err := s.SaveRun(ctx, RunInput{Report: report(t0, targets, fs...), Now: t0}, nil); err != nil {
		b.Fatal(err)
	}
	first := time.Since(start)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A third of the findings flip (the same third each time: every
		// run after the first undoes the one before).
		for k := range fs {
			if k%3 == 0 {
				if fs[k].Status == finding.Fail {
					fs[k].Status = finding.Pass
				} else {
					fs[k].Status = finding.Fail
				}
			}
		}
		at := t0.Add(time.Duration(i+1) * time.Hour)
		if _, err := s.SaveRun(ctx, RunInput{Report: report(at, targets, fs...), Now: at}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(first.Milliseconds()), "first-run-ms")
	b.ReportMetric(float64(len(fs)/3+1), "changed/run")
}
