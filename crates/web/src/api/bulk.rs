//! Bulk actions for leaders (issue 5): approve, or assign to one specialist, several dossiers at
//! once. Each dossier goes through [`perform`] on its own, exactly as if acted on alone; the
//! answer lists, per dossier, what happened (done, or why it was refused), so nothing half-done
//! is hidden. Used by the API and by the inbox page.

use crate::AppState;
use crate::api::dossiers::perform;
use crate::auth::Auth;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use motcua_domain::agency::{Actor, Role};
use motcua_domain::dossier::Command;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Most dossiers in one bulk request.
pub const MAX_BULK: usize = 200;

/// A bulk action.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    /// `approve` or `assign`.
    pub action: String,
    /// Dossier ids (1 to 200; repeats count once).
    pub ids: Vec<String>,
    /// For `assign`: the specialist (of the agency holding each dossier).
    #[serde(default)]
    pub user_id: Option<Uuid>,
    /// A note kept in each dossier's history.
    #[serde(default)]
    pub note: Option<String>,
}

/// What happened to one dossier.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct BulkItem {
    /// The id as sent.
    pub id: String,
    /// Whether the action was done.
    pub ok: bool,
    /// HTTP status the single action would have had (200, or 403/404/409/422...).
    pub status: u16,
    /// Dossier code, when done.
    pub code: Option<String>,
    /// Why it was refused.
    pub problem: Option<String>,
}

/// The outcome of a bulk action.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct BulkResult {
    /// The action.
    pub action: String,
    /// How many were done.
    pub done: usize,
    /// How many were refused.
    pub refused: usize,
    /// Per dossier, in the order sent.
    pub items: Vec<BulkItem>,
}

/// Runs a bulk action as `actor` (leaders only).
pub(crate) async fn run(
    s: &AppState,
    actor: &Actor,
    req: BulkRequest,
) -> Result<BulkResult, ApiError> {
    if actor.role != Role::Leader {
        return Err(ApiError::forbidden("bulk actions are for leaders"));
    }
    let mut ids: Vec<String> = Vec::new();
    for id in req.ids {
        let id = id.trim().to_string();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(ApiError::invalid(
            "ids",
            format!("1 to {MAX_BULK} dossier ids, got {}", ids.len()),
        ));
    }
    let note = req
        .note
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    let cmd = match req.action.as_str() {
        "approve" => Command::Approve,
        "assign" => {
            let uid = req.user_id.ok_or_else(|| {
                ApiError::invalid("user_id", "name the specialist to assign (user_id)")
            })?;
            let u = s
                .store
                .user(uid)
                .await?
                .filter(|u| !u.disabled)
                .ok_or_else(|| ApiError::invalid("user_id", "no enabled user with this id"))?;
            Command::Assign {
                user_id: u.id,
                name: u.name,
            }
        }
        other => {
            return Err(ApiError::invalid(
                "action",
                format!("`{other}`: approve or assign"),
            ));
        }
    };
    let mut items = Vec::with_capacity(ids.len());
    for raw in ids {
        let Ok(id) = raw.parse::<Uuid>() else {
            items.push(BulkItem {
                id: raw,
                ok: false,
                status: 400,
                code: None,
                problem: Some("not a dossier id (a UUID)".into()),
            });
            continue;
        };
        match perform(s, actor, id, cmd.clone(), note.clone(), None).await {
            Ok(v) => {
                metrics::counter!("motcua_dossier_actions_total", "action" => req.action.clone())
                    .increment(1);
                items.push(BulkItem {
                    id: raw,
                    ok: true,
                    status: 200,
                    code: v.get().code.as_ref().map(|c| c.to_string()),
                    problem: None,
                })
            }
            Err(e) => items.push(BulkItem {
                id: raw,
                ok: false,
                status: e.status().as_u16(),
                code: None,
                problem: Some(e.detail().to_string()),
            }),
        }
    }
    let done = items.iter().filter(|i| i.ok).count();
    Ok(BulkResult {
        action: req.action,
        done,
        refused: items.len() - done,
        items,
    })
}

/// Approves, or assigns to one specialist, several dossiers; each is done or refused on its
/// own and the answer says which.
#[utoipa::path(post, path = "/api/v1/dossiers/bulk", tag = "dossiers", request_body = BulkRequest, security(("bearer" = [])),
    responses((status = 200, body = BulkResult), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn bulk(
    State(s): State<AppState>,
    Auth(a): Auth,
    body: Result<Json<BulkRequest>, JsonRejection>,
) -> Result<Json<BulkResult>, ApiError> {
    if a.role != Role::Leader {
        return Err(ApiError::forbidden("bulk actions are for leaders"));
    }
    let Json(req) = body?;
    Ok(Json(run(&s, &a, req).await?))
}
