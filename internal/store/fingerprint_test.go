package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
)

// openVersions returns the fingerprints with more than one open version
// (none, if SaveRun keeps one per fingerprint) and how many are open.
func openVersions(t *testing.T, s *SQL) (dups []string, open int) {
	t.Helper()
	ctx := context.Background()
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM finding_spans WHERE until_run IS NULL`).Scan(&open); err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT fingerprint FROM finding_spans WHERE until_run IS NULL GROUP BY fingerprint HAVING COUNT(*) > 1`)
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
// can) fails its run: nothing of it is stored, and the other target's
// finding keeps its one open version.
func TestForeignFingerprintRefused(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		a := fnd("https://a.example:9443/", "TLS-001", finding.Fail, finding.High)
		if _, err := s.SaveRun(ctx, RunInput{Report: report(t0, []string{a.Target}, a), Now: t0}, nil); err != nil {
			t.Fatal(err)
		}
		forged := fnd("https://b.example:9443/", "TLS-002", finding.Pass, finding.High)
		forged.Fingerprint = a.Fingerprint
		for i, targets := range [][]string{
			{forged.Target},           // the fingerprint's target is not in the run
			{a.Target, forged.Target}, // it is, with the finding under the other
		} {
			at := t0.Add(time.Duration(i+1) * time.Minute)
			_, err := s.SaveRun(ctx, RunInput{Report: report(at, targets, forged), Now: at}, alertAll)
			if !errors.Is(err, ErrForeignFingerprint) {
				t.Fatalf("run of %v: err = %v, want ErrForeignFingerprint", targets, err)
			}
			t.Logf("run of %v refused: %v", targets, err)
		}
		runs, err := s.Runs(ctx, 10, 0)
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs = %d, %v; want only the first", len(runs), err)
		}
		recs, err := s.Findings(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || recs[0].Target != a.Target || recs[0].Finding.Status != finding.Fail {
			t.Fatalf("findings after the refused runs = %+v, want a's one failure", recs)
		}
		if dups, open := openVersions(t, s); len(dups) != 0 || open != 1 {
			t.Fatalf("open versions: %d, duplicated %v", open, dups)
		}
	})
}

// Runs of one target stored at once, each changing its findings, leave
// one open version of each fingerprint (what the unique index of schema
// 5 to 12 enforced); runs of two targets claiming one new fingerprint at
// once store it once and refuse the other.
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

		// Two targets, one fingerprint neither has stored yet.
		fp := finding.Fingerprint("https://first.example/", "TLS-009", "")
		var ok, refused int
		var mu sync.Mutex
		for g := range writers {
			wg.Go(func() {
				target := fmt.Sprintf("https://claim-%d.example/", g)
				f := fnd(target, "TLS-009", finding.Fail, finding.High)
				f.Fingerprint = fp
				at := t0.Add(time.Hour)
				_, err := s.SaveRun(ctx, RunInput{Report: report(at, []string{target}, f), Now: at}, alertAll)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, ErrForeignFingerprint):
					refused++
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if ok != 1 || refused != writers-1 {
			t.Fatalf("claims of one new fingerprint by %d targets at once: %d stored, %d refused; want 1 and %d", writers, ok, refused, writers-1)
		}
		if dups, open := openVersions(t, s); len(dups) != 0 || open != 21 {
			t.Fatalf("open versions: %d (want 21), duplicated %v", open, dups)
		}
	})
}
