//! A dossier's whole life over HTTP, against the real server with the demo province.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Specialists we have, by agency.
fn specialist_at(agency: &str) -> &'static str {
    [
        "chuyenvien.stp",
        "chuyenvien.sxd",
        "chuyenvien.stc",
        "chuyenvien.snnmt",
    ]
    .into_iter()
    .find(|u| agency_of(u) == agency)
    .unwrap_or_else(|| panic!("no demo specialist at {agency}"))
}

async fn submit_online(code: &str, agency: &str, key: Option<&str>) -> Value {
    let t = token("congdan").await;
    let body = common::with_required_documents(
        &t,
        json!({
            "procedure_code": code,
            "agency": agency,
            "applicant": {"name": "Nguyễn Thị Lan", "personal_id": "068190001234", "phone": "0912345678",
                          "address": "Phường Xuân Hương - Đà Lạt, Lâm Đồng"},
            "documents": [{"name": "Tờ khai"}],
            "form": {"ghi_chu": "Hồ sơ thử"},
            "note": "Nộp trực tuyến"
        }),
    )
    .await;
    let mut rb = client()
        .post(format!("{}/api/v1/dossiers", base()))
        .bearer_auth(&t)
        .json(&body);
    if let Some(k) = key {
        rb = rb.header("Idempotency-Key", k);
    }
    let res = rb.send().await.unwrap();
    let st = res.status();
    let v: Value = res.json().await.unwrap();
    assert!(
        st == StatusCode::CREATED || st == StatusCode::OK,
        "{st}: {v}"
    );
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_life_across_two_agencies() {
    let centre = agency_of("motcua.tinh");
    let leader_agency = agency_of("lanhdao.stp");
    let others: Vec<String> = ["chuyenvien.sxd", "chuyenvien.stc", "chuyenvien.snnmt"]
        .iter()
        .map(|u| agency_of(u))
        .collect();
    let others_ref: Vec<&str> = others.iter().map(String::as_str).collect();
    let (code, coop) = find_procedure(&centre, Some(&leader_agency), Some(&others_ref)).await;
    let coop = coop.unwrap();

    // 1. The citizen submits online.
    let v = submit_online(&code, &centre, None).await;
    assert_eq!(v["national_status"], 1);
    let id = v["dossier"]["id"].as_str().unwrap().to_string();
    // Each person is offered exactly what the rules let them do now.
    let actions = |v: &Value| -> Vec<String> {
        v["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(actions(&v), ["withdraw", "set_notifications"]);
    let (_, dv) = as_user(
        "motcua.tinh",
        "GET",
        &format!("/api/v1/dossiers/{id}"),
        None,
    )
    .await;
    assert_eq!(
        actions(&dv),
        [
            "receive",
            "request_supplement",
            "refuse",
            "withdraw",
            "set_notifications"
        ]
    );

    // 2. The desk receives: dossier code and appointment.
    let v = act(
        "motcua.tinh",
        &id,
        "receive",
        json!({"note": "Đủ thành phần"}),
    )
    .await;
    assert_eq!(v["national_status"], 2);
    let dcode = v["dossier"]["code"].as_str().unwrap().to_string();
    assert!(dcode.starts_with(&format!("{centre}-")), "{dcode}");
    assert!(v["dossier"]["due_at"].is_string());

    // 3. The department leader assigns a specialist and passes the dossier on.
    let (_, me) = as_user("chuyenvien.stp", "GET", "/api/v1/me", None).await;
    act(
        "lanhdao.stp",
        &id,
        "assign",
        json!({"user_id": me["user_id"], "name": me["name"]}),
    )
    .await;
    let v = act("lanhdao.stp", &id, "complete_step", json!({})).await;
    assert_eq!(v["national_status"], 4);
    let (_, dv) = as_user(
        "chuyenvien.stp",
        "GET",
        &format!("/api/v1/dossiers/{id}"),
        None,
    )
    .await;
    let offered = actions(&dv);
    assert!(
        offered.contains(&"complete_step".to_string()),
        "{offered:?}"
    );
    assert!(!offered.contains(&"approve".to_string()), "{offered:?}");
    assert!(!offered.contains(&"receive".to_string()), "{offered:?}");

    // 4. The specialist sends it to the cooperating agency (liên thông) and it comes back.
    let v = act(
        "chuyenvien.stp",
        &id,
        "complete_step",
        json!({"to": "lay-y-kien", "note": "Xin ý kiến"}),
    )
    .await;
    assert_eq!(v["dossier"]["current_agency"], coop);
    let other = specialist_at(&coop);
    let v = act(other, &id, "complete_step", json!({"note": "Thống nhất"})).await;
    assert_eq!(v["dossier"]["current_agency"], leader_agency);

    // 5. Processing done, the leader approves, the desk issues and returns the result.
    act(
        "chuyenvien.stp",
        &id,
        "complete_step",
        json!({"to": "trinh-duyet"}),
    )
    .await;
    let v = act("lanhdao.stp", &id, "approve", json!({"note": "Đồng ý"})).await;
    assert_eq!(v["dossier"]["approved"], true);
    let v = act(
        "motcua.tinh",
        &id,
        "mark_result_ready",
        json!({"summary": "Kết quả số 01/KQ"}),
    )
    .await;
    assert_eq!(v["national_status"], 9);
    let v = act(
        "motcua.tinh",
        &id,
        "return_result",
        json!({"method": "counter", "receiver": "Nguyễn Thị Lan"}),
    )
    .await;
    assert_eq!(v["national_status"], 10);
    let v = act(
        "congdan",
        &id,
        "rate",
        json!({"score": 5, "comment": "Nhanh, chu đáo"}),
    )
    .await;
    assert_eq!(v["dossier"]["rating"]["score"], 5);

    // Every step is in the history with actor, time, agency and note.
    let (st, h) = as_user(
        "congdan",
        "GET",
        &format!("/api/v1/dossiers/{id}/history"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let h = h.as_array().unwrap();
    let kinds: Vec<&str> = h
        .iter()
        .map(|e| e["event"]["body"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "submitted",
            "received",
            "assigned",
            "step_completed",
            "step_completed",
            "transferred_to_agency",
            "step_completed",
            "transferred_to_agency",
            "step_completed",
            "approved",
            "transferred_to_agency",
            "result_ready",
            "result_returned",
            "rated"
        ]
    );
    for e in h {
        assert!(
            e["event"]["actor"]["name"]
                .as_str()
                .is_some_and(|n| !n.is_empty())
        );
        assert!(e["event"]["at"].is_string());
        assert!(e["event"]["agency"].is_string());
        assert!(e["label"].is_string());
    }
    assert_eq!(h[1]["event"]["note"], "Đủ thành phần");
    assert_eq!(h[1]["event"]["agency"], centre);

    // The public lookup shows the status and no personal data.
    let (st, p) = send(None, "GET", &format!("/api/v1/public/status/{dcode}"), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(p["national_status"], 10);
    assert!(!p.to_string().contains("Nguyễn Thị Lan"));
    // And the citizen finds it by code.
    let (st, _) = as_user(
        "congdan",
        "GET",
        &format!("/api/v1/dossiers/by-code/{dcode}"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supplement_payment_refusal_withdrawal_and_apology() {
    let centre = agency_of("motcua.tinh");
    let leader_agency = agency_of("lanhdao.stp");
    let (code, _) = find_procedure(&centre, Some(&leader_agency), None).await;

    // Supplement during processing stops the clock; supplying it resumes processing.
    let id = submit_online(&code, &centre, None).await["dossier"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    act("motcua.tinh", &id, "receive", json!({})).await;
    act("lanhdao.stp", &id, "complete_step", json!({})).await;
    let v = act(
        "chuyenvien.stp",
        &id,
        "request_supplement",
        json!({"items": ["Bản sao giấy khai sinh"], "reason": "Thiếu giấy tờ"}),
    )
    .await;
    assert_eq!(v["national_status"], 5);
    assert_eq!(v["dossier"]["pause"]["kind"], "supplement");
    let v = act(
        "congdan",
        &id,
        "provide_supplement",
        json!({"documents": [{"name": "Bản sao giấy khai sinh"}]}),
    )
    .await;
    assert_eq!(v["dossier"]["status"], "processing");
    assert!(v["dossier"]["pause"].is_null());

    // Financial obligation: paused, then confirmed.
    let v = act(
        "chuyenvien.stp",
        &id,
        "request_payment",
        json!({"amount_vnd": 50000, "reason": "Lệ phí"}),
    )
    .await;
    assert_eq!(v["national_status"], 6);
    let v = act(
        "motcua.tinh",
        &id,
        "confirm_payment",
        json!({"reference": "VNPAY-123"}),
    )
    .await;
    assert_eq!(v["dossier"]["status"], "processing");

    // Apology letter with a new appointment, at least a working day before the due date.
    let due: chrono::DateTime<chrono::Utc> =
        v["dossier"]["due_at"].as_str().unwrap().parse().unwrap();
    let new_due = due + chrono::Duration::days(7);
    let (st, p) = as_user(
        "chuyenvien.stp",
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/issue_apology"),
        Some(json!({"reason": "Cần xác minh thực địa", "new_due_at": due})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let now = chrono::Utc::now();
    let cal = motcua_domain::calendar::Calendar::vietnam_default();
    let can = cal.add_working_time(now, motcua_domain::calendar::WorkingDuration::days(1)) <= due;
    let (st, p) = as_user(
        "chuyenvien.stp",
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/issue_apology"),
        Some(json!({"reason": "Cần xác minh thực địa", "new_due_at": new_due})),
    )
    .await;
    if can {
        assert_eq!(st, StatusCode::OK, "{p}");
        assert_eq!(p["dossier"]["apologies"], 1);
        assert_eq!(
            p["dossier"]["due_at"]
                .as_str()
                .unwrap()
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap(),
            new_due
        );
    } else {
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["type"], "https://motcua.dev/problems/apology-too-late");
    }

    // Withdrawal by the applicant: notice to stop processing.
    let v = act(
        "congdan",
        &id,
        "withdraw",
        json!({"reason": "Không còn nhu cầu"}),
    )
    .await;
    assert_eq!(v["national_status"], 7);
    let (st, p) = as_user(
        "lanhdao.stp",
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/approve"),
        Some(json!({})),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");

    // Refusal at reception with reasons.
    let id2 = submit_online(&code, &centre, None).await["dossier"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let v = act(
        "motcua.tinh",
        &id2,
        "refuse",
        json!({"reasons": ["Không thuộc thẩm quyền", "Hồ sơ không hợp lệ"]}),
    )
    .await;
    assert_eq!(v["national_status"], 3);
    let (_, h) = as_user(
        "congdan",
        "GET",
        &format!("/api/v1/dossiers/{id2}/history"),
        None,
    )
    .await;
    assert_eq!(h[1]["event"]["body"]["reasons"][1], "Hồ sơ không hợp lệ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_submission_and_stale_versions() {
    let centre = agency_of("motcua.tinh");
    let (code, _) = find_procedure(&centre, Some(&agency_of("lanhdao.stp")), None).await;
    let key = format!("k-{}", uuid::Uuid::new_v4());
    let a = submit_online(&code, &centre, Some(&key)).await;
    let b = submit_online(&code, &centre, Some(&key)).await;
    assert_eq!(a["dossier"]["id"], b["dossier"]["id"]);
    let id = a["dossier"]["id"].as_str().unwrap();
    let (_, h) = as_user(
        "congdan",
        "GET",
        &format!("/api/v1/dossiers/{id}/history"),
        None,
    )
    .await;
    assert_eq!(h.as_array().unwrap().len(), 1);

    // Acting on a stale version is refused and changes nothing.
    let (st, p) = as_user(
        "motcua.tinh",
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/receive"),
        Some(json!({"expected_version": 7})),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(p["type"], "https://motcua.dev/problems/version-conflict");
    assert_eq!(p["extra"]["current_version"], 1);
    let t = token("motcua.tinh").await;
    let res = client()
        .post(format!("{}/api/v1/dossiers/{id}/actions/receive", base()))
        .bearer_auth(&t)
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (_, h) = as_user(
        "congdan",
        "GET",
        &format!("/api/v1/dossiers/{id}/history"),
        None,
    )
    .await;
    assert_eq!(h.as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counter_submission_is_received_at_once_and_listed_in_the_inbox() {
    let centre = agency_of("motcua.tinh");
    let leader_agency = agency_of("lanhdao.stp");
    let (code, _) = find_procedure(&centre, Some(&leader_agency), None).await;
    let (st, v) = as_user(
        "motcua.tinh",
        "POST",
        "/api/v1/dossiers",
        Some(json!({
            "procedure_code": code, "agency": centre, "channel": "counter",
            "applicant": {"name": "Trần Văn Bình", "personal_id": "068085000321"}
        })),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["national_status"], 2);
    let id = v["dossier"]["id"].as_str().unwrap().to_string();
    // The department's leader sees it in the inbox.
    let (st, page) = as_user(
        "lanhdao.stp",
        "GET",
        "/api/v1/dossiers?inbox=true&limit=200",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == id.as_str())
    );
    // The citizen has no account on it and does not see it.
    let (st, _) = as_user("congdan", "GET", &format!("/api/v1/dossiers/{id}"), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Citizens cannot file counter dossiers.
    let (st, _) = submit_as(
        "congdan",
        Some(json!({
            "procedure_code": code, "agency": centre, "channel": "counter"
        })),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}
