package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// latestSchema is the highest migration; TestMigrationsIdempotent checks
// a fresh store reaches it. It is read from the embedded files (the zones
// migration is numbered 0020, clear of the core schema's steps).
var latestSchema = func() int {
	ms, err := migrations("sqlite")
	if err != nil || len(ms) == 0 {
		return -1
	}
	return ms[len(ms)-1].version
}()

func audit(action, subject string) Audit {
	return Audit{At: t0, Actor: "root", Action: action, Subject: subject, Addr: "127.0.0.1"}
}

func TestAccounts(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		if n, err := s.CountUsers(ctx); err != nil || n != 0 {
			t.Fatalf("users = %d, %v", n, err)
		}
		u, err := s.CreateUser(ctx, NewUser{Username: "admin", Role: "admin", PasswordHash: "$argon2id$x", Now: t0}, audit("user.create", "admin"))
		if err != nil {
			t.Fatal(err)
		}
		for _, dup := range []string{"admin", "Admin"} {
			if _, err := s.CreateUser(ctx, NewUser{Username: dup, Role: "viewer", PasswordHash: "y", Now: t0}, Audit{}); !errors.Is(err, ErrExists) {
				t.Errorf("duplicate user name %q: %v; want ErrExists", dup, err)
			}
		}
		got, err := s.UserByName(ctx, "admin")
		if err != nil || got.ID != u.ID || got.Role != "admin" || got.PasswordHash != "$argon2id$x" || !got.Active() || got.LastLogin != nil {
			t.Fatalf("user = %+v, %v", got, err)
		}
		if err := s.CreateSession(ctx, "h1", u.ID, t0, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if su, err := s.SessionUser(ctx, "h1", t0.Add(time.Minute)); err != nil || su.Username != "admin" || su.LastLogin == nil || !su.LastLogin.Equal(t0) {
			t.Errorf("session user = %+v, %v", su, err)
		}
		if _, err := s.SessionUser(ctx, "h1", t0.Add(2*time.Hour)); !errors.Is(err, ErrNotFound) {
			t.Errorf("expired session: %v; want ErrNotFound", err)
		}
		if err := s.DeleteSession(ctx, "h1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionUser(ctx, "h1", t0); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted session: %v", err)
		}
		tok, err := s.CreateToken(ctx, NewToken{Name: "ci", Hash: "th", Role: "uploader", UserID: u.ID, CreatedBy: "admin", Now: t0}, audit("token.create", "ci"))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.TokenByHash(ctx, "th", t0.Add(time.Minute)); err != nil || got.ID != tok.ID || got.Role != "uploader" || got.OwnerRole != "admin" || got.UserID != u.ID {
			t.Errorf("token = %+v, %v", got, err)
		}
		if ts, err := s.Tokens(ctx); err != nil || len(ts) != 1 || ts[0].LastUsed == nil || ts[0].Role != "uploader" {
			t.Errorf("tokens = %+v, %v", ts, err)
		}
		if err := s.DeleteToken(ctx, tok.ID, audit("token.revoke", "ci")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TokenByHash(ctx, "th", t0); !errors.Is(err, ErrNotFound) {
			t.Errorf("revoked token still found: %v", err)
		}
		if err := s.DeleteToken(ctx, tok.ID, audit("token.revoke", "ci")); !errors.Is(err, ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
		if _, err := s.Setting(ctx, "x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing setting: %v", err)
		}
		for _, v := range []string{"1", "2"} {
			if err := s.SetSetting(ctx, "x", v); err != nil {
				t.Fatal(err)
			}
		}
		if v, err := s.Setting(ctx, "x"); err != nil || v != "2" {
			t.Errorf("setting = %q, %v", v, err)
		}
		// Every change above that carried an audit entry is in the log,
		// newest first; the failed second revoke is not.
		log, err := s.AuditLog(ctx, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, a := range log {
			actions = append(actions, a.Action+" "+a.Subject)
		}
		want := []string{"token.revoke ci", "token.create ci", "user.create admin"}
		if len(actions) != len(want) {
			t.Fatalf("audit log = %v; want %v", actions, want)
		}
		for i := range want {
			if actions[i] != want[i] {
				t.Errorf("audit log = %v; want %v", actions, want)
				break
			}
		}
		if log[0].Actor != "root" || log[0].Addr != "127.0.0.1" || !log[0].At.Equal(t0) {
			t.Errorf("audit entry = %+v", log[0])
		}
		if older, err := s.AuditLog(ctx, 10, log[0].ID); err != nil || len(older) != 2 {
			t.Errorf("audit before %d = %d entries, %v", log[0].ID, len(older), err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// User management: invitations, roles, disable, reset, delete; the last
// admin is kept; a disabled or deleted owner's tokens stop working.
func TestUserManagement(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		root, err := s.CreateUser(ctx, NewUser{Username: "root", Role: "admin", PasswordHash: "$h-root", Now: t0}, Audit{})
		if err != nil {
			t.Fatal(err)
		}
		// An invited viewer has no password until the link is used.
		v, err := s.CreateUser(ctx, NewUser{Username: "vera", Role: "viewer", InviteHash: "inv1", InviteExpires: t0.Add(72 * time.Hour), Now: t0}, audit("user.create", "vera"))
		if err != nil {
			t.Fatal(err)
		}
		if v.Active() || v.InviteExpires == nil {
			t.Errorf("invited user = %+v; want inactive with an outstanding link", v)
		}
		if _, err := s.UserByInvite(ctx, "inv1", t0.Add(73*time.Hour)); !errors.Is(err, ErrNotFound) {
			t.Errorf("expired link: %v; want ErrNotFound", err)
		}
		if got, err := s.UserByInvite(ctx, "inv1", t0.Add(time.Hour)); err != nil || got.ID != v.ID {
			t.Errorf("link lookup = %+v, %v", got, err)
		}
		if _, err := s.RedeemInvite(ctx, "inv1", "$h-vera", t0.Add(73*time.Hour), Audit{Action: "user.invite_accepted"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("expired link redeemed: %v", err)
		}
		// Two redemptions at once: exactly one wins.
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.RedeemInvite(ctx, "inv1", "$h-vera", t0.Add(time.Hour), Audit{At: t0, Action: "user.invite_accepted"}); err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("the setup link worked %d times; want once", wins)
		}
		v, _ = s.UserByID(ctx, v.ID)
		if !v.Active() || v.PasswordHash != "$h-vera" || v.InviteExpires != nil {
			t.Errorf("after the link: %+v", v)
		}

		// Disabling ends sessions at once and stops the user's tokens.
		if err := s.CreateSession(ctx, "vs", v.ID, t0, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateToken(ctx, NewToken{Name: "vt", Hash: "vth", Role: "viewer", UserID: v.ID, CreatedBy: "vera", Now: t0}, Audit{}); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateUser(ctx, v.ID, UserChange{Disabled: ptr(true)}, audit("user.disable", "vera")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionUser(ctx, "vs", t0); !errors.Is(err, ErrNotFound) {
			t.Errorf("session of a disabled user: %v", err)
		}
		if _, err := s.TokenByHash(ctx, "vth", t0); !errors.Is(err, ErrNotFound) {
			t.Errorf("token of a disabled user: %v", err)
		}
		if ts, _ := s.Tokens(ctx); len(ts) != 1 || !ts[0].OwnerDisabled {
			t.Errorf("tokens list = %+v; want the token shown with its owner disabled", ts)
		}
		if err := s.UpdateUser(ctx, v.ID, UserChange{Disabled: ptr(false)}, audit("user.enable", "vera")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TokenByHash(ctx, "vth", t0); err != nil {
			t.Errorf("token after re-enabling: %v", err)
		}

		// A reset replaces the password with a new link and ends sessions.
		if err := s.CreateSession(ctx, "vs2", v.ID, t0, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateUser(ctx, v.ID, UserChange{InviteHash: "inv2", InviteExpires: t0.Add(time.Hour)}, audit("user.reset_password", "vera")); err != nil {
			t.Fatal(err)
		}
		v, _ = s.UserByID(ctx, v.ID)
		if v.Active() || v.PasswordHash != "" {
			t.Errorf("after a reset: %+v; want no password", v)
		}
		if _, err := s.SessionUser(ctx, "vs2", t0); !errors.Is(err, ErrNotFound) {
			t.Errorf("session after a reset: %v", err)
		}
		if _, err := s.RedeemInvite(ctx, "inv2", "$h-vera2", t0.Add(time.Minute), Audit{Action: "user.invite_accepted"}); err != nil {
			t.Fatal(err)
		}

		// A password change keeps the session it was made from only.
		for _, h := range []string{"keep", "other"} {
			if err := s.CreateSession(ctx, h, v.ID, t0, t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.UpdateUser(ctx, v.ID, UserChange{PasswordHash: "$h-vera3", KeepSession: "keep"}, audit("user.password_changed", "vera")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionUser(ctx, "keep", t0); err != nil {
			t.Errorf("the changing session ended: %v", err)
		}
		if _, err := s.SessionUser(ctx, "other", t0); !errors.Is(err, ErrNotFound) {
			t.Errorf("another session survived a password change: %v", err)
		}

		// The last admin stays: not demoted, disabled, reset or deleted.
		for name, ch := range map[string]UserChange{
			"demote": {Role: "viewer"}, "disable": {Disabled: ptr(true)}, "reset": {InviteHash: "inv3", InviteExpires: t0.Add(time.Hour)},
		} {
			if err := s.UpdateUser(ctx, root.ID, ch, audit("user."+name, "root")); !errors.Is(err, ErrLastAdmin) {
				t.Errorf("%s the last admin: %v; want ErrLastAdmin", name, err)
			}
		}
		if err := s.DeleteUser(ctx, root.ID, audit("user.delete", "root")); !errors.Is(err, ErrLastAdmin) {
			t.Errorf("delete the last admin: %v; want ErrLastAdmin", err)
		}
		if r, _ := s.UserByID(ctx, root.ID); !r.Active() || r.Role != "admin" {
			t.Errorf("the last admin changed anyway: %+v", r)
		}
		// With a second admin, the first may go.
		if err := s.UpdateUser(ctx, v.ID, UserChange{Role: "admin"}, audit("user.role", "vera")); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteUser(ctx, root.ID, audit("user.delete", "root")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UserByID(ctx, root.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted user: %v", err)
		}
		if err := s.DeleteUser(ctx, root.ID, audit("user.delete", "root")); !errors.Is(err, ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
		// Deleting vera would leave no admin; her token goes with her
		// when she is deleted after another admin exists.
		adm2, err := s.CreateUser(ctx, NewUser{Username: "ada", Role: "admin", PasswordHash: "$h-ada", Now: t0}, Audit{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteUser(ctx, v.ID, audit("user.delete", "vera")); err != nil {
			t.Fatal(err)
		}
		if ts, _ := s.Tokens(ctx); len(ts) != 0 {
			t.Errorf("tokens of a deleted user remain: %+v", ts)
		}
		if us, err := s.Users(ctx); err != nil || len(us) != 1 || us[0].ID != adm2.ID {
			t.Errorf("users = %+v, %v", us, err)
		}
		log, _ := s.AuditLog(ctx, 100, 0)
		n := map[string]int{}
		for _, a := range log {
			n[a.Action]++
		}
		// Refused changes leave no entry.
		if n["user.delete"] != 2 || n["user.demote"] != 0 || n["user.invite_accepted"] != 2 || n["user.disable"] != 1 {
			t.Errorf("audit actions = %v", n)
		}
	})
}

// Two admins disabling each other at once: one of them stays.
func TestLastAdminRace(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		a, _ := s.CreateUser(ctx, NewUser{Username: "a", Role: "admin", PasswordHash: "$h", Now: t0}, Audit{})
		b, _ := s.CreateUser(ctx, NewUser{Username: "b", Role: "admin", PasswordHash: "$h", Now: t0}, Audit{})
		for round := 0; round < 5; round++ {
			var wg sync.WaitGroup
			for _, id := range []int64{a.ID, b.ID} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_ = s.UpdateUser(ctx, id, UserChange{Disabled: ptr(true)}, Audit{})
				}()
			}
			wg.Wait()
			ua, _ := s.UserByID(ctx, a.ID)
			ub, _ := s.UserByID(ctx, b.ID)
			if ua.Disabled == ub.Disabled {
				t.Fatalf("round %d: a disabled %v, b disabled %v; want exactly one left", round, ua.Disabled, ub.Disabled)
			}
			for _, id := range []int64{a.ID, b.ID} {
				if err := s.UpdateUser(ctx, id, UserChange{Disabled: ptr(false)}, Audit{}); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// A v1 database (every user an admin, tokens without roles) upgrades in
// place: users become admins, tokens keep admin rights and get their
// creator as owner.
func TestMigrationFromV1(t *testing.T) {
	eachSpec(t, func(t *testing.T, spec string) {
		ctx := context.Background()
		old, err := open(ctx, spec, 1)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := old.SchemaVersion(ctx); v != 1 {
			t.Fatalf("schema version %d; want 1", v)
		}
		db := old.DB()
		if _, err := db.ExecContext(ctx, old.q(`INSERT INTO users (username, password_hash, admin, created_at) VALUES (?, ?, 1, ?)`), "olda", "$h", ms0(t0)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, old.q(`INSERT INTO api_tokens (name, token_hash, created_by, created_at) VALUES (?, ?, ?, ?)`), "old-ci", "oth", "olda", ms0(t0)); err != nil {
			t.Fatal(err)
		}
		for i, delivered := range []sql.NullInt64{{}, {Int64: ms0(t0), Valid: true}} {
			if _, err := db.ExecContext(ctx, old.q(`INSERT INTO outbox (destination, idem_key, kind, body, created_at, attempts, next_attempt, delivered_at, last_error) VALUES (?, ?, ?, ?, ?, 1, ?, ?, '')`),
				"hook", fmt.Sprint("k", i), "fixed", "{}", ms0(t0), ms0(t0), delivered); err != nil {
				t.Fatal(err)
			}
		}
		old.Close()
		s, err := Open(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if v, _ := s.SchemaVersion(ctx); v != latestSchema {
			t.Errorf("schema version %d; want %d", v, latestSchema)
		}
		u, err := s.UserByName(ctx, "olda")
		if err != nil || u.Role != "admin" || !u.Active() {
			t.Errorf("migrated user = %+v, %v", u, err)
		}
		tok, err := s.TokenByHash(ctx, "oth", t0)
		if err != nil || tok.Role != "admin" || tok.UserID != u.ID || tok.OwnerRole != "admin" {
			t.Errorf("migrated token = %+v, %v", tok, err)
		}
		st, err := s.OutboxStats(ctx)
		if err != nil || st.Pending != 1 || st.Delivered != 1 || st.Retrying != 1 {
			t.Errorf("migrated outbox = %+v, %v", st, err)
		}
		due, err := s.DueOutbox(ctx, t0, 10)
		if err != nil || len(due) != 1 || !due[0].EnqueuedAt.Equal(t0) {
			t.Errorf("migrated pending item = %+v, %v; want its retry window from its creation", due, err)
		}
	})
}

// Of many concurrent first-admin creations with one setup token, exactly
// one creates an account: the token is checked and retired, and the
// account created, in one transaction.
func TestCreateFirstAdminOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		if err := s.SetSetting(ctx, "auth.setup_token", "the-hash"); err != nil {
			t.Fatal(err)
		}
		check := func(v string) error {
			if v != "the-hash" {
				return errors.New("wrong token")
			}
			return nil
		}
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.CreateFirstAdmin(ctx, "auth.setup_token", check,
					NewUser{Username: fmt.Sprint("admin", i), Role: "admin", PasswordHash: "h"}, Audit{Actor: "system", Action: "user.create", Subject: fmt.Sprint("admin", i)})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrNotFirst), errors.Is(err, ErrNotFound):
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if n, _ := s.CountUsers(ctx); ok != 1 || n != 1 {
			t.Errorf("%d creations succeeded, %d users exist; want 1 and 1", ok, n)
		}
		if _, err := s.Setting(ctx, "auth.setup_token"); !errors.Is(err, ErrNotFound) {
			t.Errorf("the setup token was not retired: %v", err)
		}
		if _, err := s.CreateFirstAdmin(ctx, "auth.setup_token", nil, NewUser{Username: "late", Role: "admin", PasswordHash: "h"}, Audit{}); !errors.Is(err, ErrNotFirst) {
			t.Errorf("a first admin once one exists: %v; want ErrNotFirst", err)
		}
	})
}

// Accounts of people signed in by an OpenID Connect provider: made at the
// first sign-in, found by issuer and subject afterwards (their role and
// name follow the provider), never merged with a local account of the
// same name, refused while disabled; their sessions work without a
// password; they never count as the last admin who can sign in.
func TestSignInExternal(t *testing.T) {
	eachStore(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		now := time.Now()
		if _, err := s.CreateUser(ctx, NewUser{Username: "Bob", Role: "admin", PasswordHash: "x", Now: now}, Audit{}); err != nil {
			t.Fatal(err)
		}
		id := ExternalIdentity{Issuer: "https://idp", Subject: "s-1", Username: "bob", Role: "viewer", Now: now}
		if _, err := s.SignInExternal(ctx, id, audit("login", "bob")); !errors.Is(err, ErrExists) {
			t.Fatalf("bob over a local Bob: %v", err)
		}
		id.Username = "carol"
		u, err := s.SignInExternal(ctx, id, audit("login", ""))
		if err != nil || u.Username != "carol" || u.Role != "viewer" || !u.External() || u.Active() {
			t.Fatalf("first sign-in: %+v %v", u, err)
		}
		id.Role, id.Username = "admin", "carol.k"
		u2, err := s.SignInExternal(ctx, id, audit("login", ""))
		if err != nil || u2.ID != u.ID || u2.Role != "admin" || u2.Username != "carol.k" {
			t.Fatalf("second sign-in: %+v %v", u2, err)
		}
		// Another issuer's s-1 is someone else; a name held by another
		// account stays with it.
		other := ExternalIdentity{Issuer: "https://other-idp", Subject: "s-1", Username: "dan", Role: "viewer", Now: now}
		if u3, err := s.SignInExternal(ctx, other, Audit{}); err != nil || u3.ID == u.ID {
			t.Fatalf("other issuer: %+v %v", u3, err)
		}
		other.Username = "carol.k"
		if u3, err := s.SignInExternal(ctx, other, Audit{}); err != nil || u3.Username != "dan" {
			t.Fatalf("taking carol.k's name: %+v %v", u3, err)
		}
		if err := s.CreateSession(ctx, "h1", u.ID, now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if su, err := s.SessionUser(ctx, "h1", now); err != nil || su.ID != u.ID || su.OIDCSubject != "s-1" {
			t.Fatalf("session of an external account: %+v %v", su, err)
		}
		es, _ := s.AuditLog(ctx, 10, 0)
		if len(es) != 2 || es[0].Subject != "carol.k" || es[1].Subject != "carol" {
			t.Errorf("audit: %+v", es)
		}
		// Disabling the last local admin is refused even with an
		// external admin around; disabling carol is not.
		bob, _ := s.UserByName(ctx, "Bob")
		if err := s.UpdateUser(ctx, bob.ID, UserChange{Disabled: ptr(true)}, Audit{}); !errors.Is(err, ErrLastAdmin) {
			t.Errorf("disabling the last local admin: %v", err)
		}
		if err := s.UpdateUser(ctx, u.ID, UserChange{Disabled: ptr(true)}, Audit{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionUser(ctx, "h1", now); !errors.Is(err, ErrNotFound) {
			t.Errorf("disabled account's session: %v", err)
		}
		n := len(es)
		if _, err := s.SignInExternal(ctx, id, audit("login", "")); !errors.Is(err, ErrDisabled) {
			t.Errorf("disabled: %v", err)
		}
		if es, _ := s.AuditLog(ctx, 10, 0); len(es) != n {
			t.Errorf("a refused sign-in was recorded by the store")
		}
	})
}
