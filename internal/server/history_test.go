package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
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
	ts := startServer(t, "retention: 720h\nmetrics: {per_target: true}\n", func(o *Options) { o.Now = clk.Now })
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
	if resp, body := ts.do(t, "GET", "/api/v1/diff?b=1", nil, bearer); resp.StatusCode != 200 || json.Unmarshal([]byte(body), &d) != nil || len(d.NewFailures) != 100 || d.NewFailuresTotal != 151 {
		t.Errorf("/api/v1/diff?b=1: %d, %d of %d new failures", resp.StatusCode, len(d.NewFailures), d.NewFailuresTotal)
	}
	// The list is capped (most severe first), the total is not; limit
	// raises the cap to 1,000.
	if d.NewFailures[0].Severity != finding.Critical || d.NewFailures[0].Title == "" || d.NewFailures[0].FirstSeen.IsZero() {
		t.Errorf("the first new failure is not the critical one, or is not loaded: %+v", d.NewFailures[0])
	}
	d = RunDiff{}
	if resp, body := ts.do(t, "GET", "/api/v1/diff?b=1&limit=1000", nil, bearer); resp.StatusCode != 200 || json.Unmarshal([]byte(body), &d) != nil || len(d.NewFailures) != 151 {
		t.Errorf("/api/v1/diff?b=1&limit=1000: %d, %d new failures", resp.StatusCode, len(d.NewFailures))
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
	// The next page is by cursor (keyset paging: any depth costs the same).
	resp, body := ts.do(t, "GET", "/findings?status=fail&severity=high&q=gw-&sort=age", nil, nil)
	next := regexp.MustCompile(`rel="next" class="page-next" href="(/findings\?after=[^"]+&amp;from=101&amp;q=gw-&amp;severity=high&amp;sort=age&amp;status=fail)"`).FindStringSubmatch(body)
	if resp.StatusCode != 200 || !strings.Contains(body, "1–100 of 150") || next == nil {
		t.Fatalf("findings page: %d\n%s", resp.StatusCode, body)
	}
	resp, body = ts.do(t, "GET", html.UnescapeString(next[1]), nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "101–150 of 150") || strings.Contains(body, `rel="next"`) || !strings.Contains(body, "first page") {
		t.Errorf("second findings page: %d\n%s", resp.StatusCode, body)
	}
	// The API's cursor walks the same list: 151 failing findings, 100 then 51.
	var cur struct {
		Findings  []store.Record `json:"findings"`
		NextAfter string         `json:"next_after"`
		Total     int            `json:"total"`
	}
	_, body = ts.do(t, "GET", "/api/v1/findings?status=fail&sort=severity", nil, bearer)
	if err := json.Unmarshal([]byte(body), &cur); err != nil || len(cur.Findings) != 100 || cur.NextAfter == "" {
		t.Fatalf("first page by severity: %d, %q, %v", len(cur.Findings), cur.NextAfter, err)
	}
	seen := map[string]bool{}
	for _, f := range cur.Findings {
		seen[f.Fingerprint] = true
	}
	last := cur.Findings[99]
	_, body = ts.do(t, "GET", "/api/v1/findings?status=fail&sort=severity&after="+cur.NextAfter, nil, bearer)
	cur.NextAfter = ""
	if err := json.Unmarshal([]byte(body), &cur); err != nil || len(cur.Findings) != 51 || cur.NextAfter != "" || cur.Total != 151 {
		t.Fatalf("second page by severity: %d, %q, total %d, %v", len(cur.Findings), cur.NextAfter, cur.Total, err)
	}
	for _, f := range cur.Findings {
		if seen[f.Fingerprint] || f.Severity > last.Severity {
			t.Errorf("page two repeats %s or is out of order (%s after %s)", f.Fingerprint, f.Severity, last.Severity)
		}
	}
	if resp, _ := ts.do(t, "GET", "/api/v1/findings?status=fail&after=bm90IGEgY3Vyc29y", nil, bearer); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a forged cursor: %d; want 400", resp.StatusCode)
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
	// The fleet's totals, and (asked for: metrics.per_target) each target's.
	for _, want := range []string{"rampart_targets 151\n", "rampart_failing_targets 150\n", `rampart_target_findings{target="gw-000",status="pass"} 1` + "\n",
		`rampart_target_findings{target="gw-001",status="fail"} 1` + "\n"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Retention (30 days) applies to uploads: the first run is gone.
	runs, err := ts.srv.store.Runs(context.Background(), 10, 0)
	if err != nil || len(runs) != 1 {
		t.Errorf("runs after an upload past the retention: %d, %v; want 1", len(runs), err)
	}
}
