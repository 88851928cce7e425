//! A local Zalo ZNS endpoint speaking the protocol of [`crate::zalo`]: checks the access token
//! (a wrong one answers `error` -124), the phone number's form (-108) and that the template is
//! named; keeps what it received (a repeated `tracking_id` is kept once); numbers ending in
//! `0000` have no Zalo account (-118). Failures to inject: down (503), a percentage of HTTP
//! 500, a percentage of `error` -1 ("unknown error"). Control and inspection under
//! `/_sandbox/`: `GET messages`, `POST faults` (a [`ZaloFaults`] JSON), `POST expire` (every
//! issued access token expires at once).
//!
//! It also plays Zalo's OAuth server for OA tokens ([`OAUTH_PATH`], see [`crate::zalo_oauth`]):
//! the app id, the secret key header and a single-use refresh token are checked; each refresh
//! answers a new access token (valid for the lifetime set, 90,000 s by default) and the next
//! refresh token, and spends the one used. ZNS accepts the fixed token it was started with and
//! any issued access token that has not expired.

use crate::zalo::{TOKEN_HEADER, ZaloSettings, ZnsMessage};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Path of the protocol endpoint (as on Zalo's server).
pub const PATH: &str = "/message/template";

/// Path of the OAuth token endpoint (as on Zalo's server).
pub const OAUTH_PATH: &str = "/v4/oa/access_token";

/// The sandbox app's id.
pub const APP_ID: &str = "sandbox-app";

/// The sandbox app's secret key.
pub const SECRET_KEY: &str = "sandbox-secret";

/// The first refresh token the sandbox accepts.
pub const FIRST_REFRESH_TOKEN: &str = "sandbox-refresh-0";

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
    /// Access tokens issued by the OAuth endpoint.
    pub refreshes: u64,
    /// Refresh attempts refused (wrong secret, app or a spent refresh token).
    pub refused_refreshes: u64,
}

/// The OAuth side: the refresh token that works next and the access tokens issued.
struct OAuth {
    refresh: String,
    issued: HashMap<String, chrono::DateTime<chrono::Utc>>,
    lifetime_secs: i64,
}

struct Shared {
    token: String,
    state: Mutex<ZaloState>,
    faults: Mutex<ZaloFaults>,
    oauth: Mutex<OAuth>,
}

fn token_valid(s: &Shared, token: &str) -> bool {
    token == s.token
        || s.oauth
            .lock()
            .map(|o| {
                o.issued
                    .get(token)
                    .is_some_and(|exp| *exp > chrono::Utc::now())
            })
            .unwrap_or(false)
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
    if !token_valid(&s, token) {
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

async fn refresh(
    State(s): State<Arc<Shared>>,
    h: HeaderMap,
    axum::Form(form): axum::Form<BTreeMap<String, String>>,
) -> Response {
    let down = s.faults.lock().map(|f| f.down).unwrap_or(false);
    if down {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    let refuse = |why: &str| {
        if let Ok(mut st) = s.state.lock() {
            st.refused_refreshes += 1;
        }
        Json(serde_json::json!({"error": -14014, "error_name": "Invalid parameter", "error_description": why}))
            .into_response()
    };
    if h.get("secret_key").and_then(|v| v.to_str().ok()) != Some(SECRET_KEY) {
        return refuse("secret_key is invalid");
    }
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if get("app_id") != APP_ID || get("grant_type") != "refresh_token" {
        return refuse("app_id or grant_type is invalid");
    }
    let Ok(mut o) = s.oauth.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if get("refresh_token") != o.refresh {
        drop(o);
        return refuse("Invalid refresh token");
    }
    let n = s.state.lock().map(|mut st| {
        st.refreshes += 1;
        st.refreshes
    });
    let n = n.unwrap_or_default();
    let salt: u32 = rand::random();
    let access = format!("sandbox-access-{n}-{salt:08x}");
    o.refresh = format!("sandbox-refresh-{n}-{salt:08x}");
    let life = o.lifetime_secs;
    o.issued.insert(
        access.clone(),
        chrono::Utc::now() + chrono::Duration::seconds(life),
    );
    Json(serde_json::json!({
        "access_token": access,
        "refresh_token": o.refresh,
        "expires_in": life.to_string(),
    }))
    .into_response()
}

async fn expire(State(s): State<Arc<Shared>>) -> StatusCode {
    if let Ok(mut o) = s.oauth.lock() {
        o.issued.clear();
    }
    StatusCode::NO_CONTENT
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
            oauth: Mutex::new(OAuth {
                refresh: FIRST_REFRESH_TOKEN.into(),
                issued: HashMap::new(),
                lifetime_secs: 90_000,
            }),
        });
        let app = Router::new()
            .route(PATH, post(receive))
            .route(OAUTH_PATH, post(refresh))
            .route("/_sandbox/expire", post(expire))
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

    /// Settings that make the client refresh its access token here (no fixed token).
    pub fn refreshing_settings(&self) -> ZaloSettings {
        ZaloSettings {
            access_token: String::new(),
            app_id: APP_ID.into(),
            secret_key: SECRET_KEY.into(),
            refresh_token: FIRST_REFRESH_TOKEN.into(),
            oauth_url: format!("http://{}{OAUTH_PATH}", self.server.addr()),
            ..self.client_settings()
        }
    }

    /// How long issued access tokens live.
    pub fn set_token_lifetime(&self, secs: i64) {
        if let Ok(mut o) = self.shared.oauth.lock() {
            o.lifetime_secs = secs;
        }
    }

    /// Every issued access token expires now.
    pub fn expire_tokens(&self) {
        if let Ok(mut o) = self.shared.oauth.lock() {
            o.issued.clear();
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
