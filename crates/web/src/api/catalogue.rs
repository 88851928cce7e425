//! Public catalogue: agencies and published procedures.

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use motcua_domain::agency::Agency;
use motcua_domain::codes::AgencyCode;
use motcua_domain::procedure::ProcedureVersion;
use motcua_store::{ProcedureQuery, ProcedureSummary};
use serde::{Deserialize, Serialize};

/// Every agency.
#[utoipa::path(get, path = "/api/v1/agencies", tag = "catalogue", responses((status = 200, body = Vec<Agency>)))]
pub async fn agencies(State(s): State<AppState>) -> Result<Json<Vec<Agency>>, ApiError> {
    Ok(Json(s.store.agencies().await?))
}

/// Filters of the procedure list.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProcedureParams {
    /// Words to find in the name or code; diacritics are ignored.
    pub q: Option<String>,
    /// Only procedures received at this agency.
    pub agency: Option<String>,
    /// Page size (1-200, default 50).
    pub limit: Option<u32>,
    /// Offset.
    pub offset: Option<u32>,
}

/// A page of procedures.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProcedurePage {
    /// Rows.
    pub items: Vec<ProcedureSummary>,
}

/// Published procedures.
#[utoipa::path(get, path = "/api/v1/procedures", tag = "catalogue", params(ProcedureParams),
    responses((status = 200, body = ProcedurePage), (status = 400, body = crate::error::Problem)))]
pub async fn procedures(
    State(s): State<AppState>,
    q: Result<Query<ProcedureParams>, QueryRejection>,
) -> Result<Json<ProcedurePage>, ApiError> {
    let Query(p) = q?;
    let agency = p
        .agency
        .as_deref()
        .map(|a| {
            a.parse::<AgencyCode>()
                .map_err(|e| ApiError::invalid("agency", e.to_string()))
        })
        .transpose()?;
    if p.q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(ApiError::invalid("q", "at most 200 characters"));
    }
    let items = s
        .store
        .list_procedures(&ProcedureQuery {
            text: p.q.filter(|t| !t.trim().is_empty()),
            agency,
            limit: p.limit.unwrap_or(50).clamp(1, 200),
            offset: p.offset.unwrap_or(0).min(100_000),
        })
        .await?;
    Ok(Json(ProcedurePage { items }))
}

/// A published procedure with its workflow and where it can be submitted.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProcedureDetail {
    /// The version in force.
    pub procedure: ProcedureVersion,
    /// Agencies whose desks receive it.
    pub receiving_agencies: Vec<AgencyCode>,
}

/// One published procedure.
#[utoipa::path(get, path = "/api/v1/procedures/{code}", tag = "catalogue",
    params(("code" = String, Path, description = "Procedure code, e.g. 1.001193")),
    responses((status = 200, body = ProcedureDetail), (status = 404, body = crate::error::Problem)))]
pub async fn procedure(
    State(s): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<ProcedureDetail>, ApiError> {
    let code: motcua_domain::codes::ProcedureCode = code
        .parse()
        .map_err(|e: motcua_domain::codes::CodeError| ApiError::invalid("code", e.to_string()))?;
    let rec = s
        .store
        .published_procedure(&code.to_string())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no published procedure {code}")))?;
    Ok(Json(ProcedureDetail {
        procedure: rec.version,
        receiving_agencies: rec.receiving_agencies,
    }))
}
