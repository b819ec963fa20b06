-- rampart store schema v5 (sqlite): findings are stored as state changes by
-- fingerprint. A span is one version of a finding (its status and its
-- JSON) over the runs of its target from from_run up to, not including,
-- until_run (NULL while it is the current version): a run in which a
-- finding did not change writes nothing for it. run_findings, which held
-- every finding's JSON for every run, becomes one span per row (covering
-- that run alone) and goes. Targets and run targets keep their counts by
-- status, severity and domain (JSON), so the fleet and the trends need
-- not count findings; findings.present says whether a fingerprint is in
-- its target's latest run (its last_seen is then the target's).
CREATE TABLE finding_spans (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  fingerprint   TEXT NOT NULL,
  target        TEXT NOT NULL,
  rule_id       TEXT NOT NULL,
  status        TEXT NOT NULL,
  severity      INTEGER NOT NULL,
  domain        TEXT NOT NULL,
  data          TEXT NOT NULL,
  from_run      BIGINT NOT NULL,
  until_run     BIGINT
);
INSERT INTO finding_spans (fingerprint, target, rule_id, status, severity, domain, data, from_run, until_run)
SELECT rf.fingerprint, rf.target, rf.rule_id, rf.status, rf.severity, rf.domain, rf.data, rf.run_id,
  (SELECT MIN(rt.run_id) FROM run_targets rt WHERE rt.target = rf.target AND rt.run_id > rf.run_id)
FROM run_findings rf ORDER BY rf.run_id, rf.target, rf.fingerprint;
DROP TABLE run_findings;
CREATE INDEX finding_spans_target ON finding_spans (target, from_run);
CREATE INDEX finding_spans_open ON finding_spans (target, rule_id) WHERE until_run IS NULL;
CREATE UNIQUE INDEX finding_spans_fingerprint ON finding_spans (fingerprint) WHERE until_run IS NULL;
CREATE INDEX finding_spans_rule ON finding_spans (rule_id, status) WHERE until_run IS NULL;
ALTER TABLE findings ADD COLUMN present INTEGER NOT NULL DEFAULT 0;
UPDATE findings SET present = 1 WHERE fingerprint IN (SELECT fingerprint FROM finding_spans WHERE until_run IS NULL);
ALTER TABLE targets ADD COLUMN counts TEXT NOT NULL DEFAULT '';
ALTER TABLE run_targets ADD COLUMN counts TEXT NOT NULL DEFAULT '';
