//! Dossiers pulled from another system (the national portal's online dossiers) that we could
//! not take, or not yet: one row per source and outside id, with the reason and how many polls
//! tried it. A dossier taken in leaves no row here (its idempotency key, written with its
//! submission, is the record that it was taken); a row that was failing is deleted then.
//! Migration 20.

use chrono::{DateTime, Utc};

/// Where an inbound dossier stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboundStatus {
    /// A failure that may pass (a file that could not be fetched): tried again on later polls.
    Failing,
    /// Refused for good (unknown procedure, agency not receiving it, bad data, or failing
    /// too many times): not taken, acknowledged as refused where the protocol allows.
    Rejected,
}

impl InboundStatus {
    /// Stable machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            InboundStatus::Failing => "failing",
            InboundStatus::Rejected => "rejected",
        }
    }

    /// From the machine name.
    pub fn parse(s: &str) -> Option<InboundStatus> {
        match s {
            "failing" => Some(InboundStatus::Failing),
            "rejected" => Some(InboundStatus::Rejected),
            _ => None,
        }
    }
}

/// A failure to note against an inbound dossier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundNote {
    /// The system it comes from (`dvcqg`).
    pub source: String,
    /// Its id there.
    pub external_id: String,
    /// Its dossier code there (shown to operators).
    pub code: String,
    /// Why it was not taken.
    pub reason: String,
    /// Refused for good now (otherwise: failing, unless `reject_after` attempts are reached).
    pub rejected: bool,
    /// Attempts after which a failing dossier is rejected (0: never by count).
    pub reject_after: u32,
    /// When.
    pub at: DateTime<Utc>,
}

/// An inbound dossier not taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundRow {
    /// The system it comes from.
    pub source: String,
    /// Its id there.
    pub external_id: String,
    /// Its dossier code there.
    pub code: String,
    /// Failing or rejected.
    pub status: InboundStatus,
    /// The latest reason.
    pub reason: String,
    /// Polls that tried it.
    pub attempts: u32,
    /// First seen.
    pub first_at: DateTime<Utc>,
    /// Last tried.
    pub last_at: DateTime<Utc>,
}
