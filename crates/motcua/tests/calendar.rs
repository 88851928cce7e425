//! Working calendars over HTTP: reading the schedule in force, administrators editing the
//! province's and an agency's, and new deadlines following the edit.

mod common;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use common::*;
use motcua_domain::calendar::{Calendar, CalendarSettings, DayException, DayKind, WorkingDuration};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_in_force_is_public() {
    let (st, v) = send(None, "GET", "/api/v1/calendar?year=2026", None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let days = v["days"].as_array().unwrap();
    let find = |d: &str| days.iter().find(|x| x["date"] == d).cloned();
    assert_eq!(find("2026-02-17").unwrap()["kind"], "day_off", "Tết");
    assert_eq!(
        find("2026-08-22").unwrap()["kind"],
        "working_day",
        "make-up Saturday"
    );
    assert_eq!(v["hours"][0][0], "07:00:00");
    for bad in [
        "/api/v1/calendar?year=1800",
        "/api/v1/calendar?agency=h40%20x",
        "/api/v1/calendar?month=2",
    ] {
        let (st, _) = send(None, "GET", bad, None).await;
        assert!(
            st == StatusCode::UNPROCESSABLE_ENTITY || st == StatusCode::BAD_REQUEST,
            "{bad}: {st}"
        );
    }
    let (st, _) = send(None, "GET", "/api/v1/calendar?agency=000.00.99.H40", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_administrators_edit_and_bad_settings_are_refused() {
    let body = json!({"scope": "province", "settings": {"days": []}});
    let (st, _) = send(None, "PUT", "/api/v1/calendar/settings", Some(body.clone())).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    for user in ["congdan", "motcua.xa", "lanhdao.xa"] {
        let (st, _) = as_user(user, "PUT", "/api/v1/calendar/settings", Some(body.clone())).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{user}");
    }
    let cases = [
        (
            json!({"scope": "nowhere here", "settings": {}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"scope": "000.00.99.H40", "settings": {}}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"scope": "province", "settings": {"hours": {"periods": []}}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"scope": "province", "settings": {"hours": {"periods": [["17:00:00", "07:00:00"]]}}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"scope": "province", "settings": {"days": [{"date": "2026-13-01", "kind": "day_off"}]}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"scope": "province", "settings": {"days": [{"date": "2026-12-01", "kind": "holiday"}]}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"scope": "province", "settings": {"days": [
            {"date": "2026-12-01", "kind": "day_off"}, {"date": "2026-12-01", "kind": "working_day"}]}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"scope": "province"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (b, want) in cases {
        let (st, p) = as_user(
            "quantri",
            "PUT",
            "/api/v1/calendar/settings",
            Some(b.clone()),
        )
        .await;
        assert_eq!(st, want, "{b}: {p}");
    }
    // Nothing was stored by the refusals.
    let (_, v) = send(None, "GET", "/api/v1/calendar", None).await;
    assert_eq!(v["settings"]["days"].as_array().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_deadlines_follow_an_agencys_edited_calendar() {
    let commune = motcua::seed::codes::COMMUNE;
    // The commune closes for the next twelve days (say, a flood) and stops receiving at 15:00.
    let today = (Utc::now() + Duration::hours(7)).date_naive();
    let days: Vec<DayException> = (0..12)
        .map(|i| DayException {
            date: today + Duration::days(i),
            kind: DayKind::DayOff,
            name: "Nghỉ do thiên tai".into(),
        })
        .collect();
    let settings = CalendarSettings {
        hours: None,
        cut_off: chrono::NaiveTime::from_hms_opt(15, 0, 0),
        days,
    };
    let (st, v) = as_user(
        "quantri",
        "PUT",
        "/api/v1/calendar/settings",
        Some(json!({"scope": commune, "settings": settings})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["cut_off"], "15:00:00");
    let (_, shown) = send(
        None,
        "GET",
        &format!("/api/v1/calendar?agency={commune}&year={}", today.year()),
        None,
    )
    .await;
    assert!(
        shown["days"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["date"] == today.to_string() && d["kind"] == "day_off")
    );

    // A counter dossier received now is due after the closure, exactly as the calendar says.
    let code = motcua::seed::codes::PROC_COMMUNE;
    let (_, p) = send(None, "GET", &format!("/api/v1/procedures/{code}"), None).await;
    let limit = p["procedure"]["time_limit"].clone();
    let limit = match limit["unit"].as_str().unwrap() {
        "working_days" => WorkingDuration::days(limit["amount"].as_i64().unwrap()),
        _ => WorkingDuration::hours(limit["amount"].as_i64().unwrap()),
    };
    let before = Utc::now();
    let (st, v) = as_user(
        "motcua.xa",
        "POST",
        "/api/v1/dossiers",
        Some(json!({
            "procedure_code": code, "agency": commune, "channel": "counter",
            "applicant": {"name": "Lê Văn Cường"}
        })),
    )
    .await;
    let after = Utc::now();
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let due: chrono::DateTime<Utc> = v["dossier"]["due_at"].as_str().unwrap().parse().unwrap();
    let own = Calendar::vietnam_default()
        .with_settings(&settings)
        .unwrap();
    assert!(
        own.add_working_time(before, limit) <= due && due <= own.add_working_time(after, limit),
        "{due}"
    );
    let first_open: NaiveDate = today + Duration::days(12);
    assert!(
        (due + Duration::hours(7)).date_naive() >= first_open,
        "due {due} falls after the closure"
    );
    // Another commune keeps the province calendar.
    let default_due = Calendar::vietnam_default().add_working_time(after, limit);
    assert!(due > default_due);
}
