-- Migration 18: payments. One row per attempt to pay a dossier's fees, online through the
-- national payment platform or at the counter, keyed by its reference (MaThamChieu). Online
-- attempts are created `initiated` before the applicant is sent to the platform; a verified
-- callback is kept as sent (`callback`, for audit); the row becomes `paid` only in the
-- transaction that appends the dossier's `fee_paid` event (the projection writes it).
CREATE TABLE payments (
    reference TEXT PRIMARY KEY,
    dossier_id TEXT NOT NULL,
    amount_vnd INTEGER NOT NULL,
    method TEXT NOT NULL,
    status TEXT NOT NULL,
    tx_time TEXT NOT NULL,
    actor TEXT NOT NULL,
    transaction_id TEXT,
    receipt TEXT,
    receipt_no TEXT,
    callback TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    paid_at INTEGER
);
CREATE INDEX payments_dossier ON payments(dossier_id, created_at);
CREATE INDEX payments_paid_at ON payments(paid_at);
CREATE INDEX payments_pending ON payments(status, updated_at);
