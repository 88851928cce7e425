//! A local SMS gateway speaking the protocol of [`crate::sms`]: checks the shared secret, keeps
//! what it received (a repeated `id` is kept once), and injects failures (down: 503; a
//! percentage of HTTP 500). Control and inspection under `/_sandbox/`: `GET messages`,
//! `POST faults` (a [`SmsFaults`] JSON).

use crate::sms::{SECRET_HEADER, Sms, SmsSettings};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Path of the protocol endpoint.
pub const PATH: &str = "/sms";

/// Failures to inject.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsFaults {
    /// Answer 503 to every message.
    pub down: bool,
    /// Percentage of messages answered with HTTP 500.
    pub fail_5xx_percent: u8,
}

struct Shared {
    secret: String,
    gateway: Mutex<SmsState>,
    faults: Mutex<SmsFaults>,
}

/// A running sandbox SMS gateway.
pub struct SmsSandbox {
    server: super::Served,
    shared: Arc<Shared>,
}

/// What the gateway received.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SmsState {
    /// Messages accepted, in arrival order (each id once).
    pub messages: Vec<Sms>,
    /// Protocol requests answered (failures included).
    pub requests: u64,
    /// Requests repeating an accepted id.
    pub duplicates: u64,
    /// Requests refused by injected failures.
    pub injected: u64,
}

fn roll(percent: u8) -> bool {
    percent > 0 && rand::random::<u8>() % 100 < percent.min(100)
}

async fn receive(State(s): State<Arc<Shared>>, h: HeaderMap, body: axum::body::Bytes) -> Response {
    let Ok(mut g) = s.gateway.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    g.requests += 1;
    let f = s.faults.lock().map(|f| f.clone()).unwrap_or_default();
    if f.down {
        g.injected += 1;
        return (StatusCode::SERVICE_UNAVAILABLE, "gateway down").into_response();
    }
    if roll(f.fail_5xx_percent) {
        g.injected += 1;
        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
    }
    let secret = h
        .get(SECRET_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if secret != s.secret {
        return (StatusCode::UNAUTHORIZED, "wrong shared secret").into_response();
    }
    let Ok(sms) = serde_json::from_slice::<Sms>(&body) else {
        return (StatusCode::BAD_REQUEST, "expected {to, text, id}").into_response();
    };
    if sms.to.trim().is_empty() || sms.text.is_empty() || sms.id.is_empty() {
        return (StatusCode::BAD_REQUEST, "to, text and id must not be empty").into_response();
    }
    if g.messages.iter().any(|m| m.id == sms.id) {
        g.duplicates += 1;
    } else {
        g.messages.push(sms);
    }
    (
        StatusCode::ACCEPTED,
        Json(serde_json::json!({"status": "accepted"})),
    )
        .into_response()
}

async fn messages(State(s): State<Arc<Shared>>) -> Json<SmsState> {
    Json(s.gateway.lock().map(|g| g.clone()).unwrap_or_default())
}

async fn set_faults(State(s): State<Arc<Shared>>, Json(f): Json<SmsFaults>) -> Json<SmsFaults> {
    if let Ok(mut cur) = s.faults.lock() {
        *cur = f.clone();
    }
    Json(f)
}

impl SmsSandbox {
    /// Starts a gateway on `addr` (port 0: any free port) accepting `secret`.
    pub async fn start(addr: SocketAddr, secret: &str) -> std::io::Result<SmsSandbox> {
        let shared = Arc::new(Shared {
            secret: secret.to_string(),
            gateway: Mutex::new(SmsState::default()),
            faults: Mutex::new(SmsFaults::default()),
        });
        let app = Router::new()
            .route(PATH, post(receive))
            .route("/_sandbox/messages", get(messages))
            .route("/_sandbox/faults", post(set_faults))
            .with_state(shared.clone());
        let server = super::Served::start(addr, app).await?;
        Ok(SmsSandbox { server, shared })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Settings that point the HTTP gateway client at this sandbox.
    pub fn client_settings(&self) -> SmsSettings {
        SmsSettings {
            url: format!("http://{}{PATH}", self.server.addr()),
            secret: self.shared.secret.clone(),
            request_timeout_ms: 5_000,
        }
    }

    /// Sets the failures to inject.
    pub fn set_faults(&self, f: SmsFaults) {
        if let Ok(mut cur) = self.shared.faults.lock() {
            *cur = f;
        }
    }

    /// What it received so far.
    pub fn state(&self) -> SmsState {
        self.shared
            .gateway
            .lock()
            .map(|g| g.clone())
            .unwrap_or_default()
    }

    /// Runs until the server stops.
    pub async fn wait(&mut self) {
        self.server.wait().await;
    }
}
