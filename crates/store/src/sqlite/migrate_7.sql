-- Migration 7: delivery of the outbox (issue 7). Leases, retry times, acknowledgement and dead
-- letters on each message; the dossier part of the key (before the first ':') as the unit of
-- ordering; daily figures per target for reconciliation.
ALTER TABLE outbox ADD COLUMN part TEXT GENERATED ALWAYS AS (substr(key, 1, instr(key || ':', ':') - 1)) VIRTUAL;
ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER;
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
ALTER TABLE outbox ADD COLUMN acked_at INTEGER;
-- Claims of one target walk its pending messages in id order; the order check looks up the
-- undelivered messages of one dossier. Both indexes hold only the rows they are for.
CREATE INDEX outbox_claim ON outbox(topic, id) WHERE status = 'pending';
CREATE INDEX outbox_order ON outbox(topic, part, id) WHERE status <> 'done';
CREATE INDEX outbox_acked ON outbox(acked_at) WHERE acked_at IS NOT NULL;
CREATE TABLE outbox_daily (
    topic TEXT NOT NULL,
    day TEXT NOT NULL,
    metric TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (topic, day, metric)
) WITHOUT ROWID;
