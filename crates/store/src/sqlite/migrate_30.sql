-- Migration 30: a dossier's file links without the long slot text in an index. The primary
-- key (dossier, file, kind, slot) held the slot, which is the component's whole name from the
-- procedure (100-300 characters of Vietnamese): its automatic index copied ~400 bytes of every
-- link, seven links a submission, and was as large as the table itself. SQLite cannot key on a
-- digest with its built-in functions, so the table is rebuilt without the key; the writer (the
-- only connection that writes, one statement at a time) inserts a link only when the dossier
-- has no link with the same file, kind and slot, found through the new index on the dossier.
CREATE TABLE dossier_files_new (
    dossier_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    slot TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES files(sha256),
    name TEXT NOT NULL,
    uploaded_by TEXT NOT NULL REFERENCES users(id),
    uploaded_at INTEGER NOT NULL
);
INSERT INTO dossier_files_new (dossier_id, kind, slot, sha256, name, uploaded_by, uploaded_at)
    SELECT dossier_id, kind, slot, sha256, name, uploaded_by, uploaded_at
    FROM dossier_files ORDER BY dossier_id, sha256, kind, slot;
DROP TABLE dossier_files;
ALTER TABLE dossier_files_new RENAME TO dossier_files;
CREATE INDEX dossier_files_dossier ON dossier_files(dossier_id);
CREATE INDEX dossier_files_sha ON dossier_files(sha256, uploaded_by);
