-- Migration 5: each procedure snapshot stored once. The `submitted` event and the folded state
-- of every dossier carry the procedure version and resolved workflow (~1 KB of JSON), the same
-- for thousands of dossiers. New rows keep their JSON with that snapshot cut out (`snap` = the
-- snapshot's row, `snap_at` = the byte offset where it goes back); rows with `snap` NULL are
-- whole. Reads join them back into the canonical JSON, over which the hash chain runs.
-- `prev_hash` goes: it is the previous event's `hash`, so reads take it from there.
CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY,
    digest BLOB NOT NULL UNIQUE,
    body TEXT NOT NULL
);
ALTER TABLE events ADD COLUMN snap INTEGER;
ALTER TABLE events ADD COLUMN snap_at INTEGER;
ALTER TABLE events DROP COLUMN prev_hash;
ALTER TABLE dossier_states ADD COLUMN snap INTEGER;
ALTER TABLE dossier_states ADD COLUMN snap_at INTEGER;
