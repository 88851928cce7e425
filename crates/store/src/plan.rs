//! What to write for a decision, computed once for both backends: the event rows with their
//! hash chain, the new state, counter increments and outbox messages.

use crate::StoreError;
use chrono::{DateTime, Utc};
use motcua_domain::dossier::{
    CounterDelta, Dossier, Event, OutboxMessage, apply, counter_deltas, event_hash, outbox_messages,
};
use motcua_domain::stats::stat_deltas;
use std::sync::Arc;
use uuid::Uuid;

/// One event row.
pub(crate) struct EventRow {
    pub seq: u64,
    pub kind: &'static str,
    pub at: DateTime<Utc>,
    pub actor: Uuid,
    pub agency: String,
    pub json: String,
    pub prev_hash: String,
    pub hash: String,
}

/// A `fee_paid` event as the `payments` table records it.
pub(crate) struct PaidRow {
    pub reference: String,
    pub amount_vnd: i64,
    pub method: motcua_domain::payment::PaymentMethod,
    pub transaction_id: Option<String>,
    pub receipt: Option<String>,
    pub receipt_no: Option<String>,
    pub at: DateTime<Utc>,
    pub actor: Uuid,
}

/// Everything one execution writes.
pub(crate) struct Plan {
    pub rows: Vec<EventRow>,
    pub after: Dossier,
    pub last_hash: String,
    pub counters: Vec<CounterDelta>,
    pub outbox: Vec<OutboxMessage>,
    /// The new state's canonical JSON.
    pub state_json: String,
    /// The procedure snapshot's JSON (as it appears in the state and the `Submitted` event).
    pub snapshot: Arc<str>,
    /// Each outbox message's payload as JSON text.
    pub outbox_payloads: Vec<String>,
    /// Fees paid, for the `payments` table.
    pub payments: Vec<PaidRow>,
    /// The agency that held the dossier before (none for a new one): its inbox changes too.
    pub before_agency: Option<String>,
}

/// Folds `events` onto `before` (at `version`, chain ending in `last_hash`).
pub(crate) fn plan(
    id: Uuid,
    before: Option<Dossier>,
    last_hash: &str,
    events: &[Event],
) -> Result<Plan, StoreError> {
    let before_agency = before.as_ref().map(|d| d.current_agency.to_string());
    let mut state = before;
    let mut prev = last_hash.to_string();
    let mut rows = Vec::with_capacity(events.len());
    let mut counters = Vec::new();
    let mut outbox = Vec::new();
    let mut payments = Vec::new();
    for ev in events {
        if let motcua_domain::dossier::EventBody::FeePaid {
            reference,
            amount_vnd,
            method,
            transaction_id,
            receipt,
            receipt_no,
        } = &ev.body
        {
            payments.push(PaidRow {
                reference: reference.clone(),
                amount_vnd: *amount_vnd,
                method: *method,
                transaction_id: transaction_id.clone(),
                receipt: receipt.clone(),
                receipt_no: receipt_no.clone(),
                at: ev.at,
                actor: ev.actor.user_id,
            });
        }
        let seq = state.as_ref().map_or(0, |d| d.version) + 1;
        let json = serde_json::to_string(ev).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let hash = event_hash(&prev, seq, &json);
        let after = apply(state.clone(), id, ev)?;
        counters.extend(counter_deltas(&after, ev));
        counters.extend(stat_deltas(state.as_ref(), &after, ev));
        outbox.extend(outbox_messages(state.as_ref(), &after, ev));
        rows.push(EventRow {
            seq,
            kind: ev.body.kind(),
            at: ev.at,
            actor: ev.actor.user_id,
            agency: ev.agency.to_string(),
            json,
            prev_hash: std::mem::replace(&mut prev, hash.clone()),
            hash,
        });
        state = Some(after);
    }
    let after = state.ok_or_else(|| StoreError::Corrupt("no event to apply".into()))?;
    let state_json =
        serde_json::to_string(&after).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let snapshot: Arc<str> = serde_json::to_string(&after.procedure)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?
        .into();
    let outbox_payloads = outbox.iter().map(|m| m.payload.to_string()).collect();
    Ok(Plan {
        rows,
        after,
        last_hash: prev,
        counters,
        outbox,
        state_json,
        snapshot,
        outbox_payloads,
        payments,
        before_agency,
    })
}

/// Re-checks a stored log: the chain, and that folding it gives `stored` state. Problems are
/// pushed to `problems`; returns the counters the log implies.
pub(crate) fn check_log(
    id: Uuid,
    rows: &[(u64, String, String, String)],
    stored: &str,
    problems: &mut Vec<String>,
) -> Vec<CounterDelta> {
    let mut prev = String::new();
    let mut state: Option<Dossier> = None;
    let mut counters = Vec::new();
    for (seq, json, prev_hash, hash) in rows {
        if *prev_hash != prev {
            problems.push(format!(
                "dossier {id}: event {seq} does not link to the previous hash"
            ));
        }
        let expect = event_hash(prev_hash, *seq, json);
        if expect != *hash {
            problems.push(format!(
                "dossier {id}: event {seq} was altered (hash mismatch)"
            ));
        }
        prev = hash.clone();
        match serde_json::from_str::<Event>(json)
            .map_err(|e| e.to_string())
            .and_then(|ev| {
                let before = state.take();
                apply(before.clone(), id, &ev)
                    .map(|after| (ev, before, after))
                    .map_err(|e| e.to_string())
            }) {
            Ok((ev, before, after)) => {
                counters.extend(counter_deltas(&after, &ev));
                counters.extend(stat_deltas(before.as_ref(), &after, &ev));
                state = Some(after);
            }
            Err(e) => {
                problems.push(format!("dossier {id}: event {seq} cannot be applied: {e}"));
                return counters;
            }
        }
    }
    match serde_json::from_str::<Dossier>(stored) {
        Ok(s) if Some(&s) == state.as_ref() => {}
        Ok(_) => problems.push(format!("dossier {id}: stored state differs from its log")),
        Err(e) => problems.push(format!("dossier {id}: stored state unreadable: {e}")),
    }
    counters
}
