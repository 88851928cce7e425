//! Payments (migration 18): one row per attempt to pay a dossier's fees, keyed by its reference
//! (`MaThamChieu`). Online attempts are written here before the applicant goes to the national
//! payment platform and carry the platform's verified callback; a row becomes `paid` only in
//! the transaction that appends the dossier's `fee_paid` event (the projection writes it, from
//! the event), so "paid" here and "paid" in the dossier's history cannot disagree.

use chrono::{DateTime, Utc};
use motcua_domain::payment::{PaymentMethod, PaymentStatus};
use uuid::Uuid;

/// One payment attempt.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PaymentRecord {
    /// Reference, unique (`MaThamChieu`).
    pub reference: String,
    /// The dossier paid for.
    pub dossier_id: Uuid,
    /// Amount in đồng.
    pub amount_vnd: i64,
    /// How.
    pub method: PaymentMethod,
    /// Where it stands.
    pub status: PaymentStatus,
    /// Transaction time as sent to the platform (`ThoiGianGD`, `yyyyMMddHHmmss`).
    pub tx_time: String,
    /// Who started it (the applicant online, the officer at the counter).
    pub actor: Uuid,
    /// The platform's transaction id (`MaGiaoDich`).
    pub transaction_id: Option<String>,
    /// Content address of the stored e-receipt.
    pub receipt: Option<String>,
    /// Receipt number.
    pub receipt_no: Option<String>,
    /// The first verified callback that moved it, as received (audit).
    pub callback: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Recorded as paid.
    pub paid_at: Option<DateTime<Utc>>,
}

impl PaymentRecord {
    /// A new online attempt, `initiated`.
    pub fn online(
        reference: String,
        dossier_id: Uuid,
        amount_vnd: i64,
        tx_time: String,
        actor: Uuid,
        now: DateTime<Utc>,
    ) -> PaymentRecord {
        PaymentRecord {
            reference,
            dossier_id,
            amount_vnd,
            method: PaymentMethod::Online,
            status: PaymentStatus::Initiated,
            tx_time,
            actor,
            transaction_id: None,
            receipt: None,
            receipt_no: None,
            callback: None,
            created_at: now,
            updated_at: now,
            paid_at: None,
        }
    }

    /// Whether a verified "paid" callback came and the platform has not confirmed it yet
    /// (đang xác nhận).
    pub fn awaiting_confirmation(&self) -> bool {
        self.status == PaymentStatus::Initiated && self.callback.is_some()
    }
}

/// What a verified callback says of an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentCallback {
    /// The reference it names.
    pub reference: String,
    /// What it reports: `Paid` leaves the row `initiated` until the platform confirms (only
    /// the event makes it paid); `Failed`/`Cancelled` move an `initiated` row, nothing else.
    pub reported: PaymentStatus,
    /// The platform's transaction id.
    pub transaction_id: Option<String>,
    /// The body as received.
    pub raw: String,
    /// When it came.
    pub at: DateTime<Utc>,
}
