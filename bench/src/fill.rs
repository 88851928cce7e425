//! `fill`: writes counter dossiers straight through `Store::execute` with the real domain
//! decision, many in flight so the writer group-commits, to build large databases for the read
//! benchmarks. Each dossier is submitted and received at the commune desk in one command, so
//! each gets a dossier code; the codes go to `--codes` for `lookup`.
//!
//! `fill --realistic` instead writes the mix of issue 6's performance point: many procedures at
//! every desk of the demo province, channels mixed, submissions spread over `--days` of the
//! real calendar, and lifecycles that end in every state, each command decided by the domain at
//! its own instant (decision 0031).

use crate::stats::{self, Live, Op};
use anyhow::{Context, bail};
use chrono::{DateTime, Duration, TimeZone, Utc};
use motcua_domain::agency::{Actor, Role};
use motcua_domain::calendar::{Calendar, WorkingDuration};
use motcua_domain::codes::{AgencyCode, PersonalId};
use motcua_domain::dossier::{
    Applicant, Channel, CodeAllocator, Command, Ctx, DocumentRef, DomainError, Dossier, Event,
    ReturnMethod, SubmitData, apply, decide,
};
use motcua_domain::procedure::ProcedureSnapshot;
use motcua_domain::workflow::StepAgency;
use motcua_domain::workflow::StepKind;
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

// ---------------------------------------------------------------------------------------------
// The realistic fill (`fill --realistic`, issue 6's performance point; decision 0031).

/// Options of the realistic fill.
pub struct RealisticArgs {
    pub database_url: String,
    pub count: u64,
    pub concurrency: usize,
    /// Dossiers are submitted over this many days before now.
    pub days: u32,
    /// Seed of the pseudo-random mix (the same seed gives the same dossiers).
    pub seed: u64,
    pub label: Option<String>,
    pub out: Option<PathBuf>,
}

/// A small deterministic generator (SplitMix64): the mix must not depend on a crate's version.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64, i: u64) -> Rng {
        let mut r = Rng(seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// True with probability `pct` %.
    fn pct(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A procedure as received at one desk.
struct Offer {
    snapshot: ProcedureSnapshot,
    receiving: AgencyCode,
    competent: AgencyCode,
    calendar: Arc<Calendar>,
}

/// Everything the realistic jobs share.
struct Mix {
    /// Offers grouped by procedure; procedures in catalogue order.
    procedures: Vec<Vec<Offer>>,
    /// Cumulative Zipf weights of the procedures (a few procedures take most dossiers).
    cumulative: Vec<f64>,
    end: DateTime<Utc>,
    days: u32,
    seed: u64,
}

/// How a dossier's life goes (the target of its script: the clock may stop it earlier).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    RefusedAtReception,
    WithdrawnBeforeReceipt,
    /// Received and then: resolved with this timeliness target.
    Resolved(Target),
    WithdrawnAfterReceipt,
    Stopped,
    /// A supplement requested during processing and never supplied.
    Paused,
    /// A financial obligation requested and never paid.
    Unpaid,
    /// Never moves past its first steps (ends up past the limit).
    Stuck,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Early,
    OnTime,
    Late,
}

impl Mix {
    fn pick(&self, rng: &mut Rng) -> &Offer {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.unit() * total;
        let p = self.cumulative.partition_point(|c| *c <= x);
        let offers = &self.procedures[p.min(self.procedures.len() - 1)];
        &offers[rng.below(offers.len() as u64) as usize]
    }
}

fn fate(rng: &mut Rng, online: bool) -> Fate {
    let x = rng.below(1000);
    match x {
        _ if online && x < 30 => Fate::RefusedAtReception,
        _ if online && x < 45 => Fate::WithdrawnBeforeReceipt,
        45..70 => Fate::WithdrawnAfterReceipt,
        70..85 => Fate::Stopped,
        85..105 => Fate::Paused,
        105..115 => Fate::Unpaid,
        115..135 => Fate::Stuck,
        135..655 => Fate::Resolved(Target::Early),
        655..900 => Fate::Resolved(Target::OnTime),
        _ => Fate::Resolved(Target::Late),
    }
}

/// An actor with a role at an agency; the same (role, agency) always has the same user id.
fn staff(role: Role, agency: &AgencyCode) -> Actor {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in role.as_str().bytes().chain(agency.as_str().bytes()) {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    Actor {
        user_id: Uuid::from_u64_pair(0x6d6f_7463_7561_0000, h),
        name: format!("{} {agency}", role.label_vi()),
        role,
        agency: Some(agency.clone()),
    }
}

/// Who may act on `d` now: the current step's role and its agency's leader, the receiving
/// desk, the applicant, the competent agency's leader. The domain says which of them may.
fn cast(d: &Dossier, citizen: &Actor) -> Vec<Actor> {
    let mut out = Vec::with_capacity(5);
    if let Some(s) = d.current_step() {
        out.push(staff(s.role, &s.agency));
        out.push(staff(Role::Leader, &s.agency));
    }
    out.push(staff(Role::DeskOfficer, &d.receiving_agency));
    if d.owner.is_some() {
        out.push(citizen.clone());
    }
    out.push(staff(Role::Leader, &d.competent_agency));
    out
}

/// One dossier's whole life, decided command by command with the domain, each at its own time.
struct Life<'a> {
    id: Uuid,
    state: Option<Dossier>,
    events: Vec<Event>,
    citizen: Actor,
    calendar: &'a Calendar,
    end: DateTime<Utc>,
    codes: &'a mut dyn CodeAllocator,
}

impl Life<'_> {
    /// Runs `cmd` at `at` by the first of the cast the domain lets do it. `Ok(false)`: `at` is
    /// after the end of the fill, nothing done (the dossier stays where it is).
    fn run(&mut self, at: DateTime<Utc>, cmd: Command) -> Result<bool, DomainError> {
        if at > self.end {
            return Ok(false);
        }
        let cast = match &self.state {
            Some(d) => cast(d, &self.citizen),
            None => vec![],
        };
        let mut last = DomainError::Forbidden("nobody may".into());
        for who in &cast {
            let mut ctx = Ctx {
                now: at,
                actor: who,
                calendar: self.calendar,
                codes: self.codes,
            };
            match decide(self.state.as_ref(), &cmd, None, &mut ctx) {
                Ok(evs) => {
                    self.fold(evs)?;
                    return Ok(true);
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn submit(
        &mut self,
        at: DateTime<Utc>,
        who: &Actor,
        data: SubmitData,
    ) -> Result<(), DomainError> {
        let mut ctx = Ctx {
            now: at,
            actor: who,
            calendar: self.calendar,
            codes: self.codes,
        };
        let evs = decide(None, &Command::Submit(Box::new(data)), None, &mut ctx)?;
        self.fold(evs)
    }

    fn fold(&mut self, evs: Vec<Event>) -> Result<(), DomainError> {
        for ev in evs {
            self.state = Some(apply(self.state.take(), self.id, &ev)?);
            self.events.push(ev);
        }
        Ok(())
    }

    fn d(&self) -> &Dossier {
        self.state.as_ref().expect("submitted first")
    }

    /// Working time later than `t` (minutes of the receiving agency's calendar).
    fn later(&self, t: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
        self.calendar
            .add_working_time(t, WorkingDuration::minutes(minutes.max(1)))
    }

    /// One step forward along the happy path at `at`: complete the step, approve, or issue the
    /// result at `result_at` (the release step). Returns whether the result is now ready.
    fn advance(
        &mut self,
        at: DateTime<Utc>,
        result_at: DateTime<Utc>,
    ) -> Result<Option<bool>, DomainError> {
        let Some(step) = self.d().current_step().cloned() else {
            return Err(DomainError::Invalid {
                field: "step",
                reason: format!("dossier at no step ({:?})", self.d().status),
            });
        };
        let cmd = match step.kind {
            StepKind::Release => Command::MarkResultReady {
                summary: "Kết quả giải quyết".into(),
                documents: vec![DocumentRef {
                    name: "Kết quả".into(),
                    file: Some(format!("blob/kq-{}", self.id.simple())),
                }],
            },
            StepKind::Approve => Command::Approve,
            StepKind::Process => {
                // Visit each next step once (an inter-agency opinion), then go on.
                let trail = &self.d().trail;
                let to = step
                    .next
                    .iter()
                    .find(|n| !trail.contains(n))
                    .or(step.next.last())
                    .cloned();
                Command::CompleteStep {
                    to,
                    documents: vec![],
                }
            }
        };
        let at = if step.kind == StepKind::Release {
            result_at.max(at)
        } else {
            at
        };
        if !self.run(at, cmd)? {
            return Ok(None);
        }
        Ok(Some(step.kind == StepKind::Release))
    }
}

impl Mix {
    /// The events of dossier `i`, decided one command at a time at their own instants.
    fn life(
        &self,
        i: u64,
        id: Uuid,
        codes: &mut dyn CodeAllocator,
    ) -> Result<Vec<Event>, DomainError> {
        let mut rng = Rng::new(self.seed, i);
        let offer = self.pick(&mut rng);
        let online_ok = offer.snapshot.online_level != motcua_domain::procedure::OnlineLevel::None;
        let channel = match rng.below(100) {
            x if x < 45 && online_ok => Channel::Online,
            x if x < 90 => Channel::Counter,
            _ => Channel::Post,
        };
        let online = channel == Channel::Online;
        let fate = fate(&mut rng, online);
        let digitized = rng.pct(70);
        let cal = &*offer.calendar;
        // Submission: anywhere in the window online; on a working day at desk hours otherwise.
        let span = self.days as i64 * 86_400;
        let mut t = self.end - Duration::seconds(rng.below(span as u64) as i64 + 600);
        if !online {
            let tz = chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7");
            let mut day = motcua_domain::stats::local_day(t);
            if !cal.is_working_day(day) {
                day = cal.next_working_day(day);
            }
            let minute = 7 * 60 + 30 + rng.below(8 * 60) as u32;
            t = tz
                .from_local_datetime(
                    &day.and_hms_opt(minute / 60, minute % 60, rng.below(60) as u32)
                        .expect("valid time"),
                )
                .single()
                .expect("fixed offset")
                .with_timezone(&Utc);
            if t > self.end {
                t = self.end - Duration::minutes(1);
            }
        }
        let citizen = Actor {
            user_id: Uuid::from_u64_pair(0x6369_7469_7a65_6e00, i),
            name: name(i),
            role: Role::Citizen,
            agency: None,
        };
        let desk = staff(Role::DeskOfficer, &offer.receiving);
        let pid: PersonalId = format!("068{}{:02}{:06}", i % 4, (i / 4) % 100, i % 1_000_000)
            .parse()
            .map_err(|e| DomainError::Invalid {
                field: "personal_id",
                reason: format!("{e}"),
            })?;
        let doc = |n: &str, k: u64| DocumentRef {
            name: n.into(),
            file: digitized.then(|| format!("blob/{k}-{}", id.simple())),
        };
        let data = SubmitData {
            procedure: offer.snapshot.clone(),
            applicant: Applicant {
                name: name(i),
                personal_id: Some(pid),
                phone: Some(format!("09{:08}", i % 100_000_000)),
                email: None,
                address: Some("Phường Xuân Hương - Đà Lạt, Lâm Đồng".into()),
                notify: None,
            },
            channel,
            receiving_agency: offer.receiving.clone(),
            competent_agency: offer.competent.clone(),
            documents: vec![doc("Tờ khai", 1), doc("Giấy tờ kèm theo", 2)],
            form: serde_json::json!({}),
            receive: true,
            postal_tracking: (channel == Channel::Post)
                .then(|| format!("EE{:09}VN", i % 1_000_000_000)),
            on_behalf_of: None,
            origin: None,
            postal: None,
        };
        let mut life = Life {
            id,
            state: None,
            events: Vec::with_capacity(10),
            citizen: citizen.clone(),
            calendar: cal,
            end: self.end,
            codes,
        };
        life.submit(t, if online { &citizen } else { &desk }, data)?;
        let hours = |rng: &mut Rng, lo: i64, hi: i64| {
            60 * lo + rng.below((60 * (hi - lo)).max(1) as u64) as i64
        };
        if online {
            // The desk looks at online dossiers within about a working day.
            t = life.later(t, hours(&mut rng, 0, 8));
            match fate {
                Fate::RefusedAtReception => {
                    life.run(
                        t,
                        Command::Refuse {
                            reasons: vec!["Không thuộc thẩm quyền giải quyết".into()],
                        },
                    )?;
                    return Ok(life.events);
                }
                Fate::WithdrawnBeforeReceipt => {
                    life.run(
                        t,
                        Command::Withdraw {
                            reason: "Không còn nhu cầu".into(),
                        },
                    )?;
                    return Ok(life.events);
                }
                _ => {}
            }
            if rng.pct(6) {
                // Incomplete: supplemented at reception first.
                if !life.run(
                    t,
                    Command::RequestSupplement {
                        items: vec!["Bản sao chứng thực".into()],
                        reason: "Hồ sơ chưa đầy đủ".into(),
                    },
                )? {
                    return Ok(life.events);
                }
                t = life.later(t, hours(&mut rng, 4, 40));
                if !life.run(
                    t,
                    Command::ProvideSupplement {
                        documents: vec![doc("Bổ sung", 3)],
                    },
                )? {
                    return Ok(life.events);
                }
                t = life.later(t, hours(&mut rng, 0, 8));
            }
            if !life.run(t, Command::Receive)? {
                return Ok(life.events);
            }
        }
        let received = t;
        let step_gap = |rng: &mut Rng, t: DateTime<Utc>, to: DateTime<Utc>| -> i64 {
            let room = cal.working_time_between(t, to).as_minutes();
            (room as f64 * (0.15 + 0.35 * rng.unit())) as i64
        };
        // The first step (assignment by the leader) happens whatever comes next.
        let due = life.d().due_at.unwrap_or(received);
        t = life.later(t, step_gap(&mut rng, t, due).max(30));
        if life.advance(t, t)?.is_none() {
            return Ok(life.events);
        }
        match fate {
            Fate::WithdrawnAfterReceipt => {
                t = life.later(t, hours(&mut rng, 1, 30));
                life.run(
                    t,
                    Command::Withdraw {
                        reason: "Người nộp rút hồ sơ".into(),
                    },
                )?;
                return Ok(life.events);
            }
            Fate::Stopped => {
                t = life.later(t, hours(&mut rng, 1, 30));
                life.run(
                    t,
                    Command::StopProcessing {
                        reason: "Không đủ điều kiện giải quyết".into(),
                    },
                )?;
                return Ok(life.events);
            }
            Fate::Stuck => return Ok(life.events),
            _ => {}
        }
        let supplement = matches!(fate, Fate::Paused) || rng.pct(10);
        if supplement {
            t = life.later(t, hours(&mut rng, 1, 16));
            if !life.run(
                t,
                Command::RequestSupplement {
                    items: vec!["Bản vẽ hiện trạng".into()],
                    reason: "Cần bổ sung để thẩm định".into(),
                },
            )? || fate == Fate::Paused
            {
                return Ok(life.events);
            }
            t = life.later(t, hours(&mut rng, 8, 80));
            if !life.run(
                t,
                Command::ProvideSupplement {
                    documents: vec![doc("Bổ sung", 4)],
                },
            )? {
                return Ok(life.events);
            }
        }
        let payment = matches!(fate, Fate::Unpaid) || rng.pct(5);
        if payment {
            t = life.later(t, hours(&mut rng, 1, 8));
            if !life.run(
                t,
                Command::RequestPayment {
                    amount_vnd: 150_000,
                    reason: "Nghĩa vụ tài chính".into(),
                },
            )? || fate == Fate::Unpaid
            {
                return Ok(life.events);
            }
            t = life.later(t, hours(&mut rng, 2, 40));
            if !life.run(
                t,
                Command::ConfirmPayment {
                    reference: format!("NVTC-{}", id.simple()),
                },
            )? {
                return Ok(life.events);
            }
        }
        let Fate::Resolved(target) = fate else {
            return Ok(life.events);
        };
        // When the result is issued, by target: before the appointment day, on it, or after.
        let due = life.d().due_at.unwrap_or(t);
        let result_at = match target {
            Target::Early => {
                let room = cal.working_time_between(t, due).as_minutes();
                // At least a day before the appointment, up to half the working time left.
                let back = 1440 + (room.max(0) as f64 * 0.5 * rng.unit()) as i64;
                due - Duration::minutes(back)
                    .min(due - t - Duration::minutes(5))
                    .max(Duration::minutes(5))
            }
            Target::OnTime => due - Duration::minutes(5 + rng.below(90) as i64),
            Target::Late => life.later(due, hours(&mut rng, 2, 80)),
        }
        .max(t + Duration::minutes(5));
        for _ in 0..16 {
            let at = t + (result_at - t) / 3;
            match life.advance(at.max(t + Duration::minutes(1)), result_at)? {
                None => return Ok(life.events),
                Some(true) => break,
                Some(false) => t = at.max(t + Duration::minutes(1)),
            }
        }
        if life.d().result.is_none() && life.d().timeliness.is_none() {
            return Ok(life.events);
        }
        t = result_at;
        if rng.pct(95) {
            t = life.later(t, hours(&mut rng, 1, 24));
            let method = if online {
                ReturnMethod::Online
            } else {
                ReturnMethod::Counter
            };
            if !life.run(
                t,
                Command::ReturnResult {
                    method,
                    receiver: name(i),
                },
            )? {
                return Ok(life.events);
            }
            if online && rng.pct(60) {
                let score = [5, 5, 5, 4, 4, 4, 3, 2, 5, 1][rng.below(10) as usize];
                t += Duration::minutes(30 + rng.below(3000) as i64);
                life.run(
                    t,
                    Command::Rate {
                        score,
                        comment: None,
                    },
                )?;
            }
        }
        Ok(life.events)
    }
}

/// Every published procedure at each of its receiving desks, with the desk's calendar.
async fn offers(store: &Store) -> anyhow::Result<Vec<Vec<Offer>>> {
    let calendars = motcua_web::calendars::Calendars::build(
        &Calendar::vietnam_default(),
        store.calendar_settings().await?,
    );
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let page = store
            .list_procedures(&ProcedureQuery {
                text: None,
                agency: None,
                limit: 200,
                offset,
            })
            .await?;
        if page.is_empty() {
            break;
        }
        offset += page.len() as u32;
        for p in &page {
            let Some(rec) = store.published_procedure(&p.code).await? else {
                continue;
            };
            let offers: Vec<Offer> = rec
                .receiving_agencies
                .iter()
                .map(|r| {
                    let competent = rec
                        .version
                        .competent_agency
                        .clone()
                        .unwrap_or_else(|| r.clone());
                    Offer {
                        snapshot: rec.version.snapshot(r, &competent),
                        receiving: r.clone(),
                        competent,
                        calendar: calendars.for_agency(r),
                    }
                })
                .filter(|o| !o.snapshot.steps.is_empty())
                .collect();
            if !offers.is_empty() {
                out.push(offers);
            }
        }
    }
    if out.is_empty() {
        bail!("no published procedure with a receiving desk in the catalogue");
    }
    Ok(out)
}

/// Fills `count` dossiers of the realistic mix (see docs/benchmarks.md, `fill --realistic`).
pub async fn run_realistic(a: &RealisticArgs) -> anyhow::Result<Vec<String>> {
    check_local(&a.database_url)?;
    if a.days == 0 || a.days > 3660 {
        bail!("--days must be 1 to 3660, not {}", a.days);
    }
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
    let procedures = offers(&store).await?;
    let cumulative: Vec<f64> = (0..procedures.len())
        .scan(0.0, |acc, k| {
            *acc += 1.0 / ((k + 1) as f64).powf(0.8);
            Some(*acc)
        })
        .collect();
    let desks: std::collections::BTreeSet<&AgencyCode> =
        procedures.iter().flatten().map(|o| &o.receiving).collect();
    println!(
        "fill --realistic: {} dossiers over the {} days before now, {} procedures at {} desks, into {} ({} in flight)",
        a.count,
        a.days,
        procedures.len(),
        desks.len(),
        a.database_url,
        a.concurrency
    );
    let mix = Arc::new(Mix {
        procedures,
        cumulative,
        end: Utc::now(),
        days: a.days,
        seed: a.seed,
    });
    let size_before = sqlite_path.as_deref().and_then(sqlite_size);
    let next = Arc::new(AtomicU64::new(0));
    let events = Arc::new(AtomicU64::new(0));
    let live = Arc::new(Live::default());
    let cpu = stats::CpuMeter::start(None);
    let start = Instant::now();
    let (progress, stop) = stats::spawn_progress("fill", live.clone(), Some(a.count));
    let mut tasks = Vec::with_capacity(a.concurrency);
    for _ in 0..a.concurrency {
        let (store, mix, next, live, events) = (
            store.clone(),
            mix.clone(),
            next.clone(),
            live.clone(),
            events.clone(),
        );
        let count = a.count;
        tasks.push(tokio::spawn(async move {
            let mut op = Op::new("fill.realistic");
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let mix = mix.clone();
                let id = Uuid::now_v7();
                let job = Execute {
                    dossier_id: id,
                    expected_version: Some(0),
                    idempotency: None,
                    files: Vec::new(),
                    decide: Box::new(move |state, codes| {
                        if state.is_some() {
                            return Err(DomainError::AlreadyExists);
                        }
                        mix.life(i, id, codes)
                    }),
                };
                let t0 = Instant::now();
                match store.execute(job).await {
                    Ok(done) => {
                        op.ok(t0.elapsed());
                        live.ok.fetch_add(1, Ordering::Relaxed);
                        events.fetch_add(done.events.len() as u64, Ordering::Relaxed);
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
    let mut all = Vec::with_capacity(tasks.len());
    for t in tasks {
        all.push(t.await?);
    }
    let secs = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    progress.abort();
    let cpu = cpu.stop();
    drop(store);
    let ops = stats::merge_all(all);
    let done = ops.first().map_or(0, |o| o.hist.len());
    let events = events.load(Ordering::Relaxed);
    let mut extra = vec![format!(
        "fill.realistic dossiers={done} events={events} events_per_dossier={:.2} dossiers_per_s={:.0} events_per_s={:.0}",
        events as f64 / done.max(1) as f64,
        done as f64 / secs,
        events as f64 / secs
    )];
    if let Some(p) = &sqlite_path {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        sqlite_checkpoint(p);
        if let (Some(before), Some(after)) = (size_before, sqlite_size(p)) {
            extra.push(format!(
                "fill.realistic database={p} bytes={after} bytes_before={before} bytes_per_dossier={:.0}",
                after.saturating_sub(before) as f64 / done.max(1) as f64
            ));
        }
    } else if a.database_url.starts_with("postgres")
        && let Ok(size) = pg_size(&a.database_url).await
    {
        extra.push(format!(
            "fill.realistic database={} bytes={size} bytes_per_dossier={:.0}",
            a.database_url,
            size as f64 / done.max(1) as f64
        ));
    }
    for l in &extra {
        println!("  {l}");
    }
    let mut lines = stats::report(
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
    )?;
    lines.extend(extra);
    Ok(lines)
}

/// Size of the PostgreSQL database the URL names.
async fn pg_size(url: &str) -> anyhow::Result<u64> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    let r = client
        .query_one("SELECT pg_database_size(current_database())", &[])
        .await?;
    Ok(r.get::<_, i64>(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_spread() {
        let a: Vec<u64> = (0..5).map(|i| Rng::new(1, i).below(1000)).collect();
        let b: Vec<u64> = (0..5).map(|i| Rng::new(1, i).below(1000)).collect();
        assert_eq!(a, b);
        let mut r = Rng::new(7, 0);
        let hits = (0..10_000).filter(|_| r.pct(30)).count();
        assert!((2_700..3_300).contains(&hits), "{hits}");
    }

    fn args(url: String, count: u64, days: u32) -> RealisticArgs {
        RealisticArgs {
            database_url: url,
            count,
            concurrency: 32,
            days,
            seed: 6,
            label: None,
            out: None,
        }
    }

    #[tokio::test]
    async fn bad_options_are_refused() {
        let e = run_realistic(&args("sqlite:///tmp/never.db".into(), 1, 0))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("--days must be 1 to 3660"), "{e}");
        let e = run_realistic(&args("postgres://db.example.org/x".into(), 1, 30))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("refusing"), "{e}");
    }

    /// A small realistic fill: every dossier written, lifecycles ending in many states, and
    /// every counter equal to what the logs imply (as `motcua verify stats` checks).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_realistic_fill_is_varied_and_its_counters_verify() {
        let dir = std::env::temp_dir().join(format!("motcua-fill-{}", Uuid::new_v4().simple()));
        let url = format!("sqlite://{}/f.db", dir.display());
        let lines = run_realistic(&args(url.clone(), 400, 120)).await.unwrap();
        assert!(
            lines.iter().any(|l| l.contains("dossiers=400 ")),
            "{lines:?}"
        );
        let store = Store::open(&url).await.unwrap();
        let r = store.verify().await.unwrap();
        assert_eq!(r.dossiers, 400);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert!(r.events > 400 * 5, "{} events", r.events);
        let c = rusqlite::Connection::open(dir.join("f.db")).unwrap();
        let statuses: i64 = c
            .query_row("SELECT count(DISTINCT status) FROM dossiers", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(statuses >= 6, "{statuses} statuses");
        let channels: i64 = c
            .query_row("SELECT count(DISTINCT channel) FROM dossiers", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(channels, 3);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn fates_follow_the_channel() {
        let mut r = Rng::new(3, 3);
        let counter: Vec<Fate> = (0..5_000).map(|_| fate(&mut r, false)).collect();
        assert!(!counter.contains(&Fate::RefusedAtReception));
        assert!(!counter.contains(&Fate::WithdrawnBeforeReceipt));
        let online: Vec<Fate> = (0..5_000).map(|_| fate(&mut r, true)).collect();
        assert!(online.contains(&Fate::RefusedAtReception));
        let late = online
            .iter()
            .filter(|f| **f == Fate::Resolved(Target::Late))
            .count();
        assert!((400..600).contains(&late), "{late}");
    }
}
