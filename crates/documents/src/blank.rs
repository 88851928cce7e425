//! A blank declaration (mẫu tờ khai) printed from an e-form definition, for people who fill it
//! in by hand: each field's label and help text with room to write (ruled lines, a frame, one
//! box per digit, boxes to tick), the place, date and signature at the end.

use crate::DocumentError;
use crate::font::Style::{Bold, Regular};
use crate::forms::{BODY, SMALL, signatures, title};
use crate::layout::{Align, Layout};

/// Space between ruled lines, in points.
const LINE_STEP: f32 = 17.0;
/// Side of a box for one character.
const CELL: f32 = 14.0;
/// Indent of the writing space under a label.
const INDENT: f32 = 8.0;

/// What a field leaves room for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlankKind {
    /// One ruled line.
    Line,
    /// A frame about this many lines high (several lines of text).
    Lines(u8),
    /// One box per character (personal ID: 12, tax code: 13 with the branch).
    Cells(u8),
    /// "ngày … tháng … năm …".
    Date,
    /// One box to tick per choice.
    Choices(Vec<String>),
    /// One box to tick beside the label.
    Check,
    /// A table with these column headings and this many empty rows.
    Rows {
        /// Column headings.
        columns: Vec<String>,
        /// Empty rows printed.
        rows: u8,
    },
}

/// One field of a blank form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlankField {
    /// Label.
    pub label: String,
    /// Help text printed under the label.
    pub help: Option<String>,
    /// Must be filled in (marked with `*`).
    pub required: bool,
    /// Room to write.
    pub kind: BlankKind,
}

/// A section of a blank form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlankSection {
    /// Heading.
    pub title: String,
    /// Explanation under the heading.
    pub help: Option<String>,
    /// Fields in order.
    pub fields: Vec<BlankField>,
}

/// A blank declaration to print and fill in by hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlankForm {
    /// Title, e.g. "Tờ khai đăng ký khai sinh" (printed in capitals).
    pub title: String,
    /// The official template it follows, if any.
    pub template: Option<String>,
    /// The procedure, e.g. "Đăng ký khai sinh (1.001193)".
    pub procedure: String,
    /// Sections in order.
    pub sections: Vec<BlankSection>,
    /// Documents to attach, each with a box to tick.
    pub attachments: Vec<String>,
}

impl BlankForm {
    /// Renders the blank form as a PDF.
    pub fn render(&self) -> Result<Vec<u8>, DocumentError> {
        let mut l = Layout::new(&self.title);
        l.paragraph(
            &[(Bold, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")],
            SMALL + 0.5,
            Align::Center,
            0.0,
        );
        l.paragraph(
            &[(Bold, "Độc lập - Tự do - Hạnh phúc")],
            SMALL + 1.0,
            Align::Center,
            0.0,
        );
        l.gap(10.0);
        title(&mut l, &self.title.to_uppercase());
        if let Some(t) = self.template.as_deref().filter(|t| !t.trim().is_empty()) {
            l.paragraph(&[(Regular, t)], SMALL, Align::Center, 0.0);
        }
        l.paragraph(
            &[(Regular, "Thủ tục: "), (Bold, &self.procedure)],
            SMALL,
            Align::Center,
            0.0,
        );
        l.gap(6.0);
        l.paragraph(
            &[(Regular, "Các mục có dấu (*) là bắt buộc.")],
            SMALL,
            Align::Left,
            0.0,
        );
        for (i, s) in self.sections.iter().enumerate() {
            l.gap(6.0);
            let heading = format!("{}. {}", roman(i + 1), s.title);
            l.ensure(BODY * 4.0);
            l.paragraph(&[(Bold, &heading)], BODY + 0.5, Align::Left, 0.0);
            if let Some(h) = s.help.as_deref().filter(|h| !h.trim().is_empty()) {
                l.paragraph(&[(Regular, h)], SMALL, Align::Left, 0.0);
            }
            for f in &s.fields {
                field(&mut l, f);
            }
        }
        if !self.attachments.is_empty() {
            l.gap(6.0);
            l.paragraph(&[(Bold, "Giấy tờ kèm theo")], BODY + 0.5, Align::Left, 0.0);
            for a in &self.attachments {
                l.paragraph(&[(Regular, "☐ "), (Regular, a)], BODY, Align::Left, INDENT);
            }
        }
        l.gap(8.0);
        l.paragraph(
            &[(
                Regular,
                "Tôi cam đoan những nội dung khai trên đây là đúng sự thật.",
            )],
            BODY,
            Align::Left,
            0.0,
        );
        l.paragraph(
            &[(Regular, "……………, ngày …… tháng …… năm ………")],
            BODY,
            Align::Left,
            l.width() * 0.45,
        );
        signatures(&mut l, &[("NGƯỜI KHAI", "(Ký, ghi rõ họ tên)", "")]);
        l.finish()
    }
}

fn field(l: &mut Layout, f: &BlankField) {
    let mark = if f.required { " (*)" } else { "" };
    let label = format!("{}{mark}", f.label);
    l.gap(3.0);
    match &f.kind {
        BlankKind::Check => {
            l.ensure(BODY * 2.0);
            l.paragraph(&[(Regular, "☐ "), (Bold, &label)], BODY, Align::Left, 0.0);
            help(l, f);
        }
        BlankKind::Date => {
            l.ensure(BODY * 3.0);
            l.paragraph(
                &[(Bold, &label), (Regular, ": ngày …… tháng …… năm ………")],
                BODY,
                Align::Left,
                0.0,
            );
            help(l, f);
        }
        kind => {
            l.ensure(BODY * 3.0 + LINE_STEP);
            l.paragraph(&[(Bold, &label)], BODY, Align::Left, 0.0);
            help(l, f);
            match kind {
                BlankKind::Line => l.write_lines(1, INDENT, LINE_STEP),
                BlankKind::Lines(n) => {
                    l.frame(INDENT, LINE_STEP * (*n).clamp(1, 20) as f32);
                }
                BlankKind::Cells(n) => l.cells((*n).clamp(1, 40) as usize, INDENT, CELL),
                BlankKind::Choices(options) => {
                    for o in options {
                        l.paragraph(&[(Regular, "☐ "), (Regular, o)], BODY, Align::Left, INDENT);
                    }
                }
                BlankKind::Rows { columns, rows } => {
                    l.gap(2.0);
                    let n = columns.len().max(1);
                    let widths = vec![1.0 / n as f32; n];
                    let head: Vec<&str> = columns.iter().map(String::as_str).collect();
                    let empty = vec![vec![String::new(); n]; (*rows).clamp(1, 30) as usize];
                    l.table(&widths, &head, &empty, BODY);
                }
                BlankKind::Check | BlankKind::Date => {}
            }
        }
    }
}

fn help(l: &mut Layout, f: &BlankField) {
    if let Some(h) = f.help.as_deref().filter(|h| !h.trim().is_empty()) {
        l.paragraph(&[(Regular, h)], SMALL, Align::Left, INDENT);
    }
}

/// I, II, III, … for section headings (plain numbers past 39).
fn roman(n: usize) -> String {
    if n >= 40 {
        return n.to_string();
    }
    let tens = ["", "X", "XX", "XXX"][n / 10];
    let ones = ["", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"][n % 10];
    format!("{tens}{ones}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(pdf: &[u8]) -> String {
        let doc = lopdf::Document::load_mem(pdf).expect("a PDF lopdf reads");
        let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
        doc.extract_text(&pages)
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect()
    }

    fn squash(s: &str) -> String {
        s.chars().filter(|c| !c.is_whitespace()).collect()
    }

    fn form() -> BlankForm {
        let f = |label: &str, kind: BlankKind| BlankField {
            label: label.into(),
            help: Some(format!("Hướng dẫn: {label}")),
            required: true,
            kind,
        };
        BlankForm {
            title: "Tờ khai đăng ký khai sinh".into(),
            template: Some("Mẫu TP/HT-2020-KS.1".into()),
            procedure: "Đăng ký khai sinh (1.001193)".into(),
            sections: vec![BlankSection {
                title: "Người yêu cầu".into(),
                help: Some("Người đi đăng ký".into()),
                fields: vec![
                    f("Họ, chữ đệm, tên", BlankKind::Line),
                    f("Số định danh cá nhân", BlankKind::Cells(12)),
                    f("Ngày sinh", BlankKind::Date),
                    f(
                        "Giới tính",
                        BlankKind::Choices(vec!["Nam".into(), "Nữ".into()]),
                    ),
                    f("Nơi cư trú", BlankKind::Lines(3)),
                    f("Đồng ý nhận kết quả qua bưu điện", BlankKind::Check),
                    f(
                        "Thành viên gia đình",
                        BlankKind::Rows {
                            columns: vec!["Họ tên".into(), "Quan hệ".into()],
                            rows: 3,
                        },
                    ),
                ],
            }],
            attachments: vec!["Giấy chứng sinh".into()],
        }
    }

    #[test]
    fn a_blank_form_prints_every_label_and_help_with_diacritics() {
        let pdf = form().render().unwrap();
        let text = text_of(&pdf);
        for want in [
            "TỜKHAIĐĂNGKÝKHAISINH",
            "MẫuTP/HT-2020-KS.1",
            "Đăngkýkhaisinh(1.001193)",
            "I.Ngườiyêucầu",
            "Họ,chữđệm,tên(*)",
            "Hướngdẫn:Sốđịnhdanhcánhân",
            "ngày……tháng……năm",
            "☐Nữ",
            "Thànhviêngiađình",
            "Quanhệ",
            "☐Giấychứngsinh",
            "NGƯỜIKHAI",
        ] {
            assert!(text.contains(&squash(want)), "{want} missing in {text}");
        }
    }

    #[test]
    fn a_long_form_flows_onto_more_pages_and_stays_readable() {
        let mut f = form();
        let fields = f.sections[0].fields.clone();
        for i in 0..30 {
            f.sections.push(BlankSection {
                title: format!("Phần {i}"),
                help: None,
                fields: fields.clone(),
            });
        }
        let pdf = f.render().unwrap();
        let doc = lopdf::Document::load_mem(&pdf).unwrap();
        assert!(doc.get_pages().len() > 5);
        assert!(text_of(&pdf).contains("XXXI.Phần29"));
    }

    #[test]
    fn roman_numbers() {
        assert_eq!(roman(1), "I");
        assert_eq!(roman(4), "IV");
        assert_eq!(roman(14), "XIV");
        assert_eq!(roman(39), "XXXIX");
        assert_eq!(roman(40), "40");
    }
}
