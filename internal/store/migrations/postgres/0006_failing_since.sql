-- rampart store schema v6: when a finding last started to fail (kept
-- after it is fixed, for the time it took to fix; NULL if it never
-- failed). Findings failing now take their first seen time.
ALTER TABLE findings ADD COLUMN failing_since BIGINT;
UPDATE findings SET failing_since = first_seen WHERE last_status = 'fail';
