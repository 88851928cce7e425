//! One item of the portal's list of online dossiers -> what we need to take it in. Pure: no
//! I/O. The field names follow the portal's dossier payload (§7.1 of the domain notes:
//! `MaHoSo`, `MaTTHC`, `ChuHoSo`, `SoGiayToChuHoSo`, `LoaiDoiTuong`, `SoDienThoai`, `Email`,
//! `TaiLieuNop[]` with `DuongDanTaiTepTin`) and the ministry adapter's (`MaDonViTiepNhan`,
//! `DiaChiChiTiet`); the list's own id (`HoSoId`) and form data (`DuLieuBieuMau`) are **not
//! confirmed** by our sources.

use motcua_domain::codes::PersonalId;
use motcua_domain::dossier::Applicant;
use serde_json::Value;

/// Largest form data kept from the portal (its JSON text), bytes.
pub const MAX_FORM_BYTES: usize = 256 * 1024;
/// Most files one dossier may bring.
pub const MAX_FILES: usize = 50;
/// Longest text field kept.
const MAX_TEXT: usize = 1_000;

/// A file the dossier lists, to fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundFile {
    /// The component it belongs to (its name on the dossier).
    pub component: String,
    /// The file's own name.
    pub file_name: String,
    /// Where to download it.
    pub url: String,
}

/// An online dossier as the portal lists it, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct InboundDossier {
    /// The portal's id of the dossier (`HoSoId`, else its `MaHoSo`): the key of exactly-once.
    pub id: String,
    /// The portal's dossier code (`MaHoSo`).
    pub code: String,
    /// National procedure code (`MaTTHC`).
    pub procedure: String,
    /// The portal's receiving unit (`MaDonViTiepNhan`), if given.
    pub unit: Option<String>,
    /// The applicant.
    pub applicant: Applicant,
    /// The e-form values filed on the portal (an object, `{}` when none).
    pub form: Value,
    /// Paper components named without a file, and the files to fetch.
    pub components: Vec<String>,
    /// Files to fetch.
    pub files: Vec<InboundFile>,
}

/// Why an item cannot be taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unusable {
    /// Without an id or a code: nothing to record it under or acknowledge.
    Unidentified,
    /// Identified but wrong: a rejection to record and acknowledge.
    Bad {
        /// Its id.
        id: String,
        /// Its code.
        code: String,
        /// What is wrong (Vietnamese, for operators).
        reason: String,
    },
}

/// A string or a number, trimmed; `None` when absent or empty.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Checks one list item.
pub fn parse(item: &Value) -> Result<InboundDossier, Unusable> {
    if !item.is_object() {
        return Err(Unusable::Unidentified);
    }
    let code = scalar(&item["MaHoSo"]);
    let id = scalar(&item["HoSoId"]).or_else(|| code.clone());
    let (Some(id), Some(code)) = (id, code) else {
        return Err(Unusable::Unidentified);
    };
    if id.len() > 100 || code.len() > 100 {
        return Err(Unusable::Unidentified);
    }
    let bad = |reason: String| Unusable::Bad {
        id: id.clone(),
        code: code.clone(),
        reason,
    };
    let text = |field: &str, required: bool| -> Result<Option<String>, Unusable> {
        match &item[field] {
            Value::Null => {
                if required {
                    Err(bad(format!("thiếu {field}")))
                } else {
                    Ok(None)
                }
            }
            v => match scalar(v) {
                Some(s) if s.chars().count() > MAX_TEXT => {
                    Err(bad(format!("{field} dài quá {MAX_TEXT} ký tự")))
                }
                Some(s) => Ok(Some(s)),
                None if required => Err(bad(format!("thiếu {field}"))),
                None if v.is_string() => Ok(None),
                None => Err(bad(format!("{field} không phải chuỗi ký tự"))),
            },
        }
    };
    let procedure = text("MaTTHC", true)?.unwrap_or_default();
    let name = text("ChuHoSo", true)?.unwrap_or_default();
    let kind = match &item["LoaiDoiTuong"] {
        Value::Null => None,
        v => Some(
            scalar(v)
                .and_then(|s| s.parse::<u8>().ok())
                .filter(|k| (1..=4).contains(k))
                .ok_or_else(|| bad("LoaiDoiTuong phải là 1, 2, 3 hoặc 4".into()))?,
        ),
    };
    let id_number = text("SoGiayToChuHoSo", false)?;
    // A citizen (1) is identified by a 12-digit personal ID; an organisation's number (a tax
    // code) is not a personal ID and stays in the form data the portal sent.
    let personal_id: Option<PersonalId> = match (kind, &id_number) {
        (Some(1) | None, Some(n)) if n.len() == 12 && n.bytes().all(|b| b.is_ascii_digit()) => {
            Some(
                n.parse()
                    .map_err(|_| bad(format!("số định danh cá nhân không hợp lệ: {n}")))?,
            )
        }
        (Some(1), Some(n)) => {
            return Err(bad(format!(
                "công dân cần số định danh cá nhân 12 chữ số (SoGiayToChuHoSo: {n})"
            )));
        }
        _ => None,
    };
    let phone = text("SoDienThoai", false)?;
    if let Some(p) = &phone
        && !(8..=15).contains(&p.len())
    {
        return Err(bad(format!("số điện thoại không hợp lệ: {p}")));
    }
    let email = text("Email", false)?;
    if let Some(e) = &email
        && (!e.contains('@') || e.contains(char::is_whitespace))
    {
        return Err(bad(format!("thư điện tử không hợp lệ: {e}")));
    }
    let address = match text("DiaChiChiTiet", false)? {
        Some(a) => Some(a),
        None => text("DiaChi", false)?,
    };
    let form = match &item["DuLieuBieuMau"] {
        Value::Null => Value::Object(Default::default()),
        v @ Value::Object(_) => {
            if v.to_string().len() > MAX_FORM_BYTES {
                return Err(bad("dữ liệu biểu mẫu quá lớn".into()));
            }
            v.clone()
        }
        _ => return Err(bad("DuLieuBieuMau phải là một đối tượng JSON".into())),
    };
    let unit = text("MaDonViTiepNhan", false)?;
    let mut components = Vec::new();
    let mut files = Vec::new();
    match &item["TaiLieuNop"] {
        Value::Null => {}
        Value::Array(list) => {
            for (i, f) in list.iter().enumerate() {
                if !f.is_object() {
                    return Err(bad(format!("TaiLieuNop[{i}] không hợp lệ")));
                }
                if f["IsDeleted"].as_bool() == Some(true) {
                    continue;
                }
                let pick = |k: &str| scalar(&f[k]);
                let component = pick("TenThanhPhanHoSo")
                    .or_else(|| pick("TenTepDinhKem"))
                    .or_else(|| pick("MaThanhPhanHoSo"))
                    .unwrap_or_else(|| format!("Tài liệu {}", i + 1));
                let component: String = component.chars().take(200).collect();
                match pick("DuongDanTaiTepTin") {
                    Some(url) => {
                        if !(url.starts_with("http://") || url.starts_with("https://")) {
                            return Err(bad(format!(
                                "TaiLieuNop[{i}]: đường dẫn tải tệp không hợp lệ"
                            )));
                        }
                        files.push(InboundFile {
                            file_name: pick("TenTepDinhKem").unwrap_or_else(|| component.clone()),
                            component,
                            url,
                        });
                    }
                    None => components.push(component),
                }
            }
        }
        _ => return Err(bad("TaiLieuNop phải là một danh sách".into())),
    }
    if files.len() + components.len() > MAX_FILES {
        return Err(bad(format!("quá {MAX_FILES} tài liệu")));
    }
    Ok(InboundDossier {
        id,
        code,
        procedure,
        unit,
        applicant: Applicant {
            name,
            personal_id,
            phone,
            email,
            address,
            notify: None,
        },
        form,
        components,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item() -> Value {
        json!({
            "HoSoId": 9001, "MaHoSo": "G22.99-261202-000123", "MaTTHC": "1.001193",
            "MaDonViTiepNhan": "000.00.01.H40", "ChuHoSo": "Trần Thị Bình",
            "SoGiayToChuHoSo": "068190004321", "LoaiDoiTuong": 1, "SoDienThoai": "0912345678",
            "Email": "binh@example.vn", "DiaChiChiTiet": "12 Lê Lợi, Đà Lạt",
            "DuLieuBieuMau": {"dien_tich": 120},
            "TaiLieuNop": [
                {"TenTepDinhKem": "don.pdf", "TenThanhPhanHoSo": "Đơn đề nghị", "DuongDanTaiTepTin": "http://portal/f/1"},
                {"TenTepDinhKem": "cu.pdf", "IsDeleted": true, "DuongDanTaiTepTin": "http://portal/f/0"},
                {"TenThanhPhanHoSo": "Bản vẽ (bản giấy)"}
            ]
        })
    }

    #[test]
    fn a_good_item_keeps_its_diacritics_ids_and_files() {
        let d = parse(&item()).unwrap();
        assert_eq!(d.id, "9001");
        assert_eq!(d.code, "G22.99-261202-000123");
        assert_eq!(d.procedure, "1.001193");
        assert_eq!(d.unit.as_deref(), Some("000.00.01.H40"));
        assert_eq!(d.applicant.name, "Trần Thị Bình");
        assert_eq!(
            d.applicant.personal_id.as_ref().map(|p| p.to_string()),
            Some("068190004321".into())
        );
        assert_eq!(d.applicant.address.as_deref(), Some("12 Lê Lợi, Đà Lạt"));
        assert_eq!(d.form["dien_tich"], 120);
        assert_eq!(d.files.len(), 1, "the deleted file is left out");
        assert_eq!(d.files[0].component, "Đơn đề nghị");
        assert_eq!(d.files[0].file_name, "don.pdf");
        assert_eq!(d.components, vec!["Bản vẽ (bản giấy)".to_string()]);
    }

    #[test]
    fn bad_items_say_why_and_unidentified_ones_are_told_apart() {
        assert_eq!(parse(&json!([1, 2])), Err(Unusable::Unidentified));
        assert_eq!(parse(&json!({"ChuHoSo": "A"})), Err(Unusable::Unidentified));
        let reason = |f: &dyn Fn(&mut Value)| {
            let mut v = item();
            f(&mut v);
            match parse(&v) {
                Err(Unusable::Bad { id, reason, .. }) => {
                    assert_eq!(id, "9001");
                    reason
                }
                other => panic!("{other:?}"),
            }
        };
        assert!(reason(&|v| v["MaTTHC"] = Value::Null).contains("MaTTHC"));
        assert!(reason(&|v| v["ChuHoSo"] = json!("  ")).contains("ChuHoSo"));
        assert!(reason(&|v| v["SoGiayToChuHoSo"] = json!("12345")).contains("12 chữ số"));
        assert!(reason(&|v| v["LoaiDoiTuong"] = json!(7)).contains("LoaiDoiTuong"));
        assert!(reason(&|v| v["Email"] = json!("không có")).contains("thư điện tử"));
        assert!(reason(&|v| v["DuLieuBieuMau"] = json!("x")).contains("DuLieuBieuMau"));
        assert!(reason(&|v| v["TaiLieuNop"] = json!({})).contains("TaiLieuNop"));
        assert!(
            reason(&|v| v["TaiLieuNop"][0]["DuongDanTaiTepTin"] = json!("file:///etc/passwd"))
                .contains("đường dẫn")
        );
        // An organisation's number is not a personal ID; without HoSoId the code is the id.
        let mut v = item();
        v["LoaiDoiTuong"] = json!(2);
        v["SoGiayToChuHoSo"] = json!("5800123456");
        v.as_object_mut().unwrap().remove("HoSoId");
        let d = parse(&v).unwrap();
        assert_eq!(d.applicant.personal_id, None);
        assert_eq!(d.id, "G22.99-261202-000123");
    }
}
