// Command history benchmarks rampart serve's history store: how many
// bytes a run costs when nothing changes, and (mode pages) how fast the
// dashboard and API answer over a large seeded fleet. It is driven by
// scripts/bench/history.sh.
//
//	history -mode bytes -storage DIR|postgres://... -report a.json,b.json -runs 1000
//	history -mode seed  -storage ... -report a.json -targets 10000 -runs 100 -big 100000
//	history -mode pages -base https://127.0.0.1:PORT -ca ca.pem -password PW -n 50
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/store"
)

func main() {
	mode := flag.String("mode", "bytes", "bytes, seed or pages")
	storage := flag.String("storage", "", "a data directory (SQLite) or a postgres:// DSN")
	reports := flag.String("report", "", "JSON reports whose findings make up a target (comma-separated)")
	runs := flag.Int("runs", 1000, "runs to store")
	targets := flag.Int("targets", 10000, "targets of the seeded fleet")
	big := flag.Int("big", 100000, "findings of the one big target (seed)")
	change := flag.Float64("change", 0.01, "share of the findings whose status flips in each seeded run")
	base := flag.String("base", "", "the server's URL (pages)")
	ca := flag.String("ca", "", "the server's CA (pages)")
	password := flag.String("password", "", "the admin's password (pages)")
	n := flag.Int("n", 50, "requests per page (pages)")
	flag.Parse()
	ctx := context.Background()
	var err error
	switch *mode {
	case "bytes":
		err = bytesPerRun(ctx, *storage, strings.Split(*reports, ","), *runs)
	case "seed":
		err = seed(ctx, *storage, strings.Split(*reports, ","), *targets, *runs, *big, *change)
	case "pages":
		err = pages(ctx, *base, *ca, *password, *n)
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		log.Fatal(err)
	}
}

// template reads the findings of the reports, to be relabelled onto
// bench targets: real findings with their real evidence and texts.
func template(paths []string) ([]finding.Finding, error) {
	var out []finding.Finding
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var r finding.Report
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		for _, f := range r.Findings {
			f.Fingerprint = fmt.Sprint(i) // made per target below
			out = append(out, f)
		}
	}
	return out, nil
}

// relabel makes tmpl the findings of one target.
func relabel(tmpl []finding.Finding, target string) []finding.Finding {
	out := make([]finding.Finding, len(tmpl))
	for i, f := range tmpl {
		f.Target = target
		f.Fingerprint = finding.Fingerprint(target, f.RuleID, f.Fingerprint+fmt.Sprint(i))
		out[i] = f
	}
	return out
}

func report(at time.Time, fs []finding.Finding, targets ...string) *finding.Report {
	r := &finding.Report{SchemaVersion: finding.SchemaVersion, Tool: finding.Tool{Name: "rampart", Version: "bench"},
		StartedAt: at.Add(-2 * time.Second), FinishedAt: at, Findings: fs}
	for _, t := range targets {
		r.Targets = append(r.Targets, finding.TargetInfo{Name: t, Kind: "endpoint", Profiles: []string{"wso2-apim"}})
	}
	r.Finalize()
	return r
}

// size is the store's size on disk in bytes: the SQLite file after a
// checkpoint, or the PostgreSQL schema's tables with their indexes and
// TOAST.
func size(ctx context.Context, st *store.SQL, storage string) (int64, error) {
	db := st.DB()
	if st.Dialect() == "postgres" {
		var n sql.NullInt64
		err := db.QueryRowContext(ctx, `SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
WHERE ns.nspname = current_schema() AND c.relkind = 'r'`).Scan(&n)
		return n.Int64, err
	}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return 0, err
	}
	fi, err := os.Stat(filepath.Join(storage, store.DBFile))
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// bytesPerRun stores one target's unchanged findings runs times and
// reports what each run after the first added to the store.
func bytesPerRun(ctx context.Context, storage string, reports []string, runs int) error {
	tmpl, err := template(reports)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, storage)
	if err != nil {
		return err
	}
	defer st.Close()
	const name = "https://bench-target.example:9443/"
	fs := relabel(tmpl, name)
	t0 := time.Now().Add(-time.Duration(runs) * time.Hour)
	var first int64
	start := time.Now()
	for i := range runs {
		r := report(t0.Add(time.Duration(i)*time.Hour), fs, name)
		if _, err := st.SaveRun(ctx, store.RunInput{Report: r, Source: "bench", Now: r.FinishedAt}, nil); err != nil {
			return err
		}
		if i == 0 {
			if first, err = size(ctx, st, storage); err != nil {
				return err
			}
		}
	}
	took := time.Since(start)
	last, err := size(ctx, st, storage)
	if err != nil {
		return err
	}
	fmt.Printf("store: %s\n", st.Dialect())
	fmt.Printf("target: %d findings, %d runs, nothing changing\n", len(fs), runs)
	fmt.Printf("size after the first run: %d bytes; after %d runs: %d bytes\n", first, runs, last)
	fmt.Printf("bytes per unchanged run: %.0f\n", float64(last-first)/float64(runs-1))
	fmt.Printf("SaveRun: %.1f ms per run\n", float64(took.Microseconds())/1000/float64(runs))
	return nil
}

func seed(ctx context.Context, storage string, reports []string, targets, runs, big int, change float64) error {
	return fmt.Errorf("seed: not yet")
}

func pages(ctx context.Context, base, ca, password string, n int) error {
	return fmt.Errorf("pages: not yet")
}
