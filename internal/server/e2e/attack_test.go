package e2e

import (
	"bytes"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"encoding/pem"
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
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/testenv"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// The scripted attack run of issue 12: each repro of the penetration test
// replayed against a live `rampart serve` (the real binary, default
// argon2id costs), expecting it to be refused.

// attacker is an HTTP client of the server with its own cookies, from a
// chosen loopback source address.
type attacker struct {
	t    *testing.T
	p    *serveProc
	c    *http.Client
	mu   sync.Mutex
	csrf string // the last form token seen
}

func (p *serveProc) attacker(t *testing.T, from string) *attacker {
	jar, _ := cookiejar.New(nil)
	tr := p.client.Transport.(*http.Transport).Clone()
	if from != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
		tr.DialContext = d.DialContext
	}
	return &attacker{t: t, p: p, c: &http.Client{Jar: jar, Timeout: 2 * time.Minute, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var formTokenRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (a *attacker) do(method, path string, body io.Reader, hdr map[string]string) (*http.Response, string) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.p.base+path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := a.c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := formTokenRE.FindStringSubmatch(string(b)); m != nil {
		a.mu.Lock()
		a.csrf = html.UnescapeString(m[1])
		a.mu.Unlock()
	}
	return resp, string(b)
}

// token reads a form token from a page, as a browser has it.
func (a *attacker) token(page string) string {
	a.t.Helper()
	a.mu.Lock()
	a.csrf = ""
	a.mu.Unlock()
	a.do("GET", page, nil, nil)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.csrf == "" {
		a.t.Fatalf("no form token on %s", page)
	}
	return a.csrf
}

func (a *attacker) post(path string, v url.Values, hdr map[string]string) (*http.Response, string) {
	a.t.Helper()
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, x := range hdr {
		h[k] = x
	}
	return a.do("POST", path, strings.NewReader(v.Encode()), h)
}

func (a *attacker) upload(tok string, r *finding.Report) (int, string) {
	a.t.Helper()
	b, _ := json.Marshal(r)
	resp, body := a.do("POST", "/api/v1/runs", bytes.NewReader(b), map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
	return resp.StatusCode, body
}

func report(at time.Time, fs ...finding.Finding) *finding.Report {
	return &finding.Report{SchemaVersion: finding.SchemaVersion, Tool: finding.Tool{Name: "rampart", Version: "attack"}, StartedAt: at.Add(-time.Second), FinishedAt: at, Findings: fs}
}

func fail(target, rule string) finding.Finding {
	return finding.Finding{RuleID: rule, Title: rule, Target: target, Status: finding.Fail, Severity: finding.High, Domain: "tls",
		Fingerprint: finding.Fingerprint(target, rule, "")}
}

var newTokenRE = regexp.MustCompile(`id="new-token">([^<]+)<`)

func (a *attacker) newToken(name, role, targets string) string {
	a.t.Helper()
	_, body := a.post("/tokens", url.Values{"name": {name}, "role": {role}, "targets": {targets}, "csrf": {a.token("/tokens")}}, nil)
	m := newTokenRE.FindStringSubmatch(body)
	if m == nil {
		a.t.Fatalf("no new token on the page")
	}
	return m[1]
}

func TestAttackReplay(t *testing.T) {
	dir := t.TempDir()
	secretPath := "/services/T0/B0/XwebhooksecretX"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hook := "http://" + ln.Addr().String() + secretPath + "?token=XtokenX"
	ln.Close() // nobody answers there: deliveries fail with the URL in Go's error
	cfg := fmt.Sprintf("listen: 127.0.0.1:0\ndata_dir: data\ntls: {hosts: [rampart.example.test]}\nalerts:\n  destinations:\n    - {name: chat, url: %q, format: slack}\n", hook)
	p := startServe(t, dir, cfg)
	setup := setupRE.FindStringSubmatch(p.out.String())
	if setup == nil {
		t.Fatalf("no setup token:\n%s", p.out)
	}

	// Three concurrent first-admin setups with one token: one admin.
	var wg sync.WaitGroup
	codes := make([]string, 3)
	for i := range 3 {
		b := p.attacker(t, "")
		tok := b.token("/setup")
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := b.post("/setup", url.Values{"token": {setup[1]}, "username": {fmt.Sprint("admin", i)}, "password": {"the admin's password"}, "csrf": {tok}}, nil)
			codes[i] = resp.Header.Get("Location")
		}()
	}
	wg.Wait()
	admins := 0
	var admin *attacker
	var adminName string
	for i, loc := range codes {
		if loc == "/" {
			admins++
			adminName = fmt.Sprint("admin", i)
		}
	}
	if admins != 1 {
		t.Fatalf("concurrent setup: %v; want exactly one admin created", codes)
	}
	admin = p.attacker(t, "127.0.0.1")
	if resp, _ := admin.post("/login", url.Values{"username": {adminName}, "password": {"the admin's password"}, "csrf": {admin.token("/login")}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin sign-in: %d", resp.StatusCode)
	}
	t.Log("refused: concurrent setup with one token (1 admin of 3 attempts)")

	// A bogus Bearer header beside the session cookie, no form token.
	if resp, _ := admin.post("/users", url.Values{"username": {"mallory"}, "role": {"admin"}}, map[string]string{"Authorization": "Bearer junk"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("forged POST /users with a Bearer header: %d; want 403", resp.StatusCode)
	} else {
		t.Log("refused: CSRF bypass with an Authorization header")
	}

	// 30 parallel wrong passwords from 127.0.0.3 for the admin.
	mal := p.attacker(t, "127.0.0.3")
	tok := mal.token("/login")
	rssBefore := peakRSS(p.cmd.Process.Pid)
	start := time.Now()
	results := make([]int, 30)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := mal.post("/login", url.Values{"username": {adminName}, "password": {fmt.Sprint("guess ", i)}, "csrf": {tok}}, nil)
			results[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	took := time.Since(start)
	evaluated := 0
	for _, c := range results {
		if c == http.StatusUnauthorized {
			evaluated++
		} else if c != http.StatusTooManyRequests {
			t.Errorf("a parallel wrong password got %d", c)
		}
	}
	if evaluated > 5 {
		t.Errorf("%d of 30 parallel wrong passwords were evaluated; want at most 5", evaluated)
	}
	rssAfter := peakRSS(p.cmd.Process.Pid)
	t.Logf("refused: password race (%d of 30 evaluated, all answered within %s, peak RSS %s before, %s after)", evaluated, took.Round(time.Millisecond), rssBefore, rssAfter)
	if kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(rssAfter, "kB"))); err == nil && kb > 600<<10 {
		t.Errorf("peak RSS %d MiB after the password flood", kb>>10)
	}
	// The owner, from their own address, is not locked out.
	owner := p.attacker(t, "127.0.0.4")
	if resp, _ := owner.post("/login", url.Values{"username": {adminName}, "password": {"the admin's password"}, "csrf": {owner.token("/login")}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the owner after someone else's wrong passwords: %d; want 303", resp.StatusCode)
	} else {
		t.Log("refused: locking the account out from another address")
	}

	// Bad API tokens do not lock out a valid one from the same address.
	upTok := admin.newToken("ci-gw", "uploader", "gw-*")
	viewTok := admin.newToken("grafana", "viewer", "")
	for i := range 6 {
		admin.do("GET", "/api/v1/runs", nil, map[string]string{"Authorization": fmt.Sprintf("Bearer rampart_guess%040d", i)})
	}
	if resp, _ := admin.do("GET", "/api/v1/runs", nil, map[string]string{"Authorization": "Bearer " + viewTok}); resp.StatusCode != 200 {
		t.Errorf("a valid token after 6 bad ones from its address: %d; want 200", resp.StatusCode)
	} else {
		t.Log("refused: locking out valid API tokens with bad ones")
	}

	// Uploads: another target, a forged waiver, a timestamp from the future.
	now := time.Now().UTC()
	if code, _ := admin.upload(upTok, report(now, fail("db-1", "TLS-001"))); code != http.StatusForbidden {
		t.Errorf("a gw-* token writing db-1: %d; want 403", code)
	}
	if code, _ := admin.upload(upTok, report(now.Add(48*time.Hour), fail("gw-1", "TLS-001"))); code != http.StatusBadRequest {
		t.Errorf("an upload finishing in two days: %d; want 400", code)
	}
	base := fail("gw-1", "TLS-002")
	base.Status = finding.Pass
	if code, body := admin.upload(upTok, report(now.Add(-time.Minute), base)); code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	forged := fail("gw-1", "TLS-002")
	forged.Status = finding.Waived
	forged.Exception = &finding.Exception{Kind: "waiver", Reason: "trust me", By: "mallory", Expires: "2099-01-01", Original: finding.Fail}
	bidi := fail("gw-\u202Etxt.exe", "TLS-003")
	if code, body := admin.upload(upTok, report(now, forged, bidi)); code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	var fl struct {
		Findings []struct {
			Rule   string `json:"rule"`
			Target string `json:"target"`
			Status string `json:"status"`
		} `json:"findings"`
	}
	if code := p.api(t, viewTok, "GET", "/api/v1/findings?target=gw-1", &fl); code != 200 || len(fl.Findings) != 1 || fl.Findings[0].Status != "fail" {
		t.Errorf("after a forged waiver: %d %+v; want TLS-002 failing", code, fl.Findings)
	} else {
		t.Log("refused: uploads outside the token's targets, from the future, with forged waivers")
	}
	_, fleet := admin.do("GET", "/", nil, nil)
	if strings.ContainsRune(fleet, '\u202E') || !strings.Contains(fleet, "gw-[U+202E]txt.exe") {
		t.Errorf("the fleet page shows the bidi override as it is")
	} else {
		t.Log("refused: a bidi override in a target name")
	}
	if resp, _ := admin.do("GET", "/api/v1/findings?target=%00", nil, map[string]string{"Authorization": "Bearer " + viewTok}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a NUL in a query: %d; want 400", resp.StatusCode)
	}
	_, auditPage := admin.do("GET", "/audit", nil, nil)
	if !strings.Contains(auditPage, "run.upload") || !strings.Contains(auditPage, "login.failed") {
		t.Errorf("the audit log lacks uploads or failed sign-ins")
	}

	// The webhook URL: the delivery fails (nobody listens); a viewer must
	// not learn the URL from the API or the log.
	p.out.wait(t, regexp.MustCompile(`alert delivery failed`), 1, 60*time.Second)
	var al struct {
		Alerts []struct {
			LastError string `json:"last_error"`
		} `json:"alerts"`
	}
	p.api(t, viewTok, "GET", "/api/v1/alerts?state=pending", &al)
	leak := strings.Contains(p.out.String(), "XwebhooksecretX")
	for _, a := range al.Alerts {
		leak = leak || strings.Contains(a.LastError, "XwebhooksecretX")
	}
	if len(al.Alerts) == 0 || leak {
		t.Errorf("webhook URL: %d alerts, leaked=%v", len(al.Alerts), leak)
	} else {
		t.Log("refused: reading the webhook URL as a viewer (API last_error, log)")
	}

	// The generated CA: name-constrained, no key on disk.
	if _, err := os.Stat(filepath.Join(p.dataDir, "ca-key.pem")); !os.IsNotExist(err) {
		t.Errorf("the CA's key is kept: %v", err)
	}
	caPEM, _ := os.ReadFile(filepath.Join(p.dataDir, "ca.pem"))
	blk, _ := pem.Decode(caPEM)
	if ca, err := x509.ParseCertificate(blk.Bytes); err != nil || !ca.PermittedDNSDomainsCritical || len(ca.PermittedDNSDomains) == 0 {
		t.Errorf("the generated CA is not name-constrained: %v", err)
	} else {
		t.Logf("refused: minting certificates with the CA (constrained to %v, key not kept)", ca.PermittedDNSDomains)
	}

	// /healthz and /readyz say the database answers.
	resp, body := admin.do("GET", "/readyz", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"database":"UP"`) {
		t.Errorf("/readyz: %d %s", resp.StatusCode, body)
	}
}

// signedIn starts a server with an admin password and signs the admin in.
func signedIn(t *testing.T, cfg string) (*serveProc, *attacker) {
	p := startServe(t, t.TempDir(), cfg, "RAMPART_ADMIN_PASSWORD=the admin's password")
	a := p.attacker(t, "")
	if resp, _ := a.post("/login", url.Values{"username": {"admin"}, "password": {"the admin's password"}, "csrf": {a.token("/login")}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin sign-in: %d", resp.StatusCode)
	}
	return p, a
}

// Two installations alerting one receiver about the same drift send
// different idempotency keys.
func TestAttackReplayTwoInstallations(t *testing.T) {
	var mu sync.Mutex
	keys := map[string]bool{}
	got := make(chan struct{}, 8)
	rcv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys[r.Header.Get("Idempotency-Key")] = true
		mu.Unlock()
		got <- struct{}{}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go rcv.Serve(ln)
	defer rcv.Close()
	cfg := fmt.Sprintf("listen: 127.0.0.1:0\ndata_dir: data\nadmin: {username: admin}\nalerts:\n  destinations:\n    - {name: hook, url: \"http://%s/hook\"}\n", ln.Addr())
	now := time.Now().UTC()
	for range 2 {
		_, a := signedIn(t, cfg)
		tok := a.newToken("ci", "uploader", "")
		pass := fail("gw-1", "TLS-001")
		pass.Status = finding.Pass
		a.upload(tok, report(now.Add(-time.Minute), pass))
		if code, body := a.upload(tok, report(now, fail("gw-1", "TLS-001"))); code != http.StatusCreated {
			t.Fatalf("upload: %d %s", code, body)
		}
		select {
		case <-got:
		case <-time.After(60 * time.Second):
			t.Fatal("no alert reached the receiver")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(keys) != 2 {
		t.Errorf("two installations' alerts for one drift carried keys %v; want two", keys)
	} else {
		t.Log("refused: one installation's alert dropped as a repeat of another's")
	}
}

// With its database unreachable, the server says so: /readyz 503,
// /healthz database DOWN, pages 503 rather than the setup page.
func TestAttackReplayDatabaseDown(t *testing.T) {
	dsn := testenv.Env(t, "RAMPART_TEST_POSTGRES", "scripts/ci/postgres.sh starts a server")
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("attack_%d", time.Now().UnixNano())
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	defer db.Exec("DROP SCHEMA " + schema + " CASCADE")
	// The server reaches PostgreSQL through a proxy the test can cut.
	px := newProxy(t, u.Host)
	u.Host = px.addr
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	p, a := signedIn(t, fmt.Sprintf("listen: 127.0.0.1:0\ndata_dir: data\nadmin: {username: admin}\nstorage: %q\n", u.String()))
	if resp, _ := a.do("GET", "/readyz", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("/readyz with the database up: %d", resp.StatusCode)
	}
	px.cut()
	for path, want := range map[string]int{"/readyz": 503, "/": 503, "/findings": 503, "/healthz": 200} {
		resp, body := a.do("GET", path, nil, nil)
		if resp.StatusCode != want || path == "/healthz" && !strings.Contains(body, `"database":"DOWN"`) || path == "/" && !strings.Contains(body, "Database unavailable") {
			t.Errorf("GET %s with the database cut off: %d %s", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	_ = p
	t.Log("refused: sending signed-in users to /setup while the database is down")
}

// proxy forwards loopback TCP connections to a target until cut.
type proxy struct {
	addr  string
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	down  bool
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	px := &proxy{addr: ln.Addr().String(), ln: ln}
	t.Cleanup(px.cut)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			px.mu.Lock()
			if px.down {
				px.mu.Unlock()
				c.Close()
				up.Close()
				return
			}
			px.conns = append(px.conns, c, up)
			px.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	return px
}

// cut closes the listener and every connection: the database is gone.
func (px *proxy) cut() {
	px.mu.Lock()
	defer px.mu.Unlock()
	px.down = true
	px.ln.Close()
	for _, c := range px.conns {
		c.Close()
	}
}
