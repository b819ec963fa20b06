package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
)

// randomRuns stores n runs over a small fleet in which targets come and
// go, ports open and close (some targets not port scanned), certificates
// are renewed and findings flip.
func randomRuns(t *testing.T, s *SQL, seed uint64, n int) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 7))
	statuses := []finding.Status{finding.Pass, finding.Fail, finding.Fail, finding.Error, finding.NotApplicable}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for range n {
		var targets []string
		var fs []finding.Finding
		obs := map[string]Observation{}
		all := rng.IntN(3) == 0 // every target: runs with the same targets
		for ti := range 6 {
			if !all && rng.IntN(4) == 0 {
				continue
			}
			name := fmt.Sprintf("t-%d", ti)
			targets = append(targets, name)
			for ri := range 4 {
				fs = append(fs, fnd(name, fmt.Sprintf("R-%d", ri), statuses[rng.IntN(len(statuses))], finding.Severity(1+rng.IntN(5))))
			}
			var o Observation
			if ti%3 != 0 || rng.IntN(2) == 0 {
				o.PortsScanned = true
				for _, p := range []int{22, 443, 8443, 9443} {
					if rng.IntN(3) == 0 {
						o.OpenPorts = append(o.OpenPorts, p)
					}
				}
			}
			for c := range rng.IntN(3) {
				o.Certs = append(o.Certs, Cert{Subject: fmt.Sprintf("CN=%s-%d", name, c), SHA256: fmt.Sprintf("%s-%d-%d", name, c, rng.IntN(4)),
					NotAfter: at.Add(time.Duration(rng.IntN(24*90)-24*20)*time.Hour + time.Duration(rng.IntN(1000))*time.Microsecond)})
			}
			obs[name] = o
		}
		at = at.Add(time.Duration(1+rng.IntN(40)) * time.Hour)
		if _, err := s.SaveRun(ctx, RunInput{Report: report(at, targets, fs...), Observations: obs, Source: "test", Now: at}, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// naiveTargetDiff is CompareTargets as it was computed before the keys
// were kept: from both runs' whole target lists.
func naiveTargetDiff(t *testing.T, s *SQL, a, b int64, before time.Time) TargetDiff {
	t.Helper()
	ctx := context.Background()
	d := TargetDiff{Added: []string{}, Removed: []string{}, NewPorts: []PortChange{}, Expiring: []CertExpiry{}}
	var ta []RunTarget
	var err error
	if a != 0 {
		if ta, err = s.RunTargets(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	tb, err := s.RunTargets(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := s.Run(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	inA, inB := map[string]RunTarget{}, map[string]bool{}
	for _, x := range ta {
		inA[x.Name] = x
	}
	for _, x := range tb {
		inB[x.Name] = true
		old, ok := inA[x.Name]
		if !ok {
			d.Added = append(d.Added, x.Name)
		}
		if ok && x.Observations.PortsScanned && old.Observations.PortsScanned {
			ports := slices.Clone(x.Observations.OpenPorts)
			slices.Sort(ports)
			for _, p := range slices.Compact(ports) {
				if !slices.Contains(old.Observations.OpenPorts, p) {
					d.NewPorts = append(d.NewPorts, PortChange{Target: x.Name, Port: p})
				}
			}
		}
		for _, c := range x.Observations.Certs {
			if c.NotAfter.Before(before) {
				d.Expiring = append(d.Expiring, CertExpiry{Target: x.Name, Subject: c.Subject, SHA256: c.SHA256, NotAfter: c.NotAfter,
					Days: int(c.NotAfter.Sub(rb.FinishedAt).Hours() / 24)})
			}
		}
	}
	for _, x := range ta {
		if !inB[x.Name] {
			d.Removed = append(d.Removed, x.Name)
		}
	}
	sort.Strings(d.Added)
	sort.Strings(d.Removed)
	sortExpiring(d.Expiring)
	return d
}

func sortExpiring(es []CertExpiry) {
	sort.SliceStable(es, func(i, j int) bool {
		if !es[i].NotAfter.Equal(es[j].NotAfter) {
			return es[i].NotAfter.Before(es[j].NotAfter)
		}
		if es[i].Target != es[j].Target {
			return es[i].Target < es[j].Target
		}
		return es[i].SHA256 < es[j].SHA256
	})
}

// checkCompare compares every pair of runs (and every run with nothing)
// by CompareTargets and DeltaKeys, against the whole target lists and a
// count of the failing versions; it returns what it found, to compare
// two stores.
func checkCompare(t *testing.T, s *SQL) string {
	t.Helper()
	ctx := context.Background()
	runs, err := s.Runs(ctx, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for i := range runs {
		for j := i; j < len(runs); j++ {
			b, a := runs[i].ID, runs[j].ID
			if a == b {
				a = 0
			}
			for _, days := range []int{0, 10, 30} {
				before := runs[i].FinishedAt.Add(time.Duration(days) * 24 * time.Hour)
				got, err := s.CompareTargets(ctx, a, b, before)
				if err != nil {
					t.Fatal(err)
				}
				sortExpiring(got.Expiring) // equal expiries: any order
				want := naiveTargetDiff(t, s, a, b, before)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("CompareTargets(%d, %d, +%d d) = %+v\nfrom the whole target lists: %+v", a, b, days, got, want)
				}
				fmt.Fprintf(&out, "%d..%d+%d: %v\n", a, b, days, got)
			}
			d, err := s.DeltaKeys(ctx, a, b)
			if err != nil {
				t.Fatal(err)
			}
			var still int
			if a != 0 {
				err = s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM finding_spans sp WHERE sp.status = 'fail' AND sp.from_run <= ? AND (sp.until_run IS NULL OR sp.until_run > ?)
AND sp.target IN (SELECT target FROM run_targets WHERE run_id = ?) AND sp.target IN (SELECT target FROM run_targets WHERE run_id = ?)`), a, b, a, b).Scan(&still)
				if err != nil {
					t.Fatal(err)
				}
			}
			if d.StillFailing != still {
				t.Errorf("runs %d..%d: still failing %d; the findings say %d", a, b, d.StillFailing, still)
			}
			fmt.Fprintf(&out, "%d..%d: %d after, %d before, %d still\n", a, b, len(d.After), len(d.Before), d.StillFailing)
		}
	}
	return out.String()
}

// Comparing two runs reads what changed (the kept digests, port changes
// and expiries): it finds what comparing both runs' whole target lists
// finds, for every pair of runs.
func TestCompareReadsWhatChanged(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		randomRuns(t, s, 11, 14)
		checkCompare(t, s)
		var same int
		if err := s.db.QueryRow(`SELECT COUNT(*) FROM runs a JOIN runs b ON a.targets_key = b.targets_key AND a.id < b.id`).Scan(&same); err != nil || same == 0 {
			t.Errorf("%d pairs of runs with the same targets (%v): the digests' path is not tested", same, err)
		}
		var changed int
		if err := s.db.QueryRow(`SELECT COUNT(*) FROM run_targets WHERE ports_changed = 1`).Scan(&changed); err != nil || changed == 0 {
			t.Errorf("%d port changes (%v)", changed, err)
		}
	})
}

// A store of schema 10 (before the compare keys) is migrated: the kept
// failure counts, port changes, expiries and target digests equal what
// SaveRun keeps, and every comparison is the same as in a store SaveRun
// wrote at the latest schema.
func TestMigrationCompareKeys(t *testing.T) {
	eachSpec(t, func(t *testing.T, spec string) {
		ctx := context.Background()
		// The reference: the same runs stored at the latest schema.
		ref, s := upgradedCopy(t, spec, 10, func(ref *SQL) { randomRuns(t, ref, 21, 12) })
		type kept struct {
			text    string
			expires []int64
		}
		keys := func(st *SQL) kept {
			var k kept
			var b strings.Builder
			err := st.each(ctx, `SELECT r.id, COALESCE(r.n_fail, -1), r.targets_key, rt.target, rt.ports_changed, COALESCE(rt.cert_expires, 0) FROM runs r JOIN run_targets rt ON rt.run_id = r.id ORDER BY r.id, rt.target`, nil,
				func(sc scanner) error {
					var id, nFail, changed, exp int64
					var key, target string
					if err := sc.Scan(&id, &nFail, &key, &target, &changed, &exp); err != nil {
						return err
					}
					fmt.Fprintf(&b, "run %d fail %d key %s: %s ports %d\n", id, nFail, key, target, changed)
					k.expires = append(k.expires, exp)
					return nil
				})
			if err != nil {
				t.Fatal(err)
			}
			k.text = b.String()
			return k
		}
		got, want := keys(s), keys(ref)
		if got.text != want.text {
			t.Errorf("kept keys after the migration:\n%s\nSaveRun kept:\n%s", got.text, want.text)
		}
		// The expiry, from the JSON's time by SQL, to the millisecond
		// (SQL rounds what Go truncates).
		for i := range min(len(got.expires), len(want.expires)) {
			if d := got.expires[i] - want.expires[i]; d < -1 || d > 1 || (got.expires[i] == 0) != (want.expires[i] == 0) {
				t.Errorf("run target %d: earliest expiry %d after the migration; SaveRun kept %d", i, got.expires[i], want.expires[i])
			}
		}
		if got, want := checkCompare(t, s), checkCompare(t, ref); got != want {
			t.Errorf("comparisons after the migration:\n%s\nin the store SaveRun wrote:\n%s", got, want)
		}
		// New runs on top of the migrated store keep comparing alike.
		randomRuns(t, s, 22, 3)
		randomRuns(t, ref, 22, 3)
		if got, want := checkCompare(t, s), checkCompare(t, ref); got != want {
			t.Errorf("comparisons with new runs after the migration:\n%s\nin the store SaveRun wrote:\n%s", got, want)
		}
	})
}

// upgradedCopy fills a store of the latest schema (the reference) with
// fill, copies its history into a store of schema version at spec, and
// opens that one, which migrates it to the latest schema. Both close when
// the test ends.
func upgradedCopy(t *testing.T, spec string, version int, fill func(ref *SQL)) (ref, upgraded *SQL) {
	t.Helper()
	ctx := context.Background()
	refSpec := spec + "-ref"
	if strings.HasPrefix(spec, "postgres") {
		refSpec = testPostgresSpec(t)
	}
	ref, err := Open(ctx, refSpec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ref.Close() })
	fill(ref)
	old, err := open(ctx, spec, version)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"runs", "targets", "run_targets", "findings", "finding_spans", "latest_counts"} {
		copyTable(t, ref, old, table)
	}
	if old.Dialect() == "postgres" {
		for _, table := range []string{"runs", "finding_spans"} {
			if _, err := old.DB().ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+table+`', 'id'), (SELECT MAX(id) FROM `+table+`))`); err != nil {
				t.Fatal(err)
			}
		}
	}
	old.Close()
	upgraded, err = Open(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { upgraded.Close() })
	return ref, upgraded
}

// copyTable copies a table's rows from one store to another, the columns
// the destination's schema has.
func copyTable(t *testing.T, from, to *SQL, table string) {
	t.Helper()
	ctx := context.Background()
	rows, err := to.db.QueryContext(ctx, `SELECT * FROM `+table+` WHERE 1 = 0`)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := rows.Columns()
	rows.Close()
	if err != nil {
		t.Fatal(err)
	}
	list := strings.Join(cols, ", ")
	src, err := from.db.QueryContext(ctx, `SELECT `+list+` FROM `+table)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ins := to.q(`INSERT INTO ` + table + ` (` + list + `) VALUES (` + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + `)`)
	var all [][]any
	for src.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := src.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		all = append(all, vals)
	}
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	for _, vals := range all {
		if _, err := to.db.ExecContext(ctx, ins, vals...); err != nil {
			t.Fatalf("copy %s: %v", table, err)
		}
	}
}

// Port flags say what changed from a target's previous run: across runs
// Prune deleted, or over a run stored without them (by a rampart before
// migration 0011, sharing the database), compare reads every target's
// ports and certificates instead, and still finds what changed.
func TestCompareAcrossPrunedAndUnkeptRuns(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		save := func(day int, ys Observation, targets ...string) int64 {
			t.Helper()
			when := at.Add(time.Duration(day) * 24 * time.Hour)
			var fs []finding.Finding
			for _, n := range targets {
				fs = append(fs, fnd(n, "R-1", finding.Fail, finding.High))
			}
			d, err := s.SaveRun(ctx, RunInput{Report: report(when, targets, fs...), Observations: map[string]Observation{"y": ys}, Source: "test", Now: when}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return d.RunID
		}
		r1 := save(0, Observation{PortsScanned: true, OpenPorts: []int{443}}, "y", "z") // z's latest: kept
		save(1, Observation{PortsScanned: true, OpenPorts: []int{443, 8443}}, "y")      // y's ports change here
		save(2, Observation{PortsScanned: true, OpenPorts: []int{443, 8443}}, "y")
		r4 := save(3, Observation{PortsScanned: true, OpenPorts: []int{443, 8443}}, "y")
		if n, err := s.Prune(ctx, at.Add(60*time.Hour)); err != nil || n != 2 {
			t.Fatalf("pruned %d runs (%v); want 2", n, err)
		}
		d, err := s.CompareTargets(ctx, r1, r4, at)
		if err != nil || !reflect.DeepEqual(d.NewPorts, []PortChange{{Target: "y", Port: 8443}}) {
			t.Errorf("ports new from run %d to %d across deleted runs: %+v, %v", r1, r4, d.NewPorts, err)
		}
		checkCompare(t, s)

		// A run as a rampart before 0011 stores it: no digest, failing
		// count, port flags or expiries.
		r5 := save(4, Observation{PortsScanned: true, OpenPorts: []int{443, 8443, 9443}, Certs: []Cert{{Subject: "CN=y", SHA256: "ab", NotAfter: at.Add(5 * 24 * time.Hour)}}}, "y")
		for _, q := range []string{`UPDATE runs SET targets_key = '', n_fail = NULL WHERE id = ?`, `UPDATE run_targets SET ports_changed = 0, cert_expires = NULL WHERE run_id = ?`} {
			if _, err := s.db.ExecContext(ctx, s.q(q), r5); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.afterMigrations(ctx, 0); err != nil {
			t.Fatal(err)
		}
		d, err = s.CompareTargets(ctx, r4, r5, at.Add(30*24*time.Hour))
		if err != nil || !reflect.DeepEqual(d.NewPorts, []PortChange{{Target: "y", Port: 9443}}) || len(d.Expiring) != 1 {
			t.Errorf("run %d to %d stored without flags: ports %+v, expiring %+v, %v", r4, r5, d.NewPorts, d.Expiring, err)
		}
		checkCompare(t, s)
	})
}
