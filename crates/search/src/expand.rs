//! A word's typo-tolerant or completed matches, found once per search.
//!
//! tantivy's `FuzzyTermQuery` walks the term dictionary with its automaton and every posting of
//! every term it accepts each time its weight makes a scorer: a search that gathers candidates
//! and then scores them (decision 0033), and that may try the any-word fallback after the strict
//! query, did that up to four times per expanded word. An [`Expansion`] does it once, on the
//! searcher the search uses, and hands the same set of procedures to every clause that needs
//! it, with the same constant score the fuzzy query gives (decision 0035).

use std::fmt;
use std::sync::Arc;
use tantivy::index::{SegmentId, SegmentReader};
use tantivy::query::{
    AutomatonWeight, BitSetDocSet, ConstScorer, DfaWrapper, EmptyScorer, EnableScoring,
    Explanation, FuzzyTermQuery, Query, Scorer, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{BitSet, DocId, DocSet, Score, Searcher, TantivyError};

/// The procedures matching one expanded word, per segment of the searcher it was found on.
#[derive(Clone)]
pub struct Expansion {
    sets: Arc<Vec<(SegmentId, BitSet)>>,
}

impl fmt::Debug for Expansion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Expansion")
            .field("segments", &self.sets.len())
            .finish()
    }
}

impl Expansion {
    /// Every procedure of `searcher` holding, in `field`, a term that `fuzzy` accepts (for a
    /// fuzzy query that includes the word as typed).
    pub fn find(
        searcher: &Searcher,
        field: Field,
        fuzzy: &FuzzyTermQuery,
    ) -> tantivy::Result<Expansion> {
        let automaton = Arc::new(fuzzy.automaton()?);
        let mut sets = Vec::with_capacity(searcher.segment_readers().len());
        for reader in searcher.segment_readers() {
            let terms: AutomatonWeight<DfaWrapper> =
                AutomatonWeight::new(field, Arc::clone(&automaton));
            let inverted = reader.inverted_index(field)?;
            let mut set = BitSet::with_max_value(reader.max_doc());
            for info in terms.get_match_term_infos(reader)? {
                let mut postings =
                    inverted.read_block_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
                loop {
                    let docs = postings.docs();
                    if docs.is_empty() {
                        break;
                    }
                    for &doc in docs {
                        set.insert(doc);
                    }
                    postings.advance();
                }
            }
            sets.push((reader.segment_id(), set));
        }
        Ok(Expansion {
            sets: Arc::new(sets),
        })
    }
}

impl Expansion {
    /// Whether no procedure matches.
    pub fn is_empty(&self) -> bool {
        self.sets.iter().all(|(_, set)| set.len() == 0)
    }
}

impl Query for Expansion {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl Weight for Expansion {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let id = reader.segment_id();
        Ok(match self.sets.iter().find(|(s, _)| *s == id) {
            // A constant score, as tantivy's fuzzy query gives.
            Some((_, set)) => Box::new(ConstScorer::new(BitSetDocSet::from(set.clone()), boost)),
            None => Box::new(EmptyScorer),
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) == doc {
            Ok(Explanation::new("Expansion", scorer.score()))
        } else {
            Err(TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )))
        }
    }
}
