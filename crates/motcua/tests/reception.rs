//! The counter reception screen (`/can-bo/tiep-nhan`) over real HTTP, as a browser without
//! JavaScript uses it: from a queue ticket to a received dossier with a scanned component and its
//! receipt; postal reception with its tracking number; supplement and refusal at reception with
//! their notices; every kind of bad input re-showing the page with what was typed; who may use
//! it; the audited identity lookup; the inbox's channel filter.

mod common;

use common::{PASSWORD, agency_of, as_user, base, submit_as, token};
use motcua_domain::files::samples;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

const BIRTH: &str = "1.001193";
const DESK: &str = "motcua.xa";
const BOUNDARY: &str = "motcua-reception-boundary-Q1w2E3r4";

fn raw() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A signed-in browser session cookie for `user`.
async fn session(user: &str) -> String {
    let c = raw();
    let res = c.get(format!("{}/dang-nhap", base())).send().await.unwrap();
    let login_cookie = res
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
    let html = res.text().await.unwrap();
    let csrf = hidden(&html, "csrf");
    let res = c
        .post(format!("{}/dang-nhap", base()))
        .header(COOKIE, login_cookie)
        .form(&[("username", user), ("password", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign in {user}");
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("motcua_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// The value of the first input named `name` on a page.
fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no field {name} in {html}"));
    let rest = &html[at + needle.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// GET as a browser: (status, Location or body).
async fn get(cookie: &str, path: &str) -> (StatusCode, String) {
    let res = raw()
        .get(format!("{}{path}", base()))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    let st = res.status();
    let loc = res
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    let body = res.text().await.unwrap();
    (st, loc.unwrap_or(body))
}

/// A part of a multipart form: a text field or a file.
enum Part {
    Text(String, String),
    File(String, String, Vec<u8>),
}

fn t(name: &str, value: &str) -> Part {
    Part::Text(name.into(), value.into())
}

fn multipart(parts: &[Part]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match p {
            Part::Text(n, v) => {
                out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{n}\"\r\n\r\n").as_bytes(),
                );
                out.extend_from_slice(v.as_bytes());
            }
            Part::File(n, f, bytes) => {
                out.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{n}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                out.extend_from_slice(bytes);
            }
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

/// POSTs the screen: (status, Location or body).
async fn post(cookie: &str, parts: &[Part]) -> (StatusCode, String) {
    let res = raw()
        .post(format!("{}/can-bo/tiep-nhan", base()))
        .header(COOKIE, cookie)
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(parts))
        .send()
        .await
        .unwrap();
    let st = res.status();
    let loc = res
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    let body = res.text().await.unwrap();
    (st, loc.unwrap_or(body))
}

/// The screen of `procedure` for a signed-in desk officer: its CSRF token and idempotency key.
async fn open(cookie: &str, procedure: &str) -> (String, String) {
    let (st, html) = get(cookie, &format!("/can-bo/tiep-nhan?q={procedure}")).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(
        html.contains(&format!("name=\"_thu_tuc\" value=\"{procedure}\"")),
        "typing the code opens the procedure"
    );
    // E-mail and SMS are ticked for the applicant unless they say otherwise; Zalo is asked.
    assert!(
        html.contains("name=\"_tb_email\" value=\"1\" checked"),
        "{html}"
    );
    assert!(html.contains("name=\"_tb_sms\" value=\"1\" checked"));
    assert!(html.contains("name=\"_tb_zalo\" value=\"1\">"));
    (hidden(&html, "csrf"), hidden(&html, "_khoa"))
}

/// The fields every submission here shares.
fn base_parts(csrf: &str, key: &str, name: &str) -> Vec<Part> {
    vec![
        t("csrf", csrf),
        t("_khoa", key),
        t("_thu_tuc", BIRTH),
        t("_cccd", "068095001234"),
        t("_ho_ten", name),
        t("_dien_thoai", "0912345678"),
        t("_dia_chi", "12 Trần Phú, Đà Lạt"),
    ]
}

/// A PDF of its own (the same bytes are stored once).
fn unique_pdf() -> Vec<u8> {
    let mut b = samples::pdf();
    b.extend_from_slice(format!("% {}\n%%EOF\n", uuid::Uuid::new_v4()).as_bytes());
    b
}

/// The dossier id in a result page's URL.
fn id_of(location: &str) -> String {
    let at = location.find("xong=").expect("result URL") + 5;
    location[at..].split('&').next().unwrap().to_string()
}

async fn dossier(id: &str) -> Value {
    let (st, v) = as_user(DESK, "GET", &format!("/api/v1/dossiers/{id}"), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["dossier"].clone()
}

/// Flattens e-form values into the page's input names.
fn eform(v: &Value) -> Vec<Part> {
    let mut out = Vec::new();
    for (k, x) in v.as_object().unwrap() {
        match x {
            Value::Object(m) => {
                for (p, y) in m {
                    out.push(t(&format!("{k}[{p}]"), y.as_str().unwrap()));
                }
            }
            Value::Array(rows) => {
                for (i, r) in rows.iter().enumerate() {
                    for (p, y) in r.as_object().unwrap() {
                        let s = match y {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        out.push(t(&format!("{k}[{i}][{p}]"), &s));
                    }
                }
            }
            Value::Bool(true) => out.push(t(k, "on")),
            Value::Bool(false) => {}
            Value::String(s) => out.push(t(k, s)),
            other => out.push(t(k, &other.to_string())),
        }
    }
    out
}

async fn pdf(cookie: &str, path: &str) -> Vec<u8> {
    let res = raw()
        .get(format!("{}{path}", base()))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    assert_eq!(res.headers()[CONTENT_TYPE], "application/pdf");
    let b = res.bytes().await.unwrap().to_vec();
    assert!(b.starts_with(b"%PDF"), "{path} is a PDF");
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_receives_a_counter_dossier_from_a_ticket_with_a_scanned_component() {
    let centre = agency_of(DESK);
    // A visitor takes a ticket; the officer calls it; the console links to reception with it.
    let res = raw()
        .post(format!("{}/xep-hang/{centre}", base()))
        .form(&[("nhom", "tu-phap-ho-tich"), ("lang", "vi")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (st, call) = as_user(
        DESK,
        "POST",
        &format!("/api/v1/queue/{centre}/counters/1/actions/call-next"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{call}");
    let number = call["ticket"]["number"].as_str().unwrap().to_string();
    let cookie = session(DESK).await;
    let (st, console) = get(&cookie, &format!("/xep-hang/{centre}/quay/1")).await;
    assert_eq!(st, StatusCode::OK);
    let at = console
        .find("/can-bo/tiep-nhan?ve=")
        .expect("the console links to reception");
    let link = console[at..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let (st, step1) = get(&cookie, &link).await;
    assert_eq!(st, StatusCode::OK);
    assert!(step1.contains(&number), "the ticket number is shown");
    let ticket = hidden(&step1, "ve");
    // Step 1: search words list procedures this agency receives; the code opens one.
    let (st, found) = get(
        &cookie,
        &format!("/can-bo/tiep-nhan?q=khai+sinh&ve={ticket}"),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(found.contains(&format!("thu_tuc={BIRTH}")), "{found}");
    let (csrf, key) = open(&cookie, BIRTH).await;

    // Steps 2-4 and receive: the e-form filled on the applicant's behalf, one scan.
    let mut parts = base_parts(&csrf, &key, "Nguyễn Văn Tiếp");
    parts.push(t("_ve", &ticket));
    parts.push(t("_kenh", "counter"));
    parts.push(t("_nhan_0", "1"));
    parts.push(Part::File(
        "_scan_0".into(),
        "to-khai.pdf".into(),
        unique_pdf(),
    ));
    parts.push(t("_op", "tiep_nhan"));
    parts.push(t("_to_khai", "dien_tu"));
    // The applicant wants SMS and Zalo, no e-mail.
    parts.push(t("_tb", "1"));
    parts.push(t("_tb_sms", "1"));
    parts.push(t("_tb_zalo", "1"));
    let mut ex = motcua::seed::forms::example(BIRTH).unwrap();
    ex["co_thong_tin_cha"] = json!(false);
    parts.extend(eform(&ex));
    let (st, loc) = post(&cookie, &parts).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{loc}");
    assert!(loc.starts_with("/can-bo/tiep-nhan?xong="), "{loc}");
    let id = id_of(&loc);

    // The result page: code, appointment, the receipt to print, the next reception.
    let (st, done) = get(&cookie, &loc).await;
    assert_eq!(st, StatusCode::OK);
    let d = dossier(&id).await;
    let code = d["code"].as_str().unwrap();
    assert!(
        done.contains(code) && done.contains("id=\"appointment\""),
        "{done}"
    );
    assert!(done.contains(&format!("/api/v1/dossiers/{id}/documents/receipt")));
    assert!(done.contains("Tiếp nhận hồ sơ khác"));
    assert_eq!(d["status"], "received");
    assert_eq!(d["channel"], "counter");
    assert_eq!(d["applicant"]["personal_id"], "068095001234");
    assert_eq!(
        d["applicant"]["notify"],
        json!({"email": false, "sms": true, "zalo": true}),
        "{d}"
    );
    assert!(d["form"].as_object().is_some_and(|f| !f.is_empty()));
    let doc = &d["documents"][0];
    assert!(doc["file"].as_str().unwrap().starts_with("sha256:"), "{d}");
    // The scan is linked to the dossier as a component (digitization at the desk).
    let (st, files) = as_user(DESK, "GET", &format!("/api/v1/dossiers/{id}/files"), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(files["items"][0]["kind"], "component", "{files}");
    assert_eq!(files["items"][0]["slot"], doc["name"]);
    // The ticket is in the history's note; the receipt opens as a PDF.
    let (_, history) = as_user(DESK, "GET", &format!("/api/v1/dossiers/{id}/history"), None).await;
    assert!(history.to_string().contains(&format!("Số thứ tự {number}")));
    pdf(&cookie, &format!("/api/v1/dossiers/{id}/documents/receipt")).await;

    // A double click makes one dossier.
    let (st, again) = post(&cookie, &parts).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(id_of(&again), id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postal_reception_requires_and_keeps_the_tracking_number() {
    let cookie = session(DESK).await;
    let (csrf, key) = open(&cookie, BIRTH).await;
    let with = |tracking: Option<&str>| {
        let mut p = base_parts(&csrf, &key, "Bưu Chính Văn");
        p.push(t("_kenh", "post"));
        if let Some(x) = tracking {
            p.push(t("_van_don", x));
        }
        p.push(t("_nhan_0", "1"));
        p.push(t("_op", "tiep_nhan"));
        p
    };
    for bad in [None, Some("EE12"), Some("EE123456789VN!!")] {
        let (st, html) = post(&cookie, &with(bad)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad:?}");
        assert!(html.contains("id=\"van_don-err\""), "{html}");
        assert!(
            html.contains("id=\"error-summary-top\"") && html.contains("href=\"#van_don\""),
            "a summary on top links to the field"
        );
        assert!(
            html.contains("value=\"Bưu Chính Văn\""),
            "typed values kept"
        );
        assert!(html.contains("id=\"kenh-post\" name=\"_kenh\" value=\"post\" checked"));
    }
    let (st, loc) = post(&cookie, &with(Some("ee 1234-56789 vn"))).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{loc}");
    let id = id_of(&loc);
    let d = dossier(&id).await;
    assert_eq!(d["channel"], "post");
    assert_eq!(d["postal_tracking"], "EE123456789VN");
    assert_eq!(d["status"], "received");
    let (_, page) = get(&cookie, &format!("/can-bo/ho-so/{id}")).await;
    assert!(page.contains("EE123456789VN"), "the dossier page shows it");
    // The API asks the same of everyone.
    let (st, p) = as_user(
        DESK,
        "POST",
        "/api/v1/dossiers",
        Some(
            json!({"procedure_code": BIRTH, "channel": "post", "agency": agency_of(DESK),
            "applicant": {"name": "Bưu Chính Văn"}, "form": {}}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["field"], "postal_tracking");
    let (st, p) = as_user(
        DESK,
        "POST",
        "/api/v1/dossiers",
        Some(json!({"procedure_code": BIRTH, "channel": "counter", "postal_tracking": "EE123456789VN", "agency": agency_of(DESK),
            "applicant": {"name": "Bưu Chính Văn"}, "form": {}})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["field"], "postal_tracking");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supplement_and_refusal_at_reception_print_their_notices_and_never_start_the_clock() {
    let cookie = session(DESK).await;
    // A supplement: nothing ticked and one line written.
    let (csrf, key) = open(&cookie, BIRTH).await;
    let mut parts = base_parts(&csrf, &key, "Bổ Sung Thị");
    parts.push(t("_thieu", "Bản chính giấy chứng sinh"));
    parts.push(t("_op", "bo_sung"));
    let (st, loc) = post(&cookie, &parts).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{loc}");
    let id = id_of(&loc);
    let d = dossier(&id).await;
    assert_eq!(d["status"], "supplement_at_reception");
    assert!(d["code"].is_null() && d["due_at"].is_null(), "{d}");
    let (_, done) = get(&cookie, &loc).await;
    assert!(done.contains("id=\"print-supplement\""), "{done}");
    let notice = pdf(
        &cookie,
        &format!("/api/v1/dossiers/{id}/documents/supplement"),
    )
    .await;
    assert!(notice.len() > 1000);
    let (st, _) = as_user(
        DESK,
        "GET",
        &format!("/api/v1/dossiers/{id}/documents/receipt"),
        None,
    )
    .await;
    assert!(
        st.is_client_error(),
        "no receipt for a dossier not received"
    );

    // A refusal needs reasons; then it is recorded and printed.
    let (csrf, key) = open(&cookie, BIRTH).await;
    let mut parts = base_parts(&csrf, &key, "Từ Chối Văn");
    parts.push(t("_nhan_0", "1"));
    parts.push(t("_op", "tu_choi"));
    let (st, html) = post(&cookie, &parts).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"ly_do_tc-err\"") && html.contains("value=\"Từ Chối Văn\""));
    assert!(
        html.contains("id=\"nhan-0\" name=\"_nhan_0\" value=\"1\" checked"),
        "ticks kept"
    );
    parts.push(t(
        "_ly_do_tc",
        "Không thuộc thẩm quyền giải quyết của UBND phường",
    ));
    let (st, loc) = post(&cookie, &parts).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{loc}");
    let id = id_of(&loc);
    let d = dossier(&id).await;
    assert_eq!(d["status"], "refused");
    assert!(d["code"].is_null() && d["due_at"].is_null());
    let (_, done) = get(&cookie, &loc).await;
    assert!(done.contains("id=\"print-refusal\""));
    pdf(&cookie, &format!("/api/v1/dossiers/{id}/documents/refusal")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_friendly_page_that_keeps_what_was_typed() {
    let cookie = session(DESK).await;
    let (csrf, key) = open(&cookie, BIRTH).await;
    let name = "Giữ Nguyên Văn";
    let kept = |html: &str| {
        assert!(
            html.contains(&format!("value=\"{name}\"")),
            "name kept: {html}"
        );
        assert!(html.contains("value=\"068095001234\"") || html.contains("value=\"12345\""));
        assert!(html.contains("<html"), "a page, not a bare error");
    };
    let receive = |mut p: Vec<Part>| {
        p.push(t("_op", "tiep_nhan"));
        p
    };
    // No procedure, an unknown one.
    let mut p = base_parts(&csrf, &key, name);
    p.retain(|x| !matches!(x, Part::Text(n, _) if n == "_thu_tuc"));
    let (st, html) = post(&cookie, &receive(p)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    kept(&html);
    assert!(html.contains("id=\"thu_tuc-err\""));
    let mut p = base_parts(&csrf, &key, name);
    p.retain(|x| !matches!(x, Part::Text(n, _) if n == "_thu_tuc"));
    p.push(t("_thu_tuc", "9.999999"));
    let (st, html) = post(&cookie, &receive(p)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    kept(&html);
    assert!(html.contains("value=\"9.999999\""));
    // A bad personal ID, on receiving and on looking up.
    for op in ["tiep_nhan", "tra_cuu"] {
        let mut p = base_parts(&csrf, &key, name);
        p.retain(|x| !matches!(x, Part::Text(n, _) if n == "_cccd"));
        p.push(t("_cccd", "12345"));
        p.push(t("_op", op));
        let (st, html) = post(&cookie, &p).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{op}");
        kept(&html);
        assert!(html.contains("id=\"cccd-err\"") && html.contains("12 chữ số"));
    }
    // No name.
    let (st, html) = post(&cookie, &receive(base_parts(&csrf, &key, ""))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"ho_ten-err\""));
    // An executable and an oversize file instead of a scan.
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    exe.resize(4096, 0);
    let mut p = receive(base_parts(&csrf, &key, name));
    p.push(Part::File("_scan_0".into(), "scan.pdf".into(), exe));
    let (st, html) = post(&cookie, &p).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    kept(&html);
    assert!(html.contains("id=\"scan-0-err\""), "{html}");
    let mut big = samples::pdf();
    big.resize((10 << 20) + 1, b' ');
    let mut p = receive(base_parts(&csrf, &key, name));
    p.push(Part::File("_scan_0".into(), "big.pdf".into(), big));
    let (st, html) = post(&cookie, &p).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    kept(&html);
    assert!(html.contains("id=\"scan-0-err\""));
    // A valid scan next to a bad field stays attached by its key.
    let mut p = receive(base_parts(&csrf, &key, name));
    p.push(t("_kenh", "post"));
    p.push(Part::File("_scan_0".into(), "ok.pdf".into(), unique_pdf()));
    let (st, html) = post(&cookie, &p).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(hidden(&html, "_key_0").starts_with("sha256:"), "{html}");
    // A bad e-form value: the error next to the field, the values kept.
    let mut p = receive(base_parts(&csrf, &key, name));
    p.push(t("_to_khai", "dien_tu"));
    let mut ex = motcua::seed::forms::example(BIRTH).unwrap();
    ex["dien_thoai"] = json!("12");
    p.extend(eform(&ex));
    let (st, html) = post(&cookie, &p).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    kept(&html);
    assert!(html.contains("id=\"error-form\"") && html.contains("field-err"));
    // Without this session's CSRF token nothing happens, and nothing typed is lost.
    for token in [None, Some("forged")] {
        let mut p = receive(base_parts(&csrf, &key, name));
        p.retain(|x| !matches!(x, Part::Text(n, _) if n == "csrf"));
        if let Some(x) = token {
            p.push(t("csrf", x));
        }
        let (st, html) = post(&cookie, &p).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        kept(&html);
    }
    // A body that is not a form at all.
    let res = raw()
        .post(format!("{}/can-bo/tiep-nhan", base()))
        .header(COOKIE, &cookie)
        .form(&[("a", "b")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("<html"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_desk_officers_use_the_screen() {
    for user in ["chuyenvien.xa", "lanhdao.xa", "congdan", "quantri"] {
        let cookie = session(user).await;
        let (st, _) = get(&cookie, "/can-bo/tiep-nhan").await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{user}");
        let (st, _) = post(&cookie, &[t("_op", "tiep_nhan")]).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{user}");
    }
    let res = raw()
        .get(format!("{}/can-bo/tiep-nhan", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        res.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/dang-nhap?next=")
    );
    // Desk officers reach it from their inbox.
    let cookie = session(DESK).await;
    let (_, inbox) = get(&cookie, "/can-bo").await;
    assert!(inbox.contains("href=\"/can-bo/tiep-nhan"));
    // English on asking.
    let (st, en) = get(&cookie, &format!("/can-bo/tiep-nhan?q={BIRTH}&lang=en")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(en.contains("Receive a dossier") && en.contains("Look up") && en.contains("By post"));
    assert!(en.contains("action=\"/can-bo/tiep-nhan?lang=en\""));
    // A procedure another agency receives is not offered here.
    let (st, html) = get(&cookie, "/can-bo/tiep-nhan?thu_tuc=1.013834").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_identity_lookup_fills_the_applicant_and_is_audited() {
    // Somebody came before with this personal ID.
    let pid = "079190123445";
    let (st, v) = as_user(
        DESK,
        "POST",
        "/api/v1/dossiers",
        Some(
            json!({"procedure_code": BIRTH, "channel": "counter", "form": {}, "agency": agency_of(DESK),
            "applicant": {"name": "Đinh Thị Tra Cứu", "personal_id": pid, "phone": "0987654321",
                          "address": "5 Hùng Vương, Đà Lạt"}}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let cookie = session(DESK).await;
    let (csrf, key) = open(&cookie, BIRTH).await;
    let parts = vec![
        t("csrf", &csrf),
        t("_khoa", &key),
        t("_thu_tuc", BIRTH),
        t("_cccd", pid),
        t("_van_don", "giữ lại"),
        t("_op", "tra_cuu"),
    ];
    let (st, html) = post(&cookie, &parts).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("value=\"Đinh Thị Tra Cứu\""), "{html}");
    assert!(html.contains("value=\"0987654321\"") && html.contains("5 Hùng Vương"));
    assert!(
        html.contains("value=\"GIỮLẠI\"") || html.contains("giữ"),
        "other fields kept"
    );
    // Unknown: said so, nothing filled.
    let mut unknown = parts;
    unknown.retain(|x| !matches!(x, Part::Text(n, _) if n == "_cccd"));
    unknown.push(t("_cccd", "001099000777"));
    let (st, html) = post(&cookie, &unknown).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"message\"") && !html.contains("Đinh Thị Tra Cứu"));
    // The leader reads both lookups in the desk officer's audit trail.
    let leader = session("lanhdao.xa").await;
    let (st, audit) = get(&leader, &format!("/can-bo/nhat-ky?nguoi_dung={DESK}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(audit.contains("identity_lookup"), "{audit}");
    assert!(audit.contains(&format!(
        "personal_id={pid} purpose=counter_reception source=local found=yes"
    )));
    assert!(
        audit.contains("personal_id=001099000777 purpose=counter_reception source=local found=no")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_filters_by_channel() {
    let (st, v) = as_user(
        DESK,
        "POST",
        "/api/v1/dossiers",
        Some(
            json!({"procedure_code": BIRTH, "channel": "post", "agency": agency_of(DESK), "postal_tracking": "RR987654321VN",
            "receive": false, "form": {}, "applicant": {"name": "Kênh Bưu Chính"}}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(
        v["dossier"]["status"], "awaiting_reception",
        "received later"
    );
    let id = v["dossier"]["id"].as_str().unwrap();
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (st, post) = as_user(DESK, "GET", "/api/v1/inbox?channel=post&limit=200", None).await;
    assert_eq!(st, StatusCode::OK, "{post}");
    assert!(ids(&post).contains(&id.to_string()));
    let (_, counter) = as_user(DESK, "GET", "/api/v1/inbox?channel=counter&limit=200", None).await;
    assert!(!ids(&counter).contains(&id.to_string()));
    let (st, p) = as_user(DESK, "GET", "/api/v1/inbox?channel=fax", None).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["field"], "channel");
    // The page's filter.
    let cookie = session(DESK).await;
    let (st, html) = get(&cookie, "/can-bo?kenh=post&trang_thai=tat-ca").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(id) && html.contains("<option value=\"post\" selected"));
    let (st, _) = get(&cookie, "/can-bo?kenh=fax").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let _ = token(DESK).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_who_came_for_help_gets_an_online_dossier_in_their_account() {
    let cookie = session(DESK).await;
    let (csrf, key) = open(&cookie, BIRTH).await;
    let with = |account: &str, mode: &str| {
        let mut p = base_parts(&csrf, &key, "Trần Văn Bình");
        p.push(t("_kenh", "online"));
        p.push(t("_tai_khoan", account));
        p.push(t("_to_khai", mode));
        let mut ex = motcua::seed::forms::example(BIRTH).unwrap();
        ex["co_thong_tin_cha"] = json!(false);
        p.extend(eform(&ex));
        p.push(t("_op", "tiep_nhan"));
        p
    };
    // No such citizen account (a staff login is not one), no e-form: said next to the fields.
    for (account, mode, field) in [
        ("khong-co-ai", "dien_tu", "tai_khoan-err"),
        ("chuyenvien.xa", "dien_tu", "tai_khoan-err"),
        ("", "dien_tu", "tai_khoan-err"),
        ("congdan2", "giay", "error-form"),
    ] {
        let (st, html) = post(&cookie, &with(account, mode)).await;
        assert!(st.is_client_error(), "{account} {mode}: {st}");
        assert!(
            html.contains(&format!("id=\"{field}\"")),
            "{account} {mode}: {html}"
        );
        assert!(
            html.contains("value=\"Trần Văn Bình\""),
            "typed values kept"
        );
    }
    let (st, loc) = post(&cookie, &with("congdan2", "dien_tu")).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{loc}");
    let id = id_of(&loc);
    let d = dossier(&id).await;
    assert_eq!(
        (d["channel"].as_str(), d["status"].as_str()),
        (Some("online"), Some("received"))
    );
    // The citizen's account owns it and sees it; the history names the officer who keyed it in.
    let (_, me) = as_user("congdan2", "GET", "/api/v1/me", None).await;
    assert_eq!(d["owner"], me["user_id"], "{me}");
    let (st, _) = as_user("congdan2", "GET", &format!("/api/v1/dossiers/{id}"), None).await;
    assert_eq!(st, StatusCode::OK);
    let (_, history) = as_user(DESK, "GET", &format!("/api/v1/dossiers/{id}/history"), None).await;
    assert_eq!(history[0]["event"]["body"]["type"], "submitted");
    assert_eq!(history[0]["event"]["actor"]["role"], "desk_officer");
    // Through the API only desk officers may, and only online.
    let (st, _) = submit_as(
        "congdan",
        Some(
            json!({"procedure_code": BIRTH, "agency": agency_of(DESK), "on_behalf_of": "congdan2",
            "form": motcua::seed::forms::example(BIRTH).unwrap()}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, p) = as_user(
        DESK,
        "POST",
        "/api/v1/dossiers",
        Some(
            json!({"procedure_code": BIRTH, "agency": agency_of(DESK), "channel": "counter",
            "on_behalf_of": "congdan2", "applicant": {"name": "X"}, "form": {}}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["field"], "on_behalf_of");
}
