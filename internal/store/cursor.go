package store

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrBadCursor is returned for an After cursor that is not one this store
// made for the filter's sort.
var ErrBadCursor = errors.New("bad page cursor (after=): take it from the previous page's next link")

// sortKey is one column of a findings sort: its SQL expression, how to
// read it from a record, and whether it is a number.
type sortKey struct {
	expr string
	num  bool
	of   func(r Record) any
}

var (
	keyTarget = sortKey{"sp.target", false, func(r Record) any { return r.Target }}
	keyRule   = sortKey{"sp.rule_id", false, func(r Record) any { return r.RuleID }}
	keyFP     = sortKey{"sp.fingerprint", false, func(r Record) any { return r.Fingerprint }}
	// Severity descends: its key is the negated severity (indexed so).
	keySev = sortKey{"-sp.severity", true, func(r Record) any { return -int64(r.Severity) }}
	keyAge = sortKey{"sp.since", true, func(r Record) any { return r.since }}
)

// keys are the columns a filter's findings are sorted by, without those
// an equality filter fixes (so the order is an index's, after the fixed
// columns).
func (f Filter) keys() []sortKey {
	var ks []sortKey
	switch f.Sort {
	case SortSeverity:
		ks = []sortKey{keySev, keyTarget, keyRule, keyFP}
	case SortRule:
		ks = []sortKey{keyRule, keyTarget, keyFP}
	case SortAge:
		ks = []sortKey{keyAge, keyTarget, keyRule, keyFP}
	default:
		ks = []sortKey{keyTarget, keyRule, keyFP}
	}
	out := ks[:0:0]
	for _, k := range ks {
		if k.expr == keyTarget.expr && f.Target != "" || k.expr == keyRule.expr && f.Rule != "" {
			continue
		}
		out = append(out, k)
	}
	return out
}

// orderBy is the ORDER BY of keys.
func orderBy(ks []sortKey) string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = k.expr
	}
	return ` ORDER BY ` + strings.Join(parts, ", ")
}

// Cursor is the After value that pages on from rec under f's sort.
func (f Filter) Cursor(rec Record) string {
	return encodeCursor(f.keys(), rec)
}

// RunCursor is the after value of RunFindingsPage that pages on from rec.
func RunCursor(rec Record) string {
	return encodeCursor(runKeys, rec)
}

var runKeys = []sortKey{keyTarget, keyRule, keyFP}

func encodeCursor(ks []sortKey, rec Record) string {
	vals := make([]any, len(ks))
	for i, k := range ks {
		vals[i] = k.of(rec)
	}
	b, err := json.Marshal(vals)
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// after is the keyset condition of a cursor: the rows sorted after it.
func after(ks []sortKey, cursor string) (string, []any, error) {
	if len(cursor) > 4096 {
		return "", nil, ErrBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", nil, ErrBadCursor
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw []any
	if err := dec.Decode(&raw); err != nil || dec.More() || len(raw) != len(ks) {
		return "", nil, ErrBadCursor
	}
	args := make([]any, len(ks))
	cols := make([]string, len(ks))
	for i, k := range ks {
		cols[i] = k.expr
		switch v := raw[i].(type) {
		case json.Number:
			if !k.num {
				return "", nil, ErrBadCursor
			}
			n, err := v.Int64()
			if err != nil {
				return "", nil, ErrBadCursor
			}
			args[i] = n
		case string:
			if k.num || strings.IndexByte(v, 0) >= 0 {
				return "", nil, ErrBadCursor
			}
			args[i] = v
		default:
			return "", nil, ErrBadCursor
		}
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(ks)), ", ")
	return fmt.Sprintf(` AND (%s) > (%s)`, strings.Join(cols, ", "), marks), args, nil
}
