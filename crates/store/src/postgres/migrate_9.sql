-- Migration 9: login lockout and the audit trail of staff views and sign-ins.
ALTER TABLE users ADD COLUMN failed_logins integer NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until timestamptz;
CREATE INDEX tokens_user ON tokens(user_id);
CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL,
    user_id uuid,
    username text NOT NULL,
    action text NOT NULL,
    dossier_id uuid,
    detail text NOT NULL
);
CREATE INDEX audit_dossier ON audit_log(dossier_id, id) WHERE dossier_id IS NOT NULL;
CREATE INDEX audit_user ON audit_log(user_id, id) WHERE user_id IS NOT NULL;
-- Inboxes: the open dossiers an agency holds, not-yet-received first, then by appointment.
CREATE INDEX dossiers_inbox ON dossiers(current_agency, (COALESCE(due_at, 'epoch'::timestamptz)), id)
    WHERE status NOT IN ('refused', 'returned', 'withdrawn', 'stopped');
