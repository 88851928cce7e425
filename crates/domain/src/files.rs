//! Uploaded files (tệp đính kèm): which files we accept, recognised from their bytes and never
//! from their name (PDF, JPEG and PNG only), their content address (`sha256:<hex>`), the name
//! shown to people, and how a file is linked to a dossier.
//!
//! The check is a hand-written reading of exactly three formats rather than a general "magic
//! number" library: we accept three types and must also refuse a truncated or corrupt file of
//! those types (a PDF without `%%EOF`, a PNG whose header checksum is wrong, a JPEG without its
//! frame or end marker), which signature tables do not check. A few common signatures of what we
//! refuse (executables, archives, HTML/SVG) are recognised only to say clearly why.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

/// A type of file we accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileType {
    /// PDF document.
    Pdf,
    /// JPEG image.
    Jpeg,
    /// PNG image.
    Png,
}

impl FileType {
    /// The media type served with the file.
    pub fn mime(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
        }
    }

    /// The type of a stored media type.
    pub fn from_mime(m: &str) -> Option<FileType> {
        [FileType::Pdf, FileType::Jpeg, FileType::Png]
            .into_iter()
            .find(|t| t.mime() == m)
    }

    /// File name extensions of the type, the usual one first.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            FileType::Pdf => &["pdf"],
            FileType::Jpeg => &["jpg", "jpeg"],
            FileType::Png => &["png"],
        }
    }
}

/// Why a file is refused. Each reason has a message for people in Vietnamese and in English.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Zero bytes.
    Empty,
    /// Larger than the limit of its slot.
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// A program or script (whatever its name says).
    Executable(&'static str),
    /// A compressed archive.
    Archive(&'static str),
    /// HTML, SVG, XML or another markup text, which a browser could run.
    Markup,
    /// It starts like one of our types but is damaged or truncated.
    Corrupt {
        /// The type it claims to be.
        claimed: FileType,
        /// What is wrong (English, for logs and the API's `extra`).
        what: &'static str,
    },
    /// Anything else (Word files, text, other image types, ...).
    Unsupported,
}

impl Refusal {
    /// Stable machine name.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Empty => "empty",
            Refusal::TooLarge { .. } => "too_large",
            Refusal::Executable(_) => "executable",
            Refusal::Archive(_) => "archive",
            Refusal::Markup => "markup",
            Refusal::Corrupt { .. } => "corrupt",
            Refusal::Unsupported => "unsupported",
        }
    }

    /// The message shown to people (Vietnamese).
    pub fn message_vi(&self) -> String {
        const ONLY: &str = "Chỉ nhận tệp PDF, JPEG hoặc PNG.";
        match self {
            Refusal::Empty => "Tệp rỗng (0 byte): hãy chọn lại tệp.".into(),
            Refusal::TooLarge { limit } => format!(
                "Tệp vượt quá dung lượng cho phép ({}): hãy nén hoặc chụp lại với độ phân giải thấp hơn.",
                human_size(*limit)
            ),
            Refusal::Executable(what) => format!(
                "Tệp là chương trình chạy được ({what}), không phải tài liệu, dù tên tệp ghi gì. {ONLY}"
            ),
            Refusal::Archive(what) => {
                format!("Tệp là tệp nén ({what}): hãy tải lên từng tài liệu. {ONLY}")
            }
            Refusal::Markup => format!("Tệp là trang web hoặc văn bản HTML/SVG/XML. {ONLY}"),
            Refusal::Corrupt { claimed, .. } => format!(
                "Tệp {} bị hỏng hoặc không đầy đủ: hãy lưu hoặc quét lại rồi tải lên lần nữa.",
                label(*claimed)
            ),
            Refusal::Unsupported => format!("Không nhận dạng được loại tệp. {ONLY}"),
        }
    }

    /// The message in English.
    pub fn message_en(&self) -> String {
        const ONLY: &str = "Only PDF, JPEG or PNG files are accepted.";
        match self {
            Refusal::Empty => "The file is empty (0 bytes).".into(),
            Refusal::TooLarge { limit } => {
                format!(
                    "The file is larger than the limit ({}).",
                    human_size(*limit)
                )
            }
            Refusal::Executable(what) => {
                format!("The file is a program ({what}), whatever its name says. {ONLY}")
            }
            Refusal::Archive(what) => format!("The file is an archive ({what}). {ONLY}"),
            Refusal::Markup => format!("The file is HTML, SVG or XML. {ONLY}"),
            Refusal::Corrupt { claimed, what } => {
                format!(
                    "The {} file is damaged or truncated: {what}.",
                    label(*claimed)
                )
            }
            Refusal::Unsupported => format!("Unrecognised file type. {ONLY}"),
        }
    }
}

fn label(t: FileType) -> &'static str {
    match t {
        FileType::Pdf => "PDF",
        FileType::Jpeg => "JPEG",
        FileType::Png => "PNG",
    }
}

/// `10 MiB`, `512 KiB`, `100 byte`.
pub fn human_size(n: u64) -> String {
    if n >= 1 << 20 && n & ((1 << 20) - 1) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    } else if n >= 1 << 10 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} byte")
    }
}

const PNG_SIG: &[u8] = b"\x89PNG\r\n\x1a\n";
const PNG_IEND: &[u8] = b"\x00\x00\x00\x00IEND\xae\x42\x60\x82";

/// Recognises the type of `b` from its bytes, checking its structure: accepts only a complete
/// PDF, JPEG or PNG.
pub fn sniff(b: &[u8]) -> Result<FileType, Refusal> {
    if b.is_empty() {
        return Err(Refusal::Empty);
    }
    if b.starts_with(b"%PDF-") {
        return check_pdf(b).map(|_| FileType::Pdf);
    }
    if b.starts_with(PNG_SIG) {
        return check_png(b).map(|_| FileType::Png);
    }
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return check_jpeg(b).map(|_| FileType::Jpeg);
    }
    Err(refused_kind(b))
}

/// Names what a refused file is, when it is something common.
fn refused_kind(b: &[u8]) -> Refusal {
    const EXECUTABLES: &[(&[u8], &str)] = &[
        (b"MZ", "Windows .exe/.dll"),
        (b"\x7fELF", "ELF"),
        (b"\xfe\xed\xfa\xce", "Mach-O"),
        (b"\xfe\xed\xfa\xcf", "Mach-O"),
        (b"\xce\xfa\xed\xfe", "Mach-O"),
        (b"\xcf\xfa\xed\xfe", "Mach-O"),
        (b"\xca\xfe\xba\xbe", "Mach-O/Java"),
        (b"\x00asm", "WebAssembly"),
        (b"#!", "script"),
    ];
    const ARCHIVES: &[(&[u8], &str)] = &[
        (b"PK\x03\x04", "ZIP"),
        (b"PK\x05\x06", "ZIP"),
        (b"PK\x07\x08", "ZIP"),
        (b"Rar!\x1a\x07", "RAR"),
        (b"7z\xbc\xaf\x27\x1c", "7z"),
        (b"\x1f\x8b", "gzip"),
        (b"BZh", "bzip2"),
        (b"\xfd7zXZ\x00", "xz"),
        (b"\x28\xb5\x2f\xfd", "zstd"),
        (b"MSCF", "CAB"),
    ];
    if let Some((_, what)) = EXECUTABLES.iter().find(|(sig, _)| b.starts_with(sig)) {
        return Refusal::Executable(what);
    }
    if let Some((_, what)) = ARCHIVES.iter().find(|(sig, _)| b.starts_with(sig)) {
        return Refusal::Archive(what);
    }
    if b.len() > 262 && &b[257..262] == b"ustar" {
        return Refusal::Archive("tar");
    }
    // Markup, possibly after a byte order mark and white space.
    let text = b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b);
    let start = text.iter().position(|c| !c.is_ascii_whitespace());
    if start.is_some_and(|i| text[i] == b'<') {
        return Refusal::Markup;
    }
    Refusal::Unsupported
}

fn corrupt(claimed: FileType, what: &'static str) -> Refusal {
    Refusal::Corrupt { claimed, what }
}

/// `%PDF-d.d` at the start and the end-of-file marker `%%EOF` within the last 1,024 bytes (the
/// tolerance PDF readers apply).
fn check_pdf(b: &[u8]) -> Result<(), Refusal> {
    let bad = |what| corrupt(FileType::Pdf, what);
    match b.get(5..8) {
        Some([major, b'.', minor]) if major.is_ascii_digit() && minor.is_ascii_digit() => {}
        _ => return Err(bad("no version after %PDF-")),
    }
    let tail = &b[b.len().saturating_sub(1024)..];
    if !tail.windows(5).any(|w| w == b"%%EOF") {
        return Err(bad("no %%EOF marker at the end (truncated?)"));
    }
    Ok(())
}

/// The signature, a well-formed IHDR chunk with a correct CRC as the first chunk, and the IEND
/// chunk at the end.
fn check_png(b: &[u8]) -> Result<(), Refusal> {
    let bad = |what| corrupt(FileType::Png, what);
    let ihdr = b.get(8..33).ok_or_else(|| bad("too short for a header"))?;
    if &ihdr[..8] != b"\x00\x00\x00\x0dIHDR" {
        return Err(bad("the first chunk is not IHDR"));
    }
    let be = |s: &[u8]| u32::from_be_bytes([s[0], s[1], s[2], s[3]]);
    let (width, height) = (be(&ihdr[8..12]), be(&ihdr[12..16]));
    if width == 0 || height == 0 || width > i32::MAX as u32 || height > i32::MAX as u32 {
        return Err(bad("invalid image size"));
    }
    let (depth, colour) = (ihdr[16], ihdr[17]);
    let depth_ok = match colour {
        0 => matches!(depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(depth, 8 | 16),
        _ => false,
    };
    if !depth_ok || ihdr[18] != 0 || ihdr[19] != 0 || ihdr[20] > 1 {
        return Err(bad("invalid header fields"));
    }
    if crc32(&ihdr[4..21]) != be(&ihdr[21..25]) {
        return Err(bad("header checksum mismatch"));
    }
    if !b.ends_with(PNG_IEND) || b.len() < 33 + PNG_IEND.len() {
        return Err(bad("no IEND chunk at the end (truncated?)"));
    }
    Ok(())
}

/// Start of image, a valid chain of marker segments up to the start of scan with a frame header
/// before it, and the end-of-image marker after it.
fn check_jpeg(b: &[u8]) -> Result<(), Refusal> {
    let bad = |what| corrupt(FileType::Jpeg, what);
    let mut i = 2;
    let mut frame = false;
    loop {
        // Markers may be preceded by fill bytes 0xFF.
        while b.get(i) == Some(&0xFF) && b.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        let (Some(&0xFF), Some(&m)) = (b.get(i), b.get(i + 1)) else {
            return Err(bad("broken marker chain"));
        };
        let len = match b.get(i + 2..i + 4) {
            Some(l) => u16::from_be_bytes([l[0], l[1]]) as usize,
            None => return Err(bad("truncated segment")),
        };
        if len < 2 || i + 2 + len > b.len() {
            return Err(bad("segment length out of bounds"));
        }
        match m {
            // Start of frame (baseline, progressive, ...): not DHT (C4), JPG (C8) or DAC (CC).
            0xC0..=0xCF if !matches!(m, 0xC4 | 0xC8 | 0xCC) => frame = true,
            0xDA => {
                if !frame {
                    return Err(bad("scan before the frame header"));
                }
                let scan = &b[i + 2 + len..];
                if scan.windows(2).any(|w| w == [0xFF, 0xD9]) {
                    return Ok(());
                }
                return Err(bad("no end-of-image marker (truncated?)"));
            }
            0xD8 | 0xD9 | 0x01 | 0xD0..=0xD7 | 0x00 => {
                return Err(bad("unexpected marker before the scan"));
            }
            _ => {}
        }
        i += 2 + len;
    }
}

/// CRC-32 (ISO-HDLC, as in PNG and zlib).
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &byte in data {
        c ^= byte as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// The content address of a file: its SHA-256, 64 lowercase hex digits. Written `sha256:<hex>`
/// in dossiers (`DocumentRef.file`) and the API; stored under `sha256/<2 hex>/<hex>`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FileKey(String);

impl FileKey {
    /// The key of `bytes`.
    pub fn of(bytes: &[u8]) -> FileKey {
        FileKey(hex::encode(Sha256::digest(bytes)))
    }

    /// From the finished hasher of the bytes.
    pub fn from_digest(d: &[u8]) -> FileKey {
        FileKey(hex::encode(d))
    }

    /// Parses `sha256:<hex>` (how documents refer to files).
    pub fn parse_ref(s: &str) -> Option<FileKey> {
        s.strip_prefix("sha256:").and_then(FileKey::parse_hex)
    }

    /// Parses `sha256:<hex>` or a bare `<hex>` (as in URL paths).
    pub fn parse_any(s: &str) -> Option<FileKey> {
        FileKey::parse_ref(s).or_else(|| FileKey::parse_hex(s))
    }

    /// Parses 64 hex digits (either case).
    pub fn parse_hex(s: &str) -> Option<FileKey> {
        (s.len() == 64 && s.bytes().all(|c| c.is_ascii_hexdigit()))
            .then(|| FileKey(s.to_ascii_lowercase()))
    }

    /// The 64 hex digits.
    pub fn hex(&self) -> &str {
        &self.0
    }

    /// `sha256:<hex>`.
    pub fn reference(&self) -> String {
        format!("sha256:{}", self.0)
    }

    /// Where the bytes are stored: `sha256/<first 2 hex>/<hex>`.
    pub fn object_path(&self) -> String {
        format!("sha256/{}/{}", &self.0[..2], self.0)
    }
}

impl std::fmt::Display for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sha256:{}", self.0)
    }
}

impl TryFrom<String> for FileKey {
    type Error = String;
    fn try_from(s: String) -> Result<FileKey, String> {
        FileKey::parse_any(&s).ok_or_else(|| format!("`{s}` is not a file key (sha256:<hex>)"))
    }
}

impl From<FileKey> for String {
    fn from(k: FileKey) -> String {
        k.reference()
    }
}

/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 120;

/// The name shown for an uploaded file: no folders, no control or direction-changing
/// characters, no characters that file systems forbid, at most [`MAX_NAME_CHARS`] characters,
/// and an extension matching its real type (added when the name says otherwise).
pub fn display_name(raw: &str, ty: FileType) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .nfc()
        .map(|c| match c {
            '<' | '>' | ':' | '"' | '|' | '?' | '*' => '_',
            c if c.is_whitespace() => ' ',
            c => c,
        })
        .filter(|c| !c.is_control() && !is_invisible(*c))
        .collect();
    let words: Vec<&str> = cleaned.split(' ').filter(|w| !w.is_empty()).collect();
    let joined = words.join(" ");
    let mut name = joined.trim_matches(['.', ' ']).to_string();
    let ext = ty.extensions()[0];
    let (stem, has_ext) = match name.rsplit_once('.') {
        Some((stem, e)) if ty.extensions().contains(&e.to_lowercase().as_str()) => {
            (stem.to_string(), Some(e.to_string()))
        }
        _ => (name.clone(), None),
    };
    let stem = if stem.trim().is_empty() {
        "tai-lieu".to_string()
    } else {
        stem
    };
    let ext = has_ext.unwrap_or_else(|| ext.to_string());
    let room = MAX_NAME_CHARS - ext.chars().count() - 1;
    name = stem
        .chars()
        .take(room)
        .collect::<String>()
        .trim_end()
        .to_string();
    format!("{name}.{ext}")
}

/// Characters that change how a name is displayed without showing (direction overrides that
/// make `gpj.exe` read `exe.jpg`, zero-width characters).
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// How a file is linked to a dossier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    /// A component of the dossier (thành phần hồ sơ), uploaded or scanned at reception.
    Component,
    /// A result document (kết quả giải quyết).
    Result,
    /// A supplement asked for (hồ sơ bổ sung).
    Supplement,
    /// A working file added by staff while processing (tài liệu kèm theo).
    Attachment,
    /// The e-receipt of a fee paid (biên lai điện tử), fetched from the payment platform.
    Receipt,
}

impl AttachmentKind {
    /// Stable machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            AttachmentKind::Component => "component",
            AttachmentKind::Result => "result",
            AttachmentKind::Supplement => "supplement",
            AttachmentKind::Attachment => "attachment",
            AttachmentKind::Receipt => "receipt",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<AttachmentKind> {
        [
            AttachmentKind::Component,
            AttachmentKind::Result,
            AttachmentKind::Supplement,
            AttachmentKind::Attachment,
            AttachmentKind::Receipt,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// Vietnamese label.
    pub fn label_vi(self) -> &'static str {
        match self {
            AttachmentKind::Component => "Thành phần hồ sơ",
            AttachmentKind::Result => "Kết quả giải quyết",
            AttachmentKind::Supplement => "Hồ sơ bổ sung",
            AttachmentKind::Attachment => "Tài liệu kèm theo",
            AttachmentKind::Receipt => "Biên lai thu phí, lệ phí",
        }
    }
}

/// What a file in a person's data store (kho dữ liệu) came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VaultKind {
    /// Uploaded by the person.
    Upload,
    /// A result of one of their dossiers.
    Result,
}

impl VaultKind {
    /// Stable machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            VaultKind::Upload => "upload",
            VaultKind::Result => "result",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<VaultKind> {
        match s {
            "upload" => Some(VaultKind::Upload),
            "result" => Some(VaultKind::Result),
            _ => None,
        }
    }
}

/// Tiny but complete files of each accepted type, built byte by byte: for tests and demos.
pub mod samples {
    use super::crc32;

    /// A one-page PDF with a correct cross-reference table.
    pub fn pdf() -> Vec<u8> {
        pdf_of(&[
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        ])
    }

    /// A PDF of `objects` (object 1 the catalog), numbered in order, with a correct
    /// cross-reference table.
    pub fn pdf_of<S: AsRef<str>>(objects: &[S]) -> Vec<u8> {
        let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offsets = Vec::new();
        for (i, o) in objects.iter().enumerate() {
            offsets.push(out.len());
            let o = o.as_ref();
            out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }

    /// A 1×1 grey PNG (zlib stream with one stored block).
    pub fn png() -> Vec<u8> {
        let mut out = super::PNG_SIG.to_vec();
        chunk(&mut out, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
        let raw = [0u8, 0x80]; // filter byte, one grey pixel
        let (mut a, mut b) = (1u32, 0u32);
        for &x in &raw {
            a = (a + x as u32) % 65521;
            b = (b + a) % 65521;
        }
        let mut z = vec![0x78, 0x01, 0x01, 0x02, 0x00, 0xfd, 0xff];
        z.extend_from_slice(&raw);
        z.extend_from_slice(&((b << 16) | a).to_be_bytes());
        chunk(&mut out, b"IDAT", &z);
        chunk(&mut out, b"IEND", &[]);
        out
    }

    /// A 1×1 grey baseline JPEG: quantisation table, frame, two one-code Huffman tables and a
    /// scan whose only block is "DC difference 0, end of block".
    pub fn jpeg() -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8];
        let mut seg = |m: u8, data: &[u8]| {
            out.extend_from_slice(&[0xFF, m]);
            out.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
            out.extend_from_slice(data);
        };
        seg(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let mut dqt = vec![0u8];
        dqt.extend_from_slice(&[1u8; 64]);
        seg(0xDB, &dqt);
        seg(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
        // DC table 0 and AC table 0: one code of length 1 each (value 0: DC size 0 / EOB).
        let mut dht = vec![0x00, 1];
        dht.extend_from_slice(&[0; 15]);
        dht.push(0);
        dht.push(0x10);
        dht.push(1);
        dht.extend_from_slice(&[0; 15]);
        dht.push(0);
        seg(0xC4, &dht);
        seg(0xDA, &[1, 1, 0x00, 0, 63, 0]);
        // Bits "0" (DC size 0) and "0" (EOB), padded with ones.
        out.extend_from_slice(&[0x3F, 0xFF, 0xD9]);
        out
    }
}

#[cfg(test)]
mod tests;
