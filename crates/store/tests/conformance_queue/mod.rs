//! Conformance tests for queue numbers (issue 5): set-up, numbering per centre, day and group,
//! concurrent takes with distinct consecutive numbers, concurrent "call next" that never gives
//! one ticket to two counters, the ticket's life at a counter, and what the display and the
//! statistics read.

use super::*;
use motcua_domain::queue::{
    Counter, QueueError, ServiceGroup, TicketAction, TicketState, local_day, summarize,
};
use motcua_store::QueueAct;

conformance!(queue_setup_and_numbers);
conformance!(queue_concurrent_takes);
conformance!(queue_concurrent_calls);
conformance!(queue_ticket_life);

const COMMUNE: &str = "H40.24781";

fn group(code: &str, prefix: char) -> ServiceGroup {
    ServiceGroup {
        code: code.into(),
        prefix,
        name_vi: format!("Nhóm {prefix}"),
        name_en: format!("Group {prefix}"),
        fields: vec![],
    }
}

fn counter(n: u16, groups: &[&str]) -> Counter {
    Counter {
        number: n,
        name: format!("Quầy {n}"),
        groups: groups.iter().map(|g| g.to_string()).collect(),
    }
}

/// Groups `a` (A) and `b` (B); counters 1 (a), 2 (a, b), 3 (b), 4 (a, b).
async fn setup(s: &Store, centre: &str) {
    let added = s
        .add_queue_setup(
            &ag(centre),
            vec![group("a", 'A'), group("b", 'B')],
            vec![
                counter(1, &["a"]),
                counter(2, &["a", "b"]),
                counter(3, &["b"]),
                counter(4, &["a", "b"]),
            ],
        )
        .await
        .unwrap();
    assert_eq!(added, 6);
}

fn act(centre: &str, counter: u16, action: TicketAction, now: DateTime<Utc>) -> QueueAct {
    QueueAct {
        centre: ag(centre),
        counter,
        action,
        officer: Uuid::from_u128(counter as u128),
        now,
    }
}

/// Test Q1: set-up is kept and re-adding adds nothing; numbers count per centre, day and group
/// and restart the next local day; unknown groups are refused.
async fn queue_setup_and_numbers(db: &mut Db) {
    let s = db.store.clone();
    setup(&s, CENTRE).await;
    // Idempotent, and an administrator's changes are not overwritten.
    let mut renamed = group("a", 'A');
    renamed.name_vi = "Đổi tên".into();
    assert_eq!(
        s.add_queue_setup(&ag(CENTRE), vec![renamed], vec![counter(1, &["b"])])
            .await
            .unwrap(),
        0
    );
    let groups = s.queue_groups(&ag(CENTRE)).await.unwrap();
    assert_eq!(groups, vec![group("a", 'A'), group("b", 'B')]);
    let counters = s.queue_counters(&ag(CENTRE)).await.unwrap();
    assert_eq!(counters.len(), 4);
    assert_eq!(counters[0], counter(1, &["a"]));
    // A new group cannot take a prefix in use.
    let err = s
        .add_queue_setup(&ag(CENTRE), vec![group("c", 'A')], vec![])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate(_)), "{err:?}");
    assert!(s.queue_groups(&ag(COMMUNE)).await.unwrap().is_empty());

    let a1 = s.take_ticket(&ag(CENTRE), "a", t0()).await.unwrap();
    let a2 = s.take_ticket(&ag(CENTRE), "a", t0()).await.unwrap();
    let b1 = s.take_ticket(&ag(CENTRE), "b", t0()).await.unwrap();
    assert_eq!(
        [a1.number(), a2.number(), b1.number()].map(|n| n.to_string()),
        ["A001", "A002", "B001"]
    );
    assert_eq!(a1.state, TicketState::Waiting);
    assert_eq!(a1.day, NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
    assert_eq!(s.queue_ticket(a2.id).await.unwrap(), Some(a2.clone()));
    assert_eq!(s.queue_ticket(Uuid::new_v4()).await.unwrap(), None);
    assert_eq!(s.queue_ahead(&a1).await.unwrap(), 0);
    assert_eq!(s.queue_ahead(&a2).await.unwrap(), 1);
    assert_eq!(s.queue_ahead(&b1).await.unwrap(), 0);
    assert_eq!(
        s.queue_waiting(&ag(CENTRE), a1.day).await.unwrap(),
        vec![("a".to_string(), 2), ("b".to_string(), 1)]
    );
    // Another centre has its own numbers.
    setup(&s, COMMUNE).await;
    let other = s.take_ticket(&ag(COMMUNE), "a", t0()).await.unwrap();
    assert_eq!(other.number().to_string(), "A001");
    // 23:59 local is still the same day; 00:00 local starts again at 1.
    let late = s
        .take_ticket(&ag(CENTRE), "a", local(2026, 3, 2, 23, 59))
        .await
        .unwrap();
    assert_eq!(late.number().to_string(), "A003");
    let next = s
        .take_ticket(&ag(CENTRE), "a", local(2026, 3, 3, 0, 0))
        .await
        .unwrap();
    assert_eq!(next.number().to_string(), "A001");
    assert_eq!(next.day, NaiveDate::from_ymd_opt(2026, 3, 3).unwrap());

    let err = s.take_ticket(&ag(CENTRE), "zzz", t0()).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let err = s.take_ticket(&ag(DEPT), "a", t0()).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");

    if let Some(again) = db.reopen().await {
        let t = again.take_ticket(&ag(CENTRE), "a", t0()).await.unwrap();
        assert_eq!(t.number().to_string(), "A004", "numbers survive a restart");
    }
}

/// Test Q2: many concurrent takes get distinct, consecutive numbers.
async fn queue_concurrent_takes(db: &mut Db) {
    let s = db.store.clone();
    setup(&s, CENTRE).await;
    let tasks: Vec<_> = (0..120)
        .map(|i| {
            let s = s.clone();
            let grp = if i % 3 == 0 { "b" } else { "a" };
            tokio::spawn(async move {
                s.take_ticket(&ag(CENTRE), grp, t0() + Duration::milliseconds(i))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut a = Vec::new();
    let mut b = Vec::new();
    for t in tasks {
        let t = t.await.unwrap();
        match t.prefix {
            'A' => a.push(t.seq),
            _ => b.push(t.seq),
        }
    }
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, (1..=80).collect::<Vec<u32>>());
    assert_eq!(b, (1..=40).collect::<Vec<u32>>());
    let all = s
        .queue_tickets(&ag(CENTRE), local_day(t0()), local_day(t0()))
        .await
        .unwrap();
    assert_eq!(all.len(), 120);
}

/// Test Q3: counters calling at once never get the same ticket; each gets one of its groups,
/// and the oldest waiting tickets go first.
async fn queue_concurrent_calls(db: &mut Db) {
    let s = db.store.clone();
    setup(&s, CENTRE).await;
    for i in 0..60 {
        let grp = if i % 2 == 0 { "a" } else { "b" };
        s.take_ticket(&ag(CENTRE), grp, t0() + Duration::seconds(i))
            .await
            .unwrap();
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    // Rounds of four counters calling at once, finishing what they called, until all are
    // called (a counter of one group may find none of its group left).
    for round in 0..60 {
        if total == 60 {
            break;
        }
        let now = t0() + Duration::minutes(5 + round);
        let calls: Vec<_> = (1..=4u16)
            .map(|k| {
                let s = s.clone();
                tokio::spawn(async move {
                    (
                        k,
                        s.queue_act(act(CENTRE, k, TicketAction::CallNext, now))
                            .await
                            .unwrap(),
                    )
                })
            })
            .collect();
        for c in calls {
            let (k, got) = c.await.unwrap();
            let Some(t) = got else { continue };
            assert!(seen.insert(t.id), "ticket {} called twice", t.number());
            assert_eq!(t.counter, Some(k));
            assert_eq!(t.state, TicketState::Called);
            let groups = if k == 1 {
                vec!["a"]
            } else if k == 3 {
                vec!["b"]
            } else {
                vec!["a", "b"]
            };
            assert!(
                groups.contains(&t.group.as_str()),
                "counter {k} got {}",
                t.group
            );
            total += 1;
            s.queue_act(act(CENTRE, k, TicketAction::Finish, now))
                .await
                .unwrap()
                .unwrap();
        }
    }
    assert_eq!(total, 60, "every ticket called exactly once");
    let none = s
        .queue_act(act(
            CENTRE,
            1,
            TicketAction::CallNext,
            t0() + Duration::hours(1),
        ))
        .await
        .unwrap();
    assert_eq!(none, None, "nobody waits");
    assert!(
        s.queue_waiting(&ag(CENTRE), local_day(t0()))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Test Q4: a ticket's life at a counter, the refusals, what the display and a counter show, and
/// the figures leaders read.
async fn queue_ticket_life(db: &mut Db) {
    let s = db.store.clone();
    setup(&s, CENTRE).await;
    let t1 = s.take_ticket(&ag(CENTRE), "a", t0()).await.unwrap();
    let t2 = s
        .take_ticket(&ag(CENTRE), "a", t0() + Duration::minutes(1))
        .await
        .unwrap();
    let t3 = s
        .take_ticket(&ag(CENTRE), "b", t0() + Duration::minutes(2))
        .await
        .unwrap();
    let m = |n: i64| t0() + Duration::minutes(n);

    // Nothing in hand yet.
    let err = s
        .queue_act(act(CENTRE, 1, TicketAction::Start, m(3)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Queue(QueueError::NoCurrentTicket(1))),
        "{err:?}"
    );
    let err = s
        .queue_act(act(CENTRE, 9, TicketAction::CallNext, m(3)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");

    let st = s
        .queue_counter_state(&ag(CENTRE), 1, m(3))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((st.current.clone(), st.waiting), (None, 2));
    assert_eq!(
        s.queue_counter_state(&ag(CENTRE), 3, m(3))
            .await
            .unwrap()
            .unwrap()
            .waiting,
        1
    );
    assert!(
        s.queue_counter_state(&ag(CENTRE), 9, m(3))
            .await
            .unwrap()
            .is_none()
    );

    // Counter 1 calls A001, recalls, starts, and cannot call the next meanwhile.
    let c = s
        .queue_act(act(CENTRE, 1, TicketAction::CallNext, m(10)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c.id, c.state, c.calls), (t1.id, TicketState::Called, 1));
    let r = s
        .queue_act(act(CENTRE, 1, TicketAction::Recall, m(11)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.calls, r.called_at, r.last_called_at),
        (2, Some(m(10)), Some(m(11)))
    );
    let err = s
        .queue_act(act(CENTRE, 1, TicketAction::CallNext, m(11)))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Queue(QueueError::CounterBusy { counter: 1, .. })
        ),
        "{err:?}"
    );
    s.queue_act(act(CENTRE, 1, TicketAction::Start, m(12)))
        .await
        .unwrap()
        .unwrap();
    let err = s
        .queue_act(act(CENTRE, 1, TicketAction::NoShow, m(13)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Queue(QueueError::NotAllowed { .. })),
        "{err:?}"
    );
    let st = s
        .queue_counter_state(&ag(CENTRE), 1, m(13))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        st.current.as_ref().map(|t| t.state),
        Some(TicketState::Serving)
    );
    assert_eq!(st.waiting, 1);

    // Counter 2 calls A002 (older than B001); it does not come.
    let c2 = s
        .queue_act(act(CENTRE, 2, TicketAction::CallNext, m(14)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c2.id, t2.id);
    s.queue_act(act(CENTRE, 2, TicketAction::NoShow, m(16)))
        .await
        .unwrap()
        .unwrap();
    let done = s
        .queue_act(act(CENTRE, 1, TicketAction::Finish, m(22)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.state, TicketState::Done);
    assert_eq!(done.started_at, Some(m(12)));
    // Counter 3 calls B001.
    let c3 = s
        .queue_act(act(CENTRE, 3, TicketAction::CallNext, m(20)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c3.id, t3.id);

    // The display: latest call first.
    let day = local_day(t0());
    let calls = s.queue_recent_calls(&ag(CENTRE), day, 10).await.unwrap();
    let order: Vec<Uuid> = calls.iter().map(|t| t.id).collect();
    assert_eq!(order, vec![t3.id, t2.id, t1.id]);
    assert_eq!(
        s.queue_recent_calls(&ag(CENTRE), day, 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.queue_recent_calls(&ag(CENTRE), day.succ_opt().unwrap(), 10)
            .await
            .unwrap()
            .is_empty()
    );

    // The stored tickets give the figures: waits 10, 13 and 18 minutes; one served in 10.
    let all = s.queue_tickets(&ag(CENTRE), day, day).await.unwrap();
    assert_eq!(
        all.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![t1.id, t2.id, t3.id]
    );
    let stats = summarize(day, day, &all);
    assert_eq!(stats.total.taken, 3);
    assert_eq!(stats.total.called, 3);
    assert_eq!(stats.total.served, 1);
    assert_eq!(stats.total.no_show, 1);
    assert_eq!(
        stats.total.avg_wait_seconds,
        Some((600.0 + 780.0 + 1080.0) / 3.0)
    );
    assert_eq!(stats.total.avg_service_seconds, Some(600.0));
    assert_eq!(
        stats.counters.iter().map(|c| c.counter).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(
        s.queue_tickets(
            &ag(CENTRE),
            day.succ_opt().unwrap(),
            day.succ_opt().unwrap()
        )
        .await
        .unwrap()
        .is_empty()
    );
}
