package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/server/sso"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/web"
)

// oidcLogin sends the browser to the identity provider (GET: a link on
// the sign-in page; the flow's state, nonce and PKCE verifier go in a
// sealed cookie).
func (s *Server) oidcLogin(w http.ResponseWriter, r *http.Request) {
	if s.sso == nil {
		http.NotFound(w, r)
		return
	}
	if ok, until := s.addrLimiter.Allowed("ip:" + clientIP(r)); !ok {
		w.Header().Set("Retry-After", retryAfter(until, s.now()))
		s.render(w, r, http.StatusTooManyRequests, "login", web.Page{Title: "Sign in", Flash: "Too many failed sign-ins. Try again in " + until.Sub(s.now()).Round(time.Minute).String() + "."})
		return
	}
	u, err := s.sso.Begin(r.Context(), w, r)
	if err != nil {
		s.log.Error("single sign-on", "err", err)
		s.render(w, r, http.StatusBadGateway, "login", web.Page{Title: "Sign in",
			Flash: "The identity provider (" + s.sso.Name() + ") cannot be reached just now; sign in with a local account or try again later."})
		return
	}
	http.Redirect(w, r, u, http.StatusFound)
}

// oidcCallback finishes a sign-in: the provider's answer is checked
// (state, PKCE, ID token, nonce), the role is read from the configured
// claim, and the account (created at the first sign-in) is signed in. Every
// sign-in and every refusal is in the audit log; refusals count against
// the client address's sign-in limit.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if s.sso == nil {
		http.NotFound(w, r)
		return
	}
	ctx := context.WithoutCancel(r.Context())
	ip := clientIP(r)
	addrKey := "ip:" + ip
	if ok, until := s.addrLimiter.Allowed(addrKey); !ok {
		w.Header().Set("Retry-After", retryAfter(until, s.now()))
		s.render(w, r, http.StatusTooManyRequests, "login", web.Page{Title: "Sign in", Flash: "Too many failed sign-ins. Try again in " + until.Sub(s.now()).Round(time.Minute).String() + "."})
		return
	}
	refused := func(who, why string) {
		if who == "" {
			who = "(" + s.sso.Name() + ")"
		}
		s.addrLimiter.Fail(addrKey)
		s.addAudit(ctx, s.auditEntry(r, "anonymous", "login.failed", who, "OpenID Connect: "+why))
		s.log.Warn("failed single sign-on", "user", who, "addr", ip, "reason", why)
		s.render(w, r, http.StatusUnauthorized, "login", web.Page{Title: "Sign in", Flash: "Sign-in with " + s.sso.Name() + " failed: " + why + "."})
	}
	id, err := s.sso.Finish(ctx, w, r)
	if err != nil {
		var se *sso.Error
		if !errors.As(err, &se) {
			se = &sso.Error{Reason: "the sign-in could not be completed"}
		}
		if errors.Unwrap(se) != nil {
			s.log.Warn("single sign-on", "err", err)
		}
		refused(se.Who, se.Reason)
		return
	}
	detail := "OpenID Connect " + id.Issuer + "; role " + id.Role
	if len(id.Values) > 0 {
		detail += " (" + s.cfg.OIDC.RolesClaim + ": " + strings.Join(id.Values, ", ") + ")"
	}
	u, err := s.store.SignInExternal(ctx, store.ExternalIdentity{Issuer: id.Issuer, Subject: id.Subject, Username: id.Username, Role: id.Role, Now: s.now()},
		s.auditEntry(r, id.Username, "login", id.Username, detail))
	switch {
	case errors.Is(err, store.ErrDisabled):
		refused(id.Username, "the account is disabled")
		return
	case errors.Is(err, store.ErrExists):
		refused(id.Username, "the user name "+id.Username+" belongs to another account")
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	if err := s.sessions.Start(ctx, w, u); err != nil {
		s.fail(w, r, err)
		return
	}
	s.addrLimiter.Succeed(addrKey)
	s.log.Info("signed in", "user", u.Username, "role", u.Role, "addr", ip, "via", id.Issuer)
	// The session cookie is SameSite=Strict, and this answer is the end of
	// a navigation that began at the provider: a redirect would still be
	// cross-site and go without the cookie. A page that moves on by
	// itself makes a same-site navigation.
	s.render(w, r, http.StatusOK, "signedin", web.Page{Title: "Signed in", Refresh: "/"})
}
