package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

const userCols = `id, username, password_hash, role, disabled, created_at, last_login_at, invite_expires_at, oidc_issuer, oidc_subject`

func scanUser(sc scanner) (User, error) {
	var u User
	var disabled int
	var created int64
	var last, invite sql.NullInt64
	err := sc.Scan(&u.ID, &u.Username, &u.PasswordHash, &u.Role, &disabled, &created, &last, &invite, &u.OIDCIssuer, &u.OIDCSubject)
	u.Disabled, u.CreatedAt, u.LastLogin, u.InviteExpires = disabled == 1, fromMS(created), fromNullMS(last), fromNullMS(invite)
	return u, err
}

// lockUsers serialises account changes, so two admins disabling each
// other at once cannot both succeed. SQLite's write transactions are
// already serial (BEGIN IMMEDIATE); PostgreSQL takes an advisory lock.
func (s *SQL) lockUsers(ctx context.Context, tx *sql.Tx) error {
	if s.dialect != "postgres" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7261706173)`)
	return err
}

// audit records a in tx; an entry without an action is not recorded.
func (s *SQL) audit(ctx context.Context, tx *sql.Tx, a Audit) error {
	if a.Action == "" {
		return nil
	}
	if a.At.IsZero() {
		a.At = time.Now()
	}
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO audit_log (at, actor, action, subject, detail, addr) VALUES (?, ?, ?, ?, ?, ?)`),
		ms0(a.At), clip(a.Actor, 200), clip(a.Action, 64), clip(a.Subject, 200), clip(a.Detail, 1000), clip(a.Addr, 64))
	if err != nil {
		return fmt.Errorf("audit %s: %w", a.Action, err)
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func nullMS(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: ms0(t), Valid: true}
}

func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// CreateUser adds an account (with a password, or with a one-time
// setup link and no password yet) and records a in the audit log, in
// one transaction. A name that differs from an existing one only in
// case is refused (ErrExists).
func (s *SQL) CreateUser(ctx context.Context, nu NewUser, a Audit) (User, error) {
	if nu.Now.IsZero() {
		nu.Now = time.Now()
	}
	u := User{Username: nu.Username, PasswordHash: nu.PasswordHash, Role: nu.Role, CreatedAt: fromMS(ms0(nu.Now))}
	if nu.InviteHash != "" {
		exp := fromMS(ms0(nu.InviteExpires))
		u.InviteExpires = &exp
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockUsers(ctx, tx); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM users WHERE LOWER(username) = LOWER(?)`), nu.Username).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrExists
		}
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO users (username, password_hash, role, disabled, created_at, invite_hash, invite_expires_at) VALUES (?, ?, ?, 0, ?, ?, ?) RETURNING id`),
			nu.Username, nu.PasswordHash, nu.Role, ms0(nu.Now), nullString(nu.InviteHash), nullMS(nu.InviteExpires)).Scan(&u.ID)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a)
	})
	if err != nil {
		return u, fmt.Errorf("create user %s: %w", nu.Username, err)
	}
	return u, nil
}

// CreateFirstAdmin creates the first admin in one transaction: only
// while no user exists (else ErrNotFirst), and, when check is set,
// only if check accepts the value of the setting named setting (the
// one-time setup token's hash; ErrNotFound without one). The setting
// is deleted in the same transaction, so of concurrent attempts with
// one token exactly one creates an account. a is recorded with it.
// The users table is locked for the transaction (SQLite's write transactions
// are serial; PostgreSQL takes the accounts' advisory lock), so the count
// cannot change under it.
func (s *SQL) CreateFirstAdmin(ctx context.Context, setting string, check func(string) error, nu NewUser, a Audit) (User, error) {
	if nu.Now.IsZero() {
		nu.Now = time.Now()
	}
	u := User{Username: nu.Username, PasswordHash: nu.PasswordHash, Role: nu.Role, CreatedAt: fromMS(ms0(nu.Now))}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockUsers(ctx, tx); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrNotFirst
		}
		if check != nil {
			var v string
			if err := tx.QueryRowContext(ctx, s.q(`SELECT value FROM settings WHERE key = ?`), setting).Scan(&v); err != nil {
				return notFound(err, "setting "+setting)
			}
			if err := check(v); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM settings WHERE key = ?`), setting); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO users (username, password_hash, role, disabled, created_at) VALUES (?, ?, ?, 0, ?) RETURNING id`),
			nu.Username, nu.PasswordHash, nu.Role, ms0(nu.Now)).Scan(&u.ID)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a)
	})
	if err != nil {
		return u, fmt.Errorf("create first admin %s: %w", nu.Username, err)
	}
	return u, nil
}

// UserByName returns the account of a user name (ErrNotFound).
func (s *SQL) UserByName(ctx context.Context, username string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, s.q(`SELECT `+userCols+` FROM users WHERE username = ?`), username))
	if err != nil {
		return u, notFound(err, "user")
	}
	return u, nil
}

// UserByID returns an account by ID (ErrNotFound).
func (s *SQL) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, s.q(`SELECT `+userCols+` FROM users WHERE id = ?`), id))
	if err != nil {
		return u, notFound(err, fmt.Sprintf("user %d", id))
	}
	return u, nil
}

// UserByInvite returns the enabled user whose setup link has this
// keyed hash and has not expired.
func (s *SQL) UserByInvite(ctx context.Context, inviteHash string, now time.Time) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, s.q(`SELECT `+userCols+` FROM users
WHERE invite_hash = ? AND invite_expires_at > ? AND disabled = 0`), inviteHash, ms0(now)))
	if err != nil {
		return u, notFound(err, "setup link")
	}
	return u, nil
}

// Users lists every account by name.
func (s *SQL) Users(ctx context.Context) ([]User, error) {
	return queryAll(ctx, s, "users", scanUser, `SELECT `+userCols+` FROM users ORDER BY username`)
}

// CountUsers counts the accounts.
func (s *SQL) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

// keepAnAdmin fails with ErrLastAdmin when u was an active admin and the
// change under way (in tx) left no active admin who can sign in.
func (s *SQL) keepAnAdmin(ctx context.Context, tx *sql.Tx, u User) error {
	if u.Role != "admin" || !u.Active() {
		return nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0 AND password_hash <> ''`).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return ErrLastAdmin
	}
	return nil
}

// UpdateUser changes an account and records a, in one transaction.
// Disabling an account or replacing its password with a setup link
// ends its sessions. A change that would leave no enabled admin with
// a password fails with ErrLastAdmin.
func (s *SQL) UpdateUser(ctx context.Context, id int64, ch UserChange, a Audit) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockUsers(ctx, tx); err != nil {
			return err
		}
		u, err := scanUser(tx.QueryRowContext(ctx, s.q(`SELECT `+userCols+` FROM users WHERE id = ?`), id))
		if err != nil {
			return notFound(err, fmt.Sprintf("user %d", id))
		}
		endSessions := false
		if ch.Role != "" {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE users SET role = ? WHERE id = ?`), ch.Role, id); err != nil {
				return err
			}
		}
		if ch.Disabled != nil {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE users SET disabled = ? WHERE id = ?`), b2i(*ch.Disabled), id); err != nil {
				return err
			}
			endSessions = endSessions || *ch.Disabled
		}
		if ch.InviteHash != "" {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE users SET password_hash = '', invite_hash = ?, invite_expires_at = ? WHERE id = ?`),
				ch.InviteHash, ms0(ch.InviteExpires), id); err != nil {
				return err
			}
			endSessions = true
		}
		if ch.PasswordHash != "" {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE users SET password_hash = ?, invite_hash = NULL, invite_expires_at = NULL WHERE id = ?`), ch.PasswordHash, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE user_id = ? AND id_hash <> ?`), id, ch.KeepSession); err != nil {
				return err
			}
		}
		if endSessions {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE user_id = ?`), id); err != nil {
				return err
			}
		}
		if err := s.keepAnAdmin(ctx, tx, u); err != nil {
			return err
		}
		return s.audit(ctx, tx, a)
	})
	if err != nil {
		return fmt.Errorf("update user %d: %w", id, err)
	}
	return nil
}

// DeleteUser deletes an account with its sessions and API tokens.
func (s *SQL) DeleteUser(ctx context.Context, id int64, a Audit) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockUsers(ctx, tx); err != nil {
			return err
		}
		u, err := scanUser(tx.QueryRowContext(ctx, s.q(`SELECT `+userCols+` FROM users WHERE id = ?`), id))
		if err != nil {
			return notFound(err, fmt.Sprintf("user %d", id))
		}
		// Sessions and tokens go with the account (ON DELETE CASCADE);
		// deleted explicitly too, so it does not hang on the pragma.
		for _, q := range []string{`DELETE FROM sessions WHERE user_id = ?`, `DELETE FROM api_tokens WHERE user_id = ?`, `DELETE FROM users WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, s.q(q), id); err != nil {
				return err
			}
		}
		if err := s.keepAnAdmin(ctx, tx, u); err != nil {
			return err
		}
		return s.audit(ctx, tx, a)
	})
	if err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	return nil
}

// RedeemInvite sets the password of the user whose unexpired setup
// link has this keyed hash and retires the link: it works once.
// The UPDATE matches the link's hash, so of two redemptions at once only one
// finds it.
func (s *SQL) RedeemInvite(ctx context.Context, inviteHash, passwordHash string, now time.Time, a Audit) (User, error) {
	var u User
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockUsers(ctx, tx); err != nil {
			return err
		}
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, s.q(`SELECT `+userCols+` FROM users
WHERE invite_hash = ? AND invite_expires_at > ? AND disabled = 0`), inviteHash, ms0(now)))
		if err != nil {
			return notFound(err, "setup link")
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE users SET password_hash = ?, invite_hash = NULL, invite_expires_at = NULL WHERE id = ? AND invite_hash = ?`),
			passwordHash, u.ID, inviteHash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("setup link: %w", ErrNotFound)
		}
		u.PasswordHash, u.InviteExpires = passwordHash, nil
		if a.Actor == "" {
			a.Actor = u.Username
		}
		if a.Subject == "" {
			a.Subject = u.Username
		}
		return s.audit(ctx, tx, a)
	})
	if err != nil {
		return User{}, fmt.Errorf("redeem setup link: %w", err)
	}
	return u, nil
}

// CreateSession records a session of userID until expires; only a hash of
// the session ID is kept.
func (s *SQL) CreateSession(ctx context.Context, idHash string, userID int64, now, expires time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`), idHash, userID, ms0(now), ms0(expires))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	_, _ = s.db.ExecContext(ctx, s.q(`UPDATE users SET last_login_at = ? WHERE id = ?`), ms0(now), userID)
	// Expired sessions are swept as new ones are made.
	_, _ = s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE expires_at <= ?`), ms0(now))
	return nil
}

// SessionUser returns the user of an unexpired session, if the account
// is enabled and has a password.
func (s *SQL) SessionUser(ctx context.Context, idHash string, now time.Time) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, s.q(`SELECT u.id, u.username, u.password_hash, u.role, u.disabled, u.created_at, u.last_login_at, u.invite_expires_at, u.oidc_issuer, u.oidc_subject
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.id_hash = ? AND s.expires_at > ? AND u.disabled = 0 AND (u.password_hash <> '' OR u.oidc_subject <> '')`), idHash, ms0(now)))
	if err != nil {
		return u, notFound(err, "session")
	}
	return u, nil
}

// DeleteSession ends a session.
func (s *SQL) DeleteSession(ctx context.Context, idHash string) error {
	_, err := s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE id_hash = ?`), idHash)
	return err
}

// CreateToken makes an API token and records a; only a keyed hash of the
// token is kept.
func (s *SQL) CreateToken(ctx context.Context, nt NewToken, a Audit) (Token, error) {
	if nt.Now.IsZero() {
		nt.Now = time.Now()
	}
	t := Token{Name: nt.Name, Role: nt.Role, UserID: nt.UserID, CreatedBy: nt.CreatedBy, CreatedAt: fromMS(ms0(nt.Now)), Targets: nt.Targets}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		scope := ""
		if len(nt.Targets) > 0 {
			scope = mustJSON(nt.Targets)
		}
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO api_tokens (name, token_hash, created_by, created_at, role, user_id, targets) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			nt.Name, nt.Hash, nt.CreatedBy, ms0(nt.Now), nt.Role, nt.UserID, scope).Scan(&t.ID)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a)
	})
	if err != nil {
		return t, fmt.Errorf("create token: %w", err)
	}
	return t, nil
}

const tokenSelect = `SELECT t.id, t.name, t.role, COALESCE(t.user_id, 0), t.created_by, t.created_at, t.last_used_at, COALESCE(u.role, ''), COALESCE(u.disabled, 1), t.targets
FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id`

func scanToken(sc scanner) (Token, error) {
	var t Token
	var created int64
	var used sql.NullInt64
	var disabled int
	var scope string
	if err := sc.Scan(&t.ID, &t.Name, &t.Role, &t.UserID, &t.CreatedBy, &created, &used, &t.OwnerRole, &disabled, &scope); err != nil {
		return t, err
	}
	t.CreatedAt, t.LastUsed, t.OwnerDisabled = fromMS(created), fromNullMS(used), disabled == 1
	if scope != "" {
		if err := json.Unmarshal([]byte(scope), &t.Targets); err != nil {
			return t, fmt.Errorf("token %d scope: %w", t.ID, err)
		}
	}
	return t, nil
}

// TokenByHash returns a token whose owner is enabled, with the owner's
// role, and records the use.
// A token whose owner is disabled (or gone) is not found.
func (s *SQL) TokenByHash(ctx context.Context, tokenHash string, now time.Time) (Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, s.q(tokenSelect+` WHERE t.token_hash = ?`), tokenHash))
	if err == nil && (t.OwnerDisabled || t.OwnerRole == "") {
		err = sql.ErrNoRows
	}
	if err != nil {
		return Token{}, notFound(err, "token")
	}
	_, _ = s.db.ExecContext(ctx, s.q(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`), ms0(now), t.ID)
	return t, nil
}

// Tokens lists the API tokens.
func (s *SQL) Tokens(ctx context.Context) ([]Token, error) {
	return queryAll(ctx, s, "tokens", scanToken, tokenSelect+` ORDER BY t.id`)
}

// DeleteToken deletes an API token and records a: the token stops working at
// once.
func (s *SQL) DeleteToken(ctx context.Context, id int64, a Audit) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM api_tokens WHERE id = ?`), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("token %d: %w", id, ErrNotFound)
		}
		return s.audit(ctx, tx, a)
	})
	if err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	return nil
}

// AddAudit records an action that changes nothing else in the store
// (a sign-in, a lock-out, a manual run).
func (s *SQL) AddAudit(ctx context.Context, a Audit) error {
	if a.Action == "" {
		return errors.New("audit: no action")
	}
	return s.tx(ctx, func(tx *sql.Tx) error { return s.audit(ctx, tx, a) })
}

// AuditLog returns entries newest first, before beforeID when > 0.
func (s *SQL) AuditLog(ctx context.Context, limit int, beforeID int64) ([]Audit, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	if beforeID <= 0 {
		beforeID = 1 << 62
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, at, actor, action, subject, detail, addr FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?`), beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	out := []Audit{}
	for rows.Next() {
		var a Audit
		var at int64
		if err := rows.Scan(&a.ID, &at, &a.Actor, &a.Action, &a.Subject, &a.Detail, &a.Addr); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		a.At = fromMS(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Setting returns a setting's value (ErrNotFound when unset).
func (s *SQL) Setting(ctx context.Context, key string) (string, error) {
	var v string
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT value FROM settings WHERE key = ?`), key).Scan(&v); err != nil {
		return "", notFound(err, "setting "+key)
	}
	return v, nil
}

// SetSetting sets a setting.
func (s *SQL) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`), key, value)
	if err != nil {
		return fmt.Errorf("setting %s: %w", key, err)
	}
	return nil
}

// DeleteSetting removes a setting.
func (s *SQL) DeleteSetting(ctx context.Context, key string) error {
	_, err := s.db.ExecContext(ctx, s.q(`DELETE FROM settings WHERE key = ?`), key)
	return err
}

// SignInExternal returns the account of an identity (by issuer and
// subject), creating it at the first sign-in and otherwise setting
// its role (and its user name, if that is free) to the identity's,
// and records a, in one transaction. A disabled account is
// ErrDisabled (nothing is changed, a is not recorded); a new account
// whose user name another account holds (in any case) is ErrExists.
func (s *SQL) SignInExternal(ctx context.Context, id ExternalIdentity, a Audit) (User, error) {
	if id.Issuer == "" || id.Subject == "" || id.Username == "" || id.Role == "" {
		return User{}, errors.New("external sign-in: issuer, subject, user name and role are required")
	}
	if id.Now.IsZero() {
		id.Now = time.Now()
	}
	var u User
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockUsers(ctx, tx); err != nil {
			return err
		}
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, s.q(`SELECT `+userCols+` FROM users WHERE oidc_issuer = ? AND oidc_subject = ?`), id.Issuer, id.Subject))
		taken := func(name string, except int64) (bool, error) {
			var n int
			err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM users WHERE LOWER(username) = LOWER(?) AND id <> ?`), name, except).Scan(&n)
			return n > 0, err
		}
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if t, err := taken(id.Username, 0); err != nil {
				return err
			} else if t {
				return ErrExists
			}
			u = User{Username: id.Username, Role: id.Role, CreatedAt: fromMS(ms0(id.Now)), OIDCIssuer: id.Issuer, OIDCSubject: id.Subject}
			err = tx.QueryRowContext(ctx, s.q(`INSERT INTO users (username, password_hash, role, disabled, created_at, oidc_issuer, oidc_subject) VALUES (?, '', ?, 0, ?, ?, ?) RETURNING id`),
				id.Username, id.Role, ms0(id.Now), id.Issuer, id.Subject).Scan(&u.ID)
			if err != nil {
				return err
			}
		case err != nil:
			return err
		case u.Disabled:
			return ErrDisabled
		default:
			if u.Username != id.Username {
				t, err := taken(id.Username, u.ID)
				if err != nil {
					return err
				}
				if !t {
					u.Username = id.Username
				}
			}
			u.Role = id.Role
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE users SET username = ?, role = ? WHERE id = ?`), u.Username, u.Role, u.ID); err != nil {
				return err
			}
		}
		if a.Actor == "" {
			a.Actor = u.Username
		}
		if a.Subject == "" {
			a.Subject = u.Username
		}
		return s.audit(ctx, tx, a)
	})
	if err != nil {
		return u, fmt.Errorf("sign in %s from %s: %w", id.Subject, id.Issuer, err)
	}
	return u, nil
}
