//! Conformance tests for payments (migration 18): attempts created, callbacks kept once, a
//! failure never undoing a reported payment, the `paid` row written only with the dossier's
//! `fee_paid` event and only once, counter payments, and the day's queries of reconciliation.

use super::*;
use motcua_domain::payment::{PaymentMethod, PaymentStatus};
use motcua_store::{PaymentCallback, PaymentRecord};

conformance!(payments_are_recorded_once_with_their_event);

fn paid_online(reference: &str, amount: i64) -> Command {
    Command::RecordPayment {
        reference: reference.into(),
        amount_vnd: amount,
        method: PaymentMethod::Online,
        transaction_id: Some("GD0000000001".into()),
        receipt: Some(format!("sha256:{}", "b".repeat(64))),
        receipt_no: None,
    }
}

fn callback(reference: &str, reported: PaymentStatus, at: DateTime<Utc>) -> PaymentCallback {
    PaymentCallback {
        reference: reference.into(),
        reported,
        transaction_id: Some("GD0000000001".into()),
        raw: format!(
            "{{\"MaThamChieu\":\"{reference}\",\"MaKetQua\":\"{}\"}}",
            reported.as_str()
        ),
        at,
    }
}

async fn payments_are_recorded_once_with_their_event(db: &mut Db) {
    let s = db.store.clone();
    let who = citizen(7);
    let d = submit_online(&s, &who, t0()).await.dossier;
    assert_eq!(d.owed_vnd(), 150_000);

    // An online attempt: created once per reference.
    let a = PaymentRecord::online(
        "dvcA20260302090000".into(),
        d.id,
        150_000,
        "20260302090000".into(),
        who.user_id,
        t0(),
    );
    s.create_payment(a.clone()).await.unwrap();
    assert_eq!(s.payment(&a.reference).await.unwrap(), Some(a.clone()));
    assert!(matches!(
        s.create_payment(a.clone()).await,
        Err(StoreError::Duplicate(_))
    ));
    assert!(!a.awaiting_confirmation());

    // Reported paid: kept, awaiting confirmation; the same report again or a late "failed"
    // changes nothing.
    let t1 = t0() + Duration::minutes(1);
    let after = s
        .note_payment_callback(callback(&a.reference, PaymentStatus::Paid, t1))
        .await
        .unwrap()
        .unwrap();
    assert!(after.awaiting_confirmation());
    assert_eq!(after.transaction_id.as_deref(), Some("GD0000000001"));
    let later = t1 + Duration::minutes(1);
    for again in [PaymentStatus::Paid, PaymentStatus::Failed] {
        let same = s
            .note_payment_callback(callback(&a.reference, again, later))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(same, after, "{again:?} after a reported payment");
    }
    assert_eq!(
        s.payments_awaiting_confirmation(10).await.unwrap(),
        vec![after.clone()]
    );
    assert_eq!(
        s.note_payment_callback(callback("dvcKHONGCO", PaymentStatus::Paid, t1))
            .await
            .unwrap(),
        None
    );

    // Confirmed: the event and the paid row in one transaction.
    let t2 = t0() + Duration::minutes(5);
    let done = run(&s, d.id, &who, t2, paid_online(&a.reference, 150_000)).await;
    assert_eq!(done.dossier.owed_vnd(), 0);
    let paid = s.payment(&a.reference).await.unwrap().unwrap();
    assert_eq!(paid.status, PaymentStatus::Paid);
    assert_eq!(paid.paid_at, Some(t2));
    assert_eq!(paid.receipt, Some(format!("sha256:{}", "b".repeat(64))));
    assert_eq!(paid.callback, after.callback, "the callback kept for audit");
    assert!(
        s.payments_awaiting_confirmation(10)
            .await
            .unwrap()
            .is_empty()
    );

    // Recorded once: a second recording of the reference fails and writes nothing.
    let again = s
        .execute(job(d.id, &who, t2, paid_online(&a.reference, 150_000)))
        .await;
    assert!(matches!(again, Err(StoreError::Duplicate(_))), "{again:?}");
    assert_eq!(s.dossier(d.id).await.unwrap().unwrap(), done.dossier);
    assert_eq!(s.history(d.id).await.unwrap().len(), 2);
    // Nothing undoes it.
    let still = s
        .note_payment_callback(callback(&a.reference, PaymentStatus::Failed, t2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still, paid);

    // A cancelled attempt, then reported paid after all: waits for confirmation.
    let b = PaymentRecord::online(
        "dvcB20260302090100".into(),
        d.id,
        10_000,
        "20260302090100".into(),
        who.user_id,
        t1,
    );
    s.create_payment(b.clone()).await.unwrap();
    let cancelled = s
        .note_payment_callback(callback(&b.reference, PaymentStatus::Cancelled, t1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cancelled.status, PaymentStatus::Cancelled);
    let reported = s
        .note_payment_callback(callback(&b.reference, PaymentStatus::Paid, t2))
        .await
        .unwrap()
        .unwrap();
    assert!(reported.awaiting_confirmation());

    // A counter payment creates its row paid, with the receipt number.
    let c = submit_counter(&s, t0()).await.dossier;
    run(
        &s,
        c.id,
        &desk(),
        t2,
        Command::RecordPayment {
            reference: "dvcQUAY1".into(),
            amount_vnd: 100_000,
            method: PaymentMethod::Cash,
            transaction_id: None,
            receipt: None,
            receipt_no: Some("BL-01".into()),
        },
    )
    .await;
    let cash = s.payment("dvcQUAY1").await.unwrap().unwrap();
    assert_eq!(
        (cash.method, cash.status, cash.amount_vnd, cash.actor),
        (
            PaymentMethod::Cash,
            PaymentStatus::Paid,
            100_000,
            desk().user_id
        )
    );
    assert_eq!(cash.receipt_no.as_deref(), Some("BL-01"));
    assert_eq!(s.payments_of(c.id).await.unwrap(), vec![cash.clone()]);
    assert_eq!(s.payments_of(d.id).await.unwrap().len(), 2);

    // The day's queries of reconciliation.
    let (from, to) = (t0() - Duration::hours(9), t0() + Duration::hours(15));
    let day: Vec<String> = s
        .payments_paid_between(from, to)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.reference)
        .collect();
    assert_eq!(day.len(), 2);
    assert!(day.contains(&a.reference) && day.contains(&"dvcQUAY1".to_string()));
    let mut with_events = s.dossiers_with_fee_events(from, to).await.unwrap();
    with_events.sort();
    let mut want = vec![d.id, c.id];
    want.sort();
    assert_eq!(with_events, want);
    assert!(
        s.payments_paid_between(to, to + Duration::days(1))
            .await
            .unwrap()
            .is_empty()
    );
    // The logs still fold to the stored states.
    let report = s.verify().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}
