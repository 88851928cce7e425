//! Login and the current user.

use crate::AppState;
use crate::auth::{Auth, TOKEN_TTL_HOURS, actor_of, new_token, sign_in};
use crate::error::ApiError;
use crate::session::client_ip;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use motcua_domain::agency::Actor;
use serde::{Deserialize, Serialize};

/// Credentials.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
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
    /// Who you are.
    pub user: Actor,
}

/// Exchanges a user name and password for a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = TokenRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::error::Problem), (status = 423, body = crate::error::Problem), (status = 429, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
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
    let user = sign_in(&s, &req.username, &req.password, client_ip(&ext)).await?;
    let (token, rec) = new_token(&user);
    s.store.create_token(rec).await?;
    Ok(Json(TokenResponse {
        token,
        token_type: "Bearer",
        expires_in: TOKEN_TTL_HOURS * 3600,
        user: actor_of(&user),
    }))
}

/// The authenticated user.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Actor), (status = 401, body = crate::error::Problem)))]
pub async fn me(Auth(actor): Auth) -> Json<Actor> {
    Json(actor)
}
