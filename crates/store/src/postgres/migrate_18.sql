-- Migration 18: payments (see the SQLite migration of the same number).
CREATE TABLE payments (
    reference text PRIMARY KEY,
    dossier_id uuid NOT NULL,
    amount_vnd bigint NOT NULL,
    method text NOT NULL,
    status text NOT NULL,
    tx_time text NOT NULL,
    actor uuid NOT NULL,
    transaction_id text,
    receipt text,
    receipt_no text,
    callback text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    paid_at timestamptz
);
CREATE INDEX payments_dossier ON payments(dossier_id, created_at);
CREATE INDEX payments_paid_at ON payments(paid_at);
CREATE INDEX payments_pending ON payments(status, updated_at);
