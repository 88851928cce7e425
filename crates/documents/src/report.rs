//! Statistical tables as PDF (issue 6's exports): a title, the lines that say what the table
//! covers (period, scope, when it was made and from what), then the table on A4 landscape.
//! A table with more columns than fit legibly on the page is printed in parts, each repeating
//! the key columns (the unit's code and name) so every part reads on its own; rows flow onto
//! new pages with the header repeated.

use crate::DocumentError;
use crate::font::Style;
use crate::layout::{Align, Layout};

/// A4 landscape width, in points.
const A4_W: f32 = 841.89;
/// A4 landscape height.
const A4_H: f32 = 595.28;
/// Most value columns printed side by side in one part.
pub const MAX_COLUMNS_PER_PART: usize = 12;

/// A table to print.
#[derive(Clone, Debug, Default)]
pub struct TableReport {
    /// Title, printed in capitals at the top.
    pub title: String,
    /// Lines under the title: period, scope, source, time of making.
    pub lines: Vec<String>,
    /// Column headings; the first `key_columns` are repeated in every part.
    pub headings: Vec<String>,
    /// The rows, each with as many cells as there are headings (missing cells print empty).
    pub rows: Vec<Vec<String>>,
    /// How many leading columns identify a row (1 or 2: a code and a name).
    pub key_columns: usize,
    /// A note printed after the table (definitions, where the figures come from).
    pub note: Option<String>,
}

impl TableReport {
    /// The value columns of each part, as index ranges into the headings.
    pub fn parts(&self) -> Vec<std::ops::Range<usize>> {
        let keys = self.key_columns.min(self.headings.len());
        let n = self.headings.len();
        if n == keys {
            return std::iter::once(keys..n).collect();
        }
        let count = (n - keys).div_ceil(MAX_COLUMNS_PER_PART);
        // Parts of even width: 30 value columns print as 10 + 10 + 10, not 12 + 12 + 6.
        let per = (n - keys).div_ceil(count);
        (0..count)
            .map(|i| keys + i * per..(keys + (i + 1) * per).min(n))
            .collect()
    }

    /// Renders the table as a PDF.
    pub fn render(&self) -> Result<Vec<u8>, DocumentError> {
        let mut l = Layout::with_page(&self.title, A4_W, A4_H);
        l.paragraph(
            &[(Style::Bold, &self.title.to_uppercase())],
            11.0,
            Align::Center,
            0.0,
        );
        l.gap(4.0);
        for line in &self.lines {
            l.paragraph(&[(Style::Regular, line)], 8.5, Align::Center, 0.0);
        }
        l.gap(8.0);
        let keys = self.key_columns.min(self.headings.len());
        let parts = self.parts();
        let many = parts.len() > 1;
        for (i, part) in parts.iter().enumerate() {
            if many {
                let label = format!(
                    "Phần {}/{} (cột {}–{})",
                    i + 1,
                    parts.len(),
                    part.start + 1,
                    part.end
                );
                l.ensure(40.0);
                l.paragraph(&[(Style::Bold, &label)], 8.5, Align::Left, 0.0);
                l.gap(2.0);
            }
            let cols: Vec<usize> = (0..keys).chain(part.clone()).collect();
            let widths = widths(keys, part.len());
            let header: Vec<&str> = cols.iter().map(|&c| self.headings[c].as_str()).collect();
            let rows: Vec<Vec<String>> = self
                .rows
                .iter()
                .map(|r| {
                    cols.iter()
                        .map(|&c| r.get(c).cloned().unwrap_or_default())
                        .collect()
                })
                .collect();
            l.table(&widths, &header, &rows, 7.0);
            l.gap(10.0);
        }
        if let Some(note) = &self.note {
            l.paragraph(&[(Style::Regular, note)], 7.5, Align::Left, 0.0);
        }
        l.finish()
    }
}

/// Column widths as fractions of the page: a code column, a wide name column, the values
/// sharing what is left.
fn widths(keys: usize, values: usize) -> Vec<f32> {
    let key_w: Vec<f32> = match keys {
        0 => vec![],
        1 => vec![0.22],
        _ => {
            let mut v = vec![0.09, 0.19];
            v.extend(std::iter::repeat_n(0.06, keys - 2));
            v
        }
    };
    let used: f32 = key_w.iter().sum();
    let each = if values == 0 {
        0.0
    } else {
        (1.0 - used).max(0.1) / values as f32
    };
    key_w
        .into_iter()
        .chain(std::iter::repeat_n(each, values))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pdf: &[u8]) -> (String, usize) {
        let doc = lopdf::Document::load_mem(pdf).expect("lopdf parses the PDF");
        let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
        (
            doc.extract_text(&pages).expect("text extracts"),
            pages.len(),
        )
    }

    fn squash(s: &str) -> String {
        s.chars().filter(|c| !c.is_whitespace()).collect()
    }

    fn report(columns: usize, rows: usize) -> TableReport {
        let mut headings = vec!["Mã đơn vị".to_string(), "Đơn vị".to_string()];
        headings.extend((1..=columns).map(|i| format!("Chỉ tiêu {i}")));
        TableReport {
            title: "Tình hình, kết quả giải quyết thủ tục hành chính".into(),
            lines: vec!["Kỳ báo cáo: 2026-11-01 đến 2026-11-30".into()],
            headings,
            rows: (0..rows)
                .map(|r| {
                    let mut v = vec![format!("H40.{r:05}"), format!("UBND xã Đạ Tẻh {r}")];
                    v.extend((1..=columns).map(|c| (r * 1000 + c).to_string()));
                    v
                })
                .collect(),
            key_columns: 2,
            note: Some("Số liệu tính từ nhật ký sự kiện của hồ sơ.".into()),
        }
    }

    #[test]
    fn wide_tables_are_split_into_even_parts_that_repeat_the_key_columns() {
        let r = report(30, 3);
        assert_eq!(r.parts(), vec![2..12, 12..22, 22..32]);
        assert_eq!(
            report(12, 1).parts(),
            std::iter::once(2..14).collect::<Vec<_>>()
        );
        assert_eq!(report(13, 1).parts(), vec![2..9, 9..15]);
        let pdf = r.render().unwrap();
        let (text, _) = read(&pdf);
        let t = squash(&text);
        for needle in [
            "TÌNHHÌNH,KẾTQUẢGIẢIQUYẾTTHỦTỤCHÀNHCHÍNH",
            "Kỳbáocáo:2026-11-01đến2026-11-30",
            "Phần1/3",
            "Phần3/3",
            "Chỉtiêu30",
            "2030",
            "Sốliệutínhtừnhậtkýsựkiệncủahồsơ.",
        ] {
            assert!(t.contains(needle), "`{needle}` not in {text}");
        }
        // Each part repeats the unit's name.
        assert_eq!(t.matches("UBNDxãĐạTẻh2").count(), 3, "{text}");
    }

    #[test]
    fn long_tables_flow_onto_landscape_pages_with_the_header_repeated() {
        let pdf = report(8, 120).render().unwrap();
        let (text, pages) = read(&pdf);
        assert!(pages >= 3, "{pages} pages");
        assert!(squash(&text).contains(&format!("Trang1/{pages}")));
        let doc = lopdf::Document::load_mem(&pdf).unwrap();
        for (n, id) in doc.get_pages() {
            let t = squash(&doc.extract_text(&[n]).unwrap());
            assert!(t.contains("Chỉtiêu8"), "page {n} repeats the header");
            let page = doc.get_dictionary(id).unwrap();
            let mb = page.get(b"MediaBox").unwrap().as_array().unwrap();
            let w = mb[2].as_float().unwrap();
            let h = mb[3].as_float().unwrap();
            assert!(w > h, "landscape: {w} × {h}");
        }
    }

    #[test]
    fn empty_and_ragged_tables_still_render() {
        let mut r = report(3, 0);
        r.rows.push(vec!["only a code".into()]);
        let (text, _) = read(&r.render().unwrap());
        assert!(squash(&text).contains("onlyacode"));
        let bare = TableReport {
            title: "x".into(),
            ..Default::default()
        };
        assert!(bare.render().unwrap().starts_with(b"%PDF-"));
    }
}
