//! `fill`: writes counter dossiers straight through `Store::execute` with the real domain
//! decision, many in flight so the writer group-commits, to build large databases for the read
//! benchmarks. Each dossier is submitted and received at the commune desk in one command, so
//! each gets a dossier code; the codes go to `--codes` for `lookup`.

use crate::stats::{self, Live, Op};
use anyhow::{Context, bail};
use chrono::Utc;
use motcua_domain::agency::Actor;
use motcua_domain::calendar::Calendar;
use motcua_domain::codes::{AgencyCode, PersonalId};
use motcua_domain::dossier::{Applicant, Channel, Command, Ctx, DocumentRef, SubmitData, decide};
use motcua_domain::procedure::ProcedureSnapshot;
use motcua_domain::workflow::StepAgency;
use motcua_store::{Execute, ProcedureQuery, Store};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use uuid::Uuid;

/// Options of the fill.
pub struct FillArgs {
    pub database_url: String,
    pub count: u64,
    pub concurrency: usize,
    pub codes: Option<PathBuf>,
    pub desk: String,
    pub procedure: Option<String>,
    pub label: Option<String>,
    pub out: Option<PathBuf>,
}

const SURNAMES: [&str; 8] = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"];
const MIDDLES: [&str; 6] = ["Văn", "Thị", "Minh", "Ngọc", "Đức", "Thu"];
const GIVEN: [&str; 10] = [
    "An", "Bình", "Chi", "Dũng", "Hà", "Hùng", "Lan", "Mai", "Nam", "Trang",
];

/// A Vietnamese name for the `i`th applicant (with `i` at the end, so that names differ).
pub(crate) fn name(i: u64) -> String {
    format!(
        "{} {} {} {}",
        SURNAMES[(i % 8) as usize],
        MIDDLES[(i / 8 % 6) as usize],
        GIVEN[(i / 48 % 10) as usize],
        i
    )
}

/// Everything a job needs, shared by the workers.
struct Plan {
    actor: Actor,
    calendar: Calendar,
    snapshot: ProcedureSnapshot,
    receiving: AgencyCode,
    competent: AgencyCode,
}

impl Plan {
    fn job(self: &Arc<Plan>, i: u64) -> anyhow::Result<Execute> {
        let name = name(i);
        let pid: PersonalId = format!("068{}{:02}{:06}", i % 4, (i / 4) % 100, i % 1_000_000)
            .parse()
            .map_err(|e| anyhow::anyhow!("personal id: {e}"))?;
        let cmd = Command::Submit(Box::new(SubmitData {
            procedure: self.snapshot.clone(),
            applicant: Applicant {
                name,
                personal_id: Some(pid),
                phone: Some(format!("09{:08}", i % 100_000_000)),
                email: None,
                address: Some("Phường Xuân Hương - Đà Lạt, Lâm Đồng".into()),
                notify: None,
            },
            channel: Channel::Counter,
            receiving_agency: self.receiving.clone(),
            competent_agency: self.competent.clone(),
            documents: vec![DocumentRef {
                name: "Tờ khai".into(),
                file: None,
            }],
            form: serde_json::json!({}),
            receive: true,
            postal_tracking: None,
            on_behalf_of: None,
            origin: None,
            postal: None,
        }));
        let plan = self.clone();
        let now = Utc::now();
        Ok(Execute {
            dossier_id: Uuid::now_v7(),
            expected_version: Some(0),
            idempotency: None,
            files: Vec::new(),
            decide: Box::new(move |state, codes| {
                let mut ctx = Ctx {
                    now,
                    actor: &plan.actor,
                    calendar: &plan.calendar,
                    codes,
                };
                decide(state, &cmd, Some("Tiếp nhận tại quầy".into()), &mut ctx)
            }),
        })
    }
}

/// Refuses databases that are not on this machine.
pub(crate) fn check_local(url: &str) -> anyhow::Result<()> {
    if url.starts_with("sqlite:") {
        return Ok(());
    }
    let u = reqwest::Url::parse(url).with_context(|| format!("bad --database-url {url}"))?;
    match u.host_str() {
        None | Some("127.0.0.1" | "localhost" | "[::1]" | "::1") => Ok(()),
        Some(h) => {
            bail!("refusing to fill a database on {h}: the benchmark only targets this machine")
        }
    }
}

/// Logical size of a SQLite database (pages in use, WAL included), in bytes.
fn sqlite_size(path: &str) -> Option<u64> {
    let c = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .ok()?;
    let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0)).ok()?;
    let size: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0)).ok()?;
    Some((pages * size) as u64)
}

/// Moves the WAL into the database file and truncates it, so `du` shows the real size.
fn sqlite_checkpoint(path: &str) {
    let Ok(c) = rusqlite::Connection::open(path) else {
        return;
    };
    let _ = c.busy_timeout(std::time::Duration::from_secs(10));
    for _ in 0..20 {
        let busy: i64 = c
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
            .unwrap_or(1);
        if busy == 0 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

async fn pick_procedure(store: &Store, agency: &AgencyCode) -> anyhow::Result<String> {
    let mut offset = 0;
    loop {
        let page = store
            .list_procedures(&ProcedureQuery {
                text: None,
                agency: Some(agency.clone()),
                limit: 200,
                offset,
            })
            .await?;
        if page.is_empty() {
            bail!("no published procedure received at {agency} without an inter-agency step");
        }
        for p in &page {
            let Some(rec) = store.published_procedure(&p.code).await? else {
                continue;
            };
            let competent_ok = rec
                .version
                .competent_agency
                .as_ref()
                .is_none_or(|a| a == agency);
            let no_transfer = rec
                .version
                .workflow
                .steps
                .iter()
                .all(|s| !matches!(s.agency, StepAgency::Agency(_)));
            if competent_ok && no_transfer {
                return Ok(p.code.clone());
            }
        }
        offset += page.len() as u32;
    }
}

pub async fn run(a: &FillArgs) -> anyhow::Result<Vec<String>> {
    check_local(&a.database_url)?;
    let sqlite_path = a.database_url.strip_prefix("sqlite://").map(str::to_string);
    if let Some(p) = &sqlite_path
        && let Some(dir) = Path::new(p).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let store = Store::open(&a.database_url)
        .await
        .with_context(|| format!("opening {}", a.database_url))?;
    if store.count_procedures().await? == 0 {
        println!("fill: empty catalogue, seeding the demo province...");
        motcua::seed::seed(&store, &motcua_web::auth::hash_password).await?;
    }
    let user = store
        .user_by_username(&a.desk)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no user {} in the database", a.desk))?;
    let actor = motcua_web::auth::actor_of(&user);
    let receiving = actor
        .agency
        .clone()
        .ok_or_else(|| anyhow::anyhow!("{} has no agency", a.desk))?;
    let code = match &a.procedure {
        Some(p) => p.clone(),
        None => pick_procedure(&store, &receiving).await?,
    };
    let rec = store
        .published_procedure(&code)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no published procedure {code}"))?;
    if !rec.receiving_agencies.contains(&receiving) {
        bail!("procedure {code} is not received at {receiving}");
    }
    let competent = rec
        .version
        .competent_agency
        .clone()
        .unwrap_or_else(|| receiving.clone());
    let plan = Arc::new(Plan {
        snapshot: rec.version.snapshot(&receiving, &competent),
        actor,
        calendar: Calendar::vietnam_default(),
        receiving,
        competent,
    });
    let size_before = sqlite_path.as_deref().and_then(sqlite_size);
    println!(
        "fill: {} counter dossiers of {code} at {} by {} into {} ({} in flight)",
        a.count, plan.receiving, a.desk, a.database_url, a.concurrency
    );

    // Codes go to a file through one writer thread.
    let (code_tx, code_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let writer = match &a.codes {
        Some(path) => {
            let f = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut code_rx = code_rx;
            Some(std::thread::spawn(move || -> std::io::Result<u64> {
                let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
                let mut n = 0;
                while let Some(c) = code_rx.blocking_recv() {
                    w.write_all(c.as_bytes())?;
                    w.write_all(b"\n")?;
                    n += 1;
                }
                w.flush()?;
                Ok(n)
            }))
        }
        None => {
            drop(code_rx);
            None
        }
    };
    let want_codes = a.codes.is_some();

    let next = Arc::new(AtomicU64::new(0));
    let live = Arc::new(Live::default());
    let cpu = stats::CpuMeter::start(None);
    let start = Instant::now();
    let (progress, stop) = stats::spawn_progress("fill", live.clone(), Some(a.count));
    let mut tasks = Vec::with_capacity(a.concurrency);
    for _ in 0..a.concurrency {
        let (store, plan, next, live, code_tx) = (
            store.clone(),
            plan.clone(),
            next.clone(),
            live.clone(),
            code_tx.clone(),
        );
        let count = a.count;
        tasks.push(tokio::spawn(async move {
            let mut op = Op::new("fill");
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let job = match plan.job(i) {
                    Ok(j) => j,
                    Err(e) => {
                        op.err();
                        live.errors.fetch_add(1, Ordering::Relaxed);
                        live.report_error(|| format!("dossier {i}: {e}"));
                        continue;
                    }
                };
                let t0 = Instant::now();
                match store.execute(job).await {
                    Ok(done) => {
                        op.ok(t0.elapsed());
                        live.ok.fetch_add(1, Ordering::Relaxed);
                        match done.dossier.code {
                            Some(c) if want_codes => drop(code_tx.send(c.to_string())),
                            Some(_) => {}
                            None => {
                                op.err();
                                live.report_error(|| format!("dossier {i} got no code"));
                            }
                        }
                    }
                    Err(e) => {
                        op.err();
                        live.errors.fetch_add(1, Ordering::Relaxed);
                        live.report_error(|| format!("dossier {i}: {e}"));
                    }
                }
            }
            vec![op]
        }));
    }
    drop(code_tx);
    let mut all = Vec::with_capacity(tasks.len());
    for t in tasks {
        all.push(t.await?);
    }
    let secs = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    progress.abort();
    let cpu = cpu.stop();
    drop(store);
    if let Some(w) = writer {
        let n = w
            .join()
            .map_err(|_| anyhow::anyhow!("code writer panicked"))??;
        println!(
            "  wrote {n} dossier codes to {}",
            a.codes
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
    }
    if let Some(p) = &sqlite_path {
        // Let the writer thread close its connection, then fold the WAL in.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        sqlite_checkpoint(p);
        if let (Some(before), Some(after)) = (size_before, sqlite_size(p)) {
            let per = after.saturating_sub(before) as f64 / a.count.max(1) as f64;
            println!(
                "  database {p}: {:.1} MiB ({:.1} MiB before the fill), {per:.0} bytes per dossier",
                after as f64 / 1048576.0,
                before as f64 / 1048576.0
            );
        }
    }
    let ops = stats::merge_all(all);
    stats::report(
        &stats::RunInfo {
            mode: "fill",
            label: a.label.as_deref(),
            target: &a.database_url,
            clients: a.concurrency,
            secs,
            cpu: (cpu.0, None),
        },
        &ops,
        a.out.as_deref(),
    )
}
