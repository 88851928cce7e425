//! Vietnamese text helpers: normalization for storage and folding for search.
//!
//! Stored text keeps its diacritics and is NFC-normalized ([`nfc`]) so that equal words are equal
//! bytes. Search and matching go through [`fold`], which strips tones and vowel marks, maps `đ` to
//! `d` and lowercases, so "Đăng ký khai sinh", "dang ky khai sinh" and an NFD-encoded copy from a
//! Mac or an old VNI/TCVN3 conversion all meet at the same key. [`slug`] builds URL-safe names on
//! top of [`fold`].

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// NFC-normalizes (data keeps its diacritics; use this before storing/comparing).
///
/// Text that the quick check proves normalized (almost everything typed or imported: Vietnamese
/// letters are precomposed) is copied as it is, without decomposing and recomposing it.
pub fn nfc(s: &str) -> String {
    match unicode_normalization::is_nfc_quick(s.chars()) {
        unicode_normalization::IsNormalized::Yes => s.to_string(),
        _ => s.nfc().collect(),
    }
}

/// Folds for search: NFD, drop combining marks, đ/Đ -> d, lowercase, collapse whitespace, trim.
///
/// "Đăng ký khai sinh" -> "dang ky khai sinh"; works on NFD input too; "Thuỷ" and "Thủy" fold
/// equally. The Icelandic eth (`Ð`/`ð`, U+00D0/U+00F0), which legacy Vietnamese encodings often
/// produce in place of `Đ`, also folds to `d`. The result is a fixed point: `fold(fold(s)) ==
/// fold(s)`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        // Lowercasing can yield characters that decompose again (e.g. `İ` -> `i̇`), so each
        // lowercase char is decomposed and stripped once more; this keeps `fold` idempotent.
        for lower in c.to_lowercase() {
            decompose_canonical(lower, |d| {
                if is_combining_mark(d) {
                    return;
                }
                if pending_space {
                    out.push(' ');
                    pending_space = false;
                }
                out.push(match d {
                    'đ' | 'ð' => 'd',
                    other => other,
                });
            });
        }
    }
    out
}

/// A URL-safe slug from fold(): ascii alnum words joined by '-'.
pub fn slug(s: &str) -> String {
    let folded = fold(s);
    let mut out = String::with_capacity(folded.len());
    for word in folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// NFD spelling of a string, to simulate input from macOS or copy-paste from PDFs.
    fn nfd(s: &str) -> String {
        s.nfd().collect()
    }

    #[test]
    fn folds_a_procedure_name() {
        assert_eq!(fold("Đăng ký khai sinh"), "dang ky khai sinh");
        assert_eq!(
            fold("Cấp giấy chứng nhận quyền sử dụng đất"),
            "cap giay chung nhan quyen su dung dat"
        );
    }

    #[test]
    fn folds_nfd_input_like_nfc_input() {
        let name = "Nguyễn Thị Hồng Nhung — Phường Đống Đa";
        let decomposed = nfd(name);
        assert_ne!(decomposed, name, "test input must really differ in NFD");
        assert_eq!(fold(&decomposed), fold(name));
        assert_eq!(fold(name), "nguyen thi hong nhung — phuong dong da");
    }

    #[test]
    fn old_and_new_tone_placement_fold_equally() {
        assert_eq!(fold("Thuỷ"), fold("Thủy"));
        assert_eq!(fold("Hoà"), fold("Hòa"));
        assert_eq!(fold("hoá đơn"), fold("hóa đơn"));
        assert_eq!(fold("Hoà"), "hoa");
    }

    #[test]
    fn d_with_stroke_and_legacy_eth_fold_to_d() {
        assert_eq!(fold("Đ đ"), "d d");
        assert_eq!(fold("ĐỒNG"), "dong");
        // U+00D0 (Ð) is what broken TCVN3/VNI conversions often leave for Đ.
        assert_eq!(fold("\u{00D0}à Nẵng"), "da nang");
    }

    #[test]
    fn mixed_case_and_whitespace_are_normalized() {
        assert_eq!(fold("  UBND   Xã\tTân\nLập  "), "ubnd xa tan lap");
        assert_eq!(fold("ỦY BAN NHÂN DÂN"), "uy ban nhan dan");
        assert_eq!(fold("\u{00A0}Hà\u{3000}Nội\u{00A0}"), "ha noi");
    }

    #[test]
    fn empty_and_blank_strings_fold_to_empty() {
        assert_eq!(fold(""), "");
        assert_eq!(fold("   \t\n"), "");
        assert_eq!(slug(""), "");
        assert_eq!(slug(" - . "), "");
        assert_eq!(nfc(""), "");
    }

    #[test]
    fn dotted_capital_i_folds_idempotently() {
        let once = fold("İstanbul");
        assert_eq!(once, "istanbul");
        assert_eq!(fold(&once), once);
    }

    #[test]
    fn nfc_composes_and_keeps_diacritics() {
        let decomposed = nfd("Đăng ký khai sinh");
        assert_eq!(nfc(&decomposed), "Đăng ký khai sinh");
        // Tone placement is spelling, not encoding: NFC keeps the two forms apart, fold joins them.
        assert_ne!(nfc("Hoà"), nfc("Hòa"));
        assert_eq!(nfc("Hòa"), "Hòa");
    }

    #[test]
    fn slug_joins_ascii_words_with_dashes() {
        assert_eq!(slug("Đăng ký khai sinh"), "dang-ky-khai-sinh");
        assert_eq!(
            slug("  Thủ tục: Cấp lại (bản sao) -- giấy phép 2025! "),
            "thu-tuc-cap-lai-ban-sao-giay-phep-2025"
        );
        assert_eq!(slug("Hoà Bình"), slug("Hòa Bình"));
        assert_eq!(
            slug("Sở Tư pháp / 000.00.12.H56"),
            "so-tu-phap-000-00-12-h56"
        );
    }

    const VOWELS: &str = "aăâeêioôơuưy";
    const CONSONANTS: &str = "bcdđghklmnpqrstvx";
    const TONES: [Option<char>; 6] = [
        None,
        Some('\u{0300}'),
        Some('\u{0301}'),
        Some('\u{0303}'),
        Some('\u{0309}'),
        Some('\u{0323}'),
    ];

    /// Every letter of the Vietnamese alphabet, including each vowel with each tone, in NFC.
    fn vietnamese_letters() -> Vec<String> {
        let mut letters: Vec<String> = CONSONANTS.chars().map(String::from).collect();
        for v in VOWELS.chars() {
            for tone in TONES {
                let mut s = String::from(v);
                s.extend(tone);
                letters.push(nfc(&s));
            }
        }
        letters
    }

    /// Strings of Vietnamese letters, digits and whitespace, in random case and NFC or NFD.
    fn vietnamese_text() -> impl Strategy<Value = String> {
        let letters = vietnamese_letters();
        let token = prop_oneof![
            8 => (0..letters.len(), any::<bool>()).prop_map(move |(i, upper)| {
                if upper { letters[i].to_uppercase() } else { letters[i].clone() }
            }),
            2 => "[ \t\n]{1,3}",
            1 => "[0-9]",
        ];
        (proptest::collection::vec(token, 0..40), any::<bool>()).prop_map(|(tokens, as_nfd)| {
            let s = tokens.concat();
            if as_nfd { nfd(&s) } else { s }
        })
    }

    #[test]
    fn alphabet_has_every_toned_vowel() {
        let letters = vietnamese_letters();
        assert_eq!(letters.len(), 17 + 12 * 6);
        assert!(
            letters.iter().all(|l| l.chars().count() == 1),
            "{letters:?}"
        );
        assert!(letters.contains(&"ự".to_owned()));
    }

    proptest! {
        #[test]
        fn fold_of_vietnamese_is_ascii_and_idempotent(s in vietnamese_text()) {
            let folded = fold(&s);
            prop_assert!(folded.is_ascii(), "{folded:?}");
            prop_assert_eq!(fold(&folded), folded.clone());
            prop_assert!(!folded.starts_with(' ') && !folded.ends_with(' '));
            prop_assert!(!folded.contains("  "));
            prop_assert_eq!(fold(&nfd(&s)), folded.clone());
            prop_assert_eq!(fold(&nfc(&s)), folded.clone());
            prop_assert_eq!(fold(&s.to_uppercase()), folded);
        }

        #[test]
        fn fold_is_idempotent_on_any_text(s in any::<String>()) {
            let folded = fold(&s);
            prop_assert_eq!(fold(&folded), folded);
        }

        #[test]
        fn slug_is_url_safe(s in any::<String>()) {
            let slugged = slug(&s);
            prop_assert!(slugged.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            prop_assert!(!slugged.starts_with('-') && !slugged.ends_with('-'));
            prop_assert!(!slugged.contains("--"));
            prop_assert_eq!(slug(&slugged), slugged);
        }

        #[test]
        fn nfc_equals_the_full_normalization(s in any::<String>()) {
            prop_assert_eq!(nfc(&s), s.nfc().collect::<String>());
        }

        /// Vietnamese letters, precomposed or not, with loose combining marks (tones, hook,
        /// horn, breve, circumflex) anywhere: the quick check's "maybe" cases.
        #[test]
        fn nfc_of_mixed_vietnamese_equals_the_full_normalization(
            s in "[aeiouyAEIOUYdDđĐăâêôơưĂÂÊÔƠƯáàảãạếềểễệỨừửữự \u{0300}\u{0301}\u{0302}\u{0303}\u{0306}\u{0309}\u{031B}\u{0323}]{0,40}"
        ) {
            prop_assert_eq!(nfc(&s), s.nfc().collect::<String>());
        }

        #[test]
        fn nfc_is_idempotent(s in any::<String>()) {
            let once = nfc(&s);
            prop_assert_eq!(nfc(&once), once);
        }
    }
}
