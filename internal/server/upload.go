package server

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/glob"
)

// What an upload may carry. A report sent to POST /api/v1/runs is
// someone else's word: it may only write targets its token is scoped to,
// it cannot carry waivers or attestations (the server applies its own
// configured files), and its times must be those of a scan just made.

// maxUploadAge is how old an uploaded scan may be (its finishedAt), and
// maxUploadSkew how far in the future (clock drift).
const (
	maxUploadAge  = 24 * time.Hour
	maxUploadSkew = 5 * time.Minute
)

// checkUploadTimes refuses a report whose times are not a scan's just
// made: finishedAt within the last day (and not past now plus a little
// drift), startedAt before it and within a day of it.
func checkUploadTimes(rep *finding.Report, now time.Time) error {
	fin, start := rep.FinishedAt, rep.StartedAt
	switch {
	case fin.After(now.Add(maxUploadSkew)):
		return fmt.Errorf("report: finishedAt %s is in the future (the server's time is %s)", fin.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case fin.Before(now.Add(-maxUploadAge)):
		return fmt.Errorf("report: finishedAt %s is more than %s ago: upload a scan just made", fin.UTC().Format(time.RFC3339), maxUploadAge)
	case !start.IsZero() && start.After(fin):
		return errors.New("report: startedAt is after finishedAt")
	case !start.IsZero() && fin.Sub(start) > maxUploadAge:
		return fmt.Errorf("report: the scan took more than %s (startedAt to finishedAt)", maxUploadAge)
	}
	return nil
}

// stripExceptions undoes the waivers and attestations a report carries:
// a waived finding fails again and an attested one is manual again (the
// status the exception recorded, else the one its kind implies). It
// returns how many it undid.
func stripExceptions(fs []finding.Finding) int {
	n := 0
	for i := range fs {
		f := &fs[i]
		if f.Exception == nil && f.Status != finding.Waived && f.Status != finding.Attested {
			continue
		}
		n++
		switch {
		case f.Exception != nil && !f.Exception.Expired && (f.Exception.Original == finding.Fail || f.Exception.Original == finding.Manual):
			f.Status = f.Exception.Original
		case f.Status == finding.Waived:
			f.Status = finding.Fail
		case f.Status == finding.Attested:
			f.Status = finding.Manual
		}
		f.Exception = nil
	}
	return n
}

// outOfScope returns the first target of a report that none of the
// token's patterns matches ("" when all do, or when the token has none).
func outOfScope(rep *finding.Report, patterns []string) string {
	if len(patterns) == 0 {
		return ""
	}
	for _, t := range rep.Targets {
		ok := false
		for _, p := range patterns {
			if glob.Match(p, t.Name) {
				ok = true
				break
			}
		}
		if !ok {
			return t.Name
		}
	}
	return ""
}

// parseScope reads a token's target patterns from a form field: patterns
// separated by commas or white space.
func parseScope(v string) ([]string, error) {
	var out []string
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == '\r' }) {
		if len(p) > 200 || strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return nil, fmt.Errorf("target pattern %q: at most 200 printable characters", p)
		}
		out = append(out, p)
	}
	if len(out) > 50 {
		return nil, errors.New("at most 50 target patterns")
	}
	return out, nil
}
