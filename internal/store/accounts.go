package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// CreateUser implements Store.
func (s *SQL) CreateUser(ctx context.Context, username, passwordHash string, admin bool, now time.Time) (User, error) {
	u := User{Username: username, PasswordHash: passwordHash, Admin: admin, CreatedAt: fromMS(ms0(now))}
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO users (username, password_hash, admin, created_at) VALUES (?, ?, ?, ?) RETURNING id`),
		username, passwordHash, b2i(admin), ms0(now)).Scan(&u.ID)
	if err != nil {
		return u, fmt.Errorf("create user %s: %w", username, err)
	}
	return u, nil
}

func scanUser(sc scanner) (User, error) {
	var u User
	var admin int
	var created int64
	err := sc.Scan(&u.ID, &u.Username, &u.PasswordHash, &admin, &created)
	u.Admin, u.CreatedAt = admin == 1, fromMS(created)
	return u, err
}

// UserByName implements Store.
func (s *SQL) UserByName(ctx context.Context, username string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, s.q(`SELECT id, username, password_hash, admin, created_at FROM users WHERE username = ?`), username))
	if err != nil {
		return u, notFound(err, "user")
	}
	return u, nil
}

// CountUsers implements Store.
func (s *SQL) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

// CreateSession implements Store; only a hash of the session ID is kept.
func (s *SQL) CreateSession(ctx context.Context, idHash string, userID int64, now, expires time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`), idHash, userID, ms0(now), ms0(expires))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	// Expired sessions are swept as new ones are made.
	_, _ = s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE expires_at <= ?`), ms0(now))
	return nil
}

// SessionUser implements Store.
func (s *SQL) SessionUser(ctx context.Context, idHash string, now time.Time) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, s.q(`SELECT u.id, u.username, u.password_hash, u.admin, u.created_at
FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ? AND s.expires_at > ?`), idHash, ms0(now)))
	if err != nil {
		return u, notFound(err, "session")
	}
	return u, nil
}

// DeleteSession implements Store.
func (s *SQL) DeleteSession(ctx context.Context, idHash string) error {
	_, err := s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE id_hash = ?`), idHash)
	return err
}

// CreateToken implements Store; only a keyed hash of the token is kept.
func (s *SQL) CreateToken(ctx context.Context, name, tokenHash, by string, now time.Time) (Token, error) {
	t := Token{Name: name, CreatedBy: by, CreatedAt: fromMS(ms0(now))}
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO api_tokens (name, token_hash, created_by, created_at) VALUES (?, ?, ?, ?) RETURNING id`),
		name, tokenHash, by, ms0(now)).Scan(&t.ID)
	if err != nil {
		return t, fmt.Errorf("create token: %w", err)
	}
	return t, nil
}

// TokenByHash implements Store and records the use.
func (s *SQL) TokenByHash(ctx context.Context, tokenHash string, now time.Time) (Token, error) {
	var t Token
	var created int64
	var used sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT id, name, created_by, created_at, last_used_at FROM api_tokens WHERE token_hash = ?`), tokenHash).
		Scan(&t.ID, &t.Name, &t.CreatedBy, &created, &used)
	if err != nil {
		return t, notFound(err, "token")
	}
	t.CreatedAt, t.LastUsed = fromMS(created), fromNullMS(used)
	_, _ = s.db.ExecContext(ctx, s.q(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`), ms0(now), t.ID)
	return t, nil
}

// Tokens implements Store.
func (s *SQL) Tokens(ctx context.Context) ([]Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, created_by, created_at, last_used_at FROM api_tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		var t Token
		var created int64
		var used sql.NullInt64
		if err := rows.Scan(&t.ID, &t.Name, &t.CreatedBy, &created, &used); err != nil {
			return nil, err
		}
		t.CreatedAt, t.LastUsed = fromMS(created), fromNullMS(used)
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteToken implements Store: the token stops working at once.
func (s *SQL) DeleteToken(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM api_tokens WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("token %d: %w", id, ErrNotFound)
	}
	return nil
}

// Setting implements Store.
func (s *SQL) Setting(ctx context.Context, key string) (string, error) {
	var v string
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT value FROM settings WHERE key = ?`), key).Scan(&v); err != nil {
		return "", notFound(err, "setting "+key)
	}
	return v, nil
}

// SetSetting implements Store.
func (s *SQL) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`), key, value)
	if err != nil {
		return fmt.Errorf("setting %s: %w", key, err)
	}
	return nil
}

// DeleteSetting implements Store.
func (s *SQL) DeleteSetting(ctx context.Context, key string) error {
	_, err := s.db.ExecContext(ctx, s.q(`DELETE FROM settings WHERE key = ?`), key)
	return err
}
