//! Paces a target's deliveries to at most `rate` starts per second (decision 0041): a target's
//! quota, or a ceiling an operator sets so that draining a large backlog leaves the cores to
//! the requests. After an idle spell at most [`BURST`] worth of starts go at once.

use std::time::{Duration, Instant};

/// How much unused time may be caught up at once after a pause: a tenth of a second's starts.
pub const BURST: Duration = Duration::from_millis(100);

/// Books start times `1 / rate` apart.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: Option<Instant>,
}

impl Pacer {
    /// At most `rate` starts per second; 0: no limit.
    pub fn new(rate: u32) -> Pacer {
        Pacer {
            interval: if rate == 0 {
                Duration::ZERO
            } else {
                Duration::from_secs(1) / rate
            },
            next: None,
        }
    }

    /// Books the next start, `now` being the current time: `None` if it may go at once, else
    /// the moment to wait for.
    pub fn book(&mut self, now: Instant) -> Option<Instant> {
        if self.interval.is_zero() {
            return None;
        }
        let earliest = now.checked_sub(BURST).unwrap_or(now);
        let at = match self.next {
            Some(n) if n > earliest => n,
            _ => earliest,
        };
        self.next = Some(at + self.interval);
        (at > now).then_some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Starts as fast as the pacer lets them, on a simulated clock, for `secs`.
    fn starts_in(rate: u32, secs: u64) -> u64 {
        let mut p = Pacer::new(rate);
        let t0 = Instant::now();
        let end = t0 + Duration::from_secs(secs);
        let mut now = t0;
        let mut n = 0;
        loop {
            if let Some(at) = p.book(now) {
                now = at;
            }
            if now >= end {
                return n;
            }
            n += 1;
        }
    }

    #[test]
    fn no_limit_never_waits() {
        let mut p = Pacer::new(0);
        let now = Instant::now();
        assert!((0..10_000).all(|_| p.book(now).is_none()));
    }

    #[test]
    fn holds_the_rate_over_time_with_at_most_one_burst() {
        for rate in [1, 7, 100, 2_000, 50_000] {
            let n = starts_in(rate, 10);
            let burst = (rate as u64) / 10; // BURST is a tenth of a second
            assert!(
                n >= rate as u64 * 10 && n <= rate as u64 * 10 + burst + 1,
                "rate {rate}: {n} starts in 10 s"
            );
        }
    }

    #[test]
    fn a_pause_is_caught_up_by_at_most_the_burst() {
        let mut p = Pacer::new(1_000);
        let t0 = Instant::now();
        // Busy for a second, then silent for a minute.
        let mut now = t0;
        for _ in 0..1_000 {
            if let Some(at) = p.book(now) {
                now = at;
            }
        }
        let later = now + Duration::from_secs(60);
        let at_once = (0..1_000).take_while(|_| p.book(later).is_none()).count();
        assert!((99..=101).contains(&at_once), "{at_once} started at once");
    }

    #[test]
    fn a_slow_consumer_is_never_made_to_wait() {
        // Starts further apart than the interval go at once, whatever came before.
        let mut p = Pacer::new(10);
        let t0 = Instant::now();
        for i in 0..100u32 {
            assert_eq!(
                p.book(t0 + Duration::from_millis(200) * i),
                None,
                "start {i}"
            );
        }
    }
}
