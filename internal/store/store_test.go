package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/testenv"

	"github.com/rampart-sec/rampart/internal/finding"
)

// eachStore runs fn against a fresh SQLite store and, when
// RAMPART_TEST_POSTGRES names a server, a fresh schema on PostgreSQL: the
// same tests on both. Without a server the PostgreSQL half is skipped,
// unless RAMPART_EVAL=1 (CI), where it fails.
func eachStore(t *testing.T, fn func(t *testing.T, s *SQL)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		s, err := Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		fn(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		s := openTestPostgres(t)
		fn(t, s)
	})
}

// openTestPostgres opens a store in a new schema of the test server.
func openTestPostgres(t testing.TB) *SQL {
	t.Helper()
	s, err := Open(context.Background(), testPostgresSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testPostgresSpec returns the DSN of a new, empty schema of the test
// server (dropped when the test ends).
func testPostgresSpec(t testing.TB) string {
	t.Helper()
	dsn := testenv.Env(t, "RAMPART_TEST_POSTGRES", "start a server with scripts/ci/postgres.sh and export its DSN")
	ctx := context.Background()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	schema := fmt.Sprintf("t_%d", time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", dsn)
		if err == nil {
			_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

// eachSpec runs fn with the spec of an empty SQLite directory and of an
// empty PostgreSQL schema.
func eachSpec(t *testing.T, fn func(t *testing.T, spec string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, t.TempDir()) })
	t.Run("postgres", func(t *testing.T) { fn(t, testPostgresSpec(t)) })
}

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func fnd(target, rule string, st finding.Status, sev finding.Severity) finding.Finding {
	return finding.Finding{
		RuleID: rule, Title: rule + " title", Target: target, Status: st, Severity: sev, Domain: strings.ToLower(strings.Split(rule, "-")[0]),
		Message: rule + " says " + string(st), Checks: []string{"probe"},
		Evidence:    []finding.Evidence{{Source: target, Path: "tls.versions", Value: "TLSv1.2", Check: "probe"}},
		Remediation: "fix " + rule, References: []string{"https://example.invalid/" + rule},
		Fingerprint: finding.Fingerprint(target, rule, ""),
	}
}

func report(at time.Time, targets []string, fs ...finding.Finding) *finding.Report {
	r := &finding.Report{SchemaVersion: finding.SchemaVersion, Tool: finding.Tool{Name: "rampart", Version: "test"},
		StartedAt: at.Add(-time.Minute), FinishedAt: at, Findings: fs}
	for _, n := range targets {
		r.Targets = append(r.Targets, finding.TargetInfo{Name: n, Kind: "endpoint", Profiles: []string{}})
	}
	r.Finalize()
	return r
}

func alertAll(d Drift) []OutboxItem {
	var out []OutboxItem
	for _, f := range d.NewFailures {
		out = append(out, OutboxItem{Destination: "hook", Key: fmt.Sprintf("new_failure/%s/%d", f.Fingerprint, d.RunID), Kind: "new_failure", Body: []byte(`{}`), CreatedAt: d.At})
	}
	for _, f := range d.Fixed {
		out = append(out, OutboxItem{Destination: "hook", Key: fmt.Sprintf("fixed/%s/%d", f.Fingerprint, d.RunID), Kind: "fixed", Body: []byte(`{}`), CreatedAt: d.At})
	}
	for _, c := range d.Expiring {
		out = append(out, OutboxItem{Destination: "hook", Key: "cert_expiring/" + c.SHA256, Kind: "cert_expiring", Body: []byte(`{}`), CreatedAt: d.At})
	}
	return out
}

func TestMigrationsIdempotent(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 2; i++ {
		s, err := Open(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.SchemaVersion(context.Background())
		if err != nil || v != latestSchema {
			t.Fatalf("schema version = %d, %v; want %d", v, err, latestSchema)
		}
		s.Close()
	}
	fi, err := os.Stat(dir + "/" + DBFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("database file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestHistoryAndDrift(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		const a = "https://127.0.0.1:9443/"
		cert := Cert{Subject: "CN=gw", SHA256: "ab12", NotAfter: t0.Add(20 * 24 * time.Hour)}
		obs1 := map[string]Observation{a: {PortsScanned: true, OpenPorts: []int{22, 443}, Certs: []Cert{cert}}}
		d1, err := s.SaveRun(ctx, RunInput{Report: report(t0, []string{a},
			fnd(a, "TLS-001", finding.Fail, finding.High), fnd(a, "TLS-002", finding.Pass, finding.Medium)),
			Source: "schedule:nightly", Observations: obs1, CertWarnDays: 30, Now: t0}, alertAll)
		if err != nil {
			t.Fatal(err)
		}
		if len(d1.FirstRun) != 1 || len(d1.NewFailures) != 0 || len(d1.Fixed) != 0 {
			t.Fatalf("first run drift = %+v; want a baseline with no new failures", d1)
		}
		if len(d1.FirstRunFailures) != 1 || d1.FirstRunFailures[0].RuleID != "TLS-001" {
			t.Errorf("first run failures = %+v; want TLS-001 (the baseline's failing finding)", d1.FirstRunFailures)
		}
		if len(d1.Expiring) != 1 || d1.Expiring[0].Days != 20 {
			t.Fatalf("expiring = %+v; want the certificate with 20 days left", d1.Expiring)
		}

		t1 := t0.Add(time.Hour)
		obs2 := map[string]Observation{a: {PortsScanned: true, OpenPorts: []int{22, 443, 8080}, Certs: []Cert{cert}}}
		d2, err := s.SaveRun(ctx, RunInput{Report: report(t1, []string{a},
			fnd(a, "TLS-001", finding.Pass, finding.High), fnd(a, "TLS-002", finding.Fail, finding.Medium), fnd(a, "HTTP-001", finding.Fail, finding.Low)),
			Source: "schedule:nightly", Observations: obs2, CertWarnDays: 30, Now: t1}, alertAll)
		if err != nil {
			t.Fatal(err)
		}
		rules := func(fs []finding.Finding) string {
			var ids []string
			for _, f := range fs {
				ids = append(ids, f.RuleID)
			}
			return strings.Join(ids, ",")
		}
		if got := rules(d2.NewFailures); got != "HTTP-001,TLS-002" {
			t.Errorf("new failures = %s; want HTTP-001,TLS-002", got)
		}
		if got := rules(d2.Fixed); got != "TLS-001" {
			t.Errorf("fixed = %s; want TLS-001", got)
		}
		if len(d2.FirstRun) != 0 || len(d2.FirstRunFailures) != 0 {
			t.Errorf("second run: first run %v, first-run failures %d; want none", d2.FirstRun, len(d2.FirstRunFailures))
		}
		if len(d2.NewPorts) != 1 || d2.NewPorts[0].Port != 8080 {
			t.Errorf("new ports = %+v; want 8080", d2.NewPorts)
		}

		recs, err := s.Findings(ctx, Filter{Target: a})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 3 {
			t.Fatalf("latest findings = %d; want 3", len(recs))
		}
		for _, r := range recs {
			switch r.RuleID {
			case "TLS-001":
				if r.FixedAt == nil || !r.FixedAt.Equal(t1) || !r.FirstSeen.Equal(t0) || !r.LastSeen.Equal(t1) {
					t.Errorf("TLS-001 history first=%v last=%v fixed=%v; want %v, %v, %v", r.FirstSeen, r.LastSeen, r.FixedAt, t0, t1, t1)
				}
				if r.Status != finding.Pass || len(r.Evidence) != 1 || r.Remediation != "fix TLS-001" {
					t.Errorf("TLS-001 record lost data: %+v", r.Finding)
				}
			case "HTTP-001":
				if !r.FirstSeen.Equal(t1) || r.FixedAt != nil {
					t.Errorf("HTTP-001 first seen %v fixed %v; want %v, nil", r.FirstSeen, r.FixedAt, t1)
				}
			}
		}
		failing, err := s.Findings(ctx, Filter{Status: finding.Fail, Severity: finding.Medium})
		if err != nil || len(failing) != 1 || failing[0].RuleID != "TLS-002" {
			t.Errorf("failing >= medium = %+v, %v; want TLS-002", failing, err)
		}

		// Fail again: fixed_at is cleared and it is a new failure.
		t2 := t1.Add(time.Hour)
		d3, err := s.SaveRun(ctx, RunInput{Report: report(t2, []string{a},
			fnd(a, "TLS-001", finding.Fail, finding.High), fnd(a, "TLS-002", finding.Fail, finding.Medium), fnd(a, "HTTP-001", finding.Fail, finding.Low)),
			Source: "upload", Observations: obs2, Now: t2}, alertAll)
		if err != nil {
			t.Fatal(err)
		}
		if got := rules(d3.NewFailures); got != "TLS-001" {
			t.Errorf("reopened: new failures = %s; want TLS-001 only", got)
		}

		ts, err := s.Targets(ctx)
		if err != nil || len(ts) != 1 {
			t.Fatalf("targets = %+v, %v", ts, err)
		}
		tg := ts[0]
		if tg.ByStatus[finding.Fail] != 3 || tg.FailBySeverity["high"] != 1 || tg.FailByDomain["tls"] != 2 || tg.LastRunID != d3.RunID {
			t.Errorf("target counts = %+v", tg)
		}
		if !tg.FirstSeen.Equal(t0) || !tg.LastSeen.Equal(t2) || len(tg.Observations.OpenPorts) != 3 {
			t.Errorf("target history = %+v", tg)
		}
		hist, err := s.TargetHistory(ctx, a, 10)
		if err != nil || len(hist) != 3 || hist[0].RunID != d3.RunID || hist[2].ByStatus[finding.Fail] != 1 {
			t.Errorf("target history = %+v, %v", hist, err)
		}
		runs, err := s.Runs(ctx, 10, 0)
		if err != nil || len(runs) != 3 || runs[0].Source != "upload" || runs[2].Summary.ByStatus[finding.Fail] != 1 {
			t.Fatalf("runs = %+v, %v", runs, err)
		}
		if runs[1].Duration() != time.Minute {
			t.Errorf("duration = %v", runs[1].Duration())
		}
		older, err := s.Runs(ctx, 10, runs[0].ID)
		if err != nil || len(older) != 2 {
			t.Errorf("runs before %d = %d, %v", runs[0].ID, len(older), err)
		}
		rts, err := s.RunTargets(ctx, d2.RunID)
		if err != nil || len(rts) != 1 || len(rts[0].Observations.Certs) != 1 {
			t.Errorf("run targets = %+v, %v", rts, err)
		}
		if _, err := s.Run(ctx, 999999); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing run: %v; want ErrNotFound", err)
		}
		// Alerts: 1 cert (run 1; the repeat in run 2 has the same key),
		// 2 new + 1 fixed (run 2), 1 new (run 3).
		st, err := s.OutboxStats(ctx)
		if err != nil || st.Pending != 5 {
			t.Errorf("outbox = %+v, %v; want 5 pending", st, err)
		}
	})
}

func TestSaveRunIsAtomic(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		const a = "dir/a"
		_, err := s.SaveRun(ctx, RunInput{Report: report(t0, []string{a}, fnd(a, "KEY-001", finding.Fail, finding.High))}, func(Drift) []OutboxItem {
			cancel() // the process dies mid-transaction
			return []OutboxItem{{Destination: "d", Key: "k", Body: []byte("{}")}}
		})
		if err == nil {
			t.Fatal("SaveRun succeeded with a cancelled context")
		}
		bg := context.Background()
		for _, table := range []string{"runs", "finding_spans", "run_targets", "findings", "targets", "outbox"} {
			var n int
			if err := s.DB().QueryRowContext(bg, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%s has %d rows after a failed SaveRun; want 0", table, n)
			}
		}
	})
}

func TestOutbox(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		items := []OutboxItem{
			{Destination: "a", Key: "k1", Kind: "new_failure", Body: []byte(`{"n":1}`), CreatedAt: t0},
			{Destination: "a", Key: "k2", Kind: "fixed", Body: []byte(`{"n":2}`), CreatedAt: t0.Add(time.Second)},
			{Destination: "b", Key: "k1", Kind: "new_failure", Body: []byte(`{"n":1}`), CreatedAt: t0},
		}
		n, err := s.Enqueue(ctx, items)
		if err != nil || n != 3 {
			t.Fatalf("enqueue = %d, %v", n, err)
		}
		if n, err := s.Enqueue(ctx, items[:1]); err != nil || n != 0 {
			t.Fatalf("re-enqueue = %d, %v; want 0 (same key)", n, err)
		}
		due, err := s.DueOutbox(ctx, t0.Add(time.Minute), 10)
		if err != nil || len(due) != 3 || string(due[0].Body) != `{"n":1}` {
			t.Fatalf("due = %+v, %v", due, err)
		}
		if err := s.MarkFailed(ctx, due[0].ID, t0.Add(time.Hour), "connection refused"); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkDelivered(ctx, due[1].ID, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		due, err = s.DueOutbox(ctx, t0.Add(2*time.Minute), 10)
		if err != nil || len(due) != 1 {
			t.Fatalf("due after one failure and one delivery = %+v, %v; want 1", due, err)
		}
		due, err = s.DueOutbox(ctx, t0.Add(2*time.Hour), 10)
		if err != nil || len(due) != 2 || due[1].Attempts != 1 || due[1].LastError != "connection refused" {
			t.Fatalf("due later = %+v, %v", due, err)
		}
		st, err := s.OutboxStats(ctx)
		if err != nil || st.Pending != 2 || st.Delivered != 1 || st.Retrying != 1 || st.Dead != 0 {
			t.Errorf("stats = %+v, %v", st, err)
		}

		// Dead letters: out of the queue, counted, listed with their error.
		dead := due[1] // a/k1, failed once
		if err := s.MarkDead(ctx, dead.ID, t0.Add(3*time.Hour), "post a: status 410: gone"); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkFailed(ctx, dead.ID, t0, "late"); err != nil {
			t.Fatal(err)
		}
		if due, _ := s.DueOutbox(ctx, t0.Add(24*time.Hour), 10); len(due) != 1 || due[0].ID == dead.ID {
			t.Errorf("due with a dead letter = %+v; want only the other pending item", due)
		}
		st, _ = s.OutboxStats(ctx)
		if st.Pending != 1 || st.Dead != 1 || st.DeadBy["a"] != 1 || st.Retrying != 0 {
			t.Errorf("stats = %+v; want 1 pending, 1 dead (of a)", st)
		}
		dl, err := s.Outbox(ctx, OutboxDead, 10)
		if err != nil || len(dl) != 1 || dl[0].LastError != "post a: status 410: gone" || dl[0].Attempts != 2 || dl[0].DeadAt == nil || !dl[0].DeadAt.Equal(t0.Add(3*time.Hour)) {
			t.Fatalf("dead letters = %+v, %v", dl, err)
		}
		// The same event raised again is not queued again.
		if n, _ := s.Enqueue(ctx, items[:1]); n != 0 {
			t.Errorf("a dead letter's event was queued again")
		}
		// Retry: pending again, due now, with a new retry window.
		t1 := t0.Add(5 * time.Hour)
		if n, err := s.RetryDead(ctx, dead.ID, t1, Audit{At: t1, Actor: "root", Action: "alert.retry", Subject: "a/k1"}); err != nil || n != 1 {
			t.Fatalf("retry = %d, %v", n, err)
		}
		if _, err := s.RetryDead(ctx, dead.ID, t1, Audit{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("retrying a pending item: %v; want ErrNotFound", err)
		}
		due, _ = s.DueOutbox(ctx, t1, 10)
		var back *OutboxItem
		for i := range due {
			if due[i].ID == dead.ID {
				back = &due[i]
			}
		}
		if back == nil || !back.EnqueuedAt.Equal(t1) || back.State != OutboxPending || back.DeadAt != nil {
			t.Fatalf("retried item = %+v", back)
		}
		// Dead again, then discarded: kept (so the event is not raised
		// again) but out of every count that asks for attention.
		_ = s.MarkDead(ctx, dead.ID, t1, "status 410")
		if err := s.DiscardDead(ctx, dead.ID, t1, Audit{At: t1, Actor: "root", Action: "alert.discard", Subject: "a/k1"}); err != nil {
			t.Fatal(err)
		}
		if err := s.DiscardDead(ctx, dead.ID, t1, Audit{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("second discard: %v", err)
		}
		st, _ = s.OutboxStats(ctx)
		if st.Dead != 0 || st.Discarded != 1 || len(st.DeadBy) != 0 {
			t.Errorf("stats after discard = %+v", st)
		}
		if n, _ := s.Enqueue(ctx, items[:1]); n != 0 {
			t.Errorf("a discarded event was queued again")
		}
		// Retry all: every dead letter at once.
		for _, it := range due {
			if it.ID != dead.ID {
				_ = s.MarkDead(ctx, it.ID, t1, "x")
			}
		}
		if n, err := s.RetryDead(ctx, 0, t1, Audit{At: t1, Actor: "root", Action: "alert.retry", Subject: "all"}); err != nil || n != 1 {
			t.Errorf("retry all = %d, %v", n, err)
		}
		log, _ := s.AuditLog(ctx, 10, 0)
		if len(log) != 3 || log[0].Subject != "all" || log[1].Action != "alert.discard" {
			t.Errorf("audit log = %+v", log)
		}
	})
}

func TestHealthSamples(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		for i := 0; i < 5; i++ {
			h := HealthSample{Target: "gw", URL: "https://127.0.0.1:1/healthz", At: t0.Add(time.Duration(i) * time.Second), Status: 200, OK: true, LatencyMS: int64(10 + i)}
			if i == 4 {
				h.Anomaly, h.LatencyMS = true, 900
			}
			if err := s.RecordHealth(ctx, h); err != nil {
				t.Fatal(err)
			}
		}
		hs, err := s.HealthHistory(ctx, "https://127.0.0.1:1/healthz", 3)
		if err != nil || len(hs) != 3 || hs[0].LatencyMS != 900 || !hs[0].Anomaly {
			t.Fatalf("history = %+v, %v", hs, err)
		}
		latest, err := s.LatestHealth(ctx)
		if err != nil || len(latest) != 1 || latest[0].LatencyMS != 900 {
			t.Fatalf("latest = %+v, %v", latest, err)
		}
	})
}

// Writers from several goroutines (the scheduler, uploads, the monitor)
// must all land.
func TestConcurrentWriters(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("target-%d", g)
				for i := 0; i < 3; i++ {
					at := t0.Add(time.Duration(i) * time.Minute)
					_, err := s.SaveRun(ctx, RunInput{Report: report(at, []string{name}, fnd(name, "TLS-001", finding.Fail, finding.High)), Now: at}, alertAll)
					if err != nil {
						errs <- err
						return
					}
					if err := s.RecordHealth(ctx, HealthSample{Target: name, URL: name, At: at, OK: true}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		runs, err := s.Runs(ctx, 100, 0)
		if err != nil || len(runs) != 12 {
			t.Errorf("runs = %d, %v; want 12", len(runs), err)
		}
	})
}

func BenchmarkSaveRun(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		s, err := Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchSaveRun(b, s)
	})
	b.Run("postgres", func(b *testing.B) { benchSaveRun(b, openTestPostgres(b)) })
}

func benchSaveRun(b *testing.B, s *SQL) {
	// A realistic run: 10 targets x 69 rules.
	var targets []string
	var fs []finding.Finding
	for i := 0; i < 10; i++ {
		name := fmt.Sprintf("https://10.0.0.%d:9443/", i)
		targets = append(targets, name)
		for r := 0; r < 69; r++ {
			st := finding.Pass
			if r%5 == 0 {
				st = finding.Fail
			}
			fs = append(fs, fnd(name, fmt.Sprintf("TLS-%03d", r), st, finding.Medium))
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		at := t0.Add(time.Duration(i) * time.Minute)
		r := report(at, targets, fs...)
		if _, err := s.SaveRun(context.Background(), RunInput{Report: r, Now: at}, alertAll); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(fs)), "findings/run")
}

func TestPrune(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		for i, name := range []string{"a", "a", "a", "b"} {
			at := t0.Add(time.Duration(i) * 24 * time.Hour)
			if _, err := s.SaveRun(ctx, RunInput{Report: report(at, []string{name}, fnd(name, "TLS-001", finding.Fail, finding.High)), Now: at}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.RecordHealth(ctx, HealthSample{URL: "u", At: t0}); err != nil {
			t.Fatal(err)
		}
		// Runs 1 and 2 are old; run 3 is a's latest and run 4 b's.
		n, err := s.Prune(ctx, t0.Add(10*24*time.Hour))
		if err != nil || n != 2 {
			t.Fatalf("pruned %d, %v; want 2", n, err)
		}
		runs, _ := s.Runs(ctx, 10, 0)
		if len(runs) != 2 {
			t.Errorf("runs left = %d", len(runs))
		}
		var orphans int
		if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM finding_spans sp WHERE NOT EXISTS (SELECT 1 FROM run_targets rt WHERE rt.target = sp.target AND rt.run_id >= sp.from_run AND (sp.until_run IS NULL OR rt.run_id < sp.until_run))`).Scan(&orphans); err != nil || orphans != 0 {
			t.Errorf("%d findings of pruned runs remain (%v)", orphans, err)
		}
		recs, err := s.Findings(ctx, Filter{Target: "a"})
		if err != nil || len(recs) != 1 || !recs[0].FirstSeen.Equal(t0) {
			t.Errorf("history after prune = %+v, %v; first seen must stay", recs, err)
		}
		if hs, _ := s.HealthHistory(ctx, "u", 10); len(hs) != 0 {
			t.Errorf("old health samples kept")
		}
		// Old delivered and discarded alerts go; pending ones and dead
		// letters stay until they are delivered or discarded.
		var items []OutboxItem
		for _, k := range []string{"delivered", "discarded", "dead", "pending"} {
			items = append(items, OutboxItem{Destination: "d", Key: k, Kind: "fixed", Body: []byte("{}"), CreatedAt: t0, EnqueuedAt: t0})
		}
		if _, err := s.Enqueue(ctx, items); err != nil {
			t.Fatal(err)
		}
		due, _ := s.DueOutbox(ctx, t0, 10)
		for _, it := range due {
			switch it.Key {
			case "delivered":
				_ = s.MarkDelivered(ctx, it.ID, t0)
			case "discarded":
				_ = s.MarkDead(ctx, it.ID, t0, "410")
				if err := s.DiscardDead(ctx, it.ID, t0, Audit{}); err != nil {
					t.Fatal(err)
				}
			case "dead":
				_ = s.MarkDead(ctx, it.ID, t0, "410")
			}
		}
		if _, err := s.Prune(ctx, t0.Add(10*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		st, _ := s.OutboxStats(ctx)
		if st.Delivered != 0 || st.Discarded != 0 || st.Dead != 1 || st.Pending != 1 {
			t.Errorf("outbox after prune = %+v; want the dead letter and the pending alert only", st)
		}
	})
}
