//! The postal service on a dossier: the choice, the orders derived from events, and the
//! statuses the post reports.

use super::*;
use crate::dossier::postal::{PostalAddress, PostalChoice, postal_actor};

fn addr(detail: &str) -> PostalAddress {
    PostalAddress {
        name: "Nguyễn Văn An".into(),
        phone: "0912345678".into(),
        email: None,
        province: "68".into(),
        commune: "24781".into(),
        detail: detail.into(),
        province_name: "Tỉnh Lâm Đồng".into(),
        commune_name: "Phường Xuân Hương - Đà Lạt".into(),
    }
}

fn set(choice: PostalChoice) -> Command {
    Command::SetPostal {
        choice: Box::new(choice),
    }
}

fn with_postal(mut cmd: Command, choice: PostalChoice) -> Command {
    if let Command::Submit(data) = &mut cmd {
        data.postal = Some(choice);
    }
    cmd
}

fn orders(w: &World, before: Option<&Dossier>, ev: &Event) -> Vec<OutboxMessage> {
    outbox_messages(before, w.d(), ev)
        .into_iter()
        .filter(|m| m.topic == VNPOST_TOPIC)
        .collect()
}

/// Runs `cmd` and returns the postal orders its events put in the outbox.
fn run_orders(w: &mut World, who: &Actor, at: DateTime<Utc>, cmd: Command) -> Vec<OutboxMessage> {
    let mut before = w.state.clone();
    let evs = w.run(who, at, cmd).unwrap();
    let mut out = Vec::new();
    let mut state = before.take();
    for e in &evs {
        let after = apply(state.clone(), w.id, e).unwrap();
        out.extend(
            outbox_messages(state.as_ref(), &after, e)
                .into_iter()
                .filter(|m| m.topic == VNPOST_TOPIC),
        );
        state = Some(after);
    }
    out
}

fn status(order: &str, item: Option<&str>, state: PostalState, at: DateTime<Utc>) -> Command {
    Command::RecordPostalStatus {
        order_number: order.into(),
        item_code: item.map(Into::into),
        state,
        status_code: state.as_str().into(),
        happened_at: at,
    }
}

#[test]
fn an_online_dossier_asking_for_pickup_orders_it_once_and_the_post_reports_into_the_history() {
    let mut w = World::new();
    let t0 = local(2026, 3, 2, 8, 0);
    let choice = PostalChoice {
        pickup: Some(addr("12 Trần Phú")),
        return_to: None,
    };
    let sent = run_orders(
        &mut w,
        &citizen(),
        t0,
        with_postal(submit_cmd(false, Channel::Online), choice.clone()),
    );
    assert_eq!(sent.len(), 1, "{sent:?}");
    let number = format!("{}-THUGOM", w.id.simple());
    assert_eq!(sent[0].payload["OrderNumber"], number.as_str());
    assert_eq!(sent[0].key, format!("{}:{number}", w.id));
    assert_eq!(sent[0].payload["kind"], "pickup");
    assert_eq!(sent[0].payload["address"]["detail"], "12 Trần Phú");
    assert_eq!(w.d().postal, choice);
    assert_eq!(w.d().postal_orders.len(), 1);

    // Nobody but the post reports statuses.
    let t1 = local(2026, 3, 2, 9, 0);
    for who in [citizen(), desk()] {
        assert!(matches!(
            w.run(
                &who,
                t1,
                status(&number, Some("EE123456789VN"), PostalState::Collected, t1)
            ),
            Err(DomainError::Forbidden(_))
        ));
    }
    let post = postal_actor();
    w.run(
        &post,
        t1,
        status(&number, Some("EE123456789VN"), PostalState::Collected, t1),
    )
    .unwrap();
    assert_eq!(w.d().postal_tracking.as_deref(), Some("EE123456789VN"));
    // A repeat changes nothing; an unknown order or another item code is refused.
    assert!(
        w.run(&post, t1, status(&number, None, PostalState::Collected, t1))
            .is_err()
    );
    assert!(
        w.run(
            &post,
            t1,
            status("X-THUGOM", None, PostalState::InTransit, t1)
        )
        .is_err()
    );
    assert!(
        w.run(
            &post,
            t1,
            status(&number, Some("EE999999999VN"), PostalState::InTransit, t1)
        )
        .is_err()
    );
    let t3 = local(2026, 3, 2, 11, 0);
    w.run(&post, t3, status(&number, None, PostalState::Delivered, t3))
        .unwrap();
    // An older status arriving late is kept in time order; the state stays delivered.
    let t2 = local(2026, 3, 2, 10, 0);
    w.run(&post, t3, status(&number, None, PostalState::InTransit, t2))
        .unwrap();
    let o = &w.d().postal_orders[0];
    assert_eq!(o.state, Some(PostalState::Delivered));
    assert_eq!(o.delivered_at, Some(t3));
    assert_eq!(o.registered_at, Some(t1));
    assert_eq!(
        o.steps.iter().map(|s| s.state).collect::<Vec<_>>(),
        [
            PostalState::Collected,
            PostalState::InTransit,
            PostalState::Delivered
        ]
    );
    // The pickup cannot change once ordered; the history says what the post did.
    let again = set(PostalChoice {
        pickup: Some(addr("99 Lê Lợi")),
        return_to: None,
    });
    assert!(matches!(
        w.run(&citizen(), t3, again),
        Err(DomainError::Invalid {
            field: "postal.pickup",
            ..
        })
    ));
    let lines: Vec<String> = w
        .log
        .iter()
        .filter_map(|e| notice::line(e, false, true, &|_| None))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l
                .contains("Bưu điện (thu gom hồ sơ): đã thu gom hồ sơ (mã vận đơn EE123456789VN)")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("đã phát thành công")),
        "{lines:?}"
    );
    // Replay gives the same state; postal events never notify by SMS or e-mail.
    assert_eq!(replay(w.id, &w.log).unwrap().as_ref(), Some(w.d()));
    let last = w.log.last().unwrap().clone();
    assert!(orders(&w, w.state.as_ref(), &last).is_empty());
}

#[test]
fn the_result_goes_by_post_only_with_a_return_address_and_orders_once() {
    let mut w = World::new();
    let t0 = local(2026, 3, 2, 8, 0);
    w.run(&desk(), t0, submit_cmd(false, Channel::Counter))
        .unwrap();
    // Pickup is for online dossiers, at submission and later.
    assert!(matches!(
        w.run(
            &desk(),
            t0,
            set(PostalChoice {
                pickup: Some(addr("1 A")),
                return_to: None
            })
        ),
        Err(DomainError::Invalid {
            field: "postal.pickup",
            ..
        })
    ));
    let mut bad = addr("1 A");
    bad.phone = "123".into();
    assert!(matches!(
        w.run(
            &desk(),
            t0,
            set(PostalChoice {
                pickup: None,
                return_to: Some(bad)
            })
        ),
        Err(DomainError::Invalid {
            field: "postal.return_to",
            ..
        })
    ));
    // Another agency's desk and a stranger may not choose.
    let far_desk = actor(Role::DeskOfficer, Some(OTHER), 77);
    let choice = PostalChoice {
        pickup: None,
        return_to: Some(addr("5 Hùng Vương")),
    };
    for who in [far_desk, actor(Role::Citizen, None, 99)] {
        assert!(matches!(
            w.run(&who, t0, set(choice.clone())),
            Err(DomainError::Forbidden(_))
        ));
    }
    // Walk to the result.
    let t = |h| local(2026, 3, 3, h, 0);
    w.run(
        &leader(),
        t(8),
        Command::CompleteStep {
            to: None,
            documents: vec![],
        },
    )
    .unwrap();
    w.run(
        &specialist(),
        t(9),
        Command::CompleteStep {
            to: None,
            documents: vec![],
        },
    )
    .unwrap();
    w.run(&leader(), t(10), Command::Approve).unwrap();
    w.run(
        &desk(),
        t(11),
        Command::MarkResultReady {
            summary: "Giấy phép số 12/GPXD".into(),
            documents: vec![DocumentRef {
                name: "Giấy phép xây dựng".into(),
                file: None,
            }],
        },
    )
    .unwrap();
    let by_post = Command::ReturnResult {
        method: ReturnMethod::Post,
        receiver: "Bưu điện".into(),
    };
    assert!(matches!(
        w.run(&desk(), t(13), by_post.clone()),
        Err(DomainError::Invalid {
            field: "method",
            ..
        })
    ));
    let none = run_orders(&mut w, &desk(), t(13), set(choice.clone()));
    assert!(none.is_empty(), "choosing orders nothing yet");
    let sent = run_orders(&mut w, &desk(), t(14), by_post);
    assert_eq!(sent.len(), 1);
    let code = w.d().code.clone().unwrap();
    assert_eq!(sent[0].payload["OrderNumber"], format!("{code}-TRAKQ"));
    assert_eq!(sent[0].payload["kind"], "return");
    assert_eq!(sent[0].payload["items"][0], "Giấy phép xây dựng");
    assert!(
        sent[0].payload["Description"]
            .as_str()
            .unwrap()
            .contains("12/GPXD")
    );
    assert_eq!(w.d().status, Status::Returned);
    // Closed: the choice no longer changes.
    assert!(matches!(
        w.run(&citizen(), t(15), set(PostalChoice::default())),
        Err(DomainError::NotAllowed { .. }) | Err(DomainError::Forbidden(_))
    ));
}

#[test]
fn a_pickup_chosen_after_submission_is_ordered_then_and_old_events_read_unchanged() {
    let mut w = World::new();
    let t0 = local(2026, 3, 2, 8, 0);
    let first = w
        .run(&citizen(), t0, submit_cmd(false, Channel::Online))
        .unwrap();
    // No postal field on the event when none was asked: older hashes hold.
    let json = serde_json::to_value(&first[0]).unwrap();
    assert!(json["body"].get("postal").is_none());
    assert!(serde_json::to_value(w.d()).unwrap().get("postal").is_none());
    let sent = run_orders(
        &mut w,
        &citizen(),
        t0,
        set(PostalChoice {
            pickup: Some(addr("7 Nguyễn Du")),
            return_to: Some(addr("7 Nguyễn Du")),
        }),
    );
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].payload["kind"], "pickup");
    // Changing only the return address orders nothing more.
    let sent = run_orders(
        &mut w,
        &citizen(),
        t0,
        set(PostalChoice {
            pickup: Some(addr("7 Nguyễn Du")),
            return_to: Some(addr("8 Nguyễn Du")),
        }),
    );
    assert!(sent.is_empty());
    assert_eq!(w.d().postal_orders.len(), 1);
}
