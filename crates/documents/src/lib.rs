//! What people hold in their hands, as PDF: the documents of Circular 03/2025/TT-VPCP
//! (Appendix I) that a one-stop desk issues for a dossier. Each is rendered on A5 from a plain
//! input struct (no store or domain types: the web layer fills them from the dossier and its
//! history), with real Vietnamese text in embedded subsets of DejaVu Sans:
//!
//! | form | struct |
//! | --- | --- |
//! | 01 Giấy tiếp nhận hồ sơ và hẹn trả kết quả (with a QR code to the tracking page) | [`Receipt`] |
//! | 02 Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ | [`SupplementNotice`] |
//! | 03 Phiếu từ chối tiếp nhận giải quyết hồ sơ | [`RefusalNotice`] |
//! | 04 Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết | [`ApologyLetter`] |
//! | 05 Thông báo dừng giải quyết hồ sơ | [`StopNotice`] |
//! | 06 Phiếu kiểm soát quá trình giải quyết hồ sơ | [`ControlSheet`] |
//! | a blank declaration (mẫu tờ khai) from a procedure's e-form, to fill in by hand | [`BlankForm`] |
//!
//! Statistical tables (form 06 of the reporting circular, the service index) print on A4
//! landscape through [`TableReport`].
//!
//! Any text is accepted: long text wraps (measured with the font's glyph widths) and flows onto
//! new pages; a word wider than the line is cut; characters the font lacks (emoji) print as `?`;
//! a single field is cut after [`MAX_FIELD_CHARS`] characters so a document stays bounded.

mod blank;
mod font;
mod forms;
mod layout;
mod report;

use chrono::{NaiveDate, NaiveDateTime};
use std::borrow::Cow;

pub use blank::{BlankField, BlankForm, BlankKind, BlankSection};
pub use forms::{
    ApologyLetter, ControlSheet, HandOver, Header, Person, Receipt, RefusalNotice, StepResult,
    StopCause, StopNotice, SupplementNotice,
};
pub use report::{MAX_COLUMNS_PER_PART, TableReport};

/// Longest text printed for one field; longer text is cut with an ellipsis.
pub const MAX_FIELD_CHARS: usize = 4000;

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The QR code's content does not fit in a QR code.
    #[error("the tracking URL cannot be encoded as a QR code: {0}")]
    Qr(String),
    /// The embedded font could not be subset.
    #[error("font subsetting failed: {0}")]
    Font(String),
    /// Writing the PDF failed.
    #[error("writing the PDF failed: {0}")]
    Pdf(#[source] std::io::Error),
}

/// Any of the documents, for callers that pick one at run time.
#[derive(Clone, Debug)]
pub enum Document {
    /// 01 receipt and appointment.
    Receipt(Receipt),
    /// 02 supplement request.
    Supplement(SupplementNotice),
    /// 03 refusal.
    Refusal(RefusalNotice),
    /// 04 apology and new appointment.
    Apology(ApologyLetter),
    /// 05 notice to stop processing.
    Stop(StopNotice),
    /// 06 control sheet.
    ControlSheet(ControlSheet),
}

impl Document {
    /// Renders the document as a PDF file.
    pub fn render(&self) -> Result<Vec<u8>, DocumentError> {
        match self {
            Document::Receipt(d) => d.render(),
            Document::Supplement(d) => d.render(),
            Document::Refusal(d) => d.render(),
            Document::Apology(d) => d.render(),
            Document::Stop(d) => d.render(),
            Document::ControlSheet(d) => d.render(),
        }
    }
}

/// The QR code of `text` as rows of modules (`true` = dark), row 0 at the top, without the
/// quiet zone. Error correction level M (15 %), which survives a creased or stamped receipt.
pub fn qr_modules(text: &str) -> Result<Vec<Vec<bool>>, DocumentError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| DocumentError::Qr(e.to_string()))?;
    let n = code.width();
    let colors = code.to_colors();
    Ok(colors
        .chunks(n)
        .map(|row| row.iter().map(|c| *c == qrcode::Color::Dark).collect())
        .collect())
}

/// `text` cut to [`MAX_FIELD_CHARS`] characters.
pub(crate) fn clip(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(MAX_FIELD_CHARS) {
        None => Cow::Borrowed(text),
        Some((i, _)) => Cow::Owned(format!("{}…", &text[..i])),
    }
}

/// "08 giờ 30 phút, ngày 05/12/2026".
pub fn format_time(t: NaiveDateTime) -> String {
    t.format("%H giờ %M phút, ngày %d/%m/%Y").to_string()
}

/// "Lâm Đồng, ngày 05 tháng 12 năm 2026".
pub fn format_place_date(place: &str, d: NaiveDate) -> String {
    format!("{place}, {}", d.format("ngày %d tháng %m năm %Y"))
}

#[cfg(test)]
mod tests;
