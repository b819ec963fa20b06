-- rampart store schema v11 (SQLite): what comparing two runs reads, kept
-- as runs are stored, so a compare reads what changed between the runs
-- rather than both runs' targets.
--  * runs.n_fail: the run's failing findings (its run targets' n_fail
--    summed; NULL when one of them was stored before failures were
--    counted); runs.targets_key: a digest of the run's target names
--    ('' for runs stored before it was kept): two runs with one key cover
--    the same targets.
--  * run_targets.ports_changed: 1 when the target's port scan (whether it
--    was scanned, the open ports) differs from its previous run's; a
--    target whose ports changed between two runs changed at one of the
--    runs in between.
--  * run_targets.cert_expires: the earliest expiry (Unix ms) of the
--    certificates the run saw on the target.
--  * The runs a finding version starts and ends at are indexed with what
--    compare reads of the versions (keys, status, severity; the row ID is
--    in every index): compare reads the index alone.
ALTER TABLE runs ADD COLUMN n_fail INTEGER;
ALTER TABLE runs ADD COLUMN targets_key TEXT NOT NULL DEFAULT '';
ALTER TABLE run_targets ADD COLUMN ports_changed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_targets ADD COLUMN cert_expires INTEGER;
UPDATE runs SET n_fail = (SELECT CASE WHEN COUNT(*) = COUNT(rt.n_fail) THEN COALESCE(SUM(rt.n_fail), 0) END FROM run_targets rt WHERE rt.run_id = runs.id);
UPDATE run_targets SET ports_changed = 1 WHERE rowid IN (
  SELECT id FROM (
    SELECT id, p, LAG(p) OVER (PARTITION BY target ORDER BY run_id) AS prev FROM (
      SELECT rowid AS id, run_id, target,
        CASE WHEN json_extract(observations, '$.ports_scanned') THEN 'true' ELSE 'false' END || ' ' || COALESCE(json_extract(observations, '$.open_ports'), '[]') AS p
      FROM run_targets WHERE target IN (SELECT target FROM run_targets WHERE observations LIKE '%"ports_scanned"%')))
  WHERE prev IS NOT NULL AND prev <> p);
UPDATE run_targets SET cert_expires = (
  SELECT MIN(CAST(ROUND((julianday(json_extract(c.value, '$.not_after')) - 2440587.5) * 86400000) AS INTEGER)) FROM json_each(run_targets.observations, '$.certs') c)
WHERE observations LIKE '%"certs"%';
CREATE INDEX run_targets_ports_changed ON run_targets (run_id) WHERE ports_changed = 1;
CREATE INDEX run_targets_cert_expires ON run_targets (run_id, cert_expires) WHERE cert_expires IS NOT NULL;
DROP INDEX fs_from;
DROP INDEX fs_until;
CREATE INDEX fs_from ON finding_spans (from_run, target, rule_id, fingerprint, until_run, status, severity);
CREATE INDEX fs_until ON finding_spans (until_run, target, rule_id, fingerprint, from_run, status, severity) WHERE until_run IS NOT NULL;
