-- Migration 8: who changed the procedure catalogue, when, and how (import, draft edits,
-- publication). Rows are only ever added.
CREATE TABLE procedure_changes (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    version INTEGER NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX procedure_changes_code ON procedure_changes(code, id);
