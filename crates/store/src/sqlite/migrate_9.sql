-- Migration 9: login lockout and the audit trail of staff views and sign-ins.
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until INTEGER;
CREATE INDEX tokens_user ON tokens(user_id);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    user_id TEXT,
    username TEXT NOT NULL,
    action TEXT NOT NULL,
    dossier_id TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_dossier ON audit_log(dossier_id, id) WHERE dossier_id IS NOT NULL;
CREATE INDEX audit_user ON audit_log(user_id, id) WHERE user_id IS NOT NULL;
-- Inboxes: the open dossiers an agency holds, not-yet-received first, then by appointment.
CREATE INDEX dossiers_inbox ON dossiers(current_agency, IFNULL(due_at, 0), id)
    WHERE status NOT IN ('refused', 'returned', 'withdrawn', 'stopped');
