package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
)

// findingKey is a finding's identity in the store: its target and its
// fingerprint. A fingerprint is a hash of its target, rule and key, so
// rampart's own reports never give two targets one fingerprint; an
// uploaded report can, and its findings are then its own target's and
// never touch the other target's history. (Schema 14: until then the
// findings table was keyed by the fingerprint alone and SaveRun refused
// such a report. That key was a hash: every new finding wrote at a random
// place of its index, most of a first round's store time.)
type findingKey struct{ target, fp string }

// SaveRun stores a finished run, updates each target and finding's
// history, computes the drift against each target's previous state and
// enqueues the alerts that alerts(drift) returns, all in one transaction.
// The run, its targets and findings, the history of each fingerprint and
// the alerts: either all of it is stored or none of it.
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
	// Every target with findings is one of the run's targets.
	listed := map[string]bool{}
	for _, t := range r.Targets {
		listed[t.Name] = true
	}
	for _, f := range r.Findings {
		if !listed[f.Target] {
			listed[f.Target] = true
			cp := *r
			cp.Targets = append(append([]finding.TargetInfo(nil), r.Targets...), finding.TargetInfo{Name: f.Target, Profiles: []string{}})
			r = &cp
			in.Report = r
		}
	}
	var drift Drift
	err := s.tx(ctx, func(tx *sql.Tx) error {
		drift = Drift{At: at.UTC(), NewFailures: []finding.Finding{}, Fixed: []finding.Finding{}, NewPorts: []PortChange{}, Expiring: []CertExpiry{}, FirstRun: []string{},
			FirstRunFailures: []finding.Finding{}}
		sum := finding.Summarize(r.Findings)
		counts := countByTarget(r.Findings)
		// What comparing runs reads: the run's failing findings (of its
		// targets: what its run targets' n_fail sum to) and the digest of
		// its target names.
		var nFail int
		names := make([]string, 0, len(r.Targets))
		counted := make(map[string]bool, len(r.Targets))
		for _, t := range r.Targets {
			if c := counts[t.Name]; c != nil && !counted[t.Name] {
				nFail += c.ByStatus[finding.Fail]
			}
			counted[t.Name] = true
			names = append(names, t.Name)
		}
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO runs (started_at, finished_at, stored_at, source, tool_version, interrupted, n_targets, n_findings, summary, n_fail, targets_key)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			ms0(r.StartedAt), ms0(at), ms0(in.Now), in.Source, r.Tool.Version, b2i(r.Interrupted), len(r.Targets), len(r.Findings), mustJSON(sum), nFail, targetsKey(names)).Scan(&drift.RunID)
		if err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		if err := s.claimJobs(ctx, tx, drift.RunID, in.Jobs, in.Now); err != nil {
			return err
		}
		if err := s.saveReach(ctx, tx, in.Reach); err != nil {
			return err
		}
		known, err := s.saveTargets(ctx, tx, drift.RunID, in, at, counts, &drift)
		if err != nil {
			return err
		}
		if err := s.saveFindings(ctx, tx, drift.RunID, r, at, known, &drift); err != nil {
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

// prevRun is a target's latest run before the one being stored.
type prevRun struct {
	at    int64
	runID int64
}

// saveTargets upserts the run's targets (with their counts) and returns
// the latest run of each that existed before.
func (s *SQL) saveTargets(ctx context.Context, tx *sql.Tx, runID int64, in RunInput, at time.Time, counts map[string]*Counts, d *Drift) (map[string]prevRun, error) {
	var names []string
	seen := map[string]bool{}
	for _, t := range in.Report.Targets {
		if !seen[t.Name] {
			seen[t.Name] = true
			names = append(names, t.Name)
		}
	}
	known := map[string]prevRun{}
	prevObs := map[string]string{}
	err := inChunks(names, func(chunk []any, marks string) error {
		return scanRows(ctx, tx, s.q(`SELECT name, observations, last_seen, last_run_id FROM targets WHERE name IN (`+marks+`)`), chunk, func(sc scanner) error {
			var name, obs string
			var p prevRun
			if err := sc.Scan(&name, &obs, &p.at, &p.runID); err != nil {
				return err
			}
			known[name], prevObs[name] = p, obs
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	up := newBatch(s, tx, `INSERT INTO targets (`+targetCols+`, counts, failing) VALUES `, `
ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, product = excluded.product, version = excluded.version,
  role = excluded.role, parent = excluded.parent, profiles = excluded.profiles, errors = excluded.errors,
  observations = excluded.observations, last_seen = excluded.last_seen, last_run_id = excluded.last_run_id, counts = excluded.counts,
  failing = excluded.failing`, 14)
	rt := newBatch(s, tx, `INSERT INTO run_targets (run_id, target, kind, product, version, errors, observations, counts, n_fail, ports_changed, cert_expires) VALUES `, ``, 11)
	done := map[string]bool{}
	for _, t := range in.Report.Targets {
		if done[t.Name] {
			continue // listed twice: the first counts
		}
		done[t.Name] = true
		obs := in.Observations[t.Name]
		changed := false
		if pj, ok := prevObs[t.Name]; ok {
			var prev Observation
			if err := json.Unmarshal([]byte(pj), &prev); err != nil {
				return nil, fmt.Errorf("target %s observations: %w", t.Name, err)
			}
			changed = portsChanged(prev, obs)
			if obs.PortsScanned && prev.PortsScanned {
				for _, p := range obs.OpenPorts {
					if !slices.Contains(prev.OpenPorts, p) {
						d.NewPorts = append(d.NewPorts, PortChange{Target: t.Name, Port: p})
					}
				}
			}
		} else {
			d.FirstRun = append(d.FirstRun, t.Name)
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
		c := counts[t.Name]
		if c == nil {
			c = newCounts()
		}
		cJSON := mustJSON(c)
		nFail := c.ByStatus[finding.Fail]
		if err := up.add(ctx, t.Name, t.Kind, t.Product, t.Version, t.Role, t.Parent, mustJSON(profiles), mustJSON(errs), obsJSON, ms0(at), ms0(at), runID, cJSON, nFail); err != nil {
			return nil, fmt.Errorf("upsert targets: %w", err)
		}
		if err := rt.add(ctx, runID, t.Name, t.Kind, t.Product, t.Version, mustJSON(errs), obsJSON, cJSON, nFail, b2i(changed), certExpires(obs)); err != nil {
			return nil, fmt.Errorf("run targets: %w", err)
		}
	}
	if err := up.flush(ctx); err != nil {
		return nil, fmt.Errorf("upsert targets: %w", err)
	}
	if err := rt.flush(ctx); err != nil {
		return nil, fmt.Errorf("run targets: %w", err)
	}
	sort.Slice(d.NewPorts, func(i, j int) bool {
		a, b := d.NewPorts[i], d.NewPorts[j]
		return a.Target < b.Target || (a.Target == b.Target && a.Port < b.Port)
	})
	return known, nil
}

// inChunks calls fn with the names in chunks of at most 500, as query
// arguments with their placeholders.
func inChunks(names []string, fn func(chunk []any, marks string) error) error {
	for len(names) > 0 {
		n := min(len(names), 500)
		args := make([]any, n)
		for i, x := range names[:n] {
			args[i] = x
		}
		if err := fn(args, strings.TrimSuffix(strings.Repeat("?, ", n), ", ")); err != nil {
			return err
		}
		names = names[n:]
	}
	return nil
}

type history struct {
	target     string
	lastStatus string
	fixed      sql.NullInt64
	failing    sql.NullInt64
	present    bool
	firstSeen  int64
}

// openSpan is the current version of a finding.
type openSpan struct {
	id     int64
	digest string
	key    countKey
}

// countKey is a row of latest_counts: open versions by rule, severity,
// status, domain and (failing ones) the UTC day they started to fail.
type countKey struct {
	rule     string
	severity int
	status   string
	domain   string
	day      int64
}

const dayMS = 24 * 60 * 60 * 1000

func keyOf(rule string, sev int, status, domain string, since int64) countKey {
	k := countKey{rule: rule, severity: sev, status: status, domain: domain}
	if status == string(finding.Fail) {
		k.day = since / dayMS
	}
	return k
}

// digest identifies a finding version's JSON.
func digest(data string) string {
	h := sha256.Sum256([]byte(data))
	return hex.EncodeToString(h[:16])
}

// saveFindings stores the run's findings as state changes and moves each
// fingerprint's history on (first seen, last seen, fixed at). A finding
// whose status and JSON are those of its open span writes nothing; one
// that changed closes its span and opens a new one; one that is gone
// from a target of this run closes its span.
func (s *SQL) saveFindings(ctx context.Context, tx *sql.Tx, runID int64, r *finding.Report, at time.Time, known map[string]prevRun, d *Drift) error {
	fs := r.Findings
	targets := map[string]bool{}
	for _, t := range r.Targets {
		targets[t.Name] = true
	}
	for _, f := range fs {
		targets[f.Target] = true
	}
	names := make([]string, 0, len(targets))
	for n := range targets {
		names = append(names, n)
	}
	sort.Strings(names)
	prev := map[findingKey]history{}
	spans := map[findingKey]openSpan{}
	err := inChunks(names, func(chunk []any, marks string) error {
		err := scanRows(ctx, tx, s.q(`SELECT fingerprint, target, last_status, fixed_at, failing_since, present, first_seen FROM findings WHERE target IN (`+marks+`)`), chunk, func(sc scanner) error {
			var fp string
			var h history
			var present int
			if err := sc.Scan(&fp, &h.target, &h.lastStatus, &h.fixed, &h.failing, &present, &h.firstSeen); err != nil {
				return err
			}
			h.present = present == 1
			prev[findingKey{h.target, fp}] = h
			return nil
		})
		if err != nil {
			return fmt.Errorf("history: %w", err)
		}
		return scanRows(ctx, tx, s.q(`SELECT id, fingerprint, target, digest, CASE WHEN digest = '' THEN data ELSE '' END, rule_id, severity, status, domain, COALESCE(since, 0)
FROM finding_spans WHERE until_run IS NULL AND target IN (`+marks+`)`), chunk, func(sc scanner) error {
			var sp openSpan
			var fp, target, data, rule, status, domain string
			var sev int
			var since int64
			if err := sc.Scan(&sp.id, &fp, &target, &sp.digest, &data, &rule, &sev, &status, &domain, &since); err != nil {
				return err
			}
			sp.key = keyOf(rule, sev, status, domain, since)
			if sp.digest == "" {
				sp.digest = digest(data)
			}
			spans[findingKey{target, fp}] = sp
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("findings: %w", err)
	}
	w := &findingWrites{runID: runID}
	delta := map[countKey]int64{}
	seen := map[findingKey]bool{}
	for _, f := range fs {
		fp := f.Fingerprint
		if fp == "" {
			fp = finding.Fingerprint(f.Target, f.RuleID, "")
			f.Fingerprint = fp
		}
		k := findingKey{f.Target, fp}
		if seen[k] {
			// Two findings with one fingerprint on one target: keep the first.
			continue
		}
		seen[k] = true
		h, had := prev[k]
		data := mustJSON(f)
		dg := digest(data)
		sp, open := spans[k]
		delete(spans, k)
		changed := !open || sp.digest != dg
		if changed && open {
			w.closeIDs = append(w.closeIDs, sp.id)
			delta[sp.key]--
		}
		fixed, failing := h.fixed, h.failing
		switch {
		case f.Status == finding.Fail:
			fixed = sql.NullInt64{}
			if !had || h.lastStatus != string(finding.Fail) || !failing.Valid {
				failing = sql.NullInt64{Int64: ms0(at), Valid: true}
			}
			_, knownTarget := known[f.Target]
			switch {
			case !knownTarget:
				d.FirstRunFailures = append(d.FirstRunFailures, f)
			case !had || h.lastStatus != string(finding.Fail):
				d.NewFailures = append(d.NewFailures, f)
			}
		case had && h.lastStatus == string(finding.Fail) && (f.Status == finding.Pass || f.Status == finding.NotApplicable):
			fixed = sql.NullInt64{Int64: ms0(at), Valid: true}
			d.Fixed = append(d.Fixed, f)
		}
		if changed {
			// Inserted once the versions it replaces are closed.
			since := ms0(at)
			if had {
				since = h.firstSeen
			}
			if failing.Valid {
				since = failing.Int64
			}
			exc := b2i(f.Exception != nil || f.Status == finding.Waived || f.Status == finding.Attested)
			w.spans = append(w.spans, spanRow{fp: fp, target: f.Target, rule: f.RuleID, status: string(f.Status), severity: int64(f.Severity), domain: f.Domain,
				data: data, digest: dg, since: since, exception: int64(exc)})
			delta[keyOf(f.RuleID, int(f.Severity), string(f.Status), f.Domain, since)]++
		}
		if had && h.present && h.lastStatus == string(f.Status) && h.fixed == fixed && h.failing == failing {
			continue // unchanged: its last seen is its target's
		}
		// first_seen and first_run_id are kept by the upsert for known
		// fingerprints.
		w.hist = append(w.hist, histRow{fp: fp, target: f.Target, rule: f.RuleID, at: ms0(at), status: string(f.Status), fixed: fixed, failing: failing, had: had})
	}
	// Findings gone from their target in this run: last seen at the
	// target's previous run.
	for k, sp := range spans {
		w.closeIDs = append(w.closeIDs, sp.id)
		p := known[k.target]
		w.gone = append(w.gone, goneRow{target: k.target, fp: k.fp, lastSeen: p.at, lastRun: p.runID})
		delta[sp.key]--
	}
	if err := s.writeFindings(ctx, tx, w); err != nil {
		return err
	}
	return s.applyCounts(ctx, tx, delta)
}

// applyCounts moves latest_counts by delta, in key order (two runs
// stored at once on PostgreSQL lock the rows they share in one order).
func (s *SQL) applyCounts(ctx context.Context, tx *sql.Tx, delta map[countKey]int64) error {
	keys := make([]countKey, 0, len(delta))
	for k, n := range delta {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.rule != b.rule {
			return a.rule < b.rule
		}
		if a.severity != b.severity {
			return a.severity < b.severity
		}
		if a.status != b.status {
			return a.status < b.status
		}
		if a.domain != b.domain {
			return a.domain < b.domain
		}
		return a.day < b.day
	})
	up := newBatch(s, tx, `INSERT INTO latest_counts (rule_id, severity, status, domain, since_day, n) VALUES `,
		` ON CONFLICT (rule_id, severity, status, domain, since_day) DO UPDATE SET n = latest_counts.n + excluded.n`, 6)
	for _, k := range keys {
		if err := up.add(ctx, k.rule, k.severity, k.status, k.domain, k.day, delta[k]); err != nil {
			return fmt.Errorf("latest counts: %w", err)
		}
	}
	if err := up.flush(ctx); err != nil {
		return fmt.Errorf("latest counts: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM latest_counts WHERE n = 0`); err != nil {
		return fmt.Errorf("latest counts: %w", err)
	}
	return nil
}

// scanRows runs a query in tx and calls fn for every row.
func scanRows(ctx context.Context, tx *sql.Tx, query string, args []any, fn func(scanner) error) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Counts are a target's findings by status, and its failing ones by
// severity and by domain.
type Counts struct {
	ByStatus       map[finding.Status]int `json:"by_status"`
	FailBySeverity map[string]int         `json:"fail_by_severity"`
	FailByDomain   map[string]int         `json:"fail_by_domain"`
}

func newCounts() *Counts {
	c := &Counts{ByStatus: map[finding.Status]int{}, FailBySeverity: map[string]int{}, FailByDomain: map[string]int{}}
	for _, st := range finding.Statuses() {
		c.ByStatus[st] = 0
	}
	for _, sev := range finding.Severities() {
		c.FailBySeverity[sev.String()] = 0
	}
	return c
}

func (c *Counts) add(status finding.Status, sev finding.Severity, domain string, n int) {
	c.ByStatus[status] += n
	if status == finding.Fail {
		c.FailBySeverity[sev.String()] += n
		c.FailByDomain[domain] += n
	}
}

// countByTarget counts a run's findings per target (one per fingerprint).
func countByTarget(fs []finding.Finding) map[string]*Counts {
	out := map[string]*Counts{}
	seen := map[findingKey]bool{}
	for _, f := range fs {
		fp := f.Fingerprint
		if fp == "" {
			fp = finding.Fingerprint(f.Target, f.RuleID, "")
		}
		k := findingKey{f.Target, fp}
		if seen[k] {
			continue
		}
		seen[k] = true
		c := out[f.Target]
		if c == nil {
			c = newCounts()
			out[f.Target] = c
		}
		c.add(f.Status, f.Severity, f.Domain, 1)
	}
	return out
}

// batch collects rows for one multi-row INSERT, so a run of hundreds of
// findings costs a few round trips rather than one per row.
type batch struct {
	s          *SQL
	tx         *sql.Tx
	head, tail string
	cols, rows int
	args       []any
	// full is the statement of batchRows rows, prepared at its first use
	// and run for every full batch after it (the transaction closes it):
	// SQLite parsed a statement of a thousand parameters for every
	// hundred rows, a tenth of a first round's store.
	full *sql.Stmt
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

// query is the statement of the rows collected.
func (b *batch) query() string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", b.cols), ", ") + ")"
	return b.s.q(b.head + strings.TrimSuffix(strings.Repeat(row+", ", b.rows), ", ") + b.tail)
}

func (b *batch) flush(ctx context.Context) error {
	if b.rows == 0 {
		return nil
	}
	var err error
	if b.rows == batchRows {
		if b.full == nil {
			if b.full, err = b.tx.PrepareContext(ctx, b.query()); err != nil {
				return err
			}
		}
		_, err = b.full.ExecContext(ctx, b.args...)
	} else {
		_, err = b.tx.ExecContext(ctx, b.query(), b.args...)
	}
	b.args, b.rows = b.args[:0], 0
	return err
}
