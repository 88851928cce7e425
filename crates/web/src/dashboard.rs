//! The leaders' dashboard (`/bang-dieu-khien`): the scope at a glance, a monthly trend, a
//! drill-down by agency, field or procedure, and the slowest of them, as server-rendered inline
//! SVG with every number also in a table. Served from the counters, like the reports. Until the
//! pages have a login, it is authorized by the API bearer token (leaders: their agency and those
//! below; administrators: the province).

use crate::AppState;
use crate::auth::Auth;
use crate::authz::report_scope;
use crate::error::ApiError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use chrono::{Datelike, Days, Months, NaiveDate, Utc};
use minijinja::{Environment, Value, context};
use motcua_domain::stats::{Filter, Form06Row};
use motcua_store::GroupBy;
use serde::Deserialize;
use std::sync::OnceLock;

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut e = Environment::new();
        e.add_template("base.html", include_str!("../templates/base.html"))
            .expect("valid template");
        e.add_template(
            "dashboard.html",
            include_str!("../templates/dashboard.html"),
        )
        .expect("valid template");
        e
    })
}

fn texts(lang: &str) -> Value {
    let vi: &[(&str, &str)] = &[
        ("site", "Hệ thống giải quyết thủ tục hành chính"),
        (
            "province",
            "Tỉnh Lâm Đồng · Trung tâm Phục vụ hành chính công",
        ),
        ("footer", "Phần mềm mã nguồn mở motcua"),
        ("db_title", "Bảng điều hành"),
        ("db_by", "Theo"),
        ("db_show", "Xem"),
        ("db_glance", "Tổng quan"),
        ("db_trend", "Xu hướng"),
        ("db_month", "Kỳ"),
        ("db_received", "Tiếp nhận"),
        ("db_resolved", "Đã giải quyết"),
        ("db_on_time", "Tỷ lệ đúng hạn"),
        ("db_online", "Tỷ lệ trực tuyến"),
        ("db_drill", "Chi tiết"),
        ("db_name", "Tên"),
        ("db_late", "Giải quyết quá hạn"),
        ("db_open_past", "Đang quá hạn"),
        ("db_slowest", "Chậm nhất"),
        ("db_late_share", "Tỷ lệ quá hạn"),
        (
            "db_note",
            "Định nghĩa: docs/statistics.md. Số liệu từ bộ đếm, cập nhật cùng giao dịch.",
        ),
        ("db_export", "Tải báo cáo biểu 06 của kỳ này"),
        (
            "db_index",
            "Chỉ số phục vụ người dân, doanh nghiệp (QĐ 766)",
        ),
        ("agency", "Cơ quan"),
        ("field", "Lĩnh vực"),
        ("procedure", "Thủ tục"),
    ];
    let en: &[(&str, &str)] = &[
        ("site", "Administrative Procedures System"),
        (
            "province",
            "Lâm Đồng Province · Public Administrative Service Centre",
        ),
        ("footer", "motcua open-source software"),
        ("db_title", "Dashboard"),
        ("db_by", "By"),
        ("db_show", "Show"),
        ("db_glance", "At a glance"),
        ("db_trend", "Trend"),
        ("db_month", "Period"),
        ("db_received", "Received"),
        ("db_resolved", "Resolved"),
        ("db_on_time", "On-time rate"),
        ("db_online", "Online rate"),
        ("db_drill", "Breakdown"),
        ("db_name", "Name"),
        ("db_late", "Resolved late"),
        ("db_open_past", "Open past the limit"),
        ("db_slowest", "Slowest"),
        ("db_late_share", "Late share"),
        (
            "db_note",
            "Definitions: docs/statistics.md. Figures from the counters, updated in the same transaction.",
        ),
        ("db_export", "Download the form 06 report of this period"),
        ("db_index", "Service index (Decision 766)"),
        ("agency", "Agency"),
        ("field", "Field"),
        ("procedure", "Procedure"),
    ];
    let pick = if lang == "en" { en } else { vi };
    Value::from_iter(pick.iter().map(|(k, v)| (*k, *v)))
}

/// Page parameters.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Params {
    lang: Option<String>,
    from: Option<String>,
    to: Option<String>,
    agency: Option<String>,
    by: Option<String>,
    trend: Option<String>,
}

fn pct(x: Option<f64>) -> String {
    x.map(|x| format!("{x:.1}%")).unwrap_or_else(|| "—".into())
}

fn late_share(r: &Form06Row) -> Option<f64> {
    let d = r.resolved() + r.in_progress();
    (d > 0).then(|| (r.resolved_late + r.in_progress_past) as f64 * 100.0 / d as f64)
}

/// `GET /bang-dieu-khien`.
pub async fn page(
    State(s): State<AppState>,
    auth: Result<Auth, ApiError>,
    headers: axum::http::HeaderMap,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    let lang = match &q {
        Ok(Query(p)) if p.lang.as_deref() == Some("en") => "en",
        _ => "vi",
    };
    let heading = match lang {
        "en" => "Cannot show the dashboard",
        _ => "Không hiển thị được",
    };
    signed_in_page(auth, &headers, "/bang-dieu-khien", lang, heading, |actor| {
        render_page(s, actor, q)
    })
    .await
}

/// A page for signed-in staff: a browser without a session is sent to sign in and back to
/// `path`; a bad token gets its problem; an error while rendering becomes a page with the reason
/// under `heading`, not a problem document.
pub(crate) async fn signed_in_page<F, Fut>(
    auth: Result<Auth, ApiError>,
    headers: &axum::http::HeaderMap,
    path: &str,
    lang: &str,
    heading: &str,
    render: F,
) -> Response
where
    F: FnOnce(motcua_domain::agency::Actor) -> Fut,
    Fut: std::future::Future<Output = Result<Response, ApiError>>,
{
    let actor = match auth {
        Ok(Auth(a)) => a,
        Err(_) if !headers.contains_key(axum::http::header::AUTHORIZATION) => {
            return crate::staff::to_sign_in(path);
        }
        Err(e) => return e.into_response(),
    };
    match render(actor).await {
        Ok(r) => r,
        Err(e) => crate::pages::error_page(e.status(), lang, heading, e.detail()),
    }
}

async fn render_page(
    s: AppState,
    actor: motcua_domain::agency::Actor,
    q: Result<Query<Params>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = q?;
    let lang = if p.lang.as_deref() == Some("en") {
        "en"
    } else {
        "vi"
    };
    let today = (Utc::now() + chrono::Duration::hours(7)).date_naive();
    let default_from = today.with_day(1).unwrap_or(today);
    let (from, to) = crate::api::reports::period(
        Some(p.from.as_deref().unwrap_or(&default_from.to_string())),
        Some(p.to.as_deref().unwrap_or(&today.to_string())),
    )?;
    let requested = p
        .agency
        .as_deref()
        .map(|a| {
            a.trim()
                .parse()
                .map_err(|e: motcua_domain::codes::CodeError| {
                    ApiError::invalid("agency", e.to_string())
                })
        })
        .transpose()?;
    let all = s.store.agencies().await?;
    if let Some(r) = &requested
        && !all.iter().any(|a| a.code == *r)
    {
        return Err(ApiError::not_found(format!("no agency `{r}`")));
    }
    let agencies = report_scope(&actor, requested.as_ref(), true, &all)?;
    let (by, group) = match p.by.as_deref().unwrap_or("agency") {
        "agency" => ("agency", GroupBy::Agency),
        "field" => ("field", GroupBy::Field),
        "procedure" => ("procedure", GroupBy::Procedure),
        other => {
            return Err(ApiError::invalid(
                "by",
                format!("`{other}`: use agency, field or procedure"),
            ));
        }
    };
    let trend_by = match p.trend.as_deref().unwrap_or("month") {
        t @ ("day" | "week" | "month") => t,
        other => {
            return Err(ApiError::invalid(
                "trend",
                format!("`{other}`: use day, week or month"),
            ));
        }
    };
    let trends: Vec<Value> = ["day", "week", "month"]
        .iter()
        .map(|v| context! { v => *v })
        .collect();
    let f = Filter::default();
    let groups = s.store.form06_by(&agencies, from, to, &f, group).await?;
    let mut total = Form06Row::default();
    for r in groups.values() {
        total.merge(r);
    }
    let name_of = |k: &str| match group {
        GroupBy::Agency => all
            .iter()
            .find(|a| a.code.as_str() == k)
            .map_or_else(|| k.to_string(), |a| a.name.clone()),
        _ if k.is_empty() => "—".to_string(),
        _ => k.to_string(),
    };
    let rates = total.rates();
    let cards = vec![
        context! { l => "Tổng nhận giải quyết / to resolve", v => total.received_total() },
        context! { l => "Nhận trong kỳ / received", v => total.received_in_period() },
        context! { l => "Đã giải quyết / resolved", v => total.resolved() },
        context! { l => "Đang giải quyết / in progress", v => total.in_progress() },
        context! { l => "Đang quá hạn / open past the limit", v => total.in_progress_past },
        context! { l => "Tỷ lệ đúng hạn / on time", v => pct(rates.on_time) },
        context! { l => "Tỷ lệ trực tuyến / online", v => pct(rates.online) },
        context! { l => "Hài lòng / satisfied", v => pct(rates.satisfaction) },
    ];
    // Trend up to `to`: 31 days, 12 weeks (Monday to Sunday) or 12 months.
    let buckets: Vec<(NaiveDate, NaiveDate, String)> = match trend_by {
        "day" => (0..31u64)
            .rev()
            .filter_map(|i| to.checked_sub_days(Days::new(i)))
            .map(|d| (d, d, format!("{:02}/{:02}", d.day(), d.month())))
            .collect(),
        "week" => {
            let monday = to - Days::new(to.weekday().num_days_from_monday() as u64);
            (0..12u64)
                .rev()
                .filter_map(|i| monday.checked_sub_days(Days::new(7 * i)))
                .map(|m| (m, m + Days::new(6), format!("T{}", m.iso_week().week())))
                .collect()
        }
        _ => {
            let last = to.with_day(1).unwrap_or(to);
            (0..12u32)
                .rev()
                .filter_map(|i| last.checked_sub_months(Months::new(i)))
                .map(|m0| {
                    let m1 = m0
                        .checked_add_months(Months::new(1))
                        .and_then(|d| d.checked_sub_days(Days::new(1)))
                        .unwrap_or(m0);
                    (m0, m1, format!("{:02}/{}", m0.month(), m0.year() % 100))
                })
                .collect()
        }
    };
    let mut months = Vec::new();
    for (b0, b1, label) in buckets {
        let rows = s.store.form06(&agencies, b0, b1, &f).await?;
        let mut r = Form06Row::default();
        for x in rows.values() {
            r.merge(x);
        }
        months.push((label, r));
    }
    let max = months
        .iter()
        .map(|(_, r)| r.received_in_period().max(r.resolved()))
        .max()
        .unwrap_or(0)
        .max(1);
    let h = |v: i64| (v as f64 * 190.0 / max as f64).round() as i64;
    let step = if months.len() > 12 { 20 } else { 52 };
    let trend: Vec<Value> = months
        .iter()
        .enumerate()
        .map(|(i, (m, r))| {
            let (v1, v2) = (r.received_in_period(), r.resolved());
            context! {
                x => 10 + i as i64 * step, label => m.clone(), w => step / 2 - 2,
                v1 => v1, h1 => h(v1), y1 => 200 - h(v1), v2 => v2, h2 => h(v2), y2 => 200 - h(v2),
                on_time => pct(r.rates().on_time),
            }
        })
        .collect();
    let mut list: Vec<(String, Form06Row)> = groups.into_iter().collect();
    list.sort_by_key(|(_, r)| std::cmp::Reverse(r.received_total()));
    list.truncate(30);
    let row_ctx = |(k, r): &(String, Form06Row)| {
        let name = name_of(k);
        let rr = r.rates();
        context! {
            name => name.clone(), short => name.chars().take(32).collect::<String>(),
            bar => rr.on_time.map_or(0, |x| (x * 3.4).round() as i64),
            received => r.received_in_period(), resolved => r.resolved(), late => r.resolved_late,
            past => r.in_progress_past, on_time => pct(rr.on_time), online => pct(rr.online),
            late_share => pct(late_share(r)),
        }
    };
    let rows: Vec<Value> = list.iter().map(row_ctx).collect();
    let mut slow: Vec<&(String, Form06Row)> = list
        .iter()
        .filter(|(_, r)| late_share(r).is_some())
        .collect();
    slow.sort_by(|a, b| {
        late_share(&b.1)
            .partial_cmp(&late_share(&a.1))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let slowest: Vec<Value> = slow.into_iter().take(10).map(row_ctx).collect();
    let now = Utc::now();
    let due: Vec<Value> = s
        .store
        .due_soon(&agencies, now + chrono::Duration::hours(24), 50)
        .await?
        .into_iter()
        .map(|d| {
            context! {
                code => d.code.unwrap_or_default(), procedure => d.procedure_name,
                due => d.due_at.map(|t| (t + chrono::Duration::hours(7)).format("%H:%M %d/%m/%Y").to_string()).unwrap_or_default(),
                overdue => d.due_at.is_some_and(|t| t < now), status => d.status.national_name(),
            }
        })
        .collect();
    let t = texts(lang);
    let bys: Vec<Value> = ["agency", "field", "procedure"]
        .iter()
        .map(|v| context! { v => *v, l => t.get_attr(v).ok() })
        .collect();
    let scope = match &requested {
        Some(c) => name_of(c.as_str()),
        None => actor
            .agency
            .as_ref()
            .filter(|_| actor.role != motcua_domain::agency::Role::Admin)
            .map_or_else(
                || "Toàn tỉnh / province".to_string(),
                |a| name_of(a.as_str()),
            ),
    };
    // The standard report of the same period and scope, as files (the API reads the session).
    let export_q = format!(
        "/api/v1/reports/form06?from={from}&to={to}&children=true{}",
        requested
            .as_ref()
            .map(|a| format!("&agency={a}"))
            .unwrap_or_default()
    );
    let ctx = context! {
        export_q => export_q,
        lang => lang, t => t, from => from.to_string(), to => to.to_string(), by => by, bys => bys,
        scope => scope, cards => cards, trend => trend, trend_w => 10 + months.len() as i64 * step, trend_by => trend_by, trends => trends, rows => rows, slowest => slowest, due => due,
    };
    let html = env()
        .get_template("dashboard.html")
        .and_then(|t| t.render(ctx))
        .map_err(ApiError::internal)?;
    Ok(Html(html).into_response())
}
