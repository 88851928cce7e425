//! The adapter against the sandbox portal: one dossier at a time, and several in one request
//! with the fallbacks a list's single answer needs.

use super::*;
use crate::sandbox::{Faults, SandboxHandle};
use crate::target::pending_entry;
use serde_json::json;

/// A message for dossier `n` at `version`, with `steps` process steps.
fn message(n: usize, version: u32, steps: usize) -> OutboxEntry {
    let code = format!("000.00.01.H40-261207-{n:04}");
    let steps: Vec<Value> = (0..steps)
        .map(|s| {
            json!({"NguoiXuLy": "Trần Thị Bình", "ChucDanh": "Chuyên viên",
                "ThoiDiemXuLy": format!("2026-12-07T02:{:02}:00Z", s % 60),
                "PhongBanXuLy": "000.00.01.H40", "NoiDungXuLy": format!("Bước {s}"),
                "TrangThai": 2, "NgayBatDau": "2026-12-07T02:00:00Z",
                "NgayKetThucTheoQuyDinh": "2026-12-09T09:00:00Z"})
        })
        .collect();
    pending_entry(
        TOPIC,
        &format!("{code}:{version}"),
        json!({"MaHoSo": code, "MaTTHC": "1.001193", "TenTTHC": "Cấp giấy phép xây dựng",
            "TrangThaiHoSo": 2, "KenhThucHien": 2, "ChuHoSo": "Nguyễn Văn An",
            "SoGiayToChuHoSo": "068095001234", "NgayNopHoSo": "2026-12-07T01:00:00Z",
            "NgayTiepNhan": "2026-12-07T02:00:00Z", "QuaTrinh": steps}),
    )
}

async fn portal() -> (SandboxHandle, Dvcqg) {
    let portal = SandboxHandle::start("127.0.0.1:0".parse().unwrap(), DvcqgSettings::default())
        .await
        .unwrap();
    let adapter = Dvcqg::new(portal.adapter_settings()).unwrap();
    (portal, adapter)
}

fn all_ok(outcomes: &[Result<(), DeliveryError>]) -> bool {
    outcomes.iter().all(Result::is_ok)
}

#[tokio::test]
async fn a_batch_goes_in_one_create_and_its_steps_packed_in_chunks() {
    let (portal, adapter) = portal().await;
    // 12 dossiers with 3 steps each: one create; 3 whole messages (9 steps) per chunk of 10.
    let batch: Vec<OutboxEntry> = (0..12).map(|n| message(n, 1, 3)).collect();
    let out = adapter.deliver_batch(&batch).await;
    assert!(all_ok(&out), "{out:?}");
    let s = portal.summary();
    assert_eq!((s.dossiers, s.steps, s.duplicates), (12, 36, 0));
    assert_eq!(s.requests, 1 + 4, "one create, four step chunks: {s:?}");
    for m in &batch {
        let d = portal
            .dossier(m.payload["MaHoSo"].as_str().unwrap())
            .unwrap();
        assert_eq!(d.keys, vec![m.key.clone()]);
        let said: Vec<&str> = d
            .steps
            .iter()
            .map(|s| s["NoiDungXuLy"].as_str().unwrap())
            .collect();
        assert_eq!(said, ["Bước 0", "Bước 1", "Bước 2"], "in order");
    }
    // The same batch again (a lost answer): nothing is applied twice.
    let out = adapter.deliver_batch(&batch).await;
    assert!(all_ok(&out));
    let s = portal.summary();
    assert_eq!((s.dossiers, s.steps, s.duplicates), (12, 36, 12 + 36));
}

#[tokio::test]
async fn a_message_with_more_steps_than_a_chunk_goes_alone_in_order() {
    let (portal, adapter) = portal().await;
    let batch = vec![message(1, 1, 2), message(2, 1, 23), message(3, 1, 1)];
    let out = adapter.deliver_batch(&batch).await;
    assert!(all_ok(&out), "{out:?}");
    let d = portal.dossier("000.00.01.H40-261207-0002").unwrap();
    let said: Vec<String> = d
        .steps
        .iter()
        .map(|s| s["NoiDungXuLy"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (0..23).map(|s| format!("Bước {s}")).collect();
    assert_eq!(said, expected);
    assert_eq!(portal.summary().steps, 26);
}

/// Messages written before `LanDauDongBo` existed go as creates; one the portal has turns the
/// list into one-by-one sends.
#[tokio::test]
async fn a_list_answered_already_exists_goes_again_one_by_one_and_updates_that_one() {
    let (portal, adapter) = portal().await;
    assert!(adapter.deliver(&message(5, 1, 1)).await.is_ok());
    let batch: Vec<OutboxEntry> = (3..8)
        .map(|n| message(n, if n == 5 { 2 } else { 1 }, 1))
        .collect();
    let out = adapter.deliver_batch(&batch).await;
    assert!(all_ok(&out), "{out:?}");
    let s = portal.summary();
    assert_eq!(s.dossiers, 5);
    assert_eq!(
        s.exists_answers, 2,
        "the list's, then dossier 5's own: {s:?}"
    );
    let five = portal.dossier("000.00.01.H40-261207-0005").unwrap();
    assert_eq!(
        five.keys,
        ["000.00.01.H40-261207-0005:1", "000.00.01.H40-261207-0005:2"]
    );
    assert_eq!(five.steps.len(), 2);
}

#[tokio::test]
async fn an_unusable_or_refused_message_fails_alone() {
    let (portal, adapter) = portal().await;
    let mut unusable = message(2, 1, 1);
    unusable.payload["TrangThaiHoSo"] = json!(11);
    // Filed on the portal (only ever updated there), but the portal does not know it.
    let mut unknown = message(3, 1, 1);
    unknown.payload["MaHoSoQG"] = json!("G22.99-261207-000001");
    let mut known_filed = message(4, 1, 0);
    known_filed.payload["MaHoSoQG"] = json!("G22.99-261207-000002");
    let batch = vec![
        message(1, 1, 1),
        unusable,
        unknown,
        known_filed.clone(),
        message(5, 1, 2),
    ];
    // The portal has the second dossier filed there (it was created by an earlier sync).
    let mut created = known_filed.clone();
    created.payload["MaHoSoQG"] = Value::Null;
    created.payload["MaHoSo"] = json!("G22.99-261207-000002");
    created.key = "G22.99-261207-000002:0".into();
    assert!(adapter.deliver(&created).await.is_ok());
    let out = adapter.deliver_batch(&batch).await;
    assert!(
        out[0].is_ok() && out[3].is_ok() && out[4].is_ok(),
        "{out:?}"
    );
    assert!(matches!(&out[1], Err(DeliveryError::Rejected(e)) if e.contains("TrangThaiHoSo")));
    assert!(matches!(&out[2], Err(DeliveryError::Rejected(e)) if e.contains("Không tìm thấy")));
    let s = portal.summary();
    assert_eq!((s.dossiers, s.steps), (3, 3));
    let filed = portal.dossier("G22.99-261207-000002").unwrap();
    assert_eq!(filed.payload["MaHoSoKhac"], "000.00.01.H40-261207-0004");
}

#[tokio::test]
async fn a_portal_that_is_down_fails_the_whole_batch_as_unavailable() {
    let (portal, adapter) = portal().await;
    portal.set_faults(Faults {
        down: true,
        ..Faults::default()
    });
    let batch: Vec<OutboxEntry> = (0..4).map(|n| message(n, 1, 2)).collect();
    let out = adapter.deliver_batch(&batch).await;
    assert!(
        out.iter()
            .all(|o| matches!(o, Err(DeliveryError::Unavailable(_)))),
        "{out:?}"
    );
    // One request for the list, none one by one: a portal that is down is not hammered.
    assert_eq!(portal.summary().injected, 1);
    portal.set_faults(Faults::default());
    assert!(all_ok(&adapter.deliver_batch(&batch).await));
    assert_eq!(portal.summary().steps, 8);
}

#[tokio::test]
async fn the_sandbox_wants_one_key_per_item_and_applies_a_list_whole_or_not_at_all() {
    let (portal, adapter) = portal().await;
    let http = reqwest::Client::new();
    let url = format!(
        "http://{}{}",
        portal.addr(),
        DvcqgSettings::default().create_path
    );
    let d = |n: usize| payload::dossier(&message(n, 1, 0).payload).unwrap();
    let post = |keys: &'static str, body: Value| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let v: Value = http
                .post(url)
                .header("Idempotency-Key", keys)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v
        }
    };
    let a = post("k1", json!([d(1), d(2)])).await;
    assert_eq!(a["error_code"], "-1");
    assert!(a["message"].as_str().unwrap().contains("Idempotency-Key"));
    assert!(adapter.deliver(&message(2, 1, 0)).await.is_ok());
    // Dossier 2 exists: the list is refused and dossier 1 is not created either.
    let a = post("k1, k2", json!([d(1), d(2)])).await;
    assert_eq!(a["error_code"], "-1");
    assert!(portal.dossier("000.00.01.H40-261207-0001").is_none());
    assert_eq!(portal.summary().dossiers, 1);
    let a = post("k1, k3", json!([d(1), d(3)])).await;
    assert_eq!(a["error_code"], "0");
    assert_eq!(portal.summary().dossiers, 3);
}

/// `message` marked as the dossier's first to the portal, or a later one.
fn marked(n: usize, version: u32, steps: usize, first: bool) -> OutboxEntry {
    let mut m = message(n, version, steps);
    m.payload["LanDauDongBo"] = json!(first);
    m
}

#[tokio::test]
async fn first_messages_go_as_one_create_list_and_later_ones_as_one_update_list() {
    let (portal, adapter) = portal().await;
    let firsts: Vec<OutboxEntry> = (0..6).map(|n| marked(n, 1, 1, true)).collect();
    assert!(all_ok(&adapter.deliver_batch(&firsts).await));
    let before = portal.summary().requests;
    // Three updates and three creates in one batch: two dossier lists, one step chunk.
    let mixed: Vec<OutboxEntry> = (3..9)
        .map(|n| {
            if n < 6 {
                marked(n, 2, 1, false)
            } else {
                marked(n, 1, 1, true)
            }
        })
        .collect();
    let out = adapter.deliver_batch(&mixed).await;
    assert!(all_ok(&out), "{out:?}");
    let s = portal.summary();
    assert_eq!(s.requests - before, 3, "{s:?}");
    assert_eq!((s.dossiers, s.steps, s.exists_answers), (9, 12, 0));
    let four = portal.dossier("000.00.01.H40-261207-0004").unwrap();
    assert_eq!(four.keys.len(), 2);
}

#[tokio::test]
async fn a_later_message_of_a_dossier_the_portal_lost_creates_it_again() {
    let (portal, adapter) = portal().await;
    assert!(adapter.deliver(&marked(1, 1, 1, true)).await.is_ok());
    // Dossier 2's first message never reached this portal (it lost it).
    let batch = vec![marked(1, 2, 1, false), marked(2, 2, 1, false)];
    let out = adapter.deliver_batch(&batch).await;
    assert!(all_ok(&out), "{out:?}");
    let s = portal.summary();
    assert_eq!((s.dossiers, s.steps), (2, 3));
    assert_eq!(
        portal.dossier("000.00.01.H40-261207-0002").unwrap().keys,
        ["000.00.01.H40-261207-0002:2"]
    );
    // Alone, too.
    assert!(adapter.deliver(&marked(3, 4, 0, false)).await.is_ok());
    assert_eq!(portal.summary().dossiers, 3);
}
