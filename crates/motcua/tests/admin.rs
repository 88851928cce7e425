//! Administration of accounts and agencies, accounts with several roles, leader assignment and
//! bulk actions (issue 5, decision 0020), over real HTTP against a seeded server: the JSON API
//! and the pages a browser without JavaScript uses.

mod common;

use common::browser::{Browser, cookie_of, csrf_in, raw};
use common::{PASSWORD, act, agency_of, as_user, base, send, submit_as, token};
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};

/// A strong password for accounts made here.
const NEW_PASSWORD: &str = "Kiem-tra@2026";

async fn admin(method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    as_user("quantri", method, path, body).await
}

/// A fresh login name.
fn fresh(prefix: &str) -> String {
    format!(
        "{prefix}.{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

async fn token_for(user: &str, extra: Value) -> (StatusCode, Value) {
    let mut body = json!({"username": user, "password": NEW_PASSWORD});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    send(None, "POST", "/api/v1/auth/token", Some(body)).await
}

async fn create(username: &str, grants: Value) -> Value {
    let (st, u) = admin(
        "POST",
        "/api/v1/admin/users",
        Some(json!({"username": username, "name": "Trần Thị Kiểm Tra",
                    "password": NEW_PASSWORD, "grants": grants})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{u}");
    u
}

async fn submit(agency: &str) -> String {
    let (st, v) = submit_as(
        "congdan",
        Some(json!({
            "procedure_code": "1.001193",
            "agency": agency,
            "applicant": {"name": "Phạm Văn Bình", "personal_id": "068190001234"},
            "documents": [{"name": "Tờ khai"}],
            "form": motcua::seed::forms::example("1.001193").unwrap(),
        })),
    )
    .await;
    assert!(st.is_success(), "{v}");
    v["dossier"]["id"].as_str().unwrap().to_string()
}

async fn me(user: &str) -> Value {
    as_user(user, "GET", "/api/v1/me", None).await.1
}

/// A received commune dossier waiting at its leader's first step.
async fn received() -> String {
    let id = submit(&agency_of("motcua.xa")).await;
    act("motcua.xa", &id, "receive", json!({})).await;
    id
}

/// A commune dossier at the leader's approval step.
async fn ready_to_approve() -> String {
    let id = received().await;
    let sp = me("chuyenvien.xa").await;
    act(
        "lanhdao.xa",
        &id,
        "assign",
        json!({"user_id": sp["user_id"], "name": sp["name"]}),
    )
    .await;
    act("lanhdao.xa", &id, "complete_step", json!({})).await;
    act("chuyenvien.xa", &id, "complete_step", json!({})).await;
    let (_, v) = as_user("lanhdao.xa", "GET", &format!("/api/v1/dossiers/{id}"), None).await;
    assert!(
        v["actions"].as_array().unwrap().contains(&json!("approve")),
        "{v}"
    );
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_a_two_role_user_who_acts_as_one_role_at_a_time() {
    let commune = agency_of("motcua.xa");
    let centre = agency_of("motcua.tinh");
    let name = fresh("hai.vai");
    let u = create(
        &name,
        json!([{"role": "specialist", "agency": commune}, {"role": "desk_officer", "agency": centre}]),
    )
    .await;
    assert_eq!(u["grants"].as_array().unwrap().len(), 2, "{u}");
    assert_eq!(u["disabled"], false);
    assert!(u.get("password_hash").is_none(), "never the hash: {u}");

    // The API token acts as the first role unless another is named.
    let (st, t) = token_for(&name, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{t}");
    assert_eq!(t["user"]["role"], "specialist");
    assert_eq!(t["user"]["agency"], commune.as_str());
    assert_eq!(t["grants"].as_array().unwrap().len(), 2);
    let as_specialist = t["token"].as_str().unwrap().to_string();
    let (st, t) = token_for(&name, json!({"role": "desk_officer"})).await;
    assert_eq!(st, StatusCode::OK, "{t}");
    assert_eq!(t["user"]["agency"], centre.as_str());
    let as_desk = t["token"].as_str().unwrap().to_string();
    for extra in [
        json!({"role": "leader"}),
        json!({"role": "specialist", "agency": centre}),
        json!({"agency": "KHONG.CO"}),
        json!({"agency": "bad code!"}),
    ] {
        let (st, p) = token_for(&name, extra.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{extra}: {p}");
    }
    let (st, p) = token_for(&name, json!({"role": "chief"})).await;
    assert!(st.is_client_error(), "{p}");

    // It acts only as the chosen role: a specialist cannot receive; the centre's desk does not
    // even see a commune dossier.
    let d = submit(&commune).await;
    let path = format!("/api/v1/dossiers/{d}/actions/receive");
    let (st, _) = send(Some(&as_specialist), "POST", &path, Some(json!({}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = send(Some(&as_desk), "POST", &path, Some(json!({}))).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, inbox) = send(Some(&as_desk), "GET", "/api/v1/inbox", None).await;
    assert_eq!(st, StatusCode::OK, "{inbox}");

    // In the browser: the person picks the role on /chon-vai-tro.
    let b = Browser::sign_in_with(&name, NEW_PASSWORD).await;
    let (st, html) = b.get("/chon-vai-tro").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(&commune) && html.contains(&centre), "{html}");
    let (_, inbox) = b.get("/can-bo").await;
    assert!(inbox.contains(&commune), "acting at the commune first");
    let csrf = csrf_in(&html);
    let (st, to) = b
        .post_form(
            "/chon-vai-tro",
            &[
                ("csrf", &csrf),
                ("role", "desk_officer"),
                ("agency", &centre),
            ],
        )
        .await;
    assert_eq!((st, to.as_str()), (StatusCode::SEE_OTHER, "/can-bo"));
    let (_, inbox) = b.get("/can-bo").await;
    assert!(inbox.contains(&centre), "now at the centre");
    // A role not held, or no CSRF token: refused, nothing changes.
    let (st, _) = b
        .post_form(
            "/chon-vai-tro",
            &[("csrf", &csrf), ("role", "leader"), ("agency", &centre)],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = b
        .post_form(
            "/chon-vai-tro",
            &[("role", "specialist"), ("agency", &commune)],
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, inbox) = b.get("/can-bo").await;
    assert!(inbox.contains(&centre));

    // The demo commune leader holds two roles too, and lands as leader.
    let (_, t) = send(
        None,
        "POST",
        "/api/v1/auth/token",
        Some(json!({"username": "lanhdao.xa", "password": PASSWORD, "role": "specialist"})),
    )
    .await;
    assert_eq!(t["user"]["role"], "specialist");
    assert_eq!(me("lanhdao.xa").await["role"], "leader");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_user_cannot_sign_in_and_their_token_stops_at_once() {
    let name = fresh("tam.khoa");
    let u = create(
        &name,
        json!([{"role": "specialist", "agency": agency_of("motcua.xa")}]),
    )
    .await;
    let id = u["id"].as_str().unwrap().to_string();
    let (_, t) = token_for(&name, json!({})).await;
    let tok = t["token"].as_str().unwrap().to_string();
    let (st, _) = send(Some(&tok), "GET", "/api/v1/me", None).await;
    assert_eq!(st, StatusCode::OK);
    let b = Browser::sign_in_with(&name, NEW_PASSWORD).await;
    assert_eq!(b.get("/can-bo").await.0, StatusCode::OK);

    let (st, v) = admin("POST", &format!("/api/v1/admin/users/{id}/disable"), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["disabled"], true);
    // Within the token cache's lifetime, still refused.
    let (st, _) = send(Some(&tok), "GET", "/api/v1/me", None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, to) = b.get("/can-bo").await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(to.starts_with("/dang-nhap"), "{to}");
    let (st, p) = token_for(&name, json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    assert_eq!(p["type"], "https://motcua.dev/problems/account-disabled");
    // The sign-in page says so too.
    let res = raw()
        .get(format!("{}/dang-nhap", base()))
        .send()
        .await
        .unwrap();
    let login = cookie_of(&res, "motcua_login_csrf").unwrap();
    let csrf = csrf_in(&res.text().await.unwrap());
    let res = raw()
        .post(format!("{}/dang-nhap", base()))
        .header(COOKIE, login)
        .form(&[
            ("username", name.as_str()),
            ("password", NEW_PASSWORD),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(cookie_of(&res, "motcua_session").is_none());
    // An administrator cannot disable themselves.
    let (_, quantri) = admin("GET", "/api/v1/me", None).await;
    let (st, _) = admin(
        "POST",
        &format!(
            "/api/v1/admin/users/{}/disable",
            quantri["user_id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

    // Enabled again: signs in; a new password ends the session.
    let (st, _) = admin("POST", &format!("/api/v1/admin/users/{id}/enable"), None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, t) = token_for(&name, json!({})).await;
    assert_eq!(st, StatusCode::OK);
    let tok = t["token"].as_str().unwrap().to_string();
    assert_eq!(
        send(Some(&tok), "GET", "/api/v1/me", None).await.0,
        StatusCode::OK
    );
    let (st, p) = admin(
        "POST",
        &format!("/api/v1/admin/users/{id}/password"),
        Some(json!({"password": "short"})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(
        send(Some(&tok), "GET", "/api/v1/me", None).await.0,
        StatusCode::OK
    );
    let (st, _) = admin(
        "POST",
        &format!("/api/v1/admin/users/{id}/password"),
        Some(json!({"password": "Mat-khau-moi-2026"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        send(Some(&tok), "GET", "/api/v1/me", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (st, _) = send(
        None,
        "POST",
        "/api/v1/auth/token",
        Some(json!({"username": name, "password": "Mat-khau-moi-2026"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_administrators_reach_the_administration() {
    let some = "0193e6a4-0000-7000-8000-000000000000";
    let routes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/api/v1/admin/users".into(), None),
        ("POST", "/api/v1/admin/users".into(), Some(json!({}))),
        ("GET", format!("/api/v1/admin/users/{some}"), None),
        (
            "PATCH",
            format!("/api/v1/admin/users/{some}"),
            Some(json!({"name": "X"})),
        ),
        (
            "POST",
            format!("/api/v1/admin/users/{some}/grants"),
            Some(json!({"role": "admin"})),
        ),
        (
            "DELETE",
            format!("/api/v1/admin/users/{some}/grants?role=admin"),
            None,
        ),
        ("POST", format!("/api/v1/admin/users/{some}/disable"), None),
        ("POST", format!("/api/v1/admin/users/{some}/enable"), None),
        (
            "POST",
            format!("/api/v1/admin/users/{some}/password"),
            Some(json!({"password": "x"})),
        ),
        ("GET", "/api/v1/admin/agencies".into(), None),
        ("POST", "/api/v1/admin/agencies".into(), Some(json!({}))),
        (
            "PATCH",
            "/api/v1/admin/agencies/H40.24781".into(),
            Some(json!({"name": "X"})),
        ),
    ];
    for user in [
        "congdan",
        "motcua.xa",
        "chuyenvien.xa",
        "lanhdao.xa",
        "lanhdao.stp",
    ] {
        let t = token(user).await;
        for (m, p, b) in &routes {
            let (st, body) = send(Some(&t), m, p, b.clone()).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{m} {p} as {user}: {body}");
        }
    }
    for (m, p, b) in &routes {
        let (st, _) = send(None, m, p, b.clone()).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{m} {p} anonymous");
    }
    // Pages: others see the 403 page, nobody signed in goes to sign in.
    for path in [
        "/quan-tri/nguoi-dung",
        "/quan-tri/co-quan",
        &format!("/quan-tri/nguoi-dung/{some}"),
    ] {
        let b = Browser::sign_in_with("lanhdao.xa", PASSWORD).await;
        assert_eq!(b.get(path).await.0, StatusCode::FORBIDDEN, "{path}");
        let res = raw().get(format!("{}{path}", base())).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_and_nothing_is_stored() {
    let commune = agency_of("motcua.xa");
    let name = fresh("sai");
    let ok_grant = json!([{"role": "specialist", "agency": commune}]);
    let cases = [
        (
            json!({"username": "motcua.xa", "name": "A", "password": NEW_PASSWORD, "grants": ok_grant}),
            StatusCode::CONFLICT,
            "username",
        ),
        (
            json!({"username": name, "name": "A", "password": "matkhau", "grants": ok_grant}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "password",
        ),
        (
            json!({"username": name, "name": "A", "password": "abcdefghijkl", "grants": ok_grant}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "password",
        ),
        (
            json!({"username": name, "name": "A", "password": format!("X-{name}-2026"), "grants": ok_grant}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "password",
        ),
        (
            json!({"username": name, "name": "A", "password": NEW_PASSWORD, "grants": [{"role": "specialist", "agency": "H40.99999"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "agency",
        ),
        (
            json!({"username": name, "name": "A", "password": NEW_PASSWORD, "grants": [{"role": "specialist", "agency": "h 40"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "agency",
        ),
        (
            json!({"username": name, "name": "A", "password": NEW_PASSWORD, "grants": [{"role": "specialist"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "agency",
        ),
        (
            json!({"username": name, "name": "A", "password": NEW_PASSWORD, "grants": [{"role": "admin", "agency": commune}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "agency",
        ),
        (
            json!({"username": name, "name": "A", "password": NEW_PASSWORD, "grants": [{"role": "chief", "agency": commune}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "role",
        ),
        (
            json!({"username": name, "name": "A", "password": NEW_PASSWORD, "grants": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "grants",
        ),
        (
            json!({"username": name, "name": "A", "password": NEW_PASSWORD, "grants": [ok_grant[0], ok_grant[0]]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "grants",
        ),
        (
            json!({"username": name, "name": "   ", "password": NEW_PASSWORD, "grants": ok_grant}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        ),
        (
            json!({"username": "Ab", "name": "A", "password": NEW_PASSWORD, "grants": ok_grant}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "username",
        ),
        (
            json!({"username": "tên có dấu", "name": "A", "password": NEW_PASSWORD, "grants": ok_grant}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "username",
        ),
    ];
    for (body, want, field) in cases {
        let (st, p) = admin("POST", "/api/v1/admin/users", Some(body.clone())).await;
        assert_eq!(st, want, "{body}: {p}");
        assert_eq!(p["field"], field, "{body}: {p}");
    }
    let (_, list) = admin("GET", &format!("/api/v1/admin/users?q={name}"), None).await;
    assert_eq!(list["items"], json!([]), "nothing stored");
    let (st, _) = admin("GET", "/api/v1/admin/users?role=chief", None).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

    // Grants on an existing account.
    let u = create(&name, ok_grant.clone()).await;
    let id = u["id"].as_str().unwrap();
    let grants = format!("/api/v1/admin/users/{id}/grants");
    let (st, _) = admin("POST", &grants, Some(ok_grant[0].clone())).await;
    assert_eq!(st, StatusCode::CONFLICT, "held already");
    let (st, _) = admin(
        "DELETE",
        &format!("{grants}?role=specialist&agency={commune}"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "not the last role");
    let (st, _) = admin(
        "DELETE",
        &format!("{grants}?role=leader&agency={commune}"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, u2) = admin(
        "POST",
        &grants,
        Some(json!({"role": "leader", "agency": commune})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{u2}");
    assert_eq!(u2["grants"].as_array().unwrap().len(), 2);
    let (st, u3) = admin(
        "DELETE",
        &format!("{grants}?role=specialist&agency={commune}"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{u3}");
    assert_eq!(u3["grants"], json!([{"role": "leader", "agency": commune}]));
    let (st, _) = admin(
        "PATCH",
        &format!("/api/v1/admin/users/{id}"),
        Some(json!({"name": ""})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, v) = admin(
        "PATCH",
        &format!("/api/v1/admin/users/{id}"),
        Some(json!({"name": "Trần Thị Đổi Tên"})),
    )
    .await;
    assert_eq!(
        (st, v["name"].clone()),
        (StatusCode::OK, json!("Trần Thị Đổi Tên"))
    );
    let (st, _) = admin(
        "GET",
        "/api/v1/admin/users/0193e6a4-0000-7000-8000-000000000000",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Agencies.
    let code = format!(
        "H40.{}",
        90000 + (uuid::Uuid::new_v4().as_u128() % 9999) as u32
    );
    let new = |c: &str, extra: Value| {
        let mut b = json!({"code": c, "name": "UBND Xã Thử Nghiệm", "kind": "commune_committee",
                           "parent": "000.00.01.H40", "has_desk": true});
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    for (body, want, field) in [
        (
            new("H40.1234567", json!({})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "code",
        ),
        (
            new("h40 123", json!({})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "code",
        ),
        (
            new(&code, json!({"name": " "})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        ),
        (
            new(&code, json!({"kind": "village"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "kind",
        ),
        (
            new(&code, json!({"parent": "H40.00000"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "parent",
        ),
        (
            new(&code, json!({"admin_unit": "123"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "admin_unit",
        ),
        (new(&commune, json!({})), StatusCode::CONFLICT, "code"),
    ] {
        let (st, p) = admin("POST", "/api/v1/admin/agencies", Some(body.clone())).await;
        assert_eq!(st, want, "{body}: {p}");
        assert_eq!(p["field"], field, "{body}: {p}");
    }
    let (_, tree) = admin("GET", "/api/v1/admin/agencies", None).await;
    assert!(
        !tree
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["agency"]["code"] == code.as_str()),
        "nothing stored"
    );
    let (st, a) = admin(
        "POST",
        "/api/v1/admin/agencies",
        Some(new(&code, json!({}))),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let (_, tree) = admin("GET", "/api/v1/admin/agencies", None).await;
    let nodes = tree.as_array().unwrap();
    let at = |c: &str| nodes.iter().position(|n| n["agency"]["code"] == c).unwrap();
    assert!(at("000.00.01.H40") < at(&code), "parents first");
    assert_eq!(
        nodes[at(&code)]["depth"].as_u64().unwrap(),
        nodes[at("000.00.01.H40")]["depth"].as_u64().unwrap() + 1
    );
    // A cycle is refused; a rename works; the new desk can get staff.
    let (st, _) = admin(
        "PATCH",
        "/api/v1/admin/agencies/000.00.01.H40",
        Some(json!({"parent": code})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, v) = admin(
        "PATCH",
        &format!("/api/v1/admin/agencies/{code}"),
        Some(json!({"name": "UBND Xã Thử Nghiệm Mới"})),
    )
    .await;
    assert_eq!(
        (st, v["name"].clone()),
        (StatusCode::OK, json!("UBND Xã Thử Nghiệm Mới"))
    );
    let (st, _) = admin(
        "POST",
        &grants,
        Some(json!({"role": "desk_officer", "agency": code})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = admin(
        "PATCH",
        "/api/v1/admin/agencies/H40.00001",
        Some(json!({"name": "X"})),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // The pages refuse bad input the same way.
    let b = Browser::sign_in_with("quantri", PASSWORD).await;
    let csrf = b.csrf("/quan-tri/nguoi-dung").await;
    let pname = fresh("trang");
    let (st, html) = b
        .post_form(
            "/quan-tri/nguoi-dung",
            &[
                ("csrf", &csrf),
                ("username", &pname),
                ("name", "Lê Văn Trang"),
                ("password", "yeu"),
                ("role", "specialist"),
                ("agency", &commune),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Lê Văn Trang"), "typed values kept");
    let (st, _) = b
        .post_form(
            "/quan-tri/co-quan",
            &[
                ("csrf", &csrf),
                ("code", "sai mã"),
                ("name", "X"),
                ("kind", "department"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, list) = admin("GET", &format!("/api/v1/admin/users?q={pname}"), None).await;
    assert_eq!(list["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_pages_create_and_change_accounts() {
    let commune = agency_of("motcua.xa");
    let b = Browser::sign_in_with("quantri", PASSWORD).await;
    let (st, html) = b.get("/quan-tri/nguoi-dung?vai_tro=leader").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("lanhdao.xa") && !html.contains("chuyenvien.stp"),
        "filtered"
    );
    let (_, html) = b.get("/quan-tri/nguoi-dung?q=vo+thi+thanh").await;
    assert!(html.contains("lanhdao.xa"), "search folds diacritics");
    let csrf = csrf_in(&html);
    let name = fresh("trang");
    let (st, to) = b
        .post_form(
            "/quan-tri/nguoi-dung",
            &[
                ("csrf", &csrf),
                ("username", &name),
                ("name", "Lê Văn Trang"),
                ("password", NEW_PASSWORD),
                ("role", "specialist"),
                ("agency", &commune),
                ("role2", "desk_officer"),
                ("agency2", &commune),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    assert!(to.starts_with("/quan-tri/nguoi-dung/"), "{to}");
    let page = to.split('?').next().unwrap().to_string();
    let (st, html) = b.get(&to).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("Lê Văn Trang") && html.contains("Cán bộ một cửa"),
        "{html}"
    );
    let (st, _) = b
        .post_form(&page, &[("csrf", &csrf), ("action", "khoa")])
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, _) = token_for(&name, json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "disabled from the page");
    let (st, _) = b
        .post_form(&page, &[("csrf", &csrf), ("action", "mo_khoa")])
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, _) = b
        .post_form(
            &page,
            &[
                ("csrf", &csrf),
                ("action", "bo_vai_tro"),
                ("role", "desk_officer"),
                ("agency", &commune),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, _) = b
        .post_form(
            &page,
            &[
                ("csrf", &csrf),
                ("action", "bo_vai_tro"),
                ("role", "specialist"),
                ("agency", &commune),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "not the last role");
    let (st, _) = b.post_form(&page, &[("action", "khoa")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "no CSRF token");
    let (st, t) = token_for(&name, json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(t["grants"].as_array().unwrap().len(), 1);
    let (st, html) = b.get("/quan-tri/co-quan").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(&commune));
    let (st, html) = b.get(&format!("/quan-tri/co-quan/{commune}?lang=en")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Save"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_assigns_and_reassigns_only_to_specialists_of_the_agency() {
    let commune = agency_of("motcua.xa");
    let id = received().await;
    let staff = format!("/api/v1/agencies/{commune}/staff?role=specialist");
    let (st, list) = as_user("lanhdao.xa", "GET", &staff, None).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["username"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"chuyenvien.xa") && names.contains(&"lanhdao.xa"),
        "{names:?}"
    );
    assert!(!names.contains(&"motcua.xa"), "{names:?}");
    for user in ["lanhdao.stp", "chuyenvien.xa", "motcua.xa", "congdan"] {
        let (st, _) = as_user(user, "GET", &staff, None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{user}");
    }
    assert_eq!(admin("GET", &staff, None).await.0, StatusCode::OK);
    let (st, _) = as_user(
        "lanhdao.xa",
        "GET",
        &format!("/api/v1/agencies/{commune}/staff?role=admin"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

    // A second specialist made by the administrator.
    let second = fresh("cv.hai");
    let u = create(&second, json!([{"role": "specialist", "agency": commune}])).await;
    let sp = me("chuyenvien.xa").await;
    let assign = |uid: &Value| json!({"user_id": uid, "name": "x"});
    let path = format!("/api/v1/dossiers/{id}/actions/assign");
    let (st, v) = as_user("lanhdao.xa", "POST", &path, Some(assign(&sp["user_id"]))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["dossier"]["assignee"], sp["user_id"]);
    let (_, inbox) = as_user("chuyenvien.xa", "GET", "/api/v1/inbox?mine=true", None).await;
    assert!(
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == id.as_str()),
        "{inbox}"
    );
    let (st, v) = as_user("lanhdao.xa", "POST", &path, Some(assign(&u["id"]))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["dossier"]["assignee"], u["id"]);
    // Not a specialist here, unknown, disabled: refused.
    let desk = me("motcua.xa").await;
    let stp = me("chuyenvien.stp").await;
    for who in [
        desk["user_id"].clone(),
        stp["user_id"].clone(),
        json!("0193e6a4-0000-7000-8000-000000000000"),
    ] {
        let (st, p) = as_user("lanhdao.xa", "POST", &path, Some(assign(&who))).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{who}: {p}");
    }
    admin(
        "POST",
        &format!("/api/v1/admin/users/{}/disable", u["id"].as_str().unwrap()),
        None,
    )
    .await;
    let (st, _) = as_user("lanhdao.xa", "POST", &path, Some(assign(&u["id"]))).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "disabled");
    // Another agency's leader cannot assign.
    let (st, _) = as_user("lanhdao.stp", "POST", &path, Some(assign(&sp["user_id"]))).await;
    assert!(
        matches!(st, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        "{st}"
    );

    // The page offers the specialists in a list and refuses others with a page.
    let b = Browser::sign_in_with("lanhdao.xa", PASSWORD).await;
    let (st, html) = b.get(&format!("/can-bo/ho-so/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("name=\"user_id\""), "a select of specialists");
    assert!(html.contains(sp["user_id"].as_str().unwrap()));
    let csrf = csrf_in(&html);
    let (st, to) = b
        .post_form(
            &format!("/can-bo/ho-so/{id}"),
            &[
                ("csrf", &csrf),
                ("action", "assign"),
                ("user_id", sp["user_id"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    let desk = me("motcua.xa").await;
    let (st, html) = b
        .post_form(
            &format!("/can-bo/ho-so/{id}"),
            &[
                ("csrf", &csrf),
                ("action", "assign"),
                ("user_id", desk["user_id"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("specialist"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_approval_does_what_it_can_and_says_what_it_could_not() {
    let a = ready_to_approve().await;
    let b = ready_to_approve().await;
    let early = received().await;
    let missing = "0193e6a4-0000-7000-8000-000000000000";
    let body = json!({"action": "approve", "ids": [a, early, b, missing, "khong-phai-id", a], "note": "Đồng ý"});
    // Another agency's leader: every dossier is hidden, nothing done.
    let (st, r) = as_user(
        "lanhdao.stp",
        "POST",
        "/api/v1/dossiers/bulk",
        Some(body.clone()),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["done"], 0);
    assert!(
        r["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] != 200),
        "{r}"
    );
    for user in ["chuyenvien.xa", "motcua.xa", "quantri", "congdan"] {
        let (st, _) = as_user(user, "POST", "/api/v1/dossiers/bulk", Some(body.clone())).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{user}");
    }
    let (st, r) = as_user("lanhdao.xa", "POST", "/api/v1/dossiers/bulk", Some(body)).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let items = r["items"].as_array().unwrap();
    assert_eq!(items.len(), 5, "repeats count once: {r}");
    assert_eq!(
        (r["done"].clone(), r["refused"].clone()),
        (json!(2), json!(3))
    );
    assert_eq!(items[0]["ok"], true);
    assert_eq!(items[2]["ok"], true);
    assert_eq!(items[1]["ok"], false);
    assert!(items[1]["status"].as_u64().unwrap() >= 400 && !items[1]["problem"].is_null());
    assert_eq!(items[3]["status"], 404);
    assert_eq!(items[4]["status"], 400);
    for id in [&a, &b] {
        let (_, v) = as_user("lanhdao.xa", "GET", &format!("/api/v1/dossiers/{id}"), None).await;
        assert_eq!(v["dossier"]["approved"], true, "{v}");
    }
    let (_, v) = as_user(
        "lanhdao.xa",
        "GET",
        &format!("/api/v1/dossiers/{early}"),
        None,
    )
    .await;
    assert_eq!(v["dossier"]["approved"], false, "untouched");

    // Limits and bad requests.
    let many: Vec<String> = (0..201)
        .map(|i| format!("00000000-0000-0000-0000-{i:012}"))
        .collect();
    for body in [
        json!({"action": "approve", "ids": many}),
        json!({"action": "approve", "ids": []}),
        json!({"action": "refuse", "ids": [a]}),
        json!({"action": "assign", "ids": [a]}),
    ] {
        let (st, p) = as_user(
            "lanhdao.xa",
            "POST",
            "/api/v1/dossiers/bulk",
            Some(body.clone()),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {p}");
    }
    // Bulk assignment: to a specialist works; to the desk officer, each is refused.
    let c = received().await;
    let d = received().await;
    let sp = me("chuyenvien.xa").await;
    let desk = me("motcua.xa").await;
    let (_, r) = as_user(
        "lanhdao.xa",
        "POST",
        "/api/v1/dossiers/bulk",
        Some(json!({"action": "assign", "ids": [c, d], "user_id": desk["user_id"]})),
    )
    .await;
    assert_eq!(r["done"], 0, "{r}");
    assert_eq!(r["items"][0]["status"], 422);
    let (_, r) = as_user(
        "lanhdao.xa",
        "POST",
        "/api/v1/dossiers/bulk",
        Some(json!({"action": "assign", "ids": [c, d], "user_id": sp["user_id"]})),
    )
    .await;
    assert_eq!(r["done"], 2, "{r}");

    // From the inbox page: checkboxes, CSRF, a result page per dossier.
    let e = ready_to_approve().await;
    let br = Browser::sign_in_with("lanhdao.xa", PASSWORD).await;
    let (st, html) = br.get("/can-bo?trang_thai=tat-ca").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains(&format!("name=\"ids\" value=\"{e}\"")),
        "a checkbox per row"
    );
    let csrf = csrf_in(&html);
    let (st, _) = br
        .post_form(
            "/can-bo/hang-loat",
            &[("ids", e.as_str()), ("action", "approve")],
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "no CSRF token");
    let (st, html) = br
        .post_form(
            "/can-bo/hang-loat",
            &[
                ("csrf", &csrf),
                ("ids", e.as_str()),
                ("ids", early.as_str()),
                ("action", "approve"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains(&e) || html.contains("H40"), "{html}");
    assert!(html.contains(&early), "the refused one is listed: {html}");
    let (_, v) = as_user("lanhdao.xa", "GET", &format!("/api/v1/dossiers/{e}"), None).await;
    assert_eq!(v["dossier"]["approved"], true);
    let specialist = Browser::sign_in_with("chuyenvien.xa", PASSWORD).await;
    let scsrf = specialist.csrf("/can-bo").await;
    let (st, _) = specialist
        .post_form(
            "/can-bo/hang-loat",
            &[("csrf", &scsrf), ("ids", e.as_str()), ("action", "approve")],
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}
