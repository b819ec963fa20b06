package diff

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/finding"
)

func mkReport(role string, targets []finding.TargetInfo, fs ...finding.Finding) *finding.Report {
	for i := range targets {
		targets[i].Role = role
	}
	r := &finding.Report{SchemaVersion: finding.SchemaVersion, Targets: targets, Findings: fs}
	r.Finalize()
	return r
}

func fnd(target, rule string, st finding.Status, msg string) finding.Finding {
	return finding.Finding{RuleID: rule, Title: rule + " title", Target: target, Status: st, Severity: finding.High, Message: msg}
}

func TestCompareZones(t *testing.T) {
	dmz := mkReport("dmz",
		[]finding.TargetInfo{{Name: "node1", Kind: "node", OpenPorts: []string{"443/https", "8080/http"}}},
		fnd("node1", "NET-003", finding.Pass, ""),
		fnd("node1", "NET-001", finding.Pass, ""),
	)
	internal := mkReport("internal",
		[]finding.TargetInfo{
			{Name: "node1", Kind: "node", OpenPorts: []string{"443/https", "8080/tls", "9999/jmx"}},
			{Name: "node1:9443", Kind: "endpoint", Parent: "node1"},
		},
		fnd("node1", "NET-003", finding.Fail, "JMX/RMI reachable from the internal zone: 9999/jmx"),
		fnd("node1", "NET-001", finding.Pass, "other message"),
		fnd("node1:9443", "TLS-001", finding.Pass, ""),
	)
	res := Compare(dmz, internal, "dmz.json", "internal.json")
	if res.Identical {
		t.Fatal("identical")
	}
	if len(res.Targets) != 2 {
		t.Fatalf("targets %+v", res.Targets)
	}
	n := res.Targets[0]
	if n.Name != "node1" || len(n.PortsOnlyA) != 0 || strings.Join(n.PortsOnlyB, ",") != "9999/jmx" || strings.Join(n.PortsChanged, ",") != "8080: http / tls" {
		t.Errorf("node1 ports: %+v", n)
	}
	if len(n.Findings) != 1 || n.Findings[0].Rule != "NET-003" || n.Findings[0].A.Status != finding.Pass || n.Findings[0].B.Status != finding.Fail {
		t.Errorf("node1 findings: %+v (a message change alone is no difference)", n.Findings)
	}
	if e := res.Targets[1]; e.Name != "node1:9443" || e.Only != "b" || len(e.Findings) != 1 || e.Findings[0].A != nil {
		t.Errorf("endpoint: %+v", e)
	}
	if res.A.Label() != "dmz.json (dmz)" || res.B.Label() != "internal.json (internal)" {
		t.Errorf("labels %q %q", res.A.Label(), res.B.Label())
	}
	want := Summary{Targets: 2, OnlyA: 0, OnlyB: 1, Ports: 2, Findings: 2}
	if res.Summary != want {
		t.Errorf("summary %+v, want %+v", res.Summary, want)
	}

	var text bytes.Buffer
	if err := Render(&text, res, "text"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"open only from B: 9999/jmx", "NET-003", "A pass, B fail", "B: JMX/RMI reachable", "only in B", "2 target(s) differ"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, text.String())
		}
	}
	var js bytes.Buffer
	if err := Render(&js, res, "json"); err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Summary != want || back.Identical {
		t.Errorf("json round trip: %v %+v", err, back.Summary)
	}
	if err := Render(&js, res, "yaml"); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestCompareIdentical(t *testing.T) {
	mk := func() *finding.Report {
		return mkReport("internal", []finding.TargetInfo{{Name: "n", Kind: "node", OpenPorts: []string{"22/ssh"}}}, fnd("n", "NET-001", finding.Manual, ""))
	}
	res := Compare(mk(), mk(), "a", "b")
	if !res.Identical || len(res.Targets) != 0 {
		t.Fatalf("%+v", res)
	}
	var text bytes.Buffer
	_ = Render(&text, res, "text")
	if !strings.Contains(text.String(), "identical") {
		t.Error(text.String())
	}
}

func TestReadRejects(t *testing.T) {
	good, _ := json.Marshal(mkReport("dmz", []finding.TargetInfo{{Name: "n"}}))
	if _, err := Read(bytes.NewReader(good), "good"); err != nil {
		t.Fatalf("good report: %v", err)
	}
	for name, in := range map[string]string{
		"empty":    "",
		"garbage":  "\x00\x01 not json",
		"facts":    `{"target": {"name": "x"}, "ports": {}}`,
		"array":    `[1, 2]`,
		"future":   `{"schemaVersion": "2.0.0", "targets": []}`,
		"trailing": string(good) + `{"schemaVersion": "1.0.0"}`,
		// json.Decoder.More said nothing follows a "}" or "]": these passed.
		"trailing }": string(good) + "}",
		"trailing ]": string(good) + "\n]",
		"no name":    `{"schemaVersion": "1.0.0", "targets": [{"kind": "node"}]}`,
		"bad status": `{"schemaVersion": "1.0.0", "findings": [{"severity": "extreme"}]}`,
	} {
		if _, err := Read(strings.NewReader(in), name); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzRead: any input is a report or a clear error, never a panic; a
// report read back compares identical with itself.
func FuzzRead(f *testing.F) {
	good, _ := json.Marshal(mkReport("dmz", []finding.TargetInfo{{Name: "n", OpenPorts: []string{"1/x"}}}, fnd("n", "NET-001", finding.Fail, "m")))
	f.Add(good)
	f.Add([]byte(`{"schemaVersion": "1.0.0", "targets": [{"name": "a", "openPorts": ["9999/jmx", "/", "x/y/z"]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Read(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("read %q, not one JSON document", data)
		}
		res := Compare(r, r, "a", "b")
		if !res.Identical {
			t.Fatalf("a report differs from itself: %+v", res.Targets)
		}
		_ = Render(&bytes.Buffer{}, res, "text")
	})
}
