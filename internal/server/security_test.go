package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/server/auth"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/waiver"
)

// Regression tests of the holes a penetration test found (issue 12). Each
// replays the attack and expects it to be refused.

// An Authorization header, even an invalid one, on a request that a
// browser's session cookie authenticates must not switch off the form
// token check: CSRF protection depends on how a request is
// authenticated, not on which headers it carries.
func TestBearerHeaderDoesNotSkipFormToken(t *testing.T) {
	ts := startServer(t, "schedules:\n  - {name: nightly, every: 24h}\ninventory:\n  targets:\n    - {name: a, address: 127.0.0.1:1}\n")
	ts.signUp(t)
	ctx := context.Background()
	post := func(path string, v url.Values, hdr map[string]string) int {
		h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		for k, x := range hdr {
			h[k] = x
		}
		resp, _ := ts.do(t, "POST", path, strings.NewReader(v.Encode()), h)
		return resp.StatusCode
	}
	for _, authz := range []string{"Bearer junk", "Bearer ", "Basic YWRtaW46YWRtaW4="} {
		hdr := map[string]string{"Authorization": authz}
		// A dashboard form: the session cookie authenticates it, so the
		// form token is needed whatever else is sent.
		if got := post("/users", url.Values{"username": {"mallory"}, "role": {"admin"}}, hdr); got != http.StatusForbidden {
			t.Errorf("POST /users with a session, %q and no form token: %d; want 403", authz, got)
		}
		if _, err := ts.srv.store.UserByName(ctx, "mallory"); err == nil {
			t.Fatalf("a forged post with %q created a user", authz)
		}
		// A public form (sign-out ends the session a forged post would
		// otherwise end): the token is needed too.
		if got := post("/logout", url.Values{}, hdr); got != http.StatusForbidden {
			t.Errorf("POST /logout with %q and no form token: %d; want 403", authz, got)
		}
		// An API call with a bad token is refused; the cookie beside it
		// does not stand in for the token.
		if got := post("/api/v1/schedules/run?name=nightly", url.Values{}, hdr); got != http.StatusUnauthorized {
			t.Errorf("POST /api/v1/schedules/run with a session and %q: %d; want 401", authz, got)
		}
	}
	// An API call authenticated by the session alone is a browser's: it
	// needs the form token (header) too.
	if got := post("/api/v1/schedules/run?name=nightly", url.Values{}, nil); got != http.StatusForbidden {
		t.Errorf("POST /api/v1/schedules/run with a session and no form token: %d; want 403", got)
	}
	if got := post("/api/v1/schedules/run?name=nightly", url.Values{}, map[string]string{"X-CSRF-Token": ts.csrf(t)}); got != http.StatusAccepted {
		t.Errorf("POST /api/v1/schedules/run with a session and its form token: %d; want 202", got)
	}
	// The session still works: nothing above signed it out.
	if resp, _ := ts.do(t, "GET", "/account", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("account page after the forged posts: %d", resp.StatusCode)
	}
}

// loginPoster signs in through the server's handler in-process, as one
// browser (its pre-session cookie and form token), from the address
// httptest gives (192.0.2.1).
func loginPoster(t *testing.T, ts *testServer) func(ctx context.Context, user, pass string) *httptest.ResponseRecorder {
	from := loginPosterFrom(t, ts)
	return func(ctx context.Context, user, pass string) *httptest.ResponseRecorder {
		return from(ctx, "", user, pass)
	}
}

// loginPosterFrom is loginPoster from a given address (host:port; ""
// is httptest's).
func loginPosterFrom(t *testing.T, ts *testServer) func(ctx context.Context, addr, user, pass string) *httptest.ResponseRecorder {
	h := ts.srv.Handler()
	rec := httptest.NewRecorder()
	tok := ts.srv.csrf.Token(rec, httptest.NewRequest("GET", "/login", nil))
	cookies := rec.Result().Cookies()
	return func(ctx context.Context, addr, user, pass string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"username": {user}, "password": {pass}, "csrf": {tok}}.Encode())).WithContext(ctx)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if addr != "" {
			req.RemoteAddr = addr
		}
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
}

// 30 parallel wrong passwords were all evaluated (each a 64 MiB argon2id
// hash): the limit was checked before the hash and counted after it.
// Attempts are now counted before the password is checked, so no more
// than the limit are ever evaluated, and the rest are answered 429.
func TestParallelWrongPasswordsAreCountedBeforeHashing(t *testing.T) {
	ts := startServer(t, "admin: {username: admin}\n", func(o *Options) {
		o.AdminPassword = "the owner password 1"
		o.PasswordParams = &auth.Params{Memory: 8 * 1024, Time: 1, Threads: 1}
	})
	post := loginPoster(t, ts)
	const n = 30
	codes := make([]int, n)
	retry := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := post(context.Background(), "admin", fmt.Sprintf("wrong password %d", i))
			codes[i], retry[i] = rec.Code, rec.Header().Get("Retry-After")
		}()
	}
	wg.Wait()
	evaluated := 0
	for i, c := range codes {
		switch c {
		case http.StatusUnauthorized:
			evaluated++
		case http.StatusTooManyRequests:
			if retry[i] == "" {
				t.Errorf("attempt %d: 429 without Retry-After", i)
			}
		default:
			t.Errorf("attempt %d: %d; want 401 or 429", i, c)
		}
	}
	if evaluated > 5 {
		t.Errorf("%d of %d parallel wrong passwords were evaluated; the limit is 5", evaluated, n)
	}
	t.Logf("%d evaluated, %d refused", evaluated, n-evaluated)
}

// At most HashSlots passwords are hashed at once; a sign-in that finds
// every slot taken is answered 429 at once rather than queued.
func TestPasswordHashingIsBounded(t *testing.T) {
	ts := startServer(t, "admin: {username: admin}\n", func(o *Options) { o.AdminPassword = "the owner password 1" })
	post := loginPoster(t, ts)
	for range HashSlots {
		if !ts.srv.hashing.TryAcquire() {
			t.Fatal("a hashing slot is taken with no sign-in under way")
		}
	}
	rec := post(context.Background(), "admin", "the owner password 1")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("sign-in with every hashing slot taken: %d (Retry-After %q); want 429 at once", rec.Code, rec.Header().Get("Retry-After"))
	}
	for range HashSlots {
		ts.srv.hashing.Release()
	}
	if rec := post(context.Background(), "admin", "the owner password 1"); rec.Code != http.StatusSeeOther {
		t.Errorf("sign-in with free slots: %d; want 303", rec.Code)
	}
}

// A client that hangs up mid-sign-in does not erase the audit trail: the
// lock-out its failures caused is recorded all the same.
func TestLoginAuditKeptWhenClientHangsUp(t *testing.T) {
	ts := startServer(t, "admin: {username: admin}\n", func(o *Options) { o.AdminPassword = "the owner password 1" })
	post := loginPoster(t, ts)
	for i := range 4 {
		if rec := post(context.Background(), "admin", fmt.Sprint("wrong ", i)); rec.Code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i, rec.Code)
		}
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	post(gone, "admin", "wrong 5")
	es, err := ts.srv.store.AuditLog(context.Background(), 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Action == "login.locked" && e.Subject == "admin" {
			return
		}
	}
	t.Errorf("no login.locked entry after the fifth failure from a client that hung up: %+v", es)
}

// clock is a settable time for a server under test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// Five wrong passwords for a name locked that account for everyone:
// anyone could lock any account. The lock-out is now per account and
// source address, doubling each time, so the owner signs in from their
// own address meanwhile; every failed sign-in is in the audit log.
func TestLockoutIsPerAccountAndAddress(t *testing.T) {
	clk := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	ts := startServer(t, "admin: {username: admin}\n", func(o *Options) {
		o.AdminPassword = "the owner password 1"
		o.Now = clk.Now
	})
	post := loginPosterFrom(t, ts)
	const attacker, owner = "203.0.113.66:4000", "198.51.100.7:5000"
	for i := range 5 {
		if rec := post(context.Background(), attacker, "admin", fmt.Sprint("guess ", i)); rec.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, rec.Code)
		}
	}
	if rec := post(context.Background(), attacker, "admin", "guess 6"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("sixth guess from the attacker: %d; want 429", rec.Code)
	}
	if rec := post(context.Background(), owner, "admin", "the owner password 1"); rec.Code != http.StatusSeeOther {
		t.Errorf("the owner from their own address while the attacker is locked out: %d; want 303 (signed in)", rec.Code)
	}
	// Backoff: the first lock-out lasts 15 minutes, the next 30.
	clk.Add(15*time.Minute + time.Second)
	for i := range 5 {
		if rec := post(context.Background(), attacker, "admin", fmt.Sprint("again ", i)); rec.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d after the first lock-out: %d", i, rec.Code)
		}
	}
	clk.Add(15*time.Minute + time.Second)
	if rec := post(context.Background(), attacker, "admin", "still"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("15 minutes into the second lock-out: %d; want 429 (it lasts 30)", rec.Code)
	}
	clk.Add(15 * time.Minute)
	if rec := post(context.Background(), attacker, "admin", "later"); rec.Code != http.StatusUnauthorized {
		t.Errorf("after the second lock-out: %d; want 401", rec.Code)
	}
	es, err := ts.srv.store.AuditLog(context.Background(), 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	failed, locked := 0, 0
	for _, e := range es {
		switch e.Action {
		case "login.failed":
			failed++
			if e.Subject != "admin" || e.Addr != "203.0.113.66" || e.Detail != "wrong password" {
				t.Errorf("failed sign-in entry %+v", e)
			}
		case "login.locked":
			locked++
		}
	}
	if failed != 11 || locked != 2 {
		t.Errorf("audit log: %d failed sign-ins and %d lock-outs; want 11 and 2", failed, locked)
	}
}

// The API-token limiter blocked a client's valid token after five bad
// ones from its address, and counted a database outage as bad tokens.
// It now limits per token prefix and address, and never counts the
// server's own errors (503).
func TestAPITokenLimiterPerPrefixAndNotOnOutage(t *testing.T) {
	fs := &faultStore{}
	ts := startServer(t, "", withFaultStore(fs))
	good := ts.signUp(t)
	get := func(tok string) int {
		resp, _ := ts.do(t, "GET", "/api/v1/runs", nil, map[string]string{"Authorization": "Bearer " + tok})
		return resp.StatusCode
	}
	for i := range 6 {
		want := http.StatusUnauthorized
		if i == 5 {
			want = http.StatusTooManyRequests
		}
		if got := get(fmt.Sprintf("rampart_guessing%035d", i)); got != want {
			t.Errorf("bad token %d: %d; want %d", i, got, want)
		}
	}
	if got := get(good); got != http.StatusOK {
		t.Errorf("a valid token after bad ones from the same address: %d; want 200", got)
	}
	fs.down.Store(true)
	for i := range 8 {
		if got := get(good); got != http.StatusServiceUnavailable {
			t.Errorf("valid token while the database is down (%d): %d; want 503", i, got)
		}
	}
	fs.down.Store(false)
	if got := get(good); got != http.StatusOK {
		t.Errorf("valid token once the database is back: %d; want 200 (an outage is not a bad token)", got)
	}
}

// With the database down, /healthz said UP and signed-in users were sent
// to /setup (no user could be counted, so none seemed to exist). Now
// /healthz reports the database, /readyz fails, and pages and the API say
// the database is unavailable (503).
func TestDatabaseDownIsReported(t *testing.T) {
	fs := &faultStore{}
	ts := startServer(t, "", withFaultStore(fs))
	tok := ts.signUp(t)
	health := func(path string) (int, map[string]string) {
		resp, body := ts.do(t, "GET", path, nil, nil)
		var v map[string]string
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("%s: %d %q", path, resp.StatusCode, body)
		}
		return resp.StatusCode, v
	}
	if code, v := health("/healthz"); code != 200 || v["database"] != "UP" {
		t.Errorf("/healthz with the database up: %d %v", code, v)
	}
	if code, _ := health("/readyz"); code != 200 {
		t.Errorf("/readyz with the database up: %d", code)
	}
	fs.down.Store(true)
	if code, v := health("/healthz"); code != 200 || v["database"] != "DOWN" {
		t.Errorf("/healthz with the database down: %d %v; want 200 saying database DOWN", code, v)
	}
	if code, v := health("/readyz"); code != http.StatusServiceUnavailable || v["database"] != "DOWN" {
		t.Errorf("/readyz with the database down: %d %v; want 503", code, v)
	}
	for _, p := range []string{"/", "/findings", "/login", "/setup"} {
		resp, body := ts.do(t, "GET", p, nil, nil)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "Database unavailable") {
			t.Errorf("GET %s with the database down: %d %s; want 503 saying so", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	for _, hdr := range []map[string]string{nil, {"Authorization": "Bearer " + tok}} {
		if resp, _ := ts.do(t, "GET", "/api/v1/targets", nil, hdr); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("GET /api/v1/targets (%v) with the database down: %d; want 503", hdr, resp.StatusCode)
		}
	}
	fs.down.Store(false)
	if resp, _ := ts.do(t, "GET", "/", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("fleet page once the database is back: %d; the session should still work", resp.StatusCode)
	}
}

// Three concurrent POST /setup with one setup token created three
// admins. Setup is now one transaction that consumes the token.
func TestConcurrentSetupCreatesOneAdmin(t *testing.T) {
	ts := startServer(t, "", func(o *Options) { o.PasswordParams = &auth.Params{Memory: 8 * 1024, Time: 1, Threads: 1} })
	m := setupTokenRE.FindStringSubmatch(ts.notice.String())
	if m == nil {
		t.Fatal("no setup token printed")
	}
	const n = 3
	locs := make([]string, n)
	browsers, toks := make([]*testServer, n), make([]string, n)
	for i := range n {
		browsers[i] = ts.browser()
		toks[i] = browsers[i].csrf(t)
	}
	var wg sync.WaitGroup
	for i := range n {
		b, tok := browsers[i], toks[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := url.Values{"token": {m[1]}, "username": {fmt.Sprint("admin", i)}, "password": {"a long test password"}, "csrf": {tok}}
			req, _ := http.NewRequest("POST", b.base+"/setup", strings.NewReader(v.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := b.client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			locs[i] = fmt.Sprint(resp.StatusCode, " ", resp.Header.Get("Location"))
		}()
	}
	wg.Wait()
	users, err := ts.srv.store.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 {
		t.Errorf("%d concurrent setups with one token made %d accounts (%v); want 1", n, len(users), locs)
	}
}

// Two servers that saw the same drift sent the same idempotency key, so
// a receiver shared by both dropped one server's alert as a repeat. Keys
// now include a per-installation ID.
func TestAlertKeysDifferAcrossInstallations(t *testing.T) {
	var mu sync.Mutex
	keys := map[string]int{}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys[r.Header.Get("Idempotency-Key")]++
		mu.Unlock()
	}))
	defer rcv.Close()
	extra := fmt.Sprintf("alerts:\n  destinations:\n    - {name: rcv, url: %q}\n", rcv.URL+"/hook")
	t0 := time.Now().UTC().Add(-time.Hour)
	const a = "https://gw.example.test/"
	for range 2 {
		ts := startServer(t, extra)
		tok := ts.signUp(t)
		bearer := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
		for i, st := range []finding.Status{finding.Pass, finding.Fail} {
			if resp, body := ts.do(t, "POST", "/api/v1/runs", bytes.NewReader(uploadReport(t0.Add(time.Duration(i)*time.Minute), fnd(a, "TLS-001", st, finding.High))), bearer); resp.StatusCode != 201 {
				t.Fatalf("upload: %d %s", resp.StatusCode, body)
			}
		}
		ts.srv.dispatch.Flush(context.Background())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(keys) != 2 {
		t.Errorf("two servers' alerts for the same new failure arrived with keys %v; want two different keys", keys)
	}
}

// A webhook URL that is itself a credential (a Slack-style path, a token
// in the query) was shown to viewers on the alerts page and in the API's
// last_error, and written to the log and the outbox: Go's HTTP client
// puts the URL in its errors. It is now kept encrypted in the store,
// shown to admins only, and redacted everywhere else.
func TestWebhookURLIsNotShownToViewers(t *testing.T) {
	const secret = "XsecretpathX"
	// One receiver that answers 500 and echoes the request (path and
	// query), one address nobody listens on.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "cannot take "+r.URL.RequestURI(), http.StatusInternalServerError)
	}))
	defer echo.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	echoURL := echo.URL + "/services/T0/B0/" + secret + "?token=" + secret + "q"
	deadURL := "http://" + closed + "/hooks/" + secret + "d?token=" + secret + "t"
	logs := &syncBuffer{}
	extra := fmt.Sprintf("alerts:\n  destinations:\n    - {name: chat, url: %q, format: slack}\n    - {name: ops, url: %q}\n", echoURL, deadURL)
	ts := startServer(t, extra, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	tok := ts.signUp(t)
	bearer := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
	t0 := time.Now().UTC().Add(-time.Hour)
	const a = "https://gw.example.test/"
	for i, st := range []finding.Status{finding.Pass, finding.Fail} {
		if resp, body := ts.do(t, "POST", "/api/v1/runs", bytes.NewReader(uploadReport(t0.Add(time.Duration(i)*time.Minute), fnd(a, "TLS-001", st, finding.High))), bearer); resp.StatusCode != 201 {
			t.Fatalf("upload: %d %s", resp.StatusCode, body)
		}
	}
	ctx := context.Background()
	ts.srv.dispatch.Flush(ctx)
	items, err := ts.srv.store.Outbox(ctx, store.OutboxPending, 100)
	if err != nil {
		t.Fatal(err)
	}
	tried := 0
	for _, it := range items {
		if it.Attempts > 0 {
			tried++
		}
		if strings.Contains(it.LastError, secret) {
			t.Errorf("the outbox keeps the URL in last_error: %q", it.LastError)
		}
	}
	if tried != 2 {
		t.Fatalf("%d items were tried; want one per destination", tried)
	}
	// The viewer's alerts page and the API.
	_, body := ts.form(t, "/users", url.Values{"username": {"vic"}, "role": {"viewer"}})
	vic := ts.browser()
	if resp, _ := vic.redeem(t, inviteLink(t, body), "viewer password 1"); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("viewer setup")
	}
	resp, page := vic.do(t, "GET", "/alerts", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "Being retried") {
		t.Fatalf("viewer's alerts page: %d", resp.StatusCode)
	}
	_, api := vic.do(t, "GET", "/api/v1/alerts?state=pending", nil, nil)
	if !strings.Contains(api, "last_error") {
		t.Fatalf("the API shows no last_error: %s", api)
	}
	viewerToken, err := ts.srv.IssueTokenWithRole(ctx, "viewer-token", "vic", auth.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	_, api2 := ts.browser().do(t, "GET", "/api/v1/alerts?state=pending", nil, map[string]string{"Authorization": "Bearer " + viewerToken})
	for what, text := range map[string]string{"viewer's alerts page": page, "API last_error (session)": api, "API (token)": api2, "log": logs.String()} {
		if strings.Contains(text, secret) {
			t.Errorf("the %s shows the webhook URL's secret part", what)
		}
	}
	// The admin sees the URLs in full.
	if _, page := ts.do(t, "GET", "/alerts", nil, nil); !strings.Contains(page, html.EscapeString(echoURL)) {
		t.Errorf("the admin's alerts page does not show the destination's URL")
	}
	// Kept encrypted in the store: no setting holds it in clear.
	for _, k := range []string{"alert.url.chat", "alert.url.ops"} {
		v, err := ts.srv.store.Setting(ctx, k)
		if err != nil || strings.Contains(v, secret) || !strings.HasPrefix(v, "v1:") {
			t.Errorf("setting %s = %q, %v; want the URL sealed", k, v, err)
		}
	}
}

// Uploader tokens could write any target, mark failures fixed, forge
// waivers and set any timestamps, and uploads were not audited. Tokens
// are now scoped to target patterns, a report's own waivers and
// attestations are ignored (the server applies its configured ones),
// finishedAt must be a scan just made, and every upload is audited.
func TestUploadsAreConfined(t *testing.T) {
	wf, err := waiver.Parse(strings.NewReader("waivers:\n  - {rule: TLS-003, target: \"gw-*\", reason: server-side waiver, by: ops, expires: 2099-12-31}\n"), "w.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	set := &waiver.Set{}
	set.Add(wf)
	ts := startServer(t, "", func(o *Options) { o.Exceptions = set })
	ts.signUp(t)
	ctx := context.Background()
	scoped, err := ts.srv.IssueScopedToken(ctx, "gw-pipeline", "admin", auth.RoleUploader, []string{"gw-*"})
	if err != nil {
		t.Fatal(err)
	}
	up := func(body []byte) (int, string) {
		resp, b := ts.browser().do(t, "POST", "/api/v1/runs", bytes.NewReader(body), map[string]string{"Authorization": "Bearer " + scoped, "Content-Type": "application/json"})
		return resp.StatusCode, b
	}
	now := time.Now().UTC()
	if code, body := up(uploadReport(now, fnd("db-1", "TLS-001", finding.Pass, finding.High))); code != http.StatusForbidden {
		t.Errorf("a gw-* token uploading db-1: %d %s; want 403", code, body)
	}
	if code, body := up(uploadReport(now.Add(-72*time.Hour), fnd("gw-1", "TLS-001", finding.Pass, finding.High))); code != http.StatusBadRequest {
		t.Errorf("a scan finished 3 days ago: %d %s; want 400", code, body)
	}
	if code, body := up(uploadReport(now.Add(time.Hour), fnd("gw-1", "TLS-001", finding.Pass, finding.High))); code != http.StatusBadRequest {
		t.Errorf("a scan finishing in an hour: %d %s; want 400", code, body)
	}
	forged := fnd("gw-1", "TLS-001", finding.Waived, finding.High)
	forged.Exception = &finding.Exception{Kind: "waiver", Reason: "trust me", By: "mallory", Expires: "2099-01-01", Original: finding.Fail}
	attested := fnd("gw-1", "LOG-003", finding.Attested, finding.Medium)
	attested.Exception = &finding.Exception{Kind: "attestation", Reason: "trust me", By: "mallory", Expires: "2099-01-01", Original: finding.Manual}
	serverWaived := fnd("gw-1", "TLS-003", finding.Fail, finding.High)
	code, body := up(uploadReport(now, forged, attested, serverWaived))
	if code != http.StatusCreated || !strings.Contains(body, `"exceptions_ignored":2`) {
		t.Fatalf("upload in scope: %d %s", code, body)
	}
	recs, err := ts.srv.store.Findings(ctx, store.Filter{Target: "gw-1"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]finding.Status{}
	for _, r := range recs {
		got[r.RuleID] = r.Status
		if r.RuleID != "TLS-003" && r.Exception != nil {
			t.Errorf("%s kept the report's exception %+v", r.RuleID, r.Exception)
		}
	}
	if got["TLS-001"] != finding.Fail || got["LOG-003"] != finding.Manual || got["TLS-003"] != finding.Waived {
		t.Errorf("stored statuses %v; want TLS-001 fail (forged waiver ignored), LOG-003 manual, TLS-003 waived by the server's file", got)
	}
	es, err := ts.srv.store.AuditLog(ctx, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	uploads := 0
	for _, e := range es {
		if e.Action == "run.upload" {
			uploads++
			if e.Actor != "token:gw-pipeline (admin)" || !strings.HasPrefix(e.Subject, "run ") || !strings.Contains(e.Detail, "2 waivers/attestations in the report ignored") {
				t.Errorf("upload audit entry %+v", e)
			}
		}
	}
	if uploads != 1 {
		t.Errorf("%d run.upload audit entries; want 1 (refused uploads store nothing)", uploads)
	}
}

// Unicode bidirectional overrides and invisible characters in names
// reached every page and export as they were (a target named
// "gw-\u202Etxt.exe" reads "gw-exe.txt"), and NUL bytes made PostgreSQL
// fail with a 500. They are now made visible everywhere, and NUL bytes
// are refused with 400 on both stores.
func TestInvisibleCharactersAndNUL(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testInvisibleCharactersAndNUL(t, "") })
	t.Run("postgres", func(t *testing.T) { testInvisibleCharactersAndNUL(t, postgresDSN(t)) })
}

func testInvisibleCharactersAndNUL(t *testing.T, storage string) {
	extra := ""
	if storage != "" {
		extra = "storage: \"" + storage + "\"\n"
	}
	ts := startServer(t, extra)
	tok := ts.signUp(t)
	bearer := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
	const name = "gw-\u202Etxt.exe"
	f := fnd(name, "TLS-001", finding.Fail, finding.High)
	f.Message = "zero\u200Bwidth and \u2066isolated\u2069"
	f.Evidence = []finding.Evidence{{Source: "conf\u200F", Value: "v\uFEFF"}}
	if resp, body := ts.do(t, "POST", "/api/v1/runs", bytes.NewReader(uploadReport(time.Now().UTC(), f)), bearer); resp.StatusCode != 201 {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	for _, p := range []string{"/", "/target?name=" + url.QueryEscape(name), "/findings?status=fail", "/runs", "/run?id=1", "/run/report.html?id=1", "/diff?a=1&b=1",
		"/api/v1/targets", "/api/v1/target?name=" + url.QueryEscape(name), "/api/v1/findings", "/api/v1/run/findings?id=1"} {
		resp, body := ts.do(t, "GET", p, nil, nil)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
			continue
		}
		for _, r := range []rune{'\u202E', '\u200B', '\u2066', '\u200F', '\uFEFF'} {
			if strings.ContainsRune(body, r) {
				t.Errorf("GET %s carries %U as it is", p, r)
			}
		}
		if shows := !strings.HasPrefix(p, "/runs") && !strings.HasPrefix(p, "/diff") && !strings.HasPrefix(p, "/findings"); shows && !strings.Contains(body, "[U+202E]") {
			t.Errorf("GET %s does not show the override as [U+202E]", p)
		}
	}
	// NUL bytes: in an upload, a query and a form.
	nul := fnd("gw-\x00-1", "TLS-001", finding.Fail, finding.High)
	if resp, body := ts.do(t, "POST", "/api/v1/runs", bytes.NewReader(uploadReport(time.Now().UTC(), nul)), bearer); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("upload with a NUL in a target name: %d %s; want 400", resp.StatusCode, body)
	}
	for _, p := range []string{"/api/v1/findings?target=a%00b", "/findings?target=a%00b", "/api/v1/target?name=%00"} {
		if resp, _ := ts.do(t, "GET", p, nil, bearer); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %d; want 400", p, resp.StatusCode)
		}
	}
	if resp, _ := ts.form(t, "/tokens", url.Values{"name": {"a\x00b"}, "role": {"viewer"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a token name with a NUL: %d; want 400", resp.StatusCode)
	}
	if resp, _ := ts.browser().form(t, "/login", url.Values{"username": {"admin\x00"}, "password": {"x"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a user name with a NUL at sign-in: %d; want 400", resp.StatusCode)
	}
}
