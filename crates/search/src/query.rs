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
pub fn build(
    f: &Fields,
    words: &[String],
    strict: bool,
    prefix_last: bool,
    known: &dyn Fn(&Term) -> bool,
) -> BooleanQuery {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(words.len() + 1);
    for (i, w) in words.iter().enumerate() {
        let last = i + 1 == words.len();
        let mut alternatives: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Should, boost(term(f.name, w), 2.0)),
            (Occur::Should, term(f.all, w)),
        ];
        let long = w.chars().count() >= FUZZY_MIN_CHARS;
        if prefix_last && last {
            let t = Term::from_field_text(f.all, w);
            alternatives.push((
                Occur::Should,
                boost(
                    Box::new(FuzzyTermQuery::new_prefix(t, u8::from(long), true)),
                    0.5,
                ),
            ));
        } else if long && !known(&Term::from_field_text(f.all, w)) {
            let t = Term::from_field_text(f.all, w);
            alternatives.push((
                Occur::Should,
                boost(Box::new(FuzzyTermQuery::new(t, 1, true)), 0.3),
            ));
        }
        let occur = if strict { Occur::Must } else { Occur::Should };
        clauses.push((occur, Box::new(BooleanQuery::new(alternatives))));
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
