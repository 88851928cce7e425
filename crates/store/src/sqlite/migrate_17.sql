-- Migration 17: drafts of e-forms. One per citizen, procedure and procedure version (saving
-- again updates it); `form_values` is the JSON object the form page reads (with `_uploads` file
-- keys), kept as text. A draft of a superseded version still opens (the page keeps the values
-- that fit the published form).
CREATE TABLE drafts (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL REFERENCES users(id),
    procedure_code TEXT NOT NULL,
    procedure_version INTEGER NOT NULL,
    procedure_name TEXT NOT NULL,
    form_values TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (owner, procedure_code, procedure_version)
);
CREATE INDEX drafts_owner ON drafts(owner, updated_at);
