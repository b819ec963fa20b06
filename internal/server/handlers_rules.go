package server

import (
	"net/http"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/web"
)

// overdueBefore is the cutoff of each severity's SLA at now: a failure
// older than it is overdue.
func (s *Server) overdueBefore(now time.Time) map[finding.Severity]time.Time {
	out := map[finding.Severity]time.Time{}
	for _, sev := range finding.Severities() {
		if d := s.cfg.SLA.Days(sev); d > 0 {
			out[sev] = now.Add(-time.Duration(d) * 24 * time.Hour)
		}
	}
	return out
}

type ruleRow struct {
	store.RuleFailures
	AgeDays, SLADays int
}

type rulesView struct {
	Rules          []ruleRow
	Overdue, Total int
}

// GET /rules: the fleet by rule: which rules fail on how many targets,
// since when, and how many of those are past their SLA.
func (s *Server) rulesPage(w http.ResponseWriter, r *http.Request, u store.User) {
	now := s.now()
	rfs, err := s.store.RuleFailures(r.Context(), s.overdueBefore(now))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := rulesView{}
	for _, rf := range rfs {
		v.Rules = append(v.Rules, ruleRow{RuleFailures: rf, AgeDays: int(now.Sub(rf.Oldest).Hours() / 24), SLADays: s.cfg.SLA.Days(rf.Severity)})
		v.Overdue += rf.Overdue
		v.Total += rf.Failing
	}
	s.render(w, r, http.StatusOK, "rules", web.Page{Title: "Rules across the fleet", Nav: "rules", Data: v})
}

type ruleView struct {
	Rule  string
	Title string
	Rows  []findingRow
	Page  pager
	Fixed []findingRow
}

// GET /rule?id=TLS-002: every target failing one rule, oldest failure
// first, with its age and SLA, and the targets that fixed it.
func (s *Server) rulePage(w http.ResponseWriter, r *http.Request, u store.User) {
	f, err := parseFilter(r)
	if err != nil {
		s.badRequest(w, r, "Bad filter", err.Error())
		return
	}
	f.Rule = r.URL.Query().Get("id")
	if f.Rule == "" {
		s.badRequest(w, r, "Bad request", "no rule given (id=)")
		return
	}
	f.Status, f.Sort = finding.Fail, store.SortAge
	recs, n, err := s.latestFindings(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.now()
	v := ruleView{Rule: f.Rule, Page: findingsPager("/rule", r.URL.Query(), f, recs, n)}
	for _, rec := range recs {
		age, sla, overdue := s.slaOf(rec, now)
		v.Rows = append(v.Rows, findingRow{Record: rec, AgeDays: age, SLADays: sla, Overdue: overdue})
		v.Title = rec.Title
	}
	fixed, err := s.store.Findings(r.Context(), store.Filter{Rule: f.Rule, Status: finding.Pass, Sort: store.SortTarget, Limit: 200})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, rec := range fixed {
		if rec.FixedAt == nil {
			continue
		}
		age, _, _ := s.slaOf(rec, now)
		v.Fixed = append(v.Fixed, findingRow{Record: rec, AgeDays: age})
		if v.Title == "" {
			v.Title = rec.Title
		}
	}
	s.render(w, r, http.StatusOK, "rule", web.Page{Title: f.Rule, Nav: "rules", Data: v})
}
