package server

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/textsafe"
)

// Exports of filtered views as CSV (for spreadsheets) and JSON (the API
// answers). A CSV cell is made safe to open: invisible characters are
// shown, and a cell a spreadsheet would read as a formula (=, +, -, @,
// tab, CR) is prefixed with a quote.

// exportCap bounds one export.
const exportCap = 1_000_000

func csvCell(s string) string {
	s = textsafe.Neutralize(s)
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func csvStart(w http.ResponseWriter, name string) *csv.Writer {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	return csv.NewWriter(w)
}

func writeRow(cw *csv.Writer, cells ...string) error {
	for i := range cells {
		cells[i] = csvCell(cells[i])
	}
	return cw.Write(cells)
}

func fmtOptTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// GET /findings.csv?<the findings page's filters>: every finding the
// filter matches, a page of the store at a time.
func (s *Server) findingsCSV(w http.ResponseWriter, r *http.Request, u store.User) {
	f, err := parseFilter(r)
	if err != nil {
		s.badRequest(w, r, "Bad filter", err.Error())
		return
	}
	now := s.now()
	cw := csvStart(w, "rampart-findings-"+now.UTC().Format("20060102-150405")+".csv")
	_ = writeRow(cw, "target", "rule", "title", "status", "severity", "domain", "message", "first_seen", "last_seen", "fixed_at", "age_days", "sla_days", "overdue", "run_id", "fingerprint")
	err = s.eachFinding(r.Context(), f, func(rec store.Record) error {
		age, sla, overdue := s.slaOf(rec, now)
		return writeRow(cw, rec.Target, rec.RuleID, rec.Title, string(rec.Status), rec.Severity.String(), rec.Domain, rec.Message,
			rec.FirstSeen.UTC().Format(time.RFC3339), rec.LastSeen.UTC().Format(time.RFC3339), fmtOptTime(rec.FixedAt),
			strconv.Itoa(age), slaText(sla), strconv.FormatBool(overdue), strconv.FormatInt(rec.RunID, 10), rec.Fingerprint)
	})
	if err != nil {
		s.log.Error("findings export", "err", err)
	}
	cw.Flush()
}

// eachFinding calls fn for every latest finding f matches (its paging
// aside), up to exportCap.
func (s *Server) eachFinding(ctx context.Context, f store.Filter, fn func(store.Record) error) error {
	f.Limit, f.Offset = MaxLimit, 0
	for f.Offset < exportCap {
		recs, err := s.store.Findings(ctx, f)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if err := fn(rec); err != nil {
				return err
			}
		}
		if len(recs) < f.Limit {
			return nil
		}
		f.Offset += f.Limit
	}
	return nil
}

// GET /audit.csv: the audit log, newest first.
func (s *Server) auditCSV(w http.ResponseWriter, r *http.Request, u store.User) {
	cw := csvStart(w, "rampart-audit-"+s.now().UTC().Format("20060102-150405")+".csv")
	_ = writeRow(cw, "id", "at", "actor", "action", "subject", "detail", "address")
	err := s.eachAudit(r.Context(), func(a store.Audit) error {
		return writeRow(cw, strconv.FormatInt(a.ID, 10), a.At.UTC().Format(time.RFC3339), a.Actor, a.Action, a.Subject, a.Detail, a.Addr)
	})
	if err != nil {
		s.log.Error("audit export", "err", err)
	}
	cw.Flush()
}

func (s *Server) eachAudit(ctx context.Context, fn func(store.Audit) error) error {
	var before int64
	for n := 0; n < exportCap; {
		es, err := s.store.AuditLog(ctx, MaxLimit, before)
		if err != nil {
			return err
		}
		for _, a := range es {
			if err := fn(a); err != nil {
				return err
			}
		}
		if len(es) < MaxLimit {
			return nil
		}
		n += len(es)
		before = es[len(es)-1].ID
	}
	return nil
}

// GET /api/v1/audit?limit=&before=: the audit log as JSON (admins).
func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) {
	limit, _, err := pageParams(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	before, err := beforeParam(r, "an entry ID")
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	es, err := s.store.AuditLog(r.Context(), limit, before)
	if err != nil {
		s.apiError(w, err)
		return
	}
	out := map[string]any{"entries": es, "limit": limit}
	if len(es) == limit {
		out["next_before"] = es[len(es)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}
