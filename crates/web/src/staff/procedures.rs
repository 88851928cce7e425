//! Catalogue administration pages (administrators only): `/quan-tri/thu-tuc` (procedures with
//! their published version, draft and levels), `/quan-tri/thu-tuc/{code}` (versions, the
//! history of changes with their authors, the agencies that receive it), the draft editor, the
//! comparison with the published version, and publishing. Every change goes through the same
//! functions as the API (`api::catalogue_admin`, `api::forms::parse_definition`); the pages only
//! read forms, keep what was typed and show the outcome.

use super::admin::{expired, field, lang_q, refusal, require_admin};
use super::{lang_of, local};
use crate::AppState;
use crate::api::catalogue_admin::{
    AssignAgencies, DraftEdit, change_draft, draft, draft_diff, new_draft, parse_code,
    publish_draft, set_agencies,
};
use crate::error::ApiError;
use crate::session::{MaybeSession, Session};
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use minijinja::{Value, context};
use motcua_domain::agency::AgencyKind;
use motcua_domain::catalogue::LegalDoc;
use motcua_domain::procedure::{
    Level, OnlineLevel, ProcedureVersion, TimeLimit, TimeUnit, VersionStatus,
};
use motcua_store::ProcedureQuery;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Procedures per page of the list.
const PAGE: u32 = 50;

const VI: &[(&str, &str)] = &[
    ("admin", "Quản trị"),
    ("procedures", "Thủ tục hành chính"),
    ("search", "Tìm theo tên hoặc mã thủ tục"),
    ("find", "Tìm"),
    ("code", "Mã"),
    ("name", "Tên thủ tục"),
    ("field", "Lĩnh vực"),
    ("published", "Bản công bố"),
    ("draft", "Bản nháp"),
    ("levels", "Cấp thực hiện"),
    ("online", "Mức độ trực tuyến"),
    ("none", "Không có"),
    ("empty", "Không có thủ tục nào."),
    ("next_page", "Trang sau"),
    ("first_page", "Về đầu danh sách"),
    ("versions", "Các phiên bản"),
    ("version", "Phiên bản"),
    ("status", "Trạng thái"),
    ("s_draft", "Bản nháp"),
    ("s_published", "Đang công bố"),
    ("s_superseded", "Đã thay thế"),
    ("decision", "Quyết định công bố"),
    ("effective", "Ngày hiệu lực"),
    ("edit", "Sửa bản nháp"),
    ("compare", "So sánh và công bố"),
    ("create_draft", "Tạo bản nháp từ bản công bố"),
    ("changes", "Lịch sử thay đổi"),
    ("when", "Thời điểm"),
    ("who", "Người thực hiện"),
    ("what", "Thay đổi"),
    ("note", "Ghi chú"),
    ("agencies", "Cơ quan tiếp nhận, giải quyết"),
    (
        "agencies_note",
        "Các cơ quan có bộ phận một cửa tiếp nhận thủ tục này (áp dụng cho bản đang công bố).",
    ),
    ("agency", "Cơ quan"),
    ("remove", "Bỏ"),
    ("add", "Thêm cơ quan"),
    ("add_button", "Thêm"),
    ("all_communes", "Thêm mọi xã, phường"),
    ("no_communes", "Bỏ mọi xã, phường"),
    ("communes_count", "xã, phường"),
    ("done", "Đã lưu"),
    ("error", "Chưa lưu được"),
    ("back", "Về thủ tục"),
    ("back_list", "Danh sách thủ tục"),
    ("editor", "Sửa bản nháp"),
    ("time_limit", "Thời hạn giải quyết"),
    ("working_days", "ngày làm việc"),
    ("working_hours", "giờ làm việc"),
    ("fee", "Phí, lệ phí (đồng)"),
    ("documents", "Thành phần hồ sơ (mỗi dòng một giấy tờ)"),
    ("steps", "Trình tự thực hiện (mỗi dòng một bước)"),
    ("where", "Nơi tiếp nhận"),
    ("legal", "Căn cứ pháp lý (mỗi dòng: số hiệu | tên văn bản)"),
    ("decision_no", "Số quyết định công bố"),
    ("effective_from", "Ngày có hiệu lực (năm-tháng-ngày)"),
    (
        "form",
        "Biểu mẫu điện tử (JSON; để trống: dùng tờ khai chung theo thành phần hồ sơ)",
    ),
    (
        "form_help",
        "Định nghĩa được kiểm tra như khi gửi qua API (docs/forms.md).",
    ),
    ("save", "Lưu bản nháp"),
    ("diff", "So sánh bản nháp với bản đang công bố"),
    ("before", "Bản đang công bố"),
    ("after", "Bản nháp"),
    ("no_changes", "Bản nháp chưa khác bản đang công bố."),
    ("publish", "Công bố"),
    (
        "confirm",
        "Tôi đã xem các thay đổi và muốn công bố bản nháp này; bản đang công bố sẽ bị thay thế.",
    ),
    (
        "publish_note",
        "Hồ sơ đã nộp giữ phiên bản thủ tục lúc nộp.",
    ),
    ("a_import_added", "Nhập từ danh mục quốc gia"),
    ("a_import_changed", "Cập nhật từ danh mục quốc gia"),
    ("a_draft_created", "Tạo bản nháp"),
    ("a_draft_edited", "Sửa bản nháp"),
    ("a_published", "Công bố"),
    ("a_agencies_assigned", "Giao cơ quan tiếp nhận"),
];

const EN: &[(&str, &str)] = &[
    ("admin", "Administration"),
    ("procedures", "Procedures"),
    ("search", "Search by name or code"),
    ("find", "Search"),
    ("code", "Code"),
    ("name", "Name"),
    ("field", "Field"),
    ("published", "Published"),
    ("draft", "Draft"),
    ("levels", "Levels"),
    ("online", "Online level"),
    ("none", "None"),
    ("empty", "No procedures."),
    ("next_page", "Next page"),
    ("first_page", "Back to the start"),
    ("versions", "Versions"),
    ("version", "Version"),
    ("status", "Status"),
    ("s_draft", "Draft"),
    ("s_published", "Published"),
    ("s_superseded", "Superseded"),
    ("decision", "Deciding document"),
    ("effective", "Effective date"),
    ("edit", "Edit the draft"),
    ("compare", "Compare and publish"),
    ("create_draft", "Create a draft from the published version"),
    ("changes", "History of changes"),
    ("when", "When"),
    ("who", "By"),
    ("what", "Change"),
    ("note", "Note"),
    ("agencies", "Receiving and deciding agencies"),
    (
        "agencies_note",
        "The agencies whose one-stop desk receives this procedure (applies to the published version).",
    ),
    ("agency", "Agency"),
    ("remove", "Remove"),
    ("add", "Add an agency"),
    ("add_button", "Add"),
    ("all_communes", "Add every commune"),
    ("no_communes", "Remove every commune"),
    ("communes_count", "communes"),
    ("done", "Saved"),
    ("error", "Not saved"),
    ("back", "Back to the procedure"),
    ("back_list", "Procedure list"),
    ("editor", "Edit the draft"),
    ("time_limit", "Time limit"),
    ("working_days", "working days"),
    ("working_hours", "working hours"),
    ("fee", "Fee (đồng)"),
    ("documents", "Documents (one per line)"),
    ("steps", "Steps (one per line)"),
    ("where", "Where to submit"),
    ("legal", "Legal basis (one per line: number | title)"),
    ("decision_no", "Deciding document number"),
    ("effective_from", "Effective date (year-month-day)"),
    (
        "form",
        "E-form (JSON; empty: the generic form built from the documents)",
    ),
    (
        "form_help",
        "Checked as when sent through the API (docs/forms.md).",
    ),
    ("save", "Save the draft"),
    ("diff", "Draft compared with the published version"),
    ("before", "Published"),
    ("after", "Draft"),
    (
        "no_changes",
        "The draft does not differ from the published version yet.",
    ),
    ("publish", "Publish"),
    (
        "confirm",
        "I have read the changes and want to publish this draft; the published version will be superseded.",
    ),
    (
        "publish_note",
        "Dossiers already submitted keep the version they were submitted under.",
    ),
    ("a_import_added", "Imported from the national catalogue"),
    ("a_import_changed", "Updated from the national catalogue"),
    ("a_draft_created", "Draft created"),
    ("a_draft_edited", "Draft edited"),
    ("a_published", "Published"),
    ("a_agencies_assigned", "Agencies assigned"),
];

fn at(lang: &str) -> Value {
    Value::from_iter(
        (if lang == "en" { EN } else { VI })
            .iter()
            .map(|(k, v)| (*k, *v)),
    )
}

fn level_label(l: Level, lang: &str) -> &'static str {
    if lang == "en" {
        l.label_en()
    } else {
        l.label_vi()
    }
}

fn online_label(o: OnlineLevel, lang: &str) -> &'static str {
    if lang == "en" {
        o.label_en()
    } else {
        o.label_vi()
    }
}

fn status_key(s: VersionStatus) -> &'static str {
    match s {
        VersionStatus::Draft => "s_draft",
        VersionStatus::Published => "s_published",
        VersionStatus::Superseded => "s_superseded",
    }
}

/// Query of the pages.
#[derive(Deserialize, Default)]
pub(crate) struct PageQuery {
    lang: Option<String>,
    q: Option<String>,
    sau: Option<String>,
    xong: Option<String>,
}

fn page_path(code: &str) -> String {
    format!("/quan-tri/thu-tuc/{code}")
}

fn draft_path(code: &str, version: u32) -> String {
    format!("/quan-tri/thu-tuc/{code}/ban-nhap/{version}")
}

fn render(name: &str, lang: &str, status: StatusCode, ctx: Value) -> Response {
    let mut r = crate::pages::render(name, lang, ctx);
    *r.status_mut() = status;
    r
}

// ---------------------------------------------------------------------------------------------
// The list.

#[derive(Serialize)]
struct ListRow {
    code: String,
    name: String,
    field: String,
    published: Option<u32>,
    draft: Option<u32>,
    levels: String,
    online: &'static str,
}

/// `GET /quan-tri/thu-tuc`: published procedures found by name or code, with their draft.
pub(crate) async fn list(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let sess = match require_admin(session, "/quan-tri/thu-tuc", lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let text: String =
        q.q.as_deref()
            .unwrap_or("")
            .trim()
            .chars()
            .take(200)
            .collect();
    let offset: u32 = q
        .sau
        .as_deref()
        .and_then(|x| x.parse().ok())
        .unwrap_or(0)
        .min(1_000_000);
    let query = ProcedureQuery {
        text: Some(text.clone()).filter(|t| !t.is_empty()),
        agency: None,
        limit: PAGE,
        offset,
    };
    let Ok(found) = s.store.list_procedures(&query).await else {
        return super::busy(lang);
    };
    let mut rows = Vec::with_capacity(found.len());
    for p in &found {
        let Ok(versions) = s.store.procedure_versions(&p.code).await else {
            return super::busy(lang);
        };
        let published = versions
            .iter()
            .find(|r| r.version.status == VersionStatus::Published);
        let draft = versions
            .iter()
            .rev()
            .find(|r| r.version.status == VersionStatus::Draft)
            .map(|r| r.version.version);
        let levels = published
            .map(|r| {
                r.version
                    .levels
                    .iter()
                    .map(|l| level_label(*l, lang))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        rows.push(ListRow {
            code: p.code.clone(),
            name: p.name.clone(),
            field: p.field.clone(),
            published: Some(p.version),
            draft,
            levels,
            online: online_label(p.online_level, lang),
        });
    }
    let next = (found.len() == PAGE as usize).then_some(offset + PAGE);
    render(
        "admin_procedures.html",
        lang,
        StatusCode::OK,
        context! {
            at => at(lang), me => &sess.actor, csrf => &sess.csrf, nav => "procedures",
            rows, q => text, next, paged => offset > 0,
        },
    )
}

// ---------------------------------------------------------------------------------------------
// One procedure: versions, changes, agencies.

#[derive(Serialize)]
struct VersionRow {
    version: u32,
    status: &'static str,
    draft: bool,
    name: String,
    decision_no: String,
    effective_from: String,
}

#[derive(Serialize)]
struct ChangeRow {
    at: String,
    version: u32,
    actor: String,
    action: String,
    note: String,
}

#[derive(Serialize)]
struct AgencyRow {
    code: String,
    name: String,
    commune: bool,
}

/// The procedure page with an optional message; `status` is the answer's status.
#[allow(clippy::too_many_arguments)]
async fn procedure_page(
    s: &AppState,
    sess: &Session,
    lang: &str,
    code: &str,
    done: bool,
    error: Option<&str>,
    picked: &str,
    status: StatusCode,
) -> Response {
    let versions = match s.store.procedure_versions(code).await {
        Ok(v) if v.is_empty() => return super::not_found(lang),
        Ok(v) => v,
        Err(_) => return super::busy(lang),
    };
    let (Ok(changes), Ok(known)) = (
        s.store.procedure_changes(code).await,
        s.store.agencies().await,
    ) else {
        return super::busy(lang);
    };
    let t = at(lang);
    let rows: Vec<VersionRow> = versions
        .iter()
        .rev()
        .map(|r| VersionRow {
            version: r.version.version,
            status: status_key(r.version.status),
            draft: r.version.status == VersionStatus::Draft,
            name: r.version.name.clone(),
            decision_no: r.version.decision_no.clone(),
            effective_from: r
                .version
                .details
                .effective_from
                .map(|d| d.format("%d/%m/%Y").to_string())
                .unwrap_or_default(),
        })
        .collect();
    let history: Vec<ChangeRow> = changes
        .iter()
        .rev()
        .take(200)
        .map(|c| ChangeRow {
            at: local(Some(c.at)),
            version: c.version,
            actor: c.actor.clone(),
            action: t
                .get_attr(&format!("a_{}", c.action))
                .ok()
                .filter(|v| !v.is_undefined())
                .map(|v| v.to_string())
                .unwrap_or_else(|| c.action.clone()),
            note: c.note.clone(),
        })
        .collect();
    let published = versions
        .iter()
        .find(|r| r.version.status == VersionStatus::Published);
    let latest = versions.last().map(|r| &r.version);
    let has_draft = latest.is_some_and(|v| v.status == VersionStatus::Draft);
    let assigned: Vec<AgencyRow> = published
        .map(|r| {
            r.receiving_agencies
                .iter()
                .map(|c| {
                    let k = known.iter().find(|k| &k.code == c);
                    AgencyRow {
                        code: c.to_string(),
                        name: k.map(|k| k.name.clone()).unwrap_or_default(),
                        commune: k.is_some_and(|k| k.kind == AgencyKind::CommuneCommittee),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let communes = assigned.iter().filter(|a| a.commune).count();
    let addable: Vec<AgencyRow> = known
        .iter()
        .filter(|k| k.has_desk && !assigned.iter().any(|a| a.code == k.code.as_str()))
        .map(|k| AgencyRow {
            code: k.code.to_string(),
            name: k.name.clone(),
            commune: k.kind == AgencyKind::CommuneCommittee,
        })
        .collect();
    let name = latest.map(|v| v.name.clone()).unwrap_or_default();
    render(
        "admin_procedure.html",
        lang,
        status,
        context! {
            at => t, me => &sess.actor, csrf => &sess.csrf, nav => "procedures",
            code, name, rows, history, assigned, addable, communes, picked,
            has_published => published.is_some(), has_draft,
            draft_version => latest.filter(|v| v.status == VersionStatus::Draft).map(|v| v.version),
            done, error,
        },
    )
}

/// `GET /quan-tri/thu-tuc/{code}`.
pub(crate) async fn procedure(
    State(s): State<AppState>,
    session: MaybeSession,
    Path(code): Path<String>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let sess = match require_admin(session, &page_path(&code), lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(code) = parse_code(&code) else {
        return super::not_found(lang);
    };
    procedure_page(
        &s,
        &sess,
        lang,
        &code,
        q.xong.is_some(),
        None,
        "",
        StatusCode::OK,
    )
    .await
}

/// The session and the form after the admin gate and the CSRF check (or the refusal).
#[allow(clippy::result_large_err)]
fn gate(
    session: MaybeSession,
    back_to: &str,
    lang: &str,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<(Session, Vec<(String, String)>), Response> {
    let sess = require_admin(session, back_to, lang)?;
    let f = form.map(|Form(f)| f).unwrap_or_default();
    let csrf = f.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str());
    if !sess.csrf_ok(csrf) {
        return Err(expired(lang));
    }
    Ok((sess, f))
}

fn one(f: &[(String, String)], k: &str) -> String {
    let m: HashMap<String, String> = f
        .iter()
        .filter(|(key, _)| key == k)
        .map(|(a, b)| (a.clone(), b.clone()))
        .collect();
    field(&m, k)
}

/// `POST /quan-tri/thu-tuc/{code}/ban-nhap`: a new draft copied from the newest version.
pub(crate) async fn create_draft(
    State(s): State<AppState>,
    session: MaybeSession,
    Path(code): Path<String>,
    q: Result<Query<PageQuery>, QueryRejection>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let (sess, _) = match gate(session, &page_path(&code), lang, form) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(code) = parse_code(&code) else {
        return super::not_found(lang);
    };
    match new_draft(&s, &sess.actor, &code, DraftEdit::default()).await {
        Ok(v) => Redirect::to(&format!(
            "{}?xong=1{}",
            draft_path(&code, v.version),
            lang_q(lang)
        ))
        .into_response(),
        Err(e) if e.status() == StatusCode::NOT_FOUND => super::not_found(lang),
        Err(e) => {
            let (status, msg) = refusal(&e);
            procedure_page(&s, &sess, lang, &code, false, Some(&msg), "", status).await
        }
    }
}

/// `POST /quan-tri/thu-tuc/{code}/co-quan`: `action` is `them` (add `agency`), `bo` (remove
/// `agency`), `moi_xa` (add every commune with a desk) or `bo_moi_xa` (remove every commune).
pub(crate) async fn agencies(
    State(s): State<AppState>,
    session: MaybeSession,
    Path(code): Path<String>,
    q: Result<Query<PageQuery>, QueryRejection>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let (sess, f) = match gate(session, &page_path(&code), lang, form) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(code) = parse_code(&code) else {
        return super::not_found(lang);
    };
    let (rec, known) = match (
        s.store.published_procedure(&code).await,
        s.store.agencies().await,
    ) {
        (Ok(Some(r)), Ok(k)) => (r, k),
        (Ok(None), _) => return super::not_found(lang),
        _ => return super::busy(lang),
    };
    let current: Vec<String> = rec
        .receiving_agencies
        .iter()
        .map(|a| a.to_string())
        .collect();
    let agency = one(&f, "agency");
    let req = match one(&f, "action").as_str() {
        "them" => Ok(AssignAgencies {
            agencies: current.iter().cloned().chain([agency.clone()]).collect(),
            all_communes: false,
        }),
        "bo" if current.contains(&agency) => Ok(AssignAgencies {
            agencies: current.iter().filter(|a| **a != agency).cloned().collect(),
            all_communes: false,
        }),
        "bo" => Err(ApiError::invalid(
            "agency",
            format!(
                "Cơ quan {agency} không được giao thủ tục này. / Agency {agency} is not assigned to this procedure."
            ),
        )),
        "moi_xa" => Ok(AssignAgencies {
            agencies: current.clone(),
            all_communes: true,
        }),
        "bo_moi_xa" => Ok(AssignAgencies {
            agencies: current
                .iter()
                .filter(|a| {
                    !known.iter().any(|k| {
                        k.code.as_str() == a.as_str() && k.kind == AgencyKind::CommuneCommittee
                    })
                })
                .cloned()
                .collect(),
            all_communes: false,
        }),
        _ => Err(ApiError::invalid(
            "action",
            "Thao tác không hợp lệ. / Unknown action.",
        )),
    };
    let outcome = match req {
        Ok(req) => set_agencies(&s, &sess.actor, &code, req).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Redirect::to(&format!(
            "{}?xong=1{}#co-quan",
            page_path(&code),
            lang_q(lang)
        ))
        .into_response(),
        Err(e) if e.status() == StatusCode::NOT_FOUND => super::not_found(lang),
        Err(e) => {
            let (status, msg) = refusal(&e);
            procedure_page(&s, &sess, lang, &code, false, Some(&msg), &agency, status).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The draft editor.

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

/// Both languages of a page-side refusal.
fn say(vi: &str, en: &str) -> String {
    format!("{vi} / {en}")
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

/// The draft `version` of `code` for a page: the 404 or 409 page when there is none.
async fn draft_for_page(
    s: &AppState,
    lang: &str,
    code: &str,
    version: &str,
) -> Result<(String, ProcedureVersion), Response> {
    let (Ok(code), Ok(version)) = (parse_code(code), version.parse::<u32>()) else {
        return Err(super::not_found(lang));
    };
    match draft(s, &code, version).await {
        Ok(r) => Ok((code, r.version)),
        Err(e) if e.status() == StatusCode::NOT_FOUND => Err(super::not_found(lang)),
        Err(e) if e.status() == StatusCode::CONFLICT => Err(crate::pages::error_page(
            StatusCode::CONFLICT,
            lang,
            if lang == "en" {
                "Not a draft"
            } else {
                "Không phải bản nháp"
            },
            if lang == "en" {
                "This version is published or superseded and cannot change. Create a draft from the procedure's page."
            } else {
                "Phiên bản này đã công bố hoặc đã bị thay thế nên không sửa được. Hãy tạo bản nháp mới từ trang thủ tục."
            },
        )),
        Err(_) => Err(super::busy(lang)),
    }
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

// ---------------------------------------------------------------------------------------------
// Comparison and publishing.

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
        Err(e) if e.status() == StatusCode::NOT_FOUND => return super::not_found(lang),
        Err(_) => return super::busy(lang),
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
