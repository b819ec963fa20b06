package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/store"
)

// seedSchema is the store schema the fast seeder writes: the tables
// SaveRun fills (runs, targets, run_targets, finding_spans, findings) as
// they were at migration 0009. Whatever later migrations derive from them
// (counts, flags, keys) is derived when the server opens the store, as it
// is for any store an older rampart wrote.
const seedSchema = 9

// span is one version of a finding in the simulation.
type span struct {
	fp     int32 // index into the fleet's findings
	from   int32 // run index
	until  int32 // run index; -1 while open
	status finding.Status
}

// fpHistory is what the findings table keeps of one fingerprint.
type fpHistory struct {
	status  finding.Status
	fixed   int64
	failing int64
}

// seedFast writes the same fleet as seed (targets x per findings, runs
// runs in which change of the findings flip between fail and pass, one
// target of big findings stored twice) straight into the tables, as
// SaveRun would have left them: with COPY on PostgreSQL, in one
// transaction of prepared inserts on SQLite. It takes a minute or two
// where SaveRun took hours.
func seedFast(ctx context.Context, storage string, reports []string, targets, runs, big, per int, change float64) error {
	tmpl, err := template(reports)
	if err != nil {
		return err
	}
	if per > len(tmpl) {
		per = len(tmpl)
	}
	st, err := store.OpenVersion(ctx, storage, seedSchema)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	var names []string
	var fs []finding.Finding
	for i := range targets {
		n := fmt.Sprintf("https://target-%05d.bench.example:9443/", i)
		names = append(names, n)
		fs = append(fs, relabel(tmpl[:per], n)...)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Now().Truncate(time.Hour).Add(-time.Duration(runs+2) * time.Hour)
	at := func(run int) int64 { return t0.Add(time.Duration(run) * time.Hour).UnixMilli() }
	// Simulate: the status of every finding in every run, as spans.
	var spans []span
	open := make([]int, len(fs)) // index of each finding's open span
	hist := make([]fpHistory, len(fs))
	for i, f := range fs {
		open[i] = len(spans)
		spans = append(spans, span{fp: int32(i), from: 0, until: -1, status: f.Status})
		hist[i] = fpHistory{status: f.Status}
		if f.Status == finding.Fail {
			hist[i].failing = at(0)
		}
	}
	runCounts := make([][]byte, 0, runs) // per run: the JSON summary
	perRun := make([][]string, runs)     // per run, per target: counts JSON
	countsOf := func() []string {
		out := make([]string, targets)
		for ti := range targets {
			c := map[string]any{}
			bs, sev, dom := map[finding.Status]int{}, map[string]int{}, map[string]int{}
			for _, s := range finding.Statuses() {
				bs[s] = 0
			}
			for _, s := range finding.Severities() {
				sev[s.String()] = 0
			}
			for _, f := range fs[ti*per : (ti+1)*per] {
				bs[f.Status]++
				if f.Status == finding.Fail {
					sev[f.Severity.String()]++
					dom[f.Domain]++
				}
			}
			c["by_status"], c["fail_by_severity"], c["fail_by_domain"] = bs, sev, dom
			b, _ := json.Marshal(c)
			out[ti] = string(b)
		}
		return out
	}
	for run := range runs {
		if run > 0 {
			// The findings that flip in this run, one after the other as
			// seed flips them; SaveRun sees only where each ends.
			next := map[int]finding.Status{}
			for range int(change * float64(len(fs))) {
				i := rng.IntN(len(fs))
				cur, ok := next[i]
				if !ok {
					cur = fs[i].Status
				}
				if cur == finding.Fail {
					next[i] = finding.Pass
				} else {
					next[i] = finding.Fail
				}
			}
			for i, st := range next {
				f := &fs[i]
				if st == f.Status {
					continue
				}
				switch {
				case st == finding.Fail:
					hist[i].fixed = 0
					hist[i].failing = at(run)
				case f.Status == finding.Fail && (st == finding.Pass || st == finding.NotApplicable):
					hist[i].fixed = at(run)
				}
				f.Status = st
				hist[i].status = f.Status
				spans[open[i]].until = int32(run)
				open[i] = len(spans)
				spans = append(spans, span{fp: int32(i), from: int32(run), until: -1, status: f.Status})
			}
		}
		b, _ := json.Marshal(finding.Summarize(fs))
		runCounts = append(runCounts, b)
		perRun[run] = countsOf()
	}
	log.Printf("simulated %d runs: %d finding versions, %s", runs, len(spans), time.Since(start).Round(time.Second))

	w, err := newSeedWriter(ctx, st)
	if err != nil {
		return err
	}
	defer w.rollback()
	// Runs: ids 1..runs, then the big target's two.
	bigRuns := 0
	if big > 0 {
		bigRuns = 2
	}
	var bfs []finding.Finding
	const bigName = "https://big.bench.example:9443/"
	if big > 0 {
		for i := range big {
			f := tmpl[i%len(tmpl)]
			f.Target = bigName
			f.Fingerprint = finding.Fingerprint(bigName, f.RuleID, fmt.Sprint(i))
			bfs = append(bfs, f)
		}
	}
	bigSum, _ := json.Marshal(finding.Summarize(bfs))
	err = w.copy("runs", []string{"id", "started_at", "finished_at", "stored_at", "source", "tool_version", "interrupted", "n_targets", "n_findings", "summary"}, runs+bigRuns,
		func(i int) []any {
			if i < runs {
				return []any{int64(i + 1), at(i) - 2000, at(i), at(i), "bench", "bench", 0, targets, len(fs), string(runCounts[i])}
			}
			return []any{int64(i + 1), at(i) - 2000, at(i), at(i), "bench", "bench", 0, 1, len(bfs), string(bigSum)}
		})
	if err != nil {
		return err
	}
	const profiles, errs, obs = `["wso2-apim"]`, `[]`, `{}`
	bigCounts := func() string {
		bs, sev, dom := map[finding.Status]int{}, map[string]int{}, map[string]int{}
		for _, s := range finding.Statuses() {
			bs[s] = 0
		}
		for _, s := range finding.Severities() {
			sev[s.String()] = 0
		}
		for _, f := range bfs {
			bs[f.Status]++
			if f.Status == finding.Fail {
				sev[f.Severity.String()]++
				dom[f.Domain]++
			}
		}
		b, _ := json.Marshal(map[string]any{"by_status": bs, "fail_by_severity": sev, "fail_by_domain": dom})
		return string(b)
	}()
	nt := targets
	if big > 0 {
		nt++
	}
	err = w.copy("targets", []string{"name", "kind", "product", "version", "role", "parent", "profiles", "errors", "observations", "first_seen", "last_seen", "last_run_id", "counts"}, nt,
		func(i int) []any {
			if i < targets {
				return []any{names[i], "endpoint", "", "", "", "", profiles, errs, obs, at(0), at(runs - 1), int64(runs), perRun[runs-1][i]}
			}
			return []any{bigName, "endpoint", "", "", "", "", profiles, errs, obs, at(runs), at(runs + 1), int64(runs + 2), bigCounts}
		})
	if err != nil {
		return err
	}
	err = w.copy("run_targets", []string{"run_id", "target", "kind", "product", "version", "errors", "observations", "counts"}, runs*targets+bigRuns,
		func(i int) []any {
			if i < runs*targets {
				r, ti := i/targets, i%targets
				return []any{int64(r + 1), names[ti], "endpoint", "", "", errs, obs, perRun[r][ti]}
			}
			r := runs + (i - runs*targets)
			return []any{int64(r + 1), bigName, "endpoint", "", "", errs, obs, bigCounts}
		})
	if err != nil {
		return err
	}
	perRun = nil
	spanCols := []string{"id", "fingerprint", "target", "rule_id", "status", "severity", "domain", "data", "from_run", "until_run", "digest"}
	err = w.copy("finding_spans", spanCols, len(spans)+len(bfs), func(i int) []any {
		if i < len(spans) {
			sp := spans[i]
			f := fs[sp.fp]
			f.Status = sp.status
			data := mustJSON(f)
			var until any
			if sp.until >= 0 {
				until = int64(sp.until + 1)
			}
			return []any{int64(i + 1), f.Fingerprint, f.Target, f.RuleID, string(f.Status), int(f.Severity), f.Domain, data, int64(sp.from + 1), until, digestOf(data)}
		}
		f := bfs[i-len(spans)]
		data := mustJSON(f)
		return []any{int64(i + 1), f.Fingerprint, f.Target, f.RuleID, string(f.Status), int(f.Severity), f.Domain, data, int64(runs + 1), nil, digestOf(data)}
	})
	if err != nil {
		return err
	}
	nullable := func(v int64) any {
		if v == 0 {
			return nil
		}
		return v
	}
	err = w.copy("findings", []string{"fingerprint", "target", "rule_id", "first_seen", "first_run_id", "last_seen", "last_run_id", "last_status", "fixed_at", "present", "failing_since"}, len(fs)+len(bfs),
		func(i int) []any {
			if i < len(fs) {
				f, h := fs[i], hist[i]
				return []any{f.Fingerprint, f.Target, f.RuleID, at(0), int64(1), at(runs - 1), int64(runs), string(h.status), nullable(h.fixed), 1, nullable(h.failing)}
			}
			f := bfs[i-len(fs)]
			var failing int64
			if f.Status == finding.Fail {
				failing = at(runs)
			}
			return []any{f.Fingerprint, f.Target, f.RuleID, at(runs), int64(runs + 1), at(runs + 1), int64(runs + 2), string(f.Status), nil, 1, nullable(failing)}
		})
	if err != nil {
		return err
	}
	if err := w.commit(); err != nil {
		return err
	}
	n, err := size(ctx, st, storage)
	if err != nil {
		return err
	}
	fmt.Printf("seeded (COPY/batched, schema %d): %d targets x %d findings x %d runs (%.0f%% changing per run: %d finding versions) + one target of %d findings; store %d MiB; %s\n",
		seedSchema, targets, per, runs, change*100, len(spans), big, n>>20, time.Since(start).Round(time.Second))
	return nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// digestOf is the store's digest of a finding version's JSON.
func digestOf(data string) string {
	h := sha256.Sum256([]byte(data))
	return hex.EncodeToString(h[:16])
}

// seedWriter bulk-writes rows in one transaction.
type seedWriter struct {
	ctx     context.Context
	st      *store.SQL
	conn    *sql.Conn
	pg      *pgx.Conn
	tx      *sql.Tx
	pgTx    pgx.Tx
	dialect string
}

func newSeedWriter(ctx context.Context, st *store.SQL) (*seedWriter, error) {
	w := &seedWriter{ctx: ctx, st: st, dialect: st.Dialect()}
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		return nil, err
	}
	w.conn = conn
	if w.dialect == "postgres" {
		err = conn.Raw(func(dc any) error {
			w.pg = dc.(*stdlib.Conn).Conn()
			return nil
		})
		if err != nil {
			return nil, err
		}
		w.pgTx, err = w.pg.Begin(ctx)
		return w, err
	}
	w.tx, err = conn.BeginTx(ctx, nil)
	return w, err
}

// copy writes n rows of cols into table; row(i) makes the i-th.
func (w *seedWriter) copy(table string, cols []string, n int, row func(i int) []any) error {
	start := time.Now()
	const chunk = 20000
	if w.dialect == "postgres" {
		for lo := 0; lo < n; lo += chunk {
			hi := min(n, lo+chunk)
			rows := make([][]any, 0, hi-lo)
			for i := lo; i < hi; i++ {
				rows = append(rows, row(i))
			}
			if _, err := w.pgTx.CopyFrom(w.ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
				return fmt.Errorf("copy %s: %w", table, err)
			}
		}
	} else {
		const per = 50
		one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
		head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
		full, err := w.tx.PrepareContext(w.ctx, head+strings.TrimSuffix(strings.Repeat(one+", ", per), ", "))
		if err != nil {
			return err
		}
		defer full.Close()
		args := make([]any, 0, per*len(cols))
		for i := range n {
			args = append(args, row(i)...)
			if len(args) == cap(args) {
				if _, err := full.ExecContext(w.ctx, args...); err != nil {
					return fmt.Errorf("insert %s: %w", table, err)
				}
				args = args[:0]
			}
		}
		if len(args) > 0 {
			m := len(args) / len(cols)
			if _, err := w.tx.ExecContext(w.ctx, head+strings.TrimSuffix(strings.Repeat(one+", ", m), ", "), args...); err != nil {
				return fmt.Errorf("insert %s: %w", table, err)
			}
		}
	}
	log.Printf("%s: %d rows, %s", table, n, time.Since(start).Round(time.Millisecond))
	return nil
}

func (w *seedWriter) commit() error {
	defer w.conn.Close()
	if w.dialect == "postgres" {
		for _, t := range []string{"runs", "finding_spans"} {
			if _, err := w.pgTx.Exec(w.ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT MAX(id) FROM %s))`, t, t)); err != nil {
				return err
			}
		}
		if err := w.pgTx.Commit(w.ctx); err != nil {
			return err
		}
		_, err := w.st.DB().ExecContext(w.ctx, `ANALYZE`)
		return err
	}
	if err := w.tx.Commit(); err != nil {
		return err
	}
	_, err := w.st.DB().ExecContext(w.ctx, `ANALYZE`)
	return err
}

func (w *seedWriter) rollback() {
	if w.pgTx != nil {
		_ = w.pgTx.Rollback(w.ctx)
	}
	if w.tx != nil {
		_ = w.tx.Rollback()
	}
	_ = w.conn.Close()
}

// compareStores checks that two stores hold the same history (the fast
// seeder's against SaveRun's): every target with its counts, the latest
// findings with their history, and each target's counts per run.
func compareStores(ctx context.Context, a, b string) error {
	sa, err := store.Open(ctx, a)
	if err != nil {
		return err
	}
	defer sa.Close()
	sb, err := store.Open(ctx, b)
	if err != nil {
		return err
	}
	defer sb.Close()
	ta, err := sa.Targets(ctx)
	if err != nil {
		return err
	}
	tb, err := sb.Targets(ctx)
	if err != nil {
		return err
	}
	if len(ta) != len(tb) {
		return fmt.Errorf("targets: %d and %d", len(ta), len(tb))
	}
	for i := range ta {
		x, y := ta[i], tb[i]
		if x.Name != y.Name || mustJSON(x.ByStatus) != mustJSON(y.ByStatus) || mustJSON(x.FailByDomain) != mustJSON(y.FailByDomain) {
			return fmt.Errorf("target %s: %v %v / %s %v", x.Name, x.ByStatus, x.FailByDomain, y.Name, y.ByStatus)
		}
		ha, _ := sa.TargetHistory(ctx, x.Name, 1000)
		hb, _ := sb.TargetHistory(ctx, y.Name, 1000)
		if mustJSON(ha) != mustJSON(hb) {
			return fmt.Errorf("history of %s differs:\n%s\n%s", x.Name, mustJSON(ha), mustJSON(hb))
		}
	}
	fa, err := sa.Findings(ctx, store.Filter{})
	if err != nil {
		return err
	}
	fb, err := sb.Findings(ctx, store.Filter{})
	if err != nil {
		return err
	}
	if len(fa) != len(fb) {
		return fmt.Errorf("findings: %d and %d", len(fa), len(fb))
	}
	for i := range fa {
		x, y := fa[i], fb[i]
		if mustJSON(x.Finding) != mustJSON(y.Finding) || !x.FirstSeen.Equal(y.FirstSeen) || !x.LastSeen.Equal(y.LastSeen) || mustJSON(x.FixedAt) != mustJSON(y.FixedAt) || mustJSON(x.FailingSince) != mustJSON(y.FailingSince) {
			return fmt.Errorf("finding %s:\n%s %v %v %v %v\n%s %v %v %v %v", x.Fingerprint, x.Status, x.FirstSeen, x.LastSeen, x.FixedAt, x.FailingSince, y.Status, y.FirstSeen, y.LastSeen, y.FixedAt, y.FailingSince)
		}
	}
	ra, _ := sa.Runs(ctx, 1000, 0)
	rb, _ := sb.Runs(ctx, 1000, 0)
	if len(ra) != len(rb) {
		return fmt.Errorf("runs: %d and %d", len(ra), len(rb))
	}
	for i := range ra {
		fa, err := sa.RunFindings(ctx, ra[i].ID, "")
		if err != nil {
			return err
		}
		fb, err := sb.RunFindings(ctx, rb[i].ID, "")
		if err != nil {
			return err
		}
		if len(fa) != len(fb) || mustJSON(ra[i].Summary) != mustJSON(rb[i].Summary) {
			return fmt.Errorf("run %d: %d and %d findings", ra[i].ID, len(fa), len(fb))
		}
		for j := range fa {
			if mustJSON(fa[j].Finding) != mustJSON(fb[j].Finding) {
				return fmt.Errorf("run %d finding %s differs", ra[i].ID, fa[j].Fingerprint)
			}
		}
	}
	fmt.Printf("same: %d targets, %d latest findings, %d runs\n", len(ta), len(fa), len(ra))
	return nil
}
