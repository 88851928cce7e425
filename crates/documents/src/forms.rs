//! The six documents: their input fields (as §1.3 of the domain notes lists them, after the
//! copies of Circular 03/2025's forms) and how each is laid out.

use crate::font::Style::{Bold, Regular};
use crate::layout::{Align, Layout, Span};
use crate::{DocumentError, format_place_date, format_time, qr_modules};
use chrono::{NaiveDate, NaiveDateTime};

pub(crate) const BODY: f32 = 9.0;
pub(crate) const SMALL: f32 = 7.5;
const TITLE: f32 = 10.5;

/// The heading every form carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Đơn vị chủ quản, e.g. "UBND tỉnh Lâm Đồng" (printed in capitals).
    pub governing_body: String,
    /// The issuing body, e.g. "Trung tâm Phục vụ hành chính công tỉnh" (capitals, bold).
    pub issuing_body: String,
    /// The document's number, printed after "Số: ".
    pub number: String,
    /// Place of issue, e.g. "Lâm Đồng".
    pub place: String,
    /// Date of issue.
    pub date: NaiveDate,
}

/// The applicant (or the person a letter is addressed to).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Person {
    /// Full name or organisation name.
    pub name: String,
    /// Personal ID (12 digits) or organisation code.
    pub personal_id: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
}

/// Form 01: Giấy tiếp nhận hồ sơ và hẹn trả kết quả.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Heading.
    pub header: Header,
    /// Mã hồ sơ.
    pub dossier_code: String,
    /// The one-stop desk that received the dossier (agency name).
    pub receiving_office: String,
    /// The applicant.
    pub applicant: Person,
    /// What is asked: the procedure's name.
    pub procedure: String,
    /// Components submitted, in order.
    pub documents: Vec<String>,
    /// Number of sets (bộ).
    pub sets: u32,
    /// Statutory processing time, e.g. "5 ngày làm việc".
    pub time_limit: String,
    /// When the dossier was received (local time).
    pub received_at: NaiveDateTime,
    /// The appointment to return the result (local time).
    pub appointment: NaiveDateTime,
    /// Where the result will be received.
    pub result_place: String,
    /// The officer who received it.
    pub receiver: String,
    /// Public tracking page of this dossier, encoded in the QR code.
    pub tracking_url: String,
}

/// Form 02: Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupplementNotice {
    /// Heading.
    pub header: Header,
    /// Mã hồ sơ, when already issued.
    pub dossier_code: Option<String>,
    /// The desk or unit asking.
    pub office: String,
    /// The applicant.
    pub applicant: Person,
    /// What is asked: the procedure's name.
    pub procedure: String,
    /// What to complete, in order.
    pub items: Vec<String>,
    /// Why.
    pub reason: String,
    /// Whom to contact for guidance (name, unit, phone).
    pub contact: String,
    /// The guiding officer who signs.
    pub officer: String,
}

/// Form 03: Phiếu từ chối tiếp nhận giải quyết hồ sơ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusalNotice {
    /// Heading.
    pub header: Header,
    /// Mã hồ sơ, if one was issued.
    pub dossier_code: Option<String>,
    /// The desk refusing.
    pub office: String,
    /// The applicant.
    pub applicant: Person,
    /// What was asked: the procedure's name.
    pub procedure: String,
    /// Specific reasons.
    pub reasons: Vec<String>,
    /// The officer who signs.
    pub officer: String,
}

/// Form 04: Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApologyLetter {
    /// Heading.
    pub header: Header,
    /// Mã hồ sơ.
    pub dossier_code: String,
    /// The agency apologising (the one handling the dossier).
    pub agency: String,
    /// The addressee.
    pub applicant: Person,
    /// The procedure's name.
    pub procedure: String,
    /// When the dossier was received.
    pub received_at: NaiveDateTime,
    /// The appointment that will be missed.
    pub original_appointment: NaiveDateTime,
    /// Why it is late.
    pub reason: String,
    /// The new appointment.
    pub new_appointment: NaiveDateTime,
    /// Who signs for the head of the agency.
    pub signer: String,
}

/// Why processing stops (form 05).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopCause {
    /// The applicant asked to withdraw the dossier.
    Withdrawn,
    /// The agency stopped processing.
    Stopped,
}

/// Form 05: Thông báo dừng giải quyết hồ sơ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StopNotice {
    /// Heading.
    pub header: Header,
    /// Mã hồ sơ, if one was issued.
    pub dossier_code: Option<String>,
    /// The desk or agency giving notice.
    pub office: String,
    /// The applicant.
    pub applicant: Person,
    /// The procedure's name.
    pub procedure: String,
    /// When the dossier was received (or submitted, if never received).
    pub received_at: NaiveDateTime,
    /// Who asked to stop.
    pub cause: StopCause,
    /// The reason given.
    pub reason: String,
    /// When processing stopped.
    pub stopped_at: NaiveDateTime,
    /// The officer who signs.
    pub officer: String,
}

/// How a step ended compared with its deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepResult {
    /// Trước hạn.
    Early,
    /// Đúng hạn.
    OnTime,
    /// Quá hạn.
    Late,
}

impl StepResult {
    /// Vietnamese label as printed on the control sheet.
    pub fn label_vi(self) -> &'static str {
        match self {
            StepResult::Early => "Trước hạn",
            StepResult::OnTime => "Đúng hạn",
            StepResult::Late => "Quá hạn",
        }
    }
}

/// One hand-over on the control sheet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandOver {
    /// Unit handing over.
    pub from_unit: String,
    /// Unit receiving.
    pub to_unit: String,
    /// When (local time).
    pub at: NaiveDateTime,
    /// Who handed over.
    pub giver: String,
    /// Who received (empty until someone is assigned).
    pub receiver: String,
    /// Result of the step being handed over, graded by the receiving side.
    pub result: Option<StepResult>,
    /// Notes.
    pub note: String,
}

/// Form 06: Phiếu kiểm soát quá trình giải quyết hồ sơ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlSheet {
    /// Heading.
    pub header: Header,
    /// Mã hồ sơ.
    pub dossier_code: String,
    /// The applicant.
    pub applicant: Person,
    /// The procedure's name.
    pub procedure: String,
    /// The agency or unit handling the dossier.
    pub handling_agency: String,
    /// Cooperating agencies (liên thông), if any.
    pub cooperating: Vec<String>,
    /// When the dossier was received.
    pub received_at: NaiveDateTime,
    /// The appointment in force.
    pub appointment: NaiveDateTime,
    /// Hand-overs, in order.
    pub rows: Vec<HandOver>,
}

fn header(l: &mut Layout, h: &Header) {
    let w = l.width();
    let left = w * 0.42;
    let right = w - left;
    let top = vec![
        l.block(
            &[(Regular, &h.governing_body.to_uppercase())],
            SMALL,
            left,
            Align::Center,
        ),
        l.block(
            &[(Bold, &h.issuing_body.to_uppercase())],
            SMALL,
            left,
            Align::Center,
        ),
    ];
    let nation = vec![
        l.block(
            &[(Bold, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")],
            SMALL,
            right,
            Align::Center,
        ),
        l.block(
            &[(Bold, "Độc lập - Tự do - Hạnh phúc")],
            SMALL + 0.5,
            right,
            Align::Center,
        ),
    ];
    let heights = l.columns(vec![(0.0, left, top), (left, right, nation)]);
    // Short rules under the issuing body and under the motto, as on the printed forms.
    let tallest = heights.iter().copied().fold(0.0, f32::max);
    l.rule(0.0, left, left * 0.35, tallest - heights[0]);
    l.rule(left, right, right * 0.62, tallest - heights[1]);
    l.gap(5.0);
    let number = format!("Số: {}", h.number);
    let date = format_place_date(&h.place, h.date);
    let blocks = vec![
        (
            0.0,
            left,
            vec![l.block(&[(Regular, &number)], SMALL, left, Align::Center)],
        ),
        (
            left,
            right,
            vec![l.block(&[(Regular, &date)], SMALL, right, Align::Center)],
        ),
    ];
    l.columns(blocks);
    l.gap(12.0);
}

pub(crate) fn title(l: &mut Layout, t: &str) {
    l.paragraph(&[(Bold, t)], TITLE, Align::Center, 0.0);
    l.gap(6.0);
}

fn field(l: &mut Layout, label: &str, value: &str) {
    l.paragraph(
        &[(Regular, label), (Regular, " "), (Bold, value)],
        BODY,
        Align::Left,
        0.0,
    );
}

fn optional(l: &mut Layout, label: &str, value: &Option<String>) {
    if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
        field(l, label, v);
    }
}

fn text(l: &mut Layout, spans: &[Span]) {
    l.paragraph(spans, BODY, Align::Left, 0.0);
}

fn person(l: &mut Layout, p: &Person) {
    field(l, "Ông/Bà (tổ chức):", &p.name);
    optional(l, "Số định danh cá nhân/mã số tổ chức:", &p.personal_id);
    optional(l, "Địa chỉ:", &p.address);
    optional(l, "Số điện thoại:", &p.phone);
    optional(l, "Thư điện tử:", &p.email);
}

fn numbered(l: &mut Layout, items: &[String]) {
    if items.is_empty() {
        l.paragraph(&[(Regular, "(không có)")], BODY, Align::Left, 12.0);
    }
    for (i, it) in items.iter().enumerate() {
        let n = format!("{}. ", i + 1);
        l.paragraph(&[(Regular, &n), (Regular, it)], BODY, Align::Left, 12.0);
    }
}

/// Signature blocks: each is (role, hint, name), placed side by side (one: on the right).
pub(crate) fn signatures(l: &mut Layout, who: &[(&str, &str, &str)]) {
    l.gap(10.0);
    let w = l.width();
    let n = who.len().max(1) as f32;
    let col = if who.len() == 1 { w * 0.5 } else { w / n };
    let cols = who
        .iter()
        .enumerate()
        .map(|(i, (role, hint, name))| {
            let dx = if who.len() == 1 {
                w - col
            } else {
                i as f32 * col
            };
            (
                dx,
                col,
                vec![
                    l.block(&[(Bold, role)], BODY, col, Align::Center),
                    l.block(&[(Regular, hint)], SMALL, col, Align::Center),
                    l.block(&[(Regular, "\n\n\n")], BODY, col, Align::Center),
                    l.block(&[(Bold, name)], BODY, col, Align::Center),
                ],
            )
        })
        .collect();
    l.columns(cols);
}

impl Receipt {
    /// Renders form 01 as a PDF.
    pub fn render(&self) -> Result<Vec<u8>, DocumentError> {
        let modules = qr_modules(&self.tracking_url)?;
        let mut l = Layout::new("Giấy tiếp nhận hồ sơ và hẹn trả kết quả");
        header(&mut l, &self.header);
        title(&mut l, "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ");
        l.paragraph(
            &[(Regular, "Mã hồ sơ: "), (Bold, &self.dossier_code)],
            BODY + 1.0,
            Align::Center,
            0.0,
        );
        l.gap(6.0);
        text(
            &mut l,
            &[
                (Regular, "Bộ phận tiếp nhận và trả kết quả "),
                (Regular, &self.receiving_office),
                (Regular, " tiếp nhận hồ sơ của:"),
            ],
        );
        person(&mut l, &self.applicant);
        field(&mut l, "Nội dung yêu cầu giải quyết:", &self.procedure);
        text(&mut l, &[(Regular, "1. Thành phần hồ sơ nộp gồm:")]);
        numbered(&mut l, &self.documents);
        let sets = format!("{:02} bộ", self.sets);
        field(&mut l, "2. Số lượng hồ sơ:", &sets);
        field(
            &mut l,
            "3. Thời gian giải quyết hồ sơ theo quy định là:",
            &self.time_limit,
        );
        field(
            &mut l,
            "4. Thời gian nhận hồ sơ:",
            &format_time(self.received_at),
        );
        field(
            &mut l,
            "5. Thời gian trả kết quả giải quyết hồ sơ:",
            &format_time(self.appointment),
        );
        field(&mut l, "6. Đăng ký nhận kết quả tại:", &self.result_place);
        l.gap(8.0);
        // The QR code with its explanation beside it, kept together.
        let qr = 72.0;
        let w = l.width();
        let explain = vec![
            l.block(
                &[(Bold, "Tra cứu tình trạng hồ sơ")],
                BODY,
                w - qr - 10.0,
                Align::Left,
            ),
            l.block(
                &[(
                    Regular,
                    "Quét mã QR bằng điện thoại hoặc truy cập địa chỉ dưới đây và nhập mã hồ sơ:",
                )],
                SMALL,
                w - qr - 10.0,
                Align::Left,
            ),
            l.block(
                &[(Regular, &self.tracking_url)],
                SMALL,
                w - qr - 10.0,
                Align::Left,
            ),
        ];
        let text_h: f32 = explain.iter().map(|b| b.height()).sum();
        l.ensure(qr.max(text_h));
        l.qr(modules, w - qr, qr);
        l.columns(vec![(0.0, w - qr - 10.0, explain)]);
        l.gap((qr - text_h).max(0.0));
        signatures(
            &mut l,
            &[
                (
                    "NGƯỜI NỘP HỒ SƠ",
                    "(Ký và ghi rõ họ tên)",
                    &self.applicant.name,
                ),
                (
                    "NGƯỜI TIẾP NHẬN HỒ SƠ",
                    "(Ký và ghi rõ họ tên)",
                    &self.receiver,
                ),
            ],
        );
        l.finish()
    }
}

impl SupplementNotice {
    /// Renders form 02 as a PDF.
    pub fn render(&self) -> Result<Vec<u8>, DocumentError> {
        let mut l = Layout::new("Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ");
        header(&mut l, &self.header);
        title(&mut l, "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ");
        optional(&mut l, "Mã hồ sơ:", &self.dossier_code);
        field(&mut l, "Kính gửi:", &self.applicant.name);
        optional(&mut l, "Địa chỉ:", &self.applicant.address);
        optional(&mut l, "Số điện thoại:", &self.applicant.phone);
        optional(&mut l, "Thư điện tử:", &self.applicant.email);
        l.gap(3.0);
        text(
            &mut l,
            &[
                (Regular, &self.office),
                (Regular, " đã tiếp nhận hồ sơ đề nghị giải quyết thủ tục: "),
                (Bold, &self.procedure),
                (Regular, "."),
            ],
        );
        text(
            &mut l,
            &[(
                Regular,
                "Sau khi xem xét, đề nghị Ông/Bà bổ sung, hoàn thiện hồ sơ gồm những nội dung sau:",
            )],
        );
        numbered(&mut l, &self.items);
        field(&mut l, "Lý do:", &self.reason);
        text(
            &mut l,
            &[
                (
                    Regular,
                    "Trong quá trình hoàn thiện hồ sơ, nếu có vướng mắc, Ông/Bà liên hệ với ",
                ),
                (Bold, &self.contact),
                (Regular, " để được hướng dẫn."),
            ],
        );
        signatures(
            &mut l,
            &[("NGƯỜI HƯỚNG DẪN", "(Ký và ghi rõ họ tên)", &self.officer)],
        );
        l.finish()
    }
}

impl RefusalNotice {
    /// Renders form 03 as a PDF.
    pub fn render(&self) -> Result<Vec<u8>, DocumentError> {
        let mut l = Layout::new("Phiếu từ chối tiếp nhận giải quyết hồ sơ");
        header(&mut l, &self.header);
        title(&mut l, "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ");
        text(
            &mut l,
            &[
                (Regular, "Bộ phận tiếp nhận và trả kết quả "),
                (Regular, &self.office),
                (Regular, " tiếp nhận hồ sơ của:"),
            ],
        );
        person(&mut l, &self.applicant);
        optional(&mut l, "Mã hồ sơ:", &self.dossier_code);
        field(&mut l, "Nội dung yêu cầu giải quyết:", &self.procedure);
        text(
            &mut l,
            &[(
                Regular,
                "Qua xem xét, Bộ phận tiếp nhận và trả kết quả thông báo không tiếp nhận, giải quyết hồ sơ này với lý do cụ thể như sau:",
            )],
        );
        numbered(&mut l, &self.reasons);
        text(
            &mut l,
            &[(
                Regular,
                "Xin thông báo cho Ông/Bà được biết và thực hiện./.",
            )],
        );
        signatures(
            &mut l,
            &[
                (
                    "NGƯỜI NỘP HỒ SƠ",
                    "(Ký và ghi rõ họ tên)",
                    &self.applicant.name,
                ),
                (
                    "NGƯỜI TIẾP NHẬN HỒ SƠ",
                    "(Ký và ghi rõ họ tên)",
                    &self.officer,
                ),
            ],
        );
        l.finish()
    }
}

impl ApologyLetter {
    /// Renders form 04 as a PDF.
    pub fn render(&self) -> Result<Vec<u8>, DocumentError> {
        let mut l = Layout::new("Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết");
        header(&mut l, &self.header);
        title(
            &mut l,
            "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT HỒ SƠ",
        );
        field(&mut l, "Kính gửi:", &self.applicant.name);
        l.gap(3.0);
        let received = format_time(self.received_at);
        let mut intro: Vec<Span> = vec![
            (Regular, "Vào lúc "),
            (Regular, &received),
            (Regular, ", "),
            (Regular, &self.agency),
            (Regular, " tiếp nhận giải quyết hồ sơ thủ tục "),
            (Bold, &self.procedure),
            (Regular, " của Ông/Bà"),
        ];
        let id = self.applicant.personal_id.clone().unwrap_or_default();
        if !id.is_empty() {
            intro.extend([(Regular, ", số định danh cá nhân "), (Regular, id.as_str())]);
        }
        intro.extend([
            (Regular, "; mã hồ sơ: "),
            (Bold, self.dossier_code.as_str()),
            (Regular, "."),
        ]);
        text(&mut l, &intro);
        field(
            &mut l,
            "Thời gian hẹn trả kết quả giải quyết hồ sơ:",
            &format_time(self.original_appointment),
        );
        text(
            &mut l,
            &[
                (Regular, "Tuy nhiên đến nay, "),
                (Regular, &self.agency),
                (
                    Regular,
                    " chưa trả kết quả giải quyết hồ sơ cho Ông/Bà đúng hẹn ghi trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả.",
                ),
            ],
        );
        field(&mut l, "Lý do:", &self.reason);
        text(
            &mut l,
            &[
                (
                    Regular,
                    "Sự chậm trễ này đã gây phiền hà, tốn kém chi phí đi lại của Ông/Bà. ",
                ),
                (Regular, &self.agency),
                (
                    Regular,
                    " xin lỗi Ông/Bà và xin hẹn lại thời gian trả kết quả giải quyết hồ sơ vào:",
                ),
            ],
        );
        l.paragraph(
            &[(Bold, &format_time(self.new_appointment))],
            BODY + 1.0,
            Align::Center,
            0.0,
        );
        text(
            &mut l,
            &[(
                Regular,
                "Mong nhận được sự thông cảm của Ông/Bà. Xin trân trọng cảm ơn./.",
            )],
        );
        signatures(
            &mut l,
            &[(
                "THỦ TRƯỞNG CƠ QUAN, ĐƠN VỊ",
                "(Ký, ghi rõ họ tên và đóng dấu)",
                &self.signer,
            )],
        );
        l.finish()
    }
}

impl StopNotice {
    /// Renders form 05 as a PDF.
    pub fn render(&self) -> Result<Vec<u8>, DocumentError> {
        let mut l = Layout::new("Thông báo dừng giải quyết hồ sơ");
        header(&mut l, &self.header);
        title(&mut l, "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ");
        field(&mut l, "Kính gửi:", &self.applicant.name);
        optional(&mut l, "Địa chỉ:", &self.applicant.address);
        l.gap(3.0);
        optional(&mut l, "Mã hồ sơ:", &self.dossier_code);
        field(&mut l, "Nội dung yêu cầu giải quyết:", &self.procedure);
        field(
            &mut l,
            "Thời gian tiếp nhận hồ sơ:",
            &format_time(self.received_at),
        );
        let basis = match self.cause {
            StopCause::Withdrawn => "Căn cứ đề nghị dừng giải quyết hồ sơ (rút hồ sơ) của Ông/Bà, ",
            StopCause::Stopped => "Căn cứ kết quả xem xét, xử lý hồ sơ, ",
        };
        let at = format_time(self.stopped_at);
        text(
            &mut l,
            &[
                (Regular, basis),
                (Regular, &self.office),
                (Regular, " thông báo dừng giải quyết hồ sơ nêu trên kể từ "),
                (Bold, &at),
                (Regular, "."),
            ],
        );
        field(&mut l, "Lý do:", &self.reason);
        text(
            &mut l,
            &[(Regular, "Xin thông báo cho Ông/Bà được biết./.")],
        );
        signatures(
            &mut l,
            &[("NGƯỜI THÔNG BÁO", "(Ký và ghi rõ họ tên)", &self.officer)],
        );
        l.finish()
    }
}

impl ControlSheet {
    /// Renders form 06 as a PDF (the table continues on further pages when long).
    pub fn render(&self) -> Result<Vec<u8>, DocumentError> {
        let mut l = Layout::new("Phiếu kiểm soát quá trình giải quyết hồ sơ");
        header(&mut l, &self.header);
        title(&mut l, "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ");
        field(&mut l, "Mã hồ sơ:", &self.dossier_code);
        field(&mut l, "Tên thủ tục:", &self.procedure);
        field(&mut l, "Người nộp:", &self.applicant.name);
        field(
            &mut l,
            "Cơ quan (bộ phận) giải quyết hồ sơ:",
            &self.handling_agency,
        );
        if !self.cooperating.is_empty() {
            field(&mut l, "Cơ quan phối hợp:", &self.cooperating.join("; "));
        }
        field(
            &mut l,
            "Thời gian nhận hồ sơ:",
            &format_time(self.received_at),
        );
        field(
            &mut l,
            "Thời gian trả kết quả giải quyết hồ sơ:",
            &format_time(self.appointment),
        );
        l.gap(6.0);
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    format!("1. Giao: {}\n2. Nhận: {}", r.from_unit, r.to_unit),
                    r.at.format("%H giờ %M phút\nngày %d/%m/%Y").to_string(),
                    r.giver.clone(),
                    r.receiver.clone(),
                    r.result.map(StepResult::label_vi).unwrap_or("").to_string(),
                    r.note.clone(),
                ]
            })
            .collect();
        l.table(
            &[0.27, 0.16, 0.15, 0.15, 0.12, 0.15],
            &[
                "Tên cơ quan, đơn vị",
                "Thời gian giao, nhận hồ sơ",
                "Người giao",
                "Người nhận",
                "Kết quả giải quyết hồ sơ",
                "Ghi chú",
            ],
            &rows,
            6.5,
        );
        l.gap(4.0);
        l.paragraph(
            &[(
                Regular,
                "Kết quả giải quyết hồ sơ tại mỗi bước (trước hạn, đúng hạn, quá hạn) do bên nhận ghi; hệ thống ghi nhận tự động khi chuyển hồ sơ.",
            )],
            SMALL,
            Align::Left,
            0.0,
        );
        l.finish()
    }
}
