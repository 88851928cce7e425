//! Conformance tests for feedback items (issue #6, migration 23): created once, each step saved
//! with its history in one transaction, stale versions refused, lists filtered by owner,
//! agency, state, subject, period and publication, staff lists ordered by due date.

use super::*;
use motcua_domain::feedback::{
    FeedbackAction, FeedbackState, NewFeedback, SubjectKind, decide, receive,
};
use motcua_store::{FeedbackOrder, FeedbackQuery};

conformance!(feedback_items_and_their_history);

fn new_item(agency: &str, subject: &str) -> NewFeedback {
    NewFeedback {
        id: Uuid::new_v4(),
        subject_kind: SubjectKind::Agency,
        subject: subject.into(),
        agency: ag(agency),
        content: "Cán bộ hẹn trả kết quả nhưng không trả đúng hẹn".into(),
    }
}

async fn feedback_items_and_their_history(db: &mut Db) {
    let s = db.store.clone();
    let an = citizen(1);
    let binh = citizen(2);
    let officer = specialist();
    let boss = leader();

    let (a, step) = receive(new_item(DEPT, DEPT), &an, t0()).unwrap();
    s.create_feedback(a.clone(), step.clone(), Some(t0() + Duration::days(7)))
        .await
        .unwrap();
    assert!(matches!(
        s.create_feedback(a.clone(), step.clone(), None).await,
        Err(StoreError::Duplicate(_))
    ));
    let got = s.feedback(a.id).await.unwrap().unwrap();
    assert_eq!(got.item, a);
    assert_eq!(got.due_at, Some(t0() + Duration::days(7)));
    assert_eq!(s.feedback(Uuid::new_v4()).await.unwrap(), None);

    // Accepted, answered, published: each step kept, the item replaced.
    let (a1, s1) = decide(
        &a,
        &FeedbackAction::Accept,
        &officer,
        t0() + Duration::hours(1),
    )
    .unwrap();
    s.save_feedback(a1.clone(), s1, Some(t0() + Duration::days(20)))
        .await
        .unwrap();
    // The same step again (a stale version) is refused and writes nothing.
    let (stale, stale_step) = decide(
        &a,
        &FeedbackAction::Refuse {
            reason: "Trùng".into(),
        },
        &officer,
        t0() + Duration::hours(2),
    )
    .unwrap();
    assert!(matches!(
        s.save_feedback(stale, stale_step, None).await,
        Err(StoreError::VersionConflict {
            expected: 1,
            actual: 2
        })
    ));
    let (a2, s2) = decide(
        &a1,
        &FeedbackAction::Answer {
            answer: "Đã xin lỗi và trả kết quả.".into(),
        },
        &officer,
        t0() + Duration::days(3),
    )
    .unwrap();
    s.save_feedback(a2.clone(), s2, Some(t0() + Duration::days(5)))
        .await
        .unwrap();
    let (a3, s3) = decide(
        &a2,
        &FeedbackAction::Publish {
            summary: "Trả kết quả trễ hẹn".into(),
        },
        &boss,
        t0() + Duration::days(4),
    )
    .unwrap();
    s.save_feedback(a3.clone(), s3, None).await.unwrap();
    let got = s.feedback(a.id).await.unwrap().unwrap();
    assert_eq!((got.item.clone(), got.due_at), (a3.clone(), None));
    let history = s.feedback_history(a.id).await.unwrap();
    let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(actions, ["received", "accepted", "answered", "published"]);
    assert_eq!(history[2].actor_name, officer.name);
    assert_eq!(
        history[2].note.as_deref(),
        Some("Đã xin lỗi và trả kết quả.")
    );
    assert_eq!(history[3].role, Role::Leader);
    assert!(history.iter().all(|h| h.agency == ag(DEPT)));
    // Saving an item that does not exist.
    let (ghost, ghost_step) = decide(&a, &FeedbackAction::Accept, &officer, t0()).unwrap();
    let ghost = motcua_domain::feedback::Feedback {
        id: Uuid::new_v4(),
        ..ghost
    };
    assert!(matches!(
        s.save_feedback(ghost, ghost_step, None).await,
        Err(StoreError::NotFound(_))
    ));

    // Three more: Bình's to the centre, two of An's to the department (one received a day
    // later, due earlier).
    let (b, bs) = receive(new_item(CENTRE, CENTRE), &binh, t0() + Duration::hours(1)).unwrap();
    s.create_feedback(b.clone(), bs, Some(t0() + Duration::days(2)))
        .await
        .unwrap();
    let (c, cs) = receive(new_item(DEPT, "1.001193"), &an, t0() + Duration::days(1)).unwrap();
    s.create_feedback(c.clone(), cs, Some(t0() + Duration::days(3)))
        .await
        .unwrap();
    let (d, ds) = receive(new_item(DEPT, DEPT), &an, t0() + Duration::days(2)).unwrap();
    s.create_feedback(d.clone(), ds, Some(t0() + Duration::days(9)))
        .await
        .unwrap();

    let ids = |rows: Vec<motcua_store::FeedbackRow>| {
        rows.into_iter().map(|r| r.item.id).collect::<Vec<_>>()
    };
    let mine = s
        .list_feedback(&FeedbackQuery {
            owner: Some(an.user_id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(mine), [d.id, c.id, a.id], "newest first");
    let dept_due = s
        .list_feedback(&FeedbackQuery {
            agencies: vec![ag(DEPT)],
            order: FeedbackOrder::Due,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        ids(dept_due),
        [c.id, d.id, a.id],
        "earliest due first, none last"
    );
    let both = s
        .list_feedback(&FeedbackQuery {
            agencies: vec![ag(DEPT), ag(CENTRE)],
            state: Some(FeedbackState::Received),
            order: FeedbackOrder::Due,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(both), [b.id, c.id, d.id]);
    let published = s
        .list_feedback(&FeedbackQuery {
            published: true,
            order: FeedbackOrder::Published,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(published), [a.id]);
    let about = s
        .list_feedback(&FeedbackQuery {
            subject: Some((SubjectKind::Agency, "1.001193".into())),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(about), [c.id]);
    let period = s
        .list_feedback(&FeedbackQuery {
            agencies: vec![ag(DEPT)],
            received_from: Some(t0() + Duration::hours(1)),
            received_before: Some(t0() + Duration::days(2)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(period), [c.id], "from inclusive, before exclusive");
    let limited = s
        .list_feedback(&FeedbackQuery {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(limited), [d.id]);
    assert!(
        s.list_feedback(&FeedbackQuery {
            owner: Some(Uuid::new_v4()),
            ..Default::default()
        })
        .await
        .unwrap()
        .is_empty()
    );

    // Kept across a restart.
    if let Some(again) = db.reopen().await {
        assert_eq!(again.feedback(a.id).await.unwrap().unwrap().item, a3);
        assert_eq!(again.feedback_history(a.id).await.unwrap().len(), 4);
    }
}
