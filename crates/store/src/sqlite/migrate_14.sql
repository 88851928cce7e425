-- Migration 14: password resets by e-mail (issue 4). The token is kept only as its SHA-256;
-- a reset is used once, before it expires.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX password_resets_user ON password_resets(user_id);
