-- Migration 11: uploaded files. `files` holds each content once (the bytes live in the blob
-- store under sha256/<2 hex>/<hex>); `dossier_files` links files to dossiers (components,
-- supplements, results, working attachments); `vault` is each person's data store (kho dữ
-- liệu): their uploads and their dossiers' results, reusable without uploading again.
CREATE TABLE files (
    sha256 text PRIMARY KEY,
    size bigint NOT NULL,
    mime text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE dossier_files (
    dossier_id uuid NOT NULL,
    kind text NOT NULL,
    slot text NOT NULL,
    sha256 text NOT NULL REFERENCES files(sha256),
    name text NOT NULL,
    uploaded_by uuid NOT NULL REFERENCES users(id),
    uploaded_at timestamptz NOT NULL,
    PRIMARY KEY (dossier_id, sha256, kind, slot)
);
CREATE INDEX dossier_files_sha ON dossier_files(sha256, uploaded_by);
CREATE TABLE vault (
    owner uuid NOT NULL REFERENCES users(id),
    sha256 text NOT NULL REFERENCES files(sha256),
    name text NOT NULL,
    kind text NOT NULL,
    added_at timestamptz NOT NULL,
    PRIMARY KEY (owner, sha256)
);
CREATE INDEX vault_owner_added ON vault(owner, added_at);
CREATE INDEX vault_sha ON vault(sha256, owner);
