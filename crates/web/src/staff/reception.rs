//! `/can-bo/tiep-nhan`: the counter reception screen. A desk officer receives a paper dossier on
//! one page, from a queue ticket (`?ve=<ticket id>`, linked from the counter console) or
//! directly: (1) find the procedure among those their agency receives, (2) the applicant, looked
//! up by personal ID through the identity adapter (audited) or typed by hand, (3) the e-form on
//! the applicant's behalf (left blank when the paper declaration is on file), (4) the document
//! checklist with a scan upload per component (digitization), the channel (counter, or post with
//! its tracking number), then one of three buttons: receive (receipt PDF), request a supplement
//! (supplement notice PDF) or refuse (refusal notice PDF). The result page links the paper to
//! print and the next reception.
//!
//! One multipart form, no JavaScript needed: the identity lookup and the e-form's "add a row" /
//! "show communes" are submit buttons that re-show the page with everything typed kept (scans
//! already uploaded stay attached by their keys, checked again on submission). Every refusal of
//! bad input re-shows the page with the values and the message next to the field. The work goes
//! through the API's own paths: `api::dossiers::submit` (form validated there, the server being
//! the authority) and `perform` for the supplement or refusal.

use super::{forbidden, lang_of, local, require_staff, texts};
use crate::AppState;
use crate::api::dossiers::{SubmitRequest, load_visible, perform};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::forms::{RenderInput, STYLE, parse_body, render as render_form};
use crate::identity::{self, Purpose};
use crate::session::{MaybeSession, Session, random_hex};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use minijinja::context;
use motcua_domain::agency::Role;
use motcua_domain::codes::PersonalId;
use motcua_domain::dossier::{
    Applicant, Channel, Command, DocumentRef, Dossier, valid_postal_tracking,
};
use motcua_domain::forms::FieldError;
use motcua_domain::status::Status;
use motcua_store::ProcedureRecord;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

/// The page's path.
pub(crate) const PATH: &str = "/can-bo/tiep-nhan";
/// Most search results shown in step 1.
const HITS: usize = 20;
/// Longest text field kept (characters).
const MAX_FIELD: usize = 4000;

/// Query of the page.
#[derive(Deserialize, Default)]
pub(crate) struct Params {
    lang: Option<String>,
    /// Queue ticket being served.
    ve: Option<String>,
    /// Search words or a procedure code (step 1).
    q: Option<String>,
    /// The chosen procedure.
    thu_tuc: Option<String>,
    /// Dossier just handled: show the result page.
    xong: Option<String>,
}

/// One component of the checklist as typed.
#[derive(Clone, Debug, Default, Serialize)]
struct Doc {
    name: String,
    required: bool,
    /// "Đã nhận bản giấy" ticked.
    received: bool,
    /// Key of the uploaded scan.
    key: String,
    /// Its name.
    file_name: String,
    /// Why the scan was refused.
    error: String,
}

/// Everything typed on the screen (kept through every re-show).
#[derive(Clone, Debug, Default, Serialize)]
struct Typed {
    procedure: String,
    ticket: String,
    personal_id: String,
    name: String,
    phone: String,
    email: String,
    address: String,
    channel: String,
    tracking: String,
    note: String,
    missing: String,
    supplement_reason: String,
    refusal: String,
    key: String,
    /// `giay`: the paper declaration is on file; `dien_tu`: the e-form is filled here.
    form_mode: String,
    /// Channel online: the user name of the citizen account submitted for.
    account: String,
    /// How the applicant wants to hear of the dossier: `email`, `sms`, `zalo`, comma-separated.
    notify: String,
    docs: Vec<Doc>,
}

impl Typed {
    /// The channels ticked.
    fn channels(&self) -> motcua_domain::dossier::NotifyChannels {
        let on = |c: &str| self.notify.split(',').any(|x| x == c);
        motcua_domain::dossier::NotifyChannels {
            email: on("email"),
            sms: on("sms"),
            zalo: on("zalo"),
        }
    }
}

/// What the screen says besides the fields.
#[derive(Default)]
struct Outcome<'a> {
    /// Messages by field (`procedure`, `personal_id`, `name`, `tracking`, `missing`,
    /// `refusal`, `form`, `general`).
    errors: BTreeMap<&'static str, String>,
    /// E-form field errors.
    form_errors: Vec<FieldError>,
    /// A neutral note (e.g. the lookup's answer).
    message: Option<String>,
    /// "Add a row" pressed for this group.
    add_row: Option<&'a str>,
    /// The screen comes back from a post (the main form shows even without a procedure).
    posted: bool,
}

fn en(lang: &str) -> bool {
    lang == "en"
}

/// Desk officers only: others signed in get the 403 page, nobody signed in goes to sign in.
#[allow(clippy::result_large_err)]
fn desk(session: MaybeSession, back: &str, lang: &str) -> Result<Session, Response> {
    let sess = require_staff(session, back, lang)?;
    if sess.actor.role != Role::DeskOfficer {
        return Err(forbidden(lang));
    }
    Ok(sess)
}

fn back_to(p: &Params) -> String {
    match p.ve.as_deref().filter(|v| v.parse::<Uuid>().is_ok()) {
        Some(v) => format!("{PATH}?ve={v}"),
        None => PATH.to_string(),
    }
}

/// The procedure `code` if published and received at `agency`: `Err` says why not (status and
/// message for the procedure field).
async fn procedure_here(
    s: &AppState,
    agency: &str,
    code: &str,
    lang: &str,
) -> Result<Arc<ProcedureRecord>, (StatusCode, String)> {
    let code = code.trim();
    if code.is_empty() {
        return Err((
            StatusCode::BAD_REQUEST,
            if en(lang) {
                "Choose the procedure first (search by name or type its code)."
            } else {
                "Chưa chọn thủ tục: tìm theo tên hoặc gõ mã thủ tục."
            }
            .into(),
        ));
    }
    let unknown = || {
        (
            StatusCode::NOT_FOUND,
            if en(lang) {
                format!("No published procedure has the code «{code}».")
            } else {
                format!("Không có thủ tục đang áp dụng mang mã «{code}».")
            },
        )
    };
    if code.parse::<motcua_domain::codes::ProcedureCode>().is_err() {
        return Err(unknown());
    }
    match s.published_procedure(code).await {
        Ok(Some(r)) if r.receiving_agencies.iter().any(|a| a.as_str() == agency) => Ok(r),
        Ok(Some(_)) => Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            if en(lang) {
                format!("Procedure {code} is not received at your agency.")
            } else {
                format!("Thủ tục {code} không tiếp nhận tại cơ quan của bạn.")
            },
        )),
        Ok(None) => Err(unknown()),
        Err(e) => {
            tracing::error!(error = %e, "procedure lookup failed");
            Err((
                StatusCode::SERVICE_UNAVAILABLE,
                "Hệ thống đang bận, vui lòng thử lại. / The system is busy, please retry.".into(),
            ))
        }
    }
}

/// Search results of step 1: procedures received at `agency` matching `q`.
async fn search(s: &AppState, agency: &str, q: &str) -> Vec<(String, String)> {
    let Ok(cat) = s.catalogue().await else {
        return Vec::new();
    };
    let filter = crate::catalogue::Filter {
        agency: Some(agency.to_string()),
        ..Default::default()
    };
    match cat.index.search(q, 200) {
        Ok(hits) => hits
            .iter()
            .filter_map(|h| cat.get(&h.code))
            .filter(|r| cat.list_one(&filter, r))
            .take(HITS)
            .map(|r| (r.version.code.to_string(), r.version.name.clone()))
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "search failed");
            Vec::new()
        }
    }
}

/// The ticket's number when `id` is a ticket of the officer's centre.
async fn ticket_number(s: &AppState, agency: &str, id: &str) -> Option<String> {
    let id: Uuid = id.parse().ok()?;
    let t = s.store.queue_ticket(id).await.ok()??;
    (t.centre.as_str() == agency).then(|| t.number().to_string())
}

fn fresh_docs(rec: &ProcedureRecord) -> Vec<Doc> {
    rec.version
        .documents
        .iter()
        .map(|d| Doc {
            name: d.name.clone(),
            required: d.required,
            ..Default::default()
        })
        .collect()
}

/// Renders the screen.
#[allow(clippy::too_many_arguments)]
async fn screen(
    s: &AppState,
    sess: &Session,
    lang: &str,
    typed: &Typed,
    rec: Option<&ProcedureRecord>,
    values: &serde_json::Value,
    out: &Outcome<'_>,
    search_q: &str,
    hits: Option<Vec<(String, String)>>,
    status: StatusCode,
) -> Response {
    let t = texts::get(lang);
    let agency = sess
        .actor
        .agency
        .as_ref()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let ticket = if typed.ticket.is_empty() {
        None
    } else {
        ticket_number(s, &agency, &typed.ticket).await
    };
    let eform = match rec {
        Some(r) => {
            let units = match s.units().await {
                Ok(u) => u,
                Err(e) => {
                    tracing::error!(error = %e, "units unavailable");
                    return super::busy(lang);
                }
            };
            let def = r.version.form_or_generic();
            render_form(&RenderInput {
                def: &def,
                values,
                errors: &out.form_errors,
                lang,
                units: units.as_ref(),
                action: PATH,
                add_row: out.add_row,
                today: (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive(),
                embedded: true,
                attach: None,
            })
        }
        None => String::new(),
    };
    let procedure = rec.map(|r| {
        context! {
            code => r.version.code.to_string(),
            name => r.version.name.clone(),
            time_limit => r.version.time_limit.label_vi(),
        }
    });
    let mut resp = crate::pages::render(
        "reception.html",
        lang,
        context! {
            st => t.value(), me => &sess.actor, csrf => &sess.csrf,
            typed, procedure, ticket, errors => &out.errors, message => &out.message,
            eform => minijinja::Value::from_safe_string(eform),
            style => STYLE, q => search_q, hits,
            has_form_errors => !out.form_errors.is_empty(), posted => out.posted,
        },
    );
    *resp.status_mut() = status;
    resp
}

/// `GET /can-bo/tiep-nhan`: step 1 (search), the screen for a chosen procedure, or the result
/// page of a dossier just handled (`?xong=<id>`).
pub(crate) async fn page(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let sess = match desk(session, &back_to(&p), lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Some(id) = p.xong.as_deref() {
        return result(&s, &sess, lang, id, p.ve.as_deref()).await;
    }
    let agency = sess
        .actor
        .agency
        .as_ref()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let mut typed = Typed {
        channel: "counter".into(),
        form_mode: "giay".into(),
        notify: "email,sms".into(),
        key: random_hex(16),
        ticket: p
            .ve
            .clone()
            .filter(|v| v.parse::<Uuid>().is_ok())
            .unwrap_or_default(),
        ..Default::default()
    };
    let search_q: String =
        p.q.as_deref()
            .unwrap_or("")
            .trim()
            .chars()
            .take(200)
            .collect();
    let mut out = Outcome::default();
    // Typing an exact code opens that procedure.
    let chosen = p
        .thu_tuc
        .clone()
        .or_else(|| motcua_search::is_code(&search_q).then(|| search_q.clone()));
    let empty = serde_json::Value::Object(Default::default());
    if let Some(code) = chosen {
        match procedure_here(&s, &agency, &code, lang).await {
            Ok(rec) => {
                typed.procedure = rec.version.code.to_string();
                typed.docs = fresh_docs(&rec);
                return screen(
                    &s,
                    &sess,
                    lang,
                    &typed,
                    Some(&rec),
                    &empty,
                    &out,
                    "",
                    None,
                    StatusCode::OK,
                )
                .await;
            }
            Err((status, msg)) => {
                out.errors.insert("procedure", msg);
                let hits = if search_q.is_empty() {
                    None
                } else {
                    Some(search(&s, &agency, &search_q).await)
                };
                return screen(
                    &s, &sess, lang, &typed, None, &empty, &out, &search_q, hits, status,
                )
                .await;
            }
        }
    }
    let hits = if search_q.is_empty() {
        None
    } else {
        Some(search(&s, &agency, &search_q).await)
    };
    screen(
        &s,
        &sess,
        lang,
        &typed,
        None,
        &empty,
        &out,
        &search_q,
        hits,
        StatusCode::OK,
    )
    .await
}

/// What the multipart form carried.
#[derive(Default)]
struct Posted {
    fields: Vec<(String, String)>,
    /// Scans by component index: (file name, bytes).
    files: Vec<(usize, String, Bytes)>,
}

impl Posted {
    fn get(&self, k: &str) -> String {
        self.fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().chars().take(MAX_FIELD).collect())
            .unwrap_or_default()
    }
}

/// Reads the whole form, holding it to `cap` bytes in all (files included).
async fn read_posted(mut mp: Multipart, cap: u64) -> Result<Posted, StatusCode> {
    let mut p = Posted::default();
    let mut total: u64 = 0;
    while let Some(mut field) = mp.next_field().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::BAD_REQUEST
        }
    })? {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let mut buf = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|_| StatusCode::BAD_REQUEST)? {
            total += chunk.len() as u64;
            if total > cap {
                return Err(StatusCode::PAYLOAD_TOO_LARGE);
            }
            buf.extend_from_slice(&chunk);
        }
        if p.fields.len() + p.files.len() > 3000 {
            return Err(StatusCode::BAD_REQUEST);
        }
        match (name.strip_prefix("_scan_"), file_name) {
            (Some(i), Some(f)) => {
                if let Ok(i) = i.parse::<usize>()
                    && !buf.is_empty()
                {
                    p.files.push((i, f, Bytes::from(buf)));
                }
            }
            _ => {
                let v = String::from_utf8(buf).map_err(|_| StatusCode::BAD_REQUEST)?;
                p.fields.push((name, v));
            }
        }
    }
    Ok(p)
}

/// The e-form values among the posted fields (names not starting with `_`, except the form's
/// own `_uploads`, `_add` and `_choose`).
fn eform_values(p: &Posted) -> Result<(serde_json::Value, crate::forms::Controls), String> {
    let mut body = form_urlencoded::Serializer::new(String::new());
    for (n, v) in &p.fields {
        let ours =
            n.starts_with('_') && !(n.starts_with("_uploads") || n == "_add" || n == "_choose");
        if ours || n == "csrf" || n == "lang" {
            continue;
        }
        body.append_pair(n, v);
    }
    parse_body(body.finish().as_bytes())
}

/// Whether nothing was typed in the e-form (the paper declaration is on file).
fn all_blank(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::String(s) => s.trim().is_empty(),
        serde_json::Value::Object(m) => m.values().all(all_blank),
        serde_json::Value::Array(a) => a.iter().all(all_blank),
        _ => false,
    }
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|x| !x.is_empty())
}

fn bad_pid(lang: &str, raw: &str, e: impl std::fmt::Display) -> String {
    if en(lang) {
        format!("«{raw}» is not a personal ID: it has 12 digits ({e}).")
    } else {
        format!("«{raw}» không phải số định danh cá nhân: cần đủ 12 chữ số ({e}).")
    }
}

/// `POST /can-bo/tiep-nhan`: the screen's buttons.
pub(crate) async fn submit(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<Params>, QueryRejection>,
    req: Request,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let sess = match desk(session, PATH, lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = texts::get(lang);
    let agency = sess
        .actor
        .agency
        .as_ref()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let unreadable = |status: StatusCode| {
        crate::pages::error_page(
            status,
            lang,
            t.get("error"),
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                "Các tệp gửi lên quá lớn; vui lòng quét ở độ phân giải thấp hơn. / The files sent are too large; please scan at a lower resolution."
            } else {
                "Không đọc được biểu mẫu; vui lòng tải lại trang. / The form could not be read; please reload the page."
            },
        )
    };
    let Ok(mp) = Multipart::from_request(req, &s).await else {
        return unreadable(StatusCode::BAD_REQUEST);
    };
    // Room for one scan per component at the largest limit, and the text around them.
    let cap = s.files.largest_limit().saturating_mul(12) + (1 << 20);
    let mut posted = match read_posted(mp, cap).await {
        Ok(p) => p,
        Err(st) => return unreadable(st),
    };
    let mut typed = Typed {
        procedure: posted.get("_thu_tuc"),
        ticket: Some(posted.get("_ve"))
            .filter(|v| v.parse::<Uuid>().is_ok())
            .unwrap_or_default(),
        personal_id: posted.get("_cccd").replace([' ', '.'], ""),
        name: posted.get("_ho_ten"),
        phone: posted.get("_dien_thoai"),
        email: posted.get("_email"),
        address: posted.get("_dia_chi"),
        channel: match posted.get("_kenh").as_str() {
            "post" => "post",
            "online" => "online",
            _ => "counter",
        }
        .into(),
        account: posted.get("_tai_khoan"),
        tracking: posted
            .get("_van_don")
            .replace([' ', '-'], "")
            .to_uppercase(),
        note: posted.get("_ghi_chu"),
        missing: posted.get("_thieu"),
        supplement_reason: posted.get("_ly_do_bs"),
        refusal: posted.get("_ly_do_tc"),
        key: Some(posted.get("_khoa"))
            .filter(|k| !k.is_empty() && k.len() <= 64 && k.bytes().all(|b| b.is_ascii_hexdigit()))
            .unwrap_or_else(|| random_hex(16)),
        form_mode: posted.get("_to_khai"),
        // Unticked boxes are absent; a screen without the boxes keeps the default.
        notify: if posted.get("_tb").is_empty() {
            "email,sms".into()
        } else {
            ["email", "sms", "zalo"]
                .into_iter()
                .filter(|c| !posted.get(&format!("_tb_{c}")).is_empty())
                .collect::<Vec<_>>()
                .join(",")
        },
        docs: Vec::new(),
    };
    let mut out = Outcome {
        posted: true,
        ..Default::default()
    };
    let (values, controls) = match eform_values(&posted) {
        Ok(v) => v,
        Err(e) => {
            out.errors.insert("form", e);
            (
                serde_json::Value::Object(Default::default()),
                Default::default(),
            )
        }
    };
    // Without the choice (a client other than the page), a blank e-form means the paper one.
    if !matches!(typed.form_mode.as_str(), "giay" | "dien_tu") {
        typed.form_mode = if all_blank(&values) {
            "giay"
        } else {
            "dien_tu"
        }
        .into();
    }
    let found = procedure_here(&s, &agency, &typed.procedure, lang).await;
    if let Ok(r) = &found {
        typed.procedure = r.version.code.to_string();
        typed.docs = fresh_docs(r);
        for (i, d) in typed.docs.iter_mut().enumerate() {
            d.received = posted.get(&format!("_nhan_{i}")) == "1";
            d.key = posted.get(&format!("_key_{i}"));
            d.file_name = posted.get(&format!("_tenfile_{i}"));
            if d.key.is_empty() {
                d.file_name.clear();
            }
        }
    }
    // A form without this session's token changes nothing: no file kept, nobody looked up.
    if !sess.csrf_ok(Some(posted.get("csrf").as_str())) {
        out.errors
            .insert("general", t.get("expired_form_keep").into());
        return screen(
            &s,
            &sess,
            lang,
            &typed,
            found.as_deref().ok(),
            &values,
            &out,
            "",
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let rec = match found {
        Ok(r) => r,
        Err((status, msg)) => {
            out.errors.insert("procedure", msg);
            let empty = serde_json::Value::Object(Default::default());
            return screen(
                &s, &sess, lang, &typed, None, &empty, &out, "", None, status,
            )
            .await;
        }
    };
    // Scans: checked by their bytes and kept in the officer's data store.
    let mut status = StatusCode::OK;
    for (i, file_name, bytes) in std::mem::take(&mut posted.files) {
        let Some(d) = typed.docs.get_mut(i) else {
            continue;
        };
        let limit = s.files.limit(Some(&d.name));
        let stored = if bytes.len() as u64 > limit {
            Err(crate::api::files::refused(
                &motcua_domain::files::Refusal::TooLarge { limit },
            ))
        } else {
            crate::api::files::store_upload(&s, &sess.actor, &file_name, bytes).await
        };
        match stored {
            Ok(f) => {
                d.key = f.key;
                d.file_name = f.name;
                d.received = true;
                d.error.clear();
            }
            Err(e) if e.status().is_server_error() => return super::busy(lang),
            Err(e) => {
                d.error = file_message(&e, lang);
                if status == StatusCode::OK || e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    status = e.status();
                }
            }
        }
    }
    let op = posted.get("_op");
    // Buttons that only re-show the page.
    if controls.add.is_some() || controls.choose {
        let add = controls.add.clone();
        out.add_row = add.as_deref();
        return screen(
            &s,
            &sess,
            lang,
            &typed,
            Some(&rec),
            &values,
            &out,
            "",
            None,
            status,
        )
        .await;
    }
    if op == "tra_cuu" {
        lookup(&s, &sess, lang, &mut typed, &mut out).await;
        let st = if out.errors.is_empty() {
            status
        } else {
            StatusCode::BAD_REQUEST
        };
        return screen(
            &s,
            &sess,
            lang,
            &typed,
            Some(&rec),
            &values,
            &out,
            "",
            None,
            st,
        )
        .await;
    }
    if !matches!(op.as_str(), "tiep_nhan" | "bo_sung" | "tu_choi") {
        out.errors.insert(
            "general",
            if en(lang) {
                "Choose one of the buttons at the bottom: receive, request a supplement or refuse."
            } else {
                "Hãy bấm một trong các nút cuối trang: tiếp nhận, yêu cầu bổ sung hoặc từ chối."
            }
            .into(),
        );
        return screen(
            &s,
            &sess,
            lang,
            &typed,
            Some(&rec),
            &values,
            &out,
            "",
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    if status != StatusCode::OK {
        // A scan was refused: the officer sees why next to it and tries again.
        return screen(
            &s,
            &sess,
            lang,
            &typed,
            Some(&rec),
            &values,
            &out,
            "",
            None,
            status,
        )
        .await;
    }
    act(&s, &sess, lang, &op, typed, &rec, values, out).await
}

fn file_message(e: &ApiError, lang: &str) -> String {
    let en_msg =
        e.0.extra
            .as_ref()
            .and_then(|x| x.get("message_en"))
            .and_then(|m| m.as_str())
            .map(String::from);
    match (en(lang), en_msg) {
        (true, Some(m)) => m,
        _ => e.detail().to_string(),
    }
}

/// The identity lookup button.
async fn lookup(
    s: &AppState,
    sess: &Session,
    lang: &str,
    typed: &mut Typed,
    out: &mut Outcome<'_>,
) {
    if typed.personal_id.is_empty() {
        out.errors.insert(
            "personal_id",
            if en(lang) {
                "Type the 12-digit personal ID first."
            } else {
                "Nhập số định danh cá nhân (12 chữ số) trước khi tra cứu."
            }
            .into(),
        );
        return;
    }
    let pid: PersonalId = match typed.personal_id.parse() {
        Ok(p) => p,
        Err(e) => {
            out.errors
                .insert("personal_id", bad_pid(lang, &typed.personal_id, e));
            return;
        }
    };
    let provider = identity::provider(s);
    let national = provider.source() != "local";
    match identity::lookup_audited(s, &*provider, &pid, Purpose::CounterReception, &sess.actor)
        .await
    {
        Ok(Some(who)) => {
            typed.name = who.name;
            // The population database has no phone or e-mail: keep what was typed then.
            if let Some(p) = who.phone {
                typed.phone = p;
            }
            if let Some(e) = who.email {
                typed.email = e;
            }
            if let Some(a) = who.address {
                typed.address = a;
            }
            out.message = Some(
                match (national, en(lang)) {
                    (true, true) => "Found in the national population database: check the details against the ID card and ask for a phone number.",
                    (true, false) => "Đã tìm thấy trong Cơ sở dữ liệu quốc gia về dân cư: vui lòng đối chiếu với thẻ căn cước và hỏi số điện thoại liên hệ.",
                    (false, true) => "Found: the details below come from this person's latest dossier. Check them against the ID card.",
                    (false, false) => "Đã tìm thấy: thông tin dưới đây lấy từ hồ sơ gần nhất của người này. Vui lòng đối chiếu với thẻ căn cước.",
                }
                .into(),
            );
        }
        Ok(None) => {
            out.message = Some(
                if en(lang) {
                    "No record for this personal ID: type the applicant's details by hand."
                } else {
                    "Chưa có thông tin của số định danh này: vui lòng nhập tay thông tin người nộp."
                }
                .into(),
            );
        }
        Err(e) => {
            tracing::error!(status = %e.status(), "identity lookup failed");
            out.errors.insert(
                "personal_id",
                "Không tra cứu được lúc này, vui lòng thử lại hoặc nhập tay. / The lookup failed; retry or type the details."
                    .into(),
            );
        }
    }
}

/// Receive, request a supplement or refuse.
#[allow(clippy::too_many_arguments)]
async fn act(
    s: &AppState,
    sess: &Session,
    lang: &str,
    op: &str,
    typed: Typed,
    rec: &ProcedureRecord,
    values: serde_json::Value,
    mut out: Outcome<'_>,
) -> Response {
    let e = en(lang);
    // The applicant.
    if typed.name.is_empty() {
        out.errors.insert(
            "name",
            if e {
                "Type the applicant's full name."
            } else {
                "Nhập họ tên người nộp hồ sơ."
            }
            .into(),
        );
    }
    let personal_id = if typed.personal_id.is_empty() {
        None
    } else {
        match typed.personal_id.parse::<PersonalId>() {
            Ok(p) => Some(p),
            Err(err) => {
                out.errors
                    .insert("personal_id", bad_pid(lang, &typed.personal_id, err));
                None
            }
        }
    };
    // The channel.
    let channel = match typed.channel.as_str() {
        "post" => Channel::Post,
        "online" => Channel::Online,
        _ => Channel::Counter,
    };
    // Online on behalf of a citizen who came for help: their account, the e-form, and received
    // here and now.
    if channel == Channel::Online {
        if typed.account.is_empty() {
            out.errors.insert(
                "account",
                if e {
                    "Type the user name of the citizen's public-service account."
                } else {
                    "Nhập tên tài khoản dịch vụ công của công dân."
                }
                .into(),
            );
        }
        if op != "tiep_nhan" {
            out.errors.insert(
                "account",
                if e {
                    "A dossier submitted online for a citizen is received here; otherwise choose counter."
                } else {
                    "Hồ sơ nộp trực tuyến thay công dân chỉ dùng để tiếp nhận; trường hợp khác chọn nộp trực tiếp."
                }
                .into(),
            );
        }
        if typed.form_mode != "dien_tu" {
            out.errors.insert(
                "form",
                if e {
                    "An online dossier carries the e-form: fill it in for the applicant."
                } else {
                    "Hồ sơ trực tuyến phải có tờ khai điện tử: vui lòng nhập tờ khai thay người nộp."
                }
                .into(),
            );
        }
    }
    if channel == Channel::Post && !valid_postal_tracking(&typed.tracking) {
        out.errors.insert(
            "tracking",
            if typed.tracking.is_empty() {
                if e {
                    "A dossier received by post needs its postal tracking number."
                } else {
                    "Hồ sơ nhận qua bưu chính cần số hiệu bưu gửi."
                }
                .to_string()
            } else if e {
                format!(
                    "«{}» is not a tracking number: 9 to 20 letters and digits.",
                    typed.tracking
                )
            } else {
                format!(
                    "«{}» không phải số hiệu bưu gửi: gồm 9 đến 20 chữ cái và chữ số.",
                    typed.tracking
                )
            },
        );
    }
    // What the button needs.
    let missing: Vec<String> = typed
        .docs
        .iter()
        .filter(|d| !d.received && d.key.is_empty())
        .filter(|d| d.required)
        .map(|d| d.name.clone())
        .chain(lines(&typed.missing))
        .collect();
    let command = match op {
        "bo_sung" => {
            // What is missing: the required components not ticked and what the officer wrote.
            let items = missing;
            if items.is_empty() {
                out.errors.insert(
                    "missing",
                    if e {
                        "Say what is missing: untick the components not brought, or write them here."
                    } else {
                        "Ghi rõ thành phần còn thiếu: bỏ chọn thành phần chưa nộp hoặc ghi vào đây."
                    }
                    .into(),
                );
            }
            let reason = opt(&typed.supplement_reason).unwrap_or_else(|| {
                "Hồ sơ chưa đầy đủ thành phần theo quy định của thủ tục.".into()
            });
            Some(Command::RequestSupplement { items, reason })
        }
        "tu_choi" => {
            let reasons = lines(&typed.refusal);
            if reasons.is_empty() {
                out.errors.insert(
                    "refusal",
                    if e {
                        "Write the reasons for refusing (one per line): the refusal notice lists them."
                    } else {
                        "Ghi lý do từ chối (mỗi lý do một dòng): phiếu từ chối sẽ in các lý do này."
                    }
                    .into(),
                );
            }
            Some(Command::Refuse { reasons })
        }
        _ => None,
    };
    // The e-form: blank means the paper declaration is on file; otherwise the server checks it.
    let form = if command.is_some() || typed.form_mode == "giay" {
        serde_json::Value::Object(Default::default())
    } else {
        let def = rec.version.form_or_generic();
        let mut m = values.as_object().cloned().unwrap_or_default();
        let profile = motcua_domain::forms::Profile {
            name: opt(&typed.name),
            personal_id: opt(&typed.personal_id),
            phone: opt(&typed.phone),
            email: opt(&typed.email),
            address_line: opt(&typed.address),
            ..Default::default()
        };
        motcua_domain::forms::prefill_missing(&def, &profile, &mut m);
        let m = serde_json::Value::Object(m);
        match s.check_form(&def, &m).await {
            Ok(Ok(_)) => m,
            Ok(Err(errs)) => {
                out.form_errors = errs;
                out.errors.insert(
                    "form",
                    if e {
                        "The e-form has errors (marked next to the fields); or choose «paper declaration handed in»."
                    } else {
                        "Tờ khai điện tử có lỗi (ghi cạnh từng ô); hoặc chọn «đã nộp tờ khai giấy»."
                    }
                    .into(),
                );
                serde_json::Value::Null
            }
            Err(err) => {
                tracing::error!(error = %err, "form check failed");
                return super::busy(lang);
            }
        }
    };
    if !out.errors.is_empty() || !out.form_errors.is_empty() {
        let status = if out.form_errors.is_empty() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return screen(
            s,
            sess,
            lang,
            &typed,
            Some(rec),
            &values,
            &out,
            "",
            None,
            status,
        )
        .await;
    }
    let agency = sess.actor.agency.as_ref().map(|a| a.to_string());
    let ticket = if typed.ticket.is_empty() {
        None
    } else {
        ticket_number(s, agency.as_deref().unwrap_or(""), &typed.ticket).await
    };
    let note = match (opt(&typed.note), ticket) {
        (Some(n), Some(t)) => Some(format!("{n} (số thứ tự {t})")),
        (None, Some(t)) => Some(format!("Số thứ tự {t}")),
        (n, None) => n,
    };
    let documents: Vec<DocumentRef> = typed
        .docs
        .iter()
        .filter(|d| d.received || !d.key.is_empty())
        .map(|d| DocumentRef {
            name: d.name.clone(),
            file: opt(&d.key),
        })
        .collect();
    let req = SubmitRequest {
        procedure_code: rec.version.code.to_string(),
        agency,
        channel,
        applicant: Some(Applicant {
            name: typed.name.clone(),
            personal_id,
            phone: opt(&typed.phone),
            email: opt(&typed.email),
            address: opt(&typed.address),
            notify: Some(typed.channels()),
        }),
        documents,
        form,
        note,
        postal_tracking: (channel == Channel::Post).then(|| typed.tracking.clone()),
        receive: command.is_none(),
        on_behalf_of: (channel == Channel::Online).then(|| typed.account.clone()),
        postal: None,
    };
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("reception-{}", typed.key)) {
        headers.insert("idempotency-key", v);
    }
    let done = crate::api::dossiers::submit(
        State(s.clone()),
        Auth(sess.actor.clone()),
        headers,
        Ok(Json(req)),
    )
    .await;
    let view = match done {
        Ok((_, Json(v))) => v,
        Err(err) => return refused(s, sess, lang, &typed, rec, &values, out, err).await,
    };
    let id = view.dossier.id;
    // Online for a citizen at the desk: the officer has the papers in hand and receives it now.
    let command = match command {
        None if channel == Channel::Online => Some(Command::Receive),
        c => c,
    };
    if let Some(cmd) = command
        && view.dossier.status == Status::AwaitingReception
    {
        let action = cmd.name();
        if let Err(err) = perform(s, &sess.actor, id, cmd, None, None).await {
            // The dossier is recorded (not received); its page offers the action again.
            tracing::warn!(status = %err.status(), dossier = %id, "reception action failed");
            return crate::pages::error_page(
                if err.status().is_client_error() {
                    err.status()
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                },
                lang,
                texts::get(lang).get("error"),
                &format!("{} — /can-bo/ho-so/{id}", err.detail()),
            );
        }
        metrics::counter!("motcua_dossier_actions_total", "action" => action).increment(1);
    }
    let mut url = format!("{PATH}?xong={id}");
    if !typed.ticket.is_empty() {
        url.push_str(&format!("&ve={}", typed.ticket));
    }
    if lang == "en" {
        url.push_str("&lang=en");
    }
    Redirect::to(&url).into_response()
}

/// The submission was refused by the API's checks: show why, next to the field when one is named.
#[allow(clippy::too_many_arguments)]
async fn refused(
    s: &AppState,
    sess: &Session,
    lang: &str,
    typed: &Typed,
    rec: &ProcedureRecord,
    values: &serde_json::Value,
    mut out: Outcome<'_>,
    err: ApiError,
) -> Response {
    if err.status().is_server_error() {
        tracing::error!(status = %err.status(), "reception submit failed");
        return super::busy(lang);
    }
    let field = err.0.field.clone().unwrap_or_default();
    let key: &'static str = match field.as_str() {
        "postal_tracking" => "tracking",
        "on_behalf_of" => "account",
        "procedure_code" | "agency" => "procedure",
        f if f.starts_with("applicant") => "name",
        "form" => "form",
        _ => "general",
    };
    out.errors.insert(key, err.detail().to_string());
    screen(
        s,
        sess,
        lang,
        typed,
        Some(rec),
        values,
        &out,
        "",
        None,
        err.status(),
    )
    .await
}

/// The result page: what happened, and the paper to print.
async fn result(
    s: &AppState,
    sess: &Session,
    lang: &str,
    id: &str,
    ticket: Option<&str>,
) -> Response {
    let Ok(uuid) = id.parse::<Uuid>() else {
        return super::not_found(lang);
    };
    let d: Dossier = match load_visible(s, &sess.actor, uuid).await {
        Ok(v) => v.into_inner(),
        Err(e) if e.status() == StatusCode::NOT_FOUND => return super::not_found(lang),
        Err(_) => return super::busy(lang),
    };
    let t = texts::get(lang);
    let outcome = match d.status {
        Status::Refused => "refused",
        Status::SupplementAtReception => "supplement",
        Status::AwaitingReception => "waiting",
        _ if d.code.is_some() => "received",
        _ => "waiting",
    };
    let scans = d.documents.iter().filter(|x| x.file.is_some()).count();
    crate::pages::render(
        "reception_done.html",
        lang,
        context! {
            st => t.value(), me => &sess.actor, csrf => &sess.csrf,
            d => &d, outcome, scans,
            due => local(d.due_at),
            status_label => texts::status(d.status, lang),
            ticket => ticket.filter(|v| v.parse::<Uuid>().is_ok()),
        },
    )
}
