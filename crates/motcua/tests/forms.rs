//! E-forms from outside, over HTTP against the seeded demo: the public form of a procedure,
//! server-side validation of submissions, administrators putting a form on a draft, and the
//! form page without JavaScript (bad input, escaping, add a row, communes of a province).

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const BIRTH: &str = "1.001193";
/// Đăng ký thường trú: a form with a group of household members and an address.
const RESIDENCE: &str = "1.004222";

fn commune() -> String {
    agency_of("motcua.xa")
}

/// Flattens JSON values into urlencoded pairs the way the page names its inputs.
fn pairs(v: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, x) in v.as_object().unwrap() {
        match x {
            Value::Object(m) => {
                for (p, y) in m {
                    out.push((format!("{k}[{p}]"), y.as_str().unwrap().to_string()));
                }
            }
            Value::Array(rows) => {
                for (i, r) in rows.iter().enumerate() {
                    for (p, y) in r.as_object().unwrap() {
                        let s = match y {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        out.push((format!("{k}[{i}][{p}]"), s));
                    }
                }
            }
            Value::Bool(true) => out.push((k.clone(), "on".into())),
            Value::Bool(false) => {}
            Value::String(s) => out.push((k.clone(), s.clone())),
            other => out.push((k.clone(), other.to_string())),
        }
    }
    out
}

async fn post_page(code: &str, body: &[(String, String)]) -> (StatusCode, String) {
    let res = client()
        .post(format!("{}/thu-tuc/{code}/to-khai", base()))
        .form(body)
        .send()
        .await
        .unwrap();
    let st = res.status();
    (st, res.text().await.unwrap())
}

fn kv(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_procedure_serves_its_own_form_or_the_generic_one() {
    let (st, f) = send(
        None,
        "GET",
        &format!("/api/v1/procedures/{BIRTH}/form"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{f}");
    assert_eq!(f["generic"], false);
    assert_eq!(f["form"]["id"], "to-khai-dang-ky-khai-sinh");
    assert_eq!(f["form"]["uploads"][0]["id"], "giay_chung_sinh");

    let province = motcua::seed::codes::PROC_PROVINCE;
    let (st, g) = send(
        None,
        "GET",
        &format!("/api/v1/procedures/{province}/form"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(g["generic"], true);
    assert_eq!(g["form"]["sections"][0]["fields"][0]["id"], "ho_ten");
    let (_, p) = send(None, "GET", &format!("/api/v1/procedures/{province}"), None).await;
    assert_eq!(
        g["form"]["uploads"].as_array().unwrap().len(),
        p["procedure"]["documents"].as_array().unwrap().len(),
        "one upload slot per document"
    );

    let (st, _) = send(None, "GET", "/api/v1/procedures/9.999999/form", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, e) = send(None, "GET", "/api/v1/procedures/khai-sinh/form", None).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_submissions_must_attach_every_required_document() {
    let t = token("congdan2").await;
    let body = |docs: Value| {
        json!({"procedure_code": BIRTH, "agency": commune(), "documents": docs,
               "form": motcua::seed::forms::example(BIRTH).unwrap(),
               "applicant": {"name": "Trần Văn Bình", "personal_id": "068190001234"}})
    };
    let required = required_documents(&t, BIRTH).await;
    assert!(
        !required.is_empty(),
        "the birth form has required documents"
    );
    let (_, before) = send(Some(&t), "GET", "/api/v1/dossiers?limit=200", None).await;

    // Named but without a file, or one of them left out: refused, each missing one named.
    let named: Vec<Value> = required
        .iter()
        .map(|d| json!({"name": d["name"]}))
        .collect();
    let (st, p) = send(
        Some(&t),
        "POST",
        "/api/v1/dossiers",
        Some(body(json!(named))),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["type"], "https://motcua.dev/problems/invalid-form");
    let errors = p["errors"].as_array().unwrap();
    assert_eq!(errors.len(), required.len(), "{p}");
    assert!(
        errors
            .iter()
            .all(|e| e["path"].as_str().unwrap().starts_with("_uploads."))
    );
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("Chưa đính kèm")
    );
    if required.len() > 1 {
        let (st, p) = send(
            Some(&t),
            "POST",
            "/api/v1/dossiers",
            Some(body(json!(required[1..]))),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(p["errors"].as_array().unwrap().len(), 1, "{p}");
    }
    let (_, after) = send(Some(&t), "GET", "/api/v1/dossiers?limit=200", None).await;
    assert_eq!(
        before["items"].as_array().unwrap().len(),
        after["items"].as_array().unwrap().len(),
        "nothing was stored"
    );
    let (st, v) = send(
        Some(&t),
        "POST",
        "/api/v1/dossiers",
        Some(body(json!(required))),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    // Or through the declaration's upload slots (`form._uploads`, slot id -> file).
    let (_, def) = send(
        None,
        "GET",
        &format!("/api/v1/procedures/{BIRTH}/form"),
        None,
    )
    .await;
    let mut with_slots = body(json!([]));
    for slot in def["form"]["uploads"].as_array().unwrap() {
        if slot["required"] == true {
            with_slots["form"]["_uploads"][slot["id"].as_str().unwrap()] =
                required[0]["file"].clone();
        }
    }
    let (st, v) = send(Some(&t), "POST", "/api/v1/dossiers", Some(with_slots)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    // A desk officer receiving paper at the counter checks the paper instead.
    let (st, v) = as_user(
        "motcua.xa",
        "POST",
        "/api/v1/dossiers",
        Some(
            json!({"procedure_code": BIRTH, "agency": commune(), "channel": "counter",
                    "applicant": {"name": "Trần Văn Bình"}}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_are_checked_against_the_form() {
    let submit = |form: Value| {
        let body = json!({"procedure_code": BIRTH, "agency": commune(), "form": form,
                          "applicant": {"name": "Nguyễn Thị Lan", "personal_id": "068190001234", "phone": "0912345678"}});
        async move { submit_as("congdan", Some(body)).await }
    };
    let (_, before) = as_user("congdan", "GET", "/api/v1/dossiers?limit=200", None).await;

    // Bad input: every error comes back with its path; nothing is written.
    let (st, p) = submit(json!({"ho_ten": "<b>An</b>", "ngay_sinh": "31/02/2026", "gioi_tinh": "khac",
                                "me_noi_cu_tru": {"province": "68", "commune": "00004", "street": "x"}}))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["type"], "https://motcua.dev/problems/invalid-form");
    assert_eq!(p["field"], "form");
    let errors = p["errors"].as_array().unwrap();
    let path = |x: &str| errors.iter().find(|e| e["path"] == x).cloned();
    assert!(
        path("ngay_sinh").unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("Ngày không hợp lệ")
    );
    assert!(path("gioi_tinh").is_some());
    assert!(path("me_noi_cu_tru.commune").is_some());
    assert!(
        path("me_ho_ten").unwrap()["message_en"]
            .as_str()
            .unwrap()
            .contains("required")
    );
    assert!(path("cam_doan").is_some());
    assert!(
        path("nguoi_yc_ho_ten").is_none(),
        "prefilled from the applicant: {p}"
    );
    let (st, _) = submit(json!("not an object")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, after) = as_user("congdan", "GET", "/api/v1/dossiers?limit=200", None).await;
    assert_eq!(
        before["items"].as_array().unwrap().len(),
        after["items"].as_array().unwrap().len()
    );

    // The shipped example passes; the dossier keeps the normalised, visible values.
    let mut ex = motcua::seed::forms::example(BIRTH).unwrap();
    ex["dien_thoai"] = json!("+84 912 345 678");
    ex["co_thong_tin_cha"] = json!(false);
    let (st, v) = submit(ex).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let kept = &v["dossier"]["form"];
    assert_eq!(kept["dien_thoai"], "0912345678");
    assert_eq!(
        kept["me_noi_cu_tru"]["text"],
        "12 Trần Phú, Phường Xuân Hương - Đà Lạt, Tỉnh Lâm Đồng"
    );
    assert!(
        kept.get("cha_ho_ten").is_none(),
        "the hidden father section is not kept"
    );
    assert_eq!(v["dossier"]["procedure"]["version"], 1);

    // At the counter the paper declaration may stand in for an empty form.
    let (st, v) = as_user(
        "motcua.xa",
        "POST",
        "/api/v1/dossiers",
        Some(json!({
        "procedure_code": BIRTH, "agency": commune(), "channel": "counter",
        "applicant": {"name": "Trần Văn Bình"}, "form": {}})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, _) = as_user(
        "motcua.xa",
        "POST",
        "/api/v1/dossiers",
        Some(json!({
        "procedure_code": BIRTH, "agency": commune(), "channel": "counter",
        "applicant": {"name": "Trần Văn Bình"}, "form": {"ho_ten": "X"}})),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a non-empty form is checked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_put_a_form_on_a_draft_and_publish_it() {
    let code = "1.004845"; // Đăng ký chấm dứt giám hộ: generic until now
    let (_, g) = send(
        None,
        "GET",
        &format!("/api/v1/procedures/{code}/form"),
        None,
    )
    .await;
    assert_eq!(g["generic"], true);
    let (st, d) = as_user(
        "quantri",
        "POST",
        &format!("/api/v1/admin/procedures/{code}/drafts"),
        Some(json!({"effective_from": "2026-01-01"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let v = d["version"].as_u64().unwrap();
    let path = format!("/api/v1/admin/procedures/{code}/drafts/{v}/form");

    let def = json!({"id": "to-khai-cham-dut-giam-ho", "title": "Tờ khai đăng ký chấm dứt giám hộ",
        "sections": [{"id": "a", "title": "Người yêu cầu", "fields": [
            {"id": "ho_ten", "label": "Họ tên", "type": "text", "required": true, "prefill": "applicant.name"},
            {"id": "ly_do", "label": "Lý do chấm dứt", "type": "select", "required": true,
             "options": [{"value": "du_tuoi", "label": "Người được giám hộ đã thành niên"}, {"value": "khac", "label": "Khác"}]},
            {"id": "ly_do_khac", "label": "Lý do khác", "type": "textarea", "required": true,
             "visible_if": {"field": "ly_do", "equals": "khac"}}]}],
        "uploads": [{"id": "giay_to", "name": "Giấy tờ chứng minh", "required": true}]});

    // Not an administrator; not JSON; not a definition; a definition that does not check out.
    let (st, _) = as_user("congdan", "PUT", &path, Some(def.clone())).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let res = client()
        .put(format!("{}{path}", base()))
        .bearer_auth(token("quantri").await)
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (st, p) = as_user("quantri", "PUT", &path, Some(json!({"id": "x"}))).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let mut bad = def.clone();
    bad["sections"][0]["fields"][2]["visible_if"]["field"] = json!("khong_co");
    bad["sections"][0]["fields"][1]["options"] = json!([]);
    let (st, p) = as_user("quantri", "PUT", &path, Some(bad)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(
        p["type"],
        "https://motcua.dev/problems/invalid-form-definition"
    );
    let problems: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        problems.iter().any(|m| m.contains("unknown field")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|m| m.contains("no options")),
        "{problems:?}"
    );

    let (st, put) = as_user("quantri", "PUT", &path, Some(def.clone())).await;
    assert_eq!(st, StatusCode::OK, "{put}");
    assert_eq!(put["generic"], false);
    let (_, diff) = as_user(
        "quantri",
        "GET",
        &format!("/api/v1/admin/procedures/{code}/drafts/{v}/diff"),
        None,
    )
    .await;
    let fields: Vec<&str> = diff["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"form"), "{diff}");
    // Still the published (generic) form until the draft is published.
    let (_, g) = send(
        None,
        "GET",
        &format!("/api/v1/procedures/{code}/form"),
        None,
    )
    .await;
    assert_eq!(g["generic"], true);
    let (st, p) = as_user(
        "quantri",
        "POST",
        &format!("/api/v1/admin/procedures/{code}/drafts/{v}/publish"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let (_, f) = send(
        None,
        "GET",
        &format!("/api/v1/procedures/{code}/form"),
        None,
    )
    .await;
    assert_eq!(f["generic"], false);
    assert_eq!(f["version"], v);
    assert_eq!(f["form"]["id"], "to-khai-cham-dut-giam-ho");
    // A published version is not edited in place.
    let (st, _) = as_user("quantri", "PUT", &path, Some(def)).await;
    assert_eq!(st, StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_page_works_without_javascript() {
    let res = client()
        .get(format!("{}/thu-tuc/{BIRTH}/to-khai", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.len() < 100 * 1024, "page is {} bytes", html.len());
    assert!(html.contains("<legend>Người được khai sinh</legend>"));
    assert!(html.contains("<label for=\"f-ho_ten\">"));
    assert!(html.contains("name=\"me_noi_cu_tru[province]\""));
    assert!(
        html.contains("Phường Xuân Hương - Đà Lạt"),
        "communes of the default province"
    );
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "no external assets"
    );
    assert!(html.contains("width=device-width"));
    let en = client()
        .get(format!("{}/thu-tuc/{BIRTH}/to-khai?lang=en", base()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("Birth registration form"));

    // Bad input and script: re-rendered with errors next to the fields, typed values kept
    // (escaped), 422.
    let (st, html) = post_page(
        BIRTH,
        &[
            kv("ho_ten", "<script>alert(1)</script>"),
            kv("ngay_sinh", "2099-01-01"),
            kv("me_noi_cu_tru[province]", "68"),
            kv("me_noi_cu_tru[commune]", "\"><img src=x onerror=alert(2)>"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        !html.contains("<script>alert(1)"),
        "typed script must be escaped"
    );
    assert!(!html.contains("<img src=x"));
    assert!(html.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
    assert!(html.contains("id=\"f-ngay_sinh-err\">Ngày không được sau hôm nay</span>"));
    assert!(html.contains("aria-describedby=\"f-ngay_sinh-err\" aria-invalid=\"true\""));
    assert!(html.contains("id=\"f-me_noi_cu_tru-commune-err\""));
    assert!(
        html.contains("href=\"#f-me_ho_ten\""),
        "error summary links to the field"
    );

    // The valid example is accepted.
    let ex = motcua::seed::forms::example(BIRTH).unwrap();
    let (st, html) = post_page(BIRTH, &pairs(&ex)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("Tờ khai hợp lệ"),
        "{}",
        &html[..html.len().min(3000)]
    );

    // Malformed names get a friendly page; unknown procedures a 404 page.
    let (st, html) = post_page(BIRTH, &[kv("a[x][y][z]", "1")]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("Không đọc được tờ khai"));
    let (st, _) = post_page("9.999999", &[kv("ho_ten", "A")]).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_a_row_and_choose_a_province_rerender_without_judging() {
    let (st, html) = post_page(
        RESIDENCE,
        &[
            kv("thanh_vien[0][ho_ten]", "Trần Minh Khang"),
            kv("_add", "thanh_vien"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("name=\"thanh_vien[1][ho_ten]\""),
        "one more row"
    );
    assert!(!html.contains("name=\"thanh_vien[2][ho_ten]\""));
    assert!(
        html.contains("value=\"Trần Minh Khang\""),
        "typed values kept"
    );
    assert!(
        !html.contains("class=\"field-err\""),
        "no errors while adding a row"
    );

    let (st, html) = post_page(
        RESIDENCE,
        &[
            kv("noi_thuong_tru[province]", ""),
            kv("_choose", "noi_thuong_tru"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Chọn tỉnh trước"), "no province, no communes");
    let (_, html) = post_page(
        RESIDENCE,
        &[
            kv("noi_thuong_tru[province]", "68"),
            kv("_choose", "noi_thuong_tru"),
        ],
    )
    .await;
    assert!(html.contains("<option value=\"24781\">Phường Xuân Hương - Đà Lạt</option>"));

    // A group row missing its required field is reported at its path.
    let mut ex = motcua::seed::forms::example(RESIDENCE).unwrap();
    ex["thanh_vien"] = json!([{"ho_ten": "Trần Minh Khang", "ngay_sinh": "2020-11-20", "gioi_tinh": "nam", "quan_he": "Con"},
                              {"so_dinh_danh": "068190001234"}]);
    let (st, html) = post_page(RESIDENCE, &pairs(&ex)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("id=\"f-thanh_vien-1-ho_ten-err\""),
        "row error tied to its input"
    );
    assert!(!html.contains("id=\"f-thanh_vien-0-ho_ten-err\""));
}
