//! Catalogue administration pages (administrators only): `/quan-tri/thu-tuc` (procedures with
//! their published version, draft and levels), `/quan-tri/thu-tuc/{code}` (versions, the
//! history of changes with their authors, the agencies that receive it), the draft editor, the
//! comparison with the published version, and publishing. Every change goes through the same
//! functions as the API (`api::catalogue_admin`, `api::forms::parse_definition`); the pages only
//! read forms, keep what was typed and show the outcome. The editor is in `editor.rs`, the
//! comparison and publishing in `compare.rs`.

mod compare;
mod editor;
pub(crate) use compare::{compare, publish};
pub(crate) use editor::{editor, save};

use super::admin::{expired, field, lang_q, refusal, require_admin};
use super::{lang_of, local};
use crate::AppState;
use crate::api::catalogue_admin::{
    AssignAgencies, DraftEdit, draft, new_draft, parse_code, set_agencies,
};
use crate::error::ApiError;
use crate::session::{MaybeSession, Session};
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use motcua_domain::agency::AgencyKind;
use motcua_domain::procedure::{Level, OnlineLevel, ProcedureVersion, VersionStatus};
use motcua_store::ProcedureQuery;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

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
    ("tab_published", "Đã công bố"),
    ("tab_unpublished", "Chưa công bố (chỉ có bản nháp)"),
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
    (
        "first_version",
        "Thủ tục chưa có bản công bố: bản nháp này sẽ là bản công bố đầu tiên.",
    ),
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
    ("tab_published", "Published"),
    ("tab_unpublished", "Never published (draft only)"),
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
    (
        "first_version",
        "Nothing is published yet: this draft will be the first published version.",
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
    /// `1`: the procedures never published (only a draft) instead of the published ones.
    chua_cong_bo: Option<String>,
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

/// `GET /quan-tri/thu-tuc`: published procedures found by name or code, with their draft; with
/// `chua_cong_bo=1`, the procedures never published (e.g. imported without a time limit).
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
    let unpublished = q.chua_cong_bo.as_deref() == Some("1");
    let found = if unpublished {
        s.store.list_unpublished(&query).await
    } else {
        s.store.list_procedures(&query).await
    };
    let Ok(found) = found else {
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
            .or(versions.last())
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
            published: published.map(|r| r.version.version),
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
            rows, q => text, next, paged => offset > 0, unpublished,
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

/// Both languages of a page-side refusal.
fn say(vi: &str, en: &str) -> String {
    format!("{vi} / {en}")
}
