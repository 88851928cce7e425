//! A local EMC (`TrackingMCDT`): checks each call's required fields, keeps each idempotency key
//! once, counts accepted calls per local day for reconciliation, and injects failures (down:
//! 503; a percentage of HTTP 500). Under `/_sandbox/`: `GET state`, `GET stats?day=`,
//! `POST faults` (an [`EmcFaults`] JSON).

use crate::emc::EmcSettings;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Path of the protocol endpoint.
pub const PATH: &str = "/TrackingMCDT";

/// Failures to inject.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmcFaults {
    /// Answer 503 to every call.
    pub down: bool,
    /// Percentage of calls answered with HTTP 500 (nothing recorded).
    pub fail_5xx_percent: u8,
}

/// What EMC received.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EmcState {
    /// Calls accepted, in arrival order (each key once).
    pub calls: Vec<Value>,
    /// Calls answered (failures included).
    pub requests: u64,
    /// Calls repeating an accepted key.
    pub duplicates: u64,
    /// Calls refused by injected failures.
    pub injected: u64,
    /// Calls accepted per local day.
    pub by_day: BTreeMap<NaiveDate, u64>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<EmcState>,
    keys: Mutex<HashSet<String>>,
    faults: Mutex<EmcFaults>,
}

fn roll(percent: u8) -> bool {
    percent > 0 && rand::random::<u8>() % 100 < percent.min(100)
}

async fn track(State(s): State<Arc<Shared>>, h: HeaderMap, body: axum::body::Bytes) -> Response {
    let f = s.faults.lock().map(|f| f.clone()).unwrap_or_default();
    let Ok(mut st) = s.state.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    st.requests += 1;
    if f.down || roll(f.fail_5xx_percent) {
        st.injected += 1;
        let code = if f.down {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        return (code, "EMC unavailable").into_response();
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"status": 400, "message": "JSON"})),
        )
            .into_response();
    };
    let status_ok = v["Status"].as_u64().is_some_and(|s| s <= 4);
    let user_ok = v["User"]
        .as_str()
        .and_then(|u| serde_json::from_str::<Value>(u).ok())
        .is_some_and(|u| u.get("ID_local").is_some() && u.get("LOCATION").is_some());
    let has = |k: &str| v[k].as_str().is_some_and(|s| !s.is_empty());
    if !(has("CodeProfile") && has("SiteId") && has("CodeTTHC") && status_ok && user_ok) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"status": 400, "message": "CodeProfile, SiteId, CodeTTHC, Status 0-4 and User are required"})),
        )
            .into_response();
    }
    let key = h
        .get("idempotency-key")
        .and_then(|k| k.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let fresh = key.is_empty() || s.keys.lock().map(|mut k| k.insert(key)).unwrap_or(true);
    if fresh {
        let day = crate::reconcile::local_day(Utc::now());
        *st.by_day.entry(day).or_default() += 1;
        st.calls.push(v);
    } else {
        st.duplicates += 1;
    }
    Json(json!({"status": 200, "message": "OK"})).into_response()
}

async fn state(State(s): State<Arc<Shared>>) -> Json<EmcState> {
    Json(s.state.lock().map(|g| g.clone()).unwrap_or_default())
}

#[derive(Deserialize)]
struct DayParam {
    day: NaiveDate,
}

async fn stats(State(s): State<Arc<Shared>>, Query(q): Query<DayParam>) -> Json<Value> {
    let n = s
        .state
        .lock()
        .map(|g| g.by_day.get(&q.day).copied().unwrap_or(0))
        .unwrap_or(0);
    Json(json!({"day": q.day, "accepted": n}))
}

async fn set_faults(State(s): State<Arc<Shared>>, Json(f): Json<EmcFaults>) -> Json<EmcFaults> {
    if let Ok(mut cur) = s.faults.lock() {
        *cur = f.clone();
    }
    Json(f)
}

/// A running sandbox EMC.
pub struct EmcSandbox {
    server: super::Served,
    shared: Arc<Shared>,
}

impl EmcSandbox {
    /// Starts it on `addr` (port 0: any free port).
    pub async fn start(addr: SocketAddr) -> std::io::Result<EmcSandbox> {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route(PATH, post(track))
            .route("/_sandbox/state", get(state))
            .route("/_sandbox/stats", get(stats))
            .route("/_sandbox/faults", post(set_faults))
            .with_state(shared.clone());
        let server = super::Served::start(addr, app).await?;
        Ok(EmcSandbox { server, shared })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Settings that point the adapter (and reconciliation) at this sandbox.
    pub fn client_settings(&self, site_id: &str) -> EmcSettings {
        EmcSettings {
            url: format!("http://{}{PATH}", self.addr()),
            site_id: site_id.to_string(),
            stats_url: format!("http://{}/_sandbox/stats", self.addr()),
            ok_field: "status".into(),
            ..EmcSettings::default()
        }
    }

    /// Sets the failures to inject.
    pub fn set_faults(&self, f: EmcFaults) {
        if let Ok(mut cur) = self.shared.faults.lock() {
            *cur = f;
        }
    }

    /// What it received so far.
    pub fn state(&self) -> EmcState {
        self.shared
            .state
            .lock()
            .map(|g| g.clone())
            .unwrap_or_default()
    }

    /// Runs until the server stops.
    pub async fn wait(&mut self) {
        self.server.wait().await;
    }
}
