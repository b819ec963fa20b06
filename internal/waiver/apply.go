package waiver

import (
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
)

// Set is the waivers and attestations in force for a scan.
type Set struct {
	Waivers      []Entry
	Attestations []Entry
}

// Add appends the entries of f.
func (s *Set) Add(f *File) {
	s.Waivers = append(s.Waivers, f.Waivers...)
	s.Attestations = append(s.Attestations, f.Attestations...)
}

// Apply turns failures covered by a current waiver into waived, and manual
// findings covered by a current attestation into attested. An expired
// entry leaves the status as it is and is recorded on the finding, so the
// report shows that it ran out.
func (s *Set) Apply(fs []finding.Finding, now time.Time) {
	if s == nil {
		return
	}
	for i := range fs {
		f := &fs[i]
		switch f.Status {
		case finding.Fail:
			apply(f, s.Waivers, "waiver", finding.Waived, now)
		case finding.Manual:
			apply(f, s.Attestations, "attestation", finding.Attested, now)
		}
	}
}

// apply uses the first current matching entry; failing that, it records the
// first expired one.
func apply(f *finding.Finding, es []Entry, kind string, to finding.Status, now time.Time) {
	var expired *Entry
	for i := range es {
		e := &es[i]
		if !e.Matches(f.RuleID, f.Target) {
			continue
		}
		if e.Expired(now) {
			if expired == nil {
				expired = e
			}
			continue
		}
		f.Exception = exception(e, kind, f.Status, false)
		f.Status = to
		return
	}
	if expired != nil {
		f.Exception = exception(expired, kind, f.Status, true)
		f.Message += " (" + kind + " by " + expired.By + " expired on " + expired.Expires + ")"
	}
}

func exception(e *Entry, kind string, orig finding.Status, expired bool) *finding.Exception {
	return &finding.Exception{Kind: kind, Reason: e.Why(), By: e.By, Expires: e.Expires, Expired: expired, Original: orig}
}
