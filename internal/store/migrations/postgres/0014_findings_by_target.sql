-- rampart store schema v14: a finding is its target's. The findings
-- table is keyed by (target, fingerprint), which also serves the look-ups
-- by target the index findings_target served. A fingerprint is a hash:
-- every new finding wrote at a random page of the key's index on the
-- fingerprint alone; in target order a run's new findings are neighbours.
-- An uploaded report whose fingerprint is another target's is stored as
-- its own target's finding (it was refused, as the fingerprint could
-- then only be one target's).
ALTER TABLE findings DROP CONSTRAINT findings_pkey;
ALTER TABLE findings ADD PRIMARY KEY (target, fingerprint);
DROP INDEX IF EXISTS findings_target;
