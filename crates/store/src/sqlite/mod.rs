//! The SQLite backend: WAL, one writer thread with group commit ([`writer`]), a pool of
//! read-only connections for queries.

mod accounts;
mod drafts;
mod feedback;
mod files;
mod inbound;
mod inbox;
mod inbox_cache;
mod outbox;
mod packed;
mod payments;
mod portal;
mod queue;
mod state;
mod stats;
mod users;
mod writer;

use crate::ProcedureChange;
use crate::plan::check_log;
use crate::snapshot::SnapshotCache;
use crate::{
    AdminUnit, CounterQuery, CounterRow, DossierQuery, DossierSummary, Execute, Executed,
    OutboxRow, ProcedureQuery, ProcedureRecord, ProcedureSummary, PublicStatusRow, Result,
    StoreError, StoredEvent, TokenRecord, UserRecord, VerifyReport,
};
use chrono::{DateTime, Utc};
use motcua_domain::agency::{Agency, Role};
use motcua_domain::calendar::CalendarSettings;
use motcua_domain::codes::{AgencyCode, DossierCode};
use motcua_domain::dossier::Dossier;
use motcua_domain::procedure::VersionStatus;
use motcua_domain::status::Status;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;
use uuid::Uuid;
use writer::{Job, db_err};

/// Migrations, in order; migration `n` is `MIGRATIONS[n - 1]`, recorded in `user_version`.
const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("migrate_2.sql"),
    include_str!("migrate_3.sql"),
    include_str!("migrate_4.sql"),
    include_str!("migrate_5.sql"),
    include_str!("migrate_6.sql"),
    include_str!("migrate_7.sql"),
    include_str!("migrate_8.sql"),
    include_str!("migrate_9.sql"),
    include_str!("migrate_11.sql"),
    include_str!("migrate_12.sql"),
    include_str!("migrate_13.sql"),
    include_str!("migrate_14.sql"),
    include_str!("migrate_15.sql"),
    include_str!("migrate_16.sql"),
    include_str!("migrate_17.sql"),
    include_str!("migrate_18.sql"),
    include_str!("migrate_20.sql"),
    include_str!("migrate_21.sql"),
    include_str!("migrate_22.sql"),
    include_str!("migrate_23.sql"),
    include_str!("migrate_24.sql"),
    include_str!("migrate_25.sql"),
    include_str!("migrate_29.sql"),
    include_str!("migrate_30.sql"),
    include_str!("migrate_31.sql"),
];
const READERS: usize = 8;
/// WAL size (pages) past which the checkpointer makes the next writer restart it from the start.
const WAL_RESTART_PAGES: i64 = 32_768;

/// SQLite store handle; cheap to clone.
#[derive(Clone)]
pub struct SqliteStore {
    tx: crossbeam_channel::Sender<Job>,
    // The writer's background lane (dispatcher and maintenance writes; see writer::run).
    bg: crossbeam_channel::Sender<Job>,
    // Outbox leases, kept in memory: one process owns a SQLite database (see outbox.rs).
    leases: Arc<Mutex<outbox::Leases>>,
    readers: Arc<Vec<Mutex<Connection>>>,
    // Keeps an in-memory database alive for the readers (shared cache).
    _keepalive: Option<Arc<Mutex<Connection>>>,
    // Background threads stop when the last clone of the store is dropped.
    alive: Arc<()>,
    // Procedure snapshots read by the readers (None for in-memory stores, whose readers may see
    // uncommitted rows).
    snaps: Option<Arc<SnapshotCache>>,
    // Recent inbox reads, dropped when the agency's inbox changes (None for in-memory stores,
    // for the same reason as `snaps`; see inbox_cache.rs).
    inboxes: Option<Arc<inbox_cache::InboxCache>>,
}

/// Turns off SQLite's process-wide memory statistics before the first connection opens: with
/// them on, every allocation SQLite makes takes one global mutex, which the readers of a busy
/// server fight over (seen in profiles of the inbox benchmark). Nothing here reads the
/// statistics. SQLite refuses the setting once initialised (e.g. when another library opened a
/// connection first): then it simply stays on.
fn configure_process() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sqlite3_config is called before any connection of ours exists, with the
        // option's documented single int argument; a refusal is a return code, not UB.
        let rc = unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS,
                0 as std::ffi::c_int,
            )
        };
        if rc != rusqlite::ffi::SQLITE_OK {
            tracing::debug!(rc, "SQLite memory statistics stay on");
        }
    });
}

/// Waits for a lock another connection holds by polling every 100 µs, for up to 10 s. SQLite's
/// own busy timeout sleeps 1, 2, 5, 10 ... 100 ms between tries: between the writer (which takes
/// the write lock again within microseconds of releasing it) and the checkpointer's RESTART
/// (which needs it for a moment) that meant hundreds of milliseconds lost on each side, and
/// the writes of that moment waited for them (docs/benchmarks.md, staff inbox).
fn poll_busy(tries: i32) -> bool {
    if tries >= 100_000 {
        return false;
    }
    std::thread::sleep(std::time::Duration::from_micros(100));
    true
}

fn tune(conn: &Connection, writer: bool) -> Result<()> {
    if writer {
        conn.busy_handler(Some(poll_busy)).map_err(db_err)?;
    } else {
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db_err)?;
    }
    if writer {
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
             PRAGMA wal_autocheckpoint = 0;",
        )
        .map_err(db_err)?;
    }
    conn.execute_batch("PRAGMA cache_size = -32000; PRAGMA temp_store = MEMORY;")
        .map_err(db_err)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

fn migrate(conn: &Connection) -> Result<()> {
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(db_err)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(v.max(0) as usize) {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {}; COMMIT;",
            i + 1
        ))
        .map_err(db_err)?;
    }
    Ok(())
}

/// Most copy-and-flush rounds before a WAL restart (see [`spawn_checkpointer`]).
const PRE_RESTART_FLUSHES: usize = 6;

/// A flush this short leaves little for the restart to copy and flush under the write lock.
const SHORT_FLUSH: std::time::Duration = std::time::Duration::from_millis(5);

/// Checkpoints the WAL from its own connection, so that copying pages into the database file
/// (and its fsync) never stalls the writer thread. PASSIVE checkpoints run beside the writer and
/// the readers; the writer's own automatic checkpoints are off.
///
/// Under constant load the readers always hold a snapshot, so the WAL never finds the quiet
/// moment in which SQLite restarts it on its own, and it would grow without end. Past
/// [`WAL_RESTART_PAGES`] the checkpointer therefore asks for a RESTART checkpoint, which holds
/// the write lock until the readers have moved to the newest snapshot; to keep that short, it
/// first flushes the pages the PASSIVE checkpoints copied into the database file (an fdatasync
/// under no lock), so the RESTART's own sync has almost nothing left to write. RESTART rather
/// than TRUNCATE: the WAL file keeps its size and is overwritten from its start, so the
/// writer's fdatasyncs do not also have to commit a growing file size to the ext4 journal,
/// and no truncation runs under the lock (measured in docs/benchmarks.md, staff inbox).
fn spawn_checkpointer(path: &str, alive: std::sync::Weak<()>) -> Result<()> {
    let conn = Connection::open(path).map_err(db_err)?;
    conn.busy_handler(Some(poll_busy)).map_err(db_err)?;
    conn.execute_batch("PRAGMA synchronous = NORMAL;")
        .map_err(db_err)?;
    let db_file =
        std::fs::File::open(path).map_err(|e| StoreError::Backend(format!("{path}: {e}")))?;
    std::thread::Builder::new()
        .name("motcua-sqlite-checkpoint".into())
        .spawn(move || {
            // Ends when the last handle of the store is dropped.
            while alive.upgrade().is_some() {
                std::thread::sleep(std::time::Duration::from_millis(250));
                match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                }) {
                    Ok((_, log, done)) => {
                        metrics::gauge!("motcua_sqlite_wal_pages").set(log as f64);
                        metrics::gauge!("motcua_sqlite_wal_pages_checkpointed").set(done as f64);
                        if log > WAL_RESTART_PAGES {
                            let started = std::time::Instant::now();
                            // RESTART copies, under the write lock, the frames written since
                            // the last copy, and syncs the database file: copy and flush first
                            // (no lock), again while a flush takes long, so that what is left
                            // is what arrived during a short last flush, not the last 250 ms
                            // of writes.
                            for _ in 0..PRE_RESTART_FLUSHES {
                                if let Err(e) =
                                    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                                {
                                    tracing::warn!(error = %e, "WAL checkpoint failed");
                                }
                                let flushing = std::time::Instant::now();
                                if let Err(e) = db_file.sync_data() {
                                    tracing::warn!(error = %e, "flushing the database file failed");
                                }
                                if flushing.elapsed() < SHORT_FLUSH {
                                    break;
                                }
                            }
                            let locked = std::time::Instant::now();
                            if let Err(e) =
                                conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))
                            {
                                tracing::warn!(error = %e, "WAL restart failed");
                            }
                            metrics::histogram!("motcua_sqlite_wal_restart_locked_seconds")
                                .record(locked.elapsed().as_secs_f64());
                            metrics::histogram!("motcua_sqlite_wal_restart_seconds")
                                .record(started.elapsed().as_secs_f64());
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
                }
            }
        })
        .map_err(|e| StoreError::Backend(format!("checkpoint thread: {e}")))?;
    Ok(())
}

/// Writes one procedure version and its receiving agencies; publishing supersedes the version
/// published before.
fn write_procedure(c: &Connection, p: &ProcedureRecord) -> Result<()> {
    let v = &p.version;
    let code = v.code.to_string();
    if v.status == VersionStatus::Published {
        c.prepare_cached(
            "UPDATE procedures SET status = 'superseded',
               data = json_set(data, '$.version.status', 'superseded')
             WHERE code = ?1 AND status = 'published' AND version <> ?2",
        )
        .map_err(db_err)?
        .execute(params![code, v.version])
        .map_err(db_err)?;
    }
    let status = serde_json::to_value(v.status).map_err(corrupt)?;
    c.prepare_cached(
        "INSERT INTO procedures (code, version, status, name, folded, field, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (code, version) DO UPDATE SET status = excluded.status, name = excluded.name,
           folded = excluded.folded, field = excluded.field, data = excluded.data",
    )
    .map_err(db_err)?
    .execute(params![
        code,
        v.version,
        status.as_str().unwrap_or_default(),
        v.name,
        format!("{} {}", code, motcua_domain::text::fold(&v.name)),
        v.field,
        serde_json::to_string(p).map_err(corrupt)?
    ])
    .map_err(db_err)?;
    c.prepare_cached("DELETE FROM procedure_agencies WHERE procedure_code = ?1")
        .map_err(db_err)?
        .execute([&code])
        .map_err(db_err)?;
    let mut ins = c
        .prepare_cached(
            "INSERT OR IGNORE INTO procedure_agencies (procedure_code, agency) VALUES (?1, ?2)",
        )
        .map_err(db_err)?;
    for a in &p.receiving_agencies {
        ins.execute(params![code, a.as_str()]).map_err(db_err)?;
    }
    Ok(())
}

/// One more catalogue generation: procedures were written (see `catalogue_generation`).
fn bump_catalogue(c: &Connection) -> Result<()> {
    c.prepare_cached("UPDATE catalogue_generation SET n = n + 1 WHERE id = 1")
        .map_err(db_err)?
        .execute([])
        .map_err(db_err)?;
    Ok(())
}

fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_ts(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and migrates it.
    pub fn open(path: &str) -> Result<SqliteStore> {
        if let Some(dir) = std::path::Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Backend(format!("{}: {e}", dir.display())))?;
        }
        configure_process();
        let conn = Connection::open(path).map_err(db_err)?;
        tune(&conn, true)?;
        migrate(&conn)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let r = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(db_err)?;
            tune(&r, false)?;
            readers.push(Mutex::new(r));
        }
        // The writer fsyncs the WAL itself before answering (see writer::run). Opening it here,
        // after migrations, is safe: our connections keep it in place while the store lives.
        let wal = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(format!("{path}-wal"))
            .map_err(|e| StoreError::Backend(format!("{path}-wal: {e}")))?;
        let store = Self::start(conn, readers, None, Some(wal));
        spawn_checkpointer(path, Arc::downgrade(&store.alive))?;
        Ok(store)
    }

    /// A private in-memory database (tests).
    pub fn open_memory() -> Result<SqliteStore> {
        let name = format!("file:motcua-{}?mode=memory&cache=shared", Uuid::new_v4());
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        configure_process();
        let keep = Connection::open_with_flags(&name, flags).map_err(db_err)?;
        let conn = Connection::open_with_flags(&name, flags).map_err(db_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db_err)?;
        migrate(&conn)?;
        let mut readers = Vec::new();
        for _ in 0..READERS {
            let r = Connection::open_with_flags(&name, flags).map_err(db_err)?;
            r.busy_timeout(std::time::Duration::from_secs(10))
                .map_err(db_err)?;
            // Shared-cache connections must read uncommitted pages without table locks failing.
            r.execute_batch("PRAGMA read_uncommitted = 1")
                .map_err(db_err)?;
            readers.push(Mutex::new(r));
        }
        Ok(Self::start(
            conn,
            readers,
            Some(Arc::new(Mutex::new(keep))),
            None,
        ))
    }

    fn start(
        conn: Connection,
        readers: Vec<Mutex<Connection>>,
        keep: Option<Arc<Mutex<Connection>>>,
        wal: Option<std::fs::File>,
    ) -> SqliteStore {
        let (tx, rx) = crossbeam_channel::bounded(16_384);
        let (bg, bg_rx) = crossbeam_channel::bounded(1_024);
        let inboxes: Option<Arc<inbox_cache::InboxCache>> = keep.is_none().then(Default::default);
        let for_writer = inboxes.clone();
        std::thread::Builder::new()
            .name("motcua-sqlite-writer".into())
            .spawn(move || writer::run(conn, rx, bg_rx, wal, for_writer))
            .expect("spawn the SQLite writer thread");
        SqliteStore {
            tx,
            bg,
            leases: Default::default(),
            readers: Arc::new(readers),
            snaps: keep.is_none().then(Default::default),
            inboxes,
            _keepalive: keep,
            alive: Arc::new(()),
        }
    }

    /// Runs `f` on a free reader connection (blocking briefly; queries here are short).
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        for r in self.readers.iter() {
            if let Ok(c) = r.try_lock() {
                return f(&c);
            }
        }
        // All busy: wait for one without stalling the other tasks of this worker thread.
        let i = rand_index(self.readers.len());
        let wait = || {
            let c = self.readers[i]
                .lock()
                .map_err(|_| StoreError::Backend("reader poisoned".into()))?;
            f(&c)
        };
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(wait),
            _ => wait(),
        }
    }

    /// Runs a long read off the async workers.
    async fn read_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.read(f))
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))?
    }

    async fn admin(
        &self,
        f: impl FnOnce(&Connection) -> Result<()> + Send + 'static,
    ) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Job::Admin(Box::new(f), tx))
            .map_err(|_| StoreError::Backend("the writer has stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Backend("the writer dropped the request".into()))?
    }

    /// Like [`Self::admin`], on the writer's background lane: for work no request waits for.
    async fn background(
        &self,
        f: impl FnOnce(&Connection) -> Result<()> + Send + 'static,
    ) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.bg
            .send(Job::Background(Box::new(f), tx))
            .map_err(|_| StoreError::Backend("the writer has stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Backend("the writer dropped the request".into()))?
    }

    pub(crate) async fn health(&self) -> Result<()> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(db_err))
    }

    pub(crate) async fn execute(&self, job: Execute) -> Result<Executed> {
        self.execute_from(job, None).await
    }

    /// Runs `job`, starting from `head` (the state the caller read) when given.
    pub(crate) async fn execute_from(
        &self,
        job: Execute,
        head: Option<crate::Head>,
    ) -> Result<Executed> {
        let started = std::time::Instant::now();
        let (tx, rx) = oneshot::channel();
        let prepared = self.prepare(job, head);
        let sent = std::time::Instant::now();
        let tx = writer::ExecTx { tx, sent };
        // The writer thread is the one serial resource: decide and plan (JSON, hashes) here, on
        // the caller's core, whenever no dossier code is needed, and let it only write.
        let job = match prepared {
            Ok(pr) => Job::Prepared(Box::new(pr), tx),
            Err(job) => Job::Exec(Box::new(job), tx),
        };
        self.tx
            .send(job)
            .map_err(|_| StoreError::Backend("the writer has stopped".into()))?;
        let (r, replied) = rx
            .await
            .map_err(|_| StoreError::Backend("the writer dropped the request".into()))?;
        // Where a command's time goes: deciding and planning here, then the writer's queue,
        // batch and fsync up to the moment this task runs again; of that, the wait between the
        // answer and this task running (the runtime's run queue).
        let resumed = std::time::Instant::now();
        metrics::histogram!("motcua_sqlite_execute_seconds", "part" => "prepare")
            .record((sent - started).as_secs_f64());
        metrics::histogram!("motcua_sqlite_execute_seconds", "part" => "write")
            .record((resumed - sent).as_secs_f64());
        metrics::histogram!("motcua_sqlite_write_wait_seconds", "stage" => "wake")
            .record(resumed.saturating_duration_since(replied).as_secs_f64());
        r
    }

    /// Decides and plans `job` on the current committed state, if that needs no dossier code
    /// (codes come from a counter row only the writer may touch). Gives the job back otherwise,
    /// and also on a refusal: the state read here may be stale, so the writer has the last word.
    fn prepare(
        &self,
        job: Execute,
        head: Option<crate::Head>,
    ) -> std::result::Result<writer::Prepared, Execute> {
        struct Probe(bool);
        impl motcua_domain::dossier::CodeAllocator for Probe {
            fn allocate(
                &mut self,
                _: &AgencyCode,
                _: chrono::NaiveDate,
            ) -> std::result::Result<DossierCode, String> {
                self.0 = true;
                Err("decided in the writer".into())
            }
        }
        let id = job.dossier_id.to_string();
        // A submission (expected version 0) has nothing stored yet: skip the read; the writer
        // still checks that the dossier does not exist.
        let current = if job.expected_version == Some(0) {
            Ok(None)
        } else if let Some(h) = head {
            Ok(Some((h.dossier, h.last_hash)))
        } else {
            self.read(|c| writer::load_state(c, &id, self.snaps.as_deref()))
        };
        let Ok(current) = current else {
            return Err(job);
        };
        let version = current.as_ref().map_or(0, |(d, _)| d.version);
        if job.expected_version.is_some_and(|e| e != version) {
            return Err(job);
        }
        let (before, last_hash) = match current {
            Some((d, h)) => (Some(d), h),
            None => (None, String::new()),
        };
        let mut probe = Probe(false);
        let events = match (job.decide)(before.as_ref(), &mut probe) {
            Ok(ev) if !probe.0 && !ev.is_empty() => ev,
            _ => return Err(job),
        };
        match crate::plan::plan(job.dossier_id, before, &last_hash, &events) {
            Ok(plan) => Ok(writer::Prepared {
                job,
                base_version: version,
                compacted: writer::Compacted::of(&plan),
                plan,
                events,
            }),
            Err(_) => Err(job),
        }
    }

    pub(crate) async fn dossier(&self, id: Uuid) -> Result<Option<Dossier>> {
        self.read(|c| {
            Ok(writer::load_state(c, &id.to_string(), self.snaps.as_deref())?.map(|(d, _)| d))
        })
    }

    pub(crate) async fn latest_dossier_of(&self, personal_id: &str) -> Result<Option<Uuid>> {
        let pid = personal_id.to_string();
        self.read(move |c| {
            let id: Option<String> = c
                .prepare_cached(
                    "SELECT id FROM dossiers INDEXED BY dossiers_applicant_pid
                     WHERE applicant_personal_id = ?1 ORDER BY submitted_at DESC LIMIT 1",
                )
                .map_err(db_err)?
                .query_row([&pid], |r| r.get(0))
                .optional()
                .map_err(db_err)?;
            id.map(|i| i.parse().map_err(|_| corrupt(&i))).transpose()
        })
    }

    pub(crate) async fn dossier_head(&self, id: Uuid) -> Result<Option<crate::Head>> {
        self.read(|c| {
            Ok(
                writer::load_state(c, &id.to_string(), self.snaps.as_deref())?
                    .map(|(dossier, last_hash)| crate::Head { dossier, last_hash }),
            )
        })
    }

    pub(crate) async fn dossier_by_code(&self, code: &DossierCode) -> Result<Option<Dossier>> {
        let code = code.to_string();
        self.read(|c| {
            type Row = (String, Option<i64>, Option<i64>);
            let s: Option<Row> = c
                .prepare_cached(
                    "SELECT s.state, s.snap, s.snap_at FROM dossiers d JOIN dossier_states s ON s.id = d.id
                     WHERE d.code = ?1",
                )
                .map_err(db_err)?
                .query_row([&code], |r| {
                    Ok((r.get::<_, packed::Unpacked>(0)?.0, r.get(1)?, r.get(2)?))
                })
                .optional()
                .map_err(db_err)?;
            s.map(|(s, snap, at)| {
                let json = writer::full_json(c, self.snaps.as_deref(), s, snap, at)?;
                serde_json::from_str(&json).map_err(corrupt)
            })
            .transpose()
        })
    }

    pub(crate) async fn public_status(
        &self,
        code: &DossierCode,
    ) -> Result<Option<PublicStatusRow>> {
        let code = code.to_string();
        self.read(|c| {
            let row = c
                .prepare_cached(
                    "SELECT code, procedure_name, status, received_at, due_at, finished_at
                     FROM dossiers WHERE code = ?1",
                )
                .map_err(db_err)?
                .query_row([&code], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                        r.get::<_, Option<i64>>(5)?,
                    ))
                })
                .optional()
                .map_err(db_err)?;
            row.map(|(code, procedure_name, status, rec, due, fin)| {
                Ok(PublicStatusRow {
                    code,
                    procedure_name,
                    status: Status::parse(&status).ok_or_else(|| corrupt(&status))?,
                    received_at: rec.map(from_ts),
                    due_at: due.map(from_ts),
                    finished_at: fin.map(from_ts),
                })
            })
            .transpose()
        })
    }

    pub(crate) async fn history(&self, id: Uuid) -> Result<Vec<StoredEvent>> {
        self.read(|c| {
            let mut prev_hash = String::new();
            read_log(c, self.snaps.as_deref(), &id.to_string())?
                .into_iter()
                .map(|(seq, json, hash)| {
                    Ok(StoredEvent {
                        seq,
                        event: serde_json::from_str(&json).map_err(corrupt)?,
                        prev_hash: std::mem::replace(&mut prev_hash, hash.clone()),
                        hash,
                    })
                })
                .collect()
        })
    }

    pub(crate) async fn list_dossiers(&self, q: &DossierQuery) -> Result<Vec<DossierSummary>> {
        let q = q.clone();
        self.read(move |c| {
            let mut sql = format!("SELECT {SUMMARY_COLUMNS} FROM dossiers WHERE 1 = 1");
            let mut args: Vec<rusqlite::types::Value> = Vec::new();
            use rusqlite::types::Value as V;
            fn push(sql: &mut String, args: &mut Vec<V>, clause: &str, v: V) {
                args.push(v);
                sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
            }
            if let Some(o) = q.owner {
                push(&mut sql, &mut args, " AND owner = ?", V::Text(o.to_string()));
            }
            if let Some(a) = &q.current_agency {
                push(&mut sql, &mut args, " AND current_agency = ?", V::Text(a.to_string()));
            }
            if let Some(a) = &q.agency {
                args.push(V::Text(a.to_string()));
                let n = args.len();
                sql.push_str(&format!(
                    " AND (receiving_agency = ?{n} OR competent_agency = ?{n} OR current_agency = ?{n}
                       OR id IN (SELECT dossier_id FROM events WHERE agency = ?{n}))"
                ));
            }
            if let Some(s) = q.status {
                push(&mut sql, &mut args, " AND status = ?", V::Text(s.as_str().into()));
            }
            if let Some((t, id)) = q.before {
                args.push(V::Integer(ts(t)));
                args.push(V::Text(id.to_string()));
                let n = args.len();
                sql.push_str(&format!(
                    " AND (submitted_at < ?{} OR (submitted_at = ?{} AND id < ?{n}))",
                    n - 1,
                    n - 1
                ));
            }
            sql.push_str(&format!(
                " ORDER BY submitted_at DESC, id DESC LIMIT {}",
                q.limit.clamp(1, 200)
            ));
            let mut st = c.prepare_cached(&sql).map_err(db_err)?;
            let rows = st
                .query_map(rusqlite::params_from_iter(args), summary_row)
                .map_err(db_err)?;
            rows.map(|r| summary(r.map_err(db_err)?)).collect()
        })
    }

    pub(crate) async fn upsert_agencies(&self, agencies: Vec<Agency>) -> Result<()> {
        self.admin(move |c| {
            let mut st = c
                .prepare_cached(
                    "INSERT INTO agencies (code, name, kind, parent, admin_unit, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind,
                       parent = excluded.parent, admin_unit = excluded.admin_unit, data = excluded.data",
                )
                .map_err(db_err)?;
            for a in &agencies {
                st.execute(params![
                    a.code.as_str(),
                    a.name,
                    serde_json::to_value(a.kind).map_err(corrupt)?.as_str().unwrap_or_default(),
                    a.parent.as_ref().map(|p| p.to_string()),
                    a.admin_unit.as_ref().map(|u| u.to_string()),
                    serde_json::to_string(a).map_err(corrupt)?
                ])
                .map_err(db_err)?;
            }
            Ok(())
        })
        .await
    }

    pub(crate) async fn agencies(&self) -> Result<Vec<Agency>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached("SELECT data FROM agencies ORDER BY code")
                .map_err(db_err)?;
            let rows = st
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(db_err)?;
            rows.map(|r| serde_json::from_str(&r.map_err(db_err)?).map_err(corrupt))
                .collect()
        })
    }

    pub(crate) async fn agency(&self, code: &AgencyCode) -> Result<Option<Agency>> {
        let code = code.to_string();
        self.read(move |c| {
            let s: Option<String> = c
                .prepare_cached("SELECT data FROM agencies WHERE code = ?1")
                .map_err(db_err)?
                .query_row([&code], |r| r.get(0))
                .optional()
                .map_err(db_err)?;
            s.map(|s| serde_json::from_str(&s).map_err(corrupt))
                .transpose()
        })
    }

    pub(crate) async fn upsert_admin_units(&self, units: Vec<AdminUnit>) -> Result<()> {
        self.admin(move |c| {
            let mut st = c
                .prepare_cached(
                    "INSERT INTO admin_units (code, name, full_name, province_code) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, full_name = excluded.full_name,
                       province_code = excluded.province_code",
                )
                .map_err(db_err)?;
            for u in &units {
                st.execute(params![u.code, u.name, u.full_name, u.province_code])
                    .map_err(db_err)?;
            }
            Ok(())
        })
        .await
    }

    pub(crate) async fn admin_units(&self) -> Result<Vec<AdminUnit>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT code, name, full_name, province_code FROM admin_units ORDER BY code",
                )
                .map_err(db_err)?;
            let rows = st
                .query_map([], |r| {
                    Ok(AdminUnit {
                        code: r.get(0)?,
                        name: r.get(1)?,
                        full_name: r.get(2)?,
                        province_code: r.get(3)?,
                    })
                })
                .map_err(db_err)?;
            rows.collect::<std::result::Result<Vec<_>, _>>()
                .map_err(db_err)
        })
    }

    pub(crate) async fn count_admin_units(&self) -> Result<u64> {
        self.read(|c| {
            c.query_row("SELECT count(*) FROM admin_units", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(db_err)
        })
    }

    fn user_where(&self, clause: &str, arg: String) -> Result<Option<UserRecord>> {
        let sql = format!(
            "SELECT id, username, password_hash, name, role, agency, disabled FROM users WHERE {clause}"
        );
        self.read(move |c| {
            let row = c
                .prepare_cached(&sql)
                .map_err(db_err)?
                .query_row([arg], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, bool>(6)?,
                    ))
                })
                .optional()
                .map_err(db_err)?;
            row.map(
                |(id, username, password_hash, name, role, agency, disabled)| {
                    Ok(UserRecord {
                        id: id.parse().map_err(corrupt)?,
                        username,
                        password_hash,
                        name,
                        role: Role::parse(&role).ok_or_else(|| corrupt(&role))?,
                        agency: agency.map(|a| a.parse().map_err(corrupt)).transpose()?,
                        disabled,
                    })
                },
            )
            .transpose()
        })
    }

    pub(crate) async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>> {
        self.user_where("username = ?1", username.to_string())
    }

    pub(crate) async fn user(&self, id: Uuid) -> Result<Option<UserRecord>> {
        self.user_where("id = ?1", id.to_string())
    }

    pub(crate) async fn create_token(&self, t: TokenRecord) -> Result<()> {
        self.admin(move |c| {
            c.prepare_cached("INSERT INTO tokens (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)")
                .map_err(db_err)?
                .execute(params![t.token_hash, t.user_id.to_string(), ts(t.created_at), ts(t.expires_at)])
                .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn upsert_procedure(&self, p: ProcedureRecord) -> Result<()> {
        self.admin(move |c| {
            write_procedure(c, &p)?;
            bump_catalogue(c)
        })
        .await
    }

    pub(crate) async fn save_procedures(
        &self,
        records: Vec<ProcedureRecord>,
        changes: Vec<ProcedureChange>,
    ) -> Result<()> {
        self.admin(move |c| {
            for p in &records {
                write_procedure(c, p)?;
            }
            if !records.is_empty() {
                bump_catalogue(c)?;
            }
            let mut ins = c
                .prepare_cached(
                    "INSERT INTO procedure_changes (code, version, at, actor, action, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(db_err)?;
            for ch in &changes {
                ins.execute(params![ch.code, ch.version, ts(ch.at), ch.actor, ch.action, ch.note])
                    .map_err(db_err)?;
            }
            Ok(())
        })
        .await
    }

    pub(crate) async fn procedure_versions(&self, code: &str) -> Result<Vec<ProcedureRecord>> {
        let code = code.to_string();
        self.read_blocking(move |c| {
            let mut st = c
                .prepare_cached("SELECT data FROM procedures WHERE code = ?1 ORDER BY version")
                .map_err(db_err)?;
            let rows = st
                .query_map([&code], |r| r.get::<_, String>(0))
                .map_err(db_err)?;
            rows.map(|r| serde_json::from_str(&r.map_err(db_err)?).map_err(corrupt))
                .collect()
        })
        .await
    }

    pub(crate) async fn procedures_where(
        &self,
        published_only: bool,
    ) -> Result<Vec<ProcedureRecord>> {
        self.read_blocking(move |c| {
            let sql = if published_only {
                "SELECT data FROM procedures WHERE status = 'published' ORDER BY code"
            } else {
                "SELECT data FROM procedures ORDER BY code, version"
            };
            let mut st = c.prepare_cached(sql).map_err(db_err)?;
            let rows = st
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(db_err)?;
            rows.map(|r| serde_json::from_str(&r.map_err(db_err)?).map_err(corrupt))
                .collect()
        })
        .await
    }

    pub(crate) async fn procedure_changes_between(
        &self,
        action: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ProcedureChange>> {
        let action = action.to_string();
        let (from, to) = (ts(from), ts(to));
        self.read_blocking(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT code, version, at, actor, action, note FROM procedure_changes
                     WHERE action = ?1 AND at >= ?2 AND at < ?3 ORDER BY id",
                )
                .map_err(db_err)?;
            let rows = st
                .query_map(rusqlite::params![action, from, to], |r| {
                    Ok(ProcedureChange {
                        code: r.get(0)?,
                        version: r.get(1)?,
                        at: from_ts(r.get(2)?),
                        actor: r.get(3)?,
                        action: r.get(4)?,
                        note: r.get(5)?,
                    })
                })
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }

    pub(crate) async fn procedure_changes(&self, code: &str) -> Result<Vec<ProcedureChange>> {
        let code = code.to_string();
        self.read_blocking(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT code, version, at, actor, action, note FROM procedure_changes WHERE code = ?1 ORDER BY id",
                )
                .map_err(db_err)?;
            let rows = st
                .query_map([&code], |r| {
                    Ok(ProcedureChange {
                        code: r.get(0)?,
                        version: r.get(1)?,
                        at: from_ts(r.get(2)?),
                        actor: r.get(3)?,
                        action: r.get(4)?,
                        note: r.get(5)?,
                    })
                })
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }

    pub(crate) async fn published_procedure(&self, code: &str) -> Result<Option<ProcedureRecord>> {
        let code = code.to_string();
        self.read(move |c| {
            let s: Option<String> = c
                .prepare_cached(
                    "SELECT data FROM procedures WHERE code = ?1 AND status = 'published'",
                )
                .map_err(db_err)?
                .query_row([&code], |r| r.get(0))
                .optional()
                .map_err(db_err)?;
            s.map(|s| serde_json::from_str(&s).map_err(corrupt))
                .transpose()
        })
    }

    pub(crate) async fn list_procedures(
        &self,
        q: &ProcedureQuery,
    ) -> Result<Vec<ProcedureSummary>> {
        self.list_procedures_where(q, crate::model::PUBLISHED_ROWS)
            .await
    }

    pub(crate) async fn list_unpublished(
        &self,
        q: &ProcedureQuery,
    ) -> Result<Vec<ProcedureSummary>> {
        self.list_procedures_where(q, crate::model::UNPUBLISHED_ROWS)
            .await
    }

    async fn list_procedures_where(
        &self,
        q: &ProcedureQuery,
        rows: &'static str,
    ) -> Result<Vec<ProcedureSummary>> {
        let q = q.clone();
        self.read_blocking(move |c| {
            let mut sql = format!("SELECT p.data FROM procedures p WHERE {rows}");
            let mut args: Vec<String> = Vec::new();
            if let Some(t) = &q.text {
                for w in motcua_domain::text::fold(t).split_whitespace().take(8) {
                    args.push(format!("%{}%", w.replace(['%', '_'], "")));
                    sql.push_str(&format!(" AND p.folded LIKE ?{}", args.len()));
                }
            }
            if let Some(a) = &q.agency {
                args.push(a.to_string());
                sql.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM procedure_agencies pa WHERE pa.agency = ?{} AND pa.procedure_code = p.code)",
                    args.len()
                ));
            }
            sql.push_str(&format!(" ORDER BY p.code LIMIT {} OFFSET {}", q.limit.clamp(1, 200), q.offset));
            let mut st = c.prepare(&sql).map_err(db_err)?;
            let rows = st
                .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(0))
                .map_err(db_err)?;
            rows.map(|r| {
                let p: ProcedureRecord = serde_json::from_str(&r.map_err(db_err)?).map_err(corrupt)?;
                Ok(crate::model::summary(&p))
            })
            .collect()
        })
        .await
    }

    pub(crate) async fn catalogue_generation(&self) -> Result<i64> {
        self.read(|c| {
            c.query_row("SELECT n FROM catalogue_generation WHERE id = 1", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(db_err)
        })
    }

    pub(crate) async fn count_procedures(&self) -> Result<u64> {
        self.read(|c| {
            c.query_row(
                "SELECT count(*) FROM procedures WHERE status = 'published'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(db_err)
        })
    }

    pub(crate) async fn counters(&self, q: &CounterQuery) -> Result<Vec<CounterRow>> {
        let q = q.clone();
        self.read_blocking(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT agency, metric, sum(value) FROM counters
                     WHERE (?1 IS NULL OR agency = ?1) AND (?2 IS NULL OR day >= ?2) AND (?3 IS NULL OR day <= ?3)
                     GROUP BY agency, metric ORDER BY agency, metric",
                )
                .map_err(db_err)?;
            let rows = st
                .query_map(
                    params![
                        q.agency.as_ref().map(|a| a.to_string()),
                        q.from.map(|d| d.to_string()),
                        q.to.map(|d| d.to_string())
                    ],
                    |r| {
                        Ok(CounterRow {
                            agency: r.get(0)?,
                            metric: r.get(1)?,
                            value: r.get(2)?,
                        })
                    },
                )
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }

    pub(crate) async fn outbox_pending(&self, limit: u32) -> Result<Vec<OutboxRow>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT id, topic, key, payload, attempts FROM outbox WHERE status = 'pending' ORDER BY id LIMIT ?1",
                )
                .map_err(db_err)?;
            let rows = st
                .query_map([limit], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get::<_, packed::Unpacked>(3)?.0, r.get(4)?))
                })
                .map_err(db_err)?;
            rows.map(|r| {
                let (id, topic, key, payload, attempts) = r.map_err(db_err)?;
                Ok(OutboxRow {
                    id,
                    topic,
                    key,
                    payload: serde_json::from_str(&payload).map_err(corrupt)?,
                    attempts,
                })
            })
            .collect()
        })
    }

    pub(crate) async fn calendar_settings(&self) -> Result<Vec<(String, CalendarSettings)>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached("SELECT scope, data FROM calendar_settings ORDER BY scope")
                .map_err(db_err)?;
            let rows = st
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(db_err)?;
            rows.map(|r| {
                let (scope, data) = r.map_err(db_err)?;
                Ok((scope, serde_json::from_str(&data).map_err(corrupt)?))
            })
            .collect()
        })
    }

    pub(crate) async fn put_calendar_settings(
        &self,
        scope: String,
        settings: CalendarSettings,
    ) -> Result<()> {
        let data = serde_json::to_string(&settings).map_err(corrupt)?;
        self.admin(move |c| {
            c.prepare_cached(
                "INSERT INTO calendar_settings (scope, data) VALUES (?1, ?2)
                 ON CONFLICT (scope) DO UPDATE SET data = excluded.data",
            )
            .map_err(db_err)?
            .execute(params![scope, data])
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn verify(&self) -> Result<VerifyReport> {
        self.read_blocking(|c| {
            let mut report = VerifyReport::default();
            let mut implied: BTreeMap<(String, String, String), i64> = BTreeMap::new();
            // Each snapshot must still be what its digest says.
            let mut sn = c
                .prepare("SELECT id, digest, body FROM snapshots ORDER BY id")
                .map_err(db_err)?;
            let mut rows = sn.query([]).map_err(db_err)?;
            while let Some(r) = rows.next().map_err(db_err)? {
                let (id, d, body): (i64, Vec<u8>, String) = (
                    r.get(0).map_err(db_err)?,
                    r.get(1).map_err(db_err)?,
                    r.get(2).map_err(db_err)?,
                );
                if crate::snapshot::digest(&body) != d {
                    report.problems.push(format!(
                        "procedure snapshot {id} was altered (digest mismatch)"
                    ));
                }
            }
            each_log(c, |uid, read| {
                report.dossiers += 1;
                let (log, state) = match read {
                    Ok(read) => read,
                    Err(e) => {
                        report.problems.push(format!(
                            "dossier {uid}: its stored log or state cannot be read: {e}"
                        ));
                        return Ok(());
                    }
                };
                report.events += log.len() as u64;
                for d in check_log(uid, &log, &state, &mut report.problems) {
                    *implied
                        .entry((d.agency.to_string(), d.day.to_string(), d.metric))
                        .or_default() += d.delta;
                }
                Ok(())
            })?;
            let mut st = c
                .prepare("SELECT agency, day, metric, value FROM counters WHERE value <> 0")
                .map_err(db_err)?;
            let stored: BTreeMap<(String, String, String), i64> = st
                .query_map([], |r| Ok(((r.get(0)?, r.get(1)?, r.get(2)?), r.get(3)?)))
                .map_err(db_err)?
                .collect::<Result<_, _>>()
                .map_err(db_err)?;
            crate::model::compare_counters(&implied, &stored, &mut report.problems);
            Ok(report)
        })
        .await
    }
}

/// The columns [`summary_row`] reads, in its order.
pub(crate) const SUMMARY_COLUMNS: &str = "id, code, procedure_code, procedure_name, applicant_name, \
    status, national_status, receiving_agency, current_agency, submitted_at, due_at, version";

/// A row of [`SUMMARY_COLUMNS`], as read.
pub(crate) type SummaryRow = (
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    i64,
    String,
    String,
    i64,
    Option<i64>,
    i64,
);

/// Reads a row of [`SUMMARY_COLUMNS`].
pub(crate) fn summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SummaryRow> {
    Ok((
        r.get::<_, String>(0)?,
        r.get::<_, Option<String>>(1)?,
        r.get::<_, String>(2)?,
        r.get::<_, String>(3)?,
        r.get::<_, String>(4)?,
        r.get::<_, String>(5)?,
        r.get::<_, i64>(6)?,
        r.get::<_, String>(7)?,
        r.get::<_, String>(8)?,
        r.get::<_, i64>(9)?,
        r.get::<_, Option<i64>>(10)?,
        r.get::<_, i64>(11)?,
    ))
}

/// A dossier list row from what [`summary_row`] read.
pub(crate) fn summary(r: SummaryRow) -> Result<DossierSummary> {
    Ok(DossierSummary {
        id: r.0.parse().map_err(corrupt)?,
        code: r.1,
        procedure_code: r.2,
        procedure_name: r.3,
        applicant_name: r.4,
        status: Status::parse(&r.5).ok_or_else(|| corrupt(&r.5))?,
        national_status: r.6 as u8,
        receiving_agency: r.7,
        current_agency: r.8,
        submitted_at: from_ts(r.9),
        due_at: r.10.map(from_ts),
        version: r.11 as u64,
    })
}

/// A dossier's log as [`check_log`] takes it (seq, canonical JSON, previous hash, hash) and
/// its stored state's canonical JSON.
type CheckedLog = (Vec<(u64, String, String, String)>, String);

/// Walks every dossier in id order with its log and state, or why they cannot be read (a
/// damaged stored document: the walk goes on to the next dossier).
pub(crate) fn each_log(
    c: &Connection,
    mut f: impl FnMut(Uuid, Result<CheckedLog>) -> Result<()>,
) -> Result<()> {
    let mut ds = c
        .prepare("SELECT id, state, snap, snap_at FROM dossier_states ORDER BY id")
        .map_err(db_err)?;
    let mut rows = ds.query([]).map_err(db_err)?;
    while let Some(r) = rows.next().map_err(db_err)? {
        let id: String = r.get(0).map_err(db_err)?;
        let read = checked_log(c, r, &id);
        f(id.parse().map_err(corrupt)?, read)?;
    }
    Ok(())
}

/// The log and state of the dossier whose `dossier_states` row is `r` (see [`each_log`]).
fn checked_log(c: &Connection, r: &rusqlite::Row<'_>, id: &str) -> Result<CheckedLog> {
    let state = writer::full_json(
        c,
        None,
        r.get::<_, packed::Unpacked>(1).map_err(db_err)?.0,
        r.get(2).map_err(db_err)?,
        r.get(3).map_err(db_err)?,
    )?;
    let mut prev = String::new();
    let log = read_log(c, None, id)?
        .into_iter()
        .map(|(seq, json, hash)| (seq, json, std::mem::replace(&mut prev, hash.clone()), hash))
        .collect();
    Ok((log, state))
}

/// A dossier's events as (seq, canonical JSON, hash), oldest first.
fn read_log(
    c: &Connection,
    cache: Option<&SnapshotCache>,
    id: &str,
) -> Result<Vec<(u64, String, String)>> {
    type Row = (i64, String, String, Option<i64>, Option<i64>);
    let mut st = c
        .prepare_cached(
            "SELECT seq, body, hash, snap, snap_at FROM events WHERE dossier_id = ?1 ORDER BY seq",
        )
        .map_err(db_err)?;
    let rows = st
        .query_map([id], |r| -> rusqlite::Result<Row> {
            Ok((
                r.get(0)?,
                r.get::<_, packed::Unpacked>(1)?.0,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
            ))
        })
        .map_err(db_err)?;
    rows.map(|r| {
        let (seq, body, hash, snap, at) = r.map_err(db_err)?;
        Ok((
            seq as u64,
            writer::full_json(c, cache, body, snap, at)?,
            hash,
        ))
    })
    .collect()
}

fn rand_index(n: usize) -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed) % n
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rusqlite::types::Value;

    /// The plan SQLite picks for `sql`, one line per step.
    pub(crate) fn plan(store: &SqliteStore, sql: &str, args: Vec<Value>) -> String {
        store
            .read(|c| {
                let mut st = c
                    .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .map_err(db_err)?;
                let rows = st
                    .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
                    .map_err(db_err)?;
                rows.map(|r| r.map_err(db_err)).collect::<Result<Vec<_>>>()
            })
            .unwrap()
            .join("; ")
    }

    /// Replacing a procedure's agencies finds its rows by the code's index (migration 29),
    /// not by a scan of every procedure's agencies.
    #[test]
    fn a_procedures_agencies_are_replaced_through_the_code_index() {
        let store = SqliteStore::open_memory().unwrap();
        let plan = plan(
            &store,
            "DELETE FROM procedure_agencies WHERE procedure_code = ?1",
            vec![Value::Text("1.001193".into())],
        );
        assert!(plan.contains("procedure_agencies_code"), "{plan}");
        assert!(!plan.starts_with("SCAN"), "{plan}");
    }
}
