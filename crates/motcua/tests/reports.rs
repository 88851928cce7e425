//! The standard report over HTTP: figures after real actions, exports, and refusals from outside
//! (bad periods, unknown agencies and procedures, malformed parameters, wrong roles).

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Today in Vietnam.
fn today() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(7))
        .date_naive()
        .to_string()
}

async fn submit_and_receive(code: &str, centre: &str) -> String {
    let t = token("congdan").await;
    let res = client()
        .post(format!("{}/api/v1/dossiers", base()))
        .bearer_auth(&t)
        .json(
            &common::with_required_documents(
                &t,
                json!({
                    "procedure_code": code,
                    "agency": centre,
                    "applicant": {"name": "Nguyễn Thị Lan", "personal_id": "068190001234"},
                    "documents": [{"name": "Tờ khai"}],
                    "form": {}
                }),
            )
            .await,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let v: Value = res.json().await.unwrap();
    let id = v["dossier"]["id"].as_str().unwrap().to_string();
    act("motcua.tinh", &id, "receive", json!({})).await;
    id
}

fn fig(v: &Value, name: &str) -> i64 {
    v["total"]["figures"][name].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_counts_what_happened_and_exports_it() {
    let centre = agency_of("motcua.tinh");
    let justice = agency_of("lanhdao.stp");
    let (code, _) = find_procedure(&centre, Some(&justice), None).await;
    submit_and_receive(&code, &centre).await;
    submit_and_receive(&code, &centre).await;
    let day = today();
    let q = format!("/api/v1/reports/form06?from={day}&to={day}");

    // The leader's own agency by default.
    let (st, v) = as_user("lanhdao.stp", "GET", &q, None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["rows"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["rows"][0]["key"], justice);
    assert_eq!(fig(&v, "received_online"), 2);
    assert_eq!(fig(&v, "carried_over"), 0);
    assert_eq!(
        fig(&v, "in_progress_within") + fig(&v, "in_progress_past"),
        2
    );
    assert_eq!(v["total"]["rates"]["online"], 100.0);

    // Filters: this procedure counts them, another field does not.
    let (_, v) = as_user("lanhdao.stp", "GET", &format!("{q}&procedure={code}"), None).await;
    assert_eq!(fig(&v, "received_online"), 2);
    let (_, v) = as_user(
        "lanhdao.stp",
        "GET",
        &format!("{q}&field=Kh%C3%B4ng%20c%C3%B3"),
        None,
    )
    .await;
    assert_eq!(fig(&v, "received_online"), 0);
    assert!(v["rows"].as_array().unwrap().is_empty());

    // The administrator sees the province; the dossiers are counted once, at the deciding agency.
    let (st, v) = as_user("quantri", "GET", &format!("{q}&procedure={code}"), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(fig(&v, "received_online"), 2);
    assert!(
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["key"] == justice.as_str())
    );
    let (_, v) = as_user("quantri", "GET", &format!("{q}&agency={centre}"), None).await;
    assert_eq!(
        fig(&v, "received_online"),
        0,
        "the centre only received them"
    );

    // A later period carries them over.
    let next = (chrono::Utc::now() + chrono::Duration::hours(7 + 24))
        .date_naive()
        .to_string();
    let (_, v) = as_user(
        "lanhdao.stp",
        "GET",
        &format!("/api/v1/reports/form06?from={next}&to={next}"),
        None,
    )
    .await;
    assert_eq!(fig(&v, "carried_over"), 2);
    assert_eq!(fig(&v, "received_online"), 0);

    // CSV and Excel.
    let t = token("lanhdao.stp").await;
    let res = client()
        .get(format!("{}{q}&format=csv", base()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = res.text().await.unwrap();
    assert!(body.starts_with('\u{feff}'));
    assert!(body.contains("Kỳ trước chuyển qua"), "{body}");
    let total = body.lines().find(|l| l.starts_with("total,")).unwrap();
    assert!(total.contains(",Tổng cộng,2,0,2,"), "{total}");
    let res = client()
        .get(format!("{}{q}&format=xlsx", base()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".xlsx")
    );
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "an xlsx file is a zip archive");
    // PDF: A4 landscape, the period, every column (in parts), the same total.
    let res = client()
        .get(format!("{}{q}&format=pdf", base()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".pdf")
    );
    let bytes = res.bytes().await.unwrap();
    let text = pdf_text(&bytes);
    for needle in [
        "BIỂU06",
        "Kỳbáocáo",
        "Kỳtrướcchuyểnqua",
        "Tổngcộng",
        "Tỷlệđúnghạn(%)",
        "Phần1/",
    ] {
        assert!(text.contains(needle), "`{needle}` not in the PDF: {text}");
    }
    let (st, v) = as_user("lanhdao.stp", "GET", &format!("{q}&format=docx"), None).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_refuses_bad_input_and_outsiders() {
    let day = today();
    let ok = format!("/api/v1/reports/form06?from={day}&to={day}");
    let sxd = agency_of("lanhdao.sxd");
    let cases: Vec<(&str, String, StatusCode, &str)> = vec![
        (
            "lanhdao.stp",
            "/api/v1/reports/form06?from=2026-03-31&to=2026-03-01".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "to",
        ),
        (
            "lanhdao.stp",
            "/api/v1/reports/form06?from=2026-3-1x&to=2026-03-01".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "from",
        ),
        (
            "lanhdao.stp",
            "/api/v1/reports/form06?to=2026-03-01".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "from",
        ),
        (
            "lanhdao.stp",
            "/api/v1/reports/form06?from=2000-01-01&to=2026-03-01".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "to",
        ),
        (
            "lanhdao.stp",
            "/api/v1/reports/form06?from=1900-01-01&to=1900-02-01".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "from",
        ),
        (
            "lanhdao.stp",
            "/api/v1/reports/form06?from=2026-01-01&to=2099-02-01".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "to",
        ),
        (
            "lanhdao.stp",
            format!("{ok}&agency=not-a-code"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "agency",
        ),
        (
            "lanhdao.stp",
            format!("{ok}&agency=000.00.99.H40"),
            StatusCode::NOT_FOUND,
            "",
        ),
        (
            "lanhdao.stp",
            format!("{ok}&procedure=9.999999"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "procedure",
        ),
        (
            "lanhdao.stp",
            format!("{ok}&procedure=abc"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "procedure",
        ),
        (
            "lanhdao.stp",
            format!("{ok}&children=maybe"),
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            "lanhdao.stp",
            format!("{ok}&page=2"),
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            "lanhdao.stp",
            format!("{ok}&format=docx"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "format",
        ),
        (
            "lanhdao.stp",
            format!("{ok}&agency={sxd}"),
            StatusCode::FORBIDDEN,
            "",
        ),
        (
            "lanhdao.xa",
            format!("{ok}&agency={sxd}"),
            StatusCode::FORBIDDEN,
            "",
        ),
        ("congdan", ok.clone(), StatusCode::FORBIDDEN, ""),
        ("chuyenvien.stp", ok.clone(), StatusCode::FORBIDDEN, ""),
        ("motcua.tinh", ok.clone(), StatusCode::FORBIDDEN, ""),
    ];
    for (user, path, want, field) in cases {
        let (st, v) = as_user(user, "GET", &path, None).await;
        assert_eq!(st, want, "{user} {path}: {v}");
        if !field.is_empty() {
            assert_eq!(v["field"], field, "{user} {path}: {v}");
        }
    }
    let (st, _) = send(None, "GET", &ok, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // The leader of the commune sees the commune.
    let (st, v) = as_user("lanhdao.xa", "GET", &ok, None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_data_is_public_aggregated_and_checked() {
    let centre = agency_of("motcua.tinh");
    let sxd = agency_of("lanhdao.sxd");
    let (code, _) = find_procedure(&centre, Some(&sxd), None).await;
    let id = submit_and_receive(&code, &centre).await;
    assert!(!id.is_empty());
    let now = chrono::Utc::now() + chrono::Duration::hours(7);
    let year = chrono::Datelike::year(&now);
    let month = chrono::Datelike::month(&now);
    let (st, v) = send(
        None,
        "GET",
        &format!("/api/v1/open-data/form06?year={year}&month={month}"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(fig(&v, "received_online") >= 1);
    assert!(v["agency"].is_null());
    let text = v.to_string();
    assert!(!text.contains("Nguyễn Thị Lan"), "no personal data");
    assert!(!text.contains(&sxd), "no agency breakdown");
    let rows = v["rows"].as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r["figures"]["received_online"].as_i64() >= Some(1))
    );
    for (q, want) in [
        ("year=1999", StatusCode::UNPROCESSABLE_ENTITY),
        ("year=2026&month=13", StatusCode::UNPROCESSABLE_ENTITY),
        (
            "year=2026&month=1&quarter=1",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("year=2026&quarter=5", StatusCode::UNPROCESSABLE_ENTITY),
        ("month=1", StatusCode::UNPROCESSABLE_ENTITY),
        ("year=abc", StatusCode::BAD_REQUEST),
        ("year=2026&agency=x", StatusCode::BAD_REQUEST),
    ] {
        let (st, v) = send(None, "GET", &format!("/api/v1/open-data/form06?{q}"), None).await;
        assert_eq!(st, want, "{q}: {v}");
    }
    let res = client()
        .get(format!(
            "{}/api/v1/open-data/form06?year={year}&quarter=1&format=csv",
            base()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Toàn tỉnh"));
    // The download page: a chart with its numbers as a table, links, both languages.
    for (lang, word) in [("vi", "Tải về"), ("en", "Downloads")] {
        let res = client()
            .get(format!("{}/du-lieu-mo?lang={lang}", base()))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(html.contains("<svg") && html.contains("<table"), "{html}");
        assert!(html.contains(word));
        assert!(html.contains("format=xlsx") && html.contains("format=pdf"));
        assert!(!html.contains("<script"));
    }
    let res = client()
        .get(format!("{}/du-lieu-mo?year=1990", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_index_scores_with_counts_and_refuses_outsiders() {
    let now = chrono::Utc::now() + chrono::Duration::hours(7);
    let year = chrono::Datelike::year(&now);
    let q = format!("/api/v1/reports/service-index?year={year}");
    let (st, v) = as_user("quantri", "GET", &q, None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let groups: Vec<&str> = v["total"]["index"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["CKMB", "TDGQ", "CLGQ", "TTTT", "MDHL", "MDSH"]);
    let tdgq = &v["total"]["index"]["groups"][1]["indicators"][0];
    assert_eq!(tdgq["code"], "2.1");
    assert!(tdgq["denominator"].is_i64() && tdgq["numerator"].is_i64());
    assert_eq!(v["weights"]["tdgq_on_time"], 20.0);
    let (st, _) = as_user("lanhdao.stp", "GET", &format!("{q}&quarter=2"), None).await;
    assert_eq!(st, StatusCode::OK);
    for (user, path, want) in [
        ("congdan", q.clone(), StatusCode::FORBIDDEN),
        ("chuyenvien.stp", q.clone(), StatusCode::FORBIDDEN),
        (
            "lanhdao.stp",
            format!("{q}&agency={}", agency_of("lanhdao.sxd")),
            StatusCode::FORBIDDEN,
        ),
        (
            "quantri",
            format!("{q}&month=0"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "quantri",
            "/api/v1/reports/service-index".to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "quantri",
            format!("{q}&agency=000.00.99.H40"),
            StatusCode::NOT_FOUND,
        ),
        ("quantri", format!("{q}&weights=1"), StatusCode::BAD_REQUEST),
    ] {
        let (st, v) = as_user(user, "GET", &path, None).await;
        assert_eq!(st, want, "{user} {path}: {v}");
    }
    let (st, _) = send(None, "GET", &q, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // Exports: one line per agency and indicator, with the counts.
    let t = token("quantri").await;
    let res = client()
        .get(format!("{}{q}&format=csv", base()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let csv = res.text().await.unwrap();
    assert!(
        csv.contains("Tử số") && csv.contains("2.1 Hồ sơ giải quyết đúng hạn"),
        "{csv}"
    );
    let res = client()
        .get(format!("{}{q}&format=xlsx", base()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.bytes().await.unwrap().starts_with(b"PK"));
    let res = client()
        .get(format!("{}{q}&format=pdf", base()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.unwrap();
    let text = pdf_text(&bytes);
    assert!(text.contains("2.1Hồsơgiảiquyếtđúnghạn"), "{text}");
    let (st, _) = as_user("quantri", "GET", &format!("{q}&format=docx"), None).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_renders_charts_with_tables_for_leaders_only() {
    let centre = agency_of("motcua.tinh");
    let finance = agency_of("lanhdao.stc");
    let (code, _) = find_procedure(&centre, Some(&finance), None).await;
    submit_and_receive(&code, &centre).await;
    let get = |user: Option<&'static str>, q: &'static str| async move {
        let mut rb = client().get(format!("{}/bang-dieu-khien{q}", base()));
        if let Some(u) = user {
            rb = rb.bearer_auth(token(u).await);
        }
        let res = rb.send().await.unwrap();
        (res.status(), res.text().await.unwrap())
    };
    for by in [
        "",
        "?by=field&trend=day",
        "?by=procedure&lang=en&trend=week",
    ] {
        let (st, html) = get(Some("lanhdao.stc"), by).await;
        assert_eq!(st, StatusCode::OK, "{by}: {html}");
        assert!(html.contains("<svg") && html.contains("<table"));
        assert!(
            html.contains("format=pdf") && html.contains("format=xlsx"),
            "the period's report as files: {html}"
        );
        assert!(!html.contains("<script"));
    }
    let (_, html) = get(Some("lanhdao.stc"), "?by=procedure").await;
    assert!(
        html.contains(&code),
        "the procedure appears in the breakdown"
    );
    let (st, _) = get(Some("quantri"), "").await;
    assert_eq!(st, StatusCode::OK);
    for (user, q, want) in [
        (Some("congdan"), "", StatusCode::FORBIDDEN),
        (Some("chuyenvien.stc"), "", StatusCode::FORBIDDEN),
        // Nobody signed in: sent to the sign-in page (the client follows the redirect).
        (None, "", StatusCode::OK),
        (
            Some("lanhdao.stc"),
            "?by=colour",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Some("lanhdao.stc"),
            "?from=2026-05-01&to=2026-04-01",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Some("lanhdao.stc"),
            "?agency=000.00.99.H40",
            StatusCode::NOT_FOUND,
        ),
        (Some("lanhdao.stc"), "?x=1", StatusCode::BAD_REQUEST),
    ] {
        let (st, body) = get(user, q).await;
        assert_eq!(st, want, "{user:?} {q}: {body}");
        if user.is_none() {
            assert!(body.contains("action=\"/dang-nhap\""), "{body}");
        } else {
            assert!(body.contains("<html"), "people get a page: {body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_index_page_shows_the_api_figures_to_leaders_only() {
    let centre = agency_of("motcua.tinh");
    let finance = agency_of("lanhdao.stc");
    let (code, _) = find_procedure(&centre, Some(&finance), None).await;
    submit_and_receive(&code, &centre).await;
    let year = chrono::Datelike::year(&(chrono::Utc::now() + chrono::Duration::hours(7)));
    let get = |user: Option<&'static str>, q: String| async move {
        let mut rb = client().get(format!("{}/bang-dieu-khien/chi-so{q}", base()));
        if let Some(u) = user {
            rb = rb.bearer_auth(token(u).await);
        }
        let res = rb.send().await.unwrap();
        (res.status(), res.text().await.unwrap())
    };
    // The page's total is the API's, for the same period and scope.
    let (st, api) = as_user(
        "lanhdao.stc",
        "GET",
        &format!("/api/v1/reports/service-index?year={year}&children=true"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{api}");
    let score = api["total"]["index"]["score"].as_f64().unwrap();
    let shown = format!("{score:.2}");
    let shown = shown.trim_end_matches('0').trim_end_matches('.');
    let (st, html) = get(Some("lanhdao.stc"), format!("?year={year}")).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(
        html.contains(&format!(">{shown} / ")),
        "total {shown}: {html}"
    );
    for g in ["CKMB", "TDGQ", "CLGQ", "TTTT", "MDHL", "MDSH"] {
        assert!(html.contains(&format!("id=\"g-{g}\"")), "group {g}");
    }
    let received = indicator(&api["total"]["index"], "3.3");
    assert!(
        html.contains(&format!(
            "{} / {}",
            received["numerator"], received["denominator"]
        )),
        "the counts behind 3.3: {html}"
    );
    assert!(html.contains("<svg") && html.contains("format=xlsx") && !html.contains("<script"));
    // Periods, English, an agency of the leader's scope.
    for q in [
        format!("?year={year}&period=q1&lang=en"),
        format!("?year={year}&period=m2"),
        format!("?year={year}&agency={finance}"),
    ] {
        let (st, html) = get(Some("lanhdao.stc"), q.clone()).await;
        assert_eq!(st, StatusCode::OK, "{q}: {html}");
    }
    let (st, _) = get(Some("quantri"), String::new()).await;
    assert_eq!(st, StatusCode::OK);
    for (user, q, want) in [
        (Some("congdan"), String::new(), StatusCode::FORBIDDEN),
        (Some("chuyenvien.stc"), String::new(), StatusCode::FORBIDDEN),
        (None, String::new(), StatusCode::OK),
        (
            Some("lanhdao.stc"),
            "?period=q5".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Some("lanhdao.stc"),
            "?year=1999".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Some("lanhdao.stc"),
            "?year=abc".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Some("lanhdao.stc"),
            "?agency=000.00.99.H40".into(),
            StatusCode::NOT_FOUND,
        ),
        (
            Some("lanhdao.stc"),
            format!("?agency={centre}"),
            StatusCode::FORBIDDEN,
        ),
        (Some("lanhdao.stc"), "?x=1".into(), StatusCode::BAD_REQUEST),
    ] {
        let (st, body) = get(user, q.clone()).await;
        assert_eq!(st, want, "{user:?} {q}: {body}");
        if user.is_none() {
            assert!(body.contains("action=\"/dang-nhap\""), "{body}");
        } else {
            assert!(body.contains("<html"), "people get a page: {body}");
        }
    }
}

/// The text of a PDF without white space (a phrase wrapped in a table cell still matches).
fn pdf_text(bytes: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(bytes).expect("a PDF");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// Publishes a new version of `code` taking effect `days` calendar days from today.
async fn republish(code: &str, days: i64) {
    let drafts = format!("/api/v1/admin/procedures/{code}/drafts");
    let (st, d) = as_user("quantri", "POST", &drafts, Some(json!({}))).await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let draft = format!("{drafts}/{}", d["version"]);
    let effective =
        (chrono::Utc::now() + chrono::Duration::hours(7) + chrono::Duration::days(days))
            .date_naive()
            .to_string();
    let (st, e) = as_user(
        "quantri",
        "PATCH",
        &draft,
        Some(json!({"effective_from": effective})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{e}");
    let (st, p) = as_user("quantri", "POST", &format!("{draft}/publish"), None).await;
    assert_eq!(st, StatusCode::OK, "{p}");
}

fn indicator<'a>(index: &'a Value, code: &str) -> &'a Value {
    index["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["indicators"].as_array().unwrap())
        .find(|i| i["code"] == code)
        .unwrap_or_else(|| panic!("indicator {code} in {index}"))
}

fn counts(i: &Value) -> (i64, i64) {
    (
        i["numerator"].as_i64().unwrap(),
        i["denominator"].as_i64().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_index_scores_the_catalogue_of_each_agency() {
    let now = chrono::Utc::now() + chrono::Duration::hours(7);
    let q = format!(
        "/api/v1/reports/service-index?year={}&month={}",
        chrono::Datelike::year(&now),
        chrono::Datelike::month(&now)
    );
    let justice = agency_of("lanhdao.stp");
    let centre = agency_of("motcua.tinh");
    let (early, _) = find_procedure(&centre, Some(&justice), None).await;
    // One version published two months ahead of its effective date, one taking effect today.
    republish(&early, 60).await;
    let late = {
        let (st, page) = send(
            None,
            "GET",
            &format!("/api/v1/procedures?agency={centre}&limit=200"),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let mut other = None;
        for it in page["items"].as_array().unwrap() {
            let code = it["code"].as_str().unwrap();
            let (_, d) = send(None, "GET", &format!("/api/v1/procedures/{code}"), None).await;
            if code != early && d["procedure"]["competent_agency"] == json!(justice) {
                other = Some(code.to_string());
                break;
            }
        }
        other.expect("two procedures decided by the justice department")
    };
    republish(&late, 0).await;
    // An online dossier of `early` received in the period.
    submit_and_receive(&early, &centre).await;

    let (st, v) = as_user("lanhdao.stp", "GET", &q, None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let row = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == json!(justice))
        .unwrap_or_else(|| panic!("the department's row: {v}"));
    let idx = &row["index"];
    assert_eq!(
        counts(indicator(idx, "1.1")),
        (1, 2),
        "one of the two versions published 5 working days ahead"
    );
    assert_eq!(indicator(idx, "1.1")["measured"], true);
    assert_eq!(
        indicator(idx, "1.2")["measured"],
        false,
        "the national database is not ours"
    );

    // Reference: the department's procedures as the public API shows them.
    let (_, all) = send(None, "GET", "/api/v1/procedures/export.json", None).await;
    let items = all
        .as_array()
        .cloned()
        .unwrap_or_else(|| all["items"].as_array().cloned().unwrap_or_default());
    let decided: Vec<&Value> = items
        .iter()
        .map(|p| p.get("procedure").unwrap_or(p))
        .filter(|p| p["competent_agency"] == json!(justice))
        .collect();
    assert!(
        !decided.is_empty(),
        "export lists the department's procedures"
    );
    let online = decided
        .iter()
        .filter(|p| p["online_level"] != "none")
        .count() as i64;
    let (n, d) = counts(indicator(idx, "3.1"));
    assert_eq!(
        (n, d),
        (online, decided.len() as i64),
        "3.1 against the catalogue"
    );
    let (used, online_total) = counts(indicator(idx, "3.2"));
    assert_eq!(online_total, online);
    let early_online = decided
        .iter()
        .any(|p| p["code"] == json!(early) && p["online_level"] != "none");
    assert!(used >= i64::from(early_online), "{idx}");
    let (c, total) = counts(indicator(idx, "1.3"));
    assert_eq!(total, decided.len() as i64);
    assert!(c <= total);

    // The province: every procedure once, so at least the department's.
    let (st, p) = as_user("quantri", "GET", &q, None).await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let (n, d) = counts(indicator(&p["total"]["index"], "3.1"));
    assert!(d >= 200 && n <= d && d >= decided.len() as i64, "{n}/{d}");
}
