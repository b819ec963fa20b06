package server

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
)

// An uploaded finding carrying another target's fingerprint is stored as
// its own target's finding and leaves the other target's finding as it
// was (the store keys a finding by target and fingerprint), on both
// stores; the answer says nothing of the other target.
func TestUploadForeignFingerprintIsItsTargets(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testUploadForeignFingerprint(t, "") })
	t.Run("postgres", func(t *testing.T) { testUploadForeignFingerprint(t, postgresDSN(t)) })
}

func testUploadForeignFingerprint(t *testing.T, dsn string) {
	extra := ""
	if dsn != "" {
		extra = "storage: \"" + dsn + "\"\n"
	}
	ts := startServer(t, extra)
	tok := ts.signUp(t)
	bearer := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
	at := time.Now().UTC().Truncate(time.Second)
	a := fnd("secret-gw.internal", "TLS-001", finding.Fail, finding.High)
	if resp, body := ts.do(t, "POST", "/api/v1/runs", bytes.NewReader(uploadReport(at, a)), bearer); resp.StatusCode != 201 {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	forged := fnd("web-1", "TLS-001", finding.Pass, finding.High)
	forged.Fingerprint = a.Fingerprint
	resp, body := ts.do(t, "POST", "/api/v1/runs", bytes.NewReader(uploadReport(at.Add(time.Second), forged)), bearer)
	if resp.StatusCode != 201 || strings.Contains(body, "secret-gw") {
		t.Fatalf("forged fingerprint: %d %s; want 201 naming no other target", resp.StatusCode, body)
	}
	_, fails := ts.do(t, "GET", "/api/v1/findings?status=fail", nil, bearer)
	if !strings.Contains(fails, "secret-gw.internal") || strings.Contains(fails, "web-1") {
		t.Fatalf("failing findings after the upload: %s; want secret-gw's still failing", fails)
	}
	_, passes := ts.do(t, "GET", "/api/v1/findings?status=pass", nil, bearer)
	if !strings.Contains(passes, "web-1") || strings.Contains(passes, "secret-gw") {
		t.Fatalf("passing findings after the upload: %s; want web-1's", passes)
	}
}
