package server

import (
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
	if need, _ := s.setup.Needed(r.Context()); need {
		http.Redirect(w, r, "/setup", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", web.Page{Title: "Sign in"})
}

// login checks a password. Failures are limited per client address and
// per user name; every failure costs the same (a hash is computed even
// for an unknown user) so user names cannot be told apart by timing.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, "login", web.Page{Title: "Sign in", Flash: "bad form"})
		return
	}
	user := strings.TrimSpace(r.PostFormValue("username"))
	pass := r.PostFormValue("password")
	ipKey, userKey := "ip:"+clientIP(r), "user:"+strings.ToLower(user)
	for _, k := range []string{ipKey, userKey} {
		if ok, until := s.limiter.Allowed(k); !ok {
			w.Header().Set("Retry-After", retryAfter(until, s.now()))
			s.render(w, r, http.StatusTooManyRequests, "login", web.Page{Title: "Sign in", Flash: "Too many failed sign-ins. Try again in " + until.Sub(s.now()).Round(time.Minute).String() + "."})
			return
		}
	}
	u, err := s.store.UserByName(r.Context(), user)
	hash := u.PasswordHash
	if err != nil || !u.Active() {
		// Unknown, disabled, or waiting for its setup link: the same
		// work and the same answer as a wrong password.
		hash = s.dummyHash()
	}
	if verr := auth.VerifyPassword(hash, pass); verr != nil || err != nil || !u.Active() {
		for _, k := range []string{ipKey, userKey} {
			s.limiter.Fail(k)
			if ok, until := s.limiter.Allowed(k); !ok {
				a := s.auditEntry(r, "anonymous", "login.locked", user, "too many failed sign-ins for "+k+" until "+until.UTC().Format(time.RFC3339))
				if err := s.store.AddAudit(r.Context(), a); err != nil {
					s.log.Error("audit log", "err", err)
				}
			}
		}
		s.log.Warn("failed sign-in", "user", user, "addr", clientIP(r))
		s.render(w, r, http.StatusUnauthorized, "login", web.Page{Title: "Sign in", Flash: "Wrong user name or password."})
		return
	}
	s.limiter.Succeed(ipKey)
	s.limiter.Succeed(userKey)
	s.startSession(w, r, u, "login", "")
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
	if need, _ := s.setup.Needed(r.Context()); !need {
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
	u, err := s.setup.Redeem(r.Context(), strings.TrimSpace(r.PostFormValue("token")), r.PostFormValue("username"), r.PostFormValue("password"))
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
