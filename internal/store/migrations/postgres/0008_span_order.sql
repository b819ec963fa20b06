-- rampart store schema v8: a target's latest findings, most severe first
-- (its page, its API), read in index order: the first page of a target
-- with 100,000 findings no longer sorts them all.
CREATE INDEX finding_spans_target_severity ON finding_spans (target, severity DESC, rule_id, fingerprint) WHERE until_run IS NULL;
