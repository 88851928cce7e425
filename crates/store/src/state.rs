//! State an integration keeps between runs and shares between nodes (migration 21): a value per
//! name with a version, changed only by compare-and-set, so two nodes refreshing the same
//! single-use credential cannot both win. The Zalo Official Account's rotating refresh token is
//! the first user.

use chrono::{DateTime, Utc};

/// One stored value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateEntry {
    /// The value (often JSON).
    pub value: String,
    /// Bumped by every change; pass it back to [`crate::Store::swap_state`].
    pub version: i64,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}
