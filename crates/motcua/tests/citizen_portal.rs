//! A signed-in citizen's e-form page over real HTTP, as a browser without JavaScript uses it:
//! files attached in the upload slots (checked like the API's uploads, kept in the citizen's
//! data store, linked to the dossier at submission), one-click attach from the data store
//! (their own files only), drafts saved, resumed, listed and deleted (their own only), and the
//! form prefilled from what is known of them (identity lookups audited).
//!
//! The server of this file keeps its database in a file, so the test can read the audit trail.

mod common;

use common::browser::{BOUNDARY, Browser, csrf_in, raw};
use common::{PASSWORD, as_user, base, submit_as};
use motcua_domain::files::samples;
use motcua_store::{AuditQuery, Store};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use std::sync::OnceLock;

/// Đăng ký khai sinh: a required upload slot, `giay_chung_sinh`, and an optional one.
const COPY: &str = "1.001193";
const SLOT: &str = "giay_chung_sinh";

/// The server's database file (set before the server starts).
fn db_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let path = std::env::temp_dir().join(format!(
            "motcua-citizen-portal-{}.db",
            uuid::Uuid::new_v4().simple()
        ));
        let url = format!("sqlite://{}", path.display());
        // SAFETY: set once, before the server thread that reads it starts.
        unsafe { std::env::set_var("MOTCUA_TEST_SERVER_DB", &url) };
        url
    })
}

fn server() -> &'static str {
    db_url();
    base()
}

fn attr_after(html: &str, marker: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"));
    let rest = &html[at + marker.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// `user` signed in on this file's server.
async fn sign_in(user: &str) -> Browser {
    Browser::sign_in_at(server(), user, PASSWORD).await
}

/// Nobody signed in, on this file's server.
fn nobody() -> Browser {
    Browser {
        base: server().to_string(),
        cookie: String::new(),
    }
}

/// A new citizen account (signed up with an e-mail address, signed in at once).
async fn sign_up(name: &str) -> (Browser, String) {
    let res = raw()
        .get(format!("{}/dang-ky", server()))
        .send()
        .await
        .unwrap();
    let login_cookie = cookie_of(&res, "motcua_login_csrf=");
    let csrf = csrf_in(&res.text().await.unwrap());
    let email = format!(
        "dan-{}@example.vn",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    );
    let res = raw()
        .post(format!("{}/dang-ky", server()))
        .header(COOKIE, login_cookie)
        .form(&[
            ("name", name),
            ("login", &email),
            ("password", PASSWORD),
            ("password2", PASSWORD),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign-up {email}");
    (
        Browser {
            base: server().to_string(),
            cookie: cookie_of(&res, "motcua_session="),
        },
        email,
    )
}

fn cookie_of(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(name))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// One part of a multipart body.
enum Part<'a> {
    Text(String, String),
    File(&'a str, &'a str, &'a [u8]),
}

fn text(n: &str, v: &str) -> Part<'static> {
    Part::Text(n.to_string(), v.to_string())
}

fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match p {
            Part::File(name, file, bytes) => {
                out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
                );
                out.extend_from_slice(bytes);
            }
            Part::Text(name, v) => {
                out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                );
                out.extend_from_slice(v.as_bytes());
            }
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

/// Flattens JSON values into the page's input names.
fn pairs(v: &Value) -> Vec<(String, String)> {
    let s = |y: &Value| match y {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out = Vec::new();
    for (k, x) in v.as_object().unwrap() {
        match x {
            Value::Object(m) => {
                for (p, y) in m {
                    out.push((format!("{k}[{p}]"), s(y)));
                }
            }
            Value::Array(rows) => {
                for (i, r) in rows.iter().enumerate() {
                    for (p, y) in r.as_object().unwrap() {
                        out.push((format!("{k}[{i}][{p}]"), s(y)));
                    }
                }
            }
            Value::Bool(true) => out.push((k.clone(), "on".into())),
            Value::Bool(false) => {}
            other => out.push((k.clone(), s(other))),
        }
    }
    out
}

/// The example declaration of the certified-copy procedure as page parts, with `csrf`.
fn declaration(csrf: &str, name: &str) -> Vec<Part<'static>> {
    let mut v = motcua::seed::forms::example(COPY).unwrap();
    v["nguoi_yc_ho_ten"] = json!(name);
    let mut parts: Vec<Part<'static>> = pairs(&v)
        .into_iter()
        .map(|(n, v)| Part::Text(n, v))
        .collect();
    parts.push(text("csrf", csrf));
    parts
}

fn unique_pdf() -> Vec<u8> {
    let mut b = samples::pdf();
    b.extend_from_slice(format!("% {}\n%%EOF\n", uuid::Uuid::new_v4()).as_bytes());
    b
}

fn form_path() -> String {
    format!("/thu-tuc/{COPY}/to-khai")
}

/// The key of the file attached to the slot, from the page's hidden input.
fn attached_key(html: &str) -> String {
    attr_after(html, &format!("name=\"_uploads[{SLOT}]\" value=\""))
}

/// The citizen's data store, as the API lists it.
async fn vault_keys(user: &str) -> Vec<String> {
    let (st, v) = as_user(user, "GET", "/api/v1/me/files", None).await;
    assert_eq!(st, StatusCode::OK);
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap().to_string())
        .collect()
}

/// Submits the valid page's declaration through its submit form; the new dossier's id.
async fn submit_from(b: &Browser, html: &str, extra_values: Value) -> (StatusCode, String) {
    let csrf = csrf_in(html);
    let key = attr_after(html, "name=\"key\" value=\"");
    let agency = attr_after(&html[html.find("id=\"agency\"").unwrap()..], "value=\"");
    let mut values = motcua::seed::forms::example(COPY).unwrap();
    for (k, v) in extra_values.as_object().unwrap() {
        values[k] = v.clone();
    }
    b.post_form(
        &format!("/thu-tuc/{COPY}/nop"),
        &[
            ("csrf", csrf.as_str()),
            ("key", key.as_str()),
            ("values", values.to_string().as_str()),
            ("agency", agency.as_str()),
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_attach_in_the_slots_with_bad_files_refused_next_to_the_slot() {
    let lan = sign_in("congdan").await;
    let (st, html) = lan.get(&form_path()).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("enctype=\"multipart/form-data\""), "{html}");
    assert!(html.contains(&format!("name=\"_file[{SLOT}]\"")));
    assert!(html.contains("type=\"file\""));
    assert!(html.contains("Lưu nháp"));
    let csrf = csrf_in(&html);
    // Anonymous visitors see the slots listed, without file inputs.
    let (st, anon) = nobody().get(&form_path()).await;
    assert_eq!(st, StatusCode::OK);
    assert!(!anon.contains("type=\"file\"") && !anon.contains("multipart"));

    // A required document left out: an error next to its slot; what was typed is kept.
    let path = form_path();
    let (st, html) = lan
        .post_multipart(&path, multipart(&declaration(&csrf, "Lan <b>kept</b>")))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        html.contains("Chưa đính kèm giấy tờ bắt buộc này."),
        "{html}"
    );
    assert!(html.contains(&format!("href=\"#f-_uploads-{SLOT}\"")));
    assert!(
        html.contains("value=\"Lan &lt;b&gt;kept&lt;/b&gt;\""),
        "{html}"
    );

    // Bad files: each refused with its message next to the slot, nothing kept.
    let before = vault_keys("congdan").await.len();
    let exe: &[u8] = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00program";
    let zip: &[u8] = b"PK\x03\x04\x14\x00\x00\x00\x08\x00archive-content";
    let big = {
        let mut b = samples::pdf();
        b.resize(10 * 1024 * 1024 + 1, b'0');
        b
    };
    let cases: [(&str, &[u8], &str); 4] = [
        ("ban-chinh.pdf", exe, "chương trình chạy được"),
        ("ban-chinh.pdf", b"", "Tệp rỗng"),
        ("ban-chinh.zip", zip, "tệp nén"),
        ("ban-chinh.pdf", &big, "vượt quá dung lượng"),
    ];
    for (name, bytes, says) in cases {
        let mut parts = declaration(&csrf, "Nguyễn Thị Lan");
        parts.push(Part::File("_file[giay_chung_sinh]", name, bytes));
        let (st, html) = lan.post_multipart(&path, multipart(&parts)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {html}");
        assert!(html.contains(says), "{name}: {says} in {html}");
        assert!(
            html.contains("value=\"Nguyễn Thị Lan\""),
            "typed values kept"
        );
    }
    assert_eq!(vault_keys("congdan").await.len(), before, "nothing kept");

    // A forged token: refused, the typed values shown again, nothing kept.
    let pdf = unique_pdf();
    let mut parts = declaration("forged", "Nguyễn Thị Lan");
    parts.push(Part::File("_file[giay_chung_sinh]", "ban-chinh.pdf", &pdf));
    let (st, html) = lan.post_multipart(&path, multipart(&parts)).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(html.contains("Biểu mẫu đã hết hạn"), "{html}");
    assert!(html.contains("value=\"Nguyễn Thị Lan\""));
    assert_eq!(vault_keys("congdan").await.len(), before);
    // Nobody signed in: no data store to keep a file in.
    let mut parts = declaration("", "Khách");
    parts.push(Part::File("_file[giay_chung_sinh]", "ban-chinh.pdf", &pdf));
    let (st, html) = nobody().post_multipart(&path, multipart(&parts)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("Đăng nhập để đính kèm tệp."), "{html}");
    // Malformed multipart: a friendly page.
    let (st, html) = lan
        .post_multipart(&path, b"--nope\r\ngarbage".to_vec())
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("<html"));

    // A PDF: kept in the data store, the form valid, a preview link next to the slot.
    let mut parts = declaration(&csrf, "Nguyễn Thị Lan");
    parts.push(Part::File("_file[giay_chung_sinh]", "ban-chinh.pdf", &pdf));
    let (st, html) = lan.post_multipart(&path, multipart(&parts)).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("Tờ khai hợp lệ"), "{html}");
    let key = attached_key(&html);
    assert!(key.starts_with("sha256:"));
    let hex = key.trim_start_matches("sha256:");
    assert!(
        html.contains(&format!("/api/v1/me/files/{hex}?inline=1")),
        "{html}"
    );
    assert!(html.contains("ban-chinh.pdf"));
    assert!(vault_keys("congdan").await.contains(&key));
    let res = raw()
        .get(format!("{}/api/v1/me/files/{hex}?inline=1", server()))
        .header(COOKIE, &lan.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");

    // An error elsewhere keeps the attached file (its key rides along in the page).
    let mut parts = declaration(&csrf, "");
    parts.push(text(&format!("_uploads[{SLOT}]"), &key));
    let (st, again) = lan.post_multipart(&path, multipart(&parts)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(attached_key(&again), key);
    assert!(!again.contains("Chưa đính kèm giấy tờ bắt buộc này."));

    // Submitted: the file is the dossier's component.
    let (st, to) = submit_from(&lan, &html, json!({"_uploads": {SLOT: key}})).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    let id = to
        .trim_start_matches("/ca-nhan/ho-so/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let (st, files) = as_user(
        "congdan",
        "GET",
        &format!("/api/v1/dossiers/{id}/files"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let item = files["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == key.as_str())
        .unwrap_or_else(|| panic!("{files}"));
    assert_eq!(item["kind"], "component");
    let (st, d) = as_user("congdan", "GET", &format!("/api/v1/dossiers/{id}"), None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        d["dossier"]["documents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["file"] == key.as_str()),
        "{d}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_file_attaches_with_one_click_and_only_its_owner_may_use_it() {
    let lan = sign_in("congdan").await;
    let (_, html) = lan.get(&form_path()).await;
    let csrf = csrf_in(&html);
    // Something in Lan's data store.
    let pdf = unique_pdf();
    let res = raw()
        .post(format!("{}/api/v1/files", server()))
        .bearer_auth(common::token("congdan").await)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(&[Part::File("file", "so-ho-khau.pdf", &pdf)]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let key = res.json::<Value>().await.unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();

    // Her page lists it under the slot; "dùng tệp này" attaches it without uploading.
    let (_, html) = lan.get(&form_path()).await;
    assert!(
        html.contains(&format!("name=\"_pick[{SLOT}]\" value=\"{key}\"")),
        "{html}"
    );
    assert!(html.contains("so-ho-khau.pdf") && html.contains("Dùng tệp này"));
    let mut parts = declaration(&csrf, "Nguyễn Thị Lan");
    parts.push(text(&format!("_pick[{SLOT}]"), &key));
    parts.push(text("_choose", SLOT));
    let (st, html) = lan.post_multipart(&form_path(), multipart(&parts)).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert_eq!(attached_key(&html), key);
    assert!(html.contains(&format!("value=\"{key}\" checked")));

    // Bình cannot use Lan's file: not by choosing it, not by carrying its key, not by
    // submitting it.
    let binh = sign_in("congdan2").await;
    let (_, page) = binh.get(&form_path()).await;
    assert!(!page.contains(&key), "her files are not listed to him");
    let bcsrf = csrf_in(&page);
    for name in [format!("_pick[{SLOT}]"), format!("_uploads[{SLOT}]")] {
        let mut parts = declaration(&bcsrf, "Trần Văn Bình");
        parts.push(text(&name, &key));
        let (st, html) = binh.post_multipart(&form_path(), multipart(&parts)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {html}");
        assert!(
            html.contains("không có trong kho dữ liệu của bạn"),
            "{html}"
        );
        assert!(!html.contains(&format!("value=\"{key}\"")));
    }
    let body = json!({"procedure_code": COPY, "form": {"_uploads": {SLOT: key}}});
    let mut form = motcua::seed::forms::example(COPY).unwrap();
    form["_uploads"] = json!({SLOT: key});
    let mut body = body;
    body["form"] = form;
    body["agency"] = json!(common::agency_of("motcua.xa"));
    let (st, v) = submit_as("congdan2", Some(body)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("data store"), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_are_saved_resumed_listed_and_deleted_by_their_owner_only() {
    // A new account: submissions elsewhere in this file must not delete its drafts.
    let (lan, email) = sign_up("Đỗ Thị Hà").await;
    let (_, html) = lan.get(&form_path()).await;
    // Prefilled from the account: the name, and the e-mail signed up with.
    assert!(html.contains("value=\"Đỗ Thị Hà\""), "{html}");
    assert!(html.contains(&format!("value=\"{email}\"")), "{html}");
    let csrf = csrf_in(&html);
    let mut parts = declaration(&csrf, "Nháp <i>của</i> Lan");
    parts.retain(|p| !matches!(p, Part::Text(n, _) if n == "dien_thoai"));
    parts.push(text("dien_thoai", "0900000001"));
    parts.push(text("_save", "1"));
    let (st, html) = lan.post_multipart(&form_path(), multipart(&parts)).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("Đã lưu nháp"), "{html}");

    // Listed on her page with "tiếp tục" and "xoá".
    let (st, mine) = lan.get("/ca-nhan").await;
    assert_eq!(st, StatusCode::OK);
    assert!(mine.contains("Tờ khai đang soạn"), "{mine}");
    let resume = attr_after(&mine, &format!("href=\"/thu-tuc/{COPY}/to-khai?nhap="));
    let id = resume.split('&').next().unwrap().to_string();
    assert!(mine.contains(&format!("/ca-nhan/nhap/{id}/xoa")));
    let (st, html) = lan.get(&format!("{}?nhap={id}", form_path())).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("value=\"Nháp &lt;i&gt;của&lt;/i&gt; Lan\""),
        "{html}"
    );
    assert!(html.contains("value=\"0900000001\""), "not prefilled over");
    // Saving again updates the same draft.
    let mut parts = declaration(&csrf, "Lan lần hai");
    parts.push(text("_save", "1"));
    lan.post_multipart(&form_path(), multipart(&parts)).await;
    let (_, mine) = lan.get("/ca-nhan").await;
    assert_eq!(mine.matches("?nhap=").count(), 1, "{mine}");
    let (_, html) = lan.get(&format!("{}?nhap={id}", form_path())).await;
    assert!(html.contains("value=\"Lan lần hai\""));

    // Bình neither opens nor deletes it; bad ids and a forged token are refused.
    let binh = sign_in("congdan2").await;
    let (st, _) = binh.get(&format!("{}?nhap={id}", form_path())).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, bpage) = binh.get("/ca-nhan").await;
    assert!(!bpage.contains(&id));
    let bcsrf = csrf_in(&bpage);
    let del = format!("/ca-nhan/nhap/{id}/xoa");
    let (st, _) = binh.post_form(&del, &[("csrf", bcsrf.as_str())]).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = lan
        .get(&format!("{}?nhap=khong-phai-uuid", form_path()))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = lan.post_form(&del, &[("csrf", "forged")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = lan
        .post_form(
            "/ca-nhan/nhap/khong-phai-uuid/xoa",
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, to) = nobody().get(&format!("{}?nhap={id}", form_path())).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(to.starts_with("/dang-nhap"));
    let desk = sign_in("motcua.xa").await;
    let (st, _) = desk.get(&format!("{}?nhap={id}", form_path())).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Nobody signed in cannot save a draft: sign in first.
    let (st, to) = nobody().post_form(&form_path(), &[("_save", "1")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(to.starts_with("/dang-nhap"), "{to}");

    // Deleted by its owner.
    let (st, to) = lan.post_form(&del, &[("csrf", csrf.as_str())]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(to.starts_with("/ca-nhan?xoa=1"));
    let (_, mine) = lan.get(&to).await;
    assert!(!mine.contains(&id) && mine.contains("Đã xoá bản nháp"));

    // A submission deletes the draft of its procedure.
    let pdf = unique_pdf();
    let mut parts = declaration(&csrf, "Nguyễn Thị Lan");
    parts.push(Part::File("_file[giay_chung_sinh]", "ban-chinh.pdf", &pdf));
    parts.push(text("_save", "1"));
    let (st, _) = lan.post_multipart(&form_path(), multipart(&parts)).await;
    assert_eq!(st, StatusCode::OK);
    let (_, mine) = lan.get("/ca-nhan").await;
    let resume = attr_after(&mine, &format!("href=\"/thu-tuc/{COPY}/to-khai?nhap="));
    let id = resume.split('&').next().unwrap().to_string();
    let (st, resumed) = lan.get(&format!("{}?nhap={id}", form_path())).await;
    assert_eq!(st, StatusCode::OK);
    let mut parts = declaration(&csrf, "Nguyễn Thị Lan");
    parts.push(text(&format!("_uploads[{SLOT}]"), &attached_key(&resumed)));
    let (st, html) = lan.post_multipart(&form_path(), multipart(&parts)).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    let key = attached_key(&html);
    let (st, _) = submit_from(&lan, &html, json!({"_uploads": {SLOT: key}})).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, mine) = lan.get("/ca-nhan").await;
    assert!(!mine.contains(&id), "submitted: the draft is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_form_is_prefilled_from_the_profile_and_the_audited_identity_lookup() {
    server(); // before `as_user` starts the server without the database file
    // Bình declared himself on an earlier dossier.
    let pid = "079190555666";
    let (st, v) = submit_as(
        "congdan2",
        Some(
            json!({"procedure_code": "1.001193", "agency": common::agency_of("motcua.xa"),
            "applicant": {"name": "Trần Văn Bình", "personal_id": pid, "phone": "0977000111",
                          "email": "binh@example.vn"},
            "form": motcua::seed::forms::example("1.001193").unwrap()}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let binh = sign_in("congdan2").await;
    let (st, html) = binh.get(&form_path()).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("value=\"Trần Văn Bình\""), "{html}");
    assert!(html.contains(&format!("value=\"{pid}\"")), "{html}");
    assert!(html.contains("value=\"0977000111\""));
    assert!(html.contains("value=\"binh@example.vn\""));
    // What he types is his: prefill never overwrites it.
    let csrf = csrf_in(&html);
    let mut parts = declaration(&csrf, "Bình tự gõ");
    parts.retain(|p| !matches!(p, Part::Text(n, _) if n == "nguoi_yc_so_dinh_danh"));
    parts.push(text("nguoi_yc_so_dinh_danh", "001203000999"));
    parts.push(text("_choose", "x"));
    let (_, html) = binh.post_multipart(&form_path(), multipart(&parts)).await;
    assert!(html.contains("value=\"001203000999\"") && html.contains("value=\"Bình tự gõ\""));
    // Anonymous visitors get an empty form.
    let (_, anon) = nobody().get(&form_path()).await;
    assert!(!anon.contains(pid));

    // The lookup is in the audit trail, with its purpose.
    let store = Store::open(db_url()).await.unwrap();
    let user = store.user_by_username("congdan2").await.unwrap().unwrap();
    let lines = store
        .audit_trail(&AuditQuery {
            dossier_id: None,
            user_id: Some(user.id),
            before: None,
            limit: 100,
        })
        .await
        .unwrap();
    assert!(
        lines.iter().any(|l| l.action == "identity_lookup"
            && l.detail
                == format!("personal_id={pid} purpose=online_form_prefill source=local found=yes")),
        "{lines:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_of_a_superseded_version_opens_with_what_still_fits() {
    let code = "1.004845"; // Đăng ký chấm dứt giám hộ: the generic form until a new version
    let (ha, _) = sign_up("Lý Thu Hà").await;
    let path = format!("/thu-tuc/{code}/to-khai");
    let (st, html) = ha.get(&path).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    let csrf = csrf_in(&html);
    let (st, html) = ha
        .post_multipart(
            &path,
            multipart(&[
                text("csrf", &csrf),
                text("ho_ten", "Người khai nháp"),
                text("ghi_chu", "Ghi chú của bản cũ"),
                text("_save", "1"),
            ]),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("Đã lưu nháp"));

    // The administrator publishes a new version with its own form: no note field any more.
    let (st, d) = as_user(
        "quantri",
        "POST",
        &format!("/api/v1/admin/procedures/{code}/drafts"),
        Some(json!({"effective_from": "2026-01-01"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let v = d["version"].as_u64().unwrap();
    let def = json!({"id": "to-khai-cham-dut-giam-ho", "title": "Tờ khai đăng ký chấm dứt giám hộ",
        "sections": [{"id": "a", "title": "Người yêu cầu", "fields": [
            {"id": "ho_ten", "label": "Họ tên", "type": "text", "required": true},
            {"id": "ly_do", "label": "Lý do chấm dứt", "type": "select", "required": true,
             "options": [{"value": "du_tuoi", "label": "Người được giám hộ đã thành niên"}]}]}],
        "uploads": [{"id": "giay_to", "name": "Giấy tờ chứng minh", "required": true}]});
    let (st, p) = as_user(
        "quantri",
        "PUT",
        &format!("/api/v1/admin/procedures/{code}/drafts/{v}/form"),
        Some(def),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let (st, p) = as_user(
        "quantri",
        "POST",
        &format!("/api/v1/admin/procedures/{code}/drafts/{v}/publish"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{p}");

    // Her page says the procedure changed; the draft opens on the new form with what fits.
    let (_, mine) = ha.get("/ca-nhan").await;
    assert!(mine.contains("thủ tục đã có phiên bản mới"), "{mine}");
    let resume = attr_after(&mine, &format!("href=\"/thu-tuc/{code}/to-khai?nhap="));
    let id = resume.split('&').next().unwrap();
    let (st, html) = ha.get(&format!("{path}?nhap={id}")).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("value=\"Người khai nháp\""), "{html}");
    assert!(html.contains("name=\"ly_do\""), "the new form");
    assert!(
        !html.contains("Ghi chú của bản cũ"),
        "a field the form no longer has"
    );
}
