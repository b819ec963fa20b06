package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Enqueue implements Store: items whose destination and key are already
// in the outbox are dropped, so an event is delivered once per
// destination however often it is raised. It returns how many were new.
func (s *SQL) Enqueue(ctx context.Context, items []OutboxItem) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = s.enqueue(ctx, tx, items)
		return err
	})
	return n, err
}

func (s *SQL) enqueue(ctx context.Context, tx *sql.Tx, items []OutboxItem) (int, error) {
	if len(items) == 0 {
		return 0, nil
	}
	st, err := tx.PrepareContext(ctx, s.q(`INSERT INTO outbox (destination, idem_key, kind, body, created_at, attempts, next_attempt, last_error)
VALUES (?, ?, ?, ?, ?, 0, ?, '') ON CONFLICT (destination, idem_key) DO NOTHING`))
	if err != nil {
		return 0, fmt.Errorf("enqueue: %w", err)
	}
	defer st.Close()
	n := 0
	for _, it := range items {
		created := it.CreatedAt
		if created.IsZero() {
			created = time.Now()
		}
		next := it.NextAttempt
		if next.IsZero() {
			next = created
		}
		res, err := st.ExecContext(ctx, it.Destination, it.Key, it.Kind, string(it.Body), ms0(created), ms0(next))
		if err != nil {
			return n, fmt.Errorf("enqueue %s: %w", it.Key, err)
		}
		if k, err := res.RowsAffected(); err == nil {
			n += int(k)
		}
	}
	return n, nil
}

// DueOutbox implements Store: undelivered items due at now, oldest first.
func (s *SQL) DueOutbox(ctx context.Context, now time.Time, limit int) ([]OutboxItem, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, destination, idem_key, kind, body, created_at, attempts, next_attempt, last_error
FROM outbox WHERE delivered_at IS NULL AND next_attempt <= ? ORDER BY next_attempt, id LIMIT ?`), ms0(now), limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		var it OutboxItem
		var body string
		var created, next int64
		if err := rows.Scan(&it.ID, &it.Destination, &it.Key, &it.Kind, &body, &created, &it.Attempts, &next, &it.LastError); err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		it.Body, it.CreatedAt, it.NextAttempt = []byte(body), fromMS(created), fromMS(next)
		out = append(out, it)
	}
	return out, rows.Err()
}

// MarkDelivered implements Store.
func (s *SQL) MarkDelivered(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = '' WHERE id = ?`), ms0(at), id)
	if err != nil {
		return fmt.Errorf("outbox %d delivered: %w", id, err)
	}
	return nil
}

// MarkFailed implements Store: the item stays in the outbox for another
// attempt at next.
func (s *SQL) MarkFailed(ctx context.Context, id int64, next time.Time, reason string) error {
	if len(reason) > 500 {
		reason = reason[:500]
	}
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE outbox SET attempts = attempts + 1, next_attempt = ?, last_error = ? WHERE id = ?`), ms0(next), reason, id)
	if err != nil {
		return fmt.Errorf("outbox %d failed: %w", id, err)
	}
	return nil
}

// OutboxStats implements Store.
func (s *SQL) OutboxStats(ctx context.Context) (OutboxStats, error) {
	var st OutboxStats
	err := s.db.QueryRowContext(ctx, `SELECT
  COALESCE(SUM(CASE WHEN delivered_at IS NULL THEN 1 ELSE 0 END), 0),
  COALESCE(SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END), 0),
  COALESCE(SUM(CASE WHEN delivered_at IS NULL AND attempts > 0 THEN 1 ELSE 0 END), 0)
FROM outbox`).Scan(&st.Pending, &st.Delivered, &st.Retrying)
	if err != nil {
		return st, fmt.Errorf("outbox stats: %w", err)
	}
	return st, nil
}
