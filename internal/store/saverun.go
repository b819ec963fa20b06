package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
)

// SaveRun implements Store. Everything happens in one transaction: the
// run, its targets and findings, the history of each fingerprint, and the
// alerts. Either all of it is stored or none of it.
func (s *SQL) SaveRun(ctx context.Context, in RunInput, alerts func(Drift) []OutboxItem) (Drift, error) {
	r := in.Report
	if r == nil {
		return Drift{}, errors.New("save run: no report")
	}
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	at := r.FinishedAt
	if at.IsZero() {
		at = in.Now
	}
	var drift Drift
	err := s.tx(ctx, func(tx *sql.Tx) error {
		drift = Drift{At: at.UTC(), NewFailures: []finding.Finding{}, Fixed: []finding.Finding{}, NewPorts: []PortChange{}, Expiring: []CertExpiry{}, FirstRun: []string{},
			FirstRunFailures: []finding.Finding{}}
		sum := finding.Summarize(r.Findings)
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO runs (started_at, finished_at, stored_at, source, tool_version, interrupted, n_targets, n_findings, summary)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			ms0(r.StartedAt), ms0(at), ms0(in.Now), in.Source, r.Tool.Version, b2i(r.Interrupted), len(r.Targets), len(r.Findings), mustJSON(sum)).Scan(&drift.RunID)
		if err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		if err := s.claimJobs(ctx, tx, drift.RunID, in.Jobs, in.Now); err != nil {
			return err
		}
		known, err := s.saveTargets(ctx, tx, drift.RunID, in, at, &drift)
		if err != nil {
			return err
		}
		if err := s.saveFindings(ctx, tx, drift.RunID, r.Findings, at, known, &drift); err != nil {
			return err
		}
		if alerts != nil {
			if _, err := s.enqueue(ctx, tx, alerts(drift), in.Now); err != nil {
				return err
			}
		}
		if in.Audit != nil {
			a := *in.Audit
			if a.Subject == "" {
				a.Subject = fmt.Sprintf("run %d", drift.RunID)
			}
			return s.audit(ctx, tx, a)
		}
		return nil
	})
	if err != nil {
		return Drift{}, fmt.Errorf("save run: %w", err)
	}
	return drift, nil
}

// saveTargets upserts the run's targets and records which existed before.
func (s *SQL) saveTargets(ctx context.Context, tx *sql.Tx, runID int64, in RunInput, at time.Time, d *Drift) (map[string]bool, error) {
	known := map[string]bool{}
	for _, t := range in.Report.Targets {
		obs := in.Observations[t.Name]
		var prevObs string
		err := tx.QueryRowContext(ctx, s.q(`SELECT observations FROM targets WHERE name = ?`), t.Name).Scan(&prevObs)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			d.FirstRun = append(d.FirstRun, t.Name)
		case err != nil:
			return nil, fmt.Errorf("target %s: %w", t.Name, err)
		default:
			known[t.Name] = true
			var prev Observation
			if err := json.Unmarshal([]byte(prevObs), &prev); err != nil {
				return nil, fmt.Errorf("target %s observations: %w", t.Name, err)
			}
			if obs.PortsScanned && prev.PortsScanned {
				for _, p := range obs.OpenPorts {
					if !slices.Contains(prev.OpenPorts, p) {
						d.NewPorts = append(d.NewPorts, PortChange{Target: t.Name, Port: p})
					}
				}
			}
		}
		if in.CertWarnDays > 0 {
			limit := at.Add(time.Duration(in.CertWarnDays) * 24 * time.Hour)
			for _, c := range obs.Certs {
				if c.NotAfter.Before(limit) {
					d.Expiring = append(d.Expiring, CertExpiry{Target: t.Name, Subject: c.Subject, SHA256: c.SHA256, NotAfter: c.NotAfter, Days: int(c.NotAfter.Sub(at).Hours() / 24)})
				}
			}
		}
		profiles := t.Profiles
		if profiles == nil {
			profiles = []string{}
		}
		errs := t.Errors
		if errs == nil {
			errs = []string{}
		}
		obsJSON := mustJSON(obs)
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO targets (`+targetCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, product = excluded.product, version = excluded.version,
  role = excluded.role, parent = excluded.parent, profiles = excluded.profiles, errors = excluded.errors,
  observations = excluded.observations, last_seen = excluded.last_seen, last_run_id = excluded.last_run_id`),
			t.Name, t.Kind, t.Product, t.Version, t.Role, t.Parent, mustJSON(profiles), mustJSON(errs), obsJSON, ms0(at), ms0(at), runID)
		if err != nil {
			return nil, fmt.Errorf("upsert target %s: %w", t.Name, err)
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO run_targets (run_id, target, kind, product, version, errors, observations) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			runID, t.Name, t.Kind, t.Product, t.Version, mustJSON(errs), obsJSON)
		if err != nil {
			return nil, fmt.Errorf("run target %s: %w", t.Name, err)
		}
	}
	sort.Slice(d.NewPorts, func(i, j int) bool {
		a, b := d.NewPorts[i], d.NewPorts[j]
		return a.Target < b.Target || (a.Target == b.Target && a.Port < b.Port)
	})
	return known, nil
}

type history struct {
	lastStatus string
	fixed      sql.NullInt64
}

// saveFindings stores the run's findings and moves each fingerprint's
// history on: first seen, last seen, fixed at.
func (s *SQL) saveFindings(ctx context.Context, tx *sql.Tx, runID int64, fs []finding.Finding, at time.Time, known map[string]bool, d *Drift) error {
	prev := map[string]history{}
	targets := map[string]bool{}
	for _, f := range fs {
		targets[f.Target] = true
	}
	names := make([]string, 0, len(targets))
	for n := range targets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		rows, err := tx.QueryContext(ctx, s.q(`SELECT fingerprint, last_status, fixed_at FROM findings WHERE target = ?`), name)
		if err != nil {
			return fmt.Errorf("history of %s: %w", name, err)
		}
		for rows.Next() {
			var fp string
			var h history
			if err := rows.Scan(&fp, &h.lastStatus, &h.fixed); err != nil {
				rows.Close()
				return fmt.Errorf("history of %s: %w", name, err)
			}
			prev[fp] = h
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("history of %s: %w", name, err)
		}
	}
	rf := newBatch(s, tx, `INSERT INTO run_findings (run_id, fingerprint, target, rule_id, status, severity, domain, data) VALUES `, ``, 8)
	hist := newBatch(s, tx, `INSERT INTO findings (fingerprint, target, rule_id, first_seen, first_run_id, last_seen, last_run_id, last_status, fixed_at) VALUES `,
		` ON CONFLICT (fingerprint) DO UPDATE SET last_seen = excluded.last_seen, last_run_id = excluded.last_run_id, last_status = excluded.last_status, fixed_at = excluded.fixed_at`, 9)
	seen := map[string]bool{}
	for _, f := range fs {
		fp := f.Fingerprint
		if fp == "" {
			fp = finding.Fingerprint(f.Target, f.RuleID, "")
			f.Fingerprint = fp
		}
		if seen[fp] {
			// Two findings with one fingerprint in one report: keep the first.
			continue
		}
		seen[fp] = true
		if err := rf.add(ctx, runID, fp, f.Target, f.RuleID, string(f.Status), int(f.Severity), f.Domain, mustJSON(f)); err != nil {
			return fmt.Errorf("findings: %w", err)
		}
		h, had := prev[fp]
		fixed := h.fixed
		switch {
		case f.Status == finding.Fail:
			fixed = sql.NullInt64{}
			switch {
			case !known[f.Target]:
				d.FirstRunFailures = append(d.FirstRunFailures, f)
			case !had || h.lastStatus != string(finding.Fail):
				d.NewFailures = append(d.NewFailures, f)
			}
		case had && h.lastStatus == string(finding.Fail) && (f.Status == finding.Pass || f.Status == finding.NotApplicable):
			fixed = sql.NullInt64{Int64: ms0(at), Valid: true}
			d.Fixed = append(d.Fixed, f)
		}
		// first_seen and first_run_id are kept by the upsert for known
		// fingerprints.
		if err := hist.add(ctx, fp, f.Target, f.RuleID, ms0(at), runID, ms0(at), runID, string(f.Status), fixed); err != nil {
			return fmt.Errorf("finding history: %w", err)
		}
	}
	if err := rf.flush(ctx); err != nil {
		return fmt.Errorf("findings: %w", err)
	}
	if err := hist.flush(ctx); err != nil {
		return fmt.Errorf("finding history: %w", err)
	}
	return nil
}

// batch collects rows for one multi-row INSERT, so a run of hundreds of
// findings costs a few round trips rather than one per row.
type batch struct {
	s          *SQL
	tx         *sql.Tx
	head, tail string
	cols, rows int
	args       []any
}

// batchRows is how many rows go in one statement (well under SQLite's
// and PostgreSQL's limits on bound parameters).
const batchRows = 100

func newBatch(s *SQL, tx *sql.Tx, head, tail string, cols int) *batch {
	return &batch{s: s, tx: tx, head: head, tail: tail, cols: cols}
}

func (b *batch) add(ctx context.Context, vals ...any) error {
	b.args = append(b.args, vals...)
	b.rows++
	if b.rows >= batchRows {
		return b.flush(ctx)
	}
	return nil
}

func (b *batch) flush(ctx context.Context) error {
	if b.rows == 0 {
		return nil
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", b.cols), ", ") + ")"
	q := b.head + strings.TrimSuffix(strings.Repeat(row+", ", b.rows), ", ") + b.tail
	_, err := b.tx.ExecContext(ctx, b.s.q(q), b.args...)
	b.args, b.rows = b.args[:0], 0
	return err
}
