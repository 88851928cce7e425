//! Turns a person's words into a tantivy query plan (ranking rules in the crate documentation,
//! the two phases in `docs/decisions/0033-search-two-phases.md`).

use crate::Fields;
use crate::expand::Expansion;
use tantivy::query::{
    BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, QueryClone, TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{Searcher, Term};

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
fn combine(occur: Occur, mut qs: Vec<Box<dyn Query>>) -> Option<Box<dyn Query>> {
    match qs.len() {
        0 => None,
        1 => qs.pop(),
        _ => Some(Box::new(BooleanQuery::new(
            qs.into_iter().map(|q| (occur, q)).collect(),
        ))),
    }
}

/// A query in two phases: cheap `gather` queries whose best hits are the candidates, then every
/// ranking clause scored on those candidates only.
pub struct Plan {
    /// Every ranking clause. Per word: its match on `all` (required when strict), and the
    /// word in the name (more weight, never required); then the phrase in the name. A
    /// document's score is the sum of the clauses it matches, as tantivy's boolean query
    /// would give.
    pub clauses: Vec<(Occur, Box<dyn Query>)>,
    /// Candidate sources, each a query tantivy can prune to its top hits: the words on `all`
    /// (a conjunction when strict, of plain term queries unless a word needs typo tolerance
    /// or completion), the exact words in the name, and the phrase in the name.
    pub gather: Vec<Box<dyn Query>>,
}

/// A word of the query and, when it needs one, its expansion.
pub struct Word {
    /// The word as analysed (folded).
    pub text: String,
    /// Its one-edit neighbours or completions on `all` (with the word itself) and the weight
    /// of such a match, when the word is expanded.
    pub expansion: Option<(Expansion, f32)>,
}

/// The query's words, each expanded when it needs it: a word the index knows exactly is not
/// expanded to its one-edit neighbours (typo tolerance is for words that match nothing as
/// typed; expanding common words costs most of a query's time), and the last word is completed
/// when `prefix_last`. Each expansion is found once here and shared by every plan and phase
/// of the search (decision 0035).
pub fn words(
    searcher: &Searcher,
    f: &Fields,
    words: &[String],
    prefix_last: bool,
) -> tantivy::Result<Vec<Word>> {
    let known = |t: &Term| {
        searcher.segment_readers().iter().any(|s| {
            s.inverted_index(t.field())
                .is_ok_and(|ii| ii.doc_freq(t).is_ok_and(|n| n > 0))
        })
    };
    let mut out = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        let last = i + 1 == words.len();
        let long = w.chars().count() >= FUZZY_MIN_CHARS;
        let t = Term::from_field_text(f.all, w);
        let fuzzy = if prefix_last && last {
            Some((FuzzyTermQuery::new_prefix(t, u8::from(long), true), 0.5))
        } else if long && !known(&t) {
            Some((FuzzyTermQuery::new(t, 1, true), 0.3))
        } else {
            None
        };
        let expansion = match fuzzy {
            Some((q, weight)) => Some((Expansion::find(searcher, f.all, &q)?, weight)),
            None => None,
        };
        out.push(Word {
            text: w.clone(),
            expansion,
        });
    }
    Ok(out)
}

/// The plan for `words` (all required when `strict`, else any).
///
/// The `all` field holds the name too, so a word is matched on `all` alone (a plain term
/// scorer, whose skip lists make the intersection cheap); its occurrence in the name only adds
/// to the score.
pub fn plan(f: &Fields, words: &[Word], strict: bool) -> Plan {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(2 * words.len() + 1);
    let mut on_all: Vec<Box<dyn Query>> = Vec::with_capacity(words.len());
    let mut in_name: Vec<Box<dyn Query>> = Vec::with_capacity(words.len());
    let occur = if strict { Occur::Must } else { Occur::Should };
    for word in words {
        let w = word.text.as_str();
        let fuzzy: Option<Box<dyn Query>> = word
            .expansion
            .as_ref()
            .map(|(e, weight)| boost(Box::new(e.clone()), *weight));
        let plain = fuzzy.is_none();
        let matched: Box<dyn Query> = match fuzzy {
            // The exact word or its neighbours / completions.
            Some(q) => Box::new(BooleanQuery::new(vec![
                (Occur::Should, term(f.all, w)),
                (Occur::Should, q),
            ])),
            None => term(f.all, w),
        };
        on_all.push(matched.box_clone());
        clauses.push((occur, matched));
        // In the name: more weight, never required.
        let name = boost(term(f.name, w), 2.0);
        if plain {
            in_name.push(name.box_clone());
        }
        clauses.push((Occur::Should, name));
    }
    let mut gather: Vec<Box<dyn Query>> = Vec::with_capacity(3);
    gather.extend(combine(occur, on_all));
    if !strict {
        // No procedure has every word on `all`, so none has them in the name, let alone as a
        // phrase: the words on `all` are the only candidates' source, and no phrase clause.
        return Plan { clauses, gather };
    }
    // With every word plain, the name's words are a subset of `all`'s and so cheap; a word
    // that needs expanding leaves its name clause out (a typo never scores in the name).
    gather.extend(combine(occur, in_name));
    if words.len() >= 2 {
        let terms = words
            .iter()
            .map(|w| Term::from_field_text(f.name, &w.text))
            .collect();
        let phrase = boost(Box::new(PhraseQuery::new(terms)), 5.0);
        gather.push(phrase.box_clone());
        clauses.push((Occur::Should, phrase));
    }
    Plan { clauses, gather }
}
