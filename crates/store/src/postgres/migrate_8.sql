-- Migration 8: who changed the procedure catalogue, when, and how (import, draft edits,
-- publication). Rows are only ever added.
CREATE TABLE procedure_changes (
    id bigserial PRIMARY KEY,
    code text NOT NULL,
    version integer NOT NULL,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    note text NOT NULL
);
CREATE INDEX procedure_changes_code ON procedure_changes(code, id);
