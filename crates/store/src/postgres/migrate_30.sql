-- Migration 30: a dossier's file links keyed by a digest of the link, not by its text.
-- The primary key held the slot, which is the component's whole name from the procedure
-- (100-300 characters of Vietnamese): each of a submission's seven links put ~450 bytes in the
-- key beside ~400 in the row, and that index was the largest of the database (184 MB for
-- 45,000 dossiers, a split every 14 inserts, ~a fifth of the WAL of a submission). The link
-- stays unique by (dossier, file, kind, slot) through the MD5 of the last three (a uuid, 16
-- bytes); the lookups by dossier use its first column as before.
ALTER TABLE dossier_files DROP CONSTRAINT dossier_files_pkey;
CREATE UNIQUE INDEX dossier_files_link ON dossier_files
    (dossier_id, (md5(sha256 || E'\n' || kind || E'\n' || slot)::uuid));
