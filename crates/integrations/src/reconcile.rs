//! Reconciliation per target and local day: what we wrote, what the target acknowledged, what
//! failed, what waits, and, where the target can say it, what it accepted. Every message
//! written must be done, pending or dead; every acknowledgement must match an acceptance on the
//! target's side. Anything else is an unexplained difference.

use crate::dvcqg::DvcqgSettings;
use chrono::NaiveDate;
use motcua_store::{OutboxDay, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub use motcua_store::outbox::local_day;

/// One line of the reconciliation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// Our figures for the target and day.
    #[serde(flatten)]
    pub ours: OutboxDay,
    /// Messages the target says it accepted that day, if it can say.
    pub remote_accepted: Option<u64>,
    /// Differences nothing explains: messages written but neither done, pending nor dead,
    /// plus the gap between our acknowledgements and the target's acceptances.
    pub unexplained: u64,
}

/// Asks targets how many messages they accepted on a day.
#[derive(Clone)]
pub struct RemoteCounts {
    dvcqg_stats_url: String,
    emc_stats_url: String,
    http: reqwest::Client,
}

impl RemoteCounts {
    /// From the portal settings (its `stats_url`, empty when none).
    pub fn new(dvcqg: &DvcqgSettings) -> RemoteCounts {
        RemoteCounts {
            dvcqg_stats_url: dvcqg.stats_url.clone(),
            emc_stats_url: String::new(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }

    /// Also asks EMC (its `stats_url`, empty when none).
    pub fn with_emc(mut self, emc: &crate::emc::EmcSettings) -> RemoteCounts {
        self.emc_stats_url = emc.stats_url.clone();
        self
    }

    /// What `topic` says it accepted on `day`; `None` if it cannot say.
    pub async fn accepted(&self, topic: &str, day: NaiveDate) -> Result<Option<u64>, String> {
        let url = match topic {
            crate::dvcqg::TOPIC => &self.dvcqg_stats_url,
            crate::emc::TOPIC => &self.emc_stats_url,
            _ => return Ok(None),
        };
        if url.is_empty() {
            return Ok(None);
        }
        let v: serde_json::Value = self
            .http
            .get(url)
            .query(&[("day", day.to_string())])
            .send()
            .await
            .map_err(|e| format!("asking {topic} for its figures: {e}"))?
            .json()
            .await
            .map_err(|e| format!("reading {topic}'s figures: {e}"))?;
        v["accepted"]
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("{topic}'s figures have no `accepted`: {v}"))
    }
}

/// Reconciles every target over the local days `from..=to`.
pub async fn reconcile(
    store: &Store,
    remote: &RemoteCounts,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Line>, ReconcileError> {
    let days = store.outbox_days(from, to).await?;
    let mut out = Vec::with_capacity(days.len());
    for ours in days {
        let remote_accepted = remote
            .accepted(&ours.topic, ours.day)
            .await
            .map_err(ReconcileError::Remote)?;
        let gap = remote_accepted.map_or(0, |r| r.abs_diff(ours.acked));
        out.push(Line {
            unexplained: ours.unexplained().unsigned_abs() + gap,
            ours,
            remote_accepted,
        });
    }
    Ok(out)
}

/// Why reconciliation failed.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// Our own figures could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A target's figures could not be read.
    #[error("{0}")]
    Remote(String),
}
