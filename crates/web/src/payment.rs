//! Online payment of fees through the national payment platform (research notes §7.4), on the
//! request path: the applicant's INIT, the platform's callback (the browser's return and the
//! server-to-server notification), the status confirmation asked of the platform before a
//! payment is recorded, and the e-receipt (biên lai, PDF) kept with the dossier.
//!
//! The protocol (docs/integrations.md "Payment"; what the sources do not confirm — the
//! transport, the paths, the field order inside `MaXacThuc`, the result codes — is a setting):
//!
//! ```text
//! POST {base_url}{init_path}    {"LoaiBanTin":"INIT", "PhienBan", "MaDoiTac", "MaThamChieu",
//!                                "SoTien", ..., "ThoiGianGD", "Ip", "UrlTraVe", "UrlThongBao",
//!                                "MaXacThuc"}  -> {"MaKetQua":"00", "UrlThanhToan"}
//! callback (JSON, form or query) {"MaDoiTac", "MaThamChieu", "MaGiaoDich", "SoTien",
//!                                "MaKetQua", "ThoiGianGD", "MaXacThuc"}
//! POST {base_url}{status_path}  {"LoaiBanTin":"QUERY", "MaDoiTac", "MaThamChieu",
//!                                "ThoiGianGD", "MaXacThuc"} -> the callback's fields
//! POST {base_url}{receipt_path} {"LoaiBanTin":"RECEIPT", ...}  -> application/pdf
//! ```
//!
//! `MaXacThuc` = SHA-256 hex of the listed fields' values joined by `|`, then `|` and the
//! shared secret. A callback is believed only when its checksum holds (constant-time compare),
//! it names our partner code, a reference we issued and that reference's amount; and even then
//! a payment is recorded only after the platform confirms it. A repeated callback changes
//! nothing; a "failed" after "paid" changes nothing. When the platform cannot be reached to
//! confirm or to hand over the receipt, the attempt stays "đang xác nhận" (awaiting
//! confirmation) and a background task asks again every `retry_secs`: recorded once (the
//! `payments` row becomes paid only with the dossier's `fee_paid` event, and only once).

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::agency::{Actor, Role};
use motcua_domain::dossier::{Command, Dossier, EventBody};
use motcua_domain::payment::{
    INIT_FIELDS, PaymentMethod, PaymentStatus, QUERY_FIELDS, RESULT_FIELDS, checksum_eq,
    checksum_of, field, make_reference, platform_time, reported,
};
use motcua_domain::status::Status;
use motcua_store::{PaymentCallback, PaymentRecord, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Settings of the national payment platform (`[integrations.payment]`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentSettings {
    /// The platform's base URL; empty: online payment is off (counter payments still work).
    pub base_url: String,
    /// Our partner code on the platform (`MaDoiTac`).
    pub partner_code: String,
    /// The shared secret of `MaXacThuc` (set it with `MOTCUA_PAYMENT_SECRET`; never logged).
    pub secret: String,
    /// `PhienBan`.
    pub version: String,
    /// `LoaiHinhThanhToan`.
    pub payment_type: String,
    /// `MaKenhThanhToan`.
    pub channel: String,
    /// `MaThietBi`.
    pub device: String,
    /// `MaNganHang` (empty: the applicant chooses on the platform).
    pub bank: String,
    /// Path of the INIT request.
    pub init_path: String,
    /// Path of the status query.
    pub status_path: String,
    /// Path of the e-receipt request.
    pub receipt_path: String,
    /// Fields of the INIT message covered by `MaXacThuc`, in order.
    pub init_fields: Vec<String>,
    /// Fields of a result (callback, status answer) covered by `MaXacThuc`, in order.
    pub result_fields: Vec<String>,
    /// Fields of our status query and receipt request covered by `MaXacThuc`, in order.
    pub query_fields: Vec<String>,
    /// Timeout of one call to the platform, in milliseconds.
    pub timeout_ms: u64,
    /// How often attempts awaiting confirmation are asked about again, in seconds.
    pub retry_secs: u64,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        let list = |f: &[&str]| f.iter().map(|s| s.to_string()).collect();
        PaymentSettings {
            base_url: String::new(),
            partner_code: String::new(),
            secret: String::new(),
            version: "2.1.0".into(),
            payment_type: "PAY".into(),
            channel: "WEB".into(),
            device: "DESKTOP".into(),
            bank: String::new(),
            init_path: "/thanhtoan/init".into(),
            status_path: "/thanhtoan/status".into(),
            receipt_path: "/thanhtoan/receipt".into(),
            init_fields: list(&INIT_FIELDS),
            result_fields: list(&RESULT_FIELDS),
            query_fields: list(&QUERY_FIELDS),
            timeout_ms: 10_000,
            retry_secs: 60,
        }
    }
}

impl std::fmt::Debug for PaymentSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentSettings")
            .field("base_url", &self.base_url)
            .field("partner_code", &self.partner_code)
            .field("secret", &"[redacted]")
            .field("version", &self.version)
            .field("init_path", &self.init_path)
            .field("status_path", &self.status_path)
            .field("receipt_path", &self.receipt_path)
            .field("timeout_ms", &self.timeout_ms)
            .field("retry_secs", &self.retry_secs)
            .finish()
    }
}

/// The platform as this system reaches it.
pub struct Platform {
    settings: PaymentSettings,
    http: reqwest::Client,
}

impl Platform {
    /// A client over `settings` (`base_url`, `partner_code` and `secret` must be set).
    pub fn new(settings: PaymentSettings) -> Result<Platform, String> {
        if settings.base_url.trim().is_empty()
            || settings.partner_code.trim().is_empty()
            || settings.secret.is_empty()
        {
            return Err(
                "integrations.payment needs base_url, partner_code and the secret (MOTCUA_PAYMENT_SECRET)"
                    .into(),
            );
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms.max(100)))
            .connect_timeout(Duration::from_secs(3))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Platform { settings, http })
    }

    /// The settings in force.
    pub fn settings(&self) -> &PaymentSettings {
        &self.settings
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.base_url.trim_end_matches('/'))
    }

    fn sign(&self, m: &mut Map<String, Value>, fields: &[String]) {
        let sum = checksum_of(m, fields, &self.settings.secret);
        m.insert("MaXacThuc".into(), Value::String(sum));
    }

    /// Whether a result message is the platform's: our partner code and a valid checksum.
    pub fn authentic(&self, m: &Map<String, Value>) -> bool {
        field(m, "MaDoiTac") == self.settings.partner_code
            && checksum_eq(
                &field(m, "MaXacThuc"),
                &checksum_of(m, &self.settings.result_fields, &self.settings.secret),
            )
    }

    async fn post_json(
        &self,
        path: &str,
        m: &Map<String, Value>,
    ) -> Result<reqwest::Response, String> {
        let r = self
            .http
            .post(self.url(path))
            .json(m)
            .send()
            .await
            .map_err(|e| format!("unreachable: {e}"))?;
        if r.status().is_server_error() {
            return Err(format!("HTTP {}", r.status()));
        }
        Ok(r)
    }

    /// Sends INIT for `rec`; returns the pay page's address.
    async fn init(
        &self,
        rec: &PaymentRecord,
        info: &str,
        ip: &str,
        lang: &str,
        public_url: &str,
    ) -> Result<String, String> {
        let s = &self.settings;
        let mut m = Map::new();
        for (k, v) in [
            ("LoaiBanTin", "INIT".to_string()),
            ("PhienBan", s.version.clone()),
            ("MaDoiTac", s.partner_code.clone()),
            ("MaThamChieu", rec.reference.clone()),
            ("SoTien", rec.amount_vnd.to_string()),
            ("LoaiHinhThanhToan", s.payment_type.clone()),
            ("MaKenhThanhToan", s.channel.clone()),
            ("MaThietBi", s.device.clone()),
            (
                "NgonNgu",
                if lang == "en" { "en" } else { "vi" }.to_string(),
            ),
            ("MaTienTe", "VND".to_string()),
            ("MaNganHang", s.bank.clone()),
            ("ThongTinGiaoDich", info.to_string()),
            ("ThoiGianGD", rec.tx_time.clone()),
            ("Ip", ip.to_string()),
            ("UrlTraVe", format!("{public_url}{RETURN_PATH}")),
            ("UrlThongBao", format!("{public_url}/api/v1{NOTIFY_PATH}")),
        ] {
            m.insert(k.into(), Value::String(v));
        }
        self.sign(&mut m, &s.init_fields);
        let r = self.post_json(&s.init_path, &m).await?;
        let answer: Map<String, Value> = r
            .json()
            .await
            .map_err(|e| format!("malformed answer: {e}"))?;
        if field(&answer, "MaKetQua") != motcua_domain::payment::PAID {
            return Err(format!(
                "refused: {} {}",
                field(&answer, "MaKetQua"),
                field(&answer, "MoTaKetQua")
            ));
        }
        let url = field(&answer, "UrlThanhToan");
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err("malformed answer: no UrlThanhToan".into());
        }
        Ok(url)
    }

    fn query(&self, kind: &str, rec: &PaymentRecord) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("LoaiBanTin".into(), Value::String(kind.into()));
        m.insert(
            "MaDoiTac".into(),
            Value::String(self.settings.partner_code.clone()),
        );
        m.insert("MaThamChieu".into(), Value::String(rec.reference.clone()));
        m.insert("ThoiGianGD".into(), Value::String(rec.tx_time.clone()));
        self.sign(&mut m, &self.settings.query_fields);
        m
    }

    /// Asks the platform where `rec` stands: `Ok(Some(transaction id))` when paid with our
    /// amount, `Ok(None)` when not (yet) paid, `Err` when the platform could not say.
    async fn confirm(&self, rec: &PaymentRecord) -> Result<Option<String>, String> {
        let m = self.query("QUERY", rec);
        let r = self.post_json(&self.settings.status_path, &m).await?;
        let answer: Map<String, Value> = r
            .json()
            .await
            .map_err(|e| format!("malformed answer: {e}"))?;
        if !self.authentic(&answer) {
            return Err("the status answer's checksum does not hold".into());
        }
        if field(&answer, "MaThamChieu") != rec.reference
            || field(&answer, "SoTien") != rec.amount_vnd.to_string()
        {
            return Err("the status answer is about another payment or amount".into());
        }
        Ok(
            (reported(&field(&answer, "MaKetQua")) == PaymentStatus::Paid)
                .then(|| field(&answer, "MaGiaoDich")),
        )
    }

    /// The e-receipt of a paid `rec` (PDF bytes).
    async fn receipt(&self, rec: &PaymentRecord) -> Result<Bytes, String> {
        let m = self.query("RECEIPT", rec);
        let r = self.post_json(&self.settings.receipt_path, &m).await?;
        if !r.status().is_success() {
            return Err(format!("HTTP {}", r.status()));
        }
        let b = r.bytes().await.map_err(|e| format!("reading: {e}"))?;
        if !b.starts_with(b"%PDF-") {
            return Err("the e-receipt is not a PDF".into());
        }
        Ok(b)
    }
}

/// Where the platform sends the browser back.
pub const RETURN_PATH: &str = "/thanh-toan/ket-qua";
/// Where the platform notifies us, under `/api/v1`.
pub const NOTIFY_PATH: &str = "/payments/callback";

fn unavailable() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "payment-off",
        "Online payment is not available",
        "online payment is not configured on this system; pay at the counter",
    )
}

fn conflict(kind: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        kind,
        "Payment not possible now",
        detail,
    )
}

/// Starts an online payment of what `d` owes, for its owner `actor`: records the attempt and
/// returns the platform's pay page to send the browser to.
pub async fn start(
    s: &AppState,
    actor: &Actor,
    d: &Dossier,
    ip: &str,
    lang: &str,
) -> Result<String, ApiError> {
    let p = s.payment.as_ref().ok_or_else(unavailable)?;
    if !d.is_owner(actor) {
        return Err(ApiError::not_found("no such dossier"));
    }
    if matches!(
        d.status,
        Status::Refused | Status::Withdrawn | Status::Stopped | Status::Returned
    ) {
        return Err(conflict(
            "dossier-closed",
            "Hồ sơ đã kết thúc, không thể thanh toán. / The dossier is closed.",
        ));
    }
    let owed = d.owed_vnd();
    if owed <= 0 {
        return Err(conflict(
            "nothing-owed",
            "Hồ sơ không còn khoản phí nào phải nộp. / Nothing is owed.",
        ));
    }
    let attempts = s.store.payments_of(d.id).await?;
    if attempts.iter().any(PaymentRecord::awaiting_confirmation) {
        return Err(conflict(
            "payment-confirming",
            "Khoản thanh toán trước đang được xác nhận; vui lòng chờ. / A payment is being confirmed; please wait.",
        ));
    }
    let now = Utc::now();
    let code = d
        .code
        .as_ref()
        .map(|c| c.to_string())
        .unwrap_or_else(|| d.id.simple().to_string());
    // Unique per dossier and second; a second attempt within the same second gets a suffix.
    let base = make_reference(&code, now);
    let mut rec = PaymentRecord::online(
        base.clone(),
        d.id,
        owed,
        platform_time(now),
        actor.user_id,
        now,
    );
    let mut n = 0;
    loop {
        match s.store.create_payment(rec.clone()).await {
            Ok(()) => break,
            Err(StoreError::Duplicate(_)) if n < 9 => {
                n += 1;
                rec.reference = format!("{base}{n}");
            }
            Err(StoreError::Duplicate(_)) => {
                return Err(conflict(
                    "payment-busy",
                    "Vui lòng thử lại sau giây lát. / Please try again in a moment.",
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let info = format!("THANH TOAN HO SO {code}");
    match p.init(&rec, &info, ip, lang, s.public_url()).await {
        Ok(url) => {
            metrics::counter!("motcua_payments_total", "step" => "init").increment(1);
            Ok(url)
        }
        Err(why) => {
            tracing::warn!(reference = %rec.reference, %why, "payment INIT failed");
            metrics::counter!("motcua_payments_total", "step" => "init_failed").increment(1);
            // The attempt is closed, with why (for audit): nothing was paid.
            s.store
                .note_payment_callback(PaymentCallback {
                    reference: rec.reference.clone(),
                    reported: PaymentStatus::Failed,
                    transaction_id: None,
                    raw: format!("INIT failed: {why}"),
                    at: Utc::now(),
                })
                .await?;
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "payment-unavailable",
                "Payment platform unavailable",
                "Nền tảng thanh toán chưa phản hồi; vui lòng thử lại sau. / The payment platform did not answer; please try again later.",
            ))
        }
    }
}

/// What a callback led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Paid and recorded on the dossier (now or before: a repeat answers the same).
    Paid(Uuid),
    /// Reported paid; the platform has not confirmed it yet (đang xác nhận).
    Confirming(Uuid),
    /// Not paid (failed or cancelled), or a stale report ignored.
    NotPaid(Uuid, PaymentStatus),
}

impl Outcome {
    /// The dossier.
    pub fn dossier(&self) -> Uuid {
        match self {
            Outcome::Paid(d) | Outcome::Confirming(d) | Outcome::NotPaid(d, _) => *d,
        }
    }
}

fn forged(detail: &str) -> ApiError {
    metrics::counter!("motcua_payments_total", "step" => "callback_refused").increment(1);
    ApiError::new(
        StatusCode::FORBIDDEN,
        "callback-forged",
        "Callback refused",
        detail,
    )
}

/// Handles a result message from the platform (`raw` as received, for audit): believed only
/// when authentic, about one of our attempts and its amount; recorded once confirmed.
pub async fn callback(
    s: &AppState,
    m: &Map<String, Value>,
    raw: String,
) -> Result<Outcome, ApiError> {
    let p = s.payment.as_ref().ok_or_else(unavailable)?;
    for f in ["MaThamChieu", "SoTien", "MaKetQua", "MaXacThuc"] {
        if field(m, f).is_empty() {
            return Err(ApiError::invalid(f, "missing"));
        }
    }
    if !p.authentic(m) {
        tracing::warn!(reference = %field(m, "MaThamChieu"), "payment callback with a wrong checksum or partner refused");
        return Err(forged(
            "the checksum (MaXacThuc) or the partner code (MaDoiTac) does not hold",
        ));
    }
    let reference = field(m, "MaThamChieu");
    let rec = s
        .store
        .payment(&reference)
        .await?
        .filter(|r| r.method == PaymentMethod::Online)
        .ok_or_else(|| {
            ApiError::invalid(
                "MaThamChieu",
                "no payment of this system has this reference",
            )
        })?;
    if field(m, "SoTien") != rec.amount_vnd.to_string() {
        tracing::warn!(%reference, "payment callback with another amount refused");
        return Err(ApiError::invalid(
            "SoTien",
            "the amount differs from the payment's",
        ));
    }
    if !field(m, "ThoiGianGD").is_empty() && field(m, "ThoiGianGD") != rec.tx_time {
        return Err(ApiError::invalid(
            "ThoiGianGD",
            "the transaction time differs from the payment's",
        ));
    }
    let txn = Some(field(m, "MaGiaoDich")).filter(|t| !t.is_empty());
    if let (Some(ours), Some(theirs)) = (&rec.transaction_id, &txn)
        && ours != theirs
    {
        return Err(ApiError::invalid(
            "MaGiaoDich",
            "the transaction id differs from the one already reported",
        ));
    }
    if rec.status == PaymentStatus::Paid {
        // A repeat, or a stale "failed" after "paid": nothing changes.
        metrics::counter!("motcua_payments_total", "step" => "callback_repeat").increment(1);
        return Ok(Outcome::Paid(rec.dossier_id));
    }
    let said = reported(&field(m, "MaKetQua"));
    let rec = s
        .store
        .note_payment_callback(PaymentCallback {
            reference: reference.clone(),
            reported: said,
            transaction_id: txn,
            raw,
            at: Utc::now(),
        })
        .await?
        .ok_or_else(|| ApiError::internal("the payment disappeared"))?;
    if said != PaymentStatus::Paid {
        metrics::counter!("motcua_payments_total", "step" => "callback_not_paid").increment(1);
        return Ok(Outcome::NotPaid(rec.dossier_id, rec.status));
    }
    Ok(settle(s, p, &rec).await)
}

/// Confirms `rec` with the platform, keeps its e-receipt and records it on the dossier; an
/// attempt the platform could not speak about stays awaiting confirmation.
async fn settle(s: &AppState, p: &Platform, rec: &PaymentRecord) -> Outcome {
    match confirm_and_record(s, p, rec).await {
        Ok(true) => Outcome::Paid(rec.dossier_id),
        Ok(false) => Outcome::Confirming(rec.dossier_id),
        Err(why) => {
            tracing::warn!(reference = %rec.reference, %why, "payment awaits confirmation");
            metrics::counter!("motcua_payments_total", "step" => "confirm_later").increment(1);
            Outcome::Confirming(rec.dossier_id)
        }
    }
}

/// `Ok(true)`: recorded (now or already); `Ok(false)`: the platform says not paid yet.
async fn confirm_and_record(
    s: &AppState,
    p: &Platform,
    rec: &PaymentRecord,
) -> Result<bool, String> {
    let Some(txn) = p.confirm(rec).await? else {
        return Ok(false);
    };
    let d = s
        .store
        .dossier(rec.dossier_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the dossier is gone")?;
    let owner = d.owner.ok_or("the dossier has no owner account")?;
    let pdf = p.receipt(rec).await?;
    let key = crate::api::files::store_receipt(s, d.id, owner, &rec.reference, pdf)
        .await
        .map_err(|e| e.detail().to_string())?;
    let actor = Actor {
        user_id: owner,
        name: d.applicant.name.clone(),
        role: Role::Citizen,
        agency: None,
    };
    let cmd = Command::RecordPayment {
        reference: rec.reference.clone(),
        amount_vnd: rec.amount_vnd,
        method: PaymentMethod::Online,
        transaction_id: Some(txn).filter(|t| !t.is_empty()),
        receipt: Some(key),
        receipt_no: None,
    };
    let note = Some("Thanh toán trực tuyến qua nền tảng thanh toán quốc gia".to_string());
    match crate::api::dossiers::perform(s, &actor, d.id, cmd, note, None).await {
        Ok(_) => {
            metrics::counter!("motcua_payments_total", "step" => "paid").increment(1);
            Ok(true)
        }
        Err(e) => {
            // Recorded meanwhile by another callback or the retry task: that is the answer.
            match s.store.payment(&rec.reference).await {
                Ok(Some(r)) if r.status == PaymentStatus::Paid => Ok(true),
                _ => Err(e.detail().to_string()),
            }
        }
    }
}

/// Asks the platform again about every attempt awaiting confirmation; returns how many were
/// recorded as paid.
pub async fn retry_pending(s: &AppState) -> usize {
    let Some(p) = s.payment.as_ref() else {
        return 0;
    };
    let pending = match s.store.payments_awaiting_confirmation(100).await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "reading payments awaiting confirmation failed");
            return 0;
        }
    };
    let mut paid = 0;
    for rec in pending {
        if settle(s, p, &rec).await == Outcome::Paid(rec.dossier_id) {
            paid += 1;
        }
    }
    paid
}

/// Runs [`retry_pending`] every `retry_secs` (started by `serve` when payment is configured).
pub(crate) fn spawn_retries(s: AppState) {
    let Some(every) = s.payment.as_ref().map(|p| p.settings.retry_secs.max(1)) else {
        return;
    };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(every));
        tick.tick().await;
        loop {
            tick.tick().await;
            let n = retry_pending(&s).await;
            if n > 0 {
                tracing::info!(recorded = n, "payments confirmed on retry");
            }
        }
    });
}

/// The fields of a callback body: JSON object, or a form.
fn fields_of(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if json {
        match serde_json::from_slice(body) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(ApiError::bad_request("the body must be a JSON object")),
        }
    } else {
        Ok(form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect())
    }
}

/// What a callback is answered with.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CallbackAnswer {
    /// `00`: received.
    #[serde(rename = "MaKetQua")]
    pub code: &'static str,
    /// `paid`, `confirming` (to be confirmed later), `failed` or `cancelled`.
    pub status: &'static str,
}

/// The platform's server-to-server notification of a payment's result (JSON or form body with
/// `MaDoiTac`, `MaThamChieu`, `MaGiaoDich`, `SoTien`, `MaKetQua`, `ThoiGianGD`, `MaXacThuc`).
/// Forged (wrong checksum or partner) → 403; unknown reference, wrong amount or time → 422;
/// nothing is changed by a refused callback. A repeat answers as the first did.
#[utoipa::path(post, path = "/api/v1/payments/callback", tag = "payments",
    request_body(content = Object, description = "The platform's result message; see docs/integrations.md"),
    responses((status = 200, body = CallbackAnswer, description = "Paid and recorded, or not paid"),
        (status = 202, body = CallbackAnswer, description = "Reported paid; confirmation with the platform pending"),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn notify(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let m = fields_of(&headers, &body)?;
    let raw = String::from_utf8_lossy(&body).into_owned();
    let out = callback(&s, &m, raw).await?;
    Ok(match out {
        Outcome::Paid(_) => Json(CallbackAnswer {
            code: "00",
            status: "paid",
        })
        .into_response(),
        Outcome::Confirming(_) => (
            StatusCode::ACCEPTED,
            Json(CallbackAnswer {
                code: "00",
                status: "confirming",
            }),
        )
            .into_response(),
        Outcome::NotPaid(_, st) => Json(CallbackAnswer {
            code: "00",
            status: st.as_str(),
        })
        .into_response(),
    })
}

/// `GET /thanh-toan/ket-qua?...`: the browser back from the platform, with the result's fields
/// in the query: handled like the notification (whichever comes first does the work), then the
/// applicant's dossier page saying how it went. A forged return is an error page.
pub async fn browser_return(
    State(s): State<AppState>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let m: Map<String, Value> = q
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let raw = serde_json::to_string(&m).unwrap_or_default();
    match callback(&s, &m, raw).await {
        Ok(out) => {
            let flash = match &out {
                Outcome::Paid(_) => "da-thanh-toan",
                Outcome::Confirming(_) => "dang-xac-nhan",
                Outcome::NotPaid(_, PaymentStatus::Cancelled) => "huy-thanh-toan",
                Outcome::NotPaid(..) => "chua-thanh-toan",
            };
            Redirect::to(&format!("/ca-nhan/ho-so/{}?xong={flash}", out.dossier())).into_response()
        }
        Err(e) => crate::pages::error_page(
            e.status(),
            "vi",
            "Không xác nhận được kết quả thanh toán / Payment result not accepted",
            e.detail(),
        ),
    }
}

/// One line of the daily reconciliation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MethodTotal {
    /// Method.
    pub method: PaymentMethod,
    /// Payments recorded paid that day.
    pub count: u64,
    /// Their amount, in đồng.
    pub amount_vnd: i64,
}

/// One difference between the payments table and the dossiers' histories.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The reference.
    pub reference: String,
    /// The dossier.
    pub dossier_id: Uuid,
    /// What differs.
    pub what: String,
}

/// A day's reconciliation of payments against dossiers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    /// The local (Vietnam) day.
    pub day: NaiveDate,
    /// Payments recorded paid, by method.
    pub payments: Vec<MethodTotal>,
    /// Fees recorded in dossiers' histories, by method.
    pub events: Vec<MethodTotal>,
    /// Every difference.
    pub differences: Vec<Difference>,
}

fn day_bounds(day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() - chrono::Duration::hours(7);
    (start, start + chrono::Duration::days(1))
}

fn totals(rows: impl Iterator<Item = (PaymentMethod, i64)>) -> Vec<MethodTotal> {
    let mut by: BTreeMap<&'static str, MethodTotal> = BTreeMap::new();
    for (m, a) in rows {
        let t = by.entry(m.as_str()).or_insert(MethodTotal {
            method: m,
            count: 0,
            amount_vnd: 0,
        });
        t.count += 1;
        t.amount_vnd += a;
    }
    PaymentMethod::ALL
        .iter()
        .filter_map(|m| by.remove(m.as_str()))
        .collect()
}

/// Reconciles the local day `day`: each payment recorded paid against the `fee_paid` events of
/// the dossiers' histories (by reference): a payment without its event, an event without its
/// payment, and any difference in dossier, amount or method are listed.
pub async fn reconcile(store: &Store, day: NaiveDate) -> Result<Reconciliation, StoreError> {
    let (from, to) = day_bounds(day);
    let paid = store.payments_paid_between(from, to).await?;
    let mut dossiers: Vec<Uuid> = store.dossiers_with_fee_events(from, to).await?;
    dossiers.extend(paid.iter().map(|p| p.dossier_id));
    let mut seen = HashSet::new();
    dossiers.retain(|d| seen.insert(*d));
    // reference -> (dossier, amount, method)
    let mut events: BTreeMap<String, (Uuid, i64, PaymentMethod)> = BTreeMap::new();
    for id in dossiers {
        for e in store.history(id).await? {
            if e.event.at < from || e.event.at >= to {
                continue;
            }
            if let EventBody::FeePaid {
                reference,
                amount_vnd,
                method,
                ..
            } = &e.event.body
            {
                events.insert(reference.clone(), (id, *amount_vnd, *method));
            }
        }
    }
    Ok(compare(day, &paid, &events))
}

/// The comparison of [`reconcile`]: payments recorded paid against the fees found in the
/// histories, by reference (reference -> dossier, amount, method).
pub fn compare(
    day: NaiveDate,
    paid: &[PaymentRecord],
    events: &BTreeMap<String, (Uuid, i64, PaymentMethod)>,
) -> Reconciliation {
    let mut differences = Vec::new();
    for p in paid {
        match events.get(&p.reference) {
            None => differences.push(Difference {
                reference: p.reference.clone(),
                dossier_id: p.dossier_id,
                what: "paid, but no payment in the dossier's history".into(),
            }),
            Some((d, amount, method)) => {
                if *d != p.dossier_id {
                    differences.push(Difference {
                        reference: p.reference.clone(),
                        dossier_id: p.dossier_id,
                        what: format!("recorded on another dossier ({d})"),
                    });
                }
                if *amount != p.amount_vnd {
                    differences.push(Difference {
                        reference: p.reference.clone(),
                        dossier_id: p.dossier_id,
                        what: format!(
                            "amount {} đồng paid, {} đồng in the history",
                            p.amount_vnd, amount
                        ),
                    });
                }
                if *method != p.method {
                    differences.push(Difference {
                        reference: p.reference.clone(),
                        dossier_id: p.dossier_id,
                        what: format!(
                            "method {} paid, {} in the history",
                            p.method.as_str(),
                            method.as_str()
                        ),
                    });
                }
            }
        }
    }
    let refs: HashSet<&str> = paid.iter().map(|p| p.reference.as_str()).collect();
    for (reference, (d, _, _)) in events {
        if !refs.contains(reference.as_str()) {
            differences.push(Difference {
                reference: reference.clone(),
                dossier_id: *d,
                what: "in the dossier's history, but no payment recorded paid".into(),
            });
        }
    }
    Reconciliation {
        day,
        payments: totals(paid.iter().map(|p| (p.method, p.amount_vnd))),
        events: totals(events.values().map(|(_, a, m)| (*m, *a))),
        differences,
    }
}

/// The state's platform, when configured.
pub(crate) type Shared = Option<Arc<Platform>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn platform() -> Platform {
        Platform::new(PaymentSettings {
            base_url: "http://127.0.0.1:9".into(),
            partner_code: "MOTCUA".into(),
            secret: "s3cret".into(),
            ..Default::default()
        })
        .unwrap()
    }

    fn result(p: &Platform) -> Map<String, Value> {
        let mut m = Map::new();
        for (k, v) in [
            ("MaDoiTac", "MOTCUA"),
            ("MaThamChieu", "dvcX20261202100000"),
            ("MaGiaoDich", "GD1"),
            ("SoTien", "50000"),
            ("MaKetQua", "00"),
            ("ThoiGianGD", "20261202100000"),
        ] {
            m.insert(k.into(), Value::String(v.into()));
        }
        p.sign(&mut m, &p.settings.result_fields);
        m
    }

    #[test]
    fn only_messages_signed_with_our_secret_and_partner_are_authentic() {
        let p = platform();
        let m = result(&p);
        assert!(p.authentic(&m));
        let mut amount = m.clone();
        amount.insert("SoTien".into(), Value::String("5000".into()));
        assert!(
            !p.authentic(&amount),
            "a changed amount breaks the checksum"
        );
        let mut partner = m.clone();
        partner.insert("MaDoiTac".into(), Value::String("OTHER".into()));
        assert!(!p.authentic(&partner));
        let mut unsigned = m.clone();
        unsigned.remove("MaXacThuc");
        assert!(!p.authentic(&unsigned));
        // Numbers sent as JSON numbers read as the same text.
        let mut number = m.clone();
        number.insert("SoTien".into(), Value::from(50000));
        assert!(p.authentic(&number));
    }

    #[test]
    fn the_secret_is_never_shown_and_settings_are_required() {
        let s = PaymentSettings {
            secret: "s3cret".into(),
            ..Default::default()
        };
        assert!(!format!("{s:?}").contains("s3cret"));
        assert!(Platform::new(s).is_err(), "no base URL");
    }

    fn paid(reference: &str, dossier: Uuid, amount: i64, method: PaymentMethod) -> PaymentRecord {
        let now = Utc::now();
        PaymentRecord {
            method,
            status: PaymentStatus::Paid,
            paid_at: Some(now),
            ..PaymentRecord::online(reference.into(), dossier, amount, "t".into(), dossier, now)
        }
    }

    #[test]
    fn reconciliation_lists_every_difference() {
        let day: NaiveDate = "2026-12-02".parse().unwrap();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut events = BTreeMap::new();
        events.insert("r1".to_string(), (a, 50_000, PaymentMethod::Online));
        events.insert("r2".to_string(), (b, 20_000, PaymentMethod::Cash));
        let list = vec![
            paid("r1", a, 50_000, PaymentMethod::Online),
            paid("r2", b, 20_000, PaymentMethod::Cash),
        ];
        let r = compare(day, &list, &events);
        assert!(r.differences.is_empty(), "{:?}", r.differences);
        assert_eq!(r.payments, r.events);
        assert_eq!(r.payments[0].amount_vnd, 50_000);

        // Paid with no event; an event with no payment; an amount and a method that differ.
        let list = vec![
            paid("r1", a, 40_000, PaymentMethod::Card),
            paid("r3", b, 1_000, PaymentMethod::Cash),
        ];
        let r = compare(day, &list, &events);
        let what: Vec<(&str, &str)> = r
            .differences
            .iter()
            .map(|d| (d.reference.as_str(), d.what.as_str()))
            .collect();
        assert_eq!(r.differences.len(), 4, "{what:?}");
        assert!(
            what.iter()
                .any(|(r, w)| *r == "r1" && w.starts_with("amount 40000"))
        );
        assert!(
            what.iter()
                .any(|(r, w)| *r == "r1" && w.starts_with("method card"))
        );
        assert!(
            what.iter()
                .any(|(r, w)| *r == "r3" && w.contains("no payment in the dossier"))
        );
        assert!(
            what.iter()
                .any(|(r, w)| *r == "r2" && w.contains("no payment recorded paid"))
        );
    }

    #[test]
    fn days_are_local() {
        let (from, to) = day_bounds("2026-12-02".parse().unwrap());
        assert_eq!(from.to_rfc3339(), "2026-12-01T17:00:00+00:00");
        assert_eq!(to - from, chrono::Duration::days(1));
    }
}
