//! The service-index page for leaders (`/bang-dieu-khien/chi-so`): the Decision 766 score of
//! their scope for a year, quarter or month, each group as a bar against its maximum, each
//! indicator with its formula, the counts behind its rate, the rate from which it earns full
//! points and its points, and the agencies of the scope from the weakest score up. The same
//! figures as `GET /api/v1/reports/service-index` (one computation, [`compute`]), exported by
//! the links on the page.

use crate::AppState;
use crate::api::service_index::{IndexParams, compute};
use crate::auth::Auth;
use crate::authz::report_scope;
use crate::error::ApiError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use chrono::{Datelike, Utc};
use minijinja::{Environment, Value, context};
use motcua_domain::stats::ServiceIndex;
use serde::Deserialize;
use std::sync::OnceLock;

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut e = Environment::new();
        e.add_template("base.html", include_str!("../templates/base.html"))
            .expect("valid template");
        e.add_template(
            "service_index.html",
            include_str!("../templates/service_index.html"),
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
        (
            "si_title",
            "Chỉ số phục vụ người dân, doanh nghiệp (QĐ 766/QĐ-TTg)",
        ),
        ("si_year", "Năm"),
        ("si_period", "Kỳ"),
        ("si_all", "Toàn bộ phạm vi"),
        ("si_export", "Tải bảng chỉ số của kỳ này"),
        ("si_score", "Điểm"),
        ("si_of", "trên tổng"),
        (
            "si_measured_note",
            "điểm tối đa của các chỉ tiêu hệ thống đo được",
        ),
        ("si_groups", "Sáu nhóm chỉ số"),
        ("si_max", "Tối đa"),
        ("si_measured", "Đo được"),
        ("si_indicator", "Chỉ tiêu"),
        ("si_counts", "Tử số / mẫu số"),
        ("si_rate", "Tỷ lệ"),
        ("si_full_from", "Đủ điểm từ"),
        ("si_points", "Điểm"),
        ("si_not_measured", "Hệ thống không giữ dữ liệu này"),
        ("si_by_agency", "Theo cơ quan (điểm thấp trước)"),
        (
            "si_by_agency_note",
            "Chọn một cơ quan để xem các chỉ tiêu của cơ quan đó.",
        ),
        (
            "si_note",
            "Công thức, ngưỡng và trọng số: docs/statistics.md. Trọng số chưa được văn bản xác nhận có thể cấu hình (MOTCUA_INDEX_WEIGHTS). Số liệu hồ sơ từ bộ đếm, cập nhật cùng giao dịch; số liệu danh mục là danh mục đang có hiệu lực.",
        ),
        ("db_title", "Bảng điều hành"),
        ("db_show", "Xem"),
        ("agency", "Cơ quan"),
    ];
    let en: &[(&str, &str)] = &[
        ("site", "Administrative Procedures System"),
        (
            "province",
            "Lâm Đồng Province · Public Administrative Service Centre",
        ),
        ("footer", "motcua open-source software"),
        ("si_title", "Service index (Decision 766/QĐ-TTg)"),
        ("si_year", "Year"),
        ("si_period", "Period"),
        ("si_all", "The whole scope"),
        ("si_export", "Download the index of this period"),
        ("si_score", "Score"),
        ("si_of", "out of"),
        (
            "si_measured_note",
            "points of the indicators this system measures",
        ),
        ("si_groups", "The six groups"),
        ("si_max", "Maximum"),
        ("si_measured", "Measured"),
        ("si_indicator", "Indicator"),
        ("si_counts", "Numerator / denominator"),
        ("si_rate", "Rate"),
        ("si_full_from", "Full points from"),
        ("si_points", "Points"),
        ("si_not_measured", "This system does not keep the data"),
        ("si_by_agency", "By agency (lowest score first)"),
        (
            "si_by_agency_note",
            "Choose an agency to see its indicators.",
        ),
        (
            "si_note",
            "Formulas, thresholds and weights: docs/statistics.md. Weights no official text confirms are settings (MOTCUA_INDEX_WEIGHTS). Dossier figures come from the counters, updated in the same transaction; catalogue figures describe the catalogue in force.",
        ),
        ("db_title", "Dashboard"),
        ("db_show", "Show"),
        ("agency", "Agency"),
    ];
    let pick = if lang == "en" { en } else { vi };
    Value::from_iter(pick.iter().map(|(k, v)| (*k, *v)))
}

/// Page parameters.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Params {
    lang: Option<String>,
    year: Option<i32>,
    /// `y` (the year), `q1`-`q4` or `m1`-`m12`.
    period: Option<String>,
    agency: Option<String>,
}

/// `period` as (month, quarter).
fn period_of(p: &str) -> Result<(Option<u32>, Option<u32>), ApiError> {
    let bad = || ApiError::invalid("period", format!("`{p}`: use y, q1-q4 or m1-m12"));
    match p {
        "" | "y" => Ok((None, None)),
        _ => {
            let n: u32 = p.get(1..).and_then(|n| n.parse().ok()).ok_or_else(bad)?;
            match &p[..1] {
                "q" if (1..=4).contains(&n) => Ok((None, Some(n))),
                "m" if (1..=12).contains(&n) => Ok((Some(n), None)),
                _ => Err(bad()),
            }
        }
    }
}

fn num(x: f64) -> String {
    // Two decimals; a sum of nothing (or a rounding) may give -0, which people should not see.
    let x = (x * 100.0).round() / 100.0;
    let x = if x == 0.0 { 0.0 } else { x };
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn pct(x: Option<f64>) -> String {
    x.map(|x| format!("{x:.1}%")).unwrap_or_else(|| "—".into())
}

/// The groups of one index, ready for the template (bars scaled to 340 px for 22 points).
fn groups(ix: &ServiceIndex) -> Vec<Value> {
    let px = |v: f64| (v * 340.0 / 22.0).round() as i64;
    ix.groups
        .iter()
        .map(|g| {
            let indicators: Vec<Value> = g
                .indicators
                .iter()
                .map(|i| {
                    context! {
                        code => i.code.clone(), name => i.name.clone(), formula => i.formula.clone(),
                        measured => i.measured, numerator => i.numerator, denominator => i.denominator,
                        rate => pct(i.rate),
                        full_from => i.full_from.map(|f| format!("≥ {}%", num(f))).unwrap_or_else(|| "—".into()),
                        score => i.score.map(num).unwrap_or_else(|| "—".into()), max => num(i.max),
                        low => i.measured && i.score.is_some_and(|s| s < i.max / 2.0),
                    }
                })
                .collect();
            context! {
                code => g.code.clone(), name => g.name.clone(),
                short => g.name.chars().take(26).collect::<String>(),
                score => num(g.score), max => num(g.max), measured_max => num(g.measured_max),
                w_score => px(g.score), w_measured => px(g.measured_max), w_max => px(g.max),
                indicators => indicators,
            }
        })
        .collect()
}

/// `GET /bang-dieu-khien/chi-so`.
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
        "en" => "Cannot show the service index",
        _ => "Không hiển thị được chỉ số",
    };
    crate::dashboard::signed_in_page(
        auth,
        &headers,
        "/bang-dieu-khien/chi-so",
        lang,
        heading,
        |actor| render_page(s, actor, q),
    )
    .await
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
    let year = p.year.unwrap_or(today.year());
    let period = p.period.clone().unwrap_or_else(|| "y".into());
    let (month, quarter) = period_of(&period)?;
    let agency = p
        .agency
        .clone()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty());
    let params = IndexParams {
        year: Some(year),
        month,
        quarter,
        agency: agency.clone(),
        children: Some(true),
        format: None,
    };
    let report = compute(&s, &actor, &params).await?;
    // The agencies the actor may choose: their scope.
    let all = s.store.agencies().await?;
    let scope = report_scope(&actor, None, true, &all)?;
    let choices: Vec<Value> = all
        .iter()
        .filter(|a| scope.contains(&a.code))
        .map(|a| context! { code => a.code.to_string(), name => a.name.clone() })
        .collect();
    let scope_name = match &agency {
        Some(c) => all
            .iter()
            .find(|a| a.code.as_str() == c)
            .map_or_else(|| c.clone(), |a| a.name.clone()),
        None => actor
            .agency
            .as_ref()
            .filter(|_| actor.role != motcua_domain::agency::Role::Admin)
            .and_then(|c| all.iter().find(|a| a.code == *c))
            .map_or_else(
                || {
                    if lang == "en" {
                        "The province".to_string()
                    } else {
                        "Toàn tỉnh".to_string()
                    }
                },
                |a| a.name.clone(),
            ),
    };
    let total = &report.total.index;
    let mut rows: Vec<&crate::api::service_index::IndexRow> = report.rows.iter().collect();
    rows.sort_by(|a, b| {
        a.index
            .score
            .partial_cmp(&b.index.score)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let rows: Vec<Value> = rows
        .into_iter()
        .take(100)
        .map(|r| {
            let gs: Vec<Value> = r
                .index
                .groups
                .iter()
                .map(|g| context! { code => g.code.clone(), score => num(g.score) })
                .collect();
            context! {
                key => r.key.clone(), name => r.name.clone(), score => num(r.index.score),
                measured_max => num(r.index.measured_max), groups => gs,
            }
        })
        .collect();
    let mut periods =
        vec![context! { v => "y", l => if lang == "en" { "Whole year" } else { "Cả năm" } }];
    for q in 1..=4 {
        periods.push(context! { v => format!("q{q}"), l => if lang == "en" { format!("Quarter {q}") } else { format!("Quý {q}") } });
    }
    for m in 1..=12 {
        periods.push(context! { v => format!("m{m}"), l => if lang == "en" { format!("Month {m}") } else { format!("Tháng {m}") } });
    }
    let mut export_q = format!("/api/v1/reports/service-index?year={year}&children=true");
    if let Some(m) = month {
        export_q.push_str(&format!("&month={m}"));
    }
    if let Some(q) = quarter {
        export_q.push_str(&format!("&quarter={q}"));
    }
    if let Some(a) = &agency {
        export_q.push_str(&format!("&agency={a}"));
    }
    let ctx = context! {
        lang => lang, t => texts(lang), year => year, period => period, periods => periods,
        agency => agency.unwrap_or_default(), agencies => choices, scope => scope_name,
        from => report.from.to_string(), to => report.to.to_string(), export_q => export_q,
        total => context! { score => num(total.score), measured_max => num(total.measured_max), max => num(total.max) },
        groups => groups(total), rows => rows,
    };
    let html = env()
        .get_template("service_index.html")
        .and_then(|t| t.render(ctx))
        .map_err(ApiError::internal)?;
    Ok(Html(html).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_a_year_a_quarter_or_a_month() {
        assert_eq!(period_of("y").unwrap(), (None, None));
        assert_eq!(period_of("q3").unwrap(), (None, Some(3)));
        assert_eq!(period_of("m12").unwrap(), (Some(12), None));
        for bad in ["q0", "q5", "m13", "m", "x1", "mm", "q-1", "m١", "ý1"] {
            assert!(period_of(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_drop_useless_zeros() {
        assert_eq!(num(20.0), "20");
        assert_eq!(num(3.5), "3.5");
        assert_eq!(num(4.126), "4.13");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(-0.001), "0");
    }
}
