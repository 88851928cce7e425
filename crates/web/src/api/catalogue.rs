//! Public catalogue: agencies, published procedures (filters, cursor pages), ranked search and
//! the whole catalogue as CSV and JSON downloads (open data).

use crate::AppState;
use crate::catalogue::Filter;
use crate::error::ApiError;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use motcua_domain::agency::Agency;
use motcua_domain::codes::AgencyCode;
use motcua_domain::procedure::{Level, OnlineLevel, ProcedureVersion};
use motcua_domain::text::fold;
use motcua_store::ProcedureSummary;
use serde::{Deserialize, Serialize};

/// Every agency.
#[utoipa::path(get, path = "/api/v1/agencies", tag = "catalogue", responses((status = 200, body = Vec<Agency>)))]
pub async fn agencies(State(s): State<AppState>) -> Result<Json<Vec<Agency>>, ApiError> {
    Ok(Json(s.store.agencies().await?))
}

/// Filters of the procedure list (open data).
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProcedureParams {
    /// Words to find in the name or code; diacritics are ignored.
    pub q: Option<String>,
    /// Only procedures received at this agency.
    pub agency: Option<String>,
    /// Only this field (lĩnh vực), diacritics ignored.
    pub field: Option<String>,
    /// Only this implementing level: `province`, `commune`, `ministry` or `other`.
    pub level: Option<String>,
    /// Only this online level: `full`, `partial` or `none`.
    pub online_level: Option<String>,
    /// Only procedures open to this applicant type (e.g. "Công dân Việt Nam").
    pub applicant: Option<String>,
    /// Page size (1-200, default 50).
    pub limit: Option<u32>,
    /// Cursor: the `next_cursor` of the previous page (procedures after this code).
    pub cursor: Option<String>,
    /// Offset (older clients; prefer `cursor`).
    pub offset: Option<u32>,
}

/// A page of procedures.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProcedurePage {
    /// Rows, by code.
    pub items: Vec<ProcedureSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The list row of a record.
pub fn summary(r: &motcua_store::ProcedureRecord) -> ProcedureSummary {
    let v = &r.version;
    ProcedureSummary {
        code: v.code.to_string(),
        version: v.version,
        name: v.name.clone(),
        field: v.field.clone(),
        online_level: v.online_level,
        time_limit: v.time_limit.label_vi(),
        fee_vnd: v.fee_vnd,
    }
}

/// Reads a level from its URL name.
pub fn parse_level(s: &str) -> Option<Level> {
    Level::ALL.into_iter().find(|l| l.as_str() == s)
}

/// Reads an online level from its URL name.
pub fn parse_online(s: &str) -> Option<OnlineLevel> {
    OnlineLevel::ALL.into_iter().find(|l| l.as_str() == s)
}

/// Builds a catalogue filter from the query parameters (422 on a bad value).
pub fn filter_of(p: &ProcedureParams) -> Result<Filter, ApiError> {
    let too_long = |f: &str, v: &Option<String>| -> Result<(), ApiError> {
        if v.as_ref().is_some_and(|v| v.chars().count() > 200) {
            return Err(ApiError::invalid(f, "at most 200 characters"));
        }
        Ok(())
    };
    too_long("q", &p.q)?;
    too_long("field", &p.field)?;
    too_long("applicant", &p.applicant)?;
    let agency = p
        .agency
        .as_deref()
        .map(|a| {
            a.parse::<AgencyCode>()
                .map(|a| a.to_string())
                .map_err(|e| ApiError::invalid("agency", e.to_string()))
        })
        .transpose()?;
    let level = p
        .level
        .as_deref()
        .map(|l| {
            parse_level(l).ok_or_else(|| {
                ApiError::invalid("level", "one of province, commune, ministry, other")
            })
        })
        .transpose()?;
    let online_level = p
        .online_level
        .as_deref()
        .map(|l| {
            parse_online(l)
                .ok_or_else(|| ApiError::invalid("online_level", "one of full, partial, none"))
        })
        .transpose()?;
    let nonempty = |v: &Option<String>| v.as_deref().map(fold).filter(|f| !f.is_empty());
    Ok(Filter {
        words: p
            .q
            .as_deref()
            .map(|q| {
                fold(q)
                    .split_whitespace()
                    .take(8)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        field: nonempty(&p.field),
        level,
        online_level,
        applicant: nonempty(&p.applicant),
        agency,
    })
}

/// Published procedures, filtered, by code, a page at a time.
#[utoipa::path(get, path = "/api/v1/procedures", tag = "catalogue", params(ProcedureParams),
    responses((status = 200, body = ProcedurePage), (status = 400, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn procedures(
    State(s): State<AppState>,
    q: Result<Query<ProcedureParams>, QueryRejection>,
) -> Result<Json<ProcedurePage>, ApiError> {
    let Query(p) = q?;
    let filter = filter_of(&p)?;
    if p.cursor.as_ref().is_some_and(|c| c.len() > 100) {
        return Err(ApiError::invalid("cursor", "not a cursor from this API"));
    }
    let limit = p.limit.unwrap_or(50).clamp(1, 200) as usize;
    let offset = p.offset.unwrap_or(0).min(100_000) as usize;
    let cat = s.catalogue().await?;
    let rows = cat.list(&filter, p.cursor.as_deref(), offset + limit + 1);
    let rows: Vec<_> = rows.into_iter().skip(offset).collect();
    let more = rows.len() > limit;
    let items: Vec<ProcedureSummary> = rows.iter().take(limit).map(|r| summary(r)).collect();
    let next_cursor = more.then(|| items.last().map(|i| i.code.clone())).flatten();
    Ok(Json(ProcedurePage { items, next_cursor }))
}

/// Search parameters.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// What the person typed: words (diacritics optional, one typo per word tolerated) or a
    /// procedure code. Longer than 200 characters is cut.
    pub q: Option<String>,
    /// Most results (1-50, default 20).
    pub limit: Option<u32>,
}

/// A search result.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    /// The procedure.
    #[serde(flatten)]
    pub procedure: ProcedureSummary,
    /// Relevance (higher is better; comparable within one answer only).
    pub score: f32,
}

/// Search results, best first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    /// The query as read.
    pub q: String,
    /// Whether the query was a procedure code (then `items` holds that procedure alone).
    pub code_match: bool,
    /// Results.
    pub items: Vec<SearchHit>,
}

/// Runs a search over the published catalogue.
pub async fn run_search(
    s: &AppState,
    q: &str,
    limit: usize,
    suggest: bool,
) -> Result<SearchResults, ApiError> {
    let cat = s.catalogue().await?;
    let hits = if suggest {
        cat.index.suggest(q, limit)
    } else {
        cat.index.search(q, limit)
    }
    .map_err(ApiError::internal)?;
    let items = hits
        .into_iter()
        .filter_map(|h| {
            cat.get(&h.code).map(|r| SearchHit {
                procedure: summary(r),
                score: h.score,
            })
        })
        .collect();
    Ok(SearchResults {
        q: q.chars().take(motcua_search::MAX_QUERY_CHARS).collect(),
        code_match: motcua_search::is_code(q),
        items,
    })
}

/// Ranked full-text search: exact phrase and code matches first.
#[utoipa::path(get, path = "/api/v1/procedures/search", tag = "catalogue", params(SearchParams),
    responses((status = 200, body = SearchResults), (status = 400, body = crate::error::Problem)))]
pub async fn search(
    State(s): State<AppState>,
    q: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<SearchResults>, ApiError> {
    let Query(p) = q?;
    let limit = p.limit.unwrap_or(20).clamp(1, 50) as usize;
    Ok(Json(
        run_search(&s, p.q.as_deref().unwrap_or(""), limit, false).await?,
    ))
}

/// Columns of the CSV download, in order.
const CSV_HEADER: [&str; 12] = [
    "ma_thu_tuc",
    "phien_ban",
    "ten_thu_tuc",
    "linh_vuc",
    "cap_thuc_hien",
    "muc_do_truc_tuyen",
    "thoi_han",
    "le_phi_dong",
    "quyet_dinh",
    "hieu_luc_tu",
    "doi_tuong",
    "co_quan_tiep_nhan",
];

/// The whole published catalogue as CSV (UTF-8, one row per procedure, by code).
#[utoipa::path(get, path = "/api/v1/procedures/export.csv", tag = "catalogue",
    responses((status = 200, description = "CSV with a header row", content_type = "text/csv")))]
pub async fn export_csv(State(s): State<AppState>) -> Result<Response, ApiError> {
    let cat = s.catalogue().await?;
    let mut w = csv::Writer::from_writer(Vec::with_capacity(cat.all().len() * 300));
    w.write_record(CSV_HEADER).map_err(ApiError::internal)?;
    for r in cat.all() {
        let v = &r.version;
        let levels: Vec<&str> = v.levels.iter().map(|l| l.label_vi()).collect();
        let agencies: Vec<&str> = r.receiving_agencies.iter().map(|a| a.as_str()).collect();
        w.write_record([
            v.code.to_string(),
            v.version.to_string(),
            v.name.clone(),
            v.field.clone(),
            levels.join(", "),
            v.online_level.as_str().to_string(),
            v.time_limit.label_vi(),
            v.fee_vnd.to_string(),
            v.decision_no.clone(),
            v.details
                .effective_from
                .map(|d| d.to_string())
                .unwrap_or_default(),
            v.details.applicant_types.join(", "),
            agencies.join(" "),
        ])
        .map_err(ApiError::internal)?;
    }
    let body = w.into_inner().map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"thu-tuc.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// The whole published catalogue as JSON: every version in force with its details.
#[utoipa::path(get, path = "/api/v1/procedures/export.json", tag = "catalogue",
    responses((status = 200, body = Vec<ProcedureDetail>)))]
pub async fn export_json(State(s): State<AppState>) -> Result<Response, ApiError> {
    let cat = s.catalogue().await?;
    let all: Vec<ProcedureDetailRef> = cat
        .all()
        .iter()
        .map(|r| ProcedureDetailRef {
            procedure: &r.version,
            receiving_agencies: &r.receiving_agencies,
        })
        .collect();
    let body = serde_json::to_vec(&all).map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"thu-tuc.json\"",
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Serialize)]
struct ProcedureDetailRef<'a> {
    procedure: &'a ProcedureVersion,
    receiving_agencies: &'a [AgencyCode],
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
