//! A local VNPost/LGSP order endpoint speaking the protocol of [`crate::vnpost`]: checks the
//! body's signature (HMAC-SHA256 with the shared secret), the customer code and the receiver's
//! and sender's phone and address (`Status` "400" when missing); answers `RespondLGSP`; issues
//! an item code per new order (a repeated `OrderNumber` answers "Đơn hàng đã tồn tại", kept
//! once). It then walks each order through the post's statuses (registered, collected, in
//! transit, delivering, delivered), calling our status callback (signed, retried while it
//! fails). Failures to inject: down (503), slow answers, a percentage of HTTP 500, of malformed
//! answers, of "already exists" answers for new orders (the order is kept: a lost answer),
//! duplicate callbacks and out-of-order callbacks. Control and inspection under `/_sandbox/`:
//! `GET orders`, `POST faults` (a [`VnpostFaults`] JSON).

use crate::vnpost::{VnpostOrder, VnpostSettings};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use motcua_domain::dossier::postal::hmac_sha256_hex;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Failures to inject (and the pace of the walk).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VnpostFaults {
    /// Answer 503 to every order.
    pub down: bool,
    /// Wait this long before answering, in milliseconds.
    pub slow_ms: u64,
    /// Percentage of orders answered with HTTP 500.
    pub fail_5xx_percent: u8,
    /// Percentage of orders answered with something that is not RespondLGSP.
    pub malformed_percent: u8,
    /// Percentage of new orders answered "already exists" (the order is kept).
    pub exists_percent: u8,
    /// Send every status callback twice.
    pub duplicate_callbacks: bool,
    /// Send each pair of consecutive statuses in the wrong order (their times stay true).
    pub out_of_order: bool,
    /// Pause between two statuses of an order, in milliseconds.
    pub step_ms: u64,
    /// Do not walk orders through statuses (orders stay registered).
    pub no_walk: bool,
}

impl Default for VnpostFaults {
    fn default() -> Self {
        VnpostFaults {
            down: false,
            slow_ms: 0,
            fail_5xx_percent: 0,
            malformed_percent: 0,
            exists_percent: 0,
            duplicate_callbacks: false,
            out_of_order: false,
            step_ms: 200,
            no_walk: false,
        }
    }
}

/// An order the sandbox accepted.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Accepted {
    /// The order as received.
    pub order: VnpostOrder,
    /// The item code issued.
    pub item_code: String,
}

/// One status callback made.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Callback {
    /// Order number.
    pub order_number: String,
    /// Status sent.
    pub status: String,
    /// HTTP status of our answer (0: unreachable).
    pub answer: u16,
}

/// What the endpoint received and did.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct VnpostState {
    /// Orders accepted, in arrival order (each order number once).
    pub orders: Vec<Accepted>,
    /// Order requests answered (failures included).
    pub requests: u64,
    /// Requests repeating an accepted order number.
    pub duplicates: u64,
    /// Requests refused by injected failures.
    pub injected: u64,
    /// Status callbacks made, in order (retries included).
    pub callbacks: Vec<Callback>,
}

struct Shared {
    settings: VnpostSettings,
    callback: Option<String>,
    state: Mutex<VnpostState>,
    faults: Mutex<VnpostFaults>,
    http: reqwest::Client,
}

/// A running sandbox post.
pub struct VnpostSandbox {
    server: super::Served,
    shared: Arc<Shared>,
}

fn roll(percent: u8) -> bool {
    percent > 0 && rand::random::<u8>() % 100 < percent.min(100)
}

fn answer(status: &str, message: &str) -> Response {
    Json(serde_json::json!({"Status": status, "Message": message})).into_response()
}

/// The statuses an order walks through.
pub const WALK: [&str; 5] = [
    "registered",
    "collected",
    "in_transit",
    "delivering",
    "delivered",
];

async fn receive(State(s): State<Arc<Shared>>, h: HeaderMap, body: axum::body::Bytes) -> Response {
    let f = s.faults.lock().map(|f| f.clone()).unwrap_or_default();
    if f.slow_ms > 0 {
        tokio::time::sleep(Duration::from_millis(f.slow_ms)).await;
    }
    let (outcome, walk) = {
        let Ok(mut st) = s.state.lock() else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        st.requests += 1;
        if f.down {
            st.injected += 1;
            return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
        }
        if roll(f.fail_5xx_percent) {
            st.injected += 1;
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
        if roll(f.malformed_percent) {
            st.injected += 1;
            return (StatusCode::OK, "<html>Gateway</html>").into_response();
        }
        let sig = h
            .get(s.settings.signature_header.as_str())
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if sig != hmac_sha256_hex(s.settings.secret.as_bytes(), &body) {
            return answer("401", "Sai chữ ký (invalid signature)");
        }
        let Ok(o) = serde_json::from_slice::<VnpostOrder>(&body) else {
            return answer("400", "Dữ liệu không hợp lệ");
        };
        if o.customer_code != s.settings.customer_code {
            return answer("403", "Mã khách hàng không đúng");
        }
        for (field, v) in [
            ("OrderNumber", &o.order_number),
            ("SenderTel", &o.sender_tel),
            ("SenderAddress", &o.sender_address),
            ("SenderProvince", &o.sender_province),
            ("ReceiverTel", &o.receiver_tel),
            ("ReceiverAddress", &o.receiver_address),
            ("ReceiverProvince", &o.receiver_province),
            ("ReceiverName", &o.receiver_name),
        ] {
            if v.trim().is_empty() {
                return answer("400", &format!("Thiếu {field}"));
            }
        }
        if st
            .orders
            .iter()
            .any(|a| a.order.order_number == o.order_number)
        {
            st.duplicates += 1;
            (answer("409", "Đơn hàng đã tồn tại"), None)
        } else {
            let item_code = format!("EN{:09}VN", 100_000_000 + st.orders.len() + 1);
            st.orders.push(Accepted {
                order: o.clone(),
                item_code: item_code.clone(),
            });
            let reply = if roll(f.exists_percent) {
                st.injected += 1;
                answer("409", "Đơn hàng đã tồn tại")
            } else {
                Json(serde_json::json!({"Status": "200", "Message": "Thành công", "ItemCode": item_code}))
                    .into_response()
            };
            (reply, Some((o.order_number, item_code)))
        }
    };
    if let (Some((number, item)), Some(url)) = (walk, s.callback.clone())
        && !f.no_walk
    {
        tokio::spawn(walk_order(s.clone(), url, number, item, f));
    }
    outcome
}

/// Vietnam local time as `yyyyMMddHHmmss`.
fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    (t + chrono::Duration::hours(7))
        .format("%Y%m%d%H%M%S")
        .to_string()
}

async fn walk_order(s: Arc<Shared>, url: String, number: String, item: String, f: VnpostFaults) {
    let start = chrono::Utc::now();
    let mut steps: Vec<(String, String)> = WALK
        .iter()
        .enumerate()
        .map(|(i, st)| {
            (
                st.to_string(),
                stamp(start + chrono::Duration::seconds(i as i64)),
            )
        })
        .collect();
    if f.out_of_order {
        for pair in steps.chunks_mut(2) {
            pair.reverse();
        }
    }
    for (status, at) in steps {
        tokio::time::sleep(Duration::from_millis(f.step_ms)).await;
        let body = serde_json::json!({
            "OrderNumber": number, "ItemCode": item, "Status": status,
            "StatusTime": at, "Note": format!("Bưu cục sandbox: {status}"),
        });
        let times = if f.duplicate_callbacks { 2 } else { 1 };
        for _ in 0..times {
            send(&s, &url, &number, &status, &body).await;
        }
    }
}

/// Sends one callback, retried a few times while it fails.
async fn send(s: &Shared, url: &str, number: &str, status: &str, body: &serde_json::Value) {
    let bytes = body.to_string().into_bytes();
    let sig = hmac_sha256_hex(s.settings.secret.as_bytes(), &bytes);
    for attempt in 0..6u64 {
        let code = match s
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(s.settings.signature_header.as_str(), &sig)
            .body(bytes.clone())
            .send()
            .await
        {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        };
        if let Ok(mut st) = s.state.lock() {
            st.callbacks.push(Callback {
                order_number: number.into(),
                status: status.into(),
                answer: code,
            });
        }
        if (200..300).contains(&code) || ((400..500).contains(&code) && code != 408 && code != 429)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(300 * (attempt + 1))).await;
    }
}

async fn orders(State(s): State<Arc<Shared>>) -> Json<VnpostState> {
    Json(s.state.lock().map(|g| g.clone()).unwrap_or_default())
}

async fn set_faults(
    State(s): State<Arc<Shared>>,
    Json(f): Json<VnpostFaults>,
) -> Json<VnpostFaults> {
    if let Ok(mut cur) = s.faults.lock() {
        *cur = f.clone();
    }
    Json(f)
}

impl VnpostSandbox {
    /// Starts a post on `addr` (port 0: any free port) sharing `secret`, walking orders
    /// through statuses by calling `callback` (our status endpoint) when given.
    pub async fn start(
        addr: SocketAddr,
        secret: &str,
        callback: Option<String>,
    ) -> std::io::Result<VnpostSandbox> {
        let settings = VnpostSettings {
            secret: secret.to_string(),
            customer_code: "MOTCUA01".into(),
            centre: crate::vnpost::CentreAddress {
                name: "Trung tâm Phục vụ hành chính công".into(),
                phone: "02633822222".into(),
                email: String::new(),
                province: "68".into(),
                commune: "24778".into(),
                address: "36 Trần Phú, Phường Xuân Hương - Đà Lạt, Tỉnh Lâm Đồng".into(),
            },
            ..VnpostSettings::default()
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared {
            settings,
            callback,
            state: Mutex::new(VnpostState::default()),
            faults: Mutex::new(VnpostFaults::default()),
            http,
        });
        let app = Router::new()
            .route(&shared.settings.order_path, post(receive))
            .route("/_sandbox/orders", get(orders))
            .route("/_sandbox/faults", post(set_faults))
            .with_state(shared.clone());
        let server = super::Served::start(addr, app).await?;
        Ok(VnpostSandbox { server, shared })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Settings that point the order client at this sandbox.
    pub fn client_settings(&self) -> VnpostSettings {
        VnpostSettings {
            base_url: format!("http://{}", self.server.addr()),
            request_timeout_ms: 5_000,
            ..self.shared.settings.clone()
        }
    }

    /// Sets the failures to inject.
    pub fn set_faults(&self, f: VnpostFaults) {
        if let Ok(mut cur) = self.shared.faults.lock() {
            *cur = f;
        }
    }

    /// What it received so far.
    pub fn state(&self) -> VnpostState {
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
