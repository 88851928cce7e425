//! `submit`: citizens file online dossiers as fast as the server takes them (W1, durable intake).

use crate::Common;
use crate::http::{self, Login};
use crate::raw;
use std::sync::Arc;

/// The body of every submission: built once, shared by all clients.
pub fn submit_body(procedure: &str, agency: &str, required: &[serde_json::Value]) -> Vec<u8> {
    let mut v = serde_json::json!({
        "procedure_code": procedure,
        "agency": agency,
        "channel": "online",
        "applicant": {
            "name": "Nguyễn Thị Lan",
            "personal_id": "068190001234",
            "phone": "0912345678",
            "address": "Phường Xuân Hương - Đà Lạt, Lâm Đồng"
        },
        "documents": [{"name": "Tờ khai"}, {"name": "Bản sao giấy tờ tùy thân"}],
        // A procedure with its own e-form gets its shipped example; others the generic form.
        "form": motcua::seed::forms::example(procedure)
            .unwrap_or_else(|| serde_json::json!({"ghi_chu": "Hồ sơ đo tải"})),
        "note": "Nộp trực tuyến"
    });
    // Online, each required document comes with its file.
    let docs = v["documents"].as_array_mut().expect("a list");
    for r in required {
        match docs.iter_mut().find(|d| d["name"] == r["name"]) {
            Some(d) => *d = r.clone(),
            None => docs.push(r.clone()),
        }
    }
    serde_json::to_vec(&v).expect("JSON")
}

/// Logs in the citizen and the commune desk, and picks a procedure received at the commune.
pub async fn prepare(c: &Common, simple: bool) -> anyhow::Result<(Login, String, String)> {
    let cl = http::client();
    let citizen = http::login(&cl, &c.base, &c.citizen, &c.password).await?;
    let agency = match &c.agency {
        Some(a) => a.clone(),
        None => http::login(&cl, &c.base, &c.desk, &c.password)
            .await?
            .agency
            .ok_or_else(|| anyhow::anyhow!("{} has no agency", c.desk))?,
    };
    let procedure = match &c.procedure {
        Some(p) => p.clone(),
        None => http::find_procedure(&cl, &c.base, &agency, simple).await?,
    };
    println!("  procedure {procedure} at agency {agency}");
    Ok((citizen, agency, procedure))
}

pub async fn run(c: &Common) -> anyhow::Result<Vec<String>> {
    let (citizen, agency, procedure) = prepare(c, false).await?;
    let (addr, host) = raw::resolve(&c.base).await?;
    let path = format!("{}/api/v1/dossiers", url_path(&c.base));
    let required = http::required_documents(&http::client(), &c.base, &citizen, &procedure).await?;
    let body = submit_body(&procedure, &agency, &required);
    let mut req = Vec::new();
    raw::build(
        &mut req,
        "POST",
        &path,
        &host,
        Some(citizen.auth.as_bytes()),
        Some(&body),
    );
    let req: Arc<[u8]> = req.into();
    println!(
        "submit: {} clients for {:?} against {}",
        c.clients, c.duration, c.base
    );
    crate::closed_loop::run(c, addr, "submit", &c.base, 201, |_| {
        let req = Arc::clone(&req);
        move |out: &mut Vec<u8>| out.extend_from_slice(&req)
    })
    .await
}

/// The path part of a base URL (usually empty), without a trailing slash.
pub fn url_path(base: &str) -> String {
    reqwest::Url::parse(base)
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default()
}
