//! Small pure parsers for the run-together text of the national portal's procedure pages.
//!
//! The scraper flattened HTML tables without cell separators, so a channel table reads
//! `Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến5 Ngày làm việcMiễn phíTrực tiếp...` and a
//! document table reads `Tên giấy tờMẫu đơn, tờ khaiSố lượng<name><form file>1 bản chính...`.
//! Everything here is a heuristic; each rule is written down in
//! `docs/decisions/0005-demo-seed.md` and `docs/catalogue.md`, and exercised below on real strings
//! from the data.

use motcua_domain::catalogue::{DocumentDetail, LegalDoc, ResultDoc};
use motcua_domain::procedure::{OnlineLevel, TimeLimit, TimeUnit};
use motcua_domain::text::fold;

/// A submission channel (hình thức nộp).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChannelKind {
    /// Trực tiếp: at the counter.
    Counter,
    /// Trực tuyến: online.
    Online,
    /// Dịch vụ bưu chính: by post.
    Post,
}

const CHANNELS: [(&str, ChannelKind); 3] = [
    ("Trực tiếp", ChannelKind::Counter),
    ("Trực tuyến", ChannelKind::Online),
    ("Dịch vụ bưu chính", ChannelKind::Post),
];

/// How a time limit was read; everything but `Exact` is an assumption we count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LimitNote {
    /// "N Ngày làm việc" / "N Giờ làm việc" / "N Giờ" (N ≤ 8): taken as written.
    Exact,
    /// "1.5 Ngày làm việc": fractional days, converted to working hours (8 per day).
    FractionalDays,
    /// "N Ngày": calendar days, converted down to ⌈5N/7⌉ working days.
    CalendarDays,
    /// "N Giờ" with N > 8: clock hours, converted to ⌈N/3⌉ working hours (8 of 24).
    ClockHours,
    /// "N" with the unit lost by the scraper: taken as working days.
    UnitMissing,
    /// "Trong ngày": 8 working hours.
    SameDay,
}

/// Why no time limit could be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NoLimit {
    /// No channel row in the text at all.
    NoChannel,
    /// The time cell says "Không có thông tin" / "Không quy định", or is empty.
    NotStated,
    /// A unit we do not convert (Tháng, Năm, ...).
    Unit,
    /// A limit of zero.
    Zero,
}

/// A fee as read from one channel row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fee {
    /// "Miễn phí".
    Free,
    /// An amount in đồng.
    Dong(i64),
    /// Not stated, foreign currency, or implausible (< 1.000 đồng: the scraper lost a unit).
    Unknown,
}

/// One row of the channel table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    /// Which channel.
    pub kind: ChannelKind,
    /// Its time limit, or why there is none.
    pub limit: Result<(TimeLimit, LimitNote), NoLimit>,
    /// Its fee.
    pub fee: Fee,
}

/// Splits `cach_thuc_thuc_hien` into channel rows. A channel name starts a row only when a time
/// or fee cell follows it, so "Trực tuyến: nộp hồ sơ..." inside a description does not.
pub fn channels(text: &str) -> Vec<Channel> {
    let mut starts: Vec<(usize, usize, ChannelKind)> = Vec::new();
    for (name, kind) in CHANNELS {
        for (at, _) in text.match_indices(name) {
            let after = &text[at + name.len()..];
            let cell = after.starts_with(|c: char| c.is_ascii_digit())
                || [
                    "Không có thông tin",
                    "Không quy định",
                    "Trong ngày",
                    "Miễn phí",
                ]
                .iter()
                .any(|p| after.starts_with(p));
            if cell {
                starts.push((at, at + name.len(), kind));
            }
        }
    }
    starts.sort();
    starts
        .iter()
        .enumerate()
        .map(|(i, &(_, body, kind))| {
            let end = starts.get(i + 1).map_or(text.len(), |s| s.0);
            let row = &text[body..end];
            let (limit, rest) = match time_cell(row) {
                Ok((limit, note, rest)) => (Ok((limit, note)), rest),
                Err((why, rest)) => (Err(why), rest),
            };
            Channel {
                kind,
                limit,
                fee: fee_cell(rest),
            }
        })
        .collect()
}

/// The limit and fee a dossier gets: the online channel's if it states a limit, else the
/// counter's, else the post's.
pub fn choose(channels: &[Channel]) -> Result<(TimeLimit, LimitNote, Fee), NoLimit> {
    if channels.is_empty() {
        return Err(NoLimit::NoChannel);
    }
    for kind in [ChannelKind::Online, ChannelKind::Counter, ChannelKind::Post] {
        if let Some((c, (limit, note))) = channels
            .iter()
            .filter(|c| c.kind == kind)
            .find_map(|c| c.limit.ok().map(|l| (c, l)))
        {
            return Ok((limit, note, c.fee));
        }
    }
    Err(channels
        .iter()
        .filter_map(|c| c.limit.err())
        .max()
        .unwrap_or(NoLimit::NotStated))
}

/// `Full` when an online channel row exists, else `None`. The portal lists "Trực tuyến" only for
/// procedures it offers online; it does not tell full from partial, so we never say `Partial`.
pub fn online_level(channels: &[Channel]) -> OnlineLevel {
    if channels.iter().any(|c| c.kind == ChannelKind::Online) {
        OnlineLevel::Full
    } else {
        OnlineLevel::None
    }
}

/// Reads a number at the start: digits with at most one `.` or `,` followed by digits.
/// Returns (integer part, fractional digits or "", rest).
fn number(s: &str) -> Option<(u64, &str, &str)> {
    let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
    if int_len == 0 || int_len > 9 {
        return None;
    }
    let int: u64 = s[..int_len].parse().ok()?;
    let rest = &s[int_len..];
    if let Some(tail) = rest.strip_prefix(['.', ',']) {
        let frac_len = tail.bytes().take_while(u8::is_ascii_digit).count();
        if frac_len > 0 {
            return Some((int, &tail[..frac_len], &tail[frac_len..]));
        }
    }
    Some((int, "", rest))
}

fn starts_with_currency(s: &str) -> bool {
    let s = s.trim_start();
    [
        "Việt Nam Đồng",
        "VNĐ",
        "VND",
        "Đồng",
        "đồng",
        "USD",
        "EUR",
        "vnđ",
    ]
    .iter()
    .any(|c| s.starts_with(c))
}

type TimeCell<'a> = Result<(TimeLimit, LimitNote, &'a str), (NoLimit, &'a str)>;

/// Reads the time cell at the start of a row; returns the rest of the row (the fee cell on).
pub fn time_cell(row: &str) -> TimeCell<'_> {
    for p in ["Không có thông tin", "Không quy định"] {
        if let Some(rest) = row.strip_prefix(p) {
            return Err((NoLimit::NotStated, rest));
        }
    }
    if let Some(rest) = row.strip_prefix("Trong ngày") {
        return Ok((hours(8), LimitNote::SameDay, rest));
    }
    let Some((int, frac, after)) = number(row) else {
        return Err((NoLimit::NotStated, row));
    };
    let spaced = after.trim_start();
    let value = |f: &str| -> f64 {
        format!("{int}.{}", if f.is_empty() { "0" } else { f })
            .parse()
            .unwrap_or(int as f64)
    };
    let n = value(frac);
    let (limit, note, rest) = if let Some(rest) = spaced.strip_prefix("Ngày làm việc") {
        if frac.is_empty() {
            (days(int), LimitNote::Exact, rest)
        } else {
            (
                hours((n * 8.0).ceil() as u64),
                LimitNote::FractionalDays,
                rest,
            )
        }
    } else if let Some(rest) = spaced.strip_prefix("Giờ làm việc") {
        (hours(n.ceil() as u64), LimitNote::Exact, rest)
    } else if let Some(rest) = spaced.strip_prefix("Ngày") {
        (
            days((n * 5.0 / 7.0).ceil() as u64),
            LimitNote::CalendarDays,
            rest,
        )
    } else if let Some(rest) = spaced.strip_prefix("Giờ") {
        let h = n.ceil() as u64;
        if h <= 8 {
            (hours(h), LimitNote::Exact, rest)
        } else {
            (hours(h.div_ceil(3)), LimitNote::ClockHours, rest)
        }
    } else if ["Tháng", "Năm", "Tuần", "Phút"]
        .iter()
        .any(|u| spaced.starts_with(u))
    {
        return Err((NoLimit::Unit, after));
    } else if starts_with_currency(after) || !frac.is_empty() {
        // "120 VNĐ", "550,000 Việt Nam Đồng": the time cell is empty and this is the fee.
        return Err((NoLimit::NotStated, row));
    } else {
        (days(int), LimitNote::UnitMissing, after)
    };
    if limit.amount == 0 {
        return Err((NoLimit::Zero, rest));
    }
    Ok((limit, note, rest))
}

fn days(n: u64) -> TimeLimit {
    TimeLimit {
        amount: n.min(u32::MAX as u64) as u32,
        unit: TimeUnit::WorkingDays,
    }
}

fn hours(n: u64) -> TimeLimit {
    TimeLimit {
        amount: n.min(u32::MAX as u64) as u32,
        unit: TimeUnit::WorkingHours,
    }
}

/// An amount written with `.`/`,` thousands separators ("2,000,000", "100.000", "125000").
fn amount(s: &str) -> Option<(i64, &str)> {
    let len = s
        .char_indices()
        .take_while(|&(i, c)| {
            c.is_ascii_digit()
                || ((c == '.' || c == ',')
                    && i > 0
                    && s[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
        })
        .map(|(i, c)| i + c.len_utf8())
        .last()?;
    let digits: String = s[..len].chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    Some((digits.parse().ok()?, &s[len..]))
}

fn dong(s: &str) -> bool {
    let s = s.trim_start();
    [
        "Việt Nam Đồng",
        "VNĐ",
        "VND",
        "Đồng",
        "đồng",
        "vnđ",
        "đ/",
        "đ ",
    ]
    .iter()
    .any(|c| s.starts_with(c))
}

/// Smallest believable fee: the data has "1 VNĐ" and "20 VNĐ(20.000 vnđ/tờ khai)".
const MIN_FEE: i64 = 1_000;

/// Reads the fee cell at the start of `rest`. When the cell says nothing usable, the first
/// "<amount> đồng" of at least 1.000 in the row's description is taken ("Lệ phí: 100.000 đồng").
pub fn fee_cell(rest: &str) -> Fee {
    if rest.starts_with("Miễn phí") {
        return Fee::Free;
    }
    if let Some((n, after)) = amount(rest)
        && dong(after)
        && n >= MIN_FEE
    {
        return Fee::Dong(n);
    }
    let mut from = 0;
    while let Some(off) = rest[from..].find(|c: char| c.is_ascii_digit()) {
        let at = from + off;
        let preceded_by_digit = rest[..at].ends_with(|c: char| c.is_ascii_digit());
        if let Some((n, after)) = amount(&rest[at..]) {
            if !preceded_by_digit && n >= MIN_FEE && dong(after) {
                return Fee::Dong(n);
            }
            from = rest.len() - after.len();
        } else {
            from = at + 1;
        }
    }
    Fee::Unknown
}

/// The fee of a dossier in đồng, and whether it was known.
pub fn fee_vnd(fee: Fee) -> (i64, bool) {
    match fee {
        Fee::Free => (0, true),
        Fee::Dong(n) => (n, true),
        Fee::Unknown => (0, false),
    }
}

/// Longest document name kept, in characters.
const NAME_MAX: usize = 300;
/// Most documents kept per procedure.
pub const DOCS_MAX: usize = 15;

/// Finds the quantity tokens "1 bản chính", "0 bản chính,1 bản sao", "2 bản sao":
/// (start, end, total count).
fn quantities(text: &str) -> Vec<(usize, usize, u64)> {
    let mut found: Vec<(usize, usize)> = text
        .match_indices(" bản chính")
        .chain(text.match_indices(" bản sao"))
        .map(|(i, m)| (i, i + m.len()))
        .collect();
    found.sort();
    let mut out: Vec<(usize, usize, u64)> = Vec::new();
    for (at, end) in found {
        if out.last().is_some_and(|l| at < l.1) {
            continue;
        }
        let digits = text[..at]
            .bytes()
            .rev()
            .take_while(u8::is_ascii_digit)
            .count();
        if digits == 0 || digits > 4 {
            continue;
        }
        let start = at - digits;
        let mut count: u64 = text[start..at].parse().unwrap_or(0);
        let mut end = end;
        // "0 bản chính,1 bản sao": one token.
        let tail = &text[end..];
        if let Some(t) = tail.strip_prefix(',') {
            let t = t.trim_start();
            let d = t.bytes().take_while(u8::is_ascii_digit).count();
            if d > 0 && t[d..].starts_with(" bản sao") {
                count += t[..d].parse::<u64>().unwrap_or(0);
                end = text.len() - t.len() + d + " bản sao".len();
            }
        }
        out.push((start, end, count));
    }
    out
}

/// Document names from `thanh_phan_ho_so`: the text between quantity tokens, with table headers,
/// group headings, bullets and attached form file names removed. Entries with a quantity of zero
/// are notes ("Các tài liệu nêu trên nếu bằng tiếng nước ngoài...0 bản chính") and are dropped.
pub fn documents(text: &str) -> Vec<String> {
    document_details(text).into_iter().map(|d| d.name).collect()
}

/// Documents with the form file names glued after each name and the quantity as written.
pub fn document_details(text: &str) -> Vec<DocumentDetail> {
    let mut out: Vec<DocumentDetail> = Vec::new();
    let mut prev = 0;
    for (start, end, count) in quantities(text) {
        let chunk = &text[prev..start];
        let quantity = text[start..end].trim().to_owned();
        prev = end;
        if count == 0 {
            continue;
        }
        let Some((name, forms)) = clean_name(chunk) else {
            continue;
        };
        if !out.iter().any(|d| d.name == name) {
            out.push(DocumentDetail {
                name,
                forms,
                quantity,
            });
        }
        if out.len() == DOCS_MAX {
            break;
        }
    }
    out
}

const HEADER: &str = "Mẫu đơn, tờ khaiSố lượng";
const FORM_EXTENSIONS: [&str; 5] = [".docx", ".doc", ".pdf", ".xlsx", ".xls"];
const FORM_PREFIXES: [&str; 9] = [
    "Mẫu",
    "MẪU",
    "mẫu",
    "Mau",
    "MAU",
    "mau",
    "Phụ lục",
    "Phu luc",
    "Biểu mẫu",
];

fn clean_name(chunk: &str) -> Option<(String, Vec<String>)> {
    let mut s = match chunk.rfind(HEADER) {
        Some(i) => &chunk[i + HEADER.len()..],
        None => chunk,
    };
    let mut forms = Vec::new();
    for _ in 0..5 {
        match strip_form_file(s) {
            Some(shorter) => {
                let file = s[shorter.len()..].trim_matches(|c: char| c.is_whitespace() || c == ';');
                let stem = file.rsplit_once('.').map_or("", |(stem, _)| stem);
                if stem.chars().any(char::is_alphanumeric) {
                    forms.push(motcua_domain::text::nfc(file));
                }
                s = shorter
            }
            None => break,
        }
    }
    forms.reverse();
    let s = strip_marker(s).trim_end_matches(|c: char| c.is_whitespace() || ";,:.".contains(c));
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().filter(|c| c.is_alphabetic()).count() < 3
        || NOTE_PREFIXES.iter().any(|p| s.starts_with(p))
    {
        return None;
    }
    Some((truncate(&motcua_domain::text::nfc(&s), NAME_MAX), forms))
}

/// Removes one trailing form file name ("...NĐ-CP;Mẫu số 01.docx"). The file name starts at the
/// last glued form prefix ("CPMẫu", ";Mau"), else after the last ';', else at the last glued word
/// ("sinh họcDu án.docx"); failing all, only the extension goes.
fn strip_form_file(s: &str) -> Option<&str> {
    let ext = FORM_EXTENSIONS.iter().find(|e| {
        s.len() >= e.len()
            && s.is_char_boundary(s.len() - e.len())
            && s[s.len() - e.len()..].eq_ignore_ascii_case(e)
    })?;
    let body = &s[..s.len() - ext.len()];
    let glued_prefix = FORM_PREFIXES
        .iter()
        .flat_map(|p| body.match_indices(p).map(|(i, _)| i))
        .filter(|&i| {
            i > 0
                && body[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| !c.is_whitespace() && !"(\"“'".contains(c))
        })
        .max();
    let cut = glued_prefix
        .or_else(|| body.rfind(';').map(|i| i + 1))
        .or_else(|| last_glue(body));
    Some(match cut {
        Some(i) if body[..i].chars().filter(|c| c.is_alphabetic()).count() >= 8 => {
            // "...TT-BCA).1.MuCT01...": a stray list number between the ')' and the file.
            let head = &body[..i];
            let bare = head.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
            if bare.ends_with(')') { bare } else { head }
        }
        _ => body,
    })
}

/// Where a form file name is glued to the text before it. Glue points are a lowercase letter,
/// ')' or '.' directly followed by an uppercase letter, a lowercase letter directly followed by a
/// digit ("mẫu1.004465"), or ')' directly followed by a letter or digit. Inside the last
/// space-free token the first glue point wins ("BCA).1.MuCT01...Thngts53"); otherwise the last
/// one before it ("sinh họcDu an thanh lap CSBT").
fn last_glue(s: &str) -> Option<usize> {
    let token_start = s
        .char_indices()
        .rfind(|(_, c)| c.is_whitespace())
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0);
    let mut glues = Vec::new();
    let mut prev: Option<char> = None;
    for (i, c) in s.char_indices() {
        if let Some(p) = prev {
            let glued = ((p.is_lowercase() || p == ')' || p == '.') && c.is_uppercase())
                || (p.is_lowercase() && c.is_ascii_digit())
                || (p == ')' && c.is_alphanumeric());
            if glued {
                glues.push(i);
            }
        }
        prev = Some(c);
    }
    glues
        .iter()
        .copied()
        .find(|&g| g > token_start)
        .or_else(|| glues.iter().copied().rev().find(|&g| g <= token_start))
}

/// Strips list markers: "- ", "+ ", "* ", "(5) ", "3. ", "a) ".
fn strip_marker(s: &str) -> &str {
    let mut s = s.trim_start_matches(|c: char| c.is_whitespace() || "-+*•–—".contains(c));
    let numbered = |t: &str| -> Option<usize> {
        let inner = t.strip_prefix('(').unwrap_or(t);
        let n = inner
            .chars()
            .take_while(|c| c.is_ascii_digit() || c.is_ascii_lowercase() || *c == 'đ')
            .map(char::len_utf8)
            .sum::<usize>();
        let after = &inner[n..];
        let close = after
            .strip_prefix(')')
            .or_else(|| after.strip_prefix('.'))?;
        (n > 0 && n <= 3 && close.starts_with(' ')).then(|| t.len() - close.len())
    };
    if let Some(cut) = numbered(s) {
        s = &s[cut..];
    }
    s.trim_start_matches(|c: char| c.is_whitespace() || "-+*•–—".contains(c))
}

/// Lines of the table that are notes, not documents.
const NOTE_PREFIXES: [&str; 2] = ["Số lượng hồ sơ", "Tên giấy tờ"];

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let cut: String = s.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => &cut[..i],
        _ => &cut[..],
    };
    format!(
        "{}…",
        cut.trim_end_matches(|c: char| c.is_whitespace() || ",;:".contains(c))
    )
}

/// The domain's channel for a parsed row.
pub fn domain_channel(kind: ChannelKind) -> motcua_domain::catalogue::Channel {
    use motcua_domain::catalogue::Channel;
    match kind {
        ChannelKind::Counter => Channel::Counter,
        ChannelKind::Online => Channel::Online,
        ChannelKind::Post => Channel::Post,
    }
}

/// Whether a cell says nothing ("", "Không có thông tin", "Không quy định").
pub fn blank(text: &str) -> bool {
    let f = fold(text);
    f.is_empty() || f == "khong co thong tin" || f == "khong quy dinh"
}

/// Where the portal's page furniture starts in `ket_qua_xu_ly`.
const RESULT_TAIL: &str = "Chọn cơ quan thực hiện";

/// Result documents from `ket_qua_xu_ly`: `<name>Mã: <code>Từ khóa<...>Mô tả<...>` repeated,
/// followed by the page's furniture. A name is what precedes "Mã: ", after the previous entry's
/// "Mô tả" cell when that cell says "Không có thông tin" (otherwise the description and the next
/// name cannot be told apart and the whole run is kept as the name).
pub fn results(text: &str) -> Vec<ResultDoc> {
    let text = text.split(RESULT_TAIL).next().unwrap_or("");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("Mã: ") {
        let name_part = &rest[..at];
        let after = &rest[at + "Mã: ".len()..];
        let code_len = after
            .find("Từ khóa")
            .or_else(|| after.find("Mô tả"))
            .unwrap_or(after.len());
        let code = after[..code_len].trim().to_owned();
        let name = name_part
            .rsplit("Mô tảKhông có thông tin")
            .next()
            .unwrap_or(name_part)
            .trim();
        if !name.is_empty() {
            out.push(ResultDoc {
                name: truncate(name, NAME_MAX),
                code,
            });
        }
        rest = &after[code_len..];
    }
    if out.is_empty() && !blank(text) {
        out.push(ResultDoc {
            name: truncate(text.trim(), NAME_MAX),
            code: String::new(),
        });
    }
    out
}

/// Where a legal document number starting at `i` may end (`123/2015/NĐ-CP`, `66.7/2025/NQ-CP`,
/// `60/2014/QH13`): every end within the longest match, longest first. The table glues the next
/// title to the number ("NĐ-CPLuật"), so the caller picks the end the next title starts at.
fn legal_number_ends(s: &str, i: usize) -> Vec<usize> {
    let t = &s[i..];
    let d = t.bytes().take_while(u8::is_ascii_digit).count();
    if d == 0 || d > 5 {
        return Vec::new();
    }
    let mut n = d;
    if t[n..].starts_with('.') {
        let f = t[n + 1..].bytes().take_while(u8::is_ascii_digit).count();
        if f == 0 {
            return Vec::new();
        }
        n += 1 + f;
    }
    let Some(t2) = t[n..].strip_prefix('/') else {
        return Vec::new();
    };
    if t2.bytes().take_while(u8::is_ascii_digit).count() != 4 {
        return Vec::new();
    }
    let Some(t3) = t2[4..].strip_prefix('/') else {
        return Vec::new();
    };
    let head = n + 1 + 4 + 1;
    let mut ends = Vec::new();
    for (j, c) in t3.char_indices() {
        let ok = c.is_ascii_uppercase() || c == 'Đ' || (j > 0 && (c.is_ascii_digit() || c == '-'));
        if !ok {
            break;
        }
        if c != '-' {
            ends.push(i + head + j + c.len_utf8());
        }
    }
    ends.reverse();
    ends
}

/// Whether a title starts at `s` (or nothing does): an uppercase letter then a lowercase one.
fn title_starts(s: &str) -> bool {
    let mut cs = s.chars();
    match (cs.next(), cs.next()) {
        (None, _) => true,
        (Some(a), Some(b)) => a.is_uppercase() && (b.is_lowercase() || b == ' '),
        (Some(_), None) => false,
    }
}

/// Legal basis from `can_cu_phap_ly`: a table `Tên văn bản pháp lýMã văn bản` whose rows are a
/// title glued to its number. A row ends at a number glued to the text before it and followed by
/// an uppercase letter (the next title) or the end.
pub fn legal_basis(text: &str) -> Vec<LegalDoc> {
    let text = match text.find("Mã văn bản") {
        Some(i) => &text[i + "Mã văn bản".len()..],
        None => text,
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < text.len() {
        if !text.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let glued = i > start
            && text[..i]
                .chars()
                .next_back()
                .is_some_and(|c| !c.is_whitespace() && !c.is_ascii_digit() && c != '/' && c != '.');
        if glued
            && let Some(end) = legal_number_ends(text, i)
                .into_iter()
                .find(|&e| title_starts(&text[e..]))
        {
            {
                let title = text[start..i].trim();
                out.push(LegalDoc {
                    title: truncate(title, NAME_MAX),
                    number: text[i..end].to_owned(),
                });
                start = end;
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Steps from `trinh_tu_thuc_hien`: one per non-empty line.
pub fn steps(text: &str) -> Vec<String> {
    if blank(text) {
        return Vec::new();
    }
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect()
}

/// Comma-separated items outside parentheses: "Tổ chức (không bao gồm doanh nghiệp, HTX), Công
/// dân Việt Nam" is two items.
pub fn list(text: &str) -> Vec<String> {
    if blank(text) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if (c == ',' || c == '\n') && depth <= 0 {
            let item = cur.trim();
            if !item.is_empty() && !out.iter().any(|o: &String| o == item) {
                out.push(item.to_owned());
            }
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    let item = cur.trim();
    if !item.is_empty() && !out.iter().any(|o: &String| o == item) {
        out.push(item.to_owned());
    }
    out
}
#[cfg(test)]
mod tests {
    use super::*;

    fn days(n: u32) -> TimeLimit {
        TimeLimit {
            amount: n,
            unit: TimeUnit::WorkingDays,
        }
    }
    fn hours(n: u32) -> TimeLimit {
        TimeLimit {
            amount: n,
            unit: TimeUnit::WorkingHours,
        }
    }

    // 1.011325 (Thú y, Cấp tỉnh), shortened.
    const THU_Y: &str = "Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến5 Ngày làm việc2,000,000 Việt Nam Đồng(Phí kiểm tra và cấp giấy chứng nhận đơn hàng nhập khẩu thuốc thú y: 2.000.000 đồng/01 đơn hàng)Dịch vụ bưu chính5 Ngày làm việc2,000,000 Việt Nam Đồng(Phí kiểm tra)Trực tiếp5 Ngày làm việc2,000,000 Việt Nam Đồng(Phí kiểm tra)";
    // 6.003636 (Nhà ở và công sở): calendar days.
    const NHA_O: &str = "Hình thức nộpThời gianPhí, lệ phíMô tảTrực tiếp15 NgàyMiễn phíTrực tuyến15 NgàyMiễn phíDịch vụ bưu chính15 NgàyMiễn phí";
    // 1.001193 (Đăng ký khai sinh): the unit was lost by the scraper.
    const KHAI_SINH: &str = "Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến1Miễn phíDịch vụ bưu chính1Miễn phíTrực tiếp1Miễn phí";
    // 1.010047: hours, fee not stated, channel names inside the descriptions.
    const GIO: &str = "Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến1 GiờKhông có thông tinĐăng ký qua Cổng dịch vụ công Bộ Công an trước khi đến nộp trực tiếp hồ sơ.Trực tiếp1 GiờKhông có thông tinTrực tiếp nộp hồ sơ.";
    // 1.000232: nothing stated (fails).
    const NONE: &str = "Hình thức nộpThời gianPhí, lệ phíMô tảTrực tiếpKhông có thông tinKhông có thông tinnộp hồ sơ trực tiếp tại trụ sở Cục Quản lý xuất nhập cảnh.Dịch vụ bưu chínhKhông có thông tinKhông có thông tinGửi hồ sơ và nhận kết quả qua đường bưu điện.Trực tuyếnKhông có thông tinKhông có thông tinTrực tuyến: nộp hồ sơ trực tuyến qua Cổng dịch vụ công quốc gia hoặc Cổng dịch vụ công Bộ Công an.";
    // 1.000014: time cell empty, "1" + "20 VNĐ" glued (fails: we cannot tell them apart).
    const GLUED_FEE: &str = "Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến120 VNĐ(20.000 vnđ /tờ khai)Trực tiếp120 VNĐ(20.000 vnđ /tờ khai)";
    // 1.001010: months (fails: unit not converted).
    const THANG: &str =
        "Hình thức nộpThời gianPhí, lệ phíMô tảTrực tiếp6 Tháng100 USD(100 USD/thẻ.)";
    // 1.013097: fractional working days.
    const FRACTION: &str = "Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến1.5 Ngày làm việc40,000 Việt Nam Đồng(- Xe ô tô trên 10 chỗ)";
    // 1.011442: fee cell not stated, the amount is in the description.
    const FEE_IN_TEXT: &str = "Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến3 Ngày làm việcKhông có thông tinLệ phí đăng ký: 80.000 đồng/hồ sơ.";

    #[test]
    fn reads_working_days_and_a_fee_in_dong() {
        let ch = channels(THU_Y);
        assert_eq!(ch.len(), 3);
        assert_eq!(ch[0].kind, ChannelKind::Online);
        assert_eq!(
            choose(&ch),
            Ok((days(5), LimitNote::Exact, Fee::Dong(2_000_000)))
        );
        assert_eq!(online_level(&ch), OnlineLevel::Full);
    }

    #[test]
    fn calendar_days_become_fewer_working_days() {
        let ch = channels(NHA_O);
        assert_eq!(
            choose(&ch),
            Ok((days(11), LimitNote::CalendarDays, Fee::Free))
        );
    }

    #[test]
    fn a_lost_unit_means_working_days() {
        assert_eq!(
            choose(&channels(KHAI_SINH)),
            Ok((days(1), LimitNote::UnitMissing, Fee::Free))
        );
    }

    #[test]
    fn hours_and_channel_names_in_descriptions() {
        let ch = channels(GIO);
        assert_eq!(ch.len(), 2, "{ch:?}");
        assert_eq!(choose(&ch), Ok((hours(1), LimitNote::Exact, Fee::Unknown)));
        let (t, note, _) = time_cell("24 GiờMiễn phí").unwrap();
        assert_eq!((t, note), (hours(8), LimitNote::ClockHours));
        let (t, note, _) = time_cell("Trong ngàyMiễn phí").unwrap();
        assert_eq!((t, note), (hours(8), LimitNote::SameDay));
        let (t, _, _) = time_cell("4 Giờ làm việcMiễn phí").unwrap();
        assert_eq!(t, hours(4));
    }

    #[test]
    fn fractional_days_become_hours() {
        assert_eq!(
            choose(&channels(FRACTION)),
            Ok((hours(12), LimitNote::FractionalDays, Fee::Dong(40_000)))
        );
    }

    #[test]
    fn unparseable_limits_say_why() {
        let ch = channels(NONE);
        assert_eq!(ch.len(), 3);
        assert_eq!(choose(&ch), Err(NoLimit::NotStated));
        assert_eq!(online_level(&ch), OnlineLevel::Full);
        assert_eq!(choose(&channels(GLUED_FEE)), Err(NoLimit::NotStated));
        assert_eq!(choose(&channels(THANG)), Err(NoLimit::Unit));
        assert_eq!(
            choose(&channels("Không có thông tin")),
            Err(NoLimit::NoChannel)
        );
        assert_eq!(
            time_cell("0 Ngày làm việcMiễn phí").map_err(|e| e.0).err(),
            Some(NoLimit::Zero)
        );
        let counter_only = channels(THANG);
        assert_eq!(online_level(&counter_only), OnlineLevel::None);
    }

    #[test]
    fn fees() {
        assert_eq!(
            fee_cell("Miễn phí(Mức lệ phí cụ thể do HĐND quyết định)"),
            Fee::Free
        );
        assert_eq!(fee_cell("125000 VNĐ"), Fee::Dong(125_000));
        assert_eq!(
            fee_cell("800,000 Việt Nam Đồng(áp dụng)"),
            Fee::Dong(800_000)
        );
        assert_eq!(fee_cell("100 USD(100 USD/thẻ.)"), Fee::Unknown);
        // "1 VNĐ" is a lost unit; the description has no amount either.
        assert_eq!(
            fee_cell("1 VNĐ(Tổ chức hành nghề luật sư thực hiện)"),
            Fee::Unknown
        );
        // "20 VNĐ(20.000 vnđ /tờ khai)": the description has the real amount.
        assert_eq!(fee_cell("20 VNĐ(20.000 vnđ /tờ khai)"), Fee::Dong(20_000));
        assert_eq!(
            choose(&channels(FEE_IN_TEXT)).map(|c| c.2),
            Ok(Fee::Dong(80_000))
        );
        assert_eq!(fee_vnd(Fee::Unknown), (0, false));
        assert_eq!(fee_vnd(Fee::Free), (0, true));
    }

    #[test]
    fn documents_from_a_simple_table() {
        // 6.003636.
        let t = "--Tên giấy tờMẫu đơn, tờ khaiSố lượngTờ trình đề nghị chấp thuận nhà đầu tư theo Mẫu số 05 quy định tại Phụ lục ban hành kèm theo Nghị định số 98/2024/NĐ-CP1 bản chínhHồ sơ mời quan tâm, kết quả phê duyệt hồ sơ mời quan tâm1 bản chínhCác tài liệu liên quan khác trong quá trình tổ chức, đánh giá hồ sơ mời quan tâm1 bản chính";
        assert_eq!(
            documents(t),
            vec![
                "Tờ trình đề nghị chấp thuận nhà đầu tư theo Mẫu số 05 quy định tại Phụ lục ban hành kèm theo Nghị định số 98/2024/NĐ-CP",
                "Hồ sơ mời quan tâm, kết quả phê duyệt hồ sơ mời quan tâm",
                "Các tài liệu liên quan khác trong quá trình tổ chức, đánh giá hồ sơ mời quan tâm",
            ]
        );
    }

    #[test]
    fn documents_drop_notes_form_files_and_headings() {
        // 1.011325, shortened.
        let t = "(1) Thành phần hồ sơ cấp Giấy phép nhập khẩu:Tên giấy tờMẫu đơn, tờ khaiSố lượngCác tài liệu nêu trên nếu bằng tiếng nước ngoài thì phải kèm theo bản dịch tiếng Việt.0 bản chính- Bản sao hợp đồng, đơn hàng liên quan kèm theo bản chính đối chiếu (khi có yêu cầu);0 bản chính,1 bản sao- Đơn đề nghị cấp giấy phép nhập khẩu theo Mẫu số 01 tại Phụ lục ban hành kèm theo Nghị định số 105/2021/NĐ-CP;Mẫu số 01.docx1 bản chínhHồ sơ gia hạnTên giấy tờMẫu đơn, tờ khaiSố lượngDự án thành lập Cơ sở bảo tồn đa dạng sinh họcDu an thanh lap CSBT.docx1 bản chính";
        assert_eq!(
            documents(t),
            vec![
                "Bản sao hợp đồng, đơn hàng liên quan kèm theo bản chính đối chiếu (khi có yêu cầu)",
                "Đơn đề nghị cấp giấy phép nhập khẩu theo Mẫu số 01 tại Phụ lục ban hành kèm theo Nghị định số 105/2021/NĐ-CP",
                "Dự án thành lập Cơ sở bảo tồn đa dạng sinh học",
            ]
        );
        // Several files glued after the name.
        let t = "Danh sách hành khách theo mẫu;MauDanhsachhanhkhach.docxMauBankhaichung.docx1 bản chính";
        assert_eq!(documents(t), vec!["Danh sách hành khách theo mẫu"]);
        // 1.004194-style: a file name without diacritics glued after a ')'; list numbering.
        let t = "- Tờ khai thay đổi thông tin cư trú (Mẫu CT01 ban hành kèm theo Thông tư số 53/2025/TT-BCA).1.MuCT01banhnhkmtheoThngts53.doc1 bản chính(5) Bản vẽ tách thửa đất theo mẫu1.004465.docx1 bản saoSố lượng hồ sơ: 01(bộ)1 bản chính";
        assert_eq!(
            documents(t),
            vec![
                "Tờ khai thay đổi thông tin cư trú (Mẫu CT01 ban hành kèm theo Thông tư số 53/2025/TT-BCA)",
                "Bản vẽ tách thửa đất theo mẫu",
            ]
        );
        assert!(documents("Không có thông tin").is_empty());
    }

    #[test]
    fn documents_are_capped_and_truncated() {
        let many: String = (b'A'..=b'Z')
            .map(|c| format!("Giấy tờ loại {}1 bản chính", char::from(c)))
            .collect();
        let docs = documents(&many);
        assert_eq!(docs.len(), DOCS_MAX);
        let long = format!("{}1 bản chính", "Văn bản đề nghị ".repeat(40));
        let doc = &documents(&long)[0];
        assert!(
            doc.chars().count() <= NAME_MAX + 1 && doc.ends_with('…'),
            "{doc}"
        );
    }

    #[test]
    fn documents_keep_their_form_files() {
        let t = "Tên giấy tờMẫu đơn, tờ khaiSố lượng- Đơn đề nghị cấp giấy phép nhập khẩu theo Mẫu số 01 tại Phụ lục ban hành kèm theo Nghị định số 105/2021/NĐ-CP;Mẫu số 01.docx1 bản chínhDanh sách hành khách theo mẫu;MauDanhsachhanhkhach.docxMauBankhaichung.docx0 bản chính,1 bản sao";
        let d = document_details(t);
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0].forms, ["Mẫu số 01.docx"]);
        assert_eq!(d[0].quantity, "1 bản chính");
        assert_eq!(d[1].name, "Danh sách hành khách theo mẫu");
        assert_eq!(
            d[1].forms,
            ["MauDanhsachhanhkhach.docx", "MauBankhaichung.docx"]
        );
        assert_eq!(d[1].quantity, "0 bản chính,1 bản sao");
    }

    #[test]
    fn results_drop_the_page_furniture() {
        let t = "Giấy khai sinhMã: KQ.G15.000031Từ khóaKhông có thông tinMô tảKhông có thông tinChọn cơ quan thực hiệnTỉnh/ Thành phốBộ ngành-- Chọn Tỉnh/ Thành phố --";
        assert_eq!(
            results(t),
            [ResultDoc {
                name: "Giấy khai sinh".into(),
                code: "KQ.G15.000031".into()
            }]
        );
        let two = "Giấy phépMã: KQ.G10.1Từ khóaKhông có thông tinMô tảKhông có thông tinVăn bản từ chốiMã: KQ.G10.2Từ khóaKhông có thông tinMô tảKhông có thông tin";
        let r = results(two);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].name, "Văn bản từ chối");
        assert!(results("Không có thông tin").is_empty());
        assert_eq!(
            results("Quyết định cho phép")[0].name,
            "Quyết định cho phép"
        );
    }

    #[test]
    fn legal_basis_splits_titles_from_numbers() {
        let t = "Tên văn bản pháp lýMã văn bảnThông tư số 101/2020/TT-BTC ngày 23/11/2020 của Bộ trưởng Bộ Tài chính quy định về phí trong công tác thú y101/2020/TT-BTCNghị định 105/2021/NĐ-CP105/2021/NĐ-CPLuật Hộ tịch60/2014/QH13Nghị quyết số 66.7/2025/NQ-CP của Chính phủ66.7/2025/NQ-CP";
        let l = legal_basis(t);
        let numbers: Vec<&str> = l.iter().map(|d| d.number.as_str()).collect();
        assert_eq!(
            numbers,
            [
                "101/2020/TT-BTC",
                "105/2021/NĐ-CP",
                "60/2014/QH13",
                "66.7/2025/NQ-CP"
            ]
        );
        assert_eq!(l[1].title, "Nghị định 105/2021/NĐ-CP");
        assert_eq!(l[2].title, "Luật Hộ tịch");
        assert!(legal_basis("Không có thông tin").is_empty());
    }

    #[test]
    fn steps_and_lists() {
        assert_eq!(
            steps("Bước 1: nộp.\n\n  Bước 2:   nhận.  \n"),
            ["Bước 1: nộp.", "Bước 2: nhận."]
        );
        assert!(steps("Không có thông tin").is_empty());
        assert_eq!(
            list("Tổ chức (không bao gồm doanh nghiệp, HTX), Công dân Việt Nam, Công dân Việt Nam"),
            [
                "Tổ chức (không bao gồm doanh nghiệp, HTX)",
                "Công dân Việt Nam"
            ]
        );
        assert_eq!(
            list("Chủ tịch UBND cấp tỉnh\nSở Tư Pháp"),
            ["Chủ tịch UBND cấp tỉnh", "Sở Tư Pháp"]
        );
        assert!(list("").is_empty());
    }
}
