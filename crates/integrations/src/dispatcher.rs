//! The outbox dispatcher: one Tokio task per target claims deliverable messages from the store
//! (leased, so several nodes can share the work), delivers them concurrently up to the target's
//! limit, each under a timeout, and acknowledges or fails them. Failures come back after an
//! exponential, jittered delay and become dead letters after the last attempt; a circuit
//! breaker stops calling a target that keeps failing. Request handlers never wait for any of
//! this: they only write the outbox rows, in the same transaction as their events.

use crate::breaker::{Breaker, Gate};
use crate::pacer::Pacer;
use crate::policy::RetryPolicy;
use crate::target::{DeliveryError, Target};
use crate::yielding::{Foreground, Limit};
use chrono::Utc;
use motcua_store::{OutboxClaim, OutboxEntry, OutboxFailure, OutboxStatus, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

/// Settings of the dispatcher as a whole.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DispatcherSettings {
    /// Run the dispatcher in `motcua serve`.
    pub enabled: bool,
    /// Name of this node in leases (default: host name, process id and a random suffix).
    pub node: String,
    /// Pause between claims when nothing is deliverable, in milliseconds.
    pub poll_ms: u64,
    /// Most messages claimed at once per target.
    pub batch: u32,
    /// Lease on a claimed message, in seconds: longer than a delivery (timeout) can take.
    pub lease_secs: u64,
    /// How often the queue depth gauges are refreshed, in seconds.
    pub depth_every_secs: u64,
    /// Delivered messages are deleted this many days after their acknowledgement (0: kept
    /// forever). The per-day counts that reconciliation reads are kept apart and stay.
    pub keep_delivered_days: u32,
    /// How often delivered messages past `keep_delivered_days` are pruned, in seconds.
    pub prune_every_secs: u64,
    /// Worker threads of the dispatcher's own runtime in `motcua serve` (decision 0029).
    pub threads: usize,
    /// How long a delivered message may wait for others to share its acknowledgement's
    /// transaction, in milliseconds (0: acknowledge what has arrived at once). During a drain
    /// this turns hundreds of small write transactions a second into a few large ones
    /// (decision 0041); a message waits at most this long before it counts as delivered.
    pub ack_linger_ms: u64,
    /// How many levels nicer than the server's threads the dispatcher's threads run (Linux
    /// per-thread niceness, 0-19; 0: same priority), so that draining a backlog takes only
    /// the CPU the requests leave (decision 0029).
    pub nice: i32,
    /// Run the dispatcher's threads in Linux's `SCHED_IDLE` class instead of at `nice`: only on
    /// CPU time nothing else wants, a request thread that wakes taking the core at once, so a
    /// drain barely touches the requests' latency (decision 0041). Under a load that keeps
    /// every core busy for long the deliveries wait (in the outbox: nothing is lost) until it
    /// falls.
    pub idle: bool,
    /// Hold deliveries back while the requests this process serves run slower than usual
    /// (decision 0038; experimental, off by default: not yet shown to keep the requests' p99;
    /// only where the server hands the dispatcher its request latencies, as `motcua serve`
    /// does): each target's deliveries in flight shrink by a quarter (at one, with a growing
    /// pause between them) when the smoothed mean request latency is more than
    /// `yield_tolerance` above the lowest seen lately, and grow back otherwise, to its
    /// `concurrency` when no request comes.
    pub yield_to_requests: bool,
    /// How much slower than usual the requests may run before the drain gives way (0.1: 10 %).
    pub yield_tolerance: f64,
    /// How often the deliveries in flight are adjusted, in milliseconds.
    pub yield_every_ms: u64,
    /// How often the operators' holds on targets are read, in milliseconds (decision 0053):
    /// a hold placed on any node stops this node's claims for that target within this time.
    pub hold_check_ms: u64,
}

impl Default for DispatcherSettings {
    fn default() -> Self {
        DispatcherSettings {
            enabled: true,
            node: String::new(),
            poll_ms: 200,
            batch: 256,
            lease_secs: 120,
            depth_every_secs: 10,
            keep_delivered_days: 30,
            prune_every_secs: 3600,
            threads: 1,
            ack_linger_ms: 25,
            nice: 10,
            idle: false,
            yield_to_requests: false,
            yield_tolerance: 0.1,
            yield_every_ms: 250,
            hold_check_ms: 500,
        }
    }
}

/// Settings of one target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TargetSettings {
    /// Most deliveries in flight at once (a delivery to a target that takes lists carries up
    /// to its [`Target::batch_limit`] messages, decision 0050).
    pub concurrency: usize,
    /// Longest wait for one delivery, in milliseconds.
    pub timeout_ms: u64,
    /// Retries and dead letters.
    pub retry: RetryPolicy,
    /// Failures in a row that open the circuit.
    pub breaker_threshold: u32,
    /// How long an open circuit stays open, in milliseconds.
    pub breaker_cooldown_ms: u64,
    /// Most deliveries started per second (0: no limit): a target's quota, or a ceiling that
    /// leaves the cores to the requests while a large backlog drains (decision 0041).
    pub rate_per_sec: u32,
}

impl Default for TargetSettings {
    fn default() -> Self {
        TargetSettings {
            concurrency: 16,
            timeout_ms: 10_000,
            retry: RetryPolicy::default(),
            breaker_threshold: 5,
            breaker_cooldown_ms: 30_000,
            rate_per_sec: 0,
        }
    }
}

/// The dispatcher, before it runs.
pub struct Dispatcher {
    store: Store,
    settings: DispatcherSettings,
    targets: Vec<(Arc<dyn Target>, TargetSettings)>,
    foreground: Option<Foreground>,
}

/// A running dispatcher.
pub struct DispatcherHandle {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// Its own runtime, when it has one ([`Dispatcher::spawn_on`] + [`DispatcherHandle::owning`]).
    runtime: Option<tokio::runtime::Runtime>,
    /// The lease owner name of this node.
    pub node: String,
}

impl DispatcherHandle {
    /// Keeps `rt` (the runtime the dispatcher was spawned on) until [`DispatcherHandle::stop`].
    pub fn owning(mut self, rt: tokio::runtime::Runtime) -> DispatcherHandle {
        self.runtime = Some(rt);
        self
    }

    /// Stops claiming, waits for deliveries in flight and their acknowledgements, then shuts
    /// its own runtime down if it has one.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        for t in std::mem::take(&mut self.tasks) {
            let _ = t.await;
        }
        // Drop shuts the runtime down: its tasks are done; idle connections and timers go.
    }
}

impl Drop for DispatcherHandle {
    /// Without [`DispatcherHandle::stop`]: an own runtime stops at once (in-flight deliveries
    /// are abandoned: their leases expire and they go again); tasks on a shared runtime run
    /// until it ends.
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            // Never blocks, so it may run inside another runtime.
            rt.shutdown_background();
        }
    }
}

/// A default node name: host, process and a random suffix (two processes never share it).
fn default_node() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into());
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &suffix[..8])
}

impl Dispatcher {
    /// A dispatcher over `store` with no targets yet.
    pub fn new(store: Store, settings: DispatcherSettings) -> Dispatcher {
        Dispatcher {
            store,
            settings,
            targets: Vec::new(),
            foreground: None,
        }
    }

    /// The requests this process serves (count and total latency), which the deliveries
    /// yield to when `yield_to_requests` is set (decision 0038).
    pub fn yielding_to(mut self, foreground: Foreground) -> Dispatcher {
        self.foreground = Some(foreground);
        self
    }

    /// Adds a target.
    pub fn target(mut self, t: Arc<dyn Target>, s: TargetSettings) -> Dispatcher {
        self.targets.push((t, s));
        self
    }

    /// Starts one task per target and one for the depth gauges, on the current runtime.
    pub fn spawn(self) -> DispatcherHandle {
        self.spawn_on(&tokio::runtime::Handle::current())
    }

    /// Starts one task per target and one for the depth gauges on the runtime of `rt` (e.g.
    /// the low-priority one of [`crate::background::runtime`]).
    pub fn spawn_on(self, rt: &tokio::runtime::Handle) -> DispatcherHandle {
        let node = if self.settings.node.is_empty() {
            default_node()
        } else {
            self.settings.node.clone()
        };
        let (stop, rx) = watch::channel(false);
        let mut tasks = Vec::new();
        // The held targets, `None` until first read: no lane claims before it knows.
        let (holds_tx, holds) = watch::channel(None);
        tasks.push(rt.spawn(watch_holds(
            self.store.clone(),
            Duration::from_millis(self.settings.hold_check_ms.max(1)),
            holds_tx,
            rx.clone(),
        )));
        let topics: BTreeSet<String> = self
            .targets
            .iter()
            .map(|(t, _)| t.topic().to_string())
            .collect();
        for (target, ts) in self.targets {
            let lane = Lane {
                store: self.store.clone(),
                node: node.clone(),
                settings: self.settings.clone(),
                breaker: Arc::new(Mutex::new(Breaker::new(
                    ts.breaker_threshold,
                    Duration::from_millis(ts.breaker_cooldown_ms),
                ))),
                target,
                ts,
                foreground: self
                    .foreground
                    .clone()
                    .filter(|_| self.settings.yield_to_requests),
            };
            tasks.push(rt.spawn(lane.run(rx.clone(), holds.clone())));
        }
        if self.settings.keep_delivered_days > 0 {
            tasks.push(rt.spawn(prune_delivered(
                self.store.clone(),
                self.settings.keep_delivered_days,
                Duration::from_secs(self.settings.prune_every_secs.max(1)),
                rx.clone(),
            )));
        }
        tasks.push(rt.spawn(depth_gauges(
            self.store.clone(),
            topics,
            Duration::from_secs(self.settings.depth_every_secs.max(1)),
            rx,
        )));
        tracing::info!(node, "outbox dispatcher started");
        DispatcherHandle {
            stop,
            tasks,
            runtime: None,
            node,
        }
    }
}

/// The held targets as [`watch_holds`] last read them (`None`: not read yet).
type Holds = watch::Receiver<Option<BTreeSet<String>>>;

/// Reads the operators' holds (decision 0053) every `every` into `tx` until asked to stop. A
/// failed read keeps what was read before (and, before any, holds nothing: the store that
/// failed fails the claims too, and a hold is an operator's choice, not a safety lock).
async fn watch_holds(
    store: Store,
    every: Duration,
    tx: watch::Sender<Option<BTreeSet<String>>>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let read = match store.outbox_holds().await {
            Ok(h) => Some(h.into_iter().map(|h| h.topic).collect::<BTreeSet<_>>()),
            Err(e) => {
                tracing::warn!(error = %e, "reading the outbox holds failed");
                None
            }
        };
        tx.send_if_modified(|cur| match (read, cur.is_none()) {
            (Some(set), _) if cur.as_ref() != Some(&set) => {
                *cur = Some(set);
                true
            }
            (None, true) => {
                *cur = Some(BTreeSet::new());
                true
            }
            _ => false,
        });
        if pause(every, &mut stop).await {
            break;
        }
    }
}

/// Sleeps for `d` or until asked to stop; true if asked to stop.
async fn pause(d: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(d) => *stop.borrow(),
        _ = stop.changed() => true,
    }
}

/// Most delivered messages deleted in one transaction when pruning: small enough that the
/// SQLite writer is never held for long; the pruner yields between batches.
pub const PRUNE_BATCH: u32 = 5_000;

/// Deletes every delivered message acknowledged more than `keep_days` ago, batch by batch;
/// returns how many. Used by the dispatcher's pruning task and `motcua outbox prune`.
pub async fn prune_once(store: &Store, keep_days: u32) -> motcua_store::Result<u64> {
    let before = Utc::now() - chrono::Duration::days(i64::from(keep_days));
    let mut total = 0;
    loop {
        let n = store.outbox_prune(before, PRUNE_BATCH).await?;
        total += n;
        if n < u64::from(PRUNE_BATCH) {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// Every `every`, deletes delivered messages older than `keep_days` so that a busy outbox does
/// not grow without bound (a million dossiers a year write several million messages).
async fn prune_delivered(
    store: Store,
    keep_days: u32,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match prune_once(&store, keep_days).await {
            Ok(0) => {}
            Ok(n) => {
                metrics::counter!("motcua_outbox_pruned_total").increment(n);
                tracing::info!(deleted = n, keep_days, "pruned delivered outbox messages");
            }
            Err(e) => tracing::warn!(error = %e, "pruning the outbox failed"),
        }
        if pause(every, &mut stop).await {
            return;
        }
    }
}

/// Refreshes the per-target queue gauges from the store (the whole cluster's queue).
async fn depth_gauges(
    store: Store,
    mut known: BTreeSet<String>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match store.outbox_depths().await {
            Ok(depths) => {
                let now = Utc::now();
                let mut seen = BTreeSet::new();
                for d in &depths {
                    let t = d.topic.clone();
                    metrics::gauge!("motcua_outbox_pending", "target" => t.clone())
                        .set(d.pending as f64);
                    metrics::gauge!("motcua_outbox_dead", "target" => t.clone()).set(d.dead as f64);
                    let age = d
                        .oldest_at
                        .map_or(0.0, |o| (now - o).num_milliseconds().max(0) as f64 / 1e3);
                    metrics::gauge!("motcua_outbox_oldest_age_seconds", "target" => t.clone())
                        .set(age);
                    seen.insert(t);
                }
                for t in known.iter().filter(|t| !seen.contains(*t)) {
                    metrics::gauge!("motcua_outbox_pending", "target" => t.clone()).set(0.0);
                    metrics::gauge!("motcua_outbox_dead", "target" => t.clone()).set(0.0);
                    metrics::gauge!("motcua_outbox_oldest_age_seconds", "target" => t.clone())
                        .set(0.0);
                }
                known.extend(seen);
            }
            Err(e) => tracing::warn!(error = %e, "reading the outbox depth failed"),
        }
        if pause(every, &mut stop).await {
            return;
        }
    }
}

/// How many messages one claim round takes: a full round (not just the free slots), so that
/// claims are amortised over many messages, which then start as slots free up, their leases
/// running meanwhile. For a target that takes lists (`per_delivery` > 1), as many messages as
/// slots rounded up to whole lists: a larger claim holds the SQLite writer longer (the
/// requests' writes wait behind it), and the claim ahead keeps the slots busy anyway (decision
/// 0050). A half-open breaker (`allowed` < `concurrency`) probes with single messages. Never
/// more than `cap` (`[integrations.dispatcher] batch`), never none.
fn claim_limit(allowed: usize, concurrency: usize, per_delivery: usize, cap: u32) -> u32 {
    let per_delivery = per_delivery.max(1);
    let n = if allowed >= concurrency {
        allowed.div_ceil(per_delivery).saturating_mul(per_delivery)
    } else {
        allowed
    };
    u32::try_from(n).unwrap_or(u32::MAX).clamp(1, cap.max(1))
}

/// A claim started ahead of need, and when.
type Ahead = (
    Instant,
    tokio::task::JoinHandle<motcua_store::Result<Vec<OutboxEntry>>>,
);

/// One target's delivery loop.
struct Lane {
    store: Store,
    node: String,
    settings: DispatcherSettings,
    target: Arc<dyn Target>,
    ts: TargetSettings,
    breaker: Arc<Mutex<Breaker>>,
    /// The requests to yield to, if any.
    foreground: Option<Foreground>,
}

impl Lane {
    fn gate(&self) -> Gate {
        match self.breaker.lock() {
            Ok(mut b) => b.gate(Instant::now(), self.ts.concurrency.max(1)),
            Err(_) => Gate::Open(1),
        }
    }

    fn probe_unused(&self) {
        if let Ok(mut b) = self.breaker.lock() {
            b.probe_unused();
        }
    }

    /// Claims up to `limit` messages of this lane's target, timed.
    async fn claim(&self, limit: u32) -> motcua_store::Result<Vec<OutboxEntry>> {
        let topic = self.target.topic().to_string();
        let claim = OutboxClaim {
            owner: self.node.clone(),
            topic: Some(topic.clone()),
            limit,
            now: Utc::now(),
            lease: chrono::Duration::seconds(self.settings.lease_secs.max(1) as i64),
        };
        let claimed = Instant::now();
        let batch = self.store.outbox_claim(claim).await;
        metrics::histogram!("motcua_outbox_claim_seconds", "target" => topic.clone())
            .record(claimed.elapsed().as_secs_f64());
        if let Ok(b) = &batch {
            metrics::counter!("motcua_outbox_claims_total", "target" => topic.clone(), "empty" => if b.is_empty() { "true" } else { "false" })
                .increment(1);
            metrics::counter!("motcua_outbox_claimed_total", "target" => topic)
                .increment(b.len() as u64);
        }
        batch
    }

    /// Starts each message's delivery as a slot frees up (and, when the lane yields to
    /// requests, as its `limit` allows), in the batch's order; a target that takes lists gets
    /// up to its [`Target::batch_limit`] messages per delivery, which holds one slot.
    async fn start(
        self: &Arc<Self>,
        batch: Vec<OutboxEntry>,
        slots: &Arc<Semaphore>,
        limit: Option<&Arc<Limit>>,
        pacer: &mut Pacer,
        stop: &watch::Receiver<bool>,
        ack_tx: &mpsc::UnboundedSender<i64>,
    ) {
        let per_delivery = self.target.batch_limit().max(1);
        let mut batch = batch.into_iter().peekable();
        while batch.peek().is_some() {
            let group: Vec<OutboxEntry> = batch.by_ref().take(per_delivery).collect();
            // The target's rate counts messages; once stopping, what is claimed goes without
            // waiting for it (its leases would otherwise hold it from the next start until
            // they ran out).
            let mut at = None;
            for _ in &group {
                at = pacer.book(Instant::now()).or(at);
            }
            if let Some(at) = at
                && !*stop.borrow()
            {
                let mut stop = stop.clone();
                tokio::select! {
                    _ = tokio::time::sleep_until(at.into()) => {}
                    _ = stop.wait_for(|s| *s) => {}
                }
            }
            if let Some(l) = limit {
                l.start().await;
            }
            let Ok(permit) = slots.clone().acquire_owned().await else {
                if let Some(l) = limit {
                    l.done();
                }
                break;
            };
            let me = self.clone();
            let ack_tx = ack_tx.clone();
            let limit = limit.cloned();
            tokio::spawn(async move {
                me.deliver(group, ack_tx).await;
                drop(permit);
                if let Some(l) = limit {
                    l.done();
                }
            });
        }
    }

    async fn run(self, mut stop: watch::Receiver<bool>, mut holds: Holds) {
        let topic = self.target.topic().to_string();
        let concurrency = self.ts.concurrency.max(1);
        let slots = Arc::new(Semaphore::new(concurrency));
        // Deliveries in flight follow the requests' latency (decision 0038).
        let governed = self.foreground.clone().map(|fg| {
            let limit = Arc::new(Limit::new(1));
            let task = tokio::spawn(crate::yielding::govern(
                fg,
                limit.clone(),
                concurrency,
                self.settings.yield_tolerance,
                Duration::from_millis(self.settings.yield_every_ms.max(10)),
                topic.clone(),
                stop.clone(),
            ));
            (limit, task)
        });
        let yielding = governed.as_ref().map(|(l, _)| l.clone());
        let (ack_tx, ack_rx) = mpsc::unbounded_channel::<i64>();
        let acker = tokio::spawn(acker(
            self.store.clone(),
            topic.clone(),
            Duration::from_millis(self.settings.ack_linger_ms),
            ack_rx,
        ));
        let poll = Duration::from_millis(self.settings.poll_ms.max(1));
        let mut pacer = Pacer::new(self.ts.rate_per_sec);
        let me = Arc::new(self);
        // The next batch, claimed while the current one is being delivered: a claim takes
        // milliseconds (tens on a loaded PostgreSQL), during which slots would otherwise free
        // up with nothing to start. At most one batch is claimed ahead, so its leases run for
        // no longer than the delivery of the batch before it.
        let mut ahead: Option<Ahead> = None;
        // A batch claimed ahead that waited longer than this (the breaker opened meanwhile) is
        // let go rather than sent on leases about to run out.
        let stale = Duration::from_secs(me.settings.lease_secs.max(1)) / 2;
        loop {
            if *stop.borrow() {
                break;
            }
            // Held by an operator (or the holds not read yet): claim nothing until that changes.
            // A batch already claimed ahead waits too; if the hold outlasts half its lease it
            // is let go below, and claimed again once the leases run out.
            let held = holds
                .borrow_and_update()
                .as_ref()
                .map(|h| h.contains(&topic));
            metrics::gauge!("motcua_outbox_held", "target" => topic.clone())
                .set(if held == Some(true) { 1.0 } else { 0.0 });
            if held != Some(false) {
                tokio::select! {
                    r = holds.changed() => {
                        // The watcher stopped (only when stopping): wait as for a poll.
                        if r.is_err() && pause(poll, &mut stop).await {
                            break;
                        }
                    }
                    _ = stop.changed() => {}
                }
                continue;
            }
            let allowed = match me.gate() {
                Gate::Open(n) => n,
                Gate::Wait(d) => {
                    metrics::gauge!("motcua_outbox_breaker_open", "target" => topic.clone())
                        .set(1.0);
                    if pause(d.min(Duration::from_secs(1)), &mut stop).await {
                        break;
                    }
                    continue;
                }
            };
            metrics::gauge!("motcua_outbox_breaker_open", "target" => topic.clone()).set(0.0);
            if ahead.is_none() && slots.available_permits() == 0 {
                // Wait until a delivery finishes.
                let waited = Instant::now();
                tokio::select! {
                    p = slots.acquire() => drop(p),
                    _ = stop.changed() => {}
                }
                metrics::histogram!("motcua_outbox_wait_seconds", "target" => topic.clone(), "for" => "slot")
                    .record(waited.elapsed().as_secs_f64());
                continue;
            }
            let limit = claim_limit(
                allowed,
                concurrency,
                me.target.batch_limit(),
                me.settings.batch,
            );
            let batch = match ahead.take() {
                Some((at, h)) => match h.await {
                    // Its leases run out soon (another node may take them then): let it go.
                    Ok(Ok(_)) if at.elapsed() > stale => continue,
                    Ok(b) => b,
                    Err(e) => Err(motcua_store::StoreError::Backend(format!(
                        "the claim ahead stopped: {e}"
                    ))),
                },
                None => me.claim(limit).await,
            };
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(target = %topic, error = %e, "claiming outbox messages failed");
                    me.probe_unused();
                    if pause(poll, &mut stop).await {
                        break;
                    }
                    continue;
                }
            };
            if batch.is_empty() {
                me.probe_unused();
                let waited = Instant::now();
                if pause(poll, &mut stop).await {
                    break;
                }
                metrics::histogram!("motcua_outbox_wait_seconds", "target" => topic.clone(), "for" => "poll")
                    .record(waited.elapsed().as_secs_f64());
                continue;
            }
            // Only while the breaker is closed: a half-open one lets a single probe through.
            if allowed >= concurrency {
                let me = me.clone();
                ahead = Some((
                    Instant::now(),
                    tokio::spawn(async move { me.claim(limit).await }),
                ));
            }
            let spawning = Instant::now();
            me.start(batch, &slots, yielding.as_ref(), &mut pacer, &stop, &ack_tx)
                .await;
            metrics::histogram!("motcua_outbox_wait_seconds", "target" => topic.clone(), "for" => "batch")
                .record(spawning.elapsed().as_secs_f64());
        }
        // A batch claimed ahead is delivered like those in flight: in this process its leases
        // would otherwise keep it from a dispatcher started again until they ran out.
        // Unless the target is held: then its leases run out and it waits for the next start.
        let held = holds.borrow().as_ref().is_none_or(|h| h.contains(&topic));
        if let Some((_, h)) = ahead.take()
            && let Ok(Ok(batch)) = h.await
            && !held
        {
            me.start(batch, &slots, yielding.as_ref(), &mut pacer, &stop, &ack_tx)
                .await;
        }
        // The governor lifts its limit when it stops; then let deliveries in flight finish and
        // their acknowledgements reach the store.
        if let Some((_, task)) = governed {
            let _ = task.await;
        }
        let _ = slots.acquire_many(concurrency as u32).await;
        drop(ack_tx);
        let _ = acker.await;
    }

    /// Delivers `group` (one message, or several of different dossiers to a target that
    /// takes lists) under the target's timeout, and settles each message's outcome.
    async fn deliver(&self, group: Vec<OutboxEntry>, acks: mpsc::UnboundedSender<i64>) {
        let topic = self.target.topic().to_string();
        let started = Instant::now();
        let timeout = Duration::from_millis(self.ts.timeout_ms.max(1));
        let delivery = async {
            match group.as_slice() {
                [one] => vec![self.target.deliver(one).await],
                many => self.target.deliver_batch(many).await,
            }
        };
        let outcomes = match tokio::time::timeout(timeout, delivery).await {
            Ok(r) if r.len() == group.len() => r,
            Ok(r) => {
                let e = format!(
                    "the target answered {} outcomes for {} messages",
                    r.len(),
                    group.len()
                );
                group
                    .iter()
                    .map(|_| Err(DeliveryError::Unavailable(e.clone())))
                    .collect()
            }
            Err(_) => group
                .iter()
                .map(|_| {
                    Err(DeliveryError::Unavailable(format!(
                        "no answer within {} ms",
                        self.ts.timeout_ms
                    )))
                })
                .collect(),
        };
        metrics::histogram!("motcua_outbox_delivery_seconds", "target" => topic.clone())
            .record(started.elapsed().as_secs_f64());
        if group.len() > 1 {
            metrics::counter!("motcua_outbox_batched_total", "target" => topic.clone())
                .increment(group.len() as u64);
        }
        for (m, outcome) in group.into_iter().zip(outcomes) {
            self.settle(&topic, m, outcome, &acks).await;
        }
    }

    /// Acknowledges a delivered message (through the acker) or records its failure.
    async fn settle(
        &self,
        topic: &str,
        m: OutboxEntry,
        outcome: Result<(), DeliveryError>,
        acks: &mpsc::UnboundedSender<i64>,
    ) {
        let topic = topic.to_string();
        match outcome {
            Ok(()) => {
                if let Ok(mut b) = self.breaker.lock() {
                    b.success();
                }
                metrics::counter!("motcua_outbox_delivered_total", "target" => topic).increment(1);
                let _ = acks.send(m.id);
            }
            Err(e) => {
                let (kind, max_attempts) = match &e {
                    DeliveryError::Unavailable(_) => {
                        if let Ok(mut b) = self.breaker.lock() {
                            b.failure(Instant::now());
                        }
                        ("unavailable", self.ts.retry.max_attempts)
                    }
                    // Trying again cannot help: a dead letter at once.
                    DeliveryError::Rejected(_) => ("rejected", m.attempts + 1),
                };
                metrics::counter!("motcua_outbox_failures_total", "target" => topic.clone(), "kind" => kind)
                    .increment(1);
                let now = Utc::now();
                let mut error = e.to_string();
                if error.len() > 500 {
                    let mut cut = 500;
                    while !error.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    error.truncate(cut);
                }
                let failure = OutboxFailure {
                    id: m.id,
                    owner: self.node.clone(),
                    error: error.clone(),
                    now,
                    retry_at: self.ts.retry.retry_at(now, m.attempts + 1),
                    max_attempts,
                };
                match self.store.outbox_fail(failure).await {
                    Ok(Some(OutboxStatus::Dead)) => {
                        metrics::counter!("motcua_outbox_dead_letters_total", "target" => topic.clone())
                            .increment(1);
                        tracing::warn!(target = %topic, id = m.id, key = %m.key, error = %error, "message is now a dead letter");
                    }
                    Ok(_) => {
                        tracing::debug!(target = %topic, id = m.id, error = %error, "delivery failed; will retry")
                    }
                    Err(e) => {
                        tracing::warn!(target = %topic, id = m.id, error = %e, "recording a failure failed; the lease will expire")
                    }
                }
            }
        }
    }
}

/// Most acknowledgements written in one store transaction: enough to amortise the commit, few
/// enough that a request queued behind it on SQLite's single writer waits only a millisecond or
/// two (the writer runs background jobs one at a time between request batches).
const ACK_BATCH: usize = 256;

/// Acknowledges delivered messages in batches (one store transaction for many): what has
/// arrived, plus what arrives within `linger` of the first, up to [`ACK_BATCH`].
async fn acker(
    store: Store,
    topic: String,
    linger: Duration,
    mut rx: mpsc::UnboundedReceiver<i64>,
) {
    while let Some(first) = rx.recv().await {
        let mut ids = vec![first];
        let until = tokio::time::Instant::now() + linger;
        while ids.len() < ACK_BATCH {
            match rx.try_recv() {
                Ok(id) => ids.push(id),
                Err(mpsc::error::TryRecvError::Disconnected) => break,
                Err(mpsc::error::TryRecvError::Empty) if linger.is_zero() => break,
                Err(mpsc::error::TryRecvError::Empty) => {
                    match tokio::time::timeout_at(until, rx.recv()).await {
                        Ok(Some(id)) => ids.push(id),
                        Ok(None) | Err(_) => break,
                    }
                }
            }
        }
        metrics::counter!("motcua_outbox_ack_batches_total", "target" => topic.clone())
            .increment(1);
        let acking = Instant::now();
        let acked = store.outbox_ack(ids, Utc::now()).await;
        metrics::histogram!("motcua_outbox_ack_seconds", "target" => topic.clone())
            .record(acking.elapsed().as_secs_f64());
        if let Err(e) = acked {
            // Delivered but not recorded: the lease expires and the message goes again; the
            // idempotency key lets the target recognise it.
            tracing::warn!(target = %topic, error = %e, "acknowledging delivered messages failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::claim_limit;

    #[test]
    fn a_claim_round_fills_the_slots_in_whole_lists_within_the_cap() {
        // One message per delivery: one per slot.
        assert_eq!(claim_limit(16, 16, 1, 256), 16);
        assert_eq!(claim_limit(64, 64, 1, 256), 64);
        // Lists of 20: the slots rounded up to whole lists, not slots × 20.
        assert_eq!(claim_limit(64, 64, 20, 256), 80);
        assert_eq!(claim_limit(16, 16, 20, 256), 20);
        assert_eq!(claim_limit(60, 60, 20, 256), 60);
        // The cap holds.
        assert_eq!(claim_limit(64, 64, 20, 50), 50);
        assert_eq!(claim_limit(1000, 1000, 1, 256), 256);
        // A half-open breaker's probe: single messages, even to a target taking lists.
        assert_eq!(claim_limit(1, 16, 20, 256), 1);
        // Never none.
        assert_eq!(claim_limit(0, 0, 20, 0), 1);
    }
}
