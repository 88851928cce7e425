//! `POST /thu-tuc/{code}/nop`: a signed-in citizen submits online the declaration the form page
//! has just found valid — through the same path as `POST /api/v1/dossiers` (the form is checked
//! again there: the server is the authority), with the page's idempotency key so that a double
//! click makes one dossier. The declaration's files (`_uploads`) become the dossier's documents
//! there too; the citizen's drafts of the procedure are deleted once it is submitted.

use super::{forbidden, lang_of, texts, to_sign_in};
use crate::AppState;
use crate::api::dossiers::SubmitRequest;
use crate::auth::Auth;
use crate::session::MaybeSession;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use motcua_domain::agency::Role;
use motcua_domain::dossier::{Channel, DocumentRef};
use serde::Deserialize;

/// Query of the submission.
#[derive(Deserialize, Default)]
pub(crate) struct Params {
    lang: Option<String>,
}

/// The submission form.
#[derive(Deserialize, Default)]
pub(crate) struct Submission {
    csrf: Option<String>,
    key: Option<String>,
    values: Option<String>,
    agency: Option<String>,
    /// The postal choice (`pickup`, `return_to`, `p_*`, `r_*`), if any.
    #[serde(flatten)]
    postal: std::collections::HashMap<String, String>,
}

fn bad(lang: &str, status: StatusCode, msg: &str) -> Response {
    let t = texts::get(lang);
    crate::pages::error_page(status, lang, t.get("error"), msg)
}

/// The handler.
pub(crate) async fn submit_online(
    State(s): State<AppState>,
    session: MaybeSession,
    Path(code): Path<String>,
    q: Result<Query<Params>, QueryRejection>,
    form: Result<Form<Submission>, FormRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let Some(sess) = session.0 else {
        return to_sign_in(&format!("/thu-tuc/{code}/to-khai"));
    };
    if sess.actor.role != Role::Citizen {
        return forbidden(lang);
    }
    let f = form.map(|Form(f)| f).unwrap_or_default();
    if !sess.csrf_ok(f.csrf.as_deref()) {
        return bad(
            lang,
            StatusCode::FORBIDDEN,
            texts::get(lang).get("expired_form"),
        );
    }
    let values: serde_json::Value = match f.values.as_deref().map(serde_json::from_str) {
        Some(Ok(v @ serde_json::Value::Object(_))) => v,
        _ => {
            return bad(
                lang,
                StatusCode::BAD_REQUEST,
                "Không đọc được tờ khai; vui lòng khai lại. / The declaration could not be read; please fill it in again.",
            );
        }
    };
    let rec = match s.published_procedure(code.trim()).await {
        Ok(Some(r)) => r,
        Ok(None) => return super::not_found(lang),
        Err(e) => {
            tracing::error!(error = %e, "procedure lookup failed");
            return super::busy(lang);
        }
    };
    let mut headers = HeaderMap::new();
    if let Some(k) = f
        .key
        .as_deref()
        .filter(|k| !k.is_empty() && k.len() <= 64 && k.bytes().all(|b| b.is_ascii_hexdigit()))
        && let Ok(v) = HeaderValue::from_str(&format!("page-{k}"))
    {
        headers.insert("idempotency-key", v);
    }
    // The postal service asked for with the declaration: checked first; when it is refused the
    // dossier is still submitted and its page shows the postal form as typed, with why.
    let typed = super::postal::Typed::from_form(&f.postal);
    let (postal, postal_refused) = if typed.wants() {
        match crate::api::postal_choice::checked(&s, typed.choice_new()).await {
            Ok(c) => (Some(c), None),
            Err(e) => (None, Some(e.detail().to_string())),
        }
    } else {
        (None, None)
    };
    let req = SubmitRequest {
        procedure_code: rec.version.code.to_string(),
        agency: f.agency.filter(|a| !a.trim().is_empty()),
        channel: Channel::Online,
        applicant: None,
        documents: rec
            .version
            .documents
            .iter()
            .map(|d| DocumentRef {
                name: d.name.clone(),
                file: None,
            })
            .collect(),
        form: values,
        note: None,
        postal_tracking: None,
        receive: true,
        on_behalf_of: None,
        postal,
    };
    match crate::api::dossiers::submit(
        State(s.clone()),
        Auth(sess.actor.clone()),
        headers,
        Ok(Json(req)),
    )
    .await
    {
        Ok((_, Json(view))) => {
            forget_drafts(&s, sess.actor.user_id, &rec.version.code.to_string()).await;
            if let Some(why) = postal_refused {
                return super::track::postal_refused(&s, &sess, &view.dossier, lang, typed, &why)
                    .await;
            }
            let lang_q = if lang == "en" { "&lang=en" } else { "" };
            // The new dossier's own page: what happens next, the expected appointment, the
            // fees, and the receipt once the desk has received it.
            Redirect::to(&format!(
                "{}?moi=1{lang_q}",
                super::track::path_of(view.dossier.id)
            ))
            .into_response()
        }
        Err(e) => {
            let status = if e.status().is_server_error() {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                e.status()
            };
            bad(lang, status, e.detail())
        }
    }
}

/// A submitted declaration's drafts are done with: the citizen's drafts of the procedure (any
/// version) are deleted. A failure only leaves a draft behind (logged).
async fn forget_drafts(s: &AppState, owner: uuid::Uuid, code: &str) {
    let drafts = match s.store.drafts(owner).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "listing drafts after a submission failed");
            return;
        }
    };
    for d in drafts.into_iter().filter(|d| d.procedure_code == code) {
        if let Err(e) = s.store.delete_draft(owner, d.id).await {
            tracing::warn!(error = %e, "deleting a submitted draft failed");
        }
    }
}
