//! Open data: province-level aggregates of the standard report for a year, quarter or month, by
//! field, with no agency breakdown and no personal data. Anyone may read them.

use crate::AppState;
use crate::api::reports::{Form06Report, ReportRow, respond};
use crate::error::ApiError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{Datelike, Months, NaiveDate, Utc};
use motcua_domain::stats::{Filter, Form06Row};
use motcua_store::GroupBy;
use serde::Deserialize;

/// A calendar period.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PeriodParams {
    /// Year, e.g. 2026.
    pub year: Option<i32>,
    /// Month 1-12 (not with `quarter`).
    pub month: Option<u32>,
    /// Quarter 1-4 (not with `month`).
    pub quarter: Option<u32>,
    /// `json` (default), `csv`, `xlsx` or `pdf`.
    pub format: Option<String>,
}

/// The first and last day of a year, quarter or month, checked.
pub fn calendar_period(
    year: Option<i32>,
    month: Option<u32>,
    quarter: Option<u32>,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let y = year.ok_or_else(|| ApiError::invalid("year", "`year` is required"))?;
    let now = Utc::now().date_naive().year();
    if !(2000..=now + 1).contains(&y) {
        return Err(ApiError::invalid(
            "year",
            format!("a year from 2000 to {}", now + 1),
        ));
    }
    let (m0, n) = match (month, quarter) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "quarter",
                "give a month or a quarter, not both",
            ));
        }
        (Some(m), None) if (1..=12).contains(&m) => (m, 1),
        (Some(_), None) => return Err(ApiError::invalid("month", "a month from 1 to 12")),
        (None, Some(q)) if (1..=4).contains(&q) => (3 * q - 2, 3),
        (None, Some(_)) => return Err(ApiError::invalid("quarter", "a quarter from 1 to 4")),
        (None, None) => (1, 12),
    };
    let from = NaiveDate::from_ymd_opt(y, m0, 1)
        .ok_or_else(|| ApiError::invalid("year", "no such date"))?;
    let to = from
        .checked_add_months(Months::new(n))
        .and_then(|d| d.pred_opt())
        .ok_or_else(|| ApiError::invalid("year", "no such date"))?;
    Ok((from, to))
}

/// Builds the province's open-data report for a period.
pub async fn build(s: &AppState, from: NaiveDate, to: NaiveDate) -> Result<Form06Report, ApiError> {
    let agencies: Vec<_> = s
        .store
        .agencies()
        .await?
        .into_iter()
        .map(|a| a.code)
        .collect();
    let rows = s
        .store
        .form06_by(&agencies, from, to, &Filter::default(), GroupBy::Field)
        .await?;
    let mut total = Form06Row::default();
    let rows = rows
        .into_iter()
        .map(|(field, r)| {
            total.merge(&r);
            let rates = r.rates();
            let name = if field.is_empty() {
                "(chưa phân loại)".to_string()
            } else {
                field.clone()
            };
            ReportRow {
                key: field,
                name,
                figures: r,
                rates,
            }
        })
        .collect();
    let rates = total.rates();
    Ok(Form06Report {
        from,
        to,
        agency: None,
        children: true,
        field: None,
        procedure: None,
        rows,
        total: ReportRow {
            key: "total".into(),
            name: "Toàn tỉnh".into(),
            figures: total,
            rates,
        },
        definitions: "docs/statistics.md",
    })
}

/// Form 06 for the whole province by field, for a year, quarter or month. Public, no personal data.
#[utoipa::path(get, path = "/api/v1/open-data/form06", tag = "public", params(PeriodParams),
    responses((status = 200, body = Form06Report, description = "JSON, or CSV / Excel / PDF with `format`"),
        (status = 422, body = crate::error::Problem)))]
pub async fn form06(
    State(s): State<AppState>,
    q: Result<Query<PeriodParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = q?;
    let (from, to) = calendar_period(p.year, p.month, p.quarter)?;
    let report = build(&s, from, to).await?;
    respond(
        &report,
        p.format.as_deref(),
        &format!("du-lieu-mo-bieu-06-{from}-{to}"),
    )
    .await
}
