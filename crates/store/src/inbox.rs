//! Staff inboxes: the open dossiers an agency holds, most urgent first (no appointment yet —
//! waiting for reception — then by appointment), with keyset pagination and per-status counts
//! of overdue and due-soon dossiers.

use chrono::{DateTime, Utc};
use motcua_domain::codes::AgencyCode;
use motcua_domain::dossier::Channel;
use motcua_domain::status::Status;
use serde::Serialize;
use uuid::Uuid;

/// Statuses that end a dossier's time at an agency's desk: never in an inbox.
pub const CLOSED: [Status; 4] = [
    Status::Refused,
    Status::Returned,
    Status::Withdrawn,
    Status::Stopped,
];

/// SQL list of [`CLOSED`], for the partial index and the queries that must match it.
pub(crate) const CLOSED_SQL: &str = "('refused', 'returned', 'withdrawn', 'stopped')";

/// Which inbox rows to read.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InboxQuery {
    /// The agency holding the dossiers now.
    pub agency: AgencyCode,
    /// Only these statuses (empty: every open status).
    pub statuses: Vec<Status>,
    /// Only this procedure.
    pub procedure_code: Option<String>,
    /// Only dossiers submitted through this channel (counter, online, post).
    pub channel: Option<Channel>,
    /// Only dossiers assigned to this user.
    pub assignee: Option<Uuid>,
    /// Only dossiers submitted at or after this time.
    pub submitted_from: Option<DateTime<Utc>>,
    /// Only dossiers submitted before this time.
    pub submitted_to: Option<DateTime<Utc>>,
    /// Cursor: rows strictly after this one.
    pub after: Option<InboxCursor>,
    /// Page size (capped at 200).
    pub limit: u32,
}

impl InboxQuery {
    /// The first page (50 rows) of an agency's whole inbox: no filter, no cursor.
    pub fn first_page(agency: AgencyCode) -> InboxQuery {
        InboxQuery {
            agency,
            statuses: Vec::new(),
            procedure_code: None,
            channel: None,
            assignee: None,
            submitted_from: None,
            submitted_to: None,
            after: None,
            limit: 50,
        }
    }
}

/// Position in an inbox: the row's appointment (none sorts first) and id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct InboxCursor {
    /// Appointment of the last row seen.
    pub due_at: Option<DateTime<Utc>>,
    /// Id of the last row seen.
    pub id: Uuid,
}

impl InboxCursor {
    /// Text form for a URL: `<micros or ->_<uuid>`.
    pub fn encode(&self) -> String {
        let due = self
            .due_at
            .map(|t| t.timestamp_micros().to_string())
            .unwrap_or_else(|| "-".into());
        format!("{due}_{}", self.id.simple())
    }

    /// Parses [`InboxCursor::encode`]'s text.
    pub fn decode(s: &str) -> Option<InboxCursor> {
        let (due, id) = s.split_once('_')?;
        let due_at = match due {
            "-" => None,
            n => Some(DateTime::from_timestamp_micros(n.parse().ok()?)?),
        };
        Some(InboxCursor {
            due_at,
            id: id.parse().ok()?,
        })
    }

    /// Sort key of the appointment: none (not yet received) sorts before every date.
    pub(crate) fn due_key(due_at: Option<DateTime<Utc>>) -> i64 {
        due_at.map(|t| t.timestamp_micros()).unwrap_or(0)
    }
}

/// How many open dossiers of one status an agency holds, and how urgent they are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InboxCount {
    /// Status.
    pub status: Status,
    /// Dossiers.
    pub total: i64,
    /// Past their appointment.
    pub overdue: i64,
    /// Appointment before the `soon` limit given, not yet past.
    pub due_soon: i64,
}

/// A page of an inbox as read, shared by every request that asks for it until the agency's
/// inbox changes (SQLite keeps it; see `sqlite/inbox_cache.rs`), with its JSON written once.
/// It serializes as that JSON: the array of its rows.
#[derive(Debug)]
pub struct InboxRows {
    rows: Vec<crate::DossierSummary>,
    json: std::sync::OnceLock<Box<serde_json::value::RawValue>>,
}

impl InboxRows {
    /// A page of these rows.
    pub fn new(rows: Vec<crate::DossierSummary>) -> InboxRows {
        InboxRows {
            rows,
            json: std::sync::OnceLock::new(),
        }
    }

    /// The rows, most urgent first.
    pub fn rows(&self) -> &[crate::DossierSummary] {
        &self.rows
    }

    /// The rows as a JSON array (written on first use, then shared).
    pub fn json(&self) -> Result<&serde_json::value::RawValue, serde_json::Error> {
        if let Some(j) = self.json.get() {
            return Ok(j);
        }
        let j = serde_json::value::to_raw_value(&self.rows)?;
        Ok(self.json.get_or_init(|| j))
    }
}

impl Serialize for InboxRows {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.json().map_err(serde::ser::Error::custom)?.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = InboxCursor {
            due_at: DateTime::from_timestamp_micros(1_700_000_000_123_456),
            id: Uuid::new_v4(),
        };
        assert_eq!(InboxCursor::decode(&c.encode()), Some(c));
        let n = InboxCursor { due_at: None, ..c };
        assert_eq!(InboxCursor::decode(&n.encode()), Some(n));
        for bad in ["", "_", "x_y", "12_notauuid", "-", "1_2_3"] {
            assert_eq!(InboxCursor::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn closed_sql_lists_the_closed_statuses() {
        for s in CLOSED {
            assert!(CLOSED_SQL.contains(&format!("'{}'", s.as_str())));
        }
    }
}
