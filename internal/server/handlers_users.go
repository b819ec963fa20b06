package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/server/auth"
	"github.com/rampart-sec/rampart/internal/store"
	"github.com/rampart-sec/rampart/internal/web"
)

// accounts is what signing in and managing users and API tokens need of
// the store, with the audit log every change is recorded in.
type accounts interface {
	CreateUser(ctx context.Context, nu store.NewUser, a store.Audit) (store.User, error)
	UserByName(ctx context.Context, username string) (store.User, error)
	UserByID(ctx context.Context, id int64) (store.User, error)
	UserByInvite(ctx context.Context, inviteHash string, now time.Time) (store.User, error)
	Users(ctx context.Context) ([]store.User, error)
	UpdateUser(ctx context.Context, id int64, ch store.UserChange, a store.Audit) error
	DeleteUser(ctx context.Context, id int64, a store.Audit) error
	RedeemInvite(ctx context.Context, inviteHash, passwordHash string, now time.Time, a store.Audit) (store.User, error)
	SignInExternal(ctx context.Context, id store.ExternalIdentity, a store.Audit) (store.User, error)
	CreateToken(ctx context.Context, nt store.NewToken, a store.Audit) (store.Token, error)
	TokenByHash(ctx context.Context, tokenHash string, now time.Time) (store.Token, error)
	Tokens(ctx context.Context) ([]store.Token, error)
	DeleteToken(ctx context.Context, id int64, a store.Audit) error
	AddAudit(ctx context.Context, a store.Audit) error
	AuditLog(ctx context.Context, limit int, beforeID int64) ([]store.Audit, error)
}

// Accounts are made by admins with a one-time setup link rather than an
// initial password: the admin never knows the user's password (so the
// audit log's "who" means that user), the account cannot sign in at all
// until the link is used, the link is 256 random bits kept only as a keyed
// hash, it works once and expires (invite_ttl), and there is no
// half-signed-in "must change the password" state for a handler to
// forget. A password reset is the same link: the old password stops
// working and every session of the user ends at once.

type userRow struct {
	store.User
	State string
}

type usersView struct {
	Users []userRow
	Roles []auth.Role
	Me    int64
	// Link is a setup link just made (shown once), for LinkUser.
	Link, LinkUser, LinkWhat string
	LinkExpires              time.Time
	Now                      time.Time
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, u store.User, status int, v usersView, ok, flash string) {
	users, err := s.store.Users(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Roles, v.Me, v.Now = auth.UserRoles(), u.ID, s.now()
	for _, x := range users {
		v.Users = append(v.Users, userRow{User: x, State: userState(x, v.Now)})
	}
	s.render(w, r, status, "users", web.Page{Title: "Users", Nav: "users", OK: ok, Flash: flash, Data: v})
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, u store.User) {
	s.renderUsers(w, r, u, http.StatusOK, usersView{}, "", "")
}

// setupLink is the URL of a setup link on this server.
func setupLink(r *http.Request, token string) string {
	return "https://" + r.Host + "/invite?token=" + url.QueryEscape(token)
}

// createUser invites a new user: the account exists without a password
// until its setup link is used.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request, u store.User) {
	name := strings.TrimSpace(r.PostFormValue("username"))
	if err := auth.CheckUsername(name); err != nil {
		s.renderUsers(w, r, u, http.StatusBadRequest, usersView{}, "", err.Error())
		return
	}
	role, err := auth.ParseUserRole(r.PostFormValue("role"))
	if err != nil {
		s.renderUsers(w, r, u, http.StatusBadRequest, usersView{}, "", err.Error())
		return
	}
	inv := s.invites.New()
	_, err = s.store.CreateUser(r.Context(), store.NewUser{Username: name, Role: string(role), InviteHash: inv.Hash, InviteExpires: inv.Expires, Now: s.now()},
		s.auditEntry(r, "", "user.create", name, "role "+string(role)+"; setup link valid until "+inv.Expires.UTC().Format(time.RFC3339)))
	if errors.Is(err, store.ErrExists) {
		s.renderUsers(w, r, u, http.StatusConflict, usersView{}, "", "A user named "+name+" exists already.")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("user invited", "user", name, "role", role, "by", u.Username)
	s.renderUsers(w, r, u, http.StatusOK, usersView{Link: setupLink(r, inv.Token), LinkUser: name, LinkWhat: "invitation", LinkExpires: inv.Expires},
		"User "+name+" created.", "")
}

// targetUser reads the id field of a user form and refuses acting on
// oneself (use the account page; keeps an admin from locking themselves
// out).
func (s *Server) targetUser(w http.ResponseWriter, r *http.Request, u store.User, verb string) (store.User, bool) {
	id, err := strconv.ParseInt(r.PostFormValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.badRequest(w, r, "Bad request", "no user given")
		return store.User{}, false
	}
	if id == u.ID {
		s.renderUsers(w, r, u, http.StatusConflict, usersView{}, "", "You cannot "+verb+" your own account; ask another admin (your password: Account).")
		return store.User{}, false
	}
	target, err := s.store.UserByID(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return store.User{}, false
	}
	return target, true
}

// updateUser applies a change and answers with the users page.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, u, target store.User, ch store.UserChange, action, detail, ok string, v usersView) {
	err := s.store.UpdateUser(r.Context(), target.ID, ch, s.auditEntry(r, "", action, target.Username, detail))
	if errors.Is(err, store.ErrLastAdmin) {
		s.renderUsers(w, r, u, http.StatusConflict, usersView{}, "", "Refused: "+target.Username+" is the last admin who can sign in.")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("user changed", "action", action, "user", target.Username, "by", u.Username)
	s.renderUsers(w, r, u, http.StatusOK, v, ok, "")
}

func (s *Server) setUserRole(w http.ResponseWriter, r *http.Request, u store.User) {
	target, ok := s.targetUser(w, r, u, "change the role of")
	if !ok {
		return
	}
	role, err := auth.ParseUserRole(r.PostFormValue("role"))
	if err != nil {
		s.renderUsers(w, r, u, http.StatusBadRequest, usersView{}, "", err.Error())
		return
	}
	s.updateUser(w, r, u, target, store.UserChange{Role: string(role)}, "user.role", target.Role+" -> "+string(role),
		target.Username+" is now "+string(role)+".", usersView{})
}

func (s *Server) disableUser(w http.ResponseWriter, r *http.Request, u store.User) {
	target, ok := s.targetUser(w, r, u, "disable")
	if !ok {
		return
	}
	yes := true
	s.updateUser(w, r, u, target, store.UserChange{Disabled: &yes}, "user.disable", "sessions ended, API tokens suspended",
		target.Username+" is disabled: signed out everywhere, API tokens suspended.", usersView{})
}

func (s *Server) enableUser(w http.ResponseWriter, r *http.Request, u store.User) {
	target, ok := s.targetUser(w, r, u, "enable")
	if !ok {
		return
	}
	no := false
	s.updateUser(w, r, u, target, store.UserChange{Disabled: &no}, "user.enable", "", target.Username+" is enabled.", usersView{})
}

// resetUser replaces a user's password with a new setup link.
func (s *Server) resetUser(w http.ResponseWriter, r *http.Request, u store.User) {
	target, ok := s.targetUser(w, r, u, "reset the password of")
	if !ok {
		return
	}
	if target.External() {
		s.renderUsers(w, r, u, http.StatusConflict, usersView{}, "", target.Username+" signs in through the identity provider and has no password here to reset.")
		return
	}
	inv := s.invites.New()
	s.updateUser(w, r, u, target, store.UserChange{InviteHash: inv.Hash, InviteExpires: inv.Expires}, "user.reset_password",
		"password cleared, sessions ended; setup link valid until "+inv.Expires.UTC().Format(time.RFC3339),
		"The password of "+target.Username+" no longer works.",
		usersView{Link: setupLink(r, inv.Token), LinkUser: target.Username, LinkWhat: "password reset", LinkExpires: inv.Expires})
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, u store.User) {
	target, ok := s.targetUser(w, r, u, "delete")
	if !ok {
		return
	}
	err := s.store.DeleteUser(r.Context(), target.ID, s.auditEntry(r, "", "user.delete", target.Username, "role "+target.Role+"; sessions and API tokens deleted"))
	if errors.Is(err, store.ErrLastAdmin) {
		s.renderUsers(w, r, u, http.StatusConflict, usersView{}, "", "Refused: "+target.Username+" is the last admin who can sign in.")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("user deleted", "user", target.Username, "by", u.Username)
	s.renderUsers(w, r, u, http.StatusOK, usersView{}, target.Username+" is deleted, with their API tokens.", "")
}

type inviteView struct {
	Token, Username string
}

// invitePage shows the form of a setup link: choose a password.
func (s *Server) invitePage(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	u, err := s.store.UserByInvite(r.Context(), s.invites.Hash(tok), s.now())
	if err != nil {
		s.render(w, r, http.StatusNotFound, "error", web.Page{Title: "Link not valid",
			Data: "This setup link is unknown, used or expired. Ask an admin for a new one."})
		return
	}
	s.render(w, r, http.StatusOK, "invite", web.Page{Title: "Choose a password", Data: inviteView{Token: tok, Username: u.Username}})
}

// invitePost sets the password through a setup link and signs the user
// in. Attempts are limited per client address like the first setup.
func (s *Server) invitePost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.badRequest(w, r, "Bad request", "bad form")
		return
	}
	tok := r.PostFormValue("token")
	ipKey := "invite:" + clientIP(r)
	if ok, until := s.limiter.Allowed(ipKey); !ok {
		w.Header().Set("Retry-After", retryAfter(until, s.now()))
		s.render(w, r, http.StatusTooManyRequests, "error", web.Page{Title: "Too many attempts", Data: "Try again later."})
		return
	}
	hash := s.invites.Hash(tok)
	u, err := s.store.UserByInvite(r.Context(), hash, s.now())
	if err != nil {
		s.limiter.Fail(ipKey)
		s.render(w, r, http.StatusNotFound, "error", web.Page{Title: "Link not valid",
			Data: "This setup link is unknown, used or expired. Ask an admin for a new one."})
		return
	}
	pw := r.PostFormValue("password")
	again := func(msg string) {
		s.render(w, r, http.StatusBadRequest, "invite", web.Page{Title: "Choose a password", Flash: msg, Data: inviteView{Token: tok, Username: u.Username}})
	}
	if pw != r.PostFormValue("password2") {
		again("The two passwords differ.")
		return
	}
	if err := auth.CheckPassword(pw); err != nil {
		again(err.Error())
		return
	}
	if !s.hashing.TryAcquire() {
		s.busy(w, r, "invite", web.Page{Title: "Choose a password", Data: inviteView{Token: tok, Username: u.Username}})
		return
	}
	h, err := auth.HashPassword(pw, s.setup.Params)
	s.hashing.Release()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	u, err = s.store.RedeemInvite(r.Context(), hash, h, s.now(), s.auditEntry(r, u.Username, "user.password_set", u.Username, "through a setup link"))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			s.render(w, r, http.StatusNotFound, "error", web.Page{Title: "Link not valid", Data: "This setup link was used meanwhile."})
			return
		}
		s.fail(w, r, err)
		return
	}
	s.limiter.Succeed(ipKey)
	s.startSession(w, r, u, "login", "first sign-in through a setup link")
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request, u store.User) {
	s.render(w, r, http.StatusOK, "account", web.Page{Title: "Account", Nav: "account", Data: u})
}

// changePassword lets a signed-in user change their own password with
// the current one. Wrong current passwords count against the sign-in
// limit of that user name.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, u store.User) {
	again := func(status int, msg string) {
		s.render(w, r, status, "account", web.Page{Title: "Account", Nav: "account", Flash: msg, Data: u})
	}
	userKey := loginKey(u.Username, clientIP(r))
	if !s.hashing.TryAcquire() {
		s.busy(w, r, "account", web.Page{Title: "Account", Nav: "account", Data: u})
		return
	}
	defer s.hashing.Release()
	if ok, until := s.limiter.Attempt(userKey); !ok {
		w.Header().Set("Retry-After", retryAfter(until, s.now()))
		again(http.StatusTooManyRequests, "Too many wrong passwords; try again later.")
		return
	}
	if err := auth.VerifyPassword(u.PasswordHash, r.PostFormValue("current")); err != nil {
		again(http.StatusBadRequest, "The current password is wrong.")
		return
	}
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("password2") {
		again(http.StatusBadRequest, "The two new passwords differ.")
		return
	}
	if err := auth.CheckPassword(pw); err != nil {
		again(http.StatusBadRequest, err.Error())
		return
	}
	h, err := auth.HashPassword(pw, s.setup.Params)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = s.store.UpdateUser(r.Context(), u.ID, store.UserChange{PasswordHash: h, KeepSession: s.sessions.IDHash(r)},
		s.auditEntry(r, "", "user.password_changed", u.Username, "other sessions ended"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.limiter.Succeed(userKey)
	s.render(w, r, http.StatusOK, "account", web.Page{Title: "Account", Nav: "account", OK: "Password changed; your other sessions are signed out.", Data: u})
}

type auditView struct {
	Entries []store.Audit
	Older   int64
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, u store.User) {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	const perPage = 100
	es, err := s.store.AuditLog(r.Context(), perPage, before)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := auditView{Entries: es}
	if len(es) == perPage {
		v.Older = es[len(es)-1].ID
	}
	s.render(w, r, http.StatusOK, "audit", web.Page{Title: "Audit log", Nav: "audit", Data: v})
}

// userState describes an account for the users page.
func userState(u store.User, now time.Time) string {
	switch {
	case u.Disabled:
		return "disabled"
	case u.External():
		return "signs in with OpenID Connect (" + u.OIDCIssuer + "); role from its claims at each sign-in"
	case u.PasswordHash == "" && u.InviteExpires != nil && u.InviteExpires.After(now):
		return fmt.Sprintf("waiting for its setup link (until %s)", u.InviteExpires.UTC().Format("2006-01-02 15:04 UTC"))
	case u.PasswordHash == "":
		return "setup link expired: reset to make a new one"
	}
	return "active"
}
