-- rampart store schema v2 (SQLite): roles, disabled accounts, one-time
-- setup links (invitations and password resets), token roles and owners,
-- and the audit log. Existing users were all admins; existing tokens keep
-- the rights they had (admin) and belong to the user who created them.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'viewer';
UPDATE users SET role = CASE WHEN admin = 1 THEN 'admin' ELSE 'viewer' END;
ALTER TABLE users DROP COLUMN admin;
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN invite_hash TEXT;
ALTER TABLE users ADD COLUMN invite_expires_at BIGINT;
ALTER TABLE users ADD COLUMN last_login_at BIGINT;
CREATE UNIQUE INDEX users_invite ON users (invite_hash);
ALTER TABLE api_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE api_tokens ADD COLUMN user_id BIGINT REFERENCES users(id) ON DELETE CASCADE;
UPDATE api_tokens SET user_id = (SELECT id FROM users WHERE users.username = api_tokens.created_by);
CREATE TABLE audit_log (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  at            BIGINT NOT NULL,
  actor         TEXT NOT NULL,
  action        TEXT NOT NULL,
  subject       TEXT NOT NULL,
  detail        TEXT NOT NULL,
  addr          TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
