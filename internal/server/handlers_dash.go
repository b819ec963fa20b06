package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/report"
	"github.com/rampart-sec/rampart/internal/server/auth"
	"github.com/rampart-sec/rampart/internal/server/secret"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/textsafe"
	"github.com/rampart-sec/rampart/internal/web"
)

type targetRow struct {
	store.TargetState
	Bar template.HTML
}

type scheduleRow struct {
	Name, Spec string
	Next       time.Time
	Running    bool
	Since      time.Time
}

type fleetView struct {
	Targets                                             []targetRow
	Totals                                              []report.StatusCount
	TotalTargets, FailingTargets                        int
	StatusChart, SeverityChart, DomainChart, TrendChart template.HTML
	Schedules                                           []scheduleRow
	LastRun, PrevRun                                    *store.Run
	Outbox                                              store.OutboxStats
	// Matching targets the search and zone filters match; Targets is
	// the page of them shown.
	Matching     int
	Search, Zone string
	Page         pager
	Overdue      int
}

// stackBar draws one target's statuses as a thin stacked bar.
func stackBar(counts map[finding.Status]int) template.HTML {
	total := 0
	for _, n := range counts {
		total += n
	}
	const w, h = 180, 12
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="stack-bar" width="%d" height="%d" viewBox="0 0 %d %d">`, w, h, w, h)
	x := 0.0
	for _, st := range finding.Statuses() {
		n := counts[st]
		if n == 0 || total == 0 {
			continue
		}
		bw := float64(w) * float64(n) / float64(total)
		fmt.Fprintf(&b, `<rect x="%.1f" y="0" width="%.1f" height="%d" fill="%s"><title>%s: %d</title></rect>`, x, bw, h, report.StatusColor(st), report.StatusLabel(st), n)
		x += bw
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func (s *Server) fleetPage(w http.ResponseWriter, r *http.Request, u store.User) {
	ctx := r.Context()
	limit, offset, err := pageParams(r)
	if err != nil {
		s.badRequest(w, r, "Bad request", err.Error())
		return
	}
	q := r.URL.Query()
	zone := q.Get("zone")
	runs, err := s.store.Runs(ctx, 30, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The totals are kept as runs are stored; only the page of targets
	// shown is read.
	fc, err := s.store.FleetCounts(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ts, matching, err := s.store.TargetList(ctx, store.TargetFilter{Search: q.Get("q"), Zone: zone, Limit: limit, Offset: offset})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := fleetView{TotalTargets: fc.Targets, FailingTargets: fc.FailingTargets, Matching: matching}
	all, sev, dom := fc.ByStatus, fc.FailBySeverity, fc.FailByDomain
	for _, t := range ts {
		v.Targets = append(v.Targets, targetRow{TargetState: t, Bar: stackBar(t.ByStatus)})
	}
	v.Search, v.Zone = q.Get("q"), zone
	v.Page = newPager("/", q, offset, limit, len(v.Targets), v.Matching)
	v.Totals = report.CountStatuses(all)
	v.StatusChart = report.Donut(v.Totals, 150)
	v.SeverityChart = report.SeverityBars(sev)
	v.DomainChart = report.DomainBars(dom)
	var pts []report.TrendPoint
	for i := len(runs) - 1; i >= 0; i-- {
		pts = append(pts, report.TrendPoint{At: runs[i].FinishedAt, RunID: runs[i].ID, Counts: runs[i].Summary.ByStatus, Link: "/run?id=" + strconv.FormatInt(runs[i].ID, 10)})
	}
	v.TrendChart = report.Trend(pts, 900, 200)
	if len(runs) > 0 {
		v.LastRun = &runs[0]
	}
	if len(runs) > 1 {
		v.PrevRun = &runs[1]
	}
	running, next := s.scheduleState()
	for _, sc := range s.cfg.ScheduleList() {
		since, busy := running[sc.Name]
		v.Schedules = append(v.Schedules, scheduleRow{Name: sc.Name, Spec: sc.String(), Next: next[sc.Name], Running: busy, Since: since})
	}
	v.Outbox, _ = s.store.OutboxStats(ctx)
	s.render(w, r, http.StatusOK, "fleet", web.Page{Title: "Fleet", Nav: "fleet", Data: v})
}

type certRow struct {
	store.Cert
	Days          int
	Soon, Expired bool
}

type targetPageView struct {
	Page      pager
	State     store.TargetState
	View      report.TargetView
	Trend     template.HTML
	Certs     []certRow
	PrevRunID int64
}

func (s *Server) targetPage(w http.ResponseWriter, r *http.Request, u store.User) {
	ctx := r.Context()
	name := r.URL.Query().Get("name")
	t, err := s.store.Target(ctx, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := parseFilter(r)
	if err != nil {
		s.badRequest(w, r, "Bad filter", err.Error())
		return
	}
	f.Target = name
	if f.Sort == "" {
		f.Sort = store.SortSeverity
	}
	recs, n, err := s.latestFindings(ctx, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	hist, err := s.store.TargetHistory(ctx, name, 30)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := targetPageView{State: t, Page: findingsPager("/target", r.URL.Query(), f, recs, n)}
	views := make([]report.FindingView, len(recs))
	for i, rec := range recs {
		first, last := rec.FirstSeen, rec.LastSeen
		views[i] = report.FindingView{Finding: rec.Finding, FirstSeen: &first, LastSeen: &last, FixedAt: rec.FixedAt}
	}
	info := finding.TargetInfo{Name: t.Name, Kind: t.Kind, Profiles: t.Profiles, Product: t.Product, Version: t.Version, Role: t.Role, Parent: t.Parent, Errors: t.Errors}
	v.View = report.NewTargetView(info, views)
	var pts []report.TrendPoint
	for i := len(hist) - 1; i >= 0; i-- {
		pts = append(pts, report.TrendPoint{At: hist[i].At, RunID: hist[i].RunID, Counts: hist[i].ByStatus, Link: "/run?id=" + strconv.FormatInt(hist[i].RunID, 10)})
	}
	v.Trend = report.Trend(pts, 560, 180)
	if len(hist) > 1 {
		v.PrevRunID = hist[1].RunID
	}
	now := s.now()
	for _, c := range t.Observations.Certs {
		days := int(c.NotAfter.Sub(now).Hours() / 24)
		v.Certs = append(v.Certs, certRow{Cert: c, Days: days, Expired: c.NotAfter.Before(now), Soon: days <= s.cfg.Alerts.CertWarnDays})
	}
	s.render(w, r, http.StatusOK, "target-page", web.Page{Title: t.Name, Nav: "fleet", Data: v})
}

type runsView struct {
	Runs  []store.Run
	Older int64
}

func (s *Server) runsPage(w http.ResponseWriter, r *http.Request, u store.User) {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	runs, err := s.store.Runs(r.Context(), 50, before)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := runsView{Runs: runs}
	if len(runs) == 50 {
		v.Older = runs[len(runs)-1].ID
	}
	s.render(w, r, http.StatusOK, "runs", web.Page{Title: "Runs", Nav: "runs", Data: v})
}

type runView struct {
	Run     store.Run
	Targets []store.RunTarget
	Page    pager
	Counts  []report.StatusCount
	PrevID  int64
}

func (s *Server) runPage(w http.ResponseWriter, r *http.Request, u store.User) {
	ctx := r.Context()
	id, _ := strconv.ParseInt(r.URL.Query().Get("id"), 10, 64)
	run, err := s.store.Run(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// A page of the run's targets (a fleet-wide run has thousands).
	q := r.URL.Query()
	const perPage = 100
	ts, err := s.store.RunTargetsPage(ctx, id, q.Get("after"), perPage)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	next := ""
	if len(ts) > 0 {
		next = ts[len(ts)-1].Name
	}
	v := runView{Run: run, Targets: ts, Counts: report.CountStatuses(run.Summary.ByStatus),
		Page: keysetPager("/run", q, perPage, len(ts), run.Targets, next)}
	if prev, err := s.store.Runs(ctx, 1, id); err == nil && len(prev) == 1 {
		v.PrevID = prev[0].ID
	}
	s.render(w, r, http.StatusOK, "run", web.Page{Title: fmt.Sprintf("Run #%d", id), Nav: "runs", Data: v})
}

// runReport rebuilds a run's report and renders it as the self-contained
// HTML report (the same file `rampart scan --format html` writes).
func (s *Server) runReport(w http.ResponseWriter, r *http.Request, u store.User) {
	ctx := r.Context()
	id, _ := strconv.ParseInt(r.URL.Query().Get("id"), 10, 64)
	target := r.URL.Query().Get("target")
	run, err := s.store.Run(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// One HTML document of a fleet's run (10,000 targets, 300,000
	// findings) took 30-40 s and 1.4 GB of the server: a report holds at
	// most reportCap findings and targets; a larger run has a report per
	// target (the run page links each).
	subject := "This run"
	if target != "" {
		subject = "This target of the run"
	}
	tooLarge := func(count string) {
		s.badRequest(w, r, "Too large for one report", fmt.Sprintf("%s has %s, more than one HTML report holds (%d findings and %d targets). "+
			"Download a target's report from the run's page (/run?id=%d), or export the run's findings with the API (/api/v1/run/findings?id=%d).",
			subject, count, reportCap, reportCap, id, id))
	}
	var ts []store.RunTarget
	if target == "" {
		if run.Targets > reportCap {
			tooLarge(fmt.Sprintf("%d targets", run.Targets))
			return
		}
		if run.Findings > reportCap {
			tooLarge(fmt.Sprintf("%d findings", run.Findings))
			return
		}
		if ts, err = s.store.RunTargets(ctx, id); err != nil {
			s.fail(w, r, err)
			return
		}
	} else {
		t, err := s.store.RunTarget(ctx, id, target)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		ts = []store.RunTarget{t}
	}
	recs, err := s.store.RunFindingsPage(ctx, id, target, "", reportCap+1, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(recs) > reportCap {
		// One target holds more (or the run's count said otherwise): the
		// run's count is not the target's.
		tooLarge(fmt.Sprintf("over %d findings", reportCap))
		return
	}
	rep := &finding.Report{SchemaVersion: finding.SchemaVersion, Tool: finding.Tool{Name: "rampart", Version: run.ToolVersion},
		StartedAt: run.StartedAt, FinishedAt: run.FinishedAt, Interrupted: run.Interrupted}
	for _, t := range ts {
		rep.Targets = append(rep.Targets, finding.TargetInfo{Name: t.Name, Kind: t.Kind, Product: t.Product, Version: t.Version, Errors: t.Errors, Profiles: []string{}})
	}
	for _, rec := range recs {
		rep.Findings = append(rep.Findings, rec.Finding)
	}
	rep.Finalize()
	name := fmt.Sprintf("rampart-run-%d.html", id)
	if target != "" {
		name = fmt.Sprintf("rampart-run-%d-%s.html", id, fileSafe(target))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	// The report carries its own inline style sheet.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	var b bytes.Buffer
	if err := (report.HTML{}).Render(&b, rep); err != nil {
		s.log.Error("run report", "run", id, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(textsafe.NeutralizeBytes(b.Bytes()))
}

// reportCap is the most findings (and targets) one HTML report of a run
// holds: rendering 5,000 findings takes tens of milliseconds.
const reportCap = 5000

// fileSafe keeps the letters, digits, dots and dashes of a target's name
// for a file name (a URL's other characters become '_').
func fileSafe(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) > 100 {
		b = b[:100]
	}
	return string(b)
}

type diffView struct {
	Diff *RunDiff
	Runs []store.Run
	// A and B are the runs compared (A 0: nothing, B's failures all new).
	A, B int64
}

func (s *Server) diffPage(w http.ResponseWriter, r *http.Request, u store.User) {
	ctx := r.Context()
	runs, err := s.store.Runs(ctx, 100, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	a, _ := strconv.ParseInt(q.Get("a"), 10, 64)
	b, _ := strconv.ParseInt(q.Get("b"), 10, 64)
	switch {
	case b == 0 && a != 0:
		b = a
		a = 0
		if prev, err := s.store.Runs(ctx, 1, b); err == nil && len(prev) == 1 {
			a = prev[0].ID
		}
	case b == 0 && len(runs) >= 2 && !q.Has("a"):
		a, b = runs[1].ID, runs[0].ID
	case b == 0 && len(runs) == 1:
		b = runs[0].ID
	}
	if a > b {
		a, b = b, a
	}
	v := diffView{Runs: runs, A: a, B: b}
	if b != 0 {
		d, err := s.Diff(ctx, a, b, DefaultLimit)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Diff = d
	}
	s.render(w, r, http.StatusOK, "diff", web.Page{Title: "Compare runs", Nav: "diff", Data: v})
}

type findingRow struct {
	store.Record
	AgeDays, SLADays int
	Overdue          bool
}

type findingsView struct {
	Rows       []findingRow
	Statuses   []finding.Status
	Severities []string
	Sorts      []string
	F          store.Filter
	Status     string
	Severity   string
	Page       pager
}

func (s *Server) findingsPage(w http.ResponseWriter, r *http.Request, u store.User) {
	f, err := parseFilter(r)
	if err != nil {
		s.render(w, r, http.StatusBadRequest, "error", web.Page{Title: "Bad filter", Data: err.Error()})
		return
	}
	recs, n, err := s.latestFindings(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.now()
	v := findingsView{Statuses: finding.Statuses(), Status: string(f.Status), F: f, Sorts: []string{store.SortTarget, store.SortSeverity, store.SortRule, store.SortAge},
		Page: findingsPager("/findings", r.URL.Query(), f, recs, n)}
	for _, rec := range recs {
		age, sla, overdue := s.slaOf(rec, now)
		v.Rows = append(v.Rows, findingRow{Record: rec, AgeDays: age, SLADays: sla, Overdue: overdue})
	}
	for _, sv := range finding.Severities() {
		v.Severities = append(v.Severities, sv.String())
	}
	if f.Severity > 0 {
		v.Severity = f.Severity.String()
	}
	s.render(w, r, http.StatusOK, "findings", web.Page{Title: "Findings", Nav: "findings", Data: v})
}

type exceptionRow struct {
	Kind, Rule, Target, Why, By, Expires string
	DaysLeft                             int
	Expired, Soon                        bool
}

type exceptionsView struct {
	Entries  []exceptionRow
	Findings []store.Record
}

func (s *Server) exceptionsPage(w http.ResponseWriter, r *http.Request, u store.User) {
	v := exceptionsView{}
	now := s.now()
	if set := s.opt.Exceptions; set != nil {
		add := func(kind string, list []waiverEntry) {
			for _, e := range list {
				exp, err := time.Parse(time.DateOnly, e.Expires)
				row := exceptionRow{Kind: kind, Rule: e.Rule, Target: e.Target, Why: e.Why(), By: e.By, Expires: e.Expires}
				if err == nil {
					end := exp.AddDate(0, 0, 1)
					row.DaysLeft = int(end.Sub(now).Hours() / 24)
					row.Expired = !now.Before(end)
					row.Soon = row.DaysLeft <= 30
				}
				v.Entries = append(v.Entries, row)
			}
		}
		add("waiver", set.Waivers)
		add("attestation", set.Attestations)
	}
	recs, err := s.store.Findings(r.Context(), store.Filter{Exceptions: true, Limit: MaxLimit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, rec := range recs {
		if rec.Exception != nil {
			v.Findings = append(v.Findings, rec)
		}
	}
	s.render(w, r, http.StatusOK, "exceptions", web.Page{Title: "Waivers and attestations", Nav: "exceptions", Data: v})
}

type healthRow struct {
	store.HealthSample
	Spark template.HTML
}

type monitorView struct {
	Rows     []healthRow
	Interval time.Duration
	Factor   float64
}

func (s *Server) monitorPage(w http.ResponseWriter, r *http.Request, u store.User) {
	ctx := r.Context()
	latest, err := s.store.LatestHealth(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := monitorView{Interval: s.cfg.Monitor.Interval, Factor: s.cfg.Monitor.SlowFactor}
	for _, h := range latest {
		hist, err := s.store.HealthHistory(ctx, h.URL, 60)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		slices.Reverse(hist)
		v.Rows = append(v.Rows, healthRow{HealthSample: h, Spark: sparkline(hist)})
	}
	s.render(w, r, http.StatusOK, "monitor", web.Page{Title: "Monitoring", Nav: "monitor", Data: v})
}

// sparkline draws response times as bars: red when down, amber when
// anomalous.
func sparkline(hs []store.HealthSample) template.HTML {
	const w, h = 240, 28
	var maxMS int64 = 1
	for _, x := range hs {
		maxMS = max(maxMS, x.LatencyMS)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg width="%d" height="%d" viewBox="0 0 %d %d">`, w, h, w, h)
	bw := float64(w) / 60
	for i, x := range hs {
		bh := max(2, float64(h)*float64(x.LatencyMS)/float64(maxMS))
		color := "#2e7d32"
		switch {
		case !x.OK:
			color, bh = "#c62828", h
		case x.Anomaly:
			color = "#b26a00"
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %d ms</title></rect>`,
			float64(i)*bw, float64(h)-bh, bw-1, bh, color, x.At.Format("15:04:05"), x.LatencyMS)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

type tokensView struct {
	Tokens       []store.Token
	Roles        []auth.Role
	New, NewName string
}

func (s *Server) renderTokens(w http.ResponseWriter, r *http.Request, status int, v tokensView, ok, flash string) {
	ts, err := s.store.Tokens(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Tokens, v.Roles = ts, auth.TokenRoles()
	s.render(w, r, status, "tokens", web.Page{Title: "API tokens", Nav: "tokens", OK: ok, Flash: flash, Data: v})
}

func (s *Server) tokensPage(w http.ResponseWriter, r *http.Request, u store.User) {
	s.renderTokens(w, r, http.StatusOK, tokensView{}, "", "")
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, u store.User) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" || len(name) > 64 {
		s.renderTokens(w, r, http.StatusBadRequest, tokensView{}, "", "A token needs a name of 1-64 characters.")
		return
	}
	role, err := auth.ParseTokenRole(r.PostFormValue("role"))
	if err != nil {
		s.renderTokens(w, r, http.StatusBadRequest, tokensView{}, "", err.Error())
		return
	}
	scope, err := parseScope(r.PostFormValue("targets"))
	if err != nil {
		s.renderTokens(w, r, http.StatusBadRequest, tokensView{}, "", err.Error())
		return
	}
	detail := "role " + string(role)
	if len(scope) > 0 {
		detail += "; uploads only for targets " + strings.Join(scope, ", ")
	}
	tok, err := s.issueToken(r.Context(), name, u, role, scope, s.auditEntry(r, "", "token.create", name, detail))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderTokens(w, r, http.StatusOK, tokensView{New: tok, NewName: name}, "Token created.", "")
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, u store.User) {
	id, _ := strconv.ParseInt(r.PostFormValue("id"), 10, 64)
	var name string
	if ts, err := s.store.Tokens(r.Context()); err == nil {
		for _, t := range ts {
			if t.ID == id {
				name = t.Name + " (" + t.CreatedBy + ")"
			}
		}
	}
	if err := s.store.DeleteToken(r.Context(), id, s.auditEntry(r, "", "token.revoke", name, "")); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			s.renderTokens(w, r, http.StatusNotFound, tokensView{}, "", "No such token.")
			return
		}
		s.fail(w, r, err)
		return
	}
	s.log.Info("API token revoked", "id", id, "by", u.Username)
	http.Redirect(w, r, "/tokens", http.StatusSeeOther)
}

// IssueToken creates an uploader API token (what a CI pipeline needs:
// send scans, read results) owned by the user named by, and returns it
// (shown once).
func (s *Server) IssueToken(ctx context.Context, name, by string) (string, error) {
	return s.IssueTokenWithRole(ctx, name, by, auth.RoleUploader)
}

// IssueTokenWithRole creates an API token with a role, owned by the user
// named by.
func (s *Server) IssueTokenWithRole(ctx context.Context, name, by string, role auth.Role) (string, error) {
	return s.IssueScopedToken(ctx, name, by, role, nil)
}

// IssueScopedToken creates an API token with a role whose uploads are
// limited to targets matching the patterns (none: any target).
func (s *Server) IssueScopedToken(ctx context.Context, name, by string, role auth.Role, targets []string) (string, error) {
	u, err := s.store.UserByName(ctx, by)
	if err != nil {
		return "", err
	}
	return s.issueToken(ctx, name, u, role, targets, store.Audit{At: s.now(), Actor: "system", Action: "token.create", Subject: name, Detail: "role " + string(role) + " for " + by})
}

func (s *Server) issueToken(ctx context.Context, name string, owner store.User, role auth.Role, targets []string, a store.Audit) (string, error) {
	tok := secret.Token("rampart_")
	_, err := s.store.CreateToken(ctx, store.NewToken{Name: name, Hash: s.box.Hash(tok), Role: string(role), UserID: owner.ID, CreatedBy: owner.Username, Now: s.now(), Targets: targets}, a)
	if err != nil {
		return "", err
	}
	return tok, nil
}

func (s *Server) runNow(w http.ResponseWriter, r *http.Request, u store.User) {
	name := r.PostFormValue("name")
	if !s.Trigger(name) {
		s.badRequest(w, r, "Cannot run", "unknown schedule or already queued: "+name)
		return
	}
	s.audit(r, "schedule.run", name, "")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
