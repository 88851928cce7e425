//! Authentication: argon2 passwords, opaque bearer tokens (stored as SHA-256 hashes), and the
//! extractor that turns a request's `Authorization` header into an [`Actor`].

use crate::AppState;
use crate::error::ApiError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::{Duration, Utc};
use motcua_domain::agency::Actor;
use motcua_store::{TokenRecord, UserRecord};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// How long an API token lives.
pub const TOKEN_TTL_HOURS: i64 = 12;

fn argon() -> Argon2<'static> {
    // OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters"),
    )
}

/// Hashes a password into a PHC string.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    argon()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing does not fail with valid parameters")
        .to_string()
}

/// Checks a password against a stored PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| argon().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// SHA-256 of a token, hex: what the store keeps.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Issues a new token for `user`; returns the token (shown once) and its record.
pub fn new_token(user: &UserRecord) -> (String, TokenRecord) {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = format!("mc_{}", hex::encode(raw));
    let now = Utc::now();
    let rec = TokenRecord {
        token_hash: token_hash(&token),
        user_id: user.id,
        created_at: now,
        expires_at: now + Duration::hours(TOKEN_TTL_HOURS),
    };
    (token, rec)
}

/// The actor a user acts as.
pub fn actor_of(u: &UserRecord) -> Actor {
    Actor {
        user_id: u.id,
        name: u.name.clone(),
        role: u.role,
        agency: u.agency.clone(),
    }
}

/// The actor a user acts as under `grant`.
pub fn actor_as(u: &UserRecord, grant: &motcua_store::Grant) -> Actor {
    Actor {
        user_id: u.id,
        name: u.name.clone(),
        role: grant.role,
        agency: grant.agency.clone(),
    }
}

/// Which of `grants` a person asked for: by role, by agency or both; the first grant when
/// nothing is asked. `Err` says why none fits (for a 422 or the page).
pub fn pick_grant(
    grants: &[motcua_store::Grant],
    role: Option<motcua_domain::agency::Role>,
    agency: Option<&motcua_domain::codes::AgencyCode>,
) -> Result<motcua_store::Grant, String> {
    let fits: Vec<&motcua_store::Grant> = grants
        .iter()
        .filter(|g| role.is_none_or(|r| g.role == r))
        .filter(|g| agency.is_none_or(|a| g.agency.as_ref() == Some(a)))
        .collect();
    match (role, agency, fits.as_slice()) {
        (None, None, _) => grants
            .first()
            .cloned()
            .ok_or_else(|| "the account holds no role".to_string()),
        (_, _, [one]) => Ok((*one).clone()),
        (_, _, []) => Err("the account does not hold this role in this agency".to_string()),
        _ => Err("the account holds this role in several agencies: name the agency".to_string()),
    }
}

/// Failed sign-ins in a row that lock an account.
pub const MAX_LOGIN_FAILURES: u32 = 5;
/// How long a locked account stays locked.
pub const LOCK_MINUTES: i64 = 15;

/// Why a sign-in was refused.
#[derive(Debug)]
pub enum SignInError {
    /// Too many attempts from this client: wait this many seconds.
    TooManyAttempts(u64),
    /// The account is locked until then after repeated failures.
    Locked(chrono::DateTime<Utc>),
    /// Unknown user or wrong password (the two are not told apart).
    Wrong,
    /// The right password for an account an administrator disabled.
    Disabled,
    /// The store failed.
    Store(motcua_store::StoreError),
}

impl From<SignInError> for ApiError {
    fn from(e: SignInError) -> ApiError {
        match e {
            SignInError::TooManyAttempts(s) => ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "too-many-attempts",
                "Too many sign-in attempts",
                format!("too many sign-in attempts from your address; try again in {s} s"),
            ),
            SignInError::Locked(_) => ApiError::new(
                axum::http::StatusCode::LOCKED,
                "account-locked",
                "Account locked",
                format!(
                    "the account is locked for {LOCK_MINUTES} minutes after {MAX_LOGIN_FAILURES} failed sign-ins"
                ),
            ),
            SignInError::Wrong => ApiError::unauthorized("wrong user name or password"),
            SignInError::Disabled => ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "account-disabled",
                "Account disabled",
                "an administrator disabled this account",
            ),
            SignInError::Store(e) => e.into(),
        }
    }
}

/// Checks a user name and password, with the per-client limiter and the per-account lockout;
/// records the outcome in the audit trail (never the password).
pub async fn sign_in(
    state: &AppState,
    username: &str,
    password: &str,
    ip: Option<std::net::IpAddr>,
) -> Result<UserRecord, SignInError> {
    state
        .login_limiter
        .check(ip)
        .map_err(SignInError::TooManyAttempts)?;
    // Citizens sign in with the e-mail or phone they signed up with, however they type it.
    let normalized = crate::staff::login_name(username).unwrap_or_else(|| username.to_string());
    let username = normalized.trim();
    if username.is_empty() || username.len() > 100 || password.len() > 200 {
        state.login_limiter.failed(ip);
        return Err(SignInError::Wrong);
    }
    let now = Utc::now();
    let audit = |user_id, action: &str, detail: String| motcua_store::AuditEntry {
        at: now,
        user_id,
        username: username.to_string(),
        action: action.to_string(),
        dossier_id: None,
        detail,
    };
    let from = ip.map(|i| i.to_string()).unwrap_or_default();
    if let Some(until) = state
        .store
        .login_locked_until(username, now)
        .await
        .map_err(SignInError::Store)?
    {
        let _ = state
            .store
            .append_audit(audit(None, "login_locked", from))
            .await;
        return Err(SignInError::Locked(until));
    }
    let user = state
        .store
        .user_by_username(username)
        .await
        .map_err(SignInError::Store)?;
    // Verify against a dummy hash when the user is unknown, so timing does not reveal users.
    let ok = match &user {
        Some(u) => verify_password(password, &u.password_hash),
        None => {
            verify_password(password, dummy_hash());
            false
        }
    };
    match (ok, user) {
        (true, Some(u)) if u.disabled => {
            let _ = state
                .store
                .append_audit(audit(Some(u.id), "login_disabled", from))
                .await;
            Err(SignInError::Disabled)
        }
        (true, Some(u)) => {
            state
                .store
                .clear_login_failures(username)
                .await
                .map_err(SignInError::Store)?;
            let _ = state
                .store
                .append_audit(audit(Some(u.id), "login", from))
                .await;
            Ok(u)
        }
        (_, user) => {
            state.login_limiter.failed(ip);
            let f = state
                .store
                .record_login_failure(
                    username,
                    now,
                    MAX_LOGIN_FAILURES,
                    Duration::minutes(LOCK_MINUTES),
                )
                .await
                .map_err(SignInError::Store)?;
            let _ = state
                .store
                .append_audit(audit(user.map(|u| u.id), "login_failed", from))
                .await;
            match f.locked_until {
                Some(until) => Err(SignInError::Locked(until)),
                None => Err(SignInError::Wrong),
            }
        }
    }
}

fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("dummy password for timing"))
}

/// An authenticated request: the bearer token was valid.
#[derive(Clone, Debug)]
pub struct Auth(pub Actor);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Auth, ApiError> {
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            return from_session(parts, state).await;
        };
        let value = header
            .to_str()
            .map_err(|_| ApiError::unauthorized("the Authorization header is not text"))?;
        let token = value
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 200)
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
            })?;
        let hash = token_hash(token);
        if let Some(actor) = state.tokens.get(&hash) {
            return Ok(Auth(actor));
        }
        let user = state
            .store
            .token_user(&hash, Utc::now())
            .await?
            .ok_or_else(|| ApiError::unauthorized("the token is unknown or expired"))?;
        let actor = actor_of(&user);
        state.tokens.put(hash, actor.clone());
        Ok(Auth(actor))
    }
}

/// A page's script (or a signed-in person's browser) calling the API with the session cookie:
/// reads need nothing more; anything else must carry the session's CSRF token in
/// `X-CSRF-Token`, so that another site cannot make the browser act.
async fn from_session(parts: &Parts, state: &AppState) -> Result<Auth, ApiError> {
    let missing = || {
        ApiError::unauthorized(
            "send `Authorization: Bearer <token>`; get a token from POST /api/v1/auth/token",
        )
    };
    let s = crate::session::session_of(&parts.headers, state)
        .await
        .ok_or_else(missing)?;
    let safe = matches!(
        parts.method,
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if !safe {
        let sent = parts
            .headers
            .get(crate::session::CSRF_HEADER)
            .and_then(|v| v.to_str().ok());
        if !s.csrf_ok(sent) {
            return Err(ApiError::forbidden(
                "a request with the session cookie must carry the page's X-CSRF-Token",
            ));
        }
    }
    Ok(Auth(s.actor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_with_the_right_secret() {
        let h = hash_password("motcua@2026");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("motcua@2026", &h));
        assert!(!verify_password("motcua@2025", &h));
        assert!(!verify_password("motcua@2026", "not a hash"));
        assert_ne!(h, hash_password("motcua@2026"), "salted");
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let u = UserRecord {
            id: uuid::Uuid::new_v4(),
            username: "a".into(),
            password_hash: String::new(),
            name: "A".into(),
            role: motcua_domain::agency::Role::Citizen,
            agency: None,
            disabled: false,
        };
        let (t1, r1) = new_token(&u);
        let (t2, _) = new_token(&u);
        assert_ne!(t1, t2);
        assert_eq!(r1.token_hash, token_hash(&t1));
        assert_ne!(r1.token_hash, t1);
    }
}
