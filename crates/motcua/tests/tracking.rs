//! The applicant's side of a dossier over real HTTP, as a browser without JavaScript uses it:
//! the tracking page (owner only), supplying a supplement from it, and the public lookup by
//! dossier code with the applicant's phone number or personal ID (no account, rate limited).

mod common;

use common::browser::{Browser, answer, csrf_in, multipart, raw};
use common::{act, agency_of, as_user, base, send, submit_as};
use motcua_domain::files::samples;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

const PHONE: &str = "0912 345 678";
const PERSONAL_ID: &str = "068190004321";

fn unique_pdf() -> Vec<u8> {
    let mut b = samples::pdf();
    b.extend_from_slice(format!("% {}\n%%EOF\n", uuid::Uuid::new_v4()).as_bytes());
    b
}

/// A dossier `congdan` submits online at the commune, with a phone number and personal ID.
async fn submit() -> Value {
    let (st, v) = submit_as(
        "congdan",
        Some(json!({
            "procedure_code": "1.001193",
            "agency": agency_of("motcua.xa"),
            "applicant": {"name": "Nguyễn Thị Lan", "personal_id": PERSONAL_ID, "phone": PHONE},
            "documents": [{"name": "Tờ khai"}],
            "form": motcua::seed::forms::example("1.001193").unwrap(),
        })),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["dossier"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_follows_the_dossier_and_nobody_else_sees_it() {
    let d = submit().await;
    let id = d["id"].as_str().unwrap();
    let path = format!("/ca-nhan/ho-so/{id}");
    let owner = Browser::sign_in("congdan").await;

    // Before reception: plain status, what happens next, the provisional date, the fee.
    let (st, html) = owner.get(&path).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(
        html.contains("Đã nộp, chờ bộ phận một cửa tiếp nhận"),
        "{html}"
    );
    assert!(html.contains("Ngày hẹn trả dự kiến"), "{html}");
    assert!(html.contains("Dự kiến, tính theo ngày làm việc"), "{html}");
    assert!(html.contains("Hồ sơ đã được nộp trực tuyến."), "{html}");
    assert!(
        !html.contains("/documents/receipt"),
        "no receipt before reception"
    );
    let (st, html) = owner.get(&format!("{path}?lang=en")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("Submitted, waiting for the one-stop desk"),
        "{html}"
    );
    assert!(html.contains("The dossier was submitted online."), "{html}");

    // The dossiers page links to it.
    let (st, html) = owner.get("/ca-nhan").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(&format!("href=\"{path}?lang=vi\"")), "{html}");

    // Received: the code, the appointment, the history in plain words, the receipt.
    let received = act("motcua.xa", id, "receive", json!({})).await;
    let code = received["dossier"]["code"].as_str().unwrap();
    let (st, html) = owner.get(&path).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(code));
    assert!(html.contains("Ngày hẹn trả kết quả"), "{html}");
    assert!(html.contains("Hồ sơ đã được tiếp nhận tại"), "{html}");
    assert!(html.contains(&format!("với mã {code}")), "{html}");
    assert!(html.contains(&format!("/api/v1/dossiers/{id}/documents/receipt")));
    assert!(!html.contains("Ngày hẹn trả dự kiến"), "the real date now");
    // The owner may open that receipt with the page's session.
    let res = raw()
        .get(format!("{}/api/v1/dossiers/{id}/documents/receipt", base()))
        .header(COOKIE, &owner.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");

    // A refusal notice with its reasons, and its paper.
    let other = submit().await;
    let oid = other["id"].as_str().unwrap();
    act(
        "motcua.xa",
        oid,
        "refuse",
        json!({"reasons": ["Không thuộc thẩm quyền của xã"]}),
    )
    .await;
    let (st, html) = owner.get(&format!("/ca-nhan/ho-so/{oid}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Hồ sơ không được tiếp nhận"), "{html}");
    assert!(html.contains("Không thuộc thẩm quyền của xã"), "{html}");
    assert!(html.contains(&format!("/api/v1/dossiers/{oid}/documents/refusal")));

    // Another citizen: as if it did not exist; staff: not their page; nobody: sign in first.
    let stranger = Browser::sign_in("congdan2").await;
    let (st, html) = stranger.get(&path).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(!html.contains(code), "nothing leaks");
    let desk = Browser::sign_in("motcua.xa").await;
    let (st, _) = desk.get(&path).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let anonymous = Browser::anonymous();
    let (st, to) = anonymous.get(&path).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(to, format!("/dang-nhap?next=/ca-nhan/ho-so/{id}"));
    // Made-up and malformed ids.
    for bad in [
        "/ca-nhan/ho-so/0196e0b4-0000-7000-8000-000000000000",
        "/ca-nhan/ho-so/khong-phai-ma",
        "/ca-nhan/ho-so/%3Cscript%3E",
    ] {
        let (st, html) = owner.get(bad).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{bad}");
        assert!(!html.contains("<script>"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supplement_is_supplied_from_the_page_and_bad_input_is_refused() {
    let d = submit().await;
    let id = d["id"].as_str().unwrap();
    let path = format!("/ca-nhan/ho-so/{id}");
    let post_to = format!("{path}/bo-sung");
    act(
        "motcua.xa",
        id,
        "request_supplement",
        json!({"items": ["Bản sao giấy chứng sinh <có chứng thực>"], "reason": "Thiếu giấy chứng sinh"}),
    )
    .await;
    let owner = Browser::sign_in("congdan").await;
    let (st, html) = owner.get(&path).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Cơ quan yêu cầu bổ sung hồ sơ"), "{html}");
    assert!(
        html.contains("Bản sao giấy chứng sinh &lt;có chứng thực&gt;"),
        "escaped: {html}"
    );
    assert!(html.contains("Thiếu giấy chứng sinh"));
    assert!(html.contains("enctype=\"multipart/form-data\""));
    assert!(html.contains(&format!("/api/v1/dossiers/{id}/documents/supplement")));
    let csrf = csrf_in(&html);

    // Bad input: a friendly page each time, the dossier still waits.
    let pdf = unique_pdf();
    let (st, html) = owner
        .post_multipart(
            &post_to,
            multipart(&[("csrf", None, b"forged"), ("file", Some("a.pdf"), &pdf)]),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(html.contains("<html"));
    let (st, html) = owner
        .post_multipart(
            &post_to,
            multipart(&[
                ("csrf", None, csrf.as_bytes()),
                ("file", Some(""), b""),
                ("note", None, "không có tệp".as_bytes()),
            ]),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Hãy chọn ít nhất một tệp"), "{html}");
    let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00program";
    let (st, html) = owner
        .post_multipart(
            &post_to,
            multipart(&[
                ("csrf", None, csrf.as_bytes()),
                ("file", Some("giay-chung-sinh.pdf"), exe),
            ]),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("giay-chung-sinh.pdf"), "{html}");
    assert!(html.contains("PDF, JPEG hoặc PNG"), "{html}");
    let (st, html) = owner
        .post_multipart(
            &post_to,
            multipart(&[
                ("csrf", None, csrf.as_bytes()),
                (
                    "vault",
                    None,
                    b"sha256:0000000000000000000000000000000000000000000000000000000000000000",
                ),
            ]),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    let res = raw()
        .post(format!("{}{post_to}", base()))
        .header(COOKIE, &owner.cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "not multipart");
    let stranger = Browser::sign_in("congdan2").await;
    let scsrf = csrf_in(&stranger.get("/ca-nhan").await.1);
    let (st, _) = stranger
        .post_multipart(
            &post_to,
            multipart(&[
                ("csrf", None, scsrf.as_bytes()),
                ("file", Some("a.pdf"), &pdf),
            ]),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, v) = as_user("congdan", "GET", &format!("/api/v1/dossiers/{id}"), None).await;
    assert_eq!(v["dossier"]["status"], "supplement_at_reception");

    // A real PDF and a note: supplied, the page says so, the file is the dossier's.
    let (st, to) = owner
        .post_multipart(
            &post_to,
            multipart(&[
                ("csrf", None, csrf.as_bytes()),
                ("file", Some("giấy chứng sinh.pdf"), &pdf),
                ("note", None, "Gửi bổ sung giấy chứng sinh".as_bytes()),
            ]),
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    assert_eq!(to, format!("{path}?xong=bo-sung"));
    let (st, html) = owner.get(&to).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Đã gửi bổ sung"), "{html}");
    assert!(html.contains("Hồ sơ đã được bổ sung."), "{html}");
    assert!(
        !html.contains("enctype=\"multipart/form-data\""),
        "no form now"
    );
    let (_, v) = as_user("congdan", "GET", &format!("/api/v1/dossiers/{id}"), None).await;
    assert_eq!(v["dossier"]["status"], "awaiting_reception");
    let docs = v["dossier"]["documents"].as_array().unwrap();
    assert!(
        docs.iter()
            .any(|x| x["name"] == "giấy chứng sinh.pdf" && x["file"].is_string()),
        "{docs:?}"
    );
    // Not waiting any more: refused, nothing added.
    let (st, html) = owner
        .post_multipart(
            &post_to,
            multipart(&[
                ("csrf", None, csrf.as_bytes()),
                ("file", Some("b.pdf"), &unique_pdf()),
            ]),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(html.contains("không chờ bổ sung"), "{html}");

    // Another dossier: the same file again from the data store, with one click.
    let d2 = submit().await;
    let id2 = d2["id"].as_str().unwrap();
    act(
        "motcua.xa",
        id2,
        "request_supplement",
        json!({"items": ["Giấy chứng sinh"], "reason": "Thiếu"}),
    )
    .await;
    let (_, html) = owner.get(&format!("/ca-nhan/ho-so/{id2}")).await;
    assert!(html.contains("kho dữ liệu"), "{html}");
    let key = {
        let marker = "name=\"vault\" value=\"";
        let at = html.find(marker).expect("data store choices") + marker.len();
        html[at..at + html[at..].find('"').unwrap()].to_string()
    };
    let (st, to) = owner
        .post_multipart(
            &format!("/ca-nhan/ho-so/{id2}/bo-sung"),
            multipart(&[
                ("csrf", None, csrf.as_bytes()),
                ("vault", None, key.as_bytes()),
            ]),
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    let (_, v) = as_user("congdan", "GET", &format!("/api/v1/dossiers/{id2}"), None).await;
    assert_eq!(v["dossier"]["status"], "awaiting_reception");
}

/// The text of the lookup page's message paragraph, if any.
fn message(html: &str) -> Option<String> {
    let at = html.find("id=\"loi\" role=\"alert\">")? + "id=\"loi\" role=\"alert\">".len();
    Some(html[at..at + html[at..].find('<')?].to_string())
}

async fn lookup(query: &str) -> (StatusCode, String) {
    answer(
        raw()
            .get(format!("{}/tra-cuu?{query}", base()))
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_looks_up_with_code_and_phone_or_id_and_learns_nothing_else() {
    let d = submit().await;
    let id = d["id"].as_str().unwrap();
    let received = act("motcua.xa", id, "receive", json!({})).await;
    let code = received["dossier"]["code"].as_str().unwrap().to_string();

    // The QR code's link: the form, with the code filled in (no lookup counted).
    let (st, html) = lookup(&format!("ma={code}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(&format!("value=\"{code}\"")), "{html}");
    assert!(!html.contains("id=\"trang-thai\""));

    // The phone number (as typed, with spaces) or the personal ID: status, dates, history,
    // initials — and no name, number or ID.
    for proof in [PHONE, "+84912345678", PERSONAL_ID] {
        let (st, html) = lookup(&format!("ma={code}&xac_minh={}", enc(proof))).await;
        assert_eq!(st, StatusCode::OK);
        assert!(
            html.contains("id=\"trang-thai\">Đã tiếp nhận"),
            "{proof}: {html}"
        );
        assert!(html.contains("N.T.L."), "{html}");
        assert!(html.contains("Hồ sơ đã được tiếp nhận tại"), "{html}");
        assert!(!html.contains("Nguyễn Thị Lan"));
        assert!(!html.contains("Tờ khai"));
        let shown = html.replace(&format!("value=\"{}\"", proof), "");
        assert!(!shown.contains(PERSONAL_ID) && !shown.contains("0912345678"));
    }
    let (_, html) = lookup(&format!("ma={code}&xac_minh={PERSONAL_ID}&lang=en")).await;
    assert!(html.contains("The dossier was received at"), "{html}");

    // A wrong phone or ID answers exactly like an unknown code.
    let unknown_code = format!("{}-9999", &code[..code.rfind('-').unwrap()]);
    let (st1, wrong) = lookup(&format!("ma={code}&xac_minh=0987654321")).await;
    let (st2, unknown) = lookup(&format!("ma={unknown_code}&xac_minh={PERSONAL_ID}")).await;
    assert_eq!((st1, st2), (StatusCode::OK, StatusCode::OK));
    assert!(message(&wrong).is_some(), "{wrong}");
    assert_eq!(message(&wrong), message(&unknown));
    assert_eq!(
        wrong.replace(&code, "X").replace("0987654321", "Y"),
        unknown
            .replace(&unknown_code, "X")
            .replace(PERSONAL_ID, "Y"),
        "the same page"
    );
    assert!(!wrong.contains("id=\"trang-thai\""));

    // The API: by code alone as before; with `verify` the history too; wrong = unknown.
    let (st, v) = send(None, "GET", &format!("/api/v1/public/status/{code}"), None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(v.get("history").is_none() && v.get("applicant_initials").is_none());
    let (st, v) = send(
        None,
        "GET",
        &format!("/api/v1/public/status/{code}?verify={PERSONAL_ID}"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["applicant_initials"], "N.T.L.");
    assert_eq!(v["status_text"], "Đã tiếp nhận");
    let history = v["history"].as_array().unwrap();
    assert_eq!(history[0]["text"], "Hồ sơ đã được nộp trực tuyến.");
    let (st_wrong, wrong) = send(
        None,
        "GET",
        &format!("/api/v1/public/status/{code}?verify=0987654321"),
        None,
    )
    .await;
    let (st_unknown, unknown) = send(
        None,
        "GET",
        &format!("/api/v1/public/status/{unknown_code}?verify={PERSONAL_ID}"),
        None,
    )
    .await;
    assert_eq!(
        (st_wrong, st_unknown),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(wrong, unknown);

    // Long and garbage codes: a message, never an error page or an echo of markup.
    let long = "9".repeat(5_000);
    let (st, html) = lookup(&format!("ma={long}&xac_minh={PERSONAL_ID}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("không đúng định dạng"), "{html}");
    assert!(!html.contains(&"9".repeat(100)), "cut");
    let (st, html) = lookup("ma=%3Cscript%3Ealert(1)%3C%2Fscript%3E&xac_minh=%3Cb%3E").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        !html.contains("<script>alert") && !html.contains("<b>"),
        "{html}"
    );
    let (st, _) = send(
        None,
        "GET",
        &format!("/api/v1/public/status/{}?verify=1", "x".repeat(300)),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = send(
        None,
        "GET",
        &format!("/api/v1/public/status/{code}?verify=1&other=2"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // Guessing is limited: 20 lookups a minute per address, then 429 (page and API).
    let mut limited = None;
    for i in 0..25 {
        let (st, html) = lookup(&format!("ma={code}&xac_minh=09000000{i:02}")).await;
        if st == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(html);
            break;
        }
        assert_eq!(st, StatusCode::OK);
    }
    let html = limited.expect("the lookup is rate limited");
    assert!(html.contains("Quá nhiều lượt tra cứu"), "{html}");
    let (st, v) = send(
        None,
        "GET",
        &format!("/api/v1/public/status/{code}?verify={PERSONAL_ID}"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{v}");
    // The code alone (the national portal's lookup) is not counted.
    let (st, _) = send(None, "GET", &format!("/api/v1/public/status/{code}"), None).await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_submitting_for_themselves_is_reached_at_the_declared_contact() {
    let form = motcua::seed::forms::example("1.001193").unwrap();
    let (st, v) = submit_as(
        "congdan2",
        Some(json!({
            "procedure_code": "1.001193",
            "agency": agency_of("motcua.xa"),
            "documents": [{"name": "Tờ khai"}],
            "form": form,
        })),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let a = &v["dossier"]["applicant"];
    assert_eq!(a["name"], "Trần Văn Bình", "the account's name");
    assert_eq!(a["phone"], form["dien_thoai"]);
    assert_eq!(a["email"], form["email"]);
    assert_eq!(a["personal_id"], form["nguoi_yc_so_dinh_danh"]);
}

/// Posts the sign-up form with a fresh form token; returns the response.
async fn sign_up(fields: &[(&str, &str)], with_token: bool) -> reqwest::Response {
    let res = raw()
        .get(format!("{}/dang-ky", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("motcua_login_csrf="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = csrf_in(&res.text().await.unwrap());
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    if with_token {
        form.push(("csrf", &csrf));
    }
    raw()
        .post(format!("{}/dang-ky", base()))
        .header(COOKIE, cookie)
        .form(&form)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_signs_up_with_a_phone_number_or_email_and_is_signed_in() {
    let phone = format!("09{:08}", rand_digits());
    let typed = format!("+84 {} {} {}", &phone[1..4], &phone[4..7], &phone[7..]);
    let good = |login: String| {
        vec![
            ("name", "Lê Thị <b>Hoa</b>".to_string()),
            ("login", login),
            ("password", "mat-khau-du-dai".to_string()),
            ("password2", "mat-khau-du-dai".to_string()),
        ]
    };
    let f = good(typed.clone());
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // Without the form's token: refused, nothing created.
    let res = sign_up(&pairs, false).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Created and signed in: lands on the citizen's dossiers.
    let res = sign_up(&pairs, true).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[LOCATION], "/ca-nhan");
    let session = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("motcua_session="))
        .expect("signed in")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let me = Browser::with_cookie(session);
    let (st, html) = me.get("/ca-nhan").await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(
        html.contains("Lê Thị &lt;b&gt;Hoa&lt;&#x2f;b&gt;"),
        "escaped: {html}"
    );
    // The API signs in with the number however it is typed.
    for login in [phone.as_str(), typed.as_str()] {
        let (st, v) = send(
            None,
            "POST",
            "/api/v1/auth/token",
            Some(json!({"username": login, "password": "mat-khau-du-dai"})),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{login}: {v}");
    }
    // The same number again: told to sign in instead.
    let res = sign_up(&pairs, true).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("Đã có tài khoản"));
    // Bad input: messages next to the fields, what was typed kept, no account.
    let email = format!("hoa{}@example.vn", rand_digits());
    for (field, value, want) in [
        ("login", "hoa@", "Hãy nhập thư điện tử"),
        ("password", "ngan", "ít nhất 8 ký tự"),
        ("password2", "khac-han-nhau", "không khớp"),
        ("name", " ", "Hãy nhập họ và tên"),
    ] {
        let mut f = good(email.clone());
        for (k, v) in f.iter_mut() {
            if *k == field {
                *v = value.to_string();
            }
        }
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = sign_up(&pairs, true).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let html = res.text().await.unwrap();
        assert!(html.contains(want), "{field}: {html}");
        assert!(html.contains("aria-invalid=\"true\""), "{field}");
        if field != "login" {
            assert!(html.contains(&format!("value=\"{email}\"")), "kept: {html}");
        }
    }
    let (st, _) = send(
        None,
        "POST",
        "/api/v1/auth/token",
        Some(json!({"username": email, "password": "mat-khau-du-dai"})),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "no account was made");
}

/// Eight random digits (accounts must be new in every run of the shared server).
fn rand_digits() -> u32 {
    (uuid::Uuid::new_v4().as_u128() % 100_000_000) as u32
}

/// Posts one of the reset forms with a fresh form token from `form_path`.
async fn post_reset(
    form_path: &str,
    post_path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let res = raw()
        .get(format!("{}{form_path}", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{form_path}");
    let cookie = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("motcua_login_csrf="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = csrf_in(&res.text().await.unwrap());
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("csrf", &csrf));
    answer(
        raw()
            .post(format!("{}{post_path}", base()))
            .header(COOKIE, cookie)
            .form(&form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The password-reset e-mail waiting in the outbox for `to` (read as the administrator).
async fn reset_mail(to: &str) -> Option<Value> {
    let mut after = 0i64;
    loop {
        let (st, page) = as_user(
            "quantri",
            "GET",
            &format!("/api/v1/admin/outbox?topic=email&limit=1000&after_id={after}"),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{page}");
        let items = page["items"].as_array().unwrap();
        if let Some(m) = items
            .iter()
            .find(|m| m["payload"]["to"] == to && m["payload"]["event"] == "password_reset")
        {
            return Some(m["payload"].clone());
        }
        match page["next_after_id"].as_i64() {
            Some(n) => after = n,
            None => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_password_is_reset_through_a_link_sent_by_email() {
    let email = format!("quen{}@example.vn", rand_digits());
    let res = sign_up(
        &[
            ("name", "Phạm Thu"),
            ("login", &email),
            ("password", "mat-khau-cu-1"),
            ("password2", "mat-khau-cu-1"),
        ],
        true,
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Known and unknown addresses get the same answer; only the known one gets a mail.
    let unknown = format!("khongco{}@example.vn", rand_digits());
    let (st1, sent) = post_reset("/quen-mat-khau", "/quen-mat-khau", &[("email", &email)]).await;
    let (st2, other) = post_reset("/quen-mat-khau", "/quen-mat-khau", &[("email", &unknown)]).await;
    assert_eq!((st1, st2), (StatusCode::OK, StatusCode::OK));
    assert!(
        sent.contains("Nếu có tài khoản với thư điện tử này"),
        "{sent}"
    );
    assert_eq!(sent.replace(&email, "X"), other.replace(&unknown, "X"));
    assert!(reset_mail(&unknown).await.is_none());
    let mail = reset_mail(&email)
        .await
        .expect("the reset e-mail is in the outbox");
    let text = mail["text"].as_str().unwrap();
    let at = text.find("/dat-lai-mat-khau?t=").expect("a link") + "/dat-lai-mat-khau?t=".len();
    let token = &text[at..at + 64];
    let (st, html) = post_reset(
        "/quen-mat-khau",
        "/quen-mat-khau",
        &[("email", "khong-phai-thu")],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Hãy nhập thư điện tử"), "{html}");

    // The link: the form; bad input refused; then the new password works, the old does not.
    let link = format!("/dat-lai-mat-khau?t={token}");
    let (st, html) = post_reset(
        &link,
        "/dat-lai-mat-khau",
        &[
            ("t", token),
            ("password", "mat-khau-moi-2"),
            ("password2", "khac"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("không khớp"), "{html}");
    let (st, html) = post_reset(
        &link,
        "/dat-lai-mat-khau",
        &[
            ("t", token),
            ("password", "mat-khau-moi-2"),
            ("password2", "mat-khau-moi-2"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("Đã đặt mật khẩu mới"), "{html}");
    let login = |password: &'static str| {
        let email = email.clone();
        async move {
            send(
                None,
                "POST",
                "/api/v1/auth/token",
                Some(json!({"username": email, "password": password})),
            )
            .await
            .0
        }
    };
    assert_eq!(login("mat-khau-moi-2").await, StatusCode::OK);
    assert_eq!(login("mat-khau-cu-1").await, StatusCode::UNAUTHORIZED);
    // Once only; made-up links are refused.
    let (st, html) = post_reset(
        &link,
        "/dat-lai-mat-khau",
        &[
            ("t", token),
            ("password", "mat-khau-moi-3"),
            ("password2", "mat-khau-moi-3"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(html.contains("đã dùng hoặc đã hết hạn"), "{html}");
    assert_eq!(login("mat-khau-moi-2").await, StatusCode::OK);
    let (st, _) = answer(
        raw()
            .get(format!("{}/dat-lai-mat-khau?t=%3Cscript%3E", base()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_apology_and_withdrawal_show_on_the_tracking_page() {
    let centre = agency_of("motcua.tinh");
    let (code, _) = common::find_procedure(&centre, Some(&agency_of("lanhdao.stp")), None).await;
    let (st, v) = submit_as(
        "congdan",
        Some(json!({
            "procedure_code": code, "agency": centre,
            "applicant": {"name": "Nguyễn Thị Lan", "phone": PHONE},
            "documents": [{"name": "Tờ khai"}], "form": {"ghi_chu": "Hồ sơ thử"},
        })),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["dossier"]["id"].as_str().unwrap().to_string();
    let path = format!("/ca-nhan/ho-so/{id}");
    act("motcua.tinh", &id, "receive", json!({})).await;
    act("lanhdao.stp", &id, "complete_step", json!({})).await;
    act(
        "chuyenvien.stp",
        &id,
        "request_payment",
        json!({"amount_vnd": 50000, "reason": "Lệ phí"}),
    )
    .await;
    let owner = Browser::sign_in("congdan").await;
    let (st, html) = owner.get(&path).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Chờ nộp phí, lệ phí"), "{html}");
    assert!(html.contains("Đề nghị nộp 50.000 đồng: Lệ phí"), "{html}");
    let v = act(
        "motcua.tinh",
        &id,
        "confirm_payment",
        json!({"reference": "VNPAY-1"}),
    )
    .await;
    let due: chrono::DateTime<chrono::Utc> =
        v["dossier"]["due_at"].as_str().unwrap().parse().unwrap();
    let new_due = due + chrono::Duration::days(7);
    let (st, _) = as_user(
        "chuyenvien.stp",
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/issue_apology"),
        Some(json!({"reason": "Cần xác minh thực địa", "new_due_at": new_due})),
    )
    .await;
    let (_, html) = owner.get(&path).await;
    if st == StatusCode::OK {
        let day = (new_due + chrono::Duration::hours(7))
            .format("%d/%m/%Y")
            .to_string()
            .replace('/', "&#x2f;");
        assert!(html.contains("Văn bản xin lỗi, hẹn lại ngày trả"), "{html}");
        assert!(html.contains(&day), "{day} in {html}");
        assert!(html.contains("Cần xác minh thực địa"));
        assert!(html.contains(&format!("/api/v1/dossiers/{id}/documents/apology")));
    }
    act(
        "congdan",
        &id,
        "withdraw",
        json!({"reason": "Không còn nhu cầu"}),
    )
    .await;
    let (_, html) = owner.get(&format!("{path}?lang=en")).await;
    assert!(html.contains("Withdrawn"), "{html}");
    assert!(
        html.contains("The dossier was withdrawn: Không còn nhu cầu."),
        "{html}"
    );
    assert!(html.contains("The dossier is closed."), "{html}");
    assert!(html.contains(&format!("/api/v1/dossiers/{id}/documents/stop")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_applicant_rates_the_service_once_after_the_result_is_returned() {
    let d = submit().await;
    let id = d["id"].as_str().unwrap();
    let path = format!("/ca-nhan/ho-so/{id}");
    let rate = format!("{path}/danh-gia");
    let owner = Browser::sign_in("congdan").await;
    act("motcua.xa", id, "receive", json!({})).await;

    // Still in progress: no rating form, and a rating posted anyway is refused.
    let (st, html) = owner.get(&path).await;
    assert_eq!(st, StatusCode::OK);
    assert!(!html.contains("name=\"score\""), "{html}");
    let csrf = csrf_in(&html);
    let (st, html) = owner
        .post_form(&rate, &[("csrf", &csrf), ("score", "5")])
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{html}");
    assert!(html.contains("Chỉ đánh giá được một lần"), "{html}");

    // The commune processes, approves and returns the result.
    act("lanhdao.xa", id, "complete_step", json!({})).await;
    act("chuyenvien.xa", id, "complete_step", json!({})).await;
    act("lanhdao.xa", id, "approve", json!({})).await;
    act(
        "motcua.xa",
        id,
        "mark_result_ready",
        json!({"summary": "Giấy khai sinh"}),
    )
    .await;
    let v = act(
        "motcua.xa",
        id,
        "return_result",
        json!({"method": "counter", "receiver": "Nguyễn Thị Lan"}),
    )
    .await;
    assert_eq!(v["national_status"], 10, "{v}");

    let (st, html) = owner.get(&path).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Đánh giá mức độ hài lòng"), "{html}");
    assert!(html.contains("Rất hài lòng"), "{html}");
    let csrf = csrf_in(&html);

    // Bad input: no CSRF, a forged one, no level, a level out of range, an endless comment.
    let (st, _) = owner.post_form(&rate, &[("score", "5")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = owner
        .post_form(&rate, &[("csrf", "forged"), ("score", "5")])
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    for bad in ["", "0", "6", "năm", "-1"] {
        let (st, html) = owner
            .post_form(&rate, &[("csrf", &csrf), ("score", bad)])
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {html}");
        assert!(html.contains("Hãy chọn một mức độ hài lòng."), "{html}");
    }
    let long = "x".repeat(2001);
    let (st, html) = owner
        .post_form(
            &rate,
            &[("csrf", &csrf), ("score", "4"), ("comment", &long)],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");

    // Someone else cannot rate it, nor learn that it exists.
    let other = Browser::sign_in("congdan2").await;
    let (_, other_page) = other.get("/ca-nhan").await;
    let other_csrf = csrf_in(&other_page);
    let (st, _) = other
        .post_form(&rate, &[("csrf", &other_csrf), ("score", "1")])
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // The owner rates; the page thanks and shows it; the API has it; a second rating fails.
    let (st, to) = owner
        .post_form(
            &rate,
            &[
                ("csrf", &csrf),
                ("score", "4"),
                ("comment", "Cán bộ <b>nhiệt tình</b>"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(to, format!("{path}?xong=danh-gia"));
    let (_, html) = owner.get(&to).await;
    assert!(html.contains("Cảm ơn bạn đã đánh giá"), "{html}");
    assert!(
        html.contains("Bạn đã đánh giá: <strong>Hài lòng</strong>"),
        "{html}"
    );
    assert!(
        html.contains("Cán bộ &lt;b&gt;nhiệt tình"),
        "escaped: {html}"
    );
    assert!(!html.contains("<b>nhiệt tình"), "escaped: {html}");
    assert!(!html.contains("name=\"score\""), "{html}");
    let (_, dv) = as_user("congdan", "GET", &format!("/api/v1/dossiers/{id}"), None).await;
    assert_eq!(dv["dossier"]["rating"]["score"], 4, "{dv}");
    let (st, _) = owner
        .post_form(&rate, &[("csrf", &csrf), ("score", "5")])
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (_, dv) = as_user("congdan", "GET", &format!("/api/v1/dossiers/{id}"), None).await;
    assert_eq!(
        dv["dossier"]["rating"]["score"], 4,
        "the first rating stands: {dv}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_uploads_the_result_from_the_dossier_page_and_it_reaches_the_applicant() {
    let d = submit().await;
    let id = d["id"].as_str().unwrap();
    let page = format!("/can-bo/ho-so/{id}");
    let post = format!("{page}/ket-qua");
    act("motcua.xa", id, "receive", json!({})).await;
    act("lanhdao.xa", id, "complete_step", json!({})).await;
    act("chuyenvien.xa", id, "complete_step", json!({})).await;
    act("lanhdao.xa", id, "approve", json!({})).await;

    let desk = Browser::sign_in("motcua.xa").await;
    let (st, html) = desk.get(&page).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(
        html.contains(&format!(
            "action=\"{post}?lang=vi\" enctype=\"multipart/form-data\""
        )),
        "the result form uploads files: {html}"
    );
    let csrf = csrf_in(&html);
    let pdf = unique_pdf();
    let key = format!("sha256:{}", motcua_domain::files::FileKey::of(&pdf).hex());

    // Bad input: no CSRF, a forged one, no summary, no file, an executable named .pdf,
    // not a multipart body; nothing is marked ready.
    let (st, _) = desk
        .post_multipart(
            &post,
            multipart(&[("summary", None, b"GKS"), ("file", Some("kq.pdf"), &pdf)]),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = desk
        .post_multipart(
            &post,
            multipart(&[
                ("csrf", None, b"forged"),
                ("summary", None, b"GKS"),
                ("file", Some("kq.pdf"), &pdf),
            ]),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, html) = desk
        .post_multipart(
            &post,
            multipart(&[
                ("csrf", None, csrf.as_bytes()),
                ("file", Some("kq.pdf"), &pdf),
            ]),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("Hãy ghi kết quả là gì"), "{html}");
    let (st, html) = desk
        .post_multipart(
            &post,
            multipart(&[("csrf", None, csrf.as_bytes()), ("summary", None, b"GKS")]),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        html.contains("Hãy đính kèm ít nhất một tệp kết quả."),
        "{html}"
    );
    let (st, html) = desk
        .post_multipart(
            &post,
            multipart(&[
                ("csrf", None, csrf.as_bytes()),
                ("summary", None, b"GKS"),
                (
                    "file",
                    Some("ket-qua.pdf"),
                    b"MZ\x90\x00\x03\x00\x00\x00 not a pdf",
                ),
            ]),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    let (st, _) = desk
        .post_form(&post, &[("csrf", &csrf), ("summary", "GKS")])
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (_, dv) = as_user("motcua.xa", "GET", &format!("/api/v1/dossiers/{id}"), None).await;
    assert_ne!(dv["dossier"]["status"], "result_ready", "{dv}");

    // Another commune's desk learns nothing.
    let other = Browser::sign_in("motcua.tinh").await;
    let (st, _) = other
        .post_multipart(
            &post,
            multipart(&[
                ("csrf", None, csrf.as_bytes()),
                ("summary", None, b"GKS"),
                ("file", Some("kq.pdf"), &pdf),
            ]),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // The desk marks the result ready with the signed file.
    let (st, to) = desk
        .post_multipart(
            &post,
            multipart(&[
                ("csrf", None, csrf.as_bytes()),
                ("summary", None, "Giấy khai sinh số 12/2026".as_bytes()),
                ("note", None, b"Da ky so"),
                ("file", Some("giay-khai-sinh.pdf"), &pdf),
            ]),
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    assert_eq!(to, format!("{page}?xong=mark_result_ready"));
    let (_, dv) = as_user("motcua.xa", "GET", &format!("/api/v1/dossiers/{id}"), None).await;
    assert_eq!(dv["dossier"]["status"], "result_ready", "{dv}");
    // The dossier page lists it as the result, with a preview and a download.
    let (st, html) = desk.get(&page).await;
    assert_eq!(st, StatusCode::OK);
    let hex = key.trim_start_matches("sha256:");
    assert!(html.contains("Kết quả giải quyết"), "{html}");
    assert!(html.contains("giay-khai-sinh.pdf"), "{html}");
    // (minijinja writes `/` as `&#x2f;` in attributes)
    assert!(html.contains(&format!("{hex}?inline=1")), "{html}");
    let (st, _) = desk
        .get(&format!("/api/v1/dossiers/{id}/files/{hex}?inline=1"))
        .await;
    assert_eq!(st, StatusCode::OK);

    // The file is the dossier's result and is in the applicant's data store.
    let (st, files) = as_user(
        "motcua.xa",
        "GET",
        &format!("/api/v1/dossiers/{id}/files"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{files}");
    assert!(files.to_string().contains(&key), "{files}");
    assert!(files.to_string().contains("result"), "{files}");
    let (st, mine) = as_user("congdan", "GET", "/api/v1/me/files", None).await;
    assert_eq!(st, StatusCode::OK, "{mine}");
    assert!(mine.to_string().contains(&key), "{mine}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_specialist_completes_a_step_with_attachments_from_the_dossier_page() {
    let d = submit().await;
    let id = d["id"].as_str().unwrap();
    let page = format!("/can-bo/ho-so/{id}");
    let post = format!("{page}/chuyen-buoc");
    act("motcua.xa", id, "receive", json!({})).await;
    act("lanhdao.xa", id, "complete_step", json!({})).await;
    let (_, before) = as_user(
        "chuyenvien.xa",
        "GET",
        &format!("/api/v1/dossiers/{id}"),
        None,
    )
    .await;
    let step = before["dossier"]["step"].clone();

    let officer = Browser::sign_in("chuyenvien.xa").await;
    let (st, html) = officer.get(&page).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(
        html.contains(&format!(
            "action=\"{post}?lang=vi\" enctype=\"multipart/form-data\""
        )),
        "the step form carries files: {html}"
    );
    let csrf = csrf_in(&html);
    let pdf = unique_pdf();
    let key = format!("sha256:{}", motcua_domain::files::FileKey::of(&pdf).hex());

    // Bad input: no CSRF, a forged one, an executable named .pdf, more than five files, not a
    // multipart body; the dossier stays at its step.
    let (st, _) = officer
        .post_multipart(&post, multipart(&[("file", Some("bc.pdf"), &pdf)]))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = officer
        .post_multipart(
            &post,
            multipart(&[("csrf", None, b"forged"), ("file", Some("bc.pdf"), &pdf)]),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, html) = officer
        .post_multipart(
            &post,
            multipart(&[
                ("csrf", None, csrf.as_bytes()),
                (
                    "file",
                    Some("bao-cao.pdf"),
                    b"MZ\x90\x00\x03\x00\x00\x00 not a pdf",
                ),
            ]),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        html.contains("bao-cao.pdf"),
        "the refused file is named: {html}"
    );
    let six: Vec<(&str, Option<&str>, &[u8])> = std::iter::once(("csrf", None, csrf.as_bytes()))
        .chain((0..6).map(|_| ("file", Some("bc.pdf"), pdf.as_slice())))
        .collect();
    let (st, html) = officer.post_multipart(&post, multipart(&six)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("tối đa 5 tệp kèm theo"), "{html}");
    let (st, _) = officer.post_form(&post, &[("csrf", &csrf)]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (_, now) = as_user(
        "chuyenvien.xa",
        "GET",
        &format!("/api/v1/dossiers/{id}"),
        None,
    )
    .await;
    assert_eq!(now["dossier"]["step"], step, "{now}");
    assert_eq!(
        now["dossier"]["version"], before["dossier"]["version"],
        "{now}"
    );

    // Another commune's officer learns nothing.
    let other = Browser::sign_in("motcua.tinh").await;
    let (st, _) = other
        .post_multipart(
            &post,
            multipart(&[
                ("csrf", None, csrf.as_bytes()),
                ("file", Some("bc.pdf"), &pdf),
            ]),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // The specialist completes the step with the appraisal report.
    let (st, to) = officer
        .post_multipart(
            &post,
            multipart(&[
                ("csrf", None, csrf.as_bytes()),
                ("note", None, "Đủ điều kiện".as_bytes()),
                ("file", Some("bao-cao-tham-dinh.pdf"), &pdf),
            ]),
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    assert_eq!(to, format!("{page}?xong=complete_step"));
    let (_, now) = as_user(
        "chuyenvien.xa",
        "GET",
        &format!("/api/v1/dossiers/{id}"),
        None,
    )
    .await;
    assert_ne!(now["dossier"]["step"], step, "{now}");
    // The history names the file, with the note; the event carries the reference.
    let (_, history) = as_user(
        "lanhdao.xa",
        "GET",
        &format!("/api/v1/dossiers/{id}/history"),
        None,
    )
    .await;
    assert!(history.to_string().contains(&key), "{history}");
    let (st, html) = officer.get(&page).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("Tài liệu kèm theo: bao-cao-tham-dinh.pdf"),
        "{html}"
    );
    assert!(html.contains("Đủ điều kiện"), "{html}");
    // The file is linked to the dossier as an attachment and opens for its staff.
    let (st, files) = as_user(
        "lanhdao.xa",
        "GET",
        &format!("/api/v1/dossiers/{id}/files"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{files}");
    assert!(files.to_string().contains(&key), "{files}");
    assert!(files.to_string().contains("attachment"), "{files}");
    let hex = key.trim_start_matches("sha256:");
    let (st, _) = officer
        .get(&format!("/api/v1/dossiers/{id}/files/{hex}?inline=1"))
        .await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_chooses_how_to_be_notified_from_the_tracking_page() {
    let d = submit().await;
    let id = d["id"].as_str().unwrap();
    let page = format!("/ca-nhan/ho-so/{id}");
    let post = format!("{page}/thong-bao");
    let owner = Browser::sign_in("congdan").await;
    let (st, html) = owner.get(&page).await;
    assert_eq!(st, StatusCode::OK);
    // By default e-mail and SMS, not Zalo.
    assert!(
        html.contains("name=\"email\" value=\"1\" checked"),
        "{html}"
    );
    assert!(html.contains("name=\"sms\" value=\"1\" checked"));
    assert!(html.contains("name=\"zalo\" value=\"1\">"));
    let csrf = csrf_in(&html);
    // Bad input: no CSRF, a forged one, a body that is not a form; nothing changes.
    let (st, _) = owner.post_form(&post, &[("zalo", "1")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = owner
        .post_form(&post, &[("csrf", "forged"), ("zalo", "1")])
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Someone else's dossier does not exist.
    let other = Browser::sign_in("congdan2").await;
    let (st, _) = other.get(&page).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, mine) = other.get("/ca-nhan").await;
    let other_csrf = csrf_in(&mine);
    let (st, _) = other
        .post_form(&post, &[("csrf", &other_csrf), ("zalo", "1")])
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, dv) = as_user("congdan", "GET", &format!("/api/v1/dossiers/{id}"), None).await;
    assert!(dv["dossier"]["applicant"].get("notify").is_none(), "{dv}");

    // Zalo only.
    let (st, to) = owner
        .post_form(&post, &[("csrf", &csrf), ("zalo", "1")])
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    assert_eq!(to, format!("{page}?xong=thong-bao"));
    let (_, dv) = as_user("congdan", "GET", &format!("/api/v1/dossiers/{id}"), None).await;
    assert_eq!(
        dv["dossier"]["applicant"]["notify"],
        json!({"email": false, "sms": false, "zalo": true})
    );
    let (_, html) = owner.get(&to).await;
    assert!(html.contains("Đã lưu cách nhận thông báo."), "{html}");
    assert!(html.contains("name=\"zalo\" value=\"1\" checked"));
    assert!(
        html.contains("Thông báo từ nay gửi qua Zalo."),
        "in the history: {html}"
    );
    // Saving the same choice again changes nothing and says it is saved.
    let (st, _) = owner
        .post_form(&post, &[("csrf", &csrf), ("zalo", "1")])
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, history) = as_user(
        "congdan",
        "GET",
        &format!("/api/v1/dossiers/{id}/history"),
        None,
    )
    .await;
    assert_eq!(
        history.to_string().matches("notifications_changed").count(),
        1,
        "{history}"
    );
}
