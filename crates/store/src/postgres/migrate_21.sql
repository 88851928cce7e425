-- Migration 21: state an integration keeps between runs and shares between nodes (see the
-- SQLite migration of the same number).
CREATE TABLE integration_state (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
