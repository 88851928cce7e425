//! Conformance tests for the national-portal sync figure (766 indicator 1.4): a dossier counts
//! once, at its competent agency on its reception day, when the portal acknowledges its first
//! sync message, in that same transaction; `verify` checks the rows against the outbox and
//! the dossiers.

use super::*;
use motcua_store::OutboxClaim;

conformance!(portal_sync_counts_acknowledged_receptions_once);

const SYNC: &str = "dvcqg.sync";

fn claim(now: DateTime<Utc>) -> OutboxClaim {
    OutboxClaim {
        owner: "portal".into(),
        topic: Some(SYNC.into()),
        limit: 100,
        now,
        lease: Duration::seconds(30),
    }
}

fn sync_problems(r: &motcua_store::VerifyReport) -> Vec<&String> {
    r.problems
        .iter()
        .filter(|p| p.starts_with("counter portal_synced"))
        .collect()
}

/// Test P1: received dossiers are counted when (and only when) the portal acknowledges their
/// sync; a second acknowledgement of the same dossier counts nothing; a dossier never
/// acknowledged, or acknowledged for another period, is not in the period; `verify` agrees,
/// and notices a row removed behind the store's back.
async fn portal_sync_counts_acknowledged_receptions_once(db: &mut Db) {
    let s = db.store.clone();
    let at = t0();
    let a = submit_online(&s, &citizen(1), at).await;
    let a = run(
        &s,
        a.dossier.id,
        &desk(),
        at + Duration::minutes(1),
        Command::Receive,
    )
    .await
    .dossier;
    let b = submit_online(&s, &citizen(2), at).await;
    let b = run(
        &s,
        b.dossier.id,
        &desk(),
        at + Duration::minutes(2),
        Command::Receive,
    )
    .await
    .dossier;
    // Not received: no sync message, never counted.
    submit_online(&s, &citizen(3), at).await;
    let agency = a.competent_agency.clone();
    let day = motcua_domain::stats::local_day(a.received_at.unwrap());
    let next = day.succ_opt().unwrap();
    let count = |from: NaiveDate, to: NaiveDate| {
        let s = s.clone();
        let agency = agency.clone();
        async move {
            s.portal_synced(std::slice::from_ref(&agency), from, to)
                .await
                .unwrap()
                .get(&agency)
                .copied()
                .unwrap_or(0)
        }
    };
    assert_eq!(count(day, day).await, 0, "nothing acknowledged yet");

    // The portal acknowledges A's reception message.
    let now = at + Duration::minutes(5);
    let got = s.outbox_claim(claim(now)).await.unwrap();
    let a_code = a.code.clone().unwrap().to_string();
    let first_a = got.iter().find(|m| m.partition == a_code).unwrap();
    assert_eq!(s.outbox_ack(vec![first_a.id], now).await.unwrap(), 1);
    assert_eq!(count(day, day).await, 1);
    assert_eq!(count(next, next).await, 0, "counted on its reception day");
    assert_eq!(
        s.outbox_ack(vec![first_a.id], now).await.unwrap(),
        0,
        "a repeated acknowledgement changes nothing"
    );
    // A's next message (assignment to a specialist would write more; a second reception cannot
    // happen): B's is acknowledged too, so two.
    let b_code = b.code.clone().unwrap().to_string();
    let first_b = got.iter().find(|m| m.partition == b_code).unwrap();
    s.outbox_ack(vec![first_b.id], now).await.unwrap();
    assert_eq!(count(day, next).await, 2);
    let other = ag(WARD);
    assert!(
        s.portal_synced(&[other], day, day)
            .await
            .unwrap()
            .is_empty(),
        "another agency has none"
    );
    let r = s.verify().await.unwrap();
    assert!(sync_problems(&r).is_empty(), "{:?}", r.problems);

    // A row lost behind the store's back: verify names the dossier.
    if db
        .tamper(
            "DELETE FROM portal_synced WHERE dossier = (SELECT code FROM dossiers WHERE id = ?1)",
            "DELETE FROM portal_synced WHERE dossier = (SELECT code FROM dossiers WHERE id = $1)",
            a.id,
        )
        .await
    {
        let r = s.verify().await.unwrap();
        let found = sync_problems(&r);
        assert_eq!(found.len(), 1, "{:?}", r.problems);
        assert!(found[0].contains(&a_code), "{found:?}");
    }
}
