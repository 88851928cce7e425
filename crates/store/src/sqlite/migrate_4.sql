-- Migration 4: the folded state (JSON, ~2 KB) moves out of the dossiers row into its own table,
-- so the list/lookup rows stay small (many per page: lookups and inboxes touch few pages) and
-- the state is read only when a command or a full view needs it.
CREATE TABLE dossier_states (
    id TEXT PRIMARY KEY,
    last_hash TEXT NOT NULL,
    state TEXT NOT NULL
);
INSERT INTO dossier_states (id, last_hash, state) SELECT id, last_hash, state FROM dossiers;
ALTER TABLE dossiers DROP COLUMN state;
ALTER TABLE dossiers DROP COLUMN last_hash;
