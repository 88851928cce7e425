//! Payments on PostgreSQL (migration 18; see the SQLite module of the same name). The `paid`
//! transition is written by the projection (`writer.rs`), never here.

use super::{PgStore, corrupt, pg_err};
use crate::payments::{PaymentCallback, PaymentRecord};
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use motcua_domain::payment::{PaymentMethod, PaymentStatus};
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

const COLUMNS: &str = "reference, dossier_id, amount_vnd, method, status, tx_time, actor, transaction_id, receipt, receipt_no, callback, created_at, updated_at, paid_at";

fn record(r: &Row) -> Result<PaymentRecord> {
    let method: &str = r.get(3);
    let status: &str = r.get(4);
    Ok(PaymentRecord {
        reference: r.get(0),
        dossier_id: r.get(1),
        amount_vnd: r.get(2),
        method: PaymentMethod::parse(method).ok_or_else(|| corrupt(method))?,
        status: PaymentStatus::parse(status).ok_or_else(|| corrupt(status))?,
        tx_time: r.get(5),
        actor: r.get(6),
        transaction_id: r.get(7),
        receipt: r.get(8),
        receipt_no: r.get(9),
        callback: r.get(10),
        created_at: r.get(11),
        updated_at: r.get(12),
        paid_at: r.get(13),
    })
}

/// See the SQLite module.
const NOTE_PAID: &str = "UPDATE payments SET callback = COALESCE(callback, $2),
        transaction_id = COALESCE(transaction_id, $3), status = 'initiated', updated_at = $5
    WHERE reference = $1 AND $4 = 'paid' AND status <> 'paid'
      AND (callback IS NULL OR status <> 'initiated')";
const NOTE_FAILED: &str = "UPDATE payments SET callback = $2,
        transaction_id = COALESCE(transaction_id, $3), status = $4, updated_at = $5
    WHERE reference = $1 AND status = 'initiated' AND callback IS NULL";

/// The projection's write of a `fee_paid` event (see the SQLite module).
pub(super) const WRITE_PAID: &str = "INSERT INTO payments (reference, dossier_id, amount_vnd,
        method, status, tx_time, actor, transaction_id, receipt, receipt_no, created_at,
        updated_at, paid_at)
    VALUES ($1, $2, $3, $4, 'paid', $5, $6, $7, $8, $9, $10, $10, $10)
    ON CONFLICT (reference) DO UPDATE SET status = 'paid',
        transaction_id = COALESCE(excluded.transaction_id, payments.transaction_id),
        receipt = excluded.receipt, receipt_no = excluded.receipt_no,
        updated_at = excluded.updated_at, paid_at = excluded.paid_at
    WHERE payments.dossier_id = excluded.dossier_id AND payments.status <> 'paid'
      AND payments.amount_vnd = excluded.amount_vnd";

impl PgStore {
    pub(crate) async fn create_payment(&self, p: PaymentRecord) -> Result<()> {
        let c = self.conn().await?;
        let st = c
            .prepare_cached(
                "INSERT INTO payments (reference, dossier_id, amount_vnd, method, status, tx_time,
                                       actor, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            )
            .await
            .map_err(pg_err)?;
        c.execute(
            &st,
            &[
                &p.reference,
                &p.dossier_id,
                &p.amount_vnd,
                &p.method.as_str(),
                &p.status.as_str(),
                &p.tx_time,
                &p.actor,
                &p.created_at,
            ],
        )
        .await
        .map_err(|e| match e.code() {
            Some(c) if *c == SqlState::UNIQUE_VIOLATION => {
                StoreError::Duplicate(format!("payment reference {}", p.reference))
            }
            _ => pg_err(e),
        })?;
        Ok(())
    }

    pub(crate) async fn payment(&self, reference: &str) -> Result<Option<PaymentRecord>> {
        self.query_opt(
            &format!("SELECT {COLUMNS} FROM payments WHERE reference = $1"),
            &[&reference],
        )
        .await?
        .map(|r| record(&r))
        .transpose()
    }

    pub(crate) async fn payments_of(&self, dossier: Uuid) -> Result<Vec<PaymentRecord>> {
        self.query(
            &format!(
                "SELECT {COLUMNS} FROM payments WHERE dossier_id = $1
                 ORDER BY created_at, reference LIMIT 500"
            ),
            &[&dossier],
        )
        .await?
        .iter()
        .map(record)
        .collect()
    }

    pub(crate) async fn payments_awaiting_confirmation(
        &self,
        limit: u32,
    ) -> Result<Vec<PaymentRecord>> {
        self.query(
            &format!(
                "SELECT {COLUMNS} FROM payments WHERE status = 'initiated' AND callback IS NOT NULL
                 ORDER BY updated_at LIMIT $1"
            ),
            &[&i64::from(limit)],
        )
        .await?
        .iter()
        .map(record)
        .collect()
    }

    pub(crate) async fn payments_paid_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PaymentRecord>> {
        self.query(
            &format!(
                "SELECT {COLUMNS} FROM payments WHERE status = 'paid' AND paid_at >= $1
                 AND paid_at < $2 ORDER BY paid_at, reference"
            ),
            &[&from, &to],
        )
        .await?
        .iter()
        .map(record)
        .collect()
    }

    pub(crate) async fn dossiers_with_fee_events(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Uuid>> {
        Ok(self
            .query(
                "SELECT DISTINCT dossier_id FROM events
                 WHERE kind = 'fee_paid' AND at >= $1 AND at < $2",
                &[&from, &to],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    pub(crate) async fn note_payment_callback(&self, cb: PaymentCallback) -> Result<()> {
        let sql = if cb.reported == PaymentStatus::Paid {
            NOTE_PAID
        } else {
            NOTE_FAILED
        };
        self.query(
            sql,
            &[
                &cb.reference,
                &cb.raw,
                &cb.transaction_id,
                &cb.reported.as_str(),
                &cb.at,
            ],
        )
        .await
        .map(|_| ())
    }
}
