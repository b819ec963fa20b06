package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Enqueue adds alerts to the outbox: items whose destination and key are
// already in the outbox (in any state) are dropped, so an event is delivered
// once per destination however often it is raised. It returns how many were
// new.
func (s *SQL) Enqueue(ctx context.Context, items []OutboxItem) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = s.enqueue(ctx, tx, items, time.Now())
		return err
	})
	return n, err
}

// enqueue inserts items; now is their queue time when they carry none.
func (s *SQL) enqueue(ctx context.Context, tx *sql.Tx, items []OutboxItem, now time.Time) (int, error) {
	if len(items) == 0 {
		return 0, nil
	}
	st, err := tx.PrepareContext(ctx, s.q(`INSERT INTO outbox (destination, idem_key, kind, body, created_at, enqueued_at, state, attempts, next_attempt, last_error)
VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, '') ON CONFLICT (destination, idem_key) DO NOTHING`))
	if err != nil {
		return 0, fmt.Errorf("enqueue: %w", err)
	}
	defer st.Close()
	n := 0
	for _, it := range items {
		queued := it.EnqueuedAt
		if queued.IsZero() {
			queued = now
		}
		created := it.CreatedAt
		if created.IsZero() {
			created = queued
		}
		next := it.NextAttempt
		if next.IsZero() {
			next = created
		}
		res, err := st.ExecContext(ctx, it.Destination, it.Key, it.Kind, string(it.Body), ms0(created), ms0(queued), ms0(next))
		if err != nil {
			return n, fmt.Errorf("enqueue %s: %w", it.Key, err)
		}
		if k, err := res.RowsAffected(); err == nil {
			n += int(k)
		}
	}
	return n, nil
}

const outboxCols = `id, destination, idem_key, kind, body, created_at, enqueued_at, state, attempts, next_attempt, delivered_at, dead_at, last_error`

func (s *SQL) outboxItems(ctx context.Context, query string, args ...any) ([]OutboxItem, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	defer rows.Close()
	out := []OutboxItem{}
	for rows.Next() {
		var it OutboxItem
		var body string
		var created, queued, next int64
		var delivered, dead sql.NullInt64
		if err := rows.Scan(&it.ID, &it.Destination, &it.Key, &it.Kind, &body, &created, &queued, &it.State, &it.Attempts, &next, &delivered, &dead, &it.LastError); err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		it.Body, it.CreatedAt, it.EnqueuedAt, it.NextAttempt = []byte(body), fromMS(created), fromMS(queued), fromMS(next)
		it.DeliveredAt, it.DeadAt = fromNullMS(delivered), fromNullMS(dead)
		out = append(out, it)
	}
	return out, rows.Err()
}

// DueOutbox returns pending items due at now, oldest first, leaving
// out the destinations in skip.
func (s *SQL) DueOutbox(ctx context.Context, now time.Time, limit int, skip ...string) ([]OutboxItem, error) {
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT ` + outboxCols + ` FROM outbox WHERE state = 'pending' AND next_attempt <= ?`
	args := []any{ms0(now)}
	if len(skip) > 0 {
		q += ` AND destination NOT IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(skip)), ", ") + `)`
		for _, d := range skip {
			args = append(args, d)
		}
	}
	args = append(args, limit)
	return s.outboxItems(ctx, q+` ORDER BY next_attempt, id LIMIT ?`, args...)
}

// Outbox lists items in a state, newest first.
func (s *SQL) Outbox(ctx context.Context, state string, limit int) ([]OutboxItem, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return s.outboxItems(ctx, `SELECT `+outboxCols+` FROM outbox WHERE state = ? ORDER BY id DESC LIMIT ?`, state, limit)
}

// MarkDelivered records that an item was delivered at at.
func (s *SQL) MarkDelivered(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE outbox SET state = 'delivered', delivered_at = ?, attempts = attempts + 1, last_error = '' WHERE id = ?`), ms0(at), id)
	if err != nil {
		return fmt.Errorf("outbox %d delivered: %w", id, err)
	}
	return nil
}

// MarkFailed keeps a pending item for another attempt at next.
func (s *SQL) MarkFailed(ctx context.Context, id int64, next time.Time, reason string) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE outbox SET attempts = attempts + 1, next_attempt = ?, last_error = ? WHERE id = ? AND state = 'pending'`), ms0(next), clip(reason, 500), id)
	if err != nil {
		return fmt.Errorf("outbox %d failed: %w", id, err)
	}
	return nil
}

// MarkDead moves a pending item to the dead letters: it will not be
// tried again unless an admin retries it.
// An item that was not attempted (its destination is gone) still counts the
// attempt that found that out.
func (s *SQL) MarkDead(ctx context.Context, id int64, at time.Time, reason string) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE outbox SET state = 'dead', dead_at = ?, attempts = attempts + 1, last_error = ? WHERE id = ? AND state = 'pending'`),
		ms0(at), clip(reason, 500), id)
	if err != nil {
		return fmt.Errorf("outbox %d dead: %w", id, err)
	}
	return nil
}

// RetryDead puts dead letters back in the queue, due at now with a
// new retry window (one item, or every dead letter when id is 0), and
// records a; it returns how many. A given id that is not a dead letter
// is ErrNotFound.
func (s *SQL) RetryDead(ctx context.Context, id int64, now time.Time, a Audit) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		q := `UPDATE outbox SET state = 'pending', enqueued_at = ?, next_attempt = ?, dead_at = NULL WHERE state = 'dead'`
		args := []any{ms0(now), ms0(now)}
		if id > 0 {
			q += ` AND id = ?`
			args = append(args, id)
		}
		res, err := tx.ExecContext(ctx, s.q(q), args...)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		if id > 0 && n == 0 {
			return fmt.Errorf("dead letter %d: %w", id, ErrNotFound)
		}
		if n == 0 {
			return nil
		}
		return s.audit(ctx, tx, a)
	})
	if err != nil {
		return 0, fmt.Errorf("retry dead letters: %w", err)
	}
	return int(n), nil
}

// DiscardDead gives up on a dead letter for good (it is kept as
// discarded, so the same event is not queued again) and records a.
func (s *SQL) DiscardDead(ctx context.Context, id int64, now time.Time, a Audit) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE outbox SET state = 'discarded' WHERE state = 'dead' AND id = ?`), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("dead letter %d: %w", id, ErrNotFound)
		}
		return s.audit(ctx, tx, a)
	})
	if err != nil {
		return fmt.Errorf("discard dead letter: %w", err)
	}
	return nil
}

// OutboxStats counts the outbox's items by state.
func (s *SQL) OutboxStats(ctx context.Context) (OutboxStats, error) {
	st := OutboxStats{DeadBy: map[string]int{}}
	rows, err := s.db.QueryContext(ctx, `SELECT destination, state, attempts > 0, COUNT(*) FROM outbox GROUP BY destination, state, attempts > 0`)
	if err != nil {
		return st, fmt.Errorf("outbox stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var dest, state string
		var tried bool
		var n int
		if err := rows.Scan(&dest, &state, &tried, &n); err != nil {
			return st, fmt.Errorf("outbox stats: %w", err)
		}
		switch state {
		case OutboxPending:
			st.Pending += n
			if tried {
				st.Retrying += n
			}
		case OutboxDelivered:
			st.Delivered += n
		case OutboxDead:
			st.Dead += n
			st.DeadBy[dest] += n
		case OutboxDiscarded:
			st.Discarded += n
		}
	}
	return st, rows.Err()
}
