-- Migration 15 (counter reception): the dossier's channel and the applicant's personal ID as
-- columns, for the inbox's channel filter and the identity lookup at the desk (the most recent
-- applicant record with a personal ID). Backfilled from the folded state.
ALTER TABLE dossiers ADD COLUMN channel text;
ALTER TABLE dossiers ADD COLUMN applicant_personal_id text;
UPDATE dossiers SET channel = state::jsonb ->> 'channel',
                    applicant_personal_id = state::jsonb -> 'applicant' ->> 'personal_id';
CREATE INDEX dossiers_applicant_pid ON dossiers(applicant_personal_id, submitted_at)
    WHERE applicant_personal_id IS NOT NULL;
