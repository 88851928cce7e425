//! The sign-in and sign-out pages.

use super::{home_of, lang_of, safe_next, texts};
use crate::AppState;
use crate::auth::{SignInError, new_token, sign_in};
use crate::session::{
    LOGIN_CSRF_COOKIE, MaybeSession, clear_session_cookie, client_ip, cookie, ct_eq, is_https,
    random_hex, set_cookie, set_session_cookie,
};
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

/// Query of the sign-in page.
#[derive(Deserialize, Default)]
pub(crate) struct FormQuery {
    next: Option<String>,
    lang: Option<String>,
}

/// The sign-in form as posted.
#[derive(Deserialize, Default)]
pub(crate) struct SignIn {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    csrf: Option<String>,
    next: Option<String>,
    lang: Option<String>,
}

fn page(
    lang: &str,
    status: StatusCode,
    username: &str,
    next: Option<&str>,
    error: Option<&str>,
    secure: bool,
) -> Response {
    let t = texts::get(lang);
    // Double-submit: the form's hidden token must equal this cookie (a page of another site can
    // neither read the cookie nor set it for this site).
    let csrf = random_hex(16);
    let mut r = crate::pages::render(
        "login.html",
        lang,
        context! { st => t.value(), username, next, error, csrf },
    );
    *r.status_mut() = status;
    set_cookie(&mut r, LOGIN_CSRF_COOKIE, &csrf, Some(3600), secure);
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}

/// `GET /dang-nhap`: the form (a signed-in visitor goes straight home).
pub(crate) async fn form(
    State(s): State<AppState>,
    session: MaybeSession,
    headers: HeaderMap,
    q: Result<Query<FormQuery>, QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let next = safe_next(q.next.as_deref());
    if let Some(sess) = session.0 {
        let to = next.unwrap_or_else(|| home_of(sess.actor.role).to_string());
        return Redirect::to(&to).into_response();
    }
    page(
        lang,
        StatusCode::OK,
        "",
        next.as_deref(),
        None,
        is_https(&headers, &s),
    )
}

/// `POST /dang-nhap`: checks the form's token, then the credentials (rate limit and lockout
/// included); on success starts a session and goes to `next` or the person's home page.
pub(crate) async fn submit(
    State(s): State<AppState>,
    headers: HeaderMap,
    ext: Extensions,
    form: Result<Form<SignIn>, FormRejection>,
) -> Response {
    let secure = is_https(&headers, &s);
    let f = match form {
        Ok(Form(f)) => f,
        Err(_) => {
            let t = texts::get("vi");
            return page(
                "vi",
                StatusCode::BAD_REQUEST,
                "",
                None,
                Some(t.get("expired_form")),
                secure,
            );
        }
    };
    let lang = lang_of(f.lang.as_deref());
    let t = texts::get(lang);
    let next = safe_next(f.next.as_deref());
    let username: String = f.username.trim().chars().take(100).collect();
    let token_ok = match (cookie(&headers, LOGIN_CSRF_COOKIE), f.csrf.as_deref()) {
        (Some(c), Some(sent)) => !c.is_empty() && ct_eq(c, sent),
        _ => false,
    };
    if !token_ok {
        return page(
            lang,
            StatusCode::FORBIDDEN,
            &username,
            next.as_deref(),
            Some(t.get("expired_form")),
            secure,
        );
    }
    let user = match sign_in(&s, &username, &f.password, client_ip(&ext)).await {
        Ok(u) => u,
        Err(e) => {
            let (status, msg) = match e {
                SignInError::TooManyAttempts(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many"),
                SignInError::Locked(_) => (StatusCode::LOCKED, "locked"),
                SignInError::Wrong => (StatusCode::UNAUTHORIZED, "wrong"),
                SignInError::Disabled => (StatusCode::FORBIDDEN, "disabled"),
                SignInError::Store(e) => {
                    tracing::error!(error = %e, "sign-in failed");
                    return super::busy(lang);
                }
            };
            return page(
                lang,
                status,
                &username,
                next.as_deref(),
                Some(t.get(msg)),
                secure,
            );
        }
    };
    let (raw, rec) = new_token(&user);
    if let Err(e) = s.store.create_token(rec).await {
        tracing::error!(error = %e, "storing a session failed");
        return super::busy(lang);
    }
    let to = next.unwrap_or_else(|| home_of(user.role).to_string());
    let mut r = Redirect::to(&to).into_response();
    set_session_cookie(&mut r, &raw, secure);
    set_cookie(&mut r, LOGIN_CSRF_COOKIE, "", Some(0), secure);
    r
}

/// The sign-out form.
#[derive(Deserialize, Default)]
pub(crate) struct SignOut {
    csrf: Option<String>,
}

/// `POST /dang-xuat`: ends the session (with its CSRF token, so no other site can sign anyone
/// out) and forgets the cookie.
pub(crate) async fn sign_out(
    State(s): State<AppState>,
    session: MaybeSession,
    headers: HeaderMap,
    form: Result<Form<SignOut>, FormRejection>,
) -> Response {
    let secure = is_https(&headers, &s);
    let Some(sess) = session.0 else {
        return Redirect::to("/").into_response();
    };
    let sent = form.ok().and_then(|Form(f)| f.csrf);
    if !sess.csrf_ok(sent.as_deref()) {
        let t = texts::get("vi");
        return crate::pages::error_page(
            StatusCode::FORBIDDEN,
            "vi",
            t.get("error"),
            t.get("expired_form"),
        );
    }
    if let Err(e) = s.store.delete_token(&sess.token_hash).await {
        tracing::error!(error = %e, "ending a session failed");
    }
    s.tokens.remove(&sess.token_hash);
    let _ = s
        .store
        .append_audit(motcua_store::AuditEntry {
            at: chrono::Utc::now(),
            user_id: Some(sess.actor.user_id),
            username: sess.actor.name.clone(),
            action: "logout".into(),
            dossier_id: None,
            detail: String::new(),
        })
        .await;
    let mut r = Redirect::to("/").into_response();
    clear_session_cookie(&mut r, secure);
    r
}
