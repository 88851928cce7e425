//! The JSON API handlers.

pub mod admin;
pub mod auth;
pub mod bulk;
pub mod calendar;
pub mod catalogue;
pub mod catalogue_admin;
pub mod documents;
pub mod dossiers;
pub mod feedback;
pub mod files;
pub mod forms;
pub mod inbox;
pub mod open_data;
pub mod outbox;
pub mod postal;
pub mod postal_choice;
pub mod queue;
pub mod reports;
pub mod service_index;
pub mod stats;

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

/// Liveness and readiness: 200 when the database answers.
#[utoipa::path(get, path = "/healthz", tag = "system",
    responses((status = 200, description = "The database answers"), (status = 503, description = "It does not", body = crate::error::Problem)))]
pub async fn health(State(s): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    s.store.health().await.map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Database unavailable",
            e.to_string(),
        )
    })?;
    Ok(Json(
        serde_json::json!({ "status": "ok", "database": s.store.backend() }),
    ))
}

/// Unknown API routes.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such API endpoint; see /api/openapi.json")
}
