package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
)

// SQL is the store over database/sql, for SQLite and PostgreSQL. Queries
// are written with ? placeholders and rewritten to $n for PostgreSQL. Its
// users say what they need of it in small interfaces of their own (the
// alert dispatcher's Outbox, the health checker's Samples, the server's
// stores, the zone coordinator's Store).
type SQL struct {
	db *sql.DB
	// wdb runs the transactions: on SQLite a handle of its own (one
	// connection, a larger page cache), on PostgreSQL db.
	wdb     *sql.DB
	dialect string
	// ckpt copies SQLite's write-ahead log into the database beside the
	// writer (nil on PostgreSQL).
	ckpt *checkpointer
}

// Dialect names the database: sqlite or postgres.
func (s *SQL) Dialect() string { return s.dialect }

// Ping runs a trivial query.
func (s *SQL) Ping(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT 1`).Scan(&n); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	return nil
}

// Close closes the database.
func (s *SQL) Close() error {
	s.ckpt.close()
	err := s.db.Close()
	if s.wdb != s.db {
		err = errors.Join(err, s.wdb.Close())
	}
	return err
}

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
	if err := inTx(ctx, s.wdb, fn); err != nil {
		return err
	}
	s.ckpt.kick()
	return nil
}

// inTx runs fn in a transaction of db, committed when fn succeeds.
func inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
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

// Runs lists the stored runs, newest first, before beforeID when it is > 0.
func (s *SQL) Runs(ctx context.Context, limit int, beforeID int64) ([]Run, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	if beforeID <= 0 {
		beforeID = 1 << 62
	}
	return queryAll(ctx, s, "runs", scanRun, `SELECT `+runCols+` FROM runs WHERE id < ? ORDER BY id DESC LIMIT ?`, beforeID, limit)
}

// Run returns one run (ErrNotFound when there is none).
func (s *SQL) Run(ctx context.Context, id int64) (Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, s.q(`SELECT `+runCols+` FROM runs WHERE id = ?`), id))
	if err != nil {
		return r, notFound(err, fmt.Sprintf("run %d", id))
	}
	return r, nil
}

// recordSelect reads findings with their history; run is the SQL
// expression of the run they are reported for.
func recordSelect(run string) string {
	return `SELECT ` + run + `, sp.data, f.first_seen, CASE WHEN f.present = 1 AND t.last_seen IS NOT NULL THEN t.last_seen ELSE f.last_seen END, f.fixed_at, f.failing_since, COALESCE(sp.since, 0)
FROM finding_spans sp JOIN findings f ON f.target = sp.target AND f.fingerprint = sp.fingerprint LEFT JOIN targets t ON t.name = sp.target`
}

func (s *SQL) records(ctx context.Context, query string, args ...any) ([]Record, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Record{}
	for rows.Next() {
		var rec Record
		// Decoded before the next row: the driver's bytes, not a copy.
		var data sql.RawBytes
		var first, last int64
		var fixed, failing sql.NullInt64
		if err := rows.Scan(&rec.RunID, &data, &first, &last, &fixed, &failing, &rec.since); err != nil {
			return nil, err
		}
		if err := decodeFinding(data, &rec.Finding); err != nil {
			return nil, fmt.Errorf("finding of run %d: %w", rec.RunID, err)
		}
		rec.FirstSeen, rec.LastSeen, rec.FixedAt, rec.FailingSince = fromMS(first), fromMS(last), fromNullMS(fixed), fromNullMS(failing)
		out = append(out, rec)
	}
	return out, rows.Err()
}

// RunFindings returns a run's findings (optionally of one target).
func (s *SQL) RunFindings(ctx context.Context, runID int64, target string) ([]Record, error) {
	return s.RunFindingsPage(ctx, runID, target, "", 0, 0)
}

// RunFindingsPage is a page of a run's findings (of one target, or
// all when target is ""), in RunFindings' order: after the finding
// whose RunCursor is after (keyset paging), or else from offset. A run's
// findings are the spans of the targets it covered open at that run.
func (s *SQL) RunFindingsPage(ctx context.Context, runID int64, target, afterCursor string, limit, offset int) ([]Record, error) {
	var cond string
	var more []any
	if afterCursor != "" {
		var err error
		if cond, more, err = after(runKeys, afterCursor); err != nil {
			return nil, err
		}
		offset = 0
	}
	q := recordSelect("CAST(? AS BIGINT)") + ` WHERE sp.from_run <= ? AND (sp.until_run IS NULL OR sp.until_run > ?) AND sp.target IN (SELECT target FROM run_targets WHERE run_id = ?`
	args := []any{runID, runID, runID, runID}
	if cond != "" {
		// The run's targets from the cursor's on: SQLite otherwise reads
		// the findings of every target before it (the row comparison
		// below does not narrow the IN list), 0.2-0.6 s at target 5,000
		// of 10,000.
		q += ` AND target >= ?`
		args = append(args, more[0])
	}
	q += `)`
	if target != "" {
		q += ` AND sp.target = ?`
		args = append(args, target)
	}
	q += cond
	args = append(args, more...)
	q += ` ORDER BY sp.target, sp.rule_id, sp.fingerprint`
	if limit > 0 {
		q += ` LIMIT ? OFFSET ?`
		args = append(args, limit, max(0, offset))
	}
	out, err := s.records(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("findings of run %d: %w", runID, err)
	}
	return out, nil
}

// where builds the conditions of a filter over the latest findings
// (open spans).
func (f Filter) where() (string, []any) {
	q := ` WHERE sp.until_run IS NULL`
	var args []any
	add := func(cond string, v any) {
		q += ` AND ` + cond
		args = append(args, v)
	}
	if f.Target != "" {
		add(`sp.target = ?`, f.Target)
	}
	if f.Status != "" {
		add(`sp.status = ?`, string(f.Status))
	}
	if f.Severity > 0 {
		add(`sp.severity >= ?`, int(f.Severity))
	}
	if f.Domain != "" {
		add(`sp.domain = ?`, f.Domain)
	}
	if f.Rule != "" {
		add(`sp.rule_id = ?`, f.Rule)
	}
	if f.Zone != "" {
		add(`t.role = ?`, f.Zone)
	}
	if f.Exceptions {
		q += ` AND sp.exception = 1`
	}
	if f.Search != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(f.Search)) + "%"
		q += ` AND (LOWER(sp.target) LIKE ? ESCAPE '\' OR LOWER(sp.rule_id) LIKE ? ESCAPE '\')`
		args = append(args, like, like)
	}
	return q, args
}

// Findings returns the latest findings of every target (each target's
// last run), filtered, sorted and paged.
func (s *SQL) Findings(ctx context.Context, f Filter) ([]Record, error) {
	where, args := f.where()
	ks := f.keys()
	offset := f.Offset
	if f.After != "" {
		cond, more, err := after(ks, f.After)
		if err != nil {
			return nil, err
		}
		where += cond
		args = append(args, more...)
		offset = 0
	}
	q := recordSelect("COALESCE(t.last_run_id, sp.from_run)") + where + orderBy(ks)
	if s.dialect == "sqlite" && f.Target != "" && f.Status == "" && !f.Exceptions && (f.Sort == "" || f.Sort == SortTarget || f.Sort == SortRule) {
		// One target's findings in rule order are fs_open_target's. With
		// ANALYZE's statistics (30 findings a target on average) SQLite
		// 3.54 skip-scans fs_open_sev and sorts instead: for a target of
		// 100,000 findings a page after a cursor took 0.3-0.8 s, 2-20 ms
		// by the index.
		q = strings.Replace(q, `FROM finding_spans sp `, `FROM finding_spans sp INDEXED BY fs_open_target `, 1)
	}
	if f.Limit > 0 {
		q += ` LIMIT ? OFFSET ?`
		args = append(args, f.Limit, max(0, offset))
	}
	out, err := s.records(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("findings: %w", err)
	}
	return out, nil
}

// CountFindings counts the latest findings a filter matches.
// Paging aside, filters by status, severity, domain and rule are counted
// from latest_counts, a target's findings by status from its counts; only
// searches, zones and exceptions count rows.
func (s *SQL) CountFindings(ctx context.Context, f Filter) (int, error) {
	var n sql.NullInt64
	var err error
	switch {
	case f.Target == "" && f.Zone == "" && f.Search == "" && !f.Exceptions:
		q := `SELECT SUM(n) FROM latest_counts WHERE 1 = 1`
		var args []any
		if f.Status != "" {
			q += ` AND status = ?`
			args = append(args, string(f.Status))
		}
		if f.Severity > 0 {
			q += ` AND severity >= ?`
			args = append(args, int(f.Severity))
		}
		if f.Domain != "" {
			q += ` AND domain = ?`
			args = append(args, f.Domain)
		}
		if f.Rule != "" {
			q += ` AND rule_id = ?`
			args = append(args, f.Rule)
		}
		err = s.db.QueryRowContext(ctx, s.q(q), args...).Scan(&n)
	case f.Target != "" && f.Zone == "" && f.Search == "" && !f.Exceptions && f.Severity == 0 && f.Domain == "" && f.Rule == "":
		var t TargetState
		t, err = s.Target(ctx, f.Target)
		if errors.Is(err, ErrNotFound) {
			return 0, nil
		}
		if err == nil {
			for st, c := range t.ByStatus {
				if f.Status == "" || st == f.Status {
					n.Int64 += int64(c)
				}
			}
		}
	default:
		where, args := f.where()
		err = s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM finding_spans sp LEFT JOIN targets t ON t.name = sp.target`+where), args...).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("count findings: %w", err)
	}
	return int(n.Int64), nil
}

// FleetCounts counts the fleet's latest findings from the counts kept as
// runs are stored.
func (s *SQL) FleetCounts(ctx context.Context) (FleetCounts, error) {
	c := newCounts()
	rows, err := s.db.QueryContext(ctx, `SELECT status, severity, domain, SUM(n) FROM latest_counts GROUP BY status, severity, domain`)
	if err != nil {
		return FleetCounts{}, fmt.Errorf("fleet counts: %w", err)
	}
	for rows.Next() {
		var status, domain string
		var sev, n int
		if err := rows.Scan(&status, &sev, &domain, &n); err != nil {
			rows.Close()
			return FleetCounts{}, fmt.Errorf("fleet counts: %w", err)
		}
		c.add(finding.Status(status), finding.Severity(sev), domain, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return FleetCounts{}, fmt.Errorf("fleet counts: %w", err)
	}
	out := FleetCounts{ByStatus: c.ByStatus, FailBySeverity: c.FailBySeverity, FailByDomain: c.FailByDomain}
	var failing, oldest sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), SUM(CASE WHEN failing > 0 THEN 1 ELSE 0 END), MIN(last_seen) FROM targets`).Scan(&out.Targets, &failing, &oldest); err != nil {
		return FleetCounts{}, fmt.Errorf("fleet counts: %w", err)
	}
	out.FailingTargets = int(failing.Int64)
	if oldest.Valid {
		out.OldestScan = fromMS(oldest.Int64)
	}
	return out, nil
}

// TargetStatuses lists every target by name with its last scan and
// its latest findings by status only (what /metrics reports).
// It is one small query, and of each target's counts only the statuses
// are decoded.
func (s *SQL) TargetStatuses(ctx context.Context) ([]TargetState, error) {
	var out []TargetState
	var uncounted []string
	err := s.each(ctx, `SELECT name, last_seen, counts FROM targets ORDER BY name`, nil, func(sc scanner) error {
		var t TargetState
		var last int64
		var counts string
		if err := sc.Scan(&t.Name, &last, &counts); err != nil {
			return err
		}
		t.LastSeen = fromMS(last)
		// A struct decodes faster than a map (10,000 targets a scrape).
		var c struct {
			ByStatus struct {
				Pass          int `json:"pass"`
				Fail          int `json:"fail"`
				Error         int `json:"error"`
				NotApplicable int `json:"not_applicable"`
				Manual        int `json:"manual"`
				Attested      int `json:"attested"`
				Waived        int `json:"waived"`
			} `json:"by_status"`
		}
		if counts == "" {
			uncounted = append(uncounted, t.Name)
		} else if err := json.Unmarshal([]byte(counts), &c); err != nil {
			return fmt.Errorf("target %s counts: %w", t.Name, err)
		}
		b := c.ByStatus
		t.ByStatus = map[finding.Status]int{finding.Pass: b.Pass, finding.Fail: b.Fail, finding.Error: b.Error, finding.NotApplicable: b.NotApplicable,
			finding.Manual: b.Manual, finding.Attested: b.Attested, finding.Waived: b.Waived}
		out = append(out, t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("target statuses: %w", err)
	}
	for _, name := range uncounted {
		// Stored before counts were kept: counted from its findings.
		full, err := s.Target(ctx, name)
		if err != nil {
			return nil, err
		}
		i := sort.Search(len(out), func(i int) bool { return out[i].Name >= name })
		out[i].ByStatus = full.ByStatus
	}
	return out, nil
}

// RunTargetsPage is a page of a run's targets by name, after the
// target named after ("": the first page).
func (s *SQL) RunTargetsPage(ctx context.Context, runID int64, afterName string, limit int) ([]RunTarget, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return s.runTargets(ctx, runID, ` AND target > ? ORDER BY target LIMIT ?`, afterName, limit)
}

// RunTargets returns the targets a run covered, with their counts.
func (s *SQL) RunTargets(ctx context.Context, runID int64) ([]RunTarget, error) {
	return s.runTargets(ctx, runID, ` ORDER BY target`)
}

func (s *SQL) runTargets(ctx context.Context, runID int64, tail string, args ...any) ([]RunTarget, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT run_id, target, kind, product, version, errors, observations FROM run_targets WHERE run_id = ?`+tail), append([]any{runID}, args...)...)
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

// scanTarget reads a target with its counts; counted is false for a
// target stored before counts were kept (countInto fills those in).
func scanTarget(sc scanner) (t TargetState, counted bool, err error) {
	var profiles, errs, obs, counts string
	var first, last int64
	if err := sc.Scan(&t.Name, &t.Kind, &t.Product, &t.Version, &t.Role, &t.Parent, &profiles, &errs, &obs, &first, &last, &t.LastRunID, &counts); err != nil {
		return t, false, err
	}
	t.FirstSeen, t.LastSeen = fromMS(first), fromMS(last)
	if err := unmarshalAll(profiles, &t.Profiles, errs, &t.Errors, obs, &t.Observations); err != nil {
		return t, false, fmt.Errorf("target %s: %w", t.Name, err)
	}
	c := newCounts()
	if counts != "" {
		if err := json.Unmarshal([]byte(counts), c); err != nil {
			return t, false, fmt.Errorf("target %s counts: %w", t.Name, err)
		}
	}
	t.ByStatus, t.FailBySeverity, t.FailByDomain = c.ByStatus, c.FailBySeverity, c.FailByDomain
	return t, counts != "", nil
}

// Targets returns every target with its latest run's counts.
func (s *SQL) Targets(ctx context.Context) ([]TargetState, error) {
	return s.targets(ctx, ``)
}

func (s *SQL) targets(ctx context.Context, where string, args ...any) ([]TargetState, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+targetCols+`, counts FROM targets`+where+` ORDER BY name`), args...)
	if err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	out := []TargetState{}
	idx := map[string]int{}
	for rows.Next() {
		t, counted, err := scanTarget(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("targets: %w", err)
		}
		if !counted {
			idx[t.Name] = len(out)
		}
		out = append(out, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	for name := range idx {
		if err := s.countInto(ctx, out, idx, name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// TargetList is a page of the targets a filter matches, by name, and
// how many match.
func (s *SQL) TargetList(ctx context.Context, f TargetFilter) ([]TargetState, int, error) {
	where := ` WHERE 1 = 1`
	var args []any
	if f.Search != "" {
		where += ` AND LOWER(name) LIKE ? ESCAPE '\'`
		args = append(args, "%"+strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(f.Search))+"%")
	}
	if f.Zone != "" {
		where += ` AND role = ?`
		args = append(args, f.Zone)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM targets`+where), args...).Scan(&n); err != nil {
		return nil, 0, fmt.Errorf("targets: %w", err)
	}
	if f.Limit > 0 {
		where += ` ORDER BY name LIMIT ? OFFSET ?`
		args = append(args, f.Limit, max(0, f.Offset))
		// targets() adds its own ORDER BY: use a subquery.
		where = ` WHERE name IN (SELECT name FROM targets` + where + `)`
	}
	ts, err := s.targets(ctx, where, args...)
	return ts, n, err
}

// Target returns one target's state (ErrNotFound when unknown).
func (s *SQL) Target(ctx context.Context, name string) (TargetState, error) {
	ts, err := s.targets(ctx, ` WHERE name = ?`, name)
	if err != nil {
		return TargetState{}, err
	}
	if len(ts) == 0 {
		return TargetState{}, fmt.Errorf("target %s: %w", name, ErrNotFound)
	}
	return ts[0], nil
}

// countInto counts the latest findings of a target stored before counts
// were kept.
func (s *SQL) countInto(ctx context.Context, ts []TargetState, idx map[string]int, only string) error {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT sp.status, sp.severity, sp.domain, COUNT(*) FROM finding_spans sp
WHERE sp.target = ? AND sp.until_run IS NULL GROUP BY sp.status, sp.severity, sp.domain`), only)
	if err != nil {
		return fmt.Errorf("target counts: %w", err)
	}
	defer rows.Close()
	c := newCounts()
	for rows.Next() {
		var status, domain string
		var sev, n int
		if err := rows.Scan(&status, &sev, &domain, &n); err != nil {
			return fmt.Errorf("target counts: %w", err)
		}
		c.add(finding.Status(status), finding.Severity(sev), domain, n)
	}
	t := &ts[idx[only]]
	t.ByStatus, t.FailBySeverity, t.FailByDomain = c.ByStatus, c.FailBySeverity, c.FailByDomain
	return rows.Err()
}

// TargetHistory returns the runs that covered a target, newest first.
// They are the counts each run kept for the target (runs stored before
// counts were kept are counted from their findings).
func (s *SQL) TargetHistory(ctx context.Context, name string, limit int) ([]TargetRun, error) {
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT r.id, r.finished_at, rt.counts FROM run_targets rt JOIN runs r ON r.id = rt.run_id
WHERE rt.target = ? ORDER BY rt.run_id DESC LIMIT ?`), name, limit)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", name, err)
	}
	out := []TargetRun{}
	for rows.Next() {
		var tr TargetRun
		var at int64
		var counts string
		if err := rows.Scan(&tr.RunID, &at, &counts); err != nil {
			rows.Close()
			return nil, fmt.Errorf("history of %s: %w", name, err)
		}
		tr.At = fromMS(at)
		c := newCounts()
		if counts != "" {
			if err := json.Unmarshal([]byte(counts), c); err != nil {
				rows.Close()
				return nil, fmt.Errorf("history of %s: %w", name, err)
			}
		} else {
			c = nil
		}
		if c != nil {
			tr.ByStatus = c.ByStatus
		}
		out = append(out, tr)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history of %s: %w", name, err)
	}
	for i := range out {
		if out[i].ByStatus != nil {
			continue
		}
		recs, err := s.RunFindings(ctx, out[i].RunID, name)
		if err != nil {
			return nil, err
		}
		out[i].ByStatus = map[finding.Status]int{}
		for _, r := range recs {
			out[i].ByStatus[r.Status]++
		}
	}
	// Runs without findings of the target are left out, as before.
	kept := out[:0]
	for _, tr := range out {
		n := 0
		for _, v := range tr.ByStatus {
			n += v
		}
		if n > 0 {
			kept = append(kept, tr)
		}
	}
	return kept, nil
}

// RuleFailures counts the failing latest findings per rule and
// severity: how many, how many have failed since before the cutoff
// of their severity (overdue; no cutoff, none), and since when the
// oldest has failed. Most failing rules first.
// It reads latest_counts: the failing findings per rule and severity, the
// overdue ones (whole days before the cutoff's from the counts, the cutoff's
// own day from its rows), and the oldest failure of each (one index probe
// per rule and severity).
func (s *SQL) RuleFailures(ctx context.Context, overdueBefore map[finding.Severity]time.Time) ([]RuleFailures, error) {
	type key struct {
		rule string
		sev  int
	}
	byKey := map[key]*RuleFailures{}
	err := s.each(ctx, `SELECT c.rule_id, c.severity, c.n, (SELECT MIN(sp.since) FROM finding_spans sp
  WHERE sp.until_run IS NULL AND sp.rule_id = c.rule_id AND sp.status = 'fail' AND sp.severity = c.severity)
FROM (SELECT rule_id, severity, SUM(n) AS n FROM latest_counts WHERE status = 'fail' GROUP BY rule_id, severity) c`, nil, func(sc scanner) error {
		var rf RuleFailures
		var sev int
		var oldest sql.NullInt64
		if err := sc.Scan(&rf.Rule, &sev, &rf.Failing, &oldest); err != nil {
			return err
		}
		rf.Severity, rf.Oldest = finding.Severity(sev), fromMS(oldest.Int64)
		byKey[key{rf.Rule, sev}] = &rf
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failures by rule: %w", err)
	}
	for sev, cut := range overdueBefore {
		c := ms0(cut)
		day := c / dayMS
		add := func(sc scanner) error {
			var rule string
			var n int
			if err := sc.Scan(&rule, &n); err != nil {
				return err
			}
			if rf := byKey[key{rule, int(sev)}]; rf != nil {
				rf.Overdue += n
			}
			return nil
		}
		if err := s.each(ctx, `SELECT rule_id, SUM(n) FROM latest_counts WHERE status = 'fail' AND severity = ? AND since_day < ? GROUP BY rule_id`, []any{int(sev), day}, add); err != nil {
			return nil, fmt.Errorf("overdue failures: %w", err)
		}
		if err := s.each(ctx, `SELECT rule_id, COUNT(*) FROM finding_spans WHERE until_run IS NULL AND status = 'fail' AND since >= ? AND since < ? AND severity = ? GROUP BY rule_id`,
			[]any{day * dayMS, c, int(sev)}, add); err != nil {
			return nil, fmt.Errorf("overdue failures: %w", err)
		}
	}
	out := make([]RuleFailures, 0, len(byKey))
	for _, rf := range byKey {
		out = append(out, *rf)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Failing != out[j].Failing {
			return out[i].Failing > out[j].Failing
		}
		return out[i].Rule < out[j].Rule || out[i].Rule == out[j].Rule && out[i].Severity > out[j].Severity
	})
	return out, nil
}

// each runs a query and calls fn for every row.
func (s *SQL) each(ctx context.Context, query string, args []any, fn func(scanner) error) error {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
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

// DeltaBetween returns what changed from run a to the later run b,
// reading only the versions that differ (not every finding of both).
// The versions that changed between the runs are found by the runs they
// start and end at (indexed), not by reading every version of both runs'
// targets.
func (s *SQL) DeltaBetween(ctx context.Context, a, b int64) (RunDelta, error) {
	return s.delta(ctx, a, b, false)
}

// DeltaKeys is DeltaBetween without the findings' JSON: each record
// holds its fingerprint, target, rule, status and severity only, and
// LoadRecords fills in those a page shows.
func (s *SQL) DeltaKeys(ctx context.Context, a, b int64) (RunDelta, error) {
	return s.delta(ctx, a, b, true)
}

// keyRecords reads records of which only the keys are wanted: run, span
// ID, fingerprint, target, rule, status, severity.
func (s *SQL) keyRecords(ctx context.Context, query string, args ...any) ([]Record, error) {
	out := []Record{}
	err := s.each(ctx, query, args, func(sc scanner) error {
		var r Record
		var st string
		var sev int
		if err := sc.Scan(&r.RunID, &r.span, &r.Fingerprint, &r.Target, &r.RuleID, &st, &sev); err != nil {
			return err
		}
		r.Status, r.Severity = finding.Status(st), finding.Severity(sev)
		out = append(out, r)
		return nil
	})
	return out, err
}

// LoadRecords fills in records DeltaKeys returned (in place).
func (s *SQL) LoadRecords(ctx context.Context, recs []Record) error {
	byID := map[int64][]int{}
	ids := make([]string, 0, len(recs))
	for i, r := range recs {
		if r.span == 0 {
			continue
		}
		if _, ok := byID[r.span]; !ok {
			ids = append(ids, strconv.FormatInt(r.span, 10))
		}
		byID[r.span] = append(byID[r.span], i)
	}
	return inChunks(ids, func(chunk []any, marks string) error {
		// The span's ID stands in the run's column, to match them up.
		full, err := s.records(ctx, recordSelect("sp.id")+` WHERE sp.id IN (`+marks+`)`, chunk...)
		if err != nil {
			return fmt.Errorf("load findings: %w", err)
		}
		for _, f := range full {
			for _, i := range byID[f.RunID] {
				run, id := recs[i].RunID, f.RunID
				recs[i] = f
				recs[i].RunID, recs[i].span = run, id
			}
		}
		return nil
	})
}

func (s *SQL) delta(ctx context.Context, a, b int64, light bool) (RunDelta, error) {
	var d RunDelta
	var err error
	wrap := func(err error) error { return fmt.Errorf("changes from run %d to %d: %w", a, b, err) }
	inRunTargets := ` AND EXISTS (SELECT 1 FROM run_targets rt WHERE rt.run_id = ? AND rt.target = sp.target)`
	read, sel := s.records, recordSelect("CAST(? AS BIGINT)")
	if light {
		read, sel = s.keyRecords, `SELECT CAST(? AS BIGINT), sp.id, sp.fingerprint, sp.target, sp.rule_id, sp.status, sp.severity FROM finding_spans sp`
	}
	d.After, err = read(ctx, sel+` WHERE sp.from_run > ? AND sp.from_run <= ? AND (sp.until_run IS NULL OR sp.until_run > ?)`+inRunTargets+
		` ORDER BY sp.target, sp.rule_id, sp.fingerprint`, b, a, b, b, b)
	if err != nil {
		return d, wrap(err)
	}
	if a == 0 {
		d.Before = []Record{}
		return d, nil // nothing before the first run
	}
	d.Before, err = read(ctx, sel+` WHERE sp.until_run > ? AND sp.until_run <= ? AND sp.from_run <= ?`+inRunTargets+
		` ORDER BY sp.target, sp.rule_id, sp.fingerprint`, a, a, b, a, a)
	if err != nil {
		return d, wrap(err)
	}
	// Still failing: the failures at a of the targets of both runs, less
	// those whose version ended by b. When both runs keep their failures
	// and cover the same targets (their target digests match), that is
	// run a's kept count less the failing versions read above.
	ka, err := s.compareKeys(ctx, a)
	if err != nil {
		return d, wrap(err)
	}
	kb, err := s.compareKeys(ctx, b)
	if err != nil {
		return d, wrap(err)
	}
	if sameTargets(ka, kb) && ka.nFail >= 0 {
		d.StillFailing = int(ka.nFail)
		for _, r := range d.Before {
			if r.Status == finding.Fail {
				d.StillFailing--
			}
		}
		return d, nil
	}
	var atA, unknown sql.NullInt64
	err = s.db.QueryRowContext(ctx, s.q(`SELECT SUM(ra.n_fail), SUM(CASE WHEN ra.n_fail IS NULL THEN 1 ELSE 0 END)
FROM run_targets ra JOIN run_targets rb ON rb.run_id = ? AND rb.target = ra.target WHERE ra.run_id = ?`), b, a).Scan(&atA, &unknown)
	if err != nil {
		return d, wrap(err)
	}
	if unknown.Int64 > 0 {
		// Run targets stored before their failures were counted.
		err = s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM finding_spans sp WHERE sp.status = 'fail' AND sp.from_run <= ? AND (sp.until_run IS NULL OR sp.until_run > ?)
AND sp.target IN (SELECT target FROM run_targets WHERE run_id = ?) AND sp.target IN (SELECT target FROM run_targets WHERE run_id = ?)`), a, b, a, b).Scan(&d.StillFailing)
		if err != nil {
			return d, wrap(err)
		}
		return d, nil
	}
	var ended int64
	err = s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM finding_spans sp WHERE sp.status = 'fail' AND sp.until_run > ? AND sp.until_run <= ? AND sp.from_run <= ?
AND EXISTS (SELECT 1 FROM run_targets rt WHERE rt.run_id = ? AND rt.target = sp.target) AND EXISTS (SELECT 1 FROM run_targets rt WHERE rt.run_id = ? AND rt.target = sp.target)`),
		a, b, a, a, b).Scan(&ended)
	if err != nil {
		return d, wrap(err)
	}
	d.StillFailing = int(atA.Int64 - ended)
	return d, nil
}
