//! Every document rendered for a realistic dossier and for nasty input, read back by a real
//! PDF parser (lopdf): the text a person would look for is there, and the QR code decodes
//! (with a real QR reader) to the tracking URL.

use super::*;
use chrono::NaiveDate;

fn day(d: u32, h: u32, m: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 12, d)
        .unwrap()
        .and_hms_opt(h, m, 0)
        .unwrap()
}

fn head(number: &str) -> Header {
    Header {
        governing_body: "UBND tỉnh Lâm Đồng".into(),
        issuing_body: "Trung tâm Phục vụ hành chính công tỉnh".into(),
        number: number.into(),
        place: "Lâm Đồng".into(),
        date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
    }
}

fn lan() -> Person {
    Person {
        name: "Nguyễn Thị Lan".into(),
        personal_id: Some("068190001234".into()),
        address: Some("Phường Xuân Hương - Đà Lạt, tỉnh Lâm Đồng".into()),
        phone: Some("0912345678".into()),
        email: Some("lan@example.vn".into()),
    }
}

const CODE: &str = "000.00.01.H40-261201-0007";
const URL: &str = "https://dichvucong.lamdong.gov.vn/tra-cuu?ma=000.00.01.H40-261201-0007";

fn receipt() -> Receipt {
    Receipt {
        header: head("0007/TTPVHCC"),
        dossier_code: CODE.into(),
        receiving_office: "Trung tâm Phục vụ hành chính công tỉnh Lâm Đồng".into(),
        applicant: lan(),
        procedure: "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ".into(),
        documents: vec![
            "Đơn đề nghị cấp giấy phép xây dựng (bản chính)".into(),
            "Bản sao giấy tờ chứng minh quyền sử dụng đất".into(),
            "Hai bộ bản vẽ thiết kế xây dựng".into(),
        ],
        sets: 1,
        time_limit: "15 ngày làm việc".into(),
        received_at: day(1, 8, 30),
        appointment: day(22, 16, 0),
        result_place: "Trung tâm Phục vụ hành chính công tỉnh Lâm Đồng".into(),
        receiver: "Trần Văn Bình".into(),
        tracking_url: URL.into(),
    }
}

fn supplement() -> SupplementNotice {
    SupplementNotice {
        header: head("PBS-0007"),
        dossier_code: Some(CODE.into()),
        office: "Trung tâm Phục vụ hành chính công tỉnh Lâm Đồng".into(),
        applicant: lan(),
        procedure: "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ".into(),
        items: vec!["Bản vẽ mặt bằng có chữ ký của chủ đầu tư".into()],
        reason: "Bản vẽ nộp kèm chưa có chữ ký.".into(),
        contact: "Trần Văn Bình, Bộ phận một cửa".into(),
        officer: "Trần Văn Bình".into(),
    }
}

fn refusal() -> RefusalNotice {
    RefusalNotice {
        header: head("PTC-0007"),
        dossier_code: Some(CODE.into()),
        office: "Trung tâm Phục vụ hành chính công tỉnh Lâm Đồng".into(),
        applicant: lan(),
        procedure: "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ".into(),
        reasons: vec!["Thửa đất thuộc khu vực đã có quy hoạch giải tỏa.".into()],
        officer: "Trần Văn Bình".into(),
    }
}

fn apology() -> ApologyLetter {
    ApologyLetter {
        header: head("PXL-0007"),
        dossier_code: CODE.into(),
        agency: "Sở Xây dựng tỉnh Lâm Đồng".into(),
        applicant: lan(),
        procedure: "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ".into(),
        received_at: day(1, 8, 30),
        original_appointment: day(22, 16, 0),
        reason: "Cần lấy ý kiến của cơ quan quản lý di tích.".into(),
        new_appointment: day(29, 10, 0),
        signer: "Lê Minh Châu".into(),
    }
}

fn stop() -> StopNotice {
    StopNotice {
        header: head("TBD-0007"),
        dossier_code: Some(CODE.into()),
        office: "Trung tâm Phục vụ hành chính công tỉnh Lâm Đồng".into(),
        applicant: lan(),
        procedure: "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ".into(),
        received_at: day(1, 8, 30),
        cause: StopCause::Withdrawn,
        reason: "Gia đình thay đổi kế hoạch xây dựng.".into(),
        stopped_at: day(3, 9, 15),
        officer: "Trần Văn Bình".into(),
    }
}

fn control(rows: usize) -> ControlSheet {
    let results = [
        Some(StepResult::Early),
        Some(StepResult::OnTime),
        Some(StepResult::Late),
        None,
    ];
    ControlSheet {
        header: head("PKS-0007"),
        dossier_code: CODE.into(),
        applicant: lan(),
        procedure: "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ".into(),
        handling_agency: "Sở Xây dựng tỉnh Lâm Đồng".into(),
        cooperating: vec!["Sở Văn hóa, Thể thao và Du lịch".into()],
        received_at: day(1, 8, 30),
        appointment: day(22, 16, 0),
        rows: (0..rows)
            .map(|i| HandOver {
                from_unit: format!("Phòng Quản lý xây dựng (bước {})", i + 1),
                to_unit: "Lãnh đạo Sở Xây dựng".into(),
                at: day(2 + (i % 20) as u32, 9, 0),
                giver: "Phạm Thu Hà".into(),
                receiver: "Lê Minh Châu".into(),
                result: results[i % 4],
                note: String::new(),
            })
            .collect(),
    }
}

/// Nasty text: markup, quotes, PDF syntax, control characters, emoji and CJK (not in the font), a 3,000-character word,
/// decomposed diacritics, right-to-left text and a NUL.
fn nasty() -> String {
    format!(
        "<script>alert('x')</script> \"quotes\" (paren) \\ ) ( endstream %%EOF \u{0}\t\r\n😀🇻🇳中文🦀 \
         Nguye\u{302}\u{303}n العربية {} end",
        "W".repeat(3000)
    )
}

fn nasty_person() -> Person {
    Person {
        name: format!("Lan {}", nasty()),
        personal_id: Some(nasty()),
        address: Some(nasty().repeat(3)),
        phone: Some(String::new()),
        email: None,
    }
}

/// Parses `pdf` and returns its pages' text and page count.
fn read(pdf: &[u8]) -> (String, usize) {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let doc = lopdf::Document::load_mem(pdf).expect("lopdf parses the PDF");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    assert!(!pages.is_empty());
    let text = doc.extract_text(&pages).expect("text extracts");
    (text, pages.len())
}

/// Text with line breaks and spaces removed, so a phrase wrapped over two lines still matches.
fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn assert_has(text: &str, needle: &str) {
    assert!(
        squash(text).contains(&squash(needle)),
        "`{needle}` not in the extracted text:\n{text}"
    );
}

/// The QR module matrix drawn in the `QR` form XObject of the first page.
fn drawn_qr(pdf: &[u8]) -> Vec<Vec<bool>> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let page = *doc.get_pages().values().next().unwrap();
    let (res, _) = doc.get_page_resources(page).unwrap();
    let res = res.unwrap();
    let xobjects = res.get(b"XObject").unwrap().as_dict().unwrap();
    let id = xobjects.get(b"QR").unwrap().as_reference().unwrap();
    let stream = doc.get_object(id).unwrap().as_stream().unwrap();
    let data = stream.decompressed_content().unwrap();
    let ops = lopdf::content::Content::decode(&data).unwrap().operations;
    let bbox = stream.dict.get(b"BBox").unwrap().as_array().unwrap();
    let n = bbox[2].as_float().unwrap() as usize;
    let mut m = vec![vec![false; n]; n];
    for op in ops.iter().filter(|o| o.operator == "re") {
        let v: Vec<usize> = op
            .operands
            .iter()
            .map(|o| o.as_float().unwrap() as usize)
            .collect();
        let row = n - 1 - v[1];
        m[row][v[0]..v[0] + v[2]].fill(true);
    }
    m
}

/// Reads a module matrix with a real QR decoder (rqrr), after adding the quiet zone.
fn decode(m: &[Vec<bool>]) -> String {
    let quiet = 4;
    let scale = 4;
    let size = (m.len() + 2 * quiet) * scale;
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(size, size, |x, y| {
        let (mx, my) = (x / scale, y / scale);
        let dark = mx >= quiet
            && my >= quiet
            && mx - quiet < m.len()
            && my - quiet < m.len()
            && m[my - quiet][mx - quiet];
        if dark { 0 } else { 255 }
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().expect("the QR code decodes").1
}

#[test]
fn receipt_has_code_name_dates_and_a_qr_code_to_the_tracking_page() {
    let pdf = receipt().render().unwrap();
    let (text, pages) = read(&pdf);
    assert_eq!(pages, 1, "a receipt fits on one A5 page");
    for needle in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        "Số: 0007/TTPVHCC",
        "Lâm Đồng, ngày 01 tháng 12 năm 2026",
        CODE,
        "Nguyễn Thị Lan",
        "068190001234",
        "Hai bộ bản vẽ thiết kế xây dựng",
        "15 ngày làm việc",
        "08 giờ 30 phút, ngày 01/12/2026",
        "16 giờ 00 phút, ngày 22/12/2026",
        "Trần Văn Bình",
    ] {
        assert_has(&text, needle);
    }
    // The drawn QR code is the URL's and a QR reader gets the URL back.
    let drawn = drawn_qr(&pdf);
    assert_eq!(drawn, qr_modules(URL).unwrap());
    assert_eq!(decode(&drawn), URL);
    // Fonts are subset: far smaller than the two font files (1.4 MB).
    assert!(pdf.len() < 120_000, "receipt is {} bytes", pdf.len());
}

#[test]
fn a_different_dossier_gets_a_different_qr_code() {
    let mut r = receipt();
    r.tracking_url = URL.replace("0007", "0008");
    let pdf = r.render().unwrap();
    assert_eq!(decode(&drawn_qr(&pdf)), r.tracking_url);
    assert_ne!(drawn_qr(&pdf), qr_modules(URL).unwrap());
}

#[test]
fn notices_carry_their_fields() {
    let cases: Vec<(Document, Vec<&str>)> = vec![
        (
            Document::Supplement(supplement()),
            vec![
                "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
                "Số: PBS-0007",
                "Bản vẽ mặt bằng có chữ ký của chủ đầu tư",
                "Bản vẽ nộp kèm chưa có chữ ký.",
                "NGƯỜI HƯỚNG DẪN",
            ],
        ),
        (
            Document::Refusal(refusal()),
            vec![
                "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
                "Thửa đất thuộc khu vực đã có quy hoạch giải tỏa.",
                "068190001234",
            ],
        ),
        (
            Document::Apology(apology()),
            vec![
                "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN",
                "Sở Xây dựng tỉnh Lâm Đồng",
                "16 giờ 00 phút, ngày 22/12/2026",
                "10 giờ 00 phút, ngày 29/12/2026",
                "Cần lấy ý kiến của cơ quan quản lý di tích.",
                "Lê Minh Châu",
            ],
        ),
        (
            Document::Stop(stop()),
            vec![
                "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ",
                "rút hồ sơ",
                "Gia đình thay đổi kế hoạch xây dựng.",
                "09 giờ 15 phút, ngày 03/12/2026",
            ],
        ),
        (
            Document::ControlSheet(control(3)),
            vec![
                "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
                "Sở Văn hóa, Thể thao và Du lịch",
                "Trước hạn",
                "Đúng hạn",
                "Quá hạn",
                "Phạm Thu Hà",
            ],
        ),
    ];
    for (doc, needles) in cases {
        let pdf = doc.render().unwrap();
        let (text, pages) = read(&pdf);
        assert_eq!(pages, 1, "{needles:?}");
        assert_has(&text, CODE);
        assert_has(&text, "Nguyễn Thị Lan");
        assert_has(&text, "Độc lập - Tự do - Hạnh phúc");
        for n in needles {
            assert_has(&text, n);
        }
    }
}

#[test]
fn a_long_control_sheet_continues_on_more_pages_with_its_header() {
    let pdf = control(60).render().unwrap();
    let (text, pages) = read(&pdf);
    assert!(pages >= 3, "{pages} pages");
    assert_has(&text, "Phòng Quản lý xây dựng (bước 60)");
    assert_has(&text, &format!("Trang 1/{pages}"));
    // The table header is repeated on every page.
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    for p in doc.get_pages().keys() {
        let t = doc.extract_text(&[*p]).unwrap();
        assert_has(&t, "Người giao");
    }
}

#[test]
fn nasty_input_does_not_break_any_document() {
    let n = nasty();
    let mut r = receipt();
    r.applicant = nasty_person();
    r.procedure = n.clone();
    r.documents = vec![n.clone(); 30];
    r.result_place = n.clone();
    r.receiver = n.clone();
    r.header.issuing_body = n.clone();
    let mut s = supplement();
    s.applicant = nasty_person();
    s.items = vec![n.clone(); 10];
    s.reason = n.repeat(3);
    s.contact = n.clone();
    let mut f = refusal();
    f.applicant = nasty_person();
    f.reasons = vec![String::new(), n.clone()];
    let mut a = apology();
    a.applicant = nasty_person();
    a.reason = n.clone();
    a.agency = n.clone();
    let mut st = stop();
    st.applicant = nasty_person();
    st.reason = n.clone();
    st.dossier_code = None;
    let mut c = control(5);
    c.applicant = nasty_person();
    c.rows[0].note = n.repeat(5);
    c.rows[1].from_unit = n.clone();
    c.cooperating = vec![n.clone(); 3];
    for doc in [
        Document::Receipt(r),
        Document::Supplement(s),
        Document::Refusal(f),
        Document::Apology(a),
        Document::Stop(st),
        Document::ControlSheet(c),
    ] {
        let pdf = doc.render().unwrap();
        let (text, _) = read(&pdf);
        // The text survives as text (not markup), emoji become '?', decomposed letters compose.
        assert_has(&text, "<script>alert('x')</script>");
        assert_has(&text, "\"quotes\"(paren)\\)(endstream");
        assert_has(&text, "Nguyễn");
        assert!(!text.contains('中') && !text.contains('🦀'));
        assert_has(&text, "??");
        assert_has(&text, "WWWWWWWWWWWWWWWWWWWW");
    }
}

#[test]
fn empty_fields_still_render() {
    let mut r = receipt();
    r.applicant = Person::default();
    r.documents.clear();
    r.procedure.clear();
    let (text, _) = read(&r.render().unwrap());
    assert_has(&text, "(không có)");
    assert_has(&text, CODE);
}

#[test]
fn a_field_is_cut_at_the_limit() {
    let long = "á".repeat(MAX_FIELD_CHARS + 10);
    let cut = clip(&long);
    assert_eq!(cut.chars().count(), MAX_FIELD_CHARS + 1);
    assert!(cut.ends_with('…'));
    assert_eq!(clip("ngắn"), "ngắn");
}

#[test]
fn a_url_too_long_for_a_qr_code_is_an_error() {
    let mut r = receipt();
    r.tracking_url = "x".repeat(5000);
    assert!(matches!(r.render(), Err(DocumentError::Qr(_))));
}

#[test]
fn rendering_is_deterministic() {
    assert_eq!(receipt().render().unwrap(), receipt().render().unwrap());
}

#[test]
fn dates_are_written_the_vietnamese_way() {
    assert_eq!(format_time(day(5, 7, 5)), "07 giờ 05 phút, ngày 05/12/2026");
    assert_eq!(
        format_place_date("Hà Nội", NaiveDate::from_ymd_opt(2027, 1, 9).unwrap()),
        "Hà Nội, ngày 09 tháng 01 năm 2027"
    );
}
