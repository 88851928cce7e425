//! Statistics reads: counter sums over spans of dates, in one read transaction.

use super::SqliteStore;
use super::writer::db_err;
use crate::{CounterRow, CounterSpan, Result};
use motcua_domain::codes::AgencyCode;
use rusqlite::params;

impl SqliteStore {
    pub(crate) async fn sum_counter_spans(
        &self,
        agencies: &[AgencyCode],
        spans: &[CounterSpan],
    ) -> Result<Vec<(usize, CounterRow)>> {
        let agencies: Vec<String> = agencies.iter().map(|a| a.to_string()).collect();
        let spans = spans.to_vec();
        self.read_blocking(move |c| {
            // One snapshot for every span: the carried-over stock and the period's flows must
            // see the same commits.
            let tx = c.unchecked_transaction().map_err(db_err)?;
            let mut out = Vec::new();
            {
                let mut st = tx
                    .prepare_cached(
                        "SELECT metric, sum(value) FROM counters
                         WHERE agency = ?1 AND day >= ?2 AND day <= ?3 AND metric >= ?4 AND metric < ?5
                         GROUP BY metric",
                    )
                    .map_err(db_err)?;
                for (i, span) in spans.iter().enumerate() {
                    let end = span.metric_end();
                    for a in &agencies {
                        let rows = st
                            .query_map(
                                params![
                                    a,
                                    span.from.to_string(),
                                    span.to.to_string(),
                                    span.metric_prefix,
                                    end
                                ],
                                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
                            )
                            .map_err(db_err)?;
                        for r in rows {
                            let (metric, value) = r.map_err(db_err)?;
                            out.push((
                                i,
                                CounterRow {
                                    agency: a.clone(),
                                    metric,
                                    value,
                                },
                            ));
                        }
                    }
                }
            }
            tx.commit().map_err(db_err)?;
            Ok(out)
        })
        .await
    }
}
