//! `portal_synced` on SQLite (see `crate::portal`).

use super::writer::db_err;
use super::{SqliteStore, from_ts, ts};
use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::codes::AgencyCode;
use rusqlite::{Connection, OptionalExtension, params};

/// Records the dossiers (codes) whose sync message was just acknowledged, once each, in the
/// acknowledging transaction.
pub(super) fn record_synced(c: &Connection, dossiers: &[String], now: DateTime<Utc>) -> Result<()> {
    if dossiers.is_empty() {
        return Ok(());
    }
    let mut find = c
        .prepare_cached("SELECT competent_agency, received_at FROM dossiers WHERE code = ?1")
        .map_err(db_err)?;
    let mut put = c
        .prepare_cached(
            "INSERT INTO portal_synced (dossier, agency, received_day, acked_at)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (dossier) DO NOTHING",
        )
        .map_err(db_err)?;
    for d in dossiers {
        let row = find
            .query_row(params![d], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))
            })
            .optional()
            .map_err(db_err)?;
        if let Some((agency, Some(at))) = row {
            let day = crate::outbox::local_day(from_ts(at));
            put.execute(params![d, agency, day.to_string(), ts(now)])
                .map_err(db_err)?;
        }
    }
    Ok(())
}

fn day_of(s: &str) -> NaiveDate {
    s.parse().unwrap_or_default()
}

impl SqliteStore {
    pub(crate) async fn portal_synced(
        &self,
        agencies: &[AgencyCode],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(String, i64)>> {
        let agencies: Vec<String> = agencies.iter().map(|a| a.to_string()).collect();
        self.read(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT count(*) FROM portal_synced
                     WHERE agency = ?1 AND received_day >= ?2 AND received_day <= ?3",
                )
                .map_err(db_err)?;
            let mut out = Vec::new();
            for a in agencies {
                let n: i64 = st
                    .query_row(params![a, from.to_string(), to.to_string()], |r| r.get(0))
                    .map_err(db_err)?;
                out.push((a, n));
            }
            Ok(out)
        })
    }

    pub(crate) async fn check_portal_synced(&self) -> Result<Vec<String>> {
        self.read_blocking(move |c| {
            let mut st = c
                .prepare(
                    "SELECT p.dossier, p.agency, p.received_day, d.competent_agency, d.received_at
                     FROM portal_synced p LEFT JOIN dossiers d ON d.code = p.dossier",
                )
                .map_err(db_err)?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                    ))
                })
                .map_err(db_err)?;
            let mut checked = Vec::new();
            for r in rows {
                let (dossier, agency, day, competent, received) = r.map_err(db_err)?;
                let want = competent.and_then(|a| crate::portal::key_of(a, received.map(from_ts)));
                checked.push((dossier, agency, day_of(&day), want));
            }
            let mut st = c
                .prepare(
                    "SELECT DISTINCT o.part FROM outbox o
                     WHERE o.topic = ?1 AND o.status = 'done'
                       AND NOT EXISTS (SELECT 1 FROM portal_synced p WHERE p.dossier = o.part)",
                )
                .map_err(db_err)?;
            let missing = st
                .query_map(params![crate::portal::TOPIC], |r| r.get::<_, String>(0))
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)?;
            Ok(crate::portal::problems(checked, missing))
        })
        .await
    }
}
