//! Refusals from outside, over HTTP: authentication, authorization by role and agency, bad
//! input. Each refusal is a precise problem+json and changes nothing.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn new_dossier() -> (String, String) {
    let centre = agency_of("motcua.tinh");
    let (code, _) = find_procedure(&centre, Some(&agency_of("lanhdao.stp")), None).await;
    let (st, v) = submit_as(
        "congdan",
        Some(json!({"procedure_code": code, "agency": centre})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    (v["dossier"]["id"].as_str().unwrap().to_string(), code)
}

async fn history_len(id: &str) -> usize {
    let (_, h) = as_user(
        "congdan",
        "GET",
        &format!("/api/v1/dossiers/{id}/history"),
        None,
    )
    .await;
    h.as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_is_required_and_checked() {
    let (st, p) = send(None, "GET", "/api/v1/dossiers", None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(p["status"], 401);
    let (st, _) = send(Some("mc_forged"), "GET", "/api/v1/me", None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = send(
        None,
        "POST",
        "/api/v1/auth/token",
        Some(json!({"username": "congdan", "password": "sai"})),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = send(
        None,
        "POST",
        "/api/v1/auth/token",
        Some(json!({"username": "khongco", "password": "sai"})),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = send(
        None,
        "POST",
        "/api/v1/auth/token",
        Some(json!({"username": "congdan"})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let res = client()
        .get(format!("{}/api/v1/me", base()))
        .header("Authorization", "Basic Y29uZ2Rhbg==")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().get("www-authenticate").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_secured_route_refuses_without_a_token() {
    let (_, spec) = send(None, "GET", "/api/openapi.json", None).await;
    let paths = spec["paths"].as_object().unwrap();
    let mut checked = 0;
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            if op.get("security").is_none() {
                continue;
            }
            let concrete = path
                .replace("{id}", "0193e6a4-0000-7000-8000-000000000000")
                .replace("{code}", "000.00.01.H40-261123-0001")
                .replace("{action}", "receive");
            let (st, p) = send(None, &method.to_uppercase(), &concrete, Some(json!({}))).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{method} {path}: {p}");
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} secured operations");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_see_only_what_is_theirs() {
    let (id, _) = new_dossier().await;
    // The owner sees it; another citizen does not, nor does another agency's staff, nor an admin.
    let (st, _) = as_user("congdan", "GET", &format!("/api/v1/dossiers/{id}"), None).await;
    assert_eq!(st, StatusCode::OK);
    for user in [
        "congdan2",
        "chuyenvien.xa",
        "lanhdao.xa",
        "motcua.xa",
        "quantri",
    ] {
        let (st, p) = as_user(user, "GET", &format!("/api/v1/dossiers/{id}"), None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{user}: {p}");
        let (st, _) = as_user(user, "GET", &format!("/api/v1/dossiers/{id}/history"), None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{user}");
        let (st, _) = as_user(
            user,
            "POST",
            &format!("/api/v1/dossiers/{id}/actions/receive"),
            Some(json!({})),
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{user}");
    }
    // Another citizen's list does not include it; the administrator cannot list dossiers.
    let (_, page) = as_user("congdan2", "GET", "/api/v1/dossiers?limit=200", None).await;
    assert!(
        !page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == id.as_str())
    );
    let (st, _) = as_user("quantri", "GET", "/api/v1/dossiers", None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Staff cannot read another agency's inbox through filters.
    let (st, page) = as_user("chuyenvien.xa", "GET", "/api/v1/dossiers?limit=200", None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        !page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == id.as_str())
    );
    // Statistics: leaders of their own agency only; citizens never.
    let (st, _) = as_user("congdan", "GET", "/api/v1/statistics/counters", None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let other = agency_of("motcua.tinh");
    let (st, _) = as_user(
        "lanhdao.stp",
        "GET",
        &format!("/api/v1/statistics/counters?agency={other}"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = as_user("lanhdao.stp", "GET", "/api/v1/statistics/counters", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(history_len(&id).await, 1, "refusals changed nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_role_or_state_is_refused_and_changes_nothing() {
    let (id, _) = new_dossier().await;
    // A specialist of the competent agency cannot receive at the centre's desk (the dossier is
    // visible to their agency, so this is a 403 from the rules, not a 404).
    let (st, p) = as_user(
        "chuyenvien.stp",
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/receive"),
        Some(json!({})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    // The citizen cannot approve; nothing to approve yet anyway.
    let (st, p) = as_user(
        "congdan",
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/approve"),
        Some(json!({})),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    assert_eq!(p["type"], "https://motcua.dev/problems/action-not-allowed");
    // Rating before the result is returned.
    let (st, _) = as_user(
        "congdan",
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/rate"),
        Some(json!({"score": 5})),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    // Refusal without reasons; assignment to someone of another agency.
    let (st, p) = as_user(
        "motcua.tinh",
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/refuse"),
        Some(json!({"reasons": []})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "reasons");
    act("motcua.tinh", &id, "receive", json!({})).await;
    let (_, other) = as_user("chuyenvien.xa", "GET", "/api/v1/me", None).await;
    let (st, p) = as_user(
        "lanhdao.stp",
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/assign"),
        Some(json!({"user_id": other["user_id"], "name": "X"})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    // A leader of another agency cannot touch it.
    let (st, _) = as_user(
        "lanhdao.xa",
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/complete_step"),
        Some(json!({})),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(history_len(&id).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_precise_problems() {
    let (id, code) = new_dossier().await;
    let centre = agency_of("motcua.tinh");
    let cases: Vec<(&str, String, Option<Value>, StatusCode, &str)> = vec![
        (
            "POST",
            "/api/v1/dossiers".into(),
            Some(json!({"procedure_code": "9.999999", "agency": centre})),
            StatusCode::NOT_FOUND,
            "not-found",
        ),
        (
            "POST",
            "/api/v1/dossiers".into(),
            Some(json!({"procedure_code": "abc"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            "POST",
            "/api/v1/dossiers".into(),
            Some(json!({"procedure_code": code, "agency": "h40 xx"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            "POST",
            "/api/v1/dossiers".into(),
            Some(json!({"procedure_code": code, "agency": "000.00.99.H40"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            "POST",
            "/api/v1/dossiers".into(),
            Some(json!({"agency": centre})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-body",
        ),
        (
            "POST",
            "/api/v1/dossiers".into(),
            Some(
                json!({"procedure_code": code, "agency": centre, "applicant": {"name": "A", "personal_id": "12345"}}),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-body",
        ),
        (
            "POST",
            "/api/v1/dossiers".into(),
            Some(json!({"procedure_code": code, "agency": centre, "surprise": 1})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-body",
        ),
        (
            "POST",
            "/api/v1/dossiers".into(),
            Some(json!({"procedure_code": code, "agency": centre, "channel": "fax"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-body",
        ),
        (
            "POST",
            "/api/v1/dossiers".into(),
            Some(json!({"procedure_code": code, "agency": centre, "form": [1]})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            "POST",
            format!("/api/v1/dossiers/{id}/actions/teleport"),
            Some(json!({})),
            StatusCode::NOT_FOUND,
            "not-found",
        ),
        (
            "POST",
            format!("/api/v1/dossiers/{id}/actions/withdraw"),
            Some(json!({"reason": 5})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-body",
        ),
        (
            "POST",
            format!("/api/v1/dossiers/{id}/actions/withdraw"),
            Some(json!({})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-body",
        ),
        (
            "POST",
            format!("/api/v1/dossiers/{id}/actions/withdraw"),
            Some(json!({"reason": "  "})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            "POST",
            format!("/api/v1/dossiers/{id}/actions/withdraw"),
            Some(json!([1, 2])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            "POST",
            format!("/api/v1/dossiers/{id}/actions/withdraw"),
            Some(json!({"reason": "x", "expected_version": "one"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            "GET",
            "/api/v1/dossiers/not-a-uuid".into(),
            None,
            StatusCode::BAD_REQUEST,
            "bad-request",
        ),
        (
            "GET",
            "/api/v1/dossiers/by-code/xyz".into(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            "GET",
            "/api/v1/dossiers?status=lost".into(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            "GET",
            "/api/v1/dossiers?cursor=zzz".into(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            "GET",
            "/api/v1/dossiers?limit=-1".into(),
            None,
            StatusCode::BAD_REQUEST,
            "invalid-query",
        ),
        (
            "GET",
            "/api/v1/nowhere".into(),
            None,
            StatusCode::NOT_FOUND,
            "not-found",
        ),
    ];
    for (method, path, body, status, kind) in cases {
        let (st, p) = as_user("congdan", method, &path, body.clone()).await;
        assert_eq!(st, status, "{method} {path} {body:?}: {p}");
        assert_eq!(
            p["type"],
            format!("https://motcua.dev/problems/{kind}"),
            "{method} {path}: {p}"
        );
        assert!(p["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    // Malformed JSON, wrong content type, oversized body.
    let t = token("congdan").await;
    let raw = |body: Vec<u8>, ct: &'static str| {
        client()
            .post(format!("{}/api/v1/dossiers", base()))
            .bearer_auth(&t)
            .header("content-type", ct)
            .body(body)
    };
    let res = raw(b"{\"procedure_code\": ".to_vec(), "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = raw(
        b"procedure_code=1".to_vec(),
        "application/x-www-form-urlencoded",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let big = format!(
        "{{\"procedure_code\": \"{code}\", \"note\": \"{}\"}}",
        "a".repeat(300_000)
    );
    let res = raw(big.into_bytes(), "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let res = client()
        .post(format!("{}/api/v1/dossiers/{id}/actions/withdraw", base()))
        .bearer_auth(&t)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        history_len(&id).await,
        1,
        "nothing was written by bad input"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_spec_metrics_and_pages() {
    let (st, h) = send(None, "GET", "/healthz", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h["status"], "ok");
    let (st, spec) = send(None, "GET", "/api/openapi.json", None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    for p in [
        "/api/v1/dossiers",
        "/api/v1/dossiers/{id}/actions/{action}",
        "/api/v1/procedures",
        "/healthz",
    ] {
        assert!(spec["paths"].get(p).is_some(), "{p} documented");
    }
    let text = client()
        .get(format!("{}/metrics", base()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("motcua_http_requests_total"), "{text}");
    let res = client().get(format!("{}/", base())).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("lang=\"vi\""));
    assert!(html.contains("Tìm thủ tục hành chính"));
    assert!(html.contains("Tra cứu hồ sơ"));
    let en = client()
        .get(format!("{}/?lang=en", base()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("Find a procedure"));
    // Search ignores diacritics.
    let res = client()
        .get(format!("{}/thu-tuc?q=ho+tich", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // A friendly page for people, not JSON.
    let res = client()
        .get(format!("{}/khong-co-trang-nay", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("Không tìm thấy trang"));
    let res = client()
        .get(format!("{}/tra-cuu?ma=abc", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("không đúng định dạng"));
}
