//! What an outside system looks like to the dispatcher.

use motcua_store::OutboxEntry;
use std::future::Future;
use std::pin::Pin;

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The target could not be reached, timed out, failed (5xx) or answered something we could
    /// not read: try again later; counts against the circuit breaker.
    #[error("{0}")]
    Unavailable(String),
    /// The target understood and refused the message: trying again cannot help, so it becomes
    /// a dead letter at once for an operator to look at.
    #[error("{0}")]
    Rejected(String),
}

/// A future returned by [`Target::deliver`].
pub type Delivery<'a> = Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>>;

/// A future returned by [`Target::deliver_batch`]: one outcome per message, in their order.
pub type BatchDelivery<'a> =
    Pin<Box<dyn Future<Output = Vec<Result<(), DeliveryError>>> + Send + 'a>>;

/// An outside system that receives the outbox messages of one topic.
pub trait Target: Send + Sync + 'static {
    /// The outbox topic it receives, e.g. `dvcqg.sync`.
    fn topic(&self) -> &str;

    /// Delivers one message; `Ok` once the target acknowledged it. The message's key must be
    /// sent as its idempotency key: a message may be delivered more than once (a lost answer).
    fn deliver<'a>(&'a self, message: &'a OutboxEntry) -> Delivery<'a>;

    /// Most messages it takes in one [`Target::deliver_batch`] (1, the default: one at a time).
    fn batch_limit(&self) -> usize {
        1
    }

    /// Delivers several messages, each of a different dossier (the dispatcher never holds two
    /// of one dossier at once), and answers each one's outcome, in their order. A target whose
    /// protocol takes lists sends them together (decision 0050); by default, one after another.
    fn deliver_batch<'a>(&'a self, messages: &'a [OutboxEntry]) -> BatchDelivery<'a> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(messages.len());
            for m in messages {
                out.push(self.deliver(m).await);
            }
            out
        })
    }
}

/// A pending outbox message of `topic` under `key` (partition: the key's part before `:`), as
/// the dispatcher hands it to a target: for the adapters' tests.
#[cfg(test)]
pub(crate) fn pending_entry(topic: &str, key: &str, payload: serde_json::Value) -> OutboxEntry {
    OutboxEntry {
        id: 1,
        topic: topic.into(),
        key: key.into(),
        partition: key.split(':').next().unwrap_or_default().into(),
        payload,
        attempts: 0,
        status: motcua_store::OutboxStatus::Pending,
        created_at: chrono::Utc::now(),
        next_attempt_at: None,
        last_error: None,
        acked_at: None,
    }
}
