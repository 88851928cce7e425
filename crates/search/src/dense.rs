//! The procedures holding every word on `all`, found with bitsets of the common words.
//!
//! In a large catalogue the words of a long query are each on `all` of a third to most of the
//! procedures (the documents' names repeat them), so walking their conjunction decodes nearly
//! every block of every posting list: half of a six-word search at 100,000 procedures, and
//! Block-WAND saves little of it (the candidates' scores are close). A word held by at least
//! one procedure in [`DENSE_SHARE`] is kept here as a bitset of its procedures, built on first
//! use and kept while the index's generation lasts; the conjunction is then the rarest sparse
//! word's postings checked against the bitsets, or the bitsets' intersection (decision 0047).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tantivy::index::SegmentId;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Searcher, SegmentReader, TERMINATED, Term};

/// A word is dense when at least one procedure in this many holds it: its bitset is then no
/// larger than (a multiple of) its compressed postings.
pub const DENSE_SHARE: u32 = 64;

/// Most the bitsets may take together; past it, words are no longer kept (the search walks
/// their postings instead).
const BUDGET_BYTES: usize = 64 << 20;

/// One segment's documents holding a word.
pub struct Bits(Vec<u64>);

impl Bits {
    /// Whether `doc` is in the set.
    #[inline]
    pub fn contains(&self, doc: DocId) -> bool {
        self.0
            .get((doc / 64) as usize)
            .is_some_and(|w| w & (1 << (doc % 64)) != 0)
    }

    /// The words of the set, 64 documents each.
    pub fn words(&self) -> &[u64] {
        &self.0
    }
}

/// The bitsets of the dense words met so far, for one generation of the index.
#[derive(Default)]
pub struct DenseTerms {
    inner: RwLock<Cache>,
}

#[derive(Default)]
struct Cache {
    generation: u64,
    bytes: usize,
    /// `None`: the word is walked by its postings in that segment (not dense, or met once the
    /// budget was spent).
    sets: HashMap<(SegmentId, Term), Option<Arc<Bits>>>,
}

impl DenseTerms {
    /// The bitset of `term` in `reader`'s segment when the word is dense there (built now if
    /// it is new); `None` when it is not dense, or the budget is spent.
    pub fn get(
        &self,
        searcher: &Searcher,
        reader: &SegmentReader,
        term: &Term,
    ) -> tantivy::Result<Option<Arc<Bits>>> {
        let generation = searcher.generation().generation_id();
        let key = (reader.segment_id(), term.clone());
        {
            let c = self.inner.read().unwrap_or_else(|p| p.into_inner());
            if c.generation == generation
                && let Some(found) = c.sets.get(&key)
            {
                return Ok(found.clone());
            }
        }
        let built = build(reader, term)?.map(Arc::new);
        let mut c = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if c.generation != generation {
            // The index changed: the segments of the last generation may be gone.
            *c = Cache {
                generation,
                ..Cache::default()
            };
        }
        if let Some(found) = c.sets.get(&key) {
            return Ok(found.clone()); // Built meanwhile by another search.
        }
        let size = built.as_ref().map_or(0, |b| 8 * b.0.len());
        // Past the budget the word is remembered as walked, so that it is not built again.
        let kept = built.filter(|_| c.bytes + size <= BUDGET_BYTES);
        c.bytes += kept.as_ref().map_or(0, |_| size);
        c.sets.insert(key, kept.clone());
        Ok(kept)
    }
}

/// The bitset of `term`'s documents in `reader`, when the word is dense there.
fn build(reader: &SegmentReader, term: &Term) -> tantivy::Result<Option<Bits>> {
    let max = reader.max_doc();
    let index = reader.inverted_index(term.field())?;
    let Some(info) = index.get_term_info(term)? else {
        return Ok(None);
    };
    if u64::from(info.doc_freq) * u64::from(DENSE_SHARE) < u64::from(max) {
        return Ok(None);
    }
    let mut words = vec![0u64; (max as usize).div_ceil(64)];
    let mut postings = index.read_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
    let mut doc = postings.doc();
    while doc != TERMINATED {
        words[(doc / 64) as usize] |= 1 << (doc % 64);
        doc = postings.advance();
    }
    Ok(Some(Bits(words)))
}

/// Calls `f` with every document of `reader` holding every one of `terms` (at least one),
/// in order; `dense` gives the bitsets of the common ones.
pub fn for_each_with_all(
    dense: &DenseTerms,
    searcher: &Searcher,
    reader: &SegmentReader,
    terms: &[&Term],
    f: &mut dyn FnMut(DocId),
) -> tantivy::Result<()> {
    let mut sets: Vec<Arc<Bits>> = Vec::new();
    let mut sparse = Vec::new();
    for t in terms {
        match dense.get(searcher, reader, t)? {
            Some(b) => sets.push(b),
            None => {
                let index = reader.inverted_index(t.field())?;
                let Some(info) = index.get_term_info(t)? else {
                    return Ok(()); // No procedure of the segment holds it.
                };
                sparse.push((
                    info.doc_freq,
                    index.read_postings_from_terminfo(&info, IndexRecordOption::Basic)?,
                ));
            }
        }
    }
    sparse.sort_by_key(|(df, _)| *df);
    let mut sparse: Vec<_> = sparse.into_iter().map(|(_, p)| p).collect();
    if let Some((lead, others)) = sparse.split_first_mut() {
        let mut doc = lead.doc();
        'doc: while doc != TERMINATED {
            if sets.iter().all(|s| s.contains(doc)) {
                for o in others.iter_mut() {
                    let at = if o.doc() < doc { o.seek(doc) } else { o.doc() };
                    if at != doc {
                        // Nothing before `at` holds that word: the lead jumps there.
                        if at == TERMINATED {
                            break 'doc;
                        }
                        doc = lead.seek(at);
                        continue 'doc;
                    }
                }
                f(doc);
            }
            doc = lead.advance();
        }
        return Ok(());
    }
    let Some((first, rest)) = sets.split_first() else {
        return Ok(());
    };
    for (i, &w) in first.words().iter().enumerate() {
        let mut w = rest.iter().fold(w, |acc, s| acc & s.words()[i]);
        while w != 0 {
            let bit = w.trailing_zeros();
            f(i as u32 * 64 + bit);
            w &= w - 1;
        }
    }
    Ok(())
}
