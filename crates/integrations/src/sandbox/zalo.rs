//! A local Zalo ZNS endpoint speaking the protocol of [`crate::zalo`]: checks the access token
//! (a wrong one answers `error` -124), the phone number's form (-108) and that the template is
//! named; keeps what it received (a repeated `tracking_id` is kept once); numbers ending in
//! `0000` have no Zalo account (-118). Failures to inject: down (503), a percentage of HTTP
//! 500, a percentage of `error` -1 ("unknown error"). Control and inspection under
//! `/_sandbox/`: `GET messages`, `POST faults` (a [`ZaloFaults`] JSON).

use crate::zalo::{TOKEN_HEADER, ZaloSettings, ZnsMessage};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Path of the protocol endpoint (as on Zalo's server).
pub const PATH: &str = "/message/template";

/// Failures to inject.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ZaloFaults {
    /// Answer 503 to every request.
    pub down: bool,
    /// Percentage of requests answered with HTTP 500.
    pub fail_5xx_percent: u8,
    /// Percentage of requests answered with `error` -1 ("unknown error").
    pub unknown_error_percent: u8,
}

/// What the endpoint received.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ZaloState {
    /// Messages accepted, in arrival order (each tracking id once).
    pub messages: Vec<ZnsMessage>,
    /// Protocol requests answered (failures included).
    pub requests: u64,
    /// Requests repeating an accepted tracking id.
    pub duplicates: u64,
    /// Requests refused by injected failures.
    pub injected: u64,
}

struct Shared {
    token: String,
    state: Mutex<ZaloState>,
    faults: Mutex<ZaloFaults>,
}

/// A running sandbox ZNS endpoint.
pub struct ZaloSandbox {
    server: super::Served,
    shared: Arc<Shared>,
}

fn roll(percent: u8) -> bool {
    percent > 0 && rand::random::<u8>() % 100 < percent.min(100)
}

fn answer(error: i64, message: &str) -> Response {
    Json(serde_json::json!({"error": error, "message": message})).into_response()
}

async fn receive(State(s): State<Arc<Shared>>, h: HeaderMap, body: axum::body::Bytes) -> Response {
    let Ok(mut st) = s.state.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    st.requests += 1;
    let f = s.faults.lock().map(|f| f.clone()).unwrap_or_default();
    if f.down {
        st.injected += 1;
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    if roll(f.fail_5xx_percent) {
        st.injected += 1;
        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
    }
    if roll(f.unknown_error_percent) {
        st.injected += 1;
        return answer(-1, "Unknown error");
    }
    let token = h
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if token != s.token {
        return answer(-124, "Access token is invalid");
    }
    let Ok(m) = serde_json::from_slice::<ZnsMessage>(&body) else {
        return answer(-100, "Request body invalid");
    };
    if m.phone.len() != 11
        || !m.phone.starts_with("84")
        || !m.phone.bytes().all(|b| b.is_ascii_digit())
    {
        return answer(-108, "Phone number invalid");
    }
    if m.template_id.trim().is_empty() {
        return answer(-109, "Template ID invalid");
    }
    if m.phone.ends_with("0000") {
        return answer(-118, "Zalo account not existed");
    }
    if st.messages.iter().any(|x| x.tracking_id == m.tracking_id) {
        st.duplicates += 1;
    } else {
        st.messages.push(m);
    }
    let n = st.messages.len();
    Json(serde_json::json!({
        "error": 0,
        "message": "Success",
        "data": {"msg_id": format!("sandbox-{n}"), "sent_time": chrono::Utc::now().timestamp_millis().to_string()},
    }))
    .into_response()
}

async fn messages(State(s): State<Arc<Shared>>) -> Json<ZaloState> {
    Json(s.state.lock().map(|g| g.clone()).unwrap_or_default())
}

async fn set_faults(State(s): State<Arc<Shared>>, Json(f): Json<ZaloFaults>) -> Json<ZaloFaults> {
    if let Ok(mut cur) = s.faults.lock() {
        *cur = f.clone();
    }
    Json(f)
}

impl ZaloSandbox {
    /// Starts an endpoint on `addr` (port 0: any free port) accepting `token`.
    pub async fn start(addr: SocketAddr, token: &str) -> std::io::Result<ZaloSandbox> {
        let shared = Arc::new(Shared {
            token: token.to_string(),
            state: Mutex::new(ZaloState::default()),
            faults: Mutex::new(ZaloFaults::default()),
        });
        let app = Router::new()
            .route(PATH, post(receive))
            .route("/_sandbox/messages", get(messages))
            .route("/_sandbox/faults", post(set_faults))
            .with_state(shared.clone());
        let server = super::Served::start(addr, app).await?;
        Ok(ZaloSandbox { server, shared })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Settings that point the ZNS client at this sandbox (no templates: add them).
    pub fn client_settings(&self) -> ZaloSettings {
        ZaloSettings {
            url: format!("http://{}{PATH}", self.server.addr()),
            access_token: self.shared.token.clone(),
            request_timeout_ms: 5_000,
            ..ZaloSettings::default()
        }
    }

    /// Sets the failures to inject.
    pub fn set_faults(&self, f: ZaloFaults) {
        if let Ok(mut cur) = self.shared.faults.lock() {
            *cur = f;
        }
    }

    /// What it received so far.
    pub fn state(&self) -> ZaloState {
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
