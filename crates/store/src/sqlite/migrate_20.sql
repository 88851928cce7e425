-- Migration 20: dossiers pulled from another system (the national portal) that were not taken:
-- failing (tried again on later polls) or rejected (for good), with the latest reason. Taken
-- dossiers are recorded by their idempotency key in the submission's own transaction.
CREATE TABLE inbound (
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    code TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    PRIMARY KEY (source, external_id)
);
CREATE INDEX inbound_last ON inbound(last_at);
