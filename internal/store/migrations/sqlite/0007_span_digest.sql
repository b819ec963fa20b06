-- rampart store schema v7: a finding version's digest (SHA-256 of its
-- JSON), so storing a run compares digests instead of reading every
-- open version's JSON. Versions from before have '' (their JSON is read).
ALTER TABLE finding_spans ADD COLUMN digest TEXT NOT NULL DEFAULT '';
-- Counting the latest findings by status and severity reads this index
-- alone.
CREATE INDEX finding_spans_status ON finding_spans (status, severity, target) WHERE until_run IS NULL;
