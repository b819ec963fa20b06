package bus

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/zone"
)

// benchResult is an agent's result as serve receives it: the report of a
// real scan (testdata/report-endpoint.json: `rampart scan
// http://127.0.0.1:18437/ --role dmz -f json` of a plain HTTP listener,
// one target and 69 findings of ~720 bytes of JSON each: 61
// not_applicable, 6 manual, 1 fail, 1 pass; remediations average 274
// characters, messages 60), the observation of the endpoint's zone (the
// ports its expectations name, one open, a few paths probed), compressed
// by EncodeResult as agents publish it.
func benchResult(tb testing.TB) (*Result, []byte) {
	tb.Helper()
	raw, err := os.ReadFile("testdata/report-endpoint.json")
	if err != nil {
		tb.Fatal(err)
	}
	var rep finding.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		tb.Fatal(err)
	}
	if len(rep.Targets) != 1 || len(rep.Findings) != 69 {
		tb.Fatalf("report of %d targets, %d findings", len(rep.Targets), len(rep.Findings))
	}
	t := target.Target{Name: rep.Targets[0].Name, Kind: target.Endpoint, Host: "127.0.0.1", Port: 18437,
		Decl: target.Declared{Role: "dmz"}}
	obs := &zone.Observation{Source: "10.20.0.5", Address: "127.0.0.1", Scanned: zone.ProbePorts(t),
		Open: []zone.OpenPort{{Port: 18437, Service: "http"}},
		Paths: []zone.PathSeen{
			{Port: 18437, Path: "/carbon/admin/login.jsp", Category: "admin-console", Status: 404},
			{Port: 18437, Path: "/console", Category: "admin-console", Status: 404},
			{Port: 18437, Path: "/management", Category: "management-api", Status: 404},
			{Port: 18437, Path: "/publisher", Category: "admin-console", Status: 404},
		}}
	start := time.Date(2026, 12, 3, 9, 15, 23, 659958601, time.UTC)
	r := &Result{V: MessageVersion, Job: JobID(1764753323, "dmz", 4711), Zone: "dmz", Agent: "dmz-1",
		Version: "0.1.0-dev", Target: t.Name, StartedAt: start, FinishedAt: start.Add(35 * time.Millisecond),
		Report: &rep, Observation: obs}
	b, err := EncodeResult(r)
	if err != nil {
		tb.Fatal(err)
	}
	return r, b
}

// BenchmarkDecodeResult decodes one agent result as serve does for each
// message (S2, JSON, validation).
func BenchmarkDecodeResult(b *testing.B) {
	_, data := benchResult(b)
	plain, err := uncompress(data)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeResult(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data)), "wire-bytes")
	b.ReportMetric(float64(len(plain)), "json-bytes")
}
