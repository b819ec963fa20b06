package server

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/server/auth"
	"github.com/rampart-sec/rampart/internal/store"
)

// browser returns another client of the same server with its own cookies
// (another person, another browser).
func (ts *testServer) browser() *testServer {
	c := *ts
	jar, _ := cookiejar.New(nil)
	c.client = &http.Client{Jar: jar, Timeout: ts.client.Timeout, Transport: ts.client.Transport, CheckRedirect: ts.client.CheckRedirect}
	return &c
}

// signIn signs a browser in with a password.
func (ts *testServer) signIn(t *testing.T, user, pass string) {
	t.Helper()
	resp, body := ts.form(t, "/login", url.Values{"username": {user}, "password": {pass}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign in %s: %d %s", user, resp.StatusCode, body)
	}
}

var inviteLinkRE = regexp.MustCompile(`id="invite-link">([^<]+)<`)

// inviteLink is the setup link on a users page.
func inviteLink(t *testing.T, body string) string {
	t.Helper()
	m := inviteLinkRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no setup link on the page:\n%s", body)
	}
	return html.UnescapeString(m[1])
}

// redeem opens a setup link in a browser and chooses a password; it
// returns the answer to the form.
func (ts *testServer) redeem(t *testing.T, link, pass string) (*http.Response, string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := ts.do(t, "GET", u.RequestURI(), nil, nil); resp.StatusCode != 200 {
		return resp, body
	}
	return ts.form(t, "/invite", url.Values{"token": {u.Query().Get("token")}, "password": {pass}, "password2": {pass}})
}

// userID finds a user's ID in the store.
func (ts *testServer) userID(t *testing.T, name string) string {
	t.Helper()
	u, err := ts.srv.store.UserByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(u.ID)
}

// The routing table's permissions, written out independently of the
// code: a new route or a changed permission fails here until it is
// decided on purpose.
var wantPerms = map[string]auth.Perm{
	"GET /static/": auth.PermPublic, "GET /healthz": auth.PermPublic, "GET /readyz": auth.PermPublic,
	"GET /login": auth.PermPublic, "POST /login": auth.PermPublic,
	"GET /setup": auth.PermPublic, "POST /setup": auth.PermPublic,
	"GET /invite": auth.PermPublic, "POST /invite": auth.PermPublic,
	"POST /logout": auth.PermPublic,

	"GET /{$}": auth.PermRead, "GET /target": auth.PermRead, "GET /runs": auth.PermRead, "GET /run": auth.PermRead,
	"GET /run/report.html": auth.PermRead, "GET /diff": auth.PermRead, "GET /findings": auth.PermRead, "GET /findings.csv": auth.PermRead, "GET /rules": auth.PermRead, "GET /rule": auth.PermRead, "GET /audit.csv": auth.PermAdmin, "GET /api/v1/audit": auth.PermAdmin,
	"GET /exceptions": auth.PermRead, "GET /monitor": auth.PermRead,
	"GET /account": auth.PermSelf, "POST /account/password": auth.PermSelf,
	"POST /schedules/run": auth.PermAdmin,
	"GET /tokens":         auth.PermAdmin, "POST /tokens": auth.PermAdmin, "POST /tokens/revoke": auth.PermAdmin,
	"GET /users": auth.PermAdmin, "POST /users": auth.PermAdmin, "POST /users/role": auth.PermAdmin,
	"POST /users/disable": auth.PermAdmin, "POST /users/enable": auth.PermAdmin, "POST /users/reset": auth.PermAdmin,
	"POST /users/delete": auth.PermAdmin, "GET /audit": auth.PermAdmin,
	"GET /alerts": auth.PermRead, "POST /alerts/retry": auth.PermAdmin, "POST /alerts/discard": auth.PermAdmin,
	"GET /zones": auth.PermRead, "GET /zones/exposure": auth.PermRead, "POST /zones/agents": auth.PermAdmin,
	"POST /zones/agents/revoke": auth.PermAdmin, "GET /zones/nats.conf": auth.PermAdmin,
	"GET /api/v1/zones": auth.PermRead, "GET /api/v1/exposure": auth.PermRead, "POST /api/v1/zones/agents": auth.PermAdmin,
	"POST /api/v1/zones/agents/revoke": auth.PermAdmin,

	"GET /api/v1/runs": auth.PermRead, "POST /api/v1/runs": auth.PermUpload, "GET /api/v1/run": auth.PermRead,
	"GET /api/v1/run/findings": auth.PermRead, "GET /api/v1/targets": auth.PermRead, "GET /api/v1/target": auth.PermRead,
	"GET /api/v1/findings": auth.PermRead, "GET /api/v1/diff": auth.PermRead, "GET /api/v1/health": auth.PermRead,
	"POST /api/v1/schedules/run": auth.PermAdmin, "GET /metrics": auth.PermRead,
	"GET /oidc/login": auth.PermPublic, "GET /oidc/callback": auth.PermPublic,
	"GET /api/v1/alerts": auth.PermRead, "POST /api/v1/alerts/retry": auth.PermAdmin, "POST /api/v1/alerts/discard": auth.PermAdmin,
}

// Every route, walked with every kind of caller: anonymous, a viewer and
// an admin signed in, and API tokens of each role (one an admin token
// whose owner was demoted to viewer). A caller whose role lacks the
// route's permission gets 403 (or the sign-in page, for pages without a
// session); one whose role has it gets past the check.
func TestEveryRouteEnforcesRoles(t *testing.T) {
	ts := startServer(t, "")
	ts.signUp(t)
	ctx := context.Background()
	_, body := ts.form(t, "/users", url.Values{"username": {"vic"}, "role": {"viewer"}})
	vic := ts.browser()
	if resp, body := vic.redeem(t, inviteLink(t, body), "viewer password 1"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("viewer setup: %d %s", resp.StatusCode, body)
	}
	// dora is an admin with an admin token, then demoted to viewer.
	_, body = ts.form(t, "/users", url.Values{"username": {"dora"}, "role": {"admin"}})
	if resp, _ := ts.browser().redeem(t, inviteLink(t, body), "dora password 1"); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("dora setup")
	}
	tokens := map[string]string{}
	for _, r := range auth.TokenRoles() {
		tok, err := ts.srv.IssueTokenWithRole(ctx, "walk-"+string(r), "admin", r)
		if err != nil {
			t.Fatal(err)
		}
		tokens[string(r)] = tok
	}
	demoted, err := ts.srv.IssueTokenWithRole(ctx, "dora-admin", "dora", auth.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := ts.form(t, "/users/role", url.Values{"id": {ts.userID(t, "dora")}, "role": {"viewer"}}); resp.StatusCode != 200 {
		t.Fatalf("demote dora: %d", resp.StatusCode)
	}

	type caller struct {
		name    string
		b       *testServer // the browser (its cookies)
		bearer  string
		session bool
		role    auth.Role // effective; "" for anonymous
	}
	callers := []caller{
		{name: "anonymous", b: ts.browser()},
		{name: "viewer session", b: vic, session: true, role: auth.RoleViewer},
		{name: "admin session", b: ts, session: true, role: auth.RoleAdmin},
		{name: "viewer token", b: ts.browser(), bearer: tokens["viewer"], role: auth.RoleViewer},
		{name: "uploader token", b: ts.browser(), bearer: tokens["uploader"], role: auth.RoleUploader},
		{name: "admin token", b: ts.browser(), bearer: tokens["admin"], role: auth.RoleAdmin},
		{name: "admin token of a demoted owner", b: ts.browser(), bearer: demoted, role: auth.RoleViewer},
	}
	routes := ts.srv.routes()
	seen := map[string]bool{}
	for _, rt := range routes {
		seen[rt.pattern] = true
		want, ok := wantPerms[rt.pattern]
		if !ok {
			t.Errorf("route %s is not in the permission table of this test: decide its permission", rt.pattern)
			continue
		}
		if rt.perm != want {
			t.Errorf("route %s needs %s; the test's table says %s", rt.pattern, rt.perm, want)
		}
	}
	for p := range wantPerms {
		if !seen[p] {
			t.Errorf("the test's table names %s, which the server does not route", p)
		}
	}
	// Sign-out last: it ends the session the other requests use.
	var last []route
	var walk []route
	for _, rt := range routes {
		if rt.pattern == "POST /logout" {
			last = append(last, rt)
		} else {
			walk = append(walk, rt)
		}
	}
	walk = append(walk, last...)
	n := 0
	for _, c := range callers {
		for _, rt := range walk {
			method, path, _ := strings.Cut(rt.pattern, " ")
			path = strings.Replace(path, "{$}", "", 1)
			if strings.HasSuffix(path, "/static/") {
				path += "style.css"
			}
			hdr := map[string]string{}
			var resp *http.Response
			if c.bearer != "" {
				hdr["Authorization"] = "Bearer " + c.bearer
			}
			if method == "POST" {
				// A real form post, with the browser's own form token (a
				// token caller's is ignored by the API, and needed by the
				// public and dashboard routes, which never take a token).
				hdr["Content-Type"] = "application/x-www-form-urlencoded"
				form := url.Values{}
				form.Set("csrf", c.b.csrf(t))
				resp, _ = c.b.do(t, method, path, strings.NewReader(form.Encode()), hdr)
			} else {
				resp, _ = c.b.do(t, method, path, nil, hdr)
			}
			n++
			got := resp.StatusCode
			toLogin := got == http.StatusSeeOther && resp.Header.Get("Location") == "/login"
			where := fmt.Sprintf("%s as %s", rt.pattern, c.name)
			switch {
			case rt.kind == public:
				if got == http.StatusForbidden || got == http.StatusUnauthorized && rt.pattern != "POST /login" {
					t.Errorf("%s: %d; a public route", where, got)
				}
			case rt.kind == page && !c.session:
				if !toLogin {
					t.Errorf("%s: %d %s; want the sign-in page (pages need a session)", where, got, resp.Header.Get("Location"))
				}
			case rt.kind == api && c.role == "":
				if got != http.StatusUnauthorized {
					t.Errorf("%s: %d; want 401", where, got)
				}
			case c.role.Can(rt.perm):
				if got == http.StatusForbidden || got == http.StatusUnauthorized || toLogin {
					t.Errorf("%s: %d; role %s has %s", where, got, c.role, rt.perm)
				}
			default:
				if got != http.StatusForbidden {
					t.Errorf("%s: %d; want 403 (role %s lacks %s)", where, got, c.role, rt.perm)
				}
			}
		}
	}
	t.Logf("%d routes x %d callers = %d requests checked", len(routes), len(callers), n)
}

// Forms need their anti-forgery token as well as a same-origin post.
func TestCSRFOnForms(t *testing.T) {
	ts := startServer(t, "")
	ts.signUp(t)
	form := func(v url.Values, hdr map[string]string) int {
		h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		for k, x := range hdr {
			h[k] = x
		}
		resp, _ := ts.do(t, "POST", "/tokens", strings.NewReader(v.Encode()), h)
		return resp.StatusCode
	}
	good := ts.csrf(t)
	if got := form(url.Values{"name": {"x"}, "role": {"viewer"}}, nil); got != http.StatusForbidden {
		t.Errorf("no form token: %d; want 403", got)
	}
	if got := form(url.Values{"name": {"x"}, "role": {"viewer"}, "csrf": {good + "A"}}, nil); got != http.StatusForbidden {
		t.Errorf("wrong form token: %d; want 403", got)
	}
	if got := form(url.Values{"name": {"x"}, "role": {"viewer"}, "csrf": {good}}, map[string]string{"Origin": "https://evil.example"}); got != http.StatusForbidden {
		t.Errorf("cross-site post with the right token: %d; want 403", got)
	}
	if got := form(url.Values{"name": {"x"}, "role": {"viewer"}}, map[string]string{"X-CSRF-Token": good}); got != http.StatusOK {
		t.Errorf("token in the header: %d; want 200", got)
	}
	if got := form(url.Values{"name": {"y"}, "role": {"viewer"}, "csrf": {good}}, nil); got != http.StatusOK {
		t.Errorf("right form token: %d; want 200", got)
	}
	// A token from another browser's page (another session) is refused.
	other := ts.browser()
	otherTok := other.csrf(t)
	if got := form(url.Values{"name": {"z"}, "role": {"viewer"}, "csrf": {otherTok}}, nil); got != http.StatusForbidden {
		t.Errorf("another browser's token: %d; want 403", got)
	}
	// Before sign-in too: the sign-in form is bound to its browser.
	anon := ts.browser()
	anonTok := anon.csrf(t)
	resp, _ := anon.do(t, "POST", "/login", strings.NewReader(url.Values{"username": {"admin"}, "password": {"a long test password"}, "csrf": {anonTok}}.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("sign-in with its token: %d", resp.StatusCode)
	}
	third := ts.browser()
	resp, _ = third.do(t, "POST", "/login", strings.NewReader(url.Values{"username": {"admin"}, "password": {"a long test password"}, "csrf": {anonTok}}.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in with another browser's token: %d; want 403", resp.StatusCode)
	}
}

// The life of an account: invited, set up through its link, used, its
// role changed, disabled, reset, deleted; every step in the audit log.
func TestUserLifecycle(t *testing.T) {
	ts := startServer(t, "schedules:\n  - {name: nightly, every: 24h}\ninventory:\n  targets:\n    - {name: a, address: 127.0.0.1:1}\n")
	ts.signUp(t)
	resp, body := ts.form(t, "/users", url.Values{"username": {"vera"}, "role": {"viewer"}})
	if resp.StatusCode != 200 {
		t.Fatalf("create user: %d %s", resp.StatusCode, body)
	}
	link := inviteLink(t, body)
	if !strings.HasPrefix(link, ts.base+"/invite?token=rampart-link-") {
		t.Errorf("setup link %q", link)
	}
	if resp, _ := ts.form(t, "/users", url.Values{"username": {"Vera"}, "role": {"viewer"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("a name differing in case only: %d; want 409", resp.StatusCode)
	}
	if resp, _ := ts.form(t, "/users", url.Values{"username": {"<b>x</b>"}, "role": {"viewer"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad name: %d", resp.StatusCode)
	}
	if resp, _ := ts.form(t, "/users", url.Values{"username": {"up"}, "role": {"uploader"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an uploader account: %d; want 400 (a token role)", resp.StatusCode)
	}
	// Before the link is used the account cannot sign in, whatever the password.
	vera := ts.browser()
	if resp, _ := vera.form(t, "/login", url.Values{"username": {"vera"}, "password": {""}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("invited user signs in without a password: %d", resp.StatusCode)
	}
	if resp, _ := vera.redeem(t, link+"x", "vera's long password"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a wrong link: %d; want 404", resp.StatusCode)
	}
	u, _ := url.Parse(link)
	if resp, _ := vera.form(t, "/invite", url.Values{"token": {u.Query().Get("token")}, "password": {"short"}, "password2": {"short"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("weak password through the link: %d", resp.StatusCode)
	}
	if resp, body := vera.redeem(t, link, "vera's long password"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("setup link: %d %s", resp.StatusCode, body)
	}
	if resp, _ := ts.browser().redeem(t, link, "another password!"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the link worked twice: %d", resp.StatusCode)
	}
	// A viewer reads and sees no control that changes things.
	resp, body = vera.do(t, "GET", "/", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Fleet posture") || !strings.Contains(body, `id="role">viewer<`) {
		t.Fatalf("viewer's fleet page: %d", resp.StatusCode)
	}
	for _, control := range []string{`action="/schedules/run"`, `href="/users"`, `href="/tokens"`, `href="/audit"`} {
		if strings.Contains(body, control) {
			t.Errorf("the viewer's page shows %s", control)
		}
	}
	if resp, _ := vera.form(t, "/schedules/run", url.Values{"name": {"nightly"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer runs a schedule: %d; want 403", resp.StatusCode)
	}
	if _, body := ts.do(t, "GET", "/", nil, nil); !strings.Contains(body, `action="/schedules/run"`) {
		t.Error("the admin's fleet page has no run-now control")
	}
	// The viewer changes their own password.
	if resp, _ := vera.form(t, "/account/password", url.Values{"current": {"wrong one"}, "password": {"vera's new password"}, "password2": {"vera's new password"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("password change with a wrong current one: %d", resp.StatusCode)
	}
	other := ts.browser()
	other.signIn(t, "vera", "vera's long password")
	if resp, _ := vera.form(t, "/account/password", url.Values{"current": {"vera's long password"}, "password": {"vera's new password"}, "password2": {"vera's new password"}}); resp.StatusCode != http.StatusOK {
		t.Errorf("password change: %d", resp.StatusCode)
	}
	if resp, _ := vera.do(t, "GET", "/", nil, nil); resp.StatusCode != 200 {
		t.Errorf("the session that changed the password ended: %d", resp.StatusCode)
	}
	if resp, _ := other.do(t, "GET", "/", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another session survived the password change: %d", resp.StatusCode)
	}

	id := ts.userID(t, "vera")
	// Promoted: the change applies to her open session at once.
	if resp, _ := ts.form(t, "/users/role", url.Values{"id": {id}, "role": {"admin"}}); resp.StatusCode != 200 {
		t.Errorf("promote: %d", resp.StatusCode)
	}
	if resp, _ := vera.do(t, "GET", "/users", nil, nil); resp.StatusCode != 200 {
		t.Errorf("promoted user on /users: %d", resp.StatusCode)
	}
	if resp, _ := ts.form(t, "/users/role", url.Values{"id": {id}, "role": {"viewer"}}); resp.StatusCode != 200 {
		t.Errorf("demote: %d", resp.StatusCode)
	}
	if resp, _ := vera.do(t, "GET", "/users", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("demoted user on /users: %d", resp.StatusCode)
	}
	// Disabled: signed out at once, cannot sign in.
	if resp, _ := ts.form(t, "/users/disable", url.Values{"id": {id}}); resp.StatusCode != 200 {
		t.Errorf("disable: %d", resp.StatusCode)
	}
	if resp, _ := vera.do(t, "GET", "/", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("disabled user's session: %d; want the sign-in page", resp.StatusCode)
	}
	if resp, _ := ts.browser().form(t, "/login", url.Values{"username": {"vera"}, "password": {"vera's new password"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("disabled user signs in: %d", resp.StatusCode)
	}
	if resp, _ := ts.form(t, "/users/enable", url.Values{"id": {id}}); resp.StatusCode != 200 {
		t.Errorf("enable: %d", resp.StatusCode)
	}
	vera = ts.browser()
	vera.signIn(t, "vera", "vera's new password")
	// Reset: the old password stops, the session ends, the new link works.
	resp, body = ts.form(t, "/users/reset", url.Values{"id": {id}})
	if resp.StatusCode != 200 {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	reset := inviteLink(t, body)
	if resp, _ := vera.do(t, "GET", "/", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("session after a reset: %d", resp.StatusCode)
	}
	if resp, _ := ts.browser().form(t, "/login", url.Values{"username": {"vera"}, "password": {"vera's new password"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("old password after a reset: %d", resp.StatusCode)
	}
	if resp, _ := ts.browser().redeem(t, reset, "vera's third password"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("reset link: %d", resp.StatusCode)
	}
	// An admin cannot act on their own account, nor remove the last admin.
	me := ts.userID(t, "admin")
	for _, p := range []string{"/users/disable", "/users/delete", "/users/reset"} {
		if resp, _ := ts.form(t, p, url.Values{"id": {me}}); resp.StatusCode != http.StatusConflict {
			t.Errorf("%s on oneself: %d; want 409", p, resp.StatusCode)
		}
	}
	if resp, _ := ts.form(t, "/users/role", url.Values{"id": {me}, "role": {"viewer"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("self-demotion: %d; want 409", resp.StatusCode)
	}
	// Deleted, with the tokens she made while admin.
	if resp, _ := ts.form(t, "/users/role", url.Values{"id": {id}, "role": {"admin"}}); resp.StatusCode != 200 {
		t.Fatal("promote again")
	}
	tok, err := ts.srv.IssueTokenWithRole(context.Background(), "veras", "vera", auth.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	bearer := map[string]string{"Authorization": "Bearer " + tok}
	if resp, _ := ts.do(t, "GET", "/api/v1/runs", nil, bearer); resp.StatusCode != 200 {
		t.Errorf("vera's token: %d", resp.StatusCode)
	}
	if resp, _ := ts.form(t, "/users/delete", url.Values{"id": {id}}); resp.StatusCode != 200 {
		t.Errorf("delete: %d", resp.StatusCode)
	}
	if resp, _ := ts.do(t, "GET", "/api/v1/runs", nil, bearer); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("deleted user's token: %d; want 401", resp.StatusCode)
	}
	// The audit log, on its page.
	resp, body = ts.do(t, "GET", "/audit", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("audit page: %d", resp.StatusCode)
	}
	for _, want := range []string{"user.create", "user.password_set", "user.password_changed", "user.role", "user.disable", "user.enable",
		"user.reset_password", "user.delete", "token.create", "login", "vera", "127.0.0.1"} {
		if !strings.Contains(body, want) {
			t.Errorf("audit page lacks %q", want)
		}
	}
	log, err := ts.srv.store.AuditLog(context.Background(), 200, 0)
	if err != nil {
		t.Fatal(err)
	}
	var del *store.Audit
	for i := range log {
		if log[i].Action == "user.delete" {
			del = &log[i]
		}
		if log[i].Action == "user.disable" && log[i].Subject == "admin" {
			t.Error("a refused change is in the audit log")
		}
	}
	if del == nil || del.Actor != "admin" || del.Subject != "vera" || del.At.IsZero() {
		t.Errorf("user.delete entry = %+v; want who, what and when", del)
	}
}
