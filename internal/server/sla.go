package server

import (
	"strconv"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/store"
)

// slaOf returns a finding's age in days (how long it has failed, or how
// long it took to fix), the days its severity allows (0: no SLA) and
// whether it fails past them.
func (s *Server) slaOf(rec store.Record, now time.Time) (age, sla int, overdue bool) {
	since := rec.FirstSeen
	if rec.FailingSince != nil {
		since = *rec.FailingSince
	}
	end := now
	if rec.Status != finding.Fail && rec.FixedAt != nil {
		end = *rec.FixedAt
	}
	age = max(0, int(end.Sub(since).Hours()/24))
	sla = s.cfg.SLA.Days(rec.Severity)
	overdue = rec.Status == finding.Fail && sla > 0 && end.Sub(since) > time.Duration(sla)*24*time.Hour
	return age, sla, overdue
}

func slaText(days int) string {
	if days <= 0 {
		return ""
	}
	return strconv.Itoa(days)
}
