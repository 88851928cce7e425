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
            json!({"subject_kind": "dossier", "subject": "000.00.01.H40-260101-9999", "content": "x-bad-input"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "subject",
        ),
        (
            json!({"subject_kind": "dossier", "subject": "not a code", "content": "x-bad-input"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "subject",
        ),
        (
            json!({"subject_kind": "dossier", "subject": "", "content": "x-bad-input"}),
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
        json!({"subject_kind": "dossier", "subject": code, "content": "x-bad-input"}),
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
        json!({"subject_kind": "house", "subject": code, "content": "x-bad-input"}),
        json!({"subject_kind": "dossier", "subject": code, "content": "x-bad-input", "owner": "someone"}),
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
        .body("{\"subject_kind\": \"dossier\", \"content\": \"x-bad-input\",")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    // Other tests file as the same citizens meanwhile: look for these contents only.
    for who in [CITIZEN, OTHER] {
        let (_, mine) = as_user(who, "GET", "/api/v1/feedback/mine", None).await;
        assert!(
            mine.as_array().unwrap().iter().all(|f| {
                let c = f["item"]["content"].as_str().unwrap();
                !c.is_empty() && !c.starts_with("x-bad-input") && !c.starts_with("ăăă")
            }),
            "nothing stored: {mine}"
        );
    }

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

/// The pages, without JavaScript: the citizen files from the dossier page's link, sees the
/// answer and rates it; bad input re-shows the form with the text kept and stores nothing;
/// staff see their agency's list by due date; everyone sees the published answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_file_follow_and_rate_without_javascript() {
    use common::browser::Browser;
    let code = dossier_code().await;
    let lan = Browser::sign_in(CITIZEN).await;
    let page = format!("/ca-nhan/phan-anh?ho_so={code}");
    let (st, html) = lan.get(&page).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("Gửi phản ánh, kiến nghị"), "Vietnamese first");
    assert!(
        html.contains(&format!("value=\"{code}\"")),
        "the dossier code filled in"
    );
    assert!(html.contains("value=\"dossier\" checked"));
    let csrf = common::browser::csrf_in(&html);
    // Empty content: the form again with what was typed, 422, nothing stored.
    let (st, html) = lan
        .post_form(
            "/ca-nhan/phan-anh",
            &[
                ("csrf", &csrf),
                ("kind", "dossier"),
                ("subject", &code),
                ("content", "  "),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("Vui lòng nhập nội dung"), "{html}");
    assert!(html.contains(&format!("value=\"{code}\"")));
    // Someone else's dossier: the same friendly refusal as an unknown one.
    let binh = Browser::sign_in(OTHER).await;
    let other_csrf = binh.csrf("/ca-nhan/phan-anh").await;
    let (st, html) = binh
        .post_form(
            "/ca-nhan/phan-anh",
            &[
                ("csrf", &other_csrf),
                ("kind", "dossier"),
                ("subject", &code),
                ("content", "x-page-other"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Không tìm thấy hồ sơ của bạn"), "{html}");
    // Without the form's token: refused.
    let (st, _) = lan
        .post_form(
            "/ca-nhan/phan-anh",
            &[
                ("kind", "dossier"),
                ("subject", &code),
                ("content", "x-page-no-token"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    for who in [CITIZEN, OTHER] {
        let (_, mine) = as_user(who, "GET", "/api/v1/feedback/mine", None).await;
        assert!(
            mine.as_array().unwrap().iter().all(|f| {
                let c = f["item"]["content"].as_str().unwrap();
                !c.is_empty() && !c.starts_with("x-page")
            }),
            "nothing stored: {mine}"
        );
    }

    let (st, to) = lan
        .post_form(
            "/ca-nhan/phan-anh",
            &[
                ("csrf", &csrf),
                ("kind", "dossier"),
                ("subject", &code),
                ("content", "Chưa nhận được kết quả <b>đúng hẹn</b>."),
            ],
        )
        .await;
    assert_eq!(
        (st, to.as_str()),
        (StatusCode::SEE_OTHER, "/ca-nhan/phan-anh?xong=1")
    );
    let (_, mine) = as_user(CITIZEN, "GET", "/api/v1/feedback/mine", None).await;
    let id = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["item"]["content"] == "Chưa nhận được kết quả <b>đúng hẹn</b>.")
        .expect("filed")["item"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, html) = lan.get("/ca-nhan/phan-anh?xong=1").await;
    assert!(html.contains("Đã gửi phản ánh"));
    assert!(
        html.contains("&lt;b&gt;đúng hẹn") && !html.contains("<b>đúng hẹn"),
        "text is escaped"
    );

    // Staff list, earliest deadline first, with the item.
    let tuan = Browser::sign_in(SPECIALIST).await;
    let (st, html) = tuan.get("/can-bo/phan-anh").await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains(&format!("pa-{id}")));
    let (st, _) = lan.get("/can-bo/phan-anh").await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "citizens do not see the agency's list"
    );
    // Staff act from their page: accept, answer (an empty answer is refused), publish (leaders).
    assert!(html.contains(&format!("/can-bo/phan-anh/{id}/tiep-nhan")));
    assert!(
        html.contains("Tiếp nhận xử lý"),
        "the buttons are labelled in Vietnamese"
    );
    let staff_csrf = common::browser::csrf_in(&html);
    let (st, to) = tuan
        .post_form(
            &format!("/can-bo/phan-anh/{id}/tiep-nhan"),
            &[("csrf", &staff_csrf)],
        )
        .await;
    assert_eq!(
        (st, to.as_str()),
        (StatusCode::SEE_OTHER, "/can-bo/phan-anh?xong=1")
    );
    let (st, html) = tuan
        .post_form(
            &format!("/can-bo/phan-anh/{id}/tra-loi"),
            &[("csrf", &staff_csrf), ("text", " ")],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("Vui lòng nhập nội dung."));
    let (st, _) = tuan
        .post_form(
            &format!("/can-bo/phan-anh/{id}/tra-loi"),
            &[
                ("csrf", &staff_csrf),
                ("text", "Kết quả đã sẵn sàng tại bộ phận một cửa."),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, _) = tuan
        .post_form(
            &format!("/can-bo/phan-anh/{id}/cong-khai"),
            &[("csrf", &staff_csrf), ("text", "Tóm tắt")],
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "only a leader publishes");
    let nam = Browser::sign_in(LEADER).await;
    let (_, html) = nam.get("/can-bo/phan-anh").await;
    assert!(html.contains(&format!("/can-bo/phan-anh/{id}/cong-khai")));
    let leader_csrf = common::browser::csrf_in(&html);
    let (st, _) = nam
        .post_form(
            &format!("/can-bo/phan-anh/{id}/cong-khai"),
            &[
                ("csrf", &leader_csrf),
                ("text", "Kết quả chưa được trả đúng hẹn"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    // Another agency's staff: as if it did not exist.
    let mai = Browser::sign_in(OTHER_AGENCY).await;
    let mai_csrf = mai.csrf("/can-bo/phan-anh").await;
    let (st, _) = mai
        .post_form(
            &format!("/can-bo/phan-anh/{id}/tra-loi"),
            &[("csrf", &mai_csrf), ("text", "x")],
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // The citizen reads the answer and rates it from the page.
    let (_, html) = lan.get("/ca-nhan/phan-anh").await;
    assert!(html.contains("Kết quả đã sẵn sàng tại bộ phận một cửa."));
    assert!(html.contains(&format!("/ca-nhan/phan-anh/{id}/danh-gia")));
    let csrf = common::browser::csrf_in(&html);
    let (st, _) = binh
        .post_form(
            &format!("/ca-nhan/phan-anh/{id}/danh-gia"),
            &[("csrf", &other_csrf), ("satisfied", "0")],
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "not Bình's");
    let (st, html) = lan
        .post_form(
            &format!("/ca-nhan/phan-anh/{id}/danh-gia"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    let (st, to) = lan
        .post_form(
            &format!("/ca-nhan/phan-anh/{id}/danh-gia"),
            &[("csrf", &csrf), ("satisfied", "1")],
        )
        .await;
    assert_eq!(
        (st, to.as_str()),
        (StatusCode::SEE_OTHER, "/ca-nhan/phan-anh?xong=2")
    );
    let (st, html) = lan
        .post_form(
            &format!("/ca-nhan/phan-anh/{id}/danh-gia"),
            &[("csrf", &csrf), ("satisfied", "0")],
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "rated once");
    assert!(html.contains("không còn phù hợp"), "{html}");
    let (_, d) = as_user(CITIZEN, "GET", &format!("/api/v1/feedback/{id}"), None).await;
    assert_eq!(d["feedback"]["item"]["satisfied"], true);

    // The public page, for anyone, without the citizen's words or name.
    let (st, html) = Browser::anonymous().get("/phan-anh").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Kết quả chưa được trả đúng hẹn"));
    assert!(!html.contains("Nguyễn Thị Lan") && !html.contains(&code));
    // Signed out: to the sign-in page.
    let (st, to) = Browser::anonymous().get("/ca-nhan/phan-anh").await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(to.starts_with("/dang-nhap"), "{to}");
}
