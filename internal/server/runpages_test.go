package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/store"
)

// A run's targets are paged in the API like every other list, and one
// HTML report of a run is capped: a fleet's run is downloaded target by
// target (before, /run/report.html of a 300,000-finding run took 30-40 s
// and 1.4 GB, and /api/v1/run answered all of a run's targets at once).
func TestRunTargetsPagedAndReportCapped(t *testing.T) {
	clk := &clock{now: time.Now().UTC().Truncate(time.Second)}
	ts := startServer(t, "", func(o *Options) { o.Now = clk.Now })
	tok := ts.signUp(t)
	bearer := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
	var fs []finding.Finding
	for i := range reportCap + 1 { // gw-0: 5,001 findings, too many for its own report
		fs = append(fs, fnd("gw-0", fmt.Sprintf("R-%04d", i), finding.Fail, finding.High))
	}
	fs = append(fs, fnd("gw-1", "R-9999", finding.Fail, finding.High))
	for i := range 149 { // and 149 more targets, one finding each
		fs = append(fs, fnd(fmt.Sprintf("tg-%03d", i), "TLS-001", finding.Fail, finding.High))
	}
	if resp, body := ts.do(t, "POST", "/api/v1/runs", bytes.NewReader(uploadReport(clk.Now(), fs...)), bearer); resp.StatusCode != 201 {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}

	// The run's 151 targets: 100, then 51 after the 100th's name.
	var page struct {
		Run       store.Run         `json:"run"`
		Targets   []store.RunTarget `json:"targets"`
		Total     int               `json:"total"`
		NextAfter string            `json:"next_after"`
	}
	_, body := ts.do(t, "GET", "/api/v1/run?id=1", nil, bearer)
	if err := json.Unmarshal([]byte(body), &page); err != nil || len(page.Targets) != DefaultLimit || page.Total != 151 || page.NextAfter != page.Targets[99].Name {
		t.Fatalf("first page of the run's targets: %d of %d, next %q (%v)", len(page.Targets), page.Total, page.NextAfter, err)
	}
	first := page.Targets[0].Name
	page.NextAfter = ""
	_, body = ts.do(t, "GET", "/api/v1/run?id=1&after="+page.Targets[99].Name, nil, bearer)
	if err := json.Unmarshal([]byte(body), &page); err != nil || len(page.Targets) != 51 || page.NextAfter != "" || page.Targets[0].Name <= first {
		t.Errorf("second page of the run's targets: %d, next %q (%v)", len(page.Targets), page.NextAfter, err)
	}
	for _, q := range []string{"limit=0", "limit=1001", "offset=5"} {
		if resp, _ := ts.do(t, "GET", "/api/v1/run?id=1&"+q, nil, bearer); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("/api/v1/run?id=1&%s: %d; want 400", q, resp.StatusCode)
		}
	}

	// 5,151 findings: too many for one report; each target has its own,
	// linked from the run's page, unless it holds too many itself.
	if resp, body := ts.do(t, "GET", "/run/report.html?id=1", nil, nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "This run has 5151 findings") || !strings.Contains(body, "/api/v1/run/findings?id=1") {
		t.Errorf("the whole run's report: %d\n%s", resp.StatusCode, body)
	}
	if _, body := ts.do(t, "GET", "/run?id=1", nil, nil); !strings.Contains(body, `href="/run/report.html?id=1&amp;target=gw-1"`) {
		t.Errorf("the run page links no target's report:\n%s", body)
	}
	if resp, body := ts.do(t, "GET", "/run/report.html?id=1&target=gw-0", nil, nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "This target of the run has over 5000 findings") {
		t.Errorf("gw-0's report (5,001 findings): %d\n%s", resp.StatusCode, body)
	}
	resp, body := ts.do(t, "GET", "/run/report.html?id=1&target=gw-1", nil, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Disposition") != `attachment; filename="rampart-run-1-gw-1.html"` ||
		!strings.Contains(body, "R-9999") || strings.Contains(body, "R-0000") || strings.Contains(body, "tg-000") {
		t.Errorf("gw-1's report: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Disposition"), len(body))
	}
	if resp, _ := ts.do(t, "GET", "/run/report.html?id=1&target=nowhere", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the report of a target the run did not cover: %d; want 404", resp.StatusCode)
	}

	// A small run's report is whole.
	clk.now = clk.now.Add(time.Hour)
	if resp, body := ts.do(t, "POST", "/api/v1/runs", bytes.NewReader(uploadReport(clk.Now(), fs[reportCap+2:]...)), bearer); resp.StatusCode != 201 {
		t.Fatalf("second upload: %d %s", resp.StatusCode, body)
	}
	if resp, body := ts.do(t, "GET", "/run/report.html?id=2", nil, nil); resp.StatusCode != 200 || !strings.Contains(body, "tg-148") {
		t.Errorf("the small run's report: %d, %d bytes", resp.StatusCode, len(body))
	}
}
