//! The standard report (form 06 / II.06a) served from the statistics counters, as JSON, CSV or
//! Excel. Definitions: `docs/statistics.md`.

use crate::AppState;
use crate::auth::Auth;
use crate::authz::report_scope;
use crate::error::ApiError;
use crate::export;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, Days, NaiveDate, Utc};
use motcua_domain::agency::Agency;
use motcua_domain::codes::{AgencyCode, ProcedureCode};
use motcua_domain::stats::{Filter, Form06Rates, Form06Row};
use serde::{Deserialize, Serialize};

/// The longest period a report may cover.
pub const MAX_DAYS: u64 = 3_700;

/// Report parameters.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// First local day, YYYY-MM-DD.
    pub from: Option<String>,
    /// Last local day, YYYY-MM-DD (inclusive; at most about ten years after `from`).
    pub to: Option<String>,
    /// Agency code (leaders: their own by default; administrators: the whole province).
    pub agency: Option<String>,
    /// Include the agencies below it (default false; the whole province always does).
    pub children: Option<bool>,
    /// Only this field (lĩnh vực), as the catalogue names it.
    pub field: Option<String>,
    /// Only this procedure code.
    pub procedure: Option<String>,
    /// `json` (default), `csv`, `xlsx` or `pdf`.
    pub format: Option<String>,
}

/// One row of the report.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReportRow {
    /// Agency code, field or procedure code (total: `total`).
    pub key: String,
    /// Agency name, field or procedure name.
    pub name: String,
    /// Raw counts.
    pub figures: Form06Row,
    /// Rates computed from them.
    pub rates: Form06Rates,
}

/// A form 06 report.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Form06Report {
    /// First local day.
    pub from: NaiveDate,
    /// Last local day.
    pub to: NaiveDate,
    /// Agency reported on (absent: the whole province).
    pub agency: Option<String>,
    /// Whether the agencies below it are included.
    pub children: bool,
    /// Field filter.
    pub field: Option<String>,
    /// Procedure filter.
    pub procedure: Option<String>,
    /// One row per agency with figures.
    pub rows: Vec<ReportRow>,
    /// The sum of the rows.
    pub total: ReportRow,
    /// Where each figure is defined.
    pub definitions: &'static str,
}

fn parse_day(name: &str, v: Option<&str>) -> Result<NaiveDate, ApiError> {
    let v =
        v.ok_or_else(|| ApiError::invalid(name, format!("`{name}` is required (YYYY-MM-DD)")))?;
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::invalid(name, format!("`{v}` is not a date like 2026-03-31")))
}

/// Checks a period: both ends given, in order, not absurdly long, not before 2000 nor more than a
/// year ahead.
pub fn period(from: Option<&str>, to: Option<&str>) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let from = parse_day("from", from)?;
    let to = parse_day("to", to)?;
    if to < from {
        return Err(ApiError::invalid(
            "to",
            format!("the period ends ({to}) before it starts ({from})"),
        ));
    }
    if from.year() < 2000 {
        return Err(ApiError::invalid(
            "from",
            "reports start in 2000 at the earliest",
        ));
    }
    let horizon = Utc::now().date_naive() + Days::new(366);
    if to > horizon {
        return Err(ApiError::invalid(
            "to",
            format!("`to` may be at most {horizon}"),
        ));
    }
    if (to - from).num_days() as u64 >= MAX_DAYS {
        return Err(ApiError::invalid(
            "to",
            format!("a report covers at most {MAX_DAYS} days"),
        ));
    }
    Ok((from, to))
}

/// Validated filter: the procedure must exist in the catalogue.
async fn filter(
    s: &AppState,
    field: Option<String>,
    procedure: Option<String>,
) -> Result<Filter, ApiError> {
    let field = field
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty());
    if field.as_ref().is_some_and(|f| f.chars().count() > 200) {
        return Err(ApiError::invalid("field", "at most 200 characters"));
    }
    let procedure = match procedure
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(p) => {
            let code: ProcedureCode = p.parse().map_err(|e: motcua_domain::codes::CodeError| {
                ApiError::invalid("procedure", e.to_string())
            })?;
            if s.store
                .published_procedure(&code.to_string())
                .await?
                .is_none()
            {
                return Err(ApiError::invalid(
                    "procedure",
                    format!("no procedure `{code}` in the catalogue"),
                ));
            }
            Some(code.to_string())
        }
    };
    Ok(Filter { field, procedure })
}

fn row(key: String, name: String, figures: Form06Row) -> ReportRow {
    let rates = figures.rates();
    ReportRow {
        key,
        name,
        figures,
        rates,
    }
}

/// Builds the report (shared by the API, the exports and the dashboards).
pub async fn build(
    s: &AppState,
    actor: &motcua_domain::agency::Actor,
    p: ReportParams,
) -> Result<(Form06Report, Option<String>), ApiError> {
    let (from, to) = period(p.from.as_deref(), p.to.as_deref())?;
    let requested = p
        .agency
        .as_deref()
        .map(|a| {
            a.trim()
                .parse::<AgencyCode>()
                .map_err(|e| ApiError::invalid("agency", e.to_string()))
        })
        .transpose()?;
    let all = s.store.agencies().await?;
    if let Some(r) = &requested
        && !all.iter().any(|a| a.code == *r)
    {
        return Err(ApiError::not_found(format!("no agency `{r}`")));
    }
    let children = p.children.unwrap_or(false);
    let agencies = report_scope(actor, requested.as_ref(), children, &all)?;
    let filter = filter(s, p.field, p.procedure).await?;
    let rows = s.store.form06(&agencies, from, to, &filter).await?;
    let name = |c: &AgencyCode| {
        all.iter()
            .find(|a| a.code == *c)
            .map_or_else(|| c.to_string(), |a: &Agency| a.name.clone())
    };
    let mut total = Form06Row::default();
    let rows: Vec<ReportRow> = rows
        .into_iter()
        .map(|(c, r)| {
            total.merge(&r);
            row(c.to_string(), name(&c), r)
        })
        .collect();
    Ok((
        Form06Report {
            from,
            to,
            agency: requested.map(|a| a.to_string()),
            children: children
                || (p.agency.is_none() && actor.role == motcua_domain::agency::Role::Admin),
            field: filter.field,
            procedure: filter.procedure,
            rows,
            total: row("total".into(), "Tổng cộng".into(), total),
            definitions: "docs/statistics.md",
        },
        p.format,
    ))
}

/// Answers in the asked format.
pub async fn respond(
    report: &Form06Report,
    format: Option<&str>,
    stem: &str,
) -> Result<Response, ApiError> {
    match format.unwrap_or("json") {
        "json" => Ok(Json(report).into_response()),
        "csv" => Ok(export::csv_response(report, stem)),
        "xlsx" => export::xlsx_response(report, stem),
        "pdf" => export::pdf_response(export::pdf_table(report), stem).await,
        other => Err(ApiError::invalid(
            "format",
            format!("`{other}`: use json, csv, xlsx or pdf"),
        )),
    }
}

/// Form 06 / II.06a for a period, agency (with or without its children), field and procedure.
#[utoipa::path(get, path = "/api/v1/reports/form06", tag = "statistics", params(ReportParams), security(("bearer" = [])),
    responses((status = 200, body = Form06Report, description = "JSON, or CSV / Excel / PDF with `format`"),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn form06(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: Result<Query<ReportParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = q?;
    let (report, format) = build(&s, &actor, p).await?;
    let stem = format!("bieu-06-{}-{}", report.from, report.to);
    respond(&report, format.as_deref(), &stem).await
}
