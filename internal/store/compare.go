package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"
)

// TargetDiff is how the targets of two runs differ: the targets in the
// later run only (Added) and in the earlier only (Removed), by name; the
// ports open at the later run that were not at the earlier (both port
// scanned), by target and port; and the certificates the later run saw
// that expire before a time, soonest first.
type TargetDiff struct {
	Added    []string
	Removed  []string
	NewPorts []PortChange
	Expiring []CertExpiry
}

// runCompareKeys is what a run keeps for comparing it: its failing findings
// (-1: not counted) and the digest of its target names ("": not kept).
type runCompareKeys struct {
	nFail      int64
	targetsKey string
}

func (s *SQL) compareKeys(ctx context.Context, id int64) (runCompareKeys, error) {
	var k runCompareKeys
	var n sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT n_fail, targets_key FROM runs WHERE id = ?`), id).Scan(&n, &k.targetsKey)
	if err != nil {
		return k, notFound(err, fmt.Sprintf("run %d", id))
	}
	k.nFail = -1
	if n.Valid {
		k.nFail = n.Int64
	}
	return k, nil
}

// sameTargets reports whether runs a and b are known to cover the same
// targets (both keep a digest of their target names, and it is the same).
func sameTargets(ka, kb runCompareKeys) bool {
	return ka.targetsKey != "" && ka.targetsKey == kb.targetsKey
}

// targetsKey is the digest of a run's target names (distinct, in any
// order).
func targetsKey(names []string) string {
	sorted := slices.Clone(names)
	sort.Strings(sorted)
	sorted = slices.Compact(sorted)
	h := sha256.New()
	for _, n := range sorted {
		h.Write([]byte(n))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// CompareTargets compares the targets of run a with those of the later
// run b (a 0: b with nothing, every target added). It reads what changed:
// the runs' target lists only when they do not cover the same targets
// (each keeps a digest of them), the port scans only of the targets whose
// ports changed at a run after a up to b (each run target keeps whether
// its ports differ from its previous run's), and of b's certificates only
// the targets with one expiring before expiringBefore (each run target
// keeps its earliest expiry, indexed).
func (s *SQL) CompareTargets(ctx context.Context, a, b int64, expiringBefore time.Time) (TargetDiff, error) {
	d := TargetDiff{Added: []string{}, Removed: []string{}, NewPorts: []PortChange{}, Expiring: []CertExpiry{}}
	wrap := func(err error) error { return fmt.Errorf("targets of runs %d and %d: %w", a, b, err) }
	kb, err := s.compareKeys(ctx, b)
	if err != nil {
		return d, wrap(err)
	}
	var ka runCompareKeys
	if a != 0 {
		if ka, err = s.compareKeys(ctx, a); err != nil {
			return d, wrap(err)
		}
	}
	name := func(out *[]string) func(scanner) error {
		return func(sc scanner) error {
			var n string
			if err := sc.Scan(&n); err != nil {
				return err
			}
			*out = append(*out, n)
			return nil
		}
	}
	const only = `SELECT x.target FROM run_targets x WHERE x.run_id = ? AND NOT EXISTS (SELECT 1 FROM run_targets y WHERE y.run_id = ? AND y.target = x.target) ORDER BY x.target`
	switch {
	case a == 0:
		err = s.each(ctx, `SELECT target FROM run_targets WHERE run_id = ? ORDER BY target`, []any{b}, name(&d.Added))
	case !sameTargets(ka, kb):
		if err = s.each(ctx, only, []any{b, a}, name(&d.Added)); err == nil {
			err = s.each(ctx, only, []any{a, b}, name(&d.Removed))
		}
	}
	if err != nil {
		return d, wrap(err)
	}
	if a != 0 {
		if d.NewPorts, err = s.newPorts(ctx, a, b); err != nil {
			return d, wrap(err)
		}
	}
	if d.Expiring, err = s.expiring(ctx, b, kb.targetsKey != "", expiringBefore); err != nil {
		return d, wrap(err)
	}
	return d, nil
}

// newPorts are the ports open at run b and not at the earlier run a, of
// the targets port scanned at both: only targets whose ports changed at
// a run after a up to b are read.
func (s *SQL) newPorts(ctx context.Context, a, b int64) ([]PortChange, error) {
	out := []PortChange{}
	kept, err := s.portFlagsKept(ctx, a, b)
	if err != nil {
		return nil, err
	}
	q, args := `SELECT ra.observations, rb.target, rb.observations FROM run_targets rb JOIN run_targets ra ON ra.run_id = ? AND ra.target = rb.target
WHERE rb.run_id = ? AND rb.target IN (SELECT c.target FROM run_targets c WHERE c.ports_changed = 1 AND c.run_id > ? AND c.run_id <= ?) ORDER BY rb.target`, []any{a, b, a, b}
	if !kept {
		// Every target of both runs.
		q, args = `SELECT ra.observations, rb.target, rb.observations FROM run_targets rb JOIN run_targets ra ON ra.run_id = ? AND ra.target = rb.target
WHERE rb.run_id = ? ORDER BY rb.target`, []any{a, b}
	}
	err = s.each(ctx, q, args, func(sc scanner) error {
		var oa, ob, target string
		if err := sc.Scan(&oa, &target, &ob); err != nil {
			return err
		}
		var pa, pb Observation
		if err := unmarshalAll(oa, &pa, ob, &pb); err != nil {
			return fmt.Errorf("observations of %s: %w", target, err)
		}
		if !pa.PortsScanned || !pb.PortsScanned {
			return nil
		}
		ports := slices.Clone(pb.OpenPorts)
		slices.Sort(ports)
		for _, p := range slices.Compact(ports) {
			if !slices.Contains(pa.OpenPorts, p) {
				out = append(out, PortChange{Target: target, Port: p})
			}
		}
		return nil
	})
	return out, err
}

// expiring are the certificates run b saw that expire before a time,
// soonest first: only run targets whose earliest expiry is before it are
// read.
func (s *SQL) expiring(ctx context.Context, b int64, kept bool, before time.Time) ([]CertExpiry, error) {
	out := []CertExpiry{}
	var at int64
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT finished_at FROM runs WHERE id = ?`), b).Scan(&at); err != nil {
		return nil, notFound(err, fmt.Sprintf("run %d", b))
	}
	finished := fromMS(at)
	// The kept expiry is in milliseconds: a second's slack, and the exact
	// comparison below.
	q, args := `SELECT target, observations FROM run_targets WHERE run_id = ? AND cert_expires < ? ORDER BY cert_expires, target`, []any{b, ms0(before) + 1000}
	if !kept {
		// A run stored without the expiries: every target of it.
		q, args = `SELECT target, observations FROM run_targets WHERE run_id = ? ORDER BY target`, []any{b}
	}
	err := s.each(ctx, q, args, func(sc scanner) error {
		var target, obs string
		if err := sc.Scan(&target, &obs); err != nil {
			return err
		}
		var o Observation
		if err := json.Unmarshal([]byte(obs), &o); err != nil {
			return fmt.Errorf("observations of %s: %w", target, err)
		}
		for _, c := range o.Certs {
			if c.NotAfter.Before(before) {
				out = append(out, CertExpiry{Target: target, Subject: c.Subject, SHA256: c.SHA256, NotAfter: c.NotAfter, Days: int(c.NotAfter.Sub(finished).Hours() / 24)})
			}
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].NotAfter.Before(out[j].NotAfter) })
	return out, err
}

// certExpires is the earliest expiry of an observation's certificates
// (what run_targets.cert_expires keeps), or nil without certificates.
func certExpires(o Observation) any {
	if len(o.Certs) == 0 {
		return nil
	}
	first := o.Certs[0].NotAfter
	for _, c := range o.Certs[1:] {
		if c.NotAfter.Before(first) {
			first = c.NotAfter
		}
	}
	return ms0(first)
}

// portsChanged reports whether a target's port scan differs between two
// observations (what run_targets.ports_changed keeps).
func portsChanged(prev, cur Observation) bool {
	return prev.PortsScanned != cur.PortsScanned || !slices.Equal(prev.OpenPorts, cur.OpenPorts)
}

// Settings that say what the kept compare keys can be trusted for.
const (
	// settingKeysBackfilled is set once the runs stored before migration
	// 0011 have their target digests.
	settingKeysBackfilled = "compare_keys_backfilled"
	// settingPrunedThrough is the highest run ID Prune deleted: a run
	// target's ports_changed says whether its ports differ from the
	// target's previous run, so runs a and b with a deleted run between
	// them are compared by their whole port scans.
	settingPrunedThrough = "pruned_through_run"
)

// keepTargetsKeys computes, once, the target digest of the runs stored
// before migration 0011 (which computed their port flags and expiries):
// SQL has no digest function common to both databases, so the migration
// leaves them empty and this fills them in at the first open after it,
// reading each such run's target names. A run stored later by a rampart
// that does not keep the keys keeps an empty digest, so compare reads
// every target of it (its flags were not kept either).
func (s *SQL) keepTargetsKeys(ctx context.Context) error {
	if _, err := s.Setting(ctx, settingKeysBackfilled); err == nil {
		return nil
	} else if !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("store: %w", err)
	}
	var ids []int64
	err := s.each(ctx, `SELECT id FROM runs WHERE targets_key = '' ORDER BY id`, nil, func(sc scanner) error {
		var id int64
		if err := sc.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: runs without a target digest: %w", err)
	}
	for _, id := range ids {
		var names []string
		err := s.each(ctx, `SELECT target FROM run_targets WHERE run_id = ?`, []any{id}, func(sc scanner) error {
			var n string
			if err := sc.Scan(&n); err != nil {
				return err
			}
			names = append(names, n)
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: targets of run %d: %w", id, err)
		}
		if _, err := s.db.ExecContext(ctx, s.q(`UPDATE runs SET targets_key = ? WHERE id = ? AND targets_key = ''`), targetsKey(names), id); err != nil {
			return fmt.Errorf("store: target digest of run %d: %w", id, err)
		}
	}
	return s.SetSetting(ctx, settingKeysBackfilled, "1")
}

// portFlagsKept reports whether the port flags of the runs after a up to
// b tell every target whose ports changed: no run between them was
// deleted, and each was stored with its flags (its target digest kept).
func (s *SQL) portFlagsKept(ctx context.Context, a, b int64) (bool, error) {
	v, err := s.Setting(ctx, settingPrunedThrough)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return false, err
	default:
		through, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false, fmt.Errorf("setting %s: %w", settingPrunedThrough, err)
		}
		if a < through {
			return false, nil
		}
	}
	var unkept int
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM runs WHERE id > ? AND id <= ? AND targets_key = ''`), a, b).Scan(&unkept); err != nil {
		return false, err
	}
	return unkept == 0, nil
}
