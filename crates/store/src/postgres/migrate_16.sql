-- Migration 16: the inbox index also carries each open dossier's status and appointment
-- (INCLUDE), so the per-status counts every inbox read shows can be answered by an index-only
-- scan instead of visiting the heap row of every open dossier of the agency.
DROP INDEX dossiers_inbox;
CREATE INDEX dossiers_inbox ON dossiers(current_agency, (COALESCE(due_at, 'epoch'::timestamptz)), id)
    INCLUDE (status, due_at)
    WHERE status NOT IN ('refused', 'returned', 'withdrawn', 'stopped');
