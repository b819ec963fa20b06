package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/finding"
)

func TestFleetSummary(t *testing.T) {
	r := &finding.Report{SchemaVersion: finding.SchemaVersion, Targets: []finding.TargetInfo{
		{Name: "n1", Kind: "node", OpenPorts: []string{"22/ssh", "9443/https"}},
		{Name: "n2", Kind: "node", OpenPorts: []string{"9443/https", "9999/jmx"}, Errors: []string{"ports: timed out"}},
		{Name: "n1:9443", Kind: "endpoint", Parent: "n1"},
		{Name: "n2:9443", Kind: "endpoint", Parent: "n2"},
	}, Findings: []finding.Finding{
		{RuleID: "NET-003", Target: "n2", Status: finding.Fail, Severity: finding.High},
		{RuleID: "HTTP-002", Target: "n1:9443", Status: finding.Fail, Severity: finding.Low},
		{RuleID: "HTTP-002", Target: "n2:9443", Status: finding.Fail, Severity: finding.Low},
		{RuleID: "TLS-001", Target: "n2:9443", Status: finding.Pass, Severity: finding.High},
	}}
	r.Finalize()
	var out bytes.Buffer
	if err := (Text{}).Render(&out, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Fleet: 4 targets (endpoint 2, node 2); 3 with failing findings, 1 with collector errors",
		"failing on the most targets: HTTP-002 2, NET-003 1",
		"open ports on 2 node(s): 9443/https 2, 22/ssh 1, 9999/jmx 1",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in:\n%s", want, out.String())
		}
	}
	r.Targets = r.Targets[:2]
	out.Reset()
	_ = (Text{}).Render(&out, r)
	if strings.Contains(out.String(), "Fleet:") {
		t.Error("fleet summary for two targets")
	}
}
