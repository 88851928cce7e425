//! Procedure snapshots stored once. Every dossier copies its procedure version and resolved
//! workflow (~1 KB of JSON) into its `Submitted` event and into its folded state; thousands of
//! dossiers share the same few snapshots. A backend may store a document *compacted*: the
//! snapshot's JSON cut out of it, the cut position kept, and the snapshot kept once in a table.
//! Reading joins the pieces back into the canonical JSON, byte for byte, so the hash chain (over
//! the canonical JSON) and every consumer are unchanged.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The key the snapshot sits under, in events (`body.procedure`) and states (`procedure`).
const KEY: &str = "\"procedure\":";

/// A JSON document with the procedure snapshot cut out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Compact {
    /// The document without the snapshot's JSON.
    pub text: String,
    /// Byte offset in `text` where the snapshot's JSON goes back, if it was cut out.
    pub at: Option<usize>,
}

/// Cuts `snapshot` (its exact JSON) out of `json` where it stands as the value of the first
/// `"procedure":` key. Strings in JSON escape their quotes, so that key can only be structural;
/// the documents we compact put it before any user-supplied data. When the snapshot is not there
/// the document is kept whole.
pub(crate) fn compact(json: &str, snapshot: &str) -> Compact {
    if let Some(k) = json.find(KEY) {
        let at = k + KEY.len();
        if json[at..].starts_with(snapshot) {
            let mut text = String::with_capacity(json.len() - snapshot.len());
            text.push_str(&json[..at]);
            text.push_str(&json[at + snapshot.len()..]);
            return Compact { text, at: Some(at) };
        }
    }
    Compact {
        text: json.to_string(),
        at: None,
    }
}

/// Puts the snapshot back: the inverse of [`compact`]. `None` if `at` is not a position in
/// `text` (corrupt data).
pub(crate) fn expand(text: &str, at: usize, snapshot: &str) -> Option<String> {
    if at > text.len() || !text.is_char_boundary(at) {
        return None;
    }
    let mut json = String::with_capacity(text.len() + snapshot.len());
    json.push_str(&text[..at]);
    json.push_str(snapshot);
    json.push_str(&text[at..]);
    Some(json)
}

/// SHA-256 of a snapshot's JSON, the key that makes each snapshot stored once.
pub(crate) fn digest(snapshot: &str) -> Vec<u8> {
    Sha256::digest(snapshot.as_bytes()).to_vec()
}

/// Snapshots already read, by id. Only committed rows may be cached: ids of committed rows never
/// change meaning (rows are never deleted or updated).
#[derive(Default)]
pub(crate) struct SnapshotCache {
    by_id: RwLock<HashMap<i64, Arc<str>>>,
}

/// Past this many entries the cache starts again (a province has a few thousand snapshots).
const CACHE_MAX: usize = 100_000;

impl SnapshotCache {
    /// The snapshot with `id`, if cached.
    pub fn get(&self, id: i64) -> Option<Arc<str>> {
        self.by_id.read().ok()?.get(&id).cloned()
    }

    /// Remembers a committed snapshot.
    pub fn put(&self, id: i64, json: Arc<str>) {
        if let Ok(mut m) = self.by_id.write() {
            if m.len() >= CACHE_MAX {
                m.clear();
            }
            m.insert(id, json);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_then_expand_gives_the_same_bytes() {
        let snap = r#"{"code":"1.001193","steps":[{"id":"a"}]}"#;
        let doc = format!(
            r#"{{"at":"x","body":{{"type":"submitted","procedure":{snap},"form":{{"procedure":{snap}}}}}}}"#
        );
        let c = compact(&doc, snap);
        let at = c.at.expect("cut out");
        assert_eq!(c.text.len(), doc.len() - snap.len());
        // Only the first, structural occurrence is cut; the user's copy stays.
        assert!(c.text.contains(snap));
        assert_eq!(expand(&c.text, at, snap).as_deref(), Some(doc.as_str()));
    }

    #[test]
    fn a_document_without_the_snapshot_is_kept_whole() {
        let c = compact(r#"{"procedure":{"code":"other"}}"#, r#"{"code":"1"}"#);
        assert_eq!(c.at, None);
        assert_eq!(c.text, r#"{"procedure":{"code":"other"}}"#);
        let c = compact(r#"{"id":1}"#, r#"{"code":"1"}"#);
        assert_eq!(c.at, None);
    }

    #[test]
    fn expand_refuses_positions_outside_the_text() {
        assert_eq!(expand("abc", 4, "x"), None);
        assert_eq!(expand("đ", 1, "x"), None);
        assert_eq!(expand("ab", 1, "x").as_deref(), Some("axb"));
    }

    #[test]
    fn digests_differ_with_content() {
        assert_eq!(digest("a").len(), 32);
        assert_ne!(digest("a"), digest("b"));
    }
}
