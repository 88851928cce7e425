//! A small page layout over `pdf-writer`: paragraphs wrapped by glyph widths, side-by-side
//! blocks (the form header, the signatures), tables that repeat their header on each page,
//! rules and a QR code drawn as vector squares. Pages are A5 portrait; content that does not
//! fit goes on a new page. The PDF embeds subsets of the two fonts with a `ToUnicode` map, so
//! text can be searched and copied.

use crate::font::{Font, Style};
use crate::{DocumentError, clip};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use std::collections::BTreeMap;
use std::io::Write;
use unicode_normalization::UnicodeNormalization;

/// A5 portrait, in points.
pub(crate) const PAGE_W: f32 = 419.53;
/// A5 height.
pub(crate) const PAGE_H: f32 = 595.28;
const LEFT: f32 = 34.0;
const RIGHT: f32 = 28.0;
const TOP: f32 = 30.0;
const BOTTOM: f32 = 38.0;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.3;

/// Horizontal alignment of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Align {
    /// Flush left.
    Left,
    /// Centred.
    Center,
}

/// Text in one style.
pub(crate) type Span<'a> = (Style, &'a str);

/// A run of glyphs in one style.
#[derive(Clone, Debug)]
struct Piece {
    style: Style,
    glyphs: Vec<(u16, char)>,
    width: f32,
}

/// One wrapped line.
#[derive(Clone, Debug, Default)]
pub(crate) struct Line {
    pieces: Vec<Piece>,
    width: f32,
}

impl Line {
    fn push(&mut self, style: Style, glyphs: &[(u16, char)], width: f32) {
        match self.pieces.last_mut() {
            Some(p) if p.style == style => {
                p.glyphs.extend_from_slice(glyphs);
                p.width += width;
            }
            _ => self.pieces.push(Piece {
                style,
                glyphs: glyphs.to_vec(),
                width,
            }),
        }
        self.width += width;
    }
}

/// A block of wrapped text ready to place.
pub(crate) struct Block {
    lines: Vec<Line>,
    size: f32,
    align: Align,
}

impl Block {
    /// Height of the block.
    pub(crate) fn height(&self) -> f32 {
        self.lines.len() as f32 * self.size * LEADING
    }
}

/// Tokens of text before wrapping.
enum Token {
    Word(Style, Vec<(u16, char)>, f32),
    Space(Style, f32),
    Break,
}

fn tokens(spans: &[Span], size: f32) -> Vec<Token> {
    let mut out = Vec::new();
    for &(style, text) in spans {
        let font = Font::get(style);
        let mut word: Vec<(u16, char)> = Vec::new();
        let flush = |word: &mut Vec<(u16, char)>, out: &mut Vec<Token>| {
            if !word.is_empty() {
                let w = word.iter().map(|g| font.advance(g.0)).sum::<f32>() * size / 1000.0;
                out.push(Token::Word(style, std::mem::take(word), w));
            }
        };
        // Precomposed letters: decomposed Vietnamese (NFD) would stack marks without positioning.
        for c in clip(text).nfc() {
            match c {
                '\n' => {
                    flush(&mut word, &mut out);
                    out.push(Token::Break);
                }
                c if c.is_whitespace() || c.is_control() => {
                    flush(&mut word, &mut out);
                    let (g, _) = font.glyph(' ');
                    out.push(Token::Space(style, font.advance(g) * size / 1000.0));
                }
                c => word.push(font.glyph(c)),
            }
        }
        flush(&mut word, &mut out);
    }
    out
}

/// Whether a line may break before `c` inside a word (never before a combining mark).
fn breakable_before(c: char) -> bool {
    !('\u{300}'..='\u{36f}').contains(&c)
}

/// Wraps `spans` at `size` into lines at most `width` wide. Words longer than a line are cut.
pub(crate) fn wrap(spans: &[Span], size: f32, width: f32) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut line = Line::default();
    let mut space: Option<(Style, f32)> = None;
    for t in tokens(spans, size) {
        match t {
            Token::Break => {
                lines.push(std::mem::take(&mut line));
                space = None;
            }
            Token::Space(style, w) => {
                if !line.pieces.is_empty() && space.is_none() {
                    space = Some((style, w));
                }
            }
            Token::Word(style, glyphs, w) => {
                let sw = space.map(|s| s.1).unwrap_or(0.0);
                if !line.pieces.is_empty() && line.width + sw + w > width {
                    lines.push(std::mem::take(&mut line));
                    space = None;
                }
                if let Some((s_style, s_w)) = space.take()
                    && !line.pieces.is_empty()
                {
                    let font = Font::get(s_style);
                    line.push(s_style, &[font.glyph(' ')], s_w);
                }
                if w <= width - line.width {
                    line.push(style, &glyphs, w);
                    continue;
                }
                // A word wider than the line: cut it where it overflows.
                let font = Font::get(style);
                let mut chunk: Vec<(u16, char)> = Vec::new();
                let mut cw = 0.0;
                for g in glyphs {
                    let gw = font.advance(g.0) * size / 1000.0;
                    if !chunk.is_empty() && cw + gw > width - line.width && breakable_before(g.1) {
                        line.push(style, &chunk, cw);
                        lines.push(std::mem::take(&mut line));
                        chunk.clear();
                        cw = 0.0;
                    }
                    chunk.push(g);
                    cw += gw;
                }
                line.push(style, &chunk, cw);
            }
        }
    }
    if !line.pieces.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// What is drawn on a page.
enum Op {
    Text {
        style: Style,
        size: f32,
        x: f32,
        y: f32,
        glyphs: Vec<u16>,
    },
    Fill {
        rect: [f32; 4],
        gray: f32,
    },
    Line {
        from: (f32, f32),
        to: (f32, f32),
        width: f32,
    },
    Qr {
        x: f32,
        y: f32,
        size: f32,
    },
}

/// A document being laid out.
pub(crate) struct Layout {
    title: String,
    pages: Vec<Vec<Op>>,
    /// Top of the next thing placed on the current page.
    y: f32,
    /// Glyphs used, per style, with the character each stands for.
    used: [BTreeMap<u16, char>; 2],
    /// Dark modules of the QR code, row by row, if one is drawn.
    qr: Option<Vec<Vec<bool>>>,
    /// Page width and height, in points.
    page: (f32, f32),
}

impl Layout {
    /// An empty A5 portrait document with one page.
    pub(crate) fn new(title: &str) -> Layout {
        Layout::with_page(title, PAGE_W, PAGE_H)
    }

    /// An empty document with one page of `w` × `h` points (A4 landscape for wide tables).
    pub(crate) fn with_page(title: &str, w: f32, h: f32) -> Layout {
        Layout {
            title: title.to_string(),
            pages: vec![Vec::new()],
            y: h - TOP,
            used: [BTreeMap::new(), BTreeMap::new()],
            qr: None,
            page: (w, h),
        }
    }

    /// Width available for content.
    pub(crate) fn width(&self) -> f32 {
        self.page.0 - LEFT - RIGHT
    }

    /// Number of pages so far.
    #[cfg(test)]
    pub(crate) fn page_count(&self) -> usize {
        self.pages.len()
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = self.page.1 - TOP;
    }

    fn page_is_empty(&self) -> bool {
        self.pages.last().is_none_or(|p| p.is_empty())
    }

    /// Starts a new page unless `h` points still fit on this one (or it is empty).
    pub(crate) fn ensure(&mut self, h: f32) {
        if self.y - h < BOTTOM && !self.page_is_empty() {
            self.new_page();
        }
    }

    /// Vertical space; at a page end it is simply dropped.
    pub(crate) fn gap(&mut self, h: f32) {
        if self.y - h < BOTTOM {
            self.new_page();
        } else {
            self.y -= h;
        }
    }

    fn push(&mut self, op: Op) {
        if let Some(p) = self.pages.last_mut() {
            p.push(op);
        }
    }

    fn draw_line(&mut self, line: &Line, x: f32, width: f32, top: f32, size: f32, align: Align) {
        let ops = self.line_ops(line, x, width, top, size, align);
        if let Some(p) = self.pages.last_mut() {
            p.extend(ops);
        }
    }

    /// What drawing `line` takes; records the glyphs used.
    fn line_ops(
        &mut self,
        line: &Line,
        x: f32,
        width: f32,
        top: f32,
        size: f32,
        align: Align,
    ) -> Vec<Op> {
        let mut ops = Vec::new();
        let mut cx = match align {
            Align::Left => x,
            Align::Center => x + ((width - line.width) / 2.0).max(0.0),
        };
        // The baseline sits one ascent below the top of the line box.
        let baseline = top - size * (LEADING - 1.0) / 2.0 - size * 0.76;
        for p in &line.pieces {
            for &(g, c) in &p.glyphs {
                self.used[p.style.index()].entry(g).or_insert(c);
            }
            ops.push(Op::Text {
                style: p.style,
                size,
                x: cx,
                y: baseline,
                glyphs: p.glyphs.iter().map(|g| g.0).collect(),
            });
            cx += p.width;
        }
        ops
    }

    /// A block of text at `indent` from the left margin, `width` wide.
    pub(crate) fn block(&self, spans: &[Span], size: f32, width: f32, align: Align) -> Block {
        Block {
            lines: wrap(spans, size, width),
            size,
            align,
        }
    }

    /// A paragraph over the full width, `indent` points in; breaks across pages line by line.
    pub(crate) fn paragraph(&mut self, spans: &[Span], size: f32, align: Align, indent: f32) {
        let width = self.width() - indent;
        let lh = size * LEADING;
        for line in wrap(spans, size, width) {
            self.ensure(lh);
            let top = self.y;
            self.draw_line(&line, LEFT + indent, width, top, size, align);
            self.y -= lh;
        }
    }

    /// Blocks side by side: each column is (offset from the left margin, width, blocks stacked).
    /// Kept together on one page when they fit on one. Returns each column's height.
    pub(crate) fn columns(&mut self, cols: Vec<(f32, f32, Vec<Block>)>) -> Vec<f32> {
        let heights: Vec<f32> = cols
            .iter()
            .map(|(_, _, bs)| bs.iter().map(Block::height).sum::<f32>())
            .collect();
        let height = heights.iter().copied().fold(0.0, f32::max);
        self.ensure(height);
        let top = self.y;
        for (dx, width, blocks) in cols {
            let mut y = top;
            for b in blocks {
                let lh = b.size * LEADING;
                for line in &b.lines {
                    self.draw_line(line, LEFT + dx, width, y, b.size, b.align);
                    y -= lh;
                }
            }
        }
        self.y = (top - height).max(BOTTOM);
        heights
    }

    /// A horizontal rule `len` points long, centred in the column at `dx` of `width`, `up`
    /// points above the current position.
    pub(crate) fn rule(&mut self, dx: f32, width: f32, len: f32, up: f32) {
        let x = LEFT + dx + (width - len) / 2.0;
        let y = self.y + up + 0.5;
        self.push(Op::Line {
            from: (x, y),
            to: (x + len, y),
            width: 0.5,
        });
    }

    /// Ruled lines to write on by hand: `n` lines from `indent` to the right margin, each
    /// `step` points below the previous one (kept on one page when they fit on one).
    pub(crate) fn write_lines(&mut self, n: usize, indent: f32, step: f32) {
        for _ in 0..n {
            self.ensure(step);
            self.y -= step;
            let y = self.y + 2.0;
            self.push(Op::Line {
                from: (LEFT + indent, y),
                to: (LEFT + self.width(), y),
                width: 0.4,
            });
        }
    }

    /// An empty frame `h` points high from `indent` to the right margin, to write in.
    pub(crate) fn frame(&mut self, indent: f32, h: f32) {
        self.ensure(h + 4.0);
        self.y -= 2.0;
        let (x0, x1, top, bottom) = (LEFT + indent, LEFT + self.width(), self.y, self.y - h);
        self.outline(x0, x1, top, bottom);
        self.y = bottom - 2.0;
    }

    /// A row of `n` empty boxes `cell` points square (one character each, e.g. the 12 digits
    /// of a personal ID), from `indent`; wraps onto further rows when wider than the page.
    pub(crate) fn cells(&mut self, n: usize, indent: f32, cell: f32) {
        let per_row = (((self.width() - indent) / cell).floor() as usize).max(1);
        let mut left = n;
        while left > 0 {
            let k = left.min(per_row);
            self.ensure(cell + 4.0);
            self.y -= 2.0;
            let (top, bottom) = (self.y, self.y - cell);
            for i in 0..k {
                let x0 = LEFT + indent + i as f32 * cell;
                self.outline(x0, x0 + cell, top, bottom);
            }
            self.y = bottom - 2.0;
            left -= k;
        }
    }

    fn outline(&mut self, x0: f32, x1: f32, top: f32, bottom: f32) {
        for (from, to) in [
            ((x0, top), (x1, top)),
            ((x1, top), (x1, bottom)),
            ((x1, bottom), (x0, bottom)),
            ((x0, bottom), (x0, top)),
        ] {
            self.push(Op::Line {
                from,
                to,
                width: 0.5,
            });
        }
    }

    /// A table with a shaded header row (repeated on each page). `widths` are fractions of the
    /// content width. A cell longer than a page is cut with an ellipsis.
    pub(crate) fn table(
        &mut self,
        widths: &[f32],
        header: &[&str],
        rows: &[Vec<String>],
        size: f32,
    ) {
        let total = self.width();
        let cols: Vec<(f32, f32)> = widths
            .iter()
            .scan(0.0, |x, w| {
                let start = *x;
                *x += w * total;
                Some((start, w * total))
            })
            .collect();
        let pad = 2.5;
        let lh = size * LEADING;
        let lay = |cells: &[&str], style: Style| -> Vec<Vec<Line>> {
            cells
                .iter()
                .zip(&cols)
                .map(|(c, (_, w))| wrap(&[(style, c)], size, w - 2.0 * pad))
                .collect()
        };
        let head = lay(header, Style::Bold);
        let head_h = head.iter().map(Vec::len).max().unwrap_or(1) as f32 * lh + 2.0 * pad;
        let max_lines =
            (((self.page.1 - TOP - BOTTOM - head_h - 2.0 * pad) / lh).floor() as usize).max(1);
        let draw_head = |me: &mut Layout| {
            me.draw_row(&head, &cols, head_h, pad, size, Some(0.88));
        };
        self.ensure(head_h + lh + 2.0 * pad);
        draw_head(self);
        for row in rows {
            let cells: Vec<&str> = row.iter().map(String::as_str).collect();
            let mut laid = lay(&cells, Style::Regular);
            for lines in &mut laid {
                if lines.len() > max_lines {
                    lines.truncate(max_lines);
                    if let Some(last) = lines.last_mut() {
                        let f = Font::get(Style::Regular);
                        let g = f.glyph('…');
                        last.push(Style::Regular, &[g], f.advance(g.0) * size / 1000.0);
                    }
                }
            }
            let h = laid.iter().map(Vec::len).max().unwrap_or(1) as f32 * lh + 2.0 * pad;
            if self.y - h < BOTTOM {
                self.new_page();
                draw_head(self);
            }
            self.draw_row(&laid, &cols, h, pad, size, None);
        }
    }

    fn draw_row(
        &mut self,
        cells: &[Vec<Line>],
        cols: &[(f32, f32)],
        h: f32,
        pad: f32,
        size: f32,
        shade: Option<f32>,
    ) {
        let top = self.y;
        let right = LEFT + self.width();
        if let Some(gray) = shade {
            self.push(Op::Fill {
                rect: [LEFT, top - h, self.width(), h],
                gray,
            });
        }
        for (lines, (dx, w)) in cells.iter().zip(cols) {
            let mut y = top - pad;
            for line in lines {
                self.draw_line(line, LEFT + dx + pad, w - 2.0 * pad, y, size, Align::Left);
                y -= size * LEADING;
            }
        }
        for (from, to) in [
            ((LEFT, top), (right, top)),
            ((LEFT, top - h), (right, top - h)),
        ] {
            self.push(Op::Line {
                from,
                to,
                width: 0.5,
            });
        }
        for x in cols.iter().map(|c| LEFT + c.0).chain([right]) {
            self.push(Op::Line {
                from: (x, top),
                to: (x, top - h),
                width: 0.5,
            });
        }
        self.y = top - h;
    }

    /// A QR code `size` points wide at `dx` from the left margin, its top at the current
    /// position (which does not move). `modules` are the dark modules, row by row.
    pub(crate) fn qr(&mut self, modules: Vec<Vec<bool>>, dx: f32, size: f32) {
        self.push(Op::Qr {
            x: LEFT + dx,
            y: self.y - size,
            size,
        });
        self.qr = Some(modules);
    }

    /// Writes the PDF, with "Trang i/n" at the foot of every page when there are several.
    pub(crate) fn finish(mut self) -> Result<Vec<u8>, DocumentError> {
        let n = self.pages.len();
        if n > 1 {
            for i in 0..n {
                let text = format!("Trang {}/{}", i + 1, n);
                let line = wrap(&[(Style::Regular, &text)], 7.0, self.width())
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                let width = self.width();
                let ops = self.line_ops(&line, LEFT, width, BOTTOM - 10.0, 7.0, Align::Center);
                self.pages[i].extend(ops);
            }
        }
        write_pdf(&self)
    }
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, DocumentError> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).map_err(DocumentError::Pdf)?;
    e.finish().map_err(DocumentError::Pdf)
}

/// Six capital letters naming a font subset (required by PDF for subset fonts), from its glyphs.
fn subset_tag(glyphs: &[u16]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for g in glyphs {
        h = (h ^ *g as u64).wrapping_mul(0x0100_0000_01b3);
    }
    (0..6)
        .map(|i| (b'A' + ((h >> (i * 5)) % 26) as u8) as char)
        .collect()
}

fn font_name(style: Style) -> Name<'static> {
    match style {
        Style::Regular => Name(b"F0"),
        Style::Bold => Name(b"F1"),
    }
}

fn write_pdf(l: &Layout) -> Result<Vec<u8>, DocumentError> {
    let mut next = 1;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let catalog = alloc();
    let tree = alloc();
    let info = alloc();
    let qr_ref = l.qr.as_ref().map(|_| alloc());
    let pages: Vec<(Ref, Ref)> = l.pages.iter().map(|_| (alloc(), alloc())).collect();
    let fonts: Vec<(Style, [Ref; 5])> = Style::ALL
        .into_iter()
        .filter(|s| !l.used[s.index()].is_empty())
        .map(|s| (s, [alloc(), alloc(), alloc(), alloc(), alloc()]))
        .collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree).lang(TextStr("vi"));
    pdf.document_info(info)
        .title(TextStr(&l.title))
        .producer(TextStr("motcua"));
    pdf.pages(tree)
        .kids(pages.iter().map(|p| p.0))
        .count(pages.len() as i32);

    for ((page_ref, content_ref), ops) in pages.iter().zip(&l.pages) {
        let mut page = pdf.page(*page_ref);
        page.parent(tree)
            .media_box(Rect::new(0.0, 0.0, l.page.0, l.page.1))
            .contents(*content_ref);
        let mut res = page.resources();
        let mut f = res.fonts();
        for (style, refs) in &fonts {
            f.pair(font_name(*style), refs[0]);
        }
        f.finish();
        if let Some(q) = qr_ref {
            res.x_objects().pair(Name(b"QR"), q);
        }
        res.finish();
        page.finish();
        let body = deflate(&content(ops, l.qr.as_ref().map_or(0, Vec::len)).finish())?;
        pdf.stream(*content_ref, &body).filter(Filter::FlateDecode);
    }

    if let (Some(q), Some(modules)) = (qr_ref, &l.qr) {
        let n = modules.len() as f32;
        let mut c = Content::new();
        // One rectangle per horizontal run of dark modules; row 0 is the top.
        for (row, cells) in modules.iter().enumerate() {
            let y = n - 1.0 - row as f32;
            let mut x = 0;
            while x < cells.len() {
                if cells[x] {
                    let start = x;
                    while x < cells.len() && cells[x] {
                        x += 1;
                    }
                    c.rect(start as f32, y, (x - start) as f32, 1.0);
                } else {
                    x += 1;
                }
            }
        }
        c.fill_nonzero();
        let body = deflate(&c.finish())?;
        pdf.form_xobject(q, &body)
            .bbox(Rect::new(0.0, 0.0, n, n))
            .filter(Filter::FlateDecode);
    }

    for (style, [type0, cid, descriptor, file, cmap]) in &fonts {
        let font = Font::get(*style);
        let used = &l.used[style.index()];
        let mut glyphs: Vec<u16> = used.keys().copied().collect();
        if !glyphs.contains(&0) {
            glyphs.insert(0, 0);
        }
        let tag = subset_tag(&glyphs);
        let base = format!("{tag}+{}", font.name);
        let system = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        pdf.type0_font(*type0)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(*cid)
            .to_unicode(*cmap);
        let mut c = pdf.cid_font(*cid);
        c.subtype(CidFontType::Type2)
            .base_font(Name(base.as_bytes()))
            .system_info(system)
            .font_descriptor(*descriptor)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        let mut w = c.widths();
        for g in used.keys() {
            w.consecutive(*g, [font.advance(*g)]);
        }
        w.finish();
        c.finish();
        let b = font.bbox();
        pdf.font_descriptor(*descriptor)
            .name(Name(base.as_bytes()))
            .flags(FontFlags::SYMBOLIC)
            .bbox(Rect::new(b[0], b[1], b[2], b[3]))
            .italic_angle(0.0)
            .ascent(font.ascender())
            .descent(font.descender())
            .cap_height(font.cap_height())
            .stem_v(if *style == Style::Bold { 150.0 } else { 80.0 })
            .font_file2(*file);
        let sub = subsetter::subset(font.data, 0, subsetter::Profile::pdf(&glyphs))
            .map_err(|e| DocumentError::Font(format!("{e:?}")))?;
        let packed = deflate(&sub)?;
        pdf.stream(*file, &packed)
            .filter(Filter::FlateDecode)
            .pair(Name(b"Length1"), sub.len() as i32);
        let mut map = UnicodeCmap::new(Name(b"Custom"), system);
        for (g, ch) in used {
            map.pair(*g, *ch);
        }
        let packed = deflate(&map.finish())?;
        pdf.stream(*cmap, &packed).filter(Filter::FlateDecode);
    }
    Ok(pdf.finish())
}

fn content(ops: &[Op], qr_modules: usize) -> Content {
    let mut c = Content::new();
    for op in ops {
        match op {
            Op::Text {
                style,
                size,
                x,
                y,
                glyphs,
            } => {
                let bytes: Vec<u8> = glyphs.iter().flat_map(|g| g.to_be_bytes()).collect();
                c.begin_text()
                    .set_font(font_name(*style), *size)
                    .set_text_matrix([1.0, 0.0, 0.0, 1.0, *x, *y])
                    .show(Str(&bytes))
                    .end_text();
            }
            Op::Fill { rect, gray } => {
                c.set_fill_gray(*gray)
                    .rect(rect[0], rect[1], rect[2], rect[3])
                    .fill_nonzero()
                    .set_fill_gray(0.0);
            }
            Op::Line { from, to, width } => {
                c.set_line_width(*width)
                    .move_to(from.0, from.1)
                    .line_to(to.0, to.1)
                    .stroke();
            }
            Op::Qr { x, y, size } => {
                let s = size / qr_modules.max(1) as f32;
                c.save_state()
                    .transform([s, 0.0, 0.0, s, *x, *y])
                    .x_object(Name(b"QR"))
                    .restore_state();
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &Line) -> String {
        line.pieces
            .iter()
            .flat_map(|p| p.glyphs.iter().map(|g| g.1))
            .collect()
    }

    #[test]
    fn wrapping_keeps_lines_within_the_width_and_loses_no_word() {
        let s = "Cấp giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất lần đầu";
        let lines = wrap(&[(Style::Regular, s)], 10.0, 150.0);
        assert!(lines.len() > 2);
        for l in &lines {
            assert!(l.width <= 150.0 + 0.01, "{} is {}", text(l), l.width);
        }
        let joined: Vec<String> = lines.iter().map(text).collect();
        assert_eq!(joined.join(" "), s);
    }

    #[test]
    fn a_word_longer_than_the_line_is_cut_and_kept_whole() {
        let s = "x".repeat(500);
        let lines = wrap(&[(Style::Bold, &s)], 9.0, 100.0);
        assert!(lines.len() > 5);
        assert!(lines.iter().all(|l| l.width <= 100.01));
        assert_eq!(lines.iter().map(text).collect::<String>(), s);
    }

    #[test]
    fn decomposed_text_is_composed_and_newlines_break() {
        // "Nguyễn" written with combining marks.
        let nfd = "Nguye\u{302}\u{303}n\nVa\u{306}n";
        let lines = wrap(&[(Style::Regular, nfd)], 10.0, 300.0);
        assert_eq!(
            lines.iter().map(text).collect::<Vec<_>>(),
            ["Nguyễn", "Văn"]
        );
    }

    #[test]
    fn long_paragraphs_flow_onto_new_pages() {
        let mut l = Layout::new("t");
        let s = "Lời văn dài. ".repeat(300);
        for _ in 0..10 {
            l.paragraph(&[(Style::Regular, &s)], 10.0, Align::Left, 0.0);
        }
        assert!(l.page_count() > 3, "{} pages", l.page_count());
        let pdf = l.finish().unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
    }

    #[test]
    fn subset_tags_are_six_capitals_and_differ_by_glyphs() {
        let a = subset_tag(&[0, 1, 2]);
        assert_eq!(a.len(), 6);
        assert!(a.bytes().all(|b| b.is_ascii_uppercase()));
        assert_ne!(a, subset_tag(&[0, 1, 3]));
    }
}
