//! Conformance tests for drafts of e-forms (issue 4, migration 17): one per citizen, procedure
//! and version, saved again in place, listed last saved first, read and deleted only by their
//! owner.

use super::*;
use motcua_store::Draft;
use serde_json::json;

conformance!(drafts_per_citizen_and_version);

fn draft(owner: Uuid, code: &str, version: u32, at: DateTime<Utc>, name: &str) -> Draft {
    Draft {
        id: Uuid::new_v4(),
        owner,
        procedure_code: code.into(),
        procedure_version: version,
        procedure_name: format!("Thủ tục {code}"),
        values: json!({"ho_ten": name, "_uploads": {"giay_to_1": format!("sha256:{}", "a".repeat(64))}}),
        created_at: at,
        updated_at: at,
    }
}

async fn drafts_per_citizen_and_version(db: &mut Db) {
    let s = db.store.clone();
    let an = user("an", Role::Citizen, None);
    let binh = user("binh", Role::Citizen, None);
    s.create_user(an.clone()).await.unwrap();
    s.create_user(binh.clone()).await.unwrap();
    assert!(s.drafts(an.id).await.unwrap().is_empty());

    let first = draft(an.id, "1.001193", 1, t0(), "Nguyễn Văn An");
    s.save_draft(first.clone()).await.unwrap();
    assert_eq!(s.draft(an.id, first.id).await.unwrap(), Some(first.clone()));

    // Saving the same procedure version again replaces the values, keeping id and creation.
    let again = Draft {
        updated_at: t0() + Duration::minutes(5),
        ..draft(
            an.id,
            "1.001193",
            1,
            t0() + Duration::minutes(5),
            "<b>An</b> đã sửa",
        )
    };
    s.save_draft(again.clone()).await.unwrap();
    let kept = s.draft(an.id, first.id).await.unwrap().unwrap();
    assert_eq!(kept.values, again.values);
    assert_eq!(kept.created_at, first.created_at);
    assert_eq!(kept.updated_at, again.updated_at);
    assert_eq!(
        s.draft(an.id, again.id).await.unwrap(),
        None,
        "no second row"
    );

    // Another version and another procedure are other drafts; newest first.
    let v2 = draft(an.id, "1.001193", 2, t0() + Duration::minutes(10), "An");
    let other = draft(an.id, "2.000815", 1, t0() + Duration::minutes(1), "An");
    s.save_draft(v2.clone()).await.unwrap();
    s.save_draft(other.clone()).await.unwrap();
    let ids: Vec<Uuid> = s
        .drafts(an.id)
        .await
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(ids, [v2.id, first.id, other.id]);

    // Someone else neither sees, reads nor deletes them.
    let theirs = draft(binh.id, "1.001193", 1, t0(), "Bình");
    s.save_draft(theirs.clone()).await.unwrap();
    assert_eq!(s.drafts(binh.id).await.unwrap(), [theirs]);
    assert_eq!(s.draft(binh.id, first.id).await.unwrap(), None);
    assert!(!s.delete_draft(binh.id, first.id).await.unwrap());
    assert!(s.draft(an.id, first.id).await.unwrap().is_some());

    assert!(s.delete_draft(an.id, first.id).await.unwrap());
    assert!(
        !s.delete_draft(an.id, first.id).await.unwrap(),
        "already gone"
    );
    assert_eq!(s.drafts(an.id).await.unwrap().len(), 2);
    assert_eq!(s.drafts(binh.id).await.unwrap().len(), 1);

    // Kept across a restart.
    if let Some(s2) = db.reopen().await {
        assert_eq!(s2.draft(an.id, v2.id).await.unwrap(), Some(v2));
    }
}
