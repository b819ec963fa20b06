package bus

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/zone"
)

func TestJobIDs(t *testing.T) {
	id := JobID(42, "dmz", 7)
	r, z, i, err := ParseJobID(id)
	if err != nil || r != 42 || z != "dmz" || i != 7 {
		t.Fatalf("%s: %d %s %d %v", id, r, z, i, err)
	}
	for _, bad := range []string{"", "1.dmz", "0.dmz.1", "1.DMZ.1", "1.dmz.-1", "x.dmz.1", "1.dmz.1.2", "1..1"} {
		if _, _, _, err := ParseJobID(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func validJob() Job {
	return Job{V: MessageVersion, ID: JobID(3, "dmz", 1), Round: 3, Zone: "dmz", Index: 1, Schedule: "nightly",
		Target: target.Target{Name: "gw", Kind: target.Node, Host: "10.0.0.1", Decl: target.Declared{Ports: "22,443"}},
		Scan:   ScanOptions{Timeout: time.Minute}, MaxAttempts: 3, IssuedAt: time.Unix(1, 0).UTC(), ExpiresAt: time.Unix(100, 0).UTC()}
}

func TestJobRoundTrip(t *testing.T) {
	j := validJob()
	b, err := Encode(j)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeJob(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Target.Host != "10.0.0.1" || got.Target.Decl.Ports != "22,443" || got.Scan.Timeout != time.Minute {
		t.Errorf("round trip: %+v", got)
	}
	for name, mut := range map[string]func(*Job){
		"zone mismatch":  func(j *Job) { j.Zone = "corp" },
		"directory":      func(j *Job) { j.Target.Kind = target.Directory },
		"no host":        func(j *Job) { j.Target.Host = "" },
		"bad ports":      func(j *Job) { j.Target.Decl.Ports = "0-9" },
		"no timeout":     func(j *Job) { j.Scan.Timeout = 0 },
		"attempts":       func(j *Job) { j.MaxAttempts = 0 },
		"future version": func(j *Job) { j.V = 2 },
	} {
		j := validJob()
		mut(&j)
		if err := j.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func validResult() Result {
	return Result{V: MessageVersion, Job: JobID(3, "dmz", 1), Zone: "dmz", Agent: "dmz-1", Target: "gw",
		Report: &finding.Report{Targets: []finding.TargetInfo{{Name: "gw"}, {Name: "gw:443"}},
			Findings: []finding.Finding{{RuleID: "NET-001", Target: "gw", Status: finding.Pass, Severity: finding.Medium}}},
		Observation: &zone.Observation{Scanned: []int{22, 443}, Open: []zone.OpenPort{{Port: 443, Service: "https"}}}}
}

func TestDecodeResult(t *testing.T) {
	b, _ := Encode(validResult())
	if _, err := DecodeResult(b); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Result){
		"zone differs from job": func(r *Result) { r.Zone = "corp" },
		"no report nor error":   func(r *Result) { r.Report = nil },
		"zoned target name":     func(r *Result) { r.Report.Targets[0].Name = "gw@corp" },
		"finding off report":    func(r *Result) { r.Report.Findings[0].Target = "elsewhere" },
		"bad status":            func(r *Result) { r.Report.Findings[0].Status = "great" },
		"bad observation":       func(r *Result) { r.Observation.Scanned = []int{0} },
		"bad agent":             func(r *Result) { r.Agent = "Dmz 1" },
	} {
		r := validResult()
		mut(&r)
		b, _ := Encode(r)
		if _, err := DecodeResult(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, tail := range []string{" {}", "}", "\n]"} { // "}" and "]" passed json.Decoder.More
		if _, err := DecodeResult(append(b, tail...)); err == nil || !strings.Contains(err.Error(), "trailing") {
			t.Errorf("trailing %q: %v", tail, err)
		}
	}
	e := Result{V: MessageVersion, Job: JobID(3, "dmz", 1), Zone: "dmz", Agent: "dmz-1", Target: "gw", Error: "no route to host"}
	b, _ = Encode(e)
	if _, err := DecodeResult(b); err != nil {
		t.Errorf("error result: %v", err)
	}
}

func TestCompressedResults(t *testing.T) {
	r := validResult()
	for i := 0; i < 50; i++ {
		r.Report.Findings = append(r.Report.Findings, r.Report.Findings[0])
	}
	plain, _ := Encode(r)
	packed, err := EncodeResult(&r)
	if err != nil {
		t.Fatal(err)
	}
	if len(packed)*3 > len(plain) {
		t.Errorf("compressed %d of %d bytes", len(packed), len(plain))
	}
	got, err := DecodeResult(packed)
	if err != nil || len(got.Report.Findings) != 51 {
		t.Fatalf("%v %+v", err, got)
	}
	// A bomb: a header claiming a huge decoded size is refused before
	// anything is allocated.
	bomb := append([]byte(compressedPrefix), 0xff, 0xff, 0xff, 0xff, 0x0f)
	if _, err := DecodeResult(bomb); err == nil {
		t.Error("accepted a compressed bomb")
	}
}

func TestSubjectIdentity(t *testing.T) {
	if z, a, ok := SubjectIdentity(ResultSubject("dmz", "dmz-1")); !ok || z != "dmz" || a != "dmz-1" {
		t.Errorf("%s %s %v", z, a, ok)
	}
	for _, bad := range []string{"rampart.results.dmz", "other.results.dmz.a", "rampart.results.dmz.a.b", "rampart.results..a"} {
		if _, _, ok := SubjectIdentity(bad); ok {
			t.Errorf("%s accepted", bad)
		}
	}
}

func FuzzDecodeResult(f *testing.F) {
	b, _ := Encode(validResult())
	f.Add(b)
	f.Add([]byte(`{"v":1,"job":"1.dmz.0","zone":"dmz","agent":"a","target":"t","error":"x"}`))
	packed, _ := EncodeResult(&Result{V: 1, Job: "1.dmz.0", Zone: "dmz", Agent: "a", Target: "t", Error: "x"})
	f.Add(packed)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSameDecode(t, data)
		r, err := DecodeResult(data)
		if err == nil && r.Error == "" && (r.Report == nil || r.Observation == nil) {
			t.Fatal("accepted a result with nothing in it")
		}
	})
}

func FuzzDecodeJob(f *testing.F) {
	b, _ := Encode(validJob())
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSameDecode(t, data)
		if j, err := DecodeJob(data); err == nil && j.Validate() != nil {
			t.Fatal("decoded an invalid job")
		}
	})
}

// FuzzDecodeOthers: a heartbeat, failure or dead letter accepted is one
// JSON document, and encoded again it decodes to the same message.
func FuzzDecodeOthers(f *testing.F) {
	f.Add([]byte(`{"v":1,"agent":"a","zone":"dmz","busy":1}`))
	f.Add([]byte(`{"v":1,"job":"1.dmz.0","agent":"a","zone":"dmz","error":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSameDecode(t, data)
		if h, err := DecodeHeartbeat(data); err == nil {
			roundTrip(t, data, h, func(b []byte) (any, error) { return DecodeHeartbeat(b) })
		}
		if m, err := DecodeFailure(data); err == nil {
			roundTrip(t, data, m, func(b []byte) (any, error) { return DecodeFailure(b) })
		}
		if d, err := DecodeDeadLetter(data); err == nil {
			roundTrip(t, data, d, func(b []byte) (any, error) { return DecodeDeadLetter(b) })
		}
	})
}

func roundTrip(t *testing.T, data []byte, m any, decode func([]byte) (any, error)) {
	t.Helper()
	if !json.Valid(data) {
		t.Fatalf("accepted %q, not one JSON document", data)
	}
	b, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	again, err := decode(b)
	if err != nil || !reflect.DeepEqual(again, m) {
		t.Fatalf("%+v encoded as %s decodes as %+v (%v)", m, b, again, err)
	}
}
