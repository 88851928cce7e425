use super::*;
use crate::agency::{Actor, Role};
use crate::calendar::Calendar;
use crate::codes::{AgencyCode, DossierCode};
use crate::dossier::{
    Applicant, Attestation, Channel, CodeAllocator, Command, CounterDelta, Ctx, DocumentRef,
    Dossier, Event, IDENTITY_POPULATION_DB, IdentityCheck, SubmitData, apply, attest, decide,
};
use crate::payment::PaymentMethod;
use crate::procedure::{Level, OnlineLevel, ProcedureVersion, TimeLimit, TimeUnit, VersionStatus};
use crate::workflow::WorkflowDef;
use chrono::{Datelike, Days, TimeZone};
use std::collections::HashMap;
use uuid::Uuid;

const CENTRE: &str = "000.00.01.H40";
const DEPT: &str = "000.00.10.H40";

fn ag(s: &str) -> AgencyCode {
    s.parse().unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn local(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(7 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

#[derive(Default)]
struct Codes(HashMap<(String, NaiveDate), u32>);

impl CodeAllocator for Codes {
    fn allocate(&mut self, agency: &AgencyCode, date: NaiveDate) -> Result<DossierCode, String> {
        let n = self.0.entry((agency.to_string(), date)).or_insert(0);
        *n += 1;
        DossierCode::new(agency.clone(), date, *n).map_err(|e| e.to_string())
    }
}

fn actor(role: Role, agency: Option<&str>) -> Actor {
    Actor {
        user_id: Uuid::from_u128(role as u128 + 7),
        name: "Cán bộ".into(),
        role,
        agency: agency.map(ag),
    }
}

/// One dossier driven through the real domain, keeping its log and its stat deltas.
struct One {
    state: Option<Dossier>,
    log: Vec<Event>,
    deltas: Vec<CounterDelta>,
    codes: Codes,
}

impl One {
    fn new() -> One {
        One {
            state: None,
            log: vec![],
            deltas: vec![],
            codes: Codes::default(),
        }
    }

    fn run(&mut self, who: &Actor, at: DateTime<Utc>, cmd: Command) {
        self.run_attested(who, at, cmd, &Attestation::default());
    }

    fn run_attested(&mut self, who: &Actor, at: DateTime<Utc>, cmd: Command, att: &Attestation) {
        let cal = Calendar::vietnam_default();
        let mut ctx = Ctx {
            now: at,
            actor: who,
            calendar: &cal,
            codes: &mut self.codes,
        };
        let mut evs = decide(self.state.as_ref(), &cmd, None, &mut ctx).unwrap();
        attest(&mut evs, att).unwrap();
        for e in evs {
            let after = apply(self.state.clone(), Uuid::nil(), &e).unwrap();
            self.deltas
                .extend(stat_deltas(self.state.as_ref(), &after, &e));
            self.state = Some(after);
            self.log.push(e);
        }
    }
}

fn submit(channel: Channel, file: bool) -> Command {
    submit_with(channel, file, 0, None)
}

fn submit_with(channel: Channel, file: bool, fee_vnd: i64, personal_id: Option<&str>) -> Command {
    let limit = TimeLimit {
        amount: 3,
        unit: TimeUnit::WorkingDays,
    };
    let p = ProcedureVersion {
        code: "1.001193".parse().unwrap(),
        version: 1,
        status: VersionStatus::Published,
        name: "Cấp giấy phép".into(),
        field: "Xây dựng".into(),
        levels: vec![Level::Province],
        online_level: OnlineLevel::Partial,
        time_limit: limit,
        fee_vnd,
        documents: vec![],
        decision_no: "1/QĐ-UBND".into(),
        competent_agency: Some(ag(DEPT)),
        details: Default::default(),
        workflow: WorkflowDef::standard(limit.duration(), None),
        form: None,
    };
    Command::Submit(Box::new(SubmitData {
        procedure: p.snapshot(&ag(CENTRE), &ag(DEPT)),
        applicant: Applicant {
            name: "Trần Thị Bình".into(),
            personal_id: personal_id.map(|p| p.parse().unwrap()),
            phone: None,
            email: None,
            address: None,
            notify: None,
        },
        channel,
        receiving_agency: ag(CENTRE),
        competent_agency: ag(DEPT),
        documents: vec![DocumentRef {
            name: "Đơn".into(),
            file: file.then(|| "blob/1".into()),
        }],
        form: serde_json::json!({}),
        receive: true,
        postal_tracking: None,
        on_behalf_of: None,
        origin: None,
        postal: None,
    }))
}

/// Sums day-grain deltas into a form 06 row for `from..=to` the way the store does.
fn from_deltas(deltas: &[CounterDelta], from: NaiveDate, to: NaiveDate) -> Form06Row {
    let mut row = Form06Row::default();
    let before = from.checked_sub_days(Days::new(1)).unwrap();
    for d in deltas {
        let k = StatKey::parse(&d.metric).unwrap();
        if (k.grain, k.detail) != (Grain::Day, Detail::Full) {
            continue;
        }
        if k.figure.is_stock() && d.day <= before {
            row.add(&k, Window::CarriedIn, d.delta);
            row.add(&k, Window::EndOfPeriod, d.delta);
        } else if d.day >= from && d.day <= to {
            row.add(&k, Window::Period, d.delta);
        }
    }
    row
}

#[test]
fn keys_round_trip() {
    for f in Figure::ALL {
        let k = StatKey {
            grain: Grain::Month,
            detail: Detail::Full,
            figure: f,
            procedure: "1.001193".into(),
            channel: "post".into(),
            level: "full".into(),
            field: "Đất đai | nhà ở".into(),
        };
        assert_eq!(StatKey::parse(&k.metric()), Some(k.clone()));
        let r = k.rolled_up();
        assert_eq!(StatKey::parse(&r.metric()), Some(r));
    }
    assert_eq!(StatKey::parse("received_online"), None);
    assert_eq!(StatKey::parse("d|nope|x|y|z|w"), None);
}

#[test]
fn spans_cover_each_day_once() {
    let cases = [
        (date(2026, 1, 1), date(2026, 12, 31)),
        (date(2026, 1, 15), date(2026, 3, 10)),
        (date(2026, 2, 3), date(2026, 2, 3)),
        (date(2025, 12, 31), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 30)),
    ];
    for (from, to) in cases {
        let mut covered = vec![];
        for s in flow_spans(from, to) {
            let mut d = s.from;
            while d <= s.to {
                match s.grain {
                    Grain::Day => {
                        covered.push(d);
                        d = d.succ_opt().unwrap();
                    }
                    Grain::Month => {
                        let next = d.checked_add_months(chrono::Months::new(1)).unwrap();
                        let mut x = d;
                        while x < next {
                            covered.push(x);
                            x = x.succ_opt().unwrap();
                        }
                        d = next;
                    }
                }
            }
        }
        let expect: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
        assert_eq!(covered, expect, "{from}..{to}");
    }
    let year = flow_spans(date(2026, 1, 1), date(2026, 12, 31));
    assert_eq!(year.len(), 1, "a calendar year is one span of monthly rows");
    assert_eq!(stock_spans(date(2026, 3, 4)).len(), 2);
}

#[test]
fn late_open_dossier_moves_to_past_on_its_due_day_and_leaves_when_resolved() {
    let desk = actor(Role::DeskOfficer, Some(CENTRE));
    let mut one = One::new();
    // Monday 2 March 2026, 09:00 at the counter: received at once, 3 working days.
    one.run(&desk, local(2026, 3, 2, 9), submit(Channel::Counter, true));
    let due = one.state.as_ref().unwrap().original_due_at.unwrap();
    let due_day = local_day(due);
    assert_eq!(due_day, date(2026, 3, 5));
    let log = vec![(Uuid::nil(), one.log.clone())];
    for day in date(2026, 3, 1).iter_days().take(10) {
        let got = from_deltas(&one.deltas, day, day);
        let want = reference_form06(&log, None, &Filter::default(), day, day)
            .remove(&ag(DEPT))
            .unwrap_or_default();
        assert_eq!(got, want, "day {day}");
        let past = day >= due_day;
        let open = day >= date(2026, 3, 2);
        assert_eq!(got.in_progress_past, (open && past) as i64, "{day}");
        assert_eq!(got.in_progress_within, (open && !past) as i64, "{day}");
    }
    let whole = from_deltas(&one.deltas, date(2026, 3, 1), date(2026, 3, 31));
    assert_eq!(whole.received_counter, 1);
    assert_eq!(whole.received_paper_digitized, 1);
    assert!(whole.balances());
    // Stopping it on the 9th (late) takes it out of the stock from that day on.
    one.run(
        &actor(Role::Leader, Some(DEPT)),
        local(2026, 3, 9, 10),
        Command::StopProcessing {
            reason: "Hồ sơ không đủ điều kiện".into(),
        },
    );
    let log = vec![(Uuid::nil(), one.log.clone())];
    for (from, to) in [
        (date(2026, 3, 1), date(2026, 3, 31)),
        (date(2026, 3, 6), date(2026, 3, 8)),
        (date(2026, 3, 9), date(2026, 4, 30)),
    ] {
        let got = from_deltas(&one.deltas, from, to);
        let want = reference_form06(&log, None, &Filter::default(), from, to)
            .remove(&ag(DEPT))
            .unwrap_or_default();
        assert_eq!(got, want, "{from}..{to}");
        assert!(got.balances(), "{from}..{to}: {got:?}");
    }
    let march = from_deltas(&one.deltas, date(2026, 3, 1), date(2026, 3, 31));
    assert_eq!((march.ended_stopped, march.in_progress()), (1, 0));
    let before_stop = from_deltas(&one.deltas, date(2026, 3, 6), date(2026, 3, 8));
    assert_eq!(
        (before_stop.carried_over, before_stop.in_progress_past),
        (1, 1)
    );
}

#[test]
fn rates_and_filters() {
    let row = Form06Row {
        received_online: 3,
        received_online_full: 1,
        received_online_partial: 2,
        received_counter: 1,
        resolved_early: 1,
        resolved_on_time: 1,
        resolved_late: 1,
        in_progress_within: 1,
        rated: 4,
        rated_satisfied: 3,
        rating_sum: 17,
        ..Form06Row::default()
    };
    let r = row.rates();
    assert_eq!(r.online, Some(75.0));
    assert_eq!(r.online_full, Some(25.0));
    assert_eq!(r.on_time, Some(75.0));
    assert_eq!(r.satisfaction, Some(75.0));
    assert_eq!(r.average_score, Some(4.25));
    assert_eq!(r.digitized_components, Some(0.0));
    assert_eq!(r.digitized_results, Some(0.0));
    assert_eq!(Form06Row::default().rates().online, None);
    let k = StatKey {
        grain: Grain::Day,
        detail: Detail::Full,
        figure: Figure::Received,
        procedure: "1.001193".into(),
        channel: "online".into(),
        level: "full".into(),
        field: "Xây dựng".into(),
    };
    assert!(Filter::default().admits(&k));
    assert!(
        Filter {
            field: Some("Xây dựng".into()),
            procedure: Some("1.001193".into())
        }
        .admits(&k)
    );
    assert!(
        !Filter {
            field: Some("Hộ tịch".into()),
            procedure: None
        }
        .admits(&k)
    );
}

fn pay(reference: &str, amount_vnd: i64, method: PaymentMethod) -> Command {
    Command::RecordPayment {
        reference: reference.into(),
        amount_vnd,
        method,
        transaction_id: None,
        receipt: None,
        receipt_no: None,
    }
}

fn exempt(amount_vnd: i64) -> Command {
    Command::ExemptFee {
        amount_vnd,
        reason: "Người có công với cách mạng".into(),
    }
}

#[test]
fn fees_settled_online_reuse_and_identity_count_once_on_their_day() {
    let desk = actor(Role::DeskOfficer, Some(CENTRE));
    let citizen = actor(Role::Citizen, None);
    let mut logs = Vec::new();
    let mut deltas = Vec::new();
    // 1. At the counter, 50,000 đ: identity checked in the population database, the form
    // re-used from an earlier dossier; 20,000 paid cash on the 2nd (not settled yet), the rest
    // waived on the 4th: settled that day by the waiver, something was paid: counted, not online.
    let mut one = One::new();
    let att = Attestation {
        reused: vec!["Đơn".into()],
        identity: Some(IdentityCheck {
            source: IDENTITY_POPULATION_DB.into(),
        }),
    };
    one.run_attested(
        &desk,
        local(2026, 3, 2, 9),
        submit_with(Channel::Counter, true, 50_000, Some("068095001234")),
        &att,
    );
    assert_eq!(one.state.as_ref().unwrap().reused, vec!["Đơn".to_string()]);
    one.run(
        &desk,
        local(2026, 3, 2, 10),
        pay("QUAY-1", 20_000, PaymentMethod::Cash),
    );
    one.run(&desk, local(2026, 3, 4, 10), exempt(30_000));
    logs.push((Uuid::from_u128(1), one.log.clone()));
    deltas.extend(one.deltas.clone());
    // 2. Online, paid online in two parts: the second (on the 5th) settles it.
    let mut two = One::new();
    two.run(
        &citizen,
        local(2026, 3, 3, 9),
        submit_with(Channel::Online, true, 50_000, None),
    );
    two.run(
        &citizen,
        local(2026, 3, 3, 9),
        pay("dvc-1", 10_000, PaymentMethod::Online),
    );
    two.run(
        &citizen,
        local(2026, 3, 5, 9),
        pay("dvc-2", 40_000, PaymentMethod::Online),
    );
    logs.push((Uuid::from_u128(2), two.log.clone()));
    deltas.extend(two.deltas.clone());
    // 3. Waived whole: left out. 4. No fee: nothing to settle.
    let mut three = One::new();
    three.run(
        &desk,
        local(2026, 3, 3, 9),
        submit_with(Channel::Counter, false, 50_000, None),
    );
    three.run(&desk, local(2026, 3, 3, 10), exempt(50_000));
    logs.push((Uuid::from_u128(3), three.log.clone()));
    deltas.extend(three.deltas.clone());
    let mut four = One::new();
    four.run(&desk, local(2026, 3, 3, 9), submit(Channel::Counter, true));
    logs.push((Uuid::from_u128(4), four.log.clone()));
    deltas.extend(four.deltas.clone());
    let month = from_deltas(&deltas, date(2026, 3, 1), date(2026, 3, 31));
    assert_eq!(
        (
            month.fees_settled,
            month.fees_settled_online,
            month.received_reused,
            month.received_identified
        ),
        (2, 1, 1, 1)
    );
    for (from, to, settled, online) in [
        (date(2026, 3, 2), date(2026, 3, 3), 0, 0),
        (date(2026, 3, 4), date(2026, 3, 4), 1, 0),
        (date(2026, 3, 5), date(2026, 3, 31), 1, 1),
        (date(2026, 3, 1), date(2026, 3, 31), 2, 1),
    ] {
        let got = from_deltas(&deltas, from, to);
        let want = reference_form06(&logs, None, &Filter::default(), from, to)
            .remove(&ag(DEPT))
            .unwrap_or_default();
        assert_eq!(got, want, "{from}..{to}");
        assert_eq!(
            (got.fees_settled, got.fees_settled_online),
            (settled, online)
        );
    }
    // Paying more afterwards settles nothing again.
    two.run(
        &citizen,
        local(2026, 3, 6, 9),
        pay("dvc-3", 5_000, PaymentMethod::Online),
    );
    let again: Vec<_> = two
        .deltas
        .iter()
        .filter(|d| d.metric.starts_with("d|fee_"))
        .map(|d| d.day)
        .collect();
    assert_eq!(again, vec![date(2026, 3, 5), date(2026, 3, 5)]);
}

#[test]
fn attestations_are_checked_against_the_submission() {
    let desk = actor(Role::DeskOfficer, Some(CENTRE));
    let cal = Calendar::vietnam_default();
    let mut codes = Codes::default();
    let mut ctx = Ctx {
        now: local(2026, 3, 2, 9),
        actor: &desk,
        calendar: &cal,
        codes: &mut codes,
    };
    let no_file = submit_with(Channel::Counter, false, 0, Some("068095001234"));
    let mut evs = decide(None, &no_file, None, &mut ctx).unwrap();
    let reuse = |n: &str| Attestation {
        reused: vec![n.into()],
        identity: None,
    };
    assert!(
        attest(&mut evs, &reuse("Đơn")).is_err(),
        "no file: nothing re-used"
    );
    assert!(attest(&mut evs, &reuse("Không có")).is_err());
    let anonymous = submit_with(Channel::Counter, true, 0, None);
    let mut evs = decide(None, &anonymous, None, &mut ctx).unwrap();
    let who = Attestation {
        reused: vec![],
        identity: Some(IdentityCheck {
            source: IDENTITY_POPULATION_DB.into(),
        }),
    };
    assert!(attest(&mut evs, &who).is_err(), "no personal ID to confirm");
    let with_id = submit_with(Channel::Counter, true, 0, Some("068095001234"));
    let mut evs = decide(None, &with_id, None, &mut ctx).unwrap();
    let forged = Attestation {
        reused: vec![],
        identity: Some(IdentityCheck {
            source: "hearsay".into(),
        }),
    };
    assert!(attest(&mut evs, &forged).is_err());
    attest(&mut evs, &who).unwrap();
    attest(&mut evs, &reuse("Đơn")).unwrap();
    // Without attestations the event is as it always was: older logs keep their hashes.
    let plain = decide(None, &with_id, None, &mut ctx).unwrap();
    let json = serde_json::to_string(&plain[0]).unwrap();
    assert!(
        !json.contains("reused") && !json.contains("identity"),
        "{json}"
    );
}

/// The roll-up loses nothing a form 06 row by agency shows: for every figure, channel, online
/// level and window, a key and its roll-up add the same to a row.
#[test]
fn a_rolled_up_key_adds_to_a_row_what_the_full_key_adds() {
    let windows = [Window::CarriedIn, Window::Period, Window::EndOfPeriod];
    let mut rolled = std::collections::BTreeSet::new();
    for figure in Figure::ALL {
        for channel in ["online", "counter", "post"] {
            for level in ["full", "partial", "none"] {
                for (procedure, field) in [("1.001193", "Xây dựng"), ("2.000488", "")] {
                    let k = StatKey {
                        grain: Grain::Month,
                        detail: Detail::Full,
                        figure,
                        procedure: procedure.into(),
                        channel: channel.into(),
                        level: level.into(),
                        field: field.into(),
                    };
                    let r = k.rolled_up();
                    assert_eq!((r.detail, r.grain), (Detail::Agency, Grain::Month));
                    for w in windows {
                        let (mut a, mut b) = (Form06Row::default(), Form06Row::default());
                        a.add(&k, w, 3);
                        b.add(&r, w, 3);
                        assert_eq!(a, b, "{} {w:?}", k.metric());
                    }
                    rolled.insert(r.metric());
                }
            }
        }
    }
    // Received keeps five channel/level pairs, its digitized twin three channels, the other
    // eighteen figures one key each: 26 roll-up keys in all.
    assert_eq!(rolled.len(), 5 + 3 + 18, "{rolled:?}");
}

/// Each kind of row has its own range of dates, and the roll-up rows sum to the full ones.
#[test]
fn rollup_rows_have_their_own_dates_and_the_same_sums() {
    let leap = date(2024, 2, 29);
    assert_eq!(row_date(Grain::Day, Detail::Agency, leap), date(824, 2, 29));
    assert_eq!(
        row_date(Grain::Month, Detail::Agency, leap),
        date(424, 2, 1)
    );
    assert_eq!(row_date(Grain::Month, Detail::Full, leap), date(1024, 2, 1));
    // From the epoch to the end of 2169 the four kinds of rows never share a date.
    let kinds = [
        (Grain::Day, Detail::Full),
        (Grain::Month, Detail::Full),
        (Grain::Day, Detail::Agency),
        (Grain::Month, Detail::Agency),
    ];
    let (first, last) = (EPOCH, date(2169, 12, 31));
    let ranges: Vec<(NaiveDate, NaiveDate)> = kinds
        .iter()
        .map(|(g, d)| (row_date(*g, *d, first), row_date(*g, *d, last)))
        .collect();
    for (i, a) in ranges.iter().enumerate() {
        for b in &ranges[i + 1..] {
            assert!(a.1 < b.0 || b.1 < a.0, "{a:?} overlaps {b:?}");
        }
    }
    // A dossier's deltas: every full row has its roll-up twin, summing to the same per figure.
    let desk = actor(Role::DeskOfficer, Some(CENTRE));
    let mut one = One::new();
    one.run(&desk, local(2026, 3, 2, 9), submit(Channel::Post, true));
    one.run(
        &actor(Role::Leader, Some(DEPT)),
        local(2026, 3, 9, 10),
        Command::StopProcessing {
            reason: "Hồ sơ không đủ điều kiện".into(),
        },
    );
    let mut sums: std::collections::BTreeMap<(Grain, Detail, Figure, NaiveDate), i64> =
        Default::default();
    for d in &one.deltas {
        let k = StatKey::parse(&d.metric).unwrap();
        let day = match (k.grain, k.detail) {
            (Grain::Day, Detail::Full) => d.day,
            (Grain::Day, Detail::Agency) => d.day.with_year(d.day.year() + 1200).unwrap(),
            (Grain::Month, Detail::Full) => d.day.with_year(d.day.year() + 1000).unwrap(),
            (Grain::Month, Detail::Agency) => d.day.with_year(d.day.year() + 1600).unwrap(),
        };
        assert_eq!(row_date(k.grain, k.detail, day), d.day, "{d:?}");
        *sums.entry((k.grain, k.detail, k.figure, day)).or_default() += d.delta;
    }
    assert!(!sums.is_empty());
    for ((g, detail, f, day), v) in &sums {
        if *detail == Detail::Full {
            assert_eq!(
                sums.get(&(*g, Detail::Agency, *f, *day)),
                Some(v),
                "{f:?} {day}"
            );
        }
    }
    assert_eq!(
        sums.keys().filter(|k| k.1 == Detail::Agency).count(),
        sums.keys().filter(|k| k.1 == Detail::Full).count()
    );
}
