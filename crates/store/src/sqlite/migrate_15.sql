-- Migration 15 (counter reception): the dossier's channel and the applicant's personal ID as
-- columns, for the inbox's channel filter and the identity lookup at the desk (the most recent
-- applicant record with a personal ID). Backfilled from the folded state; a compacted state
-- (procedure snapshot cut out at `snap_at`) reads as JSON with `null` in the snapshot's place
-- (the cut comes after `id` and `code`, plain ASCII, so characters and bytes agree).
ALTER TABLE dossiers ADD COLUMN channel TEXT;
ALTER TABLE dossiers ADD COLUMN applicant_personal_id TEXT;
UPDATE dossiers SET (channel, applicant_personal_id) = (
    SELECT json_extract(j, '$.channel'), json_extract(j, '$.applicant.personal_id')
    FROM (SELECT CASE WHEN s.snap_at IS NULL THEN s.state
                      ELSE substr(s.state, 1, s.snap_at) || 'null' || substr(s.state, s.snap_at + 1)
                 END AS j
          FROM dossier_states s WHERE s.id = dossiers.id));
CREATE INDEX dossiers_applicant_pid ON dossiers(applicant_personal_id, submitted_at)
    WHERE applicant_personal_id IS NOT NULL;
