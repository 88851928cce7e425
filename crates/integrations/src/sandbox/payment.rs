//! A local national payment platform speaking the protocol of `motcua_web::payment`
//! (docs/integrations.md "Payment"): `POST /thanhtoan/init` takes an INIT message (JSON, the
//! research notes' §7.4 fields and `MaXacThuc`), answers the pay page's address; the pay page
//! (`GET /thanhtoan/pay/{reference}`, buttons *Thanh toán* / *Hủy*) posts the result to the
//! partner's notification address (server to server, JSON) and sends the browser back to the
//! return address with the same fields in the query; `POST /thanhtoan/status` answers a status
//! query; `POST /thanhtoan/receipt` serves the e-receipt (a small PDF) of a paid transaction.
//! Every message carries `MaXacThuc` (SHA-256 of `|`-joined fields and the shared secret); a
//! wrong one is refused (`MaKetQua` 97).
//!
//! Failure injection ([`PaymentFaults`], `POST /_sandbox/faults`): the API down (503), slow,
//! a percentage of 5xx, a percentage of malformed answers, every callback sent twice, and a
//! stale "failed" callback sent after the "paid" one (out of order). `GET /_sandbox/state`
//! shows what it saw.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use motcua_domain::payment::{
    CANCELLED, INIT_FIELDS, PAID, QUERY_FIELDS, RESULT_FIELDS, checksum_eq, checksum_of, field,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Failures to inject.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentFaults {
    /// The API (init, status, receipt) answers 503.
    pub down: bool,
    /// The API answers this many milliseconds late.
    pub slow_ms: u64,
    /// Percentage of API requests answered with HTTP 500.
    pub fail_5xx_percent: u8,
    /// Percentage of API requests answered with something that is not the protocol's.
    pub malformed_percent: u8,
    /// Every callback is sent twice.
    pub duplicate_callbacks: bool,
    /// After a "paid" callback, a stale "failed" one for the same transaction follows.
    pub out_of_order: bool,
}

/// One transaction as the platform keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Transaction {
    /// `MaThamChieu`.
    pub reference: String,
    /// `SoTien`.
    pub amount: i64,
    /// `ThoiGianGD` as the partner sent it.
    pub tx_time: String,
    /// `ThongTinGiaoDich`.
    pub info: String,
    /// `MaGiaoDich`, the platform's id.
    pub transaction_id: String,
    /// `MaKetQua` once decided ("" while pending).
    pub result: String,
    /// Where the browser goes back to.
    pub return_url: String,
    /// Where the server-to-server notification goes.
    pub notify_url: String,
}

/// What the sandbox saw.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PaymentState {
    /// INIT messages accepted.
    pub inits: u64,
    /// Status queries answered (injected failures included).
    pub status_queries: u64,
    /// E-receipts served.
    pub receipts: u64,
    /// Callbacks sent, and how many of them the partner answered with 2xx.
    pub callbacks_sent: u64,
    /// Callbacks answered with 2xx.
    pub callbacks_ok: u64,
    /// Messages refused for a wrong checksum or partner.
    pub refused: u64,
    /// Requests answered with an injected failure.
    pub injected: u64,
    /// Transactions by reference.
    pub transactions: BTreeMap<String, Transaction>,
}

struct Shared {
    partner: String,
    secret: String,
    base: Mutex<String>,
    state: Mutex<PaymentState>,
    faults: Mutex<PaymentFaults>,
    http: reqwest::Client,
}

/// A running sandbox platform.
pub struct PaymentSandbox {
    server: super::Served,
    shared: Arc<Shared>,
}

fn roll(percent: u8) -> bool {
    percent > 0 && rand::random::<u8>() % 100 < percent.min(100)
}

fn refuse(code: &str, why: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"MaKetQua": code, "MoTaKetQua": why})),
    )
        .into_response()
}

/// Applies the injected failures to an API call; `Some` is the answer to give instead.
async fn injected(s: &Shared) -> Option<Response> {
    let f = s.faults.lock().map(|f| f.clone()).unwrap_or_default();
    if f.slow_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(f.slow_ms)).await;
    }
    let mut st = s.state.lock().ok()?;
    if f.down {
        st.injected += 1;
        return Some((StatusCode::SERVICE_UNAVAILABLE, "down").into_response());
    }
    if roll(f.fail_5xx_percent) {
        st.injected += 1;
        return Some((StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response());
    }
    if roll(f.malformed_percent) {
        st.injected += 1;
        return Some(
            (
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body>502 Bad Gateway</body></html>",
            )
                .into_response(),
        );
    }
    None
}

/// Checks the partner and the checksum of a message over `fields`.
fn verified(s: &Shared, m: &Map<String, Value>, fields: &[&str]) -> bool {
    let ok = field(m, "MaDoiTac") == s.partner
        && checksum_eq(&field(m, "MaXacThuc"), &checksum_of(m, fields, &s.secret));
    if !ok && let Ok(mut st) = s.state.lock() {
        st.refused += 1;
    }
    ok
}

fn object(body: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

async fn init(State(s): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    if let Some(r) = injected(&s).await {
        return r;
    }
    let Some(m) = object(&body) else {
        return refuse("99", "expected a JSON object");
    };
    if field(&m, "LoaiBanTin") != "INIT" {
        return refuse("99", "LoaiBanTin must be INIT");
    }
    if !verified(&s, &m, &INIT_FIELDS) {
        return refuse("97", "Sai mã xác thực (MaXacThuc) hoặc mã đối tác");
    }
    let reference = field(&m, "MaThamChieu");
    let Ok(amount) = field(&m, "SoTien").parse::<i64>() else {
        return refuse("99", "SoTien must be a whole number of đồng");
    };
    if reference.is_empty() || amount <= 0 {
        return refuse("99", "MaThamChieu and a positive SoTien are required");
    }
    let base = s.base.lock().map(|b| b.clone()).unwrap_or_default();
    let Ok(mut st) = s.state.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if st.transactions.contains_key(&reference) {
        return refuse("94", "MaThamChieu đã tồn tại");
    }
    st.inits += 1;
    let transaction_id = format!("GD{:010}", st.inits);
    st.transactions.insert(
        reference.clone(),
        Transaction {
            reference: reference.clone(),
            amount,
            tx_time: field(&m, "ThoiGianGD"),
            info: field(&m, "ThongTinGiaoDich"),
            transaction_id,
            result: String::new(),
            return_url: field(&m, "UrlTraVe"),
            notify_url: field(&m, "UrlThongBao"),
        },
    );
    Json(json!({
        "MaKetQua": PAID,
        "MoTaKetQua": "Thành công",
        "MaThamChieu": reference,
        "UrlThanhToan": format!("{base}/thanhtoan/pay/{reference}"),
    }))
    .into_response()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn pay_page(State(s): State<Arc<Shared>>, Path(reference): Path<String>) -> Response {
    let t = s
        .state
        .lock()
        .ok()
        .and_then(|st| st.transactions.get(&reference).cloned());
    let Some(t) = t else {
        return (StatusCode::NOT_FOUND, "Không có giao dịch này.").into_response();
    };
    Html(format!(
        "<!doctype html><html lang=\"vi\"><meta charset=\"utf-8\"><title>Nền tảng thanh toán (thử nghiệm)</title>\
         <h1>Thanh toán trực tuyến (thử nghiệm)</h1><p>{}</p><p>Số tiền: <strong>{} đồng</strong></p>\
         <p>Mã tham chiếu: {}</p><form method=\"post\"><button name=\"action\" value=\"pay\">Thanh toán</button> \
         <button name=\"action\" value=\"cancel\">Hủy</button></form></html>",
        html_escape(&t.info),
        t.amount,
        html_escape(&t.reference)
    ))
    .into_response()
}

/// The result message of `t` with `code`, signed.
fn result_message(s: &Shared, t: &Transaction, code: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("MaDoiTac".into(), Value::String(s.partner.clone()));
    m.insert("MaThamChieu".into(), Value::String(t.reference.clone()));
    m.insert("MaGiaoDich".into(), Value::String(t.transaction_id.clone()));
    m.insert("SoTien".into(), Value::String(t.amount.to_string()));
    m.insert("MaKetQua".into(), Value::String(code.to_string()));
    m.insert("ThoiGianGD".into(), Value::String(t.tx_time.clone()));
    let sum = checksum_of(&m, &RESULT_FIELDS, &s.secret);
    m.insert("MaXacThuc".into(), Value::String(sum));
    m
}

async fn notify(s: &Shared, url: &str, m: &Map<String, Value>) {
    if url.is_empty() {
        return;
    }
    let ok = match s.http.post(url).json(m).send().await {
        Ok(r) => r.status().is_success(),
        Err(e) => {
            tracing::warn!(error = %e, "sandbox payment callback failed");
            false
        }
    };
    if let Ok(mut st) = s.state.lock() {
        st.callbacks_sent += 1;
        st.callbacks_ok += u64::from(ok);
    }
}

#[derive(Deserialize)]
struct PayForm {
    action: String,
}

async fn pay(
    State(s): State<Arc<Shared>>,
    Path(reference): Path<String>,
    Form(f): Form<PayForm>,
) -> Response {
    let code = if f.action == "pay" { PAID } else { CANCELLED };
    let t = {
        let Ok(mut st) = s.state.lock() else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        let Some(t) = st.transactions.get_mut(&reference) else {
            return (StatusCode::NOT_FOUND, "Không có giao dịch này.").into_response();
        };
        if t.result.is_empty() {
            t.result = code.to_string();
        }
        t.clone()
    };
    let faults = s.faults.lock().map(|f| f.clone()).unwrap_or_default();
    let m = result_message(&s, &t, &t.result);
    notify(&s, &t.notify_url, &m).await;
    if faults.duplicate_callbacks {
        notify(&s, &t.notify_url, &m).await;
    }
    if faults.out_of_order && t.result == PAID {
        let stale = result_message(&s, &t, "99");
        notify(&s, &t.notify_url, &stale).await;
    }
    let query: Vec<(String, String)> = m.iter().map(|(k, v)| (k.clone(), field_of(v))).collect();
    let sep = if t.return_url.contains('?') { '&' } else { '?' };
    let q = serde_urlencoded(&query);
    Redirect::to(&format!("{}{sep}{q}", t.return_url)).into_response()
}

fn field_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

/// `application/x-www-form-urlencoded` of `pairs`.
fn serde_urlencoded(pairs: &[(String, String)]) -> String {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b => format!("%{b:02X}"),
            })
            .collect()
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Looks the queried transaction up after the usual checks.
async fn queried(s: &Shared, body: &[u8], kind: &str) -> Result<Transaction, Response> {
    if let Some(r) = injected(s).await {
        return Err(r);
    }
    let Some(m) = object(body) else {
        return Err(refuse("99", "expected a JSON object"));
    };
    if field(&m, "LoaiBanTin") != kind {
        return Err(refuse("99", "wrong LoaiBanTin"));
    }
    if !verified(s, &m, &QUERY_FIELDS) {
        return Err(refuse("97", "Sai mã xác thực (MaXacThuc) hoặc mã đối tác"));
    }
    let t = s
        .state
        .lock()
        .ok()
        .and_then(|st| st.transactions.get(&field(&m, "MaThamChieu")).cloned());
    match t {
        Some(t) if t.tx_time == field(&m, "ThoiGianGD") => Ok(t),
        _ => Err((
            StatusCode::NOT_FOUND,
            Json(json!({"MaKetQua": "01", "MoTaKetQua": "Không tìm thấy giao dịch"})),
        )
            .into_response()),
    }
}

async fn status(State(s): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    if let Ok(mut st) = s.state.lock() {
        st.status_queries += 1;
    }
    let t = match queried(&s, &body, "QUERY").await {
        Ok(t) => t,
        Err(r) => return r,
    };
    // Still on the pay page: "pending" (09).
    let code = if t.result.is_empty() { "09" } else { &t.result };
    Json(Value::Object(result_message(&s, &t, code))).into_response()
}

async fn receipt(State(s): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let t = match queried(&s, &body, "RECEIPT").await {
        Ok(t) => t,
        Err(r) => return r,
    };
    if t.result != PAID {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"MaKetQua": "02", "MoTaKetQua": "Giao dịch chưa thanh toán"})),
        )
            .into_response();
    }
    if let Ok(mut st) = s.state.lock() {
        st.receipts += 1;
    }
    ([(header::CONTENT_TYPE, "application/pdf")], receipt_pdf(&t)).into_response()
}

/// A one-page PDF e-receipt (ASCII text: the sandbox has no font to embed).
pub fn receipt_pdf(t: &Transaction) -> Vec<u8> {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_graphic() || *c == ' ')
            .filter(|c| !matches!(c, '(' | ')' | '\\'))
            .collect()
    };
    let lines = [
        "BIEN LAI THU PHI, LE PHI (DIEN TU) - SANDBOX".to_string(),
        format!("Ma tham chieu: {}", clean(&t.reference)),
        format!("Ma giao dich: {}", clean(&t.transaction_id)),
        format!("So tien: {} dong", t.amount),
        format!("Thoi gian: {}", clean(&t.tx_time)),
    ];
    let mut text = String::from("BT /F1 12 Tf 50 780 Td 16 TL\n");
    for l in &lines {
        text.push_str(&format!("({l}) Tj T*\n"));
    }
    text.push_str("ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    motcua_domain::files::samples::pdf_of(&objects)
}

async fn state(State(s): State<Arc<Shared>>) -> Json<PaymentState> {
    Json(s.state.lock().map(|g| g.clone()).unwrap_or_default())
}

async fn set_faults(
    State(s): State<Arc<Shared>>,
    Json(f): Json<PaymentFaults>,
) -> Json<PaymentFaults> {
    if let Ok(mut cur) = s.faults.lock() {
        *cur = f.clone();
    }
    Json(f)
}

impl PaymentSandbox {
    /// Starts a platform on `addr` (port 0: any free port) for partner `partner` (`MaDoiTac`)
    /// sharing `secret`.
    pub async fn start(
        addr: SocketAddr,
        partner: &str,
        secret: &str,
    ) -> std::io::Result<PaymentSandbox> {
        let shared = Arc::new(Shared {
            partner: partner.to_string(),
            secret: secret.to_string(),
            base: Mutex::new(String::new()),
            state: Mutex::new(PaymentState::default()),
            faults: Mutex::new(PaymentFaults::default()),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .map_err(std::io::Error::other)?,
        });
        let app = Router::new()
            .route("/thanhtoan/init", post(init))
            .route("/thanhtoan/pay/{reference}", get(pay_page).post(pay))
            .route("/thanhtoan/status", post(status))
            .route("/thanhtoan/receipt", post(receipt))
            .route("/_sandbox/state", get(state))
            .route("/_sandbox/faults", post(set_faults))
            .with_state(shared.clone());
        let server = super::Served::start(addr, app).await?;
        if let Ok(mut b) = shared.base.lock() {
            *b = format!("http://{}", server.addr());
        }
        Ok(PaymentSandbox { server, shared })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The platform's base URL (the `[integrations.payment] base_url` to set).
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// Sets the failures to inject.
    pub fn set_faults(&self, f: PaymentFaults) {
        if let Ok(mut cur) = self.shared.faults.lock() {
            *cur = f;
        }
    }

    /// What it saw so far.
    pub fn state(&self) -> PaymentState {
        self.shared
            .state
            .lock()
            .map(|g| g.clone())
            .unwrap_or_default()
    }

    /// The signed result message the platform would send for `reference` with `code` (tests
    /// replay it, or alter it to forge one).
    pub fn result_for(&self, reference: &str, code: &str) -> Option<Map<String, Value>> {
        let t = self
            .shared
            .state
            .lock()
            .ok()?
            .transactions
            .get(reference)
            .cloned()?;
        Some(result_message(&self.shared, &t, code))
    }

    /// Runs until the server stops.
    pub async fn wait(&mut self) {
        self.server.wait().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_receipt_is_a_pdf_with_a_valid_cross_reference() {
        let t = Transaction {
            reference: "dvcX20261202100000".into(),
            amount: 50_000,
            tx_time: "20261202100000".into(),
            info: "THANH TOAN HO SO X".into(),
            transaction_id: "GD0000000001".into(),
            result: PAID.into(),
            return_url: String::new(),
            notify_url: String::new(),
        };
        let pdf = receipt_pdf(&t);
        assert!(pdf.starts_with(b"%PDF-1.4"));
        // Offsets are in bytes (the header's binary comment is not UTF-8): read the bytes.
        let text = String::from_utf8_lossy(&pdf);
        let xref: usize = text
            .rsplit("startxref\n")
            .next()
            .and_then(|r| r.lines().next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(pdf[xref..].starts_with(b"xref"));
        // Each object's offset points at its header.
        let table = String::from_utf8(pdf[xref..].to_vec()).unwrap();
        for (i, line) in table.lines().skip(3).take(5).enumerate() {
            let off: usize = line[..10].parse().unwrap();
            assert!(pdf[off..].starts_with(format!("{} 0 obj", i + 1).as_bytes()));
        }
        assert!(text.contains("So tien: 50000 dong"));
    }
}
