use super::*;
use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Lâm Đồng and two communes, plus Hà Nội with one.
struct Units;

impl UnitLookup for Units {
    fn province_name(&self, code: &str) -> Option<String> {
        match code {
            "68" => Some("Tỉnh Lâm Đồng".into()),
            "01" => Some("Thành phố Hà Nội".into()),
            _ => None,
        }
    }
    fn commune(&self, code: &str) -> Option<(String, String)> {
        match code {
            "24781" => Some(("Phường Xuân Hương - Đà Lạt".into(), "68".into())),
            "24820" => Some(("Xã Lạc Dương".into(), "68".into())),
            "00004" => Some(("Phường Ba Đình".into(), "01".into())),
            _ => None,
        }
    }
    fn provinces(&self) -> Vec<(String, String)> {
        vec![
            ("01".into(), "Thành phố Hà Nội".into()),
            ("68".into(), "Tỉnh Lâm Đồng".into()),
        ]
    }
    fn communes(&self, province: &str) -> Vec<(String, String)> {
        match province {
            "68" => vec![
                ("24781".into(), "Phường Xuân Hương - Đà Lạt".into()),
                ("24820".into(), "Xã Lạc Dương".into()),
            ],
            "01" => vec![("00004".into(), "Phường Ba Đình".into())],
            _ => vec![],
        }
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
}

/// A death registration-like form using every field type and rule.
fn sample() -> FormDefinition {
    serde_json::from_value(json!({
        "id": "to-khai-thu",
        "title": {"vi": "Tờ khai thử", "en": "Test form"},
        "sections": [
            {"id": "nguoi-yeu-cau", "title": "Người yêu cầu", "fields": [
                {"id": "ho_ten", "label": {"vi": "Họ tên", "en": "Name"}, "type": "text", "required": true,
                 "max_length": 50, "prefill": "applicant.name"},
                {"id": "ma_ho", "label": "Mã hộ", "type": "text",
                 "pattern": {"regex": "[A-Z]{2}[0-9]{4}", "message": {"vi": "Mã hộ gồm 2 chữ in hoa và 4 số", "en": "two capitals and four digits"}}},
                {"id": "so_dinh_danh", "label": "Số định danh", "type": "personal_id", "prefill": "applicant.personal_id"},
                {"id": "mst", "label": "Mã số thuế", "type": "tax_code"},
                {"id": "dien_thoai", "label": "Điện thoại", "type": "phone", "prefill": "applicant.phone"},
                {"id": "email", "label": "Thư điện tử", "type": "email"},
                {"id": "dia_chi", "label": "Nơi cư trú", "type": "address", "required": true, "prefill": "applicant.address"},
                {"id": "quan_he", "label": "Quan hệ", "type": "select", "required": true, "options": [
                    {"value": "con", "label": "Con"}, {"value": "khac", "label": "Khác"}]},
                {"id": "quan_he_khac", "label": "Quan hệ khác", "type": "text", "required": true,
                 "visible_if": {"field": "quan_he", "equals": "khac"}}
            ]},
            {"id": "nguoi-chet", "title": "Người đã chết", "fields": [
                {"id": "ngay_sinh", "label": "Ngày sinh", "type": "date", "required": true, "max": "today"},
                {"id": "ngay_chet", "label": "Ngày chết", "type": "date", "required": true, "max": "today"},
                {"id": "so_con", "label": "Số con", "type": "number", "min": 0, "max": 30},
                {"id": "le_phi", "label": "Lệ phí", "type": "money", "max": 1000000},
                {"id": "ghi_chu", "label": "Ghi chú", "type": "textarea", "max_length": 20},
                {"id": "co_bao_hiem", "label": "Có bảo hiểm", "type": "checkbox"},
                {"id": "so_bhxh", "label": "Số sổ BHXH", "type": "text", "required": true,
                 "visible_if": {"field": "co_bao_hiem", "checked": true}},
                {"id": "thanh_vien", "label": "Thành viên", "type": "group", "min_items": 1, "max_items": 3,
                 "fields": [
                    {"id": "ho_ten", "label": "Họ tên", "type": "text", "required": true},
                    {"id": "ngay_sinh", "label": "Ngày sinh", "type": "date"},
                    {"id": "ngay_cuoi", "label": "Ngày cưới", "type": "date"}
                 ],
                 "rules": [{"field": "ngay_cuoi", "after": "ngay_sinh"}]}
            ]},
            {"id": "cam-doan", "title": "Cam đoan", "fields": [
                {"id": "cam_doan", "label": "Tôi cam đoan", "type": "checkbox", "required": true}
            ]}
        ],
        "rules": [{"field": "ngay_chet", "not_before": "ngay_sinh"}],
        "uploads": [
            {"id": "giay_bao_tu", "name": "Giấy báo tử", "required": true},
            {"id": "uy_quyen", "name": "Văn bản ủy quyền"}
        ]
    }))
    .unwrap()
}

fn good() -> Value {
    json!({
        "ho_ten": "  Nguyễn   Văn An ",
        "ma_ho": "AB1234",
        "so_dinh_danh": "068 190 001 234",
        "mst": "0100109106",
        "dien_thoai": "+84 912 345 678",
        "email": "An@Example.VN",
        "dia_chi": {"province": "68", "commune": "24781", "street": " 12 Trần Phú "},
        "quan_he": "con",
        "quan_he_khac": "should be dropped",
        "ngay_sinh": "05/09/1940",
        "ngay_chet": "2026-11-30",
        "so_con": "3",
        "le_phi": "8.000 đ",
        "ghi_chu": "ổn",
        "co_bao_hiem": "off",
        "so_bhxh": "dropped too",
        "thanh_vien": [
            {"ho_ten": "Nguyễn Thị Bình", "ngay_sinh": "1970-01-01", "ngay_cuoi": "1995-06-01"},
            {"ho_ten": "", "ngay_sinh": ""}
        ],
        "cam_doan": "on",
        "unknown": "ignored",
        "_uploads": {"giay_bao_tu": format!("sha256:{}", "a".repeat(64))}
    })
}

fn check(values: Value) -> Result<Validated, Vec<FieldError>> {
    validate_at(&sample(), &values, &Units, today())
}

fn errors(values: Value) -> Vec<(String, String)> {
    match check(values) {
        Ok(v) => panic!("expected errors, got {}", v.values),
        Err(e) => e.into_iter().map(|e| (e.path, e.message)).collect(),
    }
}

fn with(patch: Value) -> Value {
    let mut v = good();
    for (k, x) in patch.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

fn paths(values: Value) -> Vec<String> {
    errors(values).into_iter().map(|(p, _)| p).collect()
}

#[test]
fn the_sample_definition_checks() {
    sample().check().unwrap();
}

#[test]
fn good_values_are_normalised_and_hidden_ones_dropped() {
    let v = check(good()).unwrap();
    let o = &v.values;
    assert_eq!(o["ho_ten"], "Nguyễn Văn An");
    assert_eq!(o["so_dinh_danh"], "068190001234");
    assert_eq!(o["dien_thoai"], "0912345678");
    assert_eq!(o["email"], "An@example.vn");
    assert_eq!(o["ngay_sinh"], "1940-09-05");
    assert_eq!(o["so_con"], 3);
    assert_eq!(o["le_phi"], 8000);
    assert_eq!(o["co_bao_hiem"], false);
    assert_eq!(o["cam_doan"], true);
    assert_eq!(
        o["dia_chi"],
        json!({"province": "68", "commune": "24781", "street": "12 Trần Phú",
               "text": "12 Trần Phú, Phường Xuân Hương - Đà Lạt, Tỉnh Lâm Đồng"})
    );
    assert!(o.get("quan_he_khac").is_none(), "hidden field kept");
    assert!(o.get("so_bhxh").is_none(), "hidden field kept");
    assert!(o.get("unknown").is_none());
    assert_eq!(
        o["thanh_vien"].as_array().unwrap().len(),
        1,
        "blank row kept"
    );
    assert_eq!(v.uploads.len(), 1);
    assert!(v.missing_uploads.is_empty());
}

#[test]
fn nfc_normalises_decomposed_input() {
    let nfd = "Nguye\u{302}\u{303}n"; // "Nguyễn" decomposed
    let v = check(with(json!({"ho_ten": nfd}))).unwrap();
    assert_eq!(v.values["ho_ten"], "Nguyễn");
}

#[test]
fn required_fields_are_reported_with_their_labels() {
    let e = errors(json!({}));
    let p: Vec<&str> = e.iter().map(|(p, _)| p.as_str()).collect();
    for want in [
        "ho_ten",
        "dia_chi",
        "quan_he",
        "ngay_sinh",
        "ngay_chet",
        "thanh_vien",
        "cam_doan",
    ] {
        assert!(p.contains(&want), "{want} not in {p:?}");
    }
    let (_, m) = e.iter().find(|(p, _)| p == "ho_ten").unwrap();
    assert_eq!(m, "Vui lòng nhập «Họ tên»");
    let (_, m) = e.iter().find(|(p, _)| p == "cam_doan").unwrap();
    assert!(m.contains("đánh dấu"));
}

#[test]
fn a_shown_conditional_field_becomes_required() {
    assert_eq!(
        paths(with(json!({"quan_he": "khac", "quan_he_khac": ""}))),
        ["quan_he_khac"]
    );
    let v = check(with(json!({"quan_he": "khac", "quan_he_khac": "Cháu"}))).unwrap();
    assert_eq!(v.values["quan_he_khac"], "Cháu");
    assert_eq!(
        paths(with(json!({"co_bao_hiem": true, "so_bhxh": " "}))),
        ["so_bhxh"]
    );
    let v = check(with(json!({"co_bao_hiem": "on", "so_bhxh": "123"}))).unwrap();
    assert_eq!(v.values["so_bhxh"], "123");
}

#[test]
fn text_rules() {
    assert_eq!(paths(with(json!({"ho_ten": "x".repeat(51)}))), ["ho_ten"]);
    assert_eq!(paths(with(json!({"ho_ten": "a\u{0}b"}))), ["ho_ten"]);
    assert_eq!(paths(with(json!({"ma_ho": "ab1234"}))), ["ma_ho"]);
    // The pattern is anchored: a match inside a longer value is not enough.
    let e = errors(with(json!({"ma_ho": "XAB1234"})));
    assert_eq!(e[0].1, "Mã hộ gồm 2 chữ in hoa và 4 số");
    assert_eq!(paths(with(json!({"ghi_chu": "y".repeat(21)}))), ["ghi_chu"]);
    assert_eq!(paths(with(json!({"ho_ten": ["array"]}))), ["ho_ten"]);
    assert_eq!(
        paths(with(json!({"ho_ten": "z".repeat(20_000)}))),
        ["ho_ten"]
    );
}

#[test]
fn textarea_keeps_newlines() {
    let v = check(with(json!({"ghi_chu": "a\r\nb"}))).unwrap();
    assert_eq!(v.values["ghi_chu"], "a\nb");
}

#[test]
fn number_and_money_rules() {
    assert_eq!(paths(with(json!({"so_con": "31"}))), ["so_con"]);
    assert_eq!(paths(with(json!({"so_con": -1}))), ["so_con"]);
    assert_eq!(paths(with(json!({"so_con": "3.5"}))), ["so_con"]);
    assert_eq!(paths(with(json!({"so_con": "ba"}))), ["so_con"]);
    assert_eq!(paths(with(json!({"le_phi": 1.5}))), ["le_phi"]);
    assert_eq!(paths(with(json!({"le_phi": "-5000"}))), ["le_phi"]);
    assert_eq!(paths(with(json!({"le_phi": "1.000.001"}))), ["le_phi"]);
    assert_eq!(paths(with(json!({"le_phi": "1.50"}))), ["le_phi"]);
    assert_eq!(
        paths(with(json!({"le_phi": "99999999999999999999999"}))),
        ["le_phi"]
    );
    let v = check(with(json!({"le_phi": "1 000 000 VND"}))).unwrap();
    assert_eq!(v.values["le_phi"], 1_000_000);
    let v = check(with(json!({"le_phi": 0}))).unwrap();
    assert_eq!(v.values["le_phi"], 0);
}

#[test]
fn date_rules() {
    assert_eq!(
        paths(with(json!({"ngay_sinh": "31/02/1990"}))),
        ["ngay_sinh"]
    );
    assert_eq!(paths(with(json!({"ngay_sinh": "1990-2-3"}))), ["ngay_sinh"]);
    assert_eq!(paths(with(json!({"ngay_sinh": "hôm qua"}))), ["ngay_sinh"]);
    let e = errors(with(json!({"ngay_chet": "2026-12-03"})));
    assert_eq!(
        e,
        [(
            "ngay_chet".to_string(),
            "Ngày không được sau hôm nay".to_string()
        )]
    );
    // Cross-field: death on the day of birth is allowed (not_before), earlier is not.
    check(with(
        json!({"ngay_sinh": "2026-11-30", "ngay_chet": "30/11/2026"}),
    ))
    .unwrap();
    let e = errors(with(
        json!({"ngay_sinh": "2000-01-02", "ngay_chet": "2000-01-01"}),
    ));
    assert_eq!(
        e,
        [(
            "ngay_chet".to_string(),
            "«Ngày chết» không được trước «Ngày sinh»".to_string()
        )]
    );
}

#[test]
fn code_rules() {
    assert_eq!(
        paths(with(json!({"so_dinh_danh": "06819000123"}))),
        ["so_dinh_danh"]
    );
    assert_eq!(
        paths(with(json!({"so_dinh_danh": "068190001234x"}))),
        ["so_dinh_danh"]
    );
    // 12 digits, but province code 99 does not exist.
    assert_eq!(
        paths(with(json!({"so_dinh_danh": "999190001234"}))),
        ["so_dinh_danh"]
    );
    assert_eq!(paths(with(json!({"mst": "0100109107"}))), ["mst"]);
    let v = check(with(json!({"mst": "0100109106-001"}))).unwrap();
    assert_eq!(v.values["mst"], "0100109106-001");
}

#[test]
fn phone_and_email_rules() {
    for bad in [
        "0123",
        "0112345678",
        "091234567a",
        "+1 212 555 0100",
        "02631234567890",
    ] {
        assert_eq!(
            paths(with(json!({"dien_thoai": bad}))),
            ["dien_thoai"],
            "{bad}"
        );
    }
    for (ok, norm) in [
        ("0263 3822 123", "02633822123"),
        ("84912345678", "0912345678"),
        ("0387.123.456", "0387123456"),
    ] {
        assert_eq!(
            check(with(json!({"dien_thoai": ok}))).unwrap().values["dien_thoai"],
            norm
        );
    }
    for bad in [
        "an", "an@", "@x.vn", "a n@x.vn", "an@x", "an@-x.vn", "a@b@x.vn",
    ] {
        assert_eq!(paths(with(json!({"email": bad}))), ["email"], "{bad}");
    }
}

#[test]
fn select_and_checkbox_rules() {
    assert_eq!(paths(with(json!({"quan_he": "vo"}))), ["quan_he"]);
    assert_eq!(
        paths(with(json!({"co_bao_hiem": "maybe"}))),
        ["co_bao_hiem"]
    );
    assert_eq!(paths(with(json!({"cam_doan": false}))), ["cam_doan"]);
}

#[test]
fn address_rules() {
    let a = |v: Value| with(json!({"dia_chi": v}));
    assert_eq!(
        paths(a(
            json!({"province": "68", "commune": "00004", "street": "x"})
        )),
        ["dia_chi.commune"]
    );
    assert_eq!(
        paths(a(
            json!({"province": "99", "commune": "24781", "street": "x"})
        )),
        ["dia_chi.province"]
    );
    assert_eq!(
        paths(a(json!({"province": "68", "commune": "", "street": "x"}))),
        ["dia_chi.commune"]
    );
    // The preselected province alone is no address: a required one is missing, not half-filled.
    assert_eq!(
        paths(a(json!({"province": "68", "commune": "", "street": ""}))),
        ["dia_chi"]
    );
    assert_eq!(
        paths(a(
            json!({"province": "68", "commune": "24781", "street": ""})
        )),
        ["dia_chi.street"]
    );
    assert_eq!(
        paths(a(
            json!({"province": "68", "commune": "99999", "street": "x"})
        )),
        ["dia_chi.commune"]
    );
    assert_eq!(paths(a(json!("12 Trần Phú"))), ["dia_chi"]);
    assert_eq!(paths(a(json!({}))), ["dia_chi"]);
}

#[test]
fn group_rules() {
    let g = |v: Value| with(json!({"thanh_vien": v}));
    assert_eq!(paths(g(json!([]))), ["thanh_vien"]);
    assert_eq!(paths(g(json!([{"ho_ten": ""}]))), ["thanh_vien"]);
    let four = json!([{"ho_ten": "A"}, {"ho_ten": "B"}, {"ho_ten": "C"}, {"ho_ten": "D"}]);
    assert_eq!(paths(g(four)), ["thanh_vien"]);
    assert_eq!(
        paths(g(json!([{"ho_ten": "A"}, {"ngay_sinh": "2000-01-01"}]))),
        ["thanh_vien[1].ho_ten"]
    );
    assert_eq!(
        paths(g(
            json!([{"ho_ten": "A", "ngay_sinh": "2000-01-01", "ngay_cuoi": "1999-01-01"}])
        )),
        ["thanh_vien[0].ngay_cuoi"]
    );
    assert_eq!(paths(g(json!({"ho_ten": "A"}))), ["thanh_vien"]);
    assert_eq!(paths(g(json!(["A"]))), ["thanh_vien[0]"]);
}

#[test]
fn upload_slots() {
    let u = |v: Value| with(json!({"_uploads": v}));
    assert_eq!(
        paths(u(json!({"giay_bao_tu": "sha256:xyz"}))),
        ["_uploads.giay_bao_tu"]
    );
    assert_eq!(
        paths(u(json!({"khac": format!("sha256:{}", "b".repeat(64))}))),
        ["_uploads.khac"]
    );
    assert_eq!(paths(u(json!(["x"]))), ["_uploads"]);
    let v = check(u(json!({}))).unwrap();
    assert_eq!(v.missing_uploads, ["giay_bao_tu"]);
    assert!(v.values.get("_uploads").is_none());
    assert!(is_blob_key(&format!("sha256:{}", "0f".repeat(32))));
    assert!(!is_blob_key(&format!("sha256:{}", "0F".repeat(32))));
}

#[test]
fn values_must_be_an_object() {
    assert_eq!(paths(json!([1])), [""]);
    assert_eq!(paths(json!("x")), [""]);
}

#[test]
fn every_error_has_both_languages() {
    for e in check(json!({"ho_ten": 5, "so_con": "x", "dia_chi": {"province": "1"}})).unwrap_err() {
        assert!(!e.message.is_empty() && !e.message_en.is_empty(), "{e:?}");
    }
}

#[test]
fn prefill_fills_tagged_fields_and_keeps_typed_ones() {
    let p = Profile {
        name: Some("Trần Thị Hoa".into()),
        personal_id: Some("068190001234".into()),
        phone: Some("0912345678".into()),
        address: Some(ProfileAddress {
            province: "68".into(),
            commune: "24781".into(),
            street: "1 Hùng Vương".into(),
        }),
        ..Profile::default()
    };
    let v = prefill(&sample(), &p);
    assert_eq!(v["ho_ten"], "Trần Thị Hoa");
    assert_eq!(v["so_dinh_danh"], "068190001234");
    assert_eq!(v["dia_chi"]["commune"], "24781");
    assert!(v.get("email").is_none(), "email is not tagged");
    let mut typed = serde_json::Map::new();
    typed.insert("ho_ten".into(), json!("Người khác"));
    typed.insert("dien_thoai".into(), json!(" "));
    prefill_missing(&sample(), &p, &mut typed);
    assert_eq!(typed["ho_ten"], "Người khác");
    assert_eq!(typed["dien_thoai"], "0912345678");
}

fn bad_def(patch: impl FnOnce(&mut Value)) -> Vec<String> {
    let mut v = serde_json::to_value(sample()).unwrap();
    patch(&mut v);
    let def: FormDefinition = serde_json::from_value(v).unwrap();
    def.check().unwrap_err()
}

#[test]
fn check_rejects_bad_definitions_with_clear_messages() {
    let one = |p: Vec<String>, want: &str| {
        assert!(p.iter().any(|m| m.contains(want)), "{want:?} not in {p:?}");
    };
    one(
        bad_def(|v| v["sections"][0]["fields"][1]["id"] = json!("ho_ten")),
        "duplicate field id",
    );
    one(
        bad_def(|v| v["sections"][1]["fields"][0]["id"] = json!("ho_ten")),
        "duplicate field id",
    );
    one(
        bad_def(|v| v["sections"][1]["id"] = json!("nguoi-yeu-cau")),
        "duplicate section id",
    );
    one(
        bad_def(|v| v["sections"][0]["fields"][0]["id"] = json!("Họ tên")),
        "id must match",
    );
    one(
        bad_def(|v| v["sections"][0]["fields"][8]["visible_if"]["field"] = json!("khong_co")),
        "unknown field",
    );
    one(
        bad_def(|v| v["sections"][0]["fields"][8]["visible_if"]["equals"] = json!("vo")),
        "does not offer",
    );
    one(
        bad_def(|v| v["sections"][0]["fields"][8]["visible_if"]["in"] = json!(["con"])),
        "exactly one of",
    );
    one(
        bad_def(|v| {
            v["sections"][1]["fields"][6]["visible_if"] =
                json!({"field": "co_bao_hiem", "equals": "x"})
        }),
        "needs `checked`",
    );
    one(
        bad_def(|v| v["sections"][0]["fields"][7]["options"] = json!([])),
        "no options",
    );
    one(
        bad_def(|v| v["sections"][0]["fields"][7]["options"][1]["value"] = json!("con")),
        "duplicate option",
    );
    one(
        bad_def(|v| v["sections"][1]["fields"][2]["min"] = json!(40)),
        "min > max",
    );
    one(
        bad_def(|v| v["sections"][1]["fields"][7]["min_items"] = json!(5)),
        "min_items > max_items",
    );
    one(
        bad_def(|v| v["sections"][1]["fields"][7]["max_items"] = json!(0)),
        "max_items must be",
    );
    one(
        bad_def(|v| v["sections"][1]["fields"][0]["max"] = json!("mai")),
        "ISO or today",
    );
    one(
        bad_def(|v| v["sections"][0]["fields"][1]["pattern"]["regex"] = json!("[A-")),
        "invalid regex",
    );
    one(
        bad_def(|v| v["sections"][0]["fields"][0]["prefill"] = json!("applicant.shoe_size")),
        "unknown prefill key",
    );
    one(
        bad_def(|v| v["rules"][0]["not_before"] = json!("so_con")),
        "compare two dates",
    );
    one(
        bad_def(|v| v["rules"][0]["field"] = json!("khong_co")),
        "unknown field",
    );
    one(
        bad_def(|v| v["rules"][0]["after"] = json!("ngay_sinh")),
        "exactly one of",
    );
    one(
        bad_def(|v| v["sections"][1]["fields"][7]["rules"][0]["after"] = json!("ho_ten")),
        "compare two dates",
    );
    one(
        bad_def(|v| v["uploads"][1]["id"] = json!("giay_bao_tu")),
        "duplicate upload slot id",
    );
    one(
        bad_def(|v| v["uploads"][0]["accept"] = json!(["application/x-msdownload"])),
        "accepted types",
    );
    one(
        bad_def(|v| v["uploads"][0]["max_bytes"] = json!(0)),
        "max_bytes",
    );
    one(
        bad_def(|v| v["sections"][2]["fields"] = json!([])),
        "section has no fields",
    );
    one(bad_def(|v| v["sections"] = json!([])), "no sections");
    one(bad_def(|v| v["id"] = json!("")), "form id must match");
}

fn version() -> crate::procedure::ProcedureVersion {
    use crate::procedure::*;
    let limit = TimeLimit {
        amount: 5,
        unit: TimeUnit::WorkingDays,
    };
    ProcedureVersion {
        code: "1.001193".parse().unwrap(),
        version: 1,
        status: VersionStatus::Published,
        name: "Đăng ký khai sinh".into(),
        field: "Hộ tịch".into(),
        levels: vec![Level::Commune],
        online_level: OnlineLevel::Full,
        time_limit: limit,
        fee_vnd: 0,
        documents: vec![],
        decision_no: "1/QĐ-BTP".into(),
        competent_agency: None,
        workflow: crate::workflow::WorkflowDef::standard(limit.duration(), None),
        details: Default::default(),
        form: None,
    }
}

#[test]
fn generic_form_has_applicant_uploads_and_note() {
    let mut p = version();
    p.documents = vec![
        crate::procedure::DocumentRequirement {
            name: "Tờ khai".into(),
            required: true,
        },
        crate::procedure::DocumentRequirement {
            name: "Giấy ủy quyền".into(),
            required: false,
        },
    ];
    let f = generic_form(&p);
    f.check().unwrap();
    assert_eq!(f.uploads.len(), 2);
    assert!(f.uploads[0].required && !f.uploads[1].required);
    assert_eq!(f.uploads[0].name.vi, "Tờ khai");
    let v = validate_at(
        &f,
        &json!({"ho_ten": "An", "ghi_chu": "Hồ sơ thử"}),
        &Units,
        today(),
    )
    .unwrap();
    assert_eq!(v.values["ghi_chu"], "Hồ sơ thử");
    assert_eq!(v.missing_uploads, ["giay_to_1"]);
    let e = validate_at(&f, &json!({}), &Units, today()).unwrap_err();
    assert_eq!(e[0].path, "ho_ten");
}

#[test]
fn definitions_round_trip_through_json() {
    let d = sample();
    let back: FormDefinition = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
    assert_eq!(back, d);
    // Labels may be plain strings.
    let t: Text = serde_json::from_value(json!("Họ tên")).unwrap();
    assert_eq!(t, Text::vi("Họ tên"));
    assert_eq!(Text::both("Họ tên", "Name").get("en"), "Name");
    assert_eq!(Text::vi("Họ tên").get("en"), "Họ tên");
}

proptest! {
    #[test]
    fn validate_never_panics_and_errors_name_fields(
        name in ".{0,80}", phone in "[0-9+ .]{0,14}", money in "[0-9., đ-]{0,16}", date in "[0-9/-]{0,12}",
    ) {
        let r = check(with(json!({"ho_ten": name, "dien_thoai": phone, "le_phi": money, "ngay_sinh": date})));
        if let Err(errs) = r {
            for e in errs {
                prop_assert!(["ho_ten", "dien_thoai", "le_phi", "ngay_sinh", "ngay_chet"].contains(&e.path.as_str()), "{:?}", e);
            }
        }
    }

    #[test]
    fn any_valid_mobile_number_normalises(prefix in "(03|05|07|08|09)", rest in "[0-9]{8}") {
        let n = format!("{prefix}{rest}");
        let intl = format!("+84 {}", &n[1..]);
        prop_assert_eq!(normalize_phone(&intl), Some(n.clone()));
        prop_assert_eq!(normalize_phone(&n), Some(n));
    }

    #[test]
    fn money_with_separators_parses(n in 0i64..1_000_000) {
        let dotted = {
            let s = n.to_string();
            let mut out = String::new();
            for (i, c) in s.chars().enumerate() {
                if i > 0 && (s.len() - i) % 3 == 0 { out.push('.'); }
                out.push(c);
            }
            out
        };
        let v = check(with(json!({"le_phi": format!("{dotted} đ")}))).unwrap();
        prop_assert_eq!(v.values["le_phi"].as_i64(), Some(n));
    }

    #[test]
    fn validated_values_validate_again_unchanged(street in "[a-zA-Z0-9][a-zA-Z0-9 ]{0,39}") {
        let first = check(with(json!({"dia_chi": {"province": "68", "commune": "24820", "street": street}}))).unwrap();
        let again = check(first.values.clone()).unwrap();
        prop_assert_eq!(again.values, first.values);
    }
}

#[test]
fn the_declared_contact_is_read_from_the_tagged_fields() {
    let c = declared_contact(
        &sample(),
        &json!({"so_dinh_danh": "068190001234", "dien_thoai": " 0912345678 ",
                "email": "x@example.vn", "ho_ten": "A"}),
    );
    assert_eq!(c.personal_id.as_deref(), Some("068190001234"));
    assert_eq!(c.phone.as_deref(), Some("0912345678"));
    // `email` is not tagged in this form: not a contact.
    assert_eq!(c.email, None);
    let c = declared_contact(&sample(), &json!({"dien_thoai": "  ", "so_dinh_danh": 5}));
    assert_eq!((c.phone, c.personal_id), (None, None));
}
