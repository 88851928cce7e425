//! An acknowledged write survives `kill -9`: the real binary is killed while clients submit, and
//! after a restart every dossier the server acknowledged is there, and `motcua verify` passes.

mod common;

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start(dir: &std::path::Path, port: u16, seed: bool) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_motcua"));
    cmd.args([
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--data-dir",
    ])
    .arg(dir)
    .env("MOTCUA_LOG", "warn")
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    if !seed {
        cmd.arg("--no-seed");
    }
    let child = Server(cmd.spawn().expect("start motcua"));
    let deadline = Instant::now() + Duration::from_secs(120);
    let url = format!("http://127.0.0.1:{port}/healthz");
    loop {
        if let Ok(r) = reqwest::get(&url).await
            && r.status() == StatusCode::OK
        {
            return child;
        }
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_submissions_survive_kill_9() {
    let dir = std::env::temp_dir().join(format!("motcua-durability-{}", uuid::Uuid::new_v4()));
    let port = free_port();
    let mut server = start(&dir, port, true).await;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"username": "congdan", "password": "motcua@2026"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_string();
    let commune = motcua::seed::demo_logins()
        .into_iter()
        .find(|l| l.username == "motcua.xa")
        .and_then(|l| l.agency)
        .unwrap()
        .to_string();
    let page: Value = http
        .get(format!("{base}/api/v1/procedures?agency={commune}&limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = page["items"][0]["code"].as_str().unwrap().to_string();
    let docs = Value::Array(common::required_documents_at(&base, &token, &code).await);

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (http, base, token, code, commune, acked, docs) = (
            http.clone(),
            base.clone(),
            token.clone(),
            code.clone(),
            commune.clone(),
            acked.clone(),
            docs.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let res = http
                    .post(format!("{base}/api/v1/dossiers"))
                    .bearer_auth(&token)
                    .json(&json!({"procedure_code": code, "agency": commune,
                        "documents": docs,
                        "form": motcua::seed::forms::example(&code).unwrap_or_default()}))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == StatusCode::CREATED => {
                        if let Ok(v) = r.json::<Value>().await {
                            acked
                                .lock()
                                .unwrap()
                                .push(v["dossier"]["id"].as_str().unwrap().to_string());
                        }
                    }
                    _ => break,
                }
            }
        }));
    }
    // Let writes flow, then kill -9 in the middle of them.
    while acked.lock().unwrap().len() < 300 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 300);

    let _server = start(&dir, port, false).await;
    let mut missing = 0;
    for id in &acked {
        let r = http
            .get(format!("{base}/api/v1/dossiers/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        if r.status() != StatusCode::OK {
            missing += 1;
        }
    }
    assert_eq!(
        missing,
        0,
        "{missing} of {} acknowledged dossiers lost",
        acked.len()
    );
    drop(_server);
    let out = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(["verify", "--data-dir"])
        .arg(&dir)
        .env("MOTCUA_LOG", "warn")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "verify failed: {text}");
    assert!(text.contains(" 0 problems"), "{text}");
    // The statistics alone (folded on all cores) agree, over as many dossiers and events.
    let counted = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("verified"))
            .and_then(|l| l.split(" dossiers,").next())
            .and_then(|l| l.rsplit(' ').next())
            .map(str::to_string)
    };
    let stats = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(["verify", "stats", "--data-dir"])
        .arg(&dir)
        .env("MOTCUA_LOG", "warn")
        .output()
        .unwrap();
    let stats_text = String::from_utf8_lossy(&stats.stdout);
    assert!(stats.status.success(), "verify stats failed: {stats_text}");
    assert!(
        stats_text.contains("the statistics of") && stats_text.contains(" 0 problems"),
        "{stats_text}"
    );
    assert_eq!(counted(&stats_text), counted(&text));
    assert!(counted(&text).is_some_and(|n| n != "0"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGTERM (what systemd, Docker and Kubernetes send) stops the server gracefully: it stops
/// taking connections, finishes what is in flight, stops the dispatcher and exits with success,
/// instead of being killed by the signal with acknowledgements still unwritten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_server_gracefully() {
    let dir = std::env::temp_dir().join(format!("motcua-sigterm-{}", uuid::Uuid::new_v4()));
    let port = free_port();
    let mut server = start(&dir, port, true).await;
    let killed = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(st) = server.0.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop within 60 s of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Killed by the signal, the status has no code (and is no success).
    assert!(
        status.success(),
        "the server should exit by itself after SIGTERM, not be killed by it: {status:?}"
    );
    assert!(
        reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .is_err(),
        "nothing answers after the stop"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
