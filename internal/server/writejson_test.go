package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/textsafe"
)

// TestWriteJSONSameDocument: the compact answer is the document the
// indented one was (indenting it gives back the old bytes exactly), with
// direction-changing characters still made visible and HTML still
// escaped.
func TestWriteJSONSameDocument(t *testing.T) {
	fixed := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	recs := []store.Record{{
		Finding: finding.Finding{RuleID: "TLS-002", Title: "weak <ciphers> & more", Target: "https://gw-\u202etxt.exe:9443/",
			Status: finding.Fail, Severity: finding.High, Domain: "tls", Message: "line\nbreak \u2028 sep",
			Checks: []string{"a"}, Evidence: []finding.Evidence{{Source: "s", Line: 3, Path: "p", Value: "v\u200b"}},
			References: []string{"https://example.invalid/x"}, Fingerprint: "fp"},
		RunID: 7, FirstSeen: fixed.Add(-time.Hour), LastSeen: fixed, FixedAt: &fixed,
	}}
	v := map[string]any{"findings": recs, "limit": 100, "offset": 0, "next_after": "WyJhIl0"}
	rec := httptest.NewRecorder()
	writeJSON(rec, http.StatusOK, v)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	got := rec.Body.Bytes()
	// What writeJSON wrote before: an Encoder indenting by two spaces.
	var old bytes.Buffer
	enc := json.NewEncoder(&old)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	want := textsafe.NeutralizeBytes(old.Bytes())
	var indented bytes.Buffer
	if err := json.Indent(&indented, got, "", "  "); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, got)
	}
	if !bytes.Equal(indented.Bytes(), want) {
		t.Errorf("indented answer differs from the old one:\n%s\nwant\n%s", indented.Bytes(), want)
	}
	if bytes.Contains(got, []byte("\u202e")) || !bytes.Contains(got, []byte("[U+202E]")) || !bytes.Contains(got, []byte("[U+200B]")) {
		t.Errorf("direction-changing characters not neutralised: %s", got)
	}
	if bytes.Contains(got, []byte("<ciphers>")) {
		t.Errorf("HTML not escaped: %s", got)
	}
	if bytes.Count(got, []byte("\n")) != 1 || got[len(got)-1] != '\n' {
		t.Errorf("not one compact line: %q", got)
	}
}
