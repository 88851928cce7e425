//! Large JSON documents stored compressed (decision 0051). A dossier's `submitted` event and
//! its folded state carry every document name and form field (4-5 KB of JSON, more than a
//! 4 KB page): stored as text, each spilled onto two or three overflow pages, and every
//! submission wrote those pages to the WAL, then to the database file at the checkpoint.
//! Compressed with LZ4 (about a third of the size) each fits in its leaf page. Outbox payloads
//! (the national portal's dossier message is about 900 bytes) are stored the same way, so
//! that more of them share a page.
//!
//! A stored value is either TEXT (the JSON as it is: small documents, and every row written
//! before this change) or a BLOB: one format byte ([`LZ4`]) then an LZ4 block with the text's
//! length in front. Readers take either, so no migration rewrites old rows. The hash chain is
//! over the canonical JSON, never over what is stored.

use rusqlite::ToSql;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};

/// The format byte of an LZ4 block (`lz4_flex::block`, length prepended).
const LZ4: u8 = 1;

/// Documents shorter than this stay text: they fit their page, and a small document gains
/// little from compression.
const MIN_LEN: usize = 512;

/// `text` compressed, when it is long and compression saves at least an eighth of it: the
/// BLOB to store instead of the text.
pub(crate) fn pack(text: &str) -> Option<Vec<u8>> {
    if text.len() < MIN_LEN {
        return None;
    }
    let block = lz4_flex::block::compress_prepend_size(text.as_bytes());
    if block.len() + 1 > text.len() - text.len() / 8 {
        return None;
    }
    let mut out = Vec::with_capacity(block.len() + 1);
    out.push(LZ4);
    out.extend_from_slice(&block);
    Some(out)
}

/// A document as it is written: its compressed form when [`pack`] gave one, else its text.
pub(crate) struct Stored<'a>(pub &'a str, pub Option<&'a [u8]>);

impl ToSql for Stored<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.1 {
            Some(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            None => ToSqlOutput::Borrowed(ValueRef::Text(self.0.as_bytes())),
        })
    }
}

/// A stored document read back as its text, whichever way it was stored.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Unpacked(pub String);

/// Why a stored value is not a document.
#[derive(Debug)]
pub(crate) struct Unreadable(String);

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreadable {}

/// The decompressed length and the LZ4 block of a stored BLOB, checked.
fn block_of(b: &[u8]) -> Result<(usize, &[u8]), Unreadable> {
    match b.split_first() {
        Some((&LZ4, block)) => {
            let (size, block) = match block.split_first_chunk::<4>() {
                Some((size, rest)) => (u32::from_le_bytes(*size) as usize, rest),
                None => {
                    return Err(Unreadable(
                        "a compressed document without its length".into(),
                    ));
                }
            };
            // LZ4 expands a byte into at most 255: a larger length is damage, not a document
            // (and must not become an allocation of gigabytes).
            if size > block.len().saturating_mul(255) + 16 {
                return Err(Unreadable(format!(
                    "a compressed document of {} bytes claims {size}",
                    block.len()
                )));
            }
            Ok((size, block))
        }
        Some((f, _)) => Err(Unreadable(format!(
            "a stored document of unknown format {f}"
        ))),
        None => Err(Unreadable("an empty stored document".into())),
    }
}

/// The text of a stored BLOB, decompressed into `buf` (its contents replaced) and checked.
fn decompressed<'a>(b: &[u8], buf: &'a mut Vec<u8>) -> Result<&'a str, Unreadable> {
    let (size, block) = block_of(b)?;
    buf.clear();
    buf.resize(size, 0);
    let n = lz4_flex::block::decompress_into(block, buf)
        .map_err(|e| Unreadable(format!("a compressed document does not decompress: {e}")))?;
    if n != size {
        return Err(Unreadable(format!(
            "a compressed document decompresses to {n} bytes, not {size}"
        )));
    }
    std::str::from_utf8(buf).map_err(|_| Unreadable("a compressed document is not UTF-8".into()))
}

/// The text of a stored BLOB.
fn unpack(b: &[u8]) -> Result<String, Unreadable> {
    decompressed(b, &mut Vec::new()).map(str::to_owned)
}

/// Appends the text of a stored document (`v`, TEXT or BLOB) to `out`, decompressing through
/// `scratch`: for readers of many rows, which then allocate nothing per row.
pub(crate) fn unpack_into(
    v: ValueRef<'_>,
    out: &mut String,
    scratch: &mut Vec<u8>,
) -> Result<(), Unreadable> {
    match v {
        ValueRef::Text(t) => {
            out.push_str(
                std::str::from_utf8(t).map_err(|_| Unreadable("a document is not UTF-8".into()))?,
            );
            Ok(())
        }
        ValueRef::Blob(b) => {
            out.push_str(decompressed(b, scratch)?);
            Ok(())
        }
        _ => Err(Unreadable(
            "a stored document that is neither text nor a BLOB".into(),
        )),
    }
}

impl FromSql for Unpacked {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        Raw::column_result(v)?
            .text()
            .map(Unpacked)
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// A stored document copied as it is stored, to be decoded later with [`Raw::text`]: for rows
/// read on the writer thread, whose decompression belongs on the caller's.
#[derive(Debug)]
pub(crate) enum Raw {
    /// Stored as TEXT.
    Text(String),
    /// Stored as a BLOB.
    Blob(Vec<u8>),
}

impl Raw {
    /// The document's text.
    pub(crate) fn text(self) -> Result<String, Unreadable> {
        match self {
            Raw::Text(t) => Ok(t),
            Raw::Blob(b) => unpack(&b),
        }
    }
}

impl FromSql for Raw {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        match v {
            ValueRef::Text(t) => std::str::from_utf8(t)
                .map(|s| Raw::Text(s.to_string()))
                .map_err(|e| FromSqlError::Other(Box::new(e))),
            ValueRef::Blob(b) => Ok(Raw::Blob(b.to_vec())),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rusqlite::Connection;

    fn round_trip(c: &Connection, text: &str) -> (String, String) {
        c.execute("DELETE FROM t", []).unwrap();
        let packed = pack(text);
        c.execute(
            "INSERT INTO t (v) VALUES (?1)",
            [Stored(text, packed.as_deref())],
        )
        .unwrap();
        c.query_row("SELECT typeof(v), v FROM t", [], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Unpacked>(1)?.0))
        })
        .unwrap()
    }

    fn table() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute("CREATE TABLE t (v TEXT NOT NULL)", []).unwrap();
        c
    }

    #[test]
    fn long_documents_are_stored_compressed_and_read_back_whole() {
        let c = table();
        let doc = format!(
            "{{\"documents\":[{}]}}",
            (0..40)
                .map(|i| format!("{{\"name\":\"Bản sao giấy tờ tùy thân số {i}\",\"file\":null}}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let (ty, back) = round_trip(&c, &doc);
        assert_eq!(ty, "blob");
        assert_eq!(back, doc);
        let stored: usize = c
            .query_row("SELECT length(v) FROM t", [], |r| r.get(0))
            .unwrap();
        assert!(stored * 3 < doc.len(), "{stored} of {}", doc.len());
    }

    #[test]
    fn short_or_incompressible_documents_stay_text() {
        let c = table();
        assert_eq!(
            round_trip(&c, "{\"a\":1}"),
            ("text".into(), "{\"a\":1}".into())
        );
        // 600 bytes that LZ4 cannot shrink by an eighth.
        let noise: String = (0..600u32)
            .map(|i| char::from(b'!' + ((i.wrapping_mul(2_654_435_761) >> 7) % 90) as u8))
            .collect();
        assert_eq!(round_trip(&c, &noise), ("text".into(), noise.clone()));
    }

    #[test]
    fn rows_stored_as_text_before_read_as_they_are() {
        let c = table();
        c.execute("INSERT INTO t (v) VALUES (?1)", ["{\"cũ\":true}"])
            .unwrap();
        let v: Unpacked = c.query_row("SELECT v FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(v.0, "{\"cũ\":true}");
    }

    #[test]
    fn damaged_blobs_are_errors_not_garbage() {
        let c = table();
        let good = pack(&"{\"tên\":\"Nguyễn Văn An\"},".repeat(40)).unwrap();
        let mut longer = good.clone();
        longer[1] += 1; // one byte more than the block holds
        for bad in [
            good[..good.len() - 5].to_vec(),
            longer,
            vec![],
            vec![LZ4, 1, 0],
            vec![9, 1, 2, 3],
            vec![LZ4, 0xff, 0xff, 0xff, 0x7f, 1],
            {
                // Valid LZ4 of bytes that are not UTF-8.
                let mut v = vec![LZ4];
                v.extend(lz4_flex::block::compress_prepend_size(&[
                    0xc3, 0x28, 0xa0, 0xa1,
                ]));
                v
            },
        ] {
            c.execute("DELETE FROM t", []).unwrap();
            c.execute("INSERT INTO t (v) VALUES (?1)", [bad.clone()])
                .unwrap();
            let got = c.query_row("SELECT v FROM t", [], |r| r.get::<_, Unpacked>(0));
            assert!(got.is_err(), "{bad:?} read as {got:?}");
            let mut out = String::new();
            let got = unpack_into(ValueRef::Blob(&bad), &mut out, &mut Vec::new());
            assert!(got.is_err(), "{bad:?} read as {out:?}");
        }
    }

    #[test]
    fn documents_appended_one_after_another_whichever_way_stored() {
        let long = "{\"tên\":\"Nguyễn Văn An\"},".repeat(40);
        let packed = pack(&long).unwrap();
        let (mut out, mut scratch) = (String::from("["), Vec::new());
        for v in [
            ValueRef::Text(b"1,"),
            ValueRef::Blob(&packed),
            ValueRef::Blob(&packed),
            ValueRef::Text("đ]".as_bytes()),
        ] {
            unpack_into(v, &mut out, &mut scratch).unwrap();
        }
        assert_eq!(out, format!("[1,{long}{long}đ]"));
        assert!(unpack_into(ValueRef::Text(&[0xc3, 0x28]), &mut out, &mut scratch).is_err());
        assert!(unpack_into(ValueRef::Integer(1), &mut out, &mut scratch).is_err());
    }

    proptest! {
        #[test]
        fn any_text_round_trips(text in "\\PC{0,3000}", repeat in 1usize..4) {
            let c = table();
            let text = text.repeat(repeat);
            prop_assert_eq!(round_trip(&c, &text).1, text);
        }
    }
}
