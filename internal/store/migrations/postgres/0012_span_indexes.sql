-- rampart store schema v12: one index fewer to write for every finding
-- version stored. finding_spans_target (target, from_run), from schema 5,
-- served no query that fs_run_order (target, rule_id, fingerprint,
-- from_run) does not serve as well: the one query that chose it, a run's
-- findings of one target, then sorted them, where fs_run_order reads
-- them in order. Every other index on finding_spans is the only one in
-- the order of a page or a compare (see docs/serve.md).
DROP INDEX IF EXISTS finding_spans_target;
