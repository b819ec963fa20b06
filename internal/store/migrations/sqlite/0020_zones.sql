-- rampart store: zones and scan agents (SQLite). Numbered 0020 so that it
-- stays clear of the core schema's own steps; migrations apply by version,
-- whatever order they arrive in. Times are Unix milliseconds (UTC).

-- A round is one schedule's fan-out to the zones: one job per target and
-- zone. plan lists the target names (JSON).
CREATE TABLE zone_rounds (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  schedule        TEXT NOT NULL,
  started_at      BIGINT NOT NULL,
  deadline        BIGINT NOT NULL,
  total_jobs      INTEGER NOT NULL,
  plan            TEXT NOT NULL,
  judged_at       BIGINT,
  exposure_run_id BIGINT
);
CREATE INDEX zone_rounds_open ON zone_rounds (judged_at);

-- Every job that ended: stored (done, written in the run's own
-- transaction: a job is stored once), dead-lettered (dead), or a round's
-- exposure verdicts (judged). The primary key is what deduplicates.
CREATE TABLE zone_jobs (
  job_id   TEXT PRIMARY KEY,
  round_id BIGINT NOT NULL,
  zone     TEXT NOT NULL,
  target   TEXT NOT NULL,
  agent    TEXT NOT NULL,
  state    TEXT NOT NULL,
  run_id   BIGINT,
  at       BIGINT NOT NULL
);
CREATE INDEX zone_jobs_round ON zone_jobs (round_id, state);

-- The latest observation of each target from each zone (JSON: what it
-- reached and the zone's own exposure verdicts).
CREATE TABLE zone_reach (
  target     TEXT NOT NULL,
  zone       TEXT NOT NULL,
  round_id   BIGINT NOT NULL,
  job_id     TEXT NOT NULL,
  agent      TEXT NOT NULL,
  scanned_at BIGINT NOT NULL,
  data       TEXT NOT NULL,
  PRIMARY KEY (target, zone)
);
CREATE INDEX zone_reach_round ON zone_reach (round_id);

-- Each target's latest exposure matrix (JSON), as its verdicts were judged.
CREATE TABLE zone_exposure (
  target     TEXT PRIMARY KEY,
  round_id   BIGINT NOT NULL,
  judged_at  BIGINT NOT NULL,
  violations INTEGER NOT NULL,
  mismatches INTEGER NOT NULL,
  matrix     TEXT NOT NULL
);

-- Agents' NATS credentials (a bcrypt hash or an nkey public key; never
-- the secret) and their last heartbeat.
CREATE TABLE zone_agents (
  name       TEXT PRIMARY KEY,
  zone       TEXT NOT NULL,
  kind       TEXT NOT NULL,
  secret     TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  revoked_at BIGINT,
  revoked_by TEXT,
  last_seen  BIGINT,
  version    TEXT NOT NULL,
  started_at BIGINT
);

-- Jobs given up on after too many deliveries.
CREATE TABLE zone_dead (
  job_id     TEXT PRIMARY KEY,
  round_id   BIGINT NOT NULL,
  zone       TEXT NOT NULL,
  target     TEXT NOT NULL,
  agent      TEXT NOT NULL,
  deliveries INTEGER NOT NULL,
  reason     TEXT NOT NULL,
  at         BIGINT NOT NULL,
  job        TEXT NOT NULL
);
CREATE INDEX zone_dead_at ON zone_dead (at);
