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
	fp                string
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
	slices.SortFunc(w.gone, func(a, b goneRow) int { return strings.Compare(a.fp, b.fp) })
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

// wroteAll checks that an upsert of n fingerprints' history wrote
// every row: one it skipped is a fingerprint of another target (the
// upsert's WHERE), which would open a second version of that finding.
// The check holds when two runs store at once: the upsert waits for the
// other's row and judges it as committed.
func wroteAll(res sql.Result, n int) error {
	got, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if got != int64(n) {
		return ErrForeignFingerprint
	}
	return nil
}

// foreignFingerprint names the first of rows whose fingerprint is
// another target's in the error err.
func (s *SQL) foreignFingerprint(ctx context.Context, tx *sql.Tx, rows []histRow, err error) error {
	found, qerr := s.findForeign(ctx, tx, rows, err)
	if found != nil {
		return found
	}
	if qerr != nil {
		return fmt.Errorf("%w (%w)", err, qerr)
	}
	return err
}

// findForeign returns, wrapping err, the first of rows whose fingerprint
// is another target's, or nil when there is none.
func (s *SQL) findForeign(ctx context.Context, tx *sql.Tx, rows []histRow, err error) (found, qerr error) {
	want := make(map[string]string, len(rows))
	fps := make([]string, len(rows))
	for i, r := range rows {
		want[r.fp], fps[i] = r.target, r.fp
	}
	qerr = inChunks(fps, func(chunk []any, marks string) error {
		return scanRows(ctx, tx, s.q(`SELECT fingerprint, target FROM findings WHERE fingerprint IN (`+marks+`)`), chunk, func(sc scanner) error {
			var fp, target string
			if err := sc.Scan(&fp, &target); err != nil {
				return err
			}
			if found == nil && want[fp] != target {
				found = fmt.Errorf("finding %s of %s: %w (it is %s's)", fp, want[fp], err, target)
			}
			return nil
		})
	})
	return found, qerr
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
		res, err := tx.ExecContext(ctx, `INSERT INTO findings (fingerprint, target, rule_id, first_seen, first_run_id, last_seen, last_run_id, last_status, fixed_at, present, failing_since)
SELECT u.fp, u.target, u.rule, $1, $2, $1, $2, u.status, u.fixed, 1, u.failing
FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[]) AS u(fp, target, rule, status, fixed, failing)
ON CONFLICT (fingerprint) DO UPDATE SET last_seen = excluded.last_seen, last_run_id = excluded.last_run_id, last_status = excluded.last_status,
  fixed_at = excluded.fixed_at, present = 1, failing_since = excluded.failing_since
WHERE findings.target = excluded.target`,
			rows[0].at, w.runID, fp, target, rule, status, fixed, failing)
		if err != nil {
			return err
		}
		if err := wroteAll(res, len(rows)); err != nil {
			return s.foreignFingerprint(ctx, tx, rows, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("finding history: %w", err)
	}
	err = chunks(len(w.gone), pgChunk, func(lo, hi int) error {
		rows := w.gone[lo:hi]
		fp, seen, run := make([]string, len(rows)), make([]int64, len(rows)), make([]int64, len(rows))
		for i, r := range rows {
			fp[i], seen[i], run[i] = r.fp, r.lastSeen, r.lastRun
		}
		_, err := tx.ExecContext(ctx, `UPDATE findings f SET present = 0, last_seen = u.seen, last_run_id = u.run
FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u(fp, seen, run) WHERE f.fingerprint = u.fp`, fp, seen, run)
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
	// inserts; the upsert is for those with a history. A plain insert
	// fails on a fingerprint another target has (the table's key), where
	// the upsert would skip it. Statements that cannot end half done
	// (OR FAIL: the transaction is rolled back on any error anyway) spare
	// SQLite the statement journal a multi-row write that may abort keeps,
	// a copy of every page it touches.
	var fresh, known []histRow
	for _, r := range w.hist {
		if r.had {
			known = append(known, r)
		} else {
			fresh = append(fresh, r)
		}
	}
	// In key order: consecutive rows land on the same pages of the key.
	slices.SortFunc(fresh, func(a, b histRow) int { return strings.Compare(a.fp, b.fp) })
	const histCols = `INSERT OR FAIL INTO findings (fingerprint, target, rule_id, first_seen, first_run_id, last_seen, last_run_id, last_status, fixed_at, present, failing_since) VALUES `
	// A fingerprint that is another target's fails the insert (the key):
	// that one is named; any other error is returned as it is.
	insertFailed := func(err error) error {
		if found, _ := s.findForeign(ctx, tx, fresh, ErrForeignFingerprint); found != nil {
			return fmt.Errorf("finding history: %w", found)
		}
		return fmt.Errorf("finding history: %w", err)
	}
	ins0 := newBatch(s, tx, histCols, ``, 11)
	for _, r := range fresh {
		if err := ins0.add(ctx, r.fp, r.target, r.rule, r.at, w.runID, r.at, w.runID, r.status, r.fixed, 1, r.failing); err != nil {
			return insertFailed(err)
		}
	}
	if err := ins0.flush(ctx); err != nil {
		return insertFailed(err)
	}
	hist := newBatch(s, tx, histCols,
		` ON CONFLICT (fingerprint) DO UPDATE SET last_seen = excluded.last_seen, last_run_id = excluded.last_run_id, last_status = excluded.last_status, fixed_at = excluded.fixed_at, present = 1, failing_since = excluded.failing_since
WHERE findings.target = excluded.target`, 11)
	for _, r := range known {
		if err := hist.add(ctx, r.fp, r.target, r.rule, r.at, w.runID, r.at, w.runID, r.status, r.fixed, 1, r.failing); err != nil {
			return fmt.Errorf("finding history: %w", err)
		}
	}
	if err := hist.flush(ctx); err != nil {
		return fmt.Errorf("finding history: %w", err)
	}
	if hist.affected != int64(len(known)) {
		return fmt.Errorf("finding history: %w", s.foreignFingerprint(ctx, tx, known, ErrForeignFingerprint))
	}
	for _, g := range w.gone {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE findings SET present = 0, last_seen = ?, last_run_id = ? WHERE fingerprint = ?`), g.lastSeen, g.lastRun, g.fp); err != nil {
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
