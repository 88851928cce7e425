//! Delivery of the outbox: the types of the store's delivery API (claim with a lease,
//! acknowledge, fail with a retry time, dead letters, queue depth, daily figures). The backends
//! implement it in `sqlite/outbox.rs` and `postgres/outbox.rs`; the dispatcher that uses it lives
//! in the `motcua-integrations` crate.
//!
//! Order: messages for one dossier and one target (topic) are delivered one at a time, oldest
//! first. A message is claimable only when no earlier message of its (topic, dossier) is still
//! pending or dead: a dead letter holds back the later messages of its dossier for that target
//! until an operator retries it, so a target never sees a newer state before an older one.
//! The dossier is the part of the message key before the first `:` (keys are
//! `{dossier code or id}:{version}`, see `motcua_domain::dossier::outbox_messages`).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Where a message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for (another) delivery attempt.
    Pending,
    /// Delivered and acknowledged by the target.
    Done,
    /// Gave up after the maximum number of attempts; waits for an operator.
    Dead,
}

impl OutboxStatus {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Done => "done",
            OutboxStatus::Dead => "dead",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<OutboxStatus> {
        match s {
            "pending" => Some(OutboxStatus::Pending),
            "done" => Some(OutboxStatus::Done),
            "dead" => Some(OutboxStatus::Dead),
            _ => None,
        }
    }
}

/// One outbox message with its delivery state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutboxEntry {
    /// Id (increasing in the order messages were written).
    pub id: i64,
    /// Target, e.g. `dvcqg.sync`.
    pub topic: String,
    /// Idempotency key sent with every attempt.
    pub key: String,
    /// The dossier the message belongs to (code or id): the unit of ordering.
    pub partition: String,
    /// Body.
    pub payload: serde_json::Value,
    /// Failed attempts so far.
    pub attempts: i32,
    /// Where it stands.
    pub status: OutboxStatus,
    /// When it was written (with its event).
    pub created_at: DateTime<Utc>,
    /// Earliest time of the next attempt, after a failure.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last failure's description.
    pub last_error: Option<String>,
    /// When the target acknowledged it.
    pub acked_at: Option<DateTime<Utc>>,
}

/// A request to lease a batch of deliverable messages.
#[derive(Clone, Debug)]
pub struct OutboxClaim {
    /// Who claims (node and process), recorded as the lease owner.
    pub owner: String,
    /// Only this target, or any.
    pub topic: Option<String>,
    /// At most this many messages.
    pub limit: u32,
    /// Now.
    pub now: DateTime<Utc>,
    /// How long the lease lasts: longer than one delivery attempt, so a message is not claimed
    /// again while it is being delivered; a crashed node's messages come back after it.
    pub lease: Duration,
}

/// A failed delivery attempt.
#[derive(Clone, Debug)]
pub struct OutboxFailure {
    /// The message.
    pub id: i64,
    /// The lease owner reporting it (a report from a node that lost its lease is ignored).
    pub owner: String,
    /// What went wrong (kept for the operator; must not contain secrets).
    pub error: String,
    /// Now.
    pub now: DateTime<Utc>,
    /// When to try again, if attempts remain.
    pub retry_at: DateTime<Utc>,
    /// The attempt that makes the message dead (it then waits for an operator).
    pub max_attempts: i32,
}

/// A filter for listing messages.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
pub struct OutboxQuery {
    /// Only this status.
    pub status: Option<OutboxStatus>,
    /// Only this target.
    pub topic: Option<String>,
    /// Only ids greater than this (paging).
    pub after_id: Option<i64>,
    /// At most this many (default 100, at most 1,000).
    pub limit: Option<u32>,
}

impl OutboxQuery {
    /// The effective page size.
    pub fn page_size(&self) -> u32 {
        self.limit.unwrap_or(100).clamp(1, 1_000)
    }
}

/// The queue of one target now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutboxDepth {
    /// Target.
    pub topic: String,
    /// Messages waiting for delivery.
    pub pending: u64,
    /// Dead letters waiting for an operator.
    pub dead: u64,
    /// Creation time of the oldest undelivered (pending or dead) message.
    pub oldest_at: Option<DateTime<Utc>>,
}

/// The queue depths as a backend gathers them from its indexes (decision 0049): each target's
/// pending messages and its dead letters, in either order; the oldest of either is the
/// target's oldest.
#[derive(Default)]
pub(crate) struct Depths(std::collections::BTreeMap<String, OutboxDepth>);

impl Depths {
    /// `topic` has `n` pending messages, the first in queue order created at `first`.
    pub fn pending(&mut self, topic: String, n: i64, first: Option<DateTime<Utc>>) {
        let d = self.entry(topic);
        d.pending = n as u64;
        d.oldest_at = d.oldest_at.min(first).or(d.oldest_at).or(first);
    }

    /// `topic` has `n` dead letters, the oldest created at `oldest`.
    pub fn dead(&mut self, topic: String, n: i64, oldest: DateTime<Utc>) {
        let d = self.entry(topic);
        d.dead = n as u64;
        d.oldest_at = Some(d.oldest_at.map_or(oldest, |o| o.min(oldest)));
    }

    fn entry(&mut self, topic: String) -> &mut OutboxDepth {
        self.0.entry(topic.clone()).or_insert(OutboxDepth {
            topic,
            pending: 0,
            dead: 0,
            oldest_at: None,
        })
    }

    /// The depths, by target.
    pub fn into_vec(self) -> Vec<OutboxDepth> {
        self.0.into_values().collect()
    }
}

/// What happened to one target's messages on one local (Vietnam) day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutboxDay {
    /// Target.
    pub topic: String,
    /// Local day.
    pub day: NaiveDate,
    /// Messages written that day (our own count: one per event that concerns the target).
    pub created: u64,
    /// Of those, delivered and acknowledged by now.
    pub created_done: u64,
    /// Of those, pending now.
    pub created_pending: u64,
    /// Of those, dead now.
    pub created_dead: u64,
    /// Acknowledgements received that day (for any message).
    pub acked: u64,
    /// Failed attempts that day.
    pub failed: u64,
    /// Messages that became dead letters that day.
    pub dead_lettered: u64,
    /// Dead letters an operator sent back to the queue that day.
    pub retried: u64,
    /// Of the messages written that day, delivered ones since deleted by pruning (counted in
    /// `created` and `created_done`, so a day's figures do not change when it is pruned).
    #[serde(default)]
    pub pruned: u64,
}

impl OutboxDay {
    /// Messages written that day whose fate is unaccounted for (should be zero: every message
    /// is done, pending or dead).
    pub fn unexplained(&self) -> i64 {
        self.created as i64
            - self.created_done as i64
            - self.created_pending as i64
            - self.created_dead as i64
    }
}

/// The local (Vietnam, UTC+7) day of a time.
pub fn local_day(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::hours(7)).date_naive()
}

/// The UTC instant at which local day `d` starts.
pub fn local_day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() - Duration::hours(7)
}

/// Sets one of the daily activity figures from its stored metric name.
pub(crate) fn set_metric(d: &mut OutboxDay, metric: &str, value: i64) {
    let v = value.max(0) as u64;
    match metric {
        "acked" => d.acked = v,
        "failed" => d.failed = v,
        "dead" => d.dead_lettered = v,
        "retried" => d.retried = v,
        // Pruned rows are gone from the outbox table: they count as written and delivered.
        "pruned" => {
            d.pruned = v;
            d.created += v;
            d.created_done += v;
        }
        _ => {}
    }
}
