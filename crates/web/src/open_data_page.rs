//! The open-data download page (`/du-lieu-mo`): this year's province figures by month, as an
//! inline SVG chart with its numbers in a table, and download links for every year, quarter and
//! month. No JavaScript, no chart library.

use crate::AppState;
use crate::api::open_data::{build, calendar_period};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{Datelike, Utc};
use minijinja::{Environment, Value, context};
use serde::Deserialize;
use std::sync::OnceLock;

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut e = Environment::new();
        e.add_template("base.html", include_str!("../templates/base.html"))
            .expect("valid template");
        e.add_template(
            "open_data.html",
            include_str!("../templates/open_data.html"),
        )
        .expect("valid template");
        e
    })
}

fn texts(lang: &str) -> Value {
    let vi = [
        ("site", "Hệ thống giải quyết thủ tục hành chính"),
        (
            "province",
            "Tỉnh Lâm Đồng · Trung tâm Phục vụ hành chính công",
        ),
        ("footer", "Phần mềm mã nguồn mở motcua"),
        (
            "od_title",
            "Dữ liệu mở: tình hình giải quyết thủ tục hành chính",
        ),
        (
            "od_intro",
            "Số liệu tổng hợp toàn tỉnh theo Biểu 06, tính từ nhật ký hồ sơ; không có thông tin cá nhân.",
        ),
        ("od_year", "Năm"),
        ("od_summary", "hồ sơ tiếp nhận theo tháng"),
        ("od_chart", "Số hồ sơ tiếp nhận theo tháng"),
        ("od_month", "Tháng"),
        ("od_received", "Tiếp nhận"),
        ("od_resolved", "Đã giải quyết"),
        ("od_on_time", "Tỷ lệ đúng hạn"),
        ("od_online", "Tỷ lệ trực tuyến"),
        ("od_downloads", "Tải về"),
        ("od_period", "Kỳ"),
        (
            "od_note",
            "Định nghĩa từng chỉ tiêu: docs/statistics.md. API: /api/v1/open-data/form06.",
        ),
    ];
    let en = [
        ("site", "Administrative Procedures System"),
        (
            "province",
            "Lâm Đồng Province · Public Administrative Service Centre",
        ),
        ("footer", "motcua open-source software"),
        (
            "od_title",
            "Open data: handling of administrative procedures",
        ),
        (
            "od_intro",
            "Province-wide aggregates of report form 06, computed from the dossier logs; no personal data.",
        ),
        ("od_year", "Year"),
        ("od_summary", "dossiers received by month"),
        ("od_chart", "Dossiers received by month"),
        ("od_month", "Month"),
        ("od_received", "Received"),
        ("od_resolved", "Resolved"),
        ("od_on_time", "On-time rate"),
        ("od_online", "Online rate"),
        ("od_downloads", "Downloads"),
        ("od_period", "Period"),
        (
            "od_note",
            "Each figure is defined in docs/statistics.md. API: /api/v1/open-data/form06.",
        ),
    ];
    let pick = if lang == "en" { &en } else { &vi };
    Value::from_iter(pick.iter().map(|(k, v)| (*k, *v)))
}

/// Page parameters.
#[derive(Deserialize, Default)]
pub struct Params {
    lang: Option<String>,
    year: Option<i32>,
}

fn pct(x: Option<f64>) -> String {
    x.map(|x| format!("{x:.1}%")).unwrap_or_else(|| "—".into())
}

/// `GET /du-lieu-mo`.
pub async fn page(State(s): State<AppState>, p: Result<Query<Params>, QueryRejection>) -> Response {
    let p = p.map(|Query(p)| p).unwrap_or_default();
    let lang = if p.lang.as_deref() == Some("en") {
        "en"
    } else {
        "vi"
    };
    let this_year = (Utc::now() + chrono::Duration::hours(7)).year();
    let year = p.year.unwrap_or(this_year);
    let fail = |status: StatusCode, msg: &str| {
        (status, Html(format!("<!doctype html><meta charset=utf-8><p>{msg}</p><p><a href=\"/du-lieu-mo\">Dữ liệu mở</a></p>"))).into_response()
    };
    if calendar_period(Some(year), None, None).is_err() {
        return fail(StatusCode::BAD_REQUEST, "Năm không hợp lệ / invalid year.");
    }
    let mut months = Vec::new();
    for m in 1..=12u32 {
        let Ok((from, to)) = calendar_period(Some(year), Some(m), None) else {
            continue;
        };
        match build(&s, from, to).await {
            Ok(r) => months.push((m, r.total)),
            Err(e) => {
                tracing::error!(error = ?e.0.detail, "open data page failed");
                return fail(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Lỗi hệ thống, vui lòng thử lại / please try again.",
                );
            }
        }
    }
    let max = months
        .iter()
        .map(|(_, r)| r.figures.received_in_period())
        .max()
        .unwrap_or(0)
        .max(1);
    let bars: Vec<Value> = months
        .iter()
        .map(|(m, r)| {
            let v = r.figures.received_in_period();
            let h = (v as f64 * 170.0 / max as f64).round() as i64;
            context! { x => 20 + (*m as i64 - 1) * 51, y => 195 - h, h => h, value => v, label => format!("{m:02}") }
        })
        .collect();
    let rows: Vec<Value> = months
        .iter()
        .map(|(m, r)| {
            context! {
                label => format!("{m:02}/{year}"),
                received => r.figures.received_in_period(),
                resolved => r.figures.resolved(),
                on_time => pct(r.rates.on_time),
                online => pct(r.rates.online),
            }
        })
        .collect();
    let mut links = Vec::new();
    for y in (this_year - 2..=this_year).rev() {
        links.push(context! { label => format!("{y}"), q => format!("year={y}") });
        for q in 1..=4 {
            links.push(
                context! { label => format!("Q{q}/{y}"), q => format!("year={y}&quarter={q}") },
            );
        }
    }
    let ctx = context! { lang => lang, t => texts(lang), year => year, bars => bars, months => rows, links => links };
    match env()
        .get_template("open_data.html")
        .and_then(|t| t.render(ctx))
    {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Lỗi hệ thống / internal error",
            )
        }
    }
}
