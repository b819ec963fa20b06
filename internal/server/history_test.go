package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/store"
)

// Lists are paged and capped, the dashboard's filters live in the URL,
// filtered views and the audit log export to CSV and JSON, comparing
// works with a single run, and retention applies to uploads.
func TestHistoryViewsAndExports(t *testing.T) {
	clk := &clock{now: time.Now().UTC().Truncate(time.Second)}
	ts := startServer(t, "retention: 720h\n", func(o *Options) { o.Now = clk.Now })
	tok := ts.signUp(t)
	bearer := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
	up := func(fs ...finding.Finding) {
		t.Helper()
		if resp, body := ts.do(t, "POST", "/api/v1/runs", bytes.NewReader(uploadReport(clk.Now(), fs...)), bearer); resp.StatusCode != 201 {
			t.Fatalf("upload: %d %s", resp.StatusCode, body)
		}
	}
	var fs []finding.Finding
	for i := range 150 {
		fs = append(fs, fnd(fmt.Sprintf("gw-%03d", i), "TLS-001", finding.Fail, finding.High))
	}
	evil := fnd("=HYPERLINK(\"http://x\")", "TLS-002", finding.Fail, finding.Critical)
	up(append(fs, evil)...)

	// Compare with one run: everything failing is new.
	for _, p := range []string{"/diff", "/diff?b=1"} {
		if resp, body := ts.do(t, "GET", p, nil, nil); resp.StatusCode != 200 || !strings.Contains(body, "nothing (no earlier run") {
			t.Errorf("GET %s with one run: %d", p, resp.StatusCode)
		}
	}
	var d RunDiff
	if resp, body := ts.do(t, "GET", "/api/v1/diff?b=1", nil, bearer); resp.StatusCode != 200 || json.Unmarshal([]byte(body), &d) != nil || len(d.NewFailures) != 151 {
		t.Errorf("/api/v1/diff?b=1: %d, %d new failures", resp.StatusCode, len(d.NewFailures))
	}

	// Limits.
	for _, q := range []string{"limit=0", "limit=1001", "limit=abc", "offset=-1", "sort=nonsense"} {
		if resp, _ := ts.do(t, "GET", "/api/v1/findings?"+q, nil, bearer); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("/api/v1/findings?%s: %d; want 400", q, resp.StatusCode)
		}
	}
	var page struct {
		Findings   []store.Record `json:"findings"`
		Total      int            `json:"total"`
		NextOffset *int           `json:"next_offset"`
	}
	_, body := ts.do(t, "GET", "/api/v1/findings?status=fail", nil, bearer)
	if err := json.Unmarshal([]byte(body), &page); err != nil || len(page.Findings) != DefaultLimit || page.Total != 151 || page.NextOffset == nil || *page.NextOffset != 100 {
		t.Errorf("first page: %d findings, total %d, next %v (%v)", len(page.Findings), page.Total, page.NextOffset, err)
	}
	page.NextOffset = nil
	_, body = ts.do(t, "GET", "/api/v1/findings?status=fail&offset=100", nil, bearer)
	if err := json.Unmarshal([]byte(body), &page); err != nil || len(page.Findings) != 51 || page.NextOffset != nil {
		t.Errorf("last page: %d findings, next %v", len(page.Findings), page.NextOffset)
	}
	_, body = ts.do(t, "GET", "/api/v1/targets?limit=10&q=gw-01", nil, bearer)
	var tl struct {
		Targets []store.TargetState `json:"targets"`
		Total   int                 `json:"total"`
	}
	if err := json.Unmarshal([]byte(body), &tl); err != nil || len(tl.Targets) != 10 || tl.Total != 10 {
		t.Errorf("targets matching gw-01: %d of %d", len(tl.Targets), tl.Total)
	}

	// The findings page: filters in the URL, pages that keep them.
	resp, body := ts.do(t, "GET", "/findings?status=fail&severity=high&q=gw-&sort=age", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "1–100 of 150") || !strings.Contains(body, `href="/findings?offset=100&amp;q=gw-&amp;severity=high&amp;sort=age&amp;status=fail"`) {
		t.Errorf("findings page: %d\n%s", resp.StatusCode, body)
	}
	if resp, body := ts.do(t, "GET", "/?q=gw-00&limit=5", nil, nil); resp.StatusCode != 200 || !strings.Contains(body, "1–5 of 10") {
		t.Errorf("fleet page with a search: %d", resp.StatusCode)
	}

	// CSV export of the filtered view: every row, safe to open.
	resp, body = ts.do(t, "GET", "/findings.csv?status=fail", nil, nil)
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if resp.StatusCode != 200 || err != nil || len(rows) != 152 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("findings.csv: %d, %d rows, %v", resp.StatusCode, len(rows), err)
	}
	for _, r := range rows[1:] {
		if strings.HasPrefix(r[0], "=") {
			t.Errorf("a CSV cell starts a formula: %q", r[0])
		}
	}
	// The audit log: admins only, CSV and JSON.
	resp, body = ts.do(t, "GET", "/audit.csv", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "run.upload") {
		t.Errorf("audit.csv: %d", resp.StatusCode)
	}
	if resp, _ := ts.do(t, "GET", "/api/v1/audit?limit=5", nil, bearer); resp.StatusCode != http.StatusForbidden {
		t.Errorf("/api/v1/audit with an uploader token: %d; want 403", resp.StatusCode)
	}

	// 40 days on, a high failure is past its 30-day SLA; a fix after it.
	clk.Add(40 * 24 * time.Hour)
	fixed := fnd("gw-000", "TLS-001", finding.Pass, finding.High)
	up(append([]finding.Finding{fixed, evil}, fs[1:]...)...)
	ts.signIn(t, "admin", "a long test password") // the session ran out meanwhile
	resp, body = ts.do(t, "GET", "/rules", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `href="/rule?id=TLS-001"`) || !strings.Contains(body, "150 past their SLA") {
		t.Errorf("rules page: %d\n%s", resp.StatusCode, body)
	}
	resp, body = ts.do(t, "GET", "/rule?id=TLS-001", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "overdue (30 d)") || !strings.Contains(body, ">40</td>") {
		t.Errorf("rule page: %d\n%s", resp.StatusCode, body)
	}
	_, metrics := ts.do(t, "GET", "/metrics", nil, bearer)
	if !strings.Contains(metrics, `rampart_overdue_findings{severity="high"} 149`) {
		t.Errorf("metrics lack the overdue count:\n%s", metrics)
	}
	// Retention (30 days) applies to uploads: the first run is gone.
	runs, err := ts.srv.store.Runs(context.Background(), 10, 0)
	if err != nil || len(runs) != 1 {
		t.Errorf("runs after an upload past the retention: %d, %v; want 1", len(runs), err)
	}
}
