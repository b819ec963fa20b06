package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/server/metrics"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/waiver"
)

type waiverEntry = waiver.Entry

// MaxUpload bounds an uploaded report.
const MaxUpload = 64 << 20

func parseFilter(r *http.Request) (store.Filter, error) {
	q := r.URL.Query()
	f := store.Filter{Target: q.Get("target"), Domain: q.Get("domain"), Rule: q.Get("rule")}
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

// GET /api/v1/runs?limit=&before=
func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	runs, err := s.store.Runs(r.Context(), limit, before)
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": runs})
}

// GET /api/v1/run?id=
func (s *Server) apiRun(w http.ResponseWriter, r *http.Request) {
	id, err := queryID(r, "id")
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	run, err := s.store.Run(r.Context(), id)
	if err != nil {
		s.apiError(w, err)
		return
	}
	ts, err := s.store.RunTargets(r.Context(), id)
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"run": run, "targets": ts})
}

// GET /api/v1/run/findings?id=&target=
func (s *Server) apiRunFindings(w http.ResponseWriter, r *http.Request) {
	id, err := queryID(r, "id")
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	if _, err := s.store.Run(r.Context(), id); err != nil {
		s.apiError(w, err)
		return
	}
	recs, err := s.store.RunFindings(r.Context(), id, r.URL.Query().Get("target"))
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"findings": recs})
}

// GET /api/v1/targets
func (s *Server) apiTargets(w http.ResponseWriter, r *http.Request) {
	ts, err := s.store.Targets(r.Context())
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"targets": ts})
}

// GET /api/v1/target?name=
func (s *Server) apiTarget(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	t, err := s.store.Target(r.Context(), name)
	if err != nil {
		s.apiError(w, err)
		return
	}
	recs, err := s.store.RunFindings(r.Context(), t.LastRunID, name)
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"target": t, "findings": recs})
}

// GET /api/v1/findings?status=&severity=&target=&domain=&rule=
func (s *Server) apiFindings(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	recs, err := s.store.Findings(r.Context(), f)
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"findings": recs})
}

// GET /api/v1/diff?a=&b=
func (s *Server) apiDiff(w http.ResponseWriter, r *http.Request) {
	a, err := queryID(r, "a")
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	b, err := queryID(r, "b")
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	d, err := s.Diff(r.Context(), a, b)
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
	dec := json.NewDecoder(r)
	if err := dec.Decode(&rep); err != nil {
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
	ts, err := s.store.Targets(r.Context())
	if err != nil {
		s.apiError(w, err)
		return
	}
	ob, err := s.store.OutboxStats(r.Context())
	if err != nil {
		s.apiError(w, err)
		return
	}
	w.Header().Set("Content-Type", metrics.ContentType)
	_ = s.metrics.Write(w, metrics.Fleet{Targets: ts, Outbox: ob})
}
