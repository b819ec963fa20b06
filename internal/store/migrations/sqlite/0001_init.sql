-- rampart store schema v1 (SQLite). Times are Unix milliseconds (UTC).
CREATE TABLE runs (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at    BIGINT NOT NULL,
  finished_at   BIGINT NOT NULL,
  stored_at     BIGINT NOT NULL,
  source        TEXT NOT NULL,
  tool_version  TEXT NOT NULL,
  interrupted   INTEGER NOT NULL,
  n_targets     INTEGER NOT NULL,
  n_findings    INTEGER NOT NULL,
  summary       TEXT NOT NULL
);
CREATE TABLE targets (
  name          TEXT PRIMARY KEY,
  kind          TEXT NOT NULL,
  product       TEXT NOT NULL,
  version       TEXT NOT NULL,
  role          TEXT NOT NULL,
  parent        TEXT NOT NULL,
  profiles      TEXT NOT NULL,
  errors        TEXT NOT NULL,
  observations  TEXT NOT NULL,
  first_seen    BIGINT NOT NULL,
  last_seen     BIGINT NOT NULL,
  last_run_id   BIGINT NOT NULL
);
CREATE TABLE run_targets (
  run_id        BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  target        TEXT NOT NULL,
  kind          TEXT NOT NULL,
  product       TEXT NOT NULL,
  version       TEXT NOT NULL,
  errors        TEXT NOT NULL,
  observations  TEXT NOT NULL,
  PRIMARY KEY (run_id, target)
);
CREATE TABLE run_findings (
  run_id        BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  fingerprint   TEXT NOT NULL,
  target        TEXT NOT NULL,
  rule_id       TEXT NOT NULL,
  status        TEXT NOT NULL,
  severity      INTEGER NOT NULL,
  domain        TEXT NOT NULL,
  data          TEXT NOT NULL,
  PRIMARY KEY (run_id, fingerprint)
);
CREATE INDEX run_findings_target ON run_findings (target, run_id);
CREATE TABLE findings (
  fingerprint   TEXT PRIMARY KEY,
  target        TEXT NOT NULL,
  rule_id       TEXT NOT NULL,
  first_seen    BIGINT NOT NULL,
  first_run_id  BIGINT NOT NULL,
  last_seen     BIGINT NOT NULL,
  last_run_id   BIGINT NOT NULL,
  last_status   TEXT NOT NULL,
  fixed_at      BIGINT
);
CREATE INDEX findings_target ON findings (target);
CREATE TABLE outbox (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  destination   TEXT NOT NULL,
  idem_key      TEXT NOT NULL,
  kind          TEXT NOT NULL,
  body          TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 0,
  next_attempt  BIGINT NOT NULL,
  delivered_at  BIGINT,
  last_error    TEXT NOT NULL DEFAULT '',
  UNIQUE (destination, idem_key)
);
CREATE INDEX outbox_due ON outbox (delivered_at, next_attempt);
CREATE TABLE users (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  username      TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  admin         INTEGER NOT NULL,
  created_at    BIGINT NOT NULL
);
CREATE TABLE sessions (
  id_hash       TEXT PRIMARY KEY,
  user_id       BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at    BIGINT NOT NULL,
  expires_at    BIGINT NOT NULL
);
CREATE TABLE api_tokens (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT NOT NULL,
  token_hash    TEXT NOT NULL UNIQUE,
  created_by    TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  last_used_at  BIGINT
);
CREATE TABLE settings (
  key           TEXT PRIMARY KEY,
  value         TEXT NOT NULL
);
CREATE TABLE health_samples (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  target        TEXT NOT NULL,
  url           TEXT NOT NULL,
  at            BIGINT NOT NULL,
  status        INTEGER NOT NULL,
  ok            INTEGER NOT NULL,
  latency_ms    BIGINT NOT NULL,
  anomaly       INTEGER NOT NULL,
  error         TEXT NOT NULL
);
CREATE INDEX health_samples_url ON health_samples (url, at);
