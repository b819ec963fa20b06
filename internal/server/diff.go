package server

import (
	"context"
	"sort"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/store"
)

// comparer is what comparing two runs needs of the store: the runs, how
// their targets differ, the findings that changed between them (keys
// first, the shown ones loaded).
type comparer interface {
	Run(ctx context.Context, id int64) (store.Run, error)
	CompareTargets(ctx context.Context, a, b int64, expiringBefore time.Time) (store.TargetDiff, error)
	DeltaKeys(ctx context.Context, a, b int64) (store.RunDelta, error)
	LoadRecords(ctx context.Context, recs []store.Record) error
}

// RunDiff is the difference between two runs: what fails in B that did not
// in A, what A failed that B fixed, ports open in B and not in A, and the
// certificates B saw that expire soon.
type RunDiff struct {
	A            store.Run          `json:"a"`
	B            store.Run          `json:"b"`
	NewFailures  []store.Record     `json:"new_failures"`
	Fixed        []store.Record     `json:"fixed"`
	StillFailing int                `json:"still_failing"`
	NewPorts     []store.PortChange `json:"new_ports"`
	Expiring     []store.CertExpiry `json:"expiring"`
	// TargetsAdded are in B only, TargetsRemoved in A only; findings of
	// targets in one run only are not compared.
	TargetsAdded   []string `json:"targets_added"`
	TargetsRemoved []string `json:"targets_removed"`
	// NewFailuresTotal and FixedTotal count them all; the lists hold the
	// most severe (up to the limit asked for).
	NewFailuresTotal int `json:"new_failures_total"`
	FixedTotal       int `json:"fixed_total"`
}

// Diff compares run a with the later run b. With a 0 (no earlier run:
// a single run compared with nothing) everything b fails is new. It reads
// what changed between the runs, not both runs: the versions of findings
// that start or end between them (by their keys), the targets only when
// the runs do not cover the same ones, the port scans of the targets
// whose ports changed, b's certificates expiring within the warning
// window; the findings' JSON is read for the limit most severe new
// failures and fixes shown (two fleet-wide runs differ in thousands).
func (s *Server) Diff(ctx context.Context, a, b int64, limit int) (*RunDiff, error) {
	rb, err := s.store.Run(ctx, b)
	if err != nil {
		return nil, err
	}
	var ra store.Run
	if a != 0 {
		if ra, err = s.store.Run(ctx, a); err != nil {
			return nil, err
		}
	}
	td, err := s.store.CompareTargets(ctx, a, b, rb.FinishedAt.Add(time.Duration(s.cfg.Alerts.CertWarnDays)*24*time.Hour))
	if err != nil {
		return nil, err
	}
	delta, err := s.store.DeltaKeys(ctx, a, b)
	if err != nil {
		return nil, err
	}
	d := CompareRuns(ra, rb, delta, td)
	if a == 0 {
		// Nothing before: every target is new, every failure too.
		for _, f := range delta.After {
			if f.Status == finding.Fail {
				d.NewFailures = append(d.NewFailures, f)
			}
		}
		sevFirst(d.NewFailures)
	}
	d.NewFailuresTotal, d.FixedTotal = len(d.NewFailures), len(d.Fixed)
	if limit > 0 {
		d.NewFailures, d.Fixed = d.NewFailures[:min(limit, len(d.NewFailures))], d.Fixed[:min(limit, len(d.Fixed))]
	}
	if err := s.store.LoadRecords(ctx, d.NewFailures); err != nil {
		return nil, err
	}
	if err := s.store.LoadRecords(ctx, d.Fixed); err != nil {
		return nil, err
	}
	return d, nil
}

// CompareRuns is Diff's pure part: the versions that changed between the
// runs (delta: After of b's targets, Before of a's) and how the runs'
// targets differ. Findings of targets in b only are not compared.
func CompareRuns(ra, rb store.Run, delta store.RunDelta, td store.TargetDiff) *RunDiff {
	d := &RunDiff{A: ra, B: rb, NewFailures: []store.Record{}, Fixed: []store.Record{}, StillFailing: delta.StillFailing,
		NewPorts: td.NewPorts, Expiring: td.Expiring, TargetsAdded: td.Added, TargetsRemoved: td.Removed}
	added := make(map[string]bool, len(td.Added))
	for _, n := range td.Added {
		added[n] = true
	}
	before := map[string]finding.Status{}
	for _, f := range delta.Before {
		before[f.Fingerprint] = f.Status
	}
	for _, f := range delta.After {
		if added[f.Target] {
			continue
		}
		prev, had := before[f.Fingerprint]
		switch {
		case f.Status == finding.Fail && prev == finding.Fail:
			d.StillFailing++
		case f.Status == finding.Fail && (!had || prev != finding.Fail):
			d.NewFailures = append(d.NewFailures, f)
		case had && prev == finding.Fail && (f.Status == finding.Pass || f.Status == finding.NotApplicable):
			d.Fixed = append(d.Fixed, f)
		}
	}
	sevFirst(d.NewFailures)
	sevFirst(d.Fixed)
	return d
}

// sevFirst sorts records most severe first, then by target and rule.
func sevFirst(rs []store.Record) {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].Severity != rs[j].Severity {
			return rs[i].Severity > rs[j].Severity
		}
		if rs[i].Target != rs[j].Target {
			return rs[i].Target < rs[j].Target
		}
		return rs[i].RuleID < rs[j].RuleID
	})
}
