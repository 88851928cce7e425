//! Conformance tests for accounts with several roles (decision 0020): grants with a default,
//! the role a token acts as, disabling and new passwords ending tokens, listing with filters
//! and keyset pages, and the staff of an agency.

use super::*;
use motcua_store::{Grant, UserQuery};

conformance!(grants_choose_the_role_a_token_acts_as);
conformance!(disabling_and_new_passwords_end_tokens);
conformance!(accounts_list_with_filters_and_pages);

fn grant(role: Role, agency: Option<&str>) -> Grant {
    Grant {
        role,
        agency: agency.map(ag),
    }
}

fn token_of(u: &UserRecord, c: char) -> TokenRecord {
    TokenRecord {
        token_hash: c.to_string().repeat(64),
        user_id: u.id,
        created_at: t0(),
        expires_at: t0() + Duration::hours(12),
    }
}

async fn grants_choose_the_role_a_token_acts_as(db: &mut Db) {
    let s = db.store.clone();
    let u = user("thanh", Role::Leader, Some(WARD));
    s.create_user_with_grants(
        u.clone(),
        vec![
            grant(Role::Leader, Some(WARD)),
            grant(Role::Specialist, Some(DEPT)),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        s.user_grants(u.id).await.unwrap(),
        [
            grant(Role::Leader, Some(WARD)),
            grant(Role::Specialist, Some(DEPT))
        ]
    );
    // A plain create holds its own role.
    let plain = user("tuan", Role::Specialist, Some(DEPT));
    s.create_user(plain.clone()).await.unwrap();
    assert_eq!(
        s.user_grants(plain.id).await.unwrap(),
        [grant(Role::Specialist, Some(DEPT))]
    );
    // The same role twice is refused, nothing stored.
    let twice = user("hai", Role::Leader, Some(WARD));
    let err = s
        .create_user_with_grants(
            twice.clone(),
            vec![
                grant(Role::Leader, Some(WARD)),
                grant(Role::Leader, Some(WARD)),
            ],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate(_)), "{err:?}");
    assert!(s.user_by_username("hai").await.unwrap().is_none());

    // A token acts as the default role until another is chosen.
    s.create_token(token_of(&u, 'a')).await.unwrap();
    let now = t0() + Duration::minutes(1);
    let t = s.token_user(&"a".repeat(64), now).await.unwrap().unwrap();
    assert_eq!((t.role, t.agency.clone()), (Role::Leader, Some(ag(WARD))));
    s.choose_grant(&"a".repeat(64), grant(Role::Specialist, Some(DEPT)))
        .await
        .unwrap();
    let t = s.token_user(&"a".repeat(64), now).await.unwrap().unwrap();
    assert_eq!((t.role, t.agency), (Role::Specialist, Some(ag(DEPT))));
    // A role not held cannot be chosen; the token keeps its role.
    let err = s
        .choose_grant(&"a".repeat(64), grant(Role::Leader, Some(DEPT)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    assert_eq!(
        s.token_user(&"a".repeat(64), now)
            .await
            .unwrap()
            .unwrap()
            .role,
        Role::Specialist
    );
    // Another token of the same person is independent.
    s.create_token(token_of(&u, 'b')).await.unwrap();
    assert_eq!(
        s.token_user(&"b".repeat(64), now)
            .await
            .unwrap()
            .unwrap()
            .role,
        Role::Leader
    );

    // Adding and removing grants; the first remaining one becomes the default.
    s.add_grant(u.id, grant(Role::DeskOfficer, Some(WARD)), now)
        .await
        .unwrap();
    let err = s
        .add_grant(u.id, grant(Role::DeskOfficer, Some(WARD)), now)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate(_)), "{err:?}");
    let err = s
        .add_grant(Uuid::new_v4(), grant(Role::Admin, None), now)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    s.remove_grant(u.id, grant(Role::Leader, Some(WARD)), now)
        .await
        .unwrap();
    let err = s
        .remove_grant(u.id, grant(Role::Leader, Some(WARD)), now)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let back = s.user(u.id).await.unwrap().unwrap();
    assert_eq!(
        (back.role, back.agency),
        (Role::Specialist, Some(ag(DEPT))),
        "the default follows the first remaining grant"
    );
    // The token that acted as the removed role now acts as the new default.
    assert_eq!(
        s.token_user(&"b".repeat(64), now)
            .await
            .unwrap()
            .unwrap()
            .role,
        Role::Specialist
    );
    // A token that chose a role which is then removed stops working.
    s.choose_grant(&"b".repeat(64), grant(Role::DeskOfficer, Some(WARD)))
        .await
        .unwrap();
    s.remove_grant(u.id, grant(Role::DeskOfficer, Some(WARD)), now)
        .await
        .unwrap();
    assert!(s.token_user(&"b".repeat(64), now).await.unwrap().is_none());
    let summary = s.user_summary(u.id).await.unwrap().unwrap();
    assert_eq!(summary.grants, [grant(Role::Specialist, Some(DEPT))]);
    assert_eq!(summary.updated_at, Some(now));

    // Staff lists: enabled holders of the role in that agency, by name.
    let names =
        |v: Vec<motcua_store::StaffMember>| v.into_iter().map(|m| m.username).collect::<Vec<_>>();
    assert_eq!(
        names(s.agency_staff(&ag(DEPT), Role::Specialist).await.unwrap()),
        ["thanh", "tuan"]
    );
    assert!(
        s.agency_staff(&ag(WARD), Role::Specialist)
            .await
            .unwrap()
            .is_empty()
    );
    s.set_user_disabled(plain.id, true, now).await.unwrap();
    assert_eq!(
        names(s.agency_staff(&ag(DEPT), Role::Specialist).await.unwrap()),
        ["thanh"]
    );
}

async fn disabling_and_new_passwords_end_tokens(db: &mut Db) {
    let s = db.store.clone();
    let u = user("ngoc", Role::DeskOfficer, Some(WARD));
    s.create_user(u.clone()).await.unwrap();
    let now = t0() + Duration::minutes(1);
    s.create_token(token_of(&u, 'd')).await.unwrap();
    assert!(s.token_user(&"d".repeat(64), now).await.unwrap().is_some());
    s.set_user_disabled(u.id, true, now).await.unwrap();
    assert!(s.user(u.id).await.unwrap().unwrap().disabled);
    assert!(s.token_user(&"d".repeat(64), now).await.unwrap().is_none());
    // A token made while disabled (should one slip through) does not work either.
    s.create_token(token_of(&u, 'e')).await.unwrap();
    assert!(s.token_user(&"e".repeat(64), now).await.unwrap().is_none());
    s.set_user_disabled(u.id, false, now).await.unwrap();
    assert!(!s.user(u.id).await.unwrap().unwrap().disabled);
    assert!(
        s.token_user(&"d".repeat(64), now).await.unwrap().is_none(),
        "enabling does not bring old sessions back"
    );
    assert!(s.token_user(&"e".repeat(64), now).await.unwrap().is_some());
    s.set_password(u.id, "$argon2id$new".into(), now)
        .await
        .unwrap();
    assert_eq!(
        s.user(u.id).await.unwrap().unwrap().password_hash,
        "$argon2id$new"
    );
    assert!(s.token_user(&"e".repeat(64), now).await.unwrap().is_none());
    s.rename_user(u.id, "Đinh Thị Ngọc Ánh".into(), now)
        .await
        .unwrap();
    assert_eq!(
        s.user(u.id).await.unwrap().unwrap().name,
        "Đinh Thị Ngọc Ánh"
    );
    for err in [
        s.set_user_disabled(Uuid::new_v4(), true, now).await,
        s.set_password(Uuid::new_v4(), "x".into(), now).await,
        s.rename_user(Uuid::new_v4(), "x".into(), now).await,
    ] {
        assert!(matches!(err, Err(StoreError::NotFound(_))), "{err:?}");
    }
}

async fn accounts_list_with_filters_and_pages(db: &mut Db) {
    let s = db.store.clone();
    for (name, role, agency) in [
        ("an", Role::Specialist, Some(DEPT)),
        ("binh", Role::Leader, Some(DEPT)),
        ("chi", Role::Specialist, Some(WARD)),
        ("dung", Role::Admin, None),
    ] {
        s.create_user(user(name, role, agency)).await.unwrap();
    }
    let list = |q: UserQuery| {
        let s = s.clone();
        async move {
            s.list_users(&q)
                .await
                .unwrap()
                .into_iter()
                .map(|u| u.username)
                .collect::<Vec<_>>()
        }
    };
    let all = UserQuery {
        limit: 50,
        ..UserQuery::default()
    };
    assert_eq!(list(all.clone()).await, ["an", "binh", "chi", "dung"]);
    assert_eq!(
        list(UserQuery {
            role: Some(Role::Specialist),
            ..all.clone()
        })
        .await,
        ["an", "chi"]
    );
    assert_eq!(
        list(UserQuery {
            agency: Some(ag(DEPT)),
            ..all.clone()
        })
        .await,
        ["an", "binh"]
    );
    // Names are searched without diacritics: "Người dùng binh".
    assert_eq!(
        list(UserQuery {
            search: Some("NGUOI dung BINH".into()),
            ..all.clone()
        })
        .await,
        ["binh"]
    );
    let first = list(UserQuery {
        limit: 2,
        ..all.clone()
    })
    .await;
    assert_eq!(first, ["an", "binh"]);
    assert_eq!(
        list(UserQuery {
            limit: 2,
            after: Some("binh".into()),
            ..all.clone()
        })
        .await,
        ["chi", "dung"]
    );
    let one = s.list_users(&all).await.unwrap();
    assert_eq!(
        one[3].grants,
        [Grant {
            role: Role::Admin,
            agency: None
        }]
    );
    assert!(!one[3].disabled);
}
