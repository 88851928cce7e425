//! Feedback and complaints (phản ánh, kiến nghị) over HTTP against the demo province: the whole
//! flow from filing to publication, rating and re-raising; every refusal (wrong role, wrong
//! agency, someone else's item, wrong state) and bad input (empty text, unknown or another
//! citizen's dossier, malformed JSON, unknown fields and states).

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const CITIZEN: &str = "congdan";
const OTHER: &str = "congdan2";
const SPECIALIST: &str = "chuyenvien.stp";
const LEADER: &str = "lanhdao.stp";
const OTHER_AGENCY: &str = "chuyenvien.sxd";

/// A dossier of `congdan` received at the centre and decided by the Department of Justice: its
/// code.
async fn dossier_code() -> String {
    let centre = agency_of("motcua.tinh");
    let (code, _) = find_procedure(&centre, Some(&agency_of(LEADER)), None).await;
    let t = token(CITIZEN).await;
    let body = with_required_documents(
        &t,
        json!({
            "procedure_code": code,
            "agency": centre,
            "applicant": {"name": "Nguyễn Thị Lan", "personal_id": "068190001234"},
            "documents": [{"name": "Tờ khai"}],
            "form": {}
        }),
    )
    .await;
    let (st, v) = send(Some(&t), "POST", "/api/v1/dossiers", Some(body)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["dossier"]["id"].as_str().unwrap().to_string();
    let d = act("motcua.tinh", &id, "receive", json!({})).await;
    d["dossier"]["code"].as_str().unwrap().to_string()
}

async fn file(user: &str, body: Value) -> (StatusCode, Value) {
    as_user(user, "POST", "/api/v1/feedback", Some(body)).await
}

async fn step(user: &str, id: &str, what: &str, body: Value) -> (StatusCode, Value) {
    as_user(
        user,
        "POST",
        &format!("/api/v1/feedback/{id}/{what}"),
        Some(body),
    )
    .await
}

async fn ok_step(user: &str, id: &str, what: &str, body: Value) -> Value {
    let (st, v) = step(user, id, what, body).await;
    assert_eq!(st, StatusCode::OK, "{user} {what}: {v}");
    v
}

fn actions(v: &Value) -> Vec<&str> {
    v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_from_filing_to_publication() {
    let code = dossier_code().await;
    let justice = agency_of(LEADER);
    let (st, v) = file(
        CITIZEN,
        json!({"subject_kind": "dossier", "subject": code, "content": "  Hồ sơ của tôi quá hạn mà chưa có thông báo.  "}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["item"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        v["item"]["agency"],
        justice.as_str(),
        "the dossier's deciding agency"
    );
    assert_eq!(
        v["item"]["content"],
        "Hồ sơ của tôi quá hạn mà chưa có thông báo."
    );
    assert_eq!(v["item"]["state"], "received");
    assert_eq!(v["state_label"], "Đã tiếp nhận");
    assert_eq!(v["due_at"], v["deadlines"]["classify_by"]);
    assert!(actions(&v).is_empty(), "the citizen waits: {v}");

    // The citizen sees it in their list; the agency's staff in theirs, with the due date.
    let (st, mine) = as_user(CITIZEN, "GET", "/api/v1/feedback/mine", None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        mine.as_array()
            .unwrap()
            .iter()
            .any(|f| f["item"]["id"] == id.as_str())
    );
    let (st, list) = as_user(SPECIALIST, "GET", "/api/v1/feedback?state=received", None).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let mine_there = list
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["item"]["id"] == id.as_str())
        .expect("listed for the agency");
    assert_eq!(
        actions(mine_there),
        ["accept", "refuse", "request_info"],
        "{mine_there}"
    );
    let dues: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["due_at"].as_str())
        .collect();
    let mut sorted = dues.clone();
    sorted.sort();
    assert_eq!(dues, sorted, "earliest due first");
    // Another agency's staff see nothing of it.
    let (_, theirs) = as_user(OTHER_AGENCY, "GET", "/api/v1/feedback", None).await;
    assert!(
        !theirs
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["item"]["id"] == id.as_str())
    );

    // Information requested, supplied, answered, published, rated, re-raised, answered again.
    let v = ok_step(
        SPECIALIST,
        &id,
        "classify",
        json!({"decision": "request_info", "missing": "Ngày hẹn trả ghi trên giấy tiếp nhận"}),
    )
    .await;
    assert_eq!(v["item"]["state"], "info_requested");
    assert_eq!(
        v["due_at"],
        Value::Null,
        "nothing due from staff while waiting"
    );
    let v = ok_step(
        CITIZEN,
        &id,
        "supply-info",
        json!({"text": "Hẹn trả ngày 20/11"}),
    )
    .await;
    assert_eq!(v["item"]["state"], "accepted");
    assert_eq!(v["due_at"], v["deadlines"]["answer_by"]);
    let v = ok_step(
        SPECIALIST,
        &id,
        "answer",
        json!({"text": "Sở đã trả kết quả và gửi thư xin lỗi."}),
    )
    .await;
    assert_eq!(v["item"]["state"], "answered");
    assert_eq!(v["item"]["answered_by"], "Phạm Minh Tuấn");
    assert_eq!(v["due_at"], v["deadlines"]["publish_by"]);
    let v = ok_step(
        LEADER,
        &id,
        "publish",
        json!({"text": "Hồ sơ trễ hẹn không được thông báo"}),
    )
    .await;
    assert_eq!(v["item"]["state"], "published");

    // The public list shows the answer without personal data.
    let (st, public) = send(None, "GET", "/api/v1/public/feedback", None).await;
    assert_eq!(st, StatusCode::OK);
    let p = public
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id.as_str())
        .expect("published");
    assert_eq!(p["summary"], "Hồ sơ trễ hẹn không được thông báo");
    assert_eq!(p["answer"], "Sở đã trả kết quả và gửi thư xin lỗi.");
    assert_eq!(p["subject"], Value::Null, "no dossier code in public");
    let text = public.to_string();
    for private in ["Nguyễn Thị Lan", code.as_str(), "quá hạn mà chưa", "20/11"] {
        assert!(!text.contains(private), "{private} leaked: {text}");
    }

    let v = ok_step(CITIZEN, &id, "rate", json!({"satisfied": false})).await;
    assert_eq!(v["item"]["satisfied"], false);
    assert_eq!(actions(&v), ["reraise"]);
    let (st, p) = step(CITIZEN, &id, "rate", json!({"satisfied": true})).await;
    assert_eq!(st, StatusCode::CONFLICT, "rated once per answer: {p}");
    assert_eq!(
        p["type"],
        "https://motcua.dev/problems/feedback-action-not-allowed"
    );
    let v = ok_step(
        CITIZEN,
        &id,
        "reraise",
        json!({"text": "Tôi chưa nhận được thư xin lỗi."}),
    )
    .await;
    assert_eq!(
        (v["item"]["state"].as_str(), v["item"]["reraised"].as_bool()),
        (Some("accepted"), Some(true))
    );
    let (_, public) = send(None, "GET", "/api/v1/public/feedback", None).await;
    assert!(
        !public
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == id.as_str()),
        "withdrawn while re-raised"
    );
    ok_step(
        SPECIALIST,
        &id,
        "answer",
        json!({"text": "Đã gửi lại thư xin lỗi qua bưu điện."}),
    )
    .await;
    let (st, p) = step(CITIZEN, &id, "reraise", json!({"text": "lần nữa"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "re-raised once: {p}");

    // The history: every step with actor, time, agency and what was written.
    let (st, d) = as_user(CITIZEN, "GET", &format!("/api/v1/feedback/{id}"), None).await;
    assert_eq!(st, StatusCode::OK);
    let steps: Vec<&str> = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "received",
            "info_requested",
            "info_supplied",
            "answered",
            "published",
            "rated",
            "reraised",
            "answered"
        ]
    );
    for h in d["history"].as_array().unwrap() {
        assert_eq!(h["agency"], justice.as_str());
        assert!(h["at"].is_string() && h["actor_name"].is_string(), "{h}");
    }
    assert_eq!(d["history"][4]["role"], "leader");
    let (st, _) = as_user(LEADER, "GET", &format!("/api/v1/feedback/{id}"), None).await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn procedures_and_agencies_as_subjects() {
    let justice = agency_of(LEADER);
    let centre = agency_of("motcua.tinh");
    let (code, _) = find_procedure(&centre, Some(&justice), None).await;
    let (st, v) = file(OTHER, json!({"subject_kind": "procedure", "subject": code, "content": "Thành phần hồ sơ không rõ."})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(
        v["item"]["agency"],
        justice.as_str(),
        "the deciding agency by default"
    );
    let (st, v) = file(OTHER, json!({"subject_kind": "procedure", "subject": code, "agency": centre, "content": "Quầy tiếp nhận đóng cửa sớm."})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(
        v["item"]["agency"],
        centre.as_str(),
        "a receiving agency named"
    );
    let (st, p) = file(OTHER, json!({"subject_kind": "procedure", "subject": code, "agency": agency_of(OTHER_AGENCY), "content": "x"})).await;
    assert_eq!(
        (st, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("agency")),
        "{p}"
    );
    let (st, v) = file(OTHER, json!({"subject_kind": "agency", "subject": agency_of(OTHER_AGENCY), "content": "Thái độ phục vụ chưa tốt."})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["item"]["agency"], agency_of(OTHER_AGENCY).as_str());
    let (st, p) = file(
        OTHER,
        json!({"subject_kind": "procedure", "subject": "9.999999", "content": "x"}),
    )
    .await;
    assert_eq!(
        (st, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("subject")),
        "{p}"
    );
    let (st, p) = file(
        OTHER,
        json!({"subject_kind": "agency", "subject": "000.00.99.H99", "content": "x"}),
    )
    .await;
    assert_eq!(
        (st, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("subject")),
        "{p}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_and_stores_nothing() {
    let code = dossier_code().await;
    let (_, before) = as_user(CITIZEN, "GET", "/api/v1/feedback/mine", None).await;
    let n = before.as_array().unwrap().len();
    let cases = [
        (
            json!({"subject_kind": "dossier", "subject": code, "content": "   "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "content",
        ),
        (
            json!({"subject_kind": "dossier", "subject": code, "content": "ă".repeat(5001)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "content",
        ),
        (
            json!({"subject_kind": "dossier", "subject": "000.00.01.H40-260101-9999", "content": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "subject",
        ),
        (
            json!({"subject_kind": "dossier", "subject": "not a code", "content": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "subject",
        ),
        (
            json!({"subject_kind": "dossier", "subject": "", "content": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "subject",
        ),
    ];
    for (body, status, field) in cases {
        let (st, p) = file(CITIZEN, body.clone()).await;
        assert_eq!(
            (st, p["field"].as_str()),
            (status, Some(field)),
            "{body}: {p}"
        );
    }
    // Another citizen's dossier: the same answer as an unknown one.
    let (st, p) = file(
        OTHER,
        json!({"subject_kind": "dossier", "subject": code, "content": "x"}),
    )
    .await;
    assert_eq!(
        (st, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("subject")),
        "{p}"
    );
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("you have no dossier"),
        "{p}"
    );
    // Unknown kinds and fields, wrong types: 422; malformed JSON: 400.
    for body in [
        json!({"subject_kind": "house", "subject": code, "content": "x"}),
        json!({"subject_kind": "dossier", "subject": code, "content": "x", "owner": "someone"}),
        json!({"subject_kind": "dossier", "subject": code}),
        json!({"subject_kind": "dossier", "subject": code, "content": 5}),
    ] {
        let (st, p) = file(CITIZEN, body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {p}");
        assert_eq!(p["type"], "https://motcua.dev/problems/invalid-body");
    }
    let t = token(CITIZEN).await;
    let res = client()
        .post(format!("{}/api/v1/feedback", base()))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{\"subject_kind\": \"dossier\",")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let (_, after) = as_user(CITIZEN, "GET", "/api/v1/feedback/mine", None).await;
    assert_eq!(after.as_array().unwrap().len(), n, "nothing stored");

    // Bad steps on a real item.
    let (_, v) = file(
        CITIZEN,
        json!({"subject_kind": "dossier", "subject": code, "content": "Cần hỗ trợ"}),
    )
    .await;
    let id = v["item"]["id"].as_str().unwrap().to_string();
    let (st, p) = step(SPECIALIST, &id, "classify", json!({"decision": "maybe"})).await;
    assert_eq!(
        (st, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("decision"))
    );
    let (st, p) = step(
        SPECIALIST,
        &id,
        "classify",
        json!({"decision": "refuse", "reason": "  "}),
    )
    .await;
    assert_eq!(
        (st, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reason"))
    );
    let (st, p) = step(
        SPECIALIST,
        &id,
        "classify",
        json!({"decision": "request_info"}),
    )
    .await;
    assert_eq!(
        (st, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("missing"))
    );
    let (st, _) = step(SPECIALIST, &id, "answer", json!({"text": "Trả lời sớm"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "not accepted yet");
    let (st, _) = step(CITIZEN, &id, "supply-info", json!({"text": "x"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "nothing was asked");
    let (st, _) = step(SPECIALIST, &id, "rate", json!({"satisfied": "yes"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = as_user(CITIZEN, "GET", "/api/v1/feedback/not-a-uuid", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = as_user(SPECIALIST, "GET", "/api/v1/feedback?state=lost", None).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = as_user(SPECIALIST, "GET", "/api/v1/feedback?limit=0", None).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = as_user(SPECIALIST, "GET", "/api/v1/feedback?colour=red", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // Refused with a reason: final.
    let v = ok_step(
        SPECIALIST,
        &id,
        "classify",
        json!({"decision": "refuse", "reason": "Không thuộc thẩm quyền"}),
    )
    .await;
    assert_eq!(v["item"]["refusal_reason"], "Không thuộc thẩm quyền");
    let (st, _) = step(SPECIALIST, &id, "classify", json!({"decision": "accept"})).await;
    assert_eq!(st, StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_right_people_see_and_act() {
    let code = dossier_code().await;
    let (_, v) = file(
        CITIZEN,
        json!({"subject_kind": "dossier", "subject": code, "content": "Cán bộ hẹn nhiều lần"}),
    )
    .await;
    let id = v["item"]["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/feedback/{id}");
    // Without signing in: 401.
    let (st, _) = send(None, "GET", &path, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = send(
        None,
        "POST",
        "/api/v1/feedback",
        Some(json!({"subject_kind": "agency", "subject": "x", "content": "x"})),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // Another citizen, another agency's staff, the administrator: as if it did not exist.
    for who in [OTHER, OTHER_AGENCY, "quantri"] {
        let (st, _) = as_user(who, "GET", &path, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{who}");
        let (st, _) = step(who, &id, "classify", json!({"decision": "accept"})).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{who}");
    }
    // Staff do not file; citizens do not list the agency's items; the administrator neither.
    let (st, _) = file(
        SPECIALIST,
        json!({"subject_kind": "agency", "subject": agency_of(LEADER), "content": "x"}),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = as_user(CITIZEN, "GET", "/api/v1/feedback", None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = as_user("quantri", "GET", "/api/v1/feedback", None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = as_user(SPECIALIST, "GET", "/api/v1/feedback/mine", None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // The citizen does not classify or answer their own item; staff do not rate it.
    let (st, _) = step(CITIZEN, &id, "classify", json!({"decision": "accept"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    ok_step(SPECIALIST, &id, "classify", json!({"decision": "accept"})).await;
    let (st, _) = step(CITIZEN, &id, "answer", json!({"text": "Tự trả lời"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    ok_step(
        SPECIALIST,
        &id,
        "answer",
        json!({"text": "Đã nhắc nhở cán bộ."}),
    )
    .await;
    let (st, _) = step(SPECIALIST, &id, "rate", json!({"satisfied": true})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Only a leader publishes.
    let (st, p) = step(SPECIALIST, &id, "publish", json!({"text": "Hẹn nhiều lần"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    let (st, _) = step(LEADER, &id, "publish", json!({"text": " "})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    ok_step(LEADER, &id, "publish", json!({"text": "Hẹn nhiều lần"})).await;
}
