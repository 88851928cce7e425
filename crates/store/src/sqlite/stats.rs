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
    /// Recomputes every counter from the event logs and brings the stored ones to those values,
    /// in one transaction on the writer (writes wait meanwhile). The writer's connection reads
    /// the logs once in dossier order (it sees its own batch's uncommitted writes, which another
    /// connection would miss) and worker threads fold them (see `crate::rebuild`). Only rows that
    /// differ are written. Refuses if a log does not replay.
    pub(crate) async fn rebuild_counters(&self) -> Result<crate::RebuildReport> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.admin(move |c| {
            let started = std::time::Instant::now();
            let folder = crate::rebuild::Folder::start();
            stream_logs(c, &folder)?;
            let folded = folder.finish()?;
            let fold_secs = (started.elapsed() - folded.merge).as_secs_f64();
            let written = std::time::Instant::now();
            let changed = write_counters(c, &folded)?;
            let _ = tx.send(crate::RebuildReport {
                dossiers: folded.dossiers,
                events: folded.events,
                counter_rows: folded.len() as u64,
                changed_rows: changed,
                fold_secs,
                merge_secs: folded.merge.as_secs_f64(),
                write_secs: written.elapsed().as_secs_f64(),
            });
            Ok(())
        })
        .await?;
        rx.await
            .map_err(|_| crate::StoreError::Backend("the rebuild did not report".into()))
    }
}

/// Brings the stored counters to `folded`'s rows; returns how many rows it inserted, updated or
/// deleted. The stored rows are read once in key order beside the folded ones (a consistent
/// database reads a million rows and writes none); the changes are written after the read.
fn write_counters(c: &rusqlite::Connection, folded: &crate::rebuild::Folded) -> Result<u64> {
    let mut upserts: Vec<(String, String, String, i64)> = Vec::new();
    let mut deletes: Vec<(String, String, String)> = Vec::new();
    walk_stored(c, folded, |a, d, m, _, v| {
        // The logs give 0 where a row is stored: the row goes.
        if v == 0 {
            deletes.push((a.into(), d.to_string(), m.into()));
        } else {
            upserts.push((a.into(), d.to_string(), m.into(), v));
        }
        Ok(())
    })?;
    let mut del = c
        .prepare_cached("DELETE FROM counters WHERE agency = ?1 AND day = ?2 AND metric = ?3")
        .map_err(db_err)?;
    for (a, d, m) in &deletes {
        del.execute(params![a, d, m]).map_err(db_err)?;
    }
    let mut up = c
        .prepare_cached(
            "INSERT INTO counters (agency, day, metric, value) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (agency, day, metric) DO UPDATE SET value = excluded.value",
        )
        .map_err(db_err)?;
    for (a, d, m, v) in &upserts {
        up.execute(params![a, d, m, v]).map_err(db_err)?;
    }
    Ok((deletes.len() + upserts.len()) as u64)
}

/// Reads the stored counters in key order beside `folded`'s rows and hands each difference to
/// `f` (see `crate::rebuild::diff`).
fn walk_stored(
    c: &rusqlite::Connection,
    folded: &crate::rebuild::Folded,
    f: impl FnMut(&str, chrono::NaiveDate, &str, i64, i64) -> Result<()>,
) -> Result<()> {
    let mut st = c
        .prepare("SELECT agency, day, metric, value FROM counters ORDER BY agency, day, metric")
        .map_err(db_err)?;
    let mut rows = st.query([]).map_err(db_err)?;
    let read = |row: &mut crate::rebuild::StoredRow| -> Result<bool> {
        let Some(r) = rows.next().map_err(db_err)? else {
            return Ok(false);
        };
        row.0.clear();
        row.0.push_str(text(r, 0)?);
        let day = text(r, 1)?;
        row.1 = motcua_domain::instant::day(day)
            .ok_or_else(|| crate::StoreError::Corrupt(format!("counter with a bad day {day}")))?;
        row.2.clear();
        row.2.push_str(text(r, 2)?);
        row.3 = r.get(3).map_err(db_err)?;
        Ok(true)
    };
    crate::rebuild::diff_into(folded, read, f)
}

/// Column `i` of `r` as text.
fn text<'r>(r: &'r rusqlite::Row, i: usize) -> Result<&'r str> {
    r.get_ref(i)
        .map_err(db_err)?
        .as_str()
        .map_err(|e| crate::StoreError::Corrupt(format!("a counter's column {i}: {e}")))
}

impl SqliteStore {
    /// The statistics part of `verify`, on all cores: folds every log as the rebuild does and
    /// compares the result with the stored counters, both read in one snapshot. Fails (naming
    /// the first dossiers) if a log does not replay.
    pub(crate) async fn verify_counters(&self) -> Result<crate::VerifyReport> {
        self.read_blocking(|c| {
            let tx = c.unchecked_transaction().map_err(db_err)?;
            let folder = crate::rebuild::Folder::start();
            stream_logs(&tx, &folder)?;
            let folded = folder.finish()?;
            let mut problems = Vec::new();
            walk_stored(&tx, &folded, |a, d, m, s, v| {
                problems.push(crate::rebuild::counter_problem(a, d, m, s, v));
                Ok(())
            })?;
            tx.commit().map_err(db_err)?;
            Ok(crate::VerifyReport {
                dossiers: folded.dossiers,
                events: folded.events,
                problems,
            })
        })
        .await
    }
}

/// Reads every event once, in (dossier, seq) order, and hands whole dossiers to `folder`'s
/// workers in batches of `crate::rebuild::BATCH`, filling the batches they give back.
/// Compacted events come with their procedure snapshot's JSON (each read once), which the
/// workers parse once each.
fn stream_logs(c: &rusqlite::Connection, folder: &crate::rebuild::Folder) -> Result<()> {
    use crate::rebuild::BATCH;
    let mut snaps: std::collections::HashMap<i64, std::sync::Arc<str>> = Default::default();
    let mut st = c
        .prepare("SELECT dossier_id, seq, body, snap, snap_at FROM events ORDER BY dossier_id, seq")
        .map_err(db_err)?;
    let mut rows = st.query([]).map_err(db_err)?;
    let mut batch = folder.batch();
    // The dossier being read (its id as stored), and LZ4's output before it is checked.
    let (mut current, mut scratch) = (String::new(), Vec::new());
    while let Some(r) = rows.next().map_err(db_err)? {
        let id = text(r, 0)?;
        let seq: i64 = r.get(1).map_err(db_err)?;
        if id != current || batch.dossiers() == 0 {
            // A new dossier: the one before is whole.
            if batch.dossiers() >= BATCH {
                folder.send(std::mem::replace(&mut batch, folder.batch()))?;
            }
            let parsed = id.parse().map_err(|e| {
                crate::StoreError::Corrupt(format!(
                    "event log of a dossier with a bad id {id}: {e}"
                ))
            })?;
            batch.begin(parsed);
            current.clear();
            current.push_str(id);
        }
        let snap: Option<i64> = r.get(3).map_err(db_err)?;
        let at: Option<i64> = r.get(4).map_err(db_err)?;
        let snap = match (snap, at) {
            (Some(sid), Some(at)) => {
                let text = match snaps.get(&sid) {
                    Some(t) => t.clone(),
                    None => {
                        let text: String = c
                            .prepare_cached("SELECT body FROM snapshots WHERE id = ?1")
                            .map_err(db_err)?
                            .query_row([sid], |r| r.get(0))
                            .map_err(|e| {
                                crate::StoreError::Corrupt(format!(
                                    "procedure snapshot {sid} is missing: {e}"
                                ))
                            })?;
                        let text: std::sync::Arc<str> = text.into();
                        snaps.insert(sid, text.clone());
                        text
                    }
                };
                let at = usize::try_from(at).map_err(|_| {
                    crate::StoreError::Corrupt(format!(
                        "dossier {current}: event {seq}: bad snapshot position {at}"
                    ))
                })?;
                Some((sid, at, text))
            }
            _ => None,
        };
        let body = r.get_ref(2).map_err(db_err)?;
        batch
            .push_with(seq as u64, snap, |out| {
                super::packed::unpack_into(body, out, &mut scratch)
            })
            .map_err(|e| {
                crate::StoreError::Corrupt(format!("dossier {current}: event {seq}: {e}"))
            })?;
    }
    if batch.dossiers() > 0 {
        folder.send(batch)?;
    }
    Ok(())
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
