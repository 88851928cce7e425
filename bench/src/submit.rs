//! `submit`: citizens file online dossiers as fast as the server takes them (W1, durable intake).

use crate::http::{self, Login};
use crate::raw;
use crate::stats::{self, Live, Op};
use crate::{Common, Deadline};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The body of every submission: built once, shared by all clients.
pub fn submit_body(procedure: &str, agency: &str, required: &[serde_json::Value]) -> Vec<u8> {
    let mut v = serde_json::json!({
        "procedure_code": procedure,
        "agency": agency,
        "channel": "online",
        "applicant": {
            "name": "Nguyễn Thị Lan",
            "personal_id": "068190001234",
            "phone": "0912345678",
            "address": "Phường Xuân Hương - Đà Lạt, Lâm Đồng"
        },
        "documents": [{"name": "Tờ khai"}, {"name": "Bản sao giấy tờ tùy thân"}],
        // A procedure with its own e-form gets its shipped example; others the generic form.
        "form": motcua::seed::forms::example(procedure)
            .unwrap_or_else(|| serde_json::json!({"ghi_chu": "Hồ sơ đo tải"})),
        "note": "Nộp trực tuyến"
    });
    // Online, each required document comes with its file.
    let docs = v["documents"].as_array_mut().expect("a list");
    for r in required {
        match docs.iter_mut().find(|d| d["name"] == r["name"]) {
            Some(d) => *d = r.clone(),
            None => docs.push(r.clone()),
        }
    }
    serde_json::to_vec(&v).expect("JSON")
}

/// Logs in the citizen and the commune desk, and picks a procedure received at the commune.
pub async fn prepare(c: &Common, simple: bool) -> anyhow::Result<(Login, String, String)> {
    let cl = http::client();
    let citizen = http::login(&cl, &c.base, &c.citizen, &c.password).await?;
    let agency = match &c.agency {
        Some(a) => a.clone(),
        None => http::login(&cl, &c.base, &c.desk, &c.password)
            .await?
            .agency
            .ok_or_else(|| anyhow::anyhow!("{} has no agency", c.desk))?,
    };
    let procedure = match &c.procedure {
        Some(p) => p.clone(),
        None => http::find_procedure(&cl, &c.base, &agency, simple).await?,
    };
    println!("  procedure {procedure} at agency {agency}");
    Ok((citizen, agency, procedure))
}

pub async fn run(c: &Common) -> anyhow::Result<Vec<String>> {
    let (citizen, agency, procedure) = prepare(c, false).await?;
    let (addr, host) = raw::resolve(&c.base).await?;
    let path = format!("{}/api/v1/dossiers", url_path(&c.base));
    let required = http::required_documents(&http::client(), &c.base, &citizen, &procedure).await?;
    let body = submit_body(&procedure, &agency, &required);
    let mut req = Vec::new();
    raw::build(
        &mut req,
        "POST",
        &path,
        &host,
        Some(citizen.auth.as_bytes()),
        Some(&body),
    );
    let req: Arc<[u8]> = req.into();
    let live = Arc::new(Live::default());
    println!(
        "submit: {} clients for {:?} against {}",
        c.clients, c.duration, c.base
    );
    let deadline = Deadline::new(c.warmup, c.duration);
    let cpu = stats::CpuMeter::start(c.server_pid);
    let (progress, stop) = stats::spawn_progress("submit", live.clone(), None);
    let mut tasks = Vec::with_capacity(c.clients);
    for _ in 0..c.clients {
        let (req, live, deadline) = (req.clone(), live.clone(), deadline.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = raw::Conn::new(addr);
            let mut op = Op::new("submit");
            while !deadline.over() {
                let t0 = Instant::now();
                let measured = deadline.measuring(t0);
                match conn.send(&req).await {
                    Ok((201, _)) => {
                        if measured {
                            op.ok(t0.elapsed());
                        }
                        live.ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok((st, body)) => {
                        op.err();
                        live.errors.fetch_add(1, Ordering::Relaxed);
                        live.report_error(|| format!("submit -> {st}: {}", stats::snippet(body)));
                    }
                    Err(e) => {
                        op.err();
                        live.errors.fetch_add(1, Ordering::Relaxed);
                        live.report_error(|| format!("submit: {e}"));
                        tokio::time::sleep(Duration::from_millis(20)).await;
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
    let secs = deadline.measured_secs();
    stop.store(true, Ordering::Relaxed);
    progress.abort();
    let ops = stats::merge_all(all);
    stats::report(
        &stats::RunInfo {
            mode: "submit",
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

/// The path part of a base URL (usually empty), without a trailing slash.
pub fn url_path(base: &str) -> String {
    reqwest::Url::parse(base)
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default()
}
