package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/jsonstrict"
	"github.com/rampart-sec/rampart/internal/server/metrics"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/waiver"
)

type waiverEntry = waiver.Entry

// MaxUpload bounds an uploaded report.
const MaxUpload = 64 << 20

// Paging of lists: limit defaults to 100 and may be 1 to 1,000; offset
// is from 0.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// pageParams reads limit and offset.
func pageParams(r *http.Request) (limit, offset int, err error) {
	q := r.URL.Query()
	limit = DefaultLimit
	if v := q.Get("limit"); v != "" {
		limit, err = strconv.Atoi(v)
		if err != nil || limit < 1 || limit > MaxLimit {
			return 0, 0, fmt.Errorf("limit must be a number from 1 to %d", MaxLimit)
		}
	}
	if v := q.Get("offset"); v != "" {
		offset, err = strconv.Atoi(v)
		if err != nil || offset < 0 || offset > 1<<30 {
			return 0, 0, errors.New("offset must be a number from 0")
		}
	}
	return limit, offset, nil
}

// sortParam checks a sort key of the findings.
func sortParam(v string) (string, error) {
	switch v {
	case "", store.SortTarget, store.SortSeverity, store.SortRule, store.SortAge:
		return v, nil
	}
	return "", fmt.Errorf("sort must be %s, %s, %s or %s", store.SortTarget, store.SortSeverity, store.SortRule, store.SortAge)
}

func parseFilter(r *http.Request) (store.Filter, error) {
	q := r.URL.Query()
	f := store.Filter{Target: q.Get("target"), Domain: q.Get("domain"), Rule: q.Get("rule"), Zone: q.Get("zone"), Search: q.Get("q"), After: q.Get("after")}
	var err error
	if f.Sort, err = sortParam(q.Get("sort")); err != nil {
		return f, err
	}
	if f.Limit, f.Offset, err = pageParams(r); err != nil {
		return f, err
	}
	if v := q.Get("status"); v != "" {
		st, err := finding.ParseStatus(v)
		if err != nil {
			return f, err
		}
		f.Status = st
	}
	if v := q.Get("severity"); v != "" {
		sev, err := finding.ParseSeverity(v)
		if err != nil {
			return f, err
		}
		f.Severity = sev
	}
	return f, nil
}

func (s *Server) apiError(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, err.Error())
		return
	}
	if errors.Is(err, store.ErrBadCursor) {
		writeJSONError(w, http.StatusBadRequest, store.ErrBadCursor.Error())
		return
	}
	s.log.Error("api", "err", err)
	if s.dbErr(context.Background()) != nil {
		w.Header().Set("Retry-After", "5")
		writeJSONError(w, http.StatusServiceUnavailable, "the database is unavailable; try again")
		return
	}
	writeJSONError(w, http.StatusInternalServerError, "internal error")
}

func queryID(r *http.Request, key string) (int64, error) {
	id, err := strconv.ParseInt(r.URL.Query().Get(key), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%s must be a run ID", key)
	}
	return id, nil
}

// beforeParam reads a keyset cursor, ?before=ID (0 when absent); what
// says what the ID names, for the error.
func beforeParam(r *http.Request, what string) (int64, error) {
	v := r.URL.Query().Get("before")
	if v == "" {
		return 0, nil
	}
	before, err := strconv.ParseInt(v, 10, 64)
	if err != nil || before < 0 {
		return 0, fmt.Errorf("before must be %s", what)
	}
	return before, nil
}

// GET /api/v1/runs?limit=&before=
func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request) {
	limit, _, err := pageParams(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	before, err := beforeParam(r, "a run ID")
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	runs, err := s.store.Runs(r.Context(), limit, before)
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": runs})
}

// GET /api/v1/run?id=&limit=&after=: the run and a page of its targets
// by name (after the target named after; next_after names the page's
// last when more may follow).
func (s *Server) apiRun(w http.ResponseWriter, r *http.Request) {
	id, err := queryID(r, "id")
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	limit, offset, err := pageParams(r)
	if err == nil && offset != 0 {
		err = errors.New("a run's targets are paged by after (the last target name of the previous page), not offset")
	}
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	run, err := s.store.Run(r.Context(), id)
	if err != nil {
		s.apiError(w, err)
		return
	}
	ts, err := s.store.RunTargetsPage(r.Context(), id, r.URL.Query().Get("after"), limit)
	if err != nil {
		s.apiError(w, err)
		return
	}
	out := map[string]any{"run": run, "targets": ts, "limit": limit, "total": run.Targets}
	if len(ts) == limit {
		out["next_after"] = ts[len(ts)-1].Name
	}
	writeJSON(w, http.StatusOK, out)
}

// GET /api/v1/run/findings?id=&target=
func (s *Server) apiRunFindings(w http.ResponseWriter, r *http.Request) {
	id, err := queryID(r, "id")
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	limit, offset, err := pageParams(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	run, err := s.store.Run(r.Context(), id)
	if err != nil {
		s.apiError(w, err)
		return
	}
	recs, err := s.store.RunFindingsPage(r.Context(), id, r.URL.Query().Get("target"), r.URL.Query().Get("after"), limit, offset)
	if err != nil {
		s.apiError(w, err)
		return
	}
	out := pageOf("findings", recs, run.Findings, limit, offset)
	if len(recs) == limit {
		out["next_after"] = store.RunCursor(recs[len(recs)-1])
	}
	writeJSON(w, http.StatusOK, out)
}

// pageOf is a page of a list, with its total and the next page's offset
// (absent on the last page). total < 0 means unknown.
func pageOf[T any](key string, items []T, total, limit, offset int) map[string]any {
	out := map[string]any{key: items, "limit": limit, "offset": offset}
	if total >= 0 {
		out["total"] = total
	}
	if len(items) == limit && (total < 0 || offset+limit < total) {
		out["next_offset"] = offset + limit
	}
	return out
}

// GET /api/v1/targets?q=&zone=&limit=&offset=
func (s *Server) apiTargets(w http.ResponseWriter, r *http.Request) {
	limit, offset, err := pageParams(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	ts, n, err := s.store.TargetList(r.Context(), store.TargetFilter{Search: r.URL.Query().Get("q"), Zone: r.URL.Query().Get("zone"), Limit: limit, Offset: offset})
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, pageOf("targets", ts, n, limit, offset))
}

// GET /api/v1/target?name=&limit=&offset= (and the findings filters)
func (s *Server) apiTarget(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	f, err := parseFilter(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	t, err := s.store.Target(r.Context(), name)
	if err != nil {
		s.apiError(w, err)
		return
	}
	f.Target = name
	recs, n, err := s.latestFindings(r.Context(), f)
	if err != nil {
		s.apiError(w, err)
		return
	}
	out := findingsPageOf(f, recs, n)
	out["target"] = t
	writeJSON(w, http.StatusOK, out)
}

// findingsPage is a page of the latest findings and how many match.
func (s *Server) latestFindings(ctx context.Context, f store.Filter) ([]store.Record, int, error) {
	recs, err := s.store.Findings(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	n := len(recs) + f.Offset
	if len(recs) == f.Limit || f.Offset > 0 && len(recs) == 0 || f.After != "" {
		if n, err = s.store.CountFindings(ctx, f); err != nil {
			return nil, 0, err
		}
	}
	return recs, n, nil
}

// GET /api/v1/findings?status=&severity=&target=&domain=&rule=
func (s *Server) apiFindings(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	recs, n, err := s.latestFindings(r.Context(), f)
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, findingsPageOf(f, recs, n))
}

// findingsPageOf is a page of latest findings: with next_after (keyset
// paging, any depth at the same cost) unless it is the last, and
// next_offset while paging by offset.
func findingsPageOf(f store.Filter, recs []store.Record, total int) map[string]any {
	out := pageOf("findings", recs, total, f.Limit, f.Offset)
	if f.After != "" {
		delete(out, "offset")
		delete(out, "next_offset")
	}
	if len(recs) == f.Limit && len(recs) > 0 {
		out["next_after"] = f.Cursor(recs[len(recs)-1])
	}
	return out
}

// GET /api/v1/diff?a=&b= (without a: b compared with nothing)
func (s *Server) apiDiff(w http.ResponseWriter, r *http.Request) {
	var a int64
	var err error
	if r.URL.Query().Get("a") != "" {
		if a, err = queryID(r, "a"); err != nil {
			writeJSONError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	b, err := queryID(r, "b")
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	limit, _, err := pageParams(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	d, err := s.Diff(r.Context(), a, b, limit)
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// GET /api/v1/health
func (s *Server) apiHealth(w http.ResponseWriter, r *http.Request) {
	hs, err := s.store.LatestHealth(r.Context())
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"endpoints": hs})
}

// POST /api/v1/schedules/run?name=
func (s *Server) apiRunNow(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if !s.Trigger(name) {
		writeJSONError(w, http.StatusBadRequest, "unknown schedule or already queued: "+name)
		return
	}
	s.audit(r, "schedule.run", name, "through the API")
	writeJSON(w, http.StatusAccepted, map[string]string{"queued": name})
}

// POST /api/v1/runs: store an uploaded JSON report (rampart scan --upload).
func (s *Server) apiUpload(w http.ResponseWriter, r *http.Request) {
	p, _ := principalOf(r)
	source := "upload:user:" + p.User.Username
	if p.Token != nil {
		source = "upload:" + p.Token.Name
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeJSONError(w, http.StatusUnsupportedMediaType, "send the JSON report (Content-Type: application/json)")
		return
	}
	body := http.MaxBytesReader(w, r.Body, MaxUpload)
	rep, err := DecodeReport(body)
	if err != nil {
		status := http.StatusBadRequest
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			status = http.StatusRequestEntityTooLarge
		}
		writeJSONError(w, status, err.Error())
		return
	}
	now := s.now()
	if err := checkUploadTimes(rep, now); err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	if p.Token != nil {
		if t := outOfScope(rep, p.Token.Targets); t != "" {
			writeJSONError(w, http.StatusForbidden, fmt.Sprintf("token %s may not upload runs of target %q (its targets: %s)", p.Token.Name, t, strings.Join(p.Token.Targets, ", ")))
			return
		}
	}
	// Only the server's own waivers and attestations count.
	stripped := stripExceptions(rep.Findings)
	s.opt.Exceptions.Apply(rep.Findings, now)
	rep.Finalize()
	names := make([]string, 0, len(rep.Targets))
	for _, t := range rep.Targets {
		names = append(names, t.Name)
	}
	detail := fmt.Sprintf("%d findings of %d targets (%s), finished %s", len(rep.Findings), len(rep.Targets), clipList(names, 10), rep.FinishedAt.UTC().Format(time.RFC3339))
	if stripped > 0 {
		detail += fmt.Sprintf("; %d waivers/attestations in the report ignored", stripped)
	}
	a := s.auditEntry(r, "", "run.upload", "", detail)
	d, err := s.saveRun(r.Context(), rep, source, nil, s.cfg.FirstRunPolicy(""), &a)
	if err != nil {
		s.apiError(w, err)
		return
	}
	s.metrics.Upload()
	s.prune(context.WithoutCancel(r.Context()))
	s.log.Info("report uploaded", "by", p.Actor(), "run", d.RunID, "findings", len(rep.Findings))
	writeJSON(w, http.StatusCreated, map[string]any{
		"run_id": d.RunID, "new_failures": len(d.NewFailures), "fixed": len(d.Fixed), "first_run_targets": len(d.FirstRun), "exceptions_ignored": stripped,
		"url": "/run?id=" + strconv.FormatInt(d.RunID, 10),
	})
}

// clipList joins at most n names, saying how many more there are.
func clipList(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(" and %d more", len(names)-n)
}

// DecodeReport reads and checks an uploaded JSON report: a known schema
// major version, valid statuses and severities, every finding's target
// listed (missing ones are added), fingerprints present.
func DecodeReport(r io.Reader) (*finding.Report, error) {
	var rep finding.Report
	if err := jsonstrict.Decode(r, &rep); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if path := nulPath(reflect.ValueOf(&rep), "report"); path != "" {
		return nil, fmt.Errorf("%s: NUL bytes are not accepted", path)
	}
	major, _, _ := strings.Cut(rep.SchemaVersion, ".")
	want, _, _ := strings.Cut(finding.SchemaVersion, ".")
	if major != want {
		return nil, fmt.Errorf("report: schemaVersion %q is not %s.x", rep.SchemaVersion, want)
	}
	if rep.FinishedAt.IsZero() {
		return nil, errors.New("report: no finishedAt")
	}
	known := map[string]bool{}
	for _, t := range rep.Targets {
		if t.Name == "" {
			return nil, errors.New("report: a target has no name")
		}
		known[t.Name] = true
	}
	for i := range rep.Findings {
		f := &rep.Findings[i]
		if f.RuleID == "" || f.Target == "" {
			return nil, fmt.Errorf("report: finding %d has no rule or target", i)
		}
		if _, err := finding.ParseStatus(string(f.Status)); err != nil {
			return nil, fmt.Errorf("report: finding %d: %w", i, err)
		}
		if f.Severity < finding.Info || f.Severity > finding.Critical {
			return nil, fmt.Errorf("report: finding %d: no severity", i)
		}
		if f.Fingerprint == "" {
			f.Fingerprint = finding.Fingerprint(f.Target, f.RuleID, "")
		}
		if !known[f.Target] {
			known[f.Target] = true
			rep.Targets = append(rep.Targets, finding.TargetInfo{Name: f.Target, Profiles: []string{}})
		}
	}
	rep.Finalize()
	return &rep, nil
}

// nulPath returns where a NUL byte is in v's strings (a Go path such as
// report.Findings[3].Evidence[0].Value), or "".
func nulPath(v reflect.Value, at string) string {
	switch v.Kind() {
	case reflect.String:
		if strings.IndexByte(v.String(), 0) >= 0 {
			return at
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return nulPath(v.Elem(), at)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				if p := nulPath(v.Field(i), at+"."+v.Type().Field(i).Name); p != "" {
					return p
				}
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if p := nulPath(v.Index(i), fmt.Sprintf("%s[%d]", at, i)); p != "" {
				return p
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if p := nulPath(it.Key(), at+"{key}"); p != "" {
				return p
			}
			if p := nulPath(it.Value(), fmt.Sprintf("%s[%v]", at, it.Key())); p != "" {
				return p
			}
		}
	}
	return ""
}

// GET /metrics
func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request) {
	// Per-target series only when asked for: eight a target.
	var ts []store.TargetState
	if s.cfg.Metrics.PerTarget {
		var err error
		if ts, err = s.store.TargetStatuses(r.Context()); err != nil {
			s.apiError(w, err)
			return
		}
		if ts == nil {
			ts = []store.TargetState{}
		}
	}
	ob, err := s.store.OutboxStats(r.Context())
	if err != nil {
		s.apiError(w, err)
		return
	}
	rfs, err := s.store.RuleFailures(r.Context(), s.overdueBefore(s.now()))
	if err != nil {
		s.apiError(w, err)
		return
	}
	fc, err := s.store.FleetCounts(r.Context())
	if err != nil {
		s.apiError(w, err)
		return
	}
	w.Header().Set("Content-Type", metrics.ContentType)
	_ = s.metrics.Write(w, metrics.Fleet{Targets: ts, Counts: &fc, Outbox: ob, Failures: rfs})
}
