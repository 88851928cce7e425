//! E-form definitions over the API: the public form of a procedure, and administrators
//! replacing the form of a draft version.

use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use motcua_domain::agency::Role;
use motcua_domain::codes::ProcedureCode;
use motcua_domain::forms::FormDefinition;
use motcua_domain::procedure::ProcedureVersion;
use serde::Serialize;

/// The form applicants fill in for a procedure.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProcedureForm {
    /// Procedure code.
    pub code: String,
    /// Version the form belongs to.
    pub version: u32,
    /// True when the procedure has no form of its own and this is the generic one built from
    /// its document list.
    pub generic: bool,
    /// The definition.
    #[schema(value_type = Object)]
    pub form: FormDefinition,
}

fn parse_code(code: &str) -> Result<String, ApiError> {
    code.parse::<ProcedureCode>()
        .map(|c| c.to_string())
        .map_err(|e| ApiError::invalid("code", e.to_string()))
}

fn view(v: &ProcedureVersion) -> ProcedureForm {
    ProcedureForm {
        code: v.code.to_string(),
        version: v.version,
        generic: v.form.is_none(),
        form: v.form_or_generic().into_owned(),
    }
}

/// The e-form of the published version of a procedure (public): its own, or the generic form
/// built from its documents.
#[utoipa::path(get, path = "/api/v1/procedures/{code}/form", tag = "catalogue",
    params(("code" = String, Path, description = "Procedure code, e.g. 1.001193")),
    responses((status = 200, body = ProcedureForm), (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn procedure_form(
    State(s): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<ProcedureForm>, ApiError> {
    let code = parse_code(&code)?;
    let rec = s
        .published_procedure(&code)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no published procedure {code}")))?;
    Ok(Json(view(&rec.version)))
}

/// Replaces the e-form of a draft version (administrators). The body is the definition as
/// JSON, or `null` to fall back to the generic form. A definition that does not check out is
/// refused with 422 and every problem in `errors`.
#[utoipa::path(put, path = "/api/v1/admin/procedures/{code}/drafts/{version}/form", tag = "catalogue", security(("bearer" = [])),
    params(("code" = String, Path, description = "Procedure code"), ("version" = u32, Path, description = "Draft version")),
    request_body(content = Object, description = "Form definition (see docs/forms.md), or null"),
    responses((status = 200, body = ProcedureForm), (status = 400, body = crate::error::Problem),
        (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 415, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn put_draft_form(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((code, version)): Path<(String, u32)>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Json<ProcedureForm>, ApiError> {
    if actor.role != Role::Admin {
        return Err(ApiError::forbidden(
            "only administrators keep the procedure catalogue",
        ));
    }
    let code = parse_code(&code)?;
    let json_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if !json_type {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "send the form definition as application/json",
        ));
    }
    let raw: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "Malformed JSON",
            e.to_string(),
        )
    })?;
    let form = parse_definition(raw)?;
    let v = crate::api::catalogue_admin::change_draft(
        &s,
        &actor,
        &code,
        version,
        crate::api::catalogue_admin::DraftEdit::default(),
        Some(form),
    )
    .await?;
    Ok(Json(view(&v)))
}

/// Reads a form definition from JSON (`null`: the generic form) and checks it; refused with
/// 422 and every problem in `errors` (the same check for the API and the editor page).
pub(crate) fn parse_definition(raw: serde_json::Value) -> Result<Option<FormDefinition>, ApiError> {
    if raw.is_null() {
        return Ok(None);
    }
    let def: FormDefinition = serde_json::from_value(raw).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-form-definition",
            "Invalid form definition",
            format!("the definition does not have the expected shape: {e}"),
        )
        .errors(serde_json::json!([e.to_string()]))
    })?;
    if let Err(problems) = def.check() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-form-definition",
            "Invalid form definition",
            format!("{} problem(s) in the definition", problems.len()),
        )
        .errors(serde_json::json!(problems)));
    }
    Ok(Some(def))
}
