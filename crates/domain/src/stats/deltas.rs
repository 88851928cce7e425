//! Counter increments for the statistics figures, derived purely from one event and the states
//! before and after it. Flows are dated on the event's local day; stock deltas are dated on the
//! day a dossier enters or leaves a bucket, which may lie in the future (the day its appointment
//! passes): a later event that changes the picture writes the compensating deltas.

use super::keys::{Detail, Figure, Grain, StatKey};
use super::local_day;
use crate::dossier::{CounterDelta, Dossier, Event, EventBody};
use chrono::{Datelike, NaiveDate};

/// Statistics counter increments caused by `ev`, given the state before (if any) and after it.
/// Each increment is written four times: on its day and on its month (dated on the month's first
/// day), with every dimension and again in the agency roll-up (see [`row_date`]).
pub fn stat_deltas(before: Option<&Dossier>, after: &Dossier, ev: &Event) -> Vec<CounterDelta> {
    let mut out = Vec::new();
    stat_increments(before.map(StatBefore::of).as_ref(), after, ev, |inc| {
        out.push(CounterDelta {
            agency: after.competent_agency.clone(),
            day: inc.row_date(),
            metric: inc.key(after).metric(),
            delta: inc.delta,
        })
    });
    out
}

/// What the statistics need of the state before an event: a few values copied out of it, so
/// that a replay need not keep (or clone) the whole state to compare with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatBefore {
    /// Whether it had been received.
    received: bool,
    /// Fees paid and waived so far.
    covered_vnd: i64,
    /// Where it sat in the open-dossier stock.
    bucket: Option<Bucket>,
}

impl StatBefore {
    /// The values of `d` the statistics compare with.
    pub fn of(d: &Dossier) -> StatBefore {
        StatBefore {
            received: d.received_at.is_some(),
            covered_vnd: covered(d),
            bucket: open_bucket_from(d),
        }
    }
}

/// One statistics increment before it is named: the figure, grain and detail of dossier `after`'s
/// key (see [`StatKey`]), the local day it counts on and the amount. It belongs to `after`'s
/// competent agency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatIncrement {
    /// Day or month row.
    pub grain: Grain,
    /// Every dimension, or the agency roll-up.
    pub detail: Detail,
    /// Which figure.
    pub figure: Figure,
    /// The local day counted (the row's own date is [`StatIncrement::row_date`]).
    pub day: NaiveDate,
    /// Amount to add.
    pub delta: i64,
}

impl StatIncrement {
    /// The date of the counter row it goes to.
    pub fn row_date(&self) -> NaiveDate {
        row_date(self.grain, self.detail, self.day)
    }

    /// Its key for dossier `after` (the state the increment was computed with).
    pub fn key(&self, after: &Dossier) -> StatKey {
        let key = StatKey::of(self.grain, self.figure, after);
        match self.detail {
            Detail::Full => key,
            Detail::Agency => key.rolled_up(),
        }
    }
}

/// The increments of [`stat_deltas`], unnamed, handed to `emit` one by one (a replay of millions
/// of events keys them without building a metric string for each).
pub fn stat_increments(
    before: Option<&StatBefore>,
    after: &Dossier,
    ev: &Event,
    mut emit: impl FnMut(StatIncrement),
) {
    let day = local_day(ev.at);
    // At most a few figures per event: a small sorted list beats a map.
    let mut acc: Vec<((NaiveDate, Figure), i64)> = Vec::with_capacity(8);
    let mut add =
        |d: NaiveDate, f: Figure, v: i64| match acc.binary_search_by(|(k, _)| k.cmp(&(d, f))) {
            Ok(i) => acc[i].1 += v,
            Err(i) => acc.insert(i, ((d, f), v)),
        };
    let received_before = before.is_some_and(|b| b.received);
    match &ev.body {
        EventBody::Received { .. } => {
            add(day, Figure::Received, 1);
            if !after.documents.is_empty() && after.documents.iter().all(|d| d.file.is_some()) {
                add(day, Figure::ReceivedDigitized, 1);
            }
            if !after.reused.is_empty() {
                add(day, Figure::ReceivedReused, 1);
            }
            if after.identity.is_some() {
                add(day, Figure::ReceivedIdentified, 1);
            }
        }
        EventBody::FeePaid { .. } | EventBody::FeeExempted { .. } => {
            if let Some(online) = before.and_then(|b| fee_settled_by(b, after, &ev.body)) {
                add(day, Figure::FeeSettled, 1);
                if online {
                    add(day, Figure::FeeSettledOnline, 1);
                }
            }
        }
        EventBody::ResultReady {
            timeliness,
            documents,
            ..
        } => {
            let f = match timeliness {
                crate::status::Timeliness::Early => Figure::ResolvedEarly,
                crate::status::Timeliness::OnTime => Figure::ResolvedOnTime,
                crate::status::Timeliness::Late => Figure::ResolvedLate,
            };
            add(day, f, 1);
            if documents.iter().any(|d| d.file.is_some()) {
                add(day, Figure::ResolvedEResult, 1);
            }
        }
        EventBody::Withdrawn { .. } if received_before => add(day, Figure::EndedWithdrawn, 1),
        EventBody::Withdrawn { .. } => add(day, Figure::WithdrawnBeforeReceipt, 1),
        EventBody::ProcessingStopped { .. } if received_before => add(day, Figure::EndedStopped, 1),
        EventBody::Refused { .. } => add(day, Figure::Refused, 1),
        EventBody::SupplementRequested { .. } => add(day, Figure::SupplementRequested, 1),
        EventBody::Rated { score, .. } => {
            add(day, Figure::Rated, 1);
            add(day, Figure::RatingSum, *score as i64);
            if *score >= 4 {
                add(day, Figure::RatedSatisfied, 1);
            }
        }
        _ => {}
    }
    for (d, f, v) in stock(open_bucket_from(after), day) {
        add(d, f, v);
    }
    if let Some(b) = before {
        for (d, f, v) in stock(b.bucket, day) {
            add(d, f, -v);
        }
    }
    for ((d, figure), delta) in acc {
        if delta == 0 {
            continue;
        }
        for grain in [Grain::Day, Grain::Month] {
            for detail in [Detail::Agency, Detail::Full] {
                emit(StatIncrement {
                    grain,
                    detail,
                    figure,
                    day: d,
                    delta,
                });
            }
        }
    }
}

/// What was paid and waived of `d`'s fees.
fn covered(d: &Dossier) -> i64 {
    d.fees.paid_vnd + d.fees.exempted_vnd
}

/// Whether `ev` (a payment or a waiver, moving the dossier from `before` to `after`) is the one
/// after which what was paid and waived first covers the procedure's fee (> 0), with something
/// paid: `Some(true)` when that payment was made online, `Some(false)` otherwise (at the
/// counter, or a waiver covering the rest); `None` when it settles nothing or the fee was waived
/// whole (3.6 leaves zero-fee and exempted dossiers out).
fn fee_settled_by(before: &StatBefore, after: &Dossier, ev: &EventBody) -> Option<bool> {
    let fee = after.procedure.fee_vnd;
    if fee <= 0 || before.covered_vnd >= fee || covered(after) < fee || after.fees.paid_vnd <= 0 {
        return None;
    }
    Some(matches!(
        ev,
        EventBody::FeePaid {
            method: crate::payment::PaymentMethod::Online,
            ..
        }
    ))
}

/// The first day of `d`'s month.
pub(crate) fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// How many years monthly rows are dated back: the first day of the month, this many years
/// earlier, so that monthly rows sit in their own range of the (agency, day, metric) key, apart
/// from the daily rows, and a scan of months never reads days.
pub const MONTH_ROW_YEARS_BACK: i32 = 1000;

/// How many years the agency roll-up's daily rows are dated back: a multiple of 400, so the
/// Gregorian calendar repeats and every day (29 February included) has its twin.
pub const ROLLUP_DAY_YEARS_BACK: i32 = 1200;

/// How many years the agency roll-up's monthly rows are dated back.
pub const ROLLUP_MONTH_YEARS_BACK: i32 = 1600;

/// The date a monthly row of `d`'s month carries.
pub fn month_row_date(d: NaiveDate) -> NaiveDate {
    years_back(month_start(d), MONTH_ROW_YEARS_BACK)
}

/// The date the row of `grain` and `detail` counting day `d` carries. Each kind of row has its
/// own range of dates, so that reading one kind for an agency never steps over the others in the
/// (agency, day, metric) key: days as they are (1970 on), full monthly rows 1000 years back
/// (970 on), roll-up days 1200 years back (770 on), roll-up months 1600 years back (370 on).
/// The ranges stay apart for every day up to 2169; a later one would still be counted right,
/// only read less tightly.
pub fn row_date(grain: Grain, detail: Detail, d: NaiveDate) -> NaiveDate {
    match (detail, grain) {
        (Detail::Full, Grain::Day) => d,
        (Detail::Full, Grain::Month) => month_row_date(d),
        (Detail::Agency, Grain::Day) => years_back(d, ROLLUP_DAY_YEARS_BACK),
        (Detail::Agency, Grain::Month) => years_back(month_start(d), ROLLUP_MONTH_YEARS_BACK),
    }
}

fn years_back(d: NaiveDate, years: i32) -> NaiveDate {
    d.with_year(d.year() - years).unwrap_or(d)
}

/// What a state in `bucket` contributes to the open-dossier stock from day `from` on, if nothing
/// else happens: +1 in its bucket, and for a running clock the move from within to past the
/// limit on the day the appointment passes.
fn stock(
    bucket: Option<Bucket>,
    from: NaiveDate,
) -> impl Iterator<Item = (NaiveDate, Figure, i64)> {
    let mut out: [(NaiveDate, Figure, i64); 3] = [(from, Figure::OpenWithin, 0); 3];
    let n = match bucket {
        None => 0,
        Some(Bucket::Past) => {
            out[0] = (from, Figure::OpenPast, 1);
            1
        }
        Some(Bucket::Within) => {
            out[0] = (from, Figure::OpenWithin, 1);
            1
        }
        Some(Bucket::PastFrom(due_day)) if due_day <= from => {
            out[0] = (from, Figure::OpenPast, 1);
            1
        }
        Some(Bucket::PastFrom(due_day)) => {
            out = [
                (from, Figure::OpenWithin, 1),
                (due_day, Figure::OpenWithin, -1),
                (due_day, Figure::OpenPast, 1),
            ];
            3
        }
    };
    out.into_iter().take(n)
}

/// Where an open dossier sits as time passes with nothing happening.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bucket {
    /// Within the limit for good (its clock is stopped and the limit had not passed).
    Within,
    /// Past the limit for good.
    Past,
    /// Within the limit until this local day, past it from then on.
    PastFrom(NaiveDate),
}

/// The bucket of `s` if it is received and not finished; see `docs/statistics.md`.
fn open_bucket_from(s: &Dossier) -> Option<Bucket> {
    if s.received_at.is_none() || s.finished_at.is_some() {
        return None;
    }
    let due = s.original_due_at?;
    if s.supplement_requests > 1 {
        return Some(Bucket::Past);
    }
    Some(match &s.pause {
        Some(p) if due < p.since => Bucket::Past,
        Some(_) => Bucket::Within,
        None => Bucket::PastFrom(local_day(due)),
    })
}
