//! The outbox for operators (administrators only): messages and their delivery state, each
//! target's queue, dead letters and their retry, and the daily figures reconciliation starts
//! from. Message bodies hold personal data of applicants, so nobody else may read them.

use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use chrono::NaiveDate;
use motcua_domain::agency::{Actor, Role};
use motcua_store::{OutboxDay, OutboxDepth, OutboxEntry, OutboxHold, OutboxQuery, OutboxStatus};
use serde::{Deserialize, Serialize};

fn admin_only(a: &Auth) -> Result<(), ApiError> {
    if a.0.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "the outbox is for administrators (messages hold applicants' personal data)",
        ))
    }
}

/// A page of messages.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OutboxPage {
    /// Messages, by id.
    pub items: Vec<OutboxEntry>,
    /// `after_id` for the next page, if there may be one.
    pub next_after_id: Option<i64>,
}

/// Lists outbox messages, optionally by status (`pending`, `done`, `dead`) and target.
#[utoipa::path(get, path = "/api/v1/admin/outbox", tag = "outbox", params(OutboxQuery), security(("bearer" = [])),
    responses((status = 200, body = OutboxPage), (status = 400, body = crate::error::Problem),
        (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    q: Result<Query<OutboxQuery>, QueryRejection>,
) -> Result<Json<OutboxPage>, ApiError> {
    admin_only(&auth)?;
    let Query(q) = q?;
    let size = q.page_size() as usize;
    let items = s.store.outbox_list(q).await?;
    let next_after_id = (items.len() == size)
        .then(|| items.last().map(|e| e.id))
        .flatten();
    Ok(Json(OutboxPage {
        items,
        next_after_id,
    }))
}

/// One message.
#[utoipa::path(get, path = "/api/v1/admin/outbox/{id}", tag = "outbox", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Message id")),
    responses((status = 200, body = OutboxEntry), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn get_one(
    State(s): State<AppState>,
    auth: Auth,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<OutboxEntry>, ApiError> {
    admin_only(&auth)?;
    let Path(id) = id?;
    s.store
        .outbox_get(id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no outbox message {id}")))
}

/// How many messages an operator sent back to the queue.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Retried {
    /// Dead letters now pending again.
    pub retried: u64,
}

/// Sends one dead letter back to the queue (attempts start again).
#[utoipa::path(post, path = "/api/v1/admin/outbox/{id}/retry", tag = "outbox", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Message id")),
    responses((status = 200, body = Retried), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn retry(
    State(s): State<AppState>,
    auth: Auth,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<Retried>, ApiError> {
    admin_only(&auth)?;
    let Path(id) = id?;
    let retried = retry_one(&s, &auth.0, id).await?;
    Ok(Json(Retried { retried }))
}

/// Sends the dead letter `id` back to the queue, recorded in the audit trail as `actor`'s:
/// 404 when there is no such message, 409 when it is not a dead letter.
pub(crate) async fn retry_one(s: &AppState, actor: &Actor, id: i64) -> Result<u64, ApiError> {
    let Some(m) = s.store.outbox_get(id).await? else {
        return Err(ApiError::not_found(format!("no outbox message {id}")));
    };
    if m.status != OutboxStatus::Dead {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "not-dead",
            "Not a dead letter",
            format!(
                "message {id} is {}: only dead letters can be retried",
                m.status.as_str()
            ),
        ));
    }
    let retried = s
        .store
        .outbox_retry(Some(id), None, chrono::Utc::now())
        .await?;
    audit(
        s,
        actor,
        "outbox_retry",
        format!("{} message {id}", m.topic),
    )
    .await;
    Ok(retried)
}

/// Sends every dead letter of `topic` (or of every target) back to the queue, recorded in the
/// audit trail as `actor`'s; returns how many.
pub(crate) async fn retry_target(
    s: &AppState,
    actor: &Actor,
    topic: Option<String>,
) -> Result<u64, ApiError> {
    let retried = s
        .store
        .outbox_retry(None, topic.clone(), chrono::Utc::now())
        .await?;
    let what = topic.as_deref().unwrap_or("every target");
    audit(
        s,
        actor,
        "outbox_retry_all",
        format!("{what}: {retried} message(s)"),
    )
    .await;
    Ok(retried)
}

async fn audit(s: &AppState, by: &Actor, action: &str, detail: String) {
    let entry = motcua_store::AuditEntry {
        at: chrono::Utc::now(),
        user_id: Some(by.user_id),
        username: by.name.clone(),
        action: action.to_string(),
        dossier_id: None,
        detail,
    };
    if let Err(e) = s.store.append_audit(entry).await {
        tracing::error!(error = %e, "audit trail write failed");
    }
}

/// Which dead letters to retry.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RetryAllParams {
    /// Only this target.
    pub topic: Option<String>,
}

/// Sends every dead letter (of one target, or all) back to the queue.
#[utoipa::path(post, path = "/api/v1/admin/outbox/retry-all", tag = "outbox", params(RetryAllParams), security(("bearer" = [])),
    responses((status = 200, body = Retried), (status = 400, body = crate::error::Problem),
        (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
pub async fn retry_all(
    State(s): State<AppState>,
    auth: Auth,
    q: Result<Query<RetryAllParams>, QueryRejection>,
) -> Result<Json<Retried>, ApiError> {
    admin_only(&auth)?;
    let Query(q) = q?;
    let retried = retry_target(&s, &auth.0, q.topic).await?;
    Ok(Json(Retried { retried }))
}

/// Each target's queue now: pending, dead letters, the oldest undelivered message.
#[utoipa::path(get, path = "/api/v1/admin/outbox/queues", tag = "outbox", security(("bearer" = [])),
    responses((status = 200, body = Vec<OutboxDepth>), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
pub async fn queues(
    State(s): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<OutboxDepth>>, ApiError> {
    admin_only(&auth)?;
    Ok(Json(s.store.outbox_depths().await?))
}

/// A period of local days.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DaysParams {
    /// First day (YYYY-MM-DD).
    pub from: NaiveDate,
    /// Last day, inclusive (YYYY-MM-DD); at most 366 days after `from`.
    pub to: NaiveDate,
}

/// Per target and day: written, acknowledged, failed, dead-lettered, retried, and the fate of
/// the day's messages (`unexplained` must be zero).
#[utoipa::path(get, path = "/api/v1/admin/outbox/days", tag = "outbox", params(DaysParams), security(("bearer" = [])),
    responses((status = 200, body = Vec<OutboxDay>), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn days(
    State(s): State<AppState>,
    auth: Auth,
    q: Result<Query<DaysParams>, QueryRejection>,
) -> Result<Json<Vec<OutboxDay>>, ApiError> {
    admin_only(&auth)?;
    let Query(q) = q?;
    if q.to < q.from || (q.to - q.from).num_days() > 366 {
        return Err(ApiError::invalid(
            "to",
            "must be on or after `from`, and at most 366 days later",
        ));
    }
    Ok(Json(s.store.outbox_days(q.from, q.to).await?))
}

/// The targets whose deliveries an operator holds now (decision 0053).
#[utoipa::path(get, path = "/api/v1/admin/outbox/holds", tag = "outbox", security(("bearer" = [])),
    responses((status = 200, body = Vec<OutboxHold>), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
pub async fn holds(
    State(s): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<OutboxHold>>, ApiError> {
    admin_only(&auth)?;
    Ok(Json(s.store.outbox_holds().await?))
}

/// Why a target is held.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldInput {
    /// The reason, shown to every operator (1-500 characters), e.g. the portal's announced
    /// maintenance window.
    pub reason: String,
}

/// A hold and whether this request placed it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct HoldPlaced {
    /// The hold in force.
    pub hold: OutboxHold,
    /// False when the target was held already (the first hold stays, with its reason).
    pub placed: bool,
}

/// Holds the deliveries to one target: no node claims its messages until the hold is lifted;
/// they wait in order, attempts untouched. Messages in flight finish.
#[utoipa::path(put, path = "/api/v1/admin/outbox/holds/{topic}", tag = "outbox", security(("bearer" = [])),
    params(("topic" = String, Path, description = "Target, e.g. dvcqg.sync")), request_body = HoldInput,
    responses((status = 200, body = HoldPlaced), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn hold(
    State(s): State<AppState>,
    auth: Auth,
    topic: Result<Path<String>, PathRejection>,
    body: Result<Json<HoldInput>, JsonRejection>,
) -> Result<Json<HoldPlaced>, ApiError> {
    admin_only(&auth)?;
    let Path(topic) = topic?;
    let Json(input) = body?;
    let (hold, placed) = hold_target(&s, &auth.0, topic, &input.reason).await?;
    Ok(Json(HoldPlaced { hold, placed }))
}

/// Lifts the hold on one target: its messages go again, oldest first.
#[utoipa::path(delete, path = "/api/v1/admin/outbox/holds/{topic}", tag = "outbox", security(("bearer" = [])),
    params(("topic" = String, Path, description = "Target, e.g. dvcqg.sync")),
    responses((status = 200, body = OutboxHold), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn release(
    State(s): State<AppState>,
    auth: Auth,
    topic: Result<Path<String>, PathRejection>,
) -> Result<Json<OutboxHold>, ApiError> {
    admin_only(&auth)?;
    let Path(topic) = topic?;
    Ok(Json(release_target(&s, &auth.0, &topic).await?))
}

/// Holds `topic` for `actor` with `reason`, audited: 404 for a target the system does not
/// deliver to, 422 for a missing or overlong reason.
pub(crate) async fn hold_target(
    s: &AppState,
    actor: &Actor,
    topic: String,
    reason: &str,
) -> Result<(OutboxHold, bool), ApiError> {
    if !motcua_store::holds::TOPICS.contains(&topic.as_str()) {
        return Err(ApiError::not_found(format!(
            "no target {topic:?}: one of {}",
            motcua_store::holds::TOPICS.join(", ")
        )));
    }
    motcua_store::holds::check(&topic, reason).map_err(|m| ApiError::invalid("reason", m))?;
    let (hold, placed) = s
        .store
        .outbox_hold(OutboxHold {
            topic,
            by: actor.name.clone(),
            at: chrono::Utc::now(),
            reason: reason.to_string(),
        })
        .await?;
    if placed {
        audit(
            s,
            actor,
            "outbox_hold",
            format!("{}: {}", hold.topic, hold.reason),
        )
        .await;
    }
    Ok((hold, placed))
}

/// Lifts the hold on `topic` for `actor`, audited: 404 when it is not held.
pub(crate) async fn release_target(
    s: &AppState,
    actor: &Actor,
    topic: &str,
) -> Result<OutboxHold, ApiError> {
    let Some(lifted) = s.store.outbox_release(topic).await? else {
        return Err(ApiError::not_found(format!("{topic:?} is not held")));
    };
    audit(
        s,
        actor,
        "outbox_release",
        format!(
            "{} (held by {} since {})",
            lifted.topic, lifted.by, lifted.at
        ),
    )
    .await;
    Ok(lifted)
}
