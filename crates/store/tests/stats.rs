//! Exactness of the statistics: random dossiers driven through random actions (the domain
//! refusing those not allowed), with random holidays and pauses, against a real store (SQLite in
//! memory; PostgreSQL too when `MOTCUA_TEST_DATABASE_URL` is set). Afterwards `verify` must find
//! every counter equal to what the event logs imply, and the form 06 report served from the
//! counters must equal the reference computation over the logs for random periods, and balance.

use chrono::{DateTime, Days, Duration, NaiveDate, TimeZone, Utc};
use motcua_domain::agency::{Actor, Role};
use motcua_domain::calendar::{Calendar, CalendarSettings, DayException, DayKind};
use motcua_domain::codes::AgencyCode;
use motcua_domain::dossier::{
    Applicant, Attestation, Channel, Command, Ctx, DocumentRef, IDENTITY_POPULATION_DB,
    IdentityCheck, ReturnMethod, SubmitData, attest, decide,
};
use motcua_domain::payment::PaymentMethod;
use motcua_domain::procedure::{
    Level, OnlineLevel, ProcedureVersion, TimeLimit, TimeUnit, VersionStatus,
};
use motcua_domain::stats::{Filter, Form06Row, reference_form06};
use motcua_domain::workflow::WorkflowDef;
use motcua_store::postgres::{PgOptions, PgStore};
use motcua_store::{Execute, GroupBy, Store, StoreError};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

const CENTRE: &str = "000.00.01.H40";
const DEPT: &str = "000.00.10.H40";
const OTHER: &str = "000.00.11.H40";
const WARD: &str = "000.00.21.H40";

fn ag(s: &str) -> AgencyCode {
    s.parse().unwrap()
}

fn local(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(7 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn actor(role: Role, agency: Option<&str>, n: u128) -> Actor {
    Actor {
        user_id: Uuid::from_u128(n),
        name: format!("{} {n}", role.label_vi()),
        role,
        agency: agency.map(ag),
    }
}

/// Everyone who may act, tried in turn until the domain accepts.
fn cast() -> Vec<Actor> {
    vec![
        actor(Role::DeskOfficer, Some(CENTRE), 2),
        actor(Role::Leader, Some(DEPT), 3),
        actor(Role::Specialist, Some(DEPT), 4),
        actor(Role::Leader, Some(WARD), 5),
        actor(Role::Specialist, Some(WARD), 6),
        actor(Role::Specialist, Some(OTHER), 7),
        actor(Role::Leader, Some(OTHER), 8),
        actor(Role::Citizen, None, 1),
    ]
}

/// Four procedures: different fields, online levels, competent agencies, one inter-agency.
fn procedure(i: u8) -> (ProcedureVersion, &'static str) {
    let (code, field, level, competent, inter, days) = match i % 4 {
        0 => ("1.001193", "Xây dựng", OnlineLevel::Full, DEPT, false, 3),
        1 => ("1.000656", "Hộ tịch", OnlineLevel::Partial, WARD, false, 1),
        2 => ("2.000488", "Đất đai", OnlineLevel::None, DEPT, true, 5),
        _ => ("1.003560", "Xây dựng", OnlineLevel::Partial, DEPT, false, 2),
    };
    let limit = TimeLimit {
        amount: days,
        unit: TimeUnit::WorkingDays,
    };
    let p = ProcedureVersion {
        code: code.parse().unwrap(),
        version: 1,
        status: VersionStatus::Published,
        name: format!("Thủ tục {code}"),
        field: field.into(),
        levels: vec![Level::Province],
        online_level: level,
        time_limit: limit,
        // One procedure is free: its dossiers never count for 3.6.
        fee_vnd: if i % 4 == 2 { 0 } else { 50_000 },
        documents: vec![],
        decision_no: "1/QĐ-UBND".into(),
        competent_agency: Some(ag(competent)),
        details: Default::default(),
        workflow: WorkflowDef::standard(limit.duration(), inter.then(|| ag(OTHER))),
        form: None,
    };
    p.validate().unwrap();
    (p, competent)
}

/// One random dossier: how it arrives and what is tried on it.
#[derive(Clone, Debug)]
struct Plan {
    procedure: u8,
    channel: u8,
    digitized: bool,
    /// The desk attests a re-used component (when there is a file) and a confirmed identity.
    attested: bool,
    start_hours: i64,
    steps: Vec<(u8, i64, bool)>,
}

fn plans() -> impl Strategy<Value = Vec<Plan>> {
    prop::collection::vec(
        (
            0u8..4,
            0u8..3,
            any::<bool>(),
            any::<bool>(),
            0i64..24 * 40,
            prop::collection::vec((0u8..32, 0i64..40, any::<bool>()), 0..16),
        )
            .prop_map(
                |(procedure, channel, digitized, attested, start_hours, steps)| Plan {
                    procedure,
                    channel,
                    digitized,
                    attested,
                    start_hours,
                    steps,
                },
            ),
        1..10,
    )
}

fn command(choice: u8, file: bool, now: DateTime<Utc>, due: Option<DateTime<Utc>>) -> Command {
    let doc = |n: &str| DocumentRef {
        name: n.into(),
        file: file.then(|| format!("blob/{n}")),
    };
    match choice {
        0 | 1 => Command::Receive,
        2 => Command::RequestSupplement {
            items: vec!["Bản sao giấy tờ".into()],
            reason: "Thiếu giấy tờ".into(),
        },
        3 => Command::ProvideSupplement {
            documents: vec![doc("Bổ sung")],
        },
        4 => Command::Refuse {
            reasons: vec!["Không thuộc thẩm quyền".into()],
        },
        5 => Command::Assign {
            user_id: Uuid::from_u128(4),
            name: "Chuyên viên".into(),
        },
        6 | 7 => Command::CompleteStep {
            to: None,
            documents: vec![],
        },
        8 => Command::SendBack,
        9 => Command::Approve,
        10 => Command::RequestPayment {
            amount_vnd: 50_000,
            reason: "Lệ phí".into(),
        },
        11 => Command::ConfirmPayment {
            reference: format!("PAY-{}", now.timestamp()),
        },
        12 => Command::MarkResultReady {
            summary: "Giấy phép".into(),
            documents: vec![doc("Kết quả")],
        },
        13 => Command::Withdraw {
            reason: "Không có nhu cầu".into(),
        },
        14 if file => Command::StopProcessing {
            reason: "Không đủ điều kiện".into(),
        },
        14 => Command::IssueApology {
            reason: "Cần xác minh".into(),
            new_due_at: due.unwrap_or(now) + Duration::days(3),
        },
        // Fees: paid online (the owner), in cash at the desk, waived in part or whole.
        28 | 29 => Command::RecordPayment {
            reference: format!("PAY-{choice}-{}", now.timestamp()),
            amount_vnd: if choice == 28 { 25_000 } else { 20_000 },
            method: if choice == 28 {
                PaymentMethod::Online
            } else {
                PaymentMethod::Cash
            },
            transaction_id: None,
            receipt: None,
            receipt_no: None,
        },
        30 | 31 => Command::ExemptFee {
            amount_vnd: if choice == 30 { 10_000 } else { 50_000 },
            reason: "Miễn theo quy định".into(),
        },
        _ if file => Command::Rate {
            score: (now.timestamp() % 5 + 1) as u8,
            comment: None,
        },
        _ => Command::ReturnResult {
            method: ReturnMethod::Counter,
            receiver: "Người nộp".into(),
        },
    }
}

fn job(id: Uuid, who: &Actor, now: DateTime<Utc>, cmd: Command, cal: Arc<Calendar>) -> Execute {
    attested_job(id, who, now, cmd, cal, Attestation::default())
}

fn attested_job(
    id: Uuid,
    who: &Actor,
    now: DateTime<Utc>,
    cmd: Command,
    cal: Arc<Calendar>,
    att: Attestation,
) -> Execute {
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
                calendar: &cal,
                codes,
            };
            let mut evs = decide(state, &cmd, None, &mut ctx)?;
            attest(&mut evs, &att)?;
            Ok(evs)
        }),
    }
}

/// Runs the plans, then checks verify and the reports for `periods`.
async fn exercise(s: &Store, plans: &[Plan], holidays: &[u8], periods: &[(u8, u8)]) {
    let base = local(2026, 3, 2, 8);
    let first = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let settings = CalendarSettings {
        days: holidays
            .iter()
            .map(|d| DayException {
                date: first + Days::new(*d as u64),
                kind: DayKind::DayOff,
                name: "Nghỉ".into(),
            })
            .collect(),
        ..CalendarSettings::default()
    };
    let cal = Arc::new(
        Calendar::vietnam_default()
            .with_settings(&settings)
            .unwrap(),
    );
    let people = cast();
    let mut ids = Vec::new();
    for plan in plans {
        let (p, competent) = procedure(plan.procedure);
        let channel = [Channel::Online, Channel::Counter, Channel::Post][plan.channel as usize];
        let submitter = if channel == Channel::Online {
            &people[7]
        } else {
            &people[0]
        };
        let id = Uuid::new_v4();
        let mut now = base + Duration::hours(plan.start_hours);
        let submit = Command::Submit(Box::new(SubmitData {
            procedure: p.snapshot(&ag(CENTRE), &ag(competent)),
            applicant: Applicant {
                name: "Lê Văn Cường".into(),
                personal_id: plan.attested.then(|| "068095001234".parse().unwrap()),
                phone: None,
                email: None,
                address: None,
                notify: None,
            },
            channel,
            receiving_agency: ag(CENTRE),
            competent_agency: ag(competent),
            documents: vec![DocumentRef {
                name: "Đơn".into(),
                file: plan.digitized.then(|| "blob/don".into()),
            }],
            form: serde_json::json!({}),
            receive: true,
            postal_tracking: None,
            on_behalf_of: None,
            origin: None,
            postal: None,
        }));
        let att = Attestation {
            reused: if plan.attested && plan.digitized {
                vec!["Đơn".into()]
            } else {
                vec![]
            },
            identity: plan.attested.then(|| IdentityCheck {
                source: IDENTITY_POPULATION_DB.into(),
            }),
        };
        s.execute(attested_job(id, submitter, now, submit, cal.clone(), att))
            .await
            .expect("submission");
        ids.push(id);
        for (choice, hours, flag) in &plan.steps {
            now += Duration::hours(*hours) + Duration::minutes(17);
            let due = s.dossier(id).await.unwrap().and_then(|d| d.due_at);
            // Half the time, move the dossier along its happy path; else try anything.
            let choices: Vec<u8> = if (16..28).contains(choice) {
                vec![0, 15, 12, 9, 6, 3, 11, 5]
            } else {
                vec![*choice]
            };
            'tried: for c in choices {
                for who in &people {
                    let cmd = command(c, *flag, now, due);
                    match s.execute(job(id, who, now, cmd, cal.clone())).await {
                        Ok(_) => break 'tried,
                        Err(StoreError::Domain(_)) => continue,
                        Err(e) => panic!("store failed: {e}"),
                    }
                }
            }
        }
    }
    let report = s.verify().await.unwrap();
    assert!(
        report.problems.is_empty(),
        "verify found differences: {:#?}",
        report.problems
    );
    let folded = s.verify_counters().await.unwrap();
    assert_eq!(folded.problems, Vec::<String>::new());
    assert_eq!(
        (folded.dossiers, folded.events),
        (report.dossiers, report.events)
    );
    let mut logs = Vec::new();
    for id in &ids {
        let h = s.history(*id).await.unwrap();
        logs.push((*id, h.into_iter().map(|e| e.event).collect::<Vec<_>>()));
    }
    let agencies = [ag(DEPT), ag(WARD), ag(CENTRE), ag(OTHER)];
    for (a, len) in periods {
        let from = first + Days::new(*a as u64);
        let to = from + Days::new(*len as u64);
        for filter in [
            Filter::default(),
            Filter {
                field: Some("Xây dựng".into()),
                procedure: None,
            },
            Filter {
                field: None,
                procedure: Some("1.000656".into()),
            },
        ] {
            let got = s.form06(&agencies, from, to, &filter).await.unwrap();
            let want = reference_form06(&logs, Some(&agencies), &filter, from, to);
            assert_eq!(got, want, "form 06 {from}..{to} {filter:?}");
            for (agency, row) in &got {
                assert!(row.balances(), "{agency} {from}..{to}: {row:?}");
            }
        }
        // Unfiltered rows by agency come from the roll-up, rows by agency and procedure from
        // the full rows: summed per agency, the two agree.
        let rolled = s
            .form06(&agencies, from, to, &Filter::default())
            .await
            .unwrap();
        let full = s
            .form06_by(
                &agencies,
                from,
                to,
                &Filter::default(),
                GroupBy::AgencyProcedure,
            )
            .await
            .unwrap();
        let mut summed: BTreeMap<AgencyCode, Form06Row> = BTreeMap::new();
        for (k, row) in &full {
            let agency = ag(k.split('|').next().unwrap());
            summed.entry(agency).or_default().merge(row);
        }
        summed.retain(|_, r| *r != Form06Row::default());
        assert_eq!(rolled, summed, "roll-up against full rows {from}..{to}");
    }
    // Rebuilding every counter from the logs changes nothing.
    let (from, to) = (first, first + Days::new(120));
    let before = s
        .form06(&agencies, from, to, &Filter::default())
        .await
        .unwrap();
    let r = s.rebuild_counters().await.unwrap();
    assert_eq!(r.dossiers, ids.len() as u64);
    // The live counters were right: nothing to write back.
    assert_eq!(r.changed_rows, 0);
    assert!(s.verify().await.unwrap().problems.is_empty());
    let after = s
        .form06(&agencies, from, to, &Filter::default())
        .await
        .unwrap();
    assert_eq!(after, before);
}

fn pg_url() -> Option<String> {
    std::env::var("MOTCUA_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn counters_equal_the_logs_and_reports_equal_the_reference(
        plans in plans(),
        holidays in prop::collection::vec(0u8..90, 0..8),
        periods in prop::collection::vec((0u8..120, 0u8..70), 1..4),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let s = Store::open("sqlite::memory:").await.unwrap();
            exercise(&s, &plans, &holidays, &periods).await;
            if let Some(url) = pg_url() {
                let opts = PgOptions {
                    schema: format!("t_{}", Uuid::new_v4().simple()),
                    ..PgOptions::default()
                };
                let pg = Store::Postgres(PgStore::open_with(&url, opts).await.unwrap());
                exercise(&pg, &plans, &holidays, &periods).await;
            }
        });
    }
}

/// A rebuild restores counters lost or altered behind the store's back, and reports the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_restores_the_counters() {
    let path = std::env::temp_dir().join(format!("motcua-stats-{}.db", Uuid::new_v4().simple()));
    let s = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let plans: Vec<Plan> = (0..6)
        .map(|i| Plan {
            procedure: i,
            channel: i % 3,
            digitized: i % 2 == 0,
            attested: i % 3 == 0,
            start_hours: 30 * i as i64,
            // The happy path, with an online payment, a cash payment and a waiver on the way.
            steps: (0..14)
                .map(|j| match j {
                    2 | 4 => (28, 20, true),
                    6 | 8 => (29, 20, true),
                    10 => (30, 20, true),
                    _ => (16 + j.min(11), 20, j % 2 == 0),
                })
                .collect(),
        })
        .collect();
    exercise(&s, &plans, &[5], &[(0, 40)]).await;
    let agencies = [ag(DEPT), ag(WARD)];
    let from = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2026, 5, 31).unwrap();
    let before = s
        .form06(&agencies, from, to, &Filter::default())
        .await
        .unwrap();
    assert!(!before.is_empty());
    let mut total = motcua_domain::stats::Form06Row::default();
    for r in before.values() {
        total.merge(r);
    }
    // Online dossiers settle their fee online, paper ones in cash with a waiver for the rest.
    assert!(total.fees_settled > total.fees_settled_online, "{total:?}");
    assert!(total.fees_settled_online > 0, "{total:?}");
    assert!(
        total.received_reused > 0 && total.received_identified > 0,
        "{total:?}"
    );
    let altered = {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
        let deleted = c
            // (The writers keep rows whose sum came back to zero: deleting one changes nothing.)
            .execute(
                "DELETE FROM counters WHERE metric LIKE 'm|%' AND value <> 0",
                [],
            )
            .unwrap();
        let updated = c
            .execute(
                "UPDATE counters SET value = value + 1 WHERE metric LIKE 'd|recv|%'",
                [],
            )
            .unwrap();
        // A row no log implies, keyed before and after every real one.
        let added = c
            .execute(
                "INSERT INTO counters (agency, day, metric, value)
                 VALUES ('000', '0001-01-01', 'x', 1), ('zzz', '9999-12-31', 'x', 2)",
                [],
            )
            .unwrap();
        assert!(deleted > 0 && updated > 0);
        (deleted + updated + added) as u64
    };
    let broken = s.verify().await.unwrap();
    assert!(
        broken.problems.iter().any(|p| p.contains("m|")),
        "{:?}",
        broken.problems
    );
    assert!(broken.problems.iter().any(|p| p.contains("d|recv|")));
    // The statistics alone, folded on all cores, find exactly the same differences.
    assert_eq!(
        counter_lines(s.verify_counters().await.unwrap().problems),
        counter_lines(broken.problems.clone())
    );
    let r = s.rebuild_counters().await.unwrap();
    assert_eq!(r.dossiers, 6);
    assert!(r.counter_rows > 0);
    // Exactly the rows altered behind its back are written back.
    assert_eq!(r.changed_rows, altered);
    assert!(s.verify().await.unwrap().problems.is_empty());
    assert!(s.verify_counters().await.unwrap().problems.is_empty());
    let again = s.rebuild_counters().await.unwrap();
    assert_eq!(
        (again.counter_rows, again.changed_rows),
        (r.counter_rows, 0)
    );
    assert_eq!(
        s.form06(&agencies, from, to, &Filter::default())
            .await
            .unwrap(),
        before
    );
    let _ = std::fs::remove_file(&path);
}

/// A database from before the roll-up (full rows only) gets it from migration 24: `verify`
/// finds it missing, the migration fills it from the full rows, and then nothing differs and the
/// reports are what they were. On SQLite, and on PostgreSQL when `MOTCUA_TEST_DATABASE_URL` is set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_24_fills_the_rollup_from_the_full_rows() {
    let plans: Vec<Plan> = (0..8)
        .map(|i| Plan {
            procedure: i,
            channel: i % 3,
            digitized: i % 2 == 0,
            attested: i % 3 == 0,
            start_hours: 20 * i as i64,
            steps: (0..10)
                .map(|j| (if i % 4 == 3 { j * 3 } else { 16 + j }, 30, j % 2 == 0))
                .collect(),
        })
        .collect();
    let agencies = [ag(DEPT), ag(WARD), ag(CENTRE), ag(OTHER)];
    let from = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
    let to = NaiveDate::from_ymd_opt(2026, 5, 3).unwrap();
    const ROLLUP: &str =
        "(metric >= 'ad|' AND metric < 'ad}') OR (metric >= 'am|' AND metric < 'am}')";

    let path = std::env::temp_dir().join(format!("motcua-m24-{}.db", Uuid::new_v4().simple()));
    let s = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    exercise(&s, &plans, &[], &[(9, 54)]).await;
    let before = s
        .form06(&agencies, from, to, &Filter::default())
        .await
        .unwrap();
    assert!(!before.is_empty());
    let c = rusqlite::Connection::open(&path).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    let gone = c
        .execute(&format!("DELETE FROM counters WHERE {ROLLUP}"), [])
        .unwrap();
    assert!(gone > 0);
    let broken = s.verify().await.unwrap().problems;
    assert!(broken.iter().any(|p| p.contains("ad|")), "{broken:?}");
    assert!(broken.iter().any(|p| p.contains("am|")), "{broken:?}");
    assert_eq!(
        counter_lines(s.verify_counters().await.unwrap().problems),
        counter_lines(broken)
    );
    c.execute_batch(&format!(
        "BEGIN; {} ; COMMIT;",
        include_str!("../src/sqlite/migrate_24.sql")
    ))
    .unwrap();
    let back: usize = c
        .query_row(
            &format!("SELECT count(*) FROM counters WHERE {ROLLUP}"),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(back > 0);
    assert_eq!(s.verify().await.unwrap().problems, Vec::<String>::new());
    assert_eq!(
        s.form06(&agencies, from, to, &Filter::default())
            .await
            .unwrap(),
        before
    );
    drop(c);
    let _ = std::fs::remove_file(&path);

    let Some(url) = pg_url() else { return };
    let schema = format!("t_{}", Uuid::new_v4().simple());
    let opts = PgOptions {
        schema: schema.clone(),
        ..PgOptions::default()
    };
    let pg = Store::Postgres(PgStore::open_with(&url, opts).await.unwrap());
    exercise(&pg, &plans, &[], &[(9, 54)]).await;
    let before = pg
        .form06(&agencies, from, to, &Filter::default())
        .await
        .unwrap();
    assert!(!before.is_empty());
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!(
            "SET search_path TO {schema}; DELETE FROM counters WHERE {ROLLUP}"
        ))
        .await
        .unwrap();
    let broken = pg.verify().await.unwrap().problems;
    assert!(broken.iter().any(|p| p.contains("ad|")), "{broken:?}");
    assert_eq!(
        counter_lines(pg.verify_counters().await.unwrap().problems),
        counter_lines(broken)
    );
    client
        .batch_execute(include_str!("../src/postgres/migrate_24.sql"))
        .await
        .unwrap();
    assert_eq!(pg.verify().await.unwrap().problems, Vec::<String>::new());
    assert_eq!(
        pg.form06(&agencies, from, to, &Filter::default())
            .await
            .unwrap(),
        before
    );
    // A rebuild writes back exactly the keys altered behind its back: the roll-up deleted
    // again, a key's sum moved by a second shard, a key no log implies.
    let keys = |sql: String| {
        let client = &client;
        async move { client.query_one(&sql, &[]).await.unwrap().get::<_, i64>(0) as u64 }
    };
    // (Keys whose sum came back to zero are no difference once deleted.)
    let rolled = keys(format!(
        "SELECT count(*) FROM (SELECT 1 FROM {schema}.counters WHERE {ROLLUP}
         GROUP BY agency, day, metric HAVING sum(value) <> 0) k"
    ))
    .await;
    assert!(rolled > 0);
    client
        .batch_execute(&format!(
            "SET search_path TO {schema};
             DELETE FROM counters WHERE {ROLLUP};
             INSERT INTO counters (agency, day, metric, shard, value)
               SELECT agency, day, metric, 7, 1 FROM counters WHERE metric LIKE 'd|recv|%' LIMIT 1
               ON CONFLICT (agency, day, metric, shard) DO UPDATE SET value = counters.value + 1;
             INSERT INTO counters (agency, day, metric, shard, value)
               VALUES ('zzz', '2026-01-01', 'x', 0, 2)"
        ))
        .await
        .unwrap();
    let r = pg.rebuild_counters().await.unwrap();
    assert_eq!(r.changed_rows, rolled + 2);
    assert_eq!(
        pg.verify_counters().await.unwrap().problems,
        Vec::<String>::new()
    );
    assert_eq!(pg.rebuild_counters().await.unwrap().changed_rows, 0);
    assert_eq!(
        pg.form06(&agencies, from, to, &Filter::default())
            .await
            .unwrap(),
        before
    );
}

/// The counter lines of a `verify` report, sorted (the full check and the folded one list them
/// in different orders).
fn counter_lines(mut problems: Vec<String>) -> Vec<String> {
    problems.retain(|p| p.starts_with("counter "));
    problems.sort();
    problems
}
