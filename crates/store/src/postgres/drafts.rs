//! Drafts of e-forms on PostgreSQL (migration 17).

use super::{PgStore, corrupt, pg_err};
use crate::Result;
use crate::drafts::Draft;
use tokio_postgres::Row;
use uuid::Uuid;

const COLUMNS: &str = "id, owner, procedure_code, procedure_version, procedure_name, form_values, created_at, updated_at";

fn draft(r: &Row) -> Result<Draft> {
    let values: &str = r.get(5);
    Ok(Draft {
        id: r.get(0),
        owner: r.get(1),
        procedure_code: r.get(2),
        procedure_version: u32::try_from(r.get::<_, i32>(3)).map_err(corrupt)?,
        procedure_name: r.get(4),
        values: serde_json::from_str(values).map_err(corrupt)?,
        created_at: r.get(6),
        updated_at: r.get(7),
    })
}

impl PgStore {
    pub(crate) async fn save_draft(&self, d: Draft) -> Result<()> {
        let version = i32::try_from(d.procedure_version).map_err(corrupt)?;
        self.query(
            "INSERT INTO drafts (id, owner, procedure_code, procedure_version, procedure_name,
                                 form_values, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (owner, procedure_code, procedure_version) DO UPDATE SET
                 procedure_name = excluded.procedure_name,
                 form_values = excluded.form_values,
                 updated_at = excluded.updated_at",
            &[
                &d.id,
                &d.owner,
                &d.procedure_code,
                &version,
                &d.procedure_name,
                &d.values.to_string(),
                &d.created_at,
                &d.updated_at,
            ],
        )
        .await
        .map(|_| ())
    }

    pub(crate) async fn drafts(&self, owner: Uuid) -> Result<Vec<Draft>> {
        self.query(
            &format!(
                "SELECT {COLUMNS} FROM drafts WHERE owner = $1 ORDER BY updated_at DESC, id LIMIT 200"
            ),
            &[&owner],
        )
        .await?
        .iter()
        .map(draft)
        .collect()
    }

    pub(crate) async fn draft(&self, owner: Uuid, id: Uuid) -> Result<Option<Draft>> {
        self.query_opt(
            &format!("SELECT {COLUMNS} FROM drafts WHERE owner = $1 AND id = $2"),
            &[&owner, &id],
        )
        .await?
        .map(|r| draft(&r))
        .transpose()
    }

    pub(crate) async fn delete_draft(&self, owner: Uuid, id: Uuid) -> Result<bool> {
        let c = self.conn().await?;
        let st = c
            .prepare_cached("DELETE FROM drafts WHERE owner = $1 AND id = $2")
            .await
            .map_err(pg_err)?;
        Ok(c.execute(&st, &[&owner, &id]).await.map_err(pg_err)? > 0)
    }
}
