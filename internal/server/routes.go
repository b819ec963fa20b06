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

	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/web"
)

// Handler returns the server's HTTP handler with its security headers.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", s.pages.Static())
	mux.HandleFunc("GET /healthz", s.healthz)

	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("GET /setup", s.setupPage)
	mux.HandleFunc("POST /setup", s.setupPost)
	mux.HandleFunc("POST /logout", s.logout)

	page := func(h func(http.ResponseWriter, *http.Request, store.User)) http.Handler { return s.requireSession(h) }
	mux.Handle("GET /{$}", page(s.fleetPage))
	mux.Handle("GET /target", page(s.targetPage))
	mux.Handle("GET /runs", page(s.runsPage))
	mux.Handle("GET /run", page(s.runPage))
	mux.Handle("GET /run/report.html", page(s.runReport))
	mux.Handle("GET /diff", page(s.diffPage))
	mux.Handle("GET /findings", page(s.findingsPage))
	mux.Handle("GET /exceptions", page(s.exceptionsPage))
	mux.Handle("GET /monitor", page(s.monitorPage))
	mux.Handle("GET /tokens", page(s.tokensPage))
	mux.Handle("POST /tokens", page(s.createToken))
	mux.Handle("POST /tokens/revoke", page(s.revokeToken))
	mux.Handle("POST /schedules/run", page(s.runNow))

	api := func(h http.HandlerFunc) http.Handler { return s.requireAPI(h) }
	mux.Handle("GET /api/v1/runs", api(s.apiRuns))
	mux.Handle("POST /api/v1/runs", api(s.apiUpload))
	mux.Handle("GET /api/v1/run", api(s.apiRun))
	mux.Handle("GET /api/v1/run/findings", api(s.apiRunFindings))
	mux.Handle("GET /api/v1/targets", api(s.apiTargets))
	mux.Handle("GET /api/v1/target", api(s.apiTarget))
	mux.Handle("GET /api/v1/findings", api(s.apiFindings))
	mux.Handle("GET /api/v1/diff", api(s.apiDiff))
	mux.Handle("GET /api/v1/health", api(s.apiHealth))
	mux.Handle("POST /api/v1/schedules/run", api(s.apiRunNow))
	mux.Handle("GET /metrics", api(s.metricsHandler))
	return s.secure(mux)
}

// contentSecurityPolicy allows only the server's own style sheet, inline
// SVG and forms posting to itself: no scripts at all.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secure sets the security headers on every answer, refuses cross-site
// form posts, and turns panics into a plain 500.
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
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("handler panicked", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Header.Get("Authorization") == "" && !sameOrigin(r) {
			http.Error(w, "cross-site request refused", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
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

type userKey struct{}

// requireSession sends visitors without a session to the sign-in page
// (or to setup while no admin exists).
func (s *Server) requireSession(h func(http.ResponseWriter, *http.Request, store.User)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.sessions.User(r)
		if err != nil {
			if need, _ := s.setup.Needed(r.Context()); need {
				http.Redirect(w, r, "/setup", http.StatusSeeOther)
				return
			}
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)), u)
	})
}

// requireAPI accepts an API token (Authorization: Bearer) or a session.
func (s *Server) requireAPI(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			tok = strings.TrimSpace(tok)
			ip := clientIP(r)
			if ok, until := s.limiter.Allowed("api:" + ip); !ok {
				w.Header().Set("Retry-After", retryAfter(until, s.now()))
				writeJSONError(w, http.StatusTooManyRequests, "too many failed attempts; try later")
				return
			}
			t, err := s.store.TokenByHash(r.Context(), s.box.Hash(tok), s.now())
			if err != nil {
				s.limiter.Fail("api:" + ip)
				w.Header().Set("WWW-Authenticate", `Bearer realm="rampart"`)
				writeJSONError(w, http.StatusUnauthorized, "invalid API token")
				return
			}
			h(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, t)))
			return
		}
		if _, err := s.sessions.User(r); err == nil {
			h(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="rampart"`)
		writeJSONError(w, http.StatusUnauthorized, "sign in or send an API token (Authorization: Bearer ...)")
	})
}

type tokenKey struct{}

func retryAfter(until, now time.Time) string {
	return strconv.Itoa(max(1, int(until.Sub(now).Seconds())+1))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// render writes a page, or a plain 500 when the template fails.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p web.Page) {
	if u, ok := r.Context().Value(userKey{}).(store.User); ok && p.User == "" {
		p.User = u.Username
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
	} else {
		s.log.Error("request", "path", r.URL.Path, "err", err)
		err = errors.New("the server could not complete the request; see its log")
	}
	s.render(w, r, status, "error", web.Page{Title: title, Data: err.Error()})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "UP"})
}
