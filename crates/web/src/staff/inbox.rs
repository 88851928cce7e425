//! `GET /can-bo`: an officer's inbox — the open dossiers their agency holds in the statuses their
//! role acts on, not-yet-received first and then by appointment, coloured by urgency, with
//! filters, counts and keyset pagination.

use super::{lang_of, local, require_staff, role_statuses, texts};
use crate::AppState;
use crate::session::MaybeSession;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use minijinja::context;
use motcua_domain::status::Status;
use motcua_store::{InboxCursor, InboxQuery};
use serde::{Deserialize, Serialize};

/// Rows per page.
const PAGE: u32 = 50;

/// Filters of the inbox page (all optional).
#[derive(Deserialize, Default)]
pub(crate) struct Params {
    lang: Option<String>,
    /// One status (machine name), or `tat-ca` for every open status.
    trang_thai: Option<String>,
    /// Procedure code.
    thu_tuc: Option<String>,
    /// Channel: `counter`, `online` or `post`.
    kenh: Option<String>,
    /// `1`: only dossiers assigned to me.
    cua_toi: Option<String>,
    /// Submitted from (yyyy-mm-dd, local).
    tu: Option<String>,
    /// Submitted before the end of (yyyy-mm-dd, local).
    den: Option<String>,
    /// Cursor.
    sau: Option<String>,
}

/// A row as the template shows it.
#[derive(Serialize)]
struct Row {
    id: String,
    code: String,
    procedure_code: String,
    procedure_name: String,
    applicant: String,
    status: &'static str,
    submitted: String,
    due: String,
    /// `overdue`, `soon`, `ok` or `new` (no appointment yet).
    urgency: &'static str,
}

/// A line of the counts table.
#[derive(Serialize)]
struct Count {
    status: String,
    label: &'static str,
    total: i64,
    overdue: i64,
    due_soon: i64,
}

fn local_day(s: Option<&str>) -> Result<Option<DateTime<Utc>>, ()> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| ())
            .and_then(|d| d.and_hms_opt(0, 0, 0).ok_or(()))
            .map(|t| Some(t.and_utc() - chrono::Duration::hours(7))),
    }
}

/// The end of the next working day at the agency: what "due soon" means.
pub(crate) fn soon_limit(
    s: &AppState,
    agency: &motcua_domain::codes::AgencyCode,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let cal = s.calendars().for_agency(agency);
    let today = cal.to_local(now).date();
    let next = cal.next_working_day(today);
    let end = next
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc() - chrono::Duration::minutes(i64::from(cal.utc_offset_minutes())));
    end.unwrap_or(now + chrono::Duration::days(1))
}

/// The inbox page.
pub(crate) async fn page(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    let p = q.map(|Query(p)| p).unwrap_or_default();
    let lang = lang_of(p.lang.as_deref());
    let sess = match require_staff(session, "/can-bo", lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = texts::get(lang);
    let Some(agency) = sess.actor.agency.clone() else {
        return super::forbidden(lang);
    };
    let mine = role_statuses(sess.actor.role);
    let chosen = p.trang_thai.as_deref().map(str::trim).unwrap_or("");
    let statuses = match chosen {
        "" => mine.clone(),
        "tat-ca" => Vec::new(),
        other => match Status::parse(other) {
            Some(st) if !st.is_closed() => vec![st],
            _ => {
                return bad(lang, "Trạng thái không hợp lệ. / Unknown status.");
            }
        },
    };
    let (from, to) = match (local_day(p.tu.as_deref()), local_day(p.den.as_deref())) {
        (Ok(f), Ok(t)) => (f, t.map(|t| t + chrono::Duration::days(1))),
        _ => {
            return bad(
                lang,
                "Ngày phải có dạng yyyy-mm-dd. / Dates are yyyy-mm-dd.",
            );
        }
    };
    if let (Some(f), Some(t)) = (from, to)
        && t <= f
    {
        return bad(
            lang,
            "Ngày kết thúc phải sau ngày bắt đầu. / The end date must follow the start date.",
        );
    }
    let procedure = p
        .thu_tuc
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| c.chars().take(40).collect::<String>());
    let after = match p.sau.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => match InboxCursor::decode(c) {
            Some(c) => Some(c),
            None => return bad(lang, "Liên kết trang không hợp lệ. / Bad page link."),
        },
    };
    let assigned = p.cua_toi.as_deref() == Some("1");
    let channel_raw = p.kenh.as_deref().map(str::trim).unwrap_or("");
    let channel = match channel_raw {
        "" => None,
        c => match crate::api::inbox::parse_channel(c) {
            Some(ch) => Some(ch),
            None => return bad(lang, "Hình thức nộp không hợp lệ. / Unknown channel."),
        },
    };
    let query = InboxQuery {
        agency: agency.clone(),
        statuses,
        procedure_code: procedure.clone(),
        channel,
        assignee: assigned.then_some(sess.actor.user_id),
        submitted_from: from,
        submitted_to: to,
        after,
        limit: PAGE + 1,
    };
    let now = Utc::now();
    let soon = soon_limit(&s, &agency, now);
    let (rows, counts) = match tokio::join!(
        s.store.inbox(&query),
        s.store.inbox_counts(&agency, now, soon)
    ) {
        (Ok(r), Ok(c)) => (r, c),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "inbox failed");
            return super::busy(lang);
        }
    };
    let more = rows.len() > PAGE as usize;
    let rows: Vec<_> = rows.into_iter().take(PAGE as usize).collect();
    let next = more.then(|| {
        rows.last()
            .map(|r| {
                InboxCursor {
                    due_at: r.due_at,
                    id: r.id,
                }
                .encode()
            })
            .unwrap_or_default()
    });
    let view: Vec<Row> = rows
        .iter()
        .map(|r| Row {
            id: r.id.to_string(),
            code: r.code.clone().unwrap_or_else(|| "—".into()),
            procedure_code: r.procedure_code.clone(),
            procedure_name: r.procedure_name.clone(),
            applicant: r.applicant_name.clone(),
            status: texts::status(r.status, lang),
            submitted: local(Some(r.submitted_at)),
            due: r
                .due_at
                .map(|d| local(Some(d)))
                .unwrap_or_else(|| t.get("not_received").into()),
            urgency: match r.due_at {
                None => "new",
                Some(d) if d < now => "overdue",
                Some(d) if d < soon => "soon",
                Some(_) => "ok",
            },
        })
        .collect();
    let count_rows: Vec<Count> = counts
        .iter()
        .map(|c| Count {
            status: c.status.as_str().to_string(),
            label: texts::status(c.status, lang),
            total: c.total,
            overdue: c.overdue,
            due_soon: c.due_soon,
        })
        .collect();
    let leader = sess.actor.role == motcua_domain::agency::Role::Leader;
    let specialists = if leader {
        s.store
            .agency_staff(&agency, motcua_domain::agency::Role::Specialist)
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let tabs: Vec<(String, &'static str)> = mine
        .iter()
        .map(|st| (st.as_str().to_string(), texts::status(*st, lang)))
        .collect();
    crate::pages::render(
        "inbox.html",
        lang,
        context! {
            st => t.value(),
            me => &sess.actor,
            csrf => &sess.csrf,
            rows => view,
            counts => count_rows,
            tabs,
            chosen,
            procedure => procedure.unwrap_or_default(),
            assigned,
            channel => channel.map(|c| c.as_str()).unwrap_or(""),
            from => p.tu.unwrap_or_default(),
            to => p.den.unwrap_or_default(),
            next,
            paged => after.is_some(),
            leader,
            specialists,
            desk => sess.actor.role == motcua_domain::agency::Role::DeskOfficer,
        },
    )
}

fn bad(lang: &str, msg: &str) -> Response {
    let t = texts::get(lang);
    crate::pages::error_page(StatusCode::BAD_REQUEST, lang, t.get("error"), msg)
}
