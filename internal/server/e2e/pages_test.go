package e2e

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rampart-sec/rampart/internal/finding"
)

// The pages issue 12 added, driven in headless Chromium against the real
// binary: a scoped upload token made on the tokens page, the fleet by
// rule and one rule's targets with age and SLA, the findings page's
// filters kept in the URL and its export links, the fleet's search, a
// compare of the first run with nothing, the alert destinations (URL in
// full for the admin) and the audit log's export. Screenshots of each go
// to the artifacts directory.
func TestIssue12PagesE2E(t *testing.T) {
	chrome := chromium(t)
	dir := t.TempDir()
	hook := "https://hooks.example.invalid/services/T0/B0/XsecretX"
	cfg := "listen: 127.0.0.1:0\ndata_dir: data\nadmin: {username: admin}\nsla: {critical: 7, high: 30}\nalerts:\n  destinations:\n    - {name: chat, url: \"" + hook + "\", format: slack}\n"
	p := startServe(t, dir, cfg, "RAMPART_ADMIN_PASSWORD=the e2e admin password")
	leafPEM, err := os.ReadFile(filepath.Join(p.dataDir, "server.pem"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(leafPEM)
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	spki := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chrome), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1000),
		chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki[:])),
	)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	art := artifactDir(t)
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(art, "issue12-"+name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	location := func() string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	go_ := func(path string, wait string) {
		t.Helper()
		if err := chromedp.Do(bctx, chromedp.Navigate(p.base+path), chromedp.WaitVisible(wait)); err != nil {
			t.Fatalf("open %s: %v", path, err)
		}
	}

	// Sign in, and make an uploader token scoped to gw-* on the tokens page.
	err = chromedp.Do(bctx,
		chromedp.Navigate(p.base+"/login"), chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "admin"), chromedp.SendKeys("#password", "the e2e admin password"),
		chromedp.Submit("#password"), chromedp.WaitVisible("#targets"),
		chromedp.Navigate(p.base+"/tokens"), chromedp.WaitVisible("#name"),
		chromedp.SendKeys("#name", "gw-pipeline"), chromedp.SetValue("#token-role", "uploader"),
		chromedp.SendKeys("#token-targets", "gw-*"), chromedp.Submit("#name"), chromedp.WaitVisible("#new-token"),
	)
	if err != nil {
		t.Fatalf("sign in and make a token: %v\n%s", err, p.out)
	}
	tok := strings.TrimSpace(text("#new-token"))
	if !strings.Contains(text("#tokens"), "gw-*") {
		t.Error("the tokens table does not show the token's target scope")
	}
	shot("tokens")

	// Two runs: gw-1 and gw-2 fail TLS-002, gw-2 fixes TLS-001.
	up := p.attacker(t, "")
	now := time.Now().UTC()
	mk := func(target, rule string, st finding.Status, sev finding.Severity) finding.Finding {
		f := fail(target, rule)
		f.Status, f.Severity, f.Title, f.Message = st, sev, rule+" title", rule+" on "+target
		return f
	}
	if code, body := up.upload(tok, report(now.Add(-time.Hour), mk("gw-1", "TLS-002", finding.Fail, finding.High), mk("gw-2", "TLS-001", finding.Fail, finding.Critical))); code != 201 {
		t.Fatalf("upload: %d %s", code, body)
	}
	if code, body := up.upload(tok, report(now, mk("gw-1", "TLS-002", finding.Fail, finding.High), mk("gw-2", "TLS-002", finding.Fail, finding.High), mk("gw-2", "TLS-001", finding.Pass, finding.Critical))); code != 201 {
		t.Fatalf("upload: %d %s", code, body)
	}
	if code, _ := up.upload(tok, report(now, mk("db-1", "TLS-002", finding.Fail, finding.High))); code != 403 {
		t.Errorf("the gw-* token uploading db-1: %d; want 403", code)
	}

	// The fleet by rule, and one rule's targets.
	go_("/rules", "#rules")
	if s := text("#rules"); !strings.Contains(s, "TLS-002") {
		t.Errorf("rules table: %q", s)
	}
	shot("rules")
	if err := chromedp.Do(bctx, chromedp.Click(`a.rule-link[href="/rule?id=TLS-002"]`), chromedp.WaitVisible("#rule-failing")); err != nil {
		t.Fatalf("open the rule: %v", err)
	}
	if s := text("#rule-failing"); !strings.Contains(s, "gw-1") || !strings.Contains(s, "gw-2") {
		t.Errorf("TLS-002's failing targets: %q", s)
	}
	shot("rule")

	// The findings page: a filter typed in the form lands in the URL, and
	// the export links carry it.
	go_("/findings", "#findings-filter")
	err = chromedp.Do(bctx,
		chromedp.SendKeys("#f-q", "gw-2"), chromedp.SetValue("#f-status", "fail"), chromedp.SetValue("#f-sort", "severity"),
		chromedp.Submit("#f-q"), chromedp.WaitVisible("#findings-count"),
	)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(location())
	if q := u.Query(); q.Get("q") != "gw-2" || q.Get("status") != "fail" || q.Get("sort") != "severity" {
		t.Errorf("the filter is not in the URL: %s", u)
	}
	if s := text("#findings"); !strings.Contains(s, "gw-2") || strings.Contains(s, "gw-1") {
		t.Errorf("filtered findings: %q", s)
	}
	attr, err := chromedp.Run(bctx, chromedp.AttributeValue("#export-csv", "href"))
	if href := attr.Value; err != nil || !strings.Contains(href, "q=gw-2") || !strings.HasPrefix(href, "/findings.csv?") {
		t.Errorf("the CSV export link %q does not carry the filter (%v)", href, err)
	}
	shot("findings-filtered")

	// The fleet's search, the compare of the first run with nothing.
	go_("/?q=gw-1", "#targets")
	if s := text("#targets"); !strings.Contains(s, "gw-1") || strings.Contains(s, "gw-2") {
		t.Errorf("the fleet searched for gw-1: %q", s)
	}
	shot("fleet-search")
	go_("/diff?b=1", "#diff-summary")
	shot("diff-first-run")

	// Alert destinations: the admin sees the URL in full.
	go_("/alerts", "#destinations")
	if s := text("#destinations"); !strings.Contains(s, "XsecretX") {
		t.Errorf("the admin does not see the destination's URL: %q", s)
	}
	shot("alerts-destinations")

	// The audit log records the upload; its export link is there.
	go_("/audit", "main")
	if s := text("main"); !strings.Contains(s, "run.upload") || !strings.Contains(s, "token.create") {
		t.Errorf("the audit log lacks the upload or the token: %q", s)
	}
	if attr, err := chromedp.Run(bctx, chromedp.AttributeValue("#audit-csv", "href")); err != nil || attr.Value != "/audit.csv" {
		t.Errorf("audit export link %q, %v", attr.Value, err)
	}
	shot("audit")
}
