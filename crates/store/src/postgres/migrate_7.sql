-- Migration 7: delivery of the outbox (issue 7). Leases, retry times, acknowledgement and dead
-- letters on each message; the dossier part of the key (before the first ':') as the unit of
-- ordering; daily figures per target for reconciliation.
ALTER TABLE outbox ADD COLUMN part text GENERATED ALWAYS AS (split_part(key, ':', 1)) STORED;
ALTER TABLE outbox ADD COLUMN next_attempt_at timestamptz;
ALTER TABLE outbox ADD COLUMN lease_owner text;
ALTER TABLE outbox ADD COLUMN lease_until timestamptz;
ALTER TABLE outbox ADD COLUMN acked_at timestamptz;
-- Claims of one target walk its pending messages in id order; the order check looks up the
-- undelivered messages of one dossier. Both indexes hold only the rows they are for.
CREATE INDEX outbox_claim ON outbox(topic, id) WHERE status = 'pending';
CREATE INDEX outbox_order ON outbox(topic, part, id) WHERE status <> 'done';
CREATE INDEX outbox_acked ON outbox(acked_at) WHERE acked_at IS NOT NULL;
CREATE TABLE outbox_daily (
    topic text NOT NULL,
    day date NOT NULL,
    metric text NOT NULL,
    value bigint NOT NULL,
    PRIMARY KEY (topic, day, metric)
);
