//! A local national portal: speaks the dossier-sync protocol of [`crate::dvcqg`] (create,
//! update, process steps; `{error_code, message}` answers; "đã tồn tại" for a dossier it
//! already has) and keeps what it received, so tests and demos can check that every dossier and
//! step arrived exactly once and in order. Failure injection: down (listener closed), slow,
//! HTTP 5xx, malformed answers, refusals; duplicates are recognised by their idempotency key.
//!
//! Control and inspection (not part of the portal's protocol), under `/_sandbox/`:
//! `GET state` (summary), `GET dossiers/{MaHoSo}`, `GET stats?day=YYYY-MM-DD`,
//! `POST faults` (a [`Faults`] JSON; `down` there answers 503 on the protocol endpoints).
//!
//! Its inbound side (online dossiers filed here for motcua to pull: list, files,
//! acknowledgement, a filing page) is [`super::inbound`]; a dossier motcua took is updated by
//! the sync under the portal's own code, and a create for it counts as `recreated`.

use super::inbound::{self, Filed, Inbound, InboundFaults};
use crate::dvcqg::DvcqgSettings;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// Failures to inject.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Answer 503 to every protocol request.
    pub down: bool,
    /// Wait this long before answering, in milliseconds.
    pub slow_ms: u64,
    /// Percentage of requests answered with HTTP 500 (before doing anything).
    pub fail_5xx_percent: u8,
    /// Percentage of requests answered with a body that is not the protocol's JSON (after
    /// doing the work: the sender cannot know it succeeded).
    pub malformed_percent: u8,
    /// Percentage of requests refused as invalid (`error_code` -1, "Mã TTHC không tồn tại"):
    /// the sender cannot fix that by trying again, so its message becomes a dead letter.
    pub reject_percent: u8,
}

/// One dossier as the portal has it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PortalDossier {
    /// The latest dossier payload.
    pub payload: Value,
    /// Idempotency keys of the dossier messages applied, in arrival order.
    pub keys: Vec<String>,
    /// Process steps, in arrival order.
    pub steps: Vec<Value>,
}

/// A summary of what the portal received.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Protocol requests answered.
    pub requests: u64,
    /// Dossiers held.
    pub dossiers: u64,
    /// Steps held.
    pub steps: u64,
    /// Dossiers and steps whose idempotency key was already applied (answered success, not
    /// applied again).
    pub duplicates: u64,
    /// Dossier messages that arrived after a later version of the same dossier.
    pub out_of_order: u64,
    /// Creates answered "already exists".
    pub exists_answers: u64,
    /// Requests refused by injected failures.
    pub injected: u64,
    /// Creates of a dossier filed here and taken by motcua (it must only be updated).
    #[serde(default)]
    pub recreated: u64,
}

#[derive(Default)]
pub(crate) struct Portal {
    dossiers: BTreeMap<String, PortalDossier>,
    applied: HashSet<String>,
    accepted_by_day: BTreeMap<NaiveDate, u64>,
    summary: Summary,
    pub(crate) inbound: Inbound,
}

pub(crate) struct Shared {
    pub(crate) portal: Mutex<Portal>,
    faults: Mutex<Faults>,
    /// Listener closed (the in-process "down").
    closed: std::sync::atomic::AtomicBool,
    /// `http://host:port`, for the download URLs of filed dossiers.
    pub(crate) base: String,
}

/// A running sandbox portal.
pub struct SandboxHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: Mutex<Option<JoinHandle<()>>>,
    settings: DvcqgSettings,
    paths: InboundPaths,
}

/// Version number at the end of a key `{code}:{version}`.
fn version_of(key: &str) -> Option<u64> {
    key.rsplit_once(':')?.1.parse().ok()
}

fn answer(code: &str, message: &str) -> Response {
    Json(json!({"error_code": code, "message": message})).into_response()
}

fn roll(percent: u8) -> bool {
    percent > 0 && rand::random::<u8>() % 100 < percent.min(100)
}

/// What to do before handling a protocol request: an injected failure, or go on.
pub(crate) async fn inject(shared: &Shared) -> Option<Response> {
    let f = shared.faults.lock().map(|f| f.clone()).unwrap_or_default();
    if f.slow_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(f.slow_ms)).await;
    }
    let closed = shared.closed.load(std::sync::atomic::Ordering::SeqCst);
    let refused = if f.down || closed {
        Some(
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONNECTION, "close")],
                "portal down",
            )
                .into_response(),
        )
    } else if roll(f.fail_5xx_percent) {
        Some((StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response())
    } else if roll(f.reject_percent) {
        Some(answer("-1", "Mã TTHC không tồn tại trên Cổng DVCQG"))
    } else {
        None
    };
    if refused.is_some()
        && let Ok(mut p) = shared.portal.lock()
    {
        p.summary.injected += 1;
    }
    refused
}

/// A successful answer, or a malformed one if so injected (the work is done either way).
fn done(shared: &Shared) -> Response {
    let malformed = shared
        .faults
        .lock()
        .map(|f| roll(f.malformed_percent))
        .unwrap_or(false);
    if malformed {
        if let Ok(mut p) = shared.portal.lock() {
            p.summary.injected += 1;
        }
        return (StatusCode::OK, "<html>Gateway maintenance</html>").into_response();
    }
    answer("0", "Thành công")
}

/// The idempotency keys of a request's items: one `Idempotency-Key` header, comma-separated,
/// in the order of the items; empty when there is none. `Err` (the refusal's message) when
/// there is a header but not one key per item.
fn keys_of(h: &HeaderMap, items: usize) -> Result<Vec<String>, String> {
    let Some(v) = h.get("idempotency-key").and_then(|v| v.to_str().ok()) else {
        return Ok(Vec::new());
    };
    let keys: Vec<String> = v
        .split(',')
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
        .collect();
    if keys.is_empty() || keys.len() == items {
        Ok(keys)
    } else {
        Err(format!(
            "Idempotency-Key: cần một khóa cho mỗi mục ({} khóa, {items} mục)",
            keys.len()
        ))
    }
}

/// The dossiers of a create or update: each with its code.
fn dossiers_of(body: &Value) -> Option<Vec<(&str, &Value)>> {
    let list = body.as_array().filter(|l| !l.is_empty())?;
    list.iter()
        .map(|d| Some((d["MaHoSo"].as_str().filter(|c| !c.is_empty())?, d)))
        .collect()
}

async fn create(State(s): State<Arc<Shared>>, h: HeaderMap, Json(body): Json<Value>) -> Response {
    upsert(s, h, body, false).await
}

async fn update(State(s): State<Arc<Shared>>, h: HeaderMap, Json(body): Json<Value>) -> Response {
    upsert(s, h, body, true).await
}

/// A create or an update of a list of dossiers: all of it is applied, or none (one existing
/// dossier in a create, one unknown in an update, refuses the whole list).
async fn upsert(s: Arc<Shared>, h: HeaderMap, body: Value, update: bool) -> Response {
    if let Some(r) = inject(&s).await {
        return r;
    }
    let Some(list) = dossiers_of(&body) else {
        return answer("-1", "Dữ liệu không hợp lệ: cần danh sách hồ sơ có MaHoSo");
    };
    if list
        .iter()
        .any(|(_, d)| !(1..=10).contains(&d["TrangThaiHoSo"].as_u64().unwrap_or(0)))
    {
        return answer("-1", "TrangThaiHoSo không hợp lệ");
    }
    let keys = match keys_of(&h, list.len()) {
        Ok(k) => k,
        Err(message) => return answer("-1", &message),
    };
    {
        let Ok(mut p) = s.portal.lock() else {
            return (StatusCode::INTERNAL_SERVER_ERROR, "poisoned").into_response();
        };
        let p = &mut *p;
        p.summary.requests += 1;
        // Items whose key was applied already are answered as done, not applied again.
        let fresh: Vec<(usize, &str, &Value)> = list
            .iter()
            .enumerate()
            .filter(|(i, _)| keys.get(*i).is_none_or(|k| !p.applied.contains(k)))
            .map(|(i, (c, d))| (i, *c, *d))
            .collect();
        p.summary.duplicates += (list.len() - fresh.len()) as u64;
        let mut exists = false;
        let mut missing = false;
        for (_, code, _) in &fresh {
            let filed_here = p.inbound.taken_code(code);
            if !update && filed_here {
                p.summary.recreated += 1;
            }
            let known = p.dossiers.contains_key(*code) || filed_here;
            exists |= !update && known;
            missing |= update && !known;
        }
        if exists {
            p.summary.exists_answers += 1;
            return answer("-1", "Hồ sơ đã tồn tại trên hệ thống");
        }
        if missing {
            return answer("-1", "Không tìm thấy hồ sơ");
        }
        let day = crate::reconcile::local_day(Utc::now());
        for (i, code, d) in fresh {
            let key = keys.get(i).cloned().unwrap_or_default();
            let entry = p.dossiers.entry(code.to_string()).or_default();
            let last = entry.keys.last().and_then(|k| version_of(k));
            let late = matches!((last, version_of(&key)), (Some(l), Some(v)) if v < l);
            entry.payload = d.clone();
            entry.keys.push(key.clone());
            if late {
                p.summary.out_of_order += 1;
            }
            if !key.is_empty() {
                p.applied.insert(key);
            }
            *p.accepted_by_day.entry(day).or_default() += 1;
        }
        p.summary.dossiers = p.dossiers.len() as u64;
    }
    done(&s)
}

/// Process steps of one or several dossiers: all applied, or none (a step of a dossier the
/// portal does not have refuses the whole list).
async fn steps(State(s): State<Arc<Shared>>, h: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Some(r) = inject(&s).await {
        return r;
    }
    let Some(list) = body.as_array() else {
        return answer("-1", "Dữ liệu không hợp lệ: cần danh sách quá trình xử lý");
    };
    for st in list {
        let dated = |f: &str| st[f].as_str().is_some_and(|v| v.len() == 14);
        if !dated("ThoiDiemXuLy") || !dated("NgayKetThucTheoQuyDinh") {
            return answer("-1", "Thiếu ngày xử lý (yyyyMMddHHmmss) bắt buộc");
        }
    }
    let keys = match keys_of(&h, list.len()) {
        Ok(k) => k,
        Err(message) => return answer("-1", &message),
    };
    {
        let Ok(mut p) = s.portal.lock() else {
            return (StatusCode::INTERNAL_SERVER_ERROR, "poisoned").into_response();
        };
        let p = &mut *p;
        p.summary.requests += 1;
        let fresh: Vec<(usize, &Value)> = list
            .iter()
            .enumerate()
            .filter(|(i, _)| keys.get(*i).is_none_or(|k| !p.applied.contains(k)))
            .collect();
        p.summary.duplicates += (list.len() - fresh.len()) as u64;
        let code = |st: &Value| st["MaHoSo"].as_str().unwrap_or_default().to_string();
        if fresh
            .iter()
            .any(|(_, st)| !p.dossiers.contains_key(&code(st)))
        {
            return answer("-1", "Không tìm thấy hồ sơ của quá trình xử lý");
        }
        for (i, st) in fresh {
            if let Some(d) = p.dossiers.get_mut(&code(st)) {
                d.steps.push(st.clone());
                p.summary.steps += 1;
            }
            if let Some(k) = keys.get(i) {
                p.applied.insert(k.clone());
            }
        }
    }
    done(&s)
}

async fn state(State(s): State<Arc<Shared>>) -> Json<Summary> {
    Json(
        s.portal
            .lock()
            .map(|p| p.summary.clone())
            .unwrap_or_default(),
    )
}

async fn dossier(State(s): State<Arc<Shared>>, Path(code): Path<String>) -> Response {
    match s
        .portal
        .lock()
        .ok()
        .and_then(|p| p.dossiers.get(&code).cloned())
    {
        Some(d) => Json(d).into_response(),
        None => (StatusCode::NOT_FOUND, "no such dossier").into_response(),
    }
}

#[derive(Deserialize)]
struct DayParam {
    day: NaiveDate,
}

async fn stats(State(s): State<Arc<Shared>>, Query(q): Query<DayParam>) -> Json<Value> {
    let n = s
        .portal
        .lock()
        .map(|p| p.accepted_by_day.get(&q.day).copied().unwrap_or(0))
        .unwrap_or(0);
    Json(json!({"day": q.day, "accepted": n}))
}

async fn set_faults(State(s): State<Arc<Shared>>, Json(f): Json<Faults>) -> Json<Faults> {
    if let Ok(mut cur) = s.faults.lock() {
        *cur = f.clone();
    }
    Json(f)
}

/// Paths of the inbound protocol (the intake's settings; these are their defaults).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundPaths {
    /// The list call.
    pub list: String,
    /// The acknowledgement call.
    pub ack: String,
}

impl Default for InboundPaths {
    fn default() -> Self {
        InboundPaths {
            list: "/HoSo/LayDanhSachHoSo".into(),
            ack: "/HoSo/CapNhatDaNhanHoSo".into(),
        }
    }
}

fn router(shared: Arc<Shared>, settings: &DvcqgSettings, settings_paths: &InboundPaths) -> Router {
    Router::new()
        .route(&settings.create_path, post(create))
        .route(&settings.update_path, post(update))
        .route(&settings.steps_path, post(steps))
        .route("/_sandbox/state", get(state))
        .route("/_sandbox/dossiers/{code}", get(dossier))
        .route("/_sandbox/stats", get(stats))
        .route("/_sandbox/faults", post(set_faults))
        .route(&settings_paths.list, post(inbound::list))
        .route(&settings_paths.ack, post(inbound::ack))
        .route("/_sandbox/tep/{id}", get(inbound::file))
        .route(
            "/_sandbox/inbound",
            get(inbound::state).post(inbound::file_json),
        )
        .route("/_sandbox/inbound/faults", post(inbound::set_faults))
        .route(
            "/_sandbox/nop-ho-so",
            get(inbound::page).post(inbound::file_form),
        )
        .with_state(shared)
}

impl SandboxHandle {
    /// Starts a sandbox portal on `addr` (port 0: any free port) with the endpoint paths of
    /// `settings` (its `base_url` is ignored).
    pub async fn start(
        addr: SocketAddr,
        settings: DvcqgSettings,
    ) -> std::io::Result<SandboxHandle> {
        SandboxHandle::start_with(addr, settings, InboundPaths::default()).await
    }

    /// Like [`SandboxHandle::start`], with the inbound side's paths.
    pub async fn start_with(
        addr: SocketAddr,
        settings: DvcqgSettings,
        paths: InboundPaths,
    ) -> std::io::Result<SandboxHandle> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            portal: Mutex::new(Portal::default()),
            faults: Mutex::new(Faults::default()),
            closed: std::sync::atomic::AtomicBool::new(false),
            base: format!("http://{addr}"),
        });
        let h = SandboxHandle {
            addr,
            shared,
            server: Mutex::new(None),
            settings,
            paths,
        };
        h.serve(listener);
        Ok(h)
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let app = router(self.shared.clone(), &self.settings, &self.paths);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        if let Ok(mut s) = self.server.lock() {
            *s = Some(task);
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Settings for an adapter that talks to this sandbox.
    pub fn adapter_settings(&self) -> DvcqgSettings {
        DvcqgSettings {
            base_url: format!("http://{}", self.addr),
            stats_url: format!("http://{}/_sandbox/stats", self.addr),
            ..self.settings.clone()
        }
    }

    /// Takes the portal down (closes the listener: connections are refused; requests on
    /// connections already open get 503) or brings it back on the same address.
    pub async fn set_down(&self, down: bool) -> std::io::Result<()> {
        use std::sync::atomic::Ordering;
        if down {
            self.shared.closed.store(true, Ordering::SeqCst);
            if let Some(t) = self.server.lock().ok().and_then(|mut s| s.take()) {
                t.abort();
                let _ = t.await;
            }
        } else if self.shared.closed.load(Ordering::SeqCst) {
            let listener = tokio::net::TcpListener::bind(self.addr).await?;
            self.serve(listener);
            self.shared.closed.store(false, Ordering::SeqCst);
        }
        Ok(())
    }

    /// Sets the injected failures.
    pub fn set_faults(&self, f: Faults) {
        if let Ok(mut cur) = self.shared.faults.lock() {
            *cur = f;
        }
    }

    /// What it received so far.
    pub fn summary(&self) -> Summary {
        self.shared
            .portal
            .lock()
            .map(|p| p.summary.clone())
            .unwrap_or_default()
    }

    /// One dossier as the portal has it.
    pub fn dossier(&self, code: &str) -> Option<PortalDossier> {
        self.shared
            .portal
            .lock()
            .ok()
            .and_then(|p| p.dossiers.get(code).cloned())
    }

    /// Every dossier code it holds.
    pub fn codes(&self) -> Vec<String> {
        self.shared
            .portal
            .lock()
            .map(|p| p.dossiers.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Dossier messages accepted on a local day.
    pub fn accepted_on(&self, day: NaiveDate) -> u64 {
        self.shared
            .portal
            .lock()
            .map(|p| p.accepted_by_day.get(&day).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Files an online dossier on the portal for motcua to pull (see [`super::inbound`]):
    /// `files` are (component, file name, bytes). Returns its `HoSoId`.
    pub fn file_inbound(
        &self,
        payload: Value,
        files: Vec<(String, String, bytes::Bytes)>,
    ) -> String {
        let base = self.shared.base.clone();
        self.shared
            .portal
            .lock()
            .map(|mut p| p.inbound.file(&base, payload, files))
            .unwrap_or_default()
    }

    /// A dossier filed on the portal, with the acknowledgements it received.
    pub fn inbound(&self, id: &str) -> Option<Filed> {
        self.shared
            .portal
            .lock()
            .ok()
            .and_then(|p| p.inbound.dossiers.get(id).cloned())
    }

    /// Sets the inbound side's failures.
    pub fn set_inbound_faults(&self, f: InboundFaults) {
        if let Ok(mut p) = self.shared.portal.lock() {
            p.inbound.faults = f;
        }
    }

    /// Calls answered by the inbound side: (lists, acknowledgements, downloads).
    pub fn inbound_calls(&self) -> (u64, u64, u64) {
        self.shared
            .portal
            .lock()
            .map(|p| (p.inbound.lists, p.inbound.acks, p.inbound.downloads))
            .unwrap_or_default()
    }

    /// Runs until the server stops (the `motcua sandbox` command).
    pub async fn wait(&self) {
        let task = self.server.lock().ok().and_then(|mut s| s.take());
        if let Some(t) = task {
            let _ = t.await;
        }
    }
}
