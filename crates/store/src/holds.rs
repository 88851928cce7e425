//! Deliveries held by an operator, per target (decision 0053): while a target is held, no
//! dispatcher on any node claims its messages; they wait in the outbox, in order, and go once
//! the hold is lifted. For a national system's announced maintenance window, or a target that
//! misbehaves, without spending the messages' attempts into dead letters as the circuit
//! breaker would.
//!
//! The holds are one JSON value of the integration state (migration 21) under [`STATE_NAME`],
//! changed by compare-and-set, so every node sees the same holds and two operators changing
//! them at once both land.

use crate::{Result, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The integration state entry that holds them.
pub const STATE_NAME: &str = "outbox.holds";

/// Every target the system delivers to: a hold names one of these.
pub const TOPICS: &[&str] = &[
    crate::portal::TOPIC,
    motcua_domain::dossier::EMC_TOPIC,
    motcua_domain::dossier::EMAIL_TOPIC,
    motcua_domain::dossier::SMS_TOPIC,
    motcua_domain::dossier::ZALO_TOPIC,
    motcua_domain::dossier::VNPOST_TOPIC,
];

/// Longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// How many times a change is tried again when another writer changed the holds meanwhile.
const SWAPS: usize = 16;

/// One held target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutboxHold {
    /// The target, e.g. `dvcqg.sync`.
    pub topic: String,
    /// Who held it (user name).
    pub by: String,
    /// Since when.
    pub at: DateTime<Utc>,
    /// Why, as the operator wrote it.
    pub reason: String,
}

/// What is stored: each held target's hold, by target.
#[derive(Default, Serialize, Deserialize)]
struct Stored(BTreeMap<String, Stamp>);

#[derive(Clone, Serialize, Deserialize)]
struct Stamp {
    by: String,
    at: DateTime<Utc>,
    reason: String,
}

fn decode(value: &str) -> Result<Stored> {
    serde_json::from_str(value)
        .map_err(|e| StoreError::Corrupt(format!("the outbox holds ({STATE_NAME}): {e}")))
}

/// Checks a hold's target and reason; the message says what is wrong.
pub fn check(topic: &str, reason: &str) -> std::result::Result<(), String> {
    if !TOPICS.contains(&topic) {
        return Err(format!(
            "unknown target {topic:?}: one of {}",
            TOPICS.join(", ")
        ));
    }
    let n = reason.trim().chars().count();
    if n == 0 {
        return Err("give the reason for the hold".into());
    }
    if n > MAX_REASON_CHARS {
        return Err(format!("at most {MAX_REASON_CHARS} characters"));
    }
    Ok(())
}

impl Store {
    /// The targets held now, by target.
    pub async fn outbox_holds(&self) -> Result<Vec<OutboxHold>> {
        let Some(e) = self.state(STATE_NAME).await? else {
            return Ok(Vec::new());
        };
        Ok(decode(&e.value)?
            .0
            .into_iter()
            .map(|(topic, s)| OutboxHold {
                topic,
                by: s.by,
                at: s.at,
                reason: s.reason,
            })
            .collect())
    }

    /// Holds `topic`'s deliveries (see the module); a target held already keeps its first
    /// hold, which is answered with `false`.
    pub async fn outbox_hold(&self, hold: OutboxHold) -> Result<(OutboxHold, bool)> {
        check(&hold.topic, &hold.reason).map_err(StoreError::NotFound)?;
        let stamp = Stamp {
            by: hold.by.clone(),
            at: hold.at,
            reason: hold.reason.trim().to_string(),
        };
        let topic = hold.topic.clone();
        let mut kept = None;
        self.change_holds(|holds| match holds.0.get(&topic) {
            Some(s) => {
                kept = Some(s.clone());
                false
            }
            None => {
                holds.0.insert(topic.clone(), stamp.clone());
                true
            }
        })
        .await?;
        Ok(match kept {
            Some(s) => (
                OutboxHold {
                    topic,
                    by: s.by,
                    at: s.at,
                    reason: s.reason,
                },
                false,
            ),
            None => (
                OutboxHold {
                    topic,
                    by: stamp.by,
                    at: stamp.at,
                    reason: stamp.reason,
                },
                true,
            ),
        })
    }

    /// Lifts the hold on `topic`: the lifted hold, `None` when it was not held.
    pub async fn outbox_release(&self, topic: &str) -> Result<Option<OutboxHold>> {
        let mut lifted = None;
        self.change_holds(|holds| {
            lifted = holds.0.remove(topic);
            lifted.is_some()
        })
        .await?;
        Ok(lifted.map(|s| OutboxHold {
            topic: topic.to_string(),
            by: s.by,
            at: s.at,
            reason: s.reason,
        }))
    }

    /// Applies `change` to the stored holds (it answers whether it changed them) and stores
    /// the result, again from a fresh read when another writer got there first.
    async fn change_holds(&self, mut change: impl FnMut(&mut Stored) -> bool) -> Result<()> {
        for _ in 0..SWAPS {
            let current = self.state(STATE_NAME).await?;
            let mut holds = match &current {
                Some(e) => decode(&e.value)?,
                None => Stored::default(),
            };
            if !change(&mut holds) {
                return Ok(());
            }
            let value = serde_json::to_string(&holds)
                .map_err(|e| StoreError::Backend(format!("encoding the outbox holds: {e}")))?;
            if self
                .swap_state(STATE_NAME, current.map(|e| e.version), &value)
                .await?
            {
                return Ok(());
            }
        }
        Err(StoreError::Backend(format!(
            "the outbox holds changed {SWAPS} times while this change was being made: try again"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_names_a_known_target_and_a_reason() {
        assert!(check("dvcqg.sync", "Cổng bảo trì 22:00-24:00").is_ok());
        assert!(check("sms", "nhà mạng báo lỗi").is_ok());
        assert!(check("ftp", "x").unwrap_err().contains("unknown target"));
        assert!(check("dvcqg.sync", "  ").unwrap_err().contains("reason"));
        let long = "a".repeat(MAX_REASON_CHARS + 1);
        assert!(check("email", &long).unwrap_err().contains("at most"));
        // Characters, not bytes: Vietnamese text is two or three bytes a letter.
        let vi = "ệ".repeat(MAX_REASON_CHARS);
        assert!(check("email", &vi).is_ok());
    }
}
