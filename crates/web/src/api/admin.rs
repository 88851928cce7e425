//! Administration of accounts and agencies (administrators only; decision 0020): accounts with
//! one or more roles in agencies, disabling, new passwords, and the agency tree. The checks and
//! changes live here once; the API handlers below and the `/quan-tri` pages both call them.
//! Every change goes to the audit trail as `admin_*` (never a password).

use crate::AppState;
use crate::auth::{Auth, hash_password};
use crate::error::ApiError;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::Utc;
use motcua_domain::agency::{Actor, Agency, AgencyKind, Role};
use motcua_domain::codes::{AdminUnitCode, AgencyCode};
use motcua_store::{Grant, StaffMember, StoreError, UserQuery, UserRecord, UserSummary};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Only administrators pass.
pub(crate) fn admin_only(a: &Actor) -> Result<(), ApiError> {
    if a.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "accounts and agencies are managed by administrators",
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Rules for input.

/// Login names: 3 to 40 characters, lowercase ASCII letters, digits, `.`, `_`, `-`, starting
/// with a letter (they are typed on phones and printed on papers).
pub(crate) fn check_username(raw: &str) -> Result<String, ApiError> {
    let u = raw.trim();
    let ok = (3..=40).contains(&u.len())
        && u.starts_with(|c: char| c.is_ascii_lowercase())
        && u.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(u.to_string())
    } else {
        Err(ApiError::invalid(
            "username",
            "a login name has 3 to 40 characters: lowercase letters a-z, digits, '.', '_' or '-', starting with a letter",
        ))
    }
}

/// Display names: not empty, at most 120 characters, no control characters.
pub(crate) fn check_name(raw: &str) -> Result<String, ApiError> {
    let n = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if n.is_empty() {
        return Err(ApiError::invalid("name", "the name must not be empty"));
    }
    if n.chars().count() > 120 || n.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "name",
            "the name has at most 120 characters and no control characters",
        ));
    }
    Ok(n)
}

/// Passwords: 10 to 200 characters with at least three of lowercase, uppercase, digits and
/// other characters, and not containing the login name.
pub(crate) fn check_password(pw: &str, username: &str) -> Result<(), ApiError> {
    let classes = [
        pw.chars().any(|c| c.is_lowercase()),
        pw.chars().any(|c| c.is_uppercase()),
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    let n = pw.chars().count();
    if !(10..=200).contains(&n) || classes < 3 {
        return Err(ApiError::invalid(
            "password",
            "a password has 10 to 200 characters with at least three of: lowercase letters, uppercase letters, digits, other characters",
        ));
    }
    if !username.is_empty() && pw.to_lowercase().contains(&username.to_lowercase()) {
        return Err(ApiError::invalid(
            "password",
            "the password must not contain the login name",
        ));
    }
    Ok(())
}

/// A role in an agency, as typed.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantInput {
    /// `citizen`, `desk_officer`, `specialist`, `leader` or `admin`.
    pub role: String,
    /// Agency code, for staff roles (desk officer, specialist, leader); none for the others.
    #[serde(default)]
    #[schema(example = "H40.24781")]
    pub agency: Option<String>,
}

/// Checks a grant: a known role; staff roles in an existing agency, other roles in none.
pub(crate) async fn check_grant(s: &AppState, g: &GrantInput) -> Result<Grant, ApiError> {
    let role = Role::parse(g.role.trim()).ok_or_else(|| {
        ApiError::invalid(
            "role",
            format!(
                "unknown role `{}`: one of citizen, desk_officer, specialist, leader, admin",
                g.role
            ),
        )
    })?;
    let agency = g.agency.as_deref().map(str::trim).filter(|a| !a.is_empty());
    match (role.is_staff(), agency) {
        (true, None) => Err(ApiError::invalid(
            "agency",
            format!("the role {} needs an agency", role.as_str()),
        )),
        (false, Some(_)) => Err(ApiError::invalid(
            "agency",
            format!("the role {} has no agency", role.as_str()),
        )),
        (false, None) => Ok(Grant { role, agency: None }),
        (true, Some(a)) => {
            let code: AgencyCode = a
                .parse()
                .map_err(|e| ApiError::invalid("agency", format!("{e}")))?;
            if s.store.agency(&code).await?.is_none() {
                return Err(ApiError::invalid(
                    "agency",
                    format!("no agency with the code {code}"),
                ));
            }
            Ok(Grant {
                role,
                agency: Some(code),
            })
        }
    }
}

async fn audit(s: &AppState, by: &Actor, action: &str, detail: String) {
    let entry = motcua_store::AuditEntry {
        at: Utc::now(),
        user_id: Some(by.user_id),
        username: by.name.clone(),
        action: action.to_string(),
        dossier_id: None,
        detail,
    };
    if let Err(e) = s.store.append_audit(entry).await {
        tracing::error!(error = %e, "audit trail write failed");
    }
}

fn grant_text(g: &Grant) -> String {
    match &g.agency {
        Some(a) => format!("{}@{a}", g.role.as_str()),
        None => g.role.as_str().to_string(),
    }
}

async fn summary(s: &AppState, id: Uuid) -> Result<UserSummary, ApiError> {
    s.store
        .user_summary(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such user"))
}

// ---------------------------------------------------------------------------------------------
// Accounts: the operations.

/// A new account.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Login name (see docs/api.md for the rules).
    pub username: String,
    /// Display name.
    pub name: String,
    /// Initial password (10+ characters, three kinds of characters).
    pub password: String,
    /// One or more roles; the first is the default.
    pub grants: Vec<GrantInput>,
}

/// Creates an account (409 when the login name is taken, 422 for bad fields; nothing stored
/// then).
pub(crate) async fn create_user(
    s: &AppState,
    by: &Actor,
    req: NewUser,
) -> Result<UserSummary, ApiError> {
    let username = check_username(&req.username)?;
    let name = check_name(&req.name)?;
    check_password(&req.password, &username)?;
    if req.grants.is_empty() || req.grants.len() > 20 {
        return Err(ApiError::invalid(
            "grants",
            "an account holds 1 to 20 roles",
        ));
    }
    let mut grants: Vec<Grant> = Vec::new();
    for g in &req.grants {
        let g = check_grant(s, g).await?;
        if grants.contains(&g) {
            return Err(ApiError::invalid(
                "grants",
                format!("the role {} is listed twice", grant_text(&g)),
            ));
        }
        grants.push(g);
    }
    let id = Uuid::new_v4();
    let hash = {
        let pw = req.password;
        tokio::task::spawn_blocking(move || hash_password(&pw))
            .await
            .map_err(ApiError::internal)?
    };
    let user = UserRecord {
        id,
        username: username.clone(),
        password_hash: hash,
        name,
        role: grants[0].role,
        agency: grants[0].agency.clone(),
        disabled: false,
    };
    let detail = format!(
        "{username}: {}",
        grants.iter().map(grant_text).collect::<Vec<_>>().join(", ")
    );
    s.store
        .create_user_with_grants(user, grants)
        .await
        .map_err(|e| match e {
            StoreError::Duplicate(_) => ApiError::new(
                StatusCode::CONFLICT,
                "username-taken",
                "Login name taken",
                format!("the login name `{username}` is taken"),
            )
            .field("username"),
            e => e.into(),
        })?;
    audit(s, by, "admin_create_user", detail).await;
    summary(s, id).await
}

/// Renames an account.
pub(crate) async fn rename_user(
    s: &AppState,
    by: &Actor,
    id: Uuid,
    name: &str,
) -> Result<UserSummary, ApiError> {
    let name = check_name(name)?;
    let before = summary(s, id).await?;
    s.store.rename_user(id, name.clone(), Utc::now()).await?;
    s.forget_user(id);
    audit(
        s,
        by,
        "admin_rename_user",
        format!("{}: {} -> {name}", before.username, before.name),
    )
    .await;
    summary(s, id).await
}

/// Adds a role (409 if held already).
pub(crate) async fn add_grant(
    s: &AppState,
    by: &Actor,
    id: Uuid,
    g: &GrantInput,
) -> Result<UserSummary, ApiError> {
    let before = summary(s, id).await?;
    let g = check_grant(s, g).await?;
    s.store
        .add_grant(id, g.clone(), Utc::now())
        .await
        .map_err(|e| match e {
            StoreError::Duplicate(_) => ApiError::new(
                StatusCode::CONFLICT,
                "grant-held",
                "Role held already",
                format!("{} holds {} already", before.username, grant_text(&g)),
            ),
            e => e.into(),
        })?;
    audit(
        s,
        by,
        "admin_grant",
        format!("{}: + {}", before.username, grant_text(&g)),
    )
    .await;
    summary(s, id).await
}

/// Removes a role (404 if not held, 422 for the last one). Sessions acting as it end.
pub(crate) async fn remove_grant(
    s: &AppState,
    by: &Actor,
    id: Uuid,
    g: &GrantInput,
) -> Result<UserSummary, ApiError> {
    let before = summary(s, id).await?;
    let g = check_grant(s, g).await?;
    if !before.grants.contains(&g) {
        return Err(ApiError::not_found(format!(
            "{} does not hold {}",
            before.username,
            grant_text(&g)
        )));
    }
    if before.grants.len() == 1 {
        return Err(ApiError::invalid(
            "role",
            "the last role of an account cannot be removed: disable the account instead",
        ));
    }
    s.store.remove_grant(id, g.clone(), Utc::now()).await?;
    s.forget_user(id);
    audit(
        s,
        by,
        "admin_revoke",
        format!("{}: - {}", before.username, grant_text(&g)),
    )
    .await;
    summary(s, id).await
}

/// Disables or enables an account; disabling ends its sessions and tokens at once. An
/// administrator cannot disable their own account (someone must be left to undo it).
pub(crate) async fn set_disabled(
    s: &AppState,
    by: &Actor,
    id: Uuid,
    disabled: bool,
) -> Result<UserSummary, ApiError> {
    if disabled && id == by.user_id {
        return Err(ApiError::invalid(
            "id",
            "you cannot disable your own account",
        ));
    }
    let before = summary(s, id).await?;
    s.store.set_user_disabled(id, disabled, Utc::now()).await?;
    s.forget_user(id);
    audit(
        s,
        by,
        if disabled {
            "admin_disable"
        } else {
            "admin_enable"
        },
        before.username,
    )
    .await;
    summary(s, id).await
}

/// Sets a new password; the user's sessions and tokens end.
pub(crate) async fn set_password(
    s: &AppState,
    by: &Actor,
    id: Uuid,
    password: String,
) -> Result<UserSummary, ApiError> {
    let before = summary(s, id).await?;
    check_password(&password, &before.username)?;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(ApiError::internal)?;
    s.store.set_password(id, hash, Utc::now()).await?;
    s.forget_user(id);
    audit(s, by, "admin_password", before.username).await;
    summary(s, id).await
}

// ---------------------------------------------------------------------------------------------
// Agencies: the operations.

/// An agency in the tree, with its depth (0 for the roots).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AgencyNode {
    /// The agency.
    pub agency: Agency,
    /// Depth in the tree.
    pub depth: u32,
}

/// Every agency in tree order (parents before children, siblings by code).
pub(crate) async fn agency_tree(s: &AppState) -> Result<Vec<AgencyNode>, ApiError> {
    let all = s.store.agencies().await?;
    let codes: std::collections::HashSet<&AgencyCode> = all.iter().map(|a| &a.code).collect();
    let mut children: std::collections::BTreeMap<Option<&AgencyCode>, Vec<&Agency>> =
        Default::default();
    for a in &all {
        let parent = a.parent.as_ref().filter(|p| codes.contains(p));
        children.entry(parent).or_default().push(a);
    }
    let mut out = Vec::with_capacity(all.len());
    let mut stack: Vec<(&Agency, u32)> = children
        .get(&None)
        .map(|v| v.iter().rev().map(|a| (*a, 0)).collect())
        .unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    while let Some((a, depth)) = stack.pop() {
        if !seen.insert(&a.code) {
            continue;
        }
        out.push(AgencyNode {
            agency: a.clone(),
            depth,
        });
        if let Some(kids) = children.get(&Some(&a.code)) {
            stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
        }
    }
    // Agencies caught in a cycle (not reachable from a root) are still listed.
    for a in &all {
        if !seen.contains(&a.code) {
            out.push(AgencyNode {
                agency: a.clone(),
                depth: 0,
            });
        }
    }
    Ok(out)
}

/// A new agency.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgency {
    /// Electronic ID code (QCVN 102:2016), e.g. `H40.24781`.
    pub code: String,
    /// Name with diacritics.
    pub name: String,
    /// `provincial_committee`, `service_centre`, `department` or `commune_committee`.
    pub kind: String,
    /// Parent agency code.
    #[serde(default)]
    pub parent: Option<String>,
    /// Administrative unit served (2 or 5 digits).
    #[serde(default)]
    pub admin_unit: Option<String>,
    /// Whether it has a one-stop desk that receives dossiers.
    #[serde(default)]
    pub has_desk: bool,
}

/// Changes to an agency (its code never changes: dossiers and accounts refer to it).
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgencyPatch {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New parent code; `""` removes the parent.
    #[serde(default)]
    pub parent: Option<String>,
    /// New administrative unit; `""` removes it.
    #[serde(default)]
    pub admin_unit: Option<String>,
    /// Whether it has a one-stop desk.
    #[serde(default)]
    pub has_desk: Option<bool>,
}

fn check_agency_name(raw: &str) -> Result<String, ApiError> {
    check_name(raw)
        .map_err(|e| ApiError::invalid("name", e.detail().replace("the name", "the agency's name")))
}

fn parse_kind(raw: &str) -> Result<AgencyKind, ApiError> {
    serde_json::from_value(serde_json::Value::String(raw.trim().to_string())).map_err(|_| {
        ApiError::invalid(
            "kind",
            format!(
                "unknown kind `{raw}`: one of provincial_committee, service_centre, department, commune_committee"
            ),
        )
    })
}

async fn parse_parent(
    s: &AppState,
    raw: Option<&str>,
    own: &AgencyCode,
) -> Result<Option<AgencyCode>, ApiError> {
    let Some(p) = raw.map(str::trim).filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let code: AgencyCode = p
        .parse()
        .map_err(|e| ApiError::invalid("parent", format!("{e}")))?;
    if &code == own {
        return Err(ApiError::invalid(
            "parent",
            "an agency is not its own parent",
        ));
    }
    let all = s.store.agencies().await?;
    if !all.iter().any(|a| a.code == code) {
        return Err(ApiError::invalid(
            "parent",
            format!("no agency with the code {code}"),
        ));
    }
    // The new parent must not sit below the agency (no cycles).
    let mut at = Some(code.clone());
    let mut steps = 0;
    while let Some(c) = at {
        if &c == own {
            return Err(ApiError::invalid(
                "parent",
                "the parent would sit below the agency itself",
            ));
        }
        steps += 1;
        if steps > all.len() {
            break;
        }
        at = all
            .iter()
            .find(|a| a.code == c)
            .and_then(|a| a.parent.clone());
    }
    Ok(Some(code))
}

fn parse_unit(raw: Option<&str>) -> Result<Option<AdminUnitCode>, ApiError> {
    raw.map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| {
            u.parse()
                .map_err(|e| ApiError::invalid("admin_unit", format!("{e}")))
        })
        .transpose()
}

/// Creates an agency (409 when the code exists, 422 for bad fields).
pub(crate) async fn create_agency(
    s: &AppState,
    by: &Actor,
    req: NewAgency,
) -> Result<Agency, ApiError> {
    let code: AgencyCode = req
        .code
        .parse()
        .map_err(|e| ApiError::invalid("code", format!("{e}")))?;
    let name = check_agency_name(&req.name)?;
    let kind = parse_kind(&req.kind)?;
    let parent = parse_parent(s, req.parent.as_deref(), &code).await?;
    let admin_unit = parse_unit(req.admin_unit.as_deref())?;
    if s.store.agency(&code).await?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "agency-exists",
            "Agency exists",
            format!("an agency with the code {code} exists"),
        )
        .field("code"));
    }
    let a = Agency {
        code: code.clone(),
        name,
        kind,
        parent,
        admin_unit,
        has_desk: req.has_desk,
    };
    s.store.upsert_agencies(vec![a.clone()]).await?;
    audit(s, by, "admin_create_agency", format!("{code}: {}", a.name)).await;
    Ok(a)
}

/// Edits an agency's name, parent, administrative unit or desk.
pub(crate) async fn edit_agency(
    s: &AppState,
    by: &Actor,
    code: &AgencyCode,
    p: AgencyPatch,
) -> Result<Agency, ApiError> {
    let mut a = s
        .store
        .agency(code)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no agency with the code {code}")))?;
    let mut changed = Vec::new();
    if let Some(n) = &p.name {
        a.name = check_agency_name(n)?;
        changed.push(format!("name={}", a.name));
    }
    if let Some(parent) = &p.parent {
        a.parent = parse_parent(s, Some(parent), code).await?;
        changed.push(format!(
            "parent={}",
            a.parent.as_ref().map(|p| p.to_string()).unwrap_or_default()
        ));
    }
    if let Some(u) = &p.admin_unit {
        a.admin_unit = parse_unit(Some(u))?;
        changed.push(format!(
            "admin_unit={}",
            a.admin_unit
                .as_ref()
                .map(|u| u.to_string())
                .unwrap_or_default()
        ));
    }
    if let Some(d) = p.has_desk {
        a.has_desk = d;
        changed.push(format!("has_desk={d}"));
    }
    if changed.is_empty() {
        return Err(ApiError::invalid(
            "body",
            "name, parent, admin_unit or has_desk to change",
        ));
    }
    s.store.upsert_agencies(vec![a.clone()]).await?;
    audit(
        s,
        by,
        "admin_edit_agency",
        format!("{code}: {}", changed.join(", ")),
    )
    .await;
    Ok(a)
}

// ---------------------------------------------------------------------------------------------
// The JSON API.

/// Filters of the account list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserListParams {
    /// Words of the name or login name (diacritics optional).
    pub q: Option<String>,
    /// Only holders of this role.
    pub role: Option<String>,
    /// Only holders of a role in this agency.
    pub agency: Option<String>,
    /// The page after this login name (`next_after` of the previous page).
    pub after: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

impl UserListParams {
    /// The store query (422 for a bad role or agency code).
    pub(crate) fn query(&self) -> Result<UserQuery, ApiError> {
        let nonempty = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(String::from)
        };
        Ok(UserQuery {
            search: nonempty(&self.q),
            role: nonempty(&self.role)
                .map(|r| {
                    Role::parse(&r)
                        .ok_or_else(|| ApiError::invalid("role", format!("unknown role `{r}`")))
                })
                .transpose()?,
            agency: nonempty(&self.agency)
                .map(|a| {
                    a.parse()
                        .map_err(|e| ApiError::invalid("agency", format!("{e}")))
                })
                .transpose()?,
            after: nonempty(&self.after),
            limit: self.limit.unwrap_or(50).clamp(1, 200),
        })
    }
}

/// A page of accounts.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UserPage {
    /// Accounts by login name.
    pub items: Vec<UserSummary>,
    /// `after` for the next page, if there may be one.
    pub next_after: Option<String>,
}

fn user_id(p: Result<Path<String>, PathRejection>) -> Result<Uuid, ApiError> {
    let Path(raw) = p?;
    raw.parse().map_err(|_| ApiError::not_found("no such user"))
}

/// Lists accounts (keyset pages by login name).
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", params(UserListParams), security(("bearer" = [])),
    responses((status = 200, body = UserPage), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn list_users(
    State(s): State<AppState>,
    Auth(a): Auth,
    q: Result<Query<UserListParams>, QueryRejection>,
) -> Result<Json<UserPage>, ApiError> {
    admin_only(&a)?;
    let Query(p) = q?;
    let q = p.query()?;
    let items = s.store.list_users(&q).await?;
    let next_after = (items.len() == q.limit as usize)
        .then(|| items.last().map(|u| u.username.clone()))
        .flatten();
    Ok(Json(UserPage { items, next_after }))
}

/// Creates an account with one or more roles.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", request_body = NewUser, security(("bearer" = [])),
    responses((status = 201, body = UserSummary), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn post_user(
    State(s): State<AppState>,
    Auth(a): Auth,
    body: Result<Json<NewUser>, JsonRejection>,
) -> Result<(StatusCode, Json<UserSummary>), ApiError> {
    admin_only(&a)?;
    let Json(req) = body?;
    Ok((StatusCode::CREATED, Json(create_user(&s, &a, req).await?)))
}

/// One account.
#[utoipa::path(get, path = "/api/v1/admin/users/{id}", tag = "admin", params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = UserSummary), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)))]
pub async fn get_user(
    State(s): State<AppState>,
    Auth(a): Auth,
    p: Result<Path<String>, PathRejection>,
) -> Result<Json<UserSummary>, ApiError> {
    admin_only(&a)?;
    Ok(Json(summary(&s, user_id(p)?).await?))
}

/// Changes to an account.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New display name.
    pub name: String,
}

/// Renames an account.
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "admin", params(("id" = Uuid, Path)), request_body = UserPatch, security(("bearer" = [])),
    responses((status = 200, body = UserSummary), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn patch_user(
    State(s): State<AppState>,
    Auth(a): Auth,
    p: Result<Path<String>, PathRejection>,
    body: Result<Json<UserPatch>, JsonRejection>,
) -> Result<Json<UserSummary>, ApiError> {
    admin_only(&a)?;
    let id = user_id(p)?;
    let Json(req) = body?;
    Ok(Json(rename_user(&s, &a, id, &req.name).await?))
}

/// Adds a role in an agency.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/grants", tag = "admin", params(("id" = Uuid, Path)), request_body = GrantInput, security(("bearer" = [])),
    responses((status = 200, body = UserSummary), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn post_grant(
    State(s): State<AppState>,
    Auth(a): Auth,
    p: Result<Path<String>, PathRejection>,
    body: Result<Json<GrantInput>, JsonRejection>,
) -> Result<Json<UserSummary>, ApiError> {
    admin_only(&a)?;
    let id = user_id(p)?;
    let Json(g) = body?;
    Ok(Json(add_grant(&s, &a, id, &g).await?))
}

/// Removes a role (`?role=...&agency=...`); not the last one.
#[utoipa::path(delete, path = "/api/v1/admin/users/{id}/grants", tag = "admin",
    params(("id" = Uuid, Path), ("role" = String, Query), ("agency" = Option<String>, Query)), security(("bearer" = [])),
    responses((status = 200, body = UserSummary), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn delete_grant(
    State(s): State<AppState>,
    Auth(a): Auth,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<GrantInput>, QueryRejection>,
) -> Result<Json<UserSummary>, ApiError> {
    admin_only(&a)?;
    let id = user_id(p)?;
    let Query(g) = q?;
    Ok(Json(remove_grant(&s, &a, id, &g).await?))
}

/// Disables an account: it cannot sign in and its sessions and tokens stop working.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/disable", tag = "admin", params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = UserSummary), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn disable(
    State(s): State<AppState>,
    Auth(a): Auth,
    p: Result<Path<String>, PathRejection>,
) -> Result<Json<UserSummary>, ApiError> {
    admin_only(&a)?;
    let id = user_id(p)?;
    Ok(Json(set_disabled(&s, &a, id, true).await?))
}

/// Enables a disabled account again.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/enable", tag = "admin", params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = UserSummary), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)))]
pub async fn enable(
    State(s): State<AppState>,
    Auth(a): Auth,
    p: Result<Path<String>, PathRejection>,
) -> Result<Json<UserSummary>, ApiError> {
    admin_only(&a)?;
    let id = user_id(p)?;
    Ok(Json(set_disabled(&s, &a, id, false).await?))
}

/// A new password.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// The password (10+ characters, three kinds of characters).
    pub password: String,
}

/// Sets a new password; the user's sessions and tokens end.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/password", tag = "admin", params(("id" = Uuid, Path)), request_body = NewPassword, security(("bearer" = [])),
    responses((status = 200, body = UserSummary), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn password(
    State(s): State<AppState>,
    Auth(a): Auth,
    p: Result<Path<String>, PathRejection>,
    body: Result<Json<NewPassword>, JsonRejection>,
) -> Result<Json<UserSummary>, ApiError> {
    admin_only(&a)?;
    let id = user_id(p)?;
    let Json(req) = body?;
    Ok(Json(set_password(&s, &a, id, req.password).await?))
}

/// Every agency as a tree (parents first, with depths).
#[utoipa::path(get, path = "/api/v1/admin/agencies", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Vec<AgencyNode>), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
pub async fn list_agencies(
    State(s): State<AppState>,
    Auth(a): Auth,
) -> Result<Json<Vec<AgencyNode>>, ApiError> {
    admin_only(&a)?;
    Ok(Json(agency_tree(&s).await?))
}

/// Creates an agency (e.g. a new commune's desk).
#[utoipa::path(post, path = "/api/v1/admin/agencies", tag = "admin", request_body = NewAgency, security(("bearer" = [])),
    responses((status = 201, body = Agency), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn post_agency(
    State(s): State<AppState>,
    Auth(a): Auth,
    body: Result<Json<NewAgency>, JsonRejection>,
) -> Result<(StatusCode, Json<Agency>), ApiError> {
    admin_only(&a)?;
    let Json(req) = body?;
    Ok((StatusCode::CREATED, Json(create_agency(&s, &a, req).await?)))
}

/// Changes an agency's name, parent, administrative unit or desk (not its code).
#[utoipa::path(patch, path = "/api/v1/admin/agencies/{code}", tag = "admin", params(("code" = String, Path)), request_body = AgencyPatch, security(("bearer" = [])),
    responses((status = 200, body = Agency), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn patch_agency(
    State(s): State<AppState>,
    Auth(a): Auth,
    p: Result<Path<String>, PathRejection>,
    body: Result<Json<AgencyPatch>, JsonRejection>,
) -> Result<Json<Agency>, ApiError> {
    admin_only(&a)?;
    let Path(raw) = p?;
    let code: AgencyCode = raw
        .parse()
        .map_err(|_| ApiError::not_found(format!("no agency with the code {raw}")))?;
    let Json(req) = body?;
    Ok(Json(edit_agency(&s, &a, &code, req).await?))
}

/// Which staff to list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StaffParams {
    /// `specialist` (default), `desk_officer` or `leader`.
    pub role: Option<String>,
}

/// Whether `a` may see who works at `agency`: its leaders and administrators.
pub(crate) fn may_list_staff(a: &Actor, agency: &AgencyCode) -> bool {
    a.role == Role::Admin || a.is(Role::Leader, agency)
}

/// The enabled staff holding a role in an agency (whom a leader can assign).
#[utoipa::path(get, path = "/api/v1/agencies/{code}/staff", tag = "catalogue", params(("code" = String, Path), StaffParams), security(("bearer" = [])),
    responses((status = 200, body = Vec<StaffMember>), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn agency_staff(
    State(s): State<AppState>,
    Auth(a): Auth,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<StaffParams>, QueryRejection>,
) -> Result<Json<Vec<StaffMember>>, ApiError> {
    let Path(raw) = p?;
    let code = match raw.parse::<AgencyCode>() {
        Ok(c) if may_list_staff(&a, &c) => c,
        _ => {
            return Err(ApiError::forbidden(
                "the staff of an agency are listed for its leaders and administrators",
            ));
        }
    };
    let Query(q) = q?;
    let role = match q.role.as_deref().map(str::trim) {
        None | Some("") => Role::Specialist,
        Some(r) => Role::parse(r).filter(|r| r.is_staff()).ok_or_else(|| {
            ApiError::invalid(
                "role",
                format!("`{r}`: one of specialist, desk_officer, leader"),
            )
        })?,
    };
    if s.store.agency(&code).await?.is_none() {
        return Err(ApiError::not_found(format!(
            "no agency with the code {code}"
        )));
    }
    Ok(Json(s.store.agency_staff(&code, role).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use motcua_store::AuditQuery;

    #[test]
    fn login_names_names_and_passwords_follow_the_rules() {
        assert_eq!(check_username(" tran.hai_2 ").unwrap(), "tran.hai_2");
        for bad in ["ab", "2abc", "Tran", "trần", "a b c", &"a".repeat(41)] {
            assert!(check_username(bad).is_err(), "{bad}");
        }
        assert_eq!(check_name("  Trần   Văn  Hải ").unwrap(), "Trần Văn Hải");
        assert!(check_name("   ").is_err());
        assert!(check_name(&"á".repeat(121)).is_err());
        assert!(check_password("Mot-cua@2026", "tran.hai").is_ok());
        for bad in ["short1A!", "alllowercase", "ALLUPPER123", "1234567890!"] {
            assert!(check_password(bad, "x.y").is_err(), "{bad}");
        }
        assert!(
            check_password("Tran.Hai-2026", "tran.hai").is_err(),
            "contains the login"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_change_is_audited_and_no_password_is() {
        let store = motcua_store::Store::open("sqlite::memory:").await.unwrap();
        let ward: AgencyCode = "H40.24781".parse().unwrap();
        store
            .upsert_agencies(vec![Agency {
                code: ward.clone(),
                name: "UBND Phường Xuân Hương".into(),
                kind: AgencyKind::CommuneCommittee,
                parent: None,
                admin_unit: None,
                has_desk: true,
            }])
            .await
            .unwrap();
        let s = AppState::new(store.clone());
        let admin = Actor {
            user_id: Uuid::new_v4(),
            name: "Quản trị".into(),
            role: Role::Admin,
            agency: None,
        };
        let g = |role: &str| GrantInput {
            role: role.into(),
            agency: Some(ward.to_string()),
        };
        let (first, second) = ("Bi-mat@2026x", "Mat-khau-moi-2026");
        let u = create_user(
            &s,
            &admin,
            NewUser {
                username: "kiem.toan".into(),
                name: "Kiểm Toán".into(),
                password: first.into(),
                grants: vec![g("specialist")],
            },
        )
        .await
        .unwrap();
        rename_user(&s, &admin, u.id, "Kiểm Toán Viên")
            .await
            .unwrap();
        add_grant(&s, &admin, u.id, &g("leader")).await.unwrap();
        remove_grant(&s, &admin, u.id, &g("leader")).await.unwrap();
        set_disabled(&s, &admin, u.id, true).await.unwrap();
        set_disabled(&s, &admin, u.id, false).await.unwrap();
        set_password(&s, &admin, u.id, second.into()).await.unwrap();
        create_agency(
            &s,
            &admin,
            NewAgency {
                code: "H40.24800".into(),
                name: "UBND Xã Tà Nung".into(),
                kind: "commune_committee".into(),
                parent: Some(ward.to_string()),
                admin_unit: None,
                has_desk: true,
            },
        )
        .await
        .unwrap();
        edit_agency(
            &s,
            &admin,
            &"H40.24800".parse().unwrap(),
            AgencyPatch {
                name: Some("UBND Xã Tà Nung mới".into()),
                ..AgencyPatch::default()
            },
        )
        .await
        .unwrap();
        // Refusals change nothing and write nothing.
        assert!(set_password(&s, &admin, u.id, "yeu".into()).await.is_err());
        let lines = store
            .audit_trail(&AuditQuery {
                dossier_id: None,
                user_id: Some(admin.user_id),
                before: None,
                limit: 100,
            })
            .await
            .unwrap();
        let actions: Vec<&str> = lines.iter().rev().map(|l| l.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "admin_create_user",
                "admin_rename_user",
                "admin_grant",
                "admin_revoke",
                "admin_disable",
                "admin_enable",
                "admin_password",
                "admin_create_agency",
                "admin_edit_agency"
            ]
        );
        for l in &lines {
            assert!(
                !l.detail.contains(first) && !l.detail.contains(second),
                "{l:?}"
            );
            assert!(l.detail.contains("kiem.toan") || l.detail.contains("H40.24800"));
        }
    }
}
