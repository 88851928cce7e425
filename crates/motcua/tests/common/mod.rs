//! A real server on a free port with the demo province seeded, shared by the tests of one file,
//! and a small HTTP client.
#![allow(dead_code)]

pub mod browser;

use motcua_store::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Password of every demo account.
pub const PASSWORD: &str = "motcua@2026";

/// Base URL of the shared server (started on first use, on its own runtime thread).
pub fn base() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let url = std::env::var("MOTCUA_TEST_SERVER_DB")
                    .unwrap_or_else(|_| "sqlite::memory:".into());
                let store = Store::open(&url).await.expect("open store");
                motcua::seed::seed(&store, &motcua_web::auth::hash_password)
                    .await
                    .expect("seed");
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(format!("http://{}", listener.local_addr().unwrap()))
                    .unwrap();
                motcua_web::serve(listener, motcua_web::AppState::new(store))
                    .await
                    .unwrap();
            });
        });
        rx.recv().expect("server started")
    })
}

/// A blocking-free async client.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

/// The agency code of a demo staff user.
pub fn agency_of(user: &str) -> String {
    motcua::seed::demo_logins()
        .into_iter()
        .find(|l| l.username == user)
        .and_then(|l| l.agency)
        .map(|a| a.to_string())
        .unwrap_or_else(|| panic!("demo user {user} has an agency"))
}

/// A bearer token for a demo user (cached).
pub async fn token(user: &str) -> String {
    static TOKENS: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let cache = TOKENS.get_or_init(Default::default);
    if let Some(t) = cache.lock().unwrap().get(user) {
        return t.clone();
    }
    let (st, body) = send(
        None,
        "POST",
        "/api/v1/auth/token",
        Some(serde_json::json!({"username": user, "password": PASSWORD})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "login {user}: {body}");
    let t = body["token"].as_str().unwrap().to_string();
    cache.lock().unwrap().insert(user.into(), t.clone());
    t
}

/// Sends a request; returns the status and the JSON body (Null when empty or not JSON).
pub async fn send(
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut rb = client().request(method.parse().unwrap(), format!("{}{path}", base()));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let res = rb.send().await.unwrap();
    let st = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = res.text().await.unwrap();
    if (st.is_client_error() || st.is_server_error()) && path.starts_with("/api/") {
        assert_eq!(
            ct, "application/problem+json",
            "{method} {path} -> {st}: errors are problem+json"
        );
    }
    (st, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Sends as a demo user.
pub async fn as_user(
    user: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let t = token(user).await;
    send(Some(&t), method, path, body).await
}

/// Runs an action and asserts success; returns the dossier view.
pub async fn act(user: &str, id: &str, action: &str, body: Value) -> Value {
    let (st, v) = as_user(
        user,
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/{action}"),
        Some(body),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{user} {action}: {v}");
    v
}

/// A published procedure received at `receiving` whose competent agency is `competent` and,
/// if `cooperating` is given, whose workflow has a step at that agency.
pub async fn find_procedure(
    receiving: &str,
    competent: Option<&str>,
    cooperating: Option<&[&str]>,
) -> (String, Option<String>) {
    let mut offset = 0;
    loop {
        let (st, page) = send(
            None,
            "GET",
            &format!("/api/v1/procedures?agency={receiving}&limit=200&offset={offset}"),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let items = page["items"].as_array().unwrap().clone();
        if items.is_empty() {
            panic!(
                "no procedure at {receiving} with competent {competent:?} and cooperating {cooperating:?}"
            );
        }
        for it in &items {
            let code = it["code"].as_str().unwrap();
            let (_, d) = send(None, "GET", &format!("/api/v1/procedures/{code}"), None).await;
            let p = &d["procedure"];
            if competent.is_some_and(|c| p["competent_agency"].as_str() != Some(c)) {
                continue;
            }
            let coop = p["workflow"]["steps"]
                .as_array()
                .unwrap()
                .iter()
                .find_map(|s| {
                    (s["agency"]["type"] == "agency")
                        .then(|| s["agency"]["code"].as_str().unwrap().to_string())
                });
            match (cooperating, &coop) {
                (None, None) => return (code.to_string(), None),
                (Some(allowed), Some(c)) if allowed.contains(&c.as_str()) => {
                    return (code.to_string(), coop);
                }
                _ => {}
            }
        }
        offset += 200;
    }
}

/// `documents` entries that fill every required upload slot of `code`'s published form with a
/// small PDF uploaded by the holder of `token` (an online submission must attach each required
/// document; see `missing_required_documents` in the API). Made once per server, token and
/// procedure: the same files may be attached to any number of the uploader's dossiers.
pub async fn required_documents(token: &str, code: &str) -> Vec<Value> {
    required_documents_at(base(), token, code).await
}

/// [`required_documents`] on the server at `base`.
pub async fn required_documents_at(base: &str, token: &str, code: &str) -> Vec<Value> {
    type Made = HashMap<(String, String, String), Vec<Value>>;
    static MADE: OnceLock<Mutex<Made>> = OnceLock::new();
    let at = (base.to_string(), token.to_string(), code.to_string());
    if let Some(d) = MADE.get_or_init(Default::default).lock().unwrap().get(&at) {
        return d.clone();
    }
    let form: Value = client()
        .get(format!("{base}/api/v1/procedures/{code}/form"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut docs = Vec::new();
    for slot in form["form"]["uploads"].as_array().into_iter().flatten() {
        if slot["required"] != Value::Bool(true) {
            continue;
        }
        let name = match &slot["name"] {
            Value::String(s) => s.clone(),
            n => n["vi"].as_str().unwrap_or_default().to_string(),
        };
        docs.push(json!({"name": name, "file": upload_pdf_at(base, token).await}));
    }
    MADE.get_or_init(Default::default)
        .lock()
        .unwrap()
        .insert(at, docs.clone());
    docs
}

/// Uploads a PDF unique to this call as the holder of `token`; returns its key.
pub async fn upload_pdf(token: &str) -> String {
    upload_pdf_at(base(), token).await
}

/// [`upload_pdf`] on the server at `base`.
pub async fn upload_pdf_at(base: &str, token: &str) -> String {
    let mut pdf = motcua_domain::files::samples::pdf();
    pdf.extend_from_slice(format!("% {}\n%%EOF\n", uuid::Uuid::new_v4()).as_bytes());
    let body = browser::multipart(&[("file", Some("giay-to.pdf"), &pdf)]);
    let res = client()
        .post(format!("{base}/api/v1/files"))
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={}", browser::BOUNDARY),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "upload a PDF");
    let v: Value = res.json().await.unwrap();
    v["key"]
        .as_str()
        .expect("the upload answers its key")
        .to_string()
}

/// Adds [`required_documents`] to a submission body's `documents` (keeping those it has, and
/// giving a file to a document of the same name that has none).
pub async fn with_required_documents(token: &str, body: Value) -> Value {
    with_required_documents_at(base(), token, body).await
}

/// [`with_required_documents`] on the server at `base`.
pub async fn with_required_documents_at(base: &str, token: &str, mut body: Value) -> Value {
    let code = body["procedure_code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let extra = required_documents_at(base, token, &code).await;
    let Some(obj) = body.as_object_mut() else {
        return body;
    };
    let docs = obj.entry("documents").or_insert_with(|| json!([]));
    let Some(list) = docs.as_array_mut() else {
        return body;
    };
    for e in extra {
        match list.iter_mut().find(|d| d["name"] == e["name"]) {
            Some(d) if d.get("file").is_none_or(Value::is_null) => d["file"] = e["file"].clone(),
            Some(_) => {}
            None => list.push(e),
        }
    }
    body
}

/// Submits `body` to `POST /api/v1/dossiers` as a demo citizen, with a file for each required
/// document of the procedure (see [`with_required_documents`]).
pub async fn submit_as(user: &str, body: Option<Value>) -> (StatusCode, Value) {
    let t = token(user).await;
    let body = match body {
        Some(b) => Some(with_required_documents(&t, b).await),
        None => None,
    };
    send(Some(&t), "POST", "/api/v1/dossiers", body).await
}
