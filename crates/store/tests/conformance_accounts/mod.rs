//! Conformance tests for sign-in safety, the audit trail and staff inboxes (issue 5): lockout
//! after repeated failures, sign-out, audit lines by dossier and by user with keyset pages, and
//! inboxes ordered by urgency with filters, keyset pages and urgency counts.

use super::*;
use motcua_store::{AuditEntry, AuditQuery, InboxCursor, InboxQuery};

conformance!(login_lockout_and_sign_out);
conformance!(audit_trail_by_dossier_and_user);
conformance!(inbox_by_urgency_with_filters_and_pages);
conformance!(migration_15_backfills_channel_and_personal_id);

async fn login_lockout_and_sign_out(db: &mut Db) {
    let s = db.store.clone();
    let u = user("khoa", Role::Specialist, Some(DEPT));
    s.create_user(u.clone()).await.unwrap();
    let now = t0();
    let lock = Duration::minutes(15);
    for i in 1..=4 {
        let f = s.record_login_failure("khoa", now, 5, lock).await.unwrap();
        assert_eq!((f.failures, f.locked_until), (i, None));
    }
    assert_eq!(s.login_locked_until("khoa", now).await.unwrap(), None);
    let f = s.record_login_failure("khoa", now, 5, lock).await.unwrap();
    assert_eq!(f.locked_until, Some(now + lock), "the fifth failure locks");
    assert_eq!(
        s.login_locked_until("khoa", now + Duration::minutes(1))
            .await
            .unwrap(),
        Some(now + lock)
    );
    assert_eq!(
        s.login_locked_until("khoa", now + lock).await.unwrap(),
        None,
        "the lock ends by itself"
    );
    // The count started again after the lock.
    let f = s.record_login_failure("khoa", now, 5, lock).await.unwrap();
    assert_eq!((f.failures, f.locked_until), (1, None));
    s.clear_login_failures("khoa").await.unwrap();
    let f = s.record_login_failure("khoa", now, 5, lock).await.unwrap();
    assert_eq!(f.failures, 1, "a success forgets earlier failures");
    // Unknown names: nothing to count, nothing locked.
    let f = s.record_login_failure("ai-do", now, 1, lock).await.unwrap();
    assert_eq!((f.failures, f.locked_until), (0, None));
    assert_eq!(s.login_locked_until("ai-do", now).await.unwrap(), None);

    // Sign-out forgets the token at once.
    s.create_token(TokenRecord {
        token_hash: "c".repeat(64),
        user_id: u.id,
        created_at: now,
        expires_at: now + Duration::hours(12),
    })
    .await
    .unwrap();
    assert!(s.token_user(&"c".repeat(64), now).await.unwrap().is_some());
    s.delete_token(&"c".repeat(64)).await.unwrap();
    assert!(s.token_user(&"c".repeat(64), now).await.unwrap().is_none());
    s.delete_token("unknown").await.unwrap();
}

async fn audit_trail_by_dossier_and_user(db: &mut Db) {
    let s = db.store.clone();
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let (d1, d2) = (Uuid::new_v4(), Uuid::new_v4());
    let line = |user: Option<Uuid>, action: &str, dossier: Option<Uuid>, n: i64| AuditEntry {
        at: t0() + Duration::seconds(n),
        user_id: user,
        username: format!("user {n}"),
        action: action.into(),
        dossier_id: dossier,
        detail: format!("chi tiết «{n}» <b>"),
    };
    s.append_audit(line(Some(a), "view", Some(d1), 1))
        .await
        .unwrap();
    s.append_audit(line(Some(b), "view", Some(d1), 2))
        .await
        .unwrap();
    s.append_audit(line(Some(a), "view", Some(d2), 3))
        .await
        .unwrap();
    s.append_audit(line(None, "login_failed", None, 4))
        .await
        .unwrap();
    s.append_audit(line(Some(a), "login", None, 5))
        .await
        .unwrap();
    let q = |dossier_id, user_id, before, limit| AuditQuery {
        dossier_id,
        user_id,
        before,
        limit,
    };
    let by_d1 = s.audit_trail(&q(Some(d1), None, None, 10)).await.unwrap();
    assert_eq!(
        by_d1
            .iter()
            .map(|r| r.username.as_str())
            .collect::<Vec<_>>(),
        ["user 2", "user 1"],
        "newest first"
    );
    assert_eq!(by_d1[1].detail, "chi tiết «1» <b>");
    assert_eq!(by_d1[1].at, t0() + Duration::seconds(1));
    assert_eq!(by_d1[1].user_id, Some(a));
    let by_a = s.audit_trail(&q(None, Some(a), None, 2)).await.unwrap();
    assert_eq!(
        by_a.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
        ["login", "view"]
    );
    let rest = s
        .audit_trail(&q(None, Some(a), Some(by_a[1].id), 10))
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].dossier_id, Some(d1));
    let all = s.audit_trail(&q(None, None, None, 500)).await.unwrap();
    assert_eq!(all.len(), 5);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id));
    assert!(
        s.audit_trail(&q(Some(Uuid::new_v4()), None, None, 10))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn inbox_by_urgency_with_filters_and_pages(db: &mut Db) {
    let s = db.store.clone();
    // Three received at the counter on different days (appointments in that order) and one
    // online submission not received yet (no appointment: first).
    let c1 = submit_counter(&s, t0()).await.dossier;
    let c2 = submit_counter(&s, t0() + Duration::days(1)).await.dossier;
    let c3 = submit_counter(&s, t0() + Duration::days(2)).await.dossier;
    let online = submit_online(&s, &citizen(7), t0()).await.dossier;
    assert!(c1.due_at < c2.due_at && c2.due_at < c3.due_at);
    let ids =
        |v: Vec<motcua_store::DossierSummary>| v.into_iter().map(|d| d.id).collect::<Vec<_>>();
    let base = |agency: &str| InboxQuery::first_page(ag(agency));
    // Counter submissions go on to the deciding agency; the online one waits at the centre.
    assert_eq!(
        ids(s.inbox(&base(DEPT)).await.unwrap()),
        [c1.id, c2.id, c3.id]
    );
    assert_eq!(ids(s.inbox(&base(CENTRE)).await.unwrap()), [online.id]);
    // Keyset pages.
    let mut q = base(DEPT);
    q.limit = 2;
    let first = s.inbox(&q).await.unwrap();
    assert_eq!(first.len(), 2);
    let last = first.last().unwrap();
    q.after = Some(InboxCursor {
        due_at: last.due_at,
        id: last.id,
    });
    assert_eq!(ids(s.inbox(&q).await.unwrap()), [c3.id]);
    // A cursor on the not-yet-received row moves past it.
    let mut q = base(CENTRE);
    q.after = Some(InboxCursor {
        due_at: None,
        id: online.id,
    });
    assert!(s.inbox(&q).await.unwrap().is_empty());
    // Filters.
    let mut q = base(DEPT);
    q.statuses = vec![Status::AwaitingReception];
    assert!(s.inbox(&q).await.unwrap().is_empty());
    q.statuses = vec![c1.status, Status::Processing];
    assert_eq!(s.inbox(&q).await.unwrap().len(), 3);
    let mut q = base(DEPT);
    q.procedure_code = Some("1.000000".into());
    assert!(s.inbox(&q).await.unwrap().is_empty());
    q.procedure_code = Some("1.001193".into());
    assert_eq!(s.inbox(&q).await.unwrap().len(), 3);
    // The channel column (migration 15) filters.
    let mut q = base(DEPT);
    q.channel = Some(Channel::Counter);
    assert_eq!(ids(s.inbox(&q).await.unwrap()), [c1.id, c2.id, c3.id]);
    q.channel = Some(Channel::Online);
    assert!(s.inbox(&q).await.unwrap().is_empty());
    let mut q = base(CENTRE);
    q.channel = Some(Channel::Online);
    assert_eq!(ids(s.inbox(&q).await.unwrap()), [online.id]);
    q.channel = Some(Channel::Post);
    assert!(s.inbox(&q).await.unwrap().is_empty());
    // The personal ID column answers the desk's identity lookup with the latest applicant.
    let a = s.latest_applicant("068095001234").await.unwrap().unwrap();
    assert_eq!(a.name, "Nguyễn Văn An");
    assert_eq!(a.phone.as_deref(), Some("0912345678"));
    assert!(s.latest_applicant("001099000000").await.unwrap().is_none());
    let mut q = base(DEPT);
    q.submitted_from = Some(t0() + Duration::hours(12));
    q.submitted_to = Some(t0() + Duration::hours(36));
    assert_eq!(ids(s.inbox(&q).await.unwrap()), [c2.id]);
    let mut q = base(DEPT);
    q.assignee = Some(specialist().user_id);
    assert!(s.inbox(&q).await.unwrap().is_empty());
    // Counts: overdue and due soon relative to the times given.
    let (d1, d2) = (c1.due_at.unwrap(), c2.due_at.unwrap());
    let counts = s
        .inbox_counts(
            &ag(DEPT),
            d1 + Duration::seconds(1),
            d2 + Duration::seconds(1),
        )
        .await
        .unwrap();
    assert_eq!(counts.len(), 1, "{counts:?}");
    assert_eq!(
        (counts[0].total, counts[0].overdue, counts[0].due_soon),
        (3, 1, 1)
    );
    // A closed dossier leaves the inbox.
    run(
        &s,
        c1.id,
        &leader(),
        t0() + Duration::days(3),
        Command::StopProcessing {
            reason: "Không đủ điều kiện".into(),
        },
    )
    .await;
    assert_eq!(ids(s.inbox(&base(DEPT)).await.unwrap()), [c2.id, c3.id]);
    let counts = s.inbox_counts(&ag(DEPT), t0(), t0()).await.unwrap();
    assert_eq!(counts.iter().map(|c| c.total).sum::<i64>(), 2);
    assert!(s.inbox(&base(WARD)).await.unwrap().is_empty());
    // Received at the centre, the online dossier moves on to the department: both inboxes,
    // just read (and kept by a backend that caches them), show the move at once.
    assert_eq!(ids(s.inbox(&base(CENTRE)).await.unwrap()), [online.id]);
    let total = |a: &str| {
        let s = s.clone();
        let a = ag(a);
        async move {
            let c = s.inbox_counts(&a, t0(), t0()).await.unwrap();
            c.iter().map(|c| c.total).sum::<i64>()
        }
    };
    assert_eq!(total(CENTRE).await, 1);
    run(
        &s,
        online.id,
        &desk(),
        t0() + Duration::days(3),
        Command::Receive,
    )
    .await;
    assert!(s.inbox(&base(CENTRE)).await.unwrap().is_empty());
    assert_eq!(total(CENTRE).await, 0);
    assert_eq!(ids(s.inbox(&base(DEPT)).await.unwrap()).len(), 3);
    assert_eq!(total(DEPT).await, 3);
}

/// Migration 15's backfill: rows written before it (no channel, no personal ID column) get both
/// from the stored state — on SQLite also from a state stored with its snapshot cut out.
async fn migration_15_backfills_channel_and_personal_id(db: &mut Db) {
    let s = db.store.clone();
    let d = submit_counter(&s, t0()).await.dossier;
    let backfill = |sql: &str| {
        sql.split(';')
            .map(str::trim)
            .map(|x| {
                x.lines()
                    .filter(|l| !l.trim_start().starts_with("--"))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .find(|x| x.trim_start().starts_with("UPDATE dossiers"))
            .expect("the backfill statement")
    };
    let sqlite = backfill(include_str!("../../src/sqlite/migrate_15.sql"));
    let pg = backfill(include_str!("../../src/postgres/migrate_15.sql"));
    if let Kind::File(path) = &db.kind {
        let c = rusqlite::Connection::open(path).unwrap();
        let at: Option<i64> = c
            .query_row(
                "SELECT snap_at FROM dossier_states WHERE id = ?1",
                [d.id.to_string()],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            at.is_some(),
            "the state is stored compacted: the backfill splices it"
        );
    }
    // As before the migration: neither column set.
    if !db
        .tamper(
            "UPDATE dossiers SET channel = NULL, applicant_personal_id = NULL WHERE id = ?1",
            "UPDATE dossiers SET channel = NULL, applicant_personal_id = NULL WHERE id = $1",
            d.id,
        )
        .await
    {
        return;
    }
    let counter = InboxQuery {
        agency: d.current_agency.clone(),
        statuses: Vec::new(),
        procedure_code: None,
        channel: Some(Channel::Counter),
        assignee: None,
        submitted_from: None,
        submitted_to: None,
        after: None,
        limit: 200,
    };
    assert!(
        !s.inbox(&counter)
            .await
            .unwrap()
            .iter()
            .any(|r| r.id == d.id)
    );
    assert!(s.latest_applicant("068095001234").await.unwrap().is_none());
    db.tamper(
        &format!("{sqlite} WHERE dossiers.id = ?1"),
        &format!("{pg} WHERE id = $1"),
        d.id,
    )
    .await;
    // The backfill runs when the store opens (a SQLite store keeps recent inbox pages, and
    // rows changed behind its back are not among what it hears of).
    drop(s);
    let s = db.reopen().await.expect("a file or server database");
    assert!(
        s.inbox(&counter)
            .await
            .unwrap()
            .iter()
            .any(|r| r.id == d.id)
    );
    let a = s.latest_applicant("068095001234").await.unwrap().unwrap();
    assert_eq!(a.name, "Nguyễn Văn An");
}
