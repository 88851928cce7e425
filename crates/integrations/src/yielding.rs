//! The dispatcher yields to requests (decision 0038; experimental, off by default).
//!
//! A backlog drains on the CPU and the database the requests also use; a lower thread priority
//! alone did not keep the requests' latency (docs/benchmarks.md, issue 7). So each target's
//! deliveries follow the requests' latency, additive increase, multiplicative decrease: every
//! `yield_every_ms`, when the smoothed mean latency of the requests served is more than
//! `yield_tolerance` above the lowest smoothed mean seen lately, the limit on deliveries in
//! flight shrinks by a quarter, and at one delivery a pause between deliveries grows instead;
//! otherwise the pause shrinks away first, then the limit grows by one; when (almost) no
//! request came it goes back quickly to the target's `concurrency`. "Lately": the lowest mean
//! drifts up by 0.5 % an interval, so that a heavier mix of requests becomes the new normal
//! within about a minute instead of holding the drain back for ever.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, watch};

/// The requests served so far by this process: how many, and their total duration in
/// microseconds (both only ever grow).
pub type Foreground = Arc<dyn Fn() -> (u64, u64) + Send + Sync>;

/// Fewer requests than this in an interval say nothing about their latency: the drain may run
/// at full speed.
const MIN_REQUESTS: u64 = 10;
/// How much the lowest mean drifts up each interval.
const DRIFT: f64 = 0.005;
/// The shortest pause between two deliveries' starts, in microseconds, once one in flight is
/// still too many (a delivery to a nearby system takes a fraction of a millisecond, so one in
/// flight alone may still drain thousands a second).
const MIN_GAP_US: u64 = 200;
/// The longest pause: the drain never falls below a hundred messages a second.
const MAX_GAP_US: u64 = 10_000;
/// Weight of the newest interval in the smoothed mean latency: one interval's mean is noisy
/// (a few hundred requests), and the lowest of noisy means sits in their low tail, below which
/// every ordinary interval would look slow.
const SMOOTHING: f64 = 0.3;

/// The limit on deliveries in flight of one target, following the requests' latency.
#[derive(Clone, Debug)]
pub struct Governor {
    max: usize,
    limit: usize,
    gap_us: u64,
    tolerance: f64,
    smoothed: Option<f64>,
    lowest: Option<f64>,
    last: (u64, u64),
}

impl Governor {
    /// A governor for at most `max` deliveries in flight, cutting when the mean request latency
    /// is `tolerance` (0.1 = 10 %) above the lowest seen lately; `start` is the foreground's
    /// reading now. It starts at one delivery, so that the requests' usual latency is seen
    /// before a backlog found at start-up runs at full speed (2.5 s to 64 without requests).
    pub fn new(max: usize, tolerance: f64, start: (u64, u64)) -> Governor {
        let max = max.max(1);
        Governor {
            max,
            limit: 1,
            gap_us: 0,
            tolerance: tolerance.max(0.0),
            smoothed: None,
            lowest: None,
            last: start,
        }
    }

    /// Deliveries in flight allowed now.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The pause between two deliveries' starts (zero but at one delivery in flight).
    pub fn gap(&self) -> Duration {
        Duration::from_micros(self.gap_us)
    }

    /// One interval has passed and the foreground reads `now`: the new limit. Below one
    /// delivery in flight the drain slows further by pausing between deliveries
    /// ([`gap`](Self::gap)), which shrinks away first when the requests recover.
    pub fn step(&mut self, now: (u64, u64)) -> usize {
        let n = now.0.saturating_sub(self.last.0);
        let total = now.1.saturating_sub(self.last.1);
        self.last = now;
        if n < MIN_REQUESTS {
            // Nobody waits on the server: catch up fast.
            self.gap_us = 0;
            self.limit = (self.limit + self.limit.div_ceil(2)).min(self.max);
            return self.limit;
        }
        let mean = total as f64 / n as f64;
        let mean = match self.smoothed {
            Some(m) => m + SMOOTHING * (mean - m),
            None => mean,
        };
        self.smoothed = Some(mean);
        let lowest = match self.lowest {
            Some(l) => (l * (1.0 + DRIFT)).min(mean),
            None => mean,
        };
        self.lowest = Some(lowest);
        if mean > lowest * (1.0 + self.tolerance) {
            if self.limit > 1 {
                self.limit = (self.limit * 3 / 4).max(1);
            } else {
                self.gap_us = (self.gap_us * 4 / 3).clamp(MIN_GAP_US, MAX_GAP_US);
            }
        } else if self.gap_us > 0 {
            self.gap_us = self.gap_us * 3 / 4;
            if self.gap_us < MIN_GAP_US {
                self.gap_us = 0;
            }
        } else {
            self.limit = (self.limit + 1).min(self.max);
        }
        self.limit
    }
}

/// The limit on one target's deliveries in flight, shared by the governor that sets it and the
/// loop that starts deliveries. (Not the loop's semaphore resized: a semaphore hands a freed
/// permit to the loop waiting on it before anyone could take it away, so it never shrinks
/// while a backlog drains.)
#[derive(Debug)]
pub struct Limit {
    value: AtomicUsize,
    in_flight: AtomicUsize,
    changed: Notify,
    /// Pause between starts, in microseconds (0: none).
    gap_us: AtomicU64,
    /// When the next delivery may start, while there is a pause.
    next: Mutex<Option<Instant>>,
}

impl Limit {
    /// A limit of `value` (at least one).
    pub fn new(value: usize) -> Limit {
        Limit {
            value: AtomicUsize::new(value.max(1)),
            in_flight: AtomicUsize::new(0),
            changed: Notify::new(),
            gap_us: AtomicU64::new(0),
            next: Mutex::new(None),
        }
    }

    /// The limit now.
    pub fn value(&self) -> usize {
        self.value.load(Ordering::Acquire)
    }

    /// Deliveries in flight now (started and not [`done`](Self::done)).
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    fn set(&self, value: usize) {
        if self.value.swap(value.max(1), Ordering::AcqRel) < value {
            self.changed.notify_one();
        }
    }

    fn set_gap(&self, gap: Duration) {
        self.gap_us.store(gap.as_micros() as u64, Ordering::Release);
    }

    /// Waits until fewer deliveries than the limit are in flight and, when there is a pause
    /// between deliveries, until it has passed; then counts one more in flight.
    pub async fn start(&self) {
        self.admit().await;
        let gap = self.gap_us.load(Ordering::Acquire);
        let at = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            if gap == 0 {
                *next = None;
                None
            } else {
                let now = Instant::now();
                let at = next.map_or(now, |t| t.max(now));
                *next = Some(at + Duration::from_micros(gap));
                Some(at)
            }
        };
        if let Some(at) = at {
            tokio::time::sleep_until(at.into()).await;
        }
    }

    async fn admit(&self) {
        loop {
            let changed = self.changed.notified();
            let n = self.in_flight.load(Ordering::Acquire);
            if n < self.value()
                && self
                    .in_flight
                    .compare_exchange(n, n + 1, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                return;
            }
            // A missed wake-up costs at most this pause.
            let _ = tokio::time::timeout(Duration::from_millis(50), changed).await;
        }
    }

    /// One delivery counted by [`start`](Self::start) has finished.
    pub fn done(&self) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.changed.notify_one();
    }
}

/// Sets `limit` (of a target whose deliveries in flight are at most `max`) from the
/// foreground's latency every `every`, until `stop`; then lifts it to `max`.
pub async fn govern(
    foreground: Foreground,
    limit: Arc<Limit>,
    max: usize,
    tolerance: f64,
    every: Duration,
    topic: String,
    mut stop: watch::Receiver<bool>,
) {
    let mut g = Governor::new(max, tolerance, foreground());
    limit.set(g.limit());
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
        limit.set(g.step(foreground()));
        limit.set_gap(g.gap());
        metrics::gauge!("motcua_outbox_limit", "target" => topic.clone()).set(limit.value() as f64);
    }
    limit.set_gap(Duration::ZERO);
    limit.set(max);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` requests of `us` microseconds each after `at`.
    fn after(at: (u64, u64), n: u64, us: u64) -> (u64, u64) {
        (at.0 + n, at.1 + n * us)
    }

    #[test]
    fn without_requests_the_limit_climbs_to_the_maximum_and_stays() {
        let mut g = Governor::new(64, 0.1, (0, 0));
        assert_eq!(g.limit(), 1);
        let steps: Vec<usize> = (0..10).map(|_| g.step((3, 3000))).collect();
        assert_eq!(steps, vec![2, 3, 5, 8, 12, 18, 27, 41, 62, 64]);
        for _ in 0..10 {
            assert_eq!(g.step((3, 3000)), 64);
        }
    }

    #[test]
    fn slower_requests_shrink_the_limit_down_to_one_and_steady_ones_grow_it_back() {
        let mut g = Governor::new(64, 0.1, (0, 0));
        let mut at = (0, 0);
        for _ in 0..10 {
            g.step(at);
        }
        at = after(at, 200, 1000);
        assert_eq!(g.step(at), 64, "the first interval sets the lowest mean");
        at = after(at, 200, 1500);
        assert_eq!(g.step(at), 48, "50 % slower: a quarter off");
        for _ in 0..20 {
            at = after(at, 200, 1500);
            g.step(at);
        }
        assert_eq!(
            g.limit(),
            1,
            "still slower: down to one delivery, never zero"
        );
        assert!(g.gap() > Duration::ZERO, "then pauses between deliveries");
        // Back to normal: the pauses shrink away first, then one more in flight.
        let mut steps = 0;
        while g.gap() > Duration::ZERO {
            at = after(at, 200, 1000);
            assert_eq!(g.step(at), 1);
            steps += 1;
            assert!(steps < 100, "{g:?}");
        }
        at = after(at, 200, 1000);
        assert_eq!(g.step(at), 2, "back to normal: one more");
        at = after(at, 200, 1050);
        assert_eq!(g.step(at), 3, "within the tolerance: one more");
    }

    #[test]
    fn a_quiet_spell_brings_the_limit_back_fast() {
        let mut g = Governor::new(64, 0.1, (0, 0));
        let mut at = after((0, 0), 200, 1000);
        g.step(at);
        for _ in 0..20 {
            at = after(at, 200, 2000);
            g.step(at);
        }
        assert_eq!(g.limit(), 1);
        let steps: Vec<usize> = (0..8).map(|_| g.step(at)).collect();
        assert_eq!(steps, vec![2, 3, 5, 8, 12, 18, 27, 41]);
        assert_eq!(g.step(at), 62);
        assert_eq!(g.step(at), 64);
    }

    #[test]
    fn a_heavier_mix_becomes_the_new_normal() {
        let mut g = Governor::new(16, 0.1, (0, 0));
        let mut at = after((0, 0), 200, 1000);
        g.step(at);
        // Requests twice as slow for good (another mix), the drain at its lowest meanwhile.
        let mut steps = 0;
        let mut fell = false;
        loop {
            at = after(at, 200, 2000);
            fell |= g.step(at) == 1;
            steps += 1;
            if fell && g.limit() == 16 {
                break;
            }
            assert!(steps < 400, "the drain never came back: {g:?}");
        }
        assert!(
            steps > 100,
            "the lowest mean drifts slowly ({steps} intervals)"
        );
    }

    /// Waits (real time, at most 10 s) until `limit`'s value satisfies `ok`.
    async fn wait_for(limit: &Limit, ok: impl Fn(usize) -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !ok(limit.value()) {
            assert!(
                std::time::Instant::now() < deadline,
                "limit {}",
                limit.value()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test]
    async fn govern_follows_the_requests_and_lifts_the_limit_on_stop() {
        // Each reading: 100 more requests of the current mean latency.
        let mean = Arc::new(AtomicU64::new(1000));
        let served = Arc::new(Mutex::new((0u64, 0u64)));
        let (m, sv) = (mean.clone(), served.clone());
        let fg: Foreground = Arc::new(move || {
            let mut s = sv.lock().unwrap();
            s.0 += 100;
            s.1 += 100 * m.load(Ordering::SeqCst);
            *s
        });
        let limit = Arc::new(Limit::new(8));
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(govern(
            fg,
            limit.clone(),
            8,
            0.1,
            Duration::from_millis(20),
            "test".into(),
            stop_rx,
        ));
        // From one delivery up, one more an interval while requests run as usual.
        wait_for(&limit, |l| l < 8).await;
        wait_for(&limit, |l| l == 8).await;
        // Requests four times slower: down to one delivery in flight.
        mean.store(4000, Ordering::SeqCst);
        wait_for(&limit, |l| l == 1).await;
        // Back to normal: it grows again.
        mean.store(1000, Ordering::SeqCst);
        wait_for(&limit, |l| l > 2).await;
        mean.store(4000, Ordering::SeqCst);
        wait_for(&limit, |l| l == 1).await;
        stop_tx.send(true).unwrap();
        task.await.unwrap();
        assert_eq!(limit.value(), 8, "no limit once stopped");
    }

    #[tokio::test]
    async fn start_waits_below_the_limit_and_a_raise_lets_it_go() {
        let limit = Arc::new(Limit::new(2));
        limit.start().await;
        limit.start().await;
        assert_eq!(limit.in_flight(), 2);
        let third = {
            let l = limit.clone();
            tokio::spawn(async move { l.start().await })
        };
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(
            !third.is_finished(),
            "a third delivery started over the limit"
        );
        limit.done();
        tokio::time::timeout(Duration::from_secs(5), third)
            .await
            .expect("a finished delivery lets the next start")
            .unwrap();
        let fourth = {
            let l = limit.clone();
            tokio::spawn(async move { l.start().await })
        };
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(!fourth.is_finished());
        limit.set(3);
        tokio::time::timeout(Duration::from_secs(5), fourth)
            .await
            .expect("a raised limit lets the next start")
            .unwrap();
        assert_eq!(limit.in_flight(), 3);
    }

    #[tokio::test]
    async fn a_pause_spaces_the_starts_and_none_lets_them_go_at_once() {
        let limit = Limit::new(4);
        limit.set_gap(Duration::from_millis(40));
        let t = Instant::now();
        for _ in 0..4 {
            limit.start().await;
            limit.done();
        }
        assert!(
            t.elapsed() >= Duration::from_millis(120),
            "{:?}",
            t.elapsed()
        );
        limit.set_gap(Duration::ZERO);
        let t = Instant::now();
        for _ in 0..4 {
            limit.start().await;
            limit.done();
        }
        assert!(t.elapsed() < Duration::from_millis(40), "{:?}", t.elapsed());
    }
}
