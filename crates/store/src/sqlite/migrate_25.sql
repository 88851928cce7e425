-- Migration 25: the inbox counts read a narrow index. The per-status counts of an agency's
-- inbox (open, overdue, due soon) walked every entry of the wide covering inbox index
-- (migration 16: fifteen columns, ~10 pages for an agency's 200 open dossiers) and sorted them
-- by status; a reader's page cache starts empty after every write (WAL), so each page was read
-- again. This index holds only what the counts need, in the order they group by: an agency's
-- open dossiers by status, then appointment (2-3 pages for 200 dossiers, no sort).
CREATE INDEX dossiers_inbox_counts ON dossiers(current_agency, status, due_at)
    WHERE status NOT IN ('refused', 'returned', 'withdrawn', 'stopped');
