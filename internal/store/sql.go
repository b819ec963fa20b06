package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
)

// SQL is the Store over database/sql, for SQLite and PostgreSQL. Queries
// are written with ? placeholders and rewritten to $n for PostgreSQL.
type SQL struct {
	db      *sql.DB
	dialect string
}

var _ Store = (*SQL)(nil)

// Dialect implements Store.
func (s *SQL) Dialect() string { return s.dialect }

// Pinger is a store that can tell whether its database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

var _ Pinger = (*SQL)(nil)

// Ping runs a trivial query.
func (s *SQL) Ping(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT 1`).Scan(&n); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	return nil
}

// Close implements Store.
func (s *SQL) Close() error { return s.db.Close() }

// DB exposes the handle for tests and integrity checks.
func (s *SQL) DB() *sql.DB { return s.db }

// q rewrites ? placeholders to $1, $2, ... on PostgreSQL. Queries never
// hold a ? inside a string literal.
func (s *SQL) q(query string) string {
	if s.dialect != "postgres" {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *SQL) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// ms0 turns a time into Unix milliseconds.
func ms0(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only plain data structs are marshalled here.
		panic(fmt.Sprintf("store: marshal %T: %v", v, err))
	}
	return string(b)
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

const runCols = `id, started_at, finished_at, stored_at, source, tool_version, interrupted, n_targets, n_findings, summary`

type scanner interface{ Scan(dest ...any) error }

// queryAll runs query and returns every row read by scan; what names the
// query in errors.
func queryAll[T any](ctx context.Context, s *SQL, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

func scanRun(sc scanner) (Run, error) {
	var r Run
	var st, fi, so int64
	var intr int
	var sum string
	if err := sc.Scan(&r.ID, &st, &fi, &so, &r.Source, &r.ToolVersion, &intr, &r.Targets, &r.Findings, &sum); err != nil {
		return r, err
	}
	r.StartedAt, r.FinishedAt, r.StoredAt, r.Interrupted = fromMS(st), fromMS(fi), fromMS(so), intr == 1
	if err := json.Unmarshal([]byte(sum), &r.Summary); err != nil {
		return r, fmt.Errorf("run %d summary: %w", r.ID, err)
	}
	return r, nil
}

// Runs implements Store: newest first, before beforeID when it is > 0.
func (s *SQL) Runs(ctx context.Context, limit int, beforeID int64) ([]Run, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	if beforeID <= 0 {
		beforeID = 1 << 62
	}
	return queryAll(ctx, s, "runs", scanRun, `SELECT `+runCols+` FROM runs WHERE id < ? ORDER BY id DESC LIMIT ?`, beforeID, limit)
}

// Run implements Store.
func (s *SQL) Run(ctx context.Context, id int64) (Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, s.q(`SELECT `+runCols+` FROM runs WHERE id = ?`), id))
	if err != nil {
		return r, notFound(err, fmt.Sprintf("run %d", id))
	}
	return r, nil
}

const recordSelect = `SELECT rf.run_id, rf.data, f.first_seen, f.last_seen, f.fixed_at
FROM run_findings rf JOIN findings f ON f.fingerprint = rf.fingerprint`

func (s *SQL) records(ctx context.Context, query string, args ...any) ([]Record, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Record{}
	for rows.Next() {
		var rec Record
		var data string
		var first, last int64
		var fixed sql.NullInt64
		if err := rows.Scan(&rec.RunID, &data, &first, &last, &fixed); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(data), &rec.Finding); err != nil {
			return nil, fmt.Errorf("finding of run %d: %w", rec.RunID, err)
		}
		rec.FirstSeen, rec.LastSeen, rec.FixedAt = fromMS(first), fromMS(last), fromNullMS(fixed)
		out = append(out, rec)
	}
	return out, rows.Err()
}

// RunFindings implements Store.
func (s *SQL) RunFindings(ctx context.Context, runID int64, target string) ([]Record, error) {
	q := recordSelect + ` WHERE rf.run_id = ?`
	args := []any{runID}
	if target != "" {
		q += ` AND rf.target = ?`
		args = append(args, target)
	}
	q += ` ORDER BY rf.target, rf.rule_id, rf.fingerprint`
	out, err := s.records(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("findings of run %d: %w", runID, err)
	}
	return out, nil
}

// Findings implements Store.
func (s *SQL) Findings(ctx context.Context, f Filter) ([]Record, error) {
	q := recordSelect + ` JOIN targets t ON t.name = rf.target AND t.last_run_id = rf.run_id WHERE 1 = 1`
	var args []any
	if f.Target != "" {
		q += ` AND rf.target = ?`
		args = append(args, f.Target)
	}
	if f.Status != "" {
		q += ` AND rf.status = ?`
		args = append(args, string(f.Status))
	}
	if f.Severity > 0 {
		q += ` AND rf.severity >= ?`
		args = append(args, int(f.Severity))
	}
	if f.Domain != "" {
		q += ` AND rf.domain = ?`
		args = append(args, f.Domain)
	}
	if f.Rule != "" {
		q += ` AND rf.rule_id = ?`
		args = append(args, f.Rule)
	}
	q += ` ORDER BY rf.target, rf.rule_id, rf.fingerprint`
	out, err := s.records(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("findings: %w", err)
	}
	return out, nil
}

// RunTargets implements Store.
func (s *SQL) RunTargets(ctx context.Context, runID int64) ([]RunTarget, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT run_id, target, kind, product, version, errors, observations FROM run_targets WHERE run_id = ? ORDER BY target`), runID)
	if err != nil {
		return nil, fmt.Errorf("targets of run %d: %w", runID, err)
	}
	defer rows.Close()
	out := []RunTarget{}
	for rows.Next() {
		var t RunTarget
		var errs, obs string
		if err := rows.Scan(&t.RunID, &t.Name, &t.Kind, &t.Product, &t.Version, &errs, &obs); err != nil {
			return nil, err
		}
		if err := unmarshalAll(errs, &t.Errors, obs, &t.Observations); err != nil {
			return nil, fmt.Errorf("target %s of run %d: %w", t.Name, runID, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func unmarshalAll(pairs ...any) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := json.Unmarshal([]byte(pairs[i].(string)), pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

const targetCols = `name, kind, product, version, role, parent, profiles, errors, observations, first_seen, last_seen, last_run_id`

func scanTarget(sc scanner) (TargetState, error) {
	var t TargetState
	var profiles, errs, obs string
	var first, last int64
	if err := sc.Scan(&t.Name, &t.Kind, &t.Product, &t.Version, &t.Role, &t.Parent, &profiles, &errs, &obs, &first, &last, &t.LastRunID); err != nil {
		return t, err
	}
	t.FirstSeen, t.LastSeen = fromMS(first), fromMS(last)
	if err := unmarshalAll(profiles, &t.Profiles, errs, &t.Errors, obs, &t.Observations); err != nil {
		return t, fmt.Errorf("target %s: %w", t.Name, err)
	}
	t.ByStatus = map[finding.Status]int{}
	for _, st := range finding.Statuses() {
		t.ByStatus[st] = 0
	}
	t.FailBySeverity = map[string]int{}
	for _, sev := range finding.Severities() {
		t.FailBySeverity[sev.String()] = 0
	}
	t.FailByDomain = map[string]int{}
	return t, nil
}

// Targets implements Store: every target with its latest run's counts.
func (s *SQL) Targets(ctx context.Context) ([]TargetState, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+targetCols+` FROM targets ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	out := []TargetState{}
	idx := map[string]int{}
	for rows.Next() {
		t, err := scanTarget(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("targets: %w", err)
		}
		idx[t.Name] = len(out)
		out = append(out, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	if err := s.countInto(ctx, out, idx, ""); err != nil {
		return nil, err
	}
	return out, nil
}

// Target implements Store.
func (s *SQL) Target(ctx context.Context, name string) (TargetState, error) {
	t, err := scanTarget(s.db.QueryRowContext(ctx, s.q(`SELECT `+targetCols+` FROM targets WHERE name = ?`), name))
	if err != nil {
		return t, notFound(err, "target "+name)
	}
	ts := []TargetState{t}
	if err := s.countInto(ctx, ts, map[string]int{name: 0}, name); err != nil {
		return t, err
	}
	return ts[0], nil
}

func (s *SQL) countInto(ctx context.Context, ts []TargetState, idx map[string]int, only string) error {
	q := `SELECT rf.target, rf.status, rf.severity, rf.domain, COUNT(*) FROM run_findings rf
JOIN targets t ON t.name = rf.target AND t.last_run_id = rf.run_id`
	var args []any
	if only != "" {
		q += ` WHERE rf.target = ?`
		args = append(args, only)
	}
	q += ` GROUP BY rf.target, rf.status, rf.severity, rf.domain`
	rows, err := s.db.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return fmt.Errorf("target counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, status, domain string
		var sev, n int
		if err := rows.Scan(&name, &status, &sev, &domain, &n); err != nil {
			return fmt.Errorf("target counts: %w", err)
		}
		i, ok := idx[name]
		if !ok {
			continue
		}
		t := &ts[i]
		t.ByStatus[finding.Status(status)] += n
		if finding.Status(status) == finding.Fail {
			t.FailBySeverity[finding.Severity(sev).String()] += n
			t.FailByDomain[domain] += n
		}
	}
	return rows.Err()
}

// TargetHistory implements Store.
func (s *SQL) TargetHistory(ctx context.Context, name string, limit int) ([]TargetRun, error) {
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT r.id, r.finished_at, rf.status, COUNT(*) FROM runs r
JOIN run_findings rf ON rf.run_id = r.id AND rf.target = ?
WHERE r.id IN (SELECT run_id FROM run_targets WHERE target = ? ORDER BY run_id DESC LIMIT ?)
GROUP BY r.id, r.finished_at, rf.status ORDER BY r.id DESC`), name, name, limit)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", name, err)
	}
	defer rows.Close()
	out := []TargetRun{}
	for rows.Next() {
		var id, at int64
		var st string
		var n int
		if err := rows.Scan(&id, &at, &st, &n); err != nil {
			return nil, fmt.Errorf("history of %s: %w", name, err)
		}
		if len(out) == 0 || out[len(out)-1].RunID != id {
			out = append(out, TargetRun{RunID: id, At: fromMS(at), ByStatus: map[finding.Status]int{}})
		}
		out[len(out)-1].ByStatus[finding.Status(st)] = n
	}
	return out, rows.Err()
}
