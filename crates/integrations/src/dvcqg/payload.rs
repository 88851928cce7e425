//! Our outbox message -> the portal's payloads (§7.1 of the domain notes): the dossier
//! (`HoSoDongBoDVC`) and its process steps (`QuaTrinhXuLyDongBoDVC`), dates as
//! `yyyyMMddHHmmss` in Vietnam time.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

/// `yyyyMMddHHmmss` in Vietnam time (UTC+7) from an RFC 3339 time; `None` if absent.
pub fn portal_date(v: &Value) -> Option<String> {
    let t: DateTime<Utc> = v.as_str()?.parse().ok()?;
    Some((t + Duration::hours(7)).format("%Y%m%d%H%M%S").to_string())
}

/// A date field: the portal expects a string, empty when unknown.
fn date(v: &Value) -> Value {
    portal_date(v).map_or(Value::String(String::new()), Value::String)
}

fn text(v: &Value) -> Value {
    match v {
        Value::Null => Value::String(String::new()),
        v => v.clone(),
    }
}

/// Why a message cannot become a portal payload.
#[derive(Debug, PartialEq, Eq)]
pub struct Unusable(pub String);

/// The portal's own code of a dossier filed there (`MaHoSoQG` in our message), if any.
pub fn portal_code(m: &Value) -> Option<&str> {
    m["MaHoSoQG"].as_str().filter(|c| !c.is_empty())
}

/// Whether the message says the portal has its dossier already: not its first message there
/// (`LanDauDongBo: false`). Messages written before that field existed say nothing (`false`
/// here): they are sent as creates, an "already exists" answer turning them into updates.
pub fn known_there(m: &Value) -> bool {
    m["LanDauDongBo"] == Value::Bool(false)
}

/// A message about a dossier filed on the portal, as the portal knows it: its `MaHoSo` is the
/// portal's code and ours travels as `MaHoSoKhac` (the other system's code). Other messages
/// are unchanged.
pub fn as_portal_knows_it(m: &Value) -> Value {
    let mut m = m.clone();
    if let Some(qg) = portal_code(&m).map(str::to_string) {
        m["MaHoSoKhac"] = m["MaHoSo"].clone();
        m["MaHoSo"] = Value::String(qg);
    }
    m
}

/// The dossier payload (`HoSoDongBoDVC`).
pub fn dossier(m: &Value) -> Result<Value, Unusable> {
    let code = m["MaHoSo"]
        .as_str()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| Unusable("no MaHoSo".into()))?;
    let status = m["TrangThaiHoSo"]
        .as_u64()
        .filter(|s| (1..=10).contains(s))
        .ok_or_else(|| Unusable(format!("{code}: TrangThaiHoSo is not a national code 1-10")))?;
    let personal_id = m["SoGiayToChuHoSo"].as_str().unwrap_or_default();
    let mut summary = m["TenTTHC"].as_str().unwrap_or_default().to_string();
    if summary.chars().count() > 1_000 {
        summary = summary.chars().take(1_000).collect();
    }
    let mut out = json!({
        "MaHoSo": code,
        "MaTTHC": text(&m["MaTTHC"]),
        "TenTTHC": text(&m["TenTTHC"]),
        "KenhThucHien": m["KenhThucHien"],
        "ChuHoSo": text(&m["ChuHoSo"]),
        "SoGiayToChuHoSo": personal_id,
        // 1 citizen: our applicants with a personal ID; others are sent as 4 (organisation/other).
        "LoaiDoiTuong": if personal_id.is_empty() { 4 } else { 1 },
        "SoDienThoai": text(&m["SoDienThoai"]),
        "Email": text(&m["Email"]),
        "TrichYeuHoSo": summary,
        "NgayNopHoSo": date(&m["NgayNopHoSo"]),
        "NgayTiepNhan": date(&m["NgayTiepNhan"]),
        "NgayHenTra": date(&m["NgayHenTra"]),
        "NgayKetThucXuLy": date(&m["NgayKetThucXuLy"]),
        "NgayTra": date(&m["NgayTra"]),
        "TrangThaiHoSo": status,
        "DonViXuLy": text(&m["DonViXuLy"]),
        // A 12-digit personal ID is type "1" (a 9-digit one would be "2").
        "DinhDanhCHS": if personal_id.is_empty() { json!([]) } else {
            json!([{ "LoaiDinhDanh": if personal_id.len() == 9 { "2" } else { "1" }, "SoDinhDanh": personal_id }])
        },
    });
    if let Some(ours) = m["MaHoSoKhac"].as_str() {
        out["MaHoSoKhac"] = Value::String(ours.to_string());
    }
    Ok(out)
}

/// The process steps (`QuaTrinhXuLyDongBoDVC`) the message carries, in order. The processing
/// time and the regulated end date are mandatory on the portal: a step without them is
/// unusable.
pub fn steps(m: &Value) -> Result<Vec<Value>, Unusable> {
    let code = m["MaHoSo"].as_str().unwrap_or_default();
    let Some(list) = m["QuaTrinh"].as_array() else {
        return Ok(Vec::new());
    };
    list.iter()
        .map(|s| {
            let at = portal_date(&s["ThoiDiemXuLy"])
                .ok_or_else(|| Unusable(format!("{code}: a step without ThoiDiemXuLy")))?;
            let end = portal_date(&s["NgayKetThucTheoQuyDinh"]).ok_or_else(|| {
                Unusable(format!("{code}: a step without NgayKetThucTheoQuyDinh"))
            })?;
            let person: String = s["NguoiXuLy"]
                .as_str()
                .unwrap_or_default()
                .chars()
                .take(50)
                .collect();
            Ok(json!({
                "MaHoSo": code,
                "NguoiXuLy": person,
                "ChucDanh": text(&s["ChucDanh"]),
                "ThoiDiemXuLy": at,
                "PhongBanXuLy": text(&s["PhongBanXuLy"]),
                "NoiDungXuLy": text(&s["NoiDungXuLy"]),
                "TrangThai": s["TrangThai"],
                "NgayBatDau": date(&s["NgayBatDau"]),
                "NgayKetThucTheoQuyDinh": end,
            }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Value {
        json!({
            "MaHoSo": "000.00.01.H40-260302-0001", "MaTTHC": "1.001193",
            "TenTTHC": "Cấp giấy phép xây dựng", "TrangThaiHoSo": 2, "KenhThucHien": 2,
            "ChuHoSo": "Nguyễn Văn An", "SoGiayToChuHoSo": "068095001234",
            "NgayNopHoSo": "2026-03-02T01:00:00Z", "NgayTiepNhan": "2026-03-02T02:30:05Z",
            "NgayHenTra": null, "DonViXuLy": "000.00.10.H40",
            "QuaTrinh": [{"NguoiXuLy": "Trần Thị Bình", "ChucDanh": "Cán bộ một cửa",
                "ThoiDiemXuLy": "2026-03-02T02:30:05Z", "PhongBanXuLy": "000.00.01.H40",
                "NoiDungXuLy": "Tiếp nhận hồ sơ", "TrangThai": 2,
                "NgayBatDau": "2026-03-02T02:30:05Z", "NgayKetThucTheoQuyDinh": "2026-03-04T09:00:00Z"}]
        })
    }

    #[test]
    fn dossier_payload_has_portal_dates_and_codes() {
        let d = dossier(&message()).unwrap();
        assert_eq!(d["NgayTiepNhan"], "20260302093005");
        assert_eq!(d["NgayNopHoSo"], "20260302080000");
        assert_eq!(d["NgayHenTra"], "");
        assert_eq!(d["TrangThaiHoSo"], 2);
        assert_eq!(d["LoaiDoiTuong"], 1);
        assert_eq!(d["DinhDanhCHS"][0]["LoaiDinhDanh"], "1");
        let mut bad = message();
        bad["TrangThaiHoSo"] = json!(11);
        assert!(dossier(&bad).is_err());
        bad["MaHoSo"] = json!("");
        assert!(dossier(&bad).is_err());
    }

    #[test]
    fn a_dossier_filed_on_the_portal_goes_back_under_the_portal_code() {
        let mut m = message();
        assert_eq!(as_portal_knows_it(&m), m);
        m["MaHoSoQG"] = json!("G22.99-261202-000123");
        let m = as_portal_knows_it(&m);
        let d = dossier(&m).unwrap();
        assert_eq!(d["MaHoSo"], "G22.99-261202-000123");
        assert_eq!(d["MaHoSoKhac"], "000.00.01.H40-260302-0001");
        assert_eq!(steps(&m).unwrap()[0]["MaHoSo"], "G22.99-261202-000123");
    }

    #[test]
    fn steps_need_their_dates() {
        let s = steps(&message()).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0]["ThoiDiemXuLy"], "20260302093005");
        assert_eq!(s[0]["NgayKetThucTheoQuyDinh"], "20260304160000");
        assert_eq!(s[0]["MaHoSo"], "000.00.01.H40-260302-0001");
        let mut bad = message();
        bad["QuaTrinh"][0]["NgayKetThucTheoQuyDinh"] = Value::Null;
        assert!(steps(&bad).is_err());
    }
}
