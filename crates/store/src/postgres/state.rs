//! Integration state on PostgreSQL (migration 21).

use super::{PgStore, pg_err};
use crate::Result;
use crate::state::StateEntry;

impl PgStore {
    pub(crate) async fn state(&self, name: &str) -> Result<Option<StateEntry>> {
        Ok(self
            .query_opt(
                "SELECT value, version, updated_at FROM integration_state WHERE name = $1",
                &[&name],
            )
            .await?
            .map(|r| StateEntry {
                value: r.get(0),
                version: r.get(1),
                updated_at: r.get(2),
            }))
    }

    pub(crate) async fn swap_state(
        &self,
        name: &str,
        expected: Option<i64>,
        value: &str,
    ) -> Result<bool> {
        let c = self.conn().await?;
        let n = match expected {
            None => {
                let st = c
                    .prepare_cached(
                        "INSERT INTO integration_state (name, value, version, updated_at)
                         VALUES ($1, $2, 1, now()) ON CONFLICT (name) DO NOTHING",
                    )
                    .await
                    .map_err(pg_err)?;
                c.execute(&st, &[&name, &value]).await
            }
            Some(v) => {
                let st = c
                    .prepare_cached(
                        "UPDATE integration_state SET value = $2, version = version + 1,
                             updated_at = now()
                         WHERE name = $1 AND version = $3",
                    )
                    .await
                    .map_err(pg_err)?;
                c.execute(&st, &[&name, &value, &v]).await
            }
        }
        .map_err(pg_err)?;
        Ok(n > 0)
    }
}
