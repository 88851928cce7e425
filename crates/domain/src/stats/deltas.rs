//! Counter increments for the statistics figures, derived purely from one event and the states
//! before and after it. Flows are dated on the event's local day; stock deltas are dated on the
//! day a dossier enters or leaves a bucket, which may lie in the future (the day its appointment
//! passes): a later event that changes the picture writes the compensating deltas.

use super::keys::{Detail, Figure, Grain, StatKey};
use super::local_day;
use crate::dossier::{CounterDelta, Dossier, Event, EventBody};
use chrono::{Datelike, NaiveDate};
use std::collections::BTreeMap;

/// Statistics counter increments caused by `ev`, given the state before (if any) and after it.
/// Each increment is written four times: on its day and on its month (dated on the month's first
/// day), with every dimension and again in the agency roll-up (see [`row_date`]).
pub fn stat_deltas(before: Option<&Dossier>, after: &Dossier, ev: &Event) -> Vec<CounterDelta> {
    let day = local_day(ev.at);
    let mut acc: BTreeMap<(NaiveDate, Figure), i64> = BTreeMap::new();
    let mut add = |d: NaiveDate, f: Figure, v: i64| *acc.entry((d, f)).or_default() += v;
    let received_before = before.is_some_and(|b| b.received_at.is_some());
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
    for (d, f, v) in stock(after, day) {
        add(d, f, v);
    }
    if let Some(b) = before {
        for (d, f, v) in stock(b, day) {
            add(d, f, -v);
        }
    }
    let mut out = Vec::with_capacity(acc.len() * 4);
    for ((d, f), v) in acc {
        if v == 0 {
            continue;
        }
        for grain in [Grain::Day, Grain::Month] {
            let key = StatKey::of(grain, f, after);
            for key in [key.rolled_up(), key] {
                out.push(CounterDelta {
                    agency: after.competent_agency.clone(),
                    day: row_date(grain, key.detail, d),
                    metric: key.metric(),
                    delta: v,
                });
            }
        }
    }
    out
}

/// Whether `ev` (a payment or a waiver, moving the dossier from `before` to `after`) is the one
/// after which what was paid and waived first covers the procedure's fee (> 0), with something
/// paid: `Some(true)` when that payment was made online, `Some(false)` otherwise (at the
/// counter, or a waiver covering the rest); `None` when it settles nothing or the fee was waived
/// whole (3.6 leaves zero-fee and exempted dossiers out).
fn fee_settled_by(before: &Dossier, after: &Dossier, ev: &EventBody) -> Option<bool> {
    let fee = after.procedure.fee_vnd;
    let covered = |d: &Dossier| d.fees.paid_vnd + d.fees.exempted_vnd;
    if fee <= 0 || covered(before) >= fee || covered(after) < fee || after.fees.paid_vnd <= 0 {
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

/// What state `s` contributes to the open-dossier stock from day `from` on, if nothing else
/// happens: +1 in its bucket, and for a running clock the move from within to past the limit on
/// the day the appointment passes.
fn stock(s: &Dossier, from: NaiveDate) -> Vec<(NaiveDate, Figure, i64)> {
    match open_bucket_from(s) {
        None => Vec::new(),
        Some(Bucket::Past) => vec![(from, Figure::OpenPast, 1)],
        Some(Bucket::Within) => vec![(from, Figure::OpenWithin, 1)],
        Some(Bucket::PastFrom(due_day)) if due_day <= from => vec![(from, Figure::OpenPast, 1)],
        Some(Bucket::PastFrom(due_day)) => vec![
            (from, Figure::OpenWithin, 1),
            (due_day, Figure::OpenWithin, -1),
            (due_day, Figure::OpenPast, 1),
        ],
    }
}

/// Where an open dossier sits as time passes with nothing happening.
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
