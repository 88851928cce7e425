-- Migration 16: the inbox index covers the inbox (INCLUDE): every column an inbox page shows,
-- filters on or counts, so inbox reads can be index-only scans instead of visiting the heap
-- row of every open dossier of the agency (see the SQLite migration of the same number).
DROP INDEX dossiers_inbox;
CREATE INDEX dossiers_inbox ON dossiers(current_agency, (COALESCE(due_at, 'epoch'::timestamptz)), id)
    INCLUDE (status, due_at, code, procedure_code, procedure_name, applicant_name,
             national_status, receiving_agency, submitted_at, version, assignee, channel)
    WHERE status NOT IN ('refused', 'returned', 'withdrawn', 'stopped');
