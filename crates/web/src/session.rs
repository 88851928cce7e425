//! Browser sessions for the pages: an opaque random token in an HttpOnly, SameSite=Lax cookie
//! (stored, like API tokens, only as its SHA-256 hash), a CSRF token derived from it for every
//! form, a double-submit cookie for the sign-in form itself, and a per-client limiter of sign-in
//! attempts. See docs/decisions/0017-browser-sessions.md.

use crate::AppState;
use crate::auth::{actor_of, token_hash};
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::response::Response;
use chrono::Utc;
use motcua_domain::agency::{Actor, Role};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// Name of the session cookie over plain HTTP.
pub const SESSION_COOKIE: &str = "motcua_session";
/// Name of the session cookie over HTTPS (the `__Host-` prefix pins it to this host and path `/`).
pub const SECURE_SESSION_COOKIE: &str = "__Host-motcua_session";
/// Name of the sign-in form's double-submit CSRF cookie.
pub const LOGIN_CSRF_COOKIE: &str = "motcua_login_csrf";
/// Hidden form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// Header carrying the CSRF token on script (htmx) requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The signed-in person behind a page request.
#[derive(Clone, Debug)]
pub struct Session {
    /// Who.
    pub actor: Actor,
    /// Hash of the session token (what the store keeps), for sign-out.
    pub token_hash: String,
    /// The CSRF token every form of this session must send back.
    pub csrf: String,
}

impl Session {
    /// Whether `submitted` is this session's CSRF token (constant time).
    pub fn csrf_ok(&self, submitted: Option<&str>) -> bool {
        submitted.is_some_and(|s| ct_eq(s, &self.csrf))
    }

    /// Staff: desk officer, specialist or leader.
    pub fn is_staff(&self) -> bool {
        matches!(
            self.actor.role,
            Role::DeskOfficer | Role::Specialist | Role::Leader
        )
    }
}

/// A page request's session, if any: never fails; an unknown, expired or malformed cookie is
/// simply no session.
#[derive(Clone, Debug)]
pub struct MaybeSession(pub Option<Session>);

impl FromRequestParts<AppState> for MaybeSession {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<MaybeSession, Self::Rejection> {
        Ok(MaybeSession(session_of(&parts.headers, state).await))
    }
}

/// The session of a request carrying a valid session cookie.
pub async fn session_of(headers: &HeaderMap, state: &AppState) -> Option<Session> {
    let raw = cookie(headers, SECURE_SESSION_COOKIE).or_else(|| cookie(headers, SESSION_COOKIE))?;
    if raw.is_empty() || raw.len() > 200 {
        return None;
    }
    let hash = token_hash(raw);
    let actor = match state.tokens.get(&hash) {
        Some(a) => a,
        None => {
            let user = state.store.token_user(&hash, Utc::now()).await.ok()??;
            let a = actor_of(&user);
            state.tokens.put(hash.clone(), a.clone());
            a
        }
    };
    Some(Session {
        actor,
        csrf: csrf_for(raw),
        token_hash: hash,
    })
}

/// The CSRF token of a session token: a keyed digest of the secret cookie value, which a page
/// of another site can neither read nor compute.
pub fn csrf_for(raw_session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"motcua-csrf\0");
    h.update(raw_session_token.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Constant-time string comparison.
pub fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// Whether the request came over HTTPS (directly or through a proxy that says so): cookies are
/// then marked `Secure` and the session cookie takes the `__Host-` prefix.
pub fn is_https(headers: &HeaderMap, state: &AppState) -> bool {
    state.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A fresh random token, hex.
pub fn random_hex(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut raw);
    hex::encode(raw)
}

/// Adds a `Set-Cookie` header.
pub fn set_cookie(
    resp: &mut Response,
    name: &str,
    value: &str,
    max_age: Option<i64>,
    secure: bool,
) {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    if let Ok(v) = c.parse() {
        resp.headers_mut().append(SET_COOKIE, v);
    }
}

/// Sets the session cookie for a new session token.
pub fn set_session_cookie(resp: &mut Response, raw: &str, secure: bool) {
    let name = if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    };
    set_cookie(
        resp,
        name,
        raw,
        Some(crate::auth::TOKEN_TTL_HOURS * 3600),
        secure,
    );
}

/// Clears both session cookie names.
pub fn clear_session_cookie(resp: &mut Response, secure: bool) {
    set_cookie(resp, SESSION_COOKIE, "", Some(0), secure);
    if secure {
        set_cookie(resp, SECURE_SESSION_COOKIE, "", Some(0), true);
    }
}

/// The client's address: the connection's peer, or `None` in tests that call the router
/// directly. Proxies are not trusted for this (a forged `X-Forwarded-For` must not reset the
/// limiter); behind a proxy every client shares the proxy's budget, which errs on the safe side.
pub fn client_ip(parts_ext: &axum::http::Extensions) -> Option<IpAddr> {
    parts_ext
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Failed sign-ins allowed per client address within [`LoginLimiter::WINDOW`]; after that the
/// address may not try again until the window ends.
pub const LOGIN_FAILURES_PER_WINDOW: u32 = 10;

/// Counts failed sign-ins per client address in fixed windows (in memory, per node: a shared
/// limit across nodes is the reverse proxy's job; the per-account lockout is in the database).
/// Successful sign-ins are not counted, so a busy office behind one address is not locked out
/// by its own staff starting their day.
#[derive(Default)]
pub struct LoginLimiter {
    seen: Mutex<HashMap<Option<IpAddr>, (Instant, u32)>>,
}

impl LoginLimiter {
    /// Length of a window.
    pub const WINDOW: Duration = Duration::from_secs(60);

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<Option<IpAddr>, (Instant, u32)>) -> T) -> T {
        let mut seen = match self.seen.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        f(&mut seen)
    }

    /// `Err(seconds to wait)` when the address has failed too often in this window.
    pub fn check(&self, ip: Option<IpAddr>) -> Result<(), u64> {
        let now = Instant::now();
        self.with(|seen| match seen.get(&ip) {
            Some((start, n))
                if now.duration_since(*start) < Self::WINDOW && *n >= LOGIN_FAILURES_PER_WINDOW =>
            {
                let left = Self::WINDOW.saturating_sub(now.duration_since(*start));
                Err(left.as_secs().max(1))
            }
            _ => Ok(()),
        })
    }

    /// Counts a failed sign-in from the address.
    pub fn failed(&self, ip: Option<IpAddr>) {
        let now = Instant::now();
        self.with(|seen| {
            if seen.len() > 100_000 {
                seen.retain(|_, (start, _)| now.duration_since(*start) < Self::WINDOW);
            }
            let e = seen.entry(ip).or_insert((now, 0));
            if now.duration_since(e.0) >= Self::WINDOW {
                *e = (now, 0);
            }
            e.1 += 1;
        })
    }
}

/// Public lookups (dossier code with phone number or personal ID) allowed per client address
/// within [`RateLimiter::WINDOW`]: enough for a family, too few to guess phone numbers.
pub const LOOKUPS_PER_WINDOW: u32 = 20;

/// Counts every request per client address in fixed windows (in memory, per node, like
/// [`LoginLimiter`]); used for the public lookup, which could otherwise be used to guess
/// which phone number or personal ID goes with a dossier code.
pub struct RateLimiter {
    per_window: u32,
    seen: Mutex<HashMap<Option<IpAddr>, (Instant, u32)>>,
}

impl RateLimiter {
    /// Length of a window.
    pub const WINDOW: Duration = Duration::from_secs(60);

    /// A limiter allowing `per_window` requests per address and window.
    pub fn new(per_window: u32) -> RateLimiter {
        RateLimiter {
            per_window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request; `Err(seconds to wait)` when the address is over its budget.
    pub fn hit(&self, ip: Option<IpAddr>) -> Result<(), u64> {
        let now = Instant::now();
        let mut seen = match self.seen.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        if seen.len() > 100_000 {
            seen.retain(|_, (start, _)| now.duration_since(*start) < Self::WINDOW);
        }
        let e = seen.entry(ip).or_insert((now, 0));
        if now.duration_since(e.0) >= Self::WINDOW {
            *e = (now, 0);
        }
        if e.1 >= self.per_window {
            let left = Self::WINDOW.saturating_sub(now.duration_since(e.0));
            return Err(left.as_secs().max(1));
        }
        e.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, "a=1; motcua_session=abc; b=2".parse().unwrap());
        h.append(COOKIE, "motcua_login_csrf=zz".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, LOGIN_CSRF_COOKIE), Some("zz"));
        assert_eq!(cookie(&h, "missing"), None);
        assert_eq!(cookie(&h, "motcua"), None, "no prefix match");
    }

    #[test]
    fn csrf_tokens_depend_on_the_session_and_compare_exactly() {
        let a = csrf_for("token-a");
        assert_eq!(a, csrf_for("token-a"));
        assert_ne!(a, csrf_for("token-b"));
        assert_eq!(a.len(), 32);
        assert!(ct_eq(&a, &a.clone()));
        assert!(!ct_eq(&a, &a[..31]));
        assert!(!ct_eq(&a, &csrf_for("token-b")));
    }

    #[test]
    fn the_rate_limiter_counts_every_request_per_address() {
        let l = RateLimiter::new(3);
        let ip: Option<IpAddr> = Some("10.0.0.1".parse().unwrap());
        for _ in 0..3 {
            assert!(l.hit(ip).is_ok());
        }
        let wait = l.hit(ip).unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(
            l.hit(Some("10.0.0.2".parse().unwrap())).is_ok(),
            "per address"
        );
    }

    #[test]
    fn the_limiter_blocks_an_address_after_ten_failures_in_a_window() {
        let l = LoginLimiter::default();
        let ip: Option<IpAddr> = Some("10.0.0.1".parse().unwrap());
        for _ in 0..LOGIN_FAILURES_PER_WINDOW {
            assert!(l.check(ip).is_ok());
            l.failed(ip);
        }
        let wait = l.check(ip).unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(
            l.check(Some("10.0.0.2".parse().unwrap())).is_ok(),
            "per address"
        );
    }
}
