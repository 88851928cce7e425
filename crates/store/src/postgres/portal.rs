//! `portal_synced` on PostgreSQL (see `crate::portal`).

use super::{PgStore, pg_err};
use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::codes::AgencyCode;

/// Records the dossiers (codes) whose sync message was just acknowledged, once each, in the
/// acknowledging transaction.
pub(super) async fn record_synced(
    tx: &deadpool_postgres::Transaction<'_>,
    dossiers: &[String],
    now: DateTime<Utc>,
) -> Result<()> {
    if dossiers.is_empty() {
        return Ok(());
    }
    // One statement for the whole acknowledged batch (a round trip per dossier made an
    // acknowledgement of 256 messages take ~290 ms). The local day is Asia/Ho_Chi_Minh's, UTC+7
    // all year, as `crate::outbox::local_day` computes it.
    let put = tx
        .prepare_cached(
            "INSERT INTO portal_synced (dossier, agency, received_day, acked_at)
             SELECT d.code, d.competent_agency,
                    ((d.received_at AT TIME ZONE 'UTC') + interval '7 hours')::date, $2
             FROM dossiers d
             WHERE d.code = ANY($1::text[]) AND d.received_at IS NOT NULL
             ON CONFLICT (dossier) DO NOTHING",
        )
        .await
        .map_err(pg_err)?;
    tx.execute(&put, &[&dossiers, &now]).await.map_err(pg_err)?;
    Ok(())
}

impl PgStore {
    pub(crate) async fn portal_synced(
        &self,
        agencies: &[AgencyCode],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(String, i64)>> {
        let agencies: Vec<String> = agencies.iter().map(|a| a.to_string()).collect();
        let rows = self
            .query(
                "SELECT agency, count(*) FROM portal_synced
                 WHERE agency = ANY($1) AND received_day >= $2 AND received_day <= $3
                 GROUP BY agency",
                &[&agencies, &from, &to],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)))
            .collect())
    }

    pub(crate) async fn check_portal_synced(&self) -> Result<Vec<String>> {
        let rows = self
            .query(
                "SELECT p.dossier, p.agency, p.received_day, d.competent_agency, d.received_at
                 FROM portal_synced p LEFT JOIN dossiers d ON d.code = p.dossier",
                &[],
            )
            .await?;
        let checked = rows
            .iter()
            .map(|r| {
                let competent: Option<String> = r.get(3);
                let received: Option<DateTime<Utc>> = r.get(4);
                (
                    r.get::<_, String>(0),
                    r.get::<_, String>(1),
                    r.get::<_, NaiveDate>(2),
                    competent.and_then(|a| crate::portal::key_of(a, received)),
                )
            })
            .collect();
        let missing = self
            .query(
                "SELECT DISTINCT o.part FROM outbox o
                 WHERE o.topic = $1 AND o.status = 'done'
                   AND NOT EXISTS (SELECT 1 FROM portal_synced p WHERE p.dossier = o.part)",
                &[&crate::portal::TOPIC],
            )
            .await?
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect();
        Ok(crate::portal::problems(checked, missing))
    }
}
