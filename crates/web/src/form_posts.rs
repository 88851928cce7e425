//! The posts of the e-form page (`forms_page.rs`): reading them, urlencoded or multipart, within
//! bounds (each file held to its slot's limit, the whole body to the sum of the slots' limits,
//! files only for a signed-in citizen), and keeping a citizen's files in the upload slots: new
//! files checked like `POST /api/v1/files` and kept in their data store, chosen or carried keys
//! accepted only from their own data store (docs/forms.md).

use crate::AppState;
use crate::session::Session;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use bytes::Bytes;
use motcua_domain::files::{FileKey, Refusal, sniff};
use motcua_domain::forms::{FieldError, FormDefinition, UPLOADS_KEY};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Largest urlencoded body (no files).
const MAX_FORM_BYTES: usize = 256 * 1024;
/// Largest text field of a multipart form.
const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Most parts in one multipart form.
const MAX_PARTS: usize = 3000;

/// What a POST carried.
#[derive(Default)]
pub(crate) struct Posted {
    pub(crate) pairs: Vec<(String, String)>,
    /// Files by slot id: (file name, bytes, or the refusal when too large).
    pub(crate) files: Vec<(String, String, Result<Bytes, Refusal>)>,
}

impl Posted {
    /// The first value posted under `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The limit of one slot: the form's own, within the deployment's limit for that document.
fn slot_limit(s: &AppState, u: &motcua_domain::forms::UploadSlot) -> u64 {
    u.max_bytes.min(s.files.limit(Some(u.name.get("vi"))))
}

/// Reads a multipart form: text fields, and a file per slot (`_file[slot]`) held to the slot's
/// limit (a larger one is drained and refused, so the rest of the form is still read); the
/// whole body is held to the sum of the slots' limits. `Err`: status and message.
async fn read_multipart(
    s: &AppState,
    def: &FormDefinition,
    keeps_files: bool,
    mut mp: Multipart,
) -> Result<Posted, (StatusCode, &'static str)> {
    let bad = (
        StatusCode::BAD_REQUEST,
        "Tờ khai gửi lên bị hỏng; vui lòng tải lại trang. / The form sent is malformed; please reload the page.",
    );
    let too_large = (
        StatusCode::PAYLOAD_TOO_LARGE,
        "Các tệp gửi lên quá lớn. / The files sent are too large.",
    );
    // Files are kept only for a signed-in citizen: anybody else's are refused unread.
    let files_cap = if keeps_files {
        def.uploads.iter().map(|u| slot_limit(s, u)).sum::<u64>()
    } else {
        0
    };
    let cap = files_cap.saturating_add(1 << 20);
    let mut total: u64 = 0;
    let mut p = Posted::default();
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large),
            Err(_) => return Err(bad),
        };
        if p.pairs.len() + p.files.len() >= MAX_PARTS {
            return Err(bad);
        }
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let slot = name
            .strip_prefix("_file[")
            .and_then(|r| r.strip_suffix(']'))
            .map(str::to_string);
        let limit = match (&slot, &file_name) {
            (Some(_), Some(_)) if !keeps_files => 0,
            (Some(slot), Some(_)) => def
                .uploads
                .iter()
                .find(|u| &u.id == slot)
                .map(|u| slot_limit(s, u))
                .unwrap_or(0),
            _ => MAX_TEXT_BYTES as u64,
        };
        let mut buf = Vec::new();
        let mut over = false;
        loop {
            match field.chunk().await {
                Ok(Some(c)) => {
                    total += c.len() as u64;
                    if total > cap {
                        return Err(too_large);
                    }
                    if (buf.len() + c.len()) as u64 > limit {
                        over = true;
                        buf.clear();
                    } else if !over {
                        buf.extend_from_slice(&c);
                    }
                }
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large),
                Err(_) => return Err(bad),
            }
        }
        match (slot, file_name) {
            (Some(slot), Some(file_name)) => {
                // A file input left empty still sends a part, without a name or bytes.
                if file_name.is_empty() && buf.is_empty() && !over {
                    continue;
                }
                let bytes = if over {
                    Err(Refusal::TooLarge { limit })
                } else {
                    Ok(Bytes::from(buf))
                };
                p.files.push((slot, file_name, bytes));
            }
            (_, Some(_)) => {} // a file under another name: ignored
            (_, None) => {
                if over {
                    return Err(bad);
                }
                let v = String::from_utf8(buf).map_err(|_| bad)?;
                p.pairs.push((name, v));
            }
        }
    }
    Ok(p)
}

/// Reads the POST body: multipart (a citizen's page with upload slots) or urlencoded.
pub(crate) async fn read_posted(
    s: &AppState,
    def: &FormDefinition,
    keeps_files: bool,
    req: Request,
) -> Result<Posted, (StatusCode, String)> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("multipart/"));
    if multipart {
        let mp = Multipart::from_request(req, s).await.map_err(|_| {
            (
                StatusCode::BAD_REQUEST,
                "Tờ khai gửi lên bị hỏng; vui lòng tải lại trang. / The form sent is malformed; please reload the page.".to_string(),
            )
        })?;
        return read_multipart(s, def, keeps_files, mp)
            .await
            .map_err(|(st, m)| (st, m.to_string()));
    }
    let body = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES)
        .await
        .map_err(|_| {
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Tờ khai quá dài. / The form is too long.".to_string(),
            )
        })?;
    let pairs = form_urlencoded::parse(&body)
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    Ok(Posted {
        pairs,
        files: Vec::new(),
    })
}

/// An error next to an upload slot.
pub(crate) fn slot_error(slot: &str, vi: impl Into<String>, en: impl Into<String>) -> FieldError {
    FieldError {
        path: format!("{UPLOADS_KEY}.{slot}"),
        message: vi.into(),
        message_en: en.into(),
    }
}

/// Applies the posted files and data-store choices to `values["_uploads"]` for `citizen`:
/// keeps only keys of their own data store, stores each new file after the same checks as the
/// API (type from the bytes, the slot's types and limit). Returns the errors (next to the slot)
/// and the names of files attached.
pub(crate) async fn attach_files(
    s: &AppState,
    def: &FormDefinition,
    citizen: Option<&Session>,
    posted: Posted,
    picks: Vec<(String, String)>,
    values: &mut Value,
) -> (Vec<FieldError>, HashMap<String, String>) {
    let mut errors = Vec::new();
    let mut names = HashMap::new();
    let Some(obj) = values.as_object_mut() else {
        return (errors, names);
    };
    let mut uploads: Map<String, Value> = obj
        .remove(UPLOADS_KEY)
        .and_then(|v| match v {
            Value::Object(m) => Some(m),
            _ => None,
        })
        .unwrap_or_default();
    let Some(c) = citizen else {
        // Nobody to keep files for: the page only checks; a submission needs an account.
        for (slot, _, _) in &posted.files {
            errors.push(slot_error(
                slot,
                "Đăng nhập để đính kèm tệp.",
                "Sign in to attach files.",
            ));
        }
        if !uploads.is_empty() {
            obj.insert(UPLOADS_KEY.into(), Value::Object(uploads));
        }
        return (errors, names);
    };
    let owner = c.actor.user_id;
    let own = |key: String| async move {
        match FileKey::parse_ref(&key) {
            Some(k) => match s.store.vault_entry(owner, &k).await {
                Ok(Some((e, _))) => Some((key, e.name)),
                _ => None,
            },
            None => None,
        }
    };
    // Keys carried from an earlier render, or chosen from the data store: theirs only.
    let carried: Vec<(String, String)> = uploads
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
        .collect();
    uploads.clear();
    let not_yours = |slot: &str| {
        slot_error(
            slot,
            "Tệp này không có trong kho dữ liệu của bạn: hãy tải tệp lên.",
            "This file is not in your data store: please upload it.",
        )
    };
    for (slot, key) in carried.into_iter().chain(picks) {
        if !def.uploads.iter().any(|u| u.id == slot) || key.trim().is_empty() {
            continue;
        }
        match own(key).await {
            Some((key, name)) => {
                names.insert(key.clone(), name);
                uploads.insert(slot, Value::String(key));
            }
            None => {
                uploads.remove(&slot);
                errors.push(not_yours(&slot));
            }
        }
    }
    for (slot, file_name, bytes) in posted.files {
        let Some(u) = def.uploads.iter().find(|u| u.id == slot) else {
            continue;
        };
        let refused = |r: &Refusal| slot_error(&slot, r.message_vi(), r.message_en());
        let bytes = match bytes {
            Ok(b) => b,
            Err(r) => {
                errors.push(refused(&r));
                continue;
            }
        };
        let ty = match sniff(&bytes) {
            Ok(t) => t,
            Err(r) => {
                metrics::counter!("motcua_files_refused_total", "reason" => r.code()).increment(1);
                errors.push(refused(&r));
                continue;
            }
        };
        if !u.accept.iter().any(|m| m == ty.mime()) {
            errors.push(slot_error(
                &slot,
                format!("Giấy tờ này không nhận tệp {}.", ty.mime()),
                format!("This document does not take {} files.", ty.mime()),
            ));
            continue;
        }
        match crate::api::files::keep_upload(s, &c.actor, &file_name, bytes).await {
            Ok((key, name)) => {
                names.insert(key.clone(), name);
                uploads.insert(slot, Value::String(key));
            }
            Err(e) => {
                if e.status().is_server_error() {
                    tracing::error!(status = %e.status(), "keeping an upload failed");
                }
                errors.push(slot_error(&slot, e.detail(), "The file could not be kept."));
            }
        }
    }
    if !uploads.is_empty() {
        obj.insert(UPLOADS_KEY.into(), Value::Object(uploads));
    }
    (errors, names)
}
