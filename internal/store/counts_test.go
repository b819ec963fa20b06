package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
)

// checkCounts compares what SaveRun keeps (latest_counts, targets.failing,
// run_targets.n_fail) with a count of the rows, and keyset paging with
// offset paging in every sort order.
func checkCounts(t *testing.T, s *SQL, runID int64) {
	t.Helper()
	ctx := context.Background()
	kept := map[string]int{}
	rows, err := s.db.QueryContext(ctx, `SELECT rule_id, severity, status, domain, since_day, n FROM latest_counts`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var rule, status, domain string
		var sev, n int
		var day int64
		if err := rows.Scan(&rule, &sev, &status, &domain, &day, &n); err != nil {
			t.Fatal(err)
		}
		kept[fmt.Sprint(rule, sev, status, domain, day)] += n
	}
	rows.Close()
	counted := map[string]int{}
	rows, err = s.db.QueryContext(ctx, `SELECT sp.rule_id, sp.severity, sp.status, sp.domain, COALESCE(f.failing_since, f.first_seen), sp.exception, sp.data LIKE '%"exception":%', COALESCE(sp.since, -1)
FROM finding_spans sp JOIN findings f ON f.fingerprint = sp.fingerprint WHERE sp.until_run IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var rule, status, domain string
		var sev, exc int
		var since, spanSince int64
		var hasExc bool
		if err := rows.Scan(&rule, &sev, &status, &domain, &since, &exc, &hasExc, &spanSince); err != nil {
			t.Fatal(err)
		}
		if since != spanSince {
			t.Errorf("a %s version of %s: since %d, its finding's %d", status, rule, spanSince, since)
		}
		if (exc == 1) != (hasExc || status == "waived" || status == "attested") {
			t.Errorf("a %s version of %s: exception flag %d", status, rule, exc)
		}
		var day int64
		if status == "fail" {
			day = since / dayMS
		}
		counted[fmt.Sprint(rule, sev, status, domain, day)]++
	}
	rows.Close()
	for k, n := range counted {
		if kept[k] != n {
			t.Errorf("after run %d: latest_counts[%s] = %d; the rows say %d", runID, k, kept[k], n)
		}
	}
	for k, n := range kept {
		if counted[k] != n {
			t.Errorf("after run %d: latest_counts[%s] = %d; the rows say %d", runID, k, n, counted[k])
		}
	}
	if ts, err := s.TargetStatuses(ctx); err != nil {
		t.Fatal(err)
	} else if full, _ := s.Targets(ctx); len(ts) != len(full) {
		t.Errorf("target statuses: %d targets, %d", len(ts), len(full))
	} else {
		for i := range ts {
			if ts[i].Name != full[i].Name || mustJSON(ts[i].ByStatus) != mustJSON(full[i].ByStatus) || !ts[i].LastSeen.Equal(full[i].LastSeen) {
				t.Errorf("target statuses of %s: %v; Targets says %v", ts[i].Name, ts[i].ByStatus, full[i].ByStatus)
			}
		}
	}
	var bad int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM targets t WHERE t.failing <> (SELECT COUNT(*) FROM finding_spans sp WHERE sp.target = t.name AND sp.until_run IS NULL AND sp.status = 'fail')`).Scan(&bad); err != nil || bad != 0 {
		t.Errorf("targets.failing wrong for %d targets (%v)", bad, err)
	}
	fc, err := s.FleetCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.Findings(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range fc.ByStatus {
		n += v
	}
	if n != len(all) {
		t.Errorf("fleet counts %d findings; there are %d", n, len(all))
	}
	for _, f := range []Filter{{}, {Sort: SortSeverity}, {Sort: SortRule}, {Sort: SortAge}, {Status: finding.Fail, Sort: SortAge}, {Rule: "R-1", Status: finding.Fail, Sort: SortAge},
		{Target: "t-1", Sort: SortSeverity}, {Severity: finding.High}, {Status: finding.Fail, Domain: "tls"}} {
		want, err := s.Findings(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := s.CountFindings(ctx, f); err != nil || c != len(want) {
			t.Errorf("count %+v = %d (%v); %d rows", f, c, err, len(want))
		}
		var got []Record
		page := f
		page.Limit = 7
		for {
			recs, err := s.Findings(ctx, page)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, recs...)
			if len(recs) < page.Limit {
				break
			}
			page.After = f.Cursor(recs[len(recs)-1])
		}
		if !slices.EqualFunc(got, want, func(a, b Record) bool { return a.Fingerprint == b.Fingerprint }) {
			t.Errorf("keyset pages of %+v differ from the whole list (%d and %d)", f, len(got), len(want))
		}
	}
}

// Random runs over a small fleet (statuses flipping, findings and targets
// coming and going, waivers, severities changing): after every run the
// kept counts equal a count of the rows, and keyset pages equal the list.
func TestKeptCountsMatchRows(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(3, 4))
		statuses := []finding.Status{finding.Pass, finding.Fail, finding.Fail, finding.Error, finding.NotApplicable, finding.Manual}
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for range 12 {
			var targets []string
			var fs []finding.Finding
			for ti := range 6 {
				if rng.IntN(5) == 0 {
					continue // not in this run
				}
				name := fmt.Sprintf("t-%d", ti)
				targets = append(targets, name)
				for ri := range 5 {
					if rng.IntN(6) == 0 {
						continue // gone in this run
					}
					f := fnd(name, fmt.Sprintf("R-%d", ri), statuses[rng.IntN(len(statuses))], finding.Severity(1+rng.IntN(5)))
					f.Domain = []string{"tls", "ssh"}[ri%2]
					if rng.IntN(8) == 0 {
						f.Status = finding.Waived
						f.Exception = &finding.Exception{Kind: "waiver", Reason: "accepted", By: "me", Expires: "2027-01-01"}
					}
					fs = append(fs, f)
				}
			}
			at = at.Add(time.Duration(1+rng.IntN(40)) * time.Hour)
			d, err := s.SaveRun(ctx, RunInput{Report: report(at, targets, fs...), Source: "test", Now: at}, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkCounts(t, s, d.RunID)
		}
		// Compare of every pair of runs agrees with comparing their
		// whole findings.
		runs, _ := s.Runs(ctx, 100, 0)
		for i := 1; i < len(runs); i++ {
			a, b := runs[i].ID, runs[0].ID
			d, err := s.DeltaBetween(ctx, a, b)
			if err != nil {
				t.Fatal(err)
			}
			// The keys, loaded, are the same records.
			k, err := s.DeltaKeys(ctx, a, b)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.LoadRecords(ctx, k.After); err != nil {
				t.Fatal(err)
			}
			if err := s.LoadRecords(ctx, k.Before); err != nil {
				t.Fatal(err)
			}
			strip := func(rs []Record) string {
				for i := range rs {
					rs[i].span = 0
				}
				return mustJSON(rs)
			}
			if strip(k.After) != strip(d.After) || strip(k.Before) != strip(d.Before) || k.StillFailing != d.StillFailing {
				t.Errorf("runs %d..%d: DeltaKeys+LoadRecords differ from DeltaBetween", a, b)
			}
			// The count as it was made before counts were kept: the same
			// failing version open at a and at b, targets of both runs.
			var still int
			err = s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM finding_spans sp WHERE sp.status = 'fail' AND sp.from_run <= ? AND (sp.until_run IS NULL OR sp.until_run > ?)
AND sp.target IN (SELECT target FROM run_targets WHERE run_id = ?) AND sp.target IN (SELECT target FROM run_targets WHERE run_id = ?)`), a, b, a, b).Scan(&still)
			if err != nil {
				t.Fatal(err)
			}
			if d.StillFailing != still {
				t.Errorf("runs %d..%d: still failing %d; the findings say %d", a, b, d.StillFailing, still)
			}
		}
	})
}

// A cursor is the client's to send back: anything else is ErrBadCursor,
// never a panic or a query with a value of the wrong type.
func FuzzAfterCursor(f *testing.F) {
	rec := Record{Finding: finding.Finding{Target: "t", RuleID: "R-1", Fingerprint: "fp", Severity: finding.High}, since: 1700000000000}
	for _, s := range []string{SortTarget, SortSeverity, SortRule, SortAge} {
		f.Add(s, Filter{Sort: s}.Cursor(rec))
	}
	f.Add(SortAge, "WyJ4IiwxLDJd")
	f.Add(SortTarget, "")
	f.Fuzz(func(t *testing.T, sort, cursor string) {
		ks := Filter{Sort: sort}.keys()
		cond, args, err := after(ks, cursor)
		if err != nil {
			if err != ErrBadCursor {
				t.Fatalf("error %v", err)
			}
			return
		}
		if len(args) != len(ks) || cond == "" {
			t.Fatalf("%d args for %d keys", len(args), len(ks))
		}
		for i, k := range ks {
			switch args[i].(type) {
			case int64:
				if !k.num {
					t.Fatalf("a number for %s", k.expr)
				}
			case string:
				if k.num {
					t.Fatalf("a string for %s", k.expr)
				}
			default:
				t.Fatalf("%T for %s", args[i], k.expr)
			}
		}
	})
}
