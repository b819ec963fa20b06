package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
)

// openVersions returns the findings (target and fingerprint) with more
// than one open version (none, if SaveRun keeps one per finding) and how
// many are open.
func openVersions(t *testing.T, s *SQL) (dups []string, open int) {
	t.Helper()
	ctx := context.Background()
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM finding_spans WHERE until_run IS NULL`).Scan(&open); err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT target || ' ' || fingerprint FROM finding_spans WHERE until_run IS NULL GROUP BY target, fingerprint HAVING COUNT(*) > 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var fp string
		if err := rows.Scan(&fp); err != nil {
			t.Fatal(err)
		}
		dups = append(dups, fp)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return dups, open
}

// A finding carrying another target's fingerprint (an uploaded report
// can) is its own target's: it is stored under its target, and the other
// target's finding keeps its status, its history and its one open
// version, whether or not that target is in the same run.
func TestForeignFingerprintIsItsTargets(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		a := fnd("https://a.example:9443/", "TLS-001", finding.Fail, finding.High)
		if _, err := s.SaveRun(ctx, RunInput{Report: report(t0, []string{a.Target}, a), Now: t0}, nil); err != nil {
			t.Fatal(err)
		}
		forged := fnd("https://b.example:9443/", "TLS-002", finding.Pass, finding.High)
		forged.Fingerprint = a.Fingerprint
		for i, run := range [][]finding.Finding{
			{forged},    // the fingerprint's target is not in the run
			{a, forged}, // it is, still failing
		} {
			at := t0.Add(time.Duration(i+1) * time.Minute)
			var targets []string
			for _, f := range run {
				targets = append(targets, f.Target)
			}
			if _, err := s.SaveRun(ctx, RunInput{Report: report(at, targets, run...), Now: at}, alertAll); err != nil {
				t.Fatalf("run of %v: %v", targets, err)
			}
			for _, want := range []finding.Finding{a, forged} {
				recs, err := s.Findings(ctx, Filter{Target: want.Target})
				if err != nil {
					t.Fatal(err)
				}
				if len(recs) != 1 || recs[0].Finding.RuleID != want.RuleID || recs[0].Finding.Status != want.Status || recs[0].Finding.Fingerprint != a.Fingerprint {
					t.Fatalf("run %d: findings of %s = %+v; want its own %s %s", i+1, want.Target, recs, want.RuleID, want.Status)
				}
				if want.Target == a.Target && !recs[0].FirstSeen.Equal(t0) {
					t.Fatalf("run %d: %s first seen %s; want %s (its history untouched)", i+1, a.Target, recs[0].FirstSeen, t0)
				}
			}
			if dups, open := openVersions(t, s); len(dups) != 0 || open != 2 {
				t.Fatalf("run %d: open versions: %d (want 2), duplicated %v", i+1, open, dups)
			}
		}
	})
}

// Runs of one target stored at once, each changing its findings, leave
// one open version of each finding (what the unique index of schema 5 to
// 12 enforced); runs of several targets claiming one new fingerprint at
// once store one finding for each.
func TestConcurrentRunsOneOpenVersion(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		const writers, runs = 4, 3
		name := "https://shared.example:9443/"
		var wg sync.WaitGroup
		errs := make(chan error, writers*runs)
		for g := range writers {
			wg.Go(func() {
				for i := range runs {
					at := t0.Add(time.Duration(g*runs+i) * time.Minute)
					var fs []finding.Finding
					for r := range 20 {
						st := finding.Pass
						if (g+i+r)%2 == 0 {
							st = finding.Fail
						}
						fs = append(fs, fnd(name, fmt.Sprintf("TLS-%03d", r), st, finding.High))
					}
					if _, err := s.SaveRun(ctx, RunInput{Report: report(at, []string{name}, fs...), Now: at}, alertAll); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if dups, open := openVersions(t, s); len(dups) != 0 || open != 20 {
			t.Fatalf("open versions: %d (want 20), duplicated %v", open, dups)
		}

		// Targets claiming one fingerprint none has stored yet, at once:
		// each gets its own finding.
		fp := finding.Fingerprint("https://first.example/", "TLS-009", "")
		for g := range writers {
			wg.Go(func() {
				target := fmt.Sprintf("https://claim-%d.example/", g)
				f := fnd(target, "TLS-009", finding.Fail, finding.High)
				f.Fingerprint = fp
				at := t0.Add(time.Hour)
				if _, err := s.SaveRun(ctx, RunInput{Report: report(at, []string{target}, f), Now: at}, alertAll); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if dups, open := openVersions(t, s); len(dups) != 0 || open != 20+writers {
			t.Fatalf("open versions: %d (want %d), duplicated %v", open, 20+writers, dups)
		}
		for g := range writers {
			recs, err := s.Findings(ctx, Filter{Target: fmt.Sprintf("https://claim-%d.example/", g)})
			if err != nil || len(recs) != 1 || recs[0].Finding.Fingerprint != fp {
				t.Fatalf("claim %d: %+v, %v; want its one finding", g, recs, err)
			}
		}
	})
}

// Schema 14 keys findings by target and fingerprint: a store of schema
// 13 holding a history (copied from one that had schema 14 from the
// start) reads back the same after the upgrade, and further runs leave it
// as they leave the other.
func TestMigrationFindingsByTarget(t *testing.T) {
	eachSpec(t, func(t *testing.T, spec string) {
		ctx := context.Background()
		ref, s := upgradedCopy(t, spec, 13, func(ref *SQL) { randomRuns(t, ref, 5, 15) })
		if v, _ := s.SchemaVersion(ctx); v < 14 {
			t.Fatalf("schema %d after opening", v)
		}
		if got, want := findingViews(t, s), findingViews(t, ref); got != want {
			t.Fatalf("findings after the upgrade:\n%s\nwant:\n%s", got, want)
		}
		randomRuns(t, s, 9, 6)
		randomRuns(t, ref, 9, 6)
		if got, want := findingViews(t, s), findingViews(t, ref); got != want {
			t.Fatalf("runs after the upgrade:\n%s\nwant (schema 14 throughout):\n%s", got, want)
		}
	})
}

// findingViews renders every run's findings and the latest findings with
// their history.
func findingViews(t *testing.T, s *SQL) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	runs, err := s.Runs(ctx, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		recs, err := s.RunFindings(ctx, r.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "run %d: %s\n", r.ID, mustJSON(recs))
	}
	latest, err := s.Findings(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "latest: %s\n", mustJSON(latest))
	return b.String()
}

// The PostgreSQL store plans every statement for its own arguments
// (plan_cache_mode force_custom_plan): a generic plan of a target's
// findings, made for the average target, read all 100,000 findings of
// the largest one and sorted them (0.84-0.93 s; 3.5 ms by its own plan).
// A plan_cache_mode the DSN sets is kept.
func TestPostgresPlansEachStatement(t *testing.T) {
	ctx := context.Background()
	spec := testPostgresSpec(t)
	for _, c := range []struct{ dsn, want string }{
		{spec, "force_custom_plan"},
		{spec + "&plan_cache_mode=auto", "auto"},
	} {
		s, err := Open(ctx, c.dsn)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		err = s.db.QueryRowContext(ctx, `SELECT current_setting('plan_cache_mode')`).Scan(&got)
		s.Close()
		if err != nil || got != c.want {
			t.Errorf("plan_cache_mode = %q, %v; want %q", got, err, c.want)
		}
	}
}
