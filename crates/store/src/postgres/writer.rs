//! `execute` on PostgreSQL: one transaction per job, with the same steps and answers as
//! `sqlite/writer.rs`, and as few round trips as possible:
//!
//! 1. `BEGIN`, the idempotency claim and the locked read of the dossier, pipelined (one trip);
//! 2. the decision, first with a probe allocator; if it asks for a dossier code, the code is
//!    allocated (one trip) and the decision runs again with that code;
//! 3. one statement writing events, dossier row, counters and outbox, pipelined with `COMMIT`
//!    (one trip).
//!
//! A submission is thus two or three round trips, and the hot `code_counters` row is locked only
//! from its allocation to the commit. A job for a dossier that must not exist yet (expected
//! version 0: a submission under a fresh id), without an idempotency key and asking for no code,
//! has nothing to read: it is decided first, then `BEGIN`, the write and `COMMIT` go in one round
//! trip. Should the id exist after all, the events' primary key refuses the write and the job runs
//! again the usual way, which reads the dossier and answers as usual.

use super::{Pool, corrupt, pg_err};
use crate::plan::plan;
use crate::{Execute, Executed, Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::Object;
use motcua_domain::codes::{AgencyCode, DossierCode};
use motcua_domain::dossier::{CodeAllocator, Dossier, Event};
use std::collections::BTreeMap;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

/// Statistics counters are spread over this many rows per (agency, day, metric).
pub(crate) const COUNTER_SHARDS: u128 = 16;

/// The counter shard a dossier's commands add to: 1 to [`COUNTER_SHARDS`]. Shard 0 holds the
/// folded rows of past days, written only by the fold and the rebuild (decision 0037).
pub(crate) fn counter_shard(dossier: Uuid) -> i16 {
    (dossier.as_u128() % COUNTER_SHARDS) as i16 + 1
}
/// Attempts of a job that lost a race (deadlock, concurrent creation of the same id).
const MAX_ATTEMPTS: usize = 3;
/// Most codes one decision may ask for.
const MAX_CODES: usize = 4;

const CLAIM: &str =
    "INSERT INTO idempotency (actor, key, dossier_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
const CLAIMED: &str = "SELECT d.state FROM idempotency i JOIN dossiers d ON d.id = i.dossier_id
                       WHERE i.actor = $1 AND i.key = $2";
const LOAD: &str = "SELECT state, last_hash FROM dossiers WHERE id = $1 FOR UPDATE";
const CODE: &str = "INSERT INTO code_counters (agency, day, last) VALUES ($1, $2, 1)
                    ON CONFLICT (agency, day) DO UPDATE SET last = code_counters.last + 1 RETURNING last";
const WRITE: &str = "
WITH ev AS (
    INSERT INTO events (dossier_id, seq, kind, at, actor, agency, body, prev_hash, hash)
    SELECT $1::uuid, t.* FROM UNNEST($2::int8[], $3::text[], $4::timestamptz[], $5::uuid[], $6::text[],
                                     $7::text[], $8::text[], $9::text[]) AS t
), d AS (
    INSERT INTO dossiers (id, code, procedure_code, procedure_name, owner, receiving_agency,
        competent_agency, current_agency, assignee, status, national_status, applicant_name,
        submitted_at, received_at, due_at, finished_at, version, last_hash, state, channel,
        applicant_personal_id)
    VALUES ($1::uuid, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27,
        $37, $38)
    ON CONFLICT (id) DO UPDATE SET code = excluded.code, current_agency = excluded.current_agency,
        channel = excluded.channel, applicant_personal_id = excluded.applicant_personal_id,
        assignee = excluded.assignee, status = excluded.status,
        national_status = excluded.national_status, received_at = excluded.received_at,
        due_at = excluded.due_at, finished_at = excluded.finished_at,
        version = excluded.version, last_hash = excluded.last_hash, state = excluded.state
), c AS (
    INSERT INTO counters (agency, day, metric, shard, value)
    SELECT t.a, t.d, t.m, $32::int2, t.v FROM UNNEST($28::text[], $29::date[], $30::text[], $31::int8[]) AS t(a, d, m, v)
    ON CONFLICT (agency, day, metric, shard) DO UPDATE SET value = counters.value + excluded.value
), o AS (
    INSERT INTO outbox (topic, key, payload, created_at)
    SELECT t.*, $36::timestamptz FROM UNNEST($33::text[], $34::text[], $35::text[]) AS t
)
SELECT 1";

/// How one attempt failed.
enum Failure {
    /// Final answer.
    Fail(StoreError),
    /// Lost a race: run the job again on fresh state.
    Retry(StoreError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Fail(e)
    }
}

type Attempt<T> = std::result::Result<T, Failure>;

/// Classifies a database error from a dossier transaction.
fn classify(e: tokio_postgres::Error, job: &Execute) -> Failure {
    let Some(db) = e.as_db_error() else {
        return Failure::Fail(pg_err(e));
    };
    let code = db.code();
    if *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::T_R_SERIALIZATION_FAILURE {
        return Failure::Retry(pg_err(e));
    }
    if *code == SqlState::UNIQUE_VIOLATION {
        return match db.constraint() {
            // Another transaction created this dossier id meanwhile: run again, which then sees
            // it, exactly as the SQLite writer would have (it runs the two one after the other).
            Some("events_pkey" | "dossiers_pkey") => Failure::Retry(StoreError::VersionConflict {
                expected: job.expected_version.unwrap_or(0),
                actual: job.expected_version.unwrap_or(0) + 1,
            }),
            Some("dossiers_code_key") => {
                Failure::Fail(StoreError::Duplicate("dossier code".into()))
            }
            _ => Failure::Fail(pg_err(e)),
        };
    }
    Failure::Fail(pg_err(e))
}

/// Runs a job in a transaction of its own. The work happens in its own task, so a caller that
/// goes away (an HTTP client disconnecting) does not leave a transaction half done: as with
/// SQLite, a job once accepted runs to its end.
pub(crate) async fn execute_one(pool: Pool, job: Execute) -> Result<Executed> {
    tokio::spawn(async move {
        let mut last = None;
        for i in 0..MAX_ATTEMPTS {
            // A new dossier's one-trip write is tried first only; a retry reads as usual.
            let fresh = match i {
                0 => attempt_new(&pool, &job).await,
                _ => None,
            };
            let done = match fresh {
                Some(done) => done,
                None => attempt(&pool, &job).await,
            };
            match done {
                Ok(done) => return Ok(done),
                Err(Failure::Fail(e)) => return Err(e),
                Err(Failure::Retry(e)) => {
                    metrics::counter!("motcua_store_pg_retries").increment(1);
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| StoreError::Backend("no attempt made".into())))
    })
    .await
    .map_err(|e| StoreError::Backend(format!("the write task failed: {e}")))?
}

/// A pooled connection with a transaction possibly open. If it is dropped while the transaction
/// is open (a panic, a lost connection), the connection is closed rather than returned to the
/// pool, and the server rolls the transaction back.
pub(super) struct Tx {
    pub(super) conn: Option<Object>,
    pub(super) open: bool,
}

impl Tx {
    pub(super) fn client(&self) -> &Object {
        self.conn.as_ref().expect("connection present until drop")
    }

    pub(super) async fn rollback(&mut self) {
        if self.client().batch_execute("ROLLBACK").await.is_ok() {
            self.open = false;
        }
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if self.open
            && let Some(conn) = self.conn.take()
        {
            drop(Object::take(conn));
        }
    }
}

/// Hands out codes allocated so far, in order; records the first request beyond them.
pub(super) struct Codes<'a> {
    pub(super) given: &'a [(AgencyCode, NaiveDate, DossierCode)],
    pub(super) next: usize,
    pub(super) wanted: Option<(AgencyCode, NaiveDate)>,
    pub(super) mismatch: bool,
}

impl CodeAllocator for Codes<'_> {
    fn allocate(
        &mut self,
        agency: &AgencyCode,
        date: NaiveDate,
    ) -> std::result::Result<DossierCode, String> {
        if let Some((a, d, code)) = self.given.get(self.next) {
            if a == agency && *d == date {
                self.next += 1;
                return Ok(code.clone());
            }
            self.mismatch = true;
            return Err("the decision asked for a different code on its second run".into());
        }
        if self.wanted.is_none() {
            self.wanted = Some((agency.clone(), date));
        }
        Err("code not allocated yet".into())
    }
}

pub(super) fn decode_state(id: Uuid, s: &str) -> Result<Dossier> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("dossier {id}: {e}")))
}

/// The job of a dossier that must not exist yet, decided before the transaction and written
/// in one round trip; `None` when it is not such a job (a key to claim, a code to allocate) or
/// its decision appends nothing: then [`attempt`] runs it.
async fn attempt_new(pool: &Pool, job: &Execute) -> Option<Attempt<Executed>> {
    if job.expected_version != Some(0) || job.idempotency.is_some() {
        return None;
    }
    let mut probe = Codes {
        given: &[],
        next: 0,
        wanted: None,
        mismatch: false,
    };
    let out = (job.decide)(None, &mut probe);
    if probe.wanted.is_some() || probe.mismatch {
        return None;
    }
    // A refusal (or nothing to do) may be because the dossier exists after all: the usual way
    // reads it and answers from what is there.
    let events = match out {
        Ok(events) if !events.is_empty() => events,
        _ => return None,
    };
    let conn = match pool.get().await {
        Ok(c) => c,
        Err(e) => return Some(Err(super::pool_err(e).into())),
    };
    let mut tx = Tx {
        conn: Some(conn),
        open: true,
    };
    let result = write(&mut tx, job, None, "", events, true).await;
    if tx.open {
        tx.rollback().await;
    }
    Some(result)
}

async fn attempt(pool: &Pool, job: &Execute) -> Attempt<Executed> {
    let conn = pool.get().await.map_err(super::pool_err)?;
    let claim = match &job.idempotency {
        Some(_) => Some(conn.prepare_cached(CLAIM).await.map_err(pg_err)?),
        None => None,
    };
    let load = conn.prepare_cached(LOAD).await.map_err(pg_err)?;
    let mut tx = Tx {
        conn: Some(conn),
        open: true,
    };
    let id = job.dossier_id;

    // 1. BEGIN, claim the idempotency key, lock and read the dossier: one round trip.
    let c = tx.client();
    let load_args: [&(dyn ToSql + Sync); 1] = [&id];
    let (began, claimed, row) = tokio::join!(
        c.batch_execute("BEGIN"),
        async {
            match (&claim, &job.idempotency) {
                (Some(st), Some((actor, key))) => c.execute(st, &[actor, key, &id]).await.map(Some),
                _ => Ok(None),
            }
        },
        c.query_opt(&load, &load_args),
    );
    began.map_err(|e| classify(e, job))?;
    let claimed = claimed.map_err(|e| classify(e, job))?;
    let row = row.map_err(|e| classify(e, job))?;

    let result = run(&mut tx, job, claimed, row).await;
    if tx.open {
        tx.rollback().await;
    }
    result
}

async fn run(
    tx: &mut Tx,
    job: &Execute,
    claimed: Option<u64>,
    row: Option<tokio_postgres::Row>,
) -> Attempt<Executed> {
    let id = job.dossier_id;
    if claimed == Some(0) {
        // The key was used before (possibly by a transaction we just waited for).
        let (actor, key) = job.idempotency.as_ref().expect("claimed implies a key");
        let c = tx.client();
        let st = c.prepare_cached(CLAIMED).await.map_err(pg_err)?;
        let state: String = c
            .query_opt(&st, &[actor, key])
            .await
            .map_err(pg_err)?
            .ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "idempotency key `{key}` points at a missing dossier"
                ))
            })?
            .get(0);
        return Ok(Executed {
            dossier: serde_json::from_str(&state).map_err(corrupt)?,
            events: vec![],
            replayed: true,
        });
    }
    let (before, last_hash) = match row {
        Some(r) => (Some(decode_state(id, r.get(0))?), r.get::<_, String>(1)),
        None => (None, String::new()),
    };
    let version = before.as_ref().map_or(0, |d| d.version);
    if let Some(expected) = job.expected_version
        && expected != version
    {
        return Err(StoreError::VersionConflict {
            expected,
            actual: version,
        }
        .into());
    }

    // 2. The decision; codes are allocated between runs.
    let mut given: Vec<(AgencyCode, NaiveDate, DossierCode)> = Vec::new();
    let events: Vec<Event> = loop {
        let mut codes = Codes {
            given: &given,
            next: 0,
            wanted: None,
            mismatch: false,
        };
        let out = (job.decide)(before.as_ref(), &mut codes);
        if codes.mismatch {
            return Err(StoreError::Backend(
                "the decision is not deterministic (it asked for other codes when run again)"
                    .into(),
            )
            .into());
        }
        let Some((agency, date)) = codes.wanted else {
            break out.map_err(StoreError::from)?;
        };
        if given.len() >= MAX_CODES {
            return Err(StoreError::Backend(format!(
                "a decision asked for more than {MAX_CODES} codes"
            ))
            .into());
        }
        let c = tx.client();
        let st = c.prepare_cached(CODE).await.map_err(pg_err)?;
        let seq: i32 = c
            .query_one(&st, &[&agency.as_str(), &date])
            .await
            .map_err(|e| classify(e, job))?
            .get(0);
        let code = DossierCode::new(agency.clone(), date, seq as u32).map_err(|e| {
            StoreError::Domain(motcua_domain::dossier::DomainError::CodeAllocation(
                e.to_string(),
            ))
        })?;
        given.push((agency, date, code));
    };
    if events.is_empty() {
        let dossier = before.ok_or_else(|| StoreError::NotFound(format!("dossier {id}")))?;
        return Ok(Executed {
            dossier,
            events,
            replayed: false,
        });
    }

    write(tx, job, before, &last_hash, events, false).await
}

/// Step 3: writes everything and commits, in one round trip (preceded by `BEGIN` when `begin`:
/// the transaction is then opened in the same trip).
async fn write(
    tx: &mut Tx,
    job: &Execute,
    before: Option<Dossier>,
    last_hash: &str,
    events: Vec<Event>,
    mut begin: bool,
) -> Attempt<Executed> {
    let id = job.dossier_id;
    let p = plan(id, before, last_hash, &events)?;
    let d = &p.after;
    let state = &p.state_json;
    let seqs: Vec<i64> = p.rows.iter().map(|r| r.seq as i64).collect();
    let kinds: Vec<&str> = p.rows.iter().map(|r| r.kind).collect();
    let ats: Vec<DateTime<Utc>> = p.rows.iter().map(|r| r.at).collect();
    let actors: Vec<Uuid> = p.rows.iter().map(|r| r.actor).collect();
    let agencies: Vec<&str> = p.rows.iter().map(|r| r.agency.as_str()).collect();
    let bodies: Vec<&str> = p.rows.iter().map(|r| r.json.as_str()).collect();
    let prevs: Vec<&str> = p.rows.iter().map(|r| r.prev_hash.as_str()).collect();
    let hashes: Vec<&str> = p.rows.iter().map(|r| r.hash.as_str()).collect();
    // Summed per key and in key order: one row touched once, rows locked in one global order.
    let mut sums: BTreeMap<(&str, NaiveDate, &str), i64> = BTreeMap::new();
    for c in &p.counters {
        *sums
            .entry((c.agency.as_str(), c.day, c.metric.as_str()))
            .or_default() += c.delta;
    }
    let c_agency: Vec<&str> = sums.keys().map(|k| k.0).collect();
    let c_day: Vec<NaiveDate> = sums.keys().map(|k| k.1).collect();
    let c_metric: Vec<&str> = sums.keys().map(|k| k.2).collect();
    let c_value: Vec<i64> = sums.values().copied().collect();
    let shard = counter_shard(id);
    let o_topic: Vec<&str> = p.outbox.iter().map(|m| m.topic.as_str()).collect();
    let o_key: Vec<&str> = p.outbox.iter().map(|m| m.key.as_str()).collect();
    let o_payload: Vec<String> = p.outbox.iter().map(|m| m.payload.to_string()).collect();
    let now = p.rows.last().map_or_else(Utc::now, |r| r.at);
    let code = d.code.as_ref().map(|c| c.to_string());
    let procedure_code = d.procedure.code.to_string();
    let procedure_name = no_nul(&d.procedure.name);
    let applicant_name = no_nul(&d.applicant.name);
    let national_status = d.status.national_code() as i16;
    let version = d.version as i64;
    let channel = d.channel.as_str();
    let personal_id = d.applicant.personal_id.as_ref().map(|x| x.to_string());
    let params: [&(dyn ToSql + Sync); 38] = [
        &id,
        &seqs,
        &kinds,
        &ats,
        &actors,
        &agencies,
        &bodies,
        &prevs,
        &hashes,
        &code,
        &procedure_code,
        &procedure_name,
        &d.owner,
        &d.receiving_agency.as_str(),
        &d.competent_agency.as_str(),
        &d.current_agency.as_str(),
        &d.assignee,
        &d.status.as_str(),
        &national_status,
        &applicant_name,
        &d.submitted_at,
        &d.received_at,
        &d.due_at,
        &d.finished_at,
        &version,
        &p.last_hash,
        &state,
        &c_agency,
        &c_day,
        &c_metric,
        &c_value,
        &shard,
        &o_topic,
        &o_key,
        &o_payload,
        &now,
        &channel,
        &personal_id,
    ];
    let c = tx.client();
    if begin && !p.payments.is_empty() {
        c.batch_execute("BEGIN")
            .await
            .map_err(|e| classify(e, job))?;
        begin = false;
    }
    if !p.payments.is_empty() {
        // Rare (a fee paid): a round trip of its own inside the transaction, before the write.
        let st = c
            .prepare_cached(super::payments::WRITE_PAID)
            .await
            .map_err(pg_err)?;
        for paid in &p.payments {
            let tx_time = motcua_domain::payment::platform_time(paid.at);
            let n = c
                .execute(
                    &st,
                    &[
                        &paid.reference,
                        &id,
                        &paid.amount_vnd,
                        &paid.method.as_str(),
                        &tx_time,
                        &paid.actor,
                        &paid.transaction_id,
                        &paid.receipt,
                        &paid.receipt_no,
                        &paid.at,
                    ],
                )
                .await
                .map_err(|e| classify(e, job))?;
            if n != 1 {
                tx.rollback().await;
                return Err(Failure::Fail(StoreError::Duplicate(format!(
                    "payment {} is already recorded",
                    paid.reference
                ))));
            }
        }
    }
    let c = tx.client();
    let write = c.prepare_cached(WRITE).await.map_err(pg_err)?;
    // The documents' links, in the same transaction and the same round trip.
    let files = super::files::FileColumns::of(job.files.iter());
    let files_st = files.prepare(c).await?;
    let (began, linked, written, committed) = tokio::join!(
        async {
            match begin {
                true => c.batch_execute("BEGIN").await,
                false => Ok(()),
            }
        },
        files.write(c, files_st.as_ref()),
        c.execute(&write, &params),
        c.batch_execute("COMMIT")
    );
    // A failed link aborts the transaction: the write then fails too, for that reason. (`BEGIN`
    // on a pooled, idle connection fails only with the connection, and everything after it then.)
    let written = match began {
        Ok(()) => linked.and(written),
        Err(e) => Err(e),
    };
    // After a failed write the server ends the transaction with our COMMIT as a rollback.
    match (written, committed) {
        (Err(e), Ok(())) => {
            tx.open = false;
            Err(classify(e, job))
        }
        (Err(e), Err(_)) | (Ok(_), Err(e)) => Err(classify(e, job)),
        (Ok(_), Ok(())) => {
            tx.open = false;
            Ok(Executed {
                dossier: p.after,
                events,
                replayed: false,
            })
        }
    }
}

/// PostgreSQL text cannot hold NUL characters; the list columns are copies of the JSON state
/// (which escapes them), so they are dropped there.
pub(super) fn no_nul(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\0') {
        std::borrow::Cow::Owned(s.replace('\0', ""))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}
