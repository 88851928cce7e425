//! The administration pages of the catalogue and the outbox (issues 3 and 7, decision 0023), over
//! real HTTP as a browser without JavaScript uses them: drafts edited, compared and published
//! until the public page shows them, agencies assigned (every commune in one action), the blank
//! declaration as a PDF, and dead letters sent again from the operator page. Bad input keeps
//! what was typed and changes nothing; nobody but an administrator gets in.

mod common;

use common::browser::{csrf_in, raw};
use common::{PASSWORD, as_user, base, send};
use motcua_store::{OutboxClaim, OutboxFailure, OutboxQuery, OutboxStatus, Store};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

/// The common test browser, reading pages with the template's HTML escapes undone.
struct Browser(common::browser::Browser);

impl Browser {
    async fn sign_in(user: &str) -> Browser {
        Browser(common::browser::Browser::sign_in(user).await)
    }

    async fn sign_in_at(at: &str, user: &str) -> Browser {
        Browser(common::browser::Browser::sign_in_at(at, user, PASSWORD).await)
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let (st, body) = self.0.get(path).await;
        (st, unescape(&body))
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let (st, body) = self.0.post_form(path, form).await;
        (st, unescape(&body))
    }

    async fn csrf(&self, path: &str) -> String {
        self.0.csrf(path).await
    }
}

/// The page's text with the template's HTML escapes undone.
fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The `n`th published procedure of the demo catalogue (each test takes its own, since the
/// tests of this file share one server).
async fn nth_procedure(n: usize) -> String {
    let (st, page) = send(None, "GET", "/api/v1/procedures?limit=50", None).await;
    assert_eq!(st, StatusCode::OK);
    page["items"][n]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("procedure {n} in {page}"))
        .to_string()
}

/// Versions and changes through the admin API (what the pages must leave alone on refusal).
async fn history(code: &str) -> Value {
    let (st, h) = as_user(
        "quantri",
        "GET",
        &format!("/api/v1/admin/procedures/{code}/versions"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{h}");
    h
}

async fn published(code: &str) -> Value {
    let (st, p) = send(None, "GET", &format!("/api/v1/procedures/{code}"), None).await;
    assert_eq!(st, StatusCode::OK, "{p}");
    p
}

/// A draft of `code` through the API; its version.
async fn api_draft(code: &str) -> u64 {
    let (st, v) = as_user(
        "quantri",
        "POST",
        &format!("/api/v1/admin/procedures/{code}/drafts"),
        Some(json!({})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["version"].as_u64().unwrap()
}

/// The editor's fields as the page shows them for a draft of `v` (a procedure version).
fn fields_of(v: &Value) -> Vec<(String, String)> {
    let lines = |a: &Value, key: &str| {
        a.as_array()
            .unwrap()
            .iter()
            .map(|x| {
                if key.is_empty() {
                    x.as_str().unwrap().to_string()
                } else {
                    x[key].as_str().unwrap().to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut f = vec![
        ("name".into(), v["name"].as_str().unwrap().to_string()),
        ("field".into(), v["field"].as_str().unwrap().to_string()),
        (
            "online_level".into(),
            v["online_level"].as_str().unwrap().to_string(),
        ),
        ("time_amount".into(), v["time_limit"]["amount"].to_string()),
        (
            "time_unit".into(),
            v["time_limit"]["unit"].as_str().unwrap().to_string(),
        ),
        ("fee".into(), v["fee_vnd"].to_string()),
        ("documents".into(), lines(&v["documents"], "name")),
        ("steps".into(), lines(&v["details"]["steps"], "")),
        (
            "where_to_submit".into(),
            v["details"]["where_to_submit"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        ),
        (
            "legal_basis".into(),
            v["details"]["legal_basis"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    let n = d["number"].as_str().unwrap();
                    let t = d["title"].as_str().unwrap();
                    if n.is_empty() {
                        t.to_string()
                    } else {
                        format!("{n} | {t}")
                    }
                })
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        (
            "decision_no".into(),
            v["decision_no"].as_str().unwrap().to_string(),
        ),
        (
            "effective_from".into(),
            v["details"]["effective_from"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        ),
        (
            "form".into(),
            if v["form"].is_null() {
                String::new()
            } else {
                serde_json::to_string_pretty(&v["form"]).unwrap()
            },
        ),
    ];
    for l in v["levels"].as_array().unwrap() {
        f.push(("levels".into(), l.as_str().unwrap().to_string()));
    }
    f
}

fn set(f: &mut [(String, String)], k: &str, value: &str) {
    for (key, v) in f.iter_mut() {
        if key == k {
            *v = value.to_string();
        }
    }
}

fn as_refs(f: &[(String, String)]) -> Vec<(&str, &str)> {
    f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn draft_of(h: &Value, version: u64) -> Value {
    h["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["version"].as_u64() == Some(version))
        .unwrap()
        .clone()
}

const FORM: &str = r#"{
  "id": "to-khai-thu-nghiem",
  "title": "Tờ khai thử nghiệm quản trị",
  "sections": [{"id": "nguoi-khai", "title": "Người khai", "fields": [
    {"id": "ho_ten", "label": "Họ và tên người khai", "type": "text", "required": true,
     "help": "Viết chữ in hoa có dấu"},
    {"id": "so_dinh_danh", "label": "Số định danh cá nhân", "type": "personal_id"}
  ]}]
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_administrators_reach_the_catalogue_and_outbox_pages() {
    let code = nth_procedure(4).await;
    let version = api_draft(&code).await;
    let pages = [
        "/quan-tri/thu-tuc".to_string(),
        format!("/quan-tri/thu-tuc/{code}"),
        format!("/quan-tri/thu-tuc/{code}/ban-nhap/{version}"),
        format!("/quan-tri/thu-tuc/{code}/ban-nhap/{version}/so-sanh"),
        "/quan-tri/gui-di".to_string(),
    ];
    let posts = [
        format!("/quan-tri/thu-tuc/{code}/ban-nhap"),
        format!("/quan-tri/thu-tuc/{code}/ban-nhap/{version}"),
        format!("/quan-tri/thu-tuc/{code}/ban-nhap/{version}/cong-bo"),
        format!("/quan-tri/thu-tuc/{code}/co-quan"),
        "/quan-tri/gui-di/gui-lai".to_string(),
        "/quan-tri/gui-di/gui-lai-tat-ca".to_string(),
        "/quan-tri/gui-di/tam-dung".to_string(),
        "/quan-tri/gui-di/gui-tiep".to_string(),
    ];
    let admin = Browser::sign_in("quantri").await;
    for p in &pages {
        let (st, html) = admin.get(p).await;
        assert_eq!(st, StatusCode::OK, "{p}: {html}");
        assert!(html.contains("/quan-tri/gui-di"), "admin navigation on {p}");
        let (st, _) = admin.get(&format!("{p}?lang=en")).await;
        assert_eq!(st, StatusCode::OK, "{p} in English");
        let res = raw().get(format!("{}{p}", base())).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{p} signed out");
        assert!(
            res.headers()[LOCATION]
                .to_str()
                .unwrap()
                .starts_with("/dang-nhap?next=")
        );
    }
    for user in ["congdan", "motcua.xa", "lanhdao.xa", "chuyenvien.xa"] {
        let b = Browser::sign_in(user).await;
        let csrf = b.csrf("/chon-vai-tro").await;
        for p in &pages {
            let (st, _) = b.get(p).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{user} GET {p}");
        }
        for p in &posts {
            let (st, _) = b
                .post(
                    p,
                    &[("csrf", &csrf), ("action", "moi_xa"), ("xac_nhan", "1")],
                )
                .await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{user} POST {p}");
        }
    }
    // The draft is still a draft, nothing was assigned.
    let h = history(&code).await;
    assert_eq!(draft_of(&h, version)["status"], "draft");
    assert_eq!(h["changes"].as_array().unwrap().len(), 1, "{h}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_edits_compares_and_publishes_a_draft_the_public_page_shows() {
    let code = nth_procedure(0).await;
    let before = published(&code).await;
    let old_name = before["procedure"]["name"].as_str().unwrap().to_string();
    let b = Browser::sign_in("quantri").await;

    // Found in the list, with its published version and no draft.
    let (st, html) = b.get(&format!("/quan-tri/thu-tuc?q={code}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains(&format!("/quan-tri/thu-tuc/{code}?")),
        "{html}"
    );
    let page = format!("/quan-tri/thu-tuc/{code}");
    let (st, html) = b.get(&page).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Tạo bản nháp từ bản công bố"));
    assert!(html.contains("Đang công bố"));
    let csrf = csrf_in(&html);

    // A draft from the published version; then its editor.
    let (st, to) = b
        .post(&format!("{page}/ban-nhap"), &[("csrf", &csrf)])
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    let version = before["procedure"]["version"].as_u64().unwrap() + 1;
    let editor = format!("{page}/ban-nhap/{version}");
    assert!(to.starts_with(&editor), "{to}");
    let (st, html) = b.get(&editor).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(&old_name));

    // Edit every kind of field at once.
    let h = history(&code).await;
    let mut f = fields_of(&draft_of(&h, version));
    f.retain(|(k, _)| k != "levels");
    f.push(("levels".into(), "province".into()));
    f.push(("levels".into(), "commune".into()));
    let new_name = format!("{old_name} (sửa đổi 2026)");
    set(&mut f, "name", &new_name);
    set(&mut f, "fee", "50000");
    set(&mut f, "time_amount", "7");
    set(&mut f, "time_unit", "working_days");
    set(&mut f, "online_level", "full");
    set(
        &mut f,
        "documents",
        "Tờ khai theo mẫu\nBản sao giấy tờ tùy thân",
    );
    set(
        &mut f,
        "legal_basis",
        "60/2014/QH13 | Luật Hộ tịch\nNghị định hướng dẫn thi hành",
    );
    set(&mut f, "decision_no", "999/QĐ-UBND");
    set(&mut f, "effective_from", "2026-12-15");
    set(&mut f, "form", FORM);
    f.push(("csrf".into(), csrf.clone()));
    let (st, to) = b.post(&editor, &as_refs(&f)).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    let d = draft_of(&history(&code).await, version);
    assert_eq!(d["name"], new_name.as_str());
    assert_eq!(d["fee_vnd"], 50000);
    assert_eq!(
        d["time_limit"],
        json!({"amount": 7, "unit": "working_days"})
    );
    assert_eq!(d["online_level"], "full");
    assert_eq!(d["levels"], json!(["province", "commune"]));
    assert_eq!(d["documents"][1]["name"], "Bản sao giấy tờ tùy thân");
    assert_eq!(
        d["details"]["legal_basis"],
        json!([{"title": "Luật Hộ tịch", "number": "60/2014/QH13"},
               {"title": "Nghị định hướng dẫn thi hành", "number": ""}])
    );
    assert_eq!(d["decision_no"], "999/QĐ-UBND");
    assert_eq!(d["details"]["effective_from"], "2026-12-15");
    assert_eq!(d["form"]["id"], "to-khai-thu-nghiem");
    // Saving the same thing again changes nothing and says so in the history (no fields).
    let (st, _) = b.post(&editor, &as_refs(&f)).await;
    assert_eq!(st, StatusCode::SEE_OTHER);

    // The comparison shows both sides; the public page still shows the published version.
    let (st, html) = b.get(&format!("{editor}/so-sanh")).await;
    assert_eq!(st, StatusCode::OK);
    for want in [
        old_name.as_str(),
        new_name.as_str(),
        "Tên thủ tục",
        "Căn cứ pháp lý",
        "60/2014/QH13 | Luật Hộ tịch",
        "Biểu mẫu điện tử",
        "Phí, lệ phí (đồng)",
    ] {
        assert!(html.contains(want), "{want} missing in the comparison");
    }
    let res = raw()
        .get(format!("{}/thu-tuc/{code}", base()))
        .send()
        .await
        .unwrap();
    let public = unescape(&res.text().await.unwrap());
    assert!(!public.contains(&new_name));

    // Publishing needs the confirmation box.
    let (st, html) = b
        .post(&format!("{editor}/cong-bo"), &[("csrf", &csrf)])
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("xác nhận"));
    assert_eq!(draft_of(&history(&code).await, version)["status"], "draft");
    let (st, to) = b
        .post(
            &format!("{editor}/cong-bo"),
            &[("csrf", &csrf), ("xac_nhan", "1")],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    assert!(to.starts_with(&page));

    // The public page shows the new version at once; the old one is superseded.
    let res = raw()
        .get(format!("{}/thu-tuc/{code}", base()))
        .send()
        .await
        .unwrap();
    let public = unescape(&res.text().await.unwrap());
    assert!(public.contains(&new_name), "public page after publishing");
    assert!(public.contains("999/QĐ-UBND"));
    assert!(public.contains("Luật Hộ tịch"));
    let h = history(&code).await;
    assert_eq!(draft_of(&h, version)["status"], "published");
    assert_eq!(draft_of(&h, version - 1)["status"], "superseded");

    // Every change is attributed, and the page shows who did it.
    let actions: Vec<&str> = h["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["version"].as_u64() == Some(version))
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["draft_created", "draft_edited", "draft_edited", "published"]
    );
    let (_, html) = b.get(&page).await;
    assert!(html.contains("Quản trị hệ thống"), "the author's name");
    assert!(html.contains("Công bố") && html.contains("Sửa bản nháp"));
    assert!(html.contains("Đã thay thế"));

    // The blank form now prints the new e-form.
    let res = raw()
        .get(format!("{}/thu-tuc/{code}/mau-to-khai.pdf", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = pdf_text(&res.bytes().await.unwrap());
    assert!(text.contains("TỜKHAITHỬNGHIỆMQUẢNTRỊ"), "{text}");
    assert!(text.contains("Họvàtênngườikhai(*)"));
    assert!(text.contains("Viếtchữinhoacódấu"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_keeps_what_was_typed_and_changes_nothing() {
    let code = nth_procedure(1).await;
    let version = api_draft(&code).await;
    let b = Browser::sign_in("quantri").await;
    let editor = format!("/quan-tri/thu-tuc/{code}/ban-nhap/{version}");
    let csrf = b.csrf(&editor).await;
    let before = history(&code).await;
    let base_fields = fields_of(&draft_of(&before, version));
    let typed_name = "Tên mới chưa được lưu";
    let with = |k: &str, v: &str, token: &str| {
        let mut f = base_fields.clone();
        set(&mut f, "name", typed_name);
        set(&mut f, k, v);
        f.push(("csrf".into(), token.into()));
        f
    };

    // The form without the session's token.
    let f = with("fee", "1000", "not-the-token");
    let (st, _) = b.post(&editor, &as_refs(&f)).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    for (k, v, shown) in [
        ("form", "{ không phải json", "JSON không hợp lệ"),
        (
            "form",
            r#"{"id": "Sai Id", "title": "x", "sections": []}"#,
            "problem(s) in the definition",
        ),
        ("form", r#"{"id": "x", "unknown": 1}"#, "expected shape"),
        ("effective_from", "31/12/2026", "năm-tháng-ngày"),
        ("effective_from", "2026-02-30", "năm-tháng-ngày"),
        ("fee", "mười nghìn", "đồng"),
        ("fee", "-5", "between 0"),
        ("time_amount", "0", "between 1 and 3650"),
        ("time_amount", "năm", "working days"),
        ("name", "", "must not be empty"),
        ("online_level", "sometimes", "online level"),
        ("levels", "galaxy", "galaxy"),
    ] {
        let f = with(k, v, &csrf);
        let (st, html) = b.post(&editor, &as_refs(&f)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{k}={v}: {html}");
        assert!(html.contains(shown), "{k}={v}: {shown} not shown");
        if k != "name" {
            assert!(html.contains(typed_name), "{k}={v}: the typed name is kept");
        }
        if k != "online_level" && k != "levels" {
            assert!(html.contains(v), "{k}={v}: the typed value is kept");
        }
        assert!(html.contains("id=\"err-"), "error next to a field");
    }
    assert_eq!(history(&code).await, before, "nothing changed");

    // Unknown codes and versions, and versions that are not drafts.
    let published_version = version - 1;
    for (p, want) in [
        (
            "/quan-tri/thu-tuc/9.999999".to_string(),
            StatusCode::NOT_FOUND,
        ),
        (
            "/quan-tri/thu-tuc/khong-phai-ma".to_string(),
            StatusCode::NOT_FOUND,
        ),
        (
            "/quan-tri/thu-tuc/9.999999/ban-nhap/1".to_string(),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/quan-tri/thu-tuc/{code}/ban-nhap/99"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/quan-tri/thu-tuc/{code}/ban-nhap/abc"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/quan-tri/thu-tuc/{code}/ban-nhap/{published_version}"),
            StatusCode::CONFLICT,
        ),
        (
            format!("/quan-tri/thu-tuc/{code}/ban-nhap/{published_version}/so-sanh"),
            StatusCode::CONFLICT,
        ),
    ] {
        let (st, html) = b.get(&p).await;
        assert_eq!(st, want, "GET {p}: {html}");
        assert!(html.contains("<h1>"), "a friendly page for {p}");
    }
    let f = with("fee", "1000", &csrf);
    let (st, _) = b
        .post("/quan-tri/thu-tuc/9.999999/ban-nhap/1", &as_refs(&f))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = b
        .post(
            &format!("/quan-tri/thu-tuc/{code}/ban-nhap/{published_version}"),
            &as_refs(&f),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);

    // A second draft while one exists: refused on the procedure page.
    let (st, html) = b
        .post(
            &format!("/quan-tri/thu-tuc/{code}/ban-nhap"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{html}");
    assert!(html.contains("already a draft"));

    // Publishing: without the token, or the unknown.
    let (st, _) = b
        .post(
            &format!("{editor}/cong-bo"),
            &[("csrf", "x"), ("xac_nhan", "1")],
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = b
        .post(
            "/quan-tri/thu-tuc/9.999999/ban-nhap/1/cong-bo",
            &[("csrf", &csrf), ("xac_nhan", "1")],
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Agencies: unknown agency, malformed code, one not assigned, an unknown action, no token.
    let assign = format!("/quan-tri/thu-tuc/{code}/co-quan");
    let agencies_before = published(&code).await["receiving_agencies"].clone();
    for (action, agency, status, shown) in [
        (
            "them",
            "H40.99999",
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown agency H40.99999",
        ),
        (
            "them",
            "khong-phai-ma",
            StatusCode::UNPROCESSABLE_ENTITY,
            "khong-phai-ma",
        ),
        (
            "bo",
            "H40.99999",
            StatusCode::UNPROCESSABLE_ENTITY,
            "không được giao",
        ),
        (
            "xoa-het",
            "",
            StatusCode::UNPROCESSABLE_ENTITY,
            "Unknown action",
        ),
    ] {
        let (st, html) = b
            .post(
                &assign,
                &[("csrf", &csrf), ("action", action), ("agency", agency)],
            )
            .await;
        assert_eq!(st, status, "{action} {agency}: {html}");
        assert!(html.contains(shown), "{action} {agency}: {shown}");
    }
    let (st, _) = b
        .post(&assign, &[("csrf", "x"), ("action", "moi_xa")])
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = b
        .post(
            "/quan-tri/thu-tuc/9.999999/co-quan",
            &[("csrf", &csrf), ("action", "moi_xa")],
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(
        published(&code).await["receiving_agencies"],
        agencies_before
    );
    assert_eq!(history(&code).await, before, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agencies_are_added_and_removed_and_every_commune_in_one_action() {
    let (_, agencies) = send(None, "GET", "/api/v1/agencies", None).await;
    let agencies = agencies.as_array().unwrap().clone();
    let communes: Vec<String> = agencies
        .iter()
        .filter(|a| a["kind"] == "commune_committee" && a["has_desk"] == true)
        .map(|a| a["code"].as_str().unwrap().to_string())
        .collect();
    assert!(communes.len() > 1);
    let is_commune = |c: &str| communes.iter().any(|x| x == c);
    // A procedure received somewhere other than a commune, so removing communes leaves one.
    let mut code = String::new();
    for n in 5..50 {
        let c = nth_procedure(n).await;
        let p = published(&c).await;
        if p["receiving_agencies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| !is_commune(a.as_str().unwrap()))
        {
            code = c;
            break;
        }
    }
    assert!(!code.is_empty());
    let assigned = |p: &Value| -> Vec<String> {
        p["receiving_agencies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect()
    };
    let b = Browser::sign_in("quantri").await;
    let page = format!("/quan-tri/thu-tuc/{code}");
    let csrf = b.csrf(&page).await;
    let assign = format!("{page}/co-quan");

    let (st, to) = b
        .post(&assign, &[("csrf", &csrf), ("action", "moi_xa")])
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    let now = assigned(&published(&code).await);
    for c in &communes {
        assert!(now.contains(c), "{c} assigned");
    }
    let (_, html) = b.get(&page).await;
    assert!(html.contains(&format!("{} xã, phường", communes.len())));

    let (st, _) = b
        .post(&assign, &[("csrf", &csrf), ("action", "bo_moi_xa")])
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let now = assigned(&published(&code).await);
    assert!(
        !now.is_empty() && now.iter().all(|a| !is_commune(a)),
        "{now:?}"
    );

    // One agency in, then out again.
    let extra = communes[0].clone();
    let (st, _) = b
        .post(
            &assign,
            &[("csrf", &csrf), ("action", "them"), ("agency", &extra)],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(assigned(&published(&code).await).contains(&extra));
    // The public page lists it.
    let res = raw()
        .get(format!("{}/thu-tuc/{code}", base()))
        .send()
        .await
        .unwrap();
    let public = unescape(&res.text().await.unwrap());
    let extra_name = agencies
        .iter()
        .find(|a| a["code"] == extra.as_str())
        .unwrap()["name"]
        .as_str()
        .unwrap();
    assert!(public.contains(extra_name));
    let (st, _) = b
        .post(
            &assign,
            &[("csrf", &csrf), ("action", "bo"), ("agency", &extra)],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(!assigned(&published(&code).await).contains(&extra));

    // Removing the last agency is refused and changes nothing.
    let left = assigned(&published(&code).await);
    if left.len() == 1 {
        let (st, html) = b
            .post(
                &assign,
                &[("csrf", &csrf), ("action", "bo"), ("agency", &left[0])],
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
        assert_eq!(assigned(&published(&code).await), left);
    }
    let h = history(&code).await;
    let changes: Vec<&Value> = h["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "agencies_assigned")
        .collect();
    assert_eq!(changes.len(), 4);
    assert!(changes.iter().all(|c| {
        c["actor"]
            .as_str()
            .unwrap()
            .starts_with("Quản trị hệ thống")
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_edits_levels_and_legal_basis_and_refuses_bad_ones() {
    let code = nth_procedure(2).await;
    let version = api_draft(&code).await;
    let path = format!("/api/v1/admin/procedures/{code}/drafts/{version}");
    let before = history(&code).await;
    for body in [
        json!({"levels": []}),
        json!({"levels": ["galaxy"]}),
        json!({"legal_basis": [{"title": "", "number": "1/2020"}]}),
        json!({"legal_basis": [{"title": "x".repeat(1001), "number": ""}]}),
    ] {
        let (st, p) = as_user("quantri", "PATCH", &path, Some(body.clone())).await;
        assert!(st == StatusCode::UNPROCESSABLE_ENTITY, "{body}: {st} {p}");
    }
    assert_eq!(history(&code).await, before);
    let (st, v) = as_user(
        "quantri",
        "PATCH",
        &path,
        Some(json!({"levels": ["commune", "province", "commune"],
                    "legal_basis": [{"title": "Luật Hộ tịch", "number": "60/2014/QH13"}]})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["levels"], json!(["province", "commune"]));
    assert_eq!(v["details"]["legal_basis"][0]["number"], "60/2014/QH13");
    let h = history(&code).await;
    let last = h["changes"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["note"], "levels, legal_basis");

    // Documented, and every schema the document refers to is in it.
    let (_, spec) = send(None, "GET", "/api/openapi.json", None).await;
    let props = &spec["components"]["schemas"]["DraftEdit"]["properties"];
    assert!(props.get("levels").is_some() && props.get("legal_basis").is_some());
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x) {
                        ("$ref", Value::String(r)) => out.push(r.clone()),
                        _ => refs(x, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&spec, &mut all);
    for r in all {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(
            spec["components"]["schemas"].get(name).is_some(),
            "{r} is not in the document"
        );
    }
}

fn pdf_text(body: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(body).expect("a PDF lopdf reads");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_page_offers_the_blank_form_as_a_pdf() {
    let code = "1.001193";
    let res = raw()
        .get(format!("{}/thu-tuc/{code}", base()))
        .send()
        .await
        .unwrap();
    let html = unescape(&res.text().await.unwrap());
    assert!(html.contains("Tải mẫu tờ khai (PDF)"));
    assert!(html.contains(&format!("/thu-tuc/{code}/mau-to-khai.pdf")));

    let (st, form) = send(
        None,
        "GET",
        &format!("/api/v1/procedures/{code}/form"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let res = raw()
        .get(format!("{}/thu-tuc/{code}/mau-to-khai.pdf", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("mau-to-khai-{code}.pdf"))
    );
    let text = pdf_text(&res.bytes().await.unwrap());
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let title = form["form"]["title"]["vi"].as_str().unwrap();
    assert!(
        text.contains(&squash(&title.to_uppercase())),
        "{title} in {text}"
    );
    let first = &form["form"]["sections"][0];
    assert!(text.contains(&squash(first["title"]["vi"].as_str().unwrap())));
    for f in first["fields"].as_array().unwrap() {
        let label = squash(f["label"]["vi"].as_str().unwrap());
        assert!(text.contains(&label), "{label} in {text}");
        if let Some(h) = f["help"]["vi"].as_str() {
            assert!(text.contains(&squash(h)), "help {h}");
        }
    }
    assert!(text.contains("NGƯỜIKHAI"));

    for (path, shown) in [
        (
            "/thu-tuc/9.999999/mau-to-khai.pdf",
            "Không tìm thấy thủ tục",
        ),
        (
            "/thu-tuc/khong-co/mau-to-khai.pdf",
            "Không tìm thấy thủ tục",
        ),
        (
            "/thu-tuc/9.999999/mau-to-khai.pdf?lang=en",
            "Procedure not found",
        ),
    ] {
        let res = raw().get(format!("{}{path}", base())).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(
            unescape(&res.text().await.unwrap()).contains(shown),
            "{path}"
        );
    }
}

/// A server of its own, whose store the test reaches to make dead letters as the dispatcher
/// would after its last attempt.
async fn own_server() -> (String, Store) {
    let store = Store::open("sqlite::memory:").await.expect("open store");
    motcua::seed::seed(&store, &motcua_web::auth::hash_password)
        .await
        .expect("seed");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = motcua_web::AppState::new(store.clone());
    tokio::spawn(async move { motcua_web::serve(listener, state).await.unwrap() });
    (url, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_sent_again_from_the_operator_page_and_leave_the_list() {
    let (url, store) = own_server().await;
    let http = reqwest::Client::new();
    let token = |user: &'static str| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let v: Value = http
                .post(format!("{url}/api/v1/auth/token"))
                .json(&json!({"username": user, "password": PASSWORD}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["token"].as_str().unwrap().to_string()
        }
    };
    let citizen = token("congdan").await;
    let desk = token("motcua.xa").await;
    let agency = common::agency_of("motcua.xa");
    // Three received dossiers: each writes a message to the national portal.
    for _ in 0..3 {
        let d: Value = http
            .post(format!("{url}/api/v1/dossiers"))
            .bearer_auth(&citizen)
            .json(
                &common::with_required_documents_at(
                    &url,
                    &citizen,
                    json!({
                        "procedure_code": "1.001193",
                        "agency": agency,
                        "applicant": {"name": "Phạm Văn Bình", "personal_id": "068190001234"},
                        "documents": [{"name": "Tờ khai"}],
                        "form": motcua::seed::forms::example("1.001193").unwrap(),
                    }),
                )
                .await,
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = d["dossier"]["id"].as_str().unwrap();
        let res = http
            .post(format!("{url}/api/v1/dossiers/{id}/actions/receive"))
            .bearer_auth(&desk)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    // The portal refuses each one for the last time.
    let now = chrono::Utc::now();
    let claimed = store
        .outbox_claim(OutboxClaim {
            owner: "test".into(),
            topic: Some("dvcqg.sync".into()),
            limit: 10,
            now,
            lease: chrono::Duration::seconds(60),
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 3, "{claimed:?}");
    for m in &claimed {
        let st = store
            .outbox_fail(OutboxFailure {
                id: m.id,
                owner: "test".into(),
                error: "Mã TTHC không tồn tại trên Cổng".into(),
                now,
                retry_at: now,
                max_attempts: 1,
            })
            .await
            .unwrap();
        assert_eq!(st, Some(OutboxStatus::Dead));
    }
    let ids: Vec<i64> = claimed.iter().map(|m| m.id).collect();

    let b = Browser::sign_in_at(&url, "quantri").await;
    let (st, html) = b.get("/quan-tri/gui-di").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("dvcqg.sync"));
    assert!(html.contains("Mã TTHC không tồn tại trên Cổng"));
    assert!(html.contains("Gửi lại tất cả"));
    for id in &ids {
        assert!(html.contains(&format!("name=\"id\" value=\"{id}\"")));
    }
    assert!(!html.contains("MaHoSo"), "message bodies are not shown");
    let csrf = csrf_in(&html);
    let (st, html) = b.get("/quan-tri/gui-di?lang=en").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Send all again"));

    // Bad input: no token, not a number, unknown, not a dead letter, no target.
    let (st, _) = b
        .post(
            "/quan-tri/gui-di/gui-lai",
            &[("csrf", "x"), ("id", &ids[0].to_string())],
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = b
        .post(
            "/quan-tri/gui-di/gui-lai-tat-ca",
            &[("csrf", "x"), ("topic", "dvcqg.sync")],
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    for (path, form, want) in [
        (
            "/quan-tri/gui-di/gui-lai",
            ("id", "abc"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/quan-tri/gui-di/gui-lai",
            ("id", "999999"),
            StatusCode::NOT_FOUND,
        ),
        (
            "/quan-tri/gui-di/gui-lai-tat-ca",
            ("topic", ""),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (st, html) = b.post(path, &[("csrf", &csrf), form]).await;
        assert_eq!(st, want, "{path} {form:?}: {html}");
        assert!(html.contains("Chưa gửi lại được"), "{path} {form:?}");
    }
    let dead = |store: Store| async move {
        store
            .outbox_list(OutboxQuery {
                status: Some(OutboxStatus::Dead),
                ..OutboxQuery::default()
            })
            .await
            .unwrap()
            .len()
    };
    assert_eq!(dead(store.clone()).await, 3, "refusals changed nothing");

    // One sent again: it leaves the list.
    let (st, to) = b
        .post(
            "/quan-tri/gui-di/gui-lai",
            &[("csrf", &csrf), ("id", &ids[0].to_string())],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    let (_, html) = b.get(&to).await;
    assert!(html.contains("Đã đưa lại vào hàng đợi: 1"));
    assert!(!html.contains(&format!("name=\"id\" value=\"{}\"", ids[0])));
    assert_eq!(
        store.outbox_get(ids[0]).await.unwrap().unwrap().status,
        OutboxStatus::Pending
    );
    // Sending it again now: it is not a dead letter any more.
    let (st, html) = b
        .post(
            "/quan-tri/gui-di/gui-lai",
            &[("csrf", &csrf), ("id", &ids[0].to_string())],
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{html}");

    // The rest of the target at once.
    let (st, to) = b
        .post(
            "/quan-tri/gui-di/gui-lai-tat-ca",
            &[("csrf", &csrf), ("topic", "dvcqg.sync")],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, html) = b.get(&to).await;
    assert!(html.contains("Đã đưa lại vào hàng đợi: 2"));
    assert!(html.contains("Không có thư chết nào."));
    assert_eq!(dead(store.clone()).await, 0);

    // The retries are in the audit trail, under the administrator's name.
    let audit = store
        .audit_trail(&motcua_store::AuditQuery {
            dossier_id: None,
            user_id: None,
            before: None,
            limit: 500,
        })
        .await
        .unwrap();
    let retries: Vec<_> = audit
        .iter()
        .filter(|a| a.action.starts_with("outbox_retry"))
        .collect();
    assert_eq!(retries.len(), 2, "{retries:?}");
    assert!(retries.iter().all(|a| a.username == "Quản trị hệ thống"));

    // Holding a target (decision 0053): bad input first, then held, shown, released.
    let (_, html) = b.get("/quan-tri/gui-di").await;
    assert!(html.contains("Tạm dừng gửi"));
    assert!(
        html.contains("name=\"topic\" value=\"vnpost.order\""),
        "every target listed"
    );
    for (form, want) in [
        (
            [("topic", "dvcqg.sync"), ("reason", " ")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            [("topic", "ftp"), ("reason", "bảo trì")],
            StatusCode::NOT_FOUND,
        ),
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(form);
        let (st, html) = b.post("/quan-tri/gui-di/tam-dung", &f).await;
        assert_eq!(st, want, "{form:?}: {html}");
        assert!(
            html.contains("Chưa tạm dừng hay cho gửi tiếp được"),
            "{form:?}"
        );
    }
    let (st, _) = b
        .post(
            "/quan-tri/gui-di/tam-dung",
            &[
                ("csrf", "x"),
                ("topic", "dvcqg.sync"),
                ("reason", "bảo trì"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "no token");
    assert!(
        store.outbox_holds().await.unwrap().is_empty(),
        "nothing held"
    );
    let (st, to) = b
        .post(
            "/quan-tri/gui-di/tam-dung",
            &[
                ("csrf", &csrf),
                ("topic", "dvcqg.sync"),
                ("reason", "Cổng DVCQG bảo trì tối nay"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    let (_, html) = b.get(&to).await;
    assert!(html.contains("Đã tạm dừng gửi tới dvcqg.sync"), "{html}");
    assert!(html.contains("Cổng DVCQG bảo trì tối nay"));
    assert!(html.contains("Cho gửi tiếp"));
    let holds = store.outbox_holds().await.unwrap();
    assert_eq!(holds.len(), 1);
    assert_eq!(holds[0].by, "Quản trị hệ thống");
    let (st, to) = b
        .post(
            "/quan-tri/gui-di/gui-tiep",
            &[("csrf", &csrf), ("topic", "dvcqg.sync")],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, html) = b.get(&format!("{to}&lang=en")).await;
    assert!(html.contains("Deliveries released to dvcqg.sync"), "{html}");
    assert!(store.outbox_holds().await.unwrap().is_empty());
    // Releasing what is not held: a clear refusal.
    let (st, html) = b
        .post(
            "/quan-tri/gui-di/gui-tiep",
            &[("csrf", &csrf), ("topic", "dvcqg.sync")],
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{html}");
    assert!(html.contains("không bị tạm dừng"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_procedure_never_published_is_listed_and_published_from_the_pages() {
    let (url, store) = own_server().await;
    // As the import stores a record whose time limit it cannot read: a draft, nothing else.
    let mut rec = store
        .published_procedure("1.001193")
        .await
        .unwrap()
        .unwrap();
    rec.version.code = "1.999991".parse().unwrap();
    rec.version.version = 1;
    rec.version.status = motcua_domain::procedure::VersionStatus::Draft;
    rec.version.name = "Thủ tục chưa từng công bố".into();
    rec.version.details.effective_from = chrono::NaiveDate::from_ymd_opt(2026, 12, 1);
    store.upsert_procedure(rec).await.unwrap();

    let b = Browser::sign_in_at(&url, "quantri").await;
    let (st, html) = b.get("/quan-tri/thu-tuc?chua_cong_bo=1").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("1.999991") && html.contains("Thủ tục chưa từng công bố"));
    let (_, html) = b.get("/quan-tri/thu-tuc?chua_cong_bo=1&q=chua+tung").await;
    assert!(html.contains("1.999991"));
    let (_, html) = b.get("/quan-tri/thu-tuc?q=chua+tung").await;
    assert!(!html.contains("1.999991"), "not among the published");
    let (st, html) = b.get("/quan-tri/thu-tuc/1.999991").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Bản nháp") && !html.contains("Tạo bản nháp"));
    let csrf = csrf_in(&html);
    let (st, html) = b.get("/quan-tri/thu-tuc/1.999991/ban-nhap/1/so-sanh").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("bản công bố đầu tiên"));
    let res = raw()
        .get(format!("{url}/thu-tuc/1.999991"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let (st, to) = b
        .post(
            "/quan-tri/thu-tuc/1.999991/ban-nhap/1/cong-bo",
            &[("csrf", &csrf), ("xac_nhan", "1")],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    let res = raw()
        .get(format!("{url}/thu-tuc/1.999991"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (_, html) = b.get("/quan-tri/thu-tuc?chua_cong_bo=1").await;
    assert!(!html.contains("1.999991"));
}
