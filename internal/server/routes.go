package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/server/auth"
	"github.com/rampart-sec/rampart/internal/server/sso"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/textsafe"
	"github.com/rampart-sec/rampart/internal/web"
)

// routeKind says how a route's caller is authenticated.
type routeKind int

const (
	// public routes need no sign-in.
	public routeKind = iota
	// page routes are the dashboard: a session only.
	page
	// api routes take an API token (Authorization: Bearer) or a session.
	api
)

// route is one entry of the server's routing table: every handler the
// server has, with the permission it needs. Handler builds the mux from
// this table only, so no handler escapes the role check.
type route struct {
	pattern string // as http.ServeMux takes it: "GET /target"
	kind    routeKind
	perm    auth.Perm
	handler http.Handler
}

// routes is the routing table.
func (s *Server) routes() []route {
	pub := func(pattern string, h http.Handler) route {
		return route{pattern, public, auth.PermPublic, s.requireForm(h)}
	}
	pg := func(pattern string, perm auth.Perm, h func(http.ResponseWriter, *http.Request, store.User)) route {
		return route{pattern, page, perm, s.requireSession(perm, h)}
	}
	ap := func(pattern string, perm auth.Perm, h http.HandlerFunc) route {
		return route{pattern, api, perm, s.requireAPI(perm, h)}
	}
	const (
		self   = auth.PermSelf
		read   = auth.PermRead
		upload = auth.PermUpload
		admin  = auth.PermAdmin
	)
	return []route{
		pub("GET /static/", s.pages.Static()),
		pub("GET /healthz", http.HandlerFunc(s.healthz)),
		pub("GET /readyz", http.HandlerFunc(s.readyz)),
		pub("GET /login", http.HandlerFunc(s.loginPage)),
		pub("POST /login", http.HandlerFunc(s.login)),
		pub("GET /setup", http.HandlerFunc(s.setupPage)),
		pub("POST /setup", http.HandlerFunc(s.setupPost)),
		pub("GET /invite", http.HandlerFunc(s.invitePage)),
		pub("POST /invite", http.HandlerFunc(s.invitePost)),
		pub("POST /logout", http.HandlerFunc(s.logout)),
		pub("GET "+sso.LoginPath, http.HandlerFunc(s.oidcLogin)),
		pub("GET "+sso.CallbackPath, http.HandlerFunc(s.oidcCallback)),

		pg("GET /{$}", read, s.fleetPage),
		pg("GET /target", read, s.targetPage),
		pg("GET /runs", read, s.runsPage),
		pg("GET /run", read, s.runPage),
		pg("GET /run/report.html", read, s.runReport),
		pg("GET /diff", read, s.diffPage),
		pg("GET /findings", read, s.findingsPage),
		pg("GET /findings.csv", read, s.findingsCSV),
		pg("GET /rules", read, s.rulesPage),
		pg("GET /rule", read, s.rulePage),
		pg("GET /audit.csv", admin, s.auditCSV),
		pg("GET /exceptions", read, s.exceptionsPage),
		pg("GET /monitor", read, s.monitorPage),
		pg("GET /account", self, s.accountPage),
		pg("POST /account/password", self, s.changePassword),
		pg("POST /schedules/run", admin, s.runNow),
		pg("GET /tokens", admin, s.tokensPage),
		pg("POST /tokens", admin, s.createToken),
		pg("POST /tokens/revoke", admin, s.revokeToken),
		pg("GET /users", admin, s.usersPage),
		pg("POST /users", admin, s.createUser),
		pg("POST /users/role", admin, s.setUserRole),
		pg("POST /users/disable", admin, s.disableUser),
		pg("POST /users/enable", admin, s.enableUser),
		pg("POST /users/reset", admin, s.resetUser),
		pg("POST /users/delete", admin, s.deleteUser),
		pg("GET /audit", admin, s.auditPage),
		pg("GET /zones", read, s.zonesPage),
		pg("GET /zones/exposure", read, s.exposurePage),
		pg("POST /zones/agents", admin, s.createAgent),
		pg("POST /zones/agents/revoke", admin, s.revokeAgent),
		pg("GET /zones/nats.conf", admin, s.natsConf),
		pg("GET /alerts", read, s.alertsPage),
		pg("POST /alerts/retry", admin, s.retryAlert),
		pg("POST /alerts/discard", admin, s.discardAlert),

		ap("GET /api/v1/runs", read, s.apiRuns),
		ap("POST /api/v1/runs", upload, s.apiUpload),
		ap("GET /api/v1/run", read, s.apiRun),
		ap("GET /api/v1/run/findings", read, s.apiRunFindings),
		ap("GET /api/v1/targets", read, s.apiTargets),
		ap("GET /api/v1/target", read, s.apiTarget),
		ap("GET /api/v1/findings", read, s.apiFindings),
		ap("GET /api/v1/diff", read, s.apiDiff),
		ap("GET /api/v1/health", read, s.apiHealth),
		ap("POST /api/v1/schedules/run", admin, s.apiRunNow),
		ap("GET /api/v1/zones", read, s.apiZones),
		ap("GET /api/v1/exposure", read, s.apiExposure),
		ap("POST /api/v1/zones/agents", admin, s.apiCreateAgent),
		ap("POST /api/v1/zones/agents/revoke", admin, s.apiRevokeAgent),
		ap("GET /api/v1/alerts", read, s.apiAlerts),
		ap("POST /api/v1/alerts/retry", admin, s.apiRetryAlert),
		ap("POST /api/v1/alerts/discard", admin, s.apiDiscardAlert),
		ap("GET /metrics", read, s.metricsHandler),
		ap("GET /api/v1/audit", admin, s.apiAudit),
	}
}

// Handler returns the server's HTTP handler with its security headers.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, rt.handler)
	}
	return s.secure(mux)
}

// contentSecurityPolicy allows only the server's own style sheet, inline
// SVG and forms posting to itself: no scripts at all.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secure sets the security headers on every answer, refuses cross-site
// and forged form posts, and turns panics into a plain 500.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
		// Dynamic by default; the static handler relaxes it for its files.
		h.Set("Cache-Control", "no-store, no-cache, must-revalidate, private")
		h.Set("Pragma", "no-cache")
		h.Set("Expires", "0")
		if hasNUL(r.URL.Path) || hasNUL(r.URL.RawQuery) {
			http.Error(w, "NUL bytes are not accepted", http.StatusBadRequest)
			return
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("handler panicked", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// unsafe reports whether a request may change something (any method but
// GET and HEAD).
func unsafe(r *http.Request) bool {
	return r.Method != http.MethodGet && r.Method != http.MethodHead
}

// formOK refuses (403) a state-changing request that a browser could have
// been made to send: a cross-site one, or one without the form token of
// the browser's session (or pre-session cookie). It is applied to every
// request that is not authenticated by an API token, whatever headers it
// carries: what decides is how the request is authenticated, never which
// headers are present.
func (s *Server) formOK(w http.ResponseWriter, r *http.Request) bool {
	if !unsafe(r) {
		return true
	}
	if !sameOrigin(r) {
		http.Error(w, "cross-site request refused", http.StatusForbidden)
		return false
	}
	if !s.csrfOK(w, r) {
		http.Error(w, "missing or stale form token: reload the page and try again", http.StatusForbidden)
		return false
	}
	if r.PostForm == nil && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		_ = r.ParseForm()
	}
	for _, vs := range r.PostForm {
		for _, v := range vs {
			if strings.IndexByte(v, 0) >= 0 {
				http.Error(w, "NUL bytes are not accepted", http.StatusBadRequest)
				return false
			}
		}
	}
	return true
}

// hasNUL reports whether a raw URL part holds a NUL byte, plain or
// percent-encoded (no store takes one: PostgreSQL refuses it in text).
func hasNUL(raw string) bool {
	return strings.IndexByte(raw, 0) >= 0 || strings.Contains(raw, "%00")
}

// requireForm guards a public route (sign-in, setup, setup links,
// sign-out): browsers only, so every post needs its form token.
func (s *Server) requireForm(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.formOK(w, r) {
			h.ServeHTTP(w, r)
		}
	})
}

// csrfOK checks the anti-forgery token of a state-changing browser
// request: the X-CSRF-Token header, or the csrf field of a form.
func (s *Server) csrfOK(w http.ResponseWriter, r *http.Request) bool {
	tok := r.Header.Get(auth.CSRFHeader)
	if tok == "" {
		ct := r.Header.Get("Content-Type")
		if strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data") {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				return false
			}
			tok = r.PostFormValue(auth.CSRFField)
		}
	}
	return s.csrf.Valid(r, tok)
}

// sameOrigin accepts a browser form post only from the server's own pages.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	return true
}

// principal is who a request acts for.
type principal struct {
	// User is the signed-in user, or the token's owner.
	User store.User
	// Token is set when an API token authenticated the request.
	Token *store.Token
	// Role is the effective role: the user's, or the lesser of the
	// token's and its owner's.
	Role auth.Role
}

// Actor names the principal in the audit log.
func (p principal) Actor() string {
	if p.Token != nil {
		return "token:" + p.Token.Name + " (" + p.Token.CreatedBy + ")"
	}
	return p.User.Username
}

type principalKey struct{}

func principalOf(r *http.Request) (principal, bool) {
	p, ok := r.Context().Value(principalKey{}).(principal)
	return p, ok
}

func withPrincipal(r *http.Request, p principal) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
}

// requireSession sends visitors without a session to the sign-in page
// (or to setup while no admin exists), and refuses (403) a signed-in user
// whose role lacks perm, and a post without its form token. Dashboard
// routes are authenticated by the session cookie only: an Authorization
// header changes nothing here.
func (s *Server) requireSession(perm auth.Perm, h func(http.ResponseWriter, *http.Request, store.User)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.sessions.User(r)
		if err != nil {
			if !noSession(err) {
				s.unavailable(w, r, err)
				return
			}
			need, err := s.setup.Needed(r.Context())
			if err != nil {
				s.unavailable(w, r, err)
				return
			}
			if need {
				http.Redirect(w, r, "/setup", http.StatusSeeOther)
				return
			}
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		p := principal{User: u, Role: auth.Role(u.Role)}
		r = withPrincipal(r, p)
		if !s.formOK(w, r) {
			return
		}
		if !p.Role.Can(perm) {
			s.render(w, r, http.StatusForbidden, "error", web.Page{Title: "Not allowed",
				Data: "Your role (" + string(p.Role) + ") can read the dashboard but not change it. Ask an admin."})
			return
		}
		h(w, r, u)
	})
}

// requireAPI accepts an API token (Authorization: Bearer) or a session,
// and refuses (403) a caller whose role lacks perm. A request with an
// Authorization header is authenticated by it alone (its cookies are
// ignored); one authenticated by its session cookie is a browser's and
// needs the form token for every change.
func (s *Server) requireAPI(perm auth.Perm, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p principal
		if authz := r.Header.Get("Authorization"); authz != "" {
			tok, ok := strings.CutPrefix(authz, "Bearer ")
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="rampart"`)
				writeJSONError(w, http.StatusUnauthorized, "only Authorization: Bearer API tokens are accepted")
				return
			}
			tok = strings.TrimSpace(tok)
			key := apiLimitKey(clientIP(r), tok)
			if ok, until := s.limiter.Allowed(key); !ok {
				w.Header().Set("Retry-After", retryAfter(until, s.now()))
				writeJSONError(w, http.StatusTooManyRequests, "too many failed attempts with this token; try later")
				return
			}
			t, err := s.store.TokenByHash(r.Context(), s.box.Hash(tok), s.now())
			if errors.Is(err, store.ErrNotFound) {
				s.limiter.Fail(key)
				w.Header().Set("WWW-Authenticate", `Bearer realm="rampart"`)
				writeJSONError(w, http.StatusUnauthorized, "invalid API token")
				return
			}
			if err != nil {
				// The server's failure, not the caller's: never counted.
				s.log.Error("API token lookup", "err", err)
				w.Header().Set("Retry-After", "5")
				writeJSONError(w, http.StatusServiceUnavailable, "the server cannot check tokens now (database unavailable); try again")
				return
			}
			p = principal{User: store.User{ID: t.UserID, Username: t.CreatedBy, Role: t.OwnerRole}, Token: &t,
				Role: auth.Lesser(auth.Role(t.Role), auth.Role(t.OwnerRole))}
		} else if u, err := s.sessions.User(r); err == nil {
			p = principal{User: u, Role: auth.Role(u.Role)}
			if !s.formOK(w, r) {
				return
			}
		} else if !noSession(err) {
			s.log.Error("session lookup", "err", err)
			w.Header().Set("Retry-After", "5")
			writeJSONError(w, http.StatusServiceUnavailable, "the database is unavailable; try again")
			return
		} else {
			w.Header().Set("WWW-Authenticate", `Bearer realm="rampart"`)
			writeJSONError(w, http.StatusUnauthorized, "sign in or send an API token (Authorization: Bearer ...)")
			return
		}
		if !p.Role.Can(perm) {
			writeJSONError(w, http.StatusForbidden, "role "+string(p.Role)+" may not do this (needs "+perm.String()+")")
			return
		}
		h(w, withPrincipal(r, p))
	})
}

// apiLimitKey is the limiter's key for API tokens: the client address and
// the token's first characters. Bad tokens lock out that prefix from that
// address only, so a client's valid token keeps working while it (or
// someone behind the same address) sends bad ones. Guessing a token is
// hopeless either way: it holds 256 random bits.
func apiLimitKey(ip, tok string) string {
	const prefix = 16 // "rampart_" and 8 random characters
	if len(tok) > prefix {
		tok = tok[:prefix]
	}
	return "api:" + ip + ":" + tok
}

// audit records an action of the request's principal. A failure to
// record is logged: the action itself has happened.
func (s *Server) audit(r *http.Request, action, subject, detail string) {
	p, _ := principalOf(r)
	actor := p.Actor()
	if actor == "" {
		actor = "anonymous"
	}
	if err := s.store.AddAudit(r.Context(), s.auditEntry(r, actor, action, subject, detail)); err != nil {
		s.log.Error("audit log", "action", action, "err", err)
	}
}

// auditEntry is an audit log entry for a request.
func (s *Server) auditEntry(r *http.Request, actor, action, subject, detail string) store.Audit {
	if actor == "" {
		p, _ := principalOf(r)
		actor = p.Actor()
	}
	return store.Audit{At: s.now(), Actor: actor, Action: action, Subject: subject, Detail: detail, Addr: clientIP(r)}
}

func retryAfter(until, now time.Time) string {
	return strconv.Itoa(max(1, int(until.Sub(now).Seconds())+1))
}

// writeJSON answers with v as compact JSON (a 1,000-finding page is half
// the bytes it was indented, and the indenting pass was a fifth of its
// CPU), invisible and direction-changing characters in its strings made
// visible.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(textsafe.NeutralizeBytes(append(b, '\n')))
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// render writes a page, or a plain 500 when the template fails. It fills
// in the signed-in user, their role and the form token.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p web.Page) {
	if pr, ok := principalOf(r); ok && pr.Token == nil {
		if p.User == "" {
			p.User = pr.User.Username
		}
		p.Role = string(pr.Role)
		p.Admin = pr.Role == auth.RoleAdmin
	}
	p.CSRF = s.csrf.Token(w, r)
	if name == "login" && s.sso != nil {
		p.SSO = s.sso.Name()
	}
	if err := s.pages.Render(w, status, name, p); err != nil {
		s.log.Error("render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// fail answers a dashboard request with an error page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	title := "Something went wrong"
	if errors.Is(err, store.ErrNotFound) {
		status, title = http.StatusNotFound, "Not found"
	} else if errors.Is(err, store.ErrBadCursor) {
		status, title = http.StatusBadRequest, "Bad page link"
	} else if s.dbErr(r.Context()) != nil {
		s.unavailable(w, r, err)
		return
	} else {
		s.log.Error("request", "path", r.URL.Path, "err", err)
		err = errors.New("the server could not complete the request; see its log")
	}
	s.render(w, r, status, "error", web.Page{Title: title, Data: err.Error()})
}

// badRequest answers a dashboard form with a 400 error page.
func (s *Server) badRequest(w http.ResponseWriter, r *http.Request, title, msg string) {
	s.render(w, r, http.StatusBadRequest, "error", web.Page{Title: title, Data: msg})
}

// noSession reports whether a session lookup failed because the request
// has no valid session (rather than because the store failed).
func noSession(err error) bool {
	return errors.Is(err, auth.ErrNoSession) || errors.Is(err, store.ErrNotFound)
}

// unavailable answers a page the database could not serve: 503, saying
// so, rather than sending a signed-in user to the sign-in or setup page.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("database unavailable", "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", "5")
	s.render(w, r, http.StatusServiceUnavailable, "error", web.Page{Title: "Database unavailable",
		Data: "rampart cannot reach its database just now, so this page cannot be shown. Try again in a moment; if it lasts, see the server's log."})
}

// dbErr is nil when the database answers, or why it does not.
func (s *Server) dbErr(ctx context.Context) error {
	p, ok := s.store.(Pinger)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return p.Ping(ctx)
}

// healthz is liveness: the process answers (200) and says whether its
// database does. Restarting the server would not bring a database back,
// so a database outage does not fail it; /readyz does.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	db := "UP"
	if err := s.dbErr(r.Context()); err != nil {
		db = "DOWN"
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "UP", "database": db})
}

// readyz is readiness: 200 when the server can serve requests (its
// database answers), else 503 with the reason.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.dbErr(r.Context()); err != nil {
		s.log.Warn("not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "DOWN", "database": "DOWN", "error": "the database does not answer"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "UP", "database": "UP"})
}
