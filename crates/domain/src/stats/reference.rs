//! The reference computation: form 06 straight from event logs, replaying each dossier to the
//! period's edges. Slow and obvious on purpose; tests hold the counters to it.

use super::form06::{Filter, Form06Row, Window};
use super::keys::{Figure, Grain, StatKey};
use super::local_day;
use crate::codes::AgencyCode;
use crate::dossier::{Dossier, Event, EventBody, apply};
use crate::status::Timeliness;
use chrono::{Days, NaiveDate};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Whether dossier `s` is in progress at the end of local day `day` (its state then), and if so
/// whether within (`OpenWithin`) or past (`OpenPast`) its time limit: past when more than one
/// supplement was requested, when its clock is stopped and the appointment had passed when it
/// stopped, or when its clock runs and the appointment falls on or before `day`.
pub fn open_bucket(s: &Dossier, day: NaiveDate) -> Option<Figure> {
    if s.received_at.is_none() || s.finished_at.is_some() {
        return None;
    }
    let due = s.original_due_at?;
    let past = s.supplement_requests > 1
        || match &s.pause {
            Some(p) => due < p.since,
            None => local_day(due) <= day,
        };
    Some(if past {
        Figure::OpenPast
    } else {
        Figure::OpenWithin
    })
}

/// Form 06 for local days `from..=to`, per competent agency, computed from the logs alone.
/// Agencies outside `agencies` (when given) and dossiers outside `filter` are left out.
pub fn reference_form06(
    logs: &[(Uuid, Vec<Event>)],
    agencies: Option<&[AgencyCode]>,
    filter: &Filter,
    from: NaiveDate,
    to: NaiveDate,
) -> BTreeMap<AgencyCode, Form06Row> {
    let mut out: BTreeMap<AgencyCode, Form06Row> = BTreeMap::new();
    let day_before = from.checked_sub_days(Days::new(1));
    for (id, events) in logs {
        let mut state: Option<Dossier> = None;
        // `Some(state)` once captured: the state at the end of the day before the period and at
        // the end of the period (`Some(None)`: the dossier did not exist yet).
        let mut at_start: Option<Option<Dossier>> = None;
        let mut at_end: Option<Option<Dossier>> = None;
        let mut flows: Vec<(Figure, i64)> = Vec::new();
        // What the submission said and what was paid and waived so far, read off the events.
        let (mut fee, mut paid, mut waived) = (0i64, 0i64, 0i64);
        let (mut reused, mut identified) = (false, false);
        for ev in events {
            let day = local_day(ev.at);
            if day_before.is_some_and(|b| day > b) && at_start.is_none() {
                at_start = Some(state.clone());
            }
            if day > to && at_end.is_none() {
                at_end = Some(state.clone());
            }
            let received_before = state.as_ref().is_some_and(|d| d.received_at.is_some());
            let Ok(next) = apply(state.take(), *id, ev) else {
                break;
            };
            let covered = paid + waived;
            match &ev.body {
                EventBody::Submitted {
                    procedure,
                    reused: r,
                    identity,
                    ..
                } => {
                    fee = procedure.fee_vnd;
                    reused = !r.is_empty();
                    identified = identity.is_some();
                }
                EventBody::FeePaid { amount_vnd, .. } => paid += amount_vnd,
                EventBody::FeeExempted { amount_vnd, .. } => waived += amount_vnd,
                _ => {}
            }
            if day >= from && day <= to {
                flows.extend(flow_figures(&ev.body, &next, received_before));
                if matches!(ev.body, EventBody::Received { .. }) {
                    if reused {
                        flows.push((Figure::ReceivedReused, 1));
                    }
                    if identified {
                        flows.push((Figure::ReceivedIdentified, 1));
                    }
                }
                // The fee is settled by the event that first makes paid + waived cover it, when
                // something was paid; online when that event is an online payment.
                if fee > 0 && covered < fee && paid + waived >= fee && paid > 0 {
                    flows.push((Figure::FeeSettled, 1));
                    if matches!(
                        ev.body,
                        EventBody::FeePaid {
                            method: crate::payment::PaymentMethod::Online,
                            ..
                        }
                    ) {
                        flows.push((Figure::FeeSettledOnline, 1));
                    }
                }
            }
            state = Some(next);
        }
        let Some(last) = state else { continue };
        let start = at_start.unwrap_or_else(|| Some(last.clone()));
        let end = at_end.unwrap_or_else(|| Some(last.clone()));
        if agencies.is_some_and(|a| !a.contains(&last.competent_agency)) {
            continue;
        }
        let key = StatKey::of(Grain::Day, Figure::Received, &last);
        if !filter.admits(&key) {
            continue;
        }
        let row = out.entry(last.competent_agency.clone()).or_default();
        for (f, v) in flows {
            row.add(
                &StatKey {
                    figure: f,
                    ..key.clone()
                },
                Window::Period,
                v,
            );
        }
        if let (Some(s), Some(b)) = (start, day_before)
            && let Some(f) = open_bucket(&s, b)
        {
            row.add(
                &StatKey {
                    figure: f,
                    ..key.clone()
                },
                Window::CarriedIn,
                1,
            );
        }
        if let Some(s) = end
            && let Some(f) = open_bucket(&s, to)
        {
            row.add(
                &StatKey {
                    figure: f,
                    ..key.clone()
                },
                Window::EndOfPeriod,
                1,
            );
        }
    }
    out.retain(|_, r| *r != Form06Row::default());
    out
}

/// The flow figures an event counts, by the rules in `docs/statistics.md`.
fn flow_figures(body: &EventBody, after: &Dossier, received_before: bool) -> Vec<(Figure, i64)> {
    match body {
        EventBody::Received { .. } => {
            let mut v = vec![(Figure::Received, 1)];
            if !after.documents.is_empty() && after.documents.iter().all(|d| d.file.is_some()) {
                v.push((Figure::ReceivedDigitized, 1));
            }
            v
        }
        EventBody::ResultReady {
            timeliness,
            documents,
            ..
        } => {
            let mut v = vec![(
                match timeliness {
                    Timeliness::Early => Figure::ResolvedEarly,
                    Timeliness::OnTime => Figure::ResolvedOnTime,
                    Timeliness::Late => Figure::ResolvedLate,
                },
                1,
            )];
            if documents.iter().any(|d| d.file.is_some()) {
                v.push((Figure::ResolvedEResult, 1));
            }
            v
        }
        EventBody::Withdrawn { .. } if received_before => vec![(Figure::EndedWithdrawn, 1)],
        EventBody::Withdrawn { .. } => vec![(Figure::WithdrawnBeforeReceipt, 1)],
        EventBody::ProcessingStopped { .. } if received_before => {
            vec![(Figure::EndedStopped, 1)]
        }
        EventBody::Refused { .. } => vec![(Figure::Refused, 1)],
        EventBody::SupplementRequested { .. } => vec![(Figure::SupplementRequested, 1)],
        EventBody::Rated { score, .. } => {
            let mut v = vec![(Figure::Rated, 1), (Figure::RatingSum, *score as i64)];
            if *score >= 4 {
                v.push((Figure::RatedSatisfied, 1));
            }
            v
        }
        _ => Vec::new(),
    }
}
