use super::*;
use crate::agency::Role;
use crate::calendar::{Calendar, WorkingDuration};
use crate::codes::AgencyCode;
use crate::procedure::{Level, OnlineLevel, ProcedureVersion, TimeLimit, TimeUnit, VersionStatus};
use crate::status::Timeliness;
use crate::workflow::WorkflowDef;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use std::collections::HashMap;

#[derive(Default)]
struct Counter(HashMap<(String, NaiveDate), u32>);

impl CodeAllocator for Counter {
    fn allocate(&mut self, agency: &AgencyCode, date: NaiveDate) -> Result<DossierCode, String> {
        let n = self.0.entry((agency.to_string(), date)).or_insert(0);
        *n += 1;
        DossierCode::new(agency.clone(), date, *n).map_err(|e| e.to_string())
    }
}

fn ag(s: &str) -> AgencyCode {
    s.parse().unwrap()
}

fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(7 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn actor(role: Role, agency: Option<&str>, n: u128) -> Actor {
    Actor {
        user_id: Uuid::from_u128(n),
        name: format!("{} {n}", role.label_vi()),
        role,
        agency: agency.map(ag),
    }
}

const CENTRE: &str = "000.00.01.H40";
const DEPT: &str = "000.00.10.H40";
const OTHER: &str = "000.00.11.H40";

struct World {
    cal: Calendar,
    codes: Counter,
    state: Option<Dossier>,
    log: Vec<Event>,
    id: Uuid,
}

impl World {
    fn new() -> World {
        World {
            cal: Calendar::vietnam_default(),
            codes: Counter::default(),
            state: None,
            log: vec![],
            id: Uuid::from_u128(42),
        }
    }

    fn run(
        &mut self,
        who: &Actor,
        at: DateTime<Utc>,
        cmd: Command,
    ) -> Result<Vec<Event>, DomainError> {
        let mut ctx = Ctx {
            now: at,
            actor: who,
            calendar: &self.cal,
            codes: &mut self.codes,
        };
        let evs = decide(self.state.as_ref(), &cmd, Some("ghi chú".into()), &mut ctx)?;
        for e in &evs {
            self.state = Some(apply(self.state.take(), self.id, e).unwrap());
        }
        self.log.extend(evs.clone());
        Ok(evs)
    }

    fn d(&self) -> &Dossier {
        self.state.as_ref().unwrap()
    }
}

fn procedure(inter: bool) -> ProcedureVersion {
    let limit = TimeLimit {
        amount: 10,
        unit: TimeUnit::WorkingDays,
    };
    ProcedureVersion {
        code: "1.001193".parse().unwrap(),
        version: 1,
        status: VersionStatus::Published,
        name: "Cấp giấy phép xây dựng".into(),
        field: "Xây dựng".into(),
        levels: vec![Level::Province],
        online_level: OnlineLevel::Full,
        time_limit: limit,
        fee_vnd: 150_000,
        documents: vec![],
        decision_no: "1/QĐ-UBND".into(),
        competent_agency: Some(ag(DEPT)),
        workflow: WorkflowDef::standard(limit.duration(), inter.then(|| ag(OTHER))),
        details: Default::default(),
        form: None,
    }
}

fn submit_cmd(inter: bool, channel: Channel) -> Command {
    let p = procedure(inter);
    p.validate().unwrap();
    Command::Submit(Box::new(SubmitData {
        procedure: p.snapshot(&ag(CENTRE), &ag(DEPT)),
        applicant: Applicant {
            name: "Nguyễn Văn An".into(),
            personal_id: Some("068095001234".parse().unwrap()),
            phone: Some("0912345678".into()),
            email: None,
            address: Some("Phường Xuân Hương - Đà Lạt, Lâm Đồng".into()),
            notify: None,
        },
        channel,
        receiving_agency: ag(CENTRE),
        competent_agency: ag(DEPT),
        documents: vec![DocumentRef {
            name: "Đơn đề nghị".into(),
            file: None,
        }],
        form: serde_json::json!({"dien_tich": 120}),
        receive: true,
        postal_tracking: None,
        on_behalf_of: None,
        origin: None,
        postal: None,
    }))
}

fn citizen() -> Actor {
    actor(Role::Citizen, None, 1)
}
fn desk() -> Actor {
    actor(Role::DeskOfficer, Some(CENTRE), 2)
}
fn leader() -> Actor {
    actor(Role::Leader, Some(DEPT), 3)
}
fn specialist() -> Actor {
    actor(Role::Specialist, Some(DEPT), 4)
}
fn other_specialist() -> Actor {
    actor(Role::Specialist, Some(OTHER), 5)
}

#[test]
fn whole_journey_across_two_agencies() {
    let mut w = World::new();
    let t0 = local(2026, 3, 2, 8, 0); // Monday
    w.run(&citizen(), t0, submit_cmd(true, Channel::Online))
        .unwrap();
    assert_eq!(w.d().status, Status::AwaitingReception);
    assert_eq!(w.d().status.national_code(), 1);

    w.run(&desk(), local(2026, 3, 2, 9, 0), Command::Receive)
        .unwrap();
    let d = w.d();
    assert_eq!(
        d.code.as_ref().unwrap().to_string(),
        "000.00.01.H40-260302-0001"
    );
    // 10 working days from Mon 2 Mar 09:00 -> Mon 16 Mar 09:00.
    assert_eq!(d.due_at, Some(local(2026, 3, 16, 9, 0)));
    assert_eq!(d.status.national_code(), 2);
    assert_eq!(d.current_agency, ag(DEPT));

    w.run(
        &leader(),
        local(2026, 3, 2, 10, 0),
        Command::Assign {
            user_id: specialist().user_id,
            name: "CV".into(),
        },
    )
    .unwrap();
    w.run(
        &leader(),
        local(2026, 3, 2, 10, 5),
        Command::CompleteStep {
            to: None,
            documents: vec![],
        },
    )
    .unwrap();
    assert_eq!(w.d().status.national_code(), 4);
    // Specialist must choose among two next steps.
    assert!(matches!(
        w.run(
            &specialist(),
            local(2026, 3, 3, 8, 0),
            Command::CompleteStep {
                to: None,
                documents: vec![]
            }
        ),
        Err(DomainError::Invalid { field: "to", .. })
    ));
    let evs = w
        .run(
            &specialist(),
            local(2026, 3, 3, 8, 0),
            Command::CompleteStep {
                to: Some("lay-y-kien".into()),
                documents: vec![],
            },
        )
        .unwrap();
    assert!(
        evs.iter()
            .any(|e| matches!(e.body, EventBody::TransferredToAgency { .. }))
    );
    assert_eq!(w.d().current_agency, ag(OTHER));
    assert_eq!(w.d().assignee, None);
    // The department's specialist can no longer act; the other agency's can.
    assert!(matches!(
        w.run(
            &specialist(),
            local(2026, 3, 3, 9, 0),
            Command::CompleteStep {
                to: None,
                documents: vec![]
            }
        ),
        Err(DomainError::Forbidden(_))
    ));
    w.run(
        &other_specialist(),
        local(2026, 3, 4, 9, 0),
        Command::CompleteStep {
            to: None,
            documents: vec![],
        },
    )
    .unwrap();
    assert_eq!(w.d().current_agency, ag(DEPT));
    w.run(
        &specialist(),
        local(2026, 3, 5, 9, 0),
        Command::CompleteStep {
            to: Some("trinh-duyet".into()),
            documents: vec![],
        },
    )
    .unwrap();
    // A specialist cannot approve.
    assert!(matches!(
        w.run(&specialist(), local(2026, 3, 5, 10, 0), Command::Approve),
        Err(DomainError::Forbidden(_))
    ));
    w.run(&leader(), local(2026, 3, 6, 9, 0), Command::Approve)
        .unwrap();
    assert!(w.d().approved);
    assert_eq!(w.d().current_agency, ag(CENTRE));
    w.run(
        &desk(),
        local(2026, 3, 6, 10, 0),
        Command::MarkResultReady {
            summary: "Giấy phép số 12/GPXD".into(),
            documents: vec![],
        },
    )
    .unwrap();
    assert_eq!(w.d().status.national_code(), 9);
    assert_eq!(w.d().timeliness, Some(Timeliness::Early));
    w.run(
        &desk(),
        local(2026, 3, 9, 8, 0),
        Command::ReturnResult {
            method: ReturnMethod::Counter,
            receiver: "Nguyễn Văn An".into(),
        },
    )
    .unwrap();
    assert_eq!(w.d().status.national_code(), 10);
    // Someone else cannot rate; the owner can, once.
    assert!(matches!(
        w.run(
            &actor(Role::Citizen, None, 99),
            local(2026, 3, 9, 9, 0),
            Command::Rate {
                score: 5,
                comment: None
            }
        ),
        Err(DomainError::Forbidden(_))
    ));
    w.run(
        &citizen(),
        local(2026, 3, 9, 9, 0),
        Command::Rate {
            score: 5,
            comment: Some("Nhanh".into()),
        },
    )
    .unwrap();
    assert!(
        w.run(
            &citizen(),
            local(2026, 3, 9, 9, 1),
            Command::Rate {
                score: 4,
                comment: None
            }
        )
        .is_err()
    );

    // Every event has actor, time, agency; the replayed log equals the state.
    assert!(w.log.iter().all(|e| !e.actor.name.is_empty()));
    let replayed = replay(w.id, &w.log).unwrap().unwrap();
    assert_eq!(&replayed, w.d());
    // Serialization round-trips exactly (what the store relies on).
    let json = serde_json::to_string(&w.log).unwrap();
    let back: Vec<Event> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, w.log);
    // And from JSON values, whose keys are sorted: most bodies' tag then comes after fields.
    let value = serde_json::to_value(&w.log).unwrap();
    let back: Vec<Event> = serde_json::from_value(value).unwrap();
    assert_eq!(back, w.log);
}

#[test]
fn supplement_stops_the_clock_and_a_second_makes_it_late() {
    let mut w = World::new();
    w.run(
        &citizen(),
        local(2026, 3, 2, 8, 0),
        submit_cmd(false, Channel::Online),
    )
    .unwrap();
    w.run(&desk(), local(2026, 3, 2, 9, 0), Command::Receive)
        .unwrap();
    let due = w.d().due_at.unwrap();
    w.run(
        &leader(),
        local(2026, 3, 2, 10, 0),
        Command::CompleteStep {
            to: None,
            documents: vec![],
        },
    )
    .unwrap();
    w.run(
        &specialist(),
        local(2026, 3, 3, 9, 0),
        Command::RequestSupplement {
            items: vec!["Bản vẽ".into()],
            reason: "Thiếu bản vẽ".into(),
        },
    )
    .unwrap();
    assert_eq!(w.d().status.national_code(), 5);
    // Other people cannot supply it.
    assert!(
        w.run(
            &actor(Role::Citizen, None, 77),
            local(2026, 3, 4, 9, 0),
            Command::ProvideSupplement { documents: vec![] }
        )
        .is_err()
    );
    // Two working days later (Tue 09:00 -> Thu 09:00) the applicant supplies: due moves by 2 days.
    w.run(
        &citizen(),
        local(2026, 3, 5, 9, 0),
        Command::ProvideSupplement {
            documents: vec![DocumentRef {
                name: "Bản vẽ".into(),
                file: None,
            }],
        },
    )
    .unwrap();
    assert_eq!(w.d().status, Status::Processing);
    assert_eq!(
        w.d().due_at,
        Some(w.cal.add_working_time(due, WorkingDuration::days(2)))
    );
    assert_eq!(w.d().original_due_at, w.d().due_at);
    // A second request is allowed but the dossier counts as late whatever the time.
    w.run(
        &specialist(),
        local(2026, 3, 5, 10, 0),
        Command::RequestSupplement {
            items: vec!["Ảnh".into()],
            reason: "Thiếu ảnh".into(),
        },
    )
    .unwrap();
    w.run(
        &citizen(),
        local(2026, 3, 5, 11, 0),
        Command::ProvideSupplement { documents: vec![] },
    )
    .unwrap();
    w.run(
        &specialist(),
        local(2026, 3, 5, 14, 0),
        Command::CompleteStep {
            to: None,
            documents: vec![],
        },
    )
    .unwrap();
    w.run(&leader(), local(2026, 3, 5, 15, 0), Command::Approve)
        .unwrap();
    w.run(
        &desk(),
        local(2026, 3, 5, 16, 0),
        Command::MarkResultReady {
            summary: "KQ".into(),
            documents: vec![],
        },
    )
    .unwrap();
    assert_eq!(w.d().timeliness, Some(Timeliness::Late));
}

#[test]
fn refusal_at_reception_needs_reasons_and_the_receiving_desk() {
    let mut w = World::new();
    w.run(
        &citizen(),
        local(2026, 3, 2, 8, 0),
        submit_cmd(false, Channel::Online),
    )
    .unwrap();
    assert!(matches!(
        w.run(
            &desk(),
            local(2026, 3, 2, 9, 0),
            Command::Refuse { reasons: vec![] }
        ),
        Err(DomainError::Invalid {
            field: "reasons",
            ..
        })
    ));
    let other_desk = actor(Role::DeskOfficer, Some("H40.24778"), 8);
    assert!(matches!(
        w.run(
            &other_desk,
            local(2026, 3, 2, 9, 0),
            Command::Refuse {
                reasons: vec!["x".into()]
            }
        ),
        Err(DomainError::Forbidden(_))
    ));
    w.run(
        &desk(),
        local(2026, 3, 2, 9, 0),
        Command::Refuse {
            reasons: vec!["Không thuộc thẩm quyền".into()],
        },
    )
    .unwrap();
    assert_eq!(w.d().status.national_code(), 3);
    assert!(matches!(
        w.run(&desk(), local(2026, 3, 2, 9, 5), Command::Receive),
        Err(DomainError::NotAllowed { .. })
    ));
}

#[test]
fn supplement_at_reception_then_receive() {
    let mut w = World::new();
    w.run(
        &citizen(),
        local(2026, 3, 2, 8, 0),
        submit_cmd(false, Channel::Online),
    )
    .unwrap();
    w.run(
        &desk(),
        local(2026, 3, 2, 9, 0),
        Command::RequestSupplement {
            items: vec!["CCCD".into()],
            reason: "Thiếu".into(),
        },
    )
    .unwrap();
    assert_eq!(w.d().status, Status::SupplementAtReception);
    w.run(
        &citizen(),
        local(2026, 3, 3, 9, 0),
        Command::ProvideSupplement { documents: vec![] },
    )
    .unwrap();
    assert_eq!(w.d().status, Status::AwaitingReception);
    w.run(&desk(), local(2026, 3, 3, 10, 0), Command::Receive)
        .unwrap();
    assert_eq!(w.d().supplement_requests, 0);
}

#[test]
fn payment_pause_and_withdrawal() {
    let mut w = World::new();
    w.run(
        &desk(),
        local(2026, 3, 2, 8, 0),
        submit_cmd(false, Channel::Counter),
    )
    .unwrap();
    assert_eq!(
        w.d().status,
        Status::Received,
        "counter dossiers are received at once"
    );
    let due = w.d().due_at.unwrap();
    w.run(
        &leader(),
        local(2026, 3, 2, 10, 0),
        Command::CompleteStep {
            to: None,
            documents: vec![],
        },
    )
    .unwrap();
    assert!(
        w.run(
            &specialist(),
            local(2026, 3, 2, 11, 0),
            Command::RequestPayment {
                amount_vnd: 0,
                reason: "Lệ phí".into()
            }
        )
        .is_err()
    );
    w.run(
        &specialist(),
        local(2026, 3, 2, 11, 0),
        Command::RequestPayment {
            amount_vnd: 150_000,
            reason: "Lệ phí".into(),
        },
    )
    .unwrap();
    assert_eq!(w.d().status.national_code(), 6);
    w.run(
        &desk(),
        local(2026, 3, 3, 11, 0),
        Command::ConfirmPayment {
            reference: "PAY-1".into(),
        },
    )
    .unwrap();
    assert_eq!(w.d().status, Status::Processing);
    assert_eq!(
        w.d().due_at,
        Some(w.cal.add_working_time(due, WorkingDuration::days(1)))
    );
    // The citizen of a counter dossier has no account on it; the desk withdraws on written request.
    assert!(
        w.run(
            &citizen(),
            local(2026, 3, 4, 9, 0),
            Command::Withdraw { reason: "x".into() }
        )
        .is_err()
    );
    w.run(
        &desk(),
        local(2026, 3, 4, 9, 0),
        Command::Withdraw {
            reason: "Đơn xin rút hồ sơ".into(),
        },
    )
    .unwrap();
    assert_eq!(w.d().status.national_code(), 7);
    assert!(
        w.run(&leader(), local(2026, 3, 4, 10, 0), Command::Approve)
            .is_err()
    );
}

#[test]
fn apology_only_at_least_one_working_day_before_due() {
    let mut w = World::new();
    w.run(
        &citizen(),
        local(2026, 3, 2, 8, 0),
        submit_cmd(false, Channel::Online),
    )
    .unwrap();
    w.run(&desk(), local(2026, 3, 2, 9, 0), Command::Receive)
        .unwrap();
    let due = w.d().due_at.unwrap(); // Mon 16 Mar 09:00
    w.run(
        &leader(),
        local(2026, 3, 2, 10, 0),
        Command::CompleteStep {
            to: None,
            documents: vec![],
        },
    )
    .unwrap();
    let new_due = local(2026, 3, 20, 17, 0);
    // Fri 13 Mar 10:00 is less than a working day before Mon 09:00.
    let late = w.run(
        &specialist(),
        local(2026, 3, 13, 10, 0),
        Command::IssueApology {
            reason: "Cần xác minh".into(),
            new_due_at: new_due,
        },
    );
    match late {
        Err(DomainError::ApologyTooLate { latest, .. }) => {
            assert_eq!(latest, local(2026, 3, 13, 9, 0));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        w.run(
            &specialist(),
            local(2026, 3, 12, 9, 0),
            Command::IssueApology {
                reason: "x".into(),
                new_due_at: due
            }
        ),
        Err(DomainError::Invalid {
            field: "new_due_at",
            ..
        })
    ));
    // A citizen cannot issue one.
    assert!(
        w.run(
            &citizen(),
            local(2026, 3, 12, 9, 0),
            Command::IssueApology {
                reason: "x".into(),
                new_due_at: new_due
            }
        )
        .is_err()
    );
    w.run(
        &specialist(),
        local(2026, 3, 13, 9, 0),
        Command::IssueApology {
            reason: "Cần xác minh thực địa".into(),
            new_due_at: new_due,
        },
    )
    .unwrap();
    assert_eq!(w.d().due_at, Some(new_due));
    assert_eq!(w.d().original_due_at, Some(due));
    assert_eq!(w.d().apologies, 1);
}

#[test]
fn codes_are_sequential_per_agency_and_day() {
    let mut w = World::new();
    let mut codes = vec![];
    for i in 0..3 {
        w.state = None;
        w.run(
            &desk(),
            local(2026, 3, 2, 8, i),
            submit_cmd(false, Channel::Counter),
        )
        .unwrap();
        codes.push(w.d().code.clone().unwrap().to_string());
    }
    assert_eq!(
        codes,
        [
            "000.00.01.H40-260302-0001",
            "000.00.01.H40-260302-0002",
            "000.00.01.H40-260302-0003"
        ]
    );
}

#[test]
fn wrong_roles_and_states_are_refused() {
    let mut w = World::new();
    assert_eq!(
        w.run(&desk(), local(2026, 3, 2, 8, 0), Command::Receive),
        Err(DomainError::NoDossier)
    );
    // Citizens cannot submit at the counter; admins cannot submit.
    assert!(matches!(
        w.run(
            &citizen(),
            local(2026, 3, 2, 8, 0),
            submit_cmd(false, Channel::Counter)
        ),
        Err(DomainError::Forbidden(_))
    ));
    assert!(matches!(
        w.run(
            &actor(Role::Admin, None, 9),
            local(2026, 3, 2, 8, 0),
            submit_cmd(false, Channel::Online)
        ),
        Err(DomainError::Forbidden(_))
    ));
    w.run(
        &citizen(),
        local(2026, 3, 2, 8, 0),
        submit_cmd(false, Channel::Online),
    )
    .unwrap();
    assert_eq!(
        w.run(
            &citizen(),
            local(2026, 3, 2, 8, 0),
            submit_cmd(false, Channel::Online)
        ),
        Err(DomainError::AlreadyExists)
    );
    assert!(matches!(
        w.run(&citizen(), local(2026, 3, 2, 9, 0), Command::Receive),
        Err(DomainError::Forbidden(_))
    ));
    assert!(matches!(
        w.run(
            &specialist(),
            local(2026, 3, 2, 9, 0),
            Command::CompleteStep {
                to: None,
                documents: vec![]
            }
        ),
        Err(DomainError::NotAllowed { .. })
    ));
    assert!(matches!(
        w.run(
            &desk(),
            local(2026, 3, 2, 9, 0),
            Command::ReturnResult {
                method: ReturnMethod::Counter,
                receiver: "A".into()
            }
        ),
        Err(DomainError::NotAllowed { .. })
    ));
    // Nothing was appended by the refusals.
    assert_eq!(w.log.len(), 1);
}

#[test]
fn hash_chain_changes_with_any_byte() {
    let a = event_hash("", 1, r#"{"x":1}"#);
    assert_eq!(a.len(), 64);
    assert_ne!(a, event_hash("", 1, r#"{"x":2}"#));
    assert_ne!(a, event_hash("", 2, r#"{"x":1}"#));
    assert_ne!(a, event_hash("00", 1, r#"{"x":1}"#));
}

#[test]
fn counters_and_outbox_follow_events() {
    let mut w = World::new();
    w.run(
        &citizen(),
        local(2026, 3, 2, 8, 0),
        submit_cmd(false, Channel::Online),
    )
    .unwrap();
    let before = w.d().clone();
    let evs = w
        .run(&desk(), local(2026, 3, 2, 9, 0), Command::Receive)
        .unwrap();
    let deltas = counter_deltas(w.d(), &evs[0]);
    assert_eq!(deltas.len(), 1);
    assert_eq!(deltas[0].metric, "received_online");
    assert_eq!(deltas[0].day, NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
    let out = outbox_messages(Some(&before), w.d(), &evs[0]);
    assert!(
        out.iter()
            .any(|m| m.topic == "dvcqg.sync" && m.payload["TrangThaiHoSo"] == 2)
    );
    assert!(out.iter().any(|m| m.topic == "sms"));
    // The portal's process step travels with the sync, with its mandatory dates.
    let sync = out.iter().find(|m| m.topic == "dvcqg.sync").unwrap();
    assert_eq!(
        sync.payload["LanDauDongBo"], true,
        "the code is new: a create"
    );
    let step = &sync.payload["QuaTrinh"][0];
    assert_eq!(step["TrangThai"], 2);
    assert!(step["ThoiDiemXuLy"].is_string() && step["NgayKetThucTheoQuyDinh"].is_string());
    assert!(step["NguoiXuLy"].is_string() && step["PhongBanXuLy"].is_string());
    // Outbox keys start with the dossier (the store orders delivery by it).
    let code = w.d().code.clone().unwrap().to_string();
    assert!(sync.key.starts_with(&format!("{code}:")));
    // A later change of a dossier that had its code already: an update on the portal.
    let mut earlier = w.d().clone();
    earlier.status = before.status;
    let later = outbox_messages(Some(&earlier), w.d(), &evs[0]);
    let later = later.iter().find(|m| m.topic == "dvcqg.sync").unwrap();
    assert_eq!(later.payload["LanDauDongBo"], false);
    let id = w.d().id.to_string();
    assert!(
        out.iter()
            .filter(|m| m.topic == "sms" || m.topic == "email")
            .all(|m| m.key.starts_with(&format!("{id}:")))
    );
}

fn paper(channel: Channel, receive: bool, tracking: Option<&str>) -> Command {
    match submit_cmd(false, channel) {
        Command::Submit(mut data) => {
            data.receive = receive;
            data.postal_tracking = tracking.map(String::from);
            Command::Submit(data)
        }
        _ => unreachable!(),
    }
}

#[test]
fn a_paper_dossier_refused_or_sent_back_at_the_counter_is_never_received() {
    let t0 = local(2026, 3, 2, 8, 0);
    // Refused on the spot: no code, no appointment, the clock never started.
    let mut w = World::new();
    let evs = w
        .run(&desk(), t0, paper(Channel::Counter, false, None))
        .unwrap();
    assert_eq!(evs.len(), 1, "only the submission: {evs:?}");
    assert_eq!(w.d().status, Status::AwaitingReception);
    w.run(
        &desk(),
        t0,
        Command::Refuse {
            reasons: vec!["Không thuộc thẩm quyền".into()],
        },
    )
    .unwrap();
    assert_eq!(w.d().status, Status::Refused);
    assert_eq!((w.d().code.as_ref(), w.d().due_at), (None, None));
    let deltas: Vec<String> = w
        .log
        .iter()
        .flat_map(|e| counter_deltas(w.d(), e))
        .map(|c| c.metric)
        .collect();
    assert_eq!(deltas, ["submitted_counter", "refused"]);
    // Sent back for a supplement at reception: waiting for the applicant, clock not started.
    let mut w = World::new();
    w.run(&desk(), t0, paper(Channel::Counter, false, None))
        .unwrap();
    let evs = w
        .run(
            &desk(),
            t0,
            Command::RequestSupplement {
                items: vec!["Bản vẽ".into()],
                reason: "Thiếu".into(),
            },
        )
        .unwrap();
    assert!(matches!(
        evs[0].body,
        EventBody::SupplementRequested {
            at_reception: true,
            ..
        }
    ));
    assert_eq!(w.d().status, Status::SupplementAtReception);
    assert_eq!(
        (w.d().code.as_ref(), w.d().due_at, &w.d().pause),
        (None, None, &None)
    );
    assert_eq!(w.d().supplement_requests, 0);
    // The default still receives at once.
    let mut w = World::new();
    w.run(&desk(), t0, paper(Channel::Counter, true, None))
        .unwrap();
    assert_eq!(w.d().status, Status::Received);
}

#[test]
fn postal_tracking_numbers_belong_to_post_and_have_a_sane_form() {
    let t0 = local(2026, 3, 2, 8, 0);
    let mut w = World::new();
    w.run(
        &desk(),
        t0,
        paper(Channel::Post, true, Some("EE123456789VN")),
    )
    .unwrap();
    assert_eq!(w.d().postal_tracking.as_deref(), Some("EE123456789VN"));
    assert!(matches!(
        &w.log[0].body,
        EventBody::Submitted { postal_tracking: Some(t), .. } if t == "EE123456789VN"
    ));
    for bad in [
        "EE12",
        "EE 123456789VN",
        "EE123456789VN-1",
        "123456789012345678901",
    ] {
        let mut w = World::new();
        assert!(
            matches!(
                w.run(&desk(), t0, paper(Channel::Post, true, Some(bad))),
                Err(DomainError::Invalid {
                    field: "postal_tracking",
                    ..
                })
            ),
            "{bad}"
        );
    }
    let mut w = World::new();
    assert!(matches!(
        w.run(
            &desk(),
            t0,
            paper(Channel::Counter, true, Some("EE123456789VN"))
        ),
        Err(DomainError::Invalid {
            field: "postal_tracking",
            ..
        })
    ));
    // Stored events without the field still read.
    let mut v = serde_json::to_value(w_log_first()).unwrap();
    v["body"].as_object_mut().unwrap().remove("postal_tracking");
    let e: Event = serde_json::from_value(v).unwrap();
    assert!(matches!(
        e.body,
        EventBody::Submitted {
            postal_tracking: None,
            ..
        }
    ));
}

fn w_log_first() -> Event {
    let mut w = World::new();
    w.run(
        &desk(),
        local(2026, 3, 2, 8, 0),
        paper(Channel::Counter, true, None),
    )
    .unwrap();
    w.log[0].clone()
}

#[test]
fn a_desk_officer_submits_online_on_behalf_of_a_citizen_account() {
    let t0 = local(2026, 3, 2, 8, 0);
    let behalf = |who: Option<Uuid>| match submit_cmd(false, Channel::Online) {
        Command::Submit(mut data) => {
            data.on_behalf_of = who;
            Command::Submit(data)
        }
        _ => unreachable!(),
    };
    let mut w = World::new();
    let evs = w.run(&desk(), t0, behalf(Some(citizen().user_id))).unwrap();
    // The citizen owns it; the officer who keyed it in is the event's actor; not yet received.
    assert_eq!(w.d().owner, Some(citizen().user_id));
    assert_eq!(evs[0].actor, desk());
    assert_eq!(w.d().status, Status::AwaitingReception);
    assert!(w.d().is_owner(&citizen()));
    // Without naming the account, or by another role, or on another channel: refused.
    let mut w = World::new();
    assert!(matches!(
        w.run(&desk(), t0, behalf(None)),
        Err(DomainError::Forbidden(_))
    ));
    assert!(matches!(
        w.run(&citizen(), t0, behalf(Some(citizen().user_id))),
        Err(DomainError::Invalid {
            field: "on_behalf_of",
            ..
        })
    ));
    let counter = match paper(Channel::Counter, true, None) {
        Command::Submit(mut data) => {
            data.on_behalf_of = Some(citizen().user_id);
            Command::Submit(data)
        }
        _ => unreachable!(),
    };
    assert!(matches!(
        w.run(&desk(), t0, counter),
        Err(DomainError::Invalid {
            field: "on_behalf_of",
            ..
        })
    ));
    let other_desk = actor(Role::DeskOfficer, Some(DEPT), 9);
    assert!(matches!(
        w.run(&other_desk, t0, behalf(Some(citizen().user_id))),
        Err(DomainError::Forbidden(_))
    ));
}

#[test]
fn the_applicant_reads_the_history_in_plain_words_and_gets_mail_and_sms() {
    let mut w = World::new();
    let cmd = match submit_cmd(false, Channel::Online) {
        Command::Submit(mut data) => {
            data.applicant.email = Some("an@example.vn".into());
            Command::Submit(data)
        }
        other => other,
    };
    let sub = w.run(&citizen(), local(2026, 3, 2, 8, 0), cmd).unwrap();
    let out = outbox_messages(None, w.d(), &sub[0]);
    let mail = out.iter().find(|m| m.topic == EMAIL_TOPIC).unwrap();
    assert_eq!(mail.payload["to"], "an@example.vn");
    assert_eq!(
        mail.payload["subject"],
        "[Hồ sơ chưa cấp mã] Đã nộp, chờ bộ phận một cửa tiếp nhận"
    );
    let before = w.d().clone();
    let rec = w
        .run(&desk(), local(2026, 3, 2, 9, 0), Command::Receive)
        .unwrap();
    let code = w.d().code.clone().unwrap().to_string();
    let out = outbox_messages(Some(&before), w.d(), &rec[0]);
    let mail = out.iter().find(|m| m.topic == EMAIL_TOPIC).unwrap();
    assert!(mail.payload["subject"].as_str().unwrap().contains(&code));
    assert!(
        mail.payload["text"]
            .as_str()
            .unwrap()
            .contains("Kính gửi Nguyễn Văn An")
    );
    let sms = out.iter().find(|m| m.topic == SMS_TOPIC).unwrap();
    assert_eq!(sms.payload["to"], "0912345678");
    assert!(
        sms.payload["text"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Hồ sơ {code}: "))
    );
    // Officers' words reach the owner, escaped in HTML; the public sees none of them.
    let before = w.d().clone();
    let req = w
        .run(
            &desk(),
            local(2026, 3, 2, 10, 0),
            Command::RequestSupplement {
                items: vec!["Bản sao <b>sổ đỏ</b>".into()],
                reason: "Thiếu giấy tờ".into(),
            },
        )
        .unwrap();
    let out = outbox_messages(Some(&before), w.d(), &req[0]);
    let mail = out.iter().find(|m| m.topic == EMAIL_TOPIC).unwrap();
    let html = mail.payload["html"].as_str().unwrap();
    assert!(html.contains("Bản sao &lt;b&gt;sổ đỏ&lt;/b&gt;"), "{html}");
    assert!(!html.contains("<b>sổ đỏ"));
    let names = |a: &AgencyCode| (a.to_string() == CENTRE).then(|| "Trung tâm PVHCC".to_string());
    let owner = notice::history(&w.log, false, true, &names);
    let texts: Vec<&str> = owner.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(texts[0], "Hồ sơ đã được nộp trực tuyến.");
    assert!(
        texts[1].starts_with(&format!(
            "Hồ sơ đã được tiếp nhận tại Trung tâm PVHCC với mã {code}; ngày hẹn trả kết quả: "
        )),
        "{texts:?}"
    );
    assert!(
        texts[2]
            .starts_with("Cơ quan yêu cầu bổ sung: Bản sao <b>sổ đỏ</b> (lý do: Thiếu giấy tờ)")
    );
    let public = notice::history(&w.log, true, false, &|_| None);
    assert_eq!(public[2].text, "The agency asked for a supplement.");
    assert!(public.iter().all(|e| !e.text.contains("sổ đỏ")));
    assert_eq!(notice::initials("Nguyễn  Thị lan"), "N.T.L.");
    assert_eq!(notice::money(1_500_000), "1.500.000 đồng");
    // No address, no number: no message.
    let mut quiet = w.d().clone();
    quiet.applicant.email = None;
    quiet.applicant.phone = Some("  ".into());
    assert!(notice::email(&quiet, &req[0]).is_none());
    assert!(notice::sms(&quiet, &req[0]).is_none());
}

#[test]
fn the_applicant_chooses_the_notice_channels_and_only_those_are_written() {
    let mut w = World::new();
    let cmd = match submit_cmd(false, Channel::Online) {
        Command::Submit(mut data) => {
            data.applicant.email = Some("an@example.vn".into());
            // Zalo only, chosen at submission.
            data.applicant.notify = Some(NotifyChannels {
                email: false,
                sms: false,
                zalo: true,
            });
            Command::Submit(data)
        }
        other => other,
    };
    let sub = w.run(&citizen(), local(2026, 3, 2, 8, 0), cmd).unwrap();
    let topics = |out: &[OutboxMessage]| -> Vec<String> {
        let mut t: Vec<String> = out
            .iter()
            .map(|m| m.topic.clone())
            .filter(|t| t != "dvcqg.sync" && t != EMC_TOPIC)
            .collect();
        t.sort();
        t
    };
    let out = outbox_messages(None, w.d(), &sub[0]);
    assert_eq!(topics(&out), vec![ZALO_TOPIC.to_string()]);
    let zalo = &out[0];
    assert_eq!(zalo.payload["to"], "0912345678");
    assert_eq!(zalo.payload["event"], "submitted");
    assert_eq!(zalo.payload["params"]["ma_ho_so"], "chưa cấp mã");
    assert_eq!(
        zalo.payload["params"]["trang_thai"],
        "Đã nộp, chờ bộ phận một cửa tiếp nhận"
    );
    let before = w.d().clone();
    let rec = w
        .run(&desk(), local(2026, 3, 2, 9, 0), Command::Receive)
        .unwrap();
    let out = outbox_messages(Some(&before), w.d(), &rec[0]);
    assert_eq!(topics(&out), vec![ZALO_TOPIC.to_string()]);
    let code = w.d().code.clone().unwrap().to_string();
    assert_eq!(
        out.iter().find(|m| m.topic == ZALO_TOPIC).unwrap().payload["params"]["ma_ho_so"],
        code
    );
    assert!(
        !out.iter().find(|m| m.topic == ZALO_TOPIC).unwrap().payload["params"]["ngay_hen"]
            .as_str()
            .unwrap()
            .is_empty()
    );

    // Someone else's citizen account and another agency's desk may not change them.
    let both = NotifyChannels {
        email: true,
        sms: true,
        zalo: false,
    };
    let stranger = actor(Role::Citizen, None, 77);
    assert!(matches!(
        w.run(
            &stranger,
            local(2026, 3, 2, 10, 0),
            Command::SetNotifications { channels: both }
        ),
        Err(DomainError::Forbidden(_))
    ));
    let other_desk = actor(Role::DeskOfficer, Some(OTHER), 78);
    assert!(matches!(
        w.run(
            &other_desk,
            local(2026, 3, 2, 10, 0),
            Command::SetNotifications { channels: both }
        ),
        Err(DomainError::Forbidden(_))
    ));
    // The owner switches to e-mail and SMS: a history line, no status change, no notice.
    let before = w.d().clone();
    let set = w
        .run(
            &citizen(),
            local(2026, 3, 2, 10, 0),
            Command::SetNotifications { channels: both },
        )
        .unwrap();
    assert_eq!(w.d().applicant.channels(), both);
    assert_eq!(w.d().status, before.status);
    assert!(outbox_messages(Some(&before), w.d(), &set[0]).is_empty());
    assert_eq!(
        notice::line(&set[0], false, true, &|_| None).unwrap(),
        "Thông báo từ nay gửi qua thư điện tử, SMS."
    );
    // The same choice again says so.
    assert!(matches!(
        w.run(
            &citizen(),
            local(2026, 3, 2, 10, 5),
            Command::SetNotifications { channels: both }
        ),
        Err(DomainError::Invalid {
            field: "channels",
            ..
        })
    ));
    // The desk, for the applicant, turns everything off.
    let none = NotifyChannels {
        email: false,
        sms: false,
        zalo: false,
    };
    w.run(
        &desk(),
        local(2026, 3, 2, 10, 10),
        Command::SetNotifications { channels: none },
    )
    .unwrap();
    let before = w.d().clone();
    let req = w
        .run(
            &desk(),
            local(2026, 3, 2, 11, 0),
            Command::RequestSupplement {
                items: vec!["Bản sao".into()],
                reason: "Thiếu".into(),
            },
        )
        .unwrap();
    assert!(topics(&outbox_messages(Some(&before), w.d(), &req[0])).is_empty());
    // A dossier without a choice keeps the old behaviour: e-mail and SMS.
    let mut old = w.d().applicant.clone();
    old.notify = None;
    assert_eq!(
        old.channels(),
        NotifyChannels {
            email: true,
            sms: true,
            zalo: false
        }
    );
    // Absent from the JSON when never chosen, so events written before the choice existed
    // keep their hashes.
    assert!(!serde_json::to_string(&old).unwrap().contains("notify"));
}

fn from_portal(owner: Option<Uuid>) -> Command {
    match submit_cmd(false, Channel::Online) {
        Command::Submit(mut data) => {
            data.on_behalf_of = owner;
            data.receive = false;
            data.origin = Some(Origin {
                system: ORIGIN_DVCQG.into(),
                code: "G22.99-261202-000123".into(),
            });
            Command::Submit(data)
        }
        _ => unreachable!(),
    }
}

#[test]
fn a_dossier_filed_on_the_national_portal_waits_for_the_desk_and_syncs_as_an_update() {
    let t0 = local(2026, 3, 2, 8, 0);
    let mut w = World::new();
    let evs = w.run(&desk(), t0, from_portal(None)).unwrap();
    assert_eq!(evs.len(), 1, "not received on the spot: {evs:?}");
    assert_eq!(w.d().status, Status::AwaitingReception);
    assert_eq!(w.d().owner, None);
    assert_eq!(w.d().channel, Channel::Online);
    assert_eq!(
        w.d().origin.as_ref().map(|o| o.code.as_str()),
        Some("G22.99-261202-000123")
    );
    let before = w.d().clone();
    let rec = w
        .run(&desk(), local(2026, 3, 2, 9, 0), Command::Receive)
        .unwrap();
    let out = outbox_messages(Some(&before), w.d(), &rec[0]);
    let sync = out.iter().find(|m| m.topic == "dvcqg.sync").unwrap();
    assert_eq!(sync.payload["MaHoSoQG"], "G22.99-261202-000123");
    let emc = out.iter().find(|m| m.topic == EMC_TOPIC).unwrap();
    assert_eq!(emc.payload["Status"], 1);
    assert_eq!(emc.payload["IsFromDVCQG"], 1);
    assert_eq!(emc.payload["FormsReception"], 1);
    assert_eq!(
        emc.payload["CodeProfile"],
        w.d().code.as_ref().unwrap().to_string()
    );
    // With a matching local account, that account owns it.
    let mut w = World::new();
    w.run(&desk(), t0, from_portal(Some(citizen().user_id)))
        .unwrap();
    assert!(w.d().is_owner(&citizen()));
    // Only the receiving agency's desk takes it in; a citizen cannot claim an origin.
    let mut w = World::new();
    let other_desk = actor(Role::DeskOfficer, Some(DEPT), 9);
    assert!(matches!(
        w.run(&other_desk, t0, from_portal(None)),
        Err(DomainError::Forbidden(_))
    ));
    assert!(matches!(
        w.run(&citizen(), t0, from_portal(None)),
        Err(DomainError::Invalid {
            field: "origin",
            ..
        })
    ));
    // Dossiers not from the portal carry no MaHoSoQG and older events read without origin.
    let mut w = World::new();
    w.run(&citizen(), t0, submit_cmd(false, Channel::Online))
        .unwrap();
    let before = w.d().clone();
    let rec = w
        .run(&desk(), local(2026, 3, 2, 9, 0), Command::Receive)
        .unwrap();
    let out = outbox_messages(Some(&before), w.d(), &rec[0]);
    let sync = out.iter().find(|m| m.topic == "dvcqg.sync").unwrap();
    assert!(sync.payload.get("MaHoSoQG").is_none());
    let ev = serde_json::to_value(&w.log[0]).unwrap();
    assert!(ev["body"].get("origin").is_none(), "{ev}");
}

#[test]
fn emc_tracks_reception_assignment_processing_and_result_once_each() {
    let mut w = World::new();
    let t0 = local(2026, 3, 2, 8, 0);
    let sub = w
        .run(&citizen(), t0, submit_cmd(false, Channel::Online))
        .unwrap();
    assert!(
        outbox_messages(None, w.d(), &sub[0])
            .iter()
            .all(|m| m.topic != EMC_TOPIC),
        "no code yet, nothing for EMC"
    );
    let before = w.d().clone();
    let rec = w
        .run(&desk(), local(2026, 3, 2, 9, 0), Command::Receive)
        .unwrap();
    let emc: Vec<_> = outbox_messages(Some(&before), w.d(), &rec[0])
        .into_iter()
        .filter(|m| m.topic == EMC_TOPIC)
        .collect();
    assert_eq!(emc.len(), 1);
    assert_eq!(emc[0].payload["Status"], 1);
    assert_eq!(emc[0].payload["IsFromDVCQG"], 0);
    assert_eq!(emc[0].payload["Level"], 4);
    let user: serde_json::Value =
        serde_json::from_str(emc[0].payload["User"].as_str().unwrap()).unwrap();
    assert_eq!(user["ID_local"], citizen().user_id.to_string());
    let before = w.d().clone();
    let asg = w
        .run(
            &leader(),
            local(2026, 3, 2, 10, 0),
            Command::Assign {
                user_id: specialist().user_id,
                name: "Chuyên viên".into(),
            },
        )
        .unwrap();
    let emc: Vec<_> = outbox_messages(Some(&before), w.d(), &asg[0])
        .into_iter()
        .filter(|m| m.topic == EMC_TOPIC)
        .collect();
    assert_eq!(emc.len(), 1);
    assert_eq!(emc[0].payload["Status"], 4);
    // A rating is not tracked.
    assert_eq!(emc_status_of_rating(), None);
}

fn emc_status_of_rating() -> Option<u64> {
    let mut w = World::new();
    let t0 = local(2026, 3, 2, 8, 0);
    w.run(&desk(), t0, paper(Channel::Counter, true, None))
        .unwrap();
    let before = w.d().clone();
    let ev = Event {
        at: t0,
        actor: desk(),
        agency: ag(CENTRE),
        note: None,
        body: EventBody::Rated {
            score: 5,
            comment: None,
        },
    };
    outbox_messages(Some(&before), w.d(), &ev)
        .iter()
        .find(|m| m.topic == EMC_TOPIC)
        .and_then(|m| m.payload["Status"].as_u64())
}

fn cash(amount_vnd: i64, reference: &str) -> Command {
    Command::RecordPayment {
        reference: reference.into(),
        amount_vnd,
        method: crate::payment::PaymentMethod::Cash,
        transaction_id: None,
        receipt: None,
        receipt_no: Some("BL-0001".into()),
    }
}

fn online(amount_vnd: i64, reference: &str) -> Command {
    Command::RecordPayment {
        reference: reference.into(),
        amount_vnd,
        method: crate::payment::PaymentMethod::Online,
        transaction_id: Some("GD1".into()),
        receipt: Some("sha256:00".into()),
        receipt_no: None,
    }
}

#[test]
fn fees_are_owed_paid_at_the_counter_or_online_and_waived_with_a_reason() {
    let mut w = World::new();
    let t = local(2026, 3, 2, 8, 0);
    w.run(&citizen(), t, submit_cmd(false, Channel::Online))
        .unwrap();
    assert_eq!(w.d().owed_vnd(), 150_000, "the procedure's fee");
    // The applicant does not record a counter payment; staff do not record an online one.
    assert!(matches!(
        w.run(&citizen(), t, cash(1_000, "r0")),
        Err(DomainError::Forbidden(_))
    ));
    assert!(matches!(
        w.run(&desk(), t, online(1_000, "r0")),
        Err(DomainError::Forbidden(_))
    ));
    // More than is owed, nothing, or no reference: refused.
    for bad in [cash(150_001, "r1"), cash(0, "r1"), cash(10, " ")] {
        assert!(matches!(
            w.run(&desk(), t, bad),
            Err(DomainError::Invalid { .. })
        ));
    }
    let evs = w.run(&desk(), t, cash(50_000, "r1")).unwrap();
    assert_eq!(evs.len(), 1, "no obligation was pending: no confirmation");
    assert_eq!(w.d().owed_vnd(), 100_000);
    // Waivers: the receiving desk or a leader, with the legal ground, at most what is owed.
    let waive = |n: i64, r: &str| Command::ExemptFee {
        amount_vnd: n,
        reason: r.into(),
    };
    assert!(matches!(
        w.run(&specialist(), t, waive(10, "Điều 5")),
        Err(DomainError::Forbidden(_))
    ));
    assert!(matches!(
        w.run(&leader(), t, waive(10, " ")),
        Err(DomainError::Invalid { .. })
    ));
    assert!(matches!(
        w.run(&leader(), t, waive(100_001, "Điều 5")),
        Err(DomainError::Invalid { .. })
    ));
    w.run(&leader(), t, waive(100_000, "Điều 5 Thông tư 106/2021"))
        .unwrap();
    assert_eq!(w.d().owed_vnd(), 0);
    assert_eq!(
        w.d().fees,
        FeeAccount {
            paid_vnd: 50_000,
            exempted_vnd: 100_000
        }
    );
    // Money the platform took is recorded whatever is owed (it moved), by the owner only.
    w.run(&citizen(), t, online(1_000, "r2")).unwrap();
    assert_eq!(w.d().fees.paid_vnd, 51_000);
    // The history in plain words.
    let lines: Vec<String> = w
        .log
        .iter()
        .filter_map(|e| notice::line(e, false, true, &|_: &AgencyCode| None))
        .collect();
    assert!(
        lines.contains(&"Đã nộp 50.000 đồng (tiền mặt).".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"Được miễn, giảm 100.000 đồng: Điều 5 Thông tư 106/2021.".to_string()),
        "{lines:?}"
    );
}

#[test]
fn paying_what_was_asked_runs_the_clock_again() {
    let mut w = World::new();
    w.run(
        &desk(),
        local(2026, 3, 2, 8, 0),
        submit_cmd(false, Channel::Counter),
    )
    .unwrap();
    let due = w.d().due_at.unwrap();
    w.run(
        &leader(),
        local(2026, 3, 2, 10, 0),
        Command::CompleteStep {
            to: None,
            documents: vec![],
        },
    )
    .unwrap();
    w.run(
        &specialist(),
        local(2026, 3, 2, 11, 0),
        Command::RequestPayment {
            amount_vnd: 20_000,
            reason: "Phí thẩm định".into(),
        },
    )
    .unwrap();
    assert_eq!(w.d().owed_vnd(), 170_000);
    let evs = w
        .run(&desk(), local(2026, 3, 3, 9, 0), cash(150_000, "r1"))
        .unwrap();
    assert_eq!(evs.len(), 1);
    assert_eq!(w.d().status, Status::AwaitingPayment, "20.000 still owed");
    let evs = w
        .run(&desk(), local(2026, 3, 3, 11, 0), cash(20_000, "r2"))
        .unwrap();
    assert_eq!(
        evs.iter().map(|e| e.body.kind()).collect::<Vec<_>>(),
        ["fee_paid", "payment_confirmed"]
    );
    assert_eq!(w.d().status, Status::Processing);
    assert_eq!(
        w.d().due_at,
        Some(w.cal.add_working_time(due, WorkingDuration::days(1)))
    );
    // Absent fields stay out of the event (and of its hash).
    let json = serde_json::to_string(&evs[0]).unwrap();
    assert!(
        !json.contains("transaction_id") && !json.contains("\"receipt\""),
        "{json}"
    );
    assert!(json.contains("\"receipt_no\":\"BL-0001\""), "{json}");
    // Replaying the log gives the same state.
    assert_eq!(replay(w.id, &w.log).unwrap().as_ref(), Some(w.d()));
}

#[test]
fn an_obligation_confirmed_before_payments_were_recorded_counts_as_settled() {
    let mut w = World::new();
    let t = local(2026, 3, 2, 8, 0);
    w.run(&desk(), t, submit_cmd(false, Channel::Counter))
        .unwrap();
    w.run(
        &leader(),
        t,
        Command::CompleteStep {
            to: None,
            documents: vec![],
        },
    )
    .unwrap();
    w.run(
        &specialist(),
        t,
        Command::RequestPayment {
            amount_vnd: 20_000,
            reason: "Phí".into(),
        },
    )
    .unwrap();
    w.run(
        &desk(),
        t,
        Command::ConfirmPayment {
            reference: "PAY-1".into(),
        },
    )
    .unwrap();
    assert_eq!(w.d().owed_vnd(), 150_000, "only the procedure's fee");
    // A state stored before `fees` existed reads as nothing paid.
    let mut v = serde_json::to_value(w.d()).unwrap();
    v.as_object_mut().unwrap().remove("fees");
    let old: Dossier = serde_json::from_value(v).unwrap();
    assert_eq!(old, *w.d());
}
mod postal_service;
