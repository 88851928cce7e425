-- Migration 21: state an integration keeps between runs and shares between nodes, such as the
-- Zalo Official Account's refresh token (single-use: each refresh returns the next one, so it
-- must outlive a restart). `version` makes updates compare-and-set.
CREATE TABLE integration_state (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
