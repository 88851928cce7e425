//! The queue pages for signed-in staff: a desk officer's counter console
//! (`/xep-hang/{centre}/quay/{n}`: call the next ticket, recall, start, finish, no-show) and
//! the leaders' waiting and service times (`/can-bo/xep-hang`). The work is done by
//! `crate::queue::pages`; this module adds the session, the CSRF check and friendly errors.

use super::{lang_of, require_staff, texts};
use crate::AppState;
use crate::error::ApiError;
use crate::queue::pages::{counter_action, counter_page, figures_section};
use crate::session::MaybeSession;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, Response};
use chrono::{Duration, NaiveDate, Utc};
use minijinja::context;
use serde::Deserialize;
use std::collections::HashMap;

/// Query of the console.
#[derive(Deserialize, Default)]
pub(crate) struct ConsoleParams {
    lang: Option<String>,
    msg: Option<String>,
}

/// Query of the leaders' figures.
#[derive(Deserialize, Default)]
pub(crate) struct FiguresParams {
    lang: Option<String>,
    tu: Option<String>,
    den: Option<String>,
}

fn friendly(lang: &str, e: ApiError) -> Response {
    let t = texts::get(lang);
    let status = e.status();
    if status == StatusCode::NOT_FOUND {
        return super::not_found(lang);
    }
    let status = if status.is_server_error() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        status
    };
    crate::pages::error_page(status, lang, t.get("error"), e.detail())
}

/// `GET /xep-hang/{centre}/quay/{n}`: the counter console.
pub(crate) async fn console(
    State(s): State<AppState>,
    session: MaybeSession,
    Path((centre, number)): Path<(String, u16)>,
    q: Result<Query<ConsoleParams>, QueryRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let back = format!("/xep-hang/{centre}/quay/{number}");
    let sess = match require_staff(session, &back, lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let message = match p.msg.as_deref() {
        Some("nobody") if lang == "en" => Some("Nobody is waiting for this counter's services."),
        Some("nobody") => Some("Không còn ai chờ các dịch vụ của quầy này."),
        _ => None,
    };
    match counter_page(
        &s,
        &sess.actor,
        &centre,
        number,
        lang,
        Some(&sess.csrf),
        message,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => friendly(lang, e),
    }
}

/// `POST /xep-hang/{centre}/quay/{n}/{action}`: one action at the counter.
pub(crate) async fn act(
    State(s): State<AppState>,
    session: MaybeSession,
    Path((centre, number, action)): Path<(String, u16, String)>,
    q: Result<Query<ConsoleParams>, QueryRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let back = format!("/xep-hang/{centre}/quay/{number}");
    let sess = match require_staff(session, &back, lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let f = form.map(|Form(f)| f).unwrap_or_default();
    if !sess.csrf_ok(f.get("csrf").map(String::as_str)) {
        let t = texts::get(lang);
        return crate::pages::error_page(
            StatusCode::FORBIDDEN,
            lang,
            t.get("error"),
            t.get("expired_form"),
        );
    }
    match counter_action(&s, &sess.actor, &centre, number, &action, lang).await {
        Ok(r) => r,
        Err(e) => friendly(lang, e),
    }
}

fn day(s: Option<&str>) -> Result<Option<NaiveDate>, ()> {
    match s.map(str::trim).filter(|x| !x.is_empty()) {
        None => Ok(None),
        Some(x) => NaiveDate::parse_from_str(x, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ()),
    }
}

/// `GET /can-bo/xep-hang`: a leader's waiting and service times at their own centre.
pub(crate) async fn figures(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<FiguresParams>, QueryRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let sess = match require_staff(session, "/can-bo/xep-hang", lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = texts::get(lang);
    let today = (Utc::now() + Duration::hours(7)).date_naive();
    let (from, to) = match (day(p.tu.as_deref()), day(p.den.as_deref())) {
        (Ok(f), Ok(to)) => (f.unwrap_or(today - Duration::days(6)), to.unwrap_or(today)),
        _ => {
            return crate::pages::error_page(
                StatusCode::BAD_REQUEST,
                lang,
                t.get("error"),
                "Ngày phải có dạng yyyy-mm-dd. / Dates are yyyy-mm-dd.",
            );
        }
    };
    let Some(centre) = sess.actor.agency.clone() else {
        return super::forbidden(lang);
    };
    let section = match figures_section(&s, &sess.actor, centre.as_str(), from, to, lang).await {
        Ok(Html(h)) => h,
        Err(e) => return friendly(lang, e),
    };
    crate::pages::render(
        "queue_figures.html",
        lang,
        context! {
            st => t.value(), me => &sess.actor, csrf => &sess.csrf,
            section => minijinja::Value::from_safe_string(section),
            from => from.to_string(), to => to.to_string(),
        },
    )
}
