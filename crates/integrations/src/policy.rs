//! When to try a failed message again: exponential backoff with jitter, and when to give up.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Retry policy of a target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Delay after the first failure, in milliseconds.
    pub base_ms: u64,
    /// Longest delay, in milliseconds.
    pub max_ms: u64,
    /// The attempt that makes a message a dead letter.
    pub max_attempts: i32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base_ms: 1_000,
            max_ms: 15 * 60 * 1_000,
            max_attempts: 12,
        }
    }
}

impl RetryPolicy {
    /// The delay before attempt `failed + 1` after `failed` failures (1 or more): doubling from
    /// `base_ms` up to `max_ms`, then a random part of it ("equal jitter": between half and all
    /// of it), so that messages failed together do not come back together. `unit` is a random
    /// number in `[0, 1)`.
    pub fn delay(&self, failed: i32, unit: f64) -> Duration {
        let exp = failed.clamp(1, 40) as u32 - 1;
        let full = self
            .base_ms
            .saturating_mul(1u64.checked_shl(exp).unwrap_or(u64::MAX))
            .min(self.max_ms);
        let jittered = full as f64 * (0.5 + 0.5 * unit.clamp(0.0, 1.0));
        Duration::milliseconds(jittered as i64)
    }

    /// When to try again after the `failed`-th failure, with fresh randomness.
    pub fn retry_at(&self, now: DateTime<Utc>, failed: i32) -> DateTime<Utc> {
        now + self.delay(failed, rand::random::<f64>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_jitter_and_caps() {
        let p = RetryPolicy {
            base_ms: 1_000,
            max_ms: 60_000,
            max_attempts: 5,
        };
        assert_eq!(p.delay(1, 0.0), Duration::milliseconds(500));
        assert_eq!(p.delay(1, 0.999_999), Duration::milliseconds(999));
        assert_eq!(p.delay(2, 0.0), Duration::milliseconds(1_000));
        assert_eq!(p.delay(3, 0.0), Duration::milliseconds(2_000));
        // Capped, still jittered.
        assert_eq!(p.delay(30, 0.0), Duration::milliseconds(30_000));
        assert_eq!(p.delay(1_000, 0.5), Duration::milliseconds(45_000));
        // Random retry times spread over the window.
        let now = Utc::now();
        let times: std::collections::HashSet<_> = (0..50).map(|_| p.retry_at(now, 4)).collect();
        assert!(times.len() > 10);
        assert!(
            times
                .iter()
                .all(|t| *t >= now + Duration::seconds(4) && *t <= now + Duration::seconds(8))
        );
    }
}
