-- Migration 16: the inbox index also carries each open dossier's status and appointment, so the
-- per-status counts every inbox read shows (open, overdue, due soon) come from the index alone
-- instead of visiting the table row of every open dossier of the agency. Same name, same order,
-- same partial condition as migration 9's, so `INDEXED BY dossiers_inbox` keeps its meaning.
DROP INDEX dossiers_inbox;
CREATE INDEX dossiers_inbox ON dossiers(current_agency, IFNULL(due_at, 0), id, status, due_at)
    WHERE status NOT IN ('refused', 'returned', 'withdrawn', 'stopped');
