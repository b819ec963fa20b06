package store

import (
	"context"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
)

// Findings are stored as state changes: a run in which nothing changed
// writes no finding row, a changed finding gets a new version, and every
// run still reads back exactly the findings it had.
func TestFindingsStoredAsStateChanges(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		t0 := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		const a, b = "a.example:443", "b.example:443"
		spans := func() int {
			var n int
			if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM finding_spans`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		save := func(i int, targets []string, fs ...finding.Finding) int64 {
			d, err := s.SaveRun(ctx, RunInput{Report: report(t0.Add(time.Duration(i)*time.Hour), targets, fs...), Source: "test", Now: t0.Add(time.Duration(i) * time.Hour)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return d.RunID
		}
		a1, a2, b1 := fnd(a, "TLS-001", finding.Fail, finding.High), fnd(a, "TLS-002", finding.Pass, finding.High), fnd(b, "TLS-001", finding.Pass, finding.High)
		r1 := save(0, []string{a, b}, a1, a2, b1)
		if n := spans(); n != 3 {
			t.Fatalf("%d spans after the first run; want 3", n)
		}
		for i := 1; i <= 5; i++ {
			save(i, []string{a, b}, a1, a2, b1)
		}
		if n := spans(); n != 3 {
			t.Errorf("%d spans after 5 unchanged runs; want still 3", n)
		}
		// A changes: TLS-001 is fixed, TLS-002's message changes; b is not
		// in this run.
		a1fixed, a2msg := a1, a2
		a1fixed.Status = finding.Pass
		a2msg.Message = "another message"
		r7 := save(6, []string{a}, a1fixed, a2msg)
		if n := spans(); n != 5 {
			t.Errorf("%d spans after two changes; want 5", n)
		}
		// TLS-002 is gone from a's next run.
		r8 := save(7, []string{a}, a1fixed)
		for _, c := range []struct {
			run    int64
			target string
			want   map[string]finding.Status
		}{
			{r1, "", map[string]finding.Status{a + "TLS-001": finding.Fail, a + "TLS-002": finding.Pass, b + "TLS-001": finding.Pass}},
			{r7, "", map[string]finding.Status{a + "TLS-001": finding.Pass, a + "TLS-002": finding.Pass}},
			{r8, a, map[string]finding.Status{a + "TLS-001": finding.Pass}},
		} {
			recs, err := s.RunFindings(ctx, c.run, c.target)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]finding.Status{}
			for _, r := range recs {
				got[r.Target+r.RuleID] = r.Status
				if r.RunID != c.run {
					t.Errorf("run %d: a record says run %d", c.run, r.RunID)
				}
				if r.RuleID == "TLS-002" && c.run == r7 && r.Message != "another message" {
					t.Errorf("run %d reads the old version of TLS-002", c.run)
				}
			}
			if len(got) != len(c.want) {
				t.Errorf("run %d: %v; want %v", c.run, got, c.want)
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Errorf("run %d: %s is %s; want %s", c.run, k, got[k], v)
				}
			}
		}
		// The latest findings: a's from run 8, b's from run 6.
		latest, err := s.Findings(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(latest) != 2 {
			t.Fatalf("latest findings: %d; want 2", len(latest))
		}
		for _, r := range latest {
			if r.Target == b && !r.LastSeen.Equal(t0.Add(5*time.Hour)) {
				t.Errorf("b's finding last seen %v; want its target's last run", r.LastSeen)
			}
			if r.Target == a && (!r.LastSeen.Equal(t0.Add(7*time.Hour)) || r.FixedAt == nil || !r.FixedAt.Equal(t0.Add(6*time.Hour))) {
				t.Errorf("a's TLS-001: last seen %v, fixed %v", r.LastSeen, r.FixedAt)
			}
		}
		if n, err := s.CountFindings(ctx, Filter{Status: finding.Pass}); err != nil || n != 2 {
			t.Errorf("count of passing latest findings: %d, %v", n, err)
		}
		if page, err := s.Findings(ctx, Filter{Limit: 1, Offset: 1, Sort: SortTarget}); err != nil || len(page) != 1 || page[0].Target != b {
			t.Errorf("second page of one: %+v, %v", page, err)
		}
		ts, err := s.Targets(ctx)
		if err != nil || len(ts) != 2 || ts[0].ByStatus[finding.Pass] != 1 || ts[0].ByStatus[finding.Fail] != 0 {
			t.Errorf("targets' counts: %+v, %v", ts, err)
		}
		hist, err := s.TargetHistory(ctx, a, 10)
		if err != nil || len(hist) != 8 || hist[0].ByStatus[finding.Pass] != 1 || hist[len(hist)-1].ByStatus[finding.Fail] != 1 {
			t.Errorf("a's history: %+v, %v", hist, err)
		}
	})
}

// A store from before state changes (every run's findings in
// run_findings) is converted at start: every run reads back the same.
func TestMigrationToSpans(t *testing.T) {
	eachSpec(t, func(t *testing.T, spec string) {
		ctx := context.Background()
		old, err := open(ctx, spec, 4)
		if err != nil {
			t.Fatal(err)
		}
		const tg = "old.example:443"
		data := func(st, msg string) string {
			return mustJSON(finding.Finding{RuleID: "TLS-001", Target: tg, Status: finding.Status(st), Severity: finding.High, Domain: "tls", Message: msg, Fingerprint: "fp1"})
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO runs (id, started_at, finished_at, stored_at, source, tool_version, interrupted, n_targets, n_findings, summary) VALUES (1, 1, 1000, 1000, 'old', 'v1', 0, 1, 1, '{}'), (2, 2, 2000, 2000, 'old', 'v1', 0, 1, 1, '{}')`, nil},
			{`INSERT INTO run_targets (run_id, target, kind, product, version, errors, observations) VALUES (1, ?, 'endpoint', '', '', '[]', '{}'), (2, ?, 'endpoint', '', '', '[]', '{}')`, []any{tg, tg}},
			{`INSERT INTO targets (name, kind, product, version, role, parent, profiles, errors, observations, first_seen, last_seen, last_run_id) VALUES (?, 'endpoint', '', '', '', '', '[]', '[]', '{}', 1000, 2000, 2)`, []any{tg}},
			{`INSERT INTO run_findings (run_id, fingerprint, target, rule_id, status, severity, domain, data) VALUES (1, 'fp1', ?, 'TLS-001', 'fail', 3, 'tls', ?), (2, 'fp1', ?, 'TLS-001', 'pass', 3, 'tls', ?)`,
				[]any{tg, data("fail", "was failing"), tg, data("pass", "now passing")}},
			{`INSERT INTO findings (fingerprint, target, rule_id, first_seen, first_run_id, last_seen, last_run_id, last_status, fixed_at) VALUES ('fp1', ?, 'TLS-001', 1000, 1, 2000, 2, 'pass', 2000)`, []any{tg}},
		} {
			if _, err := old.DB().ExecContext(ctx, old.q(q.sql), q.args...); err != nil {
				t.Fatalf("%s: %v", q.sql, err)
			}
		}
		if old.Dialect() == "postgres" {
			// The rows above were given their IDs.
			if _, err := old.DB().ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('runs', 'id'), 2)`); err != nil {
				t.Fatal(err)
			}
		}
		old.Close()
		s, err := Open(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for run, want := range map[int64]string{1: "was failing", 2: "now passing"} {
			recs, err := s.RunFindings(ctx, run, "")
			if err != nil || len(recs) != 1 || recs[0].Message != want {
				t.Errorf("run %d after the migration: %+v, %v", run, recs, err)
			}
		}
		latest, err := s.Findings(ctx, Filter{})
		if err != nil || len(latest) != 1 || latest[0].Status != finding.Pass || latest[0].FixedAt == nil {
			t.Errorf("latest after the migration: %+v, %v", latest, err)
		}
		ts, err := s.Targets(ctx)
		if err != nil || len(ts) != 1 || ts[0].ByStatus[finding.Pass] != 1 {
			t.Errorf("counts of a target stored before counts were kept: %+v, %v", ts, err)
		}
		// A new run on top of the converted history.
		f := finding.Finding{RuleID: "TLS-001", Target: tg, Status: finding.Fail, Severity: finding.High, Domain: "tls", Fingerprint: "fp1"}
		d, err := s.SaveRun(ctx, RunInput{Report: report(time.UnixMilli(3000), []string{tg}, f), Source: "new", Now: time.UnixMilli(3000)}, nil)
		if err != nil || len(d.NewFailures) != 1 {
			t.Errorf("a run after the migration: %+v, %v", d, err)
		}
	})
}
