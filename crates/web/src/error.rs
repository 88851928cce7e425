//! API errors as RFC 9457 problem details (`application/problem+json`).

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use motcua_domain::dossier::DomainError;
use motcua_domain::queue::QueueError;
use motcua_store::StoreError;
use serde::Serialize;

/// A problem detail: what went wrong, for machines (`type`, `status`) and people (`title`, `detail`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// URI naming the kind of problem (stable; documented in docs/api.md).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What happened this time.
    pub detail: String,
    /// The field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Extra machine-readable facts (e.g. current version on a conflict).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<serde_json::Value>,
    /// Every problem found, when there are several (e.g. e-form fields: `{path, message,
    /// message_en}`; form definitions: messages).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub errors: Option<serde_json::Value>,
}

/// Error type of every API handler.
#[derive(Debug, Clone)]
pub struct ApiError(pub Box<Problem>);

impl ApiError {
    /// A problem of `kind` (the last path segment of its type URI).
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> ApiError {
        ApiError(Box::new(Problem {
            kind: format!("https://motcua.dev/problems/{kind}"),
            title: title.into(),
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
            extra: None,
            errors: None,
        }))
    }

    /// Lists every problem found (an RFC 9457 extension member `errors`).
    pub fn errors(mut self, v: serde_json::Value) -> ApiError {
        self.0.errors = Some(v);
        self
    }

    /// 422 for e-form values that break the form's rules, each error tied to its field.
    pub fn form_rejected(errors: &[motcua_domain::forms::FieldError]) -> ApiError {
        let first = errors
            .first()
            .map(|e| format!("{}: {}", e.path, e.message_en))
            .unwrap_or_default();
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-form",
            "The e-form has errors",
            format!(
                "{} field(s) of the form are not valid (first: {first})",
                errors.len()
            ),
        )
        .field("form")
        .errors(serde_json::to_value(errors).unwrap_or_default())
    }

    /// Names the field at fault.
    pub fn field(mut self, f: impl Into<String>) -> ApiError {
        self.0.field = Some(f.into());
        self
    }

    /// Adds machine-readable facts.
    pub fn extra(mut self, v: serde_json::Value) -> ApiError {
        self.0.extra = Some(v);
        self
    }

    /// 400 for malformed input.
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Malformed request",
            detail,
        )
    }

    /// 422 for a well-formed request with an invalid value.
    pub fn invalid(field: &str, detail: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            "Invalid value",
            detail,
        )
        .field(field)
    }

    /// 404.
    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", "Not found", what)
    }

    /// 401 with a Bearer challenge.
    pub fn unauthorized(detail: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
            detail,
        )
    }

    /// 403.
    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed", detail)
    }

    /// 500 without leaking internals (the cause is logged).
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the server failed to handle the request; it has been logged",
        )
    }

    /// What happened, in words.
    pub fn detail(&self) -> &str {
        &self.0.detail
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let unauthorized = status == StatusCode::UNAUTHORIZED;
        let mut res = (status, Json(self.0)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if unauthorized {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"motcua\""),
            );
        }
        res
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> ApiError {
        let detail = e.to_string();
        match e {
            DomainError::NotAllowed { action, status } => ApiError::new(
                StatusCode::CONFLICT,
                "action-not-allowed",
                "Action not allowed in this status",
                detail,
            )
            .extra(serde_json::json!({ "action": action, "status": status })),
            DomainError::Forbidden(_) => ApiError::forbidden(detail),
            DomainError::Invalid { field, .. } => ApiError::invalid(field, detail),
            DomainError::ApologyTooLate { due_at, latest } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "apology-too-late",
                "Too late for an apology letter",
                detail,
            )
            .extra(serde_json::json!({ "due_at": due_at, "latest": latest })),
            DomainError::NoDossier => ApiError::not_found(detail),
            DomainError::AlreadyExists => ApiError::new(
                StatusCode::CONFLICT,
                "already-exists",
                "Already exists",
                detail,
            ),
            DomainError::CodeAllocation(_) | DomainError::CorruptLog(_) => {
                ApiError::internal(detail)
            }
        }
    }
}

impl From<motcua_domain::feedback::FeedbackError> for ApiError {
    fn from(e: motcua_domain::feedback::FeedbackError) -> ApiError {
        use motcua_domain::feedback::FeedbackError as F;
        let detail = e.to_string();
        match e {
            F::NotAllowed { action, state } => ApiError::new(
                StatusCode::CONFLICT,
                "feedback-action-not-allowed",
                "Not possible in the feedback item's state",
                detail,
            )
            .extra(serde_json::json!({ "action": action, "state": state })),
            F::Forbidden(_) => ApiError::forbidden(detail),
            F::Invalid { field, .. } => ApiError::invalid(field, detail),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Domain(d) => d.into(),
            StoreError::VersionConflict { expected, actual } => ApiError::new(
                StatusCode::CONFLICT,
                "version-conflict",
                "The dossier changed meanwhile",
                format!(
                    "you acted on version {expected} but the dossier is at version {actual}: reload it and try again"
                ),
            )
            .extra(serde_json::json!({ "expected_version": expected, "current_version": actual })),
            StoreError::Duplicate(what) => ApiError::new(
                StatusCode::CONFLICT,
                "already-exists",
                "Already exists",
                format!("{what} already exists"),
            ),
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Queue(q) => q.into(),
            StoreError::Backend(_) | StoreError::Corrupt(_) => ApiError::internal(e),
        }
    }
}

impl From<QueueError> for ApiError {
    fn from(e: QueueError) -> ApiError {
        let detail = e.to_string();
        match e {
            QueueError::Invalid { field, .. } => ApiError::invalid(field, detail),
            QueueError::NotAllowed { action, state } => ApiError::new(
                StatusCode::CONFLICT,
                "ticket-action-not-allowed",
                "Not possible in the ticket's state",
                detail,
            )
            .extra(serde_json::json!({ "action": action, "state": state })),
            QueueError::CounterBusy { counter, ticket } => ApiError::new(
                StatusCode::CONFLICT,
                "counter-busy",
                "The counter still holds a ticket",
                detail,
            )
            .extra(serde_json::json!({ "counter": counter, "ticket": ticket })),
            QueueError::NoCurrentTicket(counter) => ApiError::new(
                StatusCode::CONFLICT,
                "no-current-ticket",
                "The counter holds no ticket",
                detail,
            )
            .extra(serde_json::json!({ "counter": counter })),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        match r {
            JsonRejection::JsonDataError(e) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-body",
                "Invalid request body",
                e.body_text(),
            ),
            JsonRejection::JsonSyntaxError(e) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "Malformed JSON",
                e.body_text(),
            ),
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "send the body as application/json",
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body-too-large",
                    "Request body too large",
                    format!("the body exceeds the limit of {} bytes", crate::MAX_BODY),
                )
            }
            other => ApiError::bad_request(other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> ApiError {
        ApiError::bad_request(r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            "Invalid query string",
            r.body_text(),
        )
    }
}
