//! `GET/POST /dang-ky`: a citizen creates an account with an e-mail address or a phone number
//! and a password (argon2, like every account), and is signed in at once. The e-mail or phone
//! (normalised: lower case; digits with `+84` as `0`) is the login name. The form carries a
//! double-submit CSRF token like the sign-in form; each address may try 10 times a minute.

use super::{lang_of, texts};
use crate::AppState;
use crate::auth::{hash_password, new_token};
use crate::session::{
    LOGIN_CSRF_COOKIE, MaybeSession, client_ip, cookie, ct_eq, is_https, random_hex, set_cookie,
    set_session_cookie,
};
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use motcua_domain::agency::Role;
use motcua_store::{StoreError, UserRecord};
use serde::Deserialize;
use uuid::Uuid;

/// Shortest password accepted.
pub(crate) const MIN_PASSWORD: usize = 8;

/// Query of the page.
#[derive(Deserialize, Default)]
pub(crate) struct Params {
    lang: Option<String>,
}

/// The form as posted.
#[derive(Deserialize, Default)]
pub(crate) struct SignUp {
    #[serde(default)]
    name: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
    csrf: Option<String>,
    lang: Option<String>,
}

/// The login name of an e-mail address or a Vietnamese phone number as typed, or `None`.
pub(crate) fn login_name(raw: &str) -> Option<String> {
    let t = raw.trim();
    if t.contains('@') {
        let e = t.to_lowercase();
        let (local, domain) = e.split_once('@')?;
        let ok = e.len() <= 100
            && !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !e.chars().any(|c| c.is_whitespace() || c.is_control())
            && !domain.contains('@');
        return ok.then_some(e);
    }
    if t.is_empty()
        || !t
            .chars()
            .all(|c| c.is_ascii_digit() || " .-()+".contains(c))
    {
        return None;
    }
    let mut d: String = t.chars().filter(char::is_ascii_digit).collect();
    if d.len() == 11 && d.starts_with("84") {
        d = format!("0{}", &d[2..]);
    }
    (d.len() == 10 && d.starts_with('0')).then_some(d)
}

struct Filled<'a> {
    name: &'a str,
    login: &'a str,
    errors: Vec<(&'static str, &'static str)>,
    error: Option<&'static str>,
}

fn page(lang: &str, status: StatusCode, f: Filled, secure: bool) -> Response {
    let t = texts::get(lang);
    let csrf = random_hex(16);
    let errors: std::collections::BTreeMap<&str, &str> =
        f.errors.iter().map(|(k, v)| (*k, t.get(v))).collect();
    let mut r = crate::pages::render(
        "signup.html",
        lang,
        context! {
            st => t.value(), name => f.name, login => f.login, errors,
            error => f.error.map(|k| t.get(k)), csrf,
        },
    );
    *r.status_mut() = status;
    set_cookie(&mut r, LOGIN_CSRF_COOKIE, &csrf, Some(3600), secure);
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}

/// `GET /dang-ky`.
pub(crate) async fn form(
    State(s): State<AppState>,
    session: MaybeSession,
    headers: HeaderMap,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    if let Some(sess) = session.0 {
        return Redirect::to(super::home_of(sess.actor.role)).into_response();
    }
    let blank = Filled {
        name: "",
        login: "",
        errors: Vec::new(),
        error: None,
    };
    page(lang, StatusCode::OK, blank, is_https(&headers, &s))
}

/// `POST /dang-ky`.
pub(crate) async fn submit(
    State(s): State<AppState>,
    headers: HeaderMap,
    ext: Extensions,
    form: Result<Form<SignUp>, FormRejection>,
) -> Response {
    let secure = is_https(&headers, &s);
    let f = form.map(|Form(f)| f).unwrap_or_default();
    let lang = lang_of(f.lang.as_deref());
    let name: String = f.name.trim().chars().take(100).collect();
    let typed_login: String = f.login.trim().chars().take(100).collect();
    let filled = |errors, error| Filled {
        name: &name,
        login: &typed_login,
        errors,
        error,
    };
    let token_ok = match (cookie(&headers, LOGIN_CSRF_COOKIE), f.csrf.as_deref()) {
        (Some(c), Some(sent)) => !c.is_empty() && ct_eq(c, sent),
        _ => false,
    };
    if !token_ok {
        let fl = filled(Vec::new(), Some("expired_form"));
        return page(lang, StatusCode::FORBIDDEN, fl, secure);
    }
    if s.signup_limiter.hit(client_ip(&ext)).is_err() {
        let fl = filled(Vec::new(), Some("too_many"));
        return page(lang, StatusCode::TOO_MANY_REQUESTS, fl, secure);
    }
    let mut errors = Vec::new();
    if name.chars().count() < 2 || f.name.trim().chars().count() > 100 {
        errors.push(("name", "su_bad_name"));
    }
    let login = login_name(&f.login);
    if login.is_none() {
        errors.push(("login", "su_bad_login"));
    }
    if f.password.chars().count() < MIN_PASSWORD || f.password.len() > 200 {
        errors.push(("password", "su_short_password"));
    } else if f.password != f.password2 {
        errors.push(("password2", "su_mismatch"));
    }
    let Some(login) = login.filter(|_| errors.is_empty()) else {
        let fl = filled(errors, None);
        return page(lang, StatusCode::UNPROCESSABLE_ENTITY, fl, secure);
    };
    let password = f.password.clone();
    let hash = match tokio::task::spawn_blocking(move || hash_password(&password)).await {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "hashing a password failed");
            return super::busy(lang);
        }
    };
    let user = UserRecord {
        id: Uuid::now_v7(),
        username: login.clone(),
        password_hash: hash,
        name: name.clone(),
        role: Role::Citizen,
        agency: None,
        disabled: false,
    };
    match s.store.create_user(user.clone()).await {
        Ok(()) => {}
        Err(StoreError::Duplicate(_)) => {
            let fl = filled(vec![("login", "su_exists")], None);
            return page(lang, StatusCode::CONFLICT, fl, secure);
        }
        Err(e) => {
            tracing::error!(error = %e, "creating an account failed");
            return super::busy(lang);
        }
    }
    let _ = s
        .store
        .append_audit(motcua_store::AuditEntry {
            at: chrono::Utc::now(),
            user_id: Some(user.id),
            username: login,
            action: "signup".into(),
            dossier_id: None,
            detail: client_ip(&ext).map(|i| i.to_string()).unwrap_or_default(),
        })
        .await;
    let (raw, rec) = new_token(&user);
    if let Err(e) = s.store.create_token(rec).await {
        tracing::error!(error = %e, "storing a session failed");
        return super::busy(lang);
    }
    let lang_q = if lang == "en" { "?lang=en" } else { "" };
    let mut r = Redirect::to(&format!("/ca-nhan{lang_q}")).into_response();
    set_session_cookie(&mut r, &raw, secure);
    set_cookie(&mut r, LOGIN_CSRF_COOKIE, "", Some(0), secure);
    r
}

#[cfg(test)]
mod tests {
    use super::login_name;

    #[test]
    fn login_names_are_normalised_emails_or_phone_numbers() {
        assert_eq!(
            login_name(" Lan@Example.VN ").as_deref(),
            Some("lan@example.vn")
        );
        assert_eq!(login_name("+84 912 345 678").as_deref(), Some("0912345678"));
        assert_eq!(login_name("0912.345.678").as_deref(), Some("0912345678"));
        for bad in [
            "",
            "lan",
            "lan@",
            "@x.vn",
            "lan@vn",
            "a b@x.vn",
            "12345",
            "1912345678",
            "09123x5678",
            "lan@x.vn@y.vn",
        ] {
            assert_eq!(login_name(bad), None, "{bad}");
        }
    }
}
