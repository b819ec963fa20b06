package httpprobe

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
)

// The one default credential pair tried, once per login endpoint.
const (
	defaultUser     = "admin"
	defaultPassword = "admin"
)

const (
	loginCarbon = "carbon-console"
	loginMI     = "mi-management-api"
)

const notIntrusive = "not attempted: logging in with default credentials is an active check; run with --intrusive to try admin/admin once per login endpoint"

// defaultLogin tries admin/admin once at each login endpoint that showed
// itself: the Carbon console when its login form answered, the MI
// management API when its login asked for credentials. Only with
// Env.Intrusive; a session it opens is closed again. The password is
// never recorded, nor any token.
func (p *prober) defaultLogin(ctx context.Context, specs []probeSpec, answers []*answer, verdicts []verdict) (facts.DefaultLogin, []*answer) {
	dl := facts.DefaultLogin{Attempts: []facts.LoginAttempt{}}
	if !p.env.Intrusive {
		dl.Reason = notIntrusive
		return dl, nil
	}
	var extra []*answer
	for i, s := range specs {
		a, v := answers[i], verdicts[i]
		switch {
		case s.k.path == carbonLoginPage && v.reachable && a.carbonLogin:
			att, as := p.carbonLogin(ctx)
			dl.Attempts = append(dl.Attempts, att)
			extra = append(extra, as...)
		case s.k.path == miLogin && v.auth:
			att, as := p.miLogin(ctx)
			dl.Attempts = append(dl.Attempts, att)
			extra = append(extra, as...)
		}
	}
	dl.Attempted = len(dl.Attempts) > 0
	if !dl.Attempted {
		dl.Reason = "no login endpoint answered here (the Carbon console login form " + carbonLoginPage +
			", the MI management API " + miLogin + "), so no default-credential login was attempted"
	}
	return dl, extra
}

// carbonLogin posts the console's login form. Carbon answers a login with
// a redirect: to admin/index.jsp?loginStatus=true when it accepted the
// credentials, to admin/login.jsp?loginStatus=false (or failed) when not.
func (p *prober) carbonLogin(ctx context.Context) (facts.LoginAttempt, []*answer) {
	form := url.Values{"username": {defaultUser}, "password": {defaultPassword}}.Encode()
	a := p.fetch(ctx, request{method: http.MethodPost, path: carbonLoginAction, body: form, contentType: "application/x-www-form-urlencoded"})
	a.body = nil
	att := attempt(a, loginCarbon)
	fin := a.final()
	if fin == nil || a.err != nil {
		return att, []*answer{a}
	}
	loc := fin.Header.Get("Location")
	switch {
	case isRedirect(fin.Status) && (strings.Contains(loc, "loginStatus=false") || strings.Contains(loc, "loginStatus=failed")):
		// refused
	case isRedirect(fin.Status) && (strings.Contains(loc, "loginStatus=true") || strings.Contains(loc, "/admin/index.jsp")):
		att.Accepted = true
	case isRedirect(fin.Status) && strings.Contains(loc, "login.jsp"):
		// sent back to the login page: refused
	default:
		att.Error = fmt.Sprintf("the answer (status %d) is not a Carbon login result; cannot tell whether admin/admin works", fin.Status)
		return att, []*answer{a}
	}
	out := []*answer{a}
	if att.Accepted {
		out = append(out, p.fetch(ctx, request{method: http.MethodGet, path: carbonLogout, header: http.Header{"Cookie": {cookieHeader(fin.Header)}}}))
	}
	return att, out
}

// miLogin asks the MI management API for a token with basic auth: 200
// with an AccessToken when accepted, 401 when not. An issued token is
// revoked at once through /management/logout.
func (p *prober) miLogin(ctx context.Context) (facts.LoginAttempt, []*answer) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(defaultUser+":"+defaultPassword))
	a := p.fetch(ctx, request{method: http.MethodGet, path: miLogin, header: http.Header{"Authorization": {basic}, "Accept": {"application/json"}}})
	body := a.body
	a.body = nil
	att := attempt(a, loginMI)
	fin := a.final()
	if fin == nil || a.err != nil {
		return att, []*answer{a}
	}
	var tok struct {
		AccessToken string `json:"AccessToken"`
	}
	switch {
	case fin.Status == http.StatusUnauthorized || fin.Status == http.StatusForbidden:
		// refused
	case isContent(fin.Status) && json.Unmarshal(body, &tok) == nil && tok.AccessToken != "":
		att.Accepted = true
	default:
		att.Error = fmt.Sprintf("the answer (status %d) is not a management API login result; cannot tell whether admin/admin works", fin.Status)
		return att, []*answer{a}
	}
	out := []*answer{a}
	if att.Accepted {
		out = append(out, p.fetch(ctx, request{method: http.MethodGet, path: miLogout, header: http.Header{"Authorization": {"Bearer " + tok.AccessToken}}}))
	}
	return att, out
}

func attempt(a *answer, kind string) facts.LoginAttempt {
	return facts.LoginAttempt{
		URL:      a.url,
		Username: defaultUser,
		Status:   a.status(),
		Error:    a.errText(),
		Cause:    a.errCause(),
		Origin:   facts.Origin{Endpoint: a.url},
		Kind:     kind,
	}
}

// cookieHeader turns a response's Set-Cookie lines into a Cookie header,
// to end the session a login opened.
func cookieHeader(h http.Header) string {
	var pairs []string
	for _, line := range h.Values("Set-Cookie") {
		pair, _, _ := strings.Cut(line, ";")
		if strings.Contains(pair, "=") {
			pairs = append(pairs, strings.TrimSpace(pair))
		}
	}
	return strings.Join(pairs, "; ")
}
