//! Statistics reads: counter sums over spans of dates, in one statement (one snapshot).

use super::{PgStore, pg_err};
use crate::{CounterRow, CounterSpan, Result};
use chrono::NaiveDate;
use motcua_domain::codes::AgencyCode;

impl PgStore {
    pub(crate) async fn sum_counter_spans(
        &self,
        agencies: &[AgencyCode],
        spans: &[CounterSpan],
    ) -> Result<Vec<(usize, CounterRow)>> {
        let agencies: Vec<String> = agencies.iter().map(|a| a.to_string()).collect();
        let from: Vec<NaiveDate> = spans.iter().map(|s| s.from).collect();
        let to: Vec<NaiveDate> = spans.iter().map(|s| s.to).collect();
        let lo: Vec<String> = spans.iter().map(|s| s.metric_prefix.clone()).collect();
        let hi: Vec<String> = spans.iter().map(|s| s.metric_end()).collect();
        // Span by span (a lateral subquery: one range scan per agency and span, where a join
        // let the planner pick a sequential scan of every counter), the folded rows of shard 0
        // through their covering index without a heap visit, and the rows writers still spread
        // over shards 1-16 through the index of those alone (decision 0037). Summed in a hash
        // table: the planner, which cannot know how many rows a span holds, would sort them.
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg_err)?;
        tx.batch_execute("SET LOCAL enable_sort = off")
            .await
            .map_err(pg_err)?;
        let st = tx
            .prepare_cached(
                "SELECT s.i::int8, x.agency, x.metric, x.v
                 FROM unnest($2::date[], $3::date[], $4::text[], $5::text[]) WITH ORDINALITY AS s(f, t, lo, hi, i)
                 CROSS JOIN LATERAL (
                    SELECT u.agency, u.metric, sum(u.value)::int8 AS v FROM (
                        SELECT c.agency, c.metric, c.value FROM counters c
                        WHERE c.shard = 0 AND c.agency = ANY($1::text[]) AND c.day >= s.f AND c.day <= s.t
                          AND c.metric >= (s.lo COLLATE \"C\") AND c.metric < (s.hi COLLATE \"C\")
                        UNION ALL
                        SELECT c.agency, c.metric, c.value FROM counters c
                        WHERE c.shard > 0 AND c.agency = ANY($1::text[]) AND c.day >= s.f AND c.day <= s.t
                          AND c.metric >= (s.lo COLLATE \"C\") AND c.metric < (s.hi COLLATE \"C\")) u
                    GROUP BY u.agency, u.metric) x",
            )
            .await
            .map_err(pg_err)?;
        let rows = tx
            .query(&st, &[&agencies, &from, &to, &lo, &hi])
            .await
            .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.get::<_, i64>(0) as usize - 1,
                    CounterRow {
                        agency: r.get(1),
                        metric: r.get(2),
                        value: r.get(3),
                    },
                )
            })
            .collect())
    }
}

impl PgStore {
    /// Recomputes every counter from the event logs and brings the stored ones to those values
    /// (only keys that differ are written), in one transaction that locks the counters against
    /// writers. Refuses if a log does not replay.
    pub(crate) async fn rebuild_counters(&self) -> Result<crate::RebuildReport> {
        let mut conn = self.conn().await?;
        let tx = conn
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .start()
            .await
            .map_err(pg_err)?;
        // Writers append events and bump counters in one transaction: holding this lock from
        // before our snapshot means no commit slips between the logs we read and the rows we write.
        tx.batch_execute("LOCK TABLE counters IN EXCLUSIVE MODE")
            .await
            .map_err(pg_err)?;
        let started = std::time::Instant::now();
        let folded = fold_logs(&tx).await?;
        let fold_secs = (started.elapsed() - folded.merge).as_secs_f64();
        let written = std::time::Instant::now();
        // Only the keys whose sum differs are rewritten: every shard of such a key goes and the
        // logs' value comes back in shard 0 (a consistent database reads its sums and writes
        // nothing).
        let stored = stored_sums(&tx).await?;
        let mut stored = stored.into_iter();
        let mut changed: Vec<(String, NaiveDate, String, i64)> = Vec::new();
        crate::rebuild::diff(
            &folded,
            || Ok(stored.next()),
            |a, d, m, _, v| {
                changed.push((a.into(), d, m.into(), v));
                Ok(())
            },
        )?;
        let del = tx
            .prepare(
                "DELETE FROM counters c USING UNNEST($1::text[], $2::date[], $3::text[]) AS t(a, d, m)
                 WHERE c.agency = t.a AND c.day = t.d AND c.metric = t.m",
            )
            .await
            .map_err(pg_err)?;
        let ins = tx
            .prepare(
                "INSERT INTO counters (agency, day, metric, shard, value)
                 SELECT t.a, t.d, t.m, 0, t.v FROM UNNEST($1::text[], $2::date[], $3::text[], $4::int8[]) AS t(a, d, m, v)
                 WHERE t.v <> 0",
            )
            .await
            .map_err(pg_err)?;
        for chunk in changed.chunks(10_000) {
            let a: Vec<&str> = chunk.iter().map(|r| r.0.as_str()).collect();
            let d: Vec<NaiveDate> = chunk.iter().map(|r| r.1).collect();
            let m: Vec<&str> = chunk.iter().map(|r| r.2.as_str()).collect();
            let v: Vec<i64> = chunk.iter().map(|r| r.3).collect();
            tx.execute(&del, &[&a, &d, &m]).await.map_err(pg_err)?;
            tx.execute(&ins, &[&a, &d, &m, &v]).await.map_err(pg_err)?;
        }
        tx.commit().await.map_err(pg_err)?;
        Ok(crate::RebuildReport {
            dossiers: folded.dossiers,
            events: folded.events,
            counter_rows: folded.len() as u64,
            changed_rows: changed.len() as u64,
            fold_secs,
            merge_secs: folded.merge.as_secs_f64(),
            write_secs: written.elapsed().as_secs_f64(),
        })
    }
}

/// Every counter key's sum over its shards, in the byte order ("C") of the folded rows.
///
/// The rows are read as stored and summed and sorted here: PostgreSQL's `GROUP BY ... ORDER BY
/// ... COLLATE "C"` over 1.39 million rows spilled to disk under the default `work_mem` and
/// took 2.3 s of a 5.1-5.6 s rebuild (100,000 realistic dossiers), more with the memory to sort
/// in place (one process instead of three).
async fn stored_sums(
    tx: &tokio_postgres::Transaction<'_>,
) -> Result<Vec<crate::rebuild::StoredRow>> {
    let rows = tx
        .query("SELECT agency, day, metric, value FROM counters", &[])
        .await
        .map_err(pg_err)?
        .into_iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    Ok(sum_shards(rows))
}

/// `rows` sorted by key (agency and metric by their bytes, as `COLLATE "C"` orders them), each
/// key once with the sum of its rows.
fn sum_shards(mut rows: Vec<crate::rebuild::StoredRow>) -> Vec<crate::rebuild::StoredRow> {
    rows.sort_unstable_by(|a, b| (&a.0, a.1, &a.2).cmp(&(&b.0, b.1, &b.2)));
    rows.dedup_by(|later, kept| {
        let same = (&later.0, later.1, &later.2) == (&kept.0, kept.1, &kept.2);
        if same {
            kept.3 += later.3;
        }
        same
    });
    rows
}

impl PgStore {
    /// The statistics part of `verify`, on all cores: folds every log as the rebuild does and
    /// compares the result with the stored counters (a key's shards summed), both read in one
    /// repeatable-read snapshot. Fails (naming the first dossiers) if a log does not replay.
    pub(crate) async fn verify_counters(&self) -> Result<crate::VerifyReport> {
        let mut conn = self.conn().await?;
        let tx = conn
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(pg_err)?;
        let folded = fold_logs(&tx).await?;
        let mut stored = stored_sums(&tx).await?.into_iter();
        tx.commit().await.map_err(pg_err)?;
        let mut problems = Vec::new();
        crate::rebuild::diff(
            &folded,
            || Ok(stored.next()),
            |a, d, m, s, v| {
                problems.push(crate::rebuild::counter_problem(a, d, m, s, v));
                Ok(())
            },
        )?;
        Ok(crate::VerifyReport {
            dossiers: folded.dossiers,
            events: folded.events,
            problems,
        })
    }
}

/// Reads every log once, in (dossier, seq) order, in `tx`'s snapshot, and folds them on all
/// cores (see `crate::rebuild`).
async fn fold_logs(tx: &tokio_postgres::Transaction<'_>) -> Result<crate::rebuild::Folded> {
    let st = tx
        .prepare("SELECT dossier_id, seq, body FROM events ORDER BY dossier_id, seq")
        .await
        .map_err(pg_err)?;
    let portal = tx.bind(&st, &[]).await.map_err(pg_err)?;
    let folder = crate::rebuild::Folder::start();
    let sender = folder
        .sender()
        .ok_or_else(|| crate::StoreError::Backend("the rebuild has finished".into()))?;
    let mut batch = folder.batch();
    let mut current: Option<uuid::Uuid> = None;
    loop {
        let page = tx.query_portal(&portal, 4096).await.map_err(pg_err)?;
        if page.is_empty() {
            break;
        }
        for r in page {
            let id: uuid::Uuid = r.get(0);
            let seq = r.get::<_, i64>(1) as u64;
            if current != Some(id) {
                // A new dossier: the one before is whole.
                if batch.dossiers() >= crate::rebuild::BATCH {
                    let full = std::mem::replace(&mut batch, folder.batch());
                    hand_over(&sender, full).await?;
                }
                batch.begin(id);
                current = Some(id);
            }
            batch.push(seq, r.get(2), None);
        }
    }
    if batch.dossiers() > 0 {
        hand_over(&sender, batch).await?;
    }
    drop(sender);
    tokio::task::spawn_blocking(move || folder.finish())
        .await
        .map_err(|e| crate::StoreError::Backend(e.to_string()))?
}

/// Sends a batch to the rebuild workers without blocking the async runtime: while they are all
/// busy, waits a little and tries again.
async fn hand_over(
    tx: &crossbeam_channel::Sender<crate::rebuild::Batch>,
    mut batch: crate::rebuild::Batch,
) -> Result<()> {
    loop {
        match tx.try_send(batch) {
            Ok(()) => return Ok(()),
            Err(crossbeam_channel::TrySendError::Full(b)) => {
                batch = b;
                tokio::time::sleep(std::time::Duration::from_micros(500)).await;
            }
            Err(crossbeam_channel::TrySendError::Disconnected(_)) => {
                return Err(crate::StoreError::Backend(
                    "the rebuild workers stopped".into(),
                ));
            }
        }
    }
}

impl PgStore {
    /// Received, unfinished dossiers of `agencies` whose appointment is at or before `until`,
    /// soonest first.
    pub(crate) async fn due_soon(
        &self,
        agencies: &[AgencyCode],
        until: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<Vec<crate::DossierSummary>> {
        let agencies: Vec<String> = agencies.iter().map(|a| a.to_string()).collect();
        let limit = limit.clamp(1, 200) as i64;
        self.query(
            "SELECT id, code, procedure_code, procedure_name, applicant_name, status, national_status,
                    receiving_agency, current_agency, submitted_at, due_at, version
             FROM dossiers
             WHERE competent_agency = ANY($1::text[]) AND finished_at IS NULL AND due_at IS NOT NULL
               AND due_at <= $2 AND received_at IS NOT NULL
             ORDER BY due_at LIMIT $3",
            &[&agencies, &until, &limit],
        )
        .await?
        .into_iter()
        .map(|r| {
            let status: &str = r.get(5);
            Ok(crate::DossierSummary {
                id: r.get(0),
                code: r.get(1),
                procedure_code: r.get(2),
                procedure_name: r.get(3),
                applicant_name: r.get(4),
                status: motcua_domain::status::Status::parse(status)
                    .ok_or_else(|| super::corrupt(status))?,
                national_status: r.get::<_, i16>(6) as u8,
                receiving_agency: r.get(7),
                current_agency: r.get(8),
                submitted_at: r.get(9),
                due_at: r.get(10),
                version: r.get::<_, i64>(11) as u64,
            })
        })
        .collect()
    }
}

/// One agency's fold (see [`crate::Store::fold_counters`]): the shard rows (> 0) of the closed
/// ranges, locked unless a writer holds them, deleted and summed into shard 0 in one statement.
/// It never waits for a writer (writers keep to shards 1-16 and skipped rows are left for next
/// time), so the two cannot deadlock.
const FOLD: &str = "WITH s AS (
        SELECT c.day, c.metric, c.shard FROM counters c
        JOIN unnest($2::date[], $3::date[]) AS r(lo, hi) ON c.day >= r.lo AND c.day < r.hi
        WHERE c.agency = $1 AND c.shard > 0
        FOR UPDATE OF c SKIP LOCKED),
    moved AS (
        DELETE FROM counters c USING s
        WHERE c.agency = $1 AND c.day = s.day AND c.metric = s.metric AND c.shard = s.shard
        RETURNING c.day, c.metric, c.value),
    folded AS (
        INSERT INTO counters (agency, day, metric, shard, value)
        SELECT $1, day, metric, 0, sum(value)::int8 FROM moved GROUP BY day, metric
        ON CONFLICT (agency, day, metric, shard) DO UPDATE SET value = counters.value + excluded.value)
    SELECT count(*)::int8 FROM moved";

impl PgStore {
    pub(crate) async fn fold_counters(&self, ranges: &[(NaiveDate, NaiveDate)]) -> Result<u64> {
        if ranges.is_empty() {
            return Ok(0);
        }
        let lo: Vec<NaiveDate> = ranges.iter().map(|r| r.0).collect();
        let hi: Vec<NaiveDate> = ranges.iter().map(|r| r.1).collect();
        // Agencies from the counters themselves (a loose index scan: one probe per agency), so
        // an agency removed from the directory still gets its rows folded.
        let agencies: Vec<String> = self
            .query(
                "WITH RECURSIVE a(code) AS (
                    (SELECT agency FROM counters ORDER BY agency LIMIT 1)
                    UNION ALL
                    SELECT (SELECT agency FROM counters WHERE agency > a.code ORDER BY agency LIMIT 1)
                    FROM a WHERE a.code IS NOT NULL)
                 SELECT code FROM a WHERE code IS NOT NULL",
                &[],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut removed = 0u64;
        for a in &agencies {
            // One agency a transaction (the statement's own): locks are held briefly.
            let row = self.query_opt(FOLD, &[a, &lo, &hi]).await?;
            if let Some(r) = row {
                removed += r.get::<_, i64>(0) as u64;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::sum_shards;
    use chrono::NaiveDate;

    /// Shards of one key are summed, and keys come in byte order (a metric with `Đ` after one
    /// with `Z`, as `COLLATE "C"` puts them and the fold does), then by day.
    #[test]
    fn shards_are_summed_in_byte_order() {
        let d = |n| NaiveDate::from_ymd_opt(2026, 1, n).unwrap();
        let row = |a: &str, day, m: &str, v| (a.to_string(), day, m.to_string(), v);
        let rows = vec![
            row("H40", d(2), "Đ|x", 1),
            row("H40", d(2), "Z|x", 2),
            row("H40", d(1), "Z|x", 3),
            row("H40", d(2), "Đ|x", 4),
            row("G01", d(9), "a", 5),
            row("H40", d(2), "Z|x", -2),
        ];
        assert_eq!(
            sum_shards(rows),
            vec![
                row("G01", d(9), "a", 5),
                row("H40", d(1), "Z|x", 3),
                row("H40", d(2), "Z|x", 0),
                row("H40", d(2), "Đ|x", 5),
            ]
        );
    }
}
