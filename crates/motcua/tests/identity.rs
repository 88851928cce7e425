//! The national population database as the identity source, against the sandbox lookup
//! (`motcua sandbox dancu`): found, not found, contact details from our own records, answers
//! cached briefly, every lookup audited with its source, and each failure of the outside system
//! (down, slow, 5xx, malformed, wrong token) an error the counter screen turns into "type it by
//! hand" — never a wrong person.

use motcua_domain::agency::{Actor, Role};
use motcua_domain::codes::PersonalId;
use motcua_integrations::sandbox::population::{PopulationFaults, PopulationSandbox};
use motcua_store::Store;
use motcua_web::identity::{IdentityProvider, Purpose, lookup_audited};
use motcua_web::population::{PopulationDb, PopulationSettings};
use std::sync::Arc;

fn officer() -> Actor {
    Actor {
        user_id: uuid::Uuid::from_u128(42),
        name: "motcua.xa".into(),
        role: Role::DeskOfficer,
        agency: Some("H40.24781".parse().unwrap()),
    }
}

fn pid(s: &str) -> PersonalId {
    s.parse().unwrap()
}

async fn setup(cache_secs: u64) -> (PopulationSandbox, Store, PopulationDb) {
    let sandbox = PopulationSandbox::start("127.0.0.1:0".parse().unwrap(), "lgsp-token")
        .await
        .unwrap();
    let store = Store::open("sqlite::memory:").await.unwrap();
    let db = PopulationDb::new(
        PopulationSettings {
            url: sandbox.url(),
            token: sandbox.token(),
            ma_dvc: "H40".into(),
            ma_tich_hop: "MOTCUA".into(),
            timeout_ms: 1_000,
            cache_secs,
        },
        store.clone(),
    )
    .unwrap();
    (sandbox, store, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_is_found_in_the_population_database_and_the_answer_is_cached() {
    let (sandbox, _store, db) = setup(300).await;
    let who = db
        .lookup(&pid("068190004321"), Purpose::CounterReception, &officer())
        .await
        .unwrap()
        .expect("found");
    assert_eq!(who.name, "Nguyễn Thị Lan");
    assert_eq!(who.date_of_birth.as_deref(), Some("1990-05-12"));
    assert_eq!(
        who.address.as_deref(),
        Some("12 Trần Phú, Phường Xuân Hương - Đà Lạt, Lâm Đồng")
    );
    // The population database has no phone or e-mail, and we have no record of her.
    assert_eq!((who.phone, who.email), (None, None));
    // The request named the officer, the purpose and the number.
    let st = sandbox.state();
    assert_eq!(st.requests, 1);
    assert_eq!(st.last["SoDinhDanh"], "068190004321");
    assert_eq!(st.last["MaCanBo"], "motcua.xa");
    assert_eq!(st.last["MucDich"], "counter_reception");
    assert_eq!(st.last["MaDVC"], "H40");
    // Asked again while receiving: from memory.
    db.lookup(&pid("068190004321"), Purpose::CounterReception, &officer())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sandbox.state().requests, 1, "cached");
    // Nobody with this number.
    let none = db
        .lookup(&pid("068190000000"), Purpose::CounterReception, &officer())
        .await
        .unwrap();
    assert_eq!(none, None);
    assert_eq!(db.source(), "csdlqgdc");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_of_the_population_database_are_errors_never_a_wrong_answer() {
    let (sandbox, _store, db) = setup(0).await;
    let (who, me) = (pid("068085001234"), officer());
    let ask = || db.lookup(&who, Purpose::CounterReception, &me);
    for (what, faults) in [
        (
            "down",
            PopulationFaults {
                down: true,
                ..Default::default()
            },
        ),
        (
            "5xx",
            PopulationFaults {
                fail_5xx_percent: 100,
                ..Default::default()
            },
        ),
        (
            "malformed",
            PopulationFaults {
                malformed_percent: 100,
                ..Default::default()
            },
        ),
        (
            "slower than the timeout",
            PopulationFaults {
                slow_ms: 2_000,
                ..Default::default()
            },
        ),
    ] {
        sandbox.set_faults(faults);
        let e = ask().await.expect_err(what);
        assert_eq!(e.status().as_u16(), 503, "{what}: {}", e.detail());
    }
    sandbox.set_faults(PopulationFaults::default());
    assert_eq!(ask().await.unwrap().unwrap().name, "Trần Văn Bình");
    // A wrong token is refused by the platform: an error too.
    let wrong = PopulationDb::new(
        PopulationSettings {
            url: sandbox.url(),
            token: "guess".into(),
            timeout_ms: 1_000,
            cache_secs: 0,
            ..Default::default()
        },
        Store::open("sqlite::memory:").await.unwrap(),
    )
    .unwrap();
    let e = wrong
        .lookup(&pid("068085001234"), Purpose::CounterReception, &officer())
        .await
        .expect_err("wrong token");
    assert_eq!(e.status().as_u16(), 503);
    // Nothing listening.
    let gone = PopulationDb::new(
        PopulationSettings {
            url: "http://127.0.0.1:9/csdldancu/tra-cuu".into(),
            timeout_ms: 1_000,
            ..Default::default()
        },
        Store::open("sqlite::memory:").await.unwrap(),
    )
    .unwrap();
    assert!(
        gone.lookup(&pid("068085001234"), Purpose::CounterReception, &officer())
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lookup_is_audited_with_its_source() {
    let (_sandbox, store, db) = setup(300).await;
    let state = motcua_web::AppState::new(store.clone()).with_identity(Arc::new(db));
    let provider = motcua_web::identity::provider(&state);
    let found = lookup_audited(
        &state,
        &*provider,
        &pid("068201009876"),
        Purpose::CounterReception,
        &officer(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(found.name, "K' Điểu");
    let trail = store
        .audit_trail(&motcua_store::AuditQuery {
            dossier_id: None,
            user_id: None,
            before: None,
            limit: 10,
        })
        .await
        .unwrap();
    let entry = trail
        .iter()
        .find(|e| e.action == "identity_lookup")
        .expect("audited");
    assert!(
        entry.detail.contains("personal_id=068201009876")
            && entry.detail.contains("source=csdlqgdc")
            && entry.detail.contains("found=yes"),
        "{}",
        entry.detail
    );
}
