-- rampart store schema v11 (PostgreSQL): what comparing two runs reads,
-- kept as runs are stored, so a compare reads what changed between the
-- runs rather than both runs' targets.
--  * runs.n_fail: the run's failing findings (its run targets' n_fail
--    summed; NULL when one of them was stored before failures were
--    counted); runs.targets_key: a digest of the run's target names
--    (''  for runs stored before it was kept): two runs with one key cover
--    the same targets.
--  * run_targets.ports_changed: 1 when the target's port scan (whether it
--    was scanned, the open ports) differs from its previous run's; a
--    target whose ports changed between two runs changed at one of the
--    runs in between.
--  * run_targets.cert_expires: the earliest expiry (Unix ms) of the
--    certificates the run saw on the target.
--  * The runs a finding version starts and ends at are indexed with what
--    compare reads of the versions (keys, status, severity): compare reads
--    the index alone.
ALTER TABLE runs ADD COLUMN n_fail BIGINT;
ALTER TABLE runs ADD COLUMN targets_key TEXT NOT NULL DEFAULT '';
ALTER TABLE run_targets ADD COLUMN ports_changed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_targets ADD COLUMN cert_expires BIGINT;
UPDATE runs r SET n_fail = s.n FROM (
  SELECT run_id, COALESCE(SUM(n_fail), 0) AS n FROM run_targets GROUP BY run_id HAVING COUNT(*) = COUNT(n_fail)) s
WHERE s.run_id = r.id;
UPDATE runs SET n_fail = 0 WHERE n_fail IS NULL AND NOT EXISTS (SELECT 1 FROM run_targets rt WHERE rt.run_id = runs.id);
UPDATE run_targets rt SET ports_changed = 1 FROM (
  SELECT run_id, target, p, LAG(p) OVER (PARTITION BY target ORDER BY run_id) AS prev FROM (
    SELECT run_id, target, COALESCE((observations::jsonb -> 'ports_scanned')::text, 'false') || ' ' || COALESCE((observations::jsonb -> 'open_ports')::text, '[]') AS p
    FROM run_targets WHERE target IN (SELECT target FROM run_targets WHERE observations LIKE '%"ports_scanned"%')) o) c
WHERE c.run_id = rt.run_id AND c.target = rt.target AND c.prev IS NOT NULL AND c.prev <> c.p;
UPDATE run_targets SET cert_expires = (
  SELECT MIN((EXTRACT(EPOCH FROM (c ->> 'not_after')::timestamptz) * 1000)::BIGINT) FROM jsonb_array_elements(observations::jsonb -> 'certs') c)
WHERE observations LIKE '%"certs"%';
CREATE INDEX run_targets_ports_changed ON run_targets (run_id) WHERE ports_changed = 1;
CREATE INDEX run_targets_cert_expires ON run_targets (run_id, cert_expires) WHERE cert_expires IS NOT NULL;
DROP INDEX fs_from;
DROP INDEX fs_until;
CREATE INDEX fs_from ON finding_spans (from_run, target, rule_id, fingerprint) INCLUDE (until_run, status, severity, id);
CREATE INDEX fs_until ON finding_spans (until_run, target, rule_id, fingerprint) INCLUDE (from_run, status, severity, id) WHERE until_run IS NOT NULL;
