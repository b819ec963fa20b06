package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

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

// member reads json tags as encoding/json does, and refuses the options
// the streaming renderer would write differently.
func TestJSONMemberTags(t *testing.T) {
	type inner struct{ A int }
	type sample struct {
		Plain    string
		Named    string `json:"named"`
		Skipped  string `json:"-"`
		Empty    []int  `json:"empty,omitempty"`
		Zero     inner  `json:"zero,omitzero"`
		AsString int    `json:"n,string"`
		//lint:ignore U1000 an unexported field, which member must skip
		unexported int
		inner
	}
	typ := reflect.TypeFor[sample]()
	for i, want := range []struct {
		name       string
		ok, failed bool
	}{{"Plain", true, false}, {"named", true, false}, {"", false, false}, {"empty", true, false}, {"zero", true, false}, {"", false, true}, {"", false, false}, {"", false, true}} {
		name, _, ok, err := member(typ.Field(i))
		if name != want.name || ok != want.ok || (err != nil) != want.failed {
			t.Errorf("field %s: %q %v %v", typ.Field(i).Name, name, ok, err)
		}
	}
	_, omit, _, _ := member(typ.Field(3))
	if !omit(reflect.ValueOf([]int{})) || omit(reflect.ValueOf([]int{1})) {
		t.Error("omitempty")
	}
	_, omit, _, _ = member(typ.Field(4))
	if !omit(reflect.ValueOf(inner{})) || omit(reflect.ValueOf(inner{A: 1})) {
		t.Error("omitzero")
	}
}

// FuzzJSONRender: whatever the strings in a report, the streamed output is
// byte for byte encoding/json's, and it decodes back to the same report
// (for valid UTF-8).
func FuzzJSONRender(f *testing.F) {
	f.Add("gw", "a \"findings\": [] <b>&\n", "ports.open", uint8(3), true)
	f.Add("", "", "", uint8(0), false)
	f.Fuzz(func(t *testing.T, target, text, path string, n uint8, interrupted bool) {
		r := &finding.Report{SchemaVersion: finding.SchemaVersion, Tool: finding.Tool{Name: "rampart", Version: text},
			StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), FinishedAt: time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC),
			Targets: []finding.TargetInfo{{Name: target, Kind: "node", Profiles: []string{text}}}, Findings: []finding.Finding{}, Interrupted: interrupted}
		for i := range int(n % 8) {
			r.Findings = append(r.Findings, finding.Finding{RuleID: "NET-001", Title: text, Target: target, Status: finding.Fail,
				Severity: finding.High, Message: text, Checks: []string{path},
				Evidence: []finding.Evidence{{Path: path, Value: text, Line: i}}, References: []string{}, Fingerprint: "f"})
		}
		r.Finalize()
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			return // not encodable at all
		}
		var got bytes.Buffer
		if err := (JSON{}).Render(&got, r); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("streamed output differs\n got: %s\nwant: %s", got.String(), want.String())
		}
		var back finding.Report
		if err := json.Unmarshal(got.Bytes(), &back); err != nil {
			t.Fatalf("output does not decode: %v", err)
		}
		if !utf8.ValidString(target) || !utf8.ValidString(text) || !utf8.ValidString(path) {
			return // encoding/json writes invalid UTF-8 as U+FFFD: no round trip
		}
		again, _ := json.Marshal(&back)
		orig, _ := json.Marshal(r)
		if !bytes.Equal(again, orig) {
			t.Fatalf("decoded report differs:\n%s\n%s", again, orig)
		}
	})
}

// TestJSONSpilledSameBytes: a report whose findings wait in a spill
// (a fleet scan's) renders byte for byte as the same report held in
// memory, targets added in any order.
func TestJSONSpilledSameBytes(t *testing.T) {
	for _, n := range []int{0, 1, 7} {
		var targets []finding.TargetInfo
		var per [][]finding.Finding
		for ti := range 5 {
			name := string(rune('e'-ti)) + ` <&> "x"`
			targets = append(targets, finding.TargetInfo{Name: name, Kind: "endpoint", Profiles: []string{}})
			var fs []finding.Finding
			for i := range n {
				fs = append(fs, finding.Finding{RuleID: []string{"TLS-002", "NET-001"}[i%2], Title: "t <&>", Target: name, Status: finding.Statuses()[i%5],
					Severity: finding.Severities()[i%5], Message: "m\n\"x\"", Checks: []string{"probe"},
					Evidence: []finding.Evidence{{Path: "ports.open", Value: `[{"port": 22}]`, Line: i}}, Fingerprint: string(rune('z' - i)),
					Exception: map[bool]*finding.Exception{true: {Kind: "waiver", Reason: "r", Original: finding.Fail}}[i == 3]})
			}
			per = append(per, fs)
		}
		mk := func() *finding.Report {
			return &finding.Report{SchemaVersion: finding.SchemaVersion, Tool: finding.Tool{Name: "rampart", Version: "t"},
				Targets: append([]finding.TargetInfo(nil), targets...), Findings: []finding.Finding{}}
		}
		mem := mk()
		for _, fs := range per {
			mem.Findings = append(mem.Findings, fs...)
		}
		mem.Finalize()
		sp, err := finding.NewSpill(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		spilled := mk()
		spilled.Spilled = sp
		for i := len(per) - 1; i >= 0; i-- {
			if err := sp.Add(append([]finding.Finding(nil), per[i]...)); err != nil {
				t.Fatal(err)
			}
		}
		spilled.Finalize()
		var want, got bytes.Buffer
		if err := (JSON{}).Render(&want, mem); err != nil {
			t.Fatal(err)
		}
		if err := (JSON{}).Render(&got, spilled); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%d findings a target: spilled output differs\n got: %s\nwant: %s", n, got.String(), want.String())
		}
		if spilled.Err() != nil || spilled.Close() != nil {
			t.Error("spill failed")
		}
	}
}
