-- Migration 17: drafts of e-forms (see the SQLite migration of the same number). The values are
-- kept as JSON text: the store never looks inside them.
CREATE TABLE drafts (
    id uuid PRIMARY KEY,
    owner uuid NOT NULL REFERENCES users(id),
    procedure_code text NOT NULL,
    procedure_version integer NOT NULL,
    procedure_name text NOT NULL,
    form_values text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (owner, procedure_code, procedure_version)
);
CREATE INDEX drafts_owner ON drafts(owner, updated_at);
