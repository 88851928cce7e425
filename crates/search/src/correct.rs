//! A typo that makes another word, corrected from the names' word pairs (decision 0048).
//!
//! Folded, almost every Vietnamese syllable is one letter away from several others: "phep"
//! typed "phap", "khai" typed "khia", "hon" typed "hom" or "ho" typed "hoa" give words the
//! catalogue knows, so typo tolerance by expanding unknown words (decision 0035) never sees
//! them, every word stays required, and the procedure meant is not found. The words next to a
//! typo tell it apart: no procedure's name holds "giay phap" or "phap xay", while hundreds hold
//! "giay phep" and "phep xay". So the index keeps each name's adjacent word pairs as terms of
//! their own field (`pairs`), and a query word none of whose pairs with its neighbours in the
//! query is in any name is replaced by the word one edit away (in the names' words) whose pairs
//! with the same neighbours are in the most names, when there are at least [`MIN_SUPPORT`].
//! A word with no neighbour, or whose pairs are in a name, is left as typed.

use crate::Fields;
use tantivy::query::FuzzyTermQuery;
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};
use tantivy::{Searcher, Term};

/// Name of the analyzer of the `pairs` field.
pub const PAIRS_ANALYZER: &str = "vi_pairs";

/// Fewest pairs in names (one per name and neighbour) that the correction must make with the
/// typed word's neighbours: one name holding one pair could be a coincidence.
pub const MIN_SUPPORT: u64 = 2;

/// Words shorter than this (in characters) are not corrected: one letter has too many
/// neighbours to tell which was meant.
const MIN_CHARS: usize = 2;

/// A pair's term text: the two folded words with a space between.
fn pair_text(a: &str, b: &str) -> String {
    let mut s = String::with_capacity(a.len() + 1 + b.len());
    s.push_str(a);
    s.push(' ');
    s.push_str(b);
    s
}

/// The tokenizer of the `pairs` field: each pair of adjacent words of the `vi` analyzer.
#[derive(Clone)]
pub struct PairTokenizer(TextAnalyzer);

impl PairTokenizer {
    /// Pairs of the words of `words` (the `vi` analyzer).
    pub fn new(words: TextAnalyzer) -> PairTokenizer {
        PairTokenizer(words)
    }
}

/// The pairs of one text.
pub struct PairStream {
    pairs: std::vec::IntoIter<String>,
    token: Token,
}

impl Tokenizer for PairTokenizer {
    type TokenStream<'a> = PairStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> PairStream {
        let mut words = self.0.token_stream(text);
        let mut prev: Option<String> = None;
        let mut pairs = Vec::new();
        while words.advance() {
            let w = words.token().text.clone();
            if let Some(p) = prev {
                pairs.push(pair_text(&p, &w));
            }
            prev = Some(w);
        }
        PairStream {
            pairs: pairs.into_iter(),
            token: Token {
                position: usize::MAX,
                ..Token::default()
            },
        }
    }
}

impl TokenStream for PairStream {
    fn advance(&mut self) -> bool {
        let Some(p) = self.pairs.next() else {
            return false;
        };
        self.token.text = p;
        self.token.position = self.token.position.wrapping_add(1);
        true
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// How many names hold `w` next to the neighbours given (`before` it, `after` it).
fn support(
    searcher: &Searcher,
    f: &Fields,
    before: Option<&str>,
    w: &str,
    after: Option<&str>,
) -> tantivy::Result<u64> {
    let mut n = 0;
    if let Some(b) = before {
        n += searcher.doc_freq(&Term::from_field_text(f.pairs, &pair_text(b, w)))?;
    }
    if let Some(a) = after {
        n += searcher.doc_freq(&Term::from_field_text(f.pairs, &pair_text(w, a)))?;
    }
    Ok(n)
}

/// The words one edit away from `w` (a letter added, removed, changed, or two swapped) that
/// some name holds.
fn neighbours(searcher: &Searcher, f: &Fields, w: &str) -> tantivy::Result<Vec<String>> {
    let dfa = FuzzyTermQuery::new(Term::from_field_text(f.name, w), 1, true).automaton()?;
    let mut out: Vec<String> = Vec::new();
    for reader in searcher.segment_readers() {
        let inverted = reader.inverted_index(f.name)?;
        let mut terms = inverted.terms().search(&dfa).into_stream()?;
        while terms.advance() {
            if let Ok(t) = std::str::from_utf8(terms.key())
                && t != w
                && !out.iter().any(|o| o == t)
            {
                out.push(t.to_owned());
            }
        }
    }
    Ok(out)
}

/// Replaces, in `words` (folded, each with its position in the query), each word that names
/// never hold next to its neighbours by its best-supported neighbour one edit away, when one
/// has at least [`MIN_SUPPORT`]; left to right, a corrected word is the next one's neighbour.
/// The last word is left alone when `keep_last` (a suggestion's word being typed), and is then
/// nobody's neighbour. A correction that repeats an earlier word is dropped with it. Returns
/// whether any word changed.
pub fn correct(
    searcher: &Searcher,
    f: &Fields,
    words: &mut Vec<(String, usize)>,
    keep_last: bool,
) -> tantivy::Result<bool> {
    let considered = words.len() - usize::from(keep_last && !words.is_empty());
    let mut changed = false;
    for i in 0..considered {
        if words[i].0.chars().count() < MIN_CHARS {
            continue;
        }
        let at = words[i].1;
        let beside = |pos: Option<usize>| {
            pos.and_then(|p| words[..considered].iter().find(|(_, q)| *q == p))
                .map(|(w, _)| w.as_str())
        };
        let (before, after) = (beside(at.checked_sub(1)), beside(at.checked_add(1)));
        if before.is_none() && after.is_none() {
            continue;
        }
        let w = words[i].0.as_str();
        if support(searcher, f, before, w, after)? > 0 {
            continue;
        }
        let mut best: Option<(u64, String)> = None;
        for c in neighbours(searcher, f, w)? {
            let s = support(searcher, f, before, &c, after)?;
            if s >= MIN_SUPPORT && best.as_ref().is_none_or(|(b, _)| s > *b) {
                best = Some((s, c));
            }
        }
        if let Some((_, c)) = best {
            words[i].0 = c;
            changed = true;
        }
    }
    if changed {
        // "dang ky" typed "dang dang" corrects to a word the query has: keep it once.
        let mut seen: Vec<String> = Vec::with_capacity(words.len());
        words.retain(|(w, _)| {
            let new = !seen.contains(w);
            seen.push(w.clone());
            new
        });
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<String> {
        let mut t = PairTokenizer::new(crate::fold::analyzer());
        let mut s = t.token_stream(text);
        let mut out = Vec::new();
        while s.advance() {
            out.push(s.token().text.clone());
        }
        out
    }

    #[test]
    fn the_pairs_are_the_adjacent_folded_words() {
        assert_eq!(
            pairs("Cấp giấy phép, xây dựng"),
            ["cap giay", "giay phep", "phep xay", "xay dung"]
        );
        assert!(pairs("Cấp").is_empty());
        assert!(pairs("").is_empty());
    }
}
