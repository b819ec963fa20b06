-- rampart store schema v3 (PostgreSQL): the alert outbox gets a state
-- (pending, delivered, dead, discarded), the time an item was queued (its
-- retry window starts there, again on a manual retry) and when it died.
ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE outbox ADD COLUMN enqueued_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN dead_at BIGINT;
UPDATE outbox SET state = 'delivered' WHERE delivered_at IS NOT NULL;
UPDATE outbox SET enqueued_at = created_at;
DROP INDEX outbox_due;
CREATE INDEX outbox_state ON outbox (state, next_attempt);
