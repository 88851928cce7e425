-- Migration 3: events in a rowid table. Event rows are large (the first carries the procedure
-- snapshot); in a WITHOUT ROWID table keyed by (dossier_id, seq) they were spread over half-empty
-- pages. Appended in rowid order they fill pages and touch fewer of them per commit; the unique
-- index keeps (dossier_id, seq) unique as before.
CREATE TABLE events_by_rowid (
    id INTEGER PRIMARY KEY,
    dossier_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    agency TEXT NOT NULL,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO events_by_rowid (dossier_id, seq, kind, at, actor, agency, body, prev_hash, hash)
    SELECT dossier_id, seq, kind, at, actor, agency, body, prev_hash, hash FROM events ORDER BY at, dossier_id, seq;
DROP TABLE events;
ALTER TABLE events_by_rowid RENAME TO events;
CREATE UNIQUE INDEX events_dossier_seq ON events(dossier_id, seq);
CREATE INDEX events_agency ON events(agency, dossier_id);
