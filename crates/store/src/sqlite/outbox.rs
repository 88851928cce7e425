//! Outbox delivery on SQLite. Every change (claim, ack, fail, retry) runs on the writer thread,
//! on its background lane (decision 0029), so claims are serialised with each other and with the
//! event writes: two claimers in one process never lease the same message.
//!
//! Leases live in memory ([`Leases`]), not in the `outbox` rows: a SQLite database is owned by
//! one process, so a lease only has to outlive a delivery inside it, and a process that dies
//! takes its leases with it (exactly what an expired lease means). A claim thus writes nothing:
//! each message's row is written twice in its life (created, acknowledged) instead of three
//! times, and the lease check still runs on the writer thread, which sees every committed
//! acknowledgement and answers only after the fsync that made the claimed messages durable.
//! PostgreSQL, shared by several nodes, keeps its leases in the rows.

use super::packed::Raw;
use super::writer::db_err;
use super::{SqliteStore, corrupt, from_ts, ts};
use crate::outbox::{
    OutboxClaim, OutboxDay, OutboxDepth, OutboxEntry, OutboxFailure, OutboxQuery, OutboxStatus,
    local_day, local_day_start,
};
use crate::{Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::types::Value as V;
use rusqlite::{Connection, Row, params};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Messages leased to a claimer of this process: id -> (owner, lease end).
#[derive(Default)]
pub(super) struct Leases(HashMap<i64, (String, DateTime<Utc>)>);

impl Leases {
    /// Whether `id` is leased to anyone at `now`.
    fn held(&self, id: i64, now: DateTime<Utc>) -> bool {
        self.0.get(&id).is_some_and(|(_, until)| *until >= now)
    }

    /// Whether `owner` holds (or last held, unless someone took it over) the lease on `id`.
    fn owned_by(&self, id: i64, owner: &str) -> bool {
        self.0.get(&id).is_some_and(|(o, _)| o == owner)
    }
}

const COLUMNS: &str = "id, topic, key, part, payload, attempts, status, created_at, next_attempt_at, last_error, acked_at";

/// A message's row: its payload still as stored (decoded by [`finish`], off the writer).
fn entry(r: &Row<'_>) -> rusqlite::Result<(OutboxEntry, Raw, String)> {
    Ok((
        OutboxEntry {
            id: r.get(0)?,
            topic: r.get(1)?,
            key: r.get(2)?,
            partition: r.get(3)?,
            payload: serde_json::Value::Null,
            attempts: r.get(5)?,
            status: OutboxStatus::Pending,
            created_at: from_ts(r.get(7)?),
            next_attempt_at: r.get::<_, Option<i64>>(8)?.map(from_ts),
            last_error: r.get(9)?,
            acked_at: r.get::<_, Option<i64>>(10)?.map(from_ts),
        },
        r.get(4)?,
        r.get(6)?,
    ))
}

fn finish(raw: (OutboxEntry, Raw, String)) -> Result<OutboxEntry> {
    let (mut e, payload, status) = raw;
    let payload = payload.text().map_err(corrupt)?;
    e.payload = serde_json::from_str(&payload).map_err(corrupt)?;
    e.status = OutboxStatus::parse(&status).ok_or_else(|| corrupt(&status))?;
    Ok(e)
}

/// Adds `n` to a daily figure of a target.
fn bump(c: &Connection, topic: &str, at: DateTime<Utc>, metric: &str, n: i64) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    c.prepare_cached(
        "INSERT INTO outbox_daily (topic, day, metric, value) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (topic, day, metric) DO UPDATE SET value = value + excluded.value",
    )
    .map_err(db_err)?
    .execute(params![topic, local_day(at).to_string(), metric, n])
    .map_err(db_err)?;
    Ok(())
}

impl SqliteStore {
    /// Runs `f` on the writer thread in its transaction and returns its value.
    pub(super) async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let slot = Arc::new(Mutex::new(None));
        let out = slot.clone();
        self.admin(move |c| {
            let v = f(c)?;
            if let Ok(mut s) = out.lock() {
                *s = Some(v);
            }
            Ok(())
        })
        .await?;
        let v = slot.lock().ok().and_then(|mut s| s.take());
        v.ok_or_else(|| StoreError::Backend("the writer returned no value".into()))
    }

    /// Like [`Self::write`], on the writer's background lane.
    async fn write_bg<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let slot = Arc::new(Mutex::new(None));
        let out = slot.clone();
        self.background(move |c| {
            let v = f(c)?;
            if let Ok(mut s) = out.lock() {
                *s = Some(v);
            }
            Ok(())
        })
        .await?;
        let v = slot.lock().ok().and_then(|mut s| s.take());
        v.ok_or_else(|| StoreError::Backend("the writer returned no value".into()))
    }

    pub(crate) async fn outbox_claim(&self, q: OutboxClaim) -> Result<Vec<OutboxEntry>> {
        let now = ts(q.now);
        // The search runs on a read connection in the caller's thread (the dispatcher's,
        // low-priority: decision 0029); the writer only leases what it found, by primary key,
        // re-checking that each is still pending, due and not leased. The order condition
        // cannot turn false meanwhile: a message is only ever written with a larger id than
        // every existing one, and `done` never goes back.
        // Leased messages are still `pending` in their rows: the search looks past as many as
        // are leased now and drops them, so a claim is not filled with messages in flight.
        // The ids leased when the search starts are dropped from what it finds even if their
        // lease is let go meanwhile (an acknowledgement committed during the search: the search
        // may still see those rows pending, and the writer would drop them on its re-read,
        // leaving the claim short; test O6).
        let held: std::collections::HashSet<i64> = match self.leases.lock() {
            Ok(l) => {
                l.0.iter()
                    .filter(|(_, (_, until))| *until >= q.now)
                    .map(|(id, _)| *id)
                    .collect()
            }
            Err(_) => return Err(StoreError::Backend("outbox leases poisoned".into())),
        };
        let (topic, limit) = (q.topic.clone(), q.limit as usize + held.len());
        let searched = std::time::Instant::now();
        let found: Vec<i64> = self
            .read_blocking(move |c| {
                // Two texts, so that a claim for one target walks that target's index only.
                let topic_filter = if topic.is_some() {
                    "o.topic = ?2"
                } else {
                    "?2 IS NULL"
                };
                let mut st = c
                    .prepare_cached(&format!(
                        "SELECT o.id FROM outbox o
                         WHERE {topic_filter} AND o.status = 'pending'
                           AND coalesce(o.next_attempt_at, 0) <= ?1
                           AND coalesce(o.lease_until, 0) < ?1
                           AND NOT EXISTS (SELECT 1 FROM outbox p
                                           WHERE p.topic = o.topic AND p.part = o.part
                                             AND p.id < o.id AND p.status <> 'done')
                         ORDER BY o.id LIMIT ?3"
                    ))
                    .map_err(db_err)?;
                let rows = st
                    .query_map(params![now, topic, limit as i64], |r| r.get(0))
                    .map_err(db_err)?;
                rows.map(|r| r.map_err(db_err)).collect()
            })
            .await?;
        metrics::histogram!("motcua_sqlite_outbox_search_seconds")
            .record(searched.elapsed().as_secs_f64());
        let found: Vec<i64> = match self.leases.lock() {
            Ok(l) => found
                .into_iter()
                .filter(|id| !held.contains(id) && !l.held(*id, q.now))
                .take(q.limit as usize)
                .collect(),
            Err(_) => return Err(StoreError::Backend("outbox leases poisoned".into())),
        };
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let leases = self.leases.clone();
        let (at, lease_end) = (q.now, q.now + q.lease);
        let raw = self
            .write_bg(move |c| {
                let mut leases = leases
                    .lock()
                    .map_err(|_| StoreError::Backend("outbox leases poisoned".into()))?;
                // Leases long run out (their delivery died with its task) are forgotten; one
                // just run out still tells whose late failure report counts (`owned_by`).
                let forget = at - chrono::Duration::hours(1);
                leases.0.retain(|_, (_, until)| *until >= forget);
                let mut st = c
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM outbox
                         WHERE id = ?1 AND status = 'pending'
                           AND coalesce(next_attempt_at, 0) <= ?2"
                    ))
                    .map_err(db_err)?;
                let mut out = Vec::with_capacity(found.len());
                for id in found {
                    if leases.held(id, at) {
                        continue;
                    }
                    let mut rows = st.query_map(params![id, now], entry).map_err(db_err)?;
                    if let Some(r) = rows.next() {
                        out.push(r.map_err(db_err)?);
                        leases.0.insert(id, (q.owner.clone(), lease_end));
                    }
                }
                Ok(out)
            })
            .await?;
        // Payloads are parsed here, off the writer thread.
        let mut out: Vec<OutboxEntry> = raw.into_iter().map(finish).collect::<Result<_>>()?;
        out.sort_by_key(|e| e.id);
        Ok(out)
    }

    pub(crate) async fn outbox_ack(&self, ids: Vec<i64>, now: DateTime<Utc>) -> Result<u64> {
        // The leases are let go only once the acknowledgement is committed. Let go earlier (in
        // the job, before its commit), a claim's search on a read connection would still see
        // the rows pending and no longer leased, fill its window with them, and have the writer
        // drop them all on its re-read: an empty claim, and the dispatcher pausing for nothing.
        let release = ids.clone();
        let n = self
            .write_bg(move |c| {
                let mut per_topic: BTreeMap<String, i64> = BTreeMap::new();
                let mut st = c
                    .prepare_cached(
                        "UPDATE outbox SET status = 'done', acked_at = ?2, lease_owner = NULL,
                        lease_until = NULL, next_attempt_at = NULL
                     WHERE id = ?1 AND status <> 'done' RETURNING topic, part",
                    )
                    .map_err(db_err)?;
                let mut synced = Vec::new();
                for id in ids {
                    let rows = st
                        .query_map(params![id, ts(now)], |r| {
                            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                        })
                        .map_err(db_err)?;
                    for row in rows {
                        let (t, part) = row.map_err(db_err)?;
                        if t == crate::portal::TOPIC {
                            synced.push(part);
                        }
                        *per_topic.entry(t).or_default() += 1;
                    }
                }
                drop(st);
                super::portal::record_synced(c, &synced, now)?;
                let mut n = 0;
                for (topic, k) in per_topic {
                    bump(c, &topic, now, "acked", k)?;
                    n += k as u64;
                }
                Ok(n)
            })
            .await?;
        // Acknowledged messages are `done`: no claim can take them again, whoever leased them.
        if let Ok(mut l) = self.leases.lock() {
            for id in &release {
                l.0.remove(id);
            }
        }
        Ok(n)
    }

    pub(crate) async fn outbox_fail(&self, f: OutboxFailure) -> Result<Option<OutboxStatus>> {
        let leases = self.leases.clone();
        let (id, owner) = (f.id, f.owner.clone());
        let status = self
            .write_bg(move |c| {
                {
                    let l = leases
                        .lock()
                        .map_err(|_| StoreError::Backend("outbox leases poisoned".into()))?;
                    // A report from a claimer that lost its lease changes nothing.
                    if !l.owned_by(f.id, &f.owner) {
                        return Ok(None);
                    }
                }
                let row: Option<(String, String)> = c
                    .prepare_cached(
                        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2,
                        lease_owner = NULL, lease_until = NULL,
                        status = CASE WHEN attempts + 1 >= ?3 THEN 'dead' ELSE 'pending' END,
                        next_attempt_at = ?4
                     WHERE id = ?1 AND status = 'pending'
                     RETURNING topic, status",
                    )
                    .map_err(db_err)?
                    .query_map(
                        params![f.id, f.error, f.max_attempts, ts(f.retry_at)],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .map_err(db_err)?
                    .next()
                    .transpose()
                    .map_err(db_err)?;
                let Some((topic, status)) = row else {
                    return Ok(None);
                };
                let status = OutboxStatus::parse(&status).ok_or_else(|| corrupt(&status))?;
                bump(c, &topic, f.now, "failed", 1)?;
                if status == OutboxStatus::Dead {
                    bump(c, &topic, f.now, "dead", 1)?;
                }
                Ok(Some(status))
            })
            .await?;
        // As for acknowledgements, the lease goes once the failure (its next attempt's time) is
        // committed, and only if it is still the reporter's: the lease held until now kept
        // every claim off the message meanwhile.
        if let Ok(mut l) = self.leases.lock()
            && l.owned_by(id, &owner)
        {
            l.0.remove(&id);
        }
        Ok(status)
    }

    pub(crate) async fn outbox_retry(
        &self,
        id: Option<i64>,
        topic: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        self.write(move |c| {
            let topics: Vec<String> = c
                .prepare_cached(
                    "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?3,
                        lease_owner = NULL, lease_until = NULL
                     WHERE status = 'dead' AND (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR topic = ?2)
                     RETURNING topic",
                )
                .map_err(db_err)?
                .query_map(params![id, topic, ts(now)], |r| r.get(0))
                .map_err(db_err)?
                .collect::<rusqlite::Result<_>>()
                .map_err(db_err)?;
            let mut per_topic: BTreeMap<&str, i64> = BTreeMap::new();
            for t in &topics {
                *per_topic.entry(t).or_default() += 1;
            }
            for (t, k) in per_topic {
                bump(c, t, now, "retried", k)?;
            }
            Ok(topics.len() as u64)
        })
        .await
    }

    pub(crate) async fn outbox_prune(&self, before: DateTime<Utc>, limit: u32) -> Result<u64> {
        self.write_bg(move |c| {
            // Each deleted row is counted on its topic and creation day, in the same
            // transaction, so that day's figures stay whole (`OutboxDay::pruned`).
            let mut per_day: BTreeMap<(String, NaiveDate), (DateTime<Utc>, i64)> = BTreeMap::new();
            let mut st = c
                .prepare_cached(
                    "DELETE FROM outbox WHERE id IN (
                        SELECT id FROM outbox
                         WHERE acked_at IS NOT NULL AND acked_at < ?1 AND status = 'done'
                         ORDER BY acked_at LIMIT ?2)
                     RETURNING topic, created_at",
                )
                .map_err(db_err)?;
            let rows = st
                .query_map(params![ts(before), limit], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                })
                .map_err(db_err)?;
            let mut n = 0;
            for r in rows {
                let (topic, created) = r.map_err(db_err)?;
                let at = from_ts(created);
                per_day.entry((topic, local_day(at))).or_insert((at, 0)).1 += 1;
                n += 1;
            }
            drop(st);
            for ((topic, _), (at, k)) in per_day {
                bump(c, &topic, at, "pruned", k)?;
            }
            Ok(n)
        })
        .await
    }

    pub(crate) async fn outbox_list(&self, q: OutboxQuery) -> Result<Vec<OutboxEntry>> {
        self.read(move |c| {
            let mut sql = format!("SELECT {COLUMNS} FROM outbox WHERE 1 = 1");
            let mut args: Vec<V> = Vec::new();
            if let Some(s) = q.status {
                args.push(V::Text(s.as_str().into()));
                sql.push_str(&format!(" AND status = ?{}", args.len()));
            }
            if let Some(t) = &q.topic {
                args.push(V::Text(t.clone()));
                sql.push_str(&format!(" AND topic = ?{}", args.len()));
            }
            if let Some(a) = q.after_id {
                args.push(V::Integer(a));
                sql.push_str(&format!(" AND id > ?{}", args.len()));
            }
            args.push(V::Integer(q.page_size() as i64));
            sql.push_str(&format!(" ORDER BY id LIMIT ?{}", args.len()));
            let mut st = c.prepare_cached(&sql).map_err(db_err)?;
            let rows = st
                .query_map(rusqlite::params_from_iter(args), entry)
                .map_err(db_err)?;
            rows.map(|r| finish(r.map_err(db_err)?)).collect()
        })
    }

    pub(crate) async fn outbox_get(&self, id: i64) -> Result<Option<OutboxEntry>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached(&format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"))
                .map_err(db_err)?;
            let mut rows = st.query_map([id], entry).map_err(db_err)?;
            rows.next().map(|r| finish(r.map_err(db_err)?)).transpose()
        })
    }

    /// Each target's queue, from the indexes alone: the targets with pending messages by a
    /// skip over `outbox_claim` (one seek per target), their counts from its entries, their
    /// oldest message by its first entry (queue order: the writer inserts in `created_at`
    /// order but for jobs queued within the same milliseconds), and the dead letters (few) from
    /// `outbox_pending`. A `GROUP BY` over the rows themselves read every pending message's
    /// payload: 0.6 s every 10 s for the gauges with 600,000 messages pending, a full pass over
    /// the table's pages through the page cache (decision 0049).
    pub(crate) async fn outbox_depths(&self) -> Result<Vec<OutboxDepth>> {
        self.read(|c| {
            // One snapshot for every statement, as the single query had: a message failing or
            // retried meanwhile is counted once.
            let tx = c.unchecked_transaction().map_err(db_err)?;
            let depths = {
                let mut depths = crate::outbox::Depths::default();
                let names: Vec<String> = tx
                    .prepare_cached(
                        "WITH RECURSIVE t(topic) AS (
                         SELECT (SELECT min(topic) FROM outbox INDEXED BY outbox_claim
                                 WHERE status = 'pending')
                         UNION ALL
                         SELECT (SELECT min(topic) FROM outbox INDEXED BY outbox_claim
                                 WHERE status = 'pending' AND topic > t.topic)
                         FROM t WHERE t.topic IS NOT NULL)
                     SELECT topic FROM t WHERE topic IS NOT NULL",
                    )
                    .map_err(db_err)?
                    .query_map([], |r| r.get(0))
                    .map_err(db_err)?
                    .collect::<rusqlite::Result<_>>()
                    .map_err(db_err)?;
                let mut pending = tx
                    .prepare_cached(
                        "SELECT count(*),
                            (SELECT created_at FROM outbox INDEXED BY outbox_claim
                             WHERE topic = ?1 AND status = 'pending' ORDER BY id LIMIT 1)
                     FROM outbox INDEXED BY outbox_claim
                     WHERE topic = ?1 AND status = 'pending'",
                    )
                    .map_err(db_err)?;
                for topic in names {
                    let (n, oldest): (i64, Option<i64>) = pending
                        .query_row([&topic], |r| Ok((r.get(0)?, r.get(1)?)))
                        .map_err(db_err)?;
                    depths.pending(topic, n, oldest.map(from_ts));
                }
                let mut dead = tx
                    .prepare_cached(
                        "SELECT topic, count(*), min(created_at) FROM outbox
                     WHERE status = 'dead' GROUP BY topic",
                    )
                    .map_err(db_err)?;
                let rows = dead
                    .query_map([], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, i64>(2)?,
                        ))
                    })
                    .map_err(db_err)?;
                for row in rows {
                    let (topic, n, oldest) = row.map_err(db_err)?;
                    depths.dead(topic, n, from_ts(oldest));
                }
                depths
            };
            tx.commit().map_err(db_err)?;
            Ok(depths.into_vec())
        })
    }

    pub(crate) async fn outbox_days(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<OutboxDay>> {
        self.read_blocking(move |c| {
            let start = ts(local_day_start(from));
            let end = ts(local_day_start(to + chrono::Days::new(1)));
            let mut days: BTreeMap<(String, NaiveDate), OutboxDay> = BTreeMap::new();
            let day_of = |s: &str| s.parse::<NaiveDate>().map_err(corrupt);
            let mut st = c
                .prepare(
                    "SELECT topic, date(created_at / 1000000 + 25200, 'unixepoch'), count(*),
                            sum(status = 'done'), sum(status = 'pending'), sum(status = 'dead')
                     FROM outbox WHERE created_at >= ?1 AND created_at < ?2 GROUP BY 1, 2",
                )
                .map_err(db_err)?;
            let rows = st
                .query_map(params![start, end], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        [r.get::<_, i64>(2)?, r.get(3)?, r.get(4)?, r.get(5)?],
                    ))
                })
                .map_err(db_err)?;
            for r in rows {
                let (topic, day, n) = r.map_err(db_err)?;
                let day = day_of(&day)?;
                let d = days.entry((topic.clone(), day)).or_insert_with(|| OutboxDay {
                    topic,
                    day,
                    ..OutboxDay::default()
                });
                d.created = n[0] as u64;
                d.created_done = n[1] as u64;
                d.created_pending = n[2] as u64;
                d.created_dead = n[3] as u64;
            }
            let mut st = c
                .prepare(
                    "SELECT topic, day, metric, value FROM outbox_daily WHERE day >= ?1 AND day <= ?2",
                )
                .map_err(db_err)?;
            let rows = st
                .query_map(params![from.to_string(), to.to_string()], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                })
                .map_err(db_err)?;
            for r in rows {
                let (topic, day, metric, value) = r.map_err(db_err)?;
                let day = day_of(&day)?;
                let d = days.entry((topic.clone(), day)).or_insert_with(|| OutboxDay {
                    topic,
                    day,
                    ..OutboxDay::default()
                });
                crate::outbox::set_metric(d, &metric, value);
            }
            Ok(days.into_values().collect())
        })
        .await
    }
}
