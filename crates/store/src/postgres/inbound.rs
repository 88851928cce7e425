//! Inbound dossiers not taken, on PostgreSQL (migration 20).

use super::{PgStore, corrupt};
use crate::Result;
use crate::inbound::{InboundNote, InboundRow, InboundStatus};
use tokio_postgres::Row;

const COLUMNS: &str = "source, external_id, code, status, reason, attempts, first_at, last_at";

fn row(r: &Row) -> Result<InboundRow> {
    let status: String = r.get(3);
    Ok(InboundRow {
        source: r.get(0),
        external_id: r.get(1),
        code: r.get(2),
        status: InboundStatus::parse(&status).ok_or_else(|| corrupt(&status))?,
        reason: r.get(4),
        attempts: u32::try_from(r.get::<_, i32>(5)).map_err(corrupt)?,
        first_at: r.get(6),
        last_at: r.get(7),
    })
}

impl PgStore {
    pub(crate) async fn note_inbound(&self, n: InboundNote) -> Result<InboundRow> {
        let reject_after = i32::try_from(n.reject_after).unwrap_or(i32::MAX);
        let status = if n.rejected || n.reject_after == 1 {
            "rejected"
        } else {
            "failing"
        };
        let rows = self
            .query(
                &format!(
                    "INSERT INTO inbound ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, 1, $6, $6)
                     ON CONFLICT (source, external_id) DO UPDATE SET
                         code = excluded.code,
                         reason = excluded.reason,
                         attempts = inbound.attempts + 1,
                         last_at = excluded.last_at,
                         status = CASE
                             WHEN inbound.status = 'rejected' OR excluded.status = 'rejected'
                                  OR ($7 > 0 AND inbound.attempts + 1 >= $7) THEN 'rejected'
                             ELSE 'failing' END
                     RETURNING {COLUMNS}"
                ),
                &[
                    &n.source,
                    &n.external_id,
                    &n.code,
                    &status,
                    &n.reason,
                    &n.at,
                    &reject_after,
                ],
            )
            .await?;
        rows.first()
            .map(row)
            .ok_or_else(|| corrupt("inbound row not returned"))?
    }

    pub(crate) async fn inbound(&self, source: &str, id: &str) -> Result<Option<InboundRow>> {
        self.query_opt(
            &format!("SELECT {COLUMNS} FROM inbound WHERE source = $1 AND external_id = $2"),
            &[&source, &id],
        )
        .await?
        .map(|r| row(&r))
        .transpose()
    }

    pub(crate) async fn inbound_list(&self, limit: u32) -> Result<Vec<InboundRow>> {
        let limit = i64::from(limit.min(1000));
        self.query(
            &format!("SELECT {COLUMNS} FROM inbound ORDER BY last_at DESC, external_id LIMIT $1"),
            &[&limit],
        )
        .await?
        .iter()
        .map(row)
        .collect()
    }

    pub(crate) async fn idempotent_dossier(
        &self,
        actor: uuid::Uuid,
        key: &str,
    ) -> Result<Option<uuid::Uuid>> {
        Ok(self
            .query_opt(
                "SELECT dossier_id FROM idempotency WHERE actor = $1 AND key = $2",
                &[&actor, &key],
            )
            .await?
            .map(|r| r.get(0)))
    }

    pub(crate) async fn clear_inbound(&self, source: String, id: String) -> Result<()> {
        self.query(
            "DELETE FROM inbound WHERE source = $1 AND external_id = $2",
            &[&source, &id],
        )
        .await
        .map(|_| ())
    }
}
