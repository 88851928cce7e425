//! `POST /ca-nhan/nhap/{id}/xoa`: a citizen deletes one of their drafts (CSRF). Someone else's
//! draft, or one already gone, is a 404 as if it never existed.

use super::{forbidden, lang_of, texts, to_sign_in};
use crate::AppState;
use crate::session::MaybeSession;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use motcua_domain::agency::Role;
use serde::Deserialize;
use uuid::Uuid;

/// Query of the action.
#[derive(Deserialize, Default)]
pub(crate) struct Params {
    lang: Option<String>,
}

/// The form: only the CSRF token.
#[derive(Deserialize, Default)]
pub(crate) struct Posted {
    csrf: Option<String>,
}

/// The handler.
pub(crate) async fn delete(
    State(s): State<AppState>,
    session: MaybeSession,
    Path(id): Path<String>,
    q: Result<Query<Params>, QueryRejection>,
    form: Result<Form<Posted>, FormRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let Some(sess) = session.0 else {
        return to_sign_in("/ca-nhan");
    };
    if sess.actor.role != Role::Citizen {
        return forbidden(lang);
    }
    let f = form.map(|Form(f)| f).unwrap_or_default();
    if !sess.csrf_ok(f.csrf.as_deref()) {
        let t = texts::get(lang);
        return crate::pages::error_page(
            StatusCode::FORBIDDEN,
            lang,
            t.get("error"),
            t.get("expired_form"),
        );
    }
    let Ok(id) = id.trim().parse::<Uuid>() else {
        return super::not_found(lang);
    };
    match s.store.delete_draft(sess.actor.user_id, id).await {
        Ok(true) => {
            let lang_q = if lang == "en" { "&lang=en" } else { "" };
            Redirect::to(&format!("/ca-nhan?xoa=1{lang_q}")).into_response()
        }
        Ok(false) => super::not_found(lang),
        Err(e) => {
            tracing::error!(error = %e, "deleting a draft failed");
            super::busy(lang)
        }
    }
}
