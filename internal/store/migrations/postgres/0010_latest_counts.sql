-- rampart store schema v10 (PostgreSQL): what the dashboard's hot pages need,
-- kept when a run is stored instead of counted or scanned on every request.
--  * finding_spans.since: when the version's finding started to fail (its
--    first seen time if it never failed), the age sort's key; exception: 1
--    when the version is under a waiver or attestation (the waivers page
--    no longer reads every finding's JSON).
--  * latest_counts: the latest findings (open versions) counted by rule,
--    severity, status, domain and the day a failure started, kept by
--    SaveRun: the fleet's totals, the rules page, /metrics and the findings
--    pages' totals read a few hundred rows.
--  * targets.failing: a target's failing findings (the fleet's failing
--    targets); run_targets.n_fail: the same per run (compare's "still
--    failing").
--  * indexes on the open versions in every sort order of the findings
--    pages (keyset paging reads a page in index order at any depth), and
--    on the runs a version starts and ends at (compare reads what changed).
ALTER TABLE finding_spans ADD COLUMN since BIGINT;
ALTER TABLE finding_spans ADD COLUMN exception INTEGER NOT NULL DEFAULT 0;
UPDATE finding_spans sp SET since = COALESCE(f.failing_since, f.first_seen)
FROM findings f WHERE f.fingerprint = sp.fingerprint AND sp.until_run IS NULL;
UPDATE finding_spans SET exception = 1
WHERE until_run IS NULL AND (status IN ('waived', 'attested') OR data LIKE '%"exception":%');
CREATE TABLE latest_counts (
  rule_id    TEXT NOT NULL,
  severity   INTEGER NOT NULL,
  status     TEXT NOT NULL,
  domain     TEXT NOT NULL,
  since_day  BIGINT NOT NULL,
  n          BIGINT NOT NULL,
  PRIMARY KEY (rule_id, severity, status, domain, since_day)
);
INSERT INTO latest_counts (rule_id, severity, status, domain, since_day, n)
SELECT rule_id, severity, status, domain, CASE WHEN status = 'fail' THEN COALESCE(since, 0) / 86400000 ELSE 0 END, COUNT(*)
FROM finding_spans WHERE until_run IS NULL GROUP BY 1, 2, 3, 4, 5;
ALTER TABLE targets ADD COLUMN failing INTEGER NOT NULL DEFAULT 0;
UPDATE targets t SET failing = c.n FROM (
  SELECT target, COUNT(*) AS n FROM finding_spans WHERE until_run IS NULL AND status = 'fail' GROUP BY target) c
WHERE c.target = t.name;
ALTER TABLE run_targets ADD COLUMN n_fail INTEGER;
UPDATE run_targets SET n_fail = ((counts::jsonb) -> 'by_status' ->> 'fail')::int WHERE counts <> '';
DROP INDEX finding_spans_open;
DROP INDEX finding_spans_target_severity;
DROP INDEX finding_spans_rule;
DROP INDEX finding_spans_status;
CREATE INDEX fs_open_target ON finding_spans (target, rule_id, fingerprint) WHERE until_run IS NULL;
CREATE INDEX fs_open_target_sev ON finding_spans (target, (-severity), rule_id, fingerprint) WHERE until_run IS NULL;
CREATE INDEX fs_open_status ON finding_spans (status, target, rule_id, fingerprint) WHERE until_run IS NULL;
CREATE INDEX fs_open_sev ON finding_spans ((-severity), target, rule_id, fingerprint) WHERE until_run IS NULL;
CREATE INDEX fs_open_rule ON finding_spans (rule_id, target, fingerprint) WHERE until_run IS NULL;
CREATE INDEX fs_open_age ON finding_spans (since, target, rule_id, fingerprint) WHERE until_run IS NULL;
CREATE INDEX fs_open_status_age ON finding_spans (status, since, target, rule_id, fingerprint) WHERE until_run IS NULL;
CREATE INDEX fs_open_rule_age ON finding_spans (rule_id, status, since, target, fingerprint) WHERE until_run IS NULL;
CREATE INDEX fs_open_exception ON finding_spans (target, rule_id, fingerprint) WHERE until_run IS NULL AND exception = 1;
CREATE INDEX fs_run_order ON finding_spans (target, rule_id, fingerprint, from_run);
CREATE INDEX fs_from ON finding_spans (from_run);
CREATE INDEX fs_until ON finding_spans (until_run) WHERE until_run IS NOT NULL;
ANALYZE finding_spans;
