//! The storage conformance suite: every test runs on SQLite in memory, SQLite in a temporary
//! file, and PostgreSQL when `MOTCUA_TEST_DATABASE_URL` is set, both with one transaction per
//! command (the default) and with group commit (each PostgreSQL test in a fresh schema
//! `t_<hex>`, dropped at the end). Without the variable the PostgreSQL tests say
//! `SKIPPED (PostgreSQL)` and pass.
//!
//! Dossiers are built through the real domain: `Store::execute` with a decision calling
//! `motcua_domain::dossier::decide`.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use motcua_domain::agency::{Actor, Agency, AgencyKind, Role};
use motcua_domain::calendar::Calendar;
use motcua_domain::codes::{AgencyCode, DossierCode};
use motcua_domain::dossier::{
    Applicant, Channel, Command, Ctx, DocumentRef, DomainError, Dossier, EventBody, ReturnMethod,
    SubmitData, decide,
};
use motcua_domain::files::{AttachmentKind, FileKey};
use motcua_domain::procedure::{
    Level, OnlineLevel, ProcedureVersion, TimeLimit, TimeUnit, VersionStatus,
};
use motcua_domain::stats::Filter;
use motcua_domain::status::Status;
use motcua_domain::workflow::WorkflowDef;
use motcua_store::ProcedureChange;
use motcua_store::outbox::OutboxQuery;
use motcua_store::postgres::{PgOptions, PgStore};
use motcua_store::{
    AdminUnit, CounterQuery, DossierQuery, Execute, Executed, GroupBy, ProcedureQuery,
    ProcedureRecord, Store, StoreError, TokenRecord, UserRecord,
};
use motcua_store::{DossierFile, FileRecord, SaveFile};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::OnceLock;
use uuid::Uuid;

const PG_ENV: &str = "MOTCUA_TEST_DATABASE_URL";
const CENTRE: &str = "000.00.01.H40";
const DEPT: &str = "000.00.10.H40";
const WARD: &str = "000.00.21.H40";

// ---------------------------------------------------------------------------------------------
// Backends.

enum Kind {
    Memory,
    File(PathBuf),
    Postgres { url: String, opts: PgOptions },
}

/// A store under test, with what the backend-specific checks need.
struct Db {
    store: Store,
    kind: Kind,
}

impl Db {
    async fn memory() -> Db {
        Db {
            store: Store::open("sqlite::memory:")
                .await
                .expect("open in-memory SQLite"),
            kind: Kind::Memory,
        }
    }

    async fn file() -> Db {
        let path =
            std::env::temp_dir().join(format!("motcua-conformance-{}.db", Uuid::new_v4().simple()));
        let store = Store::open(&format!("sqlite://{}", path.display()))
            .await
            .expect("open SQLite file");
        Db {
            store,
            kind: Kind::File(path),
        }
    }

    /// `None` when the variable is unset. `group_commit` off: one transaction per command.
    async fn postgres(group_commit: bool) -> Option<Db> {
        let url = std::env::var(PG_ENV)
            .ok()
            .filter(|u| !u.trim().is_empty())?;
        let schema = format!("t_{}", Uuid::new_v4().simple());
        let opts = PgOptions {
            schema: schema.clone(),
            group_commit,
            ..PgOptions::default()
        };
        let store = PgStore::open_with(&url, opts.clone())
            .await
            .unwrap_or_else(|e| panic!("open PostgreSQL at {url} in schema {schema}: {e}"));
        Some(Db {
            store: Store::Postgres(store),
            kind: Kind::Postgres { url, opts },
        })
    }

    /// A new handle on the same database, as after a restart or on a second node (`None` for
    /// in-memory SQLite).
    async fn reopen(&mut self) -> Option<Store> {
        match &self.kind {
            Kind::Memory => None,
            Kind::File(path) => {
                let url = format!("sqlite://{}", path.display());
                self.store = Store::open(&url).await.expect("reopen SQLite file");
                Some(self.store.clone())
            }
            Kind::Postgres { url, opts } => Some(Store::Postgres(
                PgStore::open_with(url, opts.clone())
                    .await
                    .expect("second PgStore"),
            )),
        }
    }

    /// Runs raw SQL behind the store's back (`?1`/`$1` is the dossier id). `false` when the
    /// backend cannot be reached from outside (in-memory SQLite). On SQLite the dossier's events
    /// and state are first stored as plain text, which the store reads as well as their
    /// compressed form: SQL edits text.
    async fn tamper(&self, sqlite_sql: &str, pg_sql: &str, id: Uuid) -> bool {
        match &self.kind {
            Kind::Memory => false,
            Kind::File(path) => {
                let c = rusqlite::Connection::open(path).unwrap();
                c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
                as_text(&c, id);
                let n = c.execute(sqlite_sql, [id.to_string()]).unwrap();
                assert!(n > 0, "tampering changed nothing");
                true
            }
            Kind::Postgres { url, opts } => {
                let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(conn);
                client
                    .batch_execute(&format!("SET search_path TO {}", opts.schema))
                    .await
                    .unwrap();
                let n = client.execute(pg_sql, &[&id]).await.unwrap();
                assert!(n > 0, "tampering changed nothing");
                true
            }
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        match &self.kind {
            Kind::Memory => {}
            Kind::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Kind::Postgres { url, opts } => {
                let (url, name) = (url.clone(), opts.schema.clone());
                // Drop runs inside the test's runtime; use a thread with its own.
                let dropped = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        let (client, conn) =
                            tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
                        tokio::spawn(conn);
                        client
                            .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                            .await
                    })
                })
                .join();
                if !matches!(dropped, Ok(Ok(()))) {
                    eprintln!("could not drop test schema {}: {dropped:?}", opts.schema);
                }
            }
        }
    }
}

fn skipped(test: &str) {
    println!("SKIPPED (PostgreSQL): set {PG_ENV} to run {test}");
}

/// Generates, for one async body `fn(&mut Db)`, a module with the test on each backend.
macro_rules! conformance {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_memory() {
                let mut db = super::Db::memory().await;
                super::$name(&mut db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_file() {
                let mut db = super::Db::file().await;
                super::$name(&mut db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match super::Db::postgres(false).await {
                    Some(mut db) => super::$name(&mut db).await,
                    None => super::skipped(stringify!($name)),
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_group_commit() {
                match super::Db::postgres(true).await {
                    Some(mut db) => super::$name(&mut db).await,
                    None => super::skipped(stringify!($name)),
                }
            }
        }
    };
}

conformance!(submit_then_receive);
conformance!(long_documents_round_trip);
conformance!(codes_never_repeat);
conformance!(idempotency);
conformance!(optimistic_concurrency);
conformance!(refusals_write_nothing);
conformance!(password_resets);
conformance!(list_dossiers_pages);
conformance!(users_tokens_catalogue);
conformance!(counters_and_verify);
conformance!(outbox_after_receipt);
conformance!(calendar_settings_round_trip);
conformance!(public_status_by_code);
conformance!(concurrent_actions_on_one_dossier);
conformance!(procedure_edits_leave_dossiers_in_flight_alone);
conformance!(commands_from_a_stale_head);
conformance!(due_soon_lists_open_dossiers_by_appointment);
conformance!(procedure_versions_and_changes);
conformance!(inbound_failures_and_rejections);
conformance!(integration_state_is_compare_and_set);
conformance!(outbox_holds_are_shared_and_kept_once);
conformance!(documents_commit_with_their_command);

#[path = "conformance_outbox/mod.rs"]
mod outbox_delivery;

#[path = "conformance_accounts/mod.rs"]
mod accounts_and_inboxes;
#[path = "conformance_drafts/mod.rs"]
mod drafts;
#[path = "conformance_feedback/mod.rs"]
mod feedback;
#[path = "conformance_payments/mod.rs"]
mod payments;
#[path = "conformance_portal/mod.rs"]
mod portal_sync;
#[path = "conformance_queue/mod.rs"]
mod queue_numbers;
#[path = "conformance_users/mod.rs"]
mod users_and_roles;

// ---------------------------------------------------------------------------------------------
// The domain, as the web layer drives it.

fn ag(s: &str) -> AgencyCode {
    s.parse().unwrap()
}

fn calendar() -> &'static Calendar {
    static CAL: OnceLock<Calendar> = OnceLock::new();
    CAL.get_or_init(Calendar::vietnam_default)
}

/// Local (UTC+7) time.
fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(7 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// Monday 2 March 2026, 09:00 local.
fn t0() -> DateTime<Utc> {
    local(2026, 3, 2, 9, 0)
}

fn actor(role: Role, agency: Option<&str>, n: u128) -> Actor {
    Actor {
        user_id: Uuid::from_u128(n),
        name: format!("{} {n}", role.label_vi()),
        role,
        agency: agency.map(ag),
    }
}

fn citizen(n: u128) -> Actor {
    actor(Role::Citizen, None, 1000 + n)
}
fn desk() -> Actor {
    actor(Role::DeskOfficer, Some(CENTRE), 2)
}
fn leader() -> Actor {
    actor(Role::Leader, Some(DEPT), 3)
}
fn specialist() -> Actor {
    actor(Role::Specialist, Some(DEPT), 4)
}

fn procedure(code: &str, version: u32, name: &str) -> ProcedureVersion {
    let limit = TimeLimit {
        amount: 10,
        unit: TimeUnit::WorkingDays,
    };
    let p = ProcedureVersion {
        code: code.parse().unwrap(),
        version,
        status: VersionStatus::Published,
        name: name.into(),
        field: "Hộ tịch".into(),
        levels: vec![Level::Province],
        online_level: OnlineLevel::Full,
        time_limit: limit,
        fee_vnd: 150_000,
        documents: vec![],
        decision_no: "1/QĐ-UBND".into(),
        competent_agency: Some(ag(DEPT)),
        workflow: WorkflowDef::standard(limit.duration(), None),
        details: Default::default(),
        form: None,
    };
    p.validate().unwrap();
    p
}

fn submission(channel: Channel) -> Command {
    Command::Submit(Box::new(SubmitData {
        procedure: procedure("1.001193", 1, "Cấp giấy phép xây dựng")
            .snapshot(&ag(CENTRE), &ag(DEPT)),
        applicant: Applicant {
            name: "Nguyễn Văn An".into(),
            personal_id: Some("068095001234".parse().unwrap()),
            phone: Some("0912345678".into()),
            email: None,
            address: Some("Phường Xuân Hương - Đà Lạt, Lâm Đồng".into()),
            notify: None,
        },
        channel,
        receiving_agency: ag(CENTRE),
        competent_agency: ag(DEPT),
        documents: vec![DocumentRef {
            name: "Đơn đề nghị".into(),
            file: None,
        }],
        form: serde_json::json!({"dien_tich": 120}),
        receive: true,
        postal_tracking: None,
        on_behalf_of: None,
        origin: None,
        postal: None,
    }))
}

/// A job running `cmd` by `who` at `now`.
fn job(id: Uuid, who: &Actor, now: DateTime<Utc>, cmd: Command) -> Execute {
    let who = who.clone();
    Execute {
        dossier_id: id,
        expected_version: None,
        idempotency: None,
        files: Vec::new(),
        decide: Box::new(move |state, codes| {
            let mut ctx = Ctx {
                now,
                actor: &who,
                calendar: calendar(),
                codes,
            };
            decide(state, &cmd, Some("ghi chú".into()), &mut ctx)
        }),
    }
}

fn with_version(mut j: Execute, v: u64) -> Execute {
    j.expected_version = Some(v);
    j
}

fn with_key(mut j: Execute, actor: &Actor, key: &str) -> Execute {
    j.idempotency = Some((actor.user_id, key.to_string()));
    j
}

/// A citizen's online submission (not yet received).
async fn submit_online(s: &Store, who: &Actor, now: DateTime<Utc>) -> Executed {
    s.execute(job(Uuid::new_v4(), who, now, submission(Channel::Online)))
        .await
        .expect("online submission")
}

/// A desk officer's counter submission (received on the spot, with a code).
async fn submit_counter(s: &Store, now: DateTime<Utc>) -> Executed {
    s.execute(job(
        Uuid::new_v4(),
        &desk(),
        now,
        submission(Channel::Counter),
    ))
    .await
    .expect("counter submission")
}

/// The leader assigns the specialist.
async fn assign_specialist(s: &Store, id: Uuid, now: DateTime<Utc>) -> Executed {
    let cmd = Command::Assign {
        user_id: specialist().user_id,
        name: "CV".into(),
    };
    run(s, id, &leader(), now, cmd).await
}

async fn run(s: &Store, id: Uuid, who: &Actor, now: DateTime<Utc>, cmd: Command) -> Executed {
    let name = cmd.name();
    s.execute(job(id, who, now, cmd))
        .await
        .unwrap_or_else(|e| panic!("{name} on {id}: {e}"))
}

fn seq_of(d: &Dossier) -> u32 {
    d.code.as_ref().expect("a code").seq()
}

// ---------------------------------------------------------------------------------------------
// The tests.

/// Test 1: Submit online, receive at the desk: code, state and history round-trip, hashes chain.
/// A submission as large as real ones (thirty components with the catalogue's long names, a
/// filled form): what every read gives back is what was written, the hash chain holds, and on
/// SQLite the event and the state are stored compressed (decision 0051).
async fn long_documents_round_trip(db: &mut Db) {
    let s = db.store.clone();
    let Command::Submit(mut data) = submission(Channel::Counter) else {
        unreachable!()
    };
    data.documents = (1..=30)
        .map(|i| DocumentRef {
            name: format!(
                "Giấy tờ số {i}: bản sao có chứng thực giấy tờ chứng minh nhân thân, nơi cư trú \
                 của người yêu cầu theo quy định tại Nghị định số 104/2022/NĐ-CP"
            ),
            file: None,
        })
        .collect();
    data.form = serde_json::json!({
        "ho_ten": "Nguyễn Thị Lan", "dia_chi": "Phường Xuân Hương - Đà Lạt, Lâm Đồng",
        "ghi_chu": "Đề nghị cơ quan xem xét giải quyết sớm. ".repeat(20),
    });
    let id = Uuid::new_v4();
    let done = s
        .execute(job(id, &desk(), t0(), Command::Submit(data)))
        .await
        .unwrap();
    let code = done.dossier.code.clone().expect("received at the counter");
    assert_eq!(s.dossier(id).await.unwrap().as_ref(), Some(&done.dossier));
    assert_eq!(
        s.dossier_by_code(&code).await.unwrap(),
        Some(done.dossier.clone())
    );
    let log = s.history(id).await.unwrap();
    assert_eq!(
        log.iter().map(|e| e.event.clone()).collect::<Vec<_>>(),
        done.events
    );
    assert_eq!(s.verify().await.unwrap().problems, Vec::<String>::new());
    assert_eq!(
        s.verify_counters().await.unwrap().problems,
        Vec::<String>::new()
    );
    if let Kind::File(path) = &db.kind {
        let c = rusqlite::Connection::open(path).unwrap();
        let stored = |sql: &str| -> (String, i64) {
            c.query_row(sql, [id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
        };
        let json = serde_json::to_string(&done.events[0]).unwrap().len() as i64;
        let (ty, len) = stored(
            "SELECT typeof(body), length(body) FROM events WHERE dossier_id = ?1 AND seq = 1",
        );
        assert_eq!(ty, "blob");
        assert!(len * 3 < json, "the event: {len} bytes stored of {json}");
        let (ty, _) =
            stored("SELECT typeof(state), length(state) FROM dossier_states WHERE id = ?1");
        assert_eq!(ty, "blob");
        // The outbox's payloads: each compressed one is the message the store hands out.
        let listed = s.outbox_list(OutboxQuery::default()).await.unwrap();
        let raw: Vec<(i64, String, Vec<u8>)> = c
            .prepare("SELECT id, typeof(payload), CAST(payload AS BLOB) FROM outbox")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut packed = 0;
        for (id, ty, bytes) in raw {
            let text = if ty == "blob" {
                packed += 1;
                String::from_utf8(lz4_flex::block::decompress_size_prepended(&bytes[1..]).unwrap())
                    .unwrap()
            } else {
                String::from_utf8(bytes).unwrap()
            };
            let listed = listed.iter().find(|e| e.id == id).expect("listed");
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&text).unwrap(),
                listed.payload
            );
        }
        assert!(packed > 0, "the portal's message is stored compressed");
    }
    // A later command reads the compressed state to decide.
    let next = assign_specialist(&s, id, t0() + Duration::hours(1)).await;
    assert_eq!(next.dossier.documents, done.dossier.documents);
    assert_eq!(s.verify().await.unwrap().problems, Vec::<String>::new());
    // A damaged compressed event: `verify` names the dossier and goes on, it does not fail.
    if let Kind::File(path) = &db.kind {
        let c = rusqlite::Connection::open(path).unwrap();
        c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
        let n = c
            .execute(
                "UPDATE events SET body = substr(body, 1, length(body) - 10)
                 WHERE dossier_id = ?1 AND seq = 1 AND typeof(body) = 'blob'",
                [id.to_string()],
            )
            .unwrap();
        assert_eq!(n, 1);
        // Named first; the counters its log can no longer account for follow.
        let report = s.verify().await.expect("a report, not an error");
        assert!(
            report.problems[0].contains(&id.to_string())
                && report.problems[0].contains("cannot be read"),
            "{:?}",
            report.problems
        );
        assert_eq!(report.dossiers, 1);
    }
}

async fn submit_then_receive(db: &mut Db) {
    let s = &db.store;
    let who = citizen(1);
    let sub = submit_online(s, &who, t0()).await;
    let id = sub.dossier.id;
    assert!(!sub.replayed);
    assert_eq!(sub.events.len(), 1);
    assert_eq!(sub.dossier.status, Status::AwaitingReception);
    assert_eq!(sub.dossier.version, 1);
    assert_eq!(sub.dossier.code, None);
    assert_eq!(sub.dossier.owner, Some(who.user_id));
    assert_eq!(s.dossier(id).await.unwrap().as_ref(), Some(&sub.dossier));

    let rec = s
        .execute(with_version(
            job(id, &desk(), t0() + Duration::minutes(30), Command::Receive),
            1,
        ))
        .await
        .unwrap();
    let code = rec.dossier.code.clone().expect("code issued at reception");
    assert_eq!(code.to_string(), format!("{CENTRE}-260302-0001"));
    assert_eq!(rec.dossier.status, Status::Received);
    assert_eq!(rec.dossier.version, 2);
    assert_eq!(rec.dossier.current_agency, ag(DEPT));

    let stored = s.dossier(id).await.unwrap().expect("stored");
    assert_eq!(stored, rec.dossier);
    assert_eq!(
        s.dossier_by_code(&code).await.unwrap(),
        Some(rec.dossier.clone())
    );
    let other: DossierCode = format!("{CENTRE}-260302-0002").parse().unwrap();
    assert_eq!(s.dossier_by_code(&other).await.unwrap(), None);
    assert_eq!(s.dossier(Uuid::new_v4()).await.unwrap(), None);

    let h = s.history(id).await.unwrap();
    let events: Vec<_> = sub.events.iter().chain(&rec.events).cloned().collect();
    assert_eq!(
        h.iter().map(|e| e.event.clone()).collect::<Vec<_>>(),
        events
    );
    assert_eq!(h.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(h[0].prev_hash, "");
    assert_eq!(h[1].prev_hash, h[0].hash);
    assert_eq!(h[0].hash.len(), 64);
    assert_ne!(h[0].hash, h[1].hash);
    assert!(s.history(Uuid::new_v4()).await.unwrap().is_empty());

    let report = s.verify().await.unwrap();
    assert_eq!(report.problems, Vec::<String>::new());
    assert_eq!((report.dossiers, report.events), (1, 2));
    s.health().await.unwrap();
}

/// Test 2: 200 concurrent counter submissions at one desk on one day: codes 0001..0200, none twice;
/// the sequence goes on after a restart.
async fn codes_never_repeat(db: &mut Db) {
    let s = db.store.clone();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move { submit_counter(&s, t0() + Duration::seconds(i)).await })
        })
        .collect();
    let mut seqs = Vec::new();
    let mut codes = HashSet::new();
    for t in tasks {
        let done = t.await.unwrap();
        assert_eq!(done.dossier.status, Status::Received);
        let code = done.dossier.code.clone().unwrap();
        assert_eq!(code.agency(), &ag(CENTRE));
        assert_eq!(code.date(), NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
        assert!(codes.insert(code.to_string()), "code {code} issued twice");
        seqs.push(code.seq());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=200).collect::<Vec<u32>>());
    // Another day starts again at 1.
    let next_day = submit_counter(&s, t0() + Duration::days(1)).await;
    assert_eq!(
        next_day.dossier.code.unwrap().to_string(),
        format!("{CENTRE}-260303-0001")
    );

    match db.reopen().await {
        Some(again) => {
            let d = submit_counter(&again, t0() + Duration::hours(1)).await;
            assert_eq!(seq_of(&d.dossier), 201);
            assert_eq!(again.dossier(d.dossier.id).await.unwrap(), Some(d.dossier));
            assert_eq!(again.verify().await.unwrap().problems, Vec::<String>::new());
        }
        None => println!("(in-memory SQLite: no reopen)"),
    }
}

/// Test 3: The same (actor, key) twice, also concurrently: one dossier, one `submitted` event.
async fn idempotency(db: &mut Db) {
    let s = db.store.clone();
    let who = citizen(7);
    let first = s
        .execute(with_key(
            job(Uuid::new_v4(), &who, t0(), submission(Channel::Online)),
            &who,
            "k1",
        ))
        .await
        .unwrap();
    assert!(!first.replayed);
    let again = s
        .execute(with_key(
            job(Uuid::new_v4(), &who, t0(), submission(Channel::Online)),
            &who,
            "k1",
        ))
        .await
        .unwrap();
    assert!(again.replayed);
    assert!(again.events.is_empty());
    assert_eq!(again.dossier, first.dossier);
    // Another actor's identical key is another request.
    let other = citizen(8);
    let theirs = s
        .execute(with_key(
            job(Uuid::new_v4(), &other, t0(), submission(Channel::Online)),
            &other,
            "k1",
        ))
        .await
        .unwrap();
    assert!(!theirs.replayed);
    assert_ne!(theirs.dossier.id, first.dossier.id);

    // Concurrently, counter submissions (which also take a code).
    let desk = desk();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let s = s.clone();
            let desk = desk.clone();
            tokio::spawn(async move {
                s.execute(with_key(
                    job(Uuid::new_v4(), &desk, t0(), submission(Channel::Counter)),
                    &desk,
                    "k2",
                ))
                .await
                .unwrap()
            })
        })
        .collect();
    let mut ids = HashSet::new();
    let mut fresh = 0;
    for t in tasks {
        let r = t.await.unwrap();
        ids.insert(r.dossier.id);
        if !r.replayed {
            fresh += 1;
            assert_eq!(r.events.len(), 2);
        }
    }
    assert_eq!(fresh, 1, "exactly one request creates the dossier");
    assert_eq!(ids.len(), 1);
    let id = ids.into_iter().next().unwrap();
    let h = s.history(id).await.unwrap();
    let submitted = h
        .iter()
        .filter(|e| matches!(e.event.body, EventBody::Submitted { .. }))
        .count();
    assert_eq!(submitted, 1);
    // Losers' code allocations were rolled back: the next code is 0002.
    assert_eq!(seq_of(&s.dossier(id).await.unwrap().unwrap()), 1);
    assert_eq!(seq_of(&submit_counter(&s, t0()).await.dossier), 2);
    let owned = s
        .list_dossiers(&DossierQuery {
            owner: Some(who.user_id),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(owned.len(), 1);
    assert_eq!(s.verify().await.unwrap().problems, Vec::<String>::new());
}

/// Test 4: A stale expected version is refused and writes nothing.
async fn optimistic_concurrency(db: &mut Db) {
    let s = db.store.clone();
    let sub = submit_online(&s, &citizen(1), t0()).await;
    let id = sub.dossier.id;
    // A command at version 0 on it, and a submission under its id as if it were new
    // (PostgreSQL decides that one before reading, and the write meets the existing log): the
    // same conflict, nothing written.
    for (who, cmd) in [
        (desk(), Command::Receive),
        (citizen(1), submission(Channel::Online)),
    ] {
        let err = s
            .execute(with_version(job(id, &who, t0(), cmd), 0))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::VersionConflict {
                    expected: 0,
                    actual: 1
                }
            ),
            "{err:?}"
        );
        assert_eq!(s.history(id).await.unwrap().len(), 1);
        assert_eq!(s.dossier(id).await.unwrap().unwrap(), sub.dossier);
    }
    // A new id with version 0 is a plain submission.
    let fresh = s
        .execute(with_version(
            job(
                Uuid::new_v4(),
                &citizen(1),
                t0(),
                submission(Channel::Online),
            ),
            0,
        ))
        .await
        .unwrap();
    assert_eq!(fresh.dossier.version, 1);
    assert_eq!(s.history(fresh.dossier.id).await.unwrap().len(), 1);

    // Two clients that both read version 1: exactly one wins.
    let tasks: Vec<_> = (0..2)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                s.execute(with_version(
                    job(id, &desk(), t0() + Duration::minutes(i), Command::Receive),
                    1,
                ))
                .await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(r) => {
                ok += 1;
                assert_eq!(r.dossier.version, 2);
            }
            Err(StoreError::VersionConflict {
                expected: 1,
                actual: 2,
            }) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(s.history(id).await.unwrap().len(), 2);
    // Without an expected version the command runs on whatever is current.
    let assigned = assign_specialist(&s, id, t0() + Duration::hours(1)).await;
    assert_eq!(assigned.dossier.version, 3);
    // The same new id submitted by several clients at once: one creates it, the others find
    // it there, as if they had run one after the other.
    let fresh = Uuid::new_v4();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                s.execute(job(fresh, &desk(), t0(), submission(Channel::Counter)))
                    .await
            })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(r) => {
                created += 1;
                assert_eq!(r.dossier.id, fresh);
            }
            Err(StoreError::Domain(DomainError::AlreadyExists)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(s.history(fresh).await.unwrap().len(), 2);
    assert_eq!(
        seq_of(&submit_counter(&s, t0()).await.dossier),
        3,
        "no code lost or repeated"
    );
    // Submitting over an existing id is the domain's refusal, as is any command on nothing.
    let err = s
        .execute(job(id, &desk(), t0(), submission(Channel::Counter)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Domain(DomainError::AlreadyExists)),
        "{err:?}"
    );
    let err = s
        .execute(job(Uuid::new_v4(), &desk(), t0(), Command::Receive))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Domain(DomainError::NoDossier)),
        "{err:?}"
    );
    assert_eq!(s.history(id).await.unwrap().len(), 3);
}

/// Test 5: Domain refusals write nothing (not even a code), and one bad job does not fail others.
async fn refusals_write_nothing(db: &mut Db) {
    let s = db.store.clone();
    let sub = submit_online(&s, &citizen(1), t0()).await;
    let id = sub.dossier.id;
    let err = s
        .execute(job(id, &citizen(1), t0(), Command::Receive))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Domain(DomainError::Forbidden(_))),
        "{err:?}"
    );
    assert_eq!(s.history(id).await.unwrap().len(), 1);
    assert_eq!(s.dossier(id).await.unwrap().unwrap(), sub.dossier);

    // A decision that takes a code and then refuses: the code goes back.
    let refuse_after_code = Execute {
        dossier_id: Uuid::new_v4(),
        expected_version: None,
        idempotency: None,
        files: Vec::new(),
        decide: Box::new(|_, codes| {
            codes
                .allocate(&ag(CENTRE), NaiveDate::from_ymd_opt(2026, 3, 2).unwrap())
                .map_err(DomainError::CodeAllocation)?;
            Err(DomainError::Invalid {
                field: "form",
                reason: "refused after taking a code".into(),
            })
        }),
    };
    let err = s.execute(refuse_after_code).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Domain(DomainError::Invalid { field: "form", .. })
        ),
        "{err:?}"
    );

    let rec = run(&s, id, &desk(), t0(), Command::Receive).await;
    assert_eq!(seq_of(&rec.dossier), 1);

    // 50 concurrent jobs, every 5th refused by the domain (a citizen at the counter).
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let who = if i % 5 == 4 { citizen(9) } else { desk() };
                s.execute(job(
                    Uuid::new_v4(),
                    &who,
                    t0() + Duration::seconds(i),
                    submission(Channel::Counter),
                ))
                .await
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        match (i % 5 == 4, t.await.unwrap()) {
            (false, Ok(r)) => seqs.push(seq_of(&r.dossier)),
            (true, Err(StoreError::Domain(DomainError::Forbidden(_)))) => {}
            (bad, r) => panic!("job {i} (invalid: {bad}): {r:?}"),
        }
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (2..=41).collect::<Vec<u32>>());
    let all = s
        .list_dossiers(&DossierQuery {
            limit: 200,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 41);
    assert_eq!(s.verify().await.unwrap().problems, Vec::<String>::new());
}

/// Pages through `q` with the cursor; checks order and that pages do not overlap.
async fn all_pages(s: &Store, mut q: DossierQuery) -> (Vec<Uuid>, usize) {
    let mut out: Vec<Uuid> = Vec::new();
    let mut pages = 0;
    let mut last: Option<(DateTime<Utc>, Uuid)> = None;
    loop {
        let page = s.list_dossiers(&q).await.unwrap();
        if page.is_empty() {
            break;
        }
        pages += 1;
        assert!(page.len() <= q.limit as usize);
        for row in &page {
            let key = (row.submitted_at, row.id);
            if let Some(prev) = last {
                assert!(key < prev, "not in (submitted_at, id) descending order");
            }
            last = Some(key);
            out.push(row.id);
        }
        q.before = last;
        if page.len() < q.limit as usize {
            break;
        }
    }
    (out, pages)
}

/// Test 6: Lists by owner, holding agency, involved agency and status, with cursor pages.
async fn list_dossiers_pages(db: &mut Db) {
    let s = db.store.clone();
    let a = citizen(1);
    let b = citizen(2);
    let mut mine = Vec::new();
    for i in 0..25i64 {
        // Pairs share a submission time: the id breaks the tie.
        let d = submit_online(&s, &a, t0() + Duration::minutes(i / 2)).await;
        mine.push(d.dossier.id);
    }
    let mut theirs = Vec::new();
    for i in 0..5 {
        theirs.push(
            submit_online(&s, &b, t0() + Duration::minutes(i))
                .await
                .dossier
                .id,
        );
    }
    // Receive a's first 7: they move to the department.
    for id in &mine[..7] {
        run(
            &s,
            *id,
            &desk(),
            t0() + Duration::hours(2),
            Command::Receive,
        )
        .await;
    }

    let (ids, pages) = all_pages(
        &s,
        DossierQuery {
            owner: Some(a.user_id),
            limit: 10,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(pages, 3);
    assert_eq!(ids.len(), 25, "no gaps");
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        25,
        "no duplicates"
    );
    assert_eq!(
        ids.iter().copied().collect::<HashSet<_>>(),
        mine.iter().copied().collect()
    );

    let first = s
        .list_dossiers(&DossierQuery {
            owner: Some(b.user_id),
            limit: 2,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].id, theirs[4]);
    assert_eq!(first[0].applicant_name, "Nguyễn Văn An");
    assert_eq!(first[0].procedure_code, "1.001193");
    assert_eq!(first[0].procedure_name, "Cấp giấy phép xây dựng");
    assert_eq!(first[0].status, Status::AwaitingReception);
    assert_eq!(first[0].national_status, 1);
    assert_eq!(first[0].receiving_agency, CENTRE);
    assert_eq!(first[0].current_agency, CENTRE);
    assert_eq!(first[0].submitted_at, t0() + Duration::minutes(4));
    assert_eq!(first[0].version, 1);
    assert_eq!(first[0].code, None);

    let (held, _) = all_pages(
        &s,
        DossierQuery {
            current_agency: Some(ag(DEPT)),
            limit: 3,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        held.iter().copied().collect::<HashSet<_>>(),
        mine[..7].iter().copied().collect()
    );
    let received = s
        .list_dossiers(&DossierQuery {
            status: Some(Status::Received),
            limit: 200,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(received.len(), 7);
    assert!(
        received
            .iter()
            .all(|r| r.code.is_some() && r.version == 2 && r.due_at.is_some())
    );
    let waiting = s
        .list_dossiers(&DossierQuery {
            status: Some(Status::AwaitingReception),
            owner: Some(a.user_id),
            limit: 200,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(waiting.len(), 18);
    let (involved, pages) = all_pages(
        &s,
        DossierQuery {
            agency: Some(ag(CENTRE)),
            limit: 10,
            ..Default::default()
        },
    )
    .await;
    assert_eq!((involved.len(), pages), (30, 3));
    let (dept, _) = all_pages(
        &s,
        DossierQuery {
            agency: Some(ag(DEPT)),
            limit: 10,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        dept.len(),
        30,
        "the department is the competent agency of all"
    );
    let none = s
        .list_dossiers(&DossierQuery {
            agency: Some(ag(WARD)),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(none.is_empty());
    // A limit of 0 still returns one row; over 200 is capped.
    let one = s
        .list_dossiers(&DossierQuery {
            limit: 0,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
}

fn user(name: &str, role: Role, agency: Option<&str>) -> UserRecord {
    UserRecord {
        id: Uuid::new_v4(),
        username: name.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        name: format!("Người dùng {name}"),
        role,
        agency: agency.map(ag),
        disabled: false,
    }
}

/// Test 7: Users and tokens, agencies, administrative units, procedures.
/// A reset is used once, before it expires; it sets the password, lifts a lockout, ends the
/// user's sessions, and its e-mail is in the outbox from the start.
async fn password_resets(db: &mut Db) {
    let s = db.store.clone();
    let u = user("lan@example.vn", Role::Citizen, None);
    s.create_user(u.clone()).await.unwrap();
    let now = t0();
    s.create_token(TokenRecord {
        token_hash: "d".repeat(64),
        user_id: u.id,
        created_at: now,
        expires_at: now + Duration::days(1),
    })
    .await
    .unwrap();
    s.record_login_failure("lan@example.vn", now, 1, Duration::minutes(15))
        .await
        .unwrap();
    assert!(
        s.login_locked_until("lan@example.vn", now)
            .await
            .unwrap()
            .is_some()
    );
    let mail = motcua_domain::dossier::OutboxMessage {
        topic: "email".into(),
        key: format!("reset-{}:1", u.id),
        payload: serde_json::json!({"to": "lan@example.vn", "subject": "Đặt lại mật khẩu"}),
    };
    for (hash, expires) in [
        ("e".repeat(64), now + Duration::hours(1)),
        ("f".repeat(64), now - Duration::seconds(1)),
    ] {
        s.create_password_reset(
            motcua_store::PasswordReset {
                token_hash: hash,
                user_id: u.id,
                created_at: now - Duration::hours(2),
                expires_at: expires,
            },
            mail.clone(),
        )
        .await
        .unwrap();
    }
    let pending = s.outbox_pending(100).await.unwrap();
    assert_eq!(pending.iter().filter(|m| m.topic == "email").count(), 2);
    assert_eq!(
        s.use_password_reset(&"f".repeat(64), "new-hash", now)
            .await
            .unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        s.use_password_reset(&"0".repeat(64), "new-hash", now)
            .await
            .unwrap(),
        None,
        "unknown"
    );
    assert_eq!(
        s.user(u.id).await.unwrap().unwrap().password_hash,
        u.password_hash
    );
    assert_eq!(
        s.use_password_reset(&"e".repeat(64), "new-hash", now)
            .await
            .unwrap(),
        Some(u.id)
    );
    assert_eq!(
        s.user(u.id).await.unwrap().unwrap().password_hash,
        "new-hash"
    );
    assert_eq!(
        s.login_locked_until("lan@example.vn", now).await.unwrap(),
        None
    );
    assert_eq!(
        s.token_user(&"d".repeat(64), now).await.unwrap(),
        None,
        "signed out"
    );
    assert_eq!(
        s.use_password_reset(&"e".repeat(64), "other", now)
            .await
            .unwrap(),
        None,
        "used once"
    );
    assert_eq!(
        s.user(u.id).await.unwrap().unwrap().password_hash,
        "new-hash"
    );
}

async fn users_tokens_catalogue(db: &mut Db) {
    let s = db.store.clone();
    let u = user("canbo1", Role::DeskOfficer, Some(CENTRE));
    s.create_user(u.clone()).await.unwrap();
    let err = s
        .create_user(user("canbo1", Role::Citizen, None))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate(_)), "{err:?}");
    let c = user("congdan", Role::Citizen, None);
    s.create_user(c.clone()).await.unwrap();
    assert_eq!(s.user_by_username("canbo1").await.unwrap(), Some(u.clone()));
    assert_eq!(s.user(c.id).await.unwrap(), Some(c.clone()));
    assert_eq!(s.user_by_username("nobody").await.unwrap(), None);
    assert_eq!(s.user(Uuid::new_v4()).await.unwrap(), None);

    let now = t0();
    for (hash, expires) in [
        ("a".repeat(64), now + Duration::days(30)),
        ("b".repeat(64), now - Duration::seconds(1)),
    ] {
        s.create_token(TokenRecord {
            token_hash: hash,
            user_id: u.id,
            created_at: now - Duration::days(1),
            expires_at: expires,
        })
        .await
        .unwrap();
    }
    assert_eq!(
        s.token_user(&"a".repeat(64), now).await.unwrap(),
        Some(u.clone())
    );
    assert_eq!(
        s.token_user(&"b".repeat(64), now).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        s.token_user(&"c".repeat(64), now).await.unwrap(),
        None,
        "unknown"
    );
    assert_eq!(
        s.token_user(&"a".repeat(64), now + Duration::days(30))
            .await
            .unwrap(),
        None,
        "expires at the instant"
    );

    let agency = |code: &str, name: &str, kind| Agency {
        code: ag(code),
        name: name.into(),
        kind,
        parent: None,
        admin_unit: None,
        has_desk: true,
    };
    s.upsert_agencies(vec![
        agency(DEPT, "Sở Xây dựng", AgencyKind::Department),
        agency(
            CENTRE,
            "Trung tâm Phục vụ hành chính công",
            AgencyKind::ServiceCentre,
        ),
    ])
    .await
    .unwrap();
    let mut renamed = agency(DEPT, "Sở Xây dựng tỉnh Lâm Đồng", AgencyKind::Department);
    renamed.parent = Some(ag(CENTRE));
    renamed.has_desk = false;
    s.upsert_agencies(vec![renamed.clone()]).await.unwrap();
    let all = s.agencies().await.unwrap();
    assert_eq!(
        all.iter().map(|a| a.code.to_string()).collect::<Vec<_>>(),
        vec![CENTRE, DEPT]
    );
    assert_eq!(all[1], renamed);
    assert_eq!(s.agency(&ag(DEPT)).await.unwrap(), Some(renamed));
    assert_eq!(s.agency(&ag(WARD)).await.unwrap(), None);

    let unit = |code: &str, name: &str, province: Option<&str>| AdminUnit {
        code: code.into(),
        name: name.into(),
        full_name: format!("Phường {name}"),
        province_code: province.map(Into::into),
    };
    s.upsert_admin_units(vec![
        unit("68", "Lâm Đồng", None),
        unit("24778", "Xuân Hương - Đà Lạt", Some("68")),
    ])
    .await
    .unwrap();
    s.upsert_admin_units(vec![
        unit("24778", "Xuân Hương", Some("68")),
        unit("24781", "Cam Ly - Đà Lạt", Some("68")),
    ])
    .await
    .unwrap();
    assert_eq!(s.count_admin_units().await.unwrap(), 3);
    let units = s.admin_units().await.unwrap();
    assert_eq!(
        units.iter().map(|u| u.code.as_str()).collect::<Vec<_>>(),
        ["24778", "24781", "68"]
    );
    assert_eq!(units[0], unit("24778", "Xuân Hương", Some("68")));
    assert_eq!(units[2].province_code, None);

    let record = |p: ProcedureVersion, agencies: &[&str]| ProcedureRecord {
        version: p,
        receiving_agencies: agencies.iter().map(|a| ag(a)).collect(),
    };
    let v1 = record(
        procedure("1.000894", 1, "Đăng ký khai sinh"),
        &[CENTRE, WARD],
    );
    s.upsert_procedure(v1).await.unwrap();
    let v2 = record(
        procedure("1.000894", 2, "Đăng ký khai sinh (sửa đổi)"),
        &[CENTRE],
    );
    s.upsert_procedure(v2.clone()).await.unwrap();
    let mut draft = procedure("1.000894", 3, "Đăng ký khai sinh (dự thảo)");
    draft.status = VersionStatus::Draft;
    s.upsert_procedure(record(draft, &[CENTRE])).await.unwrap();
    s.upsert_procedure(record(
        procedure("1.001193", 1, "Cấp giấy phép xây dựng"),
        &[CENTRE, DEPT],
    ))
    .await
    .unwrap();
    s.upsert_procedure(record(procedure("1.000656", 1, "Đăng ký kết hôn"), &[WARD]))
        .await
        .unwrap();
    assert_eq!(s.published_procedure("1.000894").await.unwrap(), Some(v2));
    assert_eq!(s.published_procedure("9.999999").await.unwrap(), None);
    assert_eq!(s.count_procedures().await.unwrap(), 3);

    let list = |text: Option<&str>, agency: Option<&str>| {
        let s = s.clone();
        let q = ProcedureQuery {
            text: text.map(Into::into),
            agency: agency.map(ag),
            limit: 50,
            offset: 0,
        };
        async move {
            s.list_procedures(&q)
                .await
                .unwrap()
                .into_iter()
                .map(|p| (p.code, p.version))
                .collect::<Vec<_>>()
        }
    };
    let codes = |v: &[(&str, u32)]| {
        v.iter()
            .map(|(c, n)| (c.to_string(), *n))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list(None, None).await,
        codes(&[("1.000656", 1), ("1.000894", 2), ("1.001193", 1)])
    );
    assert_eq!(
        list(Some("dang ky"), None).await,
        codes(&[("1.000656", 1), ("1.000894", 2)])
    );
    assert_eq!(
        list(Some("ĐĂNG KÝ khai"), None).await,
        codes(&[("1.000894", 2)])
    );
    assert_eq!(
        list(Some("1.001193"), None).await,
        codes(&[("1.001193", 1)])
    );
    assert_eq!(list(Some("khai sinh xyz"), None).await, codes(&[]));
    // LIKE's wildcards are not the user's; a backslash is an ordinary character.
    assert_eq!(
        list(Some("%_"), None).await,
        codes(&[("1.000656", 1), ("1.000894", 2), ("1.001193", 1)])
    );
    assert_eq!(list(Some("dang\\"), None).await, codes(&[]));
    assert_eq!(
        list(None, Some(CENTRE)).await,
        codes(&[("1.000894", 2), ("1.001193", 1)])
    );
    // v2 is no longer receivable at the ward (its agencies were replaced).
    assert_eq!(
        list(Some("dang ky"), Some(WARD)).await,
        codes(&[("1.000656", 1)])
    );
    assert_eq!(list(None, Some(DEPT)).await, codes(&[("1.001193", 1)]));
    let page = s
        .list_procedures(&ProcedureQuery {
            limit: 1,
            offset: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].code, "1.000894");
    assert_eq!(page[0].name, "Đăng ký khai sinh (sửa đổi)");
    assert_eq!(page[0].field, "Hộ tịch");
    assert_eq!(page[0].fee_vnd, 150_000);
    assert_eq!(page[0].time_limit, "10 ngày làm việc");

    // Never published: a code with only a draft (not 1.000894, whose draft follows a
    // published version).
    let mut only_draft = procedure("1.000777", 1, "Cấp phép khai thác (chưa rõ thời hạn)");
    only_draft.status = VersionStatus::Draft;
    s.upsert_procedure(record(only_draft, &[])).await.unwrap();
    let unpublished = |text: Option<&str>| {
        let s = s.clone();
        let q = ProcedureQuery {
            text: text.map(Into::into),
            limit: 50,
            ..Default::default()
        };
        async move {
            s.list_unpublished(&q)
                .await
                .unwrap()
                .into_iter()
                .map(|p| (p.code, p.version))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(unpublished(None).await, codes(&[("1.000777", 1)]));
    assert_eq!(
        unpublished(Some("khai thac")).await,
        codes(&[("1.000777", 1)])
    );
    assert_eq!(unpublished(Some("khai sinh")).await, codes(&[]));
    assert_eq!(s.count_procedures().await.unwrap(), 3);
    assert!(!list(None, None).await.iter().any(|(c, _)| c == "1.000777"));
}

/// Test 8: Counters after a few lifecycles; `verify` is clean, then finds tampering.
async fn counters_and_verify(db: &mut Db) {
    let s = db.store.clone();
    let who = citizen(1);
    let day = |h: i64| t0() + Duration::hours(h);
    // Two at the counter (received at once), two online: one received, one refused.
    let c1 = submit_counter(&s, day(0)).await.dossier.id;
    let c2 = submit_counter(&s, day(0)).await.dossier.id;
    let o1 = submit_online(&s, &who, day(0)).await.dossier.id;
    let o2 = submit_online(&s, &who, day(0)).await.dossier.id;
    run(&s, o1, &desk(), day(1), Command::Receive).await;
    run(
        &s,
        o2,
        &desk(),
        day(1),
        Command::Refuse {
            reasons: vec!["Không thuộc thẩm quyền".into()],
        },
    )
    .await;
    // o1 goes all the way: processing, approval, result, return, rating (next days).
    let next = |d: i64, h: u32| local(2026, 3, 2 + d as u32, h, 0);
    assign_specialist(&s, o1, next(1, 9)).await;
    run(
        &s,
        o1,
        &leader(),
        next(1, 10),
        Command::CompleteStep {
            to: None,
            documents: vec![],
        },
    )
    .await;
    run(
        &s,
        o1,
        &specialist(),
        next(1, 14),
        Command::CompleteStep {
            to: None,
            documents: vec![],
        },
    )
    .await;
    run(&s, o1, &leader(), next(2, 9), Command::Approve).await;
    run(
        &s,
        o1,
        &desk(),
        next(2, 10),
        Command::MarkResultReady {
            summary: "Giấy phép số 12/GPXD".into(),
            documents: vec![],
        },
    )
    .await;
    run(
        &s,
        o1,
        &desk(),
        next(3, 8),
        Command::ReturnResult {
            method: ReturnMethod::Counter,
            receiver: "Nguyễn Văn An".into(),
        },
    )
    .await;
    let done = run(
        &s,
        o1,
        &who,
        next(3, 9),
        Command::Rate {
            score: 4,
            comment: None,
        },
    )
    .await;
    assert_eq!(done.dossier.status, Status::Returned);

    let sums = |q: CounterQuery| {
        let s = s.clone();
        async move {
            s.counters(&q)
                .await
                .unwrap()
                .into_iter()
                .map(|r| ((r.agency, r.metric), r.value))
                .collect::<BTreeMap<_, _>>()
        }
    };
    let expect = |v: &[(&str, &str, i64)]| {
        v.iter()
            .map(|(a, m, n)| ((a.to_string(), m.to_string()), *n))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(
        sums(CounterQuery::default()).await,
        expect(&[
            (CENTRE, "rated", 1),
            (CENTRE, "rating_sum", 4),
            (CENTRE, "received_counter", 2),
            (CENTRE, "received_online", 1),
            (CENTRE, "refused", 1),
            (CENTRE, "returned", 1),
            (CENTRE, "submitted_counter", 2),
            (CENTRE, "submitted_online", 2),
            (DEPT, "resolved_early", 1),
        ])
    );
    let first_day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    assert_eq!(
        sums(CounterQuery {
            agency: Some(ag(CENTRE)),
            from: Some(first_day),
            to: Some(first_day),
        })
        .await,
        expect(&[
            (CENTRE, "received_counter", 2),
            (CENTRE, "received_online", 1),
            (CENTRE, "refused", 1),
            (CENTRE, "submitted_counter", 2),
            (CENTRE, "submitted_online", 2),
        ])
    );
    assert_eq!(
        sums(CounterQuery {
            agency: None,
            from: Some(first_day + Duration::days(1)),
            to: None,
        })
        .await,
        expect(&[
            (CENTRE, "rated", 1),
            (CENTRE, "rating_sum", 4),
            (CENTRE, "returned", 1),
            (DEPT, "resolved_early", 1),
        ])
    );
    assert!(
        sums(CounterQuery {
            agency: Some(ag(WARD)),
            ..Default::default()
        })
        .await
        .is_empty()
    );

    let report = s.verify().await.unwrap();
    assert_eq!(report.problems, Vec::<String>::new());
    assert_eq!(report.dossiers, 4);
    // 2 + 2 (counter) + 2 (o1 submit, receive) + 2 (o2) + 7 (o1 onwards; approve may add moves)
    let events: usize = {
        let mut n = 0;
        for id in [c1, c2, o1, o2] {
            n += s.history(id).await.unwrap().len();
        }
        n
    };
    assert_eq!(report.events, events as u64);

    // Folding the counter shards of closed days (PostgreSQL) changes no sum, report or verdict,
    // and leaves nothing to fold a second time; SQLite has nothing to fold.
    let all = sums(CounterQuery::default()).await;
    let agencies = [ag(CENTRE), ag(DEPT), ag(WARD)];
    let reports = || {
        let s = s.clone();
        let agencies = agencies.clone();
        async move {
            let mut out = Vec::new();
            for g in [GroupBy::Agency, GroupBy::Procedure] {
                out.push(
                    s.form06_by(
                        &agencies,
                        first_day,
                        first_day + Duration::days(40),
                        &Filter::default(),
                        g,
                    )
                    .await
                    .unwrap(),
                );
            }
            out
        }
    };
    let before_fold = reports().await;
    let far = NaiveDate::from_ymd_opt(2100, 1, 1).unwrap();
    let folded = s.fold_counters(None, far).await.unwrap();
    // Writers keep to shards 1-16 on PostgreSQL, so every row of these past days moves.
    match s {
        Store::Sqlite(_) => assert_eq!(folded, 0),
        Store::Postgres(_) => assert!(folded > 0),
    }
    assert_eq!(sums(CounterQuery::default()).await, all);
    assert_eq!(reports().await, before_fold);
    assert_eq!(s.fold_counters(None, far).await.unwrap(), 0);
    assert_eq!(s.verify().await.unwrap().problems, Vec::<String>::new());

    // Rewrite the applicant's name in a stored event, behind the store's back.
    let tampered = db
        .tamper(
            "UPDATE events SET body = replace(body, 'Nguyễn Văn An', 'Trần Văn Bình') WHERE dossier_id = ?1 AND seq = 1",
            "UPDATE events SET body = replace(body, 'Nguyễn Văn An', 'Trần Văn Bình') WHERE dossier_id = $1 AND seq = 1",
            c1,
        )
        .await;
    if tampered {
        let report = s.verify().await.unwrap();
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.contains(&c1.to_string()) && p.contains("altered")),
            "{:?}",
            report.problems
        );
        // A counter changed by hand is found too.
        db.tamper(
            "UPDATE counters SET value = value + 1 WHERE metric = 'refused' AND ?1 IS NOT NULL",
            "UPDATE counters SET value = value + 1 WHERE metric = 'refused' AND $1::uuid IS NOT NULL",
            c1,
        )
        .await;
        let report = s.verify().await.unwrap();
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.contains("refused") && p.contains("stored 2")),
            "{:?}",
            report.problems
        );
        // The statistics alone, folded on all cores, find it too.
        let folded = s.verify_counters().await.unwrap().problems;
        assert!(
            folded
                .iter()
                .any(|p| p.contains("refused") && p.contains("stored 2")),
            "{folded:?}"
        );
        // The procedure a dossier was submitted under, changed behind the store's back (SQLite
        // keeps each snapshot once, shared by the dossiers submitted under it).
        db.tamper(
            r#"UPDATE snapshots SET body = replace(body, '"version":1,', '"version":9,') WHERE ?1 IS NOT NULL"#,
            r#"UPDATE events SET body = replace(body, '"version":1,', '"version":9,') WHERE dossier_id = $1 AND seq = 1"#,
            c2,
        )
        .await;
        let report = s.verify().await.unwrap();
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.contains(&c2.to_string()) && p.contains("altered")),
            "{:?}",
            report.problems
        );
    } else {
        println!("(in-memory SQLite: tampering from outside not possible)");
    }
}

/// Test 9: Receipt puts a national-portal sync message in the outbox.
async fn outbox_after_receipt(db: &mut Db) {
    let s = db.store.clone();
    let sub = submit_online(&s, &citizen(1), t0()).await;
    let before = s.outbox_pending(100).await.unwrap();
    assert!(
        before.iter().all(|m| m.topic != "dvcqg.sync"),
        "no sync before a code exists"
    );
    let rec = run(
        &s,
        sub.dossier.id,
        &desk(),
        t0() + Duration::minutes(5),
        Command::Receive,
    )
    .await;
    let code = rec.dossier.code.clone().unwrap().to_string();
    let pending = s.outbox_pending(100).await.unwrap();
    let sync: Vec<_> = pending.iter().filter(|m| m.topic == "dvcqg.sync").collect();
    assert_eq!(sync.len(), 1, "{pending:?}");
    assert_eq!(sync[0].key, format!("{code}:2"));
    assert_eq!(sync[0].payload["MaHoSo"], code);
    assert_eq!(sync[0].payload["TrangThaiHoSo"], 2);
    assert_eq!(sync[0].payload["KenhThucHien"], 2);
    assert_eq!(sync[0].payload["SuKien"], "received");
    assert_eq!(sync[0].attempts, 0);
    // The applicant gave a phone number (no e-mail): an SMS on both status changes, in order.
    let notices: Vec<_> = pending.iter().filter(|m| m.topic == "sms").collect();
    assert_eq!(notices.len(), 2);
    assert!(pending.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(s.outbox_pending(1).await.unwrap().len(), 1);
}

/// Many actions on one dossier at once (no expected version): each is applied exactly once, in
/// some order, on the state the previous one left (SQLite decides most of them before they reach
/// the writer and must redo those whose state moved meanwhile).
async fn concurrent_actions_on_one_dossier(db: &mut Db) {
    let s = db.store.clone();
    let d = submit_counter(&s, t0()).await.dossier;
    let mut tasks = Vec::new();
    for i in 0..30u32 {
        let s = s.clone();
        let cmd = Command::Assign {
            user_id: Uuid::from_u128(500 + i as u128),
            name: format!("Chuyên viên {i}"),
        };
        tasks.push(tokio::spawn(async move {
            s.execute(job(d.id, &leader(), t0() + Duration::minutes(1), cmd))
                .await
        }));
    }
    let mut versions = Vec::new();
    for t in tasks {
        versions.push(t.await.unwrap().unwrap().dossier.version);
    }
    versions.sort_unstable();
    assert_eq!(
        versions,
        (d.version + 1..=d.version + 30).collect::<Vec<_>>()
    );
    let log = s.history(d.id).await.unwrap();
    assert_eq!(log.len() as u64, d.version + 30);
    assert!(
        log.windows(2)
            .all(|w| w[1].prev_hash == w[0].hash && w[1].seq == w[0].seq + 1)
    );
    let report = s.verify().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

/// A command started from a state read earlier (`execute_from`) is applied to the dossier as it
/// is when written: a head that went stale meanwhile loses no event, and the chain stays whole.
async fn commands_from_a_stale_head(db: &mut Db) {
    let s = db.store.clone();
    let d = submit_counter(&s, t0()).await.dossier;
    let head = s.dossier_head(d.id).await.unwrap().expect("a head");
    assert_eq!(head.dossier, d);
    assert_eq!(
        head.last_hash,
        s.history(d.id).await.unwrap().last().unwrap().hash
    );
    let assign = |i: u128| Command::Assign {
        user_id: Uuid::from_u128(700 + i),
        name: format!("Chuyên viên {i}"),
    };
    // Fresh head: applied on it.
    let a = s
        .execute_from(job(d.id, &leader(), t0(), assign(1)), head.clone())
        .await
        .unwrap();
    assert_eq!(a.dossier.version, d.version + 1);
    // The same, now stale, head: the command still lands after the first one.
    let b = s
        .execute_from(job(d.id, &leader(), t0(), assign(2)), head.clone())
        .await
        .unwrap();
    assert_eq!(b.dossier.version, d.version + 2);
    assert_eq!(b.dossier.assignee, Some(Uuid::from_u128(702)));
    // With an expected version, a stale head is a conflict, not a silent redo.
    let e = s
        .execute_from(
            with_version(job(d.id, &leader(), t0(), assign(3)), d.version),
            head,
        )
        .await;
    assert!(
        matches!(e, Err(StoreError::VersionConflict { .. })),
        "{e:?}"
    );
    let log = s.history(d.id).await.unwrap();
    assert_eq!(log.len() as u64, d.version + 2);
    assert!(log.windows(2).all(|w| w[1].prev_hash == w[0].hash));
    let report = s.verify().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

/// A dossier keeps the procedure version (and workflow) it was submitted under: publishing a new
/// version with another time limit and workflow changes nothing for it.
async fn procedure_edits_leave_dossiers_in_flight_alone(db: &mut Db) {
    use motcua_store::ProcedureRecord;
    let s = db.store.clone();
    let v1 = procedure("2.000488", 1, "Đăng ký kết hôn");
    s.upsert_procedure(ProcedureRecord {
        version: v1,
        receiving_agencies: vec![ag(CENTRE)],
    })
    .await
    .unwrap();
    let published = s.published_procedure("2.000488").await.unwrap().unwrap();
    let mut cmd = submission(Channel::Online);
    if let Command::Submit(data) = &mut cmd {
        data.procedure = published.version.snapshot(&ag(CENTRE), &ag(DEPT));
    }
    let sub = s
        .execute(job(Uuid::new_v4(), &citizen(7), t0(), cmd))
        .await
        .unwrap();
    // Version 2: a shorter limit and a workflow with a consultation step.
    let mut v2 = procedure("2.000488", 2, "Đăng ký kết hôn (sửa đổi)");
    v2.time_limit = TimeLimit {
        amount: 3,
        unit: TimeUnit::WorkingDays,
    };
    v2.workflow = WorkflowDef::standard(v2.time_limit.duration(), Some(ag(CENTRE)));
    v2.validate().unwrap();
    s.upsert_procedure(ProcedureRecord {
        version: v2,
        receiving_agencies: vec![ag(CENTRE)],
    })
    .await
    .unwrap();
    assert_eq!(
        s.published_procedure("2.000488")
            .await
            .unwrap()
            .unwrap()
            .version
            .version,
        2
    );
    let rec = run(
        &s,
        sub.dossier.id,
        &desk(),
        t0() + Duration::minutes(5),
        Command::Receive,
    )
    .await;
    let d = rec.dossier;
    assert_eq!(d.procedure.version, 1);
    assert_eq!(d.procedure.name, "Đăng ký kết hôn");
    assert_eq!(d.procedure.time_limit.amount, 10);
    assert_eq!(
        d.procedure.steps.len(),
        4,
        "the v1 workflow, without the consultation"
    );
    let expected = calendar().add_working_time(
        t0() + Duration::minutes(5),
        motcua_domain::calendar::WorkingDuration::days(10),
    );
    assert_eq!(d.due_at, Some(expected));
}

/// Batches of versions with their change records: one transaction, publication supersedes,
/// every version stays readable with its true status, and the changes come back in order.
async fn procedure_versions_and_changes(db: &mut Db) {
    let s = &db.store;
    let at = Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap();
    let rec = |v: u32, status: VersionStatus, agencies: &[&str]| {
        let mut p = procedure("1.000894", v, &format!("Đăng ký khai sinh v{v}"));
        p.status = status;
        ProcedureRecord {
            version: p,
            receiving_agencies: agencies.iter().map(|a| ag(a)).collect(),
        }
    };
    let change = |v: u32, action: &str| ProcedureChange {
        code: "1.000894".into(),
        version: v,
        at,
        actor: "quantri".into(),
        action: action.into(),
        note: String::new(),
    };
    let generation = s.catalogue_generation().await.unwrap();
    s.save_procedures(
        vec![
            rec(1, VersionStatus::Published, &[CENTRE, WARD]),
            ProcedureRecord {
                version: procedure("1.001193", 1, "Cấp giấy phép"),
                receiving_agencies: vec![ag(CENTRE)],
            },
        ],
        vec![change(1, "import_added")],
    )
    .await
    .unwrap();
    // A draft carries its e-form; publishing keeps it with the version.
    let form: motcua_domain::forms::FormDefinition = serde_json::from_value(serde_json::json!({
        "id": "to-khai", "title": "Tờ khai",
        "sections": [{"id": "a", "title": "A", "fields": [
            {"id": "ho_ten", "label": "Họ tên", "type": "text", "required": true}]}]
    }))
    .unwrap();
    let with_form = |status| {
        let mut r = rec(2, status, &[CENTRE, WARD]);
        r.version.form = Some(form.clone());
        r
    };
    // Every write of procedures makes a new catalogue generation (a node reloads its
    // catalogue only then).
    let after_import = s.catalogue_generation().await.unwrap();
    assert!(after_import > generation, "{generation} -> {after_import}");
    s.save_procedures(
        vec![with_form(VersionStatus::Draft)],
        vec![change(2, "draft_created")],
    )
    .await
    .unwrap();
    let after_draft = s.catalogue_generation().await.unwrap();
    assert!(
        after_draft > after_import,
        "{after_import} -> {after_draft}"
    );
    s.upsert_procedure(rec(1, VersionStatus::Published, &[CENTRE]))
        .await
        .unwrap();
    assert!(s.catalogue_generation().await.unwrap() > after_draft);
    s.upsert_procedure(rec(1, VersionStatus::Published, &[CENTRE, WARD]))
        .await
        .unwrap();
    assert_eq!(
        s.published_procedure("1.000894")
            .await
            .unwrap()
            .unwrap()
            .version
            .version,
        1,
        "a draft publishes nothing"
    );
    s.save_procedures(
        vec![with_form(VersionStatus::Published)],
        vec![change(2, "published")],
    )
    .await
    .unwrap();
    let versions = s.procedure_versions("1.000894").await.unwrap();
    let st: Vec<(u32, VersionStatus)> = versions
        .iter()
        .map(|r| (r.version.version, r.version.status))
        .collect();
    assert_eq!(
        st,
        [
            (1, VersionStatus::Superseded),
            (2, VersionStatus::Published)
        ]
    );
    assert_eq!(versions[1].receiving_agencies, [ag(CENTRE), ag(WARD)]);
    assert_eq!(versions[0].version.form, None);
    assert_eq!(versions[1].version.form.as_ref(), Some(&form));
    let published = s.published_procedure("1.000894").await.unwrap().unwrap();
    assert_eq!(published.version.form, Some(form.clone()));
    let published = s.published_procedures().await.unwrap();
    let codes: Vec<String> = published
        .iter()
        .map(|r| r.version.code.to_string())
        .collect();
    assert_eq!(codes, ["1.000894", "1.001193"]);
    assert_eq!(s.all_procedure_versions().await.unwrap().len(), 3);
    let changes = s.procedure_changes("1.000894").await.unwrap();
    let actions: Vec<&str> = changes.iter().map(|c| c.action.as_str()).collect();
    assert_eq!(actions, ["import_added", "draft_created", "published"]);
    assert_eq!(changes[0].at, at);
    assert_eq!(changes[0].actor, "quantri");
    assert!(s.procedure_changes("1.001193").await.unwrap().is_empty());
    assert!(s.procedure_versions("9.999999").await.unwrap().is_empty());
}

async fn public_status_by_code(db: &mut Db) {
    let s = db.store.clone();
    let sub = submit_online(&s, &citizen(1), t0()).await;
    let rec = run(
        &s,
        sub.dossier.id,
        &desk(),
        t0() + Duration::minutes(5),
        Command::Receive,
    )
    .await;
    let code = rec.dossier.code.clone().unwrap();
    let row = s.public_status(&code).await.unwrap().unwrap();
    assert_eq!(row.code, code.to_string());
    assert_eq!(row.status, rec.dossier.status);
    assert_eq!(row.procedure_name, rec.dossier.procedure.name);
    assert_eq!(row.received_at, rec.dossier.received_at);
    assert_eq!(row.due_at, rec.dossier.due_at);
    assert_eq!(row.finished_at, None);
    let other =
        motcua_domain::codes::DossierCode::new(code.agency().clone(), code.date(), 9999).unwrap();
    assert_eq!(s.public_status(&other).await.unwrap(), None);
}

/// Integration state (migration 21): set once, then only from the version read, so of two
/// writers holding the same version exactly one wins.
async fn integration_state_is_compare_and_set(db: &mut Db) {
    let s = db.store.clone();
    assert_eq!(s.state("zalo.oauth").await.unwrap(), None);
    assert!(s.swap_state("zalo.oauth", None, "r1").await.unwrap());
    assert!(
        !s.swap_state("zalo.oauth", None, "other").await.unwrap(),
        "already there: not replaced"
    );
    let e = s.state("zalo.oauth").await.unwrap().unwrap();
    assert_eq!((e.value.as_str(), e.version), ("r1", 1));
    assert!(s.swap_state("zalo.oauth", Some(1), "r2").await.unwrap());
    assert!(
        !s.swap_state("zalo.oauth", Some(1), "r2-late")
            .await
            .unwrap(),
        "the second writer with the same version loses"
    );
    let e = s.state("zalo.oauth").await.unwrap().unwrap();
    assert_eq!((e.value.as_str(), e.version), ("r2", 2));
    assert_eq!(s.state("another").await.unwrap(), None);
}

/// Held targets (decision 0053): a second hold keeps the first, two operators' holds on
/// different targets both land, a lift takes one off and lifting again finds nothing.
async fn outbox_holds_are_shared_and_kept_once(db: &mut Db) {
    use motcua_store::OutboxHold;
    let s = db.store.clone();
    assert!(s.outbox_holds().await.unwrap().is_empty());
    let at = chrono::DateTime::parse_from_rfc3339("2027-01-04T15:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let hold = |topic: &str, by: &str, reason: &str| OutboxHold {
        topic: topic.into(),
        by: by.into(),
        at,
        reason: reason.into(),
    };
    let (h, new) = s
        .outbox_hold(hold("dvcqg.sync", "quantri", " Cổng DVCQG bảo trì "))
        .await
        .unwrap();
    assert!(new);
    assert_eq!(h.reason, "Cổng DVCQG bảo trì", "kept trimmed");
    let (h, new) = s
        .outbox_hold(hold("dvcqg.sync", "khac", "lần hai"))
        .await
        .unwrap();
    assert!(!new, "held already");
    assert_eq!(
        (h.by.as_str(), h.reason.as_str()),
        ("quantri", "Cổng DVCQG bảo trì")
    );
    // Two holds at once on different targets: compare-and-set retries, both land.
    let (a, b) = tokio::join!(
        s.outbox_hold(hold("sms", "a", "nhà mạng lỗi")),
        s.outbox_hold(hold("email", "b", "máy chủ thư đổi"))
    );
    assert!(a.unwrap().1 && b.unwrap().1);
    let topics: Vec<String> = s
        .outbox_holds()
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.topic)
        .collect();
    assert_eq!(topics, ["dvcqg.sync", "email", "sms"]);
    assert!(
        s.outbox_hold(hold("ftp", "a", "x")).await.is_err(),
        "an unknown target is refused"
    );
    let lifted = s.outbox_release("sms").await.unwrap().unwrap();
    assert_eq!(lifted.by, "a");
    assert_eq!(s.outbox_release("sms").await.unwrap(), None);
    assert_eq!(s.outbox_holds().await.unwrap().len(), 2);
}

async fn calendar_settings_round_trip(db: &mut Db) {
    use motcua_domain::calendar::{CalendarSettings, DayException, DayKind};
    let s = db.store.clone();
    assert!(s.calendar_settings().await.unwrap().is_empty());
    let day = |d: u32, kind| DayException {
        date: chrono::NaiveDate::from_ymd_opt(2027, 1, d).unwrap(),
        kind,
        name: "Lịch năm 2027".into(),
    };
    let province = CalendarSettings {
        days: vec![day(4, DayKind::DayOff), day(9, DayKind::WorkingDay)],
        ..Default::default()
    };
    let agency = CalendarSettings {
        cut_off: chrono::NaiveTime::from_hms_opt(15, 0, 0),
        ..Default::default()
    };
    s.put_calendar_settings("province".into(), province.clone())
        .await
        .unwrap();
    s.put_calendar_settings("H40.24781".into(), agency.clone())
        .await
        .unwrap();
    // Replacing keeps one row per scope.
    s.put_calendar_settings("province".into(), province.clone())
        .await
        .unwrap();
    let all = s.calendar_settings().await.unwrap();
    assert_eq!(
        all,
        vec![
            ("H40.24781".to_string(), agency),
            ("province".to_string(), province)
        ]
    );
}

/// PostgreSQL only: `?schema=` in the URL, two stores migrating the same new schema at once,
/// readable errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_open() {
    let Some(url) = std::env::var(PG_ENV).ok().filter(|u| !u.trim().is_empty()) else {
        return skipped("postgres_open");
    };
    let schema = format!("t_{}", Uuid::new_v4().simple());
    // Dropped at the end, even if an assertion fails.
    let _cleanup = Db {
        store: Store::open("sqlite::memory:").await.unwrap(),
        kind: Kind::Postgres {
            url: url.clone(),
            opts: PgOptions {
                schema: schema.clone(),
                ..PgOptions::default()
            },
        },
    };
    let with_schema = format!(
        "{url}{}schema={schema}",
        if url.contains('?') { '&' } else { '?' }
    );
    let (a, b) = tokio::join!(Store::open(&with_schema), Store::open(&with_schema));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.backend(), "postgres");
    let d = submit_counter(&a, t0()).await;
    assert_eq!(
        b.dossier(d.dossier.id).await.unwrap(),
        Some(d.dossier.clone())
    );
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let rows = client
        .query(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1",
            &[&schema],
        )
        .await
        .unwrap();
    assert_eq!(
        rows[0].get::<_, i64>(0),
        34,
        "33 tables (outbox_daily from migration 7, procedure_changes from 8, audit_log from 9, files, dossier_files and vault from 11, four queue tables from 12, user_roles from 13, password_resets from 14, drafts from 17, payments from 18, inbound from 20, integration_state from 21, portal_synced from 22, feedback and feedback_steps from 23, catalogue_generation from 31) and schema_migrations"
    );
    let applied: i64 = client
        .query_one(
            &format!("SELECT count(*) FROM {schema}.schema_migrations"),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        applied, 26,
        "every migration applied once (15, 16, 25, 26 and 29 add columns and indexes only, 24 rows, 27 sets compression, 28 drops foreign keys, 30 rekeys the file links)"
    );
    // Migration 28: a dossier's file links have no foreign keys; `verify` finds broken ones.
    let fks: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
             JOIN pg_namespace n ON n.oid = t.relnamespace
             WHERE n.nspname = $1 AND t.relname = 'dossier_files' AND c.contype = 'f'",
            &[&schema],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(fks, 0);
    // Migration 30: a link is unique by its dossier and a digest of file, kind and slot (the
    // index itself is checked by `files.rs`), a long slot included.
    let long_slot = "Tờ khai đăng ký ".repeat(20);
    let insert = format!(
        "INSERT INTO {schema}.dossier_files
         (dossier_id, kind, slot, sha256, name, uploaded_by, uploaded_at) VALUES
         ('{id}', 'component', '{long_slot}', 'dup-file', 'x.pdf', '{id}', now())",
        id = d.dossier.id
    );
    client.batch_execute(&insert).await.unwrap();
    let dup = client.batch_execute(&insert).await.unwrap_err();
    assert_eq!(
        dup.code(),
        Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION),
        "{dup}"
    );
    client
        .batch_execute(&format!(
            "DELETE FROM {schema}.dossier_files WHERE sha256 = 'dup-file'"
        ))
        .await
        .unwrap();
    assert_eq!(a.verify().await.unwrap().problems, Vec::<String>::new());
    let stranger = Uuid::new_v4();
    client
        .batch_execute(&format!(
            "INSERT INTO {schema}.files (sha256, size, mime, created_at)
             VALUES ('known-file', 1, 'application/pdf', now());
             INSERT INTO {schema}.dossier_files
             (dossier_id, kind, slot, sha256, name, uploaded_by, uploaded_at) VALUES
             ('{id}', 'component', 'x', 'no-such-file', 'x.pdf', '{stranger}', now()),
             ('{id}', 'component', 'y', 'known-file', 'y.pdf', '{stranger}', now())",
            id = d.dossier.id
        ))
        .await
        .unwrap();
    let problems = a.verify().await.unwrap().problems;
    let id = d.dossier.id;
    assert_eq!(
        problems,
        vec![
            format!("dossier {id}: file known-file was linked by {stranger}, who is not a user"),
            format!("dossier {id}: linked file no-such-file has no record in files"),
        ]
    );
    client
        .batch_execute(&format!(
            "DELETE FROM {schema}.dossier_files WHERE dossier_id = '{id}';
             DELETE FROM {schema}.files WHERE sha256 = 'known-file'"
        ))
        .await
        .unwrap();
    // Migration 27: the large JSON columns use LZ4 where this server has it.
    let lz4 = client
        .batch_execute("CREATE TEMP TABLE lz4_probe (x text COMPRESSION lz4)")
        .await
        .is_ok();
    let methods: Vec<(String, String)> = client
        .query(
            "SELECT c.relname::text, a.attcompression::text FROM pg_attribute a
             JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND (c.relname, a.attname) IN
                 (('events', 'body'), ('dossiers', 'state'), ('outbox', 'payload'))
             ORDER BY 1",
            &[&schema],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let want = if lz4 { "l" } else { "" };
    assert_eq!(
        methods,
        ["dossiers", "events", "outbox"]
            .map(|t| (t.to_string(), want.to_string()))
            .to_vec(),
        "LZ4 available: {lz4}"
    );

    let err = PgStore::open_in_schema(&url, "Bad-Name")
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("schema name"), "{err}");
    // Group commit is on unless the URL turns it off; a value other than on/off is refused.
    let off = Store::open(&format!("{with_schema}&group_commit=off"))
        .await
        .unwrap();
    assert_eq!(
        off.dossier(d.dossier.id).await.unwrap(),
        Some(d.dossier.clone())
    );
    submit_counter(&off, t0()).await;
    let err = Store::open(&format!("{with_schema}&group_commit=maybe"))
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("group_commit=maybe"), "{err}");
    let err = Store::open("postgres://postgres@127.0.0.1:1/none")
        .await
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    assert!(err.to_string().contains("connect"), "{err}");
}

/// Statistics: open dossiers about to be late, by the deciding agency, soonest appointment first;
/// finished ones leave the list.
async fn due_soon_lists_open_dossiers_by_appointment(db: &mut Db) {
    let s = db.store.clone();
    let late = submit_counter(&s, t0()).await.dossier;
    let later = submit_counter(&s, t0() + Duration::days(1)).await.dossier;
    let (d1, d2) = (late.due_at.unwrap(), later.due_at.unwrap());
    assert!(d1 < d2);
    let far = t0() + Duration::days(365);
    let ids =
        |v: Vec<motcua_store::DossierSummary>| v.into_iter().map(|d| d.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.due_soon(&[ag(DEPT)], far, 50).await.unwrap()),
        [late.id, later.id]
    );
    assert_eq!(
        ids(s.due_soon(&[ag(DEPT)], d1, 50).await.unwrap()),
        [late.id]
    );
    assert_eq!(
        ids(s.due_soon(&[ag(DEPT)], far, 1).await.unwrap()),
        [late.id]
    );
    assert!(s.due_soon(&[ag(WARD)], far, 50).await.unwrap().is_empty());
    assert!(
        s.due_soon(&[ag(CENTRE)], far, 50).await.unwrap().is_empty(),
        "by the deciding agency"
    );
    run(
        &s,
        late.id,
        &leader(),
        t0() + Duration::days(2),
        Command::StopProcessing {
            reason: "Không đủ điều kiện".into(),
        },
    )
    .await;
    assert_eq!(
        ids(s.due_soon(&[ag(DEPT)], far, 50).await.unwrap()),
        [later.id]
    );
}

/// Inbound dossiers not taken: attempts count up, a failing one is rejected after the limit or
/// at once when refused, a rejection stays rejected, the list is newest first, clearing forgets.
async fn inbound_failures_and_rejections(db: &mut Db) {
    use motcua_store::{InboundNote, InboundStatus};
    let s = db.store.clone();
    let note = |id: &str, rejected: bool, at: i64| InboundNote {
        source: "dvcqg".into(),
        external_id: id.into(),
        code: format!("QG-{id}"),
        reason: format!("lý do {at}"),
        rejected,
        reject_after: 3,
        at: t0() + chrono::Duration::seconds(at),
    };
    let r = s.note_inbound(note("a", false, 1)).await.unwrap();
    assert_eq!((r.status, r.attempts), (InboundStatus::Failing, 1));
    let r = s.note_inbound(note("a", false, 2)).await.unwrap();
    assert_eq!((r.status, r.attempts), (InboundStatus::Failing, 2));
    let r = s.note_inbound(note("a", false, 3)).await.unwrap();
    assert_eq!((r.status, r.attempts), (InboundStatus::Rejected, 3));
    assert_eq!(r.reason, "lý do 3");
    assert_eq!(r.first_at, t0() + chrono::Duration::seconds(1));
    let r = s.note_inbound(note("b", true, 4)).await.unwrap();
    assert_eq!((r.status, r.attempts), (InboundStatus::Rejected, 1));
    let r = s.note_inbound(note("b", false, 5)).await.unwrap();
    assert_eq!(r.status, InboundStatus::Rejected, "a rejection stays");
    s.note_inbound(note("c", false, 6)).await.unwrap();
    let list = s.inbound_list(10).await.unwrap();
    let ids: Vec<&str> = list.iter().map(|r| r.external_id.as_str()).collect();
    assert_eq!(ids, ["c", "b", "a"]);
    assert_eq!(s.inbound("dvcqg", "c").await.unwrap().unwrap().code, "QG-c");
    s.clear_inbound("dvcqg", "c").await.unwrap();
    assert!(s.inbound("dvcqg", "c").await.unwrap().is_none());
    assert!(s.inbound("other", "a").await.unwrap().is_none());
    assert_eq!(s.inbound_list(1).await.unwrap().len(), 1);
}

/// A link of `bytes` (a file already uploaded) to dossier `id`, by `who`.
fn link(id: Uuid, who: Uuid, bytes: &[u8], slot: &str) -> SaveFile {
    let key = FileKey::of(bytes);
    SaveFile {
        file: FileRecord {
            key: key.clone(),
            size: bytes.len() as u64,
            mime: "application/pdf".into(),
            created_at: t0(),
        },
        vault: Vec::new(),
        links: vec![DossierFile {
            dossier_id: id,
            kind: AttachmentKind::Component,
            slot: slot.into(),
            key,
            name: format!("{slot}.pdf"),
            uploaded_by: who,
            uploaded_at: t0(),
        }],
    }
}

/// The files a command carries are linked in its transaction: with the events on success
/// (also in a group-committed batch), not at all when the command is refused or is an
/// idempotent repeat.
async fn documents_commit_with_their_command(db: &mut Db) {
    let s = db.store.clone();
    let mut u = user("nguoinop-tep", Role::Citizen, None);
    u.id = citizen(41).user_id;
    s.create_user(u).await.unwrap();
    let who = citizen(41);
    // Two links of the same file to two slots, and a second file.
    let id = Uuid::new_v4();
    let mut j = with_key(
        job(id, &who, t0(), submission(Channel::Online)),
        &who,
        "tep-1",
    );
    j.files = vec![
        link(id, who.user_id, b"%PDF-1 don", "Đơn đề nghị"),
        link(id, who.user_id, b"%PDF-1 don", "Bản sao"),
        link(id, who.user_id, b"%PDF-1 anh", "Ảnh"),
    ];
    let done = s.execute(j).await.unwrap();
    assert!(!done.replayed);
    let mut slots: Vec<String> = s
        .dossier_files(id)
        .await
        .unwrap()
        .into_iter()
        .map(|(l, _)| l.slot)
        .collect();
    slots.sort();
    assert_eq!(slots, ["Bản sao", "Đơn đề nghị", "Ảnh"]);

    // A repeat of the same request links nothing (not even under its own fresh id).
    let again_id = Uuid::new_v4();
    let mut again = with_key(
        job(again_id, &who, t0(), submission(Channel::Online)),
        &who,
        "tep-1",
    );
    again.files = vec![link(again_id, who.user_id, b"%PDF-1 khac", "Khác")];
    assert!(s.execute(again).await.unwrap().replayed);
    assert!(s.dossier_files(again_id).await.unwrap().is_empty());
    assert_eq!(s.dossier_files(id).await.unwrap().len(), 3);
    assert!(
        s.file_record(&FileKey::of(b"%PDF-1 khac"))
            .await
            .unwrap()
            .is_none()
    );

    // A refused command (a citizen cannot receive) links nothing.
    let mut refused = job(id, &who, t0(), Command::Receive);
    refused.files = vec![link(id, who.user_id, b"%PDF-1 bi tu choi", "Khác")];
    assert!(s.execute(refused).await.is_err());
    assert_eq!(s.dossier_files(id).await.unwrap().len(), 3);

    // Many at once: each submission with its own document, group-committed together.
    let tasks: Vec<_> = (0..24u32)
        .map(|i| {
            let s = s.clone();
            let who = who.clone();
            tokio::spawn(async move {
                let id = Uuid::new_v4();
                let body = format!("%PDF-1 tep {i}");
                let mut j = job(id, &who, t0(), submission(Channel::Online));
                j.files = vec![link(id, who.user_id, body.as_bytes(), "Đơn đề nghị")];
                s.execute(j).await.unwrap();
                id
            })
        })
        .collect();
    for t in tasks {
        let id = t.await.unwrap();
        assert_eq!(s.dossier_files(id).await.unwrap().len(), 1, "dossier {id}");
    }
}

/// Stores a dossier's compressed events and state (decision 0051) as the plain JSON text the
/// store also reads, as a database written before that decision holds them.
fn as_text(c: &rusqlite::Connection, id: Uuid) {
    for (table, col, key) in [
        ("events", "body", "dossier_id"),
        ("dossier_states", "state", "id"),
    ] {
        let rows: Vec<(i64, Vec<u8>)> = c
            .prepare(&format!(
                "SELECT rowid, {col} FROM {table} WHERE {key} = ?1 AND typeof({col}) = 'blob'"
            ))
            .unwrap()
            .query_map([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (rowid, blob) in rows {
            assert_eq!(blob[0], 1, "LZ4 is the only format");
            let text =
                String::from_utf8(lz4_flex::block::decompress_size_prepended(&blob[1..]).unwrap())
                    .unwrap();
            c.execute(
                &format!("UPDATE {table} SET {col} = ?1 WHERE rowid = ?2"),
                rusqlite::params![text, rowid],
            )
            .unwrap();
        }
    }
}
