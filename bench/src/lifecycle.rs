//! `lifecycle`: each client carries dossiers through their whole life at a commune (W2):
//! citizen submits online, desk receives, leader assigns (phan-cong), specialist appraises
//! (tham-dinh), leader approves, desk marks the result ready and returns it.

use crate::stats::{self, Live, Op};
use crate::{Common, Deadline, http, raw};
use reqwest::header::HeaderValue;
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Who does a step.
#[derive(Clone, Copy)]
enum Who {
    Desk,
    Leader,
    Specialist,
}

/// The steps after the submission: (operation name, who, action, JSON body).
const STEPS: [(&str, Who, &str, &str); 6] = [
    (
        "lifecycle.receive",
        Who::Desk,
        "receive",
        r#"{"note":"Đủ thành phần"}"#,
    ),
    (
        "lifecycle.complete_step.phan-cong",
        Who::Leader,
        "complete_step",
        "{}",
    ),
    (
        "lifecycle.complete_step.tham-dinh",
        Who::Specialist,
        "complete_step",
        r#"{"note":"Đủ điều kiện"}"#,
    ),
    (
        "lifecycle.approve",
        Who::Leader,
        "approve",
        r#"{"note":"Đồng ý"}"#,
    ),
    (
        "lifecycle.mark_result_ready",
        Who::Desk,
        "mark_result_ready",
        r#"{"summary":"Kết quả số 01/KQ"}"#,
    ),
    (
        "lifecycle.return_result",
        Who::Desk,
        "return_result",
        r#"{"method":"counter","receiver":"Nguyễn Thị Lan"}"#,
    ),
];

/// Index of the whole-request record and of the whole-lifecycle record in a client's list.
const REQUESTS: usize = STEPS.len() + 1;
const WHOLE: usize = STEPS.len() + 2;

#[derive(Deserialize)]
struct Created<'a> {
    #[serde(borrow)]
    dossier: Id<'a>,
}

#[derive(Deserialize)]
struct Id<'a> {
    id: &'a str,
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

struct Shared {
    addr: std::net::SocketAddr,
    host: String,
    /// Path prefix of the actions: `/api/v1/dossiers/`.
    prefix: String,
    submit_req: Vec<u8>,
    desk: HeaderValue,
    leader: HeaderValue,
    specialist: HeaderValue,
    live: Arc<Live>,
    deadline: Deadline,
}

pub async fn run(c: &Common) -> anyhow::Result<Vec<String>> {
    let (citizen, agency, procedure) = crate::submit::prepare(c, true).await?;
    let cl = http::client();
    let desk = http::login(&cl, &c.base, &c.desk, &c.password).await?;
    let leader = http::login(&cl, &c.base, &c.leader, &c.password).await?;
    let specialist = http::login(&cl, &c.base, &c.specialist, &c.password).await?;
    for u in [&desk, &leader, &specialist] {
        if u.agency.as_deref() != Some(agency.as_str()) {
            anyhow::bail!(
                "{} works at {:?}, not at {agency}: desk, leader and specialist must share the agency",
                u.username,
                u.agency
            );
        }
    }
    let (addr, host) = raw::resolve(&c.base).await?;
    let path = crate::submit::url_path(&c.base);
    let mut submit_req = Vec::new();
    let required =
        crate::http::required_documents(&crate::http::client(), &c.base, &citizen, &procedure)
            .await?;
    let body = crate::submit::submit_body(&procedure, &agency, &required);
    raw::build(
        &mut submit_req,
        "POST",
        &format!("{path}/api/v1/dossiers"),
        &host,
        Some(citizen.auth.as_bytes()),
        Some(&body),
    );
    let sh = Arc::new(Shared {
        addr,
        host,
        prefix: format!("{path}/api/v1/dossiers/"),
        submit_req,
        desk: desk.auth,
        leader: leader.auth,
        specialist: specialist.auth,
        live: Arc::new(Live::default()),
        deadline: Deadline::new(c.warmup, c.duration),
    });
    println!(
        "lifecycle: {} clients for {:?} against {}",
        c.clients, c.duration, c.base
    );
    let cpu = stats::CpuMeter::start(c.server_pid);
    let (progress, stop) = stats::spawn_progress("lifecycle", sh.live.clone(), None);
    let mut tasks = Vec::with_capacity(c.clients);
    for _ in 0..c.clients {
        let sh = sh.clone();
        tasks.push(tokio::spawn(async move { client_loop(&sh).await }));
    }
    let mut all = Vec::with_capacity(tasks.len());
    for t in tasks {
        all.push(t.await?);
    }
    let secs = sh.deadline.measured_secs();
    stop.store(true, Ordering::Relaxed);
    progress.abort();
    let ops = stats::merge_all(all);
    stats::report(
        &stats::RunInfo {
            mode: "lifecycle",
            label: c.label.as_deref(),
            target: &c.base,
            clients: c.clients,
            secs,
            cpu: cpu.stop(),
        },
        &ops,
        c.out.as_deref(),
    )
}

/// One closed-loop client: whole lifecycles, one after the other, until the deadline.
async fn client_loop(sh: &Shared) -> Vec<Op> {
    let mut conn = raw::Conn::new(sh.addr);
    let mut ops: Vec<Op> = std::iter::once(Op::new("lifecycle.submit"))
        .chain(STEPS.iter().map(|s| Op::new(s.0)))
        .chain([Op::new("lifecycle.requests"), Op::new("lifecycle")])
        .collect();
    let mut path = String::with_capacity(sh.prefix.len() + 64);
    let mut req = Vec::with_capacity(1024);
    let mut id = String::with_capacity(36);
    'life: while !sh.deadline.over() {
        let start = Instant::now();
        let measured = sh.deadline.measuring(start);
        let fail = |ops: &mut Vec<Op>, i: usize, what: String| {
            ops[i].err();
            ops[REQUESTS].err();
            ops[WHOLE].err();
            sh.live.errors.fetch_add(1, Ordering::Relaxed);
            sh.live.report_error(|| what);
        };
        // The citizen submits.
        let t0 = Instant::now();
        match conn.send(&sh.submit_req).await {
            Ok((201, body)) => match serde_json::from_slice::<Created>(body) {
                Ok(v) => {
                    id.clear();
                    id.push_str(v.dossier.id);
                }
                Err(e) => {
                    fail(&mut ops, 0, format!("submit: unreadable reply: {e}"));
                    continue 'life;
                }
            },
            Ok((st, body)) => {
                let msg = format!("submit -> {st}: {}", stats::snippet(body));
                fail(&mut ops, 0, msg);
                continue 'life;
            }
            Err(e) => {
                fail(&mut ops, 0, format!("submit: {e}"));
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue 'life;
            }
        }
        let dt = t0.elapsed();
        if measured {
            ops[0].ok(dt);
            ops[REQUESTS].ok(dt);
        }
        // The staff's steps.
        for (i, (name, who, action, body)) in STEPS.iter().enumerate() {
            let auth = match who {
                Who::Desk => &sh.desk,
                Who::Leader => &sh.leader,
                Who::Specialist => &sh.specialist,
            };
            path.clear();
            path.push_str(&sh.prefix);
            path.push_str(&id);
            path.push_str("/actions/");
            path.push_str(action);
            req.clear();
            raw::build(
                &mut req,
                "POST",
                &path,
                &sh.host,
                Some(auth.as_bytes()),
                Some(body.as_bytes()),
            );
            let t0 = Instant::now();
            let last = i + 1 == STEPS.len();
            match conn.send(&req).await {
                Ok((200, reply)) if !last || contains(reply, br#""national_status":10"#) => {
                    let dt = t0.elapsed();
                    if measured {
                        ops[i + 1].ok(dt);
                        ops[REQUESTS].ok(dt);
                    }
                }
                Ok((st, reply)) => {
                    let msg = format!("{name} {id} -> {st}: {}", stats::snippet(reply));
                    fail(&mut ops, i + 1, msg);
                    continue 'life;
                }
                Err(e) => {
                    fail(&mut ops, i + 1, format!("{name} {id}: {e}"));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue 'life;
                }
            }
        }
        if measured {
            ops[WHOLE].ok(start.elapsed());
        }
        sh.live.ok.fetch_add(1, Ordering::Relaxed);
    }
    ops
}
