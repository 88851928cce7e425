//! A typo that makes another word, corrected from the names' word pairs and triples (decision
//! 0048).
//!
//! Folded, almost every Vietnamese syllable is one letter away from several others: "phep"
//! typed "phap", "khai" typed "khia", "hon" typed "hom" or "ho" typed "hoa" give words the
//! catalogue knows, so typo tolerance by expanding unknown words (decision 0035) never sees
//! them, every word stays required, and the procedure meant is not found. The words next to a
//! typo tell it apart: no procedure's name holds "giay phap", while hundreds hold "giay phep".
//! So the index keeps each name's adjacent word pairs and triples as terms of fields of their
//! own (`pairs`, `triples`), and a query word that no name holds beside one of its neighbours
//! in the query is replaced by a word one edit away (in the names' words) whose pairs and
//! triples with the same neighbours make at least [`MIN_SUPPORT`] and, when names hold the
//! typed word beside its other neighbour ("phap xay", of "tư pháp xây dựng"), that fits beside
//! every neighbour and outnumbers the typed word's [`OUTWEIGH`] times. Of those, the one whose
//! triples with the query's words around it are in the most names wins ("dang ky ket hom":
//! "ky ket hon", not "ky ket hop", though more names hold "ket hop" than "ket hon"), then the
//! one whose pairs are. A word with no neighbour, or that names hold beside every neighbour,
//! is left as typed.

use crate::Fields;
use tantivy::query::FuzzyTermQuery;
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};
use tantivy::{Searcher, Term};

/// Name of the analyzer of the `pairs` field.
pub const PAIRS_ANALYZER: &str = "vi_pairs";
/// Name of the analyzer of the `triples` field.
pub const TRIPLES_ANALYZER: &str = "vi_triples";

/// Fewest pairs and triples in names (one per name and gram) that the correction must make
/// with the typed word's neighbours: one name holding one pair could be a coincidence.
pub const MIN_SUPPORT: u64 = 2;

/// When names hold the typed word beside one of its neighbours but not beside another ("phap
/// xay", of "tư pháp xây dựng", but not "giay phap"), a correction must fit beside every
/// neighbour and its pairs and triples there outnumber the typed word's this many times.
pub const OUTWEIGH: u64 = 2;

/// Words shorter than this (in characters) are not corrected: one letter has too many
/// neighbours to tell which was meant.
const MIN_CHARS: usize = 2;

/// A pair's or a triple's term text: the folded words with a space between.
fn gram_text(words: &[&str]) -> String {
    words.join(" ")
}

/// The tokenizer of the `pairs` and `triples` fields: each run of `n` adjacent words of the
/// `vi` analyzer. Pairs and triples are kept in fields of their own: every search looks pairs
/// up, only a correction triples, and a dictionary of pairs alone is half as large (a
/// dictionary of both cost 5 % of the throughput at 100,000 procedures).
#[derive(Clone)]
pub struct GramTokenizer(TextAnalyzer, usize);

impl GramTokenizer {
    /// Runs of `n` words of `words` (the `vi` analyzer).
    pub fn new(words: TextAnalyzer, n: usize) -> GramTokenizer {
        GramTokenizer(words, n.max(1))
    }
}

/// The runs of one text.
pub struct GramStream {
    grams: std::vec::IntoIter<String>,
    token: Token,
}

impl Tokenizer for GramTokenizer {
    type TokenStream<'a> = GramStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> GramStream {
        let mut stream = self.0.token_stream(text);
        let mut words: Vec<String> = Vec::new();
        while stream.advance() {
            words.push(stream.token().text.clone());
        }
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        let grams: Vec<String> = w.windows(self.1).map(gram_text).collect();
        GramStream {
            grams: grams.into_iter(),
            token: Token {
                position: usize::MAX,
                ..Token::default()
            },
        }
    }
}

impl TokenStream for GramStream {
    fn advance(&mut self) -> bool {
        let Some(p) = self.grams.next() else {
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

/// How many names hold `gram` (words; `None` where the query has no word there, and then
/// `None`).
fn count(searcher: &Searcher, f: &Fields, gram: &[Option<&str>]) -> tantivy::Result<Option<u64>> {
    let mut text = String::with_capacity(32);
    for w in gram {
        let Some(w) = w else {
            return Ok(None);
        };
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(w);
    }
    let field = if gram.len() == 2 { f.pairs } else { f.triples };
    searcher
        .doc_freq(&Term::from_field_text(field, &text))
        .map(Some)
}

/// How many names hold each of `grams`, summed.
fn support<const N: usize>(
    searcher: &Searcher,
    f: &Fields,
    grams: &[[Option<&str>; N]],
) -> tantivy::Result<u64> {
    let mut n = 0;
    for g in grams {
        n += count(searcher, f, g)?.unwrap_or(0);
    }
    Ok(n)
}

/// The pairs `x` makes with the words before and after it (`None` where the query has none).
fn pairs_around<'a>(
    before: Option<&'a str>,
    x: &'a str,
    after: Option<&'a str>,
) -> [[Option<&'a str>; 2]; 2] {
    [[before, Some(x)], [Some(x), after]]
}

/// The triples `x` makes with the two words before it, the words either side of it and the two
/// after it.
fn triples_around<'a>(
    [b2, b1]: [Option<&'a str>; 2],
    x: &'a str,
    [a1, a2]: [Option<&'a str>; 2],
) -> [[Option<&'a str>; 3]; 3] {
    [[b2, b1, Some(x)], [b1, Some(x), a1], [Some(x), a1, a2]]
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

/// Replaces, in `words` (folded, each with its position in the query), each word that no name
/// holds beside one of its neighbours by the best-supported word one edit away (the rules in
/// the module's documentation); left to right, a corrected word is the next one's neighbour.
/// The last word is left alone when `keep_last` (a suggestion's word being typed), and is then
/// nobody's neighbour. A correction that repeats an earlier word is kept once, at the earlier
/// place. Returns whether any word changed.
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
        let beside = |d: isize| {
            at.checked_add_signed(d).and_then(|p| {
                words[..considered]
                    .iter()
                    .find(|(_, q)| *q == p)
                    .map(|(w, _)| w.as_str())
            })
        };
        let (b2, b1, a1, a2) = (beside(-2), beside(-1), beside(1), beside(2));
        if b1.is_none() && a1.is_none() {
            continue;
        }
        let w = words[i].0.as_str();
        // A word that names hold beside each of its neighbours stays as typed.
        let mut missing = false;
        let mut typed = 0;
        for g in pairs_around(b1, w, a1) {
            let n = count(searcher, f, &g)?;
            missing |= n == Some(0);
            typed += n.unwrap_or(0);
        }
        if !missing {
            continue;
        }
        if typed > 0 {
            typed += support(searcher, f, &triples_around([b2, b1], w, [a1, a2]))?;
        }
        let mut best: Option<((u64, u64), String)> = None;
        for c in neighbours(searcher, f, w)? {
            let (mut p, mut fits) = (0, true);
            for g in pairs_around(b1, &c, a1) {
                let n = count(searcher, f, &g)?;
                fits &= n != Some(0);
                p += n.unwrap_or(0);
            }
            // Beside a typed word that fits one side, only a word that fits every side.
            if p == 0 || (typed > 0 && !fits) {
                continue;
            }
            let t = support(searcher, f, &triples_around([b2, b1], &c, [a1, a2]))?;
            if p + t < MIN_SUPPORT || p + t <= OUTWEIGH * typed {
                continue;
            }
            let key = (t, p);
            if best.as_ref().is_none_or(|(b, _)| key > *b) {
                best = Some((key, c));
            }
        }
        if let Some((_, c)) = best {
            words[i].0 = c;
            changed = true;
        }
    }
    if changed {
        // A correction may repeat a word of the query: keep it once, at its first place.
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

    fn grams(text: &str, n: usize) -> Vec<String> {
        let mut t = GramTokenizer::new(crate::fold::analyzer(), n);
        let mut s = t.token_stream(text);
        let mut out = Vec::new();
        while s.advance() {
            out.push(s.token().text.clone());
        }
        out
    }

    #[test]
    fn the_grams_are_the_adjacent_folded_pairs_and_triples() {
        assert_eq!(
            grams("Cấp giấy phép, xây", 2),
            ["cap giay", "giay phep", "phep xay"]
        );
        assert_eq!(
            grams("Cấp giấy phép, xây", 3),
            ["cap giay phep", "giay phep xay"]
        );
        assert!(grams("Cấp giấy", 3).is_empty());
        assert!(grams("Cấp", 2).is_empty());
        assert!(grams("", 2).is_empty());
    }
}
