-- rampart store schema v14: a finding is its target's. The findings
-- table is keyed by (target, fingerprint) and kept in that order (WITHOUT
-- ROWID: the row is its key's B-tree entry), in place of a rowid table,
-- its key's index on the fingerprint alone and an index on the target.
-- A fingerprint is a hash: every new finding wrote at a random page of
-- that key's index, and a first round's transaction (thousands of new
-- findings) rewrote thousands of pages of it; in target order the new
-- findings of a run's targets are neighbours. An uploaded report whose
-- fingerprint is another target's is stored as its own target's finding
-- (it was refused, as the fingerprint could then only be one target's).
CREATE TABLE findings_by_target (
  target        TEXT NOT NULL,
  fingerprint   TEXT NOT NULL,
  rule_id       TEXT NOT NULL,
  first_seen    BIGINT NOT NULL,
  first_run_id  BIGINT NOT NULL,
  last_seen     BIGINT NOT NULL,
  last_run_id   BIGINT NOT NULL,
  last_status   TEXT NOT NULL,
  fixed_at      BIGINT,
  present       INTEGER NOT NULL DEFAULT 0,
  failing_since BIGINT,
  PRIMARY KEY (target, fingerprint)
) WITHOUT ROWID;
INSERT INTO findings_by_target (target, fingerprint, rule_id, first_seen, first_run_id, last_seen, last_run_id, last_status, fixed_at, present, failing_since)
SELECT target, fingerprint, rule_id, first_seen, first_run_id, last_seen, last_run_id, last_status, fixed_at, present, failing_since
FROM findings ORDER BY target, fingerprint;
DROP TABLE findings;
ALTER TABLE findings_by_target RENAME TO findings;
