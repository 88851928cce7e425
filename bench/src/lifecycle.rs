//! `lifecycle`: each client carries dossiers through their whole life at a commune (W2):
//! citizen submits online, desk receives, leader assigns (phan-cong), specialist appraises
//! (tham-dinh), leader approves, desk marks the result ready and returns it.

use crate::http;
use crate::stats::{self, Live, Op};
use crate::{Common, Deadline};
use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
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
    base: String,
    submit_url: reqwest::Url,
    submit_body: Bytes,
    citizen: HeaderValue,
    desk: HeaderValue,
    leader: HeaderValue,
    specialist: HeaderValue,
    bodies: Vec<Bytes>,
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
    let sh = Arc::new(Shared {
        submit_url: format!("{}/api/v1/dossiers", c.base).parse()?,
        submit_body: crate::submit::submit_body(&procedure, &agency),
        base: c.base.clone(),
        citizen: citizen.auth,
        desk: desk.auth,
        leader: leader.auth,
        specialist: specialist.auth,
        bodies: STEPS
            .iter()
            .map(|s| Bytes::from_static(s.3.as_bytes()))
            .collect(),
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
    let cl = http::client();
    let json = HeaderValue::from_static("application/json");
    let mut ops: Vec<Op> = std::iter::once(Op::new("lifecycle.submit"))
        .chain(STEPS.iter().map(|s| Op::new(s.0)))
        .chain([Op::new("lifecycle.requests"), Op::new("lifecycle")])
        .collect();
    let mut url = String::with_capacity(sh.base.len() + 80);
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
        // Submit.
        let t0 = Instant::now();
        let res = cl
            .post(sh.submit_url.clone())
            .header(AUTHORIZATION, sh.citizen.clone())
            .header(CONTENT_TYPE, json.clone())
            .body(sh.submit_body.clone())
            .send()
            .await;
        let id = match res {
            Ok(r) => {
                let st = r.status();
                match r.bytes().await {
                    Ok(b) if st == StatusCode::CREATED => {
                        match serde_json::from_slice::<Created>(&b) {
                            Ok(v) => v.dossier.id.to_string(),
                            Err(e) => {
                                fail(&mut ops, 0, format!("submit: unreadable reply: {e}"));
                                continue 'life;
                            }
                        }
                    }
                    Ok(b) => {
                        fail(
                            &mut ops,
                            0,
                            format!("submit -> {st}: {}", stats::snippet(&b)),
                        );
                        continue 'life;
                    }
                    Err(e) => {
                        fail(&mut ops, 0, format!("submit: {e}"));
                        continue 'life;
                    }
                }
            }
            Err(e) => {
                fail(&mut ops, 0, format!("submit: {e}"));
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue 'life;
            }
        };
        let dt = t0.elapsed();
        if measured {
            ops[0].ok(dt);
            ops[REQUESTS].ok(dt);
        }
        // The staff's steps.
        for (i, (name, who, action, _)) in STEPS.iter().enumerate() {
            let auth = match who {
                Who::Desk => &sh.desk,
                Who::Leader => &sh.leader,
                Who::Specialist => &sh.specialist,
            };
            url.clear();
            url.push_str(&sh.base);
            url.push_str("/api/v1/dossiers/");
            url.push_str(&id);
            url.push_str("/actions/");
            url.push_str(action);
            let t0 = Instant::now();
            let res = cl
                .post(url.as_str())
                .header(AUTHORIZATION, auth.clone())
                .header(CONTENT_TYPE, json.clone())
                .body(sh.bodies[i].clone())
                .send()
                .await;
            let (st, body) = match res {
                Ok(r) => {
                    let st = r.status();
                    match r.bytes().await {
                        Ok(b) => (st, b),
                        Err(e) => {
                            fail(&mut ops, i + 1, format!("{name}: {e}"));
                            continue 'life;
                        }
                    }
                }
                Err(e) => {
                    fail(&mut ops, i + 1, format!("{name}: {e}"));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue 'life;
                }
            };
            let dt = t0.elapsed();
            let done = i + 1 == STEPS.len();
            if st != StatusCode::OK || (done && !contains(&body, br#""national_status":10"#)) {
                fail(
                    &mut ops,
                    i + 1,
                    format!("{name} {id} -> {st}: {}", stats::snippet(&body)),
                );
                continue 'life;
            }
            if measured {
                ops[i + 1].ok(dt);
                ops[REQUESTS].ok(dt);
            }
        }
        if measured {
            ops[WHOLE].ok(start.elapsed());
            sh.live.ok.fetch_add(1, Ordering::Relaxed);
        }
    }
    ops
}
