-- Migration 20: inbound dossiers not taken (see the SQLite migration of the same number).
CREATE TABLE inbound (
    source text NOT NULL,
    external_id text NOT NULL,
    code text NOT NULL,
    status text NOT NULL,
    reason text NOT NULL,
    attempts integer NOT NULL,
    first_at timestamptz NOT NULL,
    last_at timestamptz NOT NULL,
    PRIMARY KEY (source, external_id)
);
CREATE INDEX inbound_last ON inbound(last_at);
