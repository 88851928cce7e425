//! The comparison of a draft with the published version, side by side and in words, and
//! publishing it once the administrator confirms.

use super::super::lang_of;
use super::{PageQuery, level_label, online_label, page_path, say};
use super::{at, draft_for_page, gate, lang_q, one, refusal, render, require_admin};
use crate::AppState;
use crate::api::catalogue_admin::{draft_diff, publish_draft};
use crate::session::{MaybeSession, Session};
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use motcua_domain::procedure::{Level, OnlineLevel, ProcedureVersion};
use serde::Serialize;

#[derive(Serialize)]
struct DiffRow {
    label: String,
    before: String,
    after: String,
}

fn field_label(name: &str, lang: &str) -> String {
    let en = lang == "en";
    let l = match name {
        "name" => ("Tên thủ tục", "Name"),
        "field" => ("Lĩnh vực", "Field"),
        "levels" => ("Cấp thực hiện", "Levels"),
        "online_level" => ("Mức độ trực tuyến", "Online level"),
        "time_limit" => ("Thời hạn giải quyết", "Time limit"),
        "fee_vnd" => ("Phí, lệ phí (đồng)", "Fee (đồng)"),
        "documents" => ("Thành phần hồ sơ", "Documents"),
        "decision_no" => ("Quyết định công bố", "Deciding document"),
        "competent_agency" => ("Cơ quan có thẩm quyền", "Competent agency"),
        "workflow" => ("Quy trình nội bộ", "Internal workflow"),
        "form" => ("Biểu mẫu điện tử", "E-form"),
        "details.steps" => ("Trình tự thực hiện", "Steps"),
        "details.legal_basis" => ("Căn cứ pháp lý", "Legal basis"),
        "details.where_to_submit" => ("Nơi tiếp nhận", "Where to submit"),
        "details.effective_from" => ("Ngày hiệu lực", "Effective date"),
        other => (other, other),
    };
    if en { l.1 } else { l.0 }.to_string()
}

/// One compared field's value as a person reads it in `lang`: levels, online level, time limit
/// and workflow in words, everything else by [`readable`].
fn readable_field(field: &str, v: &serde_json::Value, lang: &str) -> String {
    let en = lang == "en";
    match field {
        "online_level" => OnlineLevel::ALL
            .iter()
            .find(|o| v.as_str() == Some(o.as_str()))
            .map(|o| online_label(*o, lang).to_string())
            .unwrap_or_else(|| readable(v)),
        "levels" => v
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| {
                        Level::ALL
                            .iter()
                            .find(|l| x.as_str() == Some(l.as_str()))
                            .map(|l| level_label(*l, lang).to_string())
                            .unwrap_or_else(|| readable(x))
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_else(|| readable(v)),
        "time_limit" => {
            let unit = match (v["unit"].as_str(), en) {
                (Some("working_days"), false) => "ngày làm việc",
                (Some("working_hours"), false) => "giờ làm việc",
                (Some("working_days"), true) => "working days",
                (Some("working_hours"), true) => "working hours",
                _ => return readable(v),
            };
            format!("{} {unit}", readable(&v["amount"]))
        }
        "workflow" => v["steps"]
            .as_array()
            .map(|steps| {
                steps
                    .iter()
                    .enumerate()
                    .map(|(i, st)| {
                        let minutes = st["budget_minutes"].as_i64().unwrap_or(0);
                        format!(
                            "{}. {} ({}, {} {})",
                            i + 1,
                            readable(&st["name"]),
                            readable(&st["role"]),
                            minutes / 60,
                            if en {
                                "working hours"
                            } else {
                                "giờ làm việc"
                            }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_else(|| readable(v)),
        _ => readable(v),
    }
}

/// A JSON value as a person reads it: text as is, lists one item a line, the rest as JSON.
fn readable(v: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match v {
        J::Null => "—".into(),
        J::String(s) => s.clone(),
        J::Number(n) => n.to_string(),
        J::Bool(b) => b.to_string(),
        J::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            items.iter().map(readable).collect::<Vec<_>>().join("\n")
        }
        J::Array(items) => items
            .iter()
            .map(|i| match i {
                J::Object(m) if m.contains_key("name") => readable(&m["name"]),
                J::Object(m) if m.contains_key("title") => {
                    let num = m.get("number").and_then(|n| n.as_str()).unwrap_or("");
                    let t = readable(&m["title"]);
                    if num.is_empty() {
                        t
                    } else {
                        format!("{num} | {t}")
                    }
                }
                other => serde_json::to_string(other).unwrap_or_default(),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        J::Object(m) if m.contains_key("amount") && m.contains_key("unit") => {
            format!(
                "{} {}",
                readable(&m["amount"]),
                readable(&m["unit"]).replace('_', " ")
            )
        }
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn diff_page(
    s: &AppState,
    sess: &Session,
    lang: &str,
    code: &str,
    v: &ProcedureVersion,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let d = match draft_diff(s, code, v.version).await {
        Ok(d) => d,
        Err(e) if e.status() == StatusCode::NOT_FOUND => {
            return super::super::not_found(lang);
        }
        Err(_) => return super::super::busy(lang),
    };
    let rows: Vec<DiffRow> = d
        .changes
        .iter()
        .map(|c| DiffRow {
            label: field_label(&c.field, lang),
            before: readable_field(&c.field, &c.before, lang),
            after: readable_field(&c.field, &c.after, lang),
        })
        .collect();
    render(
        "admin_diff.html",
        lang,
        status,
        context! {
            at => at(lang), me => &sess.actor, csrf => &sess.csrf, nav => "procedures",
            code, version => v.version, name => &v.name,
            published_version => d.published_version, rows,
            decision_no => &v.decision_no,
            effective_from => v.details.effective_from.map(|d| d.format("%d/%m/%Y").to_string()),
            error,
        },
    )
}

/// `GET /quan-tri/thu-tuc/{code}/ban-nhap/{version}/so-sanh`: the draft beside the published
/// version, field by field, with the publish form.
pub(crate) async fn compare(
    State(s): State<AppState>,
    session: MaybeSession,
    Path((code, version)): Path<(String, String)>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let back = format!("/quan-tri/thu-tuc/{code}/ban-nhap/{version}/so-sanh");
    let sess = match require_admin(session, &back, lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (code, v) = match draft_for_page(&s, lang, &code, &version).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    diff_page(&s, &sess, lang, &code, &v, None, StatusCode::OK).await
}

/// `POST /quan-tri/thu-tuc/{code}/ban-nhap/{version}/cong-bo`: publishes the draft once the
/// administrator ticked the confirmation.
pub(crate) async fn publish(
    State(s): State<AppState>,
    session: MaybeSession,
    Path((code, version)): Path<(String, String)>,
    q: Result<Query<PageQuery>, QueryRejection>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let back = format!("/quan-tri/thu-tuc/{code}/ban-nhap/{version}/so-sanh");
    let (sess, f) = match gate(session, &back, lang, form) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (code, v) = match draft_for_page(&s, lang, &code, &version).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if one(&f, "xac_nhan").is_empty() {
        let msg = say(
            "Hãy đánh dấu ô xác nhận trước khi công bố.",
            "Tick the confirmation box before publishing.",
        );
        return diff_page(
            &s,
            &sess,
            lang,
            &code,
            &v,
            Some(&msg),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match publish_draft(&s, &sess.actor, &code, v.version).await {
        Ok(_) => {
            Redirect::to(&format!("{}?xong=1{}", page_path(&code), lang_q(lang))).into_response()
        }
        Err(e) => {
            let (status, msg) = refusal(&e);
            diff_page(&s, &sess, lang, &code, &v, Some(&msg), status).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_read_as_people_read_them() {
        assert_eq!(readable(&json!("Tên")), "Tên");
        assert_eq!(readable(&json!(null)), "—");
        assert_eq!(readable(&json!(["a", "b"])), "a\nb");
        assert_eq!(
            readable(&json!([{"name": "Tờ khai", "required": true}])),
            "Tờ khai"
        );
        assert_eq!(
            readable(&json!([{"title": "Luật Hộ tịch", "number": "60/2014/QH13"}])),
            "60/2014/QH13 | Luật Hộ tịch"
        );
        assert_eq!(
            readable(&json!({"amount": 5, "unit": "working_days"})),
            "5 working days"
        );
    }

    #[test]
    fn compared_fields_read_in_words() {
        assert_eq!(
            readable_field(
                "time_limit",
                &json!({"amount": 5, "unit": "working_days"}),
                "vi"
            ),
            "5 ngày làm việc"
        );
        assert_eq!(
            readable_field("levels", &json!(["province", "commune"]), "en"),
            "Province\nCommune"
        );
        assert_eq!(
            readable_field("online_level", &json!("full"), "vi"),
            "Dịch vụ công trực tuyến toàn trình"
        );
        let wf =
            json!({"steps": [{"name": "Thẩm định", "role": "specialist", "budget_minutes": 480}]});
        assert_eq!(
            readable_field("workflow", &wf, "vi"),
            "1. Thẩm định (specialist, 8 giờ làm việc)"
        );
        assert_eq!(readable_field("name", &json!("Tên"), "vi"), "Tên");
    }
}
