//! A circuit breaker per target: after `threshold` failures in a row it opens and no message
//! is sent for `cooldown`; then one probe goes out (half-open); its success closes the circuit,
//! its failure opens it again. A target that is down is then asked once per cooldown instead
//! of once per message.

use std::time::{Duration, Instant};

/// What the dispatcher may do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Send up to this many messages at once.
    Open(usize),
    /// Send nothing for this long.
    Wait(Duration),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

/// The breaker of one target.
#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    cooldown: Duration,
    state: State,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(threshold: u32, cooldown: Duration) -> Breaker {
        Breaker {
            threshold: threshold.max(1),
            cooldown,
            state: State::Closed { failures: 0 },
        }
    }

    /// Whether the circuit is open (nothing is sent).
    pub fn is_open(&self) -> bool {
        !matches!(self.state, State::Closed { .. })
    }

    /// How many messages may go out now, given `concurrency` when closed.
    pub fn gate(&mut self, now: Instant, concurrency: usize) -> Gate {
        match self.state {
            State::Closed { .. } => Gate::Open(concurrency),
            State::Open { until } if now < until => Gate::Wait(until - now),
            State::Open { .. } => {
                self.state = State::HalfOpen { probing: true };
                Gate::Open(1)
            }
            // A probe is out: wait for its answer.
            State::HalfOpen { probing: true } => Gate::Wait(Duration::from_millis(50)),
            State::HalfOpen { probing: false } => {
                self.state = State::HalfOpen { probing: true };
                Gate::Open(1)
            }
        }
    }

    /// A delivery succeeded.
    pub fn success(&mut self) {
        self.state = State::Closed { failures: 0 };
    }

    /// A delivery failed (the target's fault: unreachable, timeout, 5xx, malformed answer).
    pub fn failure(&mut self, now: Instant) {
        self.state = match self.state {
            State::Closed { failures } if failures + 1 < self.threshold => State::Closed {
                failures: failures + 1,
            },
            _ => State::Open {
                until: now + self.cooldown,
            },
        };
    }

    /// A probe was claimed but found nothing to send: let the next one try.
    pub fn probe_unused(&mut self) {
        if let State::HalfOpen { probing: true } = self.state {
            self.state = State::HalfOpen { probing: false };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_probes_after_cooldown() {
        let t = Instant::now();
        let cool = Duration::from_secs(10);
        let mut b = Breaker::new(3, cool);
        assert_eq!(b.gate(t, 8), Gate::Open(8));
        b.failure(t);
        b.failure(t);
        assert_eq!(b.gate(t, 8), Gate::Open(8), "two failures: still closed");
        b.success();
        b.failure(t);
        b.failure(t);
        assert!(!b.is_open(), "a success resets the count");
        b.failure(t);
        assert!(b.is_open());
        assert_eq!(
            b.gate(t + Duration::from_secs(4), 8),
            Gate::Wait(Duration::from_secs(6))
        );
        // Half-open: one probe, nothing else until it answers.
        assert_eq!(b.gate(t + cool, 8), Gate::Open(1));
        assert!(matches!(b.gate(t + cool, 8), Gate::Wait(_)));
        // The probe fails: open again for a full cooldown.
        b.failure(t + cool);
        assert_eq!(b.gate(t + cool, 8), Gate::Wait(cool));
        assert_eq!(b.gate(t + cool * 2, 8), Gate::Open(1));
        b.probe_unused();
        assert_eq!(b.gate(t + cool * 2, 8), Gate::Open(1));
        b.success();
        assert_eq!(b.gate(t + cool * 2, 8), Gate::Open(8));
    }
}
