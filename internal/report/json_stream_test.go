package report

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/rampart-sec/rampart/internal/finding"
)

// TestJSONStreamsSameBytes: the streamed rendering equals encoding the
// whole report at once, with and without findings, HTML characters kept.
func TestJSONStreamsSameBytes(t *testing.T) {
	mk := func(n int) *finding.Report {
		r := &finding.Report{SchemaVersion: finding.SchemaVersion, Tool: finding.Tool{Name: "rampart", Version: "t"},
			Targets: []finding.TargetInfo{{Name: `a "findings": [] <b>&`, Kind: "node", OpenPorts: []string{"22/ssh"}}}, Findings: []finding.Finding{}}
		for i := range n {
			r.Findings = append(r.Findings, finding.Finding{RuleID: "NET-001", Title: "t <&>", Target: "a", Status: finding.Fail,
				Severity: finding.High, Message: "m\n\"x\"", Checks: []string{"probe"},
				Evidence: []finding.Evidence{{Path: "ports.open", Value: `[{"port": 22}]`, Line: i}}, References: []string{}, Fingerprint: "f"})
		}
		r.Finalize()
		r.Interrupted = n == 2
		return r
	}
	for _, n := range []int{0, 1, 2, 50} {
		r := mk(n)
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := (JSON{}).Render(&got, r); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%d findings: streamed output differs\n got: %s\nwant: %s", n, got.String(), want.String())
		}
	}
}
