//! Files: uploads (PDF, JPEG, PNG recognised from their bytes), each person's data store (kho dữ
//! liệu), files linked to dossiers (components, supplements, results, working attachments;
//! scans made at the desk: digitization) and downloads with a safe inline preview.
//!
//! Who may see a dossier's files is exactly who may see the dossier (`authz::visible`); a person
//! sees only their own data store. Keys of files someone may not use read as unknown (404/422),
//! so hashes cannot be probed.

use crate::AppState;
use crate::auth::Auth;
use crate::authz::visible;
use crate::error::ApiError;
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use motcua_domain::agency::{Actor, Role};
use motcua_domain::dossier::{DocumentRef, Dossier};
use motcua_domain::files::{
    AttachmentKind, FileKey, FileType, Refusal, VaultKind, display_name, sniff,
};
use motcua_domain::status::Status;
use motcua_store::{Blobs, DossierFile, FileRecord, SaveFile, VaultEntry};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Default size limit of one file: 10 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 10 << 20;
/// Room for the multipart framing and the small fields around the file.
const MULTIPART_SLACK: u64 = 64 << 10;
/// Longest slot / component name.
const MAX_SLOT_CHARS: usize = 500;

/// Where uploaded files go and how large they may be.
#[derive(Clone, Debug)]
pub struct Files {
    /// The blob store.
    pub blobs: Blobs,
    /// Limit of one file, in bytes.
    pub max_bytes: u64,
    /// Limits of particular slots (component names), overriding `max_bytes`.
    pub slot_max_bytes: BTreeMap<String, u64>,
}

impl Files {
    /// Files kept in memory with the default limit (tests; lost on exit).
    pub fn memory() -> Files {
        Files {
            blobs: Blobs::memory(),
            max_bytes: DEFAULT_MAX_BYTES,
            slot_max_bytes: BTreeMap::new(),
        }
    }

    /// The limit of a slot.
    pub fn limit(&self, slot: Option<&str>) -> u64 {
        slot.and_then(|s| self.slot_max_bytes.get(s))
            .copied()
            .unwrap_or(self.max_bytes)
    }

    /// The largest limit of any slot: what a file is held to while its slot is not yet known.
    pub fn largest_limit(&self) -> u64 {
        self.slot_max_bytes
            .values()
            .copied()
            .fold(self.max_bytes, u64::max)
    }

    /// The request body limit of upload routes.
    pub fn body_limit(&self) -> usize {
        usize::try_from(self.largest_limit() + MULTIPART_SLACK).unwrap_or(usize::MAX)
    }
}

/// A file as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FileView {
    /// Key to put in `documents[].file`: `sha256:<hex>`.
    #[schema(example = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub key: String,
    /// Media type recognised from the bytes.
    pub mime: String,
    /// Size in bytes.
    pub size: u64,
    /// Name shown (sanitized).
    pub name: String,
}

/// A file of the caller's data store.
#[derive(Serialize, utoipa::ToSchema)]
pub struct VaultItem {
    /// The file.
    #[serde(flatten)]
    pub file: FileView,
    /// `upload` or `result` (a result of one of the caller's dossiers).
    pub kind: VaultKind,
    /// When it was added.
    pub added_at: DateTime<Utc>,
    /// Download link (`?inline=1` to preview).
    pub url: String,
}

/// The caller's data store.
#[derive(Serialize, utoipa::ToSchema)]
pub struct VaultPage {
    /// Newest first.
    pub items: Vec<VaultItem>,
}

/// A file linked to a dossier.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DossierFileView {
    /// The file.
    #[serde(flatten)]
    pub file: FileView,
    /// `component`, `supplement`, `result` or `attachment`.
    pub kind: AttachmentKind,
    /// Vietnamese label of the kind.
    pub kind_label: &'static str,
    /// Component (thành phần hồ sơ) or slot it fills.
    pub slot: String,
    /// Who linked it (absent for documents known only from the dossier's log).
    pub uploaded_by: Option<Uuid>,
    /// When.
    pub uploaded_at: Option<DateTime<Utc>>,
    /// Download link (`?inline=1` to preview).
    pub url: String,
}

/// The files of a dossier.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DossierFilePage {
    /// Oldest first.
    pub items: Vec<DossierFileView>,
}

fn view(f: &FileRecord, name: &str) -> FileView {
    FileView {
        key: f.key.reference(),
        mime: f.mime.clone(),
        size: f.size,
        name: name.to_string(),
    }
}

/// The problem for a refused file: 413 when too large, 422 otherwise; the detail is the
/// Vietnamese message, `extra` has the reason and the English message.
pub fn refused(r: &Refusal) -> ApiError {
    let status = match r {
        Refusal::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let mut extra = serde_json::json!({ "reason": r.code(), "message_en": r.message_en() });
    if let Refusal::TooLarge { limit } = r {
        extra["max_bytes"] = (*limit).into();
    }
    ApiError::new(status, "file-refused", "File refused", r.message_vi())
        .field("file")
        .extra(extra)
}

/// What a multipart request carried.
#[derive(Default)]
struct Form {
    file: Option<(String, Bytes)>,
    slot: Option<String>,
    kind: Option<String>,
}

fn multipart_err(e: axum::extract::multipart::MultipartError, limit: u64) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        refused(&Refusal::TooLarge { limit })
    } else {
        ApiError::bad_request(format!("malformed multipart body: {}", e.body_text()))
    }
}

/// Reads the multipart fields `file`, `slot` and `kind`, holding the file to its slot's limit
/// while it streams in: never more than the limit is buffered.
async fn read_form(files: &Files, mut mp: Multipart) -> Result<Form, ApiError> {
    let mut form = Form::default();
    let largest = files.largest_limit();
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| multipart_err(e, largest))?
    {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                if form.file.is_some() {
                    return Err(ApiError::invalid("file", "send one file per request"));
                }
                let limit = match &form.slot {
                    Some(s) => files.limit(Some(s)),
                    None => largest,
                };
                let raw_name = field.file_name().unwrap_or_default().to_string();
                let mut buf = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| multipart_err(e, limit))? {
                    if (buf.len() + chunk.len()) as u64 > limit {
                        return Err(refused(&Refusal::TooLarge { limit }));
                    }
                    buf.extend_from_slice(&chunk);
                }
                form.file = Some((raw_name, Bytes::from(buf)));
            }
            "slot" | "kind" => {
                let v = field.text().await.map_err(|e| multipart_err(e, largest))?;
                let v = v.trim().to_string();
                if v.chars().count() > MAX_SLOT_CHARS {
                    return Err(ApiError::invalid(
                        &name,
                        format!("at most {MAX_SLOT_CHARS} characters"),
                    ));
                }
                if name == "slot" {
                    form.slot = Some(v).filter(|v| !v.is_empty());
                } else {
                    form.kind = Some(v);
                }
            }
            other => {
                return Err(ApiError::invalid(
                    other,
                    "unknown field: send `file` and optionally `slot` and `kind`",
                ));
            }
        }
    }
    // The slot may have come after the file.
    if let Some((_, b)) = &form.file {
        let limit = files.limit(form.slot.as_deref());
        if b.len() as u64 > limit {
            return Err(refused(&Refusal::TooLarge { limit }));
        }
    }
    Ok(form)
}

/// A checked file, stored in the blob store (not yet recorded).
struct Stored {
    record: FileRecord,
    name: String,
}

/// Checks the bytes and stores them; the same bytes are stored once.
async fn store_bytes(s: &AppState, raw_name: &str, bytes: Bytes) -> Result<Stored, ApiError> {
    let ty: FileType = sniff(&bytes).map_err(|r| {
        metrics::counter!("motcua_files_refused_total", "reason" => r.code()).increment(1);
        refused(&r)
    })?;
    let key = FileKey::of(&bytes);
    let size = bytes.len() as u64;
    s.files.blobs.put(&key, bytes).await?;
    metrics::counter!("motcua_files_uploaded_total", "type" => ty.mime()).increment(1);
    Ok(Stored {
        record: FileRecord {
            key,
            size,
            mime: ty.mime().to_string(),
            created_at: Utc::now(),
        },
        name: display_name(raw_name, ty),
    })
}

fn upload_entry(actor: &Actor, st: &Stored) -> VaultEntry {
    VaultEntry {
        owner: actor.user_id,
        key: st.record.key.clone(),
        name: st.name.clone(),
        kind: VaultKind::Upload,
        added_at: st.record.created_at,
    }
}

/// Uploads a file into the caller's data store (multipart: `file`, optional `slot` before it
/// for that slot's size limit). Only PDF, JPEG and PNG, recognised from the bytes.
#[utoipa::path(post, path = "/api/v1/files", tag = "files", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "`file`: the file; `slot` (optional, before `file`): the slot it is for"),
    responses((status = 201, body = FileView), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
        (status = 413, body = crate::error::Problem), (status = 415, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn upload(
    State(s): State<AppState>,
    Auth(actor): Auth,
    req: Request,
) -> Result<(StatusCode, Json<FileView>), ApiError> {
    let mp = multipart(req, &s).await?;
    let form = read_form(&s.files, mp).await?;
    let (raw_name, bytes) = form
        .file
        .ok_or_else(|| ApiError::invalid("file", "no `file` field in the form"))?;
    if let Some(k) = &form.kind {
        return Err(ApiError::invalid(
            "kind",
            format!("`kind` ({k}) is for files attached to a dossier"),
        ));
    }
    let st = store_bytes(&s, &raw_name, bytes).await?;
    s.store
        .save_file(SaveFile {
            file: st.record.clone(),
            vault: vec![upload_entry(&actor, &st)],
            links: vec![],
        })
        .await?;
    Ok((StatusCode::CREATED, Json(view(&st.record, &st.name))))
}

/// Checks and stores one uploaded file into `actor`'s data store (as `POST /api/v1/files` does):
/// the counter reception screen's scans. The key goes into a component's `DocumentRef::file`.
pub(crate) async fn store_upload(
    s: &AppState,
    actor: &Actor,
    raw_name: &str,
    bytes: Bytes,
) -> Result<FileView, ApiError> {
    let st = store_bytes(s, raw_name, bytes).await?;
    s.store
        .save_file(SaveFile {
            file: st.record.clone(),
            vault: vec![upload_entry(actor, &st)],
            links: vec![],
        })
        .await?;
    Ok(view(&st.record, &st.name))
}

/// Keeps the e-receipt (biên lai) of a payment as a file of dossier `dossier`, linked as a
/// receipt by `owner` (the applicant who paid): content-addressed, stored once. The bytes must
/// be a PDF (recognised like every upload). Returns its reference (`sha256:<hex>`).
pub(crate) async fn store_receipt(
    s: &AppState,
    dossier: Uuid,
    owner: Uuid,
    reference: &str,
    bytes: Bytes,
) -> Result<String, ApiError> {
    let st = store_bytes(s, &format!("bien-lai-{reference}.pdf"), bytes).await?;
    if st.record.mime != "application/pdf" {
        return Err(ApiError::invalid("receipt", "the e-receipt is not a PDF"));
    }
    s.store
        .save_file(SaveFile {
            file: st.record.clone(),
            vault: vec![],
            links: vec![DossierFile {
                dossier_id: dossier,
                kind: AttachmentKind::Receipt,
                slot: reference.to_string(),
                key: st.record.key.clone(),
                name: st.name,
                uploaded_by: owner,
                uploaded_at: st.record.created_at,
            }],
        })
        .await?;
    Ok(st.record.key.reference())
}

/// Checks an upload from a page and keeps it in `actor`'s data store (the same checks as
/// `POST /api/v1/files`): returns its reference (`sha256:<hex>`) and display name, or the
/// refusal (Vietnamese detail; `extra.message_en` in English).
pub(crate) async fn keep_upload(
    s: &AppState,
    actor: &Actor,
    raw_name: &str,
    bytes: Bytes,
) -> Result<(String, String), ApiError> {
    let limit = s.files.limit(None);
    if bytes.len() as u64 > limit {
        return Err(refused(&Refusal::TooLarge { limit }));
    }
    let st = store_bytes(s, raw_name, bytes).await?;
    s.store
        .save_file(SaveFile {
            file: st.record.clone(),
            vault: vec![upload_entry(actor, &st)],
            links: vec![],
        })
        .await?;
    Ok((st.record.key.reference(), st.name))
}

async fn multipart(req: Request, s: &AppState) -> Result<Multipart, ApiError> {
    Multipart::from_request(req, s).await.map_err(|e| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            format!("send the file as multipart/form-data: {}", e.body_text()),
        )
    })
}

/// Page size.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VaultParams {
    /// At most this many (1-1000, default 200).
    pub limit: Option<u32>,
}

/// The caller's data store (kho dữ liệu): their uploads and their dossiers' results, newest
/// first. Any of them can be attached to a dossier again by its key.
#[utoipa::path(get, path = "/api/v1/me/files", tag = "files", params(VaultParams), security(("bearer" = [])),
    responses((status = 200, body = VaultPage), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem)))]
pub async fn my_files(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: Result<Query<VaultParams>, QueryRejection>,
) -> Result<Json<VaultPage>, ApiError> {
    let Query(p) = q?;
    let limit = p.limit.unwrap_or(200).clamp(1, 1000);
    let items = s
        .store
        .vault(actor.user_id, limit)
        .await?
        .into_iter()
        .map(|(e, f)| VaultItem {
            url: format!("/api/v1/me/files/{}", f.key.hex()),
            file: view(&f, &e.name),
            kind: e.kind,
            added_at: e.added_at,
        })
        .collect();
    Ok(Json(VaultPage { items }))
}

/// How to serve a file.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ServeParams {
    /// `1`: show it in the browser (preview) instead of downloading.
    pub inline: Option<String>,
}

fn parse_key(raw: &str) -> Result<FileKey, ApiError> {
    FileKey::parse_any(raw).ok_or_else(|| {
        ApiError::bad_request(format!(
            "`{raw}` is not a file key: 64 hex digits, optionally prefixed `sha256:`"
        ))
    })
}

/// One file of the caller's data store.
#[utoipa::path(get, path = "/api/v1/me/files/{key}", tag = "files", security(("bearer" = [])),
    params(("key" = String, Path, description = "sha256 hex (or sha256:<hex>)"), ServeParams),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 400, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)))]
pub async fn my_file(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(key): Path<String>,
    q: Result<Query<ServeParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = q?;
    let inline = inline(&p)?;
    let key = parse_key(&key)?;
    let (entry, record) = s
        .store
        .vault_entry(actor.user_id, &key)
        .await?
        .ok_or_else(|| ApiError::not_found("no such file in your data store"))?;
    serve(&s, &record, &entry.name, inline).await
}

fn inline(p: &ServeParams) -> Result<bool, ApiError> {
    match p.inline.as_deref() {
        None | Some("0") | Some("false") => Ok(false),
        Some("1") | Some("true") => Ok(true),
        Some(v) => Err(ApiError::invalid(
            "inline",
            format!("`{v}`: use 1 (preview) or 0 (download)"),
        )),
    }
}

/// Sends a stored file with headers that stop a browser from running it: its recognised type,
/// `nosniff`, a sandboxing CSP and an RFC 6266 file name.
async fn serve(
    s: &AppState,
    f: &FileRecord,
    name: &str,
    inline: bool,
) -> Result<Response, ApiError> {
    // Only the three accepted types are ever served as themselves.
    let mime = FileType::from_mime(&f.mime).map_or("application/octet-stream", |t| t.mime());
    let bytes = s.files.blobs.get(&f.key).await?.ok_or_else(|| {
        ApiError::internal(format!(
            "file {} is recorded but missing from storage",
            f.key
        ))
    })?;
    let disposition = content_disposition(if inline { "inline" } else { "attachment" }, name);
    let mut res = Response::new(Body::from(bytes));
    let h = res.headers_mut();
    let value = |v: &str| HeaderValue::from_str(v).map_err(ApiError::internal);
    h.insert(header::CONTENT_TYPE, value(mime)?);
    h.insert(header::CONTENT_DISPOSITION, value(&disposition)?);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(header::ETAG, value(&format!("\"{}\"", f.key.hex()))?);
    Ok(res)
}

/// `inline; filename="Don de nghi.pdf"; filename*=UTF-8''%C4%90%C6%A1n%20...` (RFC 6266 with
/// an ASCII fallback for old clients and the exact name per RFC 8187).
pub fn content_disposition(kind: &str, name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let ascii: String = name
        .nfd()
        .filter_map(|c| match c {
            'đ' => Some('d'),
            'Đ' => Some('D'),
            '"' | '\\' => Some('_'),
            c if c.is_ascii_graphic() || c == ' ' => Some(c),
            c if unicode_normalization::char::is_combining_mark(c) => None,
            _ => Some('_'),
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// Re-use of a file from the caller's data store.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachRequest {
    /// `sha256:<hex>` from `GET /api/v1/me/files` (or from an upload by your agency's staff).
    pub key: String,
    /// The component (thành phần hồ sơ) it is for.
    pub name: Option<String>,
    /// `component` (default), `supplement`, `result` or `attachment`.
    pub kind: Option<AttachmentKind>,
}

/// Whether `actor` may link a file of `kind` to `d` now (the dossier is already visible).
fn may_attach(actor: &Actor, d: &Dossier, kind: AttachmentKind) -> Result<(), ApiError> {
    use AttachmentKind::*;
    if kind == Receipt {
        // E-receipts come from the payment platform only (see `crate::payment`).
        return Err(ApiError::forbidden(
            "e-receipts are fetched from the payment platform, not attached",
        ));
    }
    match actor.role {
        Role::Citizen => {
            if !matches!(kind, Component | Supplement) {
                return Err(ApiError::forbidden(
                    "applicants attach components and supplements; results and working files come from the agency",
                ));
            }
            if !matches!(
                d.status,
                Status::AwaitingReception
                    | Status::SupplementAtReception
                    | Status::SupplementRequested
            ) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "action-not-allowed",
                    "Action not allowed in this status",
                    format!(
                        "files can be added while the dossier awaits reception or a supplement; it is `{}`",
                        d.status.as_str()
                    ),
                )
                .extra(serde_json::json!({ "action": "attach_file", "status": d.status.as_str() })));
            }
            Ok(())
        }
        Role::DeskOfficer | Role::Specialist | Role::Leader => {
            let desk = actor.is(Role::DeskOfficer, &d.receiving_agency);
            let holds = actor.works_at(&d.current_agency);
            let ok = match kind {
                // Digitization of paper components happens at the receiving desk.
                Component | Supplement => desk,
                Attachment => desk || holds,
                Result => desk || holds || actor.works_at(&d.competent_agency),
                Receipt => false,
            };
            if ok {
                Ok(())
            } else {
                Err(ApiError::forbidden(format!(
                    "{} files of this dossier are added by {}",
                    kind.as_str(),
                    match kind {
                        Component | Supplement => "the receiving desk",
                        _ => "the receiving desk or the agency holding the dossier",
                    }
                )))
            }
        }
        Role::Admin => Err(ApiError::not_found("no such dossier")),
    }
}

/// Whether `actor` may use the file `key`: it is in their data store, or (staff) one of their
/// agency's staff uploaded or linked it, or it belongs to `dossier` already. Returns the name
/// it has in the caller's data store, if it is there.
async fn may_use(
    s: &AppState,
    actor: &Actor,
    key: &FileKey,
    dossier: Option<&Dossier>,
) -> Result<Option<String>, ApiError> {
    Ok(usable(s, actor, key, dossier).await?.map(|(name, _)| name))
}

/// [`may_use`], with the file's record when the data store gave it (spares a read later).
async fn usable(
    s: &AppState,
    actor: &Actor,
    key: &FileKey,
    dossier: Option<&Dossier>,
) -> Result<Option<(String, FileRecord)>, ApiError> {
    if let Some((e, record)) = s.store.vault_entry(actor.user_id, key).await? {
        return Ok(Some((e.name, record)));
    }
    if actor.role.is_staff()
        && let Some(a) = &actor.agency
        && s.store.agency_holds_file(a, key).await?
    {
        return Ok(None);
    }
    if let Some(d) = dossier {
        let r = key.reference();
        let in_log = d
            .documents
            .iter()
            .chain(&d.result_documents)
            .any(|x| x.file.as_deref() == Some(r.as_str()));
        if in_log
            || s.store
                .dossier_files(d.id)
                .await?
                .iter()
                .any(|(f, _)| f.key == *key)
        {
            return Ok(None);
        }
    }
    Err(ApiError::invalid(
        "key",
        "no such file in your data store: upload it first (POST /api/v1/files)",
    ))
}

/// Attaches a file to a dossier: a multipart upload (`file`, `slot`: the component, `kind`) or
/// JSON `{key, name, kind}` re-using a file of the caller's data store. Desk officers attach
/// scans of paper components here (digitization); results also land in the applicant's data
/// store.
#[utoipa::path(post, path = "/api/v1/dossiers/{id}/files", tag = "files", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body(content = AttachRequest, description = "JSON re-use of a stored file, or multipart/form-data with `file`, `slot`, `kind`"),
    responses((status = 201, body = DossierFileView), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 413, body = crate::error::Problem),
        (status = 415, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn attach(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    req: Request,
) -> Result<(StatusCode, Json<DossierFileView>), ApiError> {
    let id = parse_dossier_id(&id)?;
    let d = load(&s, &actor, id).await?;
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let now = Utc::now();
    let (record, name, slot, kind, mut vault) = if is_json {
        let Json(body) = Json::<AttachRequest>::from_request(req, &s).await?;
        let kind = body.kind.unwrap_or(AttachmentKind::Component);
        may_attach(&actor, &d, kind)?;
        let key = FileKey::parse_ref(&body.key)
            .ok_or_else(|| ApiError::invalid("key", "must be sha256:<64 hex digits>"))?;
        let name = may_use(&s, &actor, &key, Some(&d)).await?;
        let record = s
            .store
            .file_record(&key)
            .await?
            .ok_or_else(|| ApiError::invalid("key", "no such file"))?;
        let slot = slot_name(body.name)?;
        let name = name.unwrap_or_else(|| fallback_name(&slot, &record));
        (record, name, slot, kind, Vec::new())
    } else {
        let mp = multipart(req, &s).await?;
        let form = read_form(&s.files, mp).await?;
        let kind = match form.kind.as_deref() {
            None | Some("") => AttachmentKind::Component,
            Some(k) => AttachmentKind::parse(k).ok_or_else(|| {
                ApiError::invalid("kind", "one of component, supplement, result, attachment")
            })?,
        };
        may_attach(&actor, &d, kind)?;
        let (raw_name, bytes) = form
            .file
            .ok_or_else(|| ApiError::invalid("file", "no `file` field in the form"))?;
        let slot = slot_name(form.slot)?;
        let st = store_bytes(&s, &raw_name, bytes).await?;
        let vault = vec![upload_entry(&actor, &st)];
        (st.record, st.name, slot, kind, vault)
    };
    if kind == AttachmentKind::Result
        && let Some(owner) = d.owner
    {
        vault.push(VaultEntry {
            owner,
            key: record.key.clone(),
            name: name.clone(),
            kind: VaultKind::Result,
            added_at: now,
        });
    }
    let link = DossierFile {
        dossier_id: d.id,
        kind,
        slot,
        key: record.key.clone(),
        name,
        uploaded_by: actor.user_id,
        uploaded_at: now,
    };
    s.store
        .save_file(SaveFile {
            file: record.clone(),
            vault,
            links: vec![link.clone()],
        })
        .await?;
    metrics::counter!("motcua_dossier_files_attached_total", "kind" => kind.as_str()).increment(1);
    Ok((StatusCode::CREATED, Json(link_view(&link, &record))))
}

fn slot_name(raw: Option<String>) -> Result<String, ApiError> {
    let s = raw.map(|s| s.trim().to_string()).unwrap_or_default();
    if s.chars().count() > MAX_SLOT_CHARS || s.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "name",
            format!("the component name must be at most {MAX_SLOT_CHARS} characters of text"),
        ));
    }
    Ok(s)
}

/// A name for a file known only by its key: its slot (or "tai-lieu") with its extension.
fn fallback_name(slot: &str, f: &FileRecord) -> String {
    match FileType::from_mime(&f.mime) {
        Some(t) => display_name(slot, t),
        None => "tai-lieu".into(),
    }
}

fn link_view(l: &DossierFile, f: &FileRecord) -> DossierFileView {
    DossierFileView {
        file: view(f, &l.name),
        kind: l.kind,
        kind_label: l.kind.label_vi(),
        slot: l.slot.clone(),
        uploaded_by: Some(l.uploaded_by),
        uploaded_at: Some(l.uploaded_at),
        url: format!("/api/v1/dossiers/{}/files/{}", l.dossier_id, f.key.hex()),
    }
}

fn parse_dossier_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::bad_request(format!("`{raw}` is not a dossier id (a UUID)")))
}

async fn load(s: &AppState, actor: &Actor, id: Uuid) -> Result<Dossier, ApiError> {
    let d = s
        .store
        .dossier(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such dossier"))?;
    Ok(visible(actor, d)?.into_inner())
}

/// The files of a dossier: the links recorded, and any file named in the dossier's log that
/// has no link row (the log is the record).
async fn files_of(
    s: &AppState,
    d: &Dossier,
) -> Result<Vec<(DossierFile, FileRecord, bool)>, ApiError> {
    let mut out: Vec<(DossierFile, FileRecord, bool)> = s
        .store
        .dossier_files(d.id)
        .await?
        .into_iter()
        .map(|(l, f)| (l, f, true))
        .collect();
    let logged = d
        .documents
        .iter()
        .map(|x| (x, AttachmentKind::Component))
        .chain(
            d.result_documents
                .iter()
                .map(|x| (x, AttachmentKind::Result)),
        );
    for (doc, kind) in logged {
        let Some(key) = doc.file.as_deref().and_then(FileKey::parse_ref) else {
            continue;
        };
        if out.iter().any(|(l, _, _)| l.key == key) {
            continue;
        }
        if let Some(f) = s.store.file_record(&key).await? {
            let name = fallback_name(&doc.name, &f);
            out.push((
                DossierFile {
                    dossier_id: d.id,
                    kind,
                    slot: doc.name.clone(),
                    key,
                    name,
                    uploaded_by: Uuid::nil(),
                    uploaded_at: d.submitted_at,
                },
                f,
                false,
            ));
        }
    }
    Ok(out)
}

/// The files of a dossier, for whoever may read the dossier.
#[utoipa::path(get, path = "/api/v1/dossiers/{id}/files", tag = "files", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = DossierFilePage), (status = 400, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<DossierFilePage>, ApiError> {
    let d = load(&s, &actor, parse_dossier_id(&id)?).await?;
    let items = files_of(&s, &d)
        .await?
        .into_iter()
        .map(|(l, f, recorded)| {
            let mut v = link_view(&l, &f);
            if !recorded {
                v.uploaded_by = None;
                v.uploaded_at = None;
            }
            v
        })
        .collect();
    Ok(Json(DossierFilePage { items }))
}

/// Downloads (or, with `?inline=1`, previews) a file of a dossier.
#[utoipa::path(get, path = "/api/v1/dossiers/{id}/files/{key}", tag = "files", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("key" = String, Path, description = "sha256 hex (or sha256:<hex>)"), ServeParams),
    responses((status = 200, description = "The file, with Content-Type, nosniff, CSP sandbox and Content-Disposition", content_type = "application/octet-stream"),
        (status = 400, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn download(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((id, key)): Path<(String, String)>,
    q: Result<Query<ServeParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = q?;
    let inline = inline(&p)?;
    let id = parse_dossier_id(&id)?;
    let key = parse_key(&key)?;
    let d = load(&s, &actor, id).await?;
    let (link, record, _) = files_of(&s, &d)
        .await?
        .into_iter()
        .find(|(l, _, _)| l.key == key)
        .ok_or_else(|| ApiError::not_found("no such file in this dossier"))?;
    serve(&s, &record, &link.name, inline).await
}

/// The files a command names, checked by [`check_documents`]: each key once, with its record
/// and data-store name when the check read them.
#[derive(Default)]
pub struct CheckedFiles(Vec<(FileKey, Option<(String, FileRecord)>)>);

/// Checks the file keys of `docs` before a submission, supplement or result: each must be
/// `sha256:<hex>` of a file the caller may use (their data store; for staff also their
/// agency's uploads; for an existing dossier also its own files). 422 otherwise.
pub async fn check_documents(
    s: &AppState,
    actor: &Actor,
    docs: &[DocumentRef],
    dossier: Option<&Dossier>,
) -> Result<CheckedFiles, ApiError> {
    let mut checked = CheckedFiles::default();
    for (i, doc) in docs.iter().enumerate() {
        let Some(raw) = &doc.file else { continue };
        let field = format!("documents[{i}].file");
        let key = FileKey::parse_ref(raw).ok_or_else(|| {
            ApiError::invalid(
                &field,
                "must be sha256:<64 hex digits>, a key returned by POST /api/v1/files",
            )
        })?;
        // The same file named for several documents is checked once.
        if checked.0.iter().any(|(k, _)| *k == key) {
            continue;
        }
        let found = usable(s, actor, &key, dossier)
            .await
            .map_err(|e| ApiError::invalid(&field, e.0.detail))?;
        checked.0.push((key, found));
    }
    Ok(checked)
}

/// The links of `docs` to dossier `dossier_id` (owned by `owner`), to be written with the
/// command that carries them ([`motcua_store::Execute::files`]), built from what
/// [`check_documents`] found: a file it did not read is read here. Result documents also land
/// in the owner's data store.
pub async fn document_links(
    s: &AppState,
    actor: &Actor,
    (dossier_id, owner): (Uuid, Option<Uuid>),
    docs: &[DocumentRef],
    kind: AttachmentKind,
    checked: &CheckedFiles,
) -> Result<Vec<SaveFile>, ApiError> {
    let now = Utc::now();
    let mut batch: Vec<SaveFile> = Vec::new();
    for doc in docs {
        let Some(key) = doc.file.as_deref().and_then(FileKey::parse_ref) else {
            continue;
        };
        let known = checked
            .0
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, f)| f.clone());
        let (name, record) = match known {
            Some(x) => x,
            None => {
                let Some(record) = s.store.file_record(&key).await? else {
                    return Err(ApiError::invalid("documents", "no such file"));
                };
                let name = match s.store.vault_entry(actor.user_id, &key).await? {
                    Some((e, _)) => e.name,
                    None => fallback_name(&doc.name, &record),
                };
                (name, record)
            }
        };
        let vault = match (kind, owner) {
            (AttachmentKind::Result, Some(owner)) => vec![VaultEntry {
                owner,
                key: key.clone(),
                name: name.clone(),
                kind: VaultKind::Result,
                added_at: now,
            }],
            _ => Vec::new(),
        };
        batch.push(SaveFile {
            file: record,
            vault,
            links: vec![DossierFile {
                dossier_id,
                kind,
                slot: doc.name.clone(),
                key: key.clone(),
                name,
                uploaded_by: actor.user_id,
                uploaded_at: now,
            }],
        });
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_has_an_ascii_fallback_and_the_exact_name() {
        assert_eq!(
            content_disposition("inline", "Đơn đề nghị.pdf"),
            "inline; filename=\"Don de nghi.pdf\"; filename*=UTF-8''%C4%90%C6%A1n%20%C4%91%E1%BB%81%20ngh%E1%BB%8B.pdf"
        );
        let h = content_disposition("attachment", "a\"b\\c;d.png");
        assert!(
            h.starts_with("attachment; filename=\"a_b_c;d.png\"; "),
            "{h}"
        );
        assert!(h.ends_with("a%22b%5Cc%3Bd.png"), "{h}");
        assert!(HeaderValue::from_str(&content_disposition("inline", "文件.pdf")).is_ok());
    }

    #[test]
    fn limits_per_slot() {
        let mut f = Files::memory();
        assert_eq!(f.limit(None), DEFAULT_MAX_BYTES);
        f.slot_max_bytes.insert("Ảnh".into(), 1 << 20);
        f.slot_max_bytes.insert("Bản vẽ".into(), 30 << 20);
        assert_eq!(f.limit(Some("Ảnh")), 1 << 20);
        assert_eq!(f.limit(Some("Khác")), DEFAULT_MAX_BYTES);
        assert_eq!(f.largest_limit(), 30 << 20);
        assert!(f.body_limit() > 30 << 20);
    }
}
