package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/testenv"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/server/auth"
	"github.com/rampart-sec/rampart/internal/server/tlsconf"
	"github.com/rampart-sec/rampart/internal/waiver"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type testServer struct {
	base   string
	client *http.Client
	notice *syncBuffer
	srv    *Server
	cancel context.CancelFunc
	done   chan error
}

// startServer runs a server in-process on a loopback listener, with the
// given extra configuration YAML.
func startServer(t *testing.T, extra string, tweak ...func(*Options)) *testServer {
	t.Helper()
	dir := t.TempDir()
	cfgYAML := "data_dir: " + filepath.Join(dir, "data") + "\nlisten: 127.0.0.1:0\n" + extra
	cfg, err := ParseConfig([]byte(cfgYAML), filepath.Join(dir, "serve.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	notice := &syncBuffer{}
	cheap := auth.Params{Memory: 1024, Time: 1, Threads: 1}
	opt := Options{Config: cfg, Notice: notice, Version: "test", PasswordParams: &cheap}
	for _, f := range tweak {
		f(&opt)
	}
	srv, err := New(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{base: "https://" + ln.Addr().String(), notice: notice, srv: srv, cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ts.done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	pem, err := os.ReadFile(filepath.Join(cfg.DataDir, tlsconf.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	jar, _ := cookiejar.New(nil)
	ts.client = &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return ts
}

func (ts *testServer) do(t *testing.T, method, path string, body io.Reader, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// form posts a form with the anti-forgery token of the client's current
// sign-in state.
func (ts *testServer) form(t *testing.T, path string, v url.Values) (*http.Response, string) {
	t.Helper()
	v.Set("csrf", ts.csrf(t))
	return ts.do(t, "POST", path, strings.NewReader(v.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the form token from a page, as a browser would have it:
// the account page when signed in, else the sign-in or setup page.
func (ts *testServer) csrf(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/account", "/login", "/setup"} {
		resp, body := ts.do(t, "GET", p, nil, nil)
		if resp.StatusCode != 200 {
			continue
		}
		if m := csrfRE.FindStringSubmatch(body); m != nil {
			return html.UnescapeString(m[1])
		}
	}
	t.Fatal("no page with a form token")
	return ""
}

var setupTokenRE = regexp.MustCompile(`setup token: (\S+)`)

// signUp creates the admin with the setup token and returns an uploader
// API token.
func (ts *testServer) signUp(t *testing.T) string {
	t.Helper()
	m := setupTokenRE.FindStringSubmatch(ts.notice.String())
	if m == nil {
		t.Fatalf("no setup token printed: %q", ts.notice.String())
	}
	resp, body := ts.form(t, "/setup", url.Values{"token": {m[1]}, "username": {"admin"}, "password": {"a long test password"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("setup: %d %s", resp.StatusCode, body)
	}
	resp, body = ts.form(t, "/tokens", url.Values{"name": {"ci"}, "role": {"uploader"}})
	if resp.StatusCode != 200 {
		t.Fatalf("create token: %d %s", resp.StatusCode, body)
	}
	tm := regexp.MustCompile(`id="new-token">([^<]+)<`).FindStringSubmatch(body)
	if tm == nil {
		t.Fatalf("no token on the page")
	}
	return tm[1]
}

func TestSecurityHeadersAndSetup(t *testing.T) {
	ts := startServer(t, "")
	resp, _ := ts.do(t, "GET", "/", nil, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/setup" {
		t.Fatalf("/ without an admin: %d %s; want a redirect to /setup", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, path := range []string{"/setup", "/login", "/carbon", "/api/v1/runs"} {
		resp, body := ts.do(t, "GET", path, nil, nil)
		h := resp.Header
		if !strings.HasPrefix(h.Get("Strict-Transport-Security"), "max-age=63072000") {
			t.Errorf("%s: HSTS %q", path, h.Get("Strict-Transport-Security"))
		}
		if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s: CSP %q", path, h.Get("Content-Security-Policy"))
		}
		if !strings.Contains(h.Get("Cache-Control"), "no-store") {
			t.Errorf("%s: Cache-Control %q", path, h.Get("Cache-Control"))
		}
		if h.Get("Server") != "" || h.Get("X-Powered-By") != "" {
			t.Errorf("%s: product banner %q", path, h.Get("Server"))
		}
		if strings.Contains(strings.ToLower(body), "<script") {
			t.Errorf("%s: page has a script", path)
		}
	}
	if resp, _ := ts.do(t, "GET", "/carbon", nil, nil); resp.StatusCode != 404 {
		t.Errorf("/carbon = %d; want 404", resp.StatusCode)
	}
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("TLS state %+v", resp.TLS)
	}

	resp, _ = ts.form(t, "/setup", url.Values{"token": {"rampart-setup-wrong"}, "username": {"admin"}, "password": {"a long test password"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("wrong setup token: %d", resp.StatusCode)
	}
	// A cross-site form post is refused before it is looked at.
	resp, _ = ts.do(t, "POST", "/setup", strings.NewReader("token=x"), map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post: %d; want 403", resp.StatusCode)
	}
	m := setupTokenRE.FindStringSubmatch(ts.notice.String())
	resp, _ = ts.form(t, "/setup", url.Values{"token": {m[1]}, "username": {"admin"}, "password": {"a long test password"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("setup: %d", resp.StatusCode)
	}
	var sess *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == auth.CookieName {
			sess = c
		}
	}
	if sess == nil || !sess.Secure || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || len(sess.Value) < 40 {
		t.Fatalf("session cookie %+v", sess)
	}
	resp, body := ts.do(t, "GET", "/", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Fleet posture") {
		t.Fatalf("fleet page: %d", resp.StatusCode)
	}
	// The setup token is spent.
	resp, _ = ts.form(t, "/setup", url.Values{"token": {m[1]}, "username": {"eve"}, "password": {"a long test password"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Errorf("second setup: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Sign-in is rate limited.
	if resp, _ := ts.form(t, "/logout", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	for i := 0; i < 5; i++ {
		resp, _ := ts.form(t, "/login", url.Values{"username": {"admin"}, "password": {"wrong password " + fmt.Sprint(i)}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i, resp.StatusCode)
		}
	}
	resp, _ = ts.form(t, "/login", url.Values{"username": {"admin"}, "password": {"a long test password"}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("after 5 failures: %d; want 429 with Retry-After", resp.StatusCode)
	}
}

func uploadReport(at time.Time, fs ...finding.Finding) []byte {
	r := &finding.Report{SchemaVersion: finding.SchemaVersion, Tool: finding.Tool{Name: "rampart", Version: "ci"}, StartedAt: at.Add(-time.Second), FinishedAt: at, Findings: fs}
	b, _ := json.Marshal(r)
	return b
}

func fnd(target, rule string, st finding.Status, sev finding.Severity) finding.Finding {
	return finding.Finding{RuleID: rule, Title: rule, Target: target, Status: st, Severity: sev, Domain: "tls", Message: rule + " " + string(st),
		Fingerprint: finding.Fingerprint(target, rule, "")}
}

// The API and alerts on both stores: SQLite, and PostgreSQL when
// RAMPART_TEST_POSTGRES names a server.
func TestUploadAPIAndAlerts(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testUploadAPIAndAlerts(t, "") })
	t.Run("postgres", func(t *testing.T) { testUploadAPIAndAlerts(t, postgresDSN(t)) })
}

// postgresDSN returns a DSN for a fresh schema on the test server, or
// skips (fails under RAMPART_EVAL=1) without one.
func postgresDSN(t *testing.T) string {
	dsn := testenv.Env(t, "RAMPART_TEST_POSTGRES", "scripts/ci/postgres.sh starts a server")
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	schema := fmt.Sprintf("srv_%d", time.Now().UnixNano())
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if db, err := sql.Open("pgx", dsn); err == nil {
			_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

func testUploadAPIAndAlerts(t *testing.T, storage string) {
	// A receiver for the alerts (loopback http is allowed).
	var mu sync.Mutex
	got := map[string]int{}
	rcv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.Header.Get("Idempotency-Key")]++
		mu.Unlock()
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go rcv.Serve(ln)
	defer rcv.Close()
	extra := fmt.Sprintf("alerts:\n  destinations:\n    - {name: rcv, url: \"http://%s/hook\", secret: s3cret}\n", ln.Addr())
	if storage != "" {
		extra += "storage: \"" + storage + "\"\n"
	}
	ts := startServer(t, extra)
	tok := ts.signUp(t)
	bearer := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}

	if resp, _ := ts.do(t, "POST", "/api/v1/runs", bytes.NewReader(uploadReport(time.Now())), map[string]string{"Authorization": "Bearer nope"}); resp.StatusCode != 401 {
		t.Errorf("bad token: %d", resp.StatusCode)
	}
	t0 := time.Now().UTC().Add(-time.Hour)
	const a = "https://gw.example.test/"
	resp, body := ts.do(t, "POST", "/api/v1/runs", bytes.NewReader(uploadReport(t0, fnd(a, "TLS-001", finding.Fail, finding.High), fnd(a, "TLS-002", finding.Pass, finding.High))), bearer)
	if resp.StatusCode != 201 {
		t.Fatalf("upload 1: %d %s", resp.StatusCode, body)
	}
	resp, body = ts.do(t, "POST", "/api/v1/runs", bytes.NewReader(uploadReport(t0.Add(time.Minute), fnd(a, "TLS-001", finding.Pass, finding.High), fnd(a, "TLS-002", finding.Fail, finding.High))), bearer)
	if resp.StatusCode != 201 || !strings.Contains(body, `"new_failures":1`) || !strings.Contains(body, `"fixed":1`) {
		t.Fatalf("upload 2: %d %s", resp.StatusCode, body)
	}
	if resp, body := ts.do(t, "POST", "/api/v1/runs", strings.NewReader(`{"schemaVersion":"9.0.0"}`), bearer); resp.StatusCode != 400 {
		t.Errorf("bad report: %d %s", resp.StatusCode, body)
	}

	var fl struct {
		Findings []struct {
			Rule      string `json:"rule"`
			FirstSeen string `json:"first_seen"`
			FixedAt   string `json:"fixed_at"`
		} `json:"findings"`
	}
	_, body = ts.do(t, "GET", "/api/v1/findings?status=fail", nil, bearer)
	if err := json.Unmarshal([]byte(body), &fl); err != nil || len(fl.Findings) != 1 || fl.Findings[0].Rule != "TLS-002" {
		t.Errorf("failing findings = %s", body)
	}
	_, body = ts.do(t, "GET", "/api/v1/diff?a=1&b=2", nil, bearer)
	var d RunDiff
	if err := json.Unmarshal([]byte(body), &d); err != nil || len(d.NewFailures) != 1 || len(d.Fixed) != 1 {
		t.Errorf("diff = %s", body)
	}
	for _, p := range []string{"/", "/target?name=" + url.QueryEscape(a), "/runs", "/run?id=2", "/diff?a=1&b=2", "/findings?status=fail", "/exceptions", "/monitor", "/tokens", "/run/report.html?id=2"} {
		if resp, body := ts.do(t, "GET", p, nil, nil); resp.StatusCode != 200 || !strings.Contains(body, "TLS-") && strings.Contains(p, "diff") {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	// The fleet page links to the target by its (escaped) name.
	_, body = ts.do(t, "GET", "/", nil, nil)
	m := regexp.MustCompile(`class="target-link" href="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no target link on the fleet page")
	}
	if resp, body := ts.do(t, "GET", html.UnescapeString(m[1]), nil, nil); resp.StatusCode != 200 || !strings.Contains(body, a) {
		t.Errorf("following %s: %d", m[1], resp.StatusCode)
	}
	if resp, _ := ts.do(t, "GET", "/run?id=999", nil, nil); resp.StatusCode != 404 {
		t.Errorf("missing run page: %d", resp.StatusCode)
	}
	resp, body = ts.do(t, "GET", "/metrics", nil, bearer)
	if resp.StatusCode != 200 || !strings.Contains(body, `rampart_findings{status="fail"} 1`) || !strings.Contains(body, "rampart_uploads_total 2") {
		t.Errorf("metrics: %d\n%s", resp.StatusCode, body)
	}
	// Per-target series only when asked for (metrics.per_target); the
	// fleet's totals always.
	if strings.Contains(body, "rampart_target_findings") || !strings.Contains(body, "\nrampart_targets ") || !strings.Contains(body, "\nrampart_oldest_target_scan_timestamp_seconds ") {
		t.Errorf("metrics without per_target:\n%s", body)
	}
	// A revoked token stops working.
	toks, err := ts.srv.store.Tokens(context.Background())
	if err != nil || len(toks) != 1 {
		t.Fatalf("tokens = %+v, %v", toks, err)
	}
	if resp, _ := ts.form(t, "/tokens/revoke", url.Values{"id": {fmt.Sprint(toks[0].ID)}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("revoke: %d", resp.StatusCode)
	}
	if resp, _ := ts.do(t, "GET", "/api/v1/runs", nil, bearer); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token: %d; want 401", resp.StatusCode)
	}
	// Both drift alerts (a new failure and a fix) reach the receiver, and
	// nothing else.
	outboxDelivered(t, ts)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("alerts received: %v; want 2", got)
	}
}

// outboxDelivered waits until the alert dispatcher (the server's own
// background loop) has delivered every alert in the outbox: the uploads
// enqueue theirs in the run's transaction, so once nothing is pending the
// receiver has had all there will be.
func outboxDelivered(t *testing.T, ts *testServer) {
	t.Helper()
	testenv.Poll(t, 20*time.Second, "alerts delivered", func() error {
		st, err := ts.srv.store.OutboxStats(context.Background())
		if err != nil {
			return err
		}
		if st.Pending > 0 {
			return fmt.Errorf("outbox %+v", st)
		}
		return nil
	})
}

// The waivers page lists each waiver and attestation with its expiry.
func TestExceptionsPage(t *testing.T) {
	wf, err := waiver.Parse(strings.NewReader(`waivers:
  - {rule: TLS-002, target: "gw*", reason: legacy clients until the migration, by: ops, expires: 2099-12-31}
  - {rule: HTTP-001, reason: vendor banner, by: ops, expires: 2001-01-01}
attestations:
  - {rule: MON-001, evidence: Grafana dashboards and PagerDuty, by: sre, expires: 2099-06-30}
`), "w.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	set := &waiver.Set{}
	set.Add(wf)
	ts := startServer(t, "", func(o *Options) { o.Exceptions = set })
	ts.signUp(t)
	resp, body := ts.do(t, "GET", "/exceptions", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("exceptions: %d", resp.StatusCode)
	}
	for _, want := range []string{"legacy clients until the migration", "2099-12-31", "Grafana dashboards", "attestation", "2001-01-01 (expired)"} {
		if !strings.Contains(body, want) {
			t.Errorf("exceptions page lacks %q", want)
		}
	}
}
