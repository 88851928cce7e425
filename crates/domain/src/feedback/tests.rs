use super::*;
use chrono::TimeZone;

fn local(d: u32, h: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(7 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, 3, d, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn ag(s: &str) -> AgencyCode {
    s.parse().unwrap()
}

fn actor(role: Role, agency: Option<&str>, n: u128) -> Actor {
    Actor {
        user_id: Uuid::from_u128(n),
        name: format!("Người {n}"),
        role,
        agency: agency.map(ag),
    }
}

const DEPT: &str = "000.00.10.H40";

fn citizen() -> Actor {
    actor(Role::Citizen, None, 1)
}
fn officer() -> Actor {
    actor(Role::Specialist, Some(DEPT), 2)
}
fn leader() -> Actor {
    actor(Role::Leader, Some(DEPT), 3)
}

/// Filed Monday 2 March 2026 09:00 local.
fn filed() -> Feedback {
    receive(
        NewFeedback {
            id: Uuid::from_u128(9),
            subject_kind: SubjectKind::Procedure,
            subject: "1.001193".into(),
            agency: ag(DEPT),
            content: "  Hồ sơ bị yêu cầu giấy tờ không có trong danh mục  ".into(),
        },
        &citizen(),
        local(2, 9),
    )
    .unwrap()
    .0
}

fn run(f: &Feedback, a: FeedbackAction, who: &Actor, at: DateTime<Utc>) -> Feedback {
    decide(f, &a, who, at).unwrap().0
}

#[test]
fn receiving_trims_and_checks_the_text_and_the_actor() {
    let f = filed();
    assert_eq!(
        f.content,
        "Hồ sơ bị yêu cầu giấy tờ không có trong danh mục"
    );
    assert_eq!((f.state, f.version), (FeedbackState::Received, 1));
    let n = |content: &str| NewFeedback {
        id: Uuid::nil(),
        subject_kind: SubjectKind::Agency,
        subject: DEPT.into(),
        agency: ag(DEPT),
        content: content.into(),
    };
    assert!(matches!(
        receive(n("   "), &citizen(), local(2, 9)),
        Err(FeedbackError::Invalid {
            field: "content",
            ..
        })
    ));
    let long = "ă".repeat(MAX_TEXT_CHARS + 1);
    assert!(matches!(
        receive(n(&long), &citizen(), local(2, 9)),
        Err(FeedbackError::Invalid {
            field: "content",
            ..
        })
    ));
    assert!(matches!(
        receive(n("ok"), &officer(), local(2, 9)),
        Err(FeedbackError::Forbidden(_))
    ));
}

#[test]
fn the_full_flow_with_information_rating_and_re_raise() {
    let f = filed();
    let (g, step) = decide(
        &f,
        &FeedbackAction::RequestInfo {
            missing: "Số hồ sơ liên quan".into(),
        },
        &officer(),
        local(3, 9),
    )
    .unwrap();
    assert_eq!(g.state, FeedbackState::InfoRequested);
    assert_eq!(g.classification, Some(Classification::InfoRequested));
    assert_eq!((step.seq, step.action.as_str()), (2, "info_requested"));
    assert_eq!(step.agency, ag(DEPT));
    let g = run(
        &g,
        FeedbackAction::SupplyInfo {
            info: "000.00.10.H40-260302-0001".into(),
        },
        &citizen(),
        local(4, 9),
    );
    assert_eq!(g.state, FeedbackState::Accepted);
    let g = run(
        &g,
        FeedbackAction::Answer {
            answer: "Đã chấn chỉnh bộ phận một cửa.".into(),
        },
        &officer(),
        local(10, 9),
    );
    assert_eq!(g.answered_by.as_deref(), Some("Người 2"));
    let g = run(
        &g,
        FeedbackAction::Publish {
            summary: "Yêu cầu giấy tờ ngoài danh mục".into(),
        },
        &leader(),
        local(11, 9),
    );
    assert_eq!(g.state, FeedbackState::Published);
    let g = run(
        &g,
        FeedbackAction::Rate { satisfied: false },
        &citizen(),
        local(12, 9),
    );
    assert_eq!(g.satisfied, Some(false));
    // Rated once per answer.
    assert!(matches!(
        decide(
            &g,
            &FeedbackAction::Rate { satisfied: true },
            &citizen(),
            local(12, 10)
        ),
        Err(FeedbackError::NotAllowed { .. })
    ));
    let g = run(
        &g,
        FeedbackAction::Reraise {
            reason: "Chưa được giải quyết".into(),
        },
        &citizen(),
        local(13, 9),
    );
    assert_eq!(g.state, FeedbackState::Accepted);
    assert!(g.reraised);
    assert_eq!(
        (g.answer.clone(), g.satisfied, g.published_at),
        (None, None, None)
    );
    assert_eq!(g.version, 7);
    let g = run(
        &g,
        FeedbackAction::Answer {
            answer: "Đã trả lại phí.".into(),
        },
        &officer(),
        local(16, 9),
    );
    // Re-raised only once.
    assert!(matches!(
        decide(
            &g,
            &FeedbackAction::Reraise {
                reason: "nữa".into()
            },
            &citizen(),
            local(17, 9)
        ),
        Err(FeedbackError::NotAllowed {
            action: "reraised",
            state: "answered"
        })
    ));
}

#[test]
fn invalid_transitions_and_actors_are_errors() {
    let f = filed();
    let answer = FeedbackAction::Answer { answer: "x".into() };
    assert!(matches!(
        decide(&f, &answer, &officer(), local(2, 10)),
        Err(FeedbackError::NotAllowed {
            state: "received",
            ..
        })
    ));
    assert!(matches!(
        decide(
            &f,
            &FeedbackAction::SupplyInfo { info: "x".into() },
            &citizen(),
            local(2, 10)
        ),
        Err(FeedbackError::NotAllowed { .. })
    ));
    // Staff of another agency, a citizen, an administrator: not theirs to classify.
    for who in [
        actor(Role::Leader, Some("000.00.01.H40"), 5),
        citizen(),
        actor(Role::Admin, None, 6),
    ] {
        assert!(matches!(
            decide(&f, &FeedbackAction::Accept, &who, local(2, 10)),
            Err(FeedbackError::Forbidden(_))
        ));
    }
    assert!(matches!(
        decide(
            &f,
            &FeedbackAction::Refuse { reason: " ".into() },
            &officer(),
            local(2, 10)
        ),
        Err(FeedbackError::Invalid {
            field: "reason",
            ..
        })
    ));
    let refused = run(
        &f,
        FeedbackAction::Refuse {
            reason: "Trùng nội dung".into(),
        },
        &officer(),
        local(2, 10),
    );
    assert_eq!(refused.state, FeedbackState::Refused);
    assert!(matches!(
        decide(&refused, &FeedbackAction::Accept, &officer(), local(2, 11)),
        Err(FeedbackError::NotAllowed {
            state: "refused",
            ..
        })
    ));
    assert!(matches!(
        decide(
            &refused,
            &FeedbackAction::Reraise { reason: "x".into() },
            &citizen(),
            local(2, 11)
        ),
        Err(FeedbackError::NotAllowed { .. })
    ));
    let answered = run(
        &run(&f, FeedbackAction::Accept, &officer(), local(2, 10)),
        answer.clone(),
        &officer(),
        local(2, 11),
    );
    // Only a leader publishes; another citizen neither rates nor re-raises.
    assert!(matches!(
        decide(
            &answered,
            &FeedbackAction::Publish {
                summary: "x".into()
            },
            &officer(),
            local(3, 9)
        ),
        Err(FeedbackError::Forbidden(_))
    ));
    let other = actor(Role::Citizen, None, 77);
    assert!(matches!(
        decide(
            &answered,
            &FeedbackAction::Rate { satisfied: true },
            &other,
            local(3, 9)
        ),
        Err(FeedbackError::Forbidden(_))
    ));
}

#[test]
fn deadlines_count_working_days_on_the_calendar() {
    let cal = Calendar::vietnam_default();
    let lim = FeedbackLimits::default();
    let f = filed();
    let d = deadlines(&f, &cal, &lim);
    // Monday 09:00: two working days -> Wednesday 09:00, five -> next Monday, fifteen -> three weeks on.
    assert_eq!(d.refuse_by, local(4, 9));
    assert_eq!(d.classify_by, local(9, 9));
    assert_eq!(d.answer_by, Some(local(23, 9)));
    assert_eq!(d.publish_by, None);
    assert_eq!(next_due(&f, &cal, &lim), Some(local(9, 9)));
    // Filed on Friday 6 March 16:00: the weekend does not count.
    let mut late = f.clone();
    late.received_at = local(6, 16);
    assert_eq!(deadlines(&late, &cal, &lim).refuse_by, local(10, 16));
    // The answer clock restarts from the information supplied; none while waiting for it.
    let asked = run(
        &f,
        FeedbackAction::RequestInfo {
            missing: "x".into(),
        },
        &officer(),
        local(3, 9),
    );
    assert_eq!(deadlines(&asked, &cal, &lim).answer_by, None);
    assert_eq!(next_due(&asked, &cal, &lim), None);
    let supplied = run(
        &asked,
        FeedbackAction::SupplyInfo { info: "y".into() },
        &citizen(),
        local(5, 9),
    );
    assert_eq!(
        deadlines(&supplied, &cal, &lim).answer_by,
        Some(local(26, 9))
    );
    let answered = run(
        &supplied,
        FeedbackAction::Answer { answer: "z".into() },
        &officer(),
        local(13, 9),
    );
    assert_eq!(
        deadlines(&answered, &cal, &lim).publish_by,
        Some(local(17, 9))
    );
    // Limits are configurable.
    let short = FeedbackLimits {
        refuse_days: 1,
        ..lim
    };
    assert_eq!(deadlines(&f, &cal, &short).refuse_by, local(3, 9));
    assert!(
        FeedbackLimits {
            refuse_days: 6,
            ..lim
        }
        .validate()
        .is_err()
    );
    assert!(
        FeedbackLimits {
            answer_days: 0,
            ..lim
        }
        .validate()
        .is_err()
    );
    assert!(lim.validate().is_ok());
}

#[test]
fn timeliness_counts_open_items_past_a_limit_as_late() {
    let cal = Calendar::vietnam_default();
    let lim = FeedbackLimits::default();
    let f = filed();
    // Unclassified: fine before the information limit, late after it; never "classified on time".
    let t = timeliness(&f, &cal, &lim, local(5, 9));
    assert_eq!((t.classified_on_time, t.all_on_time), (false, true));
    assert!(!timeliness(&f, &cal, &lim, local(10, 9)).all_on_time);
    // Refused on day 3 (after the 2-day refusal limit): late, though within the 5 days.
    let refused = run(
        &f,
        FeedbackAction::Refuse { reason: "x".into() },
        &officer(),
        local(5, 9),
    );
    let t = timeliness(&refused, &cal, &lim, local(30, 9));
    assert_eq!((t.classified_on_time, t.all_on_time), (false, false));
    // Accepted on day 4: on time; answered on time; unpublished past the 2 days: late.
    let accepted = run(&f, FeedbackAction::Accept, &officer(), local(6, 9));
    assert!(timeliness(&accepted, &cal, &lim, local(20, 9)).all_on_time);
    assert!(!timeliness(&accepted, &cal, &lim, local(24, 9)).all_on_time);
    let answered = run(
        &accepted,
        FeedbackAction::Answer { answer: "a".into() },
        &officer(),
        local(16, 9),
    );
    let t = timeliness(&answered, &cal, &lim, local(17, 9));
    assert_eq!((t.classified_on_time, t.all_on_time), (true, true));
    assert!(!timeliness(&answered, &cal, &lim, local(19, 9)).all_on_time);
    let published = run(
        &answered,
        FeedbackAction::Publish {
            summary: "s".into(),
        },
        &leader(),
        local(18, 9),
    );
    assert!(timeliness(&published, &cal, &lim, local(31, 9)).all_on_time);

    let mut facts = FeedbackFacts::default();
    facts.add(&published, &cal, &lim, local(31, 9));
    facts.add(&refused, &cal, &lim, local(31, 9));
    let unhappy = run(
        &published,
        FeedbackAction::Rate { satisfied: false },
        &citizen(),
        local(19, 9),
    );
    facts.add(&unhappy, &cal, &lim, local(31, 9));
    assert_eq!(
        facts,
        FeedbackFacts {
            received: 3,
            classified_on_time: 2,
            on_time: 2,
            content: 1
        }
    );
}
