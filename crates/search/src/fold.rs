//! The Vietnamese token filter: each token folded by [`motcua_domain::text::fold`] (diacritics
//! and đ/Đ removed, lowercased), so the index and the queries meet on the same key whatever the
//! input's accents, case or Unicode normalization form.

use tantivy::tokenizer::{
    RemoveLongFilter, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
};
use unicode_normalization::char::is_combining_mark;

/// Splits text into words: runs of letters, digits and combining marks (so NFD-encoded
/// "Đăng" stays one word, which tantivy's `SimpleTokenizer` would cut at each mark).
#[derive(Clone, Copy, Debug, Default)]
pub struct WordTokenizer;

/// The words of one text.
pub struct WordStream<'a> {
    text: &'a str,
    chars: std::str::CharIndices<'a>,
    token: Token,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        WordStream {
            text,
            chars: text.char_indices(),
            token: Token {
                position: usize::MAX,
                ..Token::default()
            },
        }
    }
}

fn in_word(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        let start = loop {
            match self.chars.next() {
                Some((i, c)) if in_word(c) => break i,
                Some(_) => continue,
                None => return false,
            }
        };
        let end = loop {
            match self.chars.next() {
                Some((i, c)) if !in_word(c) => break i,
                Some(_) => continue,
                None => break self.text.len(),
            }
        };
        self.token.text.clear();
        self.token.text.push_str(&self.text[start..end]);
        self.token.offset_from = start;
        self.token.offset_to = end;
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

/// Folds every token of the wrapped tokenizer.
#[derive(Clone, Copy, Debug, Default)]
pub struct VietFold;

impl TokenFilter for VietFold {
    type Tokenizer<T: Tokenizer> = VietFoldTokenizer<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> VietFoldTokenizer<T> {
        VietFoldTokenizer(tokenizer)
    }
}

/// A tokenizer whose tokens are folded.
#[derive(Clone)]
pub struct VietFoldTokenizer<T>(T);

impl<T: Tokenizer> Tokenizer for VietFoldTokenizer<T> {
    type TokenStream<'a> = VietFoldStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        VietFoldStream(self.0.token_stream(text))
    }
}

/// The folded token stream.
pub struct VietFoldStream<S>(S);

impl<S: TokenStream> TokenStream for VietFoldStream<S> {
    fn advance(&mut self) -> bool {
        if !self.0.advance() {
            return false;
        }
        let t = self.0.token_mut();
        // ASCII lowercase is already folded: skip the allocation (most query words).
        if !t
            .text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            t.text = motcua_domain::text::fold(&t.text);
        }
        true
    }

    fn token(&self) -> &Token {
        self.0.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
}

/// The `vi` analyzer: words of letters, digits and marks, at most 40 bytes, folded.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer)
        .filter(RemoveLongFilter::limit(40))
        .filter(VietFold)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str) -> Vec<String> {
        let mut a = analyzer();
        let mut st = a.token_stream(s);
        let mut out = Vec::new();
        while st.advance() {
            out.push(st.token().text.clone());
        }
        out
    }

    #[test]
    fn folds_diacritics_and_d_with_stroke() {
        assert_eq!(tokens("Đăng ký KHAI SINH"), ["dang", "ky", "khai", "sinh"]);
        // NFD input (combining marks) folds the same.
        assert_eq!(tokens("Đa\u{306}ng ky\u{301}"), ["dang", "ky"]);
        assert_eq!(tokens("Thuỷ lợi, thủy-sản"), ["thuy", "loi", "thuy", "san"]);
        assert!(tokens("?!… -- //").is_empty());
        assert_eq!(tokens("1.001193"), ["1", "001193"]);
    }
}
