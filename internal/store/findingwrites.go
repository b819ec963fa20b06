package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// findingWrites are the rows a run's findings change, gathered by
// saveFindings and written together: the versions closed (by row ID),
// the versions opened, the fingerprints whose history moved and those
// gone from their target.
type findingWrites struct {
	runID    int64
	closeIDs []int64
	spans    []spanRow
	hist     []histRow
	gone     []goneRow
}

// spanRow is a finding version to open at the run.
type spanRow struct {
	fp, target, rule, status, domain, data, digest string
	severity, since, exception                     int64
}

// histRow is a fingerprint's history as of the run (first_seen and
// first_run_id are kept by the upsert for known fingerprints).
type histRow struct {
	fp, target, rule, status string
	at                       int64
	fixed, failing           sql.NullInt64
	// had says the target had this fingerprint before (its row exists).
	had bool
}

// goneRow is a fingerprint gone from its target: last seen at the
// target's previous run.
type goneRow struct {
	target, fp        string
	lastSeen, lastRun int64
}

// writeFindings writes w in one pass per kind of row: on PostgreSQL one
// statement per few thousand rows, the rows passed as arrays (unnest);
// on SQLite multi-row statements of batchRows rows. Versions are closed
// before the new ones are opened (one open version per fingerprint), and
// opened in the order of the indexes most of them lead with (target,
// rule, fingerprint), so consecutive rows land on the same index pages.
func (s *SQL) writeFindings(ctx context.Context, tx *sql.Tx, w *findingWrites) error {
	slices.SortFunc(w.spans, func(a, b spanRow) int {
		if c := strings.Compare(a.target, b.target); c != 0 {
			return c
		}
		if c := strings.Compare(a.rule, b.rule); c != 0 {
			return c
		}
		return strings.Compare(a.fp, b.fp)
	})
	slices.SortFunc(w.gone, func(a, b goneRow) int {
		if c := strings.Compare(a.target, b.target); c != 0 {
			return c
		}
		return strings.Compare(a.fp, b.fp)
	})
	slices.Sort(w.closeIDs)
	if s.dialect == "postgres" {
		return s.writeFindingsPG(ctx, tx, w)
	}
	return s.writeFindingsBatched(ctx, tx, w)
}

// pgChunk is how many rows one PostgreSQL statement carries (a version's
// JSON is about a kilobyte: a few megabytes a statement).
const pgChunk = 5000

// chunks calls fn for [lo, hi) ranges of n rows, size at a time.
func chunks(n, size int, fn func(lo, hi int) error) error {
	for lo := 0; lo < n; lo += size {
		if err := fn(lo, min(n, lo+size)); err != nil {
			return err
		}
	}
	return nil
}

func nullable(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	return &v.Int64
}

func (s *SQL) writeFindingsPG(ctx context.Context, tx *sql.Tx, w *findingWrites) error {
	err := chunks(len(w.hist), pgChunk, func(lo, hi int) error {
		rows := w.hist[lo:hi]
		fp, target, rule, status := make([]string, len(rows)), make([]string, len(rows)), make([]string, len(rows)), make([]string, len(rows))
		fixed, failing := make([]*int64, len(rows)), make([]*int64, len(rows))
		for i, r := range rows {
			fp[i], target[i], rule[i], status[i], fixed[i], failing[i] = r.fp, r.target, r.rule, r.status, nullable(r.fixed), nullable(r.failing)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO findings (fingerprint, target, rule_id, first_seen, first_run_id, last_seen, last_run_id, last_status, fixed_at, present, failing_since)
SELECT u.fp, u.target, u.rule, $1, $2, $1, $2, u.status, u.fixed, 1, u.failing
FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[]) AS u(fp, target, rule, status, fixed, failing)
ON CONFLICT (target, fingerprint) DO UPDATE SET last_seen = excluded.last_seen, last_run_id = excluded.last_run_id, last_status = excluded.last_status,
  fixed_at = excluded.fixed_at, present = 1, failing_since = excluded.failing_since`,
			rows[0].at, w.runID, fp, target, rule, status, fixed, failing)
		return err
	})
	if err != nil {
		return fmt.Errorf("finding history: %w", err)
	}
	err = chunks(len(w.gone), pgChunk, func(lo, hi int) error {
		rows := w.gone[lo:hi]
		target, fp, seen, run := make([]string, len(rows)), make([]string, len(rows)), make([]int64, len(rows)), make([]int64, len(rows))
		for i, r := range rows {
			target[i], fp[i], seen[i], run[i] = r.target, r.fp, r.lastSeen, r.lastRun
		}
		_, err := tx.ExecContext(ctx, `UPDATE findings f SET present = 0, last_seen = u.seen, last_run_id = u.run
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS u(target, fp, seen, run) WHERE f.target = u.target AND f.fingerprint = u.fp`, target, fp, seen, run)
		return err
	})
	if err != nil {
		return fmt.Errorf("finding history: %w", err)
	}
	err = chunks(len(w.closeIDs), pgChunk*4, func(lo, hi int) error {
		_, err := tx.ExecContext(ctx, `UPDATE finding_spans SET until_run = $1 WHERE id = ANY($2::bigint[])`, w.runID, w.closeIDs[lo:hi])
		return err
	})
	if err != nil {
		return fmt.Errorf("close findings: %w", err)
	}
	err = chunks(len(w.spans), pgChunk, func(lo, hi int) error {
		rows := w.spans[lo:hi]
		n := len(rows)
		fp, target, rule, status, domain, data, dg := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		sev, since, exc := make([]int64, n), make([]int64, n), make([]int64, n)
		for i, r := range rows {
			fp[i], target[i], rule[i], status[i], domain[i], data[i], dg[i] = r.fp, r.target, r.rule, r.status, r.domain, r.data, r.digest
			sev[i], since[i], exc[i] = r.severity, r.since, r.exception
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO finding_spans (fingerprint, target, rule_id, status, severity, domain, data, from_run, digest, since, exception)
SELECT u.fp, u.target, u.rule, u.status, u.sev, u.domain, u.data, $1, u.dg, u.since, u.exc
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[])
  WITH ORDINALITY AS u(fp, target, rule, status, sev, domain, data, dg, since, exc, n) ORDER BY u.n`,
			w.runID, fp, target, rule, status, sev, domain, data, dg, since, exc)
		return err
	})
	if err != nil {
		return fmt.Errorf("findings: %w", err)
	}
	return nil
}

func (s *SQL) writeFindingsBatched(ctx context.Context, tx *sql.Tx, w *findingWrites) error {
	// Fingerprints new to their target (all of a first run's) are plain
	// inserts; the upsert is for those with a history. Statements that
	// cannot end half done (OR FAIL: the transaction is rolled back on any
	// error anyway) spare SQLite the statement journal a multi-row write
	// that may abort keeps, a copy of every page it touches.
	var fresh, known []histRow
	for _, r := range w.hist {
		if r.had {
			known = append(known, r)
		} else {
			fresh = append(fresh, r)
		}
	}
	// In key order: consecutive rows land on the same pages of the key.
	byKey := func(a, b histRow) int {
		if c := strings.Compare(a.target, b.target); c != 0 {
			return c
		}
		return strings.Compare(a.fp, b.fp)
	}
	slices.SortFunc(fresh, byKey)
	slices.SortFunc(known, byKey)
	const histCols = `INSERT OR FAIL INTO findings (fingerprint, target, rule_id, first_seen, first_run_id, last_seen, last_run_id, last_status, fixed_at, present, failing_since) VALUES `
	ins0 := newBatch(s, tx, histCols, ``, 11)
	for _, r := range fresh {
		if err := ins0.add(ctx, r.fp, r.target, r.rule, r.at, w.runID, r.at, w.runID, r.status, r.fixed, 1, r.failing); err != nil {
			return fmt.Errorf("finding history: %w", err)
		}
	}
	if err := ins0.flush(ctx); err != nil {
		return fmt.Errorf("finding history: %w", err)
	}
	hist := newBatch(s, tx, histCols,
		` ON CONFLICT (target, fingerprint) DO UPDATE SET last_seen = excluded.last_seen, last_run_id = excluded.last_run_id, last_status = excluded.last_status, fixed_at = excluded.fixed_at, present = 1, failing_since = excluded.failing_since`, 11)
	for _, r := range known {
		if err := hist.add(ctx, r.fp, r.target, r.rule, r.at, w.runID, r.at, w.runID, r.status, r.fixed, 1, r.failing); err != nil {
			return fmt.Errorf("finding history: %w", err)
		}
	}
	if err := hist.flush(ctx); err != nil {
		return fmt.Errorf("finding history: %w", err)
	}
	for _, g := range w.gone {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE findings SET present = 0, last_seen = ?, last_run_id = ? WHERE target = ? AND fingerprint = ?`), g.lastSeen, g.lastRun, g.target, g.fp); err != nil {
			return fmt.Errorf("finding history: %w", err)
		}
	}
	ids := w.closeIDs
	for len(ids) > 0 {
		n := min(len(ids), batchRows*5)
		args := []any{w.runID}
		for _, id := range ids[:n] {
			args = append(args, id)
		}
		q := `UPDATE finding_spans SET until_run = ? WHERE id IN (` + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + `)`
		if _, err := tx.ExecContext(ctx, s.q(q), args...); err != nil {
			return fmt.Errorf("close findings: %w", err)
		}
		ids = ids[n:]
	}
	ins := newBatch(s, tx, `INSERT OR FAIL INTO finding_spans (fingerprint, target, rule_id, status, severity, domain, data, from_run, digest, since, exception) VALUES `, ``, 11)
	for _, r := range w.spans {
		if err := ins.add(ctx, r.fp, r.target, r.rule, r.status, r.severity, r.domain, r.data, w.runID, r.digest, r.since, r.exception); err != nil {
			return fmt.Errorf("findings: %w", err)
		}
	}
	if err := ins.flush(ctx); err != nil {
		return fmt.Errorf("findings: %w", err)
	}
	return nil
}
