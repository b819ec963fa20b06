package server

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/server/oidctest"
	"github.com/rampart-sec/rampart/internal/store"
)

// ssoServer starts a provider with alice (sec-admins), victor
// (sec-readers), mallory (marketing) and a person whose provider name is
// "admin", and a rampart server that signs in through it.
func ssoServer(t *testing.T, opt oidctest.Options) (*testServer, *oidctest.Provider) {
	t.Helper()
	idp := oidctest.Start(t, opt,
		oidctest.User{Subject: "u-alice", Username: "alice", Password: "alice's idp password", Email: "alice@example.com", Groups: []string{"staff", "sec-admins"}},
		oidctest.User{Subject: "u-victor", Username: "victor", Password: "victor's idp password", Groups: []string{"sec-readers"}},
		oidctest.User{Subject: "u-mallory", Username: "mallory", Password: "mallory's idp password", Groups: []string{"marketing"}},
		oidctest.User{Subject: "u-imposter", Username: "admin", Password: "imposter's idp password", Groups: []string{"sec-admins"}},
	)
	ts := startServer(t, `oidc:
  issuer: `+idp.Issuer+`
  client_id: `+idp.ClientID+`
  client_secret: `+idp.ClientSecret+`
  name: Example IdP
  scopes: [profile, email, groups]
  roles: {admin: [sec-admins], viewer: [sec-readers]}
  ca_bundle: `+idp.CAFile+`
`)
	idp.AllowRedirect(ts.base + "/oidc/callback")
	ts.signUp(t)
	// The test's browsers trust the provider's certificate too.
	pool := ts.client.Transport.(*http.Transport).TLSClientConfig.RootCAs
	pool.AddCert(idp.Server.Certificate())
	return ts, idp
}

// ssoBrowser is a fresh browser (own cookies) trusting both servers.
func ssoBrowser(ts *testServer) *testServer {
	b := ts.browser()
	jar, _ := cookiejar.New(nil)
	pool := ts.client.Transport.(*http.Transport).TLSClientConfig.RootCAs
	b.client = &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: ts.client.CheckRedirect,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return b
}

// get fetches an absolute URL and returns the status, the Location
// resolved against it, and the body.
func get(t *testing.T, c *http.Client, u string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	loc := resp.Header.Get("Location")
	if loc != "" {
		base, _ := url.Parse(u)
		l, err := base.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		loc = l.String()
	}
	return resp.StatusCode, loc, b.String()
}

var authRequestIDRE = regexp.MustCompile(`name="id" value="([^"]+)"`)

// idpSignIn starts a sign-in from rampart's button and signs in at the
// provider's own form; it returns the callback URL the provider sends
// the browser back to (not yet opened) and the authorization URL.
func idpSignIn(t *testing.T, b *testServer, idp *oidctest.Provider, user, pass string) (callback, authURL string) {
	t.Helper()
	code, loc, body := get(t, b.client, b.base+"/oidc/login")
	if code != http.StatusFound || !strings.HasPrefix(loc, idp.Issuer+"/") {
		t.Fatalf("/oidc/login: %d %q %s", code, loc, body)
	}
	authURL = loc
	code, loc, body = get(t, b.client, authURL)
	if code != http.StatusFound {
		t.Fatalf("authorize: %d %s", code, body)
	}
	code, _, body = get(t, b.client, loc)
	m := authRequestIDRE.FindStringSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("provider's sign-in form: %d %s", code, body)
	}
	resp, err := b.client.PostForm(idp.Issuer+"/login/username", url.Values{"id": {m[1]}, "username": {user}, "password": {pass}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("provider sign-in of %s: %d", user, resp.StatusCode)
	}
	next, _ := url.Parse(idp.Issuer + "/login/username")
	l, _ := next.Parse(resp.Header.Get("Location"))
	code, loc, body = get(t, b.client, l.String())
	if code != http.StatusFound || !strings.HasPrefix(loc, b.base+"/oidc/callback?") {
		t.Fatalf("provider's answer: %d %q %s", code, loc, body)
	}
	return loc, authURL
}

// ssoSignIn signs a browser in through the provider and returns the
// callback's answer.
func ssoSignIn(t *testing.T, b *testServer, idp *oidctest.Provider, user, pass string) (int, string) {
	t.Helper()
	cb, _ := idpSignIn(t, b, idp, user, pass)
	code, _, body := get(t, b.client, cb)
	return code, body
}

func auditHas(t *testing.T, ts *testServer, action, subject, detail string) bool {
	t.Helper()
	es, err := ts.srv.store.AuditLog(context.Background(), 200, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Action == action && e.Subject == subject && strings.Contains(e.Detail, detail) {
			return true
		}
	}
	return false
}

// Sign-in through a real OpenID Connect provider (zitadel/oidc's OP over
// HTTPS): the authorization request carries PKCE (S256), a state and a
// nonce; the role comes from the groups claim (read from userinfo, which
// is where this provider puts it); an account is made at the first
// sign-in and follows the claim afterwards; people no group maps are
// refused; every sign-in and refusal is audited; local accounts keep
// working.
func TestOIDCSignIn(t *testing.T) {
	ts, idp := ssoServer(t, oidctest.Options{})

	if _, body := ts.browser().do(t, "GET", "/login", nil, nil); !strings.Contains(body, `id="sso"`) || !strings.Contains(body, "Sign in with Example IdP") {
		t.Fatalf("the sign-in page has no single sign-on button:\n%s", body)
	}

	alice := ssoBrowser(ts)
	cb, authURL := idpSignIn(t, alice, idp, "alice", "alice's idp password")
	au, _ := url.Parse(authURL)
	q := au.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43 || len(q.Get("state")) < 32 || len(q.Get("nonce")) < 32 ||
		q.Get("redirect_uri") != ts.base+"/oidc/callback" || !strings.Contains(q.Get("scope"), "openid") {
		t.Errorf("authorization request lacks PKCE, state, nonce or the callback: %s", authURL)
	}
	code, _, body := get(t, alice.client, cb)
	if code != 200 || !strings.Contains(body, `http-equiv="refresh" content="0;url=/"`) {
		t.Fatalf("callback: %d %s", code, body)
	}
	if resp, body := alice.do(t, "GET", "/users", nil, nil); resp.StatusCode != 200 || !strings.Contains(body, `id="role">admin<`) {
		t.Fatalf("alice (sec-admins) should be an admin: %d %s", resp.StatusCode, body)
	}
	u, err := ts.srv.store.UserByName(context.Background(), "alice")
	if err != nil || u.Role != "admin" || u.OIDCIssuer != idp.Issuer || u.OIDCSubject != "u-alice" || u.PasswordHash != "" {
		t.Fatalf("alice's account: %+v %v", u, err)
	}
	if !auditHas(t, ts, "login", "alice", "OpenID Connect "+idp.Issuer+"; role admin (groups: staff, sec-admins)") {
		t.Error("alice's sign-in is not in the audit log")
	}

	// The same callback again (a replay, or a second tab) is refused: the
	// flow cookie went with the first.
	if code, _, body := get(t, alice.client, cb); code != http.StatusUnauthorized || !strings.Contains(body, "no sign-in under way") {
		t.Errorf("replayed callback: %d %s", code, body)
	}

	// A viewer, and the role following the directory at the next sign-in.
	victor := ssoBrowser(ts)
	if code, body := ssoSignIn(t, victor, idp, "victor", "victor's idp password"); code != 200 {
		t.Fatalf("victor: %d %s", code, body)
	}
	if resp, _ := victor.do(t, "GET", "/users", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("victor (sec-readers) reached the users page: %d", resp.StatusCode)
	}
	if resp, body := victor.do(t, "GET", "/", nil, nil); resp.StatusCode != 200 || !strings.Contains(body, `id="role">viewer<`) {
		t.Errorf("victor's fleet page: %d", resp.StatusCode)
	}
	idp.SetGroups("u-victor", "sec-admins")
	victor2 := ssoBrowser(ts)
	if code, body := ssoSignIn(t, victor2, idp, "victor", "victor's idp password"); code != 200 {
		t.Fatalf("victor again: %d %s", code, body)
	}
	if u, _ := ts.srv.store.UserByName(context.Background(), "victor"); u.Role != "admin" {
		t.Errorf("victor moved to sec-admins is %s; want admin", u.Role)
	}

	// Nobody maps mallory's groups to a role.
	mallory := ssoBrowser(ts)
	if code, body := ssoSignIn(t, mallory, idp, "mallory", "mallory's idp password"); code != http.StatusUnauthorized || !strings.Contains(body, "maps to neither admin nor viewer") {
		t.Errorf("mallory: %d %s", code, body)
	}
	if _, err := ts.srv.store.UserByName(context.Background(), "mallory"); err == nil {
		t.Error("an account was made for mallory")
	}
	if !auditHas(t, ts, "login.failed", "mallory", "no role: groups [marketing]") {
		t.Error("mallory's refusal is not in the audit log")
	}
	if resp, _ := mallory.do(t, "GET", "/", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("mallory reached the fleet page: %d", resp.StatusCode)
	}

	// The provider's "admin" is not the local admin.
	imp := ssoBrowser(ts)
	if code, body := ssoSignIn(t, imp, idp, "admin", "imposter's idp password"); code != http.StatusUnauthorized || !strings.Contains(body, "belongs to another account") {
		t.Errorf("the provider's admin: %d %s", code, body)
	}
	if resp, _ := imp.do(t, "GET", "/", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the provider's admin reached the fleet page as the local admin: %d", resp.StatusCode)
	}

	if resp, body := alice.do(t, "GET", "/account", nil, nil); resp.StatusCode != 200 || !strings.Contains(body, `id="sso-account"`) || strings.Contains(body, "change-password") {
		t.Errorf("alice's account page offers a password change: %d", resp.StatusCode)
	}
	// alice has no password here: the sign-in form refuses her, and an
	// admin cannot give her one through a reset.
	if resp, _ := ts.browser().form(t, "/login", url.Values{"username": {"alice"}, "password": {""}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("alice by password: %d", resp.StatusCode)
	}
	if resp, body := ts.form(t, "/users/reset", url.Values{"id": {ts.userID(t, "alice")}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("reset of alice: %d %s", resp.StatusCode, body)
	}
	// Disabled by an admin: signed out, and the provider cannot sign her in.
	if resp, _ := ts.form(t, "/users/disable", url.Values{"id": {ts.userID(t, "alice")}}); resp.StatusCode != 200 {
		t.Fatalf("disable alice: %d", resp.StatusCode)
	}
	if resp, _ := alice.do(t, "GET", "/", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("disabled alice's session still works: %d", resp.StatusCode)
	}
	if code, body := ssoSignIn(t, ssoBrowser(ts), idp, "alice", "alice's idp password"); code != http.StatusUnauthorized || !strings.Contains(body, "disabled") {
		t.Errorf("disabled alice: %d %s", code, body)
	}
	// The local admin still signs in with a password.
	ts.browser().signIn(t, "admin", "a long test password")
}

// A callback is bound to the browser that started the sign-in: another
// browser (a login CSRF: the attacker's own code pushed to a victim) has
// no flow cookie, or one whose state differs, and is refused without the
// code being used.
func TestOIDCCallbackBoundToBrowser(t *testing.T) {
	ts, idp := ssoServer(t, oidctest.Options{GroupsInIDToken: true})
	attacker := ssoBrowser(ts)
	cb, _ := idpSignIn(t, attacker, idp, "mallory", "mallory's idp password")
	victim := ssoBrowser(ts)
	if code, _, body := get(t, victim.client, cb); code != http.StatusUnauthorized || !strings.Contains(body, "no sign-in under way") {
		t.Errorf("callback in another browser: %d %s", code, body)
	}
	// The victim has a sign-in of their own under way: the state differs.
	if code, _, _ := get(t, victim.client, victim.base+"/oidc/login"); code != http.StatusFound {
		t.Fatal("victim's sign-in")
	}
	if code, _, body := get(t, victim.client, cb); code != http.StatusUnauthorized || !strings.Contains(body, "state does not match") {
		t.Errorf("callback with another state: %d %s", code, body)
	}
	// A forged callback with the right state but no code, and one with an
	// error from the provider.
	if code, body := ssoSignIn(t, ssoBrowser(ts), idp, "alice", "alice's idp password"); code != 200 {
		t.Fatalf("alice, groups in the ID token: %d %s", code, body)
	}
	for _, c := range []struct{ query, want string }{{"", "no code"}, {"error=access_denied&error_description=nope", "refused: access_denied nope"}} {
		b := ssoBrowser(ts)
		_, loc, _ := get(t, b.client, b.base+"/oidc/login")
		lu, _ := url.Parse(loc)
		u := b.base + "/oidc/callback?state=" + url.QueryEscape(lu.Query().Get("state"))
		if c.query != "" {
			u += "&" + c.query
		}
		if code, _, body := get(t, b.client, u); code != http.StatusUnauthorized || !strings.Contains(body, c.want) {
			t.Errorf("callback %q: %d; want 401 saying %q", c.query, code, c.want)
		}
	}
	if !auditHas(t, ts, "login.failed", "(Example IdP)", "state does not match") {
		t.Error("the refused callback is not in the audit log")
	}
}

// Bad oidc sections are refused at start, every problem at once.
func TestOIDCConfigProblems(t *testing.T) {
	dir := t.TempDir()
	_, err := ParseConfig([]byte(`data_dir: d
oidc:
  issuer: http://idp.example.com
  redirect_url: https://rampart.example.com/callback
  roles: {owner: [x]}
  default_role: admin
`), dir+"/serve.yaml")
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"issuer", "client_id is required", "its path must be /oidc/callback", `"owner" is not a dashboard role`, "default_role"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if _, err := ParseConfig([]byte("data_dir: d\noidc: {issuer: https://idp.example.com, client_id: r}\n"), dir+"/serve.yaml"); err == nil || !strings.Contains(err.Error(), "map at least one groups value") {
		t.Errorf("no role mapping: %v", err)
	}
	c, err := ParseConfig([]byte("data_dir: d\noidc: {issuer: https://idp.example.com, client_id: r, client_secret_file: s, default_role: viewer}\n"), dir+"/serve.yaml")
	if err != nil || c.OIDC.ClientSecretFile != dir+"/s" || c.OIDC.UsernameClaim != "preferred_username" {
		t.Errorf("%+v %v", c, err)
	}
	_ = os.Remove(dir + "/s")
}

var _ Store = (*store.SQL)(nil)
