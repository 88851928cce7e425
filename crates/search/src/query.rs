//! Turns a person's words into a tantivy query (ranking rules in the crate documentation).

use crate::Fields;
use tantivy::Term;
use tantivy::query::{
    BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::IndexRecordOption;

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

/// One clause per word (all required when `strict`), plus the phrase in the name. A word the
/// index knows exactly is not expanded to its one-edit neighbours: typo tolerance is for words
/// that match nothing as typed (expanding common words costs most of a query's time).
///
/// The `all` field holds the name too, so a word is matched on `all` alone (a plain term
/// scorer, whose skip lists make the intersection cheap); its occurrence in the name only adds
/// to the score, as an optional clause beside the required ones, instead of a union per word
/// that the intersection would have to seek through.
pub fn build(
    f: &Fields,
    words: &[String],
    strict: bool,
    prefix_last: bool,
    known: &dyn Fn(&Term) -> bool,
) -> BooleanQuery {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(2 * words.len() + 1);
    let occur = if strict { Occur::Must } else { Occur::Should };
    for (i, w) in words.iter().enumerate() {
        let last = i + 1 == words.len();
        let long = w.chars().count() >= FUZZY_MIN_CHARS;
        let t = Term::from_field_text(f.all, w);
        let fuzzy: Option<Box<dyn Query>> = if prefix_last && last {
            Some(boost(
                Box::new(FuzzyTermQuery::new_prefix(t.clone(), u8::from(long), true)),
                0.5,
            ))
        } else if long && !known(&t) {
            Some(boost(
                Box::new(FuzzyTermQuery::new(t.clone(), 1, true)),
                0.3,
            ))
        } else {
            None
        };
        let matched: Box<dyn Query> = match fuzzy {
            // The exact word or its neighbours / completions.
            Some(q) => Box::new(BooleanQuery::new(vec![
                (Occur::Should, term(f.all, w)),
                (Occur::Should, q),
            ])),
            None => term(f.all, w),
        };
        clauses.push((occur, matched));
        // In the name: more weight, never required.
        clauses.push((Occur::Should, boost(term(f.name, w), 2.0)));
    }
    if words.len() >= 2 {
        let terms = words
            .iter()
            .map(|w| Term::from_field_text(f.name, w))
            .collect();
        clauses.push((Occur::Should, boost(Box::new(PhraseQuery::new(terms)), 5.0)));
    }
    BooleanQuery::new(clauses)
}
