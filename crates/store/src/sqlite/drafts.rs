//! Drafts of e-forms on SQLite (migration 17): writes on the writer thread, reads on the pool.

use super::writer::db_err;
use super::{SqliteStore, corrupt, from_ts, ts};
use crate::Result;
use crate::drafts::Draft;
use rusqlite::{OptionalExtension, Row, params};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use uuid::Uuid;

const COLUMNS: &str = "id, owner, procedure_code, procedure_version, procedure_name, form_values, created_at, updated_at";

type Raw = (String, String, String, i64, String, String, i64, i64);

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

fn draft(r: Raw) -> Result<Draft> {
    let (id, owner, code, version, name, values, created, updated) = r;
    Ok(Draft {
        id: id.parse().map_err(corrupt)?,
        owner: owner.parse().map_err(corrupt)?,
        procedure_code: code,
        procedure_version: u32::try_from(version).map_err(corrupt)?,
        procedure_name: name,
        values: serde_json::from_str(&values).map_err(corrupt)?,
        created_at: from_ts(created),
        updated_at: from_ts(updated),
    })
}

impl SqliteStore {
    pub(crate) async fn save_draft(&self, d: Draft) -> Result<()> {
        self.admin(move |c| {
            c.prepare_cached(
                "INSERT INTO drafts (id, owner, procedure_code, procedure_version, procedure_name,
                                     form_values, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (owner, procedure_code, procedure_version) DO UPDATE SET
                     procedure_name = excluded.procedure_name,
                     form_values = excluded.form_values,
                     updated_at = excluded.updated_at",
            )
            .map_err(db_err)?
            .execute(params![
                d.id.to_string(),
                d.owner.to_string(),
                d.procedure_code,
                i64::from(d.procedure_version),
                d.procedure_name,
                d.values.to_string(),
                ts(d.created_at),
                ts(d.updated_at)
            ])
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn drafts(&self, owner: Uuid) -> Result<Vec<Draft>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM drafts WHERE owner = ?1
                     ORDER BY updated_at DESC, id LIMIT 200"
                ))
                .map_err(db_err)?;
            let rows = st.query_map([owner.to_string()], raw).map_err(db_err)?;
            rows.map(|r| draft(r.map_err(db_err)?)).collect()
        })
    }

    pub(crate) async fn draft(&self, owner: Uuid, id: Uuid) -> Result<Option<Draft>> {
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM drafts WHERE owner = ?1 AND id = ?2"
            ))
            .map_err(db_err)?
            .query_row(params![owner.to_string(), id.to_string()], raw)
            .optional()
            .map_err(db_err)?
            .map(draft)
            .transpose()
        })
    }

    pub(crate) async fn delete_draft(&self, owner: Uuid, id: Uuid) -> Result<bool> {
        let gone = Arc::new(AtomicBool::new(false));
        let g = gone.clone();
        self.admin(move |c| {
            let n = c
                .prepare_cached("DELETE FROM drafts WHERE owner = ?1 AND id = ?2")
                .map_err(db_err)?
                .execute(params![owner.to_string(), id.to_string()])
                .map_err(db_err)?;
            g.store(n > 0, Ordering::Relaxed);
            Ok(())
        })
        .await?;
        Ok(gone.load(Ordering::Relaxed))
    }
}
