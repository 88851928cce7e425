//! Sign-in, sessions, CSRF, lockout and the staff workspace pages, over real HTTP against a
//! seeded server, as a browser without JavaScript would use them.

mod common;

use common::browser::{Browser, csrf_in, raw};
use common::{PASSWORD, agency_of, base, token};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

/// `name=value` of a `Set-Cookie` header named `name`, with the whole header line.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<(String, String)> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let pair = v.split(';').next().unwrap().to_string();
            (pair, v.to_string())
        })
}

/// Fetches the sign-in form: (login CSRF cookie pair, form token).
async fn sign_in_form() -> (String, String) {
    let res = raw()
        .get(format!("{}/dang-nhap", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (pair, _) = set_cookie(&res, "motcua_login_csrf").expect("login csrf cookie");
    let html = res.text().await.unwrap();
    (pair, csrf_in(&html))
}

/// Posts the sign-in form; returns the response.
async fn post_sign_in(user: &str, password: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let (cookie, csrf) = sign_in_form().await;
    let mut rb = raw()
        .post(format!("{}/dang-nhap", base()))
        .header(COOKIE, cookie)
        .form(&[("username", user), ("password", password), ("csrf", &csrf)]);
    for (k, v) in extra {
        rb = rb.header(*k, *v);
    }
    rb.send().await.unwrap()
}

/// Signs in through the form.
async fn sign_in(user: &str) -> Browser {
    let res = post_sign_in(user, PASSWORD, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign-in {user}");
    let (pair, line) = set_cookie(&res, "motcua_session").expect("session cookie");
    assert!(line.contains("HttpOnly"), "{line}");
    assert!(line.contains("SameSite=Lax"), "{line}");
    assert!(
        !line.contains("Secure"),
        "plain HTTP: no Secure flag: {line}"
    );
    Browser::with_cookie(pair)
}

async fn submit(name: &str, agency: &str) -> String {
    let t = token("congdan").await;
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/dossiers", base()))
        .bearer_auth(&t)
        .json(&common::with_required_documents(&t, json!({
            "procedure_code": "1.001193",
            "agency": agency,
            "applicant": {"name": name, "personal_id": "068190001234", "phone": "0912345678"},
            "documents": [{"name": "Tờ khai"}],
            "form": motcua::seed::forms::example("1.001193").unwrap(),
        })).await)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let v: Value = res.json().await.unwrap();
    v["dossier"]["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_needs_the_form_token_and_the_right_password_and_sign_out_ends_the_session() {
    // Without the double-submit token: refused, nothing else happens.
    let res = raw()
        .post(format!("{}/dang-nhap", base()))
        .form(&[("username", "motcua.xa"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&res, "motcua_session").is_none());

    // A wrong password: the page says so and keeps the (escaped) name typed.
    let res = post_sign_in("lanhdao.xa<b>", "wrong", &[]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let html = res.text().await.unwrap();
    assert!(html.contains("Sai tên đăng nhập hoặc mật khẩu"), "{html}");
    assert!(html.contains("lanhdao.xa&lt;b&gt;"), "escaped: {html}");

    // Right: a session, and the workspace opens.
    let b = sign_in("motcua.xa").await;
    let (st, html) = b.get("/can-bo").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Hồ sơ cần xử lý"), "{html}");
    // The API answers to the same session for reads.
    let res = raw()
        .get(format!("{}/api/v1/me", base()))
        .header(COOKIE, &b.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Signing out needs the page's token; then the cookie is worthless.
    let (st, _) = b.post_form("/dang-xuat", &[("csrf", "forged")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let csrf = b.csrf("/can-bo").await;
    let (st, to) = b.post_form("/dang-xuat", &[("csrf", &csrf)]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(to, "/");
    let (st, to) = b.get("/can-bo").await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(to, "/dang-nhap?next=/can-bo");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_an_https_proxy_the_cookie_is_secure_and_host_bound() {
    let res = post_sign_in("lanhdao.xa", PASSWORD, &[("x-forwarded-proto", "https")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (pair, line) = set_cookie(&res, "__Host-motcua_session").expect("secure cookie");
    assert!(line.contains("Secure") && line.contains("HttpOnly") && line.contains("Path=/"));
    let b = Browser::with_cookie(pair);
    let (st, _) = b.get("/can-bo").await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_passwords_lock_the_account_even_for_the_right_one() {
    // A user no other test of this file signs in as.
    let user = "chuyenvien.cat";
    for i in 1..=5 {
        let res = post_sign_in(user, "not-the-password", &[]).await;
        let want = if i < 5 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::LOCKED
        };
        assert_eq!(res.status(), want, "attempt {i}");
    }
    let res = post_sign_in(user, PASSWORD, &[]).await;
    assert_eq!(res.status(), StatusCode::LOCKED);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Tài khoản tạm khóa 15 phút")
    );
    // The API refuses too, with a problem.
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/token", base()))
        .json(&json!({"username": user, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::LOCKED);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_works_a_dossier_from_the_inbox_and_others_cannot_reach_it() {
    let commune = agency_of("motcua.xa");
    let id = submit("Trần Văn <script>alert(1)</script>", &commune).await;

    let desk = sign_in("motcua.xa").await;
    let (st, html) = desk.get("/can-bo").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(&id), "the new dossier is in the inbox");
    assert!(html.contains("u-new"), "not received yet is marked");
    assert!(html.contains("Trần Văn &lt;script&gt;"), "escaped");
    assert!(!html.contains("<script>alert"), "never raw");

    // The dossier page offers reception; acting needs the page's token.
    let page = format!("/can-bo/ho-so/{id}");
    let (st, html) = desk.get(&page).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("value=\"receive\""), "{html}");
    let csrf = csrf_in(&html);
    let (st, _) = desk
        .post_form(&page, &[("action", "receive"), ("csrf", "nope")])
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Bad input: an unknown action and a refusal without reasons are explained, nothing changes.
    let (st, html) = desk
        .post_form(&page, &[("action", "explode"), ("csrf", &csrf)])
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Thao tác không hợp lệ"));
    let (st, html) = desk
        .post_form(
            &page,
            &[("action", "refuse"), ("reasons", " "), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    let (st, to) = desk
        .post_form(
            &page,
            &[
                ("action", "receive"),
                ("note", "Đủ giấy tờ"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(to, format!("{page}?xong=receive"));
    let (st, html) = desk.get(&to).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Đã thực hiện"), "{html}");
    assert!(html.contains(&format!("{commune}-")), "the code is shown");
    assert!(html.contains("Đủ giấy tờ"), "the note is in the history");
    // The receipt is a click away and opens with the same session.
    let receipt = format!("/api/v1/dossiers/{id}/documents/receipt");
    assert!(html.contains(&receipt), "{html}");
    let res = raw()
        .get(format!("{}{receipt}", base()))
        .header(COOKIE, &desk.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.bytes().await.unwrap().starts_with(b"%PDF-"));
    // Flagged on the dossier exactly when the inbox marks it due soon or overdue (a birth
    // registration is due the next working day, so on a working day it is).
    let flagged = html.contains("văn bản xin lỗi và hẹn lại");
    let (_, inbox) = desk.get("/can-bo?trang_thai=tat-ca").await;
    let at = inbox
        .find(&format!("/can-bo/ho-so/{id}"))
        .expect("in the inbox");
    let row = &inbox[inbox[..at].rfind("<tr class=\"u-").unwrap()..at];
    let urgent = row.contains("u-soon") || row.contains("u-overdue");
    assert_eq!(flagged, urgent, "{row}");

    // Another agency's officer: no trace of it, by id.
    let other = sign_in("motcua.tinh").await;
    let (st, html) = other.get(&page).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(!html.contains("Trần Văn"));
    let (_, html) = other.get("/can-bo?trang_thai=tat-ca").await;
    assert!(!html.contains(&id));
    let csrf = other.csrf("/can-bo").await;
    let (st, _) = other
        .post_form(&page, &[("action", "complete_step"), ("csrf", &csrf)])
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // A citizen cannot reach staff pages; nobody signed in is sent to sign in.
    let citizen = sign_in("congdan").await;
    let (st, _) = citizen.get("/can-bo").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = citizen.get(&page).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, html) = citizen.get("/ca-nhan").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Hồ sơ của tôi"));
    // The received dossier's receipt is offered to its owner and opens with the session.
    let receipt = format!("/api/v1/dossiers/{id}/documents/receipt");
    assert!(html.contains(&receipt), "{html}");
    let res = raw()
        .get(format!("{}{receipt}", base()))
        .header(COOKIE, &citizen.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let anon = Browser::with_cookie("motcua_session=forged".into());
    let (st, to) = anon.get(&page).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(to, format!("/dang-nhap?next={page}"));

    // The API refuses a write by cookie without the page's token.
    let res = raw()
        .post(format!(
            "{}/api/v1/dossiers/{id}/actions/complete_step",
            base()
        ))
        .header(COOKIE, &desk.cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // The leader reads who looked at the dossier; a specialist may not.
    let leader = sign_in("lanhdao.xa").await;
    let (st, html) = leader.get(&format!("/can-bo/nhat-ky?ho_so={id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("view"), "{html}");
    let (st, html) = leader.get("/can-bo/nhat-ky?nguoi_dung=motcua.xa").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("login") && html.contains("view"), "{html}");
    let (st, _) = leader.get("/can-bo/nhat-ky?nguoi_dung=motcua.tinh").await;
    assert_eq!(st, StatusCode::NOT_FOUND, "another agency's user");
    let specialist = sign_in("chuyenvien.xa").await;
    let (st, _) = specialist.get(&format!("/can-bo/nhat-ky?ho_so={id}")).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_filters_reject_bad_input_with_a_page() {
    let b = sign_in("lanhdao.xa").await;
    for q in [
        "?tu=hôm-qua",
        "?den=2026-13-40",
        "?tu=2026-12-05&den=2026-12-01",
        "?sau=garbage",
        "?trang_thai=returned",
        "?trang_thai=%3Cscript%3E",
    ] {
        let (st, html) = b.get(&format!("/can-bo{q}")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{q}");
        assert!(html.contains("<html"), "a page, not a bare error: {q}");
        assert!(!html.contains("<script>"), "{q}");
    }
    let (st, _) = b
        .get("/can-bo?thu_tuc=1.001193&tu=2026-01-01&cua_toi=1")
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = b.get("/can-bo/ho-so/not-a-uuid").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_inbox_pages_by_urgency_and_explains_bad_filters() {
    let commune = agency_of("motcua.xa");
    let a = submit("Đỗ Văn Một", &commune).await;
    let b = submit("Đỗ Văn Hai", &commune).await;
    let (st, v) = common::as_user(
        "motcua.xa",
        "GET",
        "/api/v1/inbox?status=awaiting_reception&limit=200",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let ids: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&a.as_str()) && ids.contains(&b.as_str()));
    assert!(
        v["counts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["status"] == "awaiting_reception" && c["total"].as_i64() >= Some(2))
    );
    // One per page, the cursor moves on, never repeats.
    let (_, p1) = common::as_user("motcua.xa", "GET", "/api/v1/inbox?limit=1", None).await;
    let cur = p1["next_cursor"].as_str().expect("more than one");
    let (_, p2) = common::as_user(
        "motcua.xa",
        "GET",
        &format!("/api/v1/inbox?limit=1&cursor={cur}"),
        None,
    )
    .await;
    assert_ne!(p1["items"][0]["id"], p2["items"][0]["id"]);
    // Another agency's officer does not see them.
    let (_, other) = common::as_user("motcua.tinh", "GET", "/api/v1/inbox?limit=200", None).await;
    assert!(
        !other["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == a.as_str())
    );
    for (q, want) in [
        ("status=returned", StatusCode::UNPROCESSABLE_ENTITY),
        ("status=bogus", StatusCode::UNPROCESSABLE_ENTITY),
        ("limit=0", StatusCode::UNPROCESSABLE_ENTITY),
        ("limit=201", StatusCode::UNPROCESSABLE_ENTITY),
        ("cursor=garbage", StatusCode::UNPROCESSABLE_ENTITY),
        (
            "submitted_from=2026-12-02T00:00:00Z&submitted_to=2026-12-01T00:00:00Z",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("submitted_from=yesterday", StatusCode::BAD_REQUEST),
        ("colour=red", StatusCode::BAD_REQUEST),
    ] {
        let (st, v) =
            common::as_user("motcua.xa", "GET", &format!("/api/v1/inbox?{q}"), None).await;
        assert_eq!(st, want, "{q}: {v}");
    }
    let (st, _) = common::as_user("congdan", "GET", "/api/v1/inbox", None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_officer_calls_tickets_from_the_counter_console_and_leaders_read_the_times() {
    let centre = agency_of("motcua.xa");
    // A visitor takes a ticket at the kiosk.
    let res = raw()
        .post(format!("{}/xep-hang/{centre}", base()))
        .form(&[("nhom", "tu-phap-ho-tich")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let desk = sign_in("motcua.xa").await;
    let console = format!("/xep-hang/{centre}/quay/2");
    let csrf = desk.csrf(&console).await;
    let (st, _) = desk
        .post_form(&format!("{console}/call-next"), &[("csrf", "forged")])
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, to) = desk
        .post_form(&format!("{console}/call-next"), &[("csrf", &csrf)])
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    assert!(to.starts_with(&console), "{to}");
    let (st, html) = desk.get(&to).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("A0"), "the called ticket is shown: {html}");
    let (st, _) = desk
        .post_form(&format!("{console}/explode"), &[("csrf", &csrf)])
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Staff of another centre and specialists do not work this counter; nobody signed in must
    // sign in first.
    let other = sign_in("motcua.tinh").await;
    let (st, html) = other.get(&console).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{html}");
    let anon = Browser::anonymous();
    let (st, to) = anon.get(&console).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(to, format!("/dang-nhap?next={console}"));

    // The leader's times; a specialist may not; bad dates get a page.
    let leader = sign_in("lanhdao.xa").await;
    let (st, html) = leader.get("/can-bo/xep-hang").await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("<svg") || html.contains("<table"), "{html}");
    let (st, _) = leader.get("/can-bo/xep-hang?tu=hom-qua").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let specialist = sign_in("chuyenvien.xa").await;
    let (st, _) = specialist.get("/can-bo/xep-hang").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_submits_a_valid_declaration_online_once_even_when_clicking_twice() {
    let citizen = sign_in("congdan2").await;
    let csrf = citizen.csrf("/ca-nhan").await;
    // With the required birth certificate attached (uploaded to their data store first).
    let scan = common::upload_pdf(&token("congdan2").await).await;
    let mut values = motcua::seed::forms::example("1.001193").unwrap();
    values["_uploads"] = serde_json::json!({"giay_chung_sinh": scan});
    let values = values.to_string();
    let commune = agency_of("motcua.xa");
    let form = |csrf: &str, values: &str| {
        vec![
            ("csrf".to_string(), csrf.to_string()),
            ("key".to_string(), "0123456789abcdef".to_string()),
            ("values".to_string(), values.to_string()),
            ("agency".to_string(), commune.clone()),
        ]
    };
    let post = |f: Vec<(String, String)>, cookie: String| async move {
        let res = raw()
            .post(format!("{}/thu-tuc/1.001193/nop", base()))
            .header(COOKIE, cookie)
            .form(&f)
            .send()
            .await
            .unwrap();
        let st = res.status();
        let loc = res
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        (st, loc.unwrap_or(res.text().await.unwrap()))
    };
    let (st, to) = post(form(&csrf, &values), citizen.cookie.clone()).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    assert!(
        to.starts_with("/ca-nhan/ho-so/") && to.ends_with("?moi=1"),
        "the new dossier's tracking page: {to}"
    );
    let (st, again) = post(form(&csrf, &values), citizen.cookie.clone()).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(again, to, "a double click makes one dossier");
    let (st, html) = citizen.get(&to).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Đã nộp hồ sơ"), "{html}");
    assert!(
        html.contains("Đã nộp, chờ bộ phận một cửa tiếp nhận"),
        "{html}"
    );

    // Bad input: a page each time, nothing submitted.
    let (st, _) = post(form("forged", &values), citizen.cookie.clone()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, html) = post(form(&csrf, "{not json"), citizen.cookie.clone()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("<html"));
    let (st, html) = post(
        form(&csrf, r#"{"ho_ten_tre": "<script>x</script>"}"#),
        citizen.cookie.clone(),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(!html.contains("<script>x"), "escaped");
    // Only citizens; nobody signed in must sign in first.
    let desk = sign_in("motcua.xa").await;
    let dcsrf = desk.csrf("/can-bo").await;
    let (st, _) = post(form(&dcsrf, &values), desk.cookie.clone()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, to) = post(form(&csrf, &values), String::new()).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(to, "/dang-nhap?next=/thu-tuc/1.001193/to-khai");
    // The form page itself opens for a signed-in citizen.
    let (st, _) = citizen.get("/thu-tuc/1.001193/to-khai").await;
    assert_eq!(st, StatusCode::OK);
}
