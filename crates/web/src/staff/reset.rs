//! Password reset by e-mail for accounts whose login is an e-mail address (citizens who signed
//! up with one): `GET/POST /quen-mat-khau` asks for the address and always answers the same
//! ("if an account exists, a link was sent"), so it tells nobody which addresses have
//! accounts; the link, valid for an hour and once, leads to `GET/POST /dat-lai-mat-khau?t=...`,
//! where a new password is set, which also signs the account out everywhere. The e-mail is
//! written to the outbox with the reset (one transaction) and delivered like every notice.
//! Both forms carry a double-submit CSRF token; each address may ask 10 times a minute.

use super::signup::{MIN_PASSWORD, login_name};
use super::{lang_of, texts};
use crate::AppState;
use crate::auth::{hash_password, token_hash};
use crate::session::{
    LOGIN_CSRF_COOKIE, client_ip, cookie, ct_eq, is_https, random_hex, set_cookie,
};
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{Duration, Utc};
use minijinja::context;
use motcua_domain::agency::Role;
use motcua_domain::dossier::notice::escape_html;
use motcua_domain::dossier::{EMAIL_TOPIC, OutboxMessage};
use serde::Deserialize;

/// How long a reset link works.
const VALID_FOR_MINUTES: i64 = 60;

/// Query of the pages.
#[derive(Deserialize, Default)]
pub(crate) struct Params {
    lang: Option<String>,
    /// The reset token from the link.
    t: Option<String>,
}

/// The forms as posted.
#[derive(Deserialize, Default)]
pub(crate) struct Posted {
    #[serde(default)]
    email: String,
    #[serde(default)]
    t: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
    csrf: Option<String>,
    lang: Option<String>,
}

/// What a page shows.
#[derive(Default)]
struct View<'a> {
    /// `ask` (the address form), `sent`, `set` (the new password form), `done`.
    step: &'a str,
    email: &'a str,
    token: &'a str,
    error: Option<&'static str>,
}

fn page(lang: &str, status: StatusCode, v: View, secure: bool) -> Response {
    let t = texts::get(lang);
    let csrf = random_hex(16);
    let mut r = crate::pages::render(
        "reset.html",
        lang,
        context! {
            st => t.value(), step => v.step, email => v.email, token => v.token,
            error => v.error.map(|k| t.get(k)), csrf, min => MIN_PASSWORD,
        },
    );
    *r.status_mut() = status;
    set_cookie(&mut r, LOGIN_CSRF_COOKIE, &csrf, Some(3600), secure);
    let h = r.headers_mut();
    h.insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    // The token is in the address: never pass it on.
    h.insert(
        axum::http::header::REFERRER_POLICY,
        axum::http::HeaderValue::from_static("no-referrer"),
    );
    r
}

fn token_ok(headers: &HeaderMap, sent: Option<&str>) -> bool {
    match (cookie(headers, LOGIN_CSRF_COOKIE), sent) {
        (Some(c), Some(s)) => !c.is_empty() && ct_eq(c, s),
        _ => false,
    }
}

fn valid_token(t: &str) -> bool {
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `GET /quen-mat-khau`.
pub(crate) async fn ask_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let v = View {
        step: "ask",
        ..Default::default()
    };
    page(lang, StatusCode::OK, v, is_https(&headers, &s))
}

/// `POST /quen-mat-khau`: writes the reset and its e-mail when the address is a citizen's
/// login; the same answer otherwise.
pub(crate) async fn ask(
    State(s): State<AppState>,
    headers: HeaderMap,
    ext: Extensions,
    form: Result<Form<Posted>, FormRejection>,
) -> Response {
    let secure = is_https(&headers, &s);
    let f = form.map(|Form(f)| f).unwrap_or_default();
    let lang = lang_of(f.lang.as_deref());
    let typed: String = f.email.trim().chars().take(100).collect();
    let again = |status, error| {
        let v = View {
            step: "ask",
            email: &typed,
            error: Some(error),
            ..Default::default()
        };
        page(lang, status, v, secure)
    };
    if !token_ok(&headers, f.csrf.as_deref()) {
        return again(StatusCode::FORBIDDEN, "expired_form");
    }
    if s.signup_limiter.hit(client_ip(&ext)).is_err() {
        return again(StatusCode::TOO_MANY_REQUESTS, "too_many");
    }
    let Some(email) = login_name(&typed).filter(|l| l.contains('@')) else {
        return again(StatusCode::UNPROCESSABLE_ENTITY, "rs_bad_email");
    };
    let user = match s.store.user_by_username(&email).await {
        Ok(u) => u.filter(|u| u.role == Role::Citizen),
        Err(e) => {
            tracing::error!(error = %e, "reading an account failed");
            return super::busy(lang);
        }
    };
    if let Some(u) = user {
        let raw = random_hex(32);
        let now = Utc::now();
        let link = format!("{}/dat-lai-mat-khau?t={raw}", s.public_url());
        let text = format!(
            "Kính gửi {name},\n\nCó yêu cầu đặt lại mật khẩu tài khoản {email}. Mở liên kết sau trong {VALID_FOR_MINUTES} phút để đặt mật khẩu mới (dùng được một lần):\n\n{link}\n\nNếu bạn không yêu cầu, hãy bỏ qua thư này; mật khẩu không đổi.\n",
            name = u.name
        );
        let html = format!(
            "<!doctype html><html lang=\"vi\"><body style=\"font-family:Arial,sans-serif\"><p>Kính gửi {},</p><p>Có yêu cầu đặt lại mật khẩu tài khoản {}. Mở liên kết sau trong {VALID_FOR_MINUTES} phút để đặt mật khẩu mới (dùng được một lần):</p><p><a href=\"{link}\">{link}</a></p><p>Nếu bạn không yêu cầu, hãy bỏ qua thư này; mật khẩu không đổi.</p></body></html>",
            escape_html(&u.name),
            escape_html(&email)
        );
        let mail = OutboxMessage {
            topic: EMAIL_TOPIC.into(),
            // Ordered per account, apart from dossiers.
            key: format!("reset-{}:{}", u.id, now.timestamp_micros()),
            payload: serde_json::json!({
                "to": email, "subject": "Đặt lại mật khẩu tài khoản dịch vụ công",
                "text": text, "html": html, "event": "password_reset",
            }),
        };
        let reset = motcua_store::PasswordReset {
            token_hash: token_hash(&raw),
            user_id: u.id,
            created_at: now,
            expires_at: now + Duration::minutes(VALID_FOR_MINUTES),
        };
        if let Err(e) = s.store.create_password_reset(reset, mail).await {
            tracing::error!(error = %e, "recording a password reset failed");
            return super::busy(lang);
        }
    }
    let v = View {
        step: "sent",
        email: &typed,
        ..Default::default()
    };
    page(lang, StatusCode::OK, v, secure)
}

/// `GET /dat-lai-mat-khau?t=...`: the new password form.
pub(crate) async fn set_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let t = q.t.unwrap_or_default();
    let secure = is_https(&headers, &s);
    if !valid_token(&t) {
        let v = View {
            step: "ask",
            error: Some("rs_bad_link"),
            ..Default::default()
        };
        return page(lang, StatusCode::NOT_FOUND, v, secure);
    }
    let v = View {
        step: "set",
        token: &t,
        ..Default::default()
    };
    page(lang, StatusCode::OK, v, secure)
}

/// `POST /dat-lai-mat-khau`: sets the new password when the link is good.
pub(crate) async fn set(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Posted>, FormRejection>,
) -> Response {
    let secure = is_https(&headers, &s);
    let f = form.map(|Form(f)| f).unwrap_or_default();
    let lang = lang_of(f.lang.as_deref());
    let t = f.t.trim().to_string();
    let again = |status, error| {
        let v = View {
            step: "set",
            token: &t,
            error: Some(error),
            ..Default::default()
        };
        page(lang, status, v, secure)
    };
    if !token_ok(&headers, f.csrf.as_deref()) {
        return again(StatusCode::FORBIDDEN, "expired_form");
    }
    if f.password.chars().count() < MIN_PASSWORD || f.password.len() > 200 {
        return again(StatusCode::UNPROCESSABLE_ENTITY, "su_short_password");
    }
    if f.password != f.password2 {
        return again(StatusCode::UNPROCESSABLE_ENTITY, "su_mismatch");
    }
    let bad_link = || {
        let v = View {
            step: "ask",
            error: Some("rs_bad_link"),
            ..Default::default()
        };
        page(lang, StatusCode::NOT_FOUND, v, secure)
    };
    if !valid_token(&t) {
        return bad_link();
    }
    let password = f.password.clone();
    let hash = match tokio::task::spawn_blocking(move || hash_password(&password)).await {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "hashing a password failed");
            return super::busy(lang);
        }
    };
    match s
        .store
        .use_password_reset(&token_hash(&t), &hash, Utc::now())
        .await
    {
        Ok(Some(user)) => {
            // Sessions of the user are gone from the store; forget the cached ones here (other
            // nodes' caches expire within their TTL).
            s.tokens.remove_where(|a| a.user_id == user);
            let _ = s
                .store
                .append_audit(motcua_store::AuditEntry {
                    at: Utc::now(),
                    user_id: Some(user),
                    username: String::new(),
                    action: "password_reset".into(),
                    dossier_id: None,
                    detail: String::new(),
                })
                .await;
            let v = View {
                step: "done",
                ..Default::default()
            };
            page(lang, StatusCode::OK, v, secure)
        }
        Ok(None) => bad_link(),
        Err(e) => {
            tracing::error!(error = %e, "using a password reset failed");
            super::busy(lang)
        }
    }
}
