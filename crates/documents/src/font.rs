//! The embedded fonts (DejaVu Sans regular and bold: full Vietnamese coverage) and glyph
//! metrics for measuring text. Text is mapped to glyphs one character at a time (no shaping):
//! Vietnamese needs none once normalized to precomposed characters (NFC).

use std::sync::OnceLock;

/// Regular weight, as shipped by DejaVu (see `fonts/LICENSE`).
const REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
/// Bold weight.
const BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// Which face a piece of text is set in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Style {
    /// DejaVu Sans.
    Regular,
    /// DejaVu Sans Bold.
    Bold,
}

impl Style {
    /// Both styles, in resource order (`F0`, `F1`).
    pub(crate) const ALL: [Style; 2] = [Style::Regular, Style::Bold];

    /// Index into per-style tables.
    pub(crate) fn index(self) -> usize {
        match self {
            Style::Regular => 0,
            Style::Bold => 1,
        }
    }
}

/// A parsed font with the metrics the layout needs.
pub(crate) struct Font {
    /// The whole font file.
    pub(crate) data: &'static [u8],
    /// PostScript name used in the PDF.
    pub(crate) name: &'static str,
    face: ttf_parser::Face<'static>,
    /// Glyph for characters the font lacks.
    fallback: u16,
}

impl Font {
    /// The font for `style` (parsed once).
    pub(crate) fn get(style: Style) -> &'static Font {
        static FONTS: OnceLock<[Font; 2]> = OnceLock::new();
        let fonts = FONTS.get_or_init(|| {
            [
                Font::parse(REGULAR, "DejaVuSans"),
                Font::parse(BOLD, "DejaVuSans-Bold"),
            ]
        });
        &fonts[style.index()]
    }

    fn parse(data: &'static [u8], name: &'static str) -> Font {
        // The files are part of this crate; a failure here is a packaging bug caught by every test.
        let face = ttf_parser::Face::parse(data, 0).expect("embedded font parses");
        let fallback = face.glyph_index('?').map(|g| g.0).unwrap_or(0);
        Font {
            data,
            name,
            face,
            fallback,
        }
    }

    /// The glyph shown for `c`: its own, or `?` when the font has none (emoji, rare scripts).
    pub(crate) fn glyph(&self, c: char) -> (u16, char) {
        match self.face.glyph_index(c) {
            Some(g) if g.0 != 0 => (g.0, c),
            _ => (self.fallback, '?'),
        }
    }

    /// Advance width of `glyph` in thousandths of the font size.
    pub(crate) fn advance(&self, glyph: u16) -> f32 {
        let units = self
            .face
            .glyph_hor_advance(ttf_parser::GlyphId(glyph))
            .unwrap_or(0) as f32;
        units * 1000.0 / self.units_per_em()
    }

    /// Units per em.
    pub(crate) fn units_per_em(&self) -> f32 {
        self.face.units_per_em() as f32
    }

    /// Scales font units to thousandths of the font size.
    pub(crate) fn scale(&self, v: i16) -> f32 {
        v as f32 * 1000.0 / self.units_per_em()
    }

    /// Bounding box of all glyphs, in thousandths of the font size.
    pub(crate) fn bbox(&self) -> [f32; 4] {
        let b = self.face.global_bounding_box();
        [
            self.scale(b.x_min),
            self.scale(b.y_min),
            self.scale(b.x_max),
            self.scale(b.y_max),
        ]
    }

    /// Ascender, in thousandths of the font size.
    pub(crate) fn ascender(&self) -> f32 {
        self.scale(self.face.ascender())
    }

    /// Descender (negative), in thousandths of the font size.
    pub(crate) fn descender(&self) -> f32 {
        self.scale(self.face.descender())
    }

    /// Capital height, in thousandths of the font size.
    pub(crate) fn cap_height(&self) -> f32 {
        self.face
            .capital_height()
            .map(|c| self.scale(c))
            .unwrap_or_else(|| self.ascender())
    }

    /// Width in points of `text` set at `size`, as the layout will set it.
    #[cfg(test)]
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.advance(self.glyph(c).0))
            .sum::<f32>()
            * size
            / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vietnamese_letter_has_a_glyph_in_both_weights() {
        let letters = "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợ\
                       pqrstuùúủũụưừứửữựvxyỳýỷỹỵ";
        for style in Style::ALL {
            let f = Font::get(style);
            for c in letters.chars().chain(letters.to_uppercase().chars()) {
                assert_eq!(f.glyph(c).1, c, "{style:?} lacks {c}");
                assert!(f.advance(f.glyph(c).0) > 0.0, "{style:?} {c} has no width");
            }
        }
    }

    #[test]
    fn missing_characters_fall_back_to_a_question_mark() {
        let f = Font::get(Style::Regular);
        assert_eq!(f.glyph('中').1, '?');
        assert_eq!(f.glyph('🦀').1, '?');
        assert_eq!(f.glyph('?').1, '?');
    }

    #[test]
    fn bold_is_wider_than_regular_and_widths_add_up() {
        let r = Font::get(Style::Regular);
        let b = Font::get(Style::Bold);
        let s = "Giấy tiếp nhận hồ sơ";
        assert!(b.width(s, 10.0) > r.width(s, 10.0));
        let sum: f32 = s.chars().map(|c| r.width(&c.to_string(), 10.0)).sum();
        assert!((sum - r.width(s, 10.0)).abs() < 0.01);
        assert!(r.width("W", 10.0) > r.width("i", 10.0));
    }
}
