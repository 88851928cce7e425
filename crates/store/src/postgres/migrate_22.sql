-- Migration 22: dossiers whose national-portal sync the portal acknowledged (Decision 766
-- indicator 1.4). One row per dossier, written in the transaction that marks its first
-- `dvcqg.sync` message delivered (delivery is in order per dossier, so that is the reception
-- message), keyed by the competent agency and the local day of reception; never updated.
CREATE TABLE portal_synced (
    dossier text PRIMARY KEY,
    agency text NOT NULL,
    received_day date NOT NULL,
    acked_at timestamptz NOT NULL
);
CREATE INDEX portal_synced_day ON portal_synced(agency, received_day);
