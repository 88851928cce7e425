-- Migration 16: the inbox index covers the inbox. Migration 9's index found an agency's open
-- dossiers in order, but every row shown (and every row counted) was then read from the table:
-- one random table page per dossier, which dominated an inbox read on a large database. The
-- index now also carries every column an inbox page shows, filters on or counts, so an inbox
-- read (the page and the per-status counts) never leaves the index: it holds open dossiers only
-- (the same partial condition), so it stays small, and an agency's entries sit together.
-- Same name and leading columns, so `INDEXED BY dossiers_inbox` keeps its meaning.
DROP INDEX dossiers_inbox;
CREATE INDEX dossiers_inbox ON dossiers(
    current_agency, IFNULL(due_at, 0), id,
    status, due_at, code, procedure_code, procedure_name, applicant_name, national_status,
    receiving_agency, submitted_at, version, assignee, channel)
    WHERE status NOT IN ('refused', 'returned', 'withdrawn', 'stopped');
