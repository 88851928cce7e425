-- Migration 28: a dossier's links to its files (`dossier_files`) lose their foreign keys to
-- `files` and `users` (decision 0042). Each linked document row ran two referential-integrity
-- triggers, each a `SELECT ... FOR KEY SHARE` on the referenced row: measured on W1
-- (PostgreSQL, 64 clients, 2 cores, seven document rows per submission) they were ~45 % of
-- the statement that writes a batch's file links and cost 10-20 % of the submissions/s. The
-- writer inserts the `files` row of every file it links in the same statement, and rows of
-- `files` and `users` are never deleted; `motcua verify` reports any link to a missing file
-- or user.
ALTER TABLE dossier_files
    DROP CONSTRAINT IF EXISTS dossier_files_sha256_fkey,
    DROP CONSTRAINT IF EXISTS dossier_files_uploaded_by_fkey;
