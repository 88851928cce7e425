//! Inbound dossiers not taken, on SQLite (migration 20).

use super::writer::db_err;
use super::{SqliteStore, corrupt, from_ts, ts};
use crate::Result;
use crate::inbound::{InboundNote, InboundRow, InboundStatus};
use rusqlite::{OptionalExtension, Row, params};
use std::sync::{Arc, Mutex};

const COLUMNS: &str = "source, external_id, code, status, reason, attempts, first_at, last_at";

type Raw = (String, String, String, String, String, i64, i64, i64);

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
    ))
}

fn row(r: Raw) -> Result<InboundRow> {
    let (source, external_id, code, status, reason, attempts, first, last) = r;
    Ok(InboundRow {
        source,
        external_id,
        code,
        status: InboundStatus::parse(&status).ok_or_else(|| corrupt(&status))?,
        reason,
        attempts: u32::try_from(attempts).map_err(corrupt)?,
        first_at: from_ts(first),
        last_at: from_ts(last),
    })
}

impl SqliteStore {
    pub(crate) async fn note_inbound(&self, n: InboundNote) -> Result<InboundRow> {
        let out: Arc<Mutex<Option<Raw>>> = Arc::default();
        let o = out.clone();
        self.admin(move |c| {
            let r = c
                .prepare_cached(&format!(
                    "INSERT INTO inbound ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6)
                     ON CONFLICT (source, external_id) DO UPDATE SET
                         code = excluded.code,
                         reason = excluded.reason,
                         attempts = inbound.attempts + 1,
                         last_at = excluded.last_at,
                         status = CASE
                             WHEN inbound.status = 'rejected' OR excluded.status = 'rejected'
                                  OR (?7 > 0 AND inbound.attempts + 1 >= ?7) THEN 'rejected'
                             ELSE 'failing' END
                     RETURNING {COLUMNS}"
                ))
                .map_err(db_err)?
                .query_row(
                    params![
                        n.source,
                        n.external_id,
                        n.code,
                        if n.rejected || n.reject_after == 1 {
                            "rejected"
                        } else {
                            "failing"
                        },
                        n.reason,
                        ts(n.at),
                        i64::from(n.reject_after)
                    ],
                    raw,
                )
                .map_err(db_err)?;
            if let Ok(mut g) = o.lock() {
                *g = Some(r);
            }
            Ok(())
        })
        .await?;
        let r = out
            .lock()
            .ok()
            .and_then(|mut g| g.take())
            .ok_or_else(|| corrupt("inbound row not returned"))?;
        row(r)
    }

    pub(crate) async fn inbound(&self, source: &str, id: &str) -> Result<Option<InboundRow>> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM inbound WHERE source = ?1 AND external_id = ?2"
            ))
            .map_err(db_err)?
            .query_row(params![source, id], raw)
            .optional()
            .map_err(db_err)?
            .map(row)
            .transpose()
        })
    }

    pub(crate) async fn inbound_list(&self, limit: u32) -> Result<Vec<InboundRow>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM inbound ORDER BY last_at DESC, external_id LIMIT ?1"
                ))
                .map_err(db_err)?;
            let rows = st
                .query_map([i64::from(limit.min(1000))], raw)
                .map_err(db_err)?;
            rows.map(|r| row(r.map_err(db_err)?)).collect()
        })
    }

    pub(crate) async fn idempotent_dossier(
        &self,
        actor: uuid::Uuid,
        key: &str,
    ) -> Result<Option<uuid::Uuid>> {
        self.read(|c| {
            c.prepare_cached("SELECT dossier_id FROM idempotency WHERE actor = ?1 AND key = ?2")
                .map_err(db_err)?
                .query_row(params![actor.to_string(), key], |r| r.get::<_, String>(0))
                .optional()
                .map_err(db_err)?
                .map(|s| s.parse().map_err(corrupt))
                .transpose()
        })
    }

    pub(crate) async fn clear_inbound(&self, source: String, id: String) -> Result<()> {
        self.admin(move |c| {
            c.prepare_cached("DELETE FROM inbound WHERE source = ?1 AND external_id = ?2")
                .map_err(db_err)?
                .execute(params![source, id])
                .map_err(db_err)?;
            Ok(())
        })
        .await
    }
}
