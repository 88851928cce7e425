//! Statistics counters (live read model; `motcua verify` proves they equal the event logs).

use crate::AppState;
use crate::auth::Auth;
use crate::authz::statistics_scope;
use crate::error::ApiError;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use chrono::NaiveDate;
use motcua_store::{CounterQuery, CounterRow};
use serde::Deserialize;

/// Period and agency.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CounterParams {
    /// Agency code (leaders: their own, the default).
    pub agency: Option<String>,
    /// First day, YYYY-MM-DD.
    pub from: Option<NaiveDate>,
    /// Last day, YYYY-MM-DD.
    pub to: Option<NaiveDate>,
}

/// Counters summed over the period, per agency and metric.
#[utoipa::path(get, path = "/api/v1/statistics/counters", tag = "statistics", params(CounterParams), security(("bearer" = [])),
    responses((status = 200, body = Vec<CounterRow>), (status = 403, body = crate::error::Problem)))]
pub async fn counters(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: Result<Query<CounterParams>, QueryRejection>,
) -> Result<Json<Vec<CounterRow>>, ApiError> {
    let Query(p) = q?;
    let requested = p
        .agency
        .as_deref()
        .map(|a| {
            a.parse().map_err(|e: motcua_domain::codes::CodeError| {
                ApiError::invalid("agency", e.to_string())
            })
        })
        .transpose()?;
    if let (Some(f), Some(t)) = (p.from, p.to)
        && f > t
    {
        return Err(ApiError::invalid("from", "`from` is after `to`"));
    }
    let agency = statistics_scope(&actor, requested)?;
    Ok(Json(
        s.store
            .counters(&CounterQuery {
                agency,
                from: p.from,
                to: p.to,
            })
            .await?,
    ))
}
