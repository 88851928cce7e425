//! Administration pages (administrators only; decision 0020): `/quan-tri/nguoi-dung` (accounts:
//! search, create, rename, roles, disable/enable, new password) and `/quan-tri/co-quan` (the
//! agency tree: create, edit), plus `/chon-vai-tro`, where a person holding several roles picks
//! the one to act as. The rules and changes are those of the API (`api::admin`); these pages
//! only read forms and show the outcome. Every form carries the session's CSRF token.

use super::{lang_of, local, to_sign_in};
use crate::AppState;
use crate::api::admin::{
    AgencyPatch, GrantInput, NewAgency, NewUser, UserListParams, add_grant, admin_only,
    agency_tree, create_agency, create_user, edit_agency, remove_grant, rename_user, set_disabled,
    set_password,
};
use crate::error::ApiError;
use crate::session::{MaybeSession, Session};
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use motcua_domain::agency::Role;
use motcua_domain::codes::AgencyCode;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

const VI: &[(&str, &str)] = &[
    ("admin", "Quản trị"),
    ("users", "Người dùng"),
    ("agencies", "Cơ quan, đơn vị"),
    ("search", "Tìm theo tên hoặc tên đăng nhập"),
    ("role", "Vai trò"),
    ("agency", "Cơ quan"),
    ("any", "Tất cả"),
    ("none", "Không"),
    ("filter", "Lọc"),
    ("username", "Tên đăng nhập"),
    ("name", "Họ và tên"),
    ("roles", "Vai trò"),
    ("state", "Trạng thái"),
    ("active", "Đang hoạt động"),
    ("disabled", "Đã vô hiệu hóa"),
    ("next_page", "Trang sau"),
    ("first_page", "Về đầu danh sách"),
    ("empty", "Không có tài khoản nào."),
    ("create_user", "Tạo tài khoản"),
    ("password", "Mật khẩu ban đầu"),
    (
        "password_rule",
        "Ít nhất 10 ký tự, có ít nhất ba loại: chữ thường, chữ hoa, chữ số, ký tự khác; không chứa tên đăng nhập.",
    ),
    (
        "username_rule",
        "3–40 ký tự: chữ thường a-z, chữ số, dấu . _ -, bắt đầu bằng chữ cái.",
    ),
    ("second_role", "Vai trò thứ hai (không bắt buộc)"),
    ("create", "Tạo"),
    ("save", "Lưu"),
    ("rename", "Đổi tên"),
    ("add_role", "Thêm vai trò"),
    ("remove", "Bỏ"),
    ("default", "mặc định"),
    ("disable", "Vô hiệu hóa tài khoản"),
    ("enable", "Kích hoạt lại tài khoản"),
    (
        "disable_note",
        "Tài khoản bị vô hiệu hóa không đăng nhập được; mọi phiên và mã truy cập của nó chấm dứt ngay.",
    ),
    ("new_password", "Đặt mật khẩu mới"),
    (
        "password_note",
        "Mọi phiên đăng nhập của người dùng sẽ kết thúc.",
    ),
    ("updated", "Sửa lần cuối"),
    ("done", "Đã lưu"),
    ("error", "Chưa lưu được"),
    ("back_users", "Danh sách người dùng"),
    ("back_agencies", "Danh sách cơ quan"),
    ("code", "Mã định danh"),
    (
        "code_rule",
        "Mã định danh điện tử theo QCVN 102:2016, ví dụ H40.24781 hoặc 000.00.21.H40; không đổi được sau khi tạo.",
    ),
    ("kind", "Loại"),
    ("parent", "Cơ quan cấp trên"),
    ("admin_unit", "Mã đơn vị hành chính (2 hoặc 5 chữ số)"),
    ("has_desk", "Có bộ phận một cửa tiếp nhận hồ sơ"),
    ("create_agency", "Tạo cơ quan, đơn vị"),
    ("edit", "Sửa"),
    ("desk", "một cửa"),
    ("k_provincial_committee", "UBND tỉnh"),
    ("k_service_centre", "Trung tâm Phục vụ hành chính công"),
    ("k_department", "Sở, ngành"),
    ("k_commune_committee", "UBND xã, phường"),
    ("choose_role", "Chọn vai trò làm việc"),
    (
        "choose_note",
        "Tài khoản của bạn có nhiều vai trò. Mỗi lúc bạn làm việc với một vai trò tại một cơ quan; có thể đổi bất cứ lúc nào.",
    ),
    ("acting_as", "Đang làm việc với vai trò"),
    ("switch", "Chuyển sang vai trò này"),
    ("current", "đang dùng"),
];

const EN: &[(&str, &str)] = &[
    ("admin", "Administration"),
    ("users", "Users"),
    ("agencies", "Agencies"),
    ("search", "Search by name or login name"),
    ("role", "Role"),
    ("agency", "Agency"),
    ("any", "All"),
    ("none", "None"),
    ("filter", "Filter"),
    ("username", "Login name"),
    ("name", "Full name"),
    ("roles", "Roles"),
    ("state", "State"),
    ("active", "Active"),
    ("disabled", "Disabled"),
    ("next_page", "Next page"),
    ("first_page", "Back to the start"),
    ("empty", "No accounts."),
    ("create_user", "Create an account"),
    ("password", "Initial password"),
    (
        "password_rule",
        "At least 10 characters with three kinds of: lowercase, uppercase, digits, other characters; not containing the login name.",
    ),
    (
        "username_rule",
        "3–40 characters: lowercase a-z, digits, . _ -, starting with a letter.",
    ),
    ("second_role", "Second role (optional)"),
    ("create", "Create"),
    ("save", "Save"),
    ("rename", "Rename"),
    ("add_role", "Add a role"),
    ("remove", "Remove"),
    ("default", "default"),
    ("disable", "Disable the account"),
    ("enable", "Enable the account again"),
    (
        "disable_note",
        "A disabled account cannot sign in; all its sessions and access tokens end at once.",
    ),
    ("new_password", "Set a new password"),
    ("password_note", "All the user's sessions will end."),
    ("updated", "Last changed"),
    ("done", "Saved"),
    ("error", "Not saved"),
    ("back_users", "User list"),
    ("back_agencies", "Agency list"),
    ("code", "Code"),
    (
        "code_rule",
        "Electronic ID code (QCVN 102:2016), e.g. H40.24781 or 000.00.21.H40; it cannot change later.",
    ),
    ("kind", "Kind"),
    ("parent", "Parent agency"),
    ("admin_unit", "Administrative unit code (2 or 5 digits)"),
    ("has_desk", "Has a one-stop desk receiving dossiers"),
    ("create_agency", "Create an agency"),
    ("edit", "Edit"),
    ("desk", "one-stop desk"),
    ("k_provincial_committee", "Provincial People's Committee"),
    ("k_service_centre", "Public Administrative Service Centre"),
    ("k_department", "Department"),
    ("k_commune_committee", "Commune People's Committee"),
    ("choose_role", "Choose your working role"),
    (
        "choose_note",
        "Your account holds several roles. You work as one role in one agency at a time and can switch whenever you like.",
    ),
    ("acting_as", "Working as"),
    ("switch", "Switch to this role"),
    ("current", "current"),
];

fn at(lang: &str) -> Value {
    Value::from_iter(
        (if lang == "en" { EN } else { VI })
            .iter()
            .map(|(k, v)| (*k, *v)),
    )
}

fn role_label(r: Role, lang: &str) -> &'static str {
    if lang != "en" {
        return r.label_vi();
    }
    match r {
        Role::Citizen => "Citizen or business",
        Role::DeskOfficer => "One-stop desk officer",
        Role::Specialist => "Specialist",
        Role::Leader => "Leader",
        Role::Admin => "Administrator",
    }
}

/// The administrators' gate: nobody signed in goes to sign in; others get the 403 page.
#[allow(clippy::result_large_err)]
pub(super) fn require_admin(
    s: MaybeSession,
    back_to: &str,
    lang: &str,
) -> Result<Session, Response> {
    match s.0 {
        Some(s) if admin_only(&s.actor).is_ok() => Ok(s),
        Some(_) => Err(super::forbidden(lang)),
        None => Err(to_sign_in(back_to)),
    }
}

pub(super) fn expired(lang: &str) -> Response {
    let t = super::texts::get(lang);
    crate::pages::error_page(
        StatusCode::FORBIDDEN,
        lang,
        t.get("error"),
        t.get("expired_form"),
    )
}

/// A refusal as the person should read it, with its status (a store failure is "busy").
pub(super) fn refusal(e: &ApiError) -> (StatusCode, String) {
    if e.status().is_client_error() {
        (e.status(), e.detail().to_string())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "Hệ thống đang bận, vui lòng thử lại. / The system is busy, please retry.".into(),
        )
    }
}

pub(super) fn lang_q(lang: &str) -> &'static str {
    if lang == "en" { "&lang=en" } else { "" }
}

#[derive(Serialize)]
struct RoleOption {
    value: &'static str,
    label: &'static str,
}

fn role_options(lang: &str) -> Vec<RoleOption> {
    Role::ALL
        .iter()
        .map(|r| RoleOption {
            value: r.as_str(),
            label: role_label(*r, lang),
        })
        .collect()
}

#[derive(Serialize)]
struct AgencyOption {
    code: String,
    label: String,
}

async fn agency_options(s: &AppState) -> Result<Vec<AgencyOption>, ApiError> {
    Ok(agency_tree(s)
        .await?
        .into_iter()
        .map(|n| AgencyOption {
            label: format!(
                "{}{} ({})",
                "· ".repeat(n.depth as usize),
                n.agency.name,
                n.agency.code
            ),
            code: n.agency.code.to_string(),
        })
        .collect())
}

#[derive(Serialize)]
struct GrantView {
    role: &'static str,
    role_label: &'static str,
    agency: String,
    agency_name: String,
}

fn grant_views(
    grants: &[motcua_store::Grant],
    names: &HashMap<String, String>,
    lang: &str,
) -> Vec<GrantView> {
    grants
        .iter()
        .map(|g| {
            let code = g.agency.as_ref().map(|a| a.to_string()).unwrap_or_default();
            GrantView {
                role: g.role.as_str(),
                role_label: role_label(g.role, lang),
                agency_name: names.get(&code).cloned().unwrap_or_default(),
                agency: code,
            }
        })
        .collect()
}

async fn agency_names(s: &AppState) -> HashMap<String, String> {
    s.store
        .agencies()
        .await
        .map(|v| {
            v.into_iter()
                .map(|a| (a.code.to_string(), a.name))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Accounts.

/// Query of the account list.
#[derive(Deserialize, Default)]
pub(crate) struct UsersQuery {
    lang: Option<String>,
    q: Option<String>,
    vai_tro: Option<String>,
    co_quan: Option<String>,
    sau: Option<String>,
}

#[derive(Serialize)]
struct UserRow {
    id: String,
    username: String,
    name: String,
    disabled: bool,
    grants: Vec<GrantView>,
}

/// What the create form held, to show again after a refusal (never the password).
#[derive(Serialize, Default)]
struct Typed {
    username: String,
    name: String,
    role: String,
    agency: String,
    role2: String,
    agency2: String,
}

async fn users_page(
    s: &AppState,
    sess: &Session,
    lang: &str,
    q: &UsersQuery,
    typed: Typed,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let params = UserListParams {
        q: q.q.clone(),
        role: q.vai_tro.clone(),
        agency: q.co_quan.clone(),
        after: q.sau.clone(),
        limit: Some(50),
    };
    let query = match params.query() {
        Ok(x) => x,
        Err(e) => {
            let t = super::texts::get(lang);
            return crate::pages::error_page(
                StatusCode::BAD_REQUEST,
                lang,
                t.get("error"),
                e.detail(),
            );
        }
    };
    let (users, agencies) = match tokio::join!(s.store.list_users(&query), agency_options(s)) {
        (Ok(u), Ok(a)) => (u, a),
        _ => return super::busy(lang),
    };
    let names = agency_names(s).await;
    let next = (users.len() == query.limit as usize)
        .then(|| users.last().map(|u| u.username.clone()))
        .flatten();
    let rows: Vec<UserRow> = users
        .iter()
        .map(|u| UserRow {
            id: u.id.to_string(),
            username: u.username.clone(),
            name: u.name.clone(),
            disabled: u.disabled,
            grants: grant_views(&u.grants, &names, lang),
        })
        .collect();
    let mut r = crate::pages::render(
        "admin_users.html",
        lang,
        context! {
            st => super::texts::get(lang).value(),
            at => at(lang),
            me => &sess.actor,
            csrf => &sess.csrf,
            rows,
            roles => role_options(lang),
            agencies,
            q => q.q.clone().unwrap_or_default(),
            vai_tro => q.vai_tro.clone().unwrap_or_default(),
            co_quan => q.co_quan.clone().unwrap_or_default(),
            paged => q.sau.as_deref().is_some_and(|x| !x.is_empty()),
            next,
            typed,
            error,
        },
    );
    *r.status_mut() = status;
    r
}

/// `GET /quan-tri/nguoi-dung`: the account list with filters and the create form.
pub(crate) async fn users(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<UsersQuery>, QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let sess = match require_admin(session, "/quan-tri/nguoi-dung", lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    users_page(&s, &sess, lang, &q, Typed::default(), None, StatusCode::OK).await
}

pub(super) fn field(f: &HashMap<String, String>, k: &str) -> String {
    f.get(k).map(|v| v.trim().to_string()).unwrap_or_default()
}

fn grant_input(role: String, agency: String) -> GrantInput {
    GrantInput {
        role,
        agency: Some(agency).filter(|a| !a.is_empty()),
    }
}

/// `POST /quan-tri/nguoi-dung`: creates an account (one or two roles; more on its page).
pub(crate) async fn create_user_form(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<UsersQuery>, QueryRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let sess = match require_admin(session, "/quan-tri/nguoi-dung", lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let f = form.map(|Form(f)| f).unwrap_or_default();
    if !sess.csrf_ok(f.get("csrf").map(String::as_str)) {
        return expired(lang);
    }
    let typed = Typed {
        username: field(&f, "username"),
        name: field(&f, "name"),
        role: field(&f, "role"),
        agency: field(&f, "agency"),
        role2: field(&f, "role2"),
        agency2: field(&f, "agency2"),
    };
    let mut grants = vec![grant_input(typed.role.clone(), typed.agency.clone())];
    if !typed.role2.is_empty() {
        grants.push(grant_input(typed.role2.clone(), typed.agency2.clone()));
    }
    let req = NewUser {
        username: typed.username.clone(),
        name: typed.name.clone(),
        password: f.get("password").cloned().unwrap_or_default(),
        grants,
    };
    match create_user(&s, &sess.actor, req).await {
        Ok(u) => Redirect::to(&format!(
            "/quan-tri/nguoi-dung/{}?xong=1{}",
            u.id,
            lang_q(lang)
        ))
        .into_response(),
        Err(e) => {
            let (status, msg) = refusal(&e);
            users_page(&s, &sess, lang, &q, typed, Some(&msg), status).await
        }
    }
}

/// Query of one account's page.
#[derive(Deserialize, Default)]
pub(crate) struct OneQuery {
    lang: Option<String>,
    xong: Option<String>,
}

async fn user_page(
    s: &AppState,
    sess: &Session,
    lang: &str,
    id: Uuid,
    done: bool,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let u = match s.store.user_summary(id).await {
        Ok(Some(u)) => u,
        Ok(None) => return super::not_found(lang),
        Err(_) => return super::busy(lang),
    };
    let Ok(agencies) = agency_options(s).await else {
        return super::busy(lang);
    };
    let names = agency_names(s).await;
    let mut r = crate::pages::render(
        "admin_user.html",
        lang,
        context! {
            st => super::texts::get(lang).value(),
            at => at(lang),
            me => &sess.actor,
            csrf => &sess.csrf,
            u => context! {
                id => u.id.to_string(),
                username => u.username,
                name => u.name,
                disabled => u.disabled,
                updated => u.updated_at.map(|t| local(Some(t))),
            },
            grants => grant_views(&u.grants, &names, lang),
            roles => role_options(lang),
            agencies,
            done,
            error,
            myself => u.id == sess.actor.user_id,
        },
    );
    *r.status_mut() = status;
    r
}

/// `GET /quan-tri/nguoi-dung/{id}`: one account with its forms.
pub(crate) async fn user(
    State(s): State<AppState>,
    session: MaybeSession,
    Path(id): Path<String>,
    q: Result<Query<OneQuery>, QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let sess = match require_admin(session, &format!("/quan-tri/nguoi-dung/{id}"), lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<Uuid>() else {
        return super::not_found(lang);
    };
    user_page(&s, &sess, lang, id, q.xong.is_some(), None, StatusCode::OK).await
}

/// `POST /quan-tri/nguoi-dung/{id}`: one change named by `action`: `doi_ten`, `them_vai_tro`,
/// `bo_vai_tro`, `khoa`, `mo_khoa` or `mat_khau`.
pub(crate) async fn user_form(
    State(s): State<AppState>,
    session: MaybeSession,
    Path(id): Path<String>,
    q: Result<Query<OneQuery>, QueryRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let sess = match require_admin(session, &format!("/quan-tri/nguoi-dung/{id}"), lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let f = form.map(|Form(f)| f).unwrap_or_default();
    if !sess.csrf_ok(f.get("csrf").map(String::as_str)) {
        return expired(lang);
    }
    let Ok(id) = id.parse::<Uuid>() else {
        return super::not_found(lang);
    };
    let a = &sess.actor;
    let outcome = match field(&f, "action").as_str() {
        "doi_ten" => rename_user(&s, a, id, &field(&f, "name")).await,
        "them_vai_tro" => {
            add_grant(
                &s,
                a,
                id,
                &grant_input(field(&f, "role"), field(&f, "agency")),
            )
            .await
        }
        "bo_vai_tro" => {
            remove_grant(
                &s,
                a,
                id,
                &grant_input(field(&f, "role"), field(&f, "agency")),
            )
            .await
        }
        "khoa" => set_disabled(&s, a, id, true).await,
        "mo_khoa" => set_disabled(&s, a, id, false).await,
        "mat_khau" => set_password(&s, a, id, f.get("password").cloned().unwrap_or_default()).await,
        _ => Err(ApiError::invalid(
            "action",
            "Thao tác không hợp lệ. / Unknown action.",
        )),
    };
    match outcome {
        Ok(_) => Redirect::to(&format!("/quan-tri/nguoi-dung/{id}?xong=1{}", lang_q(lang)))
            .into_response(),
        Err(e) if e.status() == StatusCode::NOT_FOUND && e.detail() == "no such user" => {
            super::not_found(lang)
        }
        Err(e) => {
            let (status, msg) = refusal(&e);
            user_page(&s, &sess, lang, id, false, Some(&msg), status).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Agencies.

#[derive(Serialize)]
struct AgencyRow {
    code: String,
    name: String,
    kind: String,
    parent: String,
    admin_unit: String,
    has_desk: bool,
    depth: u32,
}

#[derive(Serialize, Default)]
struct TypedAgency {
    code: String,
    name: String,
    kind: String,
    parent: String,
    admin_unit: String,
    has_desk: bool,
}

const KINDS: [&str; 4] = [
    "provincial_committee",
    "service_centre",
    "department",
    "commune_committee",
];

#[allow(clippy::too_many_arguments)]
async fn agencies_page(
    s: &AppState,
    sess: &Session,
    lang: &str,
    edit: Option<&AgencyCode>,
    typed: TypedAgency,
    done: bool,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let tree = match agency_tree(s).await {
        Ok(t) => t,
        Err(_) => return super::busy(lang),
    };
    let rows: Vec<AgencyRow> = tree
        .iter()
        .map(|n| AgencyRow {
            code: n.agency.code.to_string(),
            name: n.agency.name.clone(),
            kind: serde_json::to_value(n.agency.kind)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            parent: n
                .agency
                .parent
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            admin_unit: n
                .agency
                .admin_unit
                .as_ref()
                .map(|u| u.to_string())
                .unwrap_or_default(),
            has_desk: n.agency.has_desk,
            depth: n.depth,
        })
        .collect();
    let editing = edit.and_then(|c| rows.iter().find(|r| r.code == c.as_str()));
    if edit.is_some() && editing.is_none() {
        return super::not_found(lang);
    }
    let mut r = crate::pages::render(
        "admin_agencies.html",
        lang,
        context! {
            st => super::texts::get(lang).value(),
            at => at(lang),
            me => &sess.actor,
            csrf => &sess.csrf,
            rows => &rows,
            editing,
            kinds => KINDS,
            typed,
            done,
            error,
        },
    );
    *r.status_mut() = status;
    r
}

/// `GET /quan-tri/co-quan`: the agency tree and the create form.
pub(crate) async fn agencies(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<OneQuery>, QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let sess = match require_admin(session, "/quan-tri/co-quan", lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let typed = TypedAgency {
        has_desk: true,
        kind: "commune_committee".into(),
        ..TypedAgency::default()
    };
    agencies_page(
        &s,
        &sess,
        lang,
        None,
        typed,
        q.xong.is_some(),
        None,
        StatusCode::OK,
    )
    .await
}

/// `POST /quan-tri/co-quan`: creates an agency.
pub(crate) async fn create_agency_form(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<OneQuery>, QueryRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let sess = match require_admin(session, "/quan-tri/co-quan", lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let f = form.map(|Form(f)| f).unwrap_or_default();
    if !sess.csrf_ok(f.get("csrf").map(String::as_str)) {
        return expired(lang);
    }
    let typed = TypedAgency {
        code: field(&f, "code"),
        name: field(&f, "name"),
        kind: field(&f, "kind"),
        parent: field(&f, "parent"),
        admin_unit: field(&f, "admin_unit"),
        has_desk: f.contains_key("has_desk"),
    };
    let req = NewAgency {
        code: typed.code.clone(),
        name: typed.name.clone(),
        kind: typed.kind.clone(),
        parent: Some(typed.parent.clone()),
        admin_unit: Some(typed.admin_unit.clone()),
        has_desk: typed.has_desk,
    };
    match create_agency(&s, &sess.actor, req).await {
        Ok(_) => Redirect::to(&format!("/quan-tri/co-quan?xong=1{}", lang_q(lang))).into_response(),
        Err(e) => {
            let (status, msg) = refusal(&e);
            agencies_page(&s, &sess, lang, None, typed, false, Some(&msg), status).await
        }
    }
}

/// `GET /quan-tri/co-quan/{code}`: the agency tree with the edit form of one agency.
pub(crate) async fn agency(
    State(s): State<AppState>,
    session: MaybeSession,
    Path(code): Path<String>,
    q: Result<Query<OneQuery>, QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let sess = match require_admin(session, &format!("/quan-tri/co-quan/{code}"), lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(code) = code.parse::<AgencyCode>() else {
        return super::not_found(lang);
    };
    agencies_page(
        &s,
        &sess,
        lang,
        Some(&code),
        TypedAgency::default(),
        q.xong.is_some(),
        None,
        StatusCode::OK,
    )
    .await
}

/// `POST /quan-tri/co-quan/{code}`: edits an agency's name, parent, unit and desk.
pub(crate) async fn agency_form(
    State(s): State<AppState>,
    session: MaybeSession,
    Path(code): Path<String>,
    q: Result<Query<OneQuery>, QueryRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let sess = match require_admin(session, &format!("/quan-tri/co-quan/{code}"), lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let f = form.map(|Form(f)| f).unwrap_or_default();
    if !sess.csrf_ok(f.get("csrf").map(String::as_str)) {
        return expired(lang);
    }
    let Ok(code) = code.parse::<AgencyCode>() else {
        return super::not_found(lang);
    };
    let patch = AgencyPatch {
        name: Some(field(&f, "name")),
        parent: Some(field(&f, "parent")),
        admin_unit: Some(field(&f, "admin_unit")),
        has_desk: Some(f.contains_key("has_desk")),
    };
    match edit_agency(&s, &sess.actor, &code, patch).await {
        Ok(_) => Redirect::to(&format!("/quan-tri/co-quan/{code}?xong=1{}", lang_q(lang)))
            .into_response(),
        Err(e) if e.status() == StatusCode::NOT_FOUND => super::not_found(lang),
        Err(e) => {
            let (status, msg) = refusal(&e);
            agencies_page(
                &s,
                &sess,
                lang,
                Some(&code),
                TypedAgency::default(),
                false,
                Some(&msg),
                status,
            )
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Choosing the role to act as.

/// `GET /chon-vai-tro`: the roles of the signed-in person, the current one marked.
pub(crate) async fn choose(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<OneQuery>, QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let Some(sess) = session.0 else {
        return to_sign_in("/chon-vai-tro");
    };
    choose_page(&s, &sess, lang, None, StatusCode::OK).await
}

async fn choose_page(
    s: &AppState,
    sess: &Session,
    lang: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let grants = match s.store.user_grants(sess.actor.user_id).await {
        Ok(g) => g,
        Err(_) => return super::busy(lang),
    };
    let names = agency_names(s).await;
    let current = grants
        .iter()
        .position(|g| g.role == sess.actor.role && g.agency == sess.actor.agency);
    let mut r = crate::pages::render(
        "choose_role.html",
        lang,
        context! {
            st => super::texts::get(lang).value(),
            at => at(lang),
            me => &sess.actor,
            csrf => &sess.csrf,
            grants => grant_views(&grants, &names, lang),
            current,
            error,
        },
    );
    *r.status_mut() = status;
    r
}

/// `POST /chon-vai-tro`: acts as another role the person holds from now on (this session
/// only), then goes to that role's home page.
pub(crate) async fn choose_submit(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<OneQuery>, QueryRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let Some(sess) = session.0 else {
        return to_sign_in("/chon-vai-tro");
    };
    let f = form.map(|Form(f)| f).unwrap_or_default();
    if !sess.csrf_ok(f.get("csrf").map(String::as_str)) {
        return expired(lang);
    }
    let grants = match s.store.user_grants(sess.actor.user_id).await {
        Ok(g) => g,
        Err(_) => return super::busy(lang),
    };
    let role = Role::parse(&field(&f, "role"));
    let agency = field(&f, "agency");
    let agency: Option<AgencyCode> = agency.parse().ok();
    let wanted = grants
        .into_iter()
        .find(|g| Some(g.role) == role && g.agency == agency);
    let Some(g) = wanted else {
        return choose_page(
            &s,
            &sess,
            lang,
            Some("Bạn không có vai trò này. / You do not hold this role."),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    if s.store
        .choose_grant(&sess.token_hash, g.clone())
        .await
        .is_err()
    {
        return super::busy(lang);
    }
    s.tokens.remove(&sess.token_hash);
    let _ = s
        .store
        .append_audit(motcua_store::AuditEntry {
            at: chrono::Utc::now(),
            user_id: Some(sess.actor.user_id),
            username: sess.actor.name.clone(),
            action: "switch_role".into(),
            dossier_id: None,
            detail: match &g.agency {
                Some(a) => format!("{}@{a}", g.role.as_str()),
                None => g.role.as_str().into(),
            },
        })
        .await;
    let home = super::home_of(g.role);
    let to = if lang == "en" {
        format!("{home}?lang=en")
    } else {
        home.to_string()
    };
    Redirect::to(&to).into_response()
}
