package report_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/report"
)

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestTextFitsWidth: no line of the text or table formats is wider than
// the width asked for, in colour or not, verbose or not.
func TestTextFitsWidth(t *testing.T) {
	r := sampleReport(t)
	for _, format := range []string{"text", "table"} {
		for _, width := range []int{40, 80, 120, 160} {
			for _, opt := range []report.Options{{Width: width}, {Width: width, Color: true}, {Width: width, Verbose: true}} {
				out := string(render(t, format, opt, r))
				for i, line := range strings.Split(out, "\n") {
					if n := utf8.RuneCountInString(ansi.ReplaceAllString(line, "")); n > width {
						t.Errorf("%s %+v: line %d is %d wide:\n%s", format, opt, i+1, n, line)
					}
				}
			}
		}
	}
}

// fleetReport is one deployment of n endpoints sharing a manual rule and a
// failure with a long evidence list.
func fleetReport(n int) *finding.Report {
	r := &finding.Report{SchemaVersion: finding.SchemaVersion, Tool: finding.Tool{Name: "rampart", Version: "test"}}
	for i := range n {
		name := fmt.Sprintf("10.0.1.%d:9443", i+1)
		r.Targets = append(r.Targets, finding.TargetInfo{Name: name, Kind: "endpoint"})
		var ev []finding.Evidence
		var suites []string
		for s := range 44 {
			suite := fmt.Sprintf("TLS_RSA_WITH_SUITE_%02d", s)
			suites = append(suites, suite)
			ev = append(ev, finding.Evidence{Path: "tls.suites", Value: "TLSv1.2 " + suite})
		}
		r.Findings = append(r.Findings,
			finding.Finding{RuleID: "LOG-003", Title: "Proxy logs are kept", Target: name, Status: finding.Manual, Severity: finding.Medium,
				Message: "Attest that proxy logs are kept."},
			finding.Finding{RuleID: "TLS-005", Title: "Forward secrecy", Target: name, Status: finding.Fail, Severity: finding.Medium,
				Message: "44 suites without forward secrecy: " + strings.Join(suites, ", "), Evidence: ev, Remediation: "Offer ECDHE only."},
			finding.Finding{RuleID: "TLS-001", Title: "No SSLv3", Target: name, Status: finding.Pass, Severity: finding.Critical},
		)
	}
	r.Finalize()
	return r
}

// TestTextGroupsAndSummarises: a manual rule of 120 endpoints is listed
// once with its target count, a long list ends in "+N more; -v for all",
// and -v lists everything.
func TestTextGroupsAndSummarises(t *testing.T) {
	r := fleetReport(120)
	out := string(render(t, "text", report.Options{Width: 100}, r))
	flat := strings.Join(strings.Fields(out), " ") // lines joined: wrapping aside
	if n := strings.Count(out, "LOG-003"); n != 1 {
		t.Errorf("LOG-003 shown %d times, want once", n)
	}
	for _, want := range []string{
		"on 120 targets: 10.0.1.100:9443, 10.0.1.101:9443, 10.0.1.102:9443, +117 more; -v for all",
		"44 suites without forward secrecy: TLS_RSA_WITH_SUITE_00, TLS_RSA_WITH_SUITE_01,",
		"more; -v for all",
		"evidence: tls.suites: +41 more; -v for all",
		"1 manual (listed once below); 1 passed, 0 not applicable (-v to list them)",
		"the 20 lowest of 120 targets; average 71; -v for all",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if strings.Contains(out, "TLS_RSA_WITH_SUITE_43") {
		t.Error("the whole suite list is shown without -v")
	}
	verbose := string(render(t, "text", report.Options{Width: 100, Verbose: true}, r))
	if !strings.Contains(verbose, "TLS_RSA_WITH_SUITE_43") || !strings.Contains(verbose, "10.0.1.120:9443") || strings.Contains(verbose, "-v for all") {
		t.Error("-v does not list everything")
	}
	quiet := string(render(t, "text", report.Options{Width: 100, Quiet: true}, r))
	if strings.Contains(quiet, "FAIL ") || strings.Contains(quiet, "evidence:") || !strings.Contains(quiet, "Summary:") || !strings.Contains(quiet, "Scores") {
		t.Errorf("--quiet is not the summary only:\n%s", quiet)
	}
}

// TestTextColours: statuses and severities are coloured, and so are the
// counts of the summary.
func TestTextColours(t *testing.T) {
	out := string(render(t, "text", report.Options{Color: true}, sampleReport(t)))
	for _, want := range []string{
		"\x1b[31mFAIL", "\x1b[33mERROR", "\x1b[31mhigh", "\x1b[33mmedium", "\x1b[31m5 high\x1b[0m", "\x1b[1m/opt/wso2am-4.1.0\x1b[0m",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the coloured text", want)
		}
	}
	table := string(render(t, "table", report.Options{Color: true}, sampleReport(t)))
	if !strings.Contains(table, "\x1b[31mhigh") {
		t.Error("table severities are not coloured")
	}
}

// TestSeverityFilter: --severity keeps the findings of those severities
// (summary recomputed) and the scores of the whole scan.
func TestSeverityFilter(t *testing.T) {
	r := sampleReport(t)
	f := r.OnlySeverities([]finding.Severity{finding.High, finding.Critical})
	for _, x := range f.Findings {
		if x.Severity < finding.High {
			t.Fatalf("%s (%s) kept", x.RuleID, x.Severity)
		}
	}
	if f.Summary.Total != len(f.Findings) || f.Summary.BySeverity["medium"] != 0 || len(r.Findings) <= len(f.Findings) {
		t.Fatalf("summary %+v of %d findings", f.Summary, len(f.Findings))
	}
	if f.Targets[0].Score == nil || *f.Targets[0].Score != *r.Targets[0].Score {
		t.Fatal("the filter changed a score")
	}
	if r.OnlySeverities(nil) != r {
		t.Fatal("no filter should be the report itself")
	}
}
