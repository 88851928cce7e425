//! Conformance tests for outbox delivery (issue 7): claims with leases, order per dossier and
//! target, failures with retry times, dead letters and their retry, queue depth, daily figures,
//! and concurrent claimers that never lease a message twice.

use super::*;
use motcua_domain::dossier::EMC_TOPIC;
use motcua_store::{OutboxClaim, OutboxEntry, OutboxFailure, OutboxQuery, OutboxStatus};

conformance!(outbox_claim_fail_dead_retry);
conformance!(outbox_order_and_leases);
conformance!(outbox_concurrent_claimers);
conformance!(outbox_prune_keeps_the_days_figures);
conformance!(outbox_claims_look_past_messages_in_flight);
conformance!(outbox_claims_racing_acknowledgements_are_not_empty);
conformance!(outbox_depths_match_the_messages);

const NOTIFY: &str = "sms";
const SYNC: &str = "dvcqg.sync";

fn claim(owner: &str, topic: Option<&str>, limit: u32, now: DateTime<Utc>) -> OutboxClaim {
    OutboxClaim {
        owner: owner.into(),
        topic: topic.map(String::from),
        limit,
        now,
        lease: Duration::seconds(30),
    }
}

fn failure(e: &OutboxEntry, owner: &str, now: DateTime<Utc>, retry_in: i64) -> OutboxFailure {
    OutboxFailure {
        id: e.id,
        owner: owner.into(),
        error: "HTTP 503 from the portal".into(),
        now,
        retry_at: now + Duration::seconds(retry_in),
        max_attempts: 2,
    }
}

/// An online dossier, received: two applicant notices and one portal sync, in that order.
async fn received_dossier(s: &Store, n: u128, at: DateTime<Utc>) -> Dossier {
    let sub = submit_online(s, &citizen(n), at).await;
    run(
        s,
        sub.dossier.id,
        &desk(),
        at + Duration::minutes(1),
        Command::Receive,
    )
    .await
    .dossier
}

/// Test O1: a failed message waits for its retry time, becomes a dead letter at the last
/// attempt, shows in the queue depth and daily figures, and clears when retried and delivered.
async fn outbox_claim_fail_dead_retry(db: &mut Db) {
    let s = db.store.clone();
    let d = received_dossier(&s, 1, t0()).await;
    let code = d.code.clone().unwrap().to_string();
    let now = t0() + Duration::minutes(5);
    let got = s
        .outbox_claim(claim("a", Some(SYNC), 10, now))
        .await
        .unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert_eq!(m.topic, SYNC);
    assert_eq!(m.partition, code);
    assert_eq!(m.key, format!("{code}:2"));
    assert_eq!(m.status, OutboxStatus::Pending);
    // Leased: nobody else gets it meanwhile.
    assert!(
        s.outbox_claim(claim("b", Some(SYNC), 10, now))
            .await
            .unwrap()
            .is_empty()
    );
    // First failure: back in the queue, due in 60 s.
    let st = s.outbox_fail(failure(m, "a", now, 60)).await.unwrap();
    assert_eq!(st, Some(OutboxStatus::Pending));
    let e = s.outbox_get(m.id).await.unwrap().unwrap();
    assert_eq!(e.attempts, 1);
    assert_eq!(e.last_error.as_deref(), Some("HTTP 503 from the portal"));
    assert_eq!(e.next_attempt_at, Some(now + Duration::seconds(60)));
    assert!(
        s.outbox_claim(claim("a", Some(SYNC), 10, now + Duration::seconds(59)))
            .await
            .unwrap()
            .is_empty()
    );
    let later = now + Duration::seconds(61);
    let got = s
        .outbox_claim(claim("a", Some(SYNC), 10, later))
        .await
        .unwrap();
    assert_eq!(got.iter().map(|e| e.id).collect::<Vec<_>>(), vec![m.id]);
    // A report from someone without the lease changes nothing.
    assert_eq!(
        s.outbox_fail(failure(m, "b", later, 60)).await.unwrap(),
        None
    );
    // Second failure: dead.
    assert_eq!(
        s.outbox_fail(failure(m, "a", later, 60)).await.unwrap(),
        Some(OutboxStatus::Dead)
    );
    assert!(
        s.outbox_claim(claim("a", Some(SYNC), 10, later + Duration::hours(1)))
            .await
            .unwrap()
            .is_empty()
    );
    let dead = s
        .outbox_list(OutboxQuery {
            status: Some(OutboxStatus::Dead),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(dead.iter().map(|e| e.id).collect::<Vec<_>>(), vec![m.id]);
    let depths = s.outbox_depths().await.unwrap();
    let sync = depths
        .iter()
        .find(|d| d.topic == SYNC)
        .expect("a sync queue");
    assert_eq!((sync.pending, sync.dead), (0, 1));
    assert_eq!(sync.oldest_at, Some(m.created_at));
    let notify = depths
        .iter()
        .find(|d| d.topic == NOTIFY)
        .expect("a notice queue");
    assert_eq!((notify.pending, notify.dead), (2, 0));
    // Retried by an operator: pending again with a fresh count, delivered, acknowledged.
    assert_eq!(
        s.outbox_retry(Some(m.id + 1_000_000), None, later)
            .await
            .unwrap(),
        0
    );
    assert_eq!(s.outbox_retry(Some(m.id), None, later).await.unwrap(), 1);
    assert_eq!(
        s.outbox_retry(Some(m.id), None, later).await.unwrap(),
        0,
        "only dead letters"
    );
    let got = s
        .outbox_claim(claim("c", Some(SYNC), 10, later))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].attempts, 0);
    assert_eq!(s.outbox_ack(vec![m.id], later).await.unwrap(), 1);
    assert_eq!(
        s.outbox_ack(vec![m.id], later).await.unwrap(),
        0,
        "acknowledged once"
    );
    let e = s.outbox_get(m.id).await.unwrap().unwrap();
    assert_eq!(e.status, OutboxStatus::Done);
    assert_eq!(e.acked_at, Some(later));
    assert!(
        s.outbox_depths()
            .await
            .unwrap()
            .iter()
            .all(|d| d.topic != SYNC)
    );
    // The day's figures add up.
    let day = motcua_store::outbox::local_day(t0());
    let days = s.outbox_days(day, day).await.unwrap();
    let sync = days.iter().find(|d| d.topic == SYNC).expect("sync figures");
    assert_eq!(
        (
            sync.created,
            sync.created_done,
            sync.created_pending,
            sync.created_dead
        ),
        (1, 1, 0, 0)
    );
    assert_eq!(
        (sync.acked, sync.failed, sync.dead_lettered, sync.retried),
        (1, 2, 1, 1)
    );
    assert_eq!(sync.unexplained(), 0);
    let notify = days
        .iter()
        .find(|d| d.topic == NOTIFY)
        .expect("notice figures");
    assert_eq!(
        (notify.created, notify.created_pending, notify.acked),
        (2, 2, 0)
    );
    // Nothing outside the period.
    assert!(
        s.outbox_days(day + chrono::Days::new(1), day + chrono::Days::new(2))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Test O2: only the oldest undelivered message of a dossier and target is claimable; a dead
/// letter holds back its successors; an expired lease lets another node take over.
async fn outbox_order_and_leases(db: &mut Db) {
    let s = db.store.clone();
    let a = received_dossier(&s, 1, t0()).await;
    let b = received_dossier(&s, 2, t0()).await;
    let now = t0() + Duration::minutes(5);
    let got = s
        .outbox_claim(claim("n1", Some(NOTIFY), 100, now))
        .await
        .unwrap();
    // One notice per dossier, the first (submission) of each.
    assert_eq!(got.len(), 2, "{got:?}");
    let parts: HashSet<_> = got.iter().map(|e| e.partition.clone()).collect();
    assert_eq!(parts, HashSet::from([a.id.to_string(), b.id.to_string()]));
    assert!(
        got.iter()
            .all(|e| e.payload["status"] == "awaiting_reception"),
        "{got:?}"
    );
    let (ga, gb) = if got[0].partition == a.id.to_string() {
        (&got[0], &got[1])
    } else {
        (&got[1], &got[0])
    };
    // Nothing else while both heads are leased.
    assert!(
        s.outbox_claim(claim("n2", Some(NOTIFY), 100, now))
            .await
            .unwrap()
            .is_empty()
    );
    // a's first is delivered: its second becomes claimable.
    s.outbox_ack(vec![ga.id], now).await.unwrap();
    let next = s
        .outbox_claim(claim("n2", Some(NOTIFY), 100, now))
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].partition, a.id.to_string());
    assert!(next[0].id > ga.id);
    assert_ne!(next[0].payload["status"], "awaiting_reception");
    s.outbox_ack(vec![next[0].id], now).await.unwrap();
    // b's lease expires (node n1 died): n2 takes it over; n1's late failure report is ignored.
    let after = now + Duration::seconds(31);
    let took = s
        .outbox_claim(claim("n2", Some(NOTIFY), 100, after))
        .await
        .unwrap();
    assert_eq!(took.iter().map(|e| e.id).collect::<Vec<_>>(), vec![gb.id]);
    assert_eq!(
        s.outbox_fail(failure(gb, "n1", after, 1)).await.unwrap(),
        None
    );
    // b's head dies (two failures): its second notice stays held back, even when due.
    s.outbox_fail(failure(gb, "n2", after, 1)).await.unwrap();
    let t = after + Duration::seconds(2);
    let again = s
        .outbox_claim(claim("n2", Some(NOTIFY), 100, t))
        .await
        .unwrap();
    assert_eq!(again.iter().map(|e| e.id).collect::<Vec<_>>(), vec![gb.id]);
    assert_eq!(
        s.outbox_fail(failure(gb, "n2", t, 1)).await.unwrap(),
        Some(OutboxStatus::Dead)
    );
    let t = t + Duration::seconds(5);
    let held = s
        .outbox_claim(claim("n3", Some(NOTIFY), 100, t))
        .await
        .unwrap();
    assert!(
        held.iter().all(|e| e.partition != b.id.to_string()),
        "{held:?}"
    );
    // Retry all dead letters of the target: b's head first, then its successor.
    assert_eq!(s.outbox_retry(None, Some(SYNC.into()), t).await.unwrap(), 0);
    assert_eq!(
        s.outbox_retry(None, Some(NOTIFY.into()), t).await.unwrap(),
        1
    );
    let got = s
        .outbox_claim(claim("n3", Some(NOTIFY), 100, t))
        .await
        .unwrap();
    assert_eq!(got.iter().map(|e| e.id).collect::<Vec<_>>(), vec![gb.id]);
    s.outbox_ack(vec![gb.id], t).await.unwrap();
    let got = s
        .outbox_claim(claim("n3", Some(NOTIFY), 100, t))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].partition, b.id.to_string());
    assert!(got[0].id > gb.id);
    // Without a topic, claims cover every target (the portal's and EMC's, whose messages
    // no one has claimed yet).
    let all = s.outbox_claim(claim("n4", None, 100, t)).await.unwrap();
    assert!(
        all.iter().all(|e| e.topic == SYNC || e.topic == EMC_TOPIC)
            && all.iter().filter(|e| e.topic == SYNC).count() == 2
            && all.len() == 4,
        "{all:?}"
    );
}

/// Test O3: four claimers racing over 40 dossiers' messages deliver each exactly once, and the
/// messages of each dossier and target in order.
async fn outbox_concurrent_claimers(db: &mut Db) {
    let s = db.store.clone();
    for n in 0..40 {
        received_dossier(&s, n, t0()).await;
    }
    let total = s
        .outbox_list(OutboxQuery {
            limit: Some(1_000),
            ..Default::default()
        })
        .await
        .unwrap();
    // Per dossier: the portal's sync, the SMS and EMC's tracking of the reception.
    assert_eq!(total.len(), 160);
    let clock = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..4 {
        let s = s.clone();
        let clock = clock.clone();
        tasks.push(tokio::spawn(async move {
            let owner = format!("node-{w}");
            let mut delivered = Vec::new();
            let mut idle = 0;
            while idle < 3 {
                let got = s
                    .outbox_claim(claim(&owner, None, 7, t0() + Duration::minutes(5)))
                    .await
                    .unwrap();
                if got.is_empty() {
                    idle += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
                idle = 0;
                let seq = clock.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                delivered.extend(
                    got.iter()
                        .map(|e| (e.id, e.topic.clone(), e.partition.clone(), seq)),
                );
                tokio::task::yield_now().await;
                let n = s
                    .outbox_ack(
                        got.iter().map(|e| e.id).collect(),
                        t0() + Duration::minutes(5),
                    )
                    .await
                    .unwrap();
                assert_eq!(
                    n as usize,
                    got.len(),
                    "a leased message was acknowledged by another"
                );
            }
            delivered
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let ids: HashSet<i64> = all.iter().map(|d| d.0).collect();
    assert_eq!(ids.len(), all.len(), "a message was delivered twice");
    assert_eq!(ids, total.iter().map(|e| e.id).collect::<HashSet<_>>());
    // Each claim of a (topic, dossier) came after the previous one was acknowledged: in the
    // order the claims happened, the ids of one group increase.
    all.sort_by_key(|d| (d.3, d.0));
    let mut seen: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (id, topic, part, _) in &all {
        let last = seen.insert((topic.clone(), part.clone()), *id);
        assert!(
            last.is_none_or(|l| l < *id),
            "{topic}/{part}: {id} after {last:?}"
        );
    }
    let done = s
        .outbox_list(OutboxQuery {
            status: Some(OutboxStatus::Done),
            limit: Some(1_000),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(done.len(), 160);
    let mut by_group: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
    for e in &done {
        by_group
            .entry((e.topic.clone(), e.partition.clone()))
            .or_default()
            .push(e.id);
    }
    assert_eq!(by_group.len(), 120);
    assert!(s.outbox_depths().await.unwrap().is_empty());
}

/// Test O4: pruning deletes only delivered messages acknowledged before the cut-off, oldest
/// first and at most `limit` at a time; the day's figures stay whole (counted as pruned).
async fn outbox_prune_keeps_the_days_figures(db: &mut Db) {
    let s = db.store.clone();
    received_dossier(&s, 1, t0()).await;
    received_dossier(&s, 2, t0()).await;
    let now = t0() + Duration::minutes(5);
    let got = s
        .outbox_claim(claim("a", Some(SYNC), 10, now))
        .await
        .unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    let acked = now + Duration::seconds(1);
    let ids: Vec<i64> = got.iter().map(|e| e.id).collect();
    assert_eq!(s.outbox_ack(ids.clone(), acked).await.unwrap(), 2);
    let day = motcua_store::outbox::local_day(t0());
    let before = s.outbox_days(day, day).await.unwrap();

    // Nothing acknowledged before the cut-off: nothing deleted.
    assert_eq!(s.outbox_prune(acked, 100).await.unwrap(), 0);
    // One at a time, then the rest; pending notices stay.
    let cut = acked + Duration::seconds(1);
    assert_eq!(s.outbox_prune(cut, 1).await.unwrap(), 1);
    assert_eq!(s.outbox_prune(cut, 100).await.unwrap(), 1);
    assert_eq!(s.outbox_prune(cut, 100).await.unwrap(), 0);
    for id in ids {
        assert!(s.outbox_get(id).await.unwrap().is_none(), "{id} deleted");
    }
    let pending = s
        .outbox_list(OutboxQuery {
            status: Some(OutboxStatus::Pending),
            topic: Some(NOTIFY.into()),
            after_id: None,
            limit: Some(100),
        })
        .await
        .unwrap();
    assert_eq!(
        pending.len(),
        4,
        "the undelivered notices stay: {pending:?}"
    );

    // The day's figures are those before pruning, with the pruned ones named.
    let after = s.outbox_days(day, day).await.unwrap();
    let sync = |days: &[motcua_store::OutboxDay]| {
        days.iter()
            .find(|d| d.topic == SYNC)
            .cloned()
            .expect("sync figures")
    };
    let (b, a) = (sync(&before), sync(&after));
    assert_eq!(
        (a.created, a.created_done, a.acked),
        (b.created, b.created_done, b.acked)
    );
    assert_eq!((a.created, a.pruned), (2, 2));
    assert_eq!(a.unexplained(), 0);
    assert_eq!(
        after.iter().find(|d| d.topic == NOTIFY),
        before.iter().find(|d| d.topic == NOTIFY)
    );
}

/// Test O5: a claim is not filled with messages already leased (in flight): with more
/// deliverable heads than the claim's limit, successive claims take successive heads.
async fn outbox_claims_look_past_messages_in_flight(db: &mut Db) {
    let s = db.store.clone();
    for n in 1..=5 {
        received_dossier(&s, n, t0()).await;
    }
    let now = t0() + Duration::minutes(5);
    let mut taken = HashSet::new();
    for round in 0..5 {
        let got = s
            .outbox_claim(claim("n1", Some(NOTIFY), 1, now))
            .await
            .unwrap();
        assert_eq!(got.len(), 1, "round {round}: {got:?}");
        assert!(
            taken.insert(got[0].id),
            "round {round}: {} twice",
            got[0].id
        );
    }
    // Every head is in flight now: nothing more until one is acknowledged or its lease ends.
    assert!(
        s.outbox_claim(claim("n2", Some(NOTIFY), 10, now))
            .await
            .unwrap()
            .is_empty()
    );
    let later = now + Duration::seconds(31);
    let again = s
        .outbox_claim(claim("n2", Some(NOTIFY), 10, later))
        .await
        .unwrap();
    assert_eq!(
        again.iter().map(|e| e.id).collect::<HashSet<_>>(),
        taken,
        "expired leases are claimable again"
    );
}

/// Test O6: a claim that runs while the previous claim's messages are being acknowledged still
/// gets the messages that wait behind them. (On SQLite the leases once went before the
/// acknowledgement's commit: a search in between saw the acknowledged rows pending and no longer
/// leased, filled its window with them, and the claim came back empty.)
async fn outbox_claims_racing_acknowledgements_are_not_empty(db: &mut Db) {
    let s = db.store.clone();
    for n in 1..=60 {
        received_dossier(&s, n, t0()).await;
    }
    let now = t0() + Duration::minutes(5);
    let mut seen = HashSet::new();
    let mut got = s
        .outbox_claim(claim("a", Some(NOTIFY), 4, now))
        .await
        .unwrap();
    for round in 0..25 {
        assert_eq!(got.len(), 4, "round {round}: {got:?}");
        for e in &got {
            assert!(seen.insert(e.id), "round {round}: {} twice", e.id);
        }
        let ids: Vec<i64> = got.iter().map(|e| e.id).collect();
        let (acked, next) = tokio::join!(
            s.outbox_ack(ids, now),
            s.outbox_claim(claim("a", Some(NOTIFY), 4, now))
        );
        assert_eq!(acked.unwrap(), 4, "round {round}");
        got = next.unwrap();
    }
}

/// The queue depths as a reference computation over every undelivered message gives them:
/// per target, pending and dead counts and the creation time of the oldest of either.
async fn reference_depths(s: &Store) -> Vec<motcua_store::OutboxDepth> {
    let mut by_topic: std::collections::BTreeMap<String, motcua_store::OutboxDepth> =
        Default::default();
    for status in [OutboxStatus::Pending, OutboxStatus::Dead] {
        let all = s
            .outbox_list(OutboxQuery {
                status: Some(status),
                limit: Some(1_000),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(all.len() < 1_000, "one page holds them all");
        for e in all {
            let d = by_topic
                .entry(e.topic.clone())
                .or_insert(motcua_store::OutboxDepth {
                    topic: e.topic.clone(),
                    pending: 0,
                    dead: 0,
                    oldest_at: None,
                });
            match status {
                OutboxStatus::Pending => d.pending += 1,
                _ => d.dead += 1,
            }
            d.oldest_at = Some(d.oldest_at.map_or(e.created_at, |o| o.min(e.created_at)));
        }
    }
    by_topic.into_values().collect()
}

/// The depths, checked against [`reference_depths`], and the sync target's among them.
async fn checked_depths(
    s: &Store,
) -> (
    Vec<motcua_store::OutboxDepth>,
    Option<(u64, u64, Option<DateTime<Utc>>)>,
) {
    let depths = s.outbox_depths().await.unwrap();
    assert_eq!(depths, reference_depths(s).await);
    let sync = depths
        .iter()
        .find(|d| d.topic == SYNC)
        .map(|d| (d.pending, d.dead, d.oldest_at));
    (depths, sync)
}

/// Test O8: the queue depths (the gauges, the operator page, `motcua outbox`) agree with the
/// messages themselves while messages are pending, dead, or delivered, the oldest being a dead
/// letter or a pending message in turn, and a target whose messages are all delivered is gone.
async fn outbox_depths_match_the_messages(db: &mut Db) {
    let s = db.store.clone();
    assert!(s.outbox_depths().await.unwrap().is_empty());
    for n in 0..3 {
        received_dossier(&s, 10 + n, t0() + Duration::hours(n as i64)).await;
    }
    let (depths, sync) = checked_depths(&s).await;
    assert_eq!(sync.map(|d| (d.0, d.1)), Some((3, 0)));
    assert!(depths.iter().any(|d| d.topic == NOTIFY && d.pending == 6));
    let topics: Vec<&str> = depths.iter().map(|d| d.topic.as_str()).collect();
    let mut sorted = topics.clone();
    sorted.sort_unstable();
    assert_eq!(topics, sorted, "in target order");

    // The second dossier's sync becomes a dead letter (two failures, two attempts allowed).
    let now = t0() + Duration::hours(3);
    let got = s
        .outbox_claim(claim("a", Some(SYNC), 10, now))
        .await
        .unwrap();
    assert_eq!(got.len(), 3);
    let (first, second, third) = (&got[0], &got[1], &got[2]);
    s.outbox_fail(failure(second, "a", now, 1)).await.unwrap();
    let later = now + Duration::seconds(2);
    let again = s
        .outbox_claim(claim("a", Some(SYNC), 10, later))
        .await
        .unwrap();
    assert_eq!(
        again.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![second.id]
    );
    assert_eq!(
        s.outbox_fail(failure(second, "a", later, 1)).await.unwrap(),
        Some(OutboxStatus::Dead)
    );
    let (_, sync) = checked_depths(&s).await;
    assert_eq!(
        sync,
        Some((2, 1, Some(first.created_at))),
        "a pending one is oldest"
    );

    // The first delivered: the dead letter is now the oldest.
    assert_eq!(s.outbox_ack(vec![first.id], later).await.unwrap(), 1);
    let (_, sync) = checked_depths(&s).await;
    assert_eq!(
        sync,
        Some((1, 1, Some(second.created_at))),
        "the dead letter is oldest"
    );

    // The third delivered: only the dead letter is left of the target.
    assert_eq!(s.outbox_ack(vec![third.id], later).await.unwrap(), 1);
    let (_, sync) = checked_depths(&s).await;
    assert_eq!(sync, Some((0, 1, Some(second.created_at))));

    // Retried and delivered: the target has nothing undelivered and is not listed.
    assert_eq!(
        s.outbox_retry(Some(second.id), None, later).await.unwrap(),
        1
    );
    let got = s
        .outbox_claim(claim("b", Some(SYNC), 10, later))
        .await
        .unwrap();
    assert_eq!(
        got.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![second.id]
    );
    assert_eq!(s.outbox_ack(vec![second.id], later).await.unwrap(), 1);
    let (_, sync) = checked_depths(&s).await;
    assert_eq!(sync, None);
}
