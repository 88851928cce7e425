-- Migration 2: calendar settings per scope ('province' or an agency code), and an index for
-- listing the dossiers an agency handled.
CREATE TABLE calendar_settings (
    scope TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE INDEX events_agency ON events(agency, dossier_id);
