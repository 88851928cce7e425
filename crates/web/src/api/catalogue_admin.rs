//! Administrators keep the catalogue: versions of a procedure and their history, drafts
//! (create, edit, compare with the published version, publish) and the agencies that receive a
//! procedure. Every change is a new stored row attributed to its author; nothing is overwritten
//! but the draft being edited.

use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use motcua_domain::agency::{Actor, AgencyKind, Role};
use motcua_domain::catalogue::{FieldChange, LegalDoc, diff};
use motcua_domain::codes::{AgencyCode, ProcedureCode};
use motcua_domain::forms::FormDefinition;
use motcua_domain::procedure::{
    DocumentRequirement, Level, OnlineLevel, ProcedureVersion, TimeLimit, VersionStatus,
};
use motcua_domain::workflow::WorkflowDef;
use motcua_store::{ProcedureChange, ProcedureRecord};
use serde::{Deserialize, Serialize};

pub(crate) fn admin_only(actor: &Actor) -> Result<(), ApiError> {
    if actor.role != Role::Admin {
        return Err(ApiError::forbidden(
            "only administrators keep the procedure catalogue",
        ));
    }
    Ok(())
}

pub(crate) fn parse_code(code: &str) -> Result<String, ApiError> {
    code.parse::<ProcedureCode>()
        .map(|c| c.to_string())
        .map_err(|e| ApiError::invalid("code", e.to_string()))
}

fn conflict(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
}

fn change(actor: &Actor, code: &str, version: u32, action: &str, note: String) -> ProcedureChange {
    ProcedureChange {
        code: code.to_owned(),
        version,
        at: chrono::Utc::now(),
        actor: format!("{} ({})", actor.name, actor.user_id),
        action: action.into(),
        note,
    }
}

/// Every version of a procedure and every recorded change.
#[derive(Serialize, utoipa::ToSchema)]
pub struct VersionHistory {
    /// Versions, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub versions: Vec<ProcedureVersion>,
    /// Changes, oldest first.
    pub changes: Vec<ProcedureChange>,
}

/// Versions and changes of a procedure (administrators).
#[utoipa::path(get, path = "/api/v1/admin/procedures/{code}/versions", tag = "catalogue", security(("bearer" = [])),
    params(("code" = String, Path, description = "Procedure code")),
    responses((status = 200, body = VersionHistory), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn versions(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(code): Path<String>,
) -> Result<Json<VersionHistory>, ApiError> {
    admin_only(&actor)?;
    let code = parse_code(&code)?;
    let versions: Vec<ProcedureVersion> = s
        .store
        .procedure_versions(&code)
        .await?
        .into_iter()
        .map(|r| r.version)
        .collect();
    if versions.is_empty() {
        return Err(ApiError::not_found(format!("no procedure {code}")));
    }
    let changes = s.store.procedure_changes(&code).await?;
    Ok(Json(VersionHistory { versions, changes }))
}

/// Fields an administrator may set on a draft; absent fields stay as they are.
#[derive(Deserialize, Default, Clone, Debug, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftEdit {
    /// Name.
    pub name: Option<String>,
    /// Field (lĩnh vực).
    pub field: Option<String>,
    /// Online level.
    pub online_level: Option<OnlineLevel>,
    /// Legal time limit; the workflow is rebuilt in proportion when it changes.
    pub time_limit: Option<TimeLimit>,
    /// Fee in đồng.
    pub fee_vnd: Option<i64>,
    /// Document names (all required).
    pub documents: Option<Vec<String>>,
    /// Deciding document (số quyết định).
    pub decision_no: Option<String>,
    /// Effective date.
    #[schema(value_type = Option<String>, format = Date)]
    pub effective_from: Option<NaiveDate>,
    /// Steps shown to applicants.
    pub steps: Option<Vec<String>>,
    /// Where to submit.
    pub where_to_submit: Option<String>,
    /// Levels that implement it here (at least one).
    pub levels: Option<Vec<Level>>,
    /// Legal basis (căn cứ pháp lý): title and number of each document.
    pub legal_basis: Option<Vec<LegalDoc>>,
}

fn text(field: &str, v: &str, max: usize) -> Result<String, ApiError> {
    let t = motcua_domain::text::nfc(v.trim());
    if t.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("at most {max} characters"),
        ));
    }
    Ok(t)
}

/// Applies an edit, validating every value (422 names the field).
fn apply(v: &mut ProcedureVersion, e: DraftEdit) -> Result<Vec<&'static str>, ApiError> {
    let mut touched = Vec::new();
    if let Some(n) = e.name {
        let n = text("name", &n, 500)?;
        if n.is_empty() {
            return Err(ApiError::invalid("name", "must not be empty"));
        }
        v.name = n;
        touched.push("name");
    }
    if let Some(f) = e.field {
        v.field = text("field", &f, 300)?;
        touched.push("field");
    }
    if let Some(o) = e.online_level {
        v.online_level = o;
        touched.push("online_level");
    }
    if let Some(t) = e.time_limit {
        if t.amount == 0 || t.amount > 3650 {
            return Err(ApiError::invalid("time_limit", "between 1 and 3650"));
        }
        if t != v.time_limit {
            let coop = v.workflow.steps.iter().find_map(|s| match &s.agency {
                motcua_domain::workflow::StepAgency::Agency(a) => Some(a.clone()),
                _ => None,
            });
            v.workflow = WorkflowDef::standard(t.duration(), coop);
        }
        v.time_limit = t;
        touched.push("time_limit");
    }
    if let Some(f) = e.fee_vnd {
        if !(0..=1_000_000_000_000).contains(&f) {
            return Err(ApiError::invalid("fee_vnd", "between 0 and 10^12 đồng"));
        }
        v.fee_vnd = f;
        touched.push("fee_vnd");
    }
    if let Some(d) = e.documents {
        if d.len() > 100 {
            return Err(ApiError::invalid("documents", "at most 100"));
        }
        v.documents = d
            .iter()
            .map(|n| {
                text("documents", n, 500).map(|name| DocumentRequirement {
                    name,
                    required: true,
                })
            })
            .collect::<Result<_, _>>()?;
        touched.push("documents");
    }
    if let Some(d) = e.decision_no {
        v.decision_no = text("decision_no", &d, 100)?;
        touched.push("decision_no");
    }
    if let Some(d) = e.effective_from {
        v.details.effective_from = Some(d);
        touched.push("effective_from");
    }
    if let Some(st) = e.steps {
        if st.len() > 100 {
            return Err(ApiError::invalid("steps", "at most 100"));
        }
        v.details.steps = st
            .iter()
            .map(|x| text("steps", x, 5000))
            .collect::<Result<_, _>>()?;
        touched.push("steps");
    }
    if let Some(w) = e.where_to_submit {
        v.details.where_to_submit = text("where_to_submit", &w, 2000)?;
        touched.push("where_to_submit");
    }
    if let Some(mut ls) = e.levels {
        ls.sort_by_key(|l| Level::ALL.iter().position(|x| x == l));
        ls.dedup();
        if ls.is_empty() {
            return Err(ApiError::invalid("levels", "name at least one level"));
        }
        v.levels = ls;
        touched.push("levels");
    }
    if let Some(docs) = e.legal_basis {
        if docs.len() > 100 {
            return Err(ApiError::invalid("legal_basis", "at most 100"));
        }
        v.details.legal_basis = docs
            .iter()
            .map(|d| {
                let title = text("legal_basis", &d.title, 1000)?;
                if title.is_empty() {
                    return Err(ApiError::invalid(
                        "legal_basis",
                        "every document needs a title",
                    ));
                }
                Ok(LegalDoc {
                    title,
                    number: text("legal_basis", &d.number, 100)?,
                })
            })
            .collect::<Result<_, _>>()?;
        touched.push("legal_basis");
    }
    Ok(touched)
}

/// Creates a draft: a copy of the newest version with the edits applied (administrators).
#[utoipa::path(post, path = "/api/v1/admin/procedures/{code}/drafts", tag = "catalogue", security(("bearer" = [])),
    params(("code" = String, Path, description = "Procedure code")), request_body = DraftEdit,
    responses((status = 201, description = "The draft", body = Object), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create_draft(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(code): Path<String>,
    body: Result<Json<DraftEdit>, JsonRejection>,
) -> Result<(StatusCode, Json<ProcedureVersion>), ApiError> {
    admin_only(&actor)?;
    let code = parse_code(&code)?;
    let Json(edit) = body?;
    let v = new_draft(&s, &actor, &code, edit).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// Creates a draft of `code` (already parsed): a copy of the newest version with `edit`
/// applied, recorded as `draft_created` by `actor`. 409 when the newest is a draft already.
pub(crate) async fn new_draft(
    s: &AppState,
    actor: &Actor,
    code: &str,
    edit: DraftEdit,
) -> Result<ProcedureVersion, ApiError> {
    let all = s.store.procedure_versions(code).await?;
    let Some(latest) = all.last() else {
        return Err(ApiError::not_found(format!("no procedure {code}")));
    };
    if latest.version.status == VersionStatus::Draft {
        return Err(conflict(format!(
            "version {} is already a draft: edit it",
            latest.version.version
        )));
    }
    let mut v = latest.version.clone();
    v.version += 1;
    v.status = VersionStatus::Draft;
    let touched = apply(&mut v, edit)?;
    s.store
        .save_procedures(
            vec![ProcedureRecord {
                version: v.clone(),
                receiving_agencies: latest.receiving_agencies.clone(),
            }],
            vec![change(
                actor,
                code,
                v.version,
                "draft_created",
                touched.join(", "),
            )],
        )
        .await?;
    Ok(v)
}

/// The draft `version` of `code`: 404 when there is no such version, 409 when it is not a draft.
pub(crate) async fn draft(
    s: &AppState,
    code: &str,
    version: u32,
) -> Result<ProcedureRecord, ApiError> {
    let rec = s
        .store
        .procedure_versions(code)
        .await?
        .into_iter()
        .find(|r| r.version.version == version)
        .ok_or_else(|| ApiError::not_found(format!("no version {version} of {code}")))?;
    if rec.version.status != VersionStatus::Draft {
        return Err(conflict(format!(
            "version {version} of {code} is not a draft; create a new draft"
        )));
    }
    Ok(rec)
}

/// Edits a draft (administrators).
#[utoipa::path(patch, path = "/api/v1/admin/procedures/{code}/drafts/{version}", tag = "catalogue", security(("bearer" = [])),
    params(("code" = String, Path, description = "Procedure code"), ("version" = u32, Path, description = "Draft version")),
    request_body = DraftEdit,
    responses((status = 200, body = Object), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn edit_draft(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((code, version)): Path<(String, u32)>,
    body: Result<Json<DraftEdit>, JsonRejection>,
) -> Result<Json<ProcedureVersion>, ApiError> {
    admin_only(&actor)?;
    let code = parse_code(&code)?;
    let Json(edit) = body?;
    let v = change_draft(&s, &actor, &code, version, edit, None).await?;
    Ok(Json(v))
}

/// Edits the draft `version` of `code`: applies `edit` and, when `form` is given, replaces the
/// e-form (`Some(None)`: the generic form), in one stored change attributed to `actor`
/// (`draft_edited`, naming the fields touched). Nothing is stored when any value is refused.
pub(crate) async fn change_draft(
    s: &AppState,
    actor: &Actor,
    code: &str,
    version: u32,
    edit: DraftEdit,
    form: Option<Option<FormDefinition>>,
) -> Result<ProcedureVersion, ApiError> {
    let mut rec = draft(s, code, version).await?;
    let mut touched: Vec<String> = apply(&mut rec.version, edit)?
        .into_iter()
        .map(String::from)
        .collect();
    if let Some(f) = form {
        touched.push(match &f {
            Some(f) => format!("form {}", f.id),
            None => "generic form".to_string(),
        });
        rec.version.form = f;
    }
    let v = rec.version.clone();
    s.store
        .save_procedures(
            vec![rec],
            vec![change(
                actor,
                code,
                version,
                "draft_edited",
                touched.join(", "),
            )],
        )
        .await?;
    Ok(v)
}

/// What a draft changes.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DraftDiff {
    /// The published version compared against (none when nothing is published).
    pub published_version: Option<u32>,
    /// Fields that differ.
    pub changes: Vec<FieldChange>,
}

/// Compares a draft with the published version (administrators).
#[utoipa::path(get, path = "/api/v1/admin/procedures/{code}/drafts/{version}/diff", tag = "catalogue", security(("bearer" = [])),
    params(("code" = String, Path, description = "Procedure code"), ("version" = u32, Path, description = "Draft version")),
    responses((status = 200, body = DraftDiff), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn diff_draft(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((code, version)): Path<(String, u32)>,
) -> Result<Json<DraftDiff>, ApiError> {
    admin_only(&actor)?;
    let code = parse_code(&code)?;
    Ok(Json(draft_diff(&s, &code, version).await?))
}

/// What the draft `version` of `code` changes against the published version.
pub(crate) async fn draft_diff(
    s: &AppState,
    code: &str,
    version: u32,
) -> Result<DraftDiff, ApiError> {
    let d = draft(s, code, version).await?;
    let published = s.store.published_procedure(code).await?;
    Ok(match published {
        Some(p) => DraftDiff {
            published_version: Some(p.version.version),
            changes: diff(&p.version, &d.version),
        },
        None => DraftDiff {
            published_version: None,
            changes: Vec::new(),
        },
    })
}

/// Publishes a draft: it needs a deciding document, an effective date, a time limit and a valid
/// workflow; the version published before is superseded (administrators).
#[utoipa::path(post, path = "/api/v1/admin/procedures/{code}/drafts/{version}/publish", tag = "catalogue", security(("bearer" = [])),
    params(("code" = String, Path, description = "Procedure code"), ("version" = u32, Path, description = "Draft version")),
    responses((status = 200, body = Object), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn publish(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((code, version)): Path<(String, u32)>,
) -> Result<Json<ProcedureVersion>, ApiError> {
    admin_only(&actor)?;
    let code = parse_code(&code)?;
    Ok(Json(publish_draft(&s, &actor, &code, version).await?))
}

/// Publishes the draft `version` of `code` (see [`publish`]) and refreshes this node's
/// catalogue, so the public pages show it at once.
pub(crate) async fn publish_draft(
    s: &AppState,
    actor: &Actor,
    code: &str,
    version: u32,
) -> Result<ProcedureVersion, ApiError> {
    let mut rec = draft(s, code, version).await?;
    let v = &mut rec.version;
    if v.decision_no.trim().is_empty() {
        return Err(ApiError::invalid(
            "decision_no",
            "a deciding document (số quyết định) is required",
        ));
    }
    if v.details.effective_from.is_none() {
        return Err(ApiError::invalid(
            "effective_from",
            "an effective date is required",
        ));
    }
    if v.time_limit.amount == 0 {
        return Err(ApiError::invalid("time_limit", "a time limit is required"));
    }
    v.validate()
        .map_err(|e| ApiError::invalid("workflow", e.to_string()))?;
    v.status = VersionStatus::Published;
    let out = v.clone();
    let note = format!("decision {}", out.decision_no);
    s.store
        .save_procedures(
            vec![rec],
            vec![change(actor, code, version, "published", note)],
        )
        .await?;
    s.refresh_procedure(code).await?;
    Ok(out)
}

/// Agencies that receive a procedure.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignAgencies {
    /// Agency codes with a one-stop desk.
    #[serde(default)]
    pub agencies: Vec<String>,
    /// Also every commune (one procedure handled at every commune).
    #[serde(default)]
    pub all_communes: bool,
}

/// Sets the agencies that receive the published version (administrators).
#[utoipa::path(put, path = "/api/v1/admin/procedures/{code}/agencies", tag = "catalogue", security(("bearer" = [])),
    params(("code" = String, Path, description = "Procedure code")), request_body = AssignAgencies,
    responses((status = 200, body = Vec<String>), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn assign_agencies(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(code): Path<String>,
    body: Result<Json<AssignAgencies>, JsonRejection>,
) -> Result<Json<Vec<String>>, ApiError> {
    admin_only(&actor)?;
    let code = parse_code(&code)?;
    let Json(req) = body?;
    Ok(Json(set_agencies(&s, &actor, &code, req).await?))
}

/// Sets the agencies that receive the published version of `code` (each must exist and have a
/// one-stop desk; `all_communes` adds every commune with a desk), recorded as
/// `agencies_assigned` by `actor`; returns the codes now assigned.
pub(crate) async fn set_agencies(
    s: &AppState,
    actor: &Actor,
    code: &str,
    req: AssignAgencies,
) -> Result<Vec<String>, ApiError> {
    if req.agencies.len() > 10_000 {
        return Err(ApiError::invalid("agencies", "at most 10000"));
    }
    let mut rec = s
        .store
        .published_procedure(code)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no published procedure {code}")))?;
    let known = s.store.agencies().await?;
    let mut chosen: Vec<AgencyCode> = Vec::new();
    for a in &req.agencies {
        let c: AgencyCode = a.parse().map_err(|e: motcua_domain::codes::CodeError| {
            ApiError::invalid("agencies", format!("{a}: {e}"))
        })?;
        match known.iter().find(|k| k.code == c) {
            Some(k) if k.has_desk => chosen.push(c),
            Some(_) => {
                return Err(ApiError::invalid(
                    "agencies",
                    format!("{a} has no one-stop desk"),
                ));
            }
            None => return Err(ApiError::invalid("agencies", format!("unknown agency {a}"))),
        }
    }
    if req.all_communes {
        chosen.extend(
            known
                .iter()
                .filter(|k| k.kind == AgencyKind::CommuneCommittee && k.has_desk)
                .map(|k| k.code.clone()),
        );
    }
    chosen.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    chosen.dedup();
    if chosen.is_empty() {
        return Err(ApiError::invalid(
            "agencies",
            "name at least one agency or all_communes",
        ));
    }
    rec.receiving_agencies = chosen.clone();
    let version = rec.version.version;
    s.store
        .save_procedures(
            vec![rec],
            vec![change(
                actor,
                code,
                version,
                "agencies_assigned",
                format!("{} agencies", chosen.len()),
            )],
        )
        .await?;
    s.refresh_procedure(code).await?;
    Ok(chosen.iter().map(|a| a.to_string()).collect())
}
