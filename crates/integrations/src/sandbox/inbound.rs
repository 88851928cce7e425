//! The sandbox portal's inbound side: online dossiers "filed on the national portal" wait in a
//! queue until motcua pulls them (the list call), fetches their files and acknowledges them
//! (the acknowledgement call), in the wire format of `motcua_web::intake::portal`. Failure
//! injection beside the portal's own (down, slow, 5xx): malformed lists, every dossier listed
//! twice, failing acknowledgements (after nothing was recorded), failing file downloads.
//!
//! Filing: `GET /_sandbox/nop-ho-so` (a page for demos), `POST /_sandbox/nop-ho-so` (its form)
//! or `POST /_sandbox/inbound` (a JSON dossier in the list's format, files as
//! `{"TenTepDinhKem", "TenThanhPhanHoSo", "NoiDung": "<text>"}` whose text becomes a small PDF).
//! Inspection: `GET /_sandbox/inbound` (every dossier with its acknowledgements).

use super::dvcqg::{Shared, inject};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::{Form, Json};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Failures of the inbound side.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InboundFaults {
    /// Percentage of list calls answered with something that is not the protocol's JSON.
    pub malformed_list_percent: u8,
    /// List every waiting dossier twice.
    pub duplicates: bool,
    /// Percentage of acknowledgements answered with HTTP 500 (nothing recorded).
    pub ack_fail_percent: u8,
    /// Percentage of file downloads answered with HTTP 503.
    pub file_fail_percent: u8,
}

/// One dossier filed on the sandbox portal.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Filed {
    /// As the list shows it.
    pub payload: Value,
    /// Acknowledgements received, in order.
    pub acks: Vec<Value>,
    /// Taken by the local system (an acknowledgement with `DaTiepNhan: true`).
    pub accepted: bool,
    /// Refused by it (`DaTiepNhan: false`).
    pub refused: bool,
}

/// The inbound queue.
#[derive(Default)]
pub struct Inbound {
    pub(super) dossiers: BTreeMap<String, Filed>,
    files: HashMap<String, Bytes>,
    next: u64,
    /// Random per sandbox run, so that ids and codes never repeat across restarts (a real
    /// portal's never do; intake's exactly-once rests on them).
    run: u32,
    /// Acknowledgements answered.
    pub(super) acks: u64,
    /// List calls answered.
    pub(super) lists: u64,
    /// File downloads answered.
    pub(super) downloads: u64,
    pub(super) faults: InboundFaults,
}

/// A small valid PDF whose text is `text` (ASCII only; others become `?`).
pub fn pdf_with(text: &str) -> Bytes {
    let t: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .filter(|c| *c != '(' && *c != ')' && *c != '\\')
        .collect();
    let body = format!(
        "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >> endobj\n4 0 obj << /Length {} >> stream\nBT /F1 12 Tf 72 770 Td ({t}) Tj ET\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
        t.len() + 37
    );
    Bytes::from(body.into_bytes())
}

impl Inbound {
    /// Files a dossier: gives it an id (`HoSoId`) and code (`MaHoSo`) unless it has them, and
    /// serves each of `files` (component, file name, bytes) at a download URL. Returns its id.
    pub fn file(
        &mut self,
        base: &str,
        mut payload: Value,
        files: Vec<(String, String, Bytes)>,
    ) -> String {
        if self.run == 0 {
            self.run = rand::random::<u32>() % 9_000 + 1_000;
        }
        self.next += 1;
        let n = self.next;
        let run = self.run;
        if !payload.is_object() {
            payload = json!({});
        }
        if payload["HoSoId"].is_null() {
            payload["HoSoId"] = json!(format!("QG{run}{n:06}"));
        }
        if payload["MaHoSo"].is_null() {
            let day = chrono::Utc::now().format("%y%m%d");
            payload["MaHoSo"] = json!(format!("G22.99-{day}-{run}{n:05}"));
        }
        let mut list = payload["TaiLieuNop"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for (i, (component, name, bytes)) in files.into_iter().enumerate() {
            let fid = format!("{n}-{i}");
            list.push(json!({
                "TepDinhKemId": fid, "TenTepDinhKem": name, "TenThanhPhanHoSo": component,
                "IsDeleted": false, "DuongDanTaiTepTin": format!("{base}/_sandbox/tep/{fid}"),
            }));
            self.files.insert(fid, bytes);
        }
        payload["TaiLieuNop"] = Value::Array(list);
        let id = match &payload["HoSoId"] {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        self.dossiers.insert(
            id.clone(),
            Filed {
                payload,
                ..Filed::default()
            },
        );
        id
    }

    /// Whether the portal has a dossier under this code that the local system took.
    pub(super) fn taken_code(&self, code: &str) -> bool {
        self.dossiers
            .values()
            .any(|d| d.accepted && d.payload["MaHoSo"].as_str() == Some(code))
    }

    fn waiting(&self) -> Vec<Value> {
        self.dossiers
            .values()
            .filter(|d| !d.accepted && !d.refused)
            .map(|d| d.payload.clone())
            .collect()
    }
}

fn answer(code: &str, message: &str) -> Response {
    Json(json!({"error_code": code, "message": message})).into_response()
}

fn roll(percent: u8) -> bool {
    percent > 0 && rand::random::<u8>() % 100 < percent.min(100)
}

/// The list call.
pub(super) async fn list(State(s): State<Arc<Shared>>) -> Response {
    if let Some(r) = inject(&s).await {
        return r;
    }
    let Ok(mut p) = s.portal.lock() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "poisoned").into_response();
    };
    let inbound = &mut p.inbound;
    inbound.lists += 1;
    if roll(inbound.faults.malformed_list_percent) {
        return (StatusCode::OK, "{\"error_code\": \"0\", \"data\": [tru").into_response();
    }
    let mut data = inbound.waiting();
    if inbound.faults.duplicates {
        data = data.into_iter().flat_map(|d| [d.clone(), d]).collect();
    }
    Json(json!({"error_code": "0", "message": "Thành công", "data": data})).into_response()
}

/// The acknowledgement call.
pub(super) async fn ack(State(s): State<Arc<Shared>>, Json(body): Json<Value>) -> Response {
    if let Some(r) = inject(&s).await {
        return r;
    }
    let Ok(mut p) = s.portal.lock() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "poisoned").into_response();
    };
    let inbound = &mut p.inbound;
    if roll(inbound.faults.ack_fail_percent) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
    }
    let Some(list) = body.as_array() else {
        return answer("-1", "Dữ liệu không hợp lệ: cần danh sách");
    };
    for a in list {
        let id = match &a["HoSoId"] {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        let Some(d) = inbound.dossiers.get_mut(&id) else {
            return answer("-1", "Không tìm thấy hồ sơ");
        };
        if a["DaTiepNhan"].as_bool() == Some(true) {
            d.accepted = true;
        } else {
            d.refused = true;
        }
        d.acks.push(a.clone());
    }
    inbound.acks += 1;
    answer("0", "Thành công")
}

/// A file download.
pub(super) async fn file(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    if let Some(r) = inject(&s).await {
        return r;
    }
    let Ok(mut p) = s.portal.lock() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "poisoned").into_response();
    };
    let inbound = &mut p.inbound;
    if roll(inbound.faults.file_fail_percent) {
        return (StatusCode::SERVICE_UNAVAILABLE, "try later").into_response();
    }
    inbound.downloads += 1;
    match inbound.files.get(&id) {
        Some(b) => (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            b.clone(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

/// A JSON dossier to file (`POST /_sandbox/inbound`).
pub(super) async fn file_json(
    State(s): State<Arc<Shared>>,
    Json(mut body): Json<Value>,
) -> Response {
    let files = take_files(&mut body);
    let base = s.base.clone();
    let Ok(mut p) = s.portal.lock() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "poisoned").into_response();
    };
    let id = p.inbound.file(&base, body, files);
    (
        StatusCode::CREATED,
        Json(json!({"HoSoId": id, "dossier": p.inbound.dossiers[&id].payload})),
    )
        .into_response()
}

/// `TepDinhKem: [{TenTepDinhKem, TenThanhPhanHoSo, NoiDung}]` -> files served as PDFs.
fn take_files(body: &mut Value) -> Vec<(String, String, Bytes)> {
    let list = body
        .as_object_mut()
        .and_then(|o| o.remove("TepDinhKem"))
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    list.iter()
        .map(|f| {
            let name = f["TenTepDinhKem"].as_str().unwrap_or("tep.pdf").to_string();
            let component = f["TenThanhPhanHoSo"].as_str().unwrap_or(&name).to_string();
            (
                component,
                name,
                pdf_with(f["NoiDung"].as_str().unwrap_or("motcua sandbox")),
            )
        })
        .collect()
}

/// Every filed dossier (`GET /_sandbox/inbound`).
pub(super) async fn state(State(s): State<Arc<Shared>>) -> Json<Value> {
    let v = s
        .portal
        .lock()
        .map(|p| {
            json!({
                "lists": p.inbound.lists, "acks": p.inbound.acks, "downloads": p.inbound.downloads,
                "dossiers": p.inbound.dossiers,
            })
        })
        .unwrap_or(Value::Null);
    Json(v)
}

/// Sets the inbound failures (`POST /_sandbox/inbound/faults`).
pub(super) async fn set_faults(
    State(s): State<Arc<Shared>>,
    Json(f): Json<InboundFaults>,
) -> Json<InboundFaults> {
    if let Ok(mut p) = s.portal.lock() {
        p.inbound.faults = f.clone();
    }
    Json(f)
}

/// The demo form's fields.
#[derive(Deserialize)]
pub(super) struct FilingForm {
    ma_tthc: String,
    ma_don_vi: String,
    chu_ho_so: String,
    so_giay_to: String,
    so_dien_thoai: String,
    email: String,
    dia_chi: String,
    #[serde(default)]
    kem_tep: Option<String>,
}

/// The demo page (`GET /_sandbox/nop-ho-so`).
pub(super) async fn page() -> Html<&'static str> {
    Html(
        r#"<!doctype html><html lang="vi"><meta charset="utf-8"><title>Cổng DVCQG (thử nghiệm): nộp hồ sơ trực tuyến</title>
<h1>Cổng Dịch vụ công quốc gia — bản thử nghiệm</h1>
<p>Nộp một hồ sơ trực tuyến thử; motcua sẽ kéo hồ sơ về ở lần hỏi tiếp theo. <a href="/_sandbox/inbound">Xem hàng đợi</a></p>
<form method="post" action="/_sandbox/nop-ho-so">
<p><label>Mã thủ tục (MaTTHC) <input name="ma_tthc" required></label></p>
<p><label>Mã đơn vị tiếp nhận (MaDonViTiepNhan; để trống nếu chỉ có một) <input name="ma_don_vi"></label></p>
<p><label>Chủ hồ sơ <input name="chu_ho_so" required></label></p>
<p><label>Số định danh cá nhân (12 chữ số) <input name="so_giay_to"></label></p>
<p><label>Số điện thoại <input name="so_dien_thoai"></label></p>
<p><label>Thư điện tử <input name="email" type="email"></label></p>
<p><label>Địa chỉ <input name="dia_chi"></label></p>
<p><label><input type="checkbox" name="kem_tep" value="1" checked> Kèm đơn đề nghị (PDF mẫu)</label></p>
<p><button>Nộp hồ sơ</button></p>
</form></html>"#,
    )
}

/// The demo form's submission (`POST /_sandbox/nop-ho-so`).
pub(super) async fn file_form(State(s): State<Arc<Shared>>, Form(f): Form<FilingForm>) -> Response {
    let opt = |v: &str| {
        let v = v.trim();
        (!v.is_empty()).then(|| v.to_string())
    };
    let payload = json!({
        "MaTTHC": f.ma_tthc.trim(), "MaDonViTiepNhan": opt(&f.ma_don_vi),
        "ChuHoSo": f.chu_ho_so.trim(), "SoGiayToChuHoSo": opt(&f.so_giay_to),
        "LoaiDoiTuong": if opt(&f.so_giay_to).is_some() { 1 } else { 4 },
        "SoDienThoai": opt(&f.so_dien_thoai), "Email": opt(&f.email), "DiaChiChiTiet": opt(&f.dia_chi),
        "NgayNopHoSo": chrono::Utc::now().format("%Y%m%d%H%M%S").to_string(),
    });
    let files = if f.kem_tep.is_some() {
        vec![(
            "Đơn đề nghị".to_string(),
            "don-de-nghi.pdf".to_string(),
            pdf_with("Don de nghi (sandbox)"),
        )]
    } else {
        vec![]
    };
    let base = s.base.clone();
    let Ok(mut p) = s.portal.lock() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "poisoned").into_response();
    };
    let id = p.inbound.file(&base, payload, files);
    let code = p.inbound.dossiers[&id].payload["MaHoSo"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Html(format!(
        "<!doctype html><html lang=\"vi\"><meta charset=\"utf-8\"><p>Đã nộp hồ sơ <b>{code}</b> (HoSoId {id}). <a href=\"/_sandbox/nop-ho-so\">Nộp hồ sơ khác</a> · <a href=\"/_sandbox/inbound\">Xem hàng đợi</a></p></html>"
    ))
    .into_response()
}
