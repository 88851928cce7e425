//! The catalogue from outside, over HTTP on the seeded demo province: search, open data
//! (filters, cursor pages, downloads), public pages, and administrators' versions.

mod common;

use common::{as_user, base, client, send};
use reqwest::StatusCode;
use serde_json::{Value, json};

const KHAI_SINH: &str = "1.001193";
/// The procedure the version tests edit (no other test of this file relies on it).
const EDITED: &str = "1.013834";

fn codes(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_string())
        .collect()
}

async fn page(path: &str) -> (StatusCode, String) {
    let r = client()
        .get(format!("{}{path}", base()))
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn search_ignores_diacritics_tolerates_typos_and_ranks_codes_and_phrases_first() {
    let (st, r) = send(
        None,
        "GET",
        "/api/v1/procedures/search?q=dang%20ky%20khai%20sinh",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(codes(&r)[0], KHAI_SINH, "{r}");
    let (_, r) = send(
        None,
        "GET",
        "/api/v1/procedures/search?q=%C4%90%C4%82NG%20K%C3%9D%20KHAI%20SINH",
        None,
    )
    .await;
    assert_eq!(codes(&r)[0], KHAI_SINH, "uppercase with diacritics: {r}");
    let (_, r) = send(
        None,
        "GET",
        "/api/v1/procedures/search?q=dang%20ky%20khai%20sinhh",
        None,
    )
    .await;
    assert_eq!(codes(&r)[0], KHAI_SINH, "one typo: {r}");
    let (_, r) = send(
        None,
        "GET",
        &format!("/api/v1/procedures/search?q={KHAI_SINH}"),
        None,
    )
    .await;
    assert_eq!(codes(&r), [KHAI_SINH]);
    assert_eq!(r["code_match"], true);
    let (_, r) = send(None, "GET", "/api/v1/procedures/search?q=9.999999", None).await;
    assert!(codes(&r).is_empty());
}

#[tokio::test]
async fn odd_queries_answer_and_bad_parameters_are_problems() {
    let long = "khai%20sinh%20".repeat(400);
    for q in [
        "",
        "%20%20",
        "%3F%21.%2C%3B%3A-()",
        "%E5%87%BA%E7%94%9F",
        &long,
        "khai%20sinh%20%E5%87%BA%E7%94%9F",
    ] {
        let (st, r) = send(
            None,
            "GET",
            &format!("/api/v1/procedures/search?q={q}"),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{q}: {r}");
    }
    let (_, r) = send(None, "GET", "/api/v1/procedures/search?q=%3F%21", None).await;
    assert!(codes(&r).is_empty());
    let (st, _) = send(None, "GET", "/api/v1/procedures/search?qq=x", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = send(None, "GET", "/api/v1/procedures/search?limit=-1", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, r) = send(None, "GET", "/api/v1/procedures?level=district", None).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(r["field"], "level");
    let (st, _) = send(None, "GET", "/api/v1/procedures?online_level=x", None).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = send(None, "GET", "/api/v1/procedures?agency=a%20b%3B", None).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_list_pages_by_cursor_filters_and_matches_the_downloads() {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/procedures?limit=100&cursor={c}"),
            None => "/api/v1/procedures?limit=100".into(),
        };
        let (st, r) = send(None, "GET", &path, None).await;
        assert_eq!(st, StatusCode::OK);
        all.extend(codes(&r));
        match r["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(all, sorted, "by code, no repeats");
    assert!(all.len() >= 250, "{}", all.len());

    let (_, r) = send(
        None,
        "GET",
        "/api/v1/procedures?level=commune&limit=200",
        None,
    )
    .await;
    let commune = codes(&r);
    assert!(commune.contains(&KHAI_SINH.to_string()));
    let (_, r) = send(
        None,
        "GET",
        "/api/v1/procedures?level=province&limit=200",
        None,
    )
    .await;
    assert!(!codes(&r).contains(&KHAI_SINH.to_string()));
    let (_, r) = send(
        None,
        "GET",
        "/api/v1/procedures?field=ho%20tich&online_level=full&limit=200",
        None,
    )
    .await;
    assert!(codes(&r).contains(&KHAI_SINH.to_string()), "{r}");
    for it in r["items"].as_array().unwrap() {
        assert_eq!(it["field"], "Hộ tịch");
        assert_eq!(it["online_level"], "full");
    }
    let (_, r) = send(
        None,
        "GET",
        "/api/v1/procedures?applicant=Cong%20dan%20Viet%20Nam&limit=200",
        None,
    )
    .await;
    assert!(!codes(&r).is_empty());

    let (st, csv) = page("/api/v1/procedures/export.csv").await;
    assert_eq!(st, StatusCode::OK);
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(&rows.headers().unwrap()[0], "ma_thu_tuc");
    let csv_codes: Vec<String> = rows.records().map(|r| r.unwrap()[0].to_string()).collect();
    assert_eq!(csv_codes, all);
    let (st, json) = send(None, "GET", "/api/v1/procedures/export.json", None).await;
    assert_eq!(st, StatusCode::OK);
    let json_codes: Vec<String> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["procedure"]["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(json_codes, all);
    let (_, spec) = send(None, "GET", "/api/openapi.json", None).await;
    for p in [
        "/api/v1/procedures/search",
        "/api/v1/procedures/export.csv",
        "/api/v1/procedures/export.json",
        "/api/v1/admin/procedures/{code}/drafts/{version}/publish",
    ] {
        assert!(spec["paths"].get(p).is_some(), "{p} documented");
    }
}

#[tokio::test]
async fn public_pages_search_browse_and_show_a_procedure_under_100_kb() {
    let (st, html) = page("/thu-tuc?q=dang+ky+khai+sinh").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Thủ tục đăng ký khai sinh"));
    assert!(html.contains("hx-get=\"/thu-tuc/goi-y\""));
    assert!(html.len() < 100_000, "{}", html.len());
    for bad in [
        "<script src",
        "<link rel=\"stylesheet\" href=\"http",
        "fonts.googleapis",
    ] {
        assert!(!html.contains(bad), "{bad}");
    }
    // A code opens its page.
    let (st, html) = page(&format!("/thu-tuc?q={KHAI_SINH}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("<h1>Thủ tục đăng ký khai sinh</h1>"),
        "{}",
        &html[..500]
    );
    assert!(html.contains("Thành phần hồ sơ") && html.contains("Cách thức thực hiện"));
    assert!(html.contains("Căn cứ pháp lý") && html.contains("Kết quả giải quyết"));
    assert!(html.len() < 100_000, "{}", html.len());
    let (_, en) = page(&format!("/thu-tuc/{KHAI_SINH}?lang=en")).await;
    assert!(en.contains("Documents to submit") && en.contains("Where to submit"));
    // Browse: by field, level, online level; next page by cursor.
    let (st, html) = page("/thu-tuc?linh_vuc=H%E1%BB%99+t%E1%BB%8Bch&cap=commune").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Thủ tục đăng ký khai sinh"));
    assert!(html.len() < 100_000, "{}", html.len());
    let (_, html) = page("/thu-tuc").await;
    assert!(html.contains("sau="), "a next page link");
    assert!(html.len() < 100_000, "{}", html.len());
    // Unknown codes: a friendly 404.
    for path in [
        "/thu-tuc/9.999999",
        "/thu-tuc/not-a-code",
        "/thu-tuc/9.999999?lang=en",
    ] {
        let (st, html) = page(path).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
        assert!(html.contains("Không tìm thấy thủ tục") || html.contains("Procedure not found"));
    }
    // The suggestion fragment.
    let (st, frag) = page("/thu-tuc/goi-y?q=khai+si").await;
    assert_eq!(st, StatusCode::OK);
    assert!(frag.contains(&format!("/thu-tuc/{KHAI_SINH}")), "{frag}");
    assert!(!frag.contains("<html"));
    let (_, frag) = page("/thu-tuc/goi-y?q=%3F").await;
    assert!(frag.trim().is_empty());
}

#[tokio::test]
async fn only_administrators_edit_drafts_and_publish() {
    let drafts = format!("/api/v1/admin/procedures/{EDITED}/drafts");
    let (st, _) = send(None, "POST", &drafts, Some(json!({}))).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    for who in ["congdan", "motcua.tinh", "lanhdao.stp"] {
        let (st, _) = as_user(who, "POST", &drafts, Some(json!({}))).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{who}");
        let (st, _) = as_user(
            who,
            "GET",
            &format!("/api/v1/admin/procedures/{EDITED}/versions"),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{who}");
        let (st, _) = as_user(
            who,
            "PUT",
            &format!("/api/v1/admin/procedures/{EDITED}/agencies"),
            Some(json!({"all_communes": true})),
        )
        .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{who}");
    }

    // Bad input.
    let (st, _) = as_user("quantri", "POST", &drafts, Some(json!({"nam": "x"}))).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "unknown field");
    let (st, r) = as_user(
        "quantri",
        "POST",
        &drafts,
        Some(json!({"time_limit": {"amount": 0, "unit": "working_days"}})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    let (st, _) = as_user(
        "quantri",
        "POST",
        "/api/v1/admin/procedures/9.999999/drafts",
        Some(json!({})),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = as_user(
        "quantri",
        "POST",
        "/api/v1/admin/procedures/x/drafts",
        Some(json!({})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

    let (_, before) = send(None, "GET", &format!("/api/v1/procedures/{EDITED}"), None).await;
    let v1 = before["procedure"]["version"].as_u64().unwrap();
    let (st, d) = as_user(
        "quantri",
        "POST",
        &drafts,
        Some(json!({"name": "Thủ tục thử nghiệm phiên bản mới"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let v2 = d["version"].as_u64().unwrap();
    assert_eq!((d["status"].as_str(), v2), (Some("draft"), v1 + 1));
    let (st, _) = as_user("quantri", "POST", &drafts, Some(json!({}))).await;
    assert_eq!(st, StatusCode::CONFLICT, "one draft at a time");

    // The draft is not public yet; dossiers still use the published version.
    let (_, now) = send(None, "GET", &format!("/api/v1/procedures/{EDITED}"), None).await;
    assert_eq!(now["procedure"]["version"].as_u64(), Some(v1));
    let (_, r) = send(
        None,
        "GET",
        "/api/v1/procedures/search?q=thu%20nghiem%20phien%20ban%20moi",
        None,
    )
    .await;
    assert!(!codes(&r).contains(&EDITED.to_string()));

    let draft = format!("/api/v1/admin/procedures/{EDITED}/drafts/{v2}");
    let (st, e) = as_user(
        "quantri",
        "PATCH",
        &draft,
        Some(json!({"fee_vnd": 50000, "decision_no": "123/QĐ-UBND"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{e}");
    let (st, diff) = as_user("quantri", "GET", &format!("{draft}/diff"), None).await;
    assert_eq!(st, StatusCode::OK);
    let fields: Vec<&str> = diff["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"name") && fields.contains(&"fee_vnd") && fields.contains(&"decision_no"),
        "{fields:?}"
    );

    let (st, r) = as_user("quantri", "POST", &format!("{draft}/publish"), None).await;
    assert_eq!(
        st,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no effective date: {r}"
    );
    assert_eq!(r["field"], "effective_from");
    as_user(
        "quantri",
        "PATCH",
        &draft,
        Some(json!({"effective_from": "2026-12-15"})),
    )
    .await;
    let (st, p) = as_user("quantri", "POST", &format!("{draft}/publish"), None).await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(p["status"], "published");

    // Published: visible at once in the API, the search and the page; the old one superseded.
    let (_, now) = send(None, "GET", &format!("/api/v1/procedures/{EDITED}"), None).await;
    assert_eq!(now["procedure"]["version"].as_u64(), Some(v2));
    let (_, r) = send(
        None,
        "GET",
        "/api/v1/procedures/search?q=thu%20nghiem%20phien%20ban%20moi",
        None,
    )
    .await;
    assert_eq!(codes(&r).first().map(String::as_str), Some(EDITED));
    let (_, html) = page(&format!("/thu-tuc/{EDITED}")).await;
    assert!(html.contains("Thủ tục thử nghiệm phiên bản mới") && html.contains("50.000 đồng"));
    let (st, _) = as_user("quantri", "PATCH", &draft, Some(json!({"fee_vnd": 1}))).await;
    assert_eq!(
        st,
        StatusCode::CONFLICT,
        "a published version is not edited"
    );

    let (st, h) = as_user(
        "quantri",
        "GET",
        &format!("/api/v1/admin/procedures/{EDITED}/versions"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let statuses: Vec<&str> = h["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.last(), Some(&"published"));
    assert!(statuses.contains(&"superseded"));
    let actions: Vec<&str> = h["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["draft_created", "draft_edited", "draft_edited", "published"]
    );
    assert!(
        h["changes"][0]["actor"]
            .as_str()
            .unwrap()
            .starts_with("Quản trị hệ thống")
    );

    // Agencies: every commune, then bad input.
    let agencies = format!("/api/v1/admin/procedures/{EDITED}/agencies");
    let (st, a) = as_user(
        "quantri",
        "PUT",
        &agencies,
        Some(json!({"all_communes": true})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{a}");
    assert!(!a.as_array().unwrap().is_empty());
    let (_, now) = send(None, "GET", &format!("/api/v1/procedures/{EDITED}"), None).await;
    assert_eq!(now["receiving_agencies"], a);
    let (st, _) = as_user(
        "quantri",
        "PUT",
        &agencies,
        Some(json!({"agencies": ["000.00.99.H99"]})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = as_user("quantri", "PUT", &agencies, Some(json!({"agencies": []}))).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, still) = send(None, "GET", &format!("/api/v1/procedures/{EDITED}"), None).await;
    assert_eq!(still["receiving_agencies"], a, "refusals change nothing");
}
