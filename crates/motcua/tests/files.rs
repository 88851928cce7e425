//! Files over HTTP: uploads checked by their bytes, the personal data store, files of dossiers
//! with the dossier's own authorization, safe previews, document keys in dossier actions, and
//! digitization at the desk feeding the statistics.

mod common;

use common::*;
use motcua_domain::files::samples;
use reqwest::StatusCode;
use serde_json::{Value, json};

const BOUNDARY: &str = "motcua-test-boundary-7MA4YWxkTrZu0gW";

/// A multipart body by hand (so that malformed and oddly ordered forms can be sent too).
fn form(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, file_name, bytes) in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file_name {
            Some(f) => out.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

async fn post_form(user: Option<&str>, path: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let mut rb = client()
        .post(format!("{}{path}", base()))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body);
    if let Some(u) = user {
        rb = rb.bearer_auth(token(u).await);
    }
    let res = rb.send().await.unwrap();
    let st = res.status();
    if st.is_client_error() || st.is_server_error() {
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{path} -> {st}"
        );
    }
    (st, res.json().await.unwrap_or(Value::Null))
}

/// Uploads `bytes` as `name`; asserts 201 and returns the answer.
async fn upload(user: &str, name: &str, bytes: &[u8]) -> Value {
    let (st, v) = post_form(
        Some(user),
        "/api/v1/files",
        form(&[("file", Some(name), bytes)]),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{user} uploads {name}: {v}");
    v
}

/// A PDF unique to this call (the same bytes are stored once, so tests need their own).
fn unique_pdf() -> Vec<u8> {
    let mut b = samples::pdf();
    b.extend_from_slice(format!("% {}\n%%EOF\n", uuid::Uuid::new_v4()).as_bytes());
    b
}

async fn my_files(user: &str) -> Vec<Value> {
    let (st, v) = as_user(user, "GET", "/api/v1/me/files", None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["items"].as_array().unwrap().clone()
}

/// A dossier submitted online by `congdan` at the centre, with `documents`.
async fn submit_online(user: &str, documents: Value) -> (StatusCode, Value) {
    let centre = agency_of("motcua.tinh");
    let (code, _) = find_procedure(&centre, Some(&agency_of("lanhdao.stp")), None).await;
    submit_as(
        user,
        Some(json!({"procedure_code": code, "agency": centre, "documents": documents})),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_recognised_by_their_bytes_and_stored_once() {
    let pdf = unique_pdf();
    let a = upload("congdan", "C:\\giấy tờ\\Đơn đề nghị.pdf", &pdf).await;
    let key = a["key"].as_str().unwrap();
    assert!(key.starts_with("sha256:") && key.len() == 71, "{a}");
    assert_eq!(a["mime"], "application/pdf");
    assert_eq!(a["size"], pdf.len());
    assert_eq!(a["name"], "Đơn đề nghị.pdf", "no folders in the name");
    // The same bytes again, under another name: the same key, one entry in the data store.
    let b = upload("congdan", "ban-sao.pdf", &pdf).await;
    assert_eq!(b["key"], a["key"]);
    let mine = my_files("congdan").await;
    assert_eq!(mine.iter().filter(|f| f["key"] == a["key"]).count(), 1);
    let entry = mine.iter().find(|f| f["key"] == a["key"]).unwrap();
    assert_eq!(entry["name"], "Đơn đề nghị.pdf");
    assert_eq!(entry["kind"], "upload");

    let png = upload("congdan", "anh.png", &samples::png()).await;
    assert_eq!(png["mime"], "image/png");
    let jpg = upload("congdan", "anh.jpeg", &samples::jpeg()).await;
    assert_eq!(jpg["mime"], "image/jpeg");
    // A real JPEG named .pdf is kept, and named for what it is.
    let renamed = upload("congdan", "scan.pdf", &samples::jpeg()).await;
    assert_eq!(renamed["name"], "scan.pdf.jpg");

    // The slot may come before the file; an unknown slot has the default limit.
    let (st, v) = post_form(
        Some("congdan"),
        "/api/v1/files",
        form(&[
            ("slot", None, "Tờ khai".as_bytes()),
            ("file", Some("to-khai.png"), &samples::png()),
        ]),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    // The file itself, from the data store.
    let hex = &key["sha256:".len()..];
    let res = client()
        .get(format!("{}/api/v1/me/files/{hex}", base()))
        .bearer_auth(token("congdan").await)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), pdf.as_slice());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_are_refused_with_a_clear_message() {
    // Other tests upload as this citizen at the same time: look for the refused bytes only.
    let mut refused = Vec::new();
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec();
    exe.extend_from_slice(&[0u8; 64]);
    let zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00don.pdf".to_vec();
    let pdf = samples::pdf();
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        ("rong.pdf", Vec::new(), "empty", "rỗng"),
        ("don.pdf", exe, "executable", "chương trình"),
        ("ho-so.pdf", zip, "archive", "tệp nén"),
        (
            "trang.pdf",
            b"<html><script>alert(1)</script></html>".to_vec(),
            "markup",
            "HTML",
        ),
        (
            "anh.png",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec(),
            "markup",
            "SVG",
        ),
        (
            "cut.pdf",
            pdf[..pdf.len() / 2].to_vec(),
            "corrupt",
            "bị hỏng",
        ),
        ("x.png", samples::png()[..30].to_vec(), "corrupt", "PNG"),
        ("notes.pdf", b"hello".to_vec(), "unsupported", "PDF, JPEG"),
    ];
    for (name, bytes, reason, words) in cases {
        refused.push(motcua_domain::files::FileKey::of(&bytes).reference());
        let (st, p) = post_form(
            Some("congdan2"),
            "/api/v1/files",
            form(&[("file", Some(name), &bytes)]),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {p}");
        assert_eq!(p["extra"]["reason"], reason, "{name}: {p}");
        assert_eq!(p["field"], "file");
        assert!(p["detail"].as_str().unwrap().contains(words), "{name}: {p}");
        assert!(!p["extra"]["message_en"].as_str().unwrap().is_empty());
    }
    // Over the limit (10 MiB): refused while streaming.
    let mut big = samples::pdf();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    let (st, p) = post_form(
        Some("congdan2"),
        "/api/v1/files",
        form(&[("file", Some("big.pdf"), &big)]),
    )
    .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{p}");
    assert_eq!(p["extra"]["reason"], "too_large");
    assert_eq!(p["extra"]["max_bytes"], 10 * 1024 * 1024);
    assert!(p["detail"].as_str().unwrap().contains("10 MiB"), "{p}");
    // Far over: the body limit of the route stops it, from the announced length. The server
    // answers 413 and closes; a client still sending may see the 413 or only the closed
    // connection (a race in the client, not a choice of the server): both are a refusal.
    let mut huge = samples::pdf();
    huge.resize(12 * 1024 * 1024, b' ');
    let sent = client()
        .post(format!("{}/api/v1/files", base()))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .bearer_auth(token("congdan2").await)
        .body(form(&[("file", Some("huge.pdf"), &huge)]))
        .send()
        .await;
    match sent {
        Ok(res) => assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE),
        Err(e) => assert!(
            e.is_request() && !e.is_connect() && !e.is_timeout(),
            "only a connection closed while sending is expected: {e:?}"
        ),
    }
    // Either way nothing was stored.
    let (st, mine) = send(
        Some(&token("congdan2").await),
        "GET",
        "/api/v1/me/files",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let huge_hex = motcua_domain::files::FileKey::of(&huge).hex().to_string();
    assert!(!mine.to_string().contains(&huge_hex), "{mine}");

    // Malformed requests.
    let (st, p) = post_form(
        Some("congdan2"),
        "/api/v1/files",
        form(&[("slot", None, b"x")]),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "no file: {p}");
    let (st, p) = post_form(
        Some("congdan2"),
        "/api/v1/files",
        form(&[
            ("file", Some("a.pdf"), &samples::pdf()),
            ("file", Some("b.pdf"), &samples::pdf()),
        ]),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "two files: {p}");
    let (st, p) = post_form(
        Some("congdan2"),
        "/api/v1/files",
        form(&[
            ("virus", None, b"x"),
            ("file", Some("a.pdf"), &samples::pdf()),
        ]),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "unknown field: {p}");
    assert_eq!(p["field"], "virus");
    let (st, _) = post_form(
        Some("congdan2"),
        "/api/v1/files",
        b"--not-the-boundary\r\ngarbage".to_vec(),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = as_user(
        "congdan2",
        "POST",
        "/api/v1/files",
        Some(json!({"file": "x"})),
    )
    .await;
    assert_eq!(st, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (st, _) = post_form(
        None,
        "/api/v1/files",
        form(&[("file", Some("a.pdf"), &samples::pdf())]),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let kept = my_files("congdan2").await;
    assert!(
        !kept.iter().any(|f| refused
            .iter()
            .any(|k| f["key"].as_str() == Some(k.as_str()))),
        "nothing refused was kept: {kept:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_store_is_private() {
    let pdf = unique_pdf();
    let a = upload("congdan", "rieng.pdf", &pdf).await;
    let hex = &a["key"].as_str().unwrap()["sha256:".len()..];
    assert!(
        my_files("congdan2")
            .await
            .iter()
            .all(|f| f["key"] != a["key"])
    );
    for user in ["congdan2", "motcua.tinh", "quantri"] {
        let (st, _) = as_user(user, "GET", &format!("/api/v1/me/files/{hex}"), None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{user}");
    }
    let (st, _) = as_user("congdan", "GET", "/api/v1/me/files/not-a-hash", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = as_user(
        "congdan",
        "GET",
        &format!("/api/v1/me/files/{hex}?inline=maybe"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = as_user("congdan", "GET", "/api/v1/me/files?limit=x", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = send(None, "GET", "/api/v1/me/files", None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // Someone else uploading the same bytes gets them in their own store; neither sees the other.
    let b = upload("congdan2", "cua-toi.pdf", &pdf).await;
    assert_eq!(b["key"], a["key"]);
    let theirs = my_files("congdan2").await;
    let e = theirs.iter().find(|f| f["key"] == a["key"]).unwrap();
    assert_eq!(e["name"], "cua-toi.pdf");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dossier_files_are_read_like_the_dossier_and_previewed_safely() {
    let pdf = unique_pdf();
    let up = upload("congdan", "Đơn: đặc biệt?.pdf", &pdf).await;
    let key = up["key"].as_str().unwrap().to_string();
    let hex = key["sha256:".len()..].to_string();
    let (st, v) = submit_online(
        "congdan",
        json!([{"name": "Tờ khai", "file": key}, {"name": "Bản chính (nộp khi nhận)"}]),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["dossier"]["id"].as_str().unwrap().to_string();
    let list = format!("/api/v1/dossiers/{id}/files");
    let (st, v) = as_user("congdan", "GET", &list, None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // Besides the files `submit_online` attaches for the other required documents.
    let items: Vec<&Value> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["name"] != "giay-to.pdf")
        .collect();
    assert_eq!(items.len(), 1, "{v}");
    assert_eq!(items[0]["key"], key);
    assert_eq!(items[0]["kind"], "component");
    assert_eq!(items[0]["slot"], "Tờ khai");
    assert_eq!(items[0]["name"], "Đơn_ đặc biệt_.pdf");
    assert_eq!(
        items[0]["url"],
        format!("/api/v1/dossiers/{id}/files/{hex}")
    );

    // The preview: the real type, not sniffable, sandboxed, with a safe file name.
    let res = client()
        .get(format!(
            "{}/api/v1/dossiers/{id}/files/{hex}?inline=1",
            base()
        ))
        .bearer_auth(token("congdan").await)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "application/pdf");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], "sandbox");
    assert_eq!(h["cache-control"], "private, no-store");
    assert_eq!(
        h["content-disposition"],
        "inline; filename=\"Don_ dac biet_.pdf\"; filename*=UTF-8''%C4%90%C6%A1n_%20%C4%91%E1%BA%B7c%20bi%E1%BB%87t_.pdf"
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), pdf.as_slice());

    // The receiving desk reads it; a specialist of another agency, another citizen and the
    // administrator do not learn it exists.
    let (st, _) = as_user("motcua.tinh", "GET", &list, None).await;
    assert_eq!(st, StatusCode::OK);
    let file = format!("{list}/{hex}");
    let (st, _) = as_user("motcua.tinh", "GET", &file, None).await;
    assert_eq!(st, StatusCode::OK);
    for user in ["congdan2", "chuyenvien.xa", "motcua.xa", "quantri"] {
        let (st, p) = as_user(user, "GET", &list, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{user}: {p}");
        let (st, _) = as_user(user, "GET", &file, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{user}");
    }
    // Guessing: another file's hash on this dossier, this hash on a made-up dossier.
    let other = upload("congdan", "khac.png", &samples::png()).await;
    let other_hex = &other["key"].as_str().unwrap()["sha256:".len()..];
    let (st, _) = as_user("congdan", "GET", &format!("{list}/{other_hex}"), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let ghost = uuid::Uuid::now_v7();
    let (st, _) = as_user(
        "congdan",
        "GET",
        &format!("/api/v1/dossiers/{ghost}/files/{hex}"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = as_user("congdan", "GET", &format!("{list}/xyz"), None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = as_user("congdan", "GET", "/api/v1/dossiers/nope/files", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = as_user("congdan", "GET", &format!("{file}?inline=2"), None).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = as_user("congdan", "GET", &format!("{file}?x=1"), None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_keys_must_be_files_the_caller_may_use() {
    let theirs = upload("congdan2", "cua-ban-kia.pdf", &unique_pdf()).await;
    let made_up = format!("sha256:{}", "ab".repeat(32));
    for (file, why) in [
        (json!("blob/don"), "not a key"),
        (json!(made_up), "no such file"),
        (theirs["key"].clone(), "another person's file"),
    ] {
        let (st, p) = submit_online(
            "congdan",
            json!([{"name": "Tờ khai"}, {"name": "CCCD", "file": file}]),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {p}");
        assert_eq!(p["field"], "documents[1].file", "{why}: {p}");
    }
    // Staff of another agency cannot use a citizen's upload either.
    let mine = upload("congdan", "cua-toi.pdf", &unique_pdf()).await;
    let (code, _) = find_procedure(
        &agency_of("motcua.tinh"),
        Some(&agency_of("lanhdao.stp")),
        None,
    )
    .await;
    let (st, p) = as_user(
        "motcua.tinh",
        "POST",
        "/api/v1/dossiers",
        Some(json!({
            "procedure_code": code, "channel": "counter",
            "applicant": {"name": "Nguyễn Văn A"},
            "documents": [{"name": "Tờ khai", "file": mine["key"]}]
        })),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    // The owner can.
    let (st, v) = submit_online("congdan", json!([{"name": "Tờ khai", "file": mine["key"]}])).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_attached_again_from_the_data_store_and_results_land_there() {
    let pdf = upload("congdan", "CCCD.pdf", &unique_pdf()).await;
    let (st, v) = submit_online("congdan", json!([{"name": "Tờ khai"}])).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["dossier"]["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/dossiers/{id}/files");
    // One click: re-use by key.
    let (st, v) = as_user(
        "congdan",
        "POST",
        &path,
        Some(json!({"key": pdf["key"], "name": "Căn cước công dân", "kind": "component"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["name"], "CCCD.pdf");
    assert_eq!(v["slot"], "Căn cước công dân");
    assert_eq!(v["kind_label"], "Thành phần hồ sơ");

    // Refusals: another person's file, a bad key, a kind for staff, unknown fields, bad JSON.
    let theirs = upload("congdan2", "x.pdf", &unique_pdf()).await;
    let (st, p) = as_user(
        "congdan",
        "POST",
        &path,
        Some(json!({"key": theirs["key"]})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["field"], "key");
    let (st, _) = as_user("congdan", "POST", &path, Some(json!({"key": "sha256:zz"}))).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = as_user(
        "congdan",
        "POST",
        &path,
        Some(json!({"key": pdf["key"], "kind": "result"})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = as_user(
        "congdan",
        "POST",
        &path,
        Some(json!({"key": pdf["key"], "kind": "secret"})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = as_user(
        "congdan",
        "POST",
        &path,
        Some(json!({"key": pdf["key"], "owner": "me"})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    // Another citizen and another agency's staff: the dossier does not exist for them.
    for user in ["congdan2", "motcua.xa"] {
        let (st, _) = as_user(user, "POST", &path, Some(json!({"key": pdf["key"]}))).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{user}");
        let (st, _) = post_form(
            Some(user),
            &path,
            form(&[("file", Some("a.pdf"), &unique_pdf())]),
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{user}");
    }

    // After reception the applicant no longer adds files, except when asked for a supplement.
    act("motcua.tinh", &id, "receive", json!({})).await;
    let (st, p) = as_user("congdan", "POST", &path, Some(json!({"key": pdf["key"]}))).await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    // The desk adds a working file...
    let (st, _) = post_form(
        Some("motcua.tinh"),
        &path,
        form(&[
            ("kind", None, b"attachment"),
            ("file", Some("bien-ban.png"), &samples::png()),
        ]),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "the desk adds a working file");
    // ...a specialist of the department does not add components (the desk digitizes)...
    let (st, p) = post_form(
        Some("chuyenvien.stp"),
        &path,
        form(&[("file", Some("scan.png"), &samples::png())]),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    // ...and the desk attaches a result: it lands in the applicant's data store.
    let result = unique_pdf();
    let (st, v) = post_form(
        Some("motcua.tinh"),
        &path,
        form(&[
            ("kind", None, b"result"),
            ("slot", None, "Giấy khai sinh".as_bytes()),
            ("file", Some("ket-qua.pdf"), &result),
        ]),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let mine = my_files("congdan").await;
    let r = mine
        .iter()
        .find(|f| f["key"] == v["key"])
        .expect("result in the data store");
    assert_eq!(r["kind"], "result");
    assert_eq!(r["name"], "ket-qua.pdf");
    let (st, _) = as_user(
        "congdan",
        "GET",
        &format!("/api/v1/me/files/{}", &v["key"].as_str().unwrap()[7..]),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (_, list) = as_user("congdan", "GET", &path, None).await;
    let kinds: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["name"] != "giay-to.pdf")
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["component", "attachment", "result"], "{list}");
    let (st, p) = post_form(
        Some("motcua.tinh"),
        &path,
        form(&[
            ("kind", None, b"other"),
            ("file", Some("a.pdf"), &samples::pdf()),
        ]),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
}

fn fig(v: &Value, name: &str) -> i64 {
    v["total"]["figures"][name].as_i64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_at_the_desk_count_as_digitized_and_made_up_keys_do_not() {
    let centre = agency_of("motcua.tinh");
    let (code, _) = find_procedure(&centre, Some(&agency_of("lanhdao.stp")), None).await;
    let day = (chrono::Utc::now() + chrono::Duration::hours(7))
        .date_naive()
        .to_string();
    let report = format!("/api/v1/reports/form06?from={day}&to={day}&procedure={code}");
    let figures = || async {
        let (st, v) = as_user("quantri", "GET", &report, None).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        (
            fig(&v, "received_counter"),
            fig(&v, "received_paper_digitized"),
        )
    };
    let (counter0, digitized0) = figures().await;

    // The desk scans each paper component, then receives the dossier with the scans.
    let tokhai = upload("motcua.tinh", "to-khai.pdf", &unique_pdf()).await;
    let cccd = upload("motcua.tinh", "cccd.jpg", &samples::jpeg()).await;
    let submit = |documents: Value| {
        let code = code.clone();
        async move {
            as_user(
                "motcua.tinh",
                "POST",
                "/api/v1/dossiers",
                Some(json!({
                    "procedure_code": code, "channel": "counter",
                    "applicant": {"name": "Trần Thị B", "personal_id": "068190001234"},
                    "documents": documents
                })),
            )
            .await
        }
    };
    let (st, v) = submit(json!([
        {"name": "Tờ khai", "file": tokhai["key"]},
        {"name": "Căn cước công dân", "file": cccd["key"]}
    ]))
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["dossier"]["status"], "received");
    let id = v["dossier"]["id"].as_str().unwrap().to_string();
    let (_, files) = as_user(
        "motcua.tinh",
        "GET",
        &format!("/api/v1/dossiers/{id}/files"),
        None,
    )
    .await;
    let items = files["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{files}");
    assert!(
        items
            .iter()
            .all(|i| i["kind"] == "component" && !i["uploaded_by"].is_null())
    );
    // The competent department's staff see the scans.
    let (st, _) = as_user(
        "chuyenvien.stp",
        "GET",
        &format!("/api/v1/dossiers/{id}/files"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);

    // A component noted on paper only: received, not digitized.
    let (st, v) = submit(json!([
        {"name": "Tờ khai", "file": tokhai["key"]},
        {"name": "Căn cước công dân"}
    ]))
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    // A made-up key cannot pass for a scan.
    let (st, p) =
        submit(json!([{"name": "Tờ khai", "file": format!("sha256:{}", "0".repeat(64))}])).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    // Another desk cannot use this desk's scans.
    let ward = agency_of("motcua.xa");
    let (ward_code, _) = find_procedure(&ward, None, None).await;
    let (st, p) = as_user(
        "motcua.xa",
        "POST",
        "/api/v1/dossiers",
        Some(json!({
            "procedure_code": ward_code, "channel": "counter",
            "applicant": {"name": "Trần Thị B"},
            "documents": [{"name": "Tờ khai", "file": tokhai["key"]}]
        })),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");

    let (counter1, digitized1) = figures().await;
    assert_eq!(counter1 - counter0, 2, "two paper dossiers received");
    assert_eq!(
        digitized1 - digitized0,
        1,
        "one with every component scanned"
    );
}
