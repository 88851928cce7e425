//! Queue numbers over the API: a centre's groups (public), a counter's state and the officers'
//! actions (desk officers and leaders of the centre), and waiting and service times (leaders).

use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::queue::{self, CounterView, TicketView};
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use chrono::{NaiveDate, Utc};
use motcua_domain::queue::{Counter, QueueStats, ServiceGroup, TicketAction};
use serde::{Deserialize, Serialize};

/// A group on the kiosk with its queue.
#[derive(Serialize, utoipa::ToSchema)]
pub struct GroupQueue {
    /// The group.
    #[serde(flatten)]
    pub group: ServiceGroup,
    /// Tickets waiting today.
    pub waiting: u32,
}

/// A centre's queue set-up and how many wait.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CentreQueue {
    /// Agency code of the centre.
    pub centre: String,
    /// Its name.
    pub name: String,
    /// Service groups, in kiosk order.
    pub groups: Vec<GroupQueue>,
    /// Counters, by number.
    pub counters: Vec<Counter>,
}

/// `GET /api/v1/queue/{centre}`: the centre's groups, waiting counts and counters (public).
#[utoipa::path(get, path = "/api/v1/queue/{centre}", tag = "queue",
    params(("centre" = String, Path, description = "Agency code of the centre", example = "000.00.01.H40")),
    responses((status = 200, body = CentreQueue), (status = 404, body = crate::error::Problem)))]
pub async fn centre(
    State(s): State<AppState>,
    p: Result<Path<String>, PathRejection>,
) -> Result<Json<CentreQueue>, ApiError> {
    let Path(code) = p?;
    let c = queue::centre(&s, &code)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("centre {code} has no queue")))?;
    let waiting = s
        .store
        .queue_waiting(&c.agency.code, queue::today())
        .await?;
    Ok(Json(CentreQueue {
        centre: c.agency.code.to_string(),
        name: c.agency.name.clone(),
        groups: c
            .groups
            .iter()
            .map(|g| GroupQueue {
                group: g.clone(),
                waiting: waiting
                    .iter()
                    .find(|(code, _)| *code == g.code)
                    .map_or(0, |(_, n)| *n),
            })
            .collect(),
        counters: c.counters,
    }))
}

/// `GET /api/v1/queue/{centre}/counters/{number}`: what the counter holds and how many wait.
#[utoipa::path(get, path = "/api/v1/queue/{centre}/counters/{number}", tag = "queue", security(("bearer" = [])),
    params(("centre" = String, Path, description = "Agency code of the centre"), ("number" = u16, Path, description = "Counter number")),
    responses((status = 200, body = CounterView), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn counter(
    State(s): State<AppState>,
    Auth(actor): Auth,
    p: Result<Path<(String, u16)>, PathRejection>,
) -> Result<Json<CounterView>, ApiError> {
    let Path((centre, number)) = p?;
    Ok(Json(
        queue::counter_state(&s, &actor, &centre, number, Utc::now()).await?,
    ))
}

/// What an action did.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ActResult {
    /// The ticket acted on; null when `call-next` found nobody waiting.
    pub ticket: Option<TicketView>,
    /// The counter afterwards.
    pub counter: CounterView,
}

/// `POST /api/v1/queue/{centre}/counters/{number}/actions/{action}`: `call-next` (the oldest
/// waiting ticket of the counter's groups), `recall`, `start`, `finish` or `no-show` (on the
/// ticket the counter holds).
#[utoipa::path(post, path = "/api/v1/queue/{centre}/counters/{number}/actions/{action}", tag = "queue", security(("bearer" = [])),
    params(("centre" = String, Path, description = "Agency code of the centre"), ("number" = u16, Path, description = "Counter number"),
        ("action" = String, Path, description = "call-next, recall, start, finish or no-show")),
    responses((status = 200, body = ActResult), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
        (status = 409, description = "Not possible now: the counter still holds a ticket, holds none, or the ticket's state does not allow it", body = crate::error::Problem)))]
pub async fn act(
    State(s): State<AppState>,
    Auth(actor): Auth,
    p: Result<Path<(String, u16, String)>, PathRejection>,
) -> Result<Json<ActResult>, ApiError> {
    let Path((centre, number, action)) = p?;
    let action = TicketAction::parse(&action).ok_or_else(|| {
        ApiError::not_found(format!(
            "no action `{action}`: use call-next, recall, start, finish or no-show"
        ))
    })?;
    let (ticket, counter) = queue::act(&s, &actor, &centre, number, action, Utc::now()).await?;
    Ok(Json(ActResult { ticket, counter }))
}

/// Period of a statistics request.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct StatsParams {
    /// First local day (default today).
    pub from: Option<NaiveDate>,
    /// Last local day, inclusive (default `from`); at most 366 days after `from`.
    pub to: Option<NaiveDate>,
}

/// `GET /api/v1/queue/{centre}/stats`: average wait (taken -> called) and service time
/// (started, or called, -> done) per counter and per hour of the day, for the centre's leaders.
#[utoipa::path(get, path = "/api/v1/queue/{centre}/stats", tag = "queue", security(("bearer" = [])),
    params(("centre" = String, Path, description = "Agency code of the centre"), StatsParams),
    responses((status = 200, body = QueueStats), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn stats(
    State(s): State<AppState>,
    Auth(actor): Auth,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<StatsParams>, QueryRejection>,
) -> Result<Json<QueueStats>, ApiError> {
    let Path(centre) = p?;
    let Query(q) = q?;
    let from = q.from.unwrap_or_else(queue::today);
    let to = q.to.unwrap_or(from);
    let (_, stats) = queue::figures(&s, &actor, &centre, from, to).await?;
    Ok(Json(stats))
}
