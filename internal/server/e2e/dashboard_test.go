package e2e

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/testenv"

	"github.com/chromedp/chromedp"

	"github.com/rampart-sec/rampart/internal/alert"
)

// chromium finds Debian's chromium, or skips (fails under RAMPART_EVAL=1).
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("RAMPART_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Missing(t, "chromium not found: apt-get install chromium (or set RAMPART_CHROMIUM)")
	return ""
}

// hookReceiver is a webhook endpoint that checks signatures and records
// each idempotency key.
type hookReceiver struct {
	mu     sync.Mutex
	secret []byte
	keys   map[string]int
	kinds  map[string]string
	bad    int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	ts, _ := strconv.ParseInt(r.Header.Get(alert.HeaderTimestamp), 10, 64)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !alert.Verify(h.secret, ts, body, r.Header.Get(alert.HeaderSignature)) {
		h.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	key := r.Header.Get(alert.HeaderKey)
	h.keys[key]++
	h.kinds[key] = r.Header.Get(alert.HeaderEvent)
	w.WriteHeader(http.StatusAccepted)
}

var setupRE = regexp.MustCompile(`setup token: (\S+)`)

// The whole loop a person sees: rampart serve on loopback scans a WSO2
// product directory and a loopback endpoint on its schedule; a browser
// signs in with the setup token, creates an API token, opens the fleet, a
// target and the diff after the product drifted; alerts wait while the
// webhook is down and all arrive once it is up.
func TestServeDashboardE2E(t *testing.T) {
	testenv.Short(t, "end-to-end test (builds and runs the binary and a browser)")
	chrome := chromium(t)
	dir := t.TempDir()
	product := filepath.Join(dir, "is-drift")
	copyDir(t, fixture(t, "is-7.1.0"), product)

	// A loopback HTTPS endpoint with a health path that is down at first.
	var healthy atomic.Bool
	ep := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			if !healthy.Load() {
				http.Error(w, "starting", http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"status":"UP"}`)
			return
		}
		http.NotFound(w, r)
	}))
	ep.Config.ErrorLog = log.New(io.Discard, "", 0) // the scan's probes fail handshakes on purpose
	ep.StartTLS()
	defer ep.Close()
	epCA := filepath.Join(dir, "endpoint-ca.pem")
	if err := os.WriteFile(epCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ep.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}

	// The webhook receiver's address, closed for now: it is down.
	hookLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hookAddr := hookLn.Addr().String()
	hookLn.Close()
	// A second webhook that was deleted: it answers 410 Gone to everything.
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such hook", http.StatusGone)
	}))
	defer gone.Close()

	cfg := fmt.Sprintf(`listen: 127.0.0.1:0
data_dir: data
inventory:
  targets:
    - name: is-drift
      directory: %s
    - name: endpoint
      address: %s/
      health_paths: [/healthz]
schedules:
  - name: fleet
    every: 24h
    run_at_start: true
scan:
  timeout: 60s
  ca_bundle: %s
monitor:
  interval: 1s
  ca_bundle: %s
alerts:
  destinations:
    - name: receiver
      url: http://%s/hook
      secret: e2e-secret
    - name: deleted-hook
      url: %s/hook
      kinds: [new_failure, fixed]
`, product, ep.URL, epCA, epCA, hookAddr, gone.URL)
	p := startServe(t, dir, cfg)
	tok := p.out.wait(t, setupRE, 1, 10*time.Second)[1]

	// The browser, with the server's certificate pinned by its key.
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
		// The whole page, and what a person sees first (the viewport).
		if top, err := chromedp.Run(bctx, chromedp.CaptureScreenshot()); err == nil {
			_ = os.WriteFile(filepath.Join(art, name+"-top.png"), top, 0o644)
		}
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(art, name+".png")
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

	// Sign in with the setup token: / sends a new server to /setup.
	err = chromedp.Do(bctx,
		chromedp.Navigate(p.base+"/"),
		chromedp.WaitVisible("#token"),
		chromedp.SendKeys("#token", tok),
		chromedp.SendKeys("#username", "auditor"),
		chromedp.SendKeys("#password", "correct horse battery staple"),
		chromedp.Click("#create"),
		chromedp.WaitVisible("#targets"),
	)
	if err != nil {
		t.Fatalf("sign-in with the setup token: %v\n%s", err, p.out)
	}
	// An API token from the dashboard, for the test's API calls.
	err = chromedp.Do(bctx,
		chromedp.Navigate(p.base+"/tokens"),
		chromedp.WaitVisible("#name"),
		chromedp.SendKeys("#name", "e2e"),
		chromedp.SetValue("#token-role", "admin"),
		chromedp.Submit("#name"),
		chromedp.WaitVisible("#new-token"),
	)
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	apiTok := strings.TrimSpace(text("#new-token"))

	type run struct {
		ID         int64     `json:"id"`
		StartedAt  time.Time `json:"started_at"`
		FinishedAt time.Time `json:"finished_at"`
		StoredAt   time.Time `json:"stored_at"`
	}
	waitRuns := func(n int) []run {
		t.Helper()
		var rs struct{ Runs []run }
		testenv.Poll(t, 3*time.Minute, fmt.Sprintf("%d runs", n), func() error {
			if code := p.api(t, apiTok, "GET", "/api/v1/runs", &rs); code != 200 {
				t.Fatalf("runs: %d", code)
			}
			if len(rs.Runs) < n {
				return fmt.Errorf("only %d runs:\n%s", len(rs.Runs), p.out)
			}
			return nil
		})
		return rs.Runs
	}
	runs := waitRuns(1)
	t.Logf("scheduled run #%d took %s; stored %s after the scan ended", runs[0].ID, runs[0].FinishedAt.Sub(runs[0].StartedAt), runs[0].StoredAt.Sub(runs[0].FinishedAt))

	// The product drifts: a shorter session ID (IAM-005 now fails) and a
	// real host name (NET-007 is fixed). The endpoint becomes healthy.
	replaceInFile(t, filepath.Join(product, "repository/conf/tomcat/context.xml"), `sessionIdLength="128"`, `sessionIdLength="8"`)
	replaceInFile(t, filepath.Join(product, "repository/conf/deployment.toml"), `hostname = "localhost"`, `hostname = "is.rampart-e2e.test"`)
	healthy.Store(true)
	triggered := time.Now()
	if code := p.api(t, apiTok, "POST", "/api/v1/schedules/run?name=fleet", nil); code != http.StatusAccepted {
		t.Fatalf("trigger: %d", code)
	}
	runs = waitRuns(2)
	seen := time.Now()
	t.Logf("triggered run #%d: scan %s, on the API %s after the scan ended (%s after the trigger)",
		runs[0].ID, runs[0].FinishedAt.Sub(runs[0].StartedAt), seen.Sub(runs[0].FinishedAt).Round(time.Millisecond), seen.Sub(triggered).Round(time.Millisecond))

	// Fleet view.
	if err := chromedp.Do(bctx, chromedp.Navigate(p.base+"/"), chromedp.WaitVisible("#targets")); err != nil {
		t.Fatal(err)
	}
	fleet := text("main")
	for _, want := range []string{"Fleet posture", "is-drift", "endpoint", "Findings by status"} {
		if !strings.Contains(fleet, want) {
			t.Errorf("fleet view lacks %q", want)
		}
	}
	shot("fleet")
	// One target, with evidence and remediation.
	if err := chromedp.Do(bctx, chromedp.Click(`a.target-link[href*="is-drift"]`), chromedp.WaitVisible("section.target")); err != nil {
		t.Fatal(err)
	}
	tv := text("main")
	for _, want := range []string{"IAM-005", "Remediation", "Evidence", "deployment.toml"} {
		if !strings.Contains(tv, want) {
			t.Errorf("target view lacks %q", want)
		}
	}
	shot("target")
	// The difference between the two runs.
	if err := chromedp.Do(bctx, chromedp.Click("#target-diff"), chromedp.WaitVisible("#diff-summary")); err != nil {
		t.Fatal(err)
	}
	dv := text("main")
	newIdx, fixedIdx := strings.Index(dv, "New failures"), strings.Index(dv, "Fixed")
	if newIdx < 0 || fixedIdx < 0 || !strings.Contains(dv[newIdx:fixedIdx], "IAM-005") || !strings.Contains(dv[fixedIdx:], "NET-007") {
		t.Errorf("diff does not show IAM-005 as new and NET-007 as fixed:\n%s", dv)
	}
	shot("diff")
	if err := chromedp.Do(bctx, chromedp.Navigate(p.base+"/monitor"), chromedp.WaitVisible("#health")); err != nil {
		t.Fatal(err)
	}
	if mv := text("#health"); !strings.Contains(mv, "/healthz") {
		t.Errorf("monitoring view lacks the health endpoint: %s", mv)
	}
	shot("monitor")

	// The deleted webhook's alerts are dead letters, on the alerts page
	// with the receiver's answer.
	testenv.Poll(t, 30*time.Second, "dead letters for the deleted webhook", func() error {
		var dl struct {
			Alerts []struct {
				LastError string `json:"last_error"`
			} `json:"alerts"`
		}
		if code := p.api(t, apiTok, "GET", "/api/v1/alerts?state=dead", &dl); code != 200 {
			t.Fatalf("dead letters: %d", code)
		}
		if len(dl.Alerts) < 2 {
			return fmt.Errorf("%+v\n%s", dl, p.out)
		}
		return nil
	})
	if err := chromedp.Do(bctx, chromedp.Navigate(p.base+"/alerts"), chromedp.WaitVisible("#dead-letters")); err != nil {
		t.Fatal(err)
	}
	if dv := text("#dead-letters"); !strings.Contains(dv, "status 410: no such hook") || !strings.Contains(dv, "deleted-hook") {
		t.Errorf("the dead letters do not show the receiver's answer:\n%s", dv)
	}
	shot("dead-letters")

	// Users: the admin invites a viewer; the viewer sets a password through
	// the one-time link, signs in, and finds no control that changes
	// anything; a forged post of one is refused.
	err = chromedp.Do(bctx,
		chromedp.Navigate(p.base+"/users"),
		chromedp.WaitVisible("#new-username"),
		chromedp.SendKeys("#new-username", "vicky"),
		chromedp.SetValue("#new-role", "viewer"),
		chromedp.Click("#create-user-button"),
		chromedp.WaitVisible("#invite-link"),
	)
	if err != nil {
		t.Fatalf("create a viewer: %v", err)
	}
	invite := text("#invite-link")
	shot("users")
	const viewerPass = "viewer's own long password"
	err = chromedp.Do(bctx,
		chromedp.Click("#signout"),
		chromedp.WaitVisible("#signin"),
		chromedp.Navigate(strings.TrimSpace(invite)),
		chromedp.WaitVisible("#password2"),
		chromedp.SendKeys("#password", viewerPass),
		chromedp.SendKeys("#password2", viewerPass),
		chromedp.Click("#set-password"),
		chromedp.WaitVisible("#targets"),
		chromedp.Click("#signout"),
		chromedp.WaitVisible("#signin"),
		chromedp.SendKeys("#username", "vicky"),
		chromedp.SendKeys("#password", viewerPass),
		chromedp.Click("#signin"),
		chromedp.WaitVisible("#targets"),
	)
	if err != nil {
		t.Fatalf("viewer sign-in through the setup link: %v\n%s", err, p.out)
	}
	if role := text("#role"); role != "viewer" {
		t.Errorf("signed in as %q; want viewer", role)
	}
	controls, err := chromedp.Run(bctx, chromedp.Nodes(`form[action="/schedules/run"], a[href="/users"], a[href="/tokens"]`, chromedp.AtLeast(0)))
	if err != nil {
		t.Fatal(err)
	}
	if len(controls) != 0 {
		t.Errorf("the viewer's fleet page shows %d controls for admins (run now, users, tokens)", len(controls))
	}
	if !strings.Contains(text("main"), "is-drift") {
		t.Error("the viewer does not see the fleet")
	}
	shot("viewer-fleet")
	// A hand-made form posting "run now" with the viewer's own form
	// token: the server refuses it for the role.
	forge := `(() => { const f = document.createElement('form'); f.method = 'post'; f.action = '/schedules/run';
	  for (const [k, v] of [['name', 'fleet'], ['csrf', document.querySelector('input[name=csrf]').value]]) {
	    const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i); }
	  document.body.appendChild(f); f.submit(); return true; })()`
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](forge)); err != nil {
		t.Fatalf("forged post: %v", err)
	}
	if err := chromedp.Do(bctx, chromedp.WaitVisible("h1")); err != nil {
		t.Fatal(err)
	}
	if h := text("h1"); h != "Not allowed" {
		t.Errorf("the viewer's run-now post: page %q; want Not allowed", h)
	}
	shot("viewer-refused")
	if err := chromedp.Do(bctx, chromedp.Navigate(p.base+"/users"), chromedp.WaitVisible("h1")); err != nil {
		t.Fatal(err)
	}
	if h := text("h1"); h != "Not allowed" {
		t.Errorf("the viewer on /users: %q; want Not allowed", h)
	}

	// Alerts waited in the outbox while the receiver was down.
	pending := func() int {
		req, _ := http.NewRequest("GET", p.base+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+apiTok)
		resp, err := p.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		m := regexp.MustCompile(`rampart_alert_outbox\{state="pending"\} (\d+)`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("no outbox metric in:\n%s", b)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	before := pending()
	if before < 3 {
		t.Fatalf("%d alerts pending; want at least 3 (new failure, fix, health down)", before)
	}
	rcv := &hookReceiver{secret: []byte("e2e-secret"), keys: map[string]int{}, kinds: map[string]string{}}
	hookLn, err = net.Listen("tcp", hookAddr)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: rcv}
	go hs.Serve(hookLn)
	defer hs.Close()
	// The backoff may have grown while the receiver was down.
	testenv.Poll(t, 90*time.Second, "alerts delivered after the receiver came up", func() error {
		if n := pending(); n > 0 {
			return fmt.Errorf("%d pending:\n%s", n, p.out)
		}
		return nil
	})
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.bad > 0 {
		t.Errorf("%d deliveries with a bad signature", rcv.bad)
	}
	kinds := map[string]int{}
	for k := range rcv.keys {
		kinds[rcv.kinds[k]]++
	}
	if len(rcv.keys) < before || kinds[alert.KindNewFailure] == 0 || kinds[alert.KindFixed] == 0 || kinds[alert.KindHealthDown] == 0 {
		t.Errorf("received %d distinct alerts (%v); want all %d pending ones with new_failure, fixed and health_down", len(rcv.keys), kinds, before)
	}
	t.Logf("alerts delivered after the receiver came up: %v; serve peak RSS %s", kinds, peakRSS(p.cmd.Process.Pid))
}
