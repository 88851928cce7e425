use super::*;
use crate::agency::{Actor, Role};
use crate::calendar::Calendar;
use crate::codes::{AgencyCode, DossierCode};
use crate::dossier::{
    Applicant, Channel, CodeAllocator, Command, CounterDelta, Ctx, DocumentRef, Dossier, Event,
    SubmitData, apply, decide,
};
use crate::procedure::{Level, OnlineLevel, ProcedureVersion, TimeLimit, TimeUnit, VersionStatus};
use crate::workflow::WorkflowDef;
use chrono::{Days, TimeZone};
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
        let cal = Calendar::vietnam_default();
        let mut ctx = Ctx {
            now: at,
            actor: who,
            calendar: &cal,
            codes: &mut self.codes,
        };
        let evs = decide(self.state.as_ref(), &cmd, None, &mut ctx).unwrap();
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
        fee_vnd: 0,
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
            personal_id: None,
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
        if k.grain != Grain::Day {
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
            figure: f,
            procedure: "1.001193".into(),
            channel: "post".into(),
            level: "full".into(),
            field: "Đất đai | nhà ở".into(),
        };
        assert_eq!(StatKey::parse(&k.metric()), Some(k));
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
