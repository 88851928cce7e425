//! The staff inbox under load (issue 5): `inbox-fill` builds a database of many agencies, each
//! with its own desk officer and a share of open dossiers among closed ones; `inbox` then has one
//! client per officer read their inbox (`GET /api/v1/inbox`, first pages and next pages) with a
//! share of writes mixed in (a counter submission, or a withdrawal of a dossier the officer just
//! saw), and checks that every write shows in that officer's next read: each officer is alone in
//! their agency, so the inbox's open count must move by exactly one.

use crate::stats::{self, Live, Op};
use crate::{Deadline, http, raw};
use anyhow::{Context, bail};
use chrono::{Duration as ChronoDuration, Utc};
use motcua_domain::agency::{Actor, Agency, AgencyKind, Role};
use motcua_domain::calendar::Calendar;
use motcua_domain::codes::{AgencyCode, PersonalId};
use motcua_domain::dossier::{Applicant, Channel, Command, Ctx, DocumentRef, SubmitData, decide};
use motcua_domain::procedure::ProcedureSnapshot;
use motcua_domain::workflow::StepAgency;
use motcua_store::{Execute, Store, UserRecord};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Login names of the benchmark's desk officers: `PREFIX{n}`.
pub const STAFF_PREFIX: &str = "bench.motcua.";

/// Options of `inbox-fill`.
pub struct FillArgs {
    pub database_url: String,
    pub count: u64,
    pub agencies: usize,
    pub open_percent: u64,
    pub staff: usize,
    pub concurrency: usize,
    pub password: String,
    pub label: Option<String>,
    pub out: Option<PathBuf>,
}

/// Options of `inbox`.
pub struct RunArgs {
    pub base: String,
    pub clients: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub password: String,
    pub write_percent: u64,
    pub procedure: String,
    /// Offered requests per second over all officers (open loop); `None` for a closed loop.
    pub rate: Option<f64>,
    pub server_pid: Option<u32>,
    pub label: Option<String>,
    pub out: Option<PathBuf>,
}

/// Code of the `n`th synthetic agency (three segments under the demo province's prefix).
fn bench_agency_code(n: usize) -> anyhow::Result<AgencyCode> {
    format!("H40.99.{n:04}")
        .parse()
        .map_err(|e| anyhow::anyhow!("bench agency code {n}: {e}"))
}

/// A commune-level procedure whose whole workflow stays at the receiving agency (no competent
/// agency of its own, no fixed agency in any step), so any desk can take it.
async fn local_procedure(store: &Store) -> anyhow::Result<motcua_store::ProcedureRecord> {
    for rec in store.published_procedures().await? {
        let v = &rec.version;
        if v.competent_agency.is_none()
            && !v.workflow.steps.is_empty()
            && v.workflow
                .steps
                .iter()
                .all(|s| !matches!(s.agency, StepAgency::Agency(_)))
            && !rec.receiving_agencies.is_empty()
        {
            return Ok(rec);
        }
    }
    bail!("no published procedure that a single desk handles end to end")
}

/// Builds the benchmark database: `agencies` desks (the demo's commune desks first, then
/// synthetic ones), one desk officer per agency for the first `staff` agencies, and `count`
/// counter dossiers spread over the agencies and over the last 60 days, of which all but
/// `open_percent` % are then withdrawn (closed).
pub async fn fill(a: &FillArgs) -> anyhow::Result<Vec<String>> {
    crate::fill::check_local(&a.database_url)?;
    if a.staff > a.agencies {
        bail!(
            "--staff ({}) cannot exceed --agencies ({})",
            a.staff,
            a.agencies
        );
    }
    if a.open_percent > 100 {
        bail!("--open-percent must be 0-100");
    }
    let store = Store::open(&a.database_url)
        .await
        .with_context(|| format!("opening {}", a.database_url))?;
    if store.count_procedures().await? == 0 {
        println!("inbox-fill: empty catalogue, seeding the demo province...");
        motcua::seed::seed(&store, &motcua_web::auth::hash_password).await?;
    }

    // Agencies: the seeded desks, then synthetic commune desks up to the number asked.
    let existing = store.agencies().await?;
    let mut desks: Vec<AgencyCode> = existing
        .iter()
        .filter(|g| g.has_desk && g.kind == AgencyKind::CommuneCommittee)
        .map(|g| g.code.clone())
        .take(a.agencies)
        .collect();
    let parent = existing
        .iter()
        .find(|g| g.kind == AgencyKind::ProvincialCommittee)
        .map(|g| g.code.clone());
    let mut new = Vec::new();
    let mut n = 0;
    while desks.len() < a.agencies {
        n += 1;
        let code = bench_agency_code(n)?;
        if !existing.iter().any(|g| g.code == code) {
            new.push(Agency {
                code: code.clone(),
                name: format!("UBND xã đo tải số {n}"),
                kind: AgencyKind::CommuneCommittee,
                parent: parent.clone(),
                admin_unit: None,
                has_desk: true,
            });
        }
        desks.push(code);
    }
    let created = new.len();
    if !new.is_empty() {
        store.upsert_agencies(new).await?;
    }

    // One procedure every desk receives.
    let mut rec = local_procedure(&store).await?;
    let code = rec.version.code.to_string();
    let before = rec.receiving_agencies.len();
    for d in &desks {
        if !rec.receiving_agencies.contains(d) {
            rec.receiving_agencies.push(d.clone());
        }
    }
    if rec.receiving_agencies.len() != before {
        store.upsert_procedure(rec.clone()).await?;
    }

    // Desk officers: one per agency for the first `staff` agencies.
    let hash = motcua_web::auth::hash_password(&a.password);
    let mut actors: Vec<Actor> = Vec::with_capacity(desks.len());
    for (i, d) in desks.iter().enumerate() {
        let username = format!("{STAFF_PREFIX}{i}");
        let actor = if i < a.staff {
            let user = match store.user_by_username(&username).await? {
                Some(u) => u,
                None => {
                    let u = UserRecord {
                        id: Uuid::now_v7(),
                        username: username.clone(),
                        password_hash: hash.clone(),
                        name: format!("Cán bộ một cửa đo tải {i}"),
                        role: Role::DeskOfficer,
                        agency: Some(d.clone()),
                        disabled: false,
                    };
                    store.create_user(u.clone()).await?;
                    u
                }
            };
            if user.agency.as_ref() != Some(d) {
                bail!("{username} exists in another agency: use a fresh database");
            }
            motcua_web::auth::actor_of(&user)
        } else {
            Actor {
                user_id: Uuid::now_v7(),
                name: format!("Cán bộ một cửa {d}"),
                role: Role::DeskOfficer,
                agency: Some(d.clone()),
            }
        };
        actors.push(actor);
    }
    let snapshots: Vec<ProcedureSnapshot> =
        desks.iter().map(|d| rec.version.snapshot(d, d)).collect();
    println!(
        "inbox-fill: {} dossiers of {code} over {} agencies ({} new), {} % left open, {} officers {STAFF_PREFIX}0..{}, into {}",
        a.count,
        desks.len(),
        created,
        a.open_percent,
        a.staff,
        a.staff.saturating_sub(1),
        a.database_url
    );

    let plan = Arc::new(Plan {
        desks,
        actors,
        snapshots,
        calendar: Calendar::vietnam_default(),
        open_percent: a.open_percent,
    });
    let next = Arc::new(AtomicU64::new(0));
    let live = Arc::new(Live::default());
    let cpu = stats::CpuMeter::start(None);
    let start = Instant::now();
    let (progress, stop) = stats::spawn_progress("inbox-fill", live.clone(), Some(a.count));
    let mut tasks = Vec::with_capacity(a.concurrency);
    for _ in 0..a.concurrency {
        let (store, plan, next, live) = (store.clone(), plan.clone(), next.clone(), live.clone());
        let count = a.count;
        tasks.push(tokio::spawn(async move {
            let mut submit = Op::new("inbox-fill.submit");
            let mut withdraw = Op::new("inbox-fill.withdraw");
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let t0 = Instant::now();
                let id = match store.execute(plan.submit(i)?).await {
                    Ok(done) => {
                        submit.ok(t0.elapsed());
                        done.dossier.id
                    }
                    Err(e) => {
                        submit.err();
                        live.errors.fetch_add(1, Ordering::Relaxed);
                        live.report_error(|| format!("dossier {i}: {e}"));
                        continue;
                    }
                };
                if plan.closes(i) {
                    let t1 = Instant::now();
                    match store.execute(plan.withdraw(i, id)).await {
                        Ok(_) => withdraw.ok(t1.elapsed()),
                        Err(e) => {
                            withdraw.err();
                            live.errors.fetch_add(1, Ordering::Relaxed);
                            live.report_error(|| format!("withdrawing dossier {i}: {e}"));
                            continue;
                        }
                    }
                }
                live.ok.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(vec![submit, withdraw])
        }));
    }
    let mut all = Vec::with_capacity(tasks.len());
    for t in tasks {
        all.push(t.await??);
    }
    let secs = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    progress.abort();
    let cpu = cpu.stop();
    let ops = stats::merge_all(all);
    stats::report(
        &stats::RunInfo {
            mode: "inbox-fill",
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

/// What the fill's workers share.
struct Plan {
    desks: Vec<AgencyCode>,
    actors: Vec<Actor>,
    snapshots: Vec<ProcedureSnapshot>,
    calendar: Calendar,
    open_percent: u64,
}

impl Plan {
    fn desk(&self, i: u64) -> usize {
        (i % self.desks.len() as u64) as usize
    }

    /// Whether dossier `i` ends closed: of every 100 dossiers an agency gets, exactly
    /// `100 - open_percent` (61 is prime to 100, so the open ones are spread out).
    fn closes(&self, i: u64) -> bool {
        (i / self.desks.len() as u64).wrapping_mul(61) % 100 >= self.open_percent
    }

    /// When dossier `i` was received: spread over the last 60 days, so that some open ones are
    /// overdue, some due soon and most on time.
    fn received_at(&self, i: u64) -> chrono::DateTime<Utc> {
        let minutes = (i.wrapping_mul(2_654_435_761) % (60 * 24 * 60)) as i64;
        Utc::now() - ChronoDuration::minutes(minutes)
    }

    fn submit(self: &Arc<Plan>, i: u64) -> anyhow::Result<Execute> {
        let k = self.desk(i);
        let pid: PersonalId = format!("068{}{:02}{:06}", i % 4, (i / 4) % 100, i % 1_000_000)
            .parse()
            .map_err(|e| anyhow::anyhow!("personal id: {e}"))?;
        let cmd = Command::Submit(Box::new(SubmitData {
            procedure: self.snapshots[k].clone(),
            applicant: Applicant {
                name: crate::fill::name(i),
                personal_id: Some(pid),
                phone: Some(format!("09{:08}", i % 100_000_000)),
                email: None,
                address: None,
                notify: None,
            },
            channel: Channel::Counter,
            receiving_agency: self.desks[k].clone(),
            competent_agency: self.desks[k].clone(),
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
        let now = self.received_at(i);
        Ok(Execute {
            dossier_id: Uuid::now_v7(),
            expected_version: Some(0),
            idempotency: None,
            files: Vec::new(),
            decide: Box::new(move |state, codes| {
                let mut ctx = Ctx {
                    now,
                    actor: &plan.actors[k],
                    calendar: &plan.calendar,
                    codes,
                };
                decide(state, &cmd, Some("Tiếp nhận tại quầy".into()), &mut ctx)
            }),
        })
    }

    fn withdraw(self: &Arc<Plan>, i: u64, id: Uuid) -> Execute {
        let k = self.desk(i);
        let plan = self.clone();
        let now = self.received_at(i) + ChronoDuration::hours(1);
        let cmd = Command::Withdraw {
            reason: "Người nộp có văn bản xin rút hồ sơ".into(),
        };
        Execute {
            dossier_id: id,
            expected_version: None,
            idempotency: None,
            files: Vec::new(),
            decide: Box::new(move |state, codes| {
                let mut ctx = Ctx {
                    now,
                    actor: &plan.actors[k],
                    calendar: &plan.calendar,
                    codes,
                };
                decide(state, &cmd, None, &mut ctx)
            }),
        }
    }
}

/// What the benchmark reads of an inbox page.
#[derive(Deserialize)]
struct Page {
    items: Vec<Item>,
    next_cursor: Option<String>,
    counts: Vec<Count>,
}

/// The end of a page after its items: what [`Page::parse`] reads with serde.
#[derive(Deserialize)]
struct Tail {
    next_cursor: Option<String>,
    counts: Vec<Count>,
}

impl Page {
    /// Reads a page as `serde_json` would, without deserializing its 50 rows: the generator
    /// shares the server's two cores, and parsing each row's strings was two thirds of its CPU.
    /// The items array ends at the last `],"next_cursor":` (inside a JSON string the quotes
    /// would be escaped); the ids are the values of its `"id":"` keys; the rest is parsed.
    /// Anything unexpected falls back to the full parse.
    fn parse(body: &[u8]) -> serde_json::Result<Page> {
        const START: &[u8] = br#"{"items":["#;
        const END: &[u8] = br#"],"next_cursor":"#;
        const ID: &[u8] = br#""id":""#;
        let fast = || -> Option<Page> {
            let end = memchr::memmem::rfind(body, END)?;
            if !body.starts_with(START) || end + 1 < START.len() {
                return None;
            }
            // Between `[` and `]` (empty when the `[` is the `]`'s neighbour).
            let items = &body[START.len().min(end)..end];
            let mut tail = Vec::with_capacity(body.len() - end);
            tail.push(b'{');
            tail.extend_from_slice(&body[end + 2..]);
            let t: Tail = serde_json::from_slice(&tail).ok()?;
            let ids = memchr::memmem::find_iter(items, ID)
                .map(|at| {
                    let hex = items.get(at + ID.len()..at + ID.len() + 36)?;
                    Uuid::try_parse_ascii(hex).ok().map(|id| Item { id })
                })
                .collect::<Option<Vec<_>>>()?;
            Some(Page {
                items: ids,
                next_cursor: t.next_cursor,
                counts: t.counts,
            })
        };
        match fast() {
            Some(p) => Ok(p),
            None => serde_json::from_slice(body),
        }
    }
}

#[derive(Deserialize)]
struct Item {
    id: Uuid,
}

#[derive(Deserialize)]
struct Count {
    total: i64,
}

/// What one client expects its next read to show.
enum Expect {
    /// Nothing written since the last read.
    Same,
    /// The open count moved by this much since the last read.
    Moved(i64),
}

/// Per client: its officer's login and agency.
struct Officer {
    auth: Vec<u8>,
    agency: String,
}

/// Runs the mixed inbox workload: one client per benchmark officer (`bench.motcua.{n}`).
pub async fn run(a: &RunArgs) -> anyhow::Result<Vec<String>> {
    let cl = http::client();
    let mut officers = Vec::with_capacity(a.clients);
    for n in 0..a.clients {
        let l = http::login(&cl, &a.base, &format!("{STAFF_PREFIX}{n}"), &a.password)
            .await
            .context("run `motcua-bench inbox-fill` with at least as many --staff as --clients")?;
        officers.push(Officer {
            auth: l.auth.as_bytes().to_vec(),
            agency: l
                .agency
                .ok_or_else(|| anyhow::anyhow!("{} has no agency", l.username))?,
        });
    }
    let distinct: std::collections::HashSet<&str> =
        officers.iter().map(|o| o.agency.as_str()).collect();
    let check = distinct.len() == officers.len();
    println!(
        "inbox: {} officers in {} agencies, {} % writes, {}, {:?} against {} (visibility check {})",
        officers.len(),
        distinct.len(),
        a.write_percent,
        match a.rate {
            Some(r) => format!("open loop at {r} requests/s"),
            None => "closed loop".to_string(),
        },
        a.duration,
        a.base,
        if check {
            "on"
        } else {
            "off: officers share agencies"
        }
    );
    let (addr, host) = raw::resolve(&a.base).await?;
    let prefix = crate::submit::url_path(&a.base);
    let live = Arc::new(Live::default());
    let stale = Arc::new(AtomicU64::new(0));
    let deadline = Deadline::new(a.warmup, a.duration);
    let cpu = stats::CpuMeter::start(a.server_pid);
    let (progress, stop) = stats::spawn_progress("inbox", live.clone(), None);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    let late = Arc::new(AtomicU64::new(0));
    // Open loop: each officer's requests are due every `interval`, from a phase of its own.
    let interval = a
        .rate
        .map(|r| Duration::from_secs_f64(officers.len() as f64 / r));
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(officers.len());
    for (i, o) in officers.into_iter().enumerate() {
        let late = late.clone();
        let (host, prefix, live, deadline, stale) = (
            host.clone(),
            prefix.clone(),
            live.clone(),
            deadline.clone(),
            stale.clone(),
        );
        let write_percent = a.write_percent;
        let procedure = a.procedure.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = raw::Conn::new(addr);
            let mut rng = crate::lookup::Rng(seed ^ ((i as u64 + 1) << 40));
            let mut all = Op::new("inbox.all");
            let mut reads = Op::new("inbox.read");
            let mut writes = Op::new("inbox.write");
            let first = format!("{prefix}/api/v1/inbox?limit=50");
            let submit_path = format!("{prefix}/api/v1/dossiers");
            let submit_body = serde_json::to_vec(&serde_json::json!({
                "procedure_code": procedure,
                "agency": o.agency,
                "channel": "counter",
                "applicant": {"name": "Trần Văn Bình", "phone": "0912345678"},
                "documents": [{"name": "Tờ khai"}],
                "form": {},
                "note": "Tiếp nhận tại quầy"
            }))
            .expect("JSON");
            let withdraw_body =
                br#"{"reason":"Ng\u01b0\u1eddi n\u1ed9p xin r\u00fat h\u1ed3 s\u01a1"}"#;
            let mut req = Vec::with_capacity(1024);
            let mut open: Option<i64> = None;
            let mut expect = Expect::Same;
            let mut seen: Vec<Uuid> = Vec::new();
            let mut cursor: Option<String> = None;
            let mut submit_next = true;
            let mut due =
                interval.map(|iv| start + iv.mul_f64(rng.below(1_000_000) as f64 / 1_000_000.0));
            while !deadline.over() {
                // When the request was due, if it was late because the officer was still
                // waiting for the previous answer; a late answer then counts from there.
                let mut behind = None;
                if let (Some(d), Some(iv)) = (due.as_mut(), interval) {
                    let now = tokio::time::Instant::now();
                    if now >= *d {
                        behind = Some(d.into_std());
                        if deadline.measuring(d.into_std()) {
                            late.fetch_add(1, Ordering::Relaxed);
                        }
                    } else {
                        tokio::time::sleep_until(*d).await;
                    }
                    *d += iv;
                }
                let write = open.is_some() && rng.below(100) < write_percent as usize;
                req.clear();
                let what;
                if write {
                    // Alternate: a new counter dossier, then a withdrawal of one just seen.
                    if submit_next || seen.is_empty() {
                        raw::build(
                            &mut req,
                            "POST",
                            &submit_path,
                            &host,
                            Some(&o.auth),
                            Some(&submit_body),
                        );
                        what = 1;
                    } else {
                        let id = seen.swap_remove(rng.below(seen.len()));
                        let path = format!("{prefix}/api/v1/dossiers/{id}/actions/withdraw");
                        raw::build(
                            &mut req,
                            "POST",
                            &path,
                            &host,
                            Some(&o.auth),
                            Some(withdraw_body),
                        );
                        what = -1;
                    }
                    submit_next = !submit_next;
                } else {
                    // Mostly the first page; now and then the next one.
                    let path = match cursor.take() {
                        Some(c) if rng.below(100) < 20 => format!("{first}&cursor={c}"),
                        _ => first.clone(),
                    };
                    raw::build(&mut req, "GET", &path, &host, Some(&o.auth), None);
                    what = 0;
                }
                let t0 = behind.unwrap_or_else(Instant::now);
                let measured = deadline.measuring(t0);
                match conn.send(&req).await {
                    Ok((st, body)) if (200..300).contains(&st) => {
                        let took = t0.elapsed();
                        if measured {
                            all.ok(took);
                            if what == 0 {
                                reads.ok(took)
                            } else {
                                writes.ok(took)
                            }
                        }
                        live.ok.fetch_add(1, Ordering::Relaxed);
                        if what != 0 {
                            expect = match expect {
                                Expect::Same => Expect::Moved(what),
                                Expect::Moved(m) => Expect::Moved(m + what),
                            };
                            continue;
                        }
                        let page = match Page::parse(body) {
                            Ok(p) => p,
                            Err(e) => {
                                live.report_error(|| format!("inbox page: {e}"));
                                continue;
                            }
                        };
                        let total: i64 = page.counts.iter().map(|c| c.total).sum();
                        if check
                            && let (Some(before), Expect::Moved(m)) = (open, &expect)
                            && total != before + m
                        {
                            stale.fetch_add(1, Ordering::Relaxed);
                            live.report_error(|| {
                                format!(
                                    "stale read at {}: {total} open, expected {}",
                                    o.agency,
                                    before + m
                                )
                            });
                        }
                        open = Some(total);
                        expect = Expect::Same;
                        seen.clear();
                        seen.extend(page.items.iter().map(|it| it.id));
                        cursor = page.next_cursor;
                    }
                    Ok((st, body)) => {
                        all.err();
                        live.errors.fetch_add(1, Ordering::Relaxed);
                        live.report_error(|| format!("{st}: {}", stats::snippet(body)));
                        // The open count is unknown after a failed write: read it again.
                        if what != 0 {
                            open = None;
                            expect = Expect::Same;
                        }
                    }
                    Err(e) => {
                        all.err();
                        live.errors.fetch_add(1, Ordering::Relaxed);
                        live.report_error(|| format!("inbox: {e}"));
                        open = None;
                        expect = Expect::Same;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
            vec![all, reads, writes]
        }));
    }
    let mut all = Vec::with_capacity(tasks.len());
    for t in tasks {
        all.push(t.await?);
    }
    let secs = deadline.measured_secs();
    stop.store(true, Ordering::Relaxed);
    progress.abort();
    let stale = stale.load(Ordering::Relaxed);
    println!("  stale reads (a write not visible in the next read): {stale}");
    let late = late.load(Ordering::Relaxed);
    if a.rate.is_some() {
        println!("  requests sent after they were due (the previous answer came late): {late}");
    }
    let ops = stats::merge_all(all);
    let mut lines = stats::report(
        &stats::RunInfo {
            mode: "inbox",
            label: a.label.as_deref(),
            target: &a.base,
            clients: a.clients,
            secs,
            cpu: cpu.stop(),
        },
        &ops,
        a.out.as_deref(),
    )?;
    lines.push(format!(
        "inbox stale_reads={stale} rate={} late={late}",
        a.rate.map_or("closed".to_string(), |r| format!("{r}"))
    ));
    if stale > 0 {
        bail!("{stale} reads did not show the officer's own write");
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(body: &str) -> (Vec<Uuid>, Option<String>, Vec<i64>) {
        let p: Page = serde_json::from_str(body).unwrap();
        let ids = p.items.iter().map(|i| i.id).collect();
        (
            ids,
            p.next_cursor,
            p.counts.iter().map(|c| c.total).collect(),
        )
    }

    fn fast(body: &str) -> (Vec<Uuid>, Option<String>, Vec<i64>) {
        let p = Page::parse(body.as_bytes()).unwrap();
        let ids = p.items.iter().map(|i| i.id).collect();
        (
            ids,
            p.next_cursor,
            p.counts.iter().map(|c| c.total).collect(),
        )
    }

    #[test]
    fn the_quick_page_parse_reads_what_serde_reads() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        // Names holding the markers the quick parse looks for (escaped, as JSON writes them).
        let tricky = r#"Lê \"id\":\"x\" ],\"next_cursor\":\"y\""#;
        let pages = [
            format!(
                r#"{{"items":[{{"id":"{a}","code":null,"applicant_name":"{tricky}","version":3}},{{"id":"{b}","applicant_name":"Đặng Thị Hoà","due_at":"2026-12-05T01:00:00Z"}}],"next_cursor":"123_{b}","counts":[{{"status":"received","total":7,"overdue":1,"due_soon":0}},{{"status":"processing","total":5,"overdue":0,"due_soon":2}}]}}"#
            ),
            r#"{"items":[],"next_cursor":null,"counts":[]}"#.to_string(),
            // Another order of fields: the full parse answers.
            format!(r#"{{"counts":[{{"total":2}}],"items":[{{"id":"{a}"}}],"next_cursor":null}}"#),
        ];
        for body in &pages {
            assert_eq!(fast(body), full(body), "{body}");
        }
        assert_eq!(fast(&pages[0]).0, vec![a, b]);
        assert_eq!(fast(&pages[0]).2, vec![7, 5]);
        // Broken JSON stays an error.
        assert!(
            Page::parse(br#"{"items":[{"id":"nope"}],"next_cursor":null,"counts":[]"#).is_err()
        );
    }
}
