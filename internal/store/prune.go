package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Prune deletes runs that finished before a time (except each
// target's latest), with their findings, and older health samples and
// delivered alerts. It returns how many runs went.
// It runs in one transaction. A run's targets go with it (ON DELETE CASCADE), and
// the versions of findings no kept run shows; a fingerprint's first-seen
// time stays even when its first run is gone. The audit log is never pruned.
func (s *SQL) Prune(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// Comparing across deleted runs cannot trust the port flags (see
		// portFlagsKept): the highest run ID deleted is kept.
		var last sql.NullInt64
		if err := tx.QueryRowContext(ctx, s.q(`SELECT MAX(id) FROM runs WHERE finished_at < ? AND id NOT IN (SELECT last_run_id FROM targets)`), ms0(before)).Scan(&last); err != nil {
			return err
		}
		if last.Valid {
			// A run kept earlier as a target's latest can go later: the
			// highest of all.
			var prev string
			err := tx.QueryRowContext(ctx, s.q(`SELECT value FROM settings WHERE key = ?`), settingPrunedThrough).Scan(&prev)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if p, _ := strconv.ParseInt(prev, 10, 64); p > last.Int64 {
				last.Int64 = p
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
				settingPrunedThrough, strconv.FormatInt(last.Int64, 10)); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM runs WHERE finished_at < ? AND id NOT IN (SELECT last_run_id FROM targets)`), ms0(before))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		// Versions of findings that no kept run of their target shows.
		if n > 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM finding_spans WHERE until_run IS NOT NULL AND NOT EXISTS (
  SELECT 1 FROM run_targets rt WHERE rt.target = finding_spans.target AND rt.run_id >= finding_spans.from_run AND rt.run_id < finding_spans.until_run)`); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM health_samples WHERE at < ?`), ms0(before)); err != nil {
			return err
		}
		// Delivered and discarded alerts go; pending ones and dead letters
		// stay until they are delivered or an admin discards them.
		_, err = tx.ExecContext(ctx, s.q(`DELETE FROM outbox WHERE (state = 'delivered' AND delivered_at < ?) OR (state = 'discarded' AND COALESCE(dead_at, created_at) < ?)`), ms0(before), ms0(before))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune: %w", err)
	}
	return int(n), nil
}
