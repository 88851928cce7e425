//! TEMPORARY: store-level throughput probe (removed after measuring).
use chrono::{TimeZone, Utc};
use motcua_domain::agency::{Actor, Role};
use motcua_domain::calendar::Calendar;
use motcua_domain::dossier::{Applicant, Channel, Command, Ctx, DocumentRef, SubmitData, decide};
use motcua_domain::procedure::{
    Level, OnlineLevel, ProcedureVersion, TimeLimit, TimeUnit, VersionStatus,
};
use motcua_domain::workflow::WorkflowDef;
use motcua_store::{Execute, Store};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use uuid::Uuid;

fn ticks(pred: &dyn Fn(&str) -> bool) -> u64 {
    let mut t = 0;
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let comm = &stat[stat.find('(').unwrap() + 1..close];
        if !pred(comm) {
            continue;
        }
        let f: Vec<&str> = stat[close + 2..].split(' ').collect();
        t += f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    }
    t
}
fn selfticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let close = stat.rfind(')').unwrap();
    let f: Vec<&str> = stat[close + 2..].split(' ').collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}
fn cal() -> &'static Calendar {
    static C: OnceLock<Calendar> = OnceLock::new();
    C.get_or_init(Calendar::vietnam_default)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn throughput() {
    let url = std::env::var("URL").unwrap();
    let channel = if std::env::var("CHANNEL").as_deref() == Ok("counter") {
        Channel::Counter
    } else {
        Channel::Online
    };
    let agencies: u32 = std::env::var("AGENCIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let store = if url.starts_with("postgres") {
        let schema = format!("b_{}", Uuid::new_v4().simple());
        Store::Postgres(
            motcua_store::postgres::PgStore::open_in_schema(&url, &schema)
                .await
                .unwrap(),
        )
    } else {
        Store::open(&url).await.unwrap()
    };
    let limit = TimeLimit {
        amount: 10,
        unit: TimeUnit::WorkingDays,
    };
    let ags: Vec<String> = (0..agencies)
        .map(|i| format!("000.00.{:02}.H40", i + 1))
        .collect();
    let cmds: Vec<Command> = ags
        .iter()
        .map(|a| {
            let p = ProcedureVersion {
                code: "1.001193".parse().unwrap(),
                version: 1,
                status: VersionStatus::Published,
                name: "Cấp giấy phép xây dựng".into(),
                field: "Xây dựng".into(),
                levels: vec![Level::Province],
                online_level: OnlineLevel::Full,
                time_limit: limit,
                fee_vnd: 1,
                documents: vec![],
                decision_no: "x".into(),
                competent_agency: None,
                workflow: WorkflowDef::standard(limit.duration(), None),
            };
            Command::Submit(Box::new(SubmitData {
                procedure: p.snapshot(&a.parse().unwrap(), &"000.00.90.H40".parse().unwrap()),
                applicant: Applicant {
                    name: "Nguyễn Văn An".into(),
                    personal_id: None,
                    phone: Some("0912345678".into()),
                    email: None,
                    address: None,
                },
                channel,
                receiving_agency: a.parse().unwrap(),
                competent_agency: "000.00.90.H40".parse().unwrap(),
                documents: vec![DocumentRef {
                    name: "Đơn".into(),
                    file: None,
                }],
                form: serde_json::json!({"a": 1}),
            }))
        })
        .collect();
    let cmds = Arc::new(cmds);
    let n = Arc::new(AtomicU64::new(0));
    let now = chrono::FixedOffset::east_opt(7 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    let secs = 8u64;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let (pg0, me0) = (ticks(&|c| c == "postgres"), selfticks());
    let mut tasks = vec![];
    for c in 0..64u32 {
        let (store, cmds, n) = (store.clone(), cmds.clone(), n.clone());
        let agency = ags[(c % agencies) as usize].clone();
        tasks.push(tokio::spawn(async move {
            let actor = if channel == Channel::Counter {
                Actor {
                    user_id: Uuid::from_u128(2),
                    name: "d".into(),
                    role: Role::DeskOfficer,
                    agency: Some(agency.parse().unwrap()),
                }
            } else {
                Actor {
                    user_id: Uuid::new_v4(),
                    name: "c".into(),
                    role: Role::Citizen,
                    agency: None,
                }
            };
            let cmd = cmds[(c % agencies) as usize].clone();
            while std::time::Instant::now() < deadline {
                let (a, cmd) = (actor.clone(), cmd.clone());
                let key = Uuid::new_v4().to_string();
                store
                    .execute(Execute {
                        dossier_id: Uuid::now_v7(),
                        expected_version: None,
                        idempotency: Some((a.user_id, key)),
                        decide: Box::new(move |s, codes| {
                            let mut ctx = Ctx {
                                now,
                                actor: &a,
                                calendar: cal(),
                                codes,
                            };
                            decide(s, &cmd, None, &mut ctx)
                        }),
                    })
                    .await
                    .unwrap();
                n.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let total = n.load(Ordering::Relaxed);
    let (pg1, me1) = (ticks(&|c| c == "postgres"), selfticks());
    println!(
        "CPU per op: app {:.0} us, postgres {:.0} us",
        (me1 - me0) as f64 * 10_000.0 / total as f64,
        (pg1 - pg0) as f64 * 10_000.0 / total as f64
    );
    println!(
        "RESULT {} channel={:?} agencies={} total={} rate={:.0}/s",
        store.backend(),
        channel,
        agencies,
        total,
        total as f64 / secs as f64
    );
}
