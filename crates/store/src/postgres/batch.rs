//! Optional group commit on PostgreSQL ([`super::PgOptions::group_commit`]): the batching idea
//! of the SQLite writer.
//!
//! A few writer *lanes* share one queue of dossier commands. A lane takes what is waiting (up to
//! [`MAX_BATCH`]) and runs it in one transaction: one round trip to lock and read every dossier
//! and idempotency key of the batch, the decisions in memory, one round trip to lock and read
//! the code counters they need, and one statement writing all events, dossier rows, counters,
//! outbox messages, idempotency keys and code counters, pipelined with `COMMIT`. Replies go out
//! after the commit, so an acknowledged write is durable (`synchronous_commit` stays on).
//!
//! The answers are those of running the jobs one after the other, as SQLite's writer does:
//! - two jobs of a batch never touch the same dossier or idempotency key: the later one waits
//!   for the next batch and then sees the earlier one's effect;
//! - a job the domain refuses writes nothing, and codes it took go back (the counters are kept
//!   in memory while the batch runs, under the rows' locks);
//! - if the batch's write fails as a whole (a race with another node or lane over a new id or
//!   idempotency key, a deadlock), every job of it runs again in a transaction of its own
//!   ([`super::writer::execute_one`]), which settles the race exactly as before.

use super::writer::{Codes, Tx, decode_state, execute_one, no_nul};
use super::{Pool, pg_err, pool_err};
use crate::plan::{Plan, plan};
use crate::{Execute, Executed, Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::codes::{AgencyCode, DossierCode};
use motcua_domain::dossier::{CodeAllocator, Dossier, Event};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

/// Most jobs in one transaction.
const MAX_BATCH: usize = 256;
/// Requests waiting for a lane before callers wait to enqueue.
const QUEUE: usize = 16_384;

// `LIMIT 1` keeps the planner from joining the whole table: one index probe per key.
const LOOKUP: &str = "SELECT t.a, t.k, d.state FROM UNNEST($1::uuid[], $2::text[]) AS t(a, k)
                      CROSS JOIN LATERAL (SELECT i.dossier_id FROM idempotency i
                                          WHERE i.actor = t.a AND i.key = t.k LIMIT 1) AS i
                      JOIN dossiers d ON d.id = i.dossier_id";
/// Sent as an unnamed statement, planned for its keys each time: a prepared statement's generic
/// plan, made while the table was small (a new database), seq-scans it for good once it has
/// grown (measured: 652 of 3,831 batches read the whole table in a 15 s W1 run).
const LOAD: &str =
    "SELECT id, state, last_hash FROM dossiers WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE";
const LOCK_CODES: &str = "INSERT INTO code_counters (agency, day, last)
                          SELECT t.a, t.d, 0 FROM UNNEST($1::text[], $2::date[]) AS t(a, d) ORDER BY t.a, t.d
                          ON CONFLICT (agency, day) DO UPDATE SET last = code_counters.last
                          RETURNING agency, day, last";
const WRITE: &str = "
WITH ev AS (
    INSERT INTO events (dossier_id, seq, kind, at, actor, agency, body, prev_hash, hash)
    SELECT * FROM UNNEST($1::uuid[], $2::int8[], $3::text[], $4::timestamptz[], $5::uuid[], $6::text[],
                         $7::text[], $8::text[], $9::text[])
), d AS (
    INSERT INTO dossiers (id, code, procedure_code, procedure_name, owner, receiving_agency,
        competent_agency, current_agency, assignee, status, national_status, applicant_name,
        submitted_at, received_at, due_at, finished_at, version, last_hash, state, channel,
        applicant_personal_id)
    SELECT * FROM UNNEST($10::uuid[], $11::text[], $12::text[], $13::text[], $14::uuid[], $15::text[],
                         $16::text[], $17::text[], $18::uuid[], $19::text[], $20::int2[], $21::text[],
                         $22::timestamptz[], $23::timestamptz[], $24::timestamptz[], $25::timestamptz[],
                         $26::int8[], $27::text[], $28::text[], $44::text[], $45::text[])
    ON CONFLICT (id) DO UPDATE SET code = excluded.code, current_agency = excluded.current_agency,
        channel = excluded.channel, applicant_personal_id = excluded.applicant_personal_id,
        assignee = excluded.assignee, status = excluded.status,
        national_status = excluded.national_status, received_at = excluded.received_at,
        due_at = excluded.due_at, finished_at = excluded.finished_at,
        version = excluded.version, last_hash = excluded.last_hash, state = excluded.state
), c AS (
    INSERT INTO counters (agency, day, metric, shard, value)
    SELECT t.a, t.d, t.m, $33::int2, t.v FROM UNNEST($29::text[], $30::date[], $31::text[], $32::int8[]) AS t(a, d, m, v)
    ON CONFLICT (agency, day, metric, shard) DO UPDATE SET value = counters.value + excluded.value
), o AS (
    INSERT INTO outbox (topic, key, payload, created_at)
    SELECT * FROM UNNEST($34::text[], $35::text[], $36::text[], $37::timestamptz[])
), i AS (
    INSERT INTO idempotency (actor, key, dossier_id)
    SELECT * FROM UNNEST($38::uuid[], $39::text[], $40::uuid[])
), k AS (
    INSERT INTO code_counters (agency, day, last)
    SELECT * FROM UNNEST($41::text[], $42::date[], $43::int4[])
    ON CONFLICT (agency, day) DO UPDATE SET last = excluded.last
)
SELECT 1";

struct Pending {
    job: Execute,
    reply: oneshot::Sender<Result<Executed>>,
}

/// The queue in front of the lanes; cheap to clone.
#[derive(Clone)]
pub(crate) struct GroupWriter {
    tx: mpsc::Sender<Pending>,
}

impl GroupWriter {
    /// Starts `lanes` lanes on the current runtime. They stop when the last handle is dropped.
    pub(crate) fn start(pool: Pool, lanes: usize) -> GroupWriter {
        let (tx, rx) = mpsc::channel(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..lanes.max(1) {
            tokio::spawn(lane(pool.clone(), rx.clone()));
        }
        GroupWriter { tx }
    }

    pub(crate) async fn execute(&self, job: Execute) -> Result<Executed> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Pending { job, reply })
            .await
            .map_err(|_| StoreError::Backend("the PostgreSQL writer has stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Backend("the PostgreSQL writer dropped the request".into()))?
    }
}

async fn lane(pool: Pool, rx: Arc<Mutex<mpsc::Receiver<Pending>>>) {
    loop {
        let mut batch = Vec::with_capacity(16);
        if rx.lock().await.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        metrics::histogram!("motcua_store_batch_size").record(batch.len() as f64);
        // In a task of its own: a panicking decision fails its batch (its callers get an
        // error), not the lane.
        if let Err(e) = tokio::spawn(run(pool.clone(), batch)).await {
            tracing::error!(error = %e, "a PostgreSQL write batch failed");
        }
    }
}

/// Runs the jobs, deferring a job that meets a dossier or key already in the batch.
async fn run(pool: Pool, mut items: Vec<Pending>) {
    while !items.is_empty() {
        let mut ids = HashSet::new();
        let mut keys = HashSet::new();
        let (now, later): (Vec<Pending>, Vec<Pending>) = items.into_iter().partition(|p| {
            let key_free = p
                .job
                .idempotency
                .as_ref()
                .is_none_or(|k| keys.insert(k.clone()));
            ids.insert(p.job.dossier_id) && key_free
        });
        items = later;
        let jobs: Vec<&Execute> = now.iter().map(|p| &p.job).collect();
        let outcomes = match batch(&pool, &jobs).await {
            Ok(o) => o,
            Err(e) => {
                tracing::debug!(error = %e, jobs = jobs.len(), "batch failed; running its jobs one by one");
                metrics::counter!("motcua_store_pg_batch_fallbacks").increment(1);
                jobs.iter().map(|_| Outcome::Alone).collect()
            }
        };
        let mut alone = Vec::new();
        for (p, o) in now.into_iter().zip(outcomes) {
            match o {
                Outcome::Done(r) => drop(p.reply.send(*r)),
                Outcome::Alone => {
                    alone.push((tokio::spawn(execute_one(pool.clone(), p.job)), p.reply))
                }
            }
        }
        for (task, reply) in alone {
            let r = task.await.unwrap_or_else(|e| {
                Err(StoreError::Backend(format!("the write task failed: {e}")))
            });
            drop(reply.send(r));
        }
    }
}

enum Outcome {
    /// The answer.
    Done(Box<Result<Executed>>),
    /// To run in a transaction of its own.
    Alone,
}

/// Where a job of the batch stands.
enum Stage {
    Done(Result<Executed>),
    Alone,
    NeedsCodes(Option<Dossier>, String),
    Decided(Option<Dossier>, String, Vec<Event>),
    Planned(Box<Plan>, Vec<Event>),
}

/// Hands out codes from counters locked and read for the batch.
struct MemCodes<'a> {
    last: &'a mut HashMap<(String, NaiveDate), u32>,
    missing: bool,
}

impl CodeAllocator for MemCodes<'_> {
    fn allocate(
        &mut self,
        agency: &AgencyCode,
        date: NaiveDate,
    ) -> std::result::Result<DossierCode, String> {
        match self.last.get_mut(&(agency.to_string(), date)) {
            Some(n) => {
                *n += 1;
                DossierCode::new(agency.clone(), date, *n).map_err(|e| e.to_string())
            }
            None => {
                self.missing = true;
                Err("code counter not locked for this batch".into())
            }
        }
    }
}

/// One transaction for `jobs`; `Err` when it failed as a whole (nothing of it is written).
async fn batch(pool: &Pool, jobs: &[&Execute]) -> Result<Vec<Outcome>> {
    let conn = pool.get().await.map_err(pool_err)?;
    let keyed: Vec<&(Uuid, String)> = jobs.iter().filter_map(|j| j.idempotency.as_ref()).collect();
    let lookup = match keyed.is_empty() {
        true => None,
        false => Some(conn.prepare_cached(LOOKUP).await.map_err(pg_err)?),
    };
    let mut tx = Tx {
        conn: Some(conn),
        open: true,
    };
    let result = decide_and_write(&mut tx, jobs, &keyed, lookup).await;
    if tx.open {
        tx.rollback().await;
    }
    result
}

async fn decide_and_write(
    tx: &mut Tx,
    jobs: &[&Execute],
    keyed: &[&(Uuid, String)],
    lookup: Option<tokio_postgres::Statement>,
) -> Result<Vec<Outcome>> {
    // 1. BEGIN, earlier uses of the keys, the dossiers locked: one round trip.
    let ids: Vec<Uuid> = jobs.iter().map(|j| j.dossier_id).collect();
    let k_actor: Vec<Uuid> = keyed.iter().map(|k| k.0).collect();
    let k_key: Vec<&str> = keyed.iter().map(|k| k.1.as_str()).collect();
    let c = tx.client();
    let lookup_args: [&(dyn ToSql + Sync); 2] = [&k_actor, &k_key];
    let load_args: [(&(dyn ToSql + Sync), Type); 1] = [(&ids, Type::UUID_ARRAY)];
    let (began, found, rows) = tokio::join!(
        c.batch_execute("BEGIN"),
        async {
            match &lookup {
                Some(st) => c.query(st, &lookup_args).await,
                None => Ok(vec![]),
            }
        },
        c.query_typed(LOAD, &load_args),
    );
    began.map_err(pg_err)?;
    let found: HashMap<(Uuid, String), String> = found
        .map_err(pg_err)?
        .into_iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect();
    let mut states: HashMap<Uuid, (String, String)> = rows
        .map_err(pg_err)?
        .into_iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();

    // 2. Decisions; a probe tells which code counters to lock.
    let mut wanted: BTreeSet<(String, NaiveDate)> = BTreeSet::new();
    let mut stages: Vec<Stage> = jobs
        .iter()
        .map(|job| {
            if let Some(k) = &job.idempotency
                && let Some(state) = found.get(k)
            {
                return Stage::Done(
                    serde_json::from_str(state)
                        .map(|dossier| Executed {
                            dossier,
                            events: vec![],
                            replayed: true,
                        })
                        .map_err(|e| StoreError::Corrupt(e.to_string())),
                );
            }
            let (before, last_hash) = match states.remove(&job.dossier_id) {
                Some((s, h)) => match decode_state(job.dossier_id, &s) {
                    Ok(d) => (Some(d), h),
                    Err(e) => return Stage::Done(Err(e)),
                },
                None => (None, String::new()),
            };
            let version = before.as_ref().map_or(0, |d| d.version);
            if let Some(expected) = job.expected_version
                && expected != version
            {
                return Stage::Done(Err(StoreError::VersionConflict {
                    expected,
                    actual: version,
                }));
            }
            let mut probe = Codes {
                given: &[],
                next: 0,
                wanted: None,
                mismatch: false,
            };
            let out = (job.decide)(before.as_ref(), &mut probe);
            match (probe.wanted, out) {
                (Some((agency, date)), _) => {
                    wanted.insert((agency.to_string(), date));
                    Stage::NeedsCodes(before, last_hash)
                }
                (None, Ok(events)) => Stage::Decided(before, last_hash, events),
                (None, Err(e)) => Stage::Done(Err(e.into())),
            }
        })
        .collect();

    let mut base: HashMap<(String, NaiveDate), u32> = HashMap::new();
    if !wanted.is_empty() {
        let c = tx.client();
        let st = c.prepare_cached(LOCK_CODES).await.map_err(pg_err)?;
        let agencies: Vec<&str> = wanted.iter().map(|k| k.0.as_str()).collect();
        let days: Vec<NaiveDate> = wanted.iter().map(|k| k.1).collect();
        for r in c.query(&st, &[&agencies, &days]).await.map_err(pg_err)? {
            base.insert((r.get(0), r.get(1)), r.get::<_, i32>(2) as u32);
        }
    }
    let mut last = base.clone();
    for (job, stage) in jobs.iter().zip(stages.iter_mut()) {
        if let Stage::NeedsCodes(before, last_hash) = stage {
            let saved = last.clone();
            let mut codes = MemCodes {
                last: &mut last,
                missing: false,
            };
            let out = (job.decide)(before.as_ref(), &mut codes);
            let missing = codes.missing;
            *stage = match out {
                _ if missing => Stage::Alone,
                Ok(events) => Stage::Decided(before.take(), std::mem::take(last_hash), events),
                Err(e) => Stage::Done(Err(e.into())),
            };
            if !matches!(stage, Stage::Decided(..)) {
                last = saved;
            }
        }
    }
    for (job, stage) in jobs.iter().zip(stages.iter_mut()) {
        if let Stage::Decided(before, last_hash, events) = stage {
            let events = std::mem::take(events);
            let pays = events
                .iter()
                .any(|e| matches!(e.body, motcua_domain::dossier::EventBody::FeePaid { .. }));
            *stage = if pays {
                // A fee paid also writes the payments table: in a transaction of its own.
                Stage::Alone
            } else if events.is_empty() {
                Stage::Done(
                    before
                        .take()
                        .map(|dossier| Executed {
                            dossier,
                            events: vec![],
                            replayed: false,
                        })
                        .ok_or_else(|| StoreError::NotFound(format!("dossier {}", job.dossier_id))),
                )
            } else {
                match plan(job.dossier_id, before.take(), last_hash, &events) {
                    Ok(p) => Stage::Planned(Box::new(p), events),
                    Err(e) => Stage::Done(Err(e)),
                }
            };
        }
    }

    // 3. Write it all and commit: one round trip.
    let codes: Vec<(&(String, NaiveDate), u32)> = last
        .iter()
        .filter(|(k, v)| base.get(*k) != Some(*v))
        .map(|(k, v)| (k, *v))
        .collect();
    let planned = stages.iter().any(|s| matches!(s, Stage::Planned(..)));
    if planned || !codes.is_empty() {
        let w = Write::new(jobs, &stages, &codes)?;
        let c = tx.client();
        let st = c.prepare_cached(WRITE).await.map_err(pg_err)?;
        let params = w.params();
        // The documents of the commands written, in the same transaction and round trip.
        let files = super::files::FileColumns::of(
            jobs.iter()
                .zip(&stages)
                .filter(|(_, s)| matches!(s, Stage::Planned(..)))
                .flat_map(|(j, _)| j.files.iter()),
        );
        let files_st = files.prepare(c).await?;
        let (linked, written, committed) = tokio::join!(
            files.write(c, files_st.as_ref()),
            c.execute(&st, &params),
            c.batch_execute("COMMIT")
        );
        let written = linked.and(written);
        match (written, committed) {
            (Err(e), Ok(())) => {
                // Our COMMIT ended the failed transaction as a rollback.
                tx.open = false;
                return Err(pg_err(e));
            }
            (Err(e), Err(_)) | (Ok(_), Err(e)) => return Err(pg_err(e)),
            (Ok(_), Ok(())) => tx.open = false,
        }
    }
    Ok(stages
        .into_iter()
        .map(|s| match s {
            Stage::Done(r) => Outcome::Done(Box::new(r)),
            Stage::Planned(p, events) => Outcome::Done(Box::new(Ok(Executed {
                dossier: p.after,
                events,
                replayed: false,
            }))),
            Stage::Alone | Stage::NeedsCodes(..) | Stage::Decided(..) => Outcome::Alone,
        })
        .collect())
}

/// The columns of the batch's write, one array per parameter.
#[derive(Default)]
struct Write<'a> {
    e_id: Vec<Uuid>,
    e_seq: Vec<i64>,
    e_kind: Vec<&'a str>,
    e_at: Vec<DateTime<Utc>>,
    e_actor: Vec<Uuid>,
    e_agency: Vec<&'a str>,
    e_body: Vec<&'a str>,
    e_prev: Vec<&'a str>,
    e_hash: Vec<&'a str>,
    d_id: Vec<Uuid>,
    d_code: Vec<Option<String>>,
    d_procedure_code: Vec<String>,
    d_procedure_name: Vec<std::borrow::Cow<'a, str>>,
    d_owner: Vec<Option<Uuid>>,
    d_receiving: Vec<&'a str>,
    d_competent: Vec<&'a str>,
    d_current: Vec<&'a str>,
    d_assignee: Vec<Option<Uuid>>,
    d_status: Vec<&'static str>,
    d_national: Vec<i16>,
    d_applicant: Vec<std::borrow::Cow<'a, str>>,
    d_submitted: Vec<DateTime<Utc>>,
    d_received: Vec<Option<DateTime<Utc>>>,
    d_due: Vec<Option<DateTime<Utc>>>,
    d_finished: Vec<Option<DateTime<Utc>>>,
    d_version: Vec<i64>,
    d_last_hash: Vec<&'a str>,
    d_state: Vec<String>,
    d_channel: Vec<&'static str>,
    d_personal_id: Vec<Option<String>>,
    c_agency: Vec<&'a str>,
    c_day: Vec<NaiveDate>,
    c_metric: Vec<&'a str>,
    c_value: Vec<i64>,
    shard: i16,
    o_topic: Vec<&'a str>,
    o_key: Vec<&'a str>,
    o_payload: Vec<String>,
    o_at: Vec<DateTime<Utc>>,
    i_actor: Vec<Uuid>,
    i_key: Vec<&'a str>,
    i_id: Vec<Uuid>,
    k_agency: Vec<&'a str>,
    k_day: Vec<NaiveDate>,
    k_last: Vec<i32>,
}

impl<'a> Write<'a> {
    fn new(
        jobs: &[&'a Execute],
        stages: &'a [Stage],
        codes: &[(&'a (String, NaiveDate), u32)],
    ) -> Result<Write<'a>> {
        let mut w = Write {
            // Counter rows are spread over shards (see schema.sql); a batch uses one.
            shard: super::writer::counter_shard(jobs[0].dossier_id),
            ..Write::default()
        };
        let mut sums: BTreeMap<(&str, NaiveDate, &str), i64> = BTreeMap::new();
        for (job, stage) in jobs.iter().zip(stages) {
            let Stage::Planned(p, _) = stage else {
                continue;
            };
            let id = job.dossier_id;
            for r in &p.rows {
                w.e_id.push(id);
                w.e_seq.push(r.seq as i64);
                w.e_kind.push(r.kind);
                w.e_at.push(r.at);
                w.e_actor.push(r.actor);
                w.e_agency.push(&r.agency);
                w.e_body.push(&r.json);
                w.e_prev.push(&r.prev_hash);
                w.e_hash.push(&r.hash);
            }
            let d = &p.after;
            w.d_id.push(id);
            w.d_code.push(d.code.as_ref().map(|c| c.to_string()));
            w.d_procedure_code.push(d.procedure.code.to_string());
            w.d_procedure_name.push(no_nul(&d.procedure.name));
            w.d_owner.push(d.owner);
            w.d_receiving.push(d.receiving_agency.as_str());
            w.d_competent.push(d.competent_agency.as_str());
            w.d_current.push(d.current_agency.as_str());
            w.d_assignee.push(d.assignee);
            w.d_status.push(d.status.as_str());
            w.d_national.push(d.status.national_code() as i16);
            w.d_applicant.push(no_nul(&d.applicant.name));
            w.d_submitted.push(d.submitted_at);
            w.d_received.push(d.received_at);
            w.d_due.push(d.due_at);
            w.d_finished.push(d.finished_at);
            w.d_version.push(d.version as i64);
            w.d_last_hash.push(&p.last_hash);
            w.d_state.push(p.state_json.clone());
            w.d_channel.push(d.channel.as_str());
            w.d_personal_id
                .push(d.applicant.personal_id.as_ref().map(|x| x.to_string()));
            for c in &p.counters {
                *sums
                    .entry((c.agency.as_str(), c.day, c.metric.as_str()))
                    .or_default() += c.delta;
            }
            let now = p.rows.last().map_or_else(Utc::now, |r| r.at);
            for m in &p.outbox {
                w.o_topic.push(&m.topic);
                w.o_key.push(&m.key);
                w.o_payload.push(m.payload.to_string());
                w.o_at.push(now);
            }
            if let Some((actor, key)) = &job.idempotency {
                w.i_actor.push(*actor);
                w.i_key.push(key);
                w.i_id.push(id);
            }
        }
        // Summed per key and in key order: one row touched once, rows locked in one order.
        for ((agency, day, metric), v) in sums {
            w.c_agency.push(agency);
            w.c_day.push(day);
            w.c_metric.push(metric);
            w.c_value.push(v);
        }
        for ((agency, day), last) in codes {
            w.k_agency.push(agency);
            w.k_day.push(*day);
            w.k_last.push(*last as i32);
        }
        Ok(w)
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 45] {
        [
            &self.e_id,
            &self.e_seq,
            &self.e_kind,
            &self.e_at,
            &self.e_actor,
            &self.e_agency,
            &self.e_body,
            &self.e_prev,
            &self.e_hash,
            &self.d_id,
            &self.d_code,
            &self.d_procedure_code,
            &self.d_procedure_name,
            &self.d_owner,
            &self.d_receiving,
            &self.d_competent,
            &self.d_current,
            &self.d_assignee,
            &self.d_status,
            &self.d_national,
            &self.d_applicant,
            &self.d_submitted,
            &self.d_received,
            &self.d_due,
            &self.d_finished,
            &self.d_version,
            &self.d_last_hash,
            &self.d_state,
            &self.c_agency,
            &self.c_day,
            &self.c_metric,
            &self.c_value,
            &self.shard,
            &self.o_topic,
            &self.o_key,
            &self.o_payload,
            &self.o_at,
            &self.i_actor,
            &self.i_key,
            &self.i_id,
            &self.k_agency,
            &self.k_day,
            &self.k_last,
            &self.d_channel,
            &self.d_personal_id,
        ]
    }
}
