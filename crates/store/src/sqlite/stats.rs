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

impl SqliteStore {
    /// Recomputes every counter from the event logs and replaces the stored ones, in one
    /// transaction on the writer (writes wait meanwhile). Refuses if a log does not check out.
    pub(crate) async fn rebuild_counters(&self) -> Result<crate::RebuildReport> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.admin(move |c| {
            let mut problems = Vec::new();
            let mut implied: std::collections::BTreeMap<(String, String, String), i64> =
                Default::default();
            let mut dossiers = 0u64;
            let mut events = 0u64;
            super::each_log(c, |uid, log, state| {
                dossiers += 1;
                events += log.len() as u64;
                for d in crate::plan::check_log(uid, &log, &state, &mut problems) {
                    *implied
                        .entry((d.agency.to_string(), d.day.to_string(), d.metric))
                        .or_default() += d.delta;
                }
                Ok(())
            })?;
            if !problems.is_empty() {
                return Err(crate::StoreError::Corrupt(format!(
                    "{} problems in the logs (run `motcua verify`); counters left as they were",
                    problems.len()
                )));
            }
            c.execute("DELETE FROM counters", []).map_err(db_err)?;
            let mut ins = c
                .prepare_cached(
                    "INSERT INTO counters (agency, day, metric, value) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(db_err)?;
            let mut rows = 0u64;
            for ((a, d, m), v) in implied.into_iter().filter(|(_, v)| *v != 0) {
                ins.execute(params![a, d, m, v]).map_err(db_err)?;
                rows += 1;
            }
            let _ = tx.send(crate::RebuildReport {
                dossiers,
                events,
                counter_rows: rows,
            });
            Ok(())
        })
        .await?;
        rx.await
            .map_err(|_| crate::StoreError::Backend("the rebuild did not report".into()))
    }
}

impl SqliteStore {
    /// Received, unfinished dossiers of `agencies` whose appointment is at or before `until`,
    /// soonest first.
    pub(crate) async fn due_soon(
        &self,
        agencies: &[AgencyCode],
        until: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<Vec<crate::DossierSummary>> {
        let agencies: Vec<String> = agencies.iter().map(|a| a.to_string()).collect();
        let limit = limit.clamp(1, 200) as usize;
        self.read_blocking(move |c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {} FROM dossiers
                     WHERE competent_agency = ?1 AND finished_at IS NULL AND due_at IS NOT NULL
                       AND due_at <= ?2 AND received_at IS NOT NULL
                     ORDER BY due_at LIMIT ?3",
                    super::SUMMARY_COLUMNS
                ))
                .map_err(db_err)?;
            let mut out = Vec::new();
            for a in &agencies {
                let rows = st
                    .query_map(
                        params![a, super::ts(until), limit as i64],
                        super::summary_row,
                    )
                    .map_err(db_err)?;
                for r in rows {
                    out.push(super::summary(r.map_err(db_err)?)?);
                }
            }
            out.sort_by_key(|d| d.due_at);
            out.truncate(limit);
            Ok(out)
        })
        .await
    }
}
