-- Migration 26: the inbox counts read a narrow index (see the SQLite migration 25): an
-- agency's open dossiers by status, then appointment, so the per-status counts are an
-- index-only scan in group order instead of a walk of the wide covering inbox index.
CREATE INDEX dossiers_inbox_counts ON dossiers(current_agency, status, due_at)
    WHERE status NOT IN ('refused', 'returned', 'withdrawn', 'stopped');
