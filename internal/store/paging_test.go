package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
)

// pagingFleet stores three runs of six targets of seven findings (one
// target with twenty), the second covering only some targets, statuses
// and severities changing between runs; it returns the runs' IDs.
func pagingFleet(t *testing.T, s *SQL) []int64 {
	t.Helper()
	ctx := context.Background()
	var names []string
	for i := range 6 {
		names = append(names, fmt.Sprintf("https://gw-%d.example.test/", i))
	}
	covered := [][]string{names, {names[1], names[3], names[4]}, names}
	var ids []int64
	for run, ts := range covered {
		var fs []finding.Finding
		for i, n := range ts {
			rules := 7
			if n == names[3] {
				rules = 20
			}
			for k := range rules {
				st := finding.Pass
				if (k+run+i)%3 == 0 {
					st = finding.Fail
				}
				fs = append(fs, fnd(n, fmt.Sprintf("TLS-%03d", k), st, finding.Severity(1+(k+run)%5)))
			}
		}
		at := t0.Add(time.Duration(run) * time.Hour)
		d, err := s.SaveRun(ctx, RunInput{Report: report(at, ts, fs...), Source: "test", Now: at}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.RunID)
	}
	return ids
}

func keysOf(rs []Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = fmt.Sprintf("%s %s %s %s %d", r.Target, r.RuleID, r.Fingerprint, r.Status, r.Severity)
	}
	return out
}

// TestRunFindingsPagedByCursor: a run's findings read page by page, each
// after the previous page's last (RunCursor), are the run's findings read
// at once, in the same order, whatever the page size; a cursor naming a
// target the run did not cover pages on from where that target would be.
func TestRunFindingsPagedByCursor(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		ids := pagingFleet(t, s)
		for _, id := range ids {
			all, err := s.RunFindings(ctx, id, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(all) == 0 {
				t.Fatalf("run %d: no findings", id)
			}
			for _, limit := range []int{1, 3, 7, 100} {
				var got []Record
				cursor := ""
				for range len(all) + 1 {
					page, err := s.RunFindingsPage(ctx, id, "", cursor, limit, 0)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, page...)
					if len(page) < limit {
						break
					}
					cursor = RunCursor(page[len(page)-1])
				}
				if !reflect.DeepEqual(keysOf(got), keysOf(all)) {
					t.Errorf("run %d by %d: paged\n%v\nat once\n%v", id, limit, keysOf(got), keysOf(all))
				}
				if !reflect.DeepEqual(got, all) {
					t.Errorf("run %d by %d: paged records differ from those read at once", id, limit)
				}
			}
		}
		// Run 2 did not cover gw-2: after a cursor on it come gw-3's.
		cur := RunCursor(Record{Finding: finding.Finding{Target: "https://gw-2.example.test/", RuleID: "TLS-000", Fingerprint: ""}})
		page, err := s.RunFindingsPage(ctx, ids[1], "", cur, 2, 0)
		if err != nil || len(page) != 2 || page[0].Target != "https://gw-3.example.test/" || page[0].RuleID != "TLS-000" {
			t.Errorf("after a target the run did not cover: %v %v", keysOf(page), err)
		}
		// One target's findings, paged.
		one, err := s.RunFindings(ctx, ids[2], "https://gw-3.example.test/")
		if err != nil || len(one) != 20 {
			t.Fatalf("gw-3 at run 3: %d %v", len(one), err)
		}
		page, err = s.RunFindingsPage(ctx, ids[2], "https://gw-3.example.test/", RunCursor(one[9]), 5, 0)
		if err != nil || !reflect.DeepEqual(keysOf(page), keysOf(one[10:15])) {
			t.Errorf("gw-3 after its tenth: %v %v, want %v", keysOf(page), err, keysOf(one[10:15]))
		}
	})
}

// TestTargetFindingsPagedByCursor: one target's latest findings paged by
// cursor under every sort, alone and with other filters, are those read
// at once (SQLite is told the index for some of these).
func TestTargetFindingsPagedByCursor(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		pagingFleet(t, s)
		const big = "https://gw-3.example.test/"
		filters := []Filter{{Target: big}, {Target: big, Status: finding.Fail}, {Target: big, Rule: "TLS-004"}, {Target: big, Search: "tls-01"},
			{Target: big, Severity: finding.Medium}, {Target: big, Domain: "tls"}}
		for _, base := range filters {
			for _, sort := range []string{"", SortTarget, SortSeverity, SortRule, SortAge} {
				f := base
				f.Sort = sort
				all, err := s.Findings(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if len(all) == 0 {
					t.Fatalf("%+v: no findings", f)
				}
				for _, limit := range []int{1, 4} {
					var got []Record
					p := f
					p.Limit = limit
					for range len(all) + 1 {
						page, err := s.Findings(ctx, p)
						if err != nil {
							t.Fatal(err)
						}
						got = append(got, page...)
						if len(page) < limit {
							break
						}
						p.After = f.Cursor(page[len(page)-1])
					}
					if !reflect.DeepEqual(keysOf(got), keysOf(all)) {
						t.Errorf("%+v by %d: paged\n%v\nat once\n%v", f, limit, keysOf(got), keysOf(all))
					}
				}
			}
		}
	})
}
