//! Full-text search over the procedure catalogue with tantivy.
//!
//! One in-memory index: a document per published procedure with its code (exact), its name
//! (with positions, for phrase matches) and an `all` field (name, field, documents, results,
//! applicant types). Every text field goes through the `vi` analyzer: split on anything that is
//! not a letter or digit, then [`fold::VietFold`] (diacritics and đ/Đ removed, lowercased), so
//! "dang ky khai sinh" finds "Đăng ký khai sinh".
//!
//! Ranking (see `docs/catalogue.md`): a query that is a procedure code returns that procedure
//! alone; otherwise every word must match (exactly, or with one typo when it has 4+ letters and
//! the index does not know it as typed; a word that matches nothing even so is left out; a
//! word that no name holds beside its neighbours in the query, known or not, is first
//! corrected from the names' word pairs, decision 0048),
//! exact words score above typo matches, a word in the name above one elsewhere, and the whole
//! query as a phrase in the name scores highest; a typo or a word left out leaves its place in
//! the phrase open, and a suggestion's last word ends it as a prefix (decision 0046). If no
//! procedure has every word, the words are matched as alternatives instead.
//!
//! From 20,000 procedures a query of up to three words is answered from the names outwards,
//! exactly (`docs/decisions/0039-search-from-the-names.md`); a longer one runs in two phases
//! (`docs/decisions/0033-search-two-phases.md`): queries tantivy can prune to their top hits
//! gather candidates, then every ranking clause scores those candidates alone. At most one
//! search per core (and one more) runs at once, the others queue in arrival order (`gate.rs`).

mod correct;
mod dense;
mod expand;
pub mod fold;
mod gate;
mod query;
mod rank;

use motcua_domain::procedure::ProcedureVersion;
use std::sync::Mutex;
use tantivy::collector::TopDocs;
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// Longest query read, in characters; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words of a query used.
pub const MAX_QUERY_WORDS: usize = 12;

/// Whether a query is a procedure code (then a search answers that procedure or nothing).
pub fn is_code(text: &str) -> bool {
    let t: String = text.chars().take(MAX_QUERY_CHARS).collect();
    query::as_code(&t).is_some()
}

/// Why the index failed (it lives in memory, so only on bugs or resource exhaustion).
#[derive(Debug, thiserror::Error)]
#[error("search index: {0}")]
pub struct SearchError(#[from] tantivy::TantivyError);

/// A procedure found, best first.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// Procedure code.
    pub code: String,
    /// Relevance score (higher is better; only comparable within one answer).
    pub score: f32,
}

#[derive(Clone, Copy)]
pub(crate) struct Fields {
    pub code: Field,
    pub name: Field,
    pub all: Field,
    /// The name's adjacent word pairs (decision 0048).
    pub pairs: Field,
    /// The name's adjacent word triples (decision 0048).
    pub triples: Field,
}

/// The catalogue's search index.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    /// At most one search per core (and one more) at once; the others queue.
    gate: gate::Gate,
    /// Catalogue size from which searches run in two phases.
    two_phase_from: usize,
    /// Bitsets of the common words on `all` (decision 0047).
    dense: dense::DenseTerms,
}

/// Name of the Vietnamese analyzer.
const ANALYZER: &str = "vi";

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let code = b.add_text_field("code", STRING | STORED);
    let with_positions = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let freqs = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let name = b.add_text_field("name", with_positions);
    let all = b.add_text_field("all", freqs);
    let grams = |analyzer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(analyzer)
                .set_index_option(IndexRecordOption::Basic),
        )
    };
    let pairs = b.add_text_field("pairs", grams(correct::PAIRS_ANALYZER));
    let triples = b.add_text_field("triples", grams(correct::TRIPLES_ANALYZER));
    (
        b.build(),
        Fields {
            code,
            name,
            all,
            pairs,
            triples,
        },
    )
}

impl SearchIndex {
    /// An index over `versions` (published ones; the caller chooses).
    pub fn build<'a>(
        versions: impl IntoIterator<Item = &'a ProcedureVersion>,
    ) -> Result<SearchIndex, SearchError> {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        index.tokenizers().register(ANALYZER, fold::analyzer());
        for (name, n) in [(correct::PAIRS_ANALYZER, 2), (correct::TRIPLES_ANALYZER, 3)] {
            index.tokenizers().register(
                name,
                TextAnalyzer::from(correct::GramTokenizer::new(fold::analyzer(), n)),
            );
        }
        // One indexing thread: the machine is small and searches must not wait for merges.
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 50_000_000)?;
        for v in versions {
            writer.add_document(Self::document(&fields, v))?;
        }
        writer.commit()?;
        // One segment: each clause of a query costs a term lookup and a scorer per segment, so
        // a catalogue indexed in several (one per 50 MB of indexing memory) searches slower.
        // Later upserts add small segments, which tantivy's merge policy folds in.
        let segments = index.searchable_segment_ids()?;
        if segments.len() > 1 {
            writer.merge(&segments).wait()?;
        }
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            gate: gate::Gate::per_core(),
            two_phase_from: rank::TWO_PHASE_FROM,
            dense: dense::DenseTerms::default(),
        })
    }

    fn document(f: &Fields, v: &ProcedureVersion) -> TantivyDocument {
        let mut d = TantivyDocument::default();
        d.add_text(f.code, v.code.to_string());
        d.add_text(f.name, &v.name);
        d.add_text(f.pairs, &v.name);
        d.add_text(f.triples, &v.name);
        let mut all = String::with_capacity(512);
        for part in [v.name.as_str(), v.field.as_str(), &v.code.to_string()] {
            all.push_str(part);
            all.push('\n');
        }
        for doc in &v.documents {
            all.push_str(&doc.name);
            all.push('\n');
        }
        for r in &v.details.results {
            all.push_str(&r.name);
            all.push('\n');
        }
        for a in &v.details.applicant_types {
            all.push_str(a);
            all.push('\n');
        }
        d.add_text(f.all, all);
        d
    }

    /// Adds or replaces procedures (by code) and makes them searchable before returning.
    pub fn upsert<'a>(
        &self,
        versions: impl IntoIterator<Item = &'a ProcedureVersion>,
    ) -> Result<(), SearchError> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        for v in versions {
            w.delete_term(Term::from_field_text(self.fields.code, &v.code.to_string()));
            w.add_document(Self::document(&self.fields, v))?;
        }
        w.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Removes a procedure (no longer published).
    pub fn remove(&self, code: &str) -> Result<(), SearchError> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        w.delete_term(Term::from_field_text(self.fields.code, code));
        w.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Number of procedures indexed.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Segments the index is searched in (one after [`build`](Self::build); upserts add more
    /// until the merge policy folds them).
    pub fn segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The best `limit` procedures for a query typed by a person. Empty, punctuation-only or
    /// unknown-script queries give no hits; long ones are cut to [`MAX_QUERY_CHARS`].
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<Hit>, SearchError> {
        self.run(text, limit.clamp(1, 1000), false, self.two_phase_from)
    }

    /// What [`search`](Self::search) (or [`suggest`](Self::suggest) when `suggest`) answers
    /// when every matching procedure is scored, in one pass: the reference the pruned search
    /// is measured against (the benchmark's recall of long queries, whose candidates are
    /// gathered rather than found exhaustively). Slow on a large catalogue.
    pub fn exhaustive(
        &self,
        text: &str,
        limit: usize,
        suggest: bool,
    ) -> Result<Vec<Hit>, SearchError> {
        let limit = limit.clamp(1, if suggest { 50 } else { 1000 });
        self.run(text, limit, suggest, usize::MAX)
    }

    /// Suggestions while typing: like [`search`](Self::search) but the last word is a prefix of
    /// a word in the procedure's name (the suggestions show names), or the word itself anywhere.
    pub fn suggest(&self, text: &str, limit: usize) -> Result<Vec<Hit>, SearchError> {
        self.run(text, limit.clamp(1, 50), true, self.two_phase_from)
    }

    /// A search; the catalogue is searched in one pass over every match below
    /// `two_phase_from` procedures.
    fn run(
        &self,
        text: &str,
        limit: usize,
        prefix_last: bool,
        two_phase_from: usize,
    ) -> Result<Vec<Hit>, SearchError> {
        let _turn = self.gate.enter();
        let text: String = text.chars().take(MAX_QUERY_CHARS).collect();
        let searcher = self.reader.searcher();
        if let Some(code) = query::as_code(&text) {
            let q = tantivy::query::TermQuery::new(
                Term::from_field_text(self.fields.code, &code),
                IndexRecordOption::Basic,
            );
            // A code names one procedure: if it is not published, nothing else is meant.
            let found = searcher.search(&q, &TopDocs::with_limit(1).order_by_score())?;
            return self.hits(&searcher, found);
        }
        let words = self.words(&text);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let mut words = query::words(&searcher, &self.fields, &words, prefix_last)?;
        // A word no procedure holds (not even with a typo) can neither be required nor add
        // to a score: it is left out.
        words.retain(|w| w.matches);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let strict = query::plan(&self.fields, &words, true);
        let found = rank::top(&searcher, &self.dense, &strict, limit, two_phase_from)?;
        if !found.is_empty() || words.len() == 1 {
            return self.hits(&searcher, found);
        }
        let loose = query::plan(&self.fields, &words, false);
        let found = rank::top(&searcher, &self.dense, &loose, limit, two_phase_from)?;
        self.hits(&searcher, found)
    }

    /// The query's words through the same analyzer as the index, each with its position in
    /// the query (a word typed twice is kept once, at its first position).
    fn words(&self, text: &str) -> Vec<(String, usize)> {
        let mut analyzer = match self.index.tokenizers().get(ANALYZER) {
            Some(a) => a,
            None => fold::analyzer(),
        };
        let mut stream = analyzer.token_stream(text);
        let mut out: Vec<(String, usize)> = Vec::new();
        while stream.advance() {
            let t = stream.token();
            if !t.text.is_empty() && !out.iter().any(|(w, _)| *w == t.text) {
                out.push((t.text.clone(), t.position));
            }
            if out.len() == MAX_QUERY_WORDS {
                break;
            }
        }
        out
    }

    fn hits(
        &self,
        searcher: &tantivy::Searcher,
        found: Vec<(f32, tantivy::DocAddress)>,
    ) -> Result<Vec<Hit>, SearchError> {
        let mut out = Vec::with_capacity(found.len());
        for (score, addr) in found {
            let doc: TantivyDocument = searcher.doc(addr)?;
            if let Some(code) = doc.get_first(self.fields.code).and_then(|v| v.as_str()) {
                out.push(Hit {
                    code: code.to_owned(),
                    score,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
