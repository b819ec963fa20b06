package server

import (
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/glob"
)

func TestGlobMatch(t *testing.T) {
	for _, c := range []struct {
		p, s string
		ok   bool
	}{
		{"gw-*", "gw-1", true}, {"gw-*", "db-1", false}, {"*", "", true}, {"https://10.0.1.*/", "https://10.0.1.7/", true},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*.example.com", "x.y.example.com", true}, {"exact", "exact2", false},
	} {
		if got := glob.Match(c.p, c.s); got != c.ok {
			t.Errorf("glob.Match(%q, %q) = %v", c.p, c.s, got)
		}
	}
	if ps, err := parseScope(" gw-*, db-1\nweb* "); err != nil || len(ps) != 3 {
		t.Errorf("parseScope = %v, %v", ps, err)
	}
	if _, err := parseScope("bad\x01pattern"); err == nil {
		t.Error("a control character in a pattern was accepted")
	}
}

func TestCheckUploadTimes(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		start, fin time.Time
		ok         bool
	}{
		{now.Add(-time.Minute), now, true},
		{time.Time{}, now.Add(-23 * time.Hour), true},
		{now, now.Add(4 * time.Minute), true},
		{now, now.Add(10 * time.Minute), false},
		{now.Add(-26 * time.Hour), now.Add(-25 * time.Hour), false},
		{now, now.Add(-time.Minute), false},
		{now.Add(-48 * time.Hour), now, false},
	} {
		err := checkUploadTimes(&finding.Report{StartedAt: c.start, FinishedAt: c.fin}, now)
		if (err == nil) != c.ok {
			t.Errorf("started %v finished %v: %v; want ok=%v", c.start, c.fin, err, c.ok)
		}
	}
}
