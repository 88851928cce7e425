//! Turns a person's words into a tantivy query plan (ranking rules in the crate documentation,
//! the two phases in `docs/decisions/0033-search-two-phases.md`).

use crate::Fields;
use crate::expand::Expansion;
use tantivy::query::{
    BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhrasePrefixQuery, PhraseQuery, Query,
    QueryClone, TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{Searcher, Term};

/// Most words a suggestion's last word may complete to in the phrase (tantivy's default, 50,
/// would stop in the dictionary's order: after "sa..." and before "sinh").
const MAX_COMPLETIONS: u32 = 10_000;

/// Words shorter than this (in characters) must match exactly: one typo in "ky" or "so"
/// matches half the catalogue.
const FUZZY_MIN_CHARS: usize = 4;

/// The query as a procedure code, when it is one (`1.001193`, or a local code).
pub fn as_code(text: &str) -> Option<String> {
    let t = text.trim();
    t.parse::<motcua_domain::codes::ProcedureCode>()
        .or_else(|_| motcua_domain::codes::ProcedureCode::parse_lenient(t))
        .ok()
        .map(|c| c.to_string())
}

fn term(field: tantivy::schema::Field, w: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, w),
        IndexRecordOption::WithFreqs,
    ))
}

fn boost(q: Box<dyn Query>, by: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(q, by))
}

/// One query per clause kind, or their conjunction / disjunction. A single clause is returned
/// as is: tantivy prunes a lone term query (Block-WAND), not a one-clause boolean query.
pub fn combine(occur: Occur, mut qs: Vec<Box<dyn Query>>) -> Option<Box<dyn Query>> {
    match qs.len() {
        0 => None,
        1 => qs.pop(),
        _ => Some(Box::new(BooleanQuery::new(
            qs.into_iter().map(|q| (occur, q)).collect(),
        ))),
    }
}

/// A query's ranking clauses, kept apart so that a search can bound what each adds to a
/// procedure's score (decision 0039).
pub struct Plan {
    /// The clauses, word by word.
    pub words: Vec<WordClauses>,
    /// The whole query as a phrase in the name (strict plans of two words or more).
    pub phrase: Option<Box<dyn Query>>,
    /// Whether every word must match.
    pub strict: bool,
}

impl Plan {
    /// How a word on `all` takes part: required when strict, else optional.
    pub fn occur(&self) -> Occur {
        if self.strict {
            Occur::Must
        } else {
            Occur::Should
        }
    }

    /// Every ranking clause. Per word: its match on `all` (required when strict), and the
    /// word in the name (more weight, never required); then the phrase in the name. A
    /// document's score is the sum of the clauses it matches, as tantivy's boolean query
    /// would give.
    pub fn clauses(&self) -> Vec<(Occur, Box<dyn Query>)> {
        let occur = self.occur();
        let mut out = Vec::with_capacity(2 * self.words.len() + 1);
        for w in &self.words {
            out.push((occur, w.all.box_clone()));
            out.push((Occur::Should, w.name.box_clone()));
        }
        out.extend(self.phrase.as_ref().map(|p| (Occur::Should, p.box_clone())));
        out
    }
}

/// One word's clauses.
pub struct WordClauses {
    /// The word on `all`: its term, or its term or expansion.
    pub all: Box<dyn Query>,
    /// The word's term on `all`.
    pub all_term: Term,
    /// What a match of the expansion adds (0 when the word is not expanded).
    pub expansion_weight: f32,
    /// The word in the name, boosted.
    pub name: Box<dyn Query>,
    /// The word's term in the name.
    pub name_term: Term,
    /// Whether the word is a plain term of the phrase (not a typo, not a suggestion's last
    /// word, which may still score in the name as typed).
    pub in_phrase: bool,
}

/// Weight of a word found in the name (beside its match on `all`).
pub const NAME_BOOST: f32 = 2.0;
/// Weight of the whole query found as a phrase in the name.
pub const PHRASE_BOOST: f32 = 5.0;

/// A word of the query and, when it needs one, its expansion.
pub struct Word {
    /// The word as analysed (folded).
    pub text: String,
    /// Its position in the query.
    pub position: usize,
    /// Whether it is the last word of a suggestion, being typed.
    pub completing: bool,
    /// Its one-edit neighbours or completions on `all` (with the word itself) and the weight
    /// of such a match, when the word is expanded.
    pub expansion: Option<(Expansion, f32)>,
    /// Whether any procedure matches the word (as typed, or expanded).
    pub matches: bool,
}

/// The query's words, each expanded when it needs it: a word the index knows exactly is not
/// expanded to its one-edit neighbours (typo tolerance is for words that match nothing as
/// typed; expanding common words costs most of a query's time), and the last word is completed
/// when `prefix_last`. Each expansion is found once here and shared by every plan and phase
/// of the search (decision 0035).
pub fn words(
    searcher: &Searcher,
    f: &Fields,
    words: &[(String, usize)],
    prefix_last: bool,
) -> tantivy::Result<Vec<Word>> {
    // A typo that makes another word is corrected from its neighbours first (decision 0048).
    let mut words = words.to_vec();
    crate::correct::correct(searcher, f, &mut words, prefix_last)?;
    let known = |t: &Term| {
        searcher.segment_readers().iter().any(|s| {
            s.inverted_index(t.field())
                .is_ok_and(|ii| ii.doc_freq(t).is_ok_and(|n| n > 0))
        })
    };
    let mut out = Vec::with_capacity(words.len());
    for (i, (w, position)) in words.iter().enumerate() {
        let last = i + 1 == words.len();
        let long = w.chars().count() >= FUZZY_MIN_CHARS;
        let t = Term::from_field_text(f.all, w);
        let is_known = known(&t);
        // A suggestion's last word is completed from the names' words (what the list of
        // suggestions shows), not from everything on `all`: a word cut after a letter or two
        // starts thousands of words there, and walking all their postings cost most of a
        // suggestion's time.
        let fuzzy = if prefix_last && last {
            let in_name = Term::from_field_text(f.name, w);
            Some((
                FuzzyTermQuery::new_prefix(in_name, u8::from(long), true),
                f.name,
                0.5,
            ))
        } else if long && !is_known {
            Some((FuzzyTermQuery::new(t, 1, true), f.all, 0.3))
        } else {
            None
        };
        let expansion = match fuzzy {
            Some((q, field, weight)) => Some((Expansion::find(searcher, field, &q)?, weight)),
            None => None,
        };
        let matches = is_known || expansion.as_ref().is_some_and(|(e, _)| !e.is_empty());
        out.push(Word {
            text: w.clone(),
            position: *position,
            completing: prefix_last && last,
            expansion,
            matches,
        });
    }
    Ok(out)
}

/// The phrase's plain terms in the name, at their places in the query: every word but the
/// expanded ones (a typo, which no name holds, and a suggestion's last word, which ends the
/// phrase as a prefix instead).
fn phrase_terms(f: &Fields, words: &[Word]) -> Vec<(usize, Term)> {
    words
        .iter()
        .filter(|w| w.expansion.is_none())
        .map(|w| (w.position, Term::from_field_text(f.name, &w.text)))
        .collect()
}

/// The plan for `words` (all required when `strict`, else any).
///
/// The `all` field holds the name too, so a word is matched on `all` alone (a plain term
/// scorer, whose skip lists make the intersection cheap); its occurrence in the name only adds
/// to the score.
pub fn plan(f: &Fields, words: &[Word], strict: bool) -> Plan {
    let mut per_word = Vec::with_capacity(words.len());
    for word in words {
        let w = word.text.as_str();
        let (matched, expansion_weight): (Box<dyn Query>, f32) = match &word.expansion {
            // The exact word or its neighbours / completions.
            Some((e, weight)) => (
                Box::new(BooleanQuery::new(vec![
                    (Occur::Should, term(f.all, w)),
                    (Occur::Should, boost(Box::new(e.clone()), *weight)),
                ])),
                *weight,
            ),
            None => (term(f.all, w), 0.0),
        };
        // In the name: more weight, never required.
        let name = boost(term(f.name, w), NAME_BOOST);
        per_word.push(WordClauses {
            all: matched,
            all_term: Term::from_field_text(f.all, w),
            expansion_weight,
            name,
            name_term: Term::from_field_text(f.name, w),
            in_phrase: word.expansion.is_none(),
        });
    }
    // The words as typed, each at its place in the query: a typo or a word no procedure holds
    // (left out of the words) leaves its place open, so that "cap giay phepp xay dung" still
    // finds "Cấp giấy phép xây dựng" as a phrase. No procedure has every word on `all` in a
    // loose plan, so none has them as a phrase.
    let terms = phrase_terms(f, words);
    // A suggestion's last word ends the phrase as a prefix: "dang ky khai s" is "dang ky
    // khai" followed by a word starting with "s" (the word as typed included).
    let phrase = match words.iter().find(|w| w.completing) {
        Some(last) if strict && !terms.is_empty() => {
            let mut with_prefix = terms;
            with_prefix.push((last.position, Term::from_field_text(f.name, &last.text)));
            let mut q = PhrasePrefixQuery::new_with_offset(with_prefix);
            q.set_max_expansions(MAX_COMPLETIONS);
            Some(boost(Box::new(q), PHRASE_BOOST))
        }
        _ => (strict && terms.len() >= 2)
            .then(|| boost(Box::new(PhraseQuery::new_with_offset(terms)), PHRASE_BOOST)),
    };
    Plan {
        words: per_word,
        phrase,
        strict,
    }
}
