//! Login and the current user.

use crate::AppState;
use crate::auth::{Auth, TOKEN_TTL_HOURS, actor_as, new_token, pick_grant, sign_in};
use crate::error::ApiError;
use crate::session::client_ip;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use motcua_domain::agency::{Actor, Role};
use motcua_domain::codes::AgencyCode;
use motcua_store::Grant;
use serde::{Deserialize, Serialize};

/// Credentials.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
    /// Act as this role (one the account holds); the account's first role if absent.
    #[serde(default)]
    pub role: Option<Role>,
    /// Act in this agency (with `role`, or alone when the account holds one role there).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "H40.24781")]
    pub agency: Option<String>,
}

/// A bearer token.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// Who you are: the role and agency this token acts as.
    pub user: Actor,
    /// Every role the account holds (sign in again naming another to act as it).
    pub grants: Vec<Grant>,
}

/// Exchanges a user name and password for a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = TokenRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 423, body = crate::error::Problem), (status = 429, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn token(
    State(s): State<AppState>,
    ext: axum::http::Extensions,
    body: Result<Json<TokenRequest>, JsonRejection>,
) -> Result<Json<TokenResponse>, ApiError> {
    let Json(req) = body?;
    if req.username.len() > 100 || req.password.len() > 200 {
        return Err(ApiError::invalid(
            "username",
            "user name or password too long",
        ));
    }
    let agency: Option<AgencyCode> = match req.agency.as_deref() {
        None => None,
        Some(a) => Some(
            a.parse()
                .map_err(|e| ApiError::invalid("agency", format!("{e}")))?,
        ),
    };
    let user = sign_in(&s, &req.username, &req.password, client_ip(&ext)).await?;
    let grants = s.store.user_grants(user.id).await?;
    let grant = pick_grant(&grants, req.role, agency.as_ref())
        .map_err(|e| ApiError::invalid(if req.role.is_some() { "role" } else { "agency" }, e))?;
    let (token, rec) = new_token(&user);
    let hash = rec.token_hash.clone();
    s.store.create_token(rec).await?;
    if grants.first() != Some(&grant) {
        s.store.choose_grant(&hash, grant.clone()).await?;
    }
    Ok(Json(TokenResponse {
        token,
        token_type: "Bearer",
        expires_in: TOKEN_TTL_HOURS * 3600,
        user: actor_as(&user, &grant),
        grants,
    }))
}

/// The authenticated user.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Actor), (status = 401, body = crate::error::Problem)))]
pub async fn me(Auth(actor): Auth) -> Json<Actor> {
    Json(actor)
}
