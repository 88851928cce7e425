//! Integration state on SQLite (migration 21).

use super::writer::db_err;
use super::{SqliteStore, from_ts, ts};
use crate::Result;
use crate::state::StateEntry;
use chrono::Utc;
use rusqlite::{OptionalExtension, params};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

impl SqliteStore {
    pub(crate) async fn state(&self, name: &str) -> Result<Option<StateEntry>> {
        let name = name.to_string();
        self.read(move |c| {
            c.prepare_cached(
                "SELECT value, version, updated_at FROM integration_state WHERE name = ?1",
            )
            .map_err(db_err)?
            .query_row([name], |r| {
                Ok(StateEntry {
                    value: r.get(0)?,
                    version: r.get(1)?,
                    updated_at: from_ts(r.get(2)?),
                })
            })
            .optional()
            .map_err(db_err)
        })
    }

    pub(crate) async fn swap_state(
        &self,
        name: &str,
        expected: Option<i64>,
        value: &str,
    ) -> Result<bool> {
        let (name, value) = (name.to_string(), value.to_string());
        let done = Arc::new(AtomicBool::new(false));
        let d = done.clone();
        self.admin(move |c| {
            let now = ts(Utc::now());
            let n = match expected {
                None => c
                    .prepare_cached(
                        "INSERT INTO integration_state (name, value, version, updated_at)
                         VALUES (?1, ?2, 1, ?3) ON CONFLICT (name) DO NOTHING",
                    )
                    .map_err(db_err)?
                    .execute(params![name, value, now]),
                Some(v) => c
                    .prepare_cached(
                        "UPDATE integration_state SET value = ?2, version = version + 1,
                             updated_at = ?3
                         WHERE name = ?1 AND version = ?4",
                    )
                    .map_err(db_err)?
                    .execute(params![name, value, now, v]),
            }
            .map_err(db_err)?;
            d.store(n > 0, Ordering::Relaxed);
            Ok(())
        })
        .await?;
        Ok(done.load(Ordering::Relaxed))
    }
}
