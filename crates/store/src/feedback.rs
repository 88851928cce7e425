//! Feedback and complaints (phản ánh, kiến nghị), migration 23: each item with its history.
//! The domain (`motcua_domain::feedback`) decides every step; the store keeps the item and
//! appends the step in one transaction, refusing a write from a stale version.

use chrono::{DateTime, Utc};
use motcua_domain::codes::AgencyCode;
use motcua_domain::feedback::{Feedback, FeedbackState, SubjectKind};
use uuid::Uuid;

/// An item with the deadline its current state runs against.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedbackRow {
    /// The item.
    pub item: Feedback,
    /// The next deadline when it was last written (none when nothing is due from staff).
    pub due_at: Option<DateTime<Utc>>,
}

/// How a list is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FeedbackOrder {
    /// Newest received first.
    #[default]
    Newest,
    /// Earliest deadline first, items with none last (staff lists).
    Due,
    /// Latest published first (the public list).
    Published,
}

/// Which items to list. Empty filters match everything.
#[derive(Clone, Debug, Default)]
pub struct FeedbackQuery {
    /// Filed by this citizen.
    pub owner: Option<Uuid>,
    /// Addressed to one of these agencies (empty: any).
    pub agencies: Vec<AgencyCode>,
    /// In this state.
    pub state: Option<FeedbackState>,
    /// Only published answers.
    pub published: bool,
    /// About this subject.
    pub subject: Option<(SubjectKind, String)>,
    /// Received at or after.
    pub received_from: Option<DateTime<Utc>>,
    /// Received before.
    pub received_before: Option<DateTime<Utc>>,
    /// Order.
    pub order: FeedbackOrder,
    /// At most this many (0: 200; capped at 10,000).
    pub limit: u32,
}

impl FeedbackQuery {
    /// The effective limit.
    pub(crate) fn limit(&self) -> i64 {
        match self.limit {
            0 => 200,
            n => i64::from(n.min(10_000)),
        }
    }

    /// The ORDER BY clause.
    pub(crate) fn order_sql(&self) -> &'static str {
        match self.order {
            FeedbackOrder::Newest => "received_at DESC, id",
            FeedbackOrder::Due => "due_at IS NULL, due_at, received_at, id",
            FeedbackOrder::Published => "published_at DESC, id",
        }
    }
}
