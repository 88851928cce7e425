//! `GET /can-bo/ho-so/{id}`: one dossier for an officer — applicant, declaration, documents,
//! history and the actions the workflow allows this officer now; `POST` performs one of them
//! (the same path as the API's actions). Every view is written to the audit trail.
//! `POST /can-bo/ho-so/{id}/ket-qua` marks the result ready with its digitized files (a
//! multipart form): each file is checked like every upload, linked to the dossier as a result
//! and lands in the applicant's data store.

use super::{lang_of, local, require_staff, texts};
use crate::AppState;
use crate::api::dossiers::{hints, load_visible, perform};
use crate::error::ApiError;
use crate::session::{MaybeSession, Session};
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use minijinja::context;
use motcua_domain::dossier::{Command, Dossier, ReturnMethod};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// Query of the dossier page.
#[derive(Deserialize, Default)]
pub(crate) struct Params {
    lang: Option<String>,
    /// The action just done (shown as a confirmation).
    xong: Option<String>,
}

#[derive(Serialize)]
struct HistoryRow {
    when: String,
    who: String,
    agency: String,
    what: String,
    note: String,
}

#[derive(Serialize)]
struct Field {
    label: String,
    value: String,
}

#[derive(Serialize)]
struct Step {
    id: String,
    name: String,
}

/// Flattens the declaration (a JSON object) into label/value lines for display.
fn form_lines(v: &serde_json::Value, prefix: &str, out: &mut Vec<Field>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let label = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                form_lines(x, &label, out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                form_lines(x, &format!("{prefix}[{}]", i + 1), out);
            }
        }
        serde_json::Value::Null => {}
        serde_json::Value::String(s) => out.push(Field {
            label: prefix.to_string(),
            value: s.clone(),
        }),
        other => out.push(Field {
            label: prefix.to_string(),
            value: other.to_string(),
        }),
    }
}

fn parse_id(id: &str) -> Option<Uuid> {
    id.parse().ok()
}

async fn render(
    s: &AppState,
    sess: &Session,
    d: &Dossier,
    lang: &str,
    done: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    render_page(s, sess, d, lang, done, error, status, None).await
}

/// The page; `postal`: the postal form as typed and why it was refused.
#[allow(clippy::too_many_arguments)]
async fn render_page(
    s: &AppState,
    sess: &Session,
    d: &Dossier,
    lang: &str,
    done: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
    postal: Option<(super::postal::Typed, &str)>,
) -> Response {
    let t = texts::get(lang);
    let history = match s.store.history(d.id).await {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "history failed");
            Vec::new()
        }
    };
    let rows: Vec<HistoryRow> = history
        .iter()
        .map(|e| HistoryRow {
            when: local(Some(e.event.at)),
            who: e.event.actor.name.clone(),
            agency: e.event.agency.to_string(),
            what: match &e.event.body {
                motcua_domain::dossier::EventBody::StepCompleted { documents, .. }
                    if !documents.is_empty() =>
                {
                    let names: Vec<&str> = documents.iter().map(|d| d.name.as_str()).collect();
                    format!(
                        "{} · {}: {}",
                        e.event.body.label_vi(),
                        t.get("f_attachment"),
                        names.join(", ")
                    )
                }
                motcua_domain::dossier::EventBody::FeePaid {
                    amount_vnd,
                    method,
                    receipt_no,
                    ..
                } => format!(
                    "{} · {} · {}{}",
                    e.event.body.label_vi(),
                    motcua_domain::dossier::notice::money(*amount_vnd),
                    method.label_vi(),
                    receipt_no
                        .as_deref()
                        .map(|r| format!(" · {}: {r}", t.get("receipt_no")))
                        .unwrap_or_default()
                ),
                motcua_domain::dossier::EventBody::FeeExempted { amount_vnd, reason } => format!(
                    "{} · {} · {reason}",
                    e.event.body.label_vi(),
                    motcua_domain::dossier::notice::money(*amount_vnd)
                ),
                body => body.label_vi().to_string(),
            },
            note: e.event.note.clone().unwrap_or_default(),
        })
        .collect();
    let mut fields = Vec::new();
    form_lines(&d.form, "", &mut fields);
    let calendar = s.calendars().for_agency(&d.receiving_agency);
    let actions: Vec<(&'static str, &'static str)> = hints(d, &sess.actor, &calendar)
        .into_iter()
        // Rating is the applicant's; the postal choice has its own section.
        .filter(|a| !matches!(*a, "rate" | "set_postal"))
        .chain(fee_actions(d, &sess.actor))
        .map(|a| (a, action_label(&t, a)))
        .collect();
    let payments = super::track::payment_rows(s, d, lang).await;
    let owed = (d.owed_vnd() > 0).then(|| motcua_domain::dossier::notice::money(d.owed_vnd()));
    let next_steps: Vec<Step> = d
        .current_step()
        .map(|st| {
            st.next
                .iter()
                .map(|n| Step {
                    id: n.clone(),
                    name: d
                        .procedure
                        .step(n)
                        .map(|x| x.name.clone())
                        .unwrap_or_else(|| n.clone()),
                })
                .collect()
        })
        .unwrap_or_default();
    // Late soon: the rules want the apology and a new date at least one working day before the
    // due date, so flag it from the working day before.
    let now = Utc::now();
    let late = d.status.is_in_progress()
        && d.due_at
            .is_some_and(|due| due < crate::staff::soon_limit(s, &d.current_agency, now));
    let overdue = d.status.is_in_progress() && d.due_at.is_some_and(|due| due < now);
    let done_label = done.and_then(|a| {
        ACTIONS
            .iter()
            .find(|x| **x == a)
            .map(|x| action_label(&t, x))
    });
    let specialists = if actions.iter().any(|(a, _)| *a == "assign") {
        s.store
            .agency_staff(&d.current_agency, motcua_domain::agency::Role::Specialist)
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    // Every file of the dossier (components scanned or uploaded, supplements, results), each
    // with a preview in the browser and a download (served with the dossier's authorization).
    let files: Vec<FileRow> = match s.store.dossier_files(d.id).await {
        Ok(list) => list
            .into_iter()
            .map(|(link, record)| {
                let url = format!("/api/v1/dossiers/{}/files/{}", d.id, link.key.hex());
                FileRow {
                    kind: match link.kind {
                        motcua_domain::files::AttachmentKind::Component => t.get("f_component"),
                        motcua_domain::files::AttachmentKind::Result => t.get("f_result"),
                        motcua_domain::files::AttachmentKind::Supplement => t.get("f_supplement"),
                        motcua_domain::files::AttachmentKind::Attachment => t.get("f_attachment"),
                        motcua_domain::files::AttachmentKind::Receipt => t.get("f_receipt"),
                    },
                    slot: link.slot,
                    name: link.name,
                    size: motcua_domain::files::human_size(record.size),
                    preview: format!("{url}?inline=1"),
                    url,
                }
            })
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "dossier files unavailable");
            Vec::new()
        }
    };
    let (typed, postal_error) = match postal {
        Some((typed, e)) => (Some(typed), Some(e)),
        None => (None, None),
    };
    let postal_ctx =
        super::postal::context(s, d, lang, typed, postal_error, done == Some("set_postal")).await;
    let mut r = crate::pages::render(
        "staff_dossier.html",
        lang,
        context! {
            st => t.value(),
            me => &sess.actor,
            csrf => &sess.csrf,
            d => d,
            status_label => texts::status(d.status, lang),
            step => d.current_step().map(|s| s.name.clone()),
            submitted => local(Some(d.submitted_at)),
            received => local(d.received_at),
            due => local(d.due_at),
            history => rows,
            fields,
            actions,
            next_steps,
            done => done_label,
            error,
            leader => sess.actor.role == motcua_domain::agency::Role::Leader,
            late, overdue,
            specialists,
            assigned_to => d.assignee.map(|u| u.to_string()),
            files,
            channels => d.applicant.channels(),
            payments, owed, d_owed_vnd => d.owed_vnd(),
            postal_action => format!("/can-bo/ho-so/{}?lang={lang}", d.id),
            postal_fields => minijinja::context! { action => "set_postal", version => d.version },
            postal_can_edit => sess.actor.is(motcua_domain::agency::Role::DeskOfficer, &d.receiving_agency),
            ..postal_ctx
        },
    );
    *r.status_mut() = status;
    r
}

/// One file of the dossier as the page lists it.
#[derive(Serialize)]
struct FileRow {
    kind: &'static str,
    slot: String,
    name: String,
    size: String,
    url: String,
    preview: String,
}

const ACTIONS: [&str; 19] = [
    "receive",
    "request_supplement",
    "provide_supplement",
    "refuse",
    "assign",
    "complete_step",
    "send_back",
    "approve",
    "request_payment",
    "confirm_payment",
    "mark_result_ready",
    "return_result",
    "withdraw",
    "stop_processing",
    "issue_apology",
    "set_notifications",
    "record_payment",
    "exempt_fee",
    "set_postal",
];

fn action_label(t: &texts::Texts, a: &str) -> &'static str {
    match a {
        "receive" => t.get("a_receive"),
        "request_supplement" => t.get("a_request_supplement"),
        "provide_supplement" => t.get("a_provide_supplement"),
        "refuse" => t.get("a_refuse"),
        "assign" => t.get("a_assign"),
        "complete_step" => t.get("a_complete_step"),
        "send_back" => t.get("a_send_back"),
        "approve" => t.get("a_approve"),
        "request_payment" => t.get("a_request_payment"),
        "confirm_payment" => t.get("a_confirm_payment"),
        "mark_result_ready" => t.get("a_mark_result_ready"),
        "return_result" => t.get("a_return_result"),
        "withdraw" => t.get("a_withdraw"),
        "stop_processing" => t.get("a_stop_processing"),
        "issue_apology" => t.get("a_issue_apology"),
        "set_notifications" => t.get("a_set_notifications"),
        "record_payment" => t.get("a_record_payment"),
        "exempt_fee" => t.get("a_exempt_fee"),
        "set_postal" => t.get("a_set_postal"),
        _ => t.get("a_rate"),
    }
}

async fn audit_view(s: &AppState, sess: &Session, d: &Dossier) {
    let entry = motcua_store::AuditEntry {
        at: Utc::now(),
        user_id: Some(sess.actor.user_id),
        username: sess.actor.name.clone(),
        action: "view".into(),
        dossier_id: Some(d.id),
        detail: d.code.as_ref().map(|c| c.to_string()).unwrap_or_default(),
    };
    if let Err(e) = s.store.append_audit(entry).await {
        tracing::error!(error = %e, "audit trail write failed");
    }
}

/// The dossier page.
pub(crate) async fn page(
    State(s): State<AppState>,
    session: MaybeSession,
    Path(id): Path<String>,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let sess = match require_staff(session, &format!("/can-bo/ho-so/{id}"), lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(uuid) = parse_id(&id) else {
        return super::not_found(lang);
    };
    let d = match load_visible(&s, &sess.actor, uuid).await {
        Ok(v) => v.into_inner(),
        Err(e) if e.status() == StatusCode::NOT_FOUND => return super::not_found(lang),
        Err(e) => return failure(lang, e),
    };
    audit_view(&s, &sess, &d).await;
    render(&s, &sess, &d, lang, p.xong.as_deref(), None, StatusCode::OK).await
}

fn failure(lang: &str, e: ApiError) -> Response {
    tracing::error!(status = %e.status(), "dossier page failed");
    super::busy(lang)
}

fn lines(v: Option<&String>) -> Vec<String> {
    v.map(|s| {
        s.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    })
    .unwrap_or_default()
}

fn text(f: &HashMap<String, String>, k: &str) -> String {
    f.get(k).map(|s| s.trim().to_string()).unwrap_or_default()
}

/// The posted `amount_vnd` (thousands separators allowed).
fn amount(f: &HashMap<String, String>) -> Result<i64, String> {
    text(f, "amount_vnd")
        .replace(['.', ',', ' '], "")
        .parse()
        .map_err(|_| {
            "Số tiền phải là số nguyên (đồng). / The amount is a whole number of đồng.".to_string()
        })
}

/// The fee actions the officer may take now: record a counter payment, waive fees.
fn fee_actions(d: &Dossier, a: &motcua_domain::agency::Actor) -> Vec<&'static str> {
    use motcua_domain::agency::Role;
    use motcua_domain::status::Status;
    if d.owed_vnd() <= 0
        || matches!(
            d.status,
            Status::Refused | Status::Withdrawn | Status::Stopped
        )
    {
        return Vec::new();
    }
    let desk = a.is(Role::DeskOfficer, &d.receiving_agency);
    let leader = a.is(Role::Leader, &d.receiving_agency) || a.is(Role::Leader, &d.competent_agency);
    let mut out = Vec::new();
    if desk {
        out.push("record_payment");
    }
    if desk || leader {
        out.push("exempt_fee");
    }
    out
}

/// Builds the command from the posted fields; `Err` is a message for the person.
async fn command(
    s: &AppState,
    action: &str,
    f: &HashMap<String, String>,
    d: &Dossier,
) -> Result<Command, String> {
    Ok(match action {
        "receive" => Command::Receive,
        "request_supplement" => Command::RequestSupplement {
            items: lines(f.get("items")),
            reason: text(f, "reason"),
        },
        "provide_supplement" => Command::ProvideSupplement {
            documents: Vec::new(),
        },
        "refuse" => Command::Refuse {
            reasons: lines(f.get("reasons")),
        },
        "assign" if !text(f, "user_id").is_empty() => {
            let u = text(f, "user_id")
                .parse::<Uuid>()
                .ok()
                .map(|id| s.store.user(id));
            let u = match u {
                Some(fut) => fut
                    .await
                    .map_err(|_| "Hệ thống đang bận. / The system is busy.".to_string())?,
                None => None,
            }
            .ok_or_else(|| "Không có cán bộ này. / No such staff member.".to_string())?;
            // Whether they are an enabled specialist of the holding agency is checked by
            // `perform`, as for the API.
            Command::Assign {
                user_id: u.id,
                name: u.name,
            }
        }
        "assign" => {
            let name = text(f, "assignee");
            let u = s
                .store
                .user_by_username(&name)
                .await
                .map_err(|_| "Hệ thống đang bận. / The system is busy.".to_string())?
                .filter(|u| u.role.is_staff() && u.agency.as_ref() == Some(&d.current_agency))
                .ok_or_else(|| {
                    format!(
                        "Không có cán bộ «{name}» tại cơ quan đang giữ hồ sơ. / No staff member «{name}» at the agency holding the dossier."
                    )
                })?;
            Command::Assign {
                user_id: u.id,
                name: u.name,
            }
        }
        "complete_step" => Command::CompleteStep {
            to: Some(text(f, "to")).filter(|x| !x.is_empty()),
            documents: Vec::new(),
        },
        "send_back" => Command::SendBack,
        "approve" => Command::Approve,
        "request_payment" => Command::RequestPayment {
            amount_vnd: amount(f)?,
            reason: text(f, "reason"),
        },
        "confirm_payment" => Command::ConfirmPayment {
            reference: text(f, "reference"),
        },
        "record_payment" => {
            let method = motcua_domain::payment::PaymentMethod::parse(&text(f, "method"))
                .filter(|m| *m != motcua_domain::payment::PaymentMethod::Online)
                .ok_or_else(|| {
                    "Chọn hình thức nộp: tiền mặt, thẻ hoặc chuyển khoản. / Choose cash, card or transfer."
                        .to_string()
                })?;
            let code = d
                .code
                .as_ref()
                .map(|c| c.to_string())
                .unwrap_or_else(|| d.id.simple().to_string());
            Command::RecordPayment {
                // The version keeps two payments recorded within one second apart.
                reference: format!(
                    "{}v{}",
                    motcua_domain::payment::make_reference(&code, Utc::now()),
                    d.version
                ),
                amount_vnd: amount(f)?,
                method,
                transaction_id: None,
                receipt: None,
                receipt_no: Some(text(f, "receipt_no")).filter(|r| !r.is_empty()),
            }
        }
        "exempt_fee" => Command::ExemptFee {
            amount_vnd: amount(f)?,
            reason: text(f, "reason"),
        },
        "mark_result_ready" => Command::MarkResultReady {
            summary: text(f, "summary"),
            documents: Vec::new(),
        },
        "return_result" => Command::ReturnResult {
            method: match text(f, "method").as_str() {
                "online" => ReturnMethod::Online,
                "post" => ReturnMethod::Post,
                _ => ReturnMethod::Counter,
            },
            receiver: text(f, "receiver"),
        },
        "withdraw" => Command::Withdraw {
            reason: text(f, "reason"),
        },
        "stop_processing" => Command::StopProcessing {
            reason: text(f, "reason"),
        },
        "issue_apology" => {
            let day = NaiveDate::parse_from_str(&text(f, "new_due"), "%Y-%m-%d").map_err(|_| {
                "Ngày hẹn mới phải có dạng yyyy-mm-dd. / The new date is yyyy-mm-dd.".to_string()
            })?;
            // The appointment is at the end of that working day, local time.
            let at = day
                .and_hms_opt(17, 0, 0)
                .map(|t| t.and_utc() - chrono::Duration::hours(7))
                .ok_or_else(|| "Ngày không hợp lệ. / Invalid date.".to_string())?;
            Command::IssueApology {
                reason: text(f, "reason"),
                new_due_at: at,
            }
        }
        "set_notifications" => Command::SetNotifications {
            channels: motcua_domain::dossier::NotifyChannels {
                email: f.contains_key("email"),
                sms: f.contains_key("sms"),
                zalo: f.contains_key("zalo"),
            },
        },
        _ => return Err("Thao tác không hợp lệ. / Unknown action.".into()),
    })
}

/// `POST /can-bo/ho-so/{id}`: performs the action named in the form.
pub(crate) async fn act(
    State(s): State<AppState>,
    session: MaybeSession,
    Path(id): Path<String>,
    q: Result<Query<Params>, QueryRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let sess = match require_staff(session, &format!("/can-bo/ho-so/{id}"), lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = texts::get(lang);
    let Some(uuid) = parse_id(&id) else {
        return super::not_found(lang);
    };
    let f = match form {
        Ok(Form(f)) => f,
        Err(_) => HashMap::new(),
    };
    if !sess.csrf_ok(f.get("csrf").map(String::as_str)) {
        return crate::pages::error_page(
            StatusCode::FORBIDDEN,
            lang,
            t.get("error"),
            t.get("expired_form"),
        );
    }
    let d = match load_visible(&s, &sess.actor, uuid).await {
        Ok(v) => v.into_inner(),
        Err(e) if e.status() == StatusCode::NOT_FOUND => return super::not_found(lang),
        Err(e) => return failure(lang, e),
    };
    let action = text(&f, "action");
    if !ACTIONS.contains(&action.as_str()) {
        return render(
            &s,
            &sess,
            &d,
            lang,
            None,
            Some("Thao tác không hợp lệ. / Unknown action."),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    if action == "set_postal" {
        return set_postal(&s, &sess, d, lang, &f).await;
    }
    let cmd = match command(&s, &action, &f, &d).await {
        Ok(c) => c,
        Err(msg) => {
            return render(
                &s,
                &sess,
                &d,
                lang,
                None,
                Some(&msg),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let note = Some(text(&f, "note")).filter(|n| !n.is_empty());
    let expected = f.get("version").and_then(|v| v.trim().parse::<u64>().ok());
    let fee = match &cmd {
        Command::RecordPayment {
            reference,
            amount_vnd,
            method,
            ..
        } => Some(format!("{reference} {amount_vnd} {}", method.as_str())),
        Command::ExemptFee { amount_vnd, .. } => Some(format!("{amount_vnd}")),
        _ => None,
    };
    match perform(&s, &sess.actor, uuid, cmd, note, expected).await {
        Ok(_) => {
            metrics::counter!("motcua_dossier_actions_total", "action" => action.clone())
                .increment(1);
            if let Some(detail) = fee {
                // Money taken or waived at the desk: in the audit trail besides the history.
                let entry = motcua_store::AuditEntry {
                    at: Utc::now(),
                    user_id: Some(sess.actor.user_id),
                    username: sess.actor.name.clone(),
                    action: action.clone(),
                    dossier_id: Some(uuid),
                    detail,
                };
                if let Err(e) = s.store.append_audit(entry).await {
                    tracing::error!(error = %e, "audit trail write failed");
                }
            }
            let lang_q = if lang == "en" { "&lang=en" } else { "" };
            Redirect::to(&format!("/can-bo/ho-so/{uuid}?xong={action}{lang_q}")).into_response()
        }
        Err(e) => refused(&s, &sess, d, lang, e).await,
    }
}

/// The desk sets or changes the postal service for the applicant; a refusal shows the page
/// with the form as typed.
async fn set_postal(
    s: &AppState,
    sess: &Session,
    d: Dossier,
    lang: &str,
    f: &HashMap<String, String>,
) -> Response {
    let typed = super::postal::Typed::from_form(f);
    let refuse = |e: ApiError, typed: super::postal::Typed, d: Dossier| async move {
        let status = if e.status().is_client_error() {
            e.status()
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        render_page(
            s,
            sess,
            &d,
            lang,
            None,
            None,
            status,
            Some((typed, e.detail())),
        )
        .await
    };
    let choice = match crate::api::postal_choice::checked(s, typed.choice(&d)).await {
        Ok(c) => c,
        Err(e) => return refuse(e, typed, d).await,
    };
    let expected = f.get("version").and_then(|v| v.trim().parse::<u64>().ok());
    match perform(
        s,
        &sess.actor,
        d.id,
        Command::SetPostal {
            choice: Box::new(choice),
        },
        None,
        expected,
    )
    .await
    {
        Ok(_) => {
            metrics::counter!("motcua_dossier_actions_total", "action" => "set_postal")
                .increment(1);
            let lang_q = if lang == "en" { "&lang=en" } else { "" };
            Redirect::to(&format!("/can-bo/ho-so/{}?xong=set_postal{lang_q}", d.id)).into_response()
        }
        Err(e) if e.status() == StatusCode::NOT_FOUND => super::not_found(lang),
        Err(e) => refuse(e, typed, d).await,
    }
}

/// After `perform` said no (or failed): the dossier as it is now, with what went wrong; a
/// dossier the officer may not see stays hidden (404).
async fn refused(s: &AppState, sess: &Session, d: Dossier, lang: &str, e: ApiError) -> Response {
    if e.status() == StatusCode::NOT_FOUND {
        return super::not_found(lang);
    }
    let status = if e.status().is_client_error() {
        e.status()
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let d = match load_visible(s, &sess.actor, d.id).await {
        Ok(v) => v.into_inner(),
        Err(_) => d,
    };
    render(s, sess, &d, lang, None, Some(e.detail()), status).await
}

/// Most result files sent at once.
pub(crate) const MAX_RESULT_FILES: usize = 5;

/// What the result form carried.
#[derive(Default)]
struct ResultForm {
    csrf: Option<String>,
    summary: String,
    note: String,
    /// The step chosen (the step form).
    to: String,
    version: Option<u64>,
    files: Vec<(String, axum::body::Bytes)>,
}

/// Reads the result form; `Err` is the status and a text key.
async fn read_result(
    mut mp: axum::extract::Multipart,
    limit: u64,
) -> Result<ResultForm, (StatusCode, &'static str)> {
    let mut f = ResultForm::default();
    loop {
        let field = match mp.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return Err((StatusCode::BAD_REQUEST, "expired_form")),
        };
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = field
            .bytes()
            .await
            .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "r_result_too_big"))?;
        match (name.as_str(), file_name) {
            ("file", Some(fname)) => {
                if fname.is_empty() && bytes.is_empty() {
                    continue; // an empty file input
                }
                if bytes.len() as u64 > limit {
                    return Err((StatusCode::PAYLOAD_TOO_LARGE, "r_result_too_big"));
                }
                if f.files.len() == MAX_RESULT_FILES {
                    return Err((StatusCode::UNPROCESSABLE_ENTITY, "r_result_too_many"));
                }
                f.files.push((fname, bytes));
            }
            (other, _) => {
                let text = String::from_utf8_lossy(&bytes).trim().to_string();
                match other {
                    "csrf" => f.csrf = Some(text),
                    "summary" => f.summary = text,
                    "note" => f.note = text,
                    "to" => f.to = text,
                    "version" => f.version = text.parse().ok(),
                    _ => {}
                }
            }
        }
    }
    Ok(f)
}

/// What a multipart action form of the dossier page brought, once the officer, the dossier
/// and the CSRF token were checked.
struct Posted {
    sess: Session,
    uuid: Uuid,
    d: Dossier,
    f: ResultForm,
}

/// Checks a multipart action form of the dossier page: a signed-in officer, a dossier they
/// may see (another agency's does not exist, whatever the body), a readable body within the
/// limits (the `too_many` / `too_big` texts name the files of this form), the CSRF token.
#[allow(clippy::result_large_err)]
async fn posted(
    s: &AppState,
    session: MaybeSession,
    id: &str,
    lang: &'static str,
    mp: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
    (too_many, too_big): (&'static str, &'static str),
) -> Result<Posted, Response> {
    let sess = require_staff(session, &format!("/can-bo/ho-so/{id}"), lang)?;
    let t = texts::get(lang);
    let uuid = parse_id(id).ok_or_else(|| super::not_found(lang))?;
    let d = match load_visible(s, &sess.actor, uuid).await {
        Ok(v) => v.into_inner(),
        Err(e) if e.status() == StatusCode::NOT_FOUND => return Err(super::not_found(lang)),
        Err(e) => return Err(failure(lang, e)),
    };
    let page_error = |status: StatusCode, key: &'static str| {
        crate::pages::error_page(status, lang, t.get("error"), t.get(key))
    };
    let f = match mp {
        Ok(mp) => match read_result(mp, s.files.limit(None)).await {
            Ok(f) => f,
            Err((status, "r_result_too_many")) => return Err(page_error(status, too_many)),
            Err((status, "r_result_too_big")) => return Err(page_error(status, too_big)),
            Err((status, key)) => return Err(page_error(status, key)),
        },
        Err(_) => return Err(page_error(StatusCode::BAD_REQUEST, "expired_form")),
    };
    if !sess.csrf_ok(f.csrf.as_deref()) {
        return Err(page_error(StatusCode::FORBIDDEN, "expired_form"));
    }
    Ok(Posted { sess, uuid, d, f })
}

/// `POST /can-bo/ho-so/{id}/ket-qua`: the result is ready, with its files.
pub(crate) async fn upload_result(
    State(s): State<AppState>,
    session: MaybeSession,
    Path(id): Path<String>,
    q: Result<Query<Params>, QueryRejection>,
    mp: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let t = texts::get(lang);
    let Posted { sess, uuid, d, f } = match posted(
        &s,
        session,
        &id,
        lang,
        mp,
        ("r_result_too_many", "r_result_too_big"),
    )
    .await
    {
        Ok(p) => p,
        Err(r) => return r,
    };
    let again = |msg: String, status: StatusCode| {
        let (s, sess, d) = (s.clone(), sess.clone(), d.clone());
        async move { render(&s, &sess, &d, lang, None, Some(&msg), status).await }
    };
    if f.summary.is_empty() {
        return again(
            t.get("r_result_summary").to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    if f.files.is_empty() {
        return again(
            t.get("r_result_need_file").to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    // Each file is checked from its bytes and kept first; `perform` checks the keys again and
    // links them to the dossier as results (and to the applicant's data store).
    let documents = match keep_files(&s, &sess.actor, f.files).await {
        Ok(d) => d,
        Err(Kept::Refused(msg, status)) => return again(msg, status).await,
        Err(Kept::Failed(e)) => return failure(lang, e),
    };
    let note = Some(f.note).filter(|n| !n.is_empty());
    let cmd = Command::MarkResultReady {
        summary: f.summary,
        documents,
    };
    match perform(&s, &sess.actor, uuid, cmd, note, f.version).await {
        Ok(_) => {
            metrics::counter!("motcua_dossier_actions_total", "action" => "mark_result_ready")
                .increment(1);
            let lang_q = if lang == "en" { "&lang=en" } else { "" };
            Redirect::to(&format!(
                "/can-bo/ho-so/{uuid}?xong=mark_result_ready{lang_q}"
            ))
            .into_response()
        }
        Err(e) => refused(&s, &sess, d, lang, e).await,
    }
}

/// Why files could not be kept.
enum Kept {
    /// A file was refused (its name and the reason), said to the person.
    Refused(String, StatusCode),
    /// The store failed.
    Failed(ApiError),
}

/// Checks each uploaded file from its bytes and keeps it (content-addressed); the references
/// go into the command, which `perform` checks again and links to the dossier.
async fn keep_files(
    s: &AppState,
    actor: &motcua_domain::agency::Actor,
    files: Vec<(String, axum::body::Bytes)>,
) -> Result<Vec<motcua_domain::dossier::DocumentRef>, Kept> {
    let mut documents = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        match crate::api::files::keep_upload(s, actor, &name, bytes).await {
            Ok((reference, shown)) => documents.push(motcua_domain::dossier::DocumentRef {
                name: shown,
                file: Some(reference),
            }),
            Err(e) if e.status().is_client_error() => {
                let status = e.status();
                return Err(Kept::Refused(format!("{name}: {}", e.detail()), status));
            }
            Err(e) => return Err(Kept::Failed(e)),
        }
    }
    Ok(documents)
}

/// `POST /can-bo/ho-so/{id}/chuyen-buoc`: completes the current step with a note and, if
/// any, working files (a report, minutes, a site-visit record) handed on with the dossier: a
/// multipart form, so the step form of the dossier page can carry attachments without
/// JavaScript. The files are linked to the dossier as attachments and named in the history.
pub(crate) async fn complete_step(
    State(s): State<AppState>,
    session: MaybeSession,
    Path(id): Path<String>,
    q: Result<Query<Params>, QueryRejection>,
    mp: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let Posted { sess, uuid, d, f } = match posted(
        &s,
        session,
        &id,
        lang,
        mp,
        ("r_step_too_many", "r_step_too_big"),
    )
    .await
    {
        Ok(p) => p,
        Err(r) => return r,
    };
    let documents = match keep_files(&s, &sess.actor, f.files).await {
        Ok(d) => d,
        Err(Kept::Refused(msg, status)) => {
            return render(&s, &sess, &d, lang, None, Some(&msg), status).await;
        }
        Err(Kept::Failed(e)) => return failure(lang, e),
    };
    let note = Some(f.note).filter(|n| !n.is_empty());
    let cmd = Command::CompleteStep {
        to: Some(f.to).filter(|x| !x.is_empty()),
        documents,
    };
    match perform(&s, &sess.actor, uuid, cmd, note, f.version).await {
        Ok(_) => {
            metrics::counter!("motcua_dossier_actions_total", "action" => "complete_step")
                .increment(1);
            let lang_q = if lang == "en" { "&lang=en" } else { "" };
            Redirect::to(&format!("/can-bo/ho-so/{uuid}?xong=complete_step{lang_q}"))
                .into_response()
        }
        Err(e) => refused(&s, &sess, d, lang, e).await,
    }
}
