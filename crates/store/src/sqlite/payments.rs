//! Payments on SQLite (migration 18): writes on the writer thread, reads on the pool. The
//! `paid` transition is written by the projection (`writer.rs`), never here.

use super::writer::db_err;
use super::{SqliteStore, corrupt, from_ts, ts};
use crate::payments::{PaymentCallback, PaymentRecord};
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use motcua_domain::payment::{PaymentMethod, PaymentStatus};
use rusqlite::{OptionalExtension, Row, params};

pub(super) const COLUMNS: &str = "reference, dossier_id, amount_vnd, method, status, tx_time, actor, transaction_id, receipt, receipt_no, callback, created_at, updated_at, paid_at";

type Raw = (
    String,
    String,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    i64,
    Option<i64>,
);

fn raw(r: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
        r.get(13)?,
    ))
}

fn record(r: Raw) -> Result<PaymentRecord> {
    let (reference, dossier, amount, method, status, tx_time, actor, txn, receipt, no, cb, c, u, p) =
        r;
    Ok(PaymentRecord {
        reference,
        dossier_id: dossier.parse().map_err(corrupt)?,
        amount_vnd: amount,
        method: PaymentMethod::parse(&method).ok_or_else(|| corrupt(&method))?,
        status: PaymentStatus::parse(&status).ok_or_else(|| corrupt(&status))?,
        tx_time,
        actor: actor.parse().map_err(corrupt)?,
        transaction_id: txn,
        receipt,
        receipt_no: no,
        callback: cb,
        created_at: from_ts(c),
        updated_at: from_ts(u),
        paid_at: p.map(from_ts),
    })
}

impl SqliteStore {
    pub(crate) async fn create_payment(&self, p: PaymentRecord) -> Result<()> {
        self.admin(move |c| {
            c.prepare_cached(
                "INSERT INTO payments (reference, dossier_id, amount_vnd, method, status, tx_time,
                                       actor, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            )
            .map_err(db_err)?
            .execute(params![
                p.reference,
                p.dossier_id.to_string(),
                p.amount_vnd,
                p.method.as_str(),
                p.status.as_str(),
                p.tx_time,
                p.actor.to_string(),
                ts(p.created_at)
            ])
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    StoreError::Duplicate(format!("payment reference {}", p.reference))
                }
                e => db_err(e),
            })?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn payment(&self, reference: &str) -> Result<Option<PaymentRecord>> {
        let reference = reference.to_string();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM payments WHERE reference = ?1"
            ))
            .map_err(db_err)?
            .query_row([reference], raw)
            .optional()
            .map_err(db_err)?
            .map(record)
            .transpose()
        })
    }

    fn payments_where(
        &self,
        clause: &str,
        args: Vec<rusqlite::types::Value>,
    ) -> Result<Vec<PaymentRecord>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached(&format!("SELECT {COLUMNS} FROM payments WHERE {clause}"))
                .map_err(db_err)?;
            let rows = st
                .query_map(rusqlite::params_from_iter(args), raw)
                .map_err(db_err)?;
            rows.map(|r| record(r.map_err(db_err)?)).collect()
        })
    }

    pub(crate) async fn payments_of(&self, dossier: uuid::Uuid) -> Result<Vec<PaymentRecord>> {
        self.payments_where(
            "dossier_id = ?1 ORDER BY created_at, reference LIMIT 500",
            vec![dossier.to_string().into()],
        )
    }

    pub(crate) async fn payments_awaiting_confirmation(
        &self,
        limit: u32,
    ) -> Result<Vec<PaymentRecord>> {
        self.payments_where(
            "status = 'initiated' AND callback IS NOT NULL ORDER BY updated_at LIMIT ?1",
            vec![i64::from(limit).into()],
        )
    }

    pub(crate) async fn payments_paid_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PaymentRecord>> {
        self.payments_where(
            "status = 'paid' AND paid_at >= ?1 AND paid_at < ?2 ORDER BY paid_at, reference",
            vec![ts(from).into(), ts(to).into()],
        )
    }

    pub(crate) async fn dossiers_with_fee_events(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<uuid::Uuid>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT DISTINCT dossier_id FROM events
                     WHERE kind = 'fee_paid' AND at >= ?1 AND at < ?2",
                )
                .map_err(db_err)?;
            let rows = st
                .query_map(params![ts(from), ts(to)], |r| r.get::<_, String>(0))
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)?.parse().map_err(corrupt))
                .collect()
        })
    }

    pub(crate) async fn note_payment_callback(&self, cb: PaymentCallback) -> Result<()> {
        let sql = if cb.reported == PaymentStatus::Paid {
            NOTE_PAID
        } else {
            NOTE_FAILED
        };
        self.admin(move |c| {
            c.prepare_cached(sql)
                .map_err(db_err)?
                .execute(params![
                    cb.reference,
                    cb.raw,
                    cb.transaction_id,
                    cb.reported.as_str(),
                    ts(cb.at)
                ])
                .map_err(db_err)?;
            Ok(())
        })
        .await
    }
}

/// A verified "paid" callback: kept (the first body stays), and the attempt waits for the
/// platform's confirmation (`initiated` with a callback), even after an earlier "failed":
/// the confirmation decides. A repeat changes nothing.
const NOTE_PAID: &str = "UPDATE payments SET callback = COALESCE(callback, ?2),
        transaction_id = COALESCE(transaction_id, ?3), status = 'initiated', updated_at = ?5
    WHERE reference = ?1 AND ?4 = 'paid' AND status <> 'paid'
      AND (callback IS NULL OR status <> 'initiated')";

/// A verified "failed"/"cancelled" callback moves only an attempt that nothing was heard of:
/// one that was reported paid waits for the platform's confirmation instead.
const NOTE_FAILED: &str = "UPDATE payments SET callback = ?2,
        transaction_id = COALESCE(transaction_id, ?3), status = ?4, updated_at = ?5
    WHERE reference = ?1 AND status = 'initiated' AND callback IS NULL";

/// The projection's write of a `fee_paid` event, in the append transaction: the online attempt
/// becomes paid, or a counter payment's row is created paid. Fails (and with it the append)
/// when the reference is already paid or belongs to another dossier: a payment is recorded once.
pub(super) fn write_paid(
    conn: &rusqlite::Connection,
    dossier: &str,
    p: &crate::plan::PaidRow,
) -> Result<()> {
    let n = conn
        .prepare_cached(
            "INSERT INTO payments (reference, dossier_id, amount_vnd, method, status, tx_time,
                                   actor, transaction_id, receipt, receipt_no, created_at,
                                   updated_at, paid_at)
             VALUES (?1, ?2, ?3, ?4, 'paid', ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?10)
             ON CONFLICT (reference) DO UPDATE SET status = 'paid',
                 transaction_id = COALESCE(excluded.transaction_id, payments.transaction_id),
                 receipt = excluded.receipt, receipt_no = excluded.receipt_no,
                 updated_at = excluded.updated_at, paid_at = excluded.paid_at
             WHERE payments.dossier_id = excluded.dossier_id AND payments.status <> 'paid'
               AND payments.amount_vnd = excluded.amount_vnd",
        )
        .map_err(db_err)?
        .execute(params![
            p.reference,
            dossier,
            p.amount_vnd,
            p.method.as_str(),
            motcua_domain::payment::platform_time(p.at),
            p.actor.to_string(),
            p.transaction_id,
            p.receipt,
            p.receipt_no,
            ts(p.at)
        ])
        .map_err(db_err)?;
    if n != 1 {
        return Err(StoreError::Duplicate(format!(
            "payment {} is already recorded",
            p.reference
        )));
    }
    Ok(())
}
