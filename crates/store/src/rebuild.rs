//! The full rebuild of every counter from the event logs, folded on all cores (decision 0031).
//!
//! A backend reads the logs once, in dossier order, on one connection (the one whose snapshot
//! the rebuild must see) and hands them over in batches of whole dossiers; a pool of worker
//! threads folds each log with the domain (`apply`, `counter_deltas`, `stat_deltas`, exactly as
//! [`crate::plan`] does when the events are written) into its own map of counter sums; the maps
//! are merged at the end and the backend replaces the counters in one transaction.
//!
//! What the rebuild checks: that each log replays (every event's time and body decode and
//! apply, in sequence 1, 2, 3, ...), because counters cannot be computed otherwise. What it
//! leaves to `verify`: the hash chain, the rest of each event (actor, agency, note: read by
//! no counter, so not parsed here) and the stored state's agreement with its log, which cost
//! a hash and a second JSON parse per event and say nothing about the counters.
//!
//! The logs travel in [`Batch`]es: one text for all their events' JSON, given back to the
//! backend emptied once folded, so the reading thread fills the same few buffers all along.

use crate::{Result, StoreError};
use chrono::NaiveDate;
use crossbeam_channel::{Receiver, Sender};
use motcua_domain::dossier::{Dossier, Event, EventBody, apply, counter_deltas};
use motcua_domain::procedure::ProcedureSnapshot;
use motcua_domain::stats::{
    Detail, Figure, Grain, StatBefore, StatIncrement, level_str, row_date, stat_increments,
};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::thread::JoinHandle;
use uuid::Uuid;

/// A counter row's key within one worker or one merge: agency and metric as numbers of an
/// [`Interner`], and the day.
type Key = (u32, NaiveDate, u32);

/// One stored event as the backend read it; its JSON is in its [`Batch`]'s text.
pub(crate) struct LogEvent {
    /// Its sequence number.
    pub seq: u64,
    /// Where its JSON is in the batch's text: canonical, or compacted when `snap` is given.
    json: std::ops::Range<usize>,
    /// For a compacted event (see `crate::snapshot`): the snapshot's id, where its JSON goes
    /// back in the event's JSON, and that JSON.
    pub snap: Option<(i64, usize, Arc<str>)>,
}

/// Whole dossiers' logs as a backend hands them to the workers: every event's JSON in one
/// text, so a batch costs a few allocations rather than two per event. A folded batch goes
/// back to the backend emptied ([`Folder::batch`]), its buffers kept: the rebuild reuses
/// the same memory all along instead of touching fresh pages (and freeing on one thread what
/// another allocated).
#[derive(Default)]
pub(crate) struct Batch {
    text: String,
    events: Vec<LogEvent>,
    /// Each dossier's id and the end of its events in `events`.
    logs: Vec<(Uuid, usize)>,
}

impl Batch {
    /// How many dossiers it holds.
    pub fn dossiers(&self) -> usize {
        self.logs.len()
    }

    /// Starts dossier `id`'s log; the events pushed next are its events.
    pub fn begin(&mut self, id: Uuid) {
        self.logs.push((id, self.events.len()));
    }

    /// Adds an event to the log begun last, its JSON written by `write` (which appends to the
    /// text it is given, and may refuse).
    pub fn push_with<E>(
        &mut self,
        seq: u64,
        snap: Option<(i64, usize, Arc<str>)>,
        write: impl FnOnce(&mut String) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let start = self.text.len();
        if let Err(e) = write(&mut self.text) {
            self.text.truncate(start);
            return Err(e);
        }
        self.events.push(LogEvent {
            seq,
            json: start..self.text.len(),
            snap,
        });
        if let Some(last) = self.logs.last_mut() {
            last.1 = self.events.len();
        }
        Ok(())
    }

    /// Adds an event whose JSON is `json` to the log begun last.
    pub fn push(&mut self, seq: u64, json: &str, snap: Option<(i64, usize, Arc<str>)>) {
        let _ = self.push_with::<()>(seq, snap, |t| {
            t.push_str(json);
            Ok(())
        });
    }

    /// Each dossier's id and events, in the order begun.
    fn logs(&self) -> impl Iterator<Item = (Uuid, &[LogEvent])> + '_ {
        let mut start = 0;
        self.logs.iter().map(move |(id, end)| {
            let log = &self.events[start..*end];
            start = *end;
            (*id, log)
        })
    }

    /// An event's JSON.
    fn json(&self, e: &LogEvent) -> &str {
        &self.text[e.json.clone()]
    }

    /// Empties it, keeping its buffers.
    fn clear(&mut self) {
        self.text.clear();
        self.events.clear();
        self.logs.clear();
    }
}

/// Counter sums of one worker.
type Sums = HashMap<Key, i64, BuildHasherDefault<Fx>>;

/// How many whole dossiers a backend hands over at a time.
pub(crate) const BATCH: usize = 256;

/// How many problems are kept for the error message (the rebuild stops at the first anyway).
const KEEP_PROBLEMS: usize = 5;

/// What the workers computed, merged.
pub(crate) struct Folded {
    /// Non-zero counter sums, in (agency, day, metric) order, agency and metric as their
    /// numbers in `agencies` and `metrics`.
    rows: Vec<(Key, i64)>,
    /// Agency codes by number.
    agencies: Interner,
    /// Metrics by number.
    metrics: Interner,
    /// Dossiers folded.
    pub dossiers: u64,
    /// Events folded.
    pub events: u64,
    /// Time spent merging the workers' sums (the fold itself runs while the logs are read).
    pub merge: std::time::Duration,
}

impl Folded {
    /// The non-zero sums of `sums` (keys given more than once are summed), renumbered so that
    /// the numbers follow the strings' order and the rows sort as (agency, day, metric) by
    /// number.
    fn new(
        sums: impl IntoIterator<Item = (Key, i64)>,
        agencies: Interner,
        metrics: Interner,
    ) -> Folded {
        let (ra, rm) = (agencies.ranks(), metrics.ranks());
        let mut rows: Vec<(Key, i64)> = sums
            .into_iter()
            .map(|((a, d, m), v)| ((ra[a as usize], d, rm[m as usize]), v))
            .collect();
        rows.sort_unstable_by_key(|r| r.0);
        rows.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 += later.1;
            }
            same
        });
        rows.retain(|(_, v)| *v != 0);
        Folded {
            rows,
            agencies: agencies.sorted(&ra),
            metrics: metrics.sorted(&rm),
            dossiers: 0,
            events: 0,
            merge: std::time::Duration::ZERO,
        }
    }

    /// How many counter rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// The counter rows (agency, day, metric, value), in key order.
    pub fn rows(&self) -> impl Iterator<Item = (&str, NaiveDate, &str, i64)> + '_ {
        self.rows
            .iter()
            .map(|((a, d, m), v)| (self.agencies.name(*a), *d, self.metrics.name(*m), *v))
    }
}

/// A stored counter row as a backend reads it: agency, day, metric, value.
pub(crate) type StoredRow = (String, NaiveDate, String, i64);

/// Walks `folded`'s rows beside the stored rows `next_stored` yields (in the same (agency, day,
/// metric) byte order, zero values allowed) and calls `f(agency, day, metric, stored, implied)`
/// for every key whose values differ (a stored zero the logs do not imply is no difference).
/// Refuses stored rows out of order, which would make the walk wrong.
pub(crate) fn diff(
    folded: &Folded,
    mut next_stored: impl FnMut() -> Result<Option<StoredRow>>,
    f: impl FnMut(&str, NaiveDate, &str, i64, i64) -> Result<()>,
) -> Result<()> {
    diff_into(
        folded,
        |row| Ok(next_stored()?.map(|r| *row = r).is_some()),
        f,
    )
}

/// [`diff`] for a backend that reads each stored row into the buffers of the one before:
/// `read_stored(row)` overwrites `row` with the next stored row and says whether there was one
/// (a million rows then cost no allocation).
pub(crate) fn diff_into(
    folded: &Folded,
    mut read_stored: impl FnMut(&mut StoredRow) -> Result<bool>,
    mut f: impl FnMut(&str, NaiveDate, &str, i64, i64) -> Result<()>,
) -> Result<()> {
    use std::cmp::Ordering;
    let (mut cur, mut next) = (StoredRow::default(), StoredRow::default());
    let mut has = read_stored(&mut cur)?;
    // Reads the row after `cur` into it (the old one kept in `next`'s buffers for the next read).
    let mut advance = |cur: &mut StoredRow, next: &mut StoredRow| -> Result<bool> {
        if !read_stored(next)? {
            return Ok(false);
        }
        if (next.0.as_str(), next.1, next.2.as_str()) <= (cur.0.as_str(), cur.1, cur.2.as_str()) {
            return Err(StoreError::Corrupt(format!(
                "stored counters out of order at {} {} {}",
                next.0, next.1, next.2
            )));
        }
        std::mem::swap(cur, next);
        Ok(true)
    };
    let mut rows = folded.rows().peekable();
    loop {
        let order = match (rows.peek(), has) {
            (None, false) => break,
            (Some(_), false) => Ordering::Greater,
            (None, true) => Ordering::Less,
            (Some((a, d, m, _)), true) => {
                (cur.0.as_str(), cur.1, cur.2.as_str()).cmp(&(*a, *d, *m))
            }
        };
        match order {
            Ordering::Less => {
                if cur.3 != 0 {
                    f(&cur.0, cur.1, &cur.2, cur.3, 0)?;
                }
                has = advance(&mut cur, &mut next)?;
            }
            Ordering::Equal => {
                let (a, d, m, v) = rows.next().expect("a folded row");
                if cur.3 != v {
                    f(a, d, m, cur.3, v)?;
                }
                has = advance(&mut cur, &mut next)?;
            }
            Ordering::Greater => {
                let (a, d, m, v) = rows.next().expect("a folded row");
                f(a, d, m, 0, v)?;
            }
        }
    }
    Ok(())
}

/// The problem line of a counter whose stored value differs from what the logs give.
pub(crate) fn counter_problem(
    agency: &str,
    day: impl std::fmt::Display,
    metric: &str,
    stored: i64,
    implied: i64,
) -> String {
    format!("counter {agency} {day} {metric}: stored {stored}, the logs give {implied}")
}

/// Strings numbered in the order first seen, looked up without allocating.
#[derive(Default)]
struct Interner {
    ids: HashMap<Box<str>, u32, BuildHasherDefault<Fx>>,
    names: Vec<Box<str>>,
}

impl Interner {
    /// The number of `s`, given one if it is new.
    fn id(&mut self, s: &str) -> u32 {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }

    /// The string of number `id`.
    fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    /// Each number's rank in the strings' order.
    fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
        order.sort_unstable_by(|a, b| self.name(*a).cmp(self.name(*b)));
        let mut rank = vec![0; order.len()];
        for (r, id) in order.into_iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        rank
    }

    /// The same strings renumbered in their order (`ranks` from [`Interner::ranks`]).
    fn sorted(self, ranks: &[u32]) -> Interner {
        let mut names: Vec<(u32, Box<str>)> = ranks.iter().copied().zip(self.names).collect();
        names.sort_unstable_by_key(|(r, _)| *r);
        let mut out = Interner::default();
        for (_, n) in names {
            out.id(&n);
        }
        out
    }
}

/// The statistics rows other than the daily row with every dimension: each is a sum of daily
/// rows with every dimension (an increment is written to all four alike, see
/// [`stat_increments`]), so the fold sums only those and adds each of their sums to the other
/// three rows once after the merge (`derive`), instead of every increment four times.
const DERIVED_ROWS: [(Grain, Detail); 3] = [
    (Grain::Month, Detail::Full),
    (Grain::Day, Detail::Agency),
    (Grain::Month, Detail::Agency),
];

/// What one worker computed: sums keyed by its own numbering of agencies and metrics.
#[derive(Default)]
struct Part {
    sums: Sums,
    agencies: Interner,
    metrics: Interner,
    /// By metric number: for the metric of a daily statistics row with every dimension, the
    /// metrics of its [`DERIVED_ROWS`].
    derived: Vec<Option<[u32; 3]>>,
    dossiers: u64,
    events: u64,
    problems: Vec<String>,
    problem_count: u64,
}

/// A worker's memory of the statistics metrics it has named: a dossier's dimensions (numbered
/// by their own interner) with a figure give the same daily metric every time (and the same
/// derived ones), so each is formatted once per worker, not once per increment.
#[derive(Default)]
struct Names {
    dims: Interner,
    stat: HashMap<(u32, Figure), u32, BuildHasherDefault<Fx>>,
    buf: String,
}

/// The sums of the [`DERIVED_ROWS`] of the daily statistics sums with every dimension in
/// `sums` (`derived` gives their metrics by the daily metric's number). They are kept apart
/// from `sums`: a map of these rows alone (a month row or a roll-up row gathers many daily
/// ones) is smaller, and the large one is not grown again.
fn derive(sums: &Sums, derived: &[Option<[u32; 3]>]) -> Sums {
    let mut out = Sums::default();
    out.reserve(sums.len() / 2);
    for (&(a, day, m), &v) in sums.iter() {
        if v == 0 {
            continue;
        }
        if let Some(Some(others)) = derived.get(m as usize) {
            for ((grain, detail), o) in DERIVED_ROWS.iter().zip(others) {
                *out.entry((a, row_date(*grain, *detail, day), *o))
                    .or_default() += v;
            }
        }
    }
    out
}

/// The worker pool of one rebuild.
pub(crate) struct Folder {
    tx: Option<Sender<Batch>>,
    /// Folded batches, emptied, for the backend to fill again.
    spent: Receiver<Batch>,
    workers: Vec<JoinHandle<Part>>,
}

impl Folder {
    /// Starts one worker per core (at least one).
    pub fn start() -> Folder {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        Folder::with_workers(n)
    }

    /// Starts `n` workers (at least one).
    pub fn with_workers(n: usize) -> Folder {
        let queue = 4 * n.max(1);
        let (tx, rx) = crossbeam_channel::bounded::<Batch>(queue);
        // Room for every batch there can be (queued, being folded, being filled), so a worker
        // never waits to give one back.
        let (spent_tx, spent) = crossbeam_channel::bounded::<Batch>(queue + n.max(1) + 2);
        let workers = (0..n.max(1))
            .map(|i| {
                let (rx, spent_tx) = (rx.clone(), spent_tx.clone());
                std::thread::Builder::new()
                    .name(format!("motcua-rebuild-{i}"))
                    .spawn(move || work(rx, spent_tx))
                    .expect("spawn a rebuild worker")
            })
            .collect();
        Folder {
            tx: Some(tx),
            spent,
            workers,
        }
    }

    /// An empty batch to fill: one the workers have folded, or a new one.
    pub fn batch(&self) -> Batch {
        self.spent.try_recv().unwrap_or_default()
    }

    /// Hands a batch of whole dossiers to the workers, waiting while they are all busy.
    pub fn send(&self, batch: Batch) -> Result<()> {
        self.tx
            .as_ref()
            .ok_or_else(|| StoreError::Backend("the rebuild has finished".into()))?
            .send(batch)
            .map_err(|_| StoreError::Backend("the rebuild workers stopped".into()))
    }

    /// A sender for backends that must not block (they poll with `try_send`).
    pub fn sender(&self) -> Option<Sender<Batch>> {
        self.tx.clone()
    }

    /// Waits for the workers and merges their sums; refuses if a log did not replay.
    pub fn finish(mut self) -> Result<Folded> {
        drop(self.tx.take());
        let mut parts = Vec::with_capacity(self.workers.len());
        for w in self.workers.drain(..) {
            parts.push(
                w.join()
                    .map_err(|_| StoreError::Backend("a rebuild worker panicked".into()))?,
            );
        }
        merge(parts)
    }
}

/// The workers' sums in one numbering, with the rows derived from the daily ones; refuses if a
/// log did not replay.
fn merge(mut parts: Vec<Part>) -> Result<Folded> {
    let problems: u64 = parts.iter().map(|p| p.problem_count).sum();
    if problems > 0 {
        let first: Vec<&str> = parts
            .iter()
            .flat_map(|p| p.problems.iter().map(String::as_str))
            .take(KEEP_PROBLEMS)
            .collect();
        return Err(StoreError::Corrupt(format!(
            "{problems} problems in the logs (run `motcua verify`); counters left as they were: {}",
            first.join("; ")
        )));
    }
    let started = std::time::Instant::now();
    let (mut dossiers, mut events) = (0, 0);
    // Renumber every part into one numbering, summing into the largest part's map.
    parts.sort_by_key(|p| std::cmp::Reverse(p.sums.len()));
    let mut it = parts.into_iter();
    let (mut sums, mut agencies, mut metrics, mut derived) = match it.next() {
        Some(p) => {
            dossiers += p.dossiers;
            events += p.events;
            (p.sums, p.agencies, p.metrics, p.derived)
        }
        None => Default::default(),
    };
    for p in it {
        dossiers += p.dossiers;
        events += p.events;
        let a: Vec<u32> = p.agencies.names.iter().map(|n| agencies.id(n)).collect();
        let m: Vec<u32> = p.metrics.names.iter().map(|n| metrics.id(n)).collect();
        for ((pa, d, pm), v) in p.sums {
            *sums.entry((a[pa as usize], d, m[pm as usize])).or_default() += v;
        }
        for (pm, others) in p.derived.iter().enumerate() {
            if let Some(others) = others {
                let id = m[pm] as usize;
                if derived.len() <= id {
                    derived.resize(id + 1, None);
                }
                derived[id] = Some(others.map(|o| m[o as usize]));
            }
        }
    }
    // Once over the merged daily sums rather than in each worker: the workers' sums share
    // most of their keys.
    let rows = derive(&sums, &derived);
    let mut folded = Folded::new(sums.into_iter().chain(rows), agencies, metrics);
    folded.dossiers = dossiers;
    folded.events = events;
    folded.merge = started.elapsed();
    Ok(folded)
}

impl Drop for Folder {
    fn drop(&mut self) {
        // An abandoned rebuild (an error while reading) lets its workers run out and stop.
        drop(self.tx.take());
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

fn work(rx: Receiver<Batch>, spent: Sender<Batch>) -> Part {
    let mut part = Part::default();
    let mut worker = Worker::default();
    while let Ok(mut batch) = rx.recv() {
        for (id, log) in batch.logs() {
            part.dossiers += 1;
            part.events += log.len() as u64;
            if let Err(p) = fold(id, &batch, log, &mut worker, &mut part) {
                part.problem_count += 1;
                if part.problems.len() < KEEP_PROBLEMS {
                    part.problems.push(p);
                }
            }
        }
        batch.clear();
        // Full only if the backend stopped taking them back; then the batch just goes.
        let _ = spent.try_send(batch);
    }
    part
}

/// What a worker keeps from one dossier to the next.
struct Worker {
    snaps: Snapshots,
    names: Names,
    /// The event being folded. Of an event the fold reads its time and body only (`apply`,
    /// `counter_deltas` and `stat_increments` read nothing else), so only those are parsed
    /// ([`Core`]) and put in here; its actor, agency and note stay placeholders. The rebuild
    /// checks that each log replays, not that every field of every event is well formed:
    /// that is `verify`'s hash chain and full read.
    event: Event,
}

impl Default for Worker {
    fn default() -> Worker {
        Worker {
            snaps: Snapshots::default(),
            names: Names::default(),
            event: Event {
                at: chrono::DateTime::UNIX_EPOCH,
                actor: motcua_domain::agency::Actor {
                    user_id: Uuid::nil(),
                    name: String::new(),
                    role: motcua_domain::agency::Role::Admin,
                    agency: None,
                },
                agency: PLACEHOLDER_AGENCY.parse().expect("a valid agency code"),
                note: None,
                body: EventBody::Refused {
                    reasons: Vec::new(),
                },
            },
        }
    }
}

/// The agency of [`Worker::event`], never read.
const PLACEHOLDER_AGENCY: &str = "000.00.00.H00";

/// What the fold reads of an event: its time and body (the rest of its JSON is skipped).
#[derive(serde::Deserialize)]
struct Core {
    #[serde(deserialize_with = "motcua_domain::instant::de")]
    at: chrono::DateTime<chrono::Utc>,
    body: EventBody,
}

/// Procedure snapshots parsed once per worker, by id, each with a small stand-in of its JSON.
#[derive(Default)]
struct Snapshots(HashMap<i64, (ProcedureSnapshot, String)>);

impl Snapshots {
    /// The event, parsed with the cheap stand-in in place of its snapshot; with it, the id of
    /// the snapshot the stand-in stands for when the event is a `Submitted` that keeps the
    /// stand-in (the fold puts the parsed snapshot into the state, [`Snapshots::parsed`],
    /// which is all it needs of it: of a submission's body the counters read only its
    /// channel). Any other event that was compacted is parsed whole. Apart from that
    /// snapshot, the result equals parsing the canonical JSON.
    fn event(
        &mut self,
        json: &str,
        e: &LogEvent,
    ) -> std::result::Result<(Core, Option<i64>), String> {
        let Some((sid, at, snapshot)) = &e.snap else {
            return Ok((serde_json::from_str(json).map_err(|e| e.to_string())?, None));
        };
        let whole = || {
            crate::snapshot::expand(json, *at, snapshot)
                .ok_or_else(|| format!("bad snapshot position {at}"))
        };
        if !self.0.contains_key(sid) {
            let parsed: ProcedureSnapshot =
                serde_json::from_str(snapshot).map_err(|e| format!("snapshot {sid}: {e}"))?;
            let stand_in = serde_json::to_string(&ProcedureSnapshot {
                name: String::new(),
                steps: Vec::new(),
                field: String::new(),
                ..parsed.clone()
            })
            .map_err(|e| e.to_string())?;
            self.0.insert(*sid, (parsed, stand_in));
        }
        let with_stand_in = crate::snapshot::expand(json, *at, &self.0[sid].1)
            .ok_or_else(|| format!("bad snapshot position {at}"))?;
        let parse_whole = || -> std::result::Result<(Core, Option<i64>), String> {
            Ok((
                serde_json::from_str(&whole()?).map_err(|e| e.to_string())?,
                None,
            ))
        };
        match serde_json::from_str::<Core>(&with_stand_in) {
            Ok(ev) if matches!(ev.body, EventBody::Submitted { .. }) => Ok((ev, Some(*sid))),
            _ => parse_whole(),
        }
    }

    /// Snapshot `sid` as parsed (one [`Snapshots::event`] returned).
    fn parsed(&self, sid: i64) -> &ProcedureSnapshot {
        &self.0[&sid].0
    }
}

/// Adds the counters one dossier's log implies to `part`'s sums; the same increments, event by
/// event, as [`crate::plan::plan`] writes (`counter_deltas` and `stat_deltas`, whose increments
/// [`stat_increments`] gives unnamed).
fn fold(
    id: Uuid,
    batch: &Batch,
    log: &[LogEvent],
    worker: &mut Worker,
    part: &mut Part,
) -> std::result::Result<(), String> {
    let Worker {
        snaps,
        names,
        event: ev,
    } = worker;
    let mut state: Option<Dossier> = None;
    for (i, e) in log.iter().enumerate() {
        let seq = e.seq;
        if seq != i as u64 + 1 {
            return Err(format!(
                "dossier {id}: event {seq} found where event {} belongs",
                i + 1
            ));
        }
        let (core, stand_in) = snaps
            .event(batch.json(e), e)
            .map_err(|e| format!("dossier {id}: event {seq} cannot be read: {e}"))?;
        ev.at = core.at;
        ev.body = core.body;
        let ev = &*ev;
        // The statistics compare with a few values of the state before, not the whole of it.
        let before = state.as_ref().map(StatBefore::of);
        let mut after = apply(state.take(), id, ev)
            .map_err(|e| format!("dossier {id}: event {seq} cannot be applied: {e}"))?;
        if let Some(sid) = stand_in {
            // One copy of the snapshot, into the state (the event keeps the stand-in).
            after.procedure.clone_from(snaps.parsed(sid));
        }
        let sums = &mut part.sums;
        for d in counter_deltas(&after, ev) {
            let key = (
                part.agencies.id(d.agency.as_str()),
                d.day,
                part.metrics.id(&d.metric),
            );
            *sums.entry(key).or_default() += d.delta;
        }
        let agency = part.agencies.id(after.competent_agency.as_str());
        let dims = dims_of(names, &after);
        let (metrics, derived) = (&mut part.metrics, &mut part.derived);
        stat_increments(before.as_ref(), &after, ev, |inc| {
            // The other rows are sums of this one (see `DERIVED_ROWS`).
            if (inc.grain, inc.detail) != (Grain::Day, Detail::Full) {
                return;
            }
            let metric = *names.stat.entry((dims, inc.figure)).or_insert_with(|| {
                let id = metrics.id(&inc.key(&after).metric());
                let others = DERIVED_ROWS.map(|(grain, detail)| {
                    let other = StatIncrement {
                        grain,
                        detail,
                        ..inc
                    };
                    metrics.id(&other.key(&after).metric())
                });
                if derived.len() <= id as usize {
                    derived.resize(id as usize + 1, None);
                }
                derived[id as usize] = Some(others);
                id
            });
            *sums.entry((agency, inc.row_date(), metric)).or_default() += inc.delta;
        });
        state = Some(after);
    }
    Ok(())
}

/// The number of dossier `d`'s statistics dimensions (what [`motcua_domain::stats::StatKey::of`]
/// reads of it).
fn dims_of(names: &mut Names, d: &Dossier) -> u32 {
    names.buf.clear();
    let _ = write!(
        names.buf,
        "{}\u{1f}{}\u{1f}{}\u{1f}{}",
        d.procedure.code,
        d.channel.as_str(),
        level_str(d.procedure.online_level),
        d.procedure.field
    );
    names.dims.id(&names.buf)
}

/// The Fx hash (as in rustc): the keys are our own counter keys, not attacker-chosen, so
/// SipHash's resistance to chosen collisions buys nothing and costs ~10 map updates per event.
#[derive(Default)]
struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ *b as u64).wrapping_mul(K);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Folded rows as a worker would number them (in the order given), merged.
    fn folded(rows: &[(&str, NaiveDate, &str, i64)]) -> Folded {
        let (mut agencies, mut metrics) = (Interner::default(), Interner::default());
        let mut sums = Sums::default();
        for (a, d, m, v) in rows {
            sums.insert((agencies.id(a), *d, metrics.id(m)), *v);
        }
        Folded::new(sums, agencies, metrics)
    }

    #[test]
    fn the_walk_reports_each_difference_once_and_refuses_stored_rows_out_of_order() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let f = folded(&[
            ("H40.2", day(2), "m|x", 3),
            ("H40.1", day(1), "d|x", 1),
            ("H40.1", day(2), "d|x", 2),
        ]);
        assert_eq!(
            f.rows().collect::<Vec<_>>(),
            vec![
                ("H40.1", day(1), "d|x", 1),
                ("H40.1", day(2), "d|x", 2),
                ("H40.2", day(2), "m|x", 3)
            ]
        );
        let stored: Vec<StoredRow> = vec![
            ("H40.0".into(), day(9), "d|x".into(), 0), // a zero the logs do not imply
            ("H40.1".into(), day(1), "d|x".into(), 1), // equal
            ("H40.1".into(), day(2), "d|x".into(), 5), // differs
            ("H40.1".into(), day(3), "d|x".into(), 4), // stray
        ];
        let mut it = stored.clone().into_iter();
        let mut seen = Vec::new();
        diff(
            &f,
            || Ok(it.next()),
            |a, d, m, s, v| {
                seen.push((a.to_string(), d, m.to_string(), s, v));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(
            seen,
            vec![
                ("H40.1".to_string(), day(2), "d|x".to_string(), 5, 2),
                ("H40.1".to_string(), day(3), "d|x".to_string(), 4, 0),
                ("H40.2".to_string(), day(2), "m|x".to_string(), 0, 3),
            ]
        );
        let mut backwards = stored.into_iter().rev();
        let e = diff(&f, || Ok(backwards.next()), |_, _, _, _, _| Ok(())).unwrap_err();
        assert!(e.to_string().contains("out of order"), "{e}");
    }

    /// A counter row: agency, day, metric, value.
    type OwnedRow = (String, NaiveDate, String, i64);

    /// `n` dossiers of three fixture procedures, submitted online over several days and
    /// received (some the same day, some later), as logs of canonical JSON, with the counter rows
    /// the writers derive from them event by event (`counter_deltas` and `stat_deltas`).
    fn logs(n: u32) -> (Vec<Log>, Vec<OwnedRow>) {
        use crate::fixtures;
        use motcua_domain::dossier::Command;
        use motcua_domain::stats::stat_deltas;
        let mut codes = fixtures::Codes::default();
        let mut expected: std::collections::BTreeMap<(String, NaiveDate, String), i64> =
            Default::default();
        let mut logs = Vec::new();
        let start = chrono::DateTime::parse_from_rfc3339("2026-03-02T01:00:00Z")
            .unwrap()
            .to_utc();
        for i in 0..n {
            let id = Uuid::from_u128(i as u128 + 1);
            let submitted = start + chrono::Duration::hours(7 * i as i64);
            let mut state: Option<Dossier> = None;
            let mut log = Vec::new();
            let steps = [
                (
                    fixtures::submission(&format!("1.00119{}", i % 3), None),
                    fixtures::citizen(id),
                    submitted,
                ),
                (
                    Command::Receive,
                    fixtures::desk(),
                    submitted + chrono::Duration::hours(30 * (i % 3) as i64 + 1),
                ),
            ];
            for (cmd, actor, at) in steps {
                for ev in fixtures::decided(state.as_ref(), &cmd, &actor, at, &mut codes) {
                    let after = apply(state.clone(), id, &ev).unwrap();
                    for d in counter_deltas(&after, &ev).into_iter().chain(stat_deltas(
                        state.as_ref(),
                        &after,
                        &ev,
                    )) {
                        *expected
                            .entry((d.agency.to_string(), d.day, d.metric))
                            .or_default() += d.delta;
                    }
                    log.push(serde_json::to_string(&ev).unwrap());
                    state = Some(after);
                }
            }
            logs.push((id, log));
        }
        let expected = expected
            .into_iter()
            .filter(|(_, v)| *v != 0)
            .map(|((a, d, m), v)| (a, d, m, v))
            .collect();
        (logs, expected)
    }

    fn owned(f: &Folded) -> Vec<OwnedRow> {
        f.rows()
            .map(|(a, d, m, v)| (a.to_string(), d, m.to_string(), v))
            .collect()
    }

    #[test]
    fn the_fold_gives_the_rows_the_writers_derive_on_one_worker_or_several() {
        let (logs, expected) = logs(12);
        // The month rows and the agency roll-up are among them, derived from the daily rows.
        for prefix in ["d|", "m|", "ad|", "am|"] {
            assert!(
                expected.iter().any(|r| r.2.starts_with(prefix)),
                "{prefix} {expected:?}"
            );
        }
        let one = Folder::with_workers(1);
        one.send(batch(&logs)).unwrap();
        let one = one.finish().unwrap();
        assert_eq!(owned(&one), expected);
        assert_eq!((one.dossiers, one.events), (12, 24));
        // Three workers, each dossier to one of them.
        let three = Folder::with_workers(3);
        for log in logs.chunks(1) {
            three.send(batch(log)).unwrap();
        }
        assert_eq!(owned(&three.finish().unwrap()), expected);
        // Parts that met the procedures in other orders number their metrics apart: the merge
        // renumbers the derived rows' metrics with the rest.
        let mut parts: Vec<Part> = (0..3).map(|_| Part::default()).collect();
        let mut workers = Vec::new();
        workers.resize_with(3, Worker::default);
        for (i, log) in logs.chunks(1).enumerate().rev() {
            let p = (i + i / 3) % 3;
            let b = batch(log);
            let (id, events) = b.logs().next().unwrap();
            fold(id, &b, events, &mut workers[p], &mut parts[p]).unwrap();
            parts[p].dossiers += 1;
        }
        let metric_orders: Vec<&[Box<str>]> = parts.iter().map(|p| &p.metrics.names[..]).collect();
        assert!(metric_orders.windows(2).any(|w| w[0] != w[1]));
        assert_eq!(owned(&merge(parts).unwrap()), expected);
    }

    /// A dossier's id and its events' JSON.
    type Log = (Uuid, Vec<String>);

    /// The logs as a backend hands them over.
    fn batch(logs: &[Log]) -> Batch {
        let mut b = Batch::default();
        for (id, log) in logs {
            b.begin(*id);
            for (i, json) in log.iter().enumerate() {
                b.push(i as u64 + 1, json, None);
            }
        }
        b
    }

    #[test]
    fn a_batch_gives_each_dossier_its_own_events_and_is_reused_emptied() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut full = batch(&[
            (a, vec!["x".into(), "yy".into()]),
            (b, vec![]),
            (Uuid::from_u128(3), vec!["z".into()]),
        ]);
        let logs: Vec<(Uuid, Vec<(u64, &str)>)> = full
            .logs()
            .map(|(id, l)| (id, l.iter().map(|e| (e.seq, full.json(e))).collect()))
            .collect();
        assert_eq!(
            logs,
            vec![
                (a, vec![(1, "x"), (2, "yy")]),
                (b, vec![]),
                (Uuid::from_u128(3), vec![(1, "z")]),
            ]
        );
        assert_eq!(full.dossiers(), 3);
        // A refused write adds no event.
        assert!(full.push_with(2, None, |_| Err(())).is_err());
        assert_eq!(full.logs().last().unwrap().1.len(), 1);
        full.clear();
        assert_eq!((full.dossiers(), full.logs().count()), (0, 0));
        // The workers give folded batches back, emptied, for the backend to fill again.
        let f = Folder::with_workers(1);
        f.send(batch(&[(a, vec![])])).unwrap();
        let back = f
            .spent
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the batch comes back");
        assert_eq!(back.dossiers(), 0);
        assert_eq!(f.finish().unwrap().dossiers, 1);
    }

    #[test]
    fn keys_given_twice_are_summed_and_zero_sums_left_out() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let (mut agencies, mut metrics) = (Interner::default(), Interner::default());
        let (a, m, n) = (agencies.id("H40.1"), metrics.id("m|x"), metrics.id("d|x"));
        let f = Folded::new(
            vec![
                ((a, day, m), 2),
                ((a, day, n), 1),
                ((a, day, m), 3),
                ((a, day, n), -1),
            ],
            agencies,
            metrics,
        );
        assert_eq!(f.rows().collect::<Vec<_>>(), vec![("H40.1", day, "m|x", 5)]);
    }

    #[test]
    fn an_empty_rebuild_folds_nothing() {
        let f = Folder::with_workers(3).finish().unwrap();
        assert_eq!(f.len(), 0);
        assert_eq!((f.dossiers, f.events), (0, 0));
    }

    #[test]
    fn a_log_that_does_not_replay_is_refused_with_its_dossier() {
        let f = Folder::with_workers(2);
        let id = Uuid::from_u128(7);
        f.send(batch(&[(id, vec!["{not json".into()])])).unwrap();
        let e = f.finish().err().expect("refused");
        let msg = e.to_string();
        assert!(msg.contains("1 problems"), "{msg}");
        assert!(msg.contains(&id.to_string()), "{msg}");
    }

    #[test]
    fn a_gap_in_the_sequence_is_refused() {
        let mut part = Part::default();
        let mut b = Batch::default();
        b.begin(Uuid::from_u128(1));
        b.push(2, "{}", None);
        let (id, log) = b.logs().next().unwrap();
        let e = fold(id, &b, log, &mut Worker::default(), &mut part).unwrap_err();
        assert!(e.contains("event 2 found where event 1 belongs"), "{e}");
        assert!(part.sums.is_empty());
    }
}
