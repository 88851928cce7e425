//! Feedback pages (phản ánh, kiến nghị), working without JavaScript:
//! - `GET /ca-nhan/phan-anh` (citizens): a form to file an item (about a dossier when opened
//!   with `?ho_so=CODE` from the dossier page, else a procedure or an agency) and their items
//!   with the answers, and forms to supply information, rate and re-raise;
//!   `POST /ca-nhan/phan-anh` files, `POST /ca-nhan/phan-anh/{id}/{bo-sung|danh-gia|phan-anh-lai}`
//!   acts (CSRF);
//! - `GET /can-bo/phan-anh` (staff): their agency's items, earliest deadline first, with forms
//!   for the steps the officer may take (`POST /can-bo/phan-anh/{id}/{tiep-nhan|tu-choi|
//!   yeu-cau-bo-sung|tra-loi|cong-khai}`, CSRF; publishing is for leaders);
//! - `GET /phan-anh` (everyone): the published answers.
//!
//! Every rule and check is the API's (`api::feedback`); these pages only translate.

use super::{forbidden, lang_of, local, require_staff, texts, to_sign_in};
use crate::AppState;
use crate::api::feedback::{self as api, NewFeedbackRequest};
use crate::error::ApiError;
use crate::session::{MaybeSession, Session};
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use motcua_domain::agency::Role;
use motcua_domain::feedback::{FeedbackAction, SubjectKind};
use motcua_store::{FeedbackOrder, FeedbackQuery};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

const VI: &[(&str, &str)] = &[
    ("title", "Phản ánh, kiến nghị"),
    ("mine", "Phản ánh, kiến nghị của tôi"),
    ("new", "Gửi phản ánh, kiến nghị"),
    ("about", "Về"),
    ("k_dossier", "Hồ sơ của tôi (mã hồ sơ)"),
    ("k_procedure", "Thủ tục hành chính (mã thủ tục)"),
    ("k_agency", "Cơ quan (mã cơ quan)"),
    ("subject", "Mã"),
    (
        "agency_opt",
        "Cơ quan nhận (nếu thủ tục do nhiều nơi tiếp nhận)",
    ),
    ("content", "Nội dung"),
    ("send", "Gửi"),
    (
        "sent",
        "Đã gửi phản ánh, kiến nghị. Cơ quan sẽ phân loại trong 5 ngày làm việc.",
    ),
    ("done", "Đã ghi nhận."),
    ("state", "Tình trạng"),
    ("received", "Ngày gửi"),
    ("due", "Hạn xử lý bước hiện tại"),
    ("answer", "Trả lời"),
    ("missing", "Cơ quan đề nghị bổ sung"),
    ("refused", "Lý do từ chối"),
    ("supply", "Bổ sung thông tin"),
    ("rate", "Bạn có hài lòng với trả lời?"),
    ("yes", "Hài lòng"),
    ("no", "Không hài lòng"),
    ("rated_yes", "Bạn đã đánh giá: hài lòng"),
    ("rated_no", "Bạn đã đánh giá: không hài lòng"),
    ("reraise", "Phản ánh lại (một lần)"),
    ("reason", "Lý do"),
    ("empty", "Chưa có phản ánh, kiến nghị nào."),
    ("agency_list", "Phản ánh, kiến nghị gửi cơ quan"),
    ("overdue", "Quá hạn"),
    ("public", "Trả lời phản ánh, kiến nghị đã công khai"),
    ("question", "Nội dung phản ánh"),
    ("agency", "Cơ quan"),
    ("published", "Ngày công khai"),
    ("public_link", "Xem các trả lời đã công khai"),
    ("e_content", "Vui lòng nhập nội dung (tối đa 5.000 ký tự)."),
    (
        "e_subject",
        "Không tìm thấy hồ sơ của bạn, thủ tục hoặc cơ quan với mã này.",
    ),
    (
        "e_agency",
        "Vui lòng chọn đúng cơ quan tiếp nhận thủ tục này.",
    ),
    ("e_text", "Vui lòng nhập nội dung."),
    (
        "e_state",
        "Thao tác này không còn phù hợp với tình trạng phản ánh.",
    ),
    (
        "e_other",
        "Không gửi được. Vui lòng kiểm tra lại thông tin.",
    ),
    ("s_accept", "Tiếp nhận xử lý"),
    ("s_refuse", "Từ chối (nêu lý do)"),
    ("s_request", "Yêu cầu bổ sung (nêu thông tin cần bổ sung)"),
    ("s_answer", "Trả lời"),
    (
        "s_publish",
        "Công khai (tóm tắt nội dung, không có thông tin cá nhân)",
    ),
];

const EN: &[(&str, &str)] = &[
    ("title", "Feedback and complaints"),
    ("mine", "My feedback"),
    ("new", "Send feedback"),
    ("about", "About"),
    ("k_dossier", "One of my dossiers (dossier code)"),
    ("k_procedure", "A procedure (procedure code)"),
    ("k_agency", "An agency (agency code)"),
    ("subject", "Code"),
    (
        "agency_opt",
        "Receiving agency (when several receive the procedure)",
    ),
    ("content", "Content"),
    ("send", "Send"),
    (
        "sent",
        "Feedback sent. The agency classifies it within 5 working days.",
    ),
    ("done", "Recorded."),
    ("state", "State"),
    ("received", "Sent on"),
    ("due", "Current step due"),
    ("answer", "Answer"),
    ("missing", "The agency asks for"),
    ("refused", "Refused because"),
    ("supply", "Supply information"),
    ("rate", "Are you satisfied with the answer?"),
    ("yes", "Satisfied"),
    ("no", "Not satisfied"),
    ("rated_yes", "You rated it: satisfied"),
    ("rated_no", "You rated it: not satisfied"),
    ("reraise", "Raise it again (once)"),
    ("reason", "Why"),
    ("empty", "No feedback yet."),
    ("agency_list", "Feedback to the agency"),
    ("overdue", "Overdue"),
    ("public", "Published answers to feedback"),
    ("question", "Question"),
    ("agency", "Agency"),
    ("published", "Published on"),
    ("public_link", "See the published answers"),
    (
        "e_content",
        "Please write the content (at most 5,000 characters).",
    ),
    (
        "e_subject",
        "No dossier of yours, procedure or agency has this code.",
    ),
    (
        "e_agency",
        "Please choose an agency that receives this procedure.",
    ),
    ("e_text", "Please write something."),
    ("e_state", "This is no longer possible in the item's state."),
    ("e_other", "Could not send. Please check what you entered."),
    ("s_accept", "Accept for handling"),
    ("s_refuse", "Refuse (give the reason)"),
    ("s_request", "Ask for more information (say what)"),
    ("s_answer", "Answer"),
    (
        "s_publish",
        "Publish (summary of the question, no personal data)",
    ),
];

fn words(lang: &str) -> BTreeMap<&'static str, &'static str> {
    (if lang == "en" { EN } else { VI })
        .iter()
        .copied()
        .collect()
}

fn state_label(state: motcua_domain::feedback::FeedbackState, lang: &str) -> &'static str {
    use motcua_domain::feedback::FeedbackState as S;
    if lang != "en" {
        return state.label_vi();
    }
    match state {
        S::Received => "Received",
        S::Accepted => "Being handled",
        S::Refused => "Refused",
        S::InfoRequested => "Information requested",
        S::Answered => "Answered",
        S::Published => "Answer published",
    }
}

/// Query of the pages.
#[derive(Deserialize, Default)]
pub(crate) struct Params {
    lang: Option<String>,
    /// A dossier code to write about.
    ho_so: Option<String>,
    /// Just sent (`1`) or acted (`2`).
    xong: Option<String>,
}

#[derive(Serialize)]
struct Row {
    id: String,
    kind: &'static str,
    subject: String,
    agency: String,
    content: String,
    state: &'static str,
    received: String,
    due: String,
    overdue: bool,
    missing: Option<String>,
    refusal: Option<String>,
    answer: Option<String>,
    satisfied: Option<bool>,
    actions: Vec<&'static str>,
}

fn kind_name(k: SubjectKind) -> &'static str {
    k.as_str()
}

/// The items `q` selects as page rows, or the "busy" page when the store fails (`whose` names
/// the list in the log).
async fn rows_of(
    s: &AppState,
    sess: &Session,
    lang: &str,
    q: &FeedbackQuery,
    whose: &str,
) -> Result<Vec<Row>, Response> {
    match s.store.list_feedback(q).await {
        Ok(items) => Ok(items
            .into_iter()
            .map(|r| row(s, r.item, sess, lang))
            .collect()),
        Err(e) => {
            tracing::error!(error = %e, "listing {whose} feedback failed");
            Err(super::busy(lang))
        }
    }
}

fn row(s: &AppState, f: motcua_domain::feedback::Feedback, sess: &Session, lang: &str) -> Row {
    let v = api::view(s, f, &sess.actor);
    Row {
        id: v.item.id.to_string(),
        kind: kind_name(v.item.subject_kind),
        subject: v.item.subject.clone(),
        agency: v.item.agency.to_string(),
        content: v.item.content.clone(),
        state: state_label(v.item.state, lang),
        received: local(Some(v.item.received_at)),
        due: local(v.due_at),
        overdue: v.overdue,
        missing: v.item.missing_info.clone(),
        refusal: v.item.refusal_reason.clone(),
        answer: v.item.answer.clone(),
        satisfied: v.item.satisfied,
        actions: v.actions,
    }
}

/// The message for a refusal of the API.
fn message(e: &ApiError, lang: &str) -> &'static str {
    let w = words(lang);
    let key = match (e.status(), e.0.field.as_deref()) {
        (StatusCode::CONFLICT, _) => "e_state",
        (_, Some("content")) => "e_content",
        (_, Some("subject")) => "e_subject",
        (_, Some("agency")) => "e_agency",
        (_, Some(_)) => "e_text",
        _ => "e_other",
    };
    w.get(key).copied().unwrap_or("")
}

struct Draft<'a> {
    kind: &'a str,
    subject: &'a str,
    agency: &'a str,
    content: &'a str,
}

async fn render_mine(
    s: &AppState,
    sess: &Session,
    lang: &str,
    draft: Draft<'_>,
    done: Option<&str>,
    error: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let q = FeedbackQuery {
        owner: Some(sess.actor.user_id),
        ..Default::default()
    };
    let rows = match rows_of(s, sess, lang, &q, "a citizen's").await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let mut res = crate::pages::render(
        "feedback_mine.html",
        lang,
        context! {
            st => texts::get(lang).value(), fw => words(lang), me => &sess.actor, csrf => &sess.csrf,
            rows, kind => draft.kind, subject => draft.subject, agency => draft.agency,
            content => draft.content, sent => done == Some("1"), acted => done == Some("2"), error,
        },
    );
    *res.status_mut() = status;
    res
}

/// A citizen's page's gate, like [`require_staff`] (the refusal is the response itself).
#[allow(clippy::result_large_err)]
fn citizen(session: MaybeSession, lang: &str) -> Result<Session, Response> {
    match session.0 {
        Some(s) if s.actor.role == Role::Citizen => Ok(s),
        Some(_) => Err(forbidden(lang)),
        None => Err(to_sign_in("/ca-nhan/phan-anh")),
    }
}

/// `GET /ca-nhan/phan-anh`.
pub(crate) async fn mine(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let sess = match citizen(session, lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let code = p.ho_so.as_deref().unwrap_or("").trim();
    let draft = Draft {
        kind: if code.is_empty() {
            "procedure"
        } else {
            "dossier"
        },
        subject: code,
        agency: "",
        content: "",
    };
    render_mine(
        &s,
        &sess,
        lang,
        draft,
        p.xong.as_deref(),
        None,
        StatusCode::OK,
    )
    .await
}

/// The filing form.
#[derive(Deserialize, Default)]
pub(crate) struct NewForm {
    csrf: Option<String>,
    kind: Option<String>,
    subject: Option<String>,
    agency: Option<String>,
    content: Option<String>,
}

fn expired(lang: &str) -> Response {
    let t = texts::get(lang);
    crate::pages::error_page(
        StatusCode::FORBIDDEN,
        lang,
        t.get("error"),
        t.get("expired_form"),
    )
}

fn back(lang: &str, done: &str) -> Response {
    let lang_q = if lang == "en" { "&lang=en" } else { "" };
    Redirect::to(&format!("/ca-nhan/phan-anh?xong={done}{lang_q}")).into_response()
}

/// `POST /ca-nhan/phan-anh`: files an item through the API's own function.
pub(crate) async fn file(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<Params>, QueryRejection>,
    form: Result<Form<NewForm>, FormRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let sess = match citizen(session, lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let f = form.map(|Form(f)| f).unwrap_or_default();
    if !sess.csrf_ok(f.csrf.as_deref()) {
        return expired(lang);
    }
    let kind_raw = f.kind.as_deref().unwrap_or("").trim();
    let subject = f.subject.clone().unwrap_or_default();
    let agency = f.agency.clone().unwrap_or_default();
    let content = f.content.clone().unwrap_or_default();
    let draft = Draft {
        kind: kind_raw,
        subject: &subject,
        agency: &agency,
        content: &content,
    };
    let Some(kind) = SubjectKind::parse(kind_raw) else {
        let msg = words(lang)["e_subject"];
        return render_mine(
            &s,
            &sess,
            lang,
            draft,
            None,
            Some(msg),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let req = NewFeedbackRequest {
        subject_kind: kind,
        subject: subject.clone(),
        agency: Some(agency.trim().to_string()).filter(|a| !a.is_empty()),
        content: content.clone(),
    };
    match api::file(&s, &sess.actor, req).await {
        Ok(_) => back(lang, "1"),
        Err(e) if e.status().is_client_error() => {
            let msg = message(&e, lang);
            render_mine(&s, &sess, lang, draft, None, Some(msg), e.status()).await
        }
        Err(e) => {
            tracing::error!(error = %e.detail(), "filing feedback failed");
            super::busy(lang)
        }
    }
}

/// A citizen's step: the text or the rating.
#[derive(Deserialize, Default)]
pub(crate) struct StepForm {
    csrf: Option<String>,
    text: Option<String>,
    satisfied: Option<String>,
}

/// `POST /ca-nhan/phan-anh/{id}/{bo-sung|danh-gia|phan-anh-lai}`.
pub(crate) async fn step(
    State(s): State<AppState>,
    session: MaybeSession,
    Path((id, what)): Path<(String, String)>,
    q: Result<Query<Params>, QueryRejection>,
    form: Result<Form<StepForm>, FormRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let sess = match citizen(session, lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let f = form.map(|Form(f)| f).unwrap_or_default();
    if !sess.csrf_ok(f.csrf.as_deref()) {
        return expired(lang);
    }
    let Ok(id) = id.trim().parse::<Uuid>() else {
        return super::not_found(lang);
    };
    let text = f.text.unwrap_or_default();
    let action = match what.as_str() {
        "bo-sung" => FeedbackAction::SupplyInfo { info: text },
        "phan-anh-lai" => FeedbackAction::Reraise { reason: text },
        "danh-gia" => match f.satisfied.as_deref() {
            Some("1") => FeedbackAction::Rate { satisfied: true },
            Some("0") => FeedbackAction::Rate { satisfied: false },
            _ => {
                let draft = Draft {
                    kind: "procedure",
                    subject: "",
                    agency: "",
                    content: "",
                };
                let msg = words(lang)["e_text"];
                return render_mine(
                    &s,
                    &sess,
                    lang,
                    draft,
                    None,
                    Some(msg),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        },
        _ => return super::not_found(lang),
    };
    match api::act(&s, &sess.actor, id, action).await {
        Ok(_) => back(lang, "2"),
        Err(e) if e.status() == StatusCode::NOT_FOUND => super::not_found(lang),
        Err(e) if e.status().is_client_error() => {
            let draft = Draft {
                kind: "procedure",
                subject: "",
                agency: "",
                content: "",
            };
            let msg = message(&e, lang);
            render_mine(&s, &sess, lang, draft, None, Some(msg), e.status()).await
        }
        Err(e) => {
            tracing::error!(error = %e.detail(), "a feedback step failed");
            super::busy(lang)
        }
    }
}

async fn render_agency(
    s: &AppState,
    sess: &Session,
    lang: &str,
    done: bool,
    error: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let Some(agency) = sess.actor.agency.clone() else {
        return forbidden(lang);
    };
    let q = FeedbackQuery {
        agencies: vec![agency],
        order: FeedbackOrder::Due,
        limit: 500,
        ..Default::default()
    };
    let rows = match rows_of(s, sess, lang, &q, "an agency's").await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let mut res = crate::pages::render(
        "feedback_staff.html",
        lang,
        context! {
            st => texts::get(lang).value(), fw => words(lang), me => &sess.actor, csrf => &sess.csrf,
            rows, done, error,
        },
    );
    *res.status_mut() = status;
    res
}

/// `GET /can-bo/phan-anh`: the agency's items, earliest deadline first, with a form for each
/// step the officer may take.
pub(crate) async fn agency(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let sess = match require_staff(session, "/can-bo/phan-anh", lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    render_agency(&s, &sess, lang, p.xong.is_some(), None, StatusCode::OK).await
}

/// `POST /can-bo/phan-anh/{id}/{tiep-nhan|tu-choi|yeu-cau-bo-sung|tra-loi|cong-khai}`.
pub(crate) async fn staff_step(
    State(s): State<AppState>,
    session: MaybeSession,
    Path((id, what)): Path<(String, String)>,
    q: Result<Query<Params>, QueryRejection>,
    form: Result<Form<StepForm>, FormRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let sess = match require_staff(session, "/can-bo/phan-anh", lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let f = form.map(|Form(f)| f).unwrap_or_default();
    if !sess.csrf_ok(f.csrf.as_deref()) {
        return expired(lang);
    }
    let Ok(id) = id.trim().parse::<Uuid>() else {
        return super::not_found(lang);
    };
    let text = f.text.unwrap_or_default();
    let action = match what.as_str() {
        "tiep-nhan" => FeedbackAction::Accept,
        "tu-choi" => FeedbackAction::Refuse { reason: text },
        "yeu-cau-bo-sung" => FeedbackAction::RequestInfo { missing: text },
        "tra-loi" => FeedbackAction::Answer { answer: text },
        "cong-khai" => FeedbackAction::Publish { summary: text },
        _ => return super::not_found(lang),
    };
    match api::act(&s, &sess.actor, id, action).await {
        Ok(_) => {
            let lang_q = if lang == "en" { "&lang=en" } else { "" };
            Redirect::to(&format!("/can-bo/phan-anh?xong=1{lang_q}")).into_response()
        }
        Err(e) if e.status() == StatusCode::NOT_FOUND => super::not_found(lang),
        Err(e) if e.status() == StatusCode::FORBIDDEN => forbidden(lang),
        Err(e) if e.status().is_client_error() => {
            let msg = message(&e, lang);
            render_agency(&s, &sess, lang, false, Some(msg), e.status()).await
        }
        Err(e) => {
            tracing::error!(error = %e.detail(), "a feedback step failed");
            super::busy(lang)
        }
    }
}

/// `GET /phan-anh`: the published answers, for everyone.
pub(crate) async fn public(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let answers = match api::published(&s, 200).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e.detail(), "listing published feedback failed");
            return super::busy(lang);
        }
    };
    #[derive(Serialize)]
    struct Public {
        agency: String,
        summary: String,
        answer: String,
        published: String,
    }
    let rows: Vec<Public> = answers
        .into_iter()
        .map(|a| Public {
            agency: a.agency_name,
            summary: a.summary,
            answer: a.answer,
            published: local(a.published_at),
        })
        .collect();
    let (me, csrf) = match &session.0 {
        Some(s) => (Some(s.actor.clone()), Some(s.csrf.clone())),
        None => (None, None),
    };
    crate::pages::render(
        "feedback_public.html",
        lang,
        context! { fw => words(lang), me, csrf, rows },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_word_exists_in_both_languages() {
        let vi: Vec<&str> = super::VI.iter().map(|(k, _)| *k).collect();
        let en: Vec<&str> = super::EN.iter().map(|(k, _)| *k).collect();
        assert_eq!(vi, en);
    }
}
