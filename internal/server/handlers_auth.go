package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/server/auth"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/web"
)

// maxFormBytes bounds a sign-in or settings form.
const maxFormBytes = 16 << 10

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	need, err := s.setup.Needed(r.Context())
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	if need {
		http.Redirect(w, r, "/setup", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", web.Page{Title: "Sign in"})
}

// login checks a password. Failures are limited per account and client
// address (an attacker elsewhere cannot lock the owner out) with a
// lock-out that doubles each time, and per address across accounts (a
// guesser cannot go down a list of names); every failure costs the same
// (a hash is computed even for an unknown user) so user names cannot be
// told apart by timing, and each is recorded in the audit log. Attempts
// are counted before the password is checked, so parallel attempts
// cannot race past the limit, and at most a few passwords are hashed at
// once (the rest are answered 429 at once). The store's context is not
// the request's: the audit entries are written even when the client
// hangs up.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	ctx := context.WithoutCancel(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, "login", web.Page{Title: "Sign in", Flash: "bad form"})
		return
	}
	user := strings.TrimSpace(r.PostFormValue("username"))
	pass := r.PostFormValue("password")
	ip := clientIP(r)
	addrKey, acctKey := "ip:"+ip, loginKey(user, ip)
	tooMany := func(until time.Time) {
		w.Header().Set("Retry-After", retryAfter(until, s.now()))
		s.render(w, r, http.StatusTooManyRequests, "login", web.Page{Title: "Sign in", Flash: "Too many failed sign-ins. Try again in " + until.Sub(s.now()).Round(time.Minute).String() + "."})
	}
	if ok, until := s.addrLimiter.Allowed(addrKey); !ok {
		tooMany(until)
		return
	}
	if ok, until := s.limiter.Allowed(acctKey); !ok {
		tooMany(until)
		return
	}
	if !s.hashing.TryAcquire() {
		s.busy(w, r, "login", web.Page{Title: "Sign in"})
		return
	}
	defer s.hashing.Release()
	if ok, until := s.addrLimiter.Attempt(addrKey); !ok {
		tooMany(until)
		return
	}
	if ok, until := s.limiter.Attempt(acctKey); !ok {
		tooMany(until)
		return
	}
	u, err := s.store.UserByName(ctx, user)
	hash := u.PasswordHash
	if err != nil || !u.Active() {
		// Unknown, disabled, or waiting for its setup link: the same
		// work and the same answer as a wrong password.
		hash = s.dummyHash()
	}
	if verr := auth.VerifyPassword(hash, pass); verr != nil || err != nil || !u.Active() {
		why := "wrong password"
		switch {
		case err != nil:
			why = "no such user"
		case u.Disabled:
			why = "account disabled"
		case u.External():
			why = "the account signs in through the identity provider"
		case !u.Active():
			why = "account has no password yet (setup link outstanding)"
		}
		s.addAudit(ctx, s.auditEntry(r, "anonymous", "login.failed", user, why))
		for _, l := range []struct {
			lim  *auth.Limiter
			key  string
			what string
		}{{s.limiter, acctKey, "this account from " + ip}, {s.addrLimiter, addrKey, "any account from " + ip}} {
			if ok, until := l.lim.Allowed(l.key); !ok {
				s.addAudit(ctx, s.auditEntry(r, "anonymous", "login.locked", user, "too many failed sign-ins for "+l.what+"; locked until "+until.UTC().Format(time.RFC3339)))
			}
		}
		s.log.Warn("failed sign-in", "user", user, "addr", ip, "reason", why)
		s.render(w, r, http.StatusUnauthorized, "login", web.Page{Title: "Sign in", Flash: "Wrong user name or password."})
		return
	}
	s.limiter.Succeed(acctKey)
	s.addrLimiter.Succeed(addrKey)
	s.startSession(w, r.WithContext(ctx), u, "login", "")
}

// loginKey is the limiter's key for sign-ins to an account from an address.
func loginKey(user, ip string) string {
	return "login:" + strings.ToLower(user) + "@" + ip
}

// addAudit records an entry; a failure to record is logged.
func (s *Server) addAudit(ctx context.Context, a store.Audit) {
	if err := s.store.AddAudit(ctx, a); err != nil {
		s.log.Error("audit log", "action", a.Action, "err", err)
	}
}

// busy answers a form whose password cannot be hashed now because every
// hashing slot is taken: 429 at once, try again in a second.
func (s *Server) busy(w http.ResponseWriter, r *http.Request, page string, p web.Page) {
	w.Header().Set("Retry-After", "1")
	p.Flash = "The server is busy checking other passwords; try again in a moment."
	s.render(w, r, http.StatusTooManyRequests, page, p)
}

// startSession signs u in and records it in the audit log.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u store.User, action, detail string) {
	if err := s.sessions.Start(r.Context(), w, u); err != nil {
		s.fail(w, r, err)
		return
	}
	if action != "" {
		if err := s.store.AddAudit(r.Context(), s.auditEntry(r, u.Username, action, u.Username, detail)); err != nil {
			s.log.Error("audit log", "err", err)
		}
	}
	s.log.Info("signed in", "user", u.Username, "role", u.Role, "addr", clientIP(r))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// dummyHash is a hash of nothing with the configured costs, verified for
// unknown users.
func (s *Server) dummyHash() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dummy == "" {
		s.dummy, _ = auth.HashPassword("rampart: no such user", s.setup.Params)
	}
	return s.dummy
}

func (s *Server) setupPage(w http.ResponseWriter, r *http.Request) {
	need, err := s.setup.Needed(r.Context())
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	if !need {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "setup", web.Page{Title: "Set up rampart"})
}

func (s *Server) setupPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, "setup", web.Page{Title: "Set up rampart", Flash: "bad form"})
		return
	}
	ipKey := "setup:" + clientIP(r)
	if ok, until := s.limiter.Allowed(ipKey); !ok {
		w.Header().Set("Retry-After", retryAfter(until, s.now()))
		s.render(w, r, http.StatusTooManyRequests, "setup", web.Page{Title: "Set up rampart", Flash: "Too many attempts; try later."})
		return
	}
	if !s.hashing.TryAcquire() {
		s.busy(w, r, "setup", web.Page{Title: "Set up rampart"})
		return
	}
	u, err := s.setup.Redeem(r.Context(), strings.TrimSpace(r.PostFormValue("token")), r.PostFormValue("username"), r.PostFormValue("password"))
	s.hashing.Release()
	if err != nil {
		if errors.Is(err, auth.ErrSetupDone) {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		s.limiter.Fail(ipKey)
		s.render(w, r, http.StatusBadRequest, "setup", web.Page{Title: "Set up rampart", Flash: err.Error()})
		return
	}
	s.log.Info("first admin created with the setup token", "user", u.Username)
	s.startSession(w, r, u, "login", "first sign-in after setup")
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if u, err := s.sessions.User(r); err == nil {
		if err := s.store.AddAudit(r.Context(), s.auditEntry(r, u.Username, "logout", u.Username, "")); err != nil {
			s.log.Error("audit log", "err", err)
		}
	}
	s.sessions.End(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
