//! The documents people hold, over HTTP: each PDF for whoever may read the dossier, nobody
//! else, and a clear problem when the dossier has no such document (yet).

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn submit() -> String {
    let centre = agency_of("motcua.tinh");
    let (code, _) = find_procedure(&centre, Some(&agency_of("lanhdao.stp")), None).await;
    let (st, v) = submit_as(
        "congdan",
        Some(json!({
            "procedure_code": code,
            "agency": centre,
            "applicant": {"name": "Nguyễn Thị Lan", "personal_id": "068190001234",
                          "address": "Phường Xuân Hương - Đà Lạt, Lâm Đồng"},
            "documents": [{"name": "Tờ khai đề nghị"}, {"name": "Bản sao căn cước"}]
        })),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["dossier"]["id"].as_str().unwrap().to_string()
}

/// GET a document: status, content type, content disposition and body.
async fn get(user: Option<&str>, id: &str, kind: &str) -> (StatusCode, String, String, Vec<u8>) {
    let mut rb = client().get(format!("{}/api/v1/dossiers/{id}/documents/{kind}", base()));
    if let Some(u) = user {
        rb = rb.bearer_auth(token(u).await);
    }
    let res = rb.send().await.unwrap();
    let header = |n: &str| {
        res.headers()
            .get(n)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (st, ct, cd) = (
        res.status(),
        header("content-type"),
        header("content-disposition"),
    );
    (st, ct, cd, res.bytes().await.unwrap().to_vec())
}

/// A PDF served to `user`, checked and read back as text (whitespace removed).
async fn pdf_text(user: &str, id: &str, kind: &str) -> (String, String) {
    let (st, ct, cd, body) = get(Some(user), id, kind).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "{user} {kind}: {}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(ct, "application/pdf");
    assert!(cd.starts_with("inline; filename=\""), "{cd}");
    let doc = lopdf::Document::load_mem(&body).expect("a PDF lopdf reads");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).unwrap();
    (text.chars().filter(|c| !c.is_whitespace()).collect(), cd)
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Refused with a problem of `status` (and problem+json).
async fn refused(user: Option<&str>, id: &str, kind: &str, status: StatusCode) -> Value {
    let (st, ct, _, body) = get(user, id, kind).await;
    assert_eq!(
        st,
        status,
        "{user:?} {kind}: {}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(ct, "application/problem+json");
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receipt_is_for_the_owner_and_the_desk_only() {
    let id = submit().await;
    // Not received yet: no receipt, no control sheet.
    let p = refused(Some("congdan"), &id, "receipt", StatusCode::CONFLICT).await;
    assert_eq!(
        p["type"],
        "https://motcua.dev/problems/document-not-available"
    );
    refused(Some("congdan"), &id, "control-sheet", StatusCode::CONFLICT).await;

    let v = act("motcua.tinh", &id, "receive", json!({})).await;
    let code = v["dossier"]["code"].as_str().unwrap().to_string();
    let due: chrono::DateTime<chrono::Utc> =
        v["dossier"]["due_at"].as_str().unwrap().parse().unwrap();
    let due_local = (due + chrono::Duration::hours(7))
        .format("%H giờ %M phút, ngày %d/%m/%Y")
        .to_string();
    for user in ["congdan", "motcua.tinh"] {
        let (text, cd) = pdf_text(user, &id, "receipt").await;
        assert_eq!(cd, format!("inline; filename=\"giay-hen-{code}.pdf\""));
        assert!(text.contains(&code), "{text}");
        assert!(text.contains("NguyễnThịLan"), "{text}");
        assert!(text.contains(&squash(&due_local)), "{due_local} in {text}");
        assert!(text.contains("Tờkhaiđềnghị"));
        // The tracking link (also in the QR code) is the public lookup page of this dossier.
        assert!(
            text.contains(&format!("http://127.0.0.1:8080/tra-cuu?ma={code}")),
            "{text}"
        );
    }
    // The lookup page the link leads to knows the code.
    let page = client()
        .get(format!("{}/tra-cuu?ma={code}", base()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&code));

    // Another citizen, another agency's staff, the administrator: as if it did not exist.
    for user in [
        "congdan2",
        "chuyenvien.xa",
        "motcua.xa",
        "lanhdao.xa",
        "quantri",
    ] {
        let p = refused(Some(user), &id, "receipt", StatusCode::NOT_FOUND).await;
        assert_eq!(p["detail"], "no such dossier", "{user}");
    }
    refused(None, &id, "receipt", StatusCode::UNAUTHORIZED).await;

    // Documents this dossier does not have; kinds and ids that do not exist.
    for kind in ["supplement", "refusal", "apology", "stop"] {
        let p = refused(Some("congdan"), &id, kind, StatusCode::CONFLICT).await;
        assert!(!p["detail"].as_str().unwrap().is_empty());
    }
    let p = refused(Some("congdan"), &id, "giay-hen", StatusCode::NOT_FOUND).await;
    assert_eq!(p["field"], "kind");
    refused(
        Some("congdan"),
        "khong-phai-uuid",
        "receipt",
        StatusCode::BAD_REQUEST,
    )
    .await;
    refused(
        Some("congdan"),
        "0193e6a4-0000-7000-8000-000000000000",
        "receipt",
        StatusCode::NOT_FOUND,
    )
    .await;

    // Documented as a PDF in the OpenAPI description.
    let (_, spec) = send(None, "GET", "/api/openapi.json", None).await;
    let op = &spec["paths"]["/api/v1/dossiers/{id}/documents/{kind}"]["get"];
    assert!(
        op["responses"]["200"]["content"]["application/pdf"].is_object(),
        "{op}"
    );

    // The control sheet: the reception hand-over is its first row.
    let (text, cd) = pdf_text("motcua.tinh", &id, "control-sheet").await;
    assert_eq!(
        cd,
        format!("inline; filename=\"phieu-kiem-soat-{code}.pdf\"")
    );
    assert!(text.contains("PHIẾUKIỂMSOÁTQUÁTRÌNHGIẢIQUYẾTHỒSƠ"));
    assert!(text.contains("Tiếpnhậnhồsơ"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_follow_the_history() {
    // Supplement requested at reception (form 02).
    let a = submit().await;
    act(
        "motcua.tinh",
        &a,
        "request_supplement",
        json!({"items": ["Bản sao giấy khai sinh có chứng thực"], "reason": "Thiếu giấy tờ"}),
    )
    .await;
    let (text, cd) = pdf_text("congdan", &a, "supplement").await;
    assert!(cd.contains("phieu-bo-sung-"), "{cd}");
    assert!(text.contains("PHIẾUYÊUCẦUBỔSUNG"));
    assert!(text.contains("Bảnsaogiấykhaisinhcóchứngthực"));
    assert!(text.contains("NguyễnThịLan"));

    // Refusal at reception (form 03): no code, so no receipt.
    let b = submit().await;
    act(
        "motcua.tinh",
        &b,
        "refuse",
        json!({"reasons": ["Không thuộc thẩm quyền giải quyết"]}),
    )
    .await;
    let (text, cd) = pdf_text("congdan", &b, "refusal").await;
    assert_eq!(cd, format!("inline; filename=\"phieu-tu-choi-{b}.pdf\""));
    assert!(text.contains("Khôngthuộcthẩmquyềngiảiquyết"));
    refused(Some("congdan"), &b, "receipt", StatusCode::CONFLICT).await;

    // Processing, an apology when still allowed (form 04), then withdrawal (form 05).
    let c = submit().await;
    let v = act("motcua.tinh", &c, "receive", json!({})).await;
    let code = v["dossier"]["code"].as_str().unwrap().to_string();
    act("lanhdao.stp", &c, "complete_step", json!({})).await;
    let due: chrono::DateTime<chrono::Utc> =
        v["dossier"]["due_at"].as_str().unwrap().parse().unwrap();
    let new_due = due + chrono::Duration::days(7);
    let cal = motcua_domain::calendar::Calendar::vietnam_default();
    let can = cal.add_working_time(
        chrono::Utc::now(),
        motcua_domain::calendar::WorkingDuration::days(1),
    ) <= due;
    let (st, p) = as_user(
        "chuyenvien.stp",
        "POST",
        &format!("/api/v1/dossiers/{c}/actions/issue_apology"),
        Some(json!({"reason": "Cần xác minh thực địa", "new_due_at": new_due})),
    )
    .await;
    if can {
        assert_eq!(st, StatusCode::OK, "{p}");
        let (text, cd) = pdf_text("congdan", &c, "apology").await;
        assert_eq!(
            cd,
            format!("inline; filename=\"van-ban-xin-loi-{code}.pdf\"")
        );
        assert!(text.contains("Cầnxácminhthựcđịa"));
        let new_local = (new_due + chrono::Duration::hours(7))
            .format("%H giờ %M phút, ngày %d/%m/%Y")
            .to_string();
        assert!(text.contains(&squash(&new_local)), "{new_local} in {text}");
    } else {
        refused(Some("congdan"), &c, "apology", StatusCode::CONFLICT).await;
    }
    act(
        "congdan",
        &c,
        "withdraw",
        json!({"reason": "Không còn nhu cầu"}),
    )
    .await;
    let (text, _) = pdf_text("congdan", &c, "stop").await;
    assert!(text.contains("THÔNGBÁODỪNGGIẢIQUYẾTHỒSƠ"));
    assert!(text.contains("Khôngcònnhucầu"));
    assert!(text.contains(&code));
    // The control sheet grades the step that was handed over.
    let (text, _) = pdf_text("lanhdao.stp", &c, "control-sheet").await;
    assert!(
        ["Trướchạn", "Đúnghạn", "Quáhạn"]
            .iter()
            .any(|l| text.contains(l)),
        "{text}"
    );
}
