-- Migration 6 (statistics): open dossiers by competent agency and appointment, for the list of
-- dossiers about to be late.
CREATE INDEX dossiers_open_due ON dossiers(competent_agency, due_at) WHERE finished_at IS NULL;
