package server

import (
	"context"
	"time"

	"github.com/rampart-sec/rampart/internal/alert"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/scan"
	"github.com/rampart-sec/rampart/internal/store"
)

// runKeeper is what the scheduled scans need of the store: each finished
// run stored with its alerts, and old runs pruned.
type runKeeper interface {
	SaveRun(ctx context.Context, in store.RunInput, alerts func(store.Drift) []store.OutboxItem) (store.Drift, error)
	Prune(ctx context.Context, before time.Time) (int, error)
}

// runSchedule scans a schedule's targets and stores the run with its
// alerts. A scan cut short by shutdown is not stored: a run in the store
// is always a whole one.
func (s *Server) runSchedule(ctx context.Context, name string) {
	targets := s.zoneFanOut(ctx, name, s.cfg.scheduleTargets(name))
	if len(targets) == 0 || s.opt.NewScanner == nil {
		return
	}
	s.scanMu.Lock()
	defer s.scanMu.Unlock()
	start := s.now()
	s.mu.Lock()
	s.running[name] = start
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, name)
		s.mu.Unlock()
	}()
	s.log.Info("scan started", "schedule", name, "targets", len(targets))
	sc := s.opt.NewScanner()
	res := sc.Run(ctx, targets)
	if ctx.Err() != nil || res.Report.Interrupted {
		s.log.Warn("scan interrupted; not stored", "schedule", name)
		s.metrics.ScanDone("schedule:"+name, s.now().Sub(start), false, s.now())
		return
	}
	saveStart := time.Now()
	drift, err := s.saveRun(context.WithoutCancel(ctx), res.Report, "schedule:"+name, Observations(res), s.cfg.FirstRunPolicy(name), nil)
	if err != nil {
		s.log.Error("store run", "schedule", name, "err", err)
		s.metrics.ScanDone("schedule:"+name, s.now().Sub(start), false, s.now())
		return
	}
	s.metrics.ScanDone("schedule:"+name, res.Report.FinishedAt.Sub(res.Report.StartedAt), true, s.now())
	s.log.Info("scan stored", "schedule", name, "run", drift.RunID, "findings", len(res.Report.Findings),
		"new_failures", len(drift.NewFailures), "fixed", len(drift.Fixed), "store_ms", time.Since(saveStart).Milliseconds())
	s.prune(context.WithoutCancel(ctx))
}

// prune applies the retention after a run is stored (scheduled or
// uploaded).
func (s *Server) prune(ctx context.Context) {
	r := s.cfg.Retention
	if r <= 0 {
		return
	}
	if n, err := s.store.Prune(ctx, s.now().Add(-r)); err != nil {
		s.log.Error("prune", "err", err)
	} else if n > 0 {
		s.log.Info("pruned old runs", "runs", n, "older_than", r)
	}
}

// saveRun stores a report with the alerts its drift raises, in one
// transaction (with a, when set, in the audit log), and wakes the
// dispatcher. onFirstRun says whether the
// failing findings of targets seen for the first time raise alerts
// (FirstRunFailures) or are only the baseline (FirstRunNone).
func (s *Server) saveRun(ctx context.Context, r *finding.Report, source string, obs map[string]store.Observation, onFirstRun string, a *store.Audit) (store.Drift, error) {
	d, err := s.store.SaveRun(ctx, store.RunInput{Report: r, Source: source, Observations: obs, CertWarnDays: s.cfg.Alerts.CertWarnDays, Now: s.now(), Audit: a},
		func(d store.Drift) []store.OutboxItem {
			evs := alert.FromDrift(d)
			if onFirstRun == FirstRunFailures {
				evs = append(evs, alert.FromFirstRun(d)...)
			}
			return alert.Route(evs, s.dests, s.installation)
		})
	if err == nil {
		s.wakeAlerts()
	}
	return d, err
}

// Observations extracts what drift detection tracks from a scan's facts:
// the open ports of scanned hosts and the certificates served or kept in
// keystores (not truststore entries).
func Observations(res *scan.Result) map[string]store.Observation {
	out := map[string]store.Observation{}
	for i, ti := range res.Report.Targets {
		if i >= len(res.Facts) || res.Facts[i] == nil {
			continue
		}
		out[ti.Name] = observe(res.Facts[i])
	}
	return out
}

func observe(f *facts.Facts) store.Observation {
	var o store.Observation
	if f.Ports != nil {
		o.PortsScanned = true
		for _, p := range f.Ports.Open {
			o.OpenPorts = append(o.OpenPorts, p.Port)
		}
	}
	seen := map[string]bool{}
	add := func(c facts.Certificate) {
		if c.SHA256 == "" || seen[c.SHA256] || c.NotAfter.IsZero() {
			return
		}
		seen[c.SHA256] = true
		o.Certs = append(o.Certs, store.Cert{Subject: c.Subject, SHA256: c.SHA256, NotAfter: c.NotAfter.UTC()})
	}
	if f.TLS != nil {
		for _, ch := range f.TLS.Chains {
			if len(ch.Certificates) > 0 {
				add(ch.Certificates[0])
			}
		}
	}
	if f.Product != nil {
		for _, ks := range f.Product.Keystores {
			if ks.Role == "truststore" {
				continue
			}
			for _, e := range ks.Entries {
				if e.Kind == "private_key" {
					add(e.Certificate)
				}
			}
		}
	}
	return o
}
