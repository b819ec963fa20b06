package server

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/store"
)

// comparer is what comparing two runs needs of the store: the runs and
// their targets, the findings that changed between them (keys first, the
// shown ones loaded).
type comparer interface {
	Run(ctx context.Context, id int64) (store.Run, error)
	RunTargets(ctx context.Context, runID int64) ([]store.RunTarget, error)
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
// a single run compared with nothing) everything b fails is new. Only the
// versions that changed between the runs are read, by their keys; the
// findings' JSON is read for the limit most severe new failures and fixes
// shown (two fleet-wide runs differ in thousands).
func (s *Server) Diff(ctx context.Context, a, b int64, limit int) (*RunDiff, error) {
	rb, err := s.store.Run(ctx, b)
	if err != nil {
		return nil, err
	}
	tb, err := s.store.RunTargets(ctx, b)
	if err != nil {
		return nil, err
	}
	var ra store.Run
	var ta []store.RunTarget
	if a != 0 {
		if ra, err = s.store.Run(ctx, a); err != nil {
			return nil, err
		}
		if ta, err = s.store.RunTargets(ctx, a); err != nil {
			return nil, err
		}
	}
	delta, err := s.store.DeltaKeys(ctx, a, b)
	if err != nil {
		return nil, err
	}
	d := CompareRuns(ra, rb, delta.Before, delta.After, ta, tb, s.cfg.Alerts.CertWarnDays)
	d.StillFailing += delta.StillFailing
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

// CompareRuns is Diff's pure part.
func CompareRuns(ra, rb store.Run, fa, fb []store.Record, ta, tb []store.RunTarget, warnDays int) *RunDiff {
	d := &RunDiff{A: ra, B: rb, NewFailures: []store.Record{}, Fixed: []store.Record{}, NewPorts: []store.PortChange{},
		Expiring: []store.CertExpiry{}, TargetsAdded: []string{}, TargetsRemoved: []string{}}
	inA, inB := map[string]store.RunTarget{}, map[string]store.RunTarget{}
	for _, t := range ta {
		inA[t.Name] = t
	}
	for _, t := range tb {
		inB[t.Name] = t
		if _, ok := inA[t.Name]; !ok {
			d.TargetsAdded = append(d.TargetsAdded, t.Name)
		}
	}
	for _, t := range ta {
		if _, ok := inB[t.Name]; !ok {
			d.TargetsRemoved = append(d.TargetsRemoved, t.Name)
		}
	}
	before := map[string]finding.Status{}
	for _, f := range fa {
		before[f.Fingerprint] = f.Status
	}
	for _, f := range fb {
		if _, both := inA[f.Target]; !both {
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
	for _, t := range tb {
		old, ok := inA[t.Name]
		if ok && t.Observations.PortsScanned && old.Observations.PortsScanned {
			for _, p := range t.Observations.OpenPorts {
				if !slices.Contains(old.Observations.OpenPorts, p) {
					d.NewPorts = append(d.NewPorts, store.PortChange{Target: t.Name, Port: p})
				}
			}
		}
		limit := rb.FinishedAt.Add(time.Duration(warnDays) * 24 * time.Hour)
		for _, c := range t.Observations.Certs {
			if c.NotAfter.Before(limit) {
				d.Expiring = append(d.Expiring, store.CertExpiry{Target: t.Name, Subject: c.Subject, SHA256: c.SHA256, NotAfter: c.NotAfter,
					Days: int(c.NotAfter.Sub(rb.FinishedAt).Hours() / 24)})
			}
		}
	}
	sevFirst(d.NewFailures)
	sevFirst(d.Fixed)
	sort.Slice(d.Expiring, func(i, j int) bool { return d.Expiring[i].NotAfter.Before(d.Expiring[j].NotAfter) })
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
