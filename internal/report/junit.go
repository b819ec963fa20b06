package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/rampart-sec/rampart/internal/finding"
)

// JUnit writes one testsuite per target and one testcase per rule, so CI
// systems that read JUnit XML show each guideline as a test.
type JUnit struct{}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// Render implements Renderer.
func (JUnit) Render(w io.Writer, r *finding.Report) error {
	out := junitSuites{Name: r.Tool.Name}
	targets, groups := byTarget(r)
	for _, ti := range targets {
		s := junitSuite{Name: ti.Name}
		if !r.StartedAt.IsZero() {
			s.Timestamp = r.StartedAt.UTC().Format("2006-01-02T15:04:05")
		}
		for _, f := range groups[ti.Name] {
			tc := junitCase{Name: f.RuleID + " " + f.Title, Classname: "rampart." + f.Domain}
			switch f.Status {
			case finding.Fail:
				tc.Failure = &junitProblem{Message: f.Message, Type: f.Severity.String(), Text: details(f)}
				s.Failures++
			case finding.Error:
				tc.Error = &junitProblem{Message: f.Message, Type: "error", Text: details(f)}
				s.Errors++
			case finding.NotApplicable, finding.Manual, finding.Waived, finding.Attested:
				tc.Skipped = &junitSkipped{Message: string(f.Status) + ": " + f.Message}
				s.Skipped++
			}
			s.Cases = append(s.Cases, tc)
			s.Tests++
		}
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Skipped += s.Skipped
		out.Suites = append(out.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// details renders a finding's evidence and fix as plain text.
func details(f finding.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s\n", f.RuleID, f.Severity, f.Message)
	for _, e := range f.Evidence {
		loc := e.Location()
		if loc != "" {
			loc += " "
		}
		fmt.Fprintf(&b, "evidence: %s%s = %s\n", loc, e.Path, e.Value)
	}
	if f.Remediation != "" {
		fmt.Fprintf(&b, "fix: %s\n", f.Remediation)
	}
	return b.String()
}
