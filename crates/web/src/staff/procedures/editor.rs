//! The draft editor: every field an administrator may edit, the e-form as JSON, refusals next
//! to their fields with everything typed kept.

use super::super::lang_of;
use super::{PageQuery, draft_path, level_label, online_label, say};
use super::{at, draft_for_page, gate, lang_q, one, refusal, render, require_admin};
use crate::AppState;
use crate::api::catalogue_admin::{DraftEdit, change_draft};
use crate::error::ApiError;
use crate::session::{MaybeSession, Session};
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use minijinja::{Value, context};
use motcua_domain::catalogue::LegalDoc;
use motcua_domain::procedure::{Level, OnlineLevel, ProcedureVersion, TimeLimit, TimeUnit};
use serde::Serialize;
use std::collections::BTreeMap;

/// What the editor's fields hold, as typed (shown again after a refusal).
#[derive(Serialize, Default, Clone)]
struct Typed {
    name: String,
    field: String,
    online_level: String,
    levels: Vec<String>,
    time_amount: String,
    time_unit: String,
    fee: String,
    documents: String,
    steps: String,
    where_to_submit: String,
    legal_basis: String,
    decision_no: String,
    effective_from: String,
    form: String,
}

fn unit_str(u: TimeUnit) -> &'static str {
    match u {
        TimeUnit::WorkingDays => "working_days",
        TimeUnit::WorkingHours => "working_hours",
    }
}

fn legal_lines(docs: &[LegalDoc]) -> String {
    docs.iter()
        .map(|d| {
            if d.number.is_empty() {
                d.title.clone()
            } else {
                format!("{} | {}", d.number, d.title)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn typed_of(v: &ProcedureVersion) -> Typed {
    Typed {
        name: v.name.clone(),
        field: v.field.clone(),
        online_level: v.online_level.as_str().into(),
        levels: v.levels.iter().map(|l| l.as_str().to_string()).collect(),
        time_amount: v.time_limit.amount.to_string(),
        time_unit: unit_str(v.time_limit.unit).into(),
        fee: v.fee_vnd.to_string(),
        documents: v
            .documents
            .iter()
            .map(|d| d.name.clone())
            .collect::<Vec<_>>()
            .join("\n"),
        steps: v.details.steps.join("\n"),
        where_to_submit: v.details.where_to_submit.clone(),
        legal_basis: legal_lines(&v.details.legal_basis),
        decision_no: v.decision_no.clone(),
        effective_from: v
            .details
            .effective_from
            .map(|d| d.to_string())
            .unwrap_or_default(),
        form: v
            .form
            .as_ref()
            .and_then(|f| serde_json::to_string_pretty(f).ok())
            .unwrap_or_default(),
    }
}

fn typed_from(f: &[(String, String)]) -> Typed {
    let raw = |k: &str| {
        f.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.replace("\r\n", "\n"))
            .unwrap_or_default()
    };
    Typed {
        name: one(f, "name"),
        field: one(f, "field"),
        online_level: one(f, "online_level"),
        levels: f
            .iter()
            .filter(|(k, _)| k == "levels")
            .map(|(_, v)| v.trim().to_string())
            .collect(),
        time_amount: one(f, "time_amount"),
        time_unit: one(f, "time_unit"),
        fee: one(f, "fee"),
        documents: raw("documents"),
        steps: raw("steps"),
        where_to_submit: raw("where_to_submit").trim().to_string(),
        legal_basis: raw("legal_basis"),
        decision_no: one(f, "decision_no"),
        effective_from: one(f, "effective_from"),
        form: raw("form"),
    }
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// The edit the typed fields ask for (only what differs from `v`), the form change, or the
/// refusal of each field that cannot be read.
#[allow(clippy::type_complexity)]
fn edit_of(
    t: &Typed,
    v: &ProcedureVersion,
) -> Result<
    (
        DraftEdit,
        Option<Option<motcua_domain::forms::FormDefinition>>,
    ),
    BTreeMap<String, String>,
> {
    let mut errors = BTreeMap::new();
    let mut e = DraftEdit::default();
    // What the editor showed, read back the way a submission is read: a field counts as
    // changed only when the person changed it (stored text may hold stray spaces or line
    // breaks inside a paragraph).
    let shown = typed_of(v);
    if t.name != shown.name.trim() {
        e.name = Some(t.name.clone());
    }
    if t.field != shown.field.trim() {
        e.field = Some(t.field.clone());
    }
    match OnlineLevel::ALL
        .iter()
        .find(|o| o.as_str() == t.online_level)
    {
        Some(o) if *o != v.online_level => e.online_level = Some(*o),
        Some(_) => {}
        None => {
            errors.insert(
                "online_level".into(),
                say("Chọn một mức độ trực tuyến.", "Choose an online level."),
            );
        }
    }
    let mut levels = Vec::new();
    for l in &t.levels {
        match Level::ALL.iter().find(|x| x.as_str() == l) {
            Some(x) => levels.push(*x),
            None => {
                errors.insert(
                    "levels".into(),
                    say(
                        &format!("Cấp không hợp lệ: {l}"),
                        &format!("Unknown level: {l}"),
                    ),
                );
            }
        }
    }
    if levels != v.levels {
        e.levels = Some(levels);
    }
    let unit = match t.time_unit.as_str() {
        "working_days" => Some(TimeUnit::WorkingDays),
        "working_hours" => Some(TimeUnit::WorkingHours),
        _ => None,
    };
    match (t.time_amount.parse::<u32>(), unit) {
        (Ok(amount), Some(unit)) => {
            let tl = TimeLimit { amount, unit };
            if tl != v.time_limit {
                e.time_limit = Some(tl);
            }
        }
        _ => {
            errors.insert(
                "time_limit".into(),
                say(
                    "Nhập số ngày hoặc giờ làm việc (số nguyên dương).",
                    "Enter a whole number of working days or hours.",
                ),
            );
        }
    }
    match t.fee.replace(['.', ' '], "").parse::<i64>() {
        Ok(fee) if fee != v.fee_vnd => e.fee_vnd = Some(fee),
        Ok(_) => {}
        Err(_) => {
            errors.insert(
                "fee_vnd".into(),
                say(
                    "Nhập số tiền bằng đồng (số nguyên, 0 nếu miễn phí).",
                    "Enter the amount in whole đồng (0 when free).",
                ),
            );
        }
    }
    let docs = lines(&t.documents);
    if docs != lines(&shown.documents) {
        e.documents = Some(docs);
    }
    let steps = lines(&t.steps);
    if steps != lines(&shown.steps) {
        e.steps = Some(steps);
    }
    if t.where_to_submit != shown.where_to_submit.trim() {
        e.where_to_submit = Some(t.where_to_submit.clone());
    }
    let legal_changed = lines(&t.legal_basis) != lines(&shown.legal_basis);
    let legal: Vec<LegalDoc> = lines(&t.legal_basis)
        .iter()
        .map(|l| match l.split_once('|') {
            Some((number, title)) => LegalDoc {
                number: number.trim().to_string(),
                title: title.trim().to_string(),
            },
            None => LegalDoc {
                number: String::new(),
                title: l.clone(),
            },
        })
        .collect();
    if legal_changed {
        e.legal_basis = Some(legal);
    }
    if t.decision_no != shown.decision_no.trim() {
        e.decision_no = Some(t.decision_no.clone());
    }
    if !t.effective_from.is_empty() {
        match NaiveDate::parse_from_str(&t.effective_from, "%Y-%m-%d") {
            Ok(d) if Some(d) != v.details.effective_from => e.effective_from = Some(d),
            Ok(_) => {}
            Err(_) => {
                errors.insert(
                    "effective_from".into(),
                    say(
                        "Ngày không hợp lệ; nhập theo dạng năm-tháng-ngày, ví dụ 2026-12-31.",
                        "Not a date; write it as year-month-day, e.g. 2026-12-31.",
                    ),
                );
            }
        }
    } else if v.details.effective_from.is_some() {
        errors.insert(
            "effective_from".into(),
            say(
                "Ngày hiệu lực đã có không thể xóa; hãy nhập ngày mới.",
                "An effective date cannot be removed; enter a new one.",
            ),
        );
    }
    let form = if t.form.trim().is_empty() {
        None
    } else {
        match serde_json::from_str::<serde_json::Value>(&t.form) {
            Ok(raw) if raw.is_null() => None,
            Ok(raw) => match crate::api::forms::parse_definition(raw) {
                Ok(def) => def,
                Err(err) => {
                    errors.insert("form".into(), definition_problems(&err));
                    v.form.clone()
                }
            },
            Err(err) => {
                errors.insert(
                    "form".into(),
                    say(
                        &format!("JSON không hợp lệ: {err}"),
                        &format!("malformed JSON: {err}"),
                    ),
                );
                v.form.clone()
            }
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let form_change = (form != v.form).then_some(form);
    Ok((e, form_change))
}

/// Every problem of a refused definition, one per line.
fn definition_problems(e: &ApiError) -> String {
    let list =
        e.0.errors
            .as_ref()
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .map(|x| {
                        x.as_str()
                            .map(String::from)
                            .unwrap_or_else(|| x.to_string())
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
    if list.is_empty() {
        e.detail().to_string()
    } else {
        format!("{}:\n{}", e.detail(), list.join("\n"))
    }
}

#[allow(clippy::too_many_arguments)]
fn editor_page(
    sess: &Session,
    lang: &str,
    code: &str,
    v: &ProcedureVersion,
    typed: &Typed,
    errors: &BTreeMap<String, String>,
    done: bool,
    status: StatusCode,
) -> Response {
    let levels: Vec<Value> = Level::ALL
        .iter()
        .map(|l| {
            context! {
                value => l.as_str(), label => level_label(*l, lang),
                checked => typed.levels.iter().any(|x| x == l.as_str()),
            }
        })
        .collect();
    let online: Vec<Value> = OnlineLevel::ALL
        .iter()
        .map(|o| context! { value => o.as_str(), label => online_label(*o, lang) })
        .collect();
    render(
        "admin_draft.html",
        lang,
        status,
        context! {
            at => at(lang), me => &sess.actor, csrf => &sess.csrf, nav => "procedures",
            code, version => v.version, name => &v.name, typed, errors, levels, online, done,
            failed => !errors.is_empty(),
        },
    )
}

/// `GET /quan-tri/thu-tuc/{code}/ban-nhap/{version}`: the draft editor.
pub(crate) async fn editor(
    State(s): State<AppState>,
    session: MaybeSession,
    Path((code, version)): Path<(String, String)>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let back = format!("/quan-tri/thu-tuc/{code}/ban-nhap/{version}");
    let sess = match require_admin(session, &back, lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (code, v) = match draft_for_page(&s, lang, &code, &version).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    editor_page(
        &sess,
        lang,
        &code,
        &v,
        &typed_of(&v),
        &BTreeMap::new(),
        q.xong.is_some(),
        StatusCode::OK,
    )
}

/// `POST /quan-tri/thu-tuc/{code}/ban-nhap/{version}`: saves the draft; a refused value is
/// shown next to its field with everything typed kept, and nothing is stored.
pub(crate) async fn save(
    State(s): State<AppState>,
    session: MaybeSession,
    Path((code, version)): Path<(String, String)>,
    q: Result<Query<PageQuery>, QueryRejection>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let back = format!("/quan-tri/thu-tuc/{code}/ban-nhap/{version}");
    let (sess, f) = match gate(session, &back, lang, form) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (code, v) = match draft_for_page(&s, lang, &code, &version).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let typed = typed_from(&f);
    let refused = |errors: BTreeMap<String, String>, status| {
        editor_page(&sess, lang, &code, &v, &typed, &errors, false, status)
    };
    let (edit, form_change) = match edit_of(&typed, &v) {
        Ok(x) => x,
        Err(errors) => return refused(errors, StatusCode::UNPROCESSABLE_ENTITY),
    };
    match change_draft(&s, &sess.actor, &code, v.version, edit, form_change).await {
        Ok(saved) => Redirect::to(&format!(
            "{}?xong=1{}",
            draft_path(&code, saved.version),
            lang_q(lang)
        ))
        .into_response(),
        Err(e) => {
            let (status, msg) = refusal(&e);
            let key = match e.0.field.as_deref() {
                Some(k) => k.to_string(),
                None if e.0.kind.ends_with("invalid-form-definition") => "form".into(),
                None => "general".into(),
            };
            let msg = if key == "form" {
                definition_problems(&e)
            } else {
                msg
            };
            refused(BTreeMap::from([(key, msg)]), status)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_what_the_person_changed_is_sent() {
        let mut v: ProcedureVersion = serde_json::from_value(json!({
            "code": "1.001193", "version": 2, "status": "draft", "name": "Tên ",
            "field": "Hộ tịch", "levels": ["commune"], "online_level": "partial",
            "time_limit": {"amount": 5, "unit": "working_days"}, "fee_vnd": 0,
            "documents": [{"name": "Tờ khai", "required": true}], "decision_no": "1/QĐ",
            "competent_agency": null, "workflow": {"steps": []},
            "details": {"steps": ["Bước một\ntiếp tục", "Bước hai"]}
        }))
        .unwrap();
        v.details.effective_from = NaiveDate::from_ymd_opt(2026, 1, 1);
        let mut t = typed_of(&v);
        t.name = t.name.trim().to_string();
        let (e, form) = edit_of(&t, &v).unwrap();
        assert!(e.name.is_none() && e.steps.is_none() && e.documents.is_none());
        assert!(e.legal_basis.is_none() && e.levels.is_none() && form.is_none());
        t.fee = "1.000".into();
        t.effective_from = "2026-02-01".into();
        let (e, _) = edit_of(&t, &v).unwrap();
        assert_eq!(e.fee_vnd, Some(1000));
        assert_eq!(e.effective_from, NaiveDate::from_ymd_opt(2026, 2, 1));
        t.effective_from = String::new();
        assert!(edit_of(&t, &v).unwrap_err().contains_key("effective_from"));
    }

    #[test]
    fn legal_basis_lines_round_trip() {
        let docs = vec![
            LegalDoc {
                number: "60/2014/QH13".into(),
                title: "Luật Hộ tịch".into(),
            },
            LegalDoc {
                number: String::new(),
                title: "Nghị định khác".into(),
            },
        ];
        assert_eq!(
            legal_lines(&docs),
            "60/2014/QH13 | Luật Hộ tịch\nNghị định khác"
        );
    }
}
