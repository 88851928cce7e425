//! The single writer thread: owns the one read-write connection, takes jobs from a queue and
//! commits them in batches. One failure fails one request, not the batch: a job decided off
//! this thread is written without a savepoint and written again if a later one fails (see
//! [`commit_batch`]); any other runs under its own savepoint, except while the transaction
//! holds no other job's writes (then a failure rolls the transaction back and a new one
//! begins). Replies go out only after the batch's COMMIT returned and the WAL was fdatasynced
//! (see [`run`]): an acknowledged write survives `kill -9` and power loss.

use super::inbox_cache::Stale;
use super::packed::{Stored, Unpacked, pack};
use crate::plan::plan;
use crate::snapshot::{Compact, SnapshotCache, compact, digest, expand};
use crate::{Execute, Executed, Result, StoreError};
use chrono::NaiveDate;
use motcua_domain::codes::{AgencyCode, DossierCode};
use motcua_domain::dossier::{CodeAllocator, Dossier};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::oneshot;

/// Most jobs committed in one transaction.
const MAX_BATCH: usize = 512;

/// Fewest jobs a foreground batch waits for once it holds two or more (see [`gather`]).
const GATHER: usize = 16;

/// Longest a request's write waits in the queue for others to share its commit (see [`gather`]).
const GATHER_WAIT: std::time::Duration = std::time::Duration::from_millis(1);

/// An administrative write (catalogue, users, ...), run in the writer's transaction.
pub(crate) type AdminFn = Box<dyn FnOnce(&Connection) -> Result<()> + Send>;

/// Where a dossier command's answer goes: the caller's channel, and when the caller handed the
/// job over (for the queue-wait metric). The answer carries the moment it was sent, so that the
/// caller can tell how long its task waited to run again.
pub(crate) struct ExecTx {
    pub(crate) tx: oneshot::Sender<(Result<Executed>, Instant)>,
    pub(crate) sent: Instant,
}

/// Work for the writer.
pub(crate) enum Job {
    /// A dossier command.
    Exec(Box<Execute>, ExecTx),
    /// A dossier command already decided and planned off this thread.
    Prepared(Box<Prepared>, ExecTx),
    /// Any other write.
    Admin(AdminFn, oneshot::Sender<Result<()>>),
    /// A write of the background lane (see [`run`]); only ever sent on that lane.
    Background(AdminFn, oneshot::Sender<Result<()>>),
}

// One per job of a batch, short-lived: not worth boxing.
#[allow(clippy::large_enum_variant)]
enum Reply {
    Exec(ExecTx, Result<Executed>),
    Admin(oneshot::Sender<Result<()>>, Result<()>),
}

pub(crate) fn db_err(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Foreground batches in a row after which a waiting background job gets its turn, so that the
/// background lane is never starved by a saturated request load.
const FOREGROUND_STREAK: u32 = 4;

/// Runs until every sender is dropped. With `wal` (a file store), commits do not fsync
/// themselves (`synchronous=NORMAL`): a syncer thread fdatasyncs the WAL file and only then
/// answers the batches committed before that fsync began. The writer meanwhile executes the
/// next batch, so the fsync latency is overlapped instead of serialising every batch.
///
/// Two lanes (decision 0029): `rx` carries the request path's writes, `bg` the dispatcher's
/// and maintenance's (claims, acknowledgements, failures, pruning). A background job always
/// commits in a transaction of its own, one job at a time, and only when no foreground job is
/// waiting (or after [`FOREGROUND_STREAK`] foreground batches): a request never shares a batch
/// with the dispatcher's bookkeeping and waits behind at most one background job.
pub(crate) fn run(
    mut conn: Connection,
    rx: crossbeam_channel::Receiver<Job>,
    bg: crossbeam_channel::Receiver<Job>,
    wal: Option<std::fs::File>,
    inboxes: Option<Arc<super::inbox_cache::InboxCache>>,
) {
    let (sync_tx, sync_rx) = crossbeam_channel::unbounded::<Synced>();
    let syncer = std::thread::Builder::new()
        .name("motcua-sqlite-sync".into())
        .spawn(move || {
            crate::priority::raise_writer_thread("motcua-sqlite-sync");
            sync_loop(wal, sync_rx)
        })
        .expect("spawn the SQLite sync thread");
    // Writes wait for this thread and the syncer: ahead of the request threads when the cores
    // are busy (decision 0040).
    crate::priority::raise_writer_thread("motcua-sqlite-writer");
    let mut snaps = SnapIds::default();
    let mut streak = 0u32;
    let mut open = (true, true);
    while let Some(first) = next_job(&rx, &bg, &mut open, streak >= FOREGROUND_STREAK) {
        let batch = if matches!(first, Job::Background(..)) {
            streak = 0;
            vec![first]
        } else {
            streak += 1;
            let since = first.sent().unwrap_or_else(Instant::now);
            gather(first, since, &rx, GATHER, GATHER_WAIT)
        };
        metrics::histogram!("motcua_store_batch_size").record(batch.len() as f64);
        let started = Instant::now();
        for sent in batch.iter().filter_map(Job::sent) {
            metrics::histogram!("motcua_sqlite_write_wait_seconds", "stage" => "queue")
                .record(started.saturating_duration_since(sent).as_secs_f64());
        }
        let replies = commit_batch(&mut conn, batch, &mut snaps);
        let changed = snaps.take_changed_inboxes();
        // Committed, not yet answered: a request made after a reply reads afresh.
        let stale = match &inboxes {
            Some(cache) => cache.changed(changed.iter().map(String::as_str)),
            None => Stale::default(),
        };
        metrics::histogram!("motcua_sqlite_batch_seconds").record(started.elapsed().as_secs_f64());
        if sync_tx.send((replies, stale)).is_err() {
            break;
        }
    }
    drop(sync_tx);
    let _ = syncer.join();
}

impl Job {
    /// When the caller handed a dossier command over (none for other writes).
    fn sent(&self) -> Option<Instant> {
        match self {
            Job::Exec(_, tx) | Job::Prepared(_, tx) => Some(tx.sent),
            Job::Admin(..) | Job::Background(..) => None,
        }
    }
}

/// A foreground batch: `first`, everything queued behind it, and, when that makes two or more
/// jobs but fewer than `gather`, what else arrives until `since + wait` (decision 0052).
///
/// Every commit writes each page it changed to the WAL, and a batch of a few submissions
/// changes nearly as many pages as a batch of many (the right-hand leaves of the same b-trees):
/// under W1, batches of 3 jobs spent 40 % of the writer's time writing WAL frames. So while
/// requests arrive together, a batch waits a little for more: at most `wait` after the first
/// job was handed over (a job that already waited that long behind a busy writer waits no
/// more), and never for a lone job (one request at a time is answered as fast as before).
fn gather<J>(
    first: J,
    since: Instant,
    rx: &crossbeam_channel::Receiver<J>,
    gather: usize,
    wait: std::time::Duration,
) -> Vec<J> {
    let mut batch = Vec::with_capacity(gather.max(16));
    batch.push(first);
    let until = since + wait;
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(j) => batch.push(j),
            Err(crossbeam_channel::TryRecvError::Empty) if (2..gather).contains(&batch.len()) => {
                match rx.recv_deadline(until) {
                    Ok(j) => batch.push(j),
                    Err(_) => break,
                }
            }
            Err(_) => break,
        }
    }
    batch
}

/// The job to run next: a background one when the foreground lane is empty or `bg_due`, else a
/// foreground one; blocks until either lane has work. `None` once both lanes are closed.
fn next_job(
    rx: &crossbeam_channel::Receiver<Job>,
    bg: &crossbeam_channel::Receiver<Job>,
    open: &mut (bool, bool),
    bg_due: bool,
) -> Option<Job> {
    loop {
        if (bg_due || rx.is_empty())
            && let Ok(j) = bg.try_recv()
        {
            return Some(j);
        }
        if let Ok(j) = rx.try_recv() {
            return Some(j);
        }
        let got = match *open {
            (true, true) => crossbeam_channel::select! {
                recv(rx) -> j => j.map_err(|_| open.0 = false),
                recv(bg) -> j => j.map_err(|_| open.1 = false),
            },
            (true, false) => rx.recv().map_err(|_| open.0 = false),
            (false, true) => bg.recv().map_err(|_| open.1 = false),
            (false, false) => return None,
        };
        if let Ok(j) = got {
            return Some(j);
        }
    }
}

/// A committed batch on its way to the syncer: its answers, and what its commit made stale in
/// the inbox cache (dropped after the answers, off the writer's path).
type Synced = (Vec<Reply>, Stale);

/// Makes committed batches durable, many at a time, then answers them.
fn sync_loop(wal: Option<std::fs::File>, rx: crossbeam_channel::Receiver<Synced>) {
    while let Ok(first) = rx.recv() {
        let mut ready = vec![first];
        while let Ok(more) = rx.try_recv() {
            ready.push(more);
        }
        let started = Instant::now();
        let synced = match &wal {
            Some(f) => f
                .sync_data()
                .map_err(|e| format!("fsync of the WAL failed: {e}")),
            None => Ok(()),
        };
        metrics::histogram!("motcua_sqlite_fsync_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("motcua_sqlite_fsync_batches").record(ready.len() as f64);
        let mut stale = Vec::with_capacity(ready.len());
        for (replies, s) in ready {
            stale.push(s);
            for r in replies {
                // A caller that went away does not matter: its write is committed either way.
                match (r, &synced) {
                    (Reply::Exec(tx, v), Ok(())) => drop(tx.tx.send((v, Instant::now()))),
                    (Reply::Admin(tx, v), Ok(())) => drop(tx.send(v)),
                    (Reply::Exec(tx, _), Err(e)) => drop(
                        tx.tx
                            .send((Err(StoreError::Backend(e.clone())), Instant::now())),
                    ),
                    (Reply::Admin(tx, _), Err(e)) => {
                        drop(tx.send(Err(StoreError::Backend(e.clone()))))
                    }
                }
            }
        }
        // Answered: now free the stale inbox pages.
        drop(stale);
    }
}

/// Runs a batch in one transaction and commits it.
///
/// A prepared job still current when its turn comes (the common case: a submission or a command
/// decided off this thread) is written without a savepoint while the transaction holds only
/// such jobs' writes: a savepoint makes SQLite copy every page the job touches into a statement
/// journal first (16-18 % of the writer's time under W1, decision 0045). If one of them fails,
/// the transaction rolls back and the jobs written before it are written again, each under its
/// savepoint as below; they are kept until the commit for that.
///
/// Any other job (a command decided here, an administrative write) runs under its own
/// savepoint, except while the transaction holds no job's writes: if it fails then, the whole
/// transaction rolls back and a new one begins.
fn commit_batch(conn: &mut Connection, batch: Vec<Job>, snaps: &mut SnapIds) -> Vec<Reply> {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        return fail_all(batch, &db_err(e).to_string());
    }
    let mut t = Txn {
        replies: Vec::with_capacity(batch.len()),
        held: Vec::new(),
        empty: true,
        guarded: false,
    };
    let mut jobs = batch.into_iter();
    while let Some(job) = jobs.next() {
        let job = match job {
            Job::Prepared(pr, tx) if !t.guarded => match check_prepared(conn, &pr) {
                Ok(Check::Current) => {
                    if let Err(e) = write_current(conn, &pr, snaps) {
                        snaps.job_done(false);
                        t.replies.push(Reply::Exec(tx, Err(e)));
                        if let Err(msg) = t.rewrite_held(conn, snaps) {
                            t.replies.extend(jobs.map(|j| reply_err(j, &msg)));
                            return t.replies;
                        }
                        continue;
                    }
                    snaps.job_done(true);
                    t.held.push((pr, tx));
                    t.empty = false;
                    continue;
                }
                Ok(Check::Replayed(done)) => {
                    t.replies.push(Reply::Exec(tx, Ok(done)));
                    continue;
                }
                Ok(Check::Moved) => {
                    // Checked already: the writer decides it again, as `write_prepared` would.
                    metrics::counter!("motcua_store_prepared_redone_total").increment(1);
                    Job::Exec(Box::new(pr.job), tx)
                }
                Err(e) => {
                    t.replies.push(Reply::Exec(tx, Err(e)));
                    continue;
                }
            },
            job => job,
        };
        if let Err(msg) = t.run_guarded(conn, job, snaps) {
            t.replies.extend(jobs.map(|j| reply_err(j, &msg)));
            return t.replies;
        }
    }
    let committed = conn.execute_batch("COMMIT");
    snaps.batch_done(committed.is_ok());
    let Txn {
        mut replies, held, ..
    } = t;
    replies.extend(
        held.into_iter()
            .map(|(pr, tx)| Reply::Exec(tx, Ok(executed(*pr)))),
    );
    if let Err(e) = committed {
        let _ = conn.execute_batch("ROLLBACK");
        let msg = format!("commit failed: {e}");
        return replies
            .into_iter()
            .map(|r| match r {
                Reply::Exec(tx, _) => Reply::Exec(tx, Err(StoreError::Backend(msg.clone()))),
                Reply::Admin(tx, _) => Reply::Admin(tx, Err(StoreError::Backend(msg.clone()))),
            })
            .collect();
    }
    replies
}

/// A batch's open transaction.
struct Txn {
    /// Answers so far (the held jobs' come at the commit).
    replies: Vec<Reply>,
    /// Prepared jobs written without a savepoint, in order, answered at the commit.
    held: Vec<(Box<Prepared>, ExecTx)>,
    /// Whether the transaction holds no job's writes.
    empty: bool,
    /// Whether it holds writes of jobs that are not held (so every later job takes a
    /// savepoint: a rollback could not redo them).
    guarded: bool,
}

impl Txn {
    /// Runs `job` under its savepoint (none while the transaction is empty). `Err` when the
    /// transaction could not begin again after a failure: the message for the jobs left.
    fn run_guarded(
        &mut self,
        conn: &Connection,
        job: Job,
        snaps: &mut SnapIds,
    ) -> std::result::Result<(), String> {
        let empty = self.empty;
        if !empty && let Err(e) = run_cached(conn, "SAVEPOINT job") {
            self.replies.push(reply_err(job, &db_err(e).to_string()));
            return Ok(());
        }
        let (reply, ok) = match job {
            Job::Exec(ex, tx) => {
                let r = execute(conn, *ex, snaps);
                let ok = r.is_ok();
                (Reply::Exec(tx, r), ok)
            }
            Job::Prepared(pr, tx) => {
                let r = write_prepared(conn, *pr, snaps);
                let ok = r.is_ok();
                (Reply::Exec(tx, r), ok)
            }
            Job::Admin(f, tx) | Job::Background(f, tx) => {
                let r = f(conn);
                let ok = r.is_ok();
                (Reply::Admin(tx, r), ok)
            }
        };
        self.replies.push(reply);
        if !empty {
            finish_savepoint(conn, ok);
        } else if !ok {
            // Nothing else was in the transaction: start again without the failed job.
            let _ = conn.execute_batch("ROLLBACK");
            if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
                snaps.job_done(false);
                snaps.batch_done(false);
                return Err(db_err(e).to_string());
            }
        }
        // (An administrative job notes no snapshot or inbox, so this is a no-op for it.)
        snaps.job_done(ok);
        self.empty &= !ok;
        self.guarded |= ok;
        Ok(())
    }

    /// After a held job failed: rolls the transaction back, begins another and writes the
    /// held jobs again, each under its savepoint (once one of them is written, the rest of the
    /// batch takes savepoints too).
    fn rewrite_held(
        &mut self,
        conn: &Connection,
        snaps: &mut SnapIds,
    ) -> std::result::Result<(), String> {
        metrics::counter!("motcua_sqlite_batch_rewritten_total").increment(1);
        let _ = conn.execute_batch("ROLLBACK");
        snaps.batch_done(false);
        self.empty = true;
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            let msg = db_err(e).to_string();
            let held = std::mem::take(&mut self.held);
            self.replies.extend(
                held.into_iter()
                    .map(|(_, tx)| Reply::Exec(tx, Err(StoreError::Backend(msg.clone())))),
            );
            return Err(msg);
        }
        for (pr, tx) in std::mem::take(&mut self.held) {
            self.run_guarded(conn, Job::Prepared(pr, tx), snaps)?;
        }
        Ok(())
    }
}

fn finish_savepoint(conn: &Connection, ok: bool) {
    if !ok {
        let _ = run_cached(conn, "ROLLBACK TO job");
    }
    let _ = run_cached(conn, "RELEASE job");
}

/// Runs a statement without parameters, prepared once per connection.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// A plan's documents as this backend stores them (see [`crate::snapshot`]): the `submitted`
/// event and the state without their procedure snapshot. Computed before the job reaches the
/// writer whenever the plan was.
pub(crate) struct Compacted {
    events: Vec<Option<Compact>>,
    state: Compact,
    /// Each event's stored text compressed, where that pays (decision 0051).
    packed_events: Vec<Option<Vec<u8>>>,
    /// The stored state compressed, where that pays.
    packed_state: Option<Vec<u8>>,
    /// Each outbox message's payload compressed, where that pays.
    packed_outbox: Vec<Option<Vec<u8>>>,
}

impl Compacted {
    /// What a plan's documents are stored as: the snapshot cut out, then compressed. Built off
    /// the writer thread for a prepared job.
    pub(crate) fn of(p: &crate::plan::Plan) -> Compacted {
        let events: Vec<Option<Compact>> = p
            .rows
            .iter()
            .map(|r| {
                // Only the `submitted` event carries the snapshot.
                (r.kind == "submitted")
                    .then(|| compact(&r.json, &p.snapshot))
                    .filter(|c| c.at.is_some())
            })
            .collect();
        let packed_events = p
            .rows
            .iter()
            .zip(&events)
            .map(|(r, c)| pack(c.as_ref().map_or(r.json.as_str(), |c| c.text.as_str())))
            .collect();
        let state = compact(&p.state_json, &p.snapshot);
        let packed_state = pack(&state.text);
        Compacted {
            events,
            state,
            packed_events,
            packed_state,
            packed_outbox: p.outbox_payloads.iter().map(|m| pack(m)).collect(),
        }
    }
}

fn reply_err(job: Job, msg: &str) -> Reply {
    match job {
        Job::Exec(_, tx) | Job::Prepared(_, tx) => {
            Reply::Exec(tx, Err(StoreError::Backend(msg.into())))
        }
        Job::Admin(_, tx) | Job::Background(_, tx) => {
            Reply::Admin(tx, Err(StoreError::Backend(msg.into())))
        }
    }
}

fn fail_all(batch: Vec<Job>, msg: &str) -> Vec<Reply> {
    batch.into_iter().map(|j| reply_err(j, msg)).collect()
}

/// Issues codes from the `code_counters` row of (agency, day), inside the open transaction.
struct SqliteCodes<'c>(&'c Connection);

impl CodeAllocator for SqliteCodes<'_> {
    fn allocate(
        &mut self,
        agency: &AgencyCode,
        date: NaiveDate,
    ) -> std::result::Result<DossierCode, String> {
        let seq: i64 = self
            .0
            .prepare_cached(
                "INSERT INTO code_counters (agency, day, last) VALUES (?1, ?2, 1)
                 ON CONFLICT (agency, day) DO UPDATE SET last = last + 1 RETURNING last",
            )
            .and_then(|mut st| {
                st.query_row(params![agency.as_str(), date.to_string()], |r| r.get(0))
            })
            .map_err(|e| e.to_string())?;
        DossierCode::new(agency.clone(), date, seq as u32).map_err(|e| e.to_string())
    }
}

/// Snapshot ids the writer knows: committed ones, those written by this batch's finished jobs,
/// and those of the job running now (forgotten if its savepoint rolls back, as is the row).
#[derive(Default)]
pub(crate) struct SnapIds {
    committed: HashMap<Arc<str>, i64>,
    batch: Vec<(Arc<str>, i64)>,
    job: Vec<(Arc<str>, i64)>,
    // Agencies whose inboxes the running job and this batch's finished jobs changed (the
    // inbox cache drops theirs after the commit; see inbox_cache.rs).
    inboxes_job: Vec<String>,
    inboxes_batch: Vec<String>,
}

impl SnapIds {
    /// The id of the stored snapshot with this JSON, stored now if new.
    fn id(&mut self, conn: &Connection, json: &Arc<str>) -> Result<i64> {
        if let Some(id) = self.committed.get(json) {
            return Ok(*id);
        }
        if let Some((_, id)) = self.job.iter().chain(&self.batch).find(|(j, _)| j == json) {
            return Ok(*id);
        }
        let d = digest(json);
        conn.prepare_cached(
            "INSERT INTO snapshots (digest, body) VALUES (?1, ?2) ON CONFLICT (digest) DO NOTHING",
        )
        .map_err(db_err)?
        .execute(params![d, &**json])
        .map_err(db_err)?;
        let id: i64 = conn
            .prepare_cached("SELECT id FROM snapshots WHERE digest = ?1")
            .map_err(db_err)?
            .query_row([&d], |r| r.get(0))
            .map_err(db_err)?;
        self.job.push((json.clone(), id));
        Ok(id)
    }

    fn job_done(&mut self, ok: bool) {
        if ok {
            self.batch.append(&mut self.job);
            self.inboxes_batch.append(&mut self.inboxes_job);
        } else {
            self.job.clear();
            self.inboxes_job.clear();
        }
    }

    /// A dossier row was written: the inbox of the agency it left (if any) and of the one it is
    /// in changed.
    fn inbox_changed(&mut self, before: Option<&str>, after: &str) {
        if let Some(b) = before.filter(|b| *b != after) {
            self.inboxes_job.push(b.to_string());
        }
        self.inboxes_job.push(after.to_string());
    }

    /// The agencies whose inboxes the committed batch changed (each once).
    fn take_changed_inboxes(&mut self) -> Vec<String> {
        let mut v = std::mem::take(&mut self.inboxes_batch);
        v.sort_unstable();
        v.dedup();
        v
    }

    fn batch_done(&mut self, ok: bool) {
        if ok {
            if self.committed.len() > 100_000 {
                self.committed.clear();
            }
            self.committed.extend(self.batch.drain(..));
        } else {
            self.batch.clear();
            self.inboxes_batch.clear();
        }
    }
}

/// The JSON of a stored snapshot, through `cache` when given (only for connections that see
/// committed data alone).
fn snapshot_json(conn: &Connection, cache: Option<&SnapshotCache>, id: i64) -> Result<Arc<str>> {
    if let Some(j) = cache.and_then(|c| c.get(id)) {
        return Ok(j);
    }
    let body: String = conn
        .prepare_cached("SELECT body FROM snapshots WHERE id = ?1")
        .map_err(db_err)?
        .query_row([id], |r| r.get(0))
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| StoreError::Corrupt(format!("procedure snapshot {id} is missing")))?;
    let json: Arc<str> = body.into();
    if let Some(c) = cache {
        c.put(id, json.clone());
    }
    Ok(json)
}

/// A stored document back in its canonical JSON (see [`crate::snapshot`]).
pub(crate) fn full_json(
    conn: &Connection,
    cache: Option<&SnapshotCache>,
    text: String,
    snap: Option<i64>,
    at: Option<i64>,
) -> Result<String> {
    match (snap, at) {
        (Some(id), Some(at)) => {
            let snapshot = snapshot_json(conn, cache, id)?;
            usize::try_from(at)
                .ok()
                .and_then(|at| expand(&text, at, &snapshot))
                .ok_or_else(|| StoreError::Corrupt(format!("bad snapshot position {at}")))
        }
        _ => Ok(text),
    }
}

/// A dossier's state and the last hash of its chain.
pub(crate) fn load_state(
    conn: &Connection,
    id: &str,
    cache: Option<&SnapshotCache>,
) -> Result<Option<(Dossier, String)>> {
    type Row = (String, String, Option<i64>, Option<i64>);
    let row: Option<Row> = conn
        .prepare_cached("SELECT state, last_hash, snap, snap_at FROM dossier_states WHERE id = ?1")
        .map_err(db_err)?
        .query_row([id], |r| {
            Ok((r.get::<_, Unpacked>(0)?.0, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()
        .map_err(db_err)?;
    row.map(|(s, h, snap, at)| {
        let json = full_json(conn, cache, s, snap, at)?;
        serde_json::from_str(&json)
            .map(|d| (d, h))
            .map_err(|e| StoreError::Corrupt(format!("dossier {id}: {e}")))
    })
    .transpose()
}

fn execute(conn: &Connection, ex: Execute, snaps: &mut SnapIds) -> Result<Executed> {
    let id = ex.dossier_id.to_string();
    if let Some(done) = replay_if_known(conn, &ex.idempotency)? {
        return Ok(done);
    }
    let current = load_state(conn, &id, None)?;
    let version = current.as_ref().map_or(0, |(d, _)| d.version);
    if let Some(expected) = ex.expected_version
        && expected != version
    {
        return Err(StoreError::VersionConflict {
            expected,
            actual: version,
        });
    }
    let (before, last_hash) = match current {
        Some((d, h)) => (Some(d), h),
        None => (None, String::new()),
    };
    let events = (ex.decide)(before.as_ref(), &mut SqliteCodes(conn))?;
    if events.is_empty() {
        let dossier = before.ok_or_else(|| StoreError::NotFound(format!("dossier {id}")))?;
        return Ok(Executed {
            dossier,
            events,
            replayed: false,
        });
    }
    let p = plan(ex.dossier_id, before, &last_hash, &events)?;
    write_plan(conn, &id, &p, &Compacted::of(&p), &ex.idempotency, snaps)?;
    super::files::write_files(conn, &ex.files)?;
    Ok(Executed {
        dossier: p.after,
        events,
        replayed: false,
    })
}

/// Writes what a plan says: events, the dossier row, counters, outbox, idempotency key.
fn write_plan(
    conn: &Connection,
    id: &str,
    p: &crate::plan::Plan,
    compacted: &Compacted,
    idempotency: &Option<(uuid::Uuid, String)>,
    snaps: &mut SnapIds,
) -> Result<()> {
    let snap = snaps.id(conn, &p.snapshot)?;
    {
        let mut ins = conn
            .prepare_cached(
                "INSERT INTO events (dossier_id, seq, kind, at, actor, agency, body, hash, snap, snap_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .map_err(db_err)?;
        for ((r, c), packed) in p
            .rows
            .iter()
            .zip(&compacted.events)
            .zip(&compacted.packed_events)
        {
            let (body, at) = match c {
                Some(c) => (c.text.as_str(), c.at.map(|a| a as i64)),
                None => (r.json.as_str(), None),
            };
            let body = Stored(body, packed.as_deref());
            ins.execute(params![
                id,
                r.seq as i64,
                r.kind,
                r.at.timestamp_micros(),
                r.actor.to_string(),
                r.agency,
                body,
                r.hash,
                at.map(|_| snap),
                at
            ])
            .map_err(db_err)?;
        }
    }
    let d = &p.after;
    let state = &compacted.state;
    conn.prepare_cached(
        "INSERT INTO dossiers (id, code, procedure_code, procedure_name, owner, receiving_agency,
            competent_agency, current_agency, assignee, status, national_status, applicant_name,
            submitted_at, received_at, due_at, finished_at, version, channel, applicant_personal_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
         ON CONFLICT (id) DO UPDATE SET code = excluded.code, current_agency = excluded.current_agency,
            channel = excluded.channel, applicant_personal_id = excluded.applicant_personal_id,
            assignee = excluded.assignee, status = excluded.status,
            national_status = excluded.national_status, received_at = excluded.received_at,
            due_at = excluded.due_at, finished_at = excluded.finished_at,
            version = excluded.version",
    )
    .map_err(db_err)?
    .execute(params![
        id,
        d.code.as_ref().map(|c| c.to_string()),
        d.procedure.code.to_string(),
        d.procedure.name,
        d.owner.map(|o| o.to_string()),
        d.receiving_agency.as_str(),
        d.competent_agency.as_str(),
        d.current_agency.as_str(),
        d.assignee.map(|o| o.to_string()),
        d.status.as_str(),
        d.status.national_code(),
        d.applicant.name,
        d.submitted_at.timestamp_micros(),
        d.received_at.map(|t| t.timestamp_micros()),
        d.due_at.map(|t| t.timestamp_micros()),
        d.finished_at.map(|t| t.timestamp_micros()),
        d.version as i64,
        d.channel.as_str(),
        d.applicant.personal_id.as_ref().map(|x| x.to_string())
    ])
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            StoreError::Duplicate("dossier code".into())
        }
        e => db_err(e),
    })?;
    snaps.inbox_changed(p.before_agency.as_deref(), d.current_agency.as_str());
    conn.prepare_cached(
        "INSERT INTO dossier_states (id, last_hash, state, snap, snap_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET last_hash = excluded.last_hash, state = excluded.state,
            snap = excluded.snap, snap_at = excluded.snap_at",
    )
    .map_err(db_err)?
    .execute(params![
        id,
        p.last_hash,
        Stored(&state.text, compacted.packed_state.as_deref()),
        state.at.map(|_| snap),
        state.at.map(|a| a as i64)
    ])
    .map_err(db_err)?;
    if !p.counters.is_empty() {
        let mut up = conn
            .prepare_cached(
                "INSERT INTO counters (agency, day, metric, value) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (agency, day, metric) DO UPDATE SET value = value + excluded.value",
            )
            .map_err(db_err)?;
        for c in &p.counters {
            up.execute(params![
                c.agency.as_str(),
                c.day.to_string(),
                c.metric,
                c.delta
            ])
            .map_err(db_err)?;
        }
    }
    if !p.outbox.is_empty() {
        let now = p.rows.last().map_or(0, |r| r.at.timestamp_micros());
        let mut ins = conn
            .prepare_cached(
                "INSERT INTO outbox (topic, key, payload, created_at) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(db_err)?;
        for ((m, payload), packed) in p
            .outbox
            .iter()
            .zip(&p.outbox_payloads)
            .zip(&compacted.packed_outbox)
        {
            ins.execute(params![
                m.topic,
                m.key,
                Stored(payload, packed.as_deref()),
                now
            ])
            .map_err(db_err)?;
        }
    }
    for paid in &p.payments {
        super::payments::write_paid(conn, id, paid)?;
    }
    if let Some((actor, key)) = idempotency {
        conn.prepare_cached("INSERT INTO idempotency (actor, key, dossier_id) VALUES (?1, ?2, ?3)")
            .map_err(db_err)?
            .execute(params![actor.to_string(), key, id])
            .map_err(db_err)?;
    }
    Ok(())
}

/// The dossier an idempotency key already created, if any.
fn replay_if_known(
    conn: &Connection,
    idempotency: &Option<(uuid::Uuid, String)>,
) -> Result<Option<Executed>> {
    let Some((actor, key)) = idempotency else {
        return Ok(None);
    };
    let existing: Option<String> = conn
        .prepare_cached("SELECT dossier_id FROM idempotency WHERE actor = ?1 AND key = ?2")
        .map_err(db_err)?
        .query_row(params![actor.to_string(), key], |r| r.get(0))
        .optional()
        .map_err(db_err)?;
    let Some(existing) = existing else {
        return Ok(None);
    };
    let (dossier, _) = load_state(conn, &existing, None)?.ok_or_else(|| {
        StoreError::Corrupt(format!(
            "idempotency key points at missing dossier {existing}"
        ))
    })?;
    Ok(Some(Executed {
        dossier,
        events: vec![],
        replayed: true,
    }))
}

/// A job whose decision and plan were computed off the writer thread on the state at
/// `base_version`. The writer only checks that the dossier is still there and writes; if it
/// moved meanwhile, the writer decides again itself.
pub(crate) struct Prepared {
    pub job: Execute,
    pub base_version: u64,
    pub plan: crate::plan::Plan,
    pub compacted: Compacted,
    pub events: Vec<motcua_domain::dossier::Event>,
}

/// What the writer finds of a prepared job before writing it.
// Short-lived, one per job; the replayed answer is rare and not worth boxing.
#[allow(clippy::large_enum_variant)]
enum Check {
    /// Its idempotency key already made a dossier: that one is the answer, nothing is written.
    Replayed(Executed),
    /// The dossier is where the job was decided: its plan can be written as it is.
    Current,
    /// The dossier moved since: the writer decides again.
    Moved,
}

/// Reads (writes nothing) whether `pr` may be written as planned.
fn check_prepared(conn: &Connection, pr: &Prepared) -> Result<Check> {
    if let Some(done) = replay_if_known(conn, &pr.job.idempotency)? {
        return Ok(Check::Replayed(done));
    }
    let current: i64 = conn
        .prepare_cached("SELECT version FROM dossiers WHERE id = ?1")
        .map_err(db_err)?
        .query_row([pr.job.dossier_id.to_string()], |r| r.get(0))
        .optional()
        .map_err(db_err)?
        .unwrap_or(0);
    Ok(if current as u64 == pr.base_version {
        Check::Current
    } else {
        Check::Moved
    })
}

/// Writes a current prepared job's plan and files; can be run again after a rollback.
fn write_current(conn: &Connection, pr: &Prepared, snaps: &mut SnapIds) -> Result<()> {
    let id = pr.job.dossier_id.to_string();
    write_plan(
        conn,
        &id,
        &pr.plan,
        &pr.compacted,
        &pr.job.idempotency,
        snaps,
    )?;
    super::files::write_files(conn, &pr.job.files)
}

/// The answer of a prepared job that was written.
fn executed(pr: Prepared) -> Executed {
    Executed {
        dossier: pr.plan.after,
        events: pr.events,
        replayed: false,
    }
}

fn write_prepared(conn: &Connection, pr: Prepared, snaps: &mut SnapIds) -> Result<Executed> {
    match check_prepared(conn, &pr)? {
        Check::Replayed(done) => Ok(done),
        Check::Moved => {
            metrics::counter!("motcua_store_prepared_redone_total").increment(1);
            execute(conn, pr.job, snaps)
        }
        Check::Current => {
            write_current(conn, &pr, snaps)?;
            Ok(executed(pr))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    /// A long wait: a gather that waited it out would hang the test, never pass it.
    const LONG: std::time::Duration = std::time::Duration::from_secs(30);

    #[test]
    fn a_lone_job_is_not_held_back() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let batch = gather(1, Instant::now(), &rx, 16, LONG);
        // Sent after the batch was formed: it belongs to the next one.
        tx.send(2).unwrap();
        assert_eq!(batch, vec![1]);
    }

    #[test]
    fn jobs_that_arrive_together_wait_for_more_up_to_the_gather() {
        let (tx, rx) = crossbeam_channel::unbounded();
        tx.send(2).unwrap();
        let late = std::thread::spawn(move || {
            for j in 3..=20 {
                std::thread::sleep(std::time::Duration::from_millis(2));
                tx.send(j).unwrap();
            }
        });
        // Two jobs queued: the batch waits for the rest, up to 5 jobs, and stops there.
        let batch = gather(1, Instant::now(), &rx, 5, LONG);
        assert_eq!(batch, vec![1, 2, 3, 4, 5]);
        late.join().unwrap();
        assert_eq!(rx.try_iter().count(), 15, "the later jobs stay queued");
    }

    #[test]
    fn a_job_that_already_waited_its_time_waits_no_more() {
        let (tx, rx) = crossbeam_channel::unbounded();
        tx.send(2).unwrap();
        // Handed over long ago (a busy writer): what is queued goes at once, nothing is awaited.
        let since = Instant::now() - LONG;
        let batch = gather(1, since, &rx, 16, LONG);
        tx.send(3).unwrap();
        assert_eq!(batch, vec![1, 2]);
    }

    #[test]
    fn a_batch_never_exceeds_its_largest_size() {
        let (tx, rx) = crossbeam_channel::unbounded();
        for j in 1..=MAX_BATCH + 10 {
            tx.send(j).unwrap();
        }
        let first = rx.recv().unwrap();
        let batch = gather(first, Instant::now(), &rx, 16, LONG);
        assert_eq!(batch.len(), MAX_BATCH);
        assert_eq!(rx.try_iter().count(), 10);
    }

    /// An administrative job that inserts `n` and then fails or not.
    fn insert(n: i64, fail: bool) -> (Job, oneshot::Receiver<Result<()>>) {
        let (tx, rx) = oneshot::channel();
        let f: AdminFn = Box::new(move |c: &Connection| {
            c.execute("INSERT INTO t (n) VALUES (?1)", [n])
                .map_err(db_err)?;
            if fail {
                return Err(StoreError::Backend(format!("job {n} fails")));
            }
            Ok(())
        });
        (Job::Admin(f, tx), rx)
    }

    /// A citizen's online submission of a new dossier `id`, decided and planned as the request
    /// path does; its one file is linked by `linker` (a user that must exist).
    fn prepared_submission(id: Uuid, linker: Uuid) -> Box<Prepared> {
        use crate::fixtures;
        use motcua_domain::files::{AttachmentKind, FileKey};
        let key = FileKey::of(id.as_bytes());
        let cmd = fixtures::submission("1.001193", Some(key.reference()));
        let now = chrono::Utc::now();
        let events = fixtures::decided(
            None,
            &cmd,
            &fixtures::citizen(linker),
            now,
            &mut fixtures::Codes::default(),
        );
        let plan = plan(id, None, "", &events).unwrap();
        let files = vec![crate::SaveFile {
            file: crate::FileRecord {
                key: key.clone(),
                size: 3,
                mime: "application/pdf".into(),
                created_at: now,
            },
            vault: vec![],
            links: vec![crate::DossierFile {
                dossier_id: id,
                kind: AttachmentKind::Component,
                slot: "Đơn đề nghị".into(),
                key,
                name: "don.pdf".into(),
                uploaded_by: linker,
                uploaded_at: now,
            }],
        }];
        Box::new(Prepared {
            job: Execute {
                dossier_id: id,
                expected_version: Some(0),
                idempotency: None,
                decide: Box::new(|_, _| {
                    Err(motcua_domain::dossier::DomainError::Forbidden(
                        "decided already".into(),
                    ))
                }),
                files,
            },
            base_version: 0,
            compacted: Compacted::of(&plan),
            plan,
            events,
        })
    }

    /// Runs one batch of `n` prepared submissions whose job `failing` names a linking user
    /// that does not exist; the dossier ids and whether each job was answered with success.
    fn batch_with_a_failure(
        conn: &mut Connection,
        snaps: &mut SnapIds,
        user: Uuid,
        n: usize,
        failing: usize,
    ) -> (Vec<Uuid>, Vec<bool>) {
        let ids: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
        let mut answers = Vec::new();
        let batch: Vec<Job> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let linker = if i == failing { Uuid::new_v4() } else { user };
                let (tx, rx) = oneshot::channel();
                answers.push(rx);
                let tx = ExecTx {
                    tx,
                    sent: Instant::now(),
                };
                Job::Prepared(prepared_submission(*id, linker), tx)
            })
            .collect();
        let replies = commit_batch(conn, batch, snaps);
        assert_eq!(replies.len(), n, "every job is answered once");
        for r in replies {
            match r {
                Reply::Exec(tx, v) => drop(tx.tx.send((v, Instant::now()))),
                Reply::Admin(..) => unreachable!(),
            }
        }
        let oks = answers
            .into_iter()
            .map(|mut a| a.try_recv().expect("answered").0.is_ok())
            .collect();
        (ids, oks)
    }

    /// Prepared jobs are written without savepoints. When the third of five fails (its file
    /// link names a user that does not exist), the transaction is rolled back, the two before
    /// it written again, and the batch goes on; when the first of three fails, there is
    /// nothing to write again. Every other dossier commits, a failed one leaves no row, and
    /// each job is answered once.
    #[test]
    fn a_failed_prepared_job_rewrites_the_ones_before_it() {
        let dir = std::env::temp_dir().join(format!("motcua-writer-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut conn = Connection::open(dir.join("t.db")).unwrap();
        super::super::tune(&conn, true).unwrap();
        super::super::migrate(&conn).unwrap();
        let user = Uuid::new_v4();
        conn.execute(
            "INSERT INTO users (id, username, password_hash, name, role, agency, disabled)
             VALUES (?1, 'an', '', 'Nguyễn Văn An', 'citizen', NULL, 0)",
            [user.to_string()],
        )
        .unwrap();
        let mut snaps = SnapIds::default();
        for (n, failing) in [(5, 2), (3, 0)] {
            let (ids, oks) = batch_with_a_failure(&mut conn, &mut snaps, user, n, failing);
            let want: Vec<bool> = (0..n).map(|i| i != failing).collect();
            assert_eq!(oks, want);
            assert!(conn.is_autocommit(), "the batch's transaction is closed");
            for (i, id) in ids.iter().enumerate() {
                let count = |table: &str, col: &str| -> i64 {
                    conn.query_row(
                        &format!("SELECT count(*) FROM {table} WHERE {col} = ?1"),
                        [id.to_string()],
                        |r| r.get(0),
                    )
                    .unwrap()
                };
                let want = i64::from(i != failing);
                assert_eq!(count("dossiers", "id"), want, "dossier {i} of {n}");
                assert_eq!(count("dossier_states", "id"), want, "state {i} of {n}");
                assert_eq!(count("events", "dossier_id"), want, "event {i} of {n}");
                assert_eq!(
                    count("dossier_files", "dossier_id"),
                    want,
                    "link {i} of {n}"
                );
            }
        }
        // The snapshot the rolled-back jobs stored is known by its committed id.
        let snap: i64 = conn
            .query_row("SELECT count(*) FROM snapshots", [], |r| r.get(0))
            .unwrap();
        assert_eq!(snap, 1);
        assert_eq!(snaps.committed.len(), 1);
        let known = *snaps.committed.values().next().unwrap();
        let used: Vec<i64> = conn
            .prepare("SELECT DISTINCT snap FROM dossier_states")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(used, [known]);
        drop(conn);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_failed_job_leaves_nothing_and_the_others_commit() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .unwrap();
        // The first job fails while the transaction is empty (no savepoint: the transaction
        // starts again), later ones fail under their savepoints; a job whose own statement
        // fails (a duplicate key) fails alone too.
        let plan = [
            (1, true),
            (1, true),
            (2, false),
            (3, true),
            (4, false),
            (2, false),
            (5, false),
        ];
        let (batch, answers): (Vec<_>, Vec<_>) =
            plan.iter().map(|&(n, fail)| insert(n, fail)).unzip();
        let replies = commit_batch(&mut conn, batch, &mut SnapIds::default());
        let mut oks = Vec::new();
        for r in replies {
            match r {
                Reply::Admin(tx, v) => {
                    oks.push(v.is_ok());
                    let _ = tx.send(v);
                }
                Reply::Exec(..) => unreachable!(),
            }
        }
        assert_eq!(oks, [false, false, true, false, true, false, true]);
        for mut a in answers {
            assert!(a.try_recv().is_ok(), "every job is answered");
        }
        let kept: Vec<i64> = conn
            .prepare("SELECT n FROM t ORDER BY n")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(kept, [2, 4, 5]);
        assert!(conn.is_autocommit(), "the batch's transaction is closed");
    }
}
