//! `GET /api/v1/inbox`: the staff inbox as JSON — the open dossiers the caller's agency holds,
//! most urgent first (not yet received, then by appointment), with filters, keyset pages and
//! per-status counts of overdue and due-soon dossiers. The same query as the page `/can-bo`.

use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use motcua_domain::dossier::Channel;
use motcua_domain::status::Status;
use motcua_store::{DossierSummary, InboxCount, InboxCursor, InboxQuery};
use serde::{Deserialize, Serialize};

/// Inbox filters.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InboxParams {
    /// Comma-separated statuses (e.g. `awaiting_reception,received`); default: every open one.
    pub status: Option<String>,
    /// Only this procedure.
    pub procedure: Option<String>,
    /// Only this channel: `counter`, `online` or `post`.
    pub channel: Option<String>,
    /// `true`: only dossiers assigned to me.
    pub mine: Option<bool>,
    /// Submitted at or after (RFC 3339).
    pub submitted_from: Option<DateTime<Utc>>,
    /// Submitted before (RFC 3339).
    pub submitted_to: Option<DateTime<Utc>>,
    /// Page size (1-200, default 50).
    pub limit: Option<u32>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// A channel by its machine name.
pub(crate) fn parse_channel(s: &str) -> Option<Channel> {
    match s {
        "counter" => Some(Channel::Counter),
        "online" => Some(Channel::Online),
        "post" => Some(Channel::Post),
        _ => None,
    }
}

/// A page of the inbox.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InboxPage {
    /// Most urgent first (the page's JSON as the store wrote it once for every request that
    /// reads the same page; see `motcua_store::InboxRows`).
    #[schema(value_type = Vec<DossierSummary>)]
    #[serde(serialize_with = "shared_rows")]
    pub items: std::sync::Arc<motcua_store::InboxRows>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
    /// Per status: open dossiers, overdue, due before the end of the next working day.
    pub counts: Vec<InboxCount>,
}

/// Writes the page's rows as the JSON the store keeps with them.
fn shared_rows<S: serde::Serializer>(
    rows: &std::sync::Arc<motcua_store::InboxRows>,
    s: S,
) -> Result<S::Ok, S::Error> {
    rows.as_ref().serialize(s)
}

/// The caller's inbox (desk officers, specialists and leaders).
#[utoipa::path(get, path = "/api/v1/inbox", tag = "dossiers", params(InboxParams), security(("bearer" = [])),
    responses((status = 200, body = InboxPage), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem)))]
pub async fn inbox(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: Result<Query<InboxParams>, QueryRejection>,
) -> Result<InboxPage, ApiError> {
    let Query(p) = q?;
    if !actor.role.is_staff() {
        return Err(ApiError::forbidden(
            "inboxes are for desk officers, specialists and leaders",
        ));
    }
    let agency = actor
        .agency
        .clone()
        .ok_or_else(|| ApiError::forbidden("staff account without an agency"))?;
    let mut statuses = Vec::new();
    for part in p.status.as_deref().unwrap_or("").split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        match Status::parse(part) {
            Some(st) if !st.is_closed() => statuses.push(st),
            Some(_) => {
                return Err(ApiError::invalid(
                    "status",
                    format!("`{part}` is closed: closed dossiers are not in inboxes"),
                ));
            }
            None => {
                return Err(ApiError::invalid(
                    "status",
                    format!("unknown status `{part}`"),
                ));
            }
        }
    }
    if let (Some(f), Some(t)) = (p.submitted_from, p.submitted_to)
        && t <= f
    {
        return Err(ApiError::invalid(
            "submitted_to",
            "must be after submitted_from",
        ));
    }
    let limit = p.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be 1-200"));
    }
    let after = match p.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(
            InboxCursor::decode(c).ok_or_else(|| ApiError::invalid("cursor", "not a cursor"))?,
        ),
    };
    let procedure_code = p
        .procedure
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    if procedure_code.as_ref().is_some_and(|c| c.len() > 40) {
        return Err(ApiError::invalid("procedure", "too long"));
    }
    let channel = match p.channel.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => Some(parse_channel(c).ok_or_else(|| {
            ApiError::invalid("channel", format!("`{c}`: use counter, online or post"))
        })?),
    };
    let query = InboxQuery {
        agency: agency.clone(),
        statuses,
        procedure_code,
        channel,
        assignee: p.mine.unwrap_or(false).then_some(actor.user_id),
        submitted_from: p.submitted_from,
        submitted_to: p.submitted_to,
        after,
        limit,
    };
    let now = Utc::now();
    let soon = crate::staff::soon_limit(&s, &agency, now);
    let (items, counts) = tokio::join!(
        s.store.inbox_rows(&query),
        s.store.inbox_counts(&agency, now, soon)
    );
    let page = items?;
    let items = page.rows();
    let next_cursor = (items.len() == limit as usize).then(|| {
        items
            .last()
            .map(|r| {
                InboxCursor {
                    due_at: r.due_at,
                    id: r.id,
                }
                .encode()
            })
            .unwrap_or_default()
    });
    Ok(InboxPage {
        items: page.clone(),
        next_cursor,
        counts: counts?,
    })
}

/// JSON written into one buffer sized for the page's rows up front: the rows are most of it,
/// and a growing buffer would copy them several times over (`axum::Json` starts at 128 bytes).
impl axum::response::IntoResponse for InboxPage {
    fn into_response(self) -> axum::response::Response {
        let rows = self.items.json().map(|j| j.get().len()).unwrap_or(0);
        let mut body = Vec::with_capacity(rows + 256 + 96 * self.counts.len());
        match serde_json::to_writer(&mut body, &self) {
            Ok(()) => (
                [(
                    axum::http::header::CONTENT_TYPE,
                    axum::http::HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            Err(e) => ApiError::internal(e).into_response(),
        }
    }
}
