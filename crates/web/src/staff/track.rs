//! `GET /ca-nhan/ho-so/{id}`: the applicant's tracking page — status in plain words, the
//! appointment, what happens next, the history as the applicant reads it, notices (supplement
//! asked, refusal, apology, result) and the papers (PDF). Only the owner sees it; anyone else
//! is told it does not exist. `POST /ca-nhan/ho-so/{id}/bo-sung` supplies a supplement from
//! the page: uploaded files (checked like every upload, kept in the data store) or documents
//! re-used from the data store, and a note, through the one path every action takes.
//! `POST /ca-nhan/ho-so/{id}/danh-gia` rates the service once the result was returned (the
//! satisfaction the province's service index counts), through the same path.

use super::{forbidden, lang_of, local, texts, to_sign_in};
use crate::AppState;
use crate::api::dossiers::perform;
use crate::session::{MaybeSession, Session};
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use minijinja::context;
use motcua_domain::agency::Role;
use motcua_domain::codes::AgencyCode;
use motcua_domain::dossier::{Command, DocumentRef, Dossier, EventBody, notice};
use motcua_domain::files::FileKey;
use motcua_domain::status::Status;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// Most files sent with one supplement.
pub(crate) const MAX_FILES: usize = 5;

/// Query of the page.
#[derive(Deserialize, Default)]
pub(crate) struct Params {
    lang: Option<String>,
    /// Just submitted: show the receipt panel's welcome.
    moi: Option<String>,
    /// A supplement was just sent.
    xong: Option<String>,
}

/// Where the page lives.
pub(crate) fn path_of(id: Uuid) -> String {
    format!("/ca-nhan/ho-so/{id}")
}

/// The signed-in citizen, or the response that turns the request away.
#[allow(clippy::result_large_err)]
fn citizen(session: MaybeSession, back_to: &str, lang: &str) -> Result<Session, Response> {
    match session.0 {
        Some(s) if s.actor.role == Role::Citizen => Ok(s),
        Some(_) => Err(forbidden(lang)),
        None => Err(to_sign_in(back_to)),
    }
}

/// The dossier if `sess` owns it; otherwise the friendly 404 (as if it did not exist).
async fn owned(s: &AppState, sess: &Session, id: &str, lang: &str) -> Result<Dossier, Response> {
    let Ok(id) = id.parse::<Uuid>() else {
        return Err(super::not_found(lang));
    };
    match s.store.dossier(id).await {
        Ok(Some(d)) if d.is_owner(&sess.actor) => Ok(d),
        Ok(_) => Err(super::not_found(lang)),
        Err(e) => {
            tracing::error!(error = %e, "reading a dossier for its owner failed");
            Err(super::busy(lang))
        }
    }
}

#[derive(Serialize)]
struct Paper {
    kind: &'static str,
    label: &'static str,
}

#[derive(Serialize, Default)]
struct Notices {
    supplement_items: Vec<String>,
    supplement_reason: Option<String>,
    refusal: Option<Vec<String>>,
    apology_reason: Option<String>,
    apology_new_due: Option<String>,
    result: Option<String>,
}

#[derive(Serialize)]
struct VaultRow {
    key: String,
    name: String,
    added: String,
}

/// What the page says on top of the dossier.
#[derive(Default)]
pub(crate) struct Flash<'a> {
    new: bool,
    sent: bool,
    rated: bool,
    /// The notice channels were changed.
    notified: bool,
    /// How an online payment went (a text key).
    pay: Option<&'static str>,
    error: Option<&'a str>,
    /// The postal choice was saved.
    postal_saved: bool,
    /// The postal form as typed, and why it was refused.
    postal: Option<(super::postal::Typed, &'a str)>,
}

/// One payment attempt as the applicant (and the desk) reads it.
#[derive(Serialize)]
pub(crate) struct PaymentRow {
    reference: String,
    amount: String,
    method: &'static str,
    status: &'static str,
    paid: bool,
    at: String,
    receipt_no: Option<String>,
    /// The e-receipt's file (sha256 hex), served at `/api/v1/dossiers/{id}/files/{hex}`.
    receipt: Option<String>,
}

/// The dossier's payment attempts for a page (failed INITs that never reached the applicant
/// are left out).
pub(crate) async fn payment_rows(s: &AppState, d: &Dossier, lang: &str) -> Vec<PaymentRow> {
    use motcua_domain::payment::PaymentStatus;
    let t = texts::get(lang);
    let en = lang == "en";
    let list = match s.store.payments_of(d.id).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "payments unavailable");
            return Vec::new();
        }
    };
    list.into_iter()
        .filter(|p| {
            !(p.status == PaymentStatus::Failed
                && p.callback
                    .as_deref()
                    .is_some_and(|c| c.starts_with("INIT failed")))
        })
        .map(|p| {
            let status = match p.status {
                _ if p.awaiting_confirmation() => "ps_confirming",
                PaymentStatus::Initiated => "ps_initiated",
                PaymentStatus::Paid => "ps_paid",
                PaymentStatus::Failed => "ps_failed",
                PaymentStatus::Cancelled => "ps_cancelled",
            };
            PaymentRow {
                amount: notice::money(p.amount_vnd),
                method: if en {
                    p.method.label_en()
                } else {
                    p.method.label_vi()
                },
                status: t.get(status),
                paid: p.status == PaymentStatus::Paid,
                at: local(Some(p.paid_at.unwrap_or(p.created_at))),
                receipt_no: p.receipt_no.clone(),
                receipt: p
                    .receipt
                    .as_deref()
                    .and_then(FileKey::parse_ref)
                    .map(|k| k.hex().to_string()),
                reference: p.reference,
            }
        })
        .collect()
}

/// The five satisfaction levels, best first: (score, text key).
const LEVELS: [(u8, &str); 5] = [
    (5, "rate_5"),
    (4, "rate_4"),
    (3, "rate_3"),
    (2, "rate_2"),
    (1, "rate_1"),
];

/// Longest comment kept with a rating (characters).
const MAX_COMMENT: usize = 2000;

/// One satisfaction level as the page offers it.
#[derive(Serialize)]
struct Level {
    score: u8,
    label: &'static str,
}

fn next_key(st: Status) -> &'static str {
    match st {
        Status::AwaitingReception => "tr_next_awaiting",
        Status::SupplementAtReception | Status::SupplementRequested => "tr_next_supplement",
        Status::Received | Status::Processing => "tr_next_progress",
        Status::AwaitingPayment => "tr_next_payment",
        Status::ResultReady => "tr_next_ready",
        Status::Refused | Status::Withdrawn | Status::Stopped | Status::Returned => {
            "tr_next_closed"
        }
    }
}

fn waits_for_supplement(st: Status) -> bool {
    matches!(
        st,
        Status::SupplementAtReception | Status::SupplementRequested
    )
}

/// Agency names by code (for the history's sentences).
pub(crate) async fn agency_names(s: &AppState) -> HashMap<AgencyCode, String> {
    match s.store.agencies().await {
        Ok(a) => a.into_iter().map(|a| (a.code, a.name)).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "agency names unavailable");
            HashMap::new()
        }
    }
}

async fn render(
    s: &AppState,
    sess: &Session,
    d: &Dossier,
    lang: &str,
    flash: Flash<'_>,
    status: StatusCode,
) -> Response {
    let t = texts::get(lang);
    let en = lang == "en";
    let log = match s.store.history(d.id).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "history failed");
            return super::busy(lang);
        }
    };
    let names = agency_names(s).await;
    let lookup = |a: &AgencyCode| names.get(a).cloned();
    let history = notice::history(log.iter().map(|e| &e.event), en, true, &lookup);
    let last = |f: &dyn Fn(&EventBody) -> bool| log.iter().rev().find(|e| f(&e.event.body));
    let mut n = Notices::default();
    if waits_for_supplement(d.status)
        && let Some(e) = last(&|b| matches!(b, EventBody::SupplementRequested { .. }))
        && let EventBody::SupplementRequested { items, reason, .. } = &e.event.body
    {
        n.supplement_items = items.clone();
        n.supplement_reason = Some(reason.clone());
    }
    if d.status == Status::Refused
        && let Some(e) = last(&|b| matches!(b, EventBody::Refused { .. }))
        && let EventBody::Refused { reasons } = &e.event.body
    {
        n.refusal = Some(reasons.clone());
    }
    if d.apologies > 0
        && let Some(e) = last(&|b| matches!(b, EventBody::ApologyIssued { .. }))
        && let EventBody::ApologyIssued {
            reason, new_due_at, ..
        } = &e.event.body
    {
        n.apology_reason = Some(reason.clone());
        n.apology_new_due = Some(notice::date(*new_due_at));
    }
    if matches!(d.status, Status::ResultReady | Status::Returned) {
        n.result = d.result.clone();
    }
    let mut papers = Vec::new();
    if d.code.is_some() {
        papers.push(Paper {
            kind: "receipt",
            label: t.get("doc_receipt"),
        });
    }
    if log
        .iter()
        .any(|e| matches!(e.event.body, EventBody::SupplementRequested { .. }))
    {
        papers.push(Paper {
            kind: "supplement",
            label: t.get("doc_supplement"),
        });
    }
    if d.status == Status::Refused {
        papers.push(Paper {
            kind: "refusal",
            label: t.get("doc_refusal"),
        });
    }
    if d.apologies > 0 {
        papers.push(Paper {
            kind: "apology",
            label: t.get("doc_apology"),
        });
    }
    if matches!(d.status, Status::Withdrawn | Status::Stopped) {
        papers.push(Paper {
            kind: "stop",
            label: t.get("doc_stop"),
        });
    }
    // Before reception: the appointment the desk would give if it received the dossier now,
    // on the receiving agency's calendar (the receipt's date is the official one).
    let expected = (d.status == Status::AwaitingReception).then(|| {
        let cal = s.calendars().for_agency(&d.receiving_agency);
        notice::date(cal.add_working_time(Utc::now(), d.procedure.time_limit.duration()))
    });
    let fee = (d.procedure.fee_vnd > 0).then(|| notice::money(d.procedure.fee_vnd));
    let owed_vnd = d.owed_vnd();
    let owed = (owed_vnd > 0).then(|| notice::money(owed_vnd));
    let payments = payment_rows(s, d, lang).await;
    let confirming = payments.iter().any(|p| p.status == t.get("ps_confirming"));
    let can_pay = s.payment.is_some()
        && owed_vnd > 0
        && !confirming
        && !matches!(
            d.status,
            Status::Refused | Status::Withdrawn | Status::Stopped | Status::Returned
        );
    let supply = waits_for_supplement(d.status);
    let vault: Vec<VaultRow> = if supply {
        match s.store.vault(sess.actor.user_id, 50).await {
            Ok(v) => v
                .into_iter()
                .map(|(e, f)| VaultRow {
                    key: f.key.reference(),
                    name: e.name,
                    added: local(Some(e.added_at)),
                })
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "data store unavailable");
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    let can_rate = d.status == Status::Returned && d.rating.is_none();
    // The notice channels can be changed while the dossier is open.
    let can_notify = !matches!(
        d.status,
        Status::Refused | Status::Withdrawn | Status::Stopped | Status::Returned
    );
    let levels: Vec<Level> = LEVELS
        .iter()
        .map(|(score, key)| Level {
            score: *score,
            label: t.get(key),
        })
        .collect();
    let rated_label = d.rating.as_ref().and_then(|r| {
        LEVELS
            .iter()
            .find(|(score, _)| *score == r.score)
            .map(|(_, key)| t.get(key))
    });
    let rated_comment = d.rating.as_ref().and_then(|r| r.comment.clone());
    let (typed, postal_error) = match flash.postal {
        Some((typed, e)) => (Some(typed), Some(e)),
        None => (None, None),
    };
    let postal_ctx =
        super::postal::context(s, d, lang, typed, postal_error, flash.postal_saved).await;
    let mut r = crate::pages::render(
        "citizen_dossier.html",
        lang,
        context! {
            st => t.value(), me => &sess.actor, csrf => &sess.csrf, d => d,
            status_label => notice::status_text(d.status, en),
            next => t.get(next_key(d.status)),
            submitted => local(Some(d.submitted_at)),
            received => local(d.received_at),
            due => d.due_at.map(notice::date),
            time_limit => d.procedure.time_limit.label_vi(),
            expected, fee, history, n, papers, supply, vault,
            max_files => MAX_FILES,
            new => flash.new, sent => flash.sent, rated => flash.rated, error => flash.error,
            can_rate, levels, rated_label, rated_comment,
            can_notify, channels => d.applicant.channels(), notified => flash.notified,
            owed, payments, can_pay, confirming, pay_flash => flash.pay.map(|k| t.get(k)),
            postal_action => format!("{}/buu-chinh?lang={lang}", path_of(d.id)),
            postal_can_edit => true,
            ..postal_ctx
        },
    );
    *r.status_mut() = status;
    r
}

/// The page.
pub(crate) async fn page(
    State(s): State<AppState>,
    session: MaybeSession,
    Path(id): Path<String>,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let sess = match citizen(session, &format!("/ca-nhan/ho-so/{id}"), lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let d = match owned(&s, &sess, &id, lang).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let flash = Flash {
        new: p.moi.is_some(),
        sent: p.xong.as_deref() == Some("bo-sung"),
        rated: p.xong.as_deref() == Some("danh-gia"),
        notified: p.xong.as_deref() == Some("thong-bao"),
        pay: match p.xong.as_deref() {
            Some("da-thanh-toan") => Some("tr_paid_ok"),
            Some("dang-xac-nhan") => Some("tr_pay_confirming"),
            Some("huy-thanh-toan") => Some("tr_pay_cancelled"),
            Some("chua-thanh-toan") => Some("tr_pay_failed"),
            _ => None,
        },
        postal_saved: p.xong.as_deref() == Some("buu-chinh"),
        ..Default::default()
    };
    render(&s, &sess, &d, lang, flash, StatusCode::OK).await
}

/// After `perform` said no (or failed): the page as the dossier is now, with what went wrong;
/// a dossier that is not the applicant's stays hidden (404).
async fn refused(
    s: &AppState,
    sess: &Session,
    id: &str,
    lang: &str,
    e: crate::error::ApiError,
) -> Response {
    if e.status() == StatusCode::NOT_FOUND {
        return super::not_found(lang);
    }
    let status = if e.status().is_client_error() {
        e.status()
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let d = match owned(s, sess, id, lang).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let flash = Flash {
        error: Some(e.detail()),
        ..Default::default()
    };
    render(s, sess, &d, lang, flash, status).await
}

/// What the supplement form carried.
#[derive(Default)]
struct Posted {
    csrf: Option<String>,
    note: String,
    files: Vec<(String, Bytes)>,
    vault: Vec<String>,
}

/// Reads the form: `csrf`, `note`, `file` (repeated; empty file inputs are skipped) and
/// `vault` (repeated: references of the data store). `Err` is a key of the texts.
async fn read(mut mp: Multipart, limit: u64) -> Result<Posted, (StatusCode, &'static str)> {
    let too_large = (StatusCode::PAYLOAD_TOO_LARGE, "tr_too_large");
    let bad = (StatusCode::BAD_REQUEST, "expired_form");
    let mut p = Posted::default();
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large),
            Err(_) => return Err(bad),
        };
        match field.name().unwrap_or_default() {
            "file" => {
                let name = field.file_name().unwrap_or_default().to_string();
                let mut field = field;
                let mut buf = Vec::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(c)) => {
                            if (buf.len() + c.len()) as u64 > limit {
                                return Err(too_large);
                            }
                            buf.extend_from_slice(&c);
                        }
                        Ok(None) => break,
                        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                            return Err(too_large);
                        }
                        Err(_) => return Err(bad),
                    }
                }
                // A file input left empty still sends a part, without a name or bytes.
                if name.is_empty() && buf.is_empty() {
                    continue;
                }
                if p.files.len() == MAX_FILES {
                    return Err((StatusCode::UNPROCESSABLE_ENTITY, "tr_too_many"));
                }
                p.files.push((name, Bytes::from(buf)));
            }
            other => {
                let other = other.to_string();
                let v = field.text().await.map_err(|_| bad)?;
                match other.as_str() {
                    "csrf" => p.csrf = Some(v),
                    "note" => p.note = v.trim().chars().take(2000).collect(),
                    "vault" if p.vault.len() < 50 => p.vault.push(v.trim().to_string()),
                    _ => {}
                }
            }
        }
    }
    Ok(p)
}

/// `POST /ca-nhan/ho-so/{id}/bo-sung`: supplies the supplement.
pub(crate) async fn supply(
    State(s): State<AppState>,
    session: MaybeSession,
    Path(id): Path<String>,
    q: Result<Query<Params>, QueryRejection>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let t = texts::get(lang);
    let sess = match citizen(session, &format!("/ca-nhan/ho-so/{id}"), lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let page_error = |status: StatusCode, key: &'static str| {
        crate::pages::error_page(status, lang, t.get("error"), t.get(key))
    };
    // Someone else's dossier does not exist, whatever the body.
    let d = match owned(&s, &sess, &id, lang).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let posted = match mp {
        Ok(mp) => match read(mp, s.files.limit(None)).await {
            Ok(p) => p,
            Err((status, key)) => return page_error(status, key),
        },
        Err(_) => return page_error(StatusCode::BAD_REQUEST, "expired_form"),
    };
    if !sess.csrf_ok(posted.csrf.as_deref()) {
        return page_error(StatusCode::FORBIDDEN, "expired_form");
    }
    let again = |msg: String, status: StatusCode| {
        let s = s.clone();
        let sess = sess.clone();
        let d = d.clone();
        async move {
            let flash = Flash {
                error: Some(&msg),
                ..Default::default()
            };
            render(&s, &sess, &d, lang, flash, status).await
        }
    };
    if !waits_for_supplement(d.status) {
        return again(t.get("tr_not_waiting").to_string(), StatusCode::CONFLICT).await;
    }
    if posted.files.is_empty() && posted.vault.is_empty() {
        return again(
            t.get("tr_need_file").to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    // Re-used documents must be the citizen's own (checked again by `perform`).
    let mut documents = Vec::new();
    for raw in &posted.vault {
        let Some(key) = FileKey::parse_ref(raw) else {
            return again(
                t.get("tr_need_file").to_string(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        };
        match s.store.vault_entry(sess.actor.user_id, &key).await {
            Ok(Some((e, _))) => documents.push(DocumentRef {
                name: e.name,
                file: Some(key.reference()),
            }),
            Ok(None) => {
                return again(
                    t.get("tr_need_file").to_string(),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
            Err(e) => {
                tracing::error!(error = %e, "data store lookup failed");
                return super::busy(lang);
            }
        }
    }
    // Uploads are checked from their bytes and kept in the data store first, so a refusal
    // later loses nothing: they can be re-used with one click.
    for (name, bytes) in posted.files {
        match crate::api::files::keep_upload(&s, &sess.actor, &name, bytes).await {
            Ok((reference, shown)) => documents.push(DocumentRef {
                name: shown,
                file: Some(reference),
            }),
            Err(e) if e.status().is_client_error() => {
                let msg = if lang == "en" {
                    e.0.extra
                        .as_ref()
                        .and_then(|x| x["message_en"].as_str())
                        .map(String::from)
                        .unwrap_or_else(|| e.detail().to_string())
                } else {
                    e.detail().to_string()
                };
                return again(format!("{name}: {msg}"), e.status()).await;
            }
            Err(e) => {
                tracing::error!(error = %e.detail(), "storing an upload failed");
                return super::busy(lang);
            }
        }
    }
    let note = Some(posted.note).filter(|n| !n.is_empty());
    match perform(
        &s,
        &sess.actor,
        d.id,
        Command::ProvideSupplement { documents },
        note,
        None,
    )
    .await
    {
        Ok(_) => {
            metrics::counter!("motcua_dossier_actions_total", "action" => "provide_supplement")
                .increment(1);
            let lang_q = if lang == "en" { "&lang=en" } else { "" };
            Redirect::to(&format!("{}?xong=bo-sung{lang_q}", path_of(d.id))).into_response()
        }
        Err(e) => refused(&s, &sess, &id, lang, e).await,
    }
}

/// A URL-encoded form the owner posts about their dossier: a citizen signed in (else the
/// sign-in page), their dossier (someone else's does not exist, whatever the body), a readable
/// form, the session's CSRF token; `Err` is the page to answer with.
#[allow(clippy::result_large_err)]
async fn owner_form<F>(
    s: &AppState,
    session: MaybeSession,
    id: &str,
    lang: &str,
    form: Result<axum::Form<F>, axum::extract::rejection::FormRejection>,
    csrf_of: impl Fn(&F) -> Option<&str>,
) -> Result<(Session, Dossier, F), Response> {
    let t = texts::get(lang);
    let sess = citizen(session, &format!("/ca-nhan/ho-so/{id}"), lang)?;
    let d = owned(s, &sess, id, lang).await?;
    let page_error = |status: StatusCode| {
        crate::pages::error_page(status, lang, t.get("error"), t.get("expired_form"))
    };
    let Ok(axum::Form(f)) = form else {
        return Err(page_error(StatusCode::BAD_REQUEST));
    };
    if !sess.csrf_ok(csrf_of(&f)) {
        return Err(page_error(StatusCode::FORBIDDEN));
    }
    Ok((sess, d, f))
}

/// The rating form.
#[derive(Deserialize, Default)]
pub(crate) struct RateForm {
    csrf: Option<String>,
    score: Option<String>,
    comment: Option<String>,
}

/// `POST /ca-nhan/ho-so/{id}/danh-gia`: the applicant rates the service (1-5 and a comment)
/// once the result was returned; once only (the domain refuses a second rating).
pub(crate) async fn rate(
    State(s): State<AppState>,
    session: MaybeSession,
    Path(id): Path<String>,
    q: Result<Query<Params>, QueryRejection>,
    form: Result<axum::Form<RateForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let t = texts::get(lang);
    let (sess, d, f) = match owner_form(&s, session, &id, lang, form, |f: &RateForm| {
        f.csrf.as_deref()
    })
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let again = |msg: &'static str, status: StatusCode| {
        let flash = Flash {
            error: Some(msg),
            ..Default::default()
        };
        render(&s, &sess, &d, lang, flash, status)
    };
    let score = f
        .score
        .as_deref()
        .and_then(|v| v.trim().parse::<u8>().ok())
        .filter(|n| LEVELS.iter().any(|(score, _)| score == n));
    let Some(score) = score else {
        return again(t.get("rate_pick"), StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let comment = f
        .comment
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    if comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_COMMENT)
    {
        return again(t.get("rate_long"), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    if d.status != Status::Returned || d.rating.is_some() {
        return again(t.get("rate_not_now"), StatusCode::CONFLICT).await;
    }
    match perform(
        &s,
        &sess.actor,
        d.id,
        Command::Rate { score, comment },
        None,
        None,
    )
    .await
    {
        Ok(_) => {
            metrics::counter!("motcua_dossier_actions_total", "action" => "rate").increment(1);
            let lang_q = if lang == "en" { "&lang=en" } else { "" };
            Redirect::to(&format!("{}?xong=danh-gia{lang_q}", path_of(d.id))).into_response()
        }
        Err(e) => refused(&s, &sess, &id, lang, e).await,
    }
}

/// The notice-channel form: a checkbox per channel (an unticked box is absent).
#[derive(Deserialize, Default)]
pub(crate) struct NotifyForm {
    csrf: Option<String>,
    email: Option<String>,
    sms: Option<String>,
    zalo: Option<String>,
}

/// `POST /ca-nhan/ho-so/{id}/thong-bao`: the applicant chooses how they hear of the dossier
/// (e-mail, SMS, Zalo, or none of them) while it is open; the choice goes into the dossier's
/// history and applies from the next status change.
pub(crate) async fn set_notifications(
    State(s): State<AppState>,
    session: MaybeSession,
    Path(id): Path<String>,
    q: Result<Query<Params>, QueryRejection>,
    form: Result<axum::Form<NotifyForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let (sess, d, f) = match owner_form(&s, session, &id, lang, form, |f: &NotifyForm| {
        f.csrf.as_deref()
    })
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let channels = motcua_domain::dossier::NotifyChannels {
        email: f.email.is_some(),
        sms: f.sms.is_some(),
        zalo: f.zalo.is_some(),
    };
    if channels == d.applicant.channels() {
        // Nothing to change: the page as it is, saying so.
        let lang_q = if lang == "en" { "&lang=en" } else { "" };
        return Redirect::to(&format!("{}?xong=thong-bao{lang_q}", path_of(d.id))).into_response();
    }
    match perform(
        &s,
        &sess.actor,
        d.id,
        Command::SetNotifications { channels },
        None,
        None,
    )
    .await
    {
        Ok(_) => {
            metrics::counter!("motcua_dossier_actions_total", "action" => "set_notifications")
                .increment(1);
            let lang_q = if lang == "en" { "&lang=en" } else { "" };
            Redirect::to(&format!("{}?xong=thong-bao{lang_q}", path_of(d.id))).into_response()
        }
        Err(e) => refused(&s, &sess, &id, lang, e).await,
    }
}

/// The online payment form: the CSRF token only (the amount is what the dossier owes).
#[derive(Deserialize, Default)]
pub(crate) struct PayForm {
    csrf: Option<String>,
}

/// `POST /ca-nhan/ho-so/{id}/thanh-toan`: the applicant pays what the dossier owes online: the
/// attempt is recorded and the browser goes to the national payment platform's pay page.
pub(crate) async fn pay(
    State(s): State<AppState>,
    session: MaybeSession,
    Path(id): Path<String>,
    q: Result<Query<Params>, QueryRejection>,
    headers: axum::http::HeaderMap,
    form: Result<axum::Form<PayForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let (sess, d, _) = match owner_form(&s, session, &id, lang, form, |f: &PayForm| {
        f.csrf.as_deref()
    })
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    // The address the platform is told (behind a proxy, the client's).
    let ip = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "127.0.0.1".into());
    match crate::payment::start(&s, &sess.actor, &d, &ip, lang).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => refused(&s, &sess, &id, lang, e).await,
    }
}

/// `POST /ca-nhan/ho-so/{id}/buu-chinh`: the applicant chooses the public postal service
/// while the dossier is open: pickup of the paper dossier at an address (online dossiers not
/// yet received; ordered from the post at once) and return of the result by post. A refusal
/// shows the page with the form as typed.
pub(crate) async fn set_postal(
    State(s): State<AppState>,
    session: MaybeSession,
    Path(id): Path<String>,
    q: Result<Query<Params>, QueryRejection>,
    form: Result<axum::Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let (sess, d, f) = match owner_form(
        &s,
        session,
        &id,
        lang,
        form,
        |f: &HashMap<String, String>| f.get("csrf").map(String::as_str),
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let typed = super::postal::Typed::from_form(&f);
    let choice = match crate::api::postal_choice::checked(&s, typed.choice(&d)).await {
        Ok(c) => c,
        Err(e) => {
            let flash = Flash {
                postal: Some((typed, e.detail())),
                ..Default::default()
            };
            return render(&s, &sess, &d, lang, flash, e.status()).await;
        }
    };
    let lang_q = if lang == "en" { "&lang=en" } else { "" };
    let done = Redirect::to(&format!("{}?xong=buu-chinh{lang_q}", path_of(d.id))).into_response();
    if choice == d.postal {
        return done;
    }
    match perform(
        &s,
        &sess.actor,
        d.id,
        Command::SetPostal {
            choice: Box::new(choice),
        },
        None,
        None,
    )
    .await
    {
        Ok(_) => {
            metrics::counter!("motcua_dossier_actions_total", "action" => "set_postal")
                .increment(1);
            done
        }
        Err(e) if e.status() == StatusCode::NOT_FOUND => super::not_found(lang),
        Err(e) => {
            let status = if e.status().is_client_error() {
                e.status()
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            let d = match s.store.dossier(d.id).await {
                Ok(Some(now)) => now,
                _ => d,
            };
            let flash = Flash {
                postal: Some((typed, e.detail())),
                ..Default::default()
            };
            render(&s, &sess, &d, lang, flash, status).await
        }
    }
}

/// The new dossier's page when its postal choice, typed at submission, was refused: the
/// dossier is submitted, the postal form shows what was typed and why it was refused.
pub(crate) async fn postal_refused(
    s: &AppState,
    sess: &Session,
    d: &Dossier,
    lang: &str,
    typed: super::postal::Typed,
    why: &str,
) -> Response {
    let flash = Flash {
        new: true,
        postal: Some((typed, why)),
        ..Default::default()
    };
    render(s, sess, d, lang, flash, StatusCode::UNPROCESSABLE_ENTITY).await
}
