//! `POST /can-bo/hang-loat`: a leader's bulk action from the inbox (approve the ticked
//! dossiers, or assign them to one specialist). Each dossier is acted on alone through the
//! same path as the API (`api::bulk`); the page lists what happened to each.

use super::{lang_of, require_staff, texts};
use crate::AppState;
use crate::api::bulk::{BulkRequest, run};
use crate::session::MaybeSession;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use motcua_domain::agency::Role;
use serde::Deserialize;

/// Query of the bulk form.
#[derive(Deserialize, Default)]
pub(crate) struct Params {
    lang: Option<String>,
}

/// The bulk form: `ids` repeated, `action`, `user_id` for assignments, `note`, `csrf`.
pub(crate) async fn submit(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<Params>, QueryRejection>,
    body: Bytes,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let sess = match require_staff(session, "/can-bo", lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = texts::get(lang);
    let mut ids = Vec::new();
    let (mut action, mut user_id, mut note, mut csrf) =
        (String::new(), String::new(), String::new(), None);
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "ids" => ids.push(v.into_owned()),
            "action" => action = v.into_owned(),
            "user_id" => user_id = v.trim().to_string(),
            "note" => note = v.into_owned(),
            "csrf" => csrf = Some(v.into_owned()),
            _ => {}
        }
    }
    if !sess.csrf_ok(csrf.as_deref()) {
        return crate::pages::error_page(
            StatusCode::FORBIDDEN,
            lang,
            t.get("error"),
            t.get("expired_form"),
        );
    }
    if sess.actor.role != Role::Leader {
        return super::forbidden(lang);
    }
    let bad = |msg: &str| {
        crate::pages::error_page(StatusCode::UNPROCESSABLE_ENTITY, lang, t.get("error"), msg)
    };
    if ids.is_empty() {
        return bad("Chưa chọn hồ sơ nào. / No dossier was ticked.");
    }
    let user_id = if action == "assign" {
        match user_id.parse() {
            Ok(u) => Some(u),
            Err(_) => {
                return bad("Hãy chọn chuyên viên để giao. / Choose the specialist to assign.");
            }
        }
    } else {
        None
    };
    let req = BulkRequest {
        action,
        ids,
        user_id,
        note: Some(note),
    };
    let result = match run(&s, &sess.actor, req).await {
        Ok(r) => r,
        Err(e) if e.status().is_client_error() => return bad(e.detail()),
        Err(_) => return super::busy(lang),
    };
    crate::pages::render(
        "bulk_result.html",
        lang,
        context! {
            st => t.value(),
            me => &sess.actor,
            csrf => &sess.csrf,
            r => result,
        },
    )
}
