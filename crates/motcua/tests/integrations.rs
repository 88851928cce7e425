//! Delivery to the national portal from outside: the real server (HTTP API, SQLite file or
//! `MOTCUA_TEST_SERVER_DB`), the outbox dispatcher as `motcua serve` starts it, and the
//! sandbox portal with failures injected. Dossiers move while the portal is down, slow, failing
//! and answering garbage; afterwards every dossier and step is on the portal exactly once, in
//! order, and reconciliation shows no difference. Dead letters appear, are retried through the
//! admin API and clear. The admin API refuses everyone but administrators.
//!
//! `MOTCUA_TEST_SYNC_DOSSIERS` sets how many dossiers move (default 1,000, the figure:
//! about 30 s on the 2-core test machine).

mod common;

use motcua::integrations::IntegrationSettings;
use motcua_integrations::TargetSettings;
use motcua_integrations::dispatcher::DispatcherSettings;
use motcua_integrations::dvcqg::DvcqgSettings;
use motcua_integrations::policy::RetryPolicy;
use motcua_integrations::reconcile::{RemoteCounts, local_day, reconcile};
use motcua_integrations::sandbox::{Faults, SandboxHandle};
use motcua_store::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "motcua@2026";

/// A server with the demo province, a sandbox portal and the dispatcher.
struct World {
    base: String,
    http: reqwest::Client,
    tokens: HashMap<&'static str, String>,
    store: Store,
    portal: SandboxHandle,
    /// The nodes' dispatchers, each on its own runtime: stopped when the world goes.
    _dispatchers: Vec<motcua_integrations::dispatcher::DispatcherHandle>,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl World {
    async fn start() -> World {
        World::start_nodes(1).await
    }

    /// With `nodes` dispatchers sharing the store, as several `motcua serve` nodes would.
    async fn start_nodes(nodes: usize) -> World {
        World::start_nodes_yielding(nodes, false).await
    }

    /// The same, the dispatchers yielding to the requests or not (decision 0038).
    async fn start_nodes_yielding(nodes: usize, yielding: bool) -> World {
        World::start_tuned(nodes, |s| s.dispatcher.yield_to_requests = yielding).await
    }

    /// With `nodes` dispatchers, their settings changed by `tune` from the tests' own.
    async fn start_tuned(nodes: usize, tune: impl FnOnce(&mut IntegrationSettings)) -> World {
        let dir =
            std::env::temp_dir().join(format!("motcua-int-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = std::env::var("MOTCUA_TEST_SERVER_DB")
            .unwrap_or_else(|_| format!("sqlite://{}/motcua.db", dir.display()));
        let store = Store::open(&url).await.expect("open store");
        motcua::seed::seed(&store, &motcua_web::auth::hash_password)
            .await
            .expect("seed");
        let portal = SandboxHandle::start("127.0.0.1:0".parse().unwrap(), DvcqgSettings::default())
            .await
            .unwrap();
        let settings = IntegrationSettings {
            dispatcher: DispatcherSettings {
                poll_ms: 20,
                lease_secs: 30,
                depth_every_secs: 1,
                yield_every_ms: 20,
                hold_check_ms: 20,
                ..DispatcherSettings::default()
            },
            dvcqg: portal.adapter_settings(),
            dvcqg_delivery: TargetSettings {
                concurrency: 16,
                timeout_ms: 2_000,
                retry: RetryPolicy {
                    base_ms: 50,
                    max_ms: 800,
                    max_attempts: 10_000,
                },
                breaker_threshold: 5,
                breaker_cooldown_ms: 300,
                rate_per_sec: 0,
            },
            ..IntegrationSettings::default()
        };
        let mut settings = settings;
        tune(&mut settings);
        // Started exactly as `motcua serve` starts it: metrics recorder first.
        let _ = motcua_web::prometheus_handle();
        let mut dispatchers = Vec::new();
        for i in 0..nodes {
            let mut settings = motcua::config::Settings {
                integrations: settings.clone(),
                ..Default::default()
            };
            settings.integrations.dispatcher.node = format!("node-{i}");
            let dispatcher = motcua::integrations::start(&store, &settings)
                .unwrap()
                .expect("a configured target starts the dispatcher");
            dispatchers.push(dispatcher);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = motcua_web::AppState::new(store.clone());
        tokio::spawn(async move { motcua_web::serve(listener, state).await.unwrap() });
        let mut w = World {
            base,
            http: reqwest::Client::new(),
            tokens: HashMap::new(),
            store,
            portal,
            _dispatchers: dispatchers,
            _dir: TempDir(dir),
        };
        for u in [
            "congdan",
            "motcua.tinh",
            "lanhdao.stp",
            "chuyenvien.stp",
            "quantri",
        ] {
            let (st, v) = w
                .send(
                    None,
                    "POST",
                    "/api/v1/auth/token",
                    Some(json!({"username": u, "password": PASSWORD})),
                )
                .await;
            assert_eq!(st, StatusCode::OK, "{u}: {v}");
            w.tokens.insert(u, v["token"].as_str().unwrap().to_string());
        }
        w
    }

    async fn send(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut rb = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let res = rb.send().await.unwrap();
        let st = res.status();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let text = res.text().await.unwrap();
        if st.is_client_error() || st.is_server_error() {
            assert_eq!(
                ct, "application/problem+json",
                "{method} {path} -> {st}: {text}"
            );
        }
        (st, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn as_user(
        &self,
        user: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.send(Some(&self.tokens[user]), method, path, body)
            .await
    }

    async fn act(&self, user: &str, id: &str, action: &str, body: Value) -> Value {
        let (st, v) = self
            .as_user(
                user,
                "POST",
                &format!("/api/v1/dossiers/{id}/actions/{action}"),
                Some(body),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{user} {action} on {id}: {v}");
        v
    }

    /// A procedure received at the province centre, decided by the justice department, with
    /// no step at another agency.
    async fn procedure(&self) -> (String, String) {
        let (_, me) = self.as_user("motcua.tinh", "GET", "/api/v1/me", None).await;
        let centre = me["agency"].as_str().unwrap().to_string();
        let (_, me) = self.as_user("lanhdao.stp", "GET", "/api/v1/me", None).await;
        let stp = me["agency"].as_str().unwrap().to_string();
        let mut offset = 0;
        loop {
            let (_, page) = self
                .send(
                    None,
                    "GET",
                    &format!("/api/v1/procedures?agency={centre}&limit=200&offset={offset}"),
                    None,
                )
                .await;
            let items = page["items"].as_array().unwrap().clone();
            assert!(!items.is_empty(), "no suitable procedure");
            for it in &items {
                let code = it["code"].as_str().unwrap();
                let (_, d) = self
                    .send(None, "GET", &format!("/api/v1/procedures/{code}"), None)
                    .await;
                let p = &d["procedure"];
                let local = p["workflow"]["steps"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|s| s["agency"]["type"] != "agency");
                if p["competent_agency"] == stp.as_str() && local {
                    return (code.to_string(), centre);
                }
            }
            offset += 200;
        }
    }

    /// Submits online and receives at the desk; returns (id, dossier code).
    async fn submit_and_receive(
        &self,
        procedure: &str,
        centre: &str,
        n: usize,
    ) -> (String, String) {
        let body = json!({
            "procedure_code": procedure,
            "agency": centre,
            "applicant": {"name": format!("Nguyễn Thị Lan {n}"), "personal_id": "068190001234", "phone": "0912345678"},
            "documents": [{"name": "Tờ khai"}],
            "form": {},
        });
        let body =
            common::with_required_documents_at(&self.base, &self.tokens["congdan"], body).await;
        let (st, v) = self
            .as_user("congdan", "POST", "/api/v1/dossiers", Some(body))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        let id = v["dossier"]["id"].as_str().unwrap().to_string();
        let v = self
            .act(
                "motcua.tinh",
                &id,
                "receive",
                json!({"note": "Đủ thành phần"}),
            )
            .await;
        (id, v["dossier"]["code"].as_str().unwrap().to_string())
    }

    /// Assigns and moves the dossier two steps on (two more portal messages).
    async fn process(&self, id: &str, specialist: &Value) {
        self.act(
            "lanhdao.stp",
            id,
            "assign",
            json!({"user_id": specialist["user_id"], "name": specialist["name"]}),
        )
        .await;
        self.act("lanhdao.stp", id, "complete_step", json!({}))
            .await;
        self.act(
            "chuyenvien.stp",
            id,
            "complete_step",
            json!({"note": "Đã thẩm định"}),
        )
        .await;
    }

    /// Every `dvcqg.sync` message, through the admin API.
    async fn sync_messages(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut after = 0i64;
        loop {
            let (st, page) = self
                .as_user(
                    "quantri",
                    "GET",
                    &format!("/api/v1/admin/outbox?topic=dvcqg.sync&limit=1000&after_id={after}"),
                    None,
                )
                .await;
            assert_eq!(st, StatusCode::OK, "{page}");
            let items = page["items"].as_array().unwrap().clone();
            out.extend(items.iter().cloned());
            match page["next_after_id"].as_i64() {
                Some(a) => after = a,
                None => return out,
            }
        }
    }

    /// The portal queue, through the admin API: (pending, dead).
    async fn queue(&self) -> (u64, u64) {
        let (st, q) = self
            .as_user("quantri", "GET", "/api/v1/admin/outbox/queues", None)
            .await;
        assert_eq!(st, StatusCode::OK, "{q}");
        q.as_array()
            .unwrap()
            .iter()
            .find(|d| d["topic"] == "dvcqg.sync")
            .map_or((0, 0), |d| {
                (d["pending"].as_u64().unwrap(), d["dead"].as_u64().unwrap())
            })
    }

    async fn wait_for(
        &self,
        what: &str,
        limit: Duration,
        mut done: impl AsyncFnMut(&World) -> bool,
    ) {
        let start = Instant::now();
        while !done(self).await {
            assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Files `n` dossiers at the centre and has the specialist process each, `width` at once,
/// then waits until the portal queue is empty; their codes.
async fn file_and_process(w: &Arc<World>, n: usize, width: usize) -> Vec<String> {
    let (procedure, centre) = w.procedure().await;
    let (_, specialist) = w.as_user("chuyenvien.stp", "GET", "/api/v1/me", None).await;
    let codes = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    each((0..n).collect(), width, |i| {
        let (w, p, c, sp, codes) = (
            w.clone(),
            procedure.clone(),
            centre.clone(),
            specialist.clone(),
            codes.clone(),
        );
        tokio::spawn(async move {
            let (id, code) = w.submit_and_receive(&p, &c, i).await;
            w.process(&id, &sp).await;
            codes.lock().await.push(code);
        })
    })
    .await;
    w.wait_for("the queue drains", Duration::from_secs(120), async |w| {
        w.queue().await == (0, 0)
    })
    .await;
    codes.lock().await.clone()
}

/// Runs `f` over `items` with at most `width` at once.
async fn each<T: Send + 'static>(
    items: Vec<T>,
    width: usize,
    f: impl Fn(T) -> tokio::task::JoinHandle<()>,
) {
    let mut running = Vec::new();
    for it in items {
        running.push(f(it));
        if running.len() >= width {
            running.remove(0).await.unwrap();
        }
    }
    for r in running {
        r.await.unwrap();
    }
}

/// Checks the portal holds each dossier exactly as our outbox says: every message once, in
/// order, with one step per message.
async fn assert_portal_matches(w: &World, codes: &[String]) {
    let messages = w.sync_messages().await;
    let mut by_code: HashMap<String, Vec<&Value>> = HashMap::new();
    for m in &messages {
        assert_eq!(m["status"], "done", "{m}");
        by_code
            .entry(m["partition"].as_str().unwrap().to_string())
            .or_default()
            .push(m);
    }
    for code in codes {
        let ours = &by_code[code];
        let theirs = w
            .portal
            .dossier(code)
            .unwrap_or_else(|| panic!("{code} is not on the portal"));
        let keys: Vec<&str> = ours.iter().map(|m| m["key"].as_str().unwrap()).collect();
        assert_eq!(theirs.keys, keys, "{code}: every version once, in order");
        assert_eq!(
            theirs.steps.len(),
            ours.len(),
            "{code}: one step per message, none twice"
        );
        let states: Vec<&Value> = theirs.steps.iter().map(|s| &s["TrangThai"]).collect();
        let expected: Vec<&Value> = ours
            .iter()
            .map(|m| &m["payload"]["QuaTrinh"][0]["TrangThai"])
            .collect();
        assert_eq!(states, expected, "{code}: steps in order");
        let last = ours.last().unwrap();
        assert_eq!(
            theirs.payload["TrangThaiHoSo"],
            last["payload"]["TrangThaiHoSo"]
        );
        assert_eq!(
            theirs.steps[0]["TrangThai"], 2,
            "the first step is the reception"
        );
        assert_eq!(
            theirs.steps[0]["ThoiDiemXuLy"].as_str().unwrap().len(),
            14,
            "yyyyMMddHHmmss"
        );
    }
    let s = w.portal.summary();
    assert_eq!(s.out_of_order, 0, "{s:?}");
    assert_eq!(s.dossiers as usize, codes.len());
}

/// The test: the portal is down for a while as many dossiers move, then slow and
/// flaky; every dossier and step arrives exactly once, in order; reconciliation adds up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_down_while_dossiers_move_then_everything_arrives_once_in_order() {
    let n: usize = std::env::var("MOTCUA_TEST_SYNC_DOSSIERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let w = Arc::new(World::start().await);
    let (procedure, centre) = w.procedure().await;
    let (_, specialist) = w.as_user("chuyenvien.stp", "GET", "/api/v1/me", None).await;

    // A third arrive while the portal is up.
    let first = n / 3;
    let received = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    // Dossiers `range` are submitted and received, 16 at a time.
    let arrive = |range: std::ops::Range<usize>| {
        let (w, procedure, centre, received) = (
            w.clone(),
            procedure.clone(),
            centre.clone(),
            received.clone(),
        );
        async move {
            each(range.collect(), 16, |i| {
                let (w, p, c, r) = (
                    w.clone(),
                    procedure.clone(),
                    centre.clone(),
                    received.clone(),
                );
                tokio::spawn(async move {
                    let d = w.submit_and_receive(&p, &c, i).await;
                    r.lock().await.push(d);
                })
            })
            .await
        }
    };
    arrive(0..first).await;
    // The portal goes down: the rest arrive and everyone is processed meanwhile.
    w.portal.set_down(true).await.unwrap();
    let started = Instant::now();
    arrive(first..n).await;
    let all = received.lock().await.clone();
    each(all.clone(), 16, |(id, _)| {
        let (w, sp) = (w.clone(), specialist.clone());
        tokio::spawn(async move { w.process(&id, &sp).await })
    })
    .await;
    let moving = started.elapsed();
    // Requests never waited for the portal: the whole batch moved while it was down.
    let (pending, dead) = w.queue().await;
    assert!(
        pending > (n - first) as u64,
        "{pending} pending while the portal is down"
    );
    assert_eq!(dead, 0);
    // The gauges say so too. They are process-wide and the other tests of this file run
    // dispatchers of their own, which set the same gauge from their stores every second: look
    // a few times until this test's value shows.
    let gauge_start = Instant::now();
    let metrics = loop {
        let metrics = w
            .http
            .get(format!("{}/metrics", w.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics.lines().any(|l| {
            l.starts_with("motcua_outbox_pending{target=\"dvcqg.sync\"}") && !l.ends_with(" 0")
        }) {
            break metrics;
        }
        assert!(
            gauge_start.elapsed() < Duration::from_secs(10),
            "queue depth gauge: {metrics}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(metrics.contains("motcua_outbox_oldest_age_seconds{target=\"dvcqg.sync\"}"));
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("motcua_outbox_failures_total{") && l.contains("dvcqg.sync")),
        "failure counter"
    );
    // Back up, but slow and flaky for a while: 5xx and malformed answers (after the work).
    w.portal.set_down(false).await.unwrap();
    w.portal.set_faults(Faults {
        slow_ms: 20,
        fail_5xx_percent: 10,
        malformed_percent: 10,
        ..Faults::default()
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    w.portal.set_faults(Faults::default());
    let drain = Instant::now();
    w.wait_for(
        "the portal queue drains",
        Duration::from_secs(240),
        async |w| w.queue().await == (0, 0),
    )
    .await;
    eprintln!(
        "{n} dossiers moved in {moving:?} with the portal down; queue drained {:?} after the faults stopped; portal: {:?}",
        drain.elapsed(),
        w.portal.summary()
    );
    let codes: Vec<String> = all.iter().map(|(_, c)| c.clone()).collect();
    assert_portal_matches(&w, &codes).await;
    let s = w.portal.summary();
    // (A dossier's later messages go as updates: "already exists" answers, for messages that
    // do not say so, are the adapter's own tests' business.)
    assert!(
        s.duplicates > 0 && s.injected > 0,
        "faults were exercised: {s:?}"
    );

    // Reconciliation: nothing unexplained, and the portal's own count equals our acknowledgements.
    let today = local_day(chrono::Utc::now());
    let remote = RemoteCounts::new(&w.portal.adapter_settings());
    let lines = reconcile(&w.store, &remote, today - chrono::Days::new(1), today)
        .await
        .unwrap();
    let sync = lines
        .iter()
        .find(|l| l.ours.topic == "dvcqg.sync" && l.ours.day == today)
        .expect("today's line");
    assert_eq!(
        sync.ours.created as usize,
        n * 3,
        "three portal messages per dossier"
    );
    assert_eq!(sync.ours.created_done, sync.ours.created);
    assert_eq!(sync.remote_accepted, Some(sync.ours.acked));
    assert!(sync.ours.failed > 0);
    assert!(lines.iter().all(|l| l.unexplained == 0), "{lines:?}");
    // The admin API shows the same day's figures.
    let (st, days) = w
        .as_user(
            "quantri",
            "GET",
            &format!("/api/v1/admin/outbox/days?from={today}&to={today}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let d = days
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["topic"] == "dvcqg.sync")
        .unwrap();
    assert_eq!(d["created"].as_u64(), Some(sync.ours.created));
    assert_eq!(d["acked"].as_u64(), Some(sync.ours.acked));
}

/// Refused messages become dead letters, hold back their dossier's later messages, are shown
/// to administrators only, and clear when retried through the admin API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_seen_retried_and_cleared_through_the_admin_api() {
    let w = World::start().await;
    let (procedure, centre) = w.procedure().await;
    let (_, specialist) = w.as_user("chuyenvien.stp", "GET", "/api/v1/me", None).await;
    w.portal.set_faults(Faults {
        reject_percent: 100,
        ..Faults::default()
    });
    let mut codes = Vec::new();
    for i in 0..3 {
        let (id, code) = w.submit_and_receive(&procedure, &centre, i).await;
        w.process(&id, &specialist).await;
        codes.push(code);
    }
    // Each dossier's first message dies; the later ones wait behind it.
    w.wait_for("three dead letters", Duration::from_secs(30), async |w| {
        w.queue().await == (6, 3)
    })
    .await;
    let (st, page) = w
        .as_user("quantri", "GET", "/api/v1/admin/outbox?status=dead", None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let dead = page["items"].as_array().unwrap().clone();
    assert_eq!(dead.len(), 3);
    assert!(
        dead.iter().all(|d| d["last_error"]
            .as_str()
            .unwrap()
            .contains("Mã TTHC không tồn tại")),
        "{dead:?}"
    );
    assert!(w.portal.codes().is_empty());

    // Only administrators see or touch the outbox; bad input gets precise problems.
    let id = dead[0]["id"].as_i64().unwrap();
    let paths = [
        ("GET", "/api/v1/admin/outbox".to_string()),
        ("GET", format!("/api/v1/admin/outbox/{id}")),
        ("POST", format!("/api/v1/admin/outbox/{id}/retry")),
        ("POST", "/api/v1/admin/outbox/retry-all".to_string()),
        ("GET", "/api/v1/admin/outbox/queues".to_string()),
        (
            "GET",
            "/api/v1/admin/outbox/days?from=2026-01-01&to=2026-01-02".to_string(),
        ),
    ];
    for (m, p) in &paths {
        let (st, _) = w.send(None, m, p, None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{m} {p}");
        for u in ["congdan", "motcua.tinh", "lanhdao.stp", "chuyenvien.stp"] {
            let (st, body) = w.as_user(u, m, p, None).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{u} {m} {p}: {body}");
        }
    }
    assert_eq!(w.queue().await, (6, 3), "refused requests changed nothing");
    for (m, p, want) in [
        ("GET", "/api/v1/admin/outbox/abc", StatusCode::BAD_REQUEST),
        (
            "GET",
            "/api/v1/admin/outbox/999999999",
            StatusCode::NOT_FOUND,
        ),
        (
            "POST",
            "/api/v1/admin/outbox/999999999/retry",
            StatusCode::NOT_FOUND,
        ),
        (
            "GET",
            "/api/v1/admin/outbox?status=lost",
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            "/api/v1/admin/outbox?limit=-1",
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            "/api/v1/admin/outbox/days?from=2026-13-01&to=2026-12-01",
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            "/api/v1/admin/outbox/days?from=2026-02-01&to=2026-01-01",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "GET",
            "/api/v1/admin/outbox/days?from=2020-01-01&to=2026-01-01",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "POST",
            "/api/v1/admin/outbox/retry-all?everything=1",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (st, body) = w.as_user("quantri", m, p, None).await;
        assert_eq!(st, want, "{m} {p}: {body}");
    }
    // A pending message is not a dead letter.
    let (_, pending) = w
        .as_user(
            "quantri",
            "GET",
            "/api/v1/admin/outbox?status=pending&topic=dvcqg.sync",
            None,
        )
        .await;
    let pid = pending["items"][0]["id"].as_i64().unwrap();
    let (st, body) = w
        .as_user(
            "quantri",
            "POST",
            &format!("/api/v1/admin/outbox/{pid}/retry"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{body}");

    // The portal is fixed; the operator retries one, then all.
    w.portal.set_faults(Faults::default());
    let (st, body) = w
        .as_user(
            "quantri",
            "POST",
            &format!("/api/v1/admin/outbox/{id}/retry"),
            None,
        )
        .await;
    assert_eq!((st, body["retried"].as_u64()), (StatusCode::OK, Some(1)));
    w.wait_for(
        "the retried dossier arrives",
        Duration::from_secs(30),
        async |w| w.portal.codes().len() == 1,
    )
    .await;
    let (st, body) = w
        .as_user(
            "quantri",
            "POST",
            "/api/v1/admin/outbox/retry-all?topic=dvcqg.sync",
            None,
        )
        .await;
    assert_eq!((st, body["retried"].as_u64()), (StatusCode::OK, Some(2)));
    w.wait_for("the queue clears", Duration::from_secs(30), async |w| {
        w.queue().await == (0, 0)
    })
    .await;
    assert_portal_matches(&w, &codes).await;
    let (_, dead) = w
        .as_user("quantri", "GET", "/api/v1/admin/outbox?status=dead", None)
        .await;
    assert!(dead["items"].as_array().unwrap().is_empty());
}

/// Two dispatchers (two nodes) share one queue: nothing is delivered twice, nothing out of
/// order. On PostgreSQL (`MOTCUA_TEST_SERVER_DB`) their claims race through
/// `FOR UPDATE SKIP LOCKED`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_the_queue_without_double_delivery() {
    // Both yielding to the requests: their limits and pauses change nothing of what arrives.
    let w = Arc::new(World::start_nodes_yielding(2, true).await);
    let codes = file_and_process(&w, 150, 16).await;
    assert_portal_matches(&w, &codes).await;
    let s = w.portal.summary();
    assert_eq!(s.duplicates, 0, "no message delivered twice: {s:?}");
    assert_eq!(s.steps, 450);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_idle_dispatcher_delivers_everything_once_in_order_no_faster_than_its_rate()
{
    // Decision 0041: deliveries paced to the target's rate, the dispatcher's threads in the
    // idle class, acknowledgements lingering to share transactions.
    const RATE: u32 = 20;
    let w = Arc::new(
        World::start_tuned(1, |s| {
            s.dvcqg_delivery.rate_per_sec = RATE;
            s.dispatcher.idle = true;
            s.dispatcher.ack_linger_ms = 40;
        })
        .await,
    );
    let started = Instant::now();
    let codes = file_and_process(&w, 25, 8).await;
    let took = started.elapsed();
    assert_portal_matches(&w, &codes).await;
    let s = w.portal.summary();
    assert_eq!(s.duplicates, 0, "no message delivered twice: {s:?}");
    assert_eq!(s.out_of_order, 0, "{s:?}");
    // Every message delivered, none faster than the rate allows (plus the first burst of a
    // tenth of a second's worth and the one that starts it).
    let delivered = w.sync_messages().await.len() as f64;
    assert!(delivered >= 50.0, "{delivered} messages");
    let most = RATE as f64 * took.as_secs_f64() + RATE as f64 / 10.0 + 1.0;
    assert!(
        delivered <= most,
        "{delivered} messages in {took:?}: faster than {RATE}/s"
    );
}

/// An operator holds the portal's deliveries (decision 0053): dossiers move, nothing reaches
/// the portal and no attempt is spent; released, everything arrives once, in order. Only
/// administrators hold or release, and bad holds are refused precisely.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_target_gets_nothing_until_released_then_everything_once_in_order() {
    let w = World::start().await;
    let path = "/api/v1/admin/outbox/holds/dvcqg.sync";
    let reason = json!({"reason": "Cổng DVCQG bảo trì 22:00-24:00"});
    for u in ["congdan", "motcua.tinh", "lanhdao.stp", "chuyenvien.stp"] {
        let (st, _) = w.as_user(u, "PUT", path, Some(reason.clone())).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{u}");
    }
    let (st, _) = w.send(None, "PUT", path, Some(reason.clone())).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    for (p, body, want) in [
        (
            "/api/v1/admin/outbox/holds/ftp",
            reason.clone(),
            StatusCode::NOT_FOUND,
        ),
        (
            path,
            json!({"reason": "   "}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            path,
            json!({"reason": "x".repeat(501)}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (path, json!({"why": "x"}), StatusCode::UNPROCESSABLE_ENTITY),
        (path, json!({"reason": 5}), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (st, v) = w.as_user("quantri", "PUT", p, Some(body.clone())).await;
        assert_eq!(st, want, "{p} {body}: {v}");
    }
    let res = w
        .http
        .put(format!("{}{path}", w.base))
        .bearer_auth(&w.tokens["quantri"])
        .header("content-type", "application/json")
        .body("{\"reason\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "malformed JSON");
    let (_, holds) = w
        .as_user("quantri", "GET", "/api/v1/admin/outbox/holds", None)
        .await;
    assert_eq!(holds, json!([]), "refusals held nothing");

    let (st, v) = w
        .as_user("quantri", "PUT", path, Some(reason.clone()))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["placed"], true);
    assert_eq!(v["hold"]["by"], "Quản trị hệ thống", "the operator's name");
    let (st, v) = w
        .as_user("quantri", "PUT", path, Some(json!({"reason": "lần hai"})))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["placed"], false, "held already");
    assert_eq!(v["hold"]["reason"], "Cổng DVCQG bảo trì 22:00-24:00");

    let (procedure, centre) = w.procedure().await;
    let (_, specialist) = w.as_user("chuyenvien.stp", "GET", "/api/v1/me", None).await;
    let mut codes = Vec::new();
    for i in 0..3 {
        let (id, code) = w.submit_and_receive(&procedure, &centre, i).await;
        w.process(&id, &specialist).await;
        codes.push(code);
    }
    // Many of the dispatcher's hold checks (every 20 ms) and polls later: nothing went.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(w.portal.codes().is_empty(), "{:?}", w.portal.codes());
    let waiting = w.sync_messages().await;
    assert!(
        waiting.len() >= 6,
        "several messages a dossier: {waiting:?}"
    );
    assert_eq!(w.queue().await, (waiting.len() as u64, 0), "all wait");
    assert!(
        waiting
            .iter()
            .all(|m| m["attempts"] == 0 && m["status"] == "pending"),
        "no attempt spent"
    );
    let (_, holds) = w
        .as_user("quantri", "GET", "/api/v1/admin/outbox/holds", None)
        .await;
    assert_eq!(holds[0]["topic"], "dvcqg.sync", "{holds}");

    // Released by someone else than an administrator: refused, still held.
    let (st, _) = w.as_user("lanhdao.stp", "DELETE", path, None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = w.as_user("quantri", "DELETE", path, None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["topic"], "dvcqg.sync");
    let (st, _) = w.as_user("quantri", "DELETE", path, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "not held any more");
    w.wait_for("the queue drains", Duration::from_secs(60), async |w| {
        w.queue().await == (0, 0)
    })
    .await;
    assert_portal_matches(&w, &codes).await;
    // Both changes are in the audit trail.
    let audit = w
        .store
        .audit_trail(&motcua_store::AuditQuery {
            dossier_id: None,
            user_id: None,
            before: None,
            limit: 500,
        })
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert!(actions.contains(&"outbox_hold"), "{actions:?}");
    assert!(actions.contains(&"outbox_release"), "{actions:?}");
}
