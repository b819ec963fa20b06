package waiver

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
)

func parse(t *testing.T, s string) *File {
	t.Helper()
	f, err := Parse(strings.NewReader(s), "w.yaml", func(id string) bool { return strings.HasPrefix(id, "TLS-") || id == "LOG-003" })
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestExpiryIsInclusive(t *testing.T) {
	f := parse(t, "waivers:\n  - {rule: TLS-002, reason: legacy clients, by: alice, expires: 2027-03-31}\n")
	set := &Set{}
	set.Add(f)
	for _, c := range []struct {
		now  time.Time
		want finding.Status
	}{
		{time.Date(2027, 3, 31, 23, 59, 59, 0, time.UTC), finding.Waived},
		{time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), finding.Fail},
	} {
		fs := []finding.Finding{{RuleID: "TLS-002", Target: "gw:8243", Status: finding.Fail}}
		set.Apply(fs, c.now)
		if fs[0].Status != c.want {
			t.Errorf("at %s: %s, want %s", c.now, fs[0].Status, c.want)
		}
		if c.want == finding.Fail && (fs[0].Exception == nil || !fs[0].Exception.Expired) {
			t.Errorf("at %s: the expired waiver is not recorded", c.now)
		}
	}
}

func TestTargetPatterns(t *testing.T) {
	e := Entry{Rule: "TLS-002"}
	for _, c := range []struct {
		pattern, target string
		want            bool
	}{
		{"", "anything", true},
		{"*", "/opt/wso2is", true},
		{"/opt/wso2*", "/opt/wso2am-4.1.0/nested", true},
		{"10.0.1.?:9443", "10.0.1.7:9443", true},
		{"10.0.1.?:9443", "10.0.1.17:9443", false},
		{"gw.example.com", "gw.example.com:8243", false},
		{"a.b", "axb", false},
	} {
		e.Target = c.pattern
		if got := e.Matches("TLS-002", c.target); got != c.want {
			t.Errorf("%q vs %q: %v", c.pattern, c.target, got)
		}
	}
	if e.Matches("TLS-003", "10.0.1.7:9443") {
		t.Error("matched another rule")
	}
}

func TestAttestationsOnlyTouchManual(t *testing.T) {
	set := &Set{}
	set.Add(parse(t, "attestations:\n  - {rule: LOG-003, evidence: SIEM, by: carol, expires: 2030-01-01}\n"))
	fs := []finding.Finding{
		{RuleID: "LOG-003", Target: "x", Status: finding.Manual},
		{RuleID: "LOG-003", Target: "y", Status: finding.NotApplicable},
	}
	set.Apply(fs, time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC))
	if fs[0].Status != finding.Attested || fs[1].Status != finding.NotApplicable {
		t.Fatalf("got %s and %s", fs[0].Status, fs[1].Status)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"waivers:\n  - {rule: TLS-002, by: a, expires: 2027-01-01}\n", "missing reason"},
		{"attestations:\n  - {rule: LOG-003, by: a, expires: 2027-01-01}\n", "missing evidence"},
		{"waivers:\n  - {rule: TLS-002, reason: r, expires: 2027-01-01}\n", "missing by"},
		{"waivers:\n  - {rule: NOPE-001, reason: r, by: a, expires: 2027-01-01}\n", "unknown rule"},
		{"waivers:\n  - {rule: TLS-002, reason: r, by: a, expires: 31/12/2027}\n", "YYYY-MM-DD"},
		{"waivers:\n  - {rule: TLS-002, reason: r, by: a, expires: 2027-01-01, extra: 1}\n", `unknown key "extra"`},
		{"waivers: {rule: x}\n", "cannot unmarshal"},
	} {
		_, err := Parse(strings.NewReader(c.in), "w.yaml", func(id string) bool { return id != "NOPE-001" })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.in, err, c.want)
		}
	}
}

// Matching a waiver's target compiles nothing and allocates nothing (the
// pattern used to be turned into a regular expression and compiled on
// every match: for every entry, every finding).
func TestMatchesAllocatesNothing(t *testing.T) {
	e := Entry{Rule: "TLS-002", Target: "10.0.1.*"}
	if !e.Matches("TLS-002", "10.0.1.7") || e.Matches("TLS-002", "10.0.10.7") || e.Matches("TLS-003", "10.0.1.7") {
		t.Fatal("matches wrong")
	}
	if n := testing.AllocsPerRun(100, func() { e.Matches("TLS-002", "10.0.1.7") }); n != 0 {
		t.Errorf("%v allocations per match", n)
	}
}

// FuzzParse: an accepted file's entries each have a rule, who, why and an
// expiry; applying them turns only failures into waived and manual
// findings into attested, with the exception recorded, and leaves every
// other status as it was.
func FuzzParse(f *testing.F) {
	f.Add("waivers:\n  - {rule: TLS-002, reason: r, by: a, expires: 2027-01-01, target: \"10.*\"}\n")
	f.Add("attestations:\n  - rule: LOG-003\n    evidence: e\n    by: b\n    expires: 2030-12-31\n")
	f.Add("waivers: [")
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		file, err := Parse(strings.NewReader(s), "fuzz.yaml", func(string) bool { return true })
		if err != nil {
			return
		}
		for _, e := range append(slices.Clone(file.Waivers), file.Attestations...) {
			d, derr := time.Parse(time.DateOnly, e.Expires)
			if e.Rule == "" || strings.TrimSpace(e.By) == "" || strings.TrimSpace(e.Why()) == "" || derr != nil || !e.expires.Equal(d.AddDate(0, 0, 1)) {
				t.Fatalf("accepted an incomplete entry %+v", e)
			}
		}
		set := &Set{}
		set.Add(file)
		fs := []finding.Finding{
			{RuleID: "TLS-002", Target: "t", Status: finding.Fail},
			{RuleID: "LOG-003", Target: "t", Status: finding.Manual},
			{RuleID: "TLS-002", Target: "t", Status: finding.Pass},
			{RuleID: "TLS-002", Target: "t", Status: finding.Error},
		}
		set.Apply(fs, now)
		for i, allowed := range [][]finding.Status{{finding.Fail, finding.Waived}, {finding.Manual, finding.Attested}, {finding.Pass}, {finding.Error}} {
			if !slices.Contains(allowed, fs[i].Status) {
				t.Fatalf("finding %d became %s", i, fs[i].Status)
			}
		}
		for i, orig := range []finding.Status{finding.Fail, finding.Manual} {
			if fs[i].Status != orig && (fs[i].Exception == nil || fs[i].Exception.Expired || fs[i].Exception.Original != orig) {
				t.Fatalf("finding %d %s without its exception: %+v", i, fs[i].Status, fs[i].Exception)
			}
		}
	})
}
