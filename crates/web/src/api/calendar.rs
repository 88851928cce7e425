//! Working calendars: anyone may read the days off and working hours in force; administrators
//! edit the province's yearly schedule (swapped days, make-up Saturdays) and each agency's own
//! hours, cut-off and days.

use crate::AppState;
use crate::auth::Auth;
use crate::calendars::PROVINCE;
use crate::error::ApiError;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use chrono::{Datelike, NaiveDate, NaiveTime};
use motcua_domain::agency::Role;
use motcua_domain::calendar::{Calendar, CalendarSettings, DayKind};
use motcua_domain::codes::AgencyCode;
use serde::{Deserialize, Serialize};

/// Which calendar and year.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CalendarParams {
    /// Agency code; the province's calendar when absent.
    pub agency: Option<String>,
    /// Year (default: this year).
    pub year: Option<i32>,
}

/// One dated exception in force.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DayView {
    /// The date.
    pub date: NaiveDate,
    /// `day_off` or `working_day`.
    pub kind: &'static str,
    /// Why.
    pub name: String,
}

/// A calendar in force for one year.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CalendarView {
    /// Agency, or none for the province.
    pub agency: Option<String>,
    /// Year shown.
    pub year: i32,
    /// Working periods (local time).
    pub hours: Vec<(NaiveTime, NaiveTime)>,
    /// Cut-off hour, if any.
    pub cut_off: Option<NaiveTime>,
    /// Days off and make-up working days of the year.
    pub days: Vec<DayView>,
    /// The settings stored for this scope (what an edit replaces).
    #[schema(value_type = Object)]
    pub settings: CalendarSettings,
}

fn view(
    cal: &Calendar,
    agency: Option<String>,
    year: i32,
    settings: CalendarSettings,
) -> CalendarView {
    CalendarView {
        agency,
        year,
        hours: cal.hours().periods.clone(),
        cut_off: cal.cut_off(),
        days: cal
            .exceptions()
            .filter(|(d, _, _)| d.year() == year)
            .map(|(date, kind, name)| DayView {
                date,
                kind: match kind {
                    DayKind::DayOff => "day_off",
                    DayKind::WorkingDay => "working_day",
                },
                name: name.to_string(),
            })
            .collect(),
        settings,
    }
}

fn parse_agency(a: &str) -> Result<AgencyCode, ApiError> {
    a.parse()
        .map_err(|e: motcua_domain::codes::CodeError| ApiError::invalid("agency", e.to_string()))
}

/// The working calendar in force for an agency (or the province) in a year.
#[utoipa::path(get, path = "/api/v1/calendar", tag = "calendar", params(CalendarParams),
    responses((status = 200, body = CalendarView), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn show(
    State(s): State<AppState>,
    q: Result<Query<CalendarParams>, QueryRejection>,
) -> Result<Json<CalendarView>, ApiError> {
    let Query(p) = q?;
    let year = p.year.unwrap_or_else(|| chrono::Utc::now().year());
    if !(2000..=2100).contains(&year) {
        return Err(ApiError::invalid("year", "must be between 2000 and 2100"));
    }
    let cals = s.calendars();
    match p.agency {
        None => Ok(Json(view(
            &cals.province(),
            None,
            year,
            cals.settings(PROVINCE),
        ))),
        Some(a) => {
            let code = parse_agency(&a)?;
            if s.store.agency(&code).await?.is_none() {
                return Err(ApiError::not_found(format!("no agency {code}")));
            }
            let scope = code.to_string();
            Ok(Json(view(
                &cals.for_agency(&code),
                Some(scope.clone()),
                year,
                cals.settings(&scope),
            )))
        }
    }
}

/// New settings for one scope.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutSettings {
    /// `province`, or an agency code.
    pub scope: String,
    /// Working hours (optional), cut-off (optional) and dated exceptions; replaces what is stored.
    #[schema(value_type = Object)]
    pub settings: CalendarSettings,
}

/// Replaces the calendar settings of the province or of an agency (administrators only).
/// Dossiers already received keep their appointments; new deadlines use the new calendar.
#[utoipa::path(put, path = "/api/v1/calendar/settings", tag = "calendar", request_body = PutSettings, security(("bearer" = [])),
    responses((status = 200, body = CalendarView), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn put_settings(
    State(s): State<AppState>,
    Auth(actor): Auth,
    body: Result<Json<PutSettings>, JsonRejection>,
) -> Result<Json<CalendarView>, ApiError> {
    if actor.role != Role::Admin {
        return Err(ApiError::forbidden("only administrators edit calendars"));
    }
    let Json(req) = body?;
    let (scope, agency) = if req.scope == PROVINCE {
        (PROVINCE.to_string(), None)
    } else {
        let code = parse_agency(&req.scope).map_err(|e| e.field("scope"))?;
        if s.store.agency(&code).await?.is_none() {
            return Err(ApiError::not_found(format!("no agency {code}")).field("scope"));
        }
        (code.to_string(), Some(code))
    };
    let st = &req.settings;
    if st.days.len() > 2000 {
        return Err(ApiError::invalid(
            "settings.days",
            "at most 2000 dated exceptions",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for d in &st.days {
        if !(2000..=2100).contains(&d.date.year()) {
            return Err(ApiError::invalid(
                "settings.days",
                format!("{}: year out of range", d.date),
            ));
        }
        if d.name.chars().count() > 200 {
            return Err(ApiError::invalid(
                "settings.days",
                format!("{}: name too long", d.date),
            ));
        }
        if !seen.insert(d.date) {
            return Err(ApiError::invalid(
                "settings.days",
                format!("{} is listed twice", d.date),
            ));
        }
    }
    Calendar::vietnam_default()
        .with_settings(st)
        .map_err(|e| ApiError::invalid("settings", e.to_string()))?;
    s.store
        .put_calendar_settings(scope.clone(), req.settings)
        .await?;
    s.reload_calendars().await?;
    let cals = s.calendars();
    let year = chrono::Utc::now().year();
    let cal = match &agency {
        Some(a) => cals.for_agency(a),
        None => cals.province(),
    };
    Ok(Json(view(
        &cal,
        agency.map(|a| a.to_string()),
        year,
        cals.settings(&scope),
    )))
}
