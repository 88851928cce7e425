use super::*;
use motcua_domain::catalogue::ProcedureDetails;
use motcua_domain::procedure::{
    DocumentRequirement, Level, OnlineLevel, TimeLimit, TimeUnit, VersionStatus,
};
use motcua_domain::workflow::WorkflowDef;

fn v(code: &str, name: &str, field: &str, docs: &[&str]) -> ProcedureVersion {
    let limit = TimeLimit {
        amount: 5,
        unit: TimeUnit::WorkingDays,
    };
    ProcedureVersion {
        code: code.parse().unwrap(),
        version: 1,
        status: VersionStatus::Published,
        name: name.into(),
        field: field.into(),
        levels: vec![Level::Commune],
        online_level: OnlineLevel::Full,
        time_limit: limit,
        fee_vnd: 0,
        documents: docs
            .iter()
            .map(|d| DocumentRequirement {
                name: d.to_string(),
                required: true,
            })
            .collect(),
        decision_no: String::new(),
        competent_agency: None,
        workflow: WorkflowDef::standard(limit.duration(), None),
        details: ProcedureDetails::default(),
        form: None,
    }
}

fn catalogue() -> Vec<ProcedureVersion> {
    vec![
        v(
            "1.001193",
            "Thủ tục đăng ký khai sinh",
            "Hộ tịch",
            &["Tờ khai đăng ký khai sinh"],
        ),
        v(
            "1.000656",
            "Thủ tục đăng ký khai tử",
            "Hộ tịch",
            &["Tờ khai đăng ký khai tử", "Giấy báo tử"],
        ),
        v(
            "1.001022",
            "Thủ tục đăng ký lại khai sinh",
            "Hộ tịch",
            &["Tờ khai"],
        ),
        v(
            "1.004227",
            "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ",
            "Hoạt động xây dựng",
            &["Đơn đề nghị cấp giấy phép xây dựng", "Bản vẽ thiết kế"],
        ),
        v(
            "2.000908",
            "Cấp bản sao từ sổ gốc",
            "Chứng thực",
            &["Giấy khai sinh của người yêu cầu"],
        ),
        v(
            "1.003560",
            "Đăng ký thường trú",
            "Đăng ký, quản lý cư trú",
            &["Tờ khai thay đổi thông tin cư trú"],
        ),
    ]
}

fn codes(hits: &[Hit]) -> Vec<&str> {
    hits.iter().map(|h| h.code.as_str()).collect()
}

fn index() -> SearchIndex {
    SearchIndex::build(&catalogue()).unwrap()
}

#[test]
fn words_without_diacritics_find_the_procedure_and_the_phrase_ranks_first() {
    let ix = index();
    assert_eq!(ix.len(), 6);
    let hits = ix.search("dang ky khai sinh", 10).unwrap();
    assert_eq!(hits[0].code, "1.001193", "{hits:?}");
    // "đăng ký lại khai sinh" has every word but not the phrase: below.
    assert!(codes(&hits).contains(&"1.001022"));
    let hits = ix.search("ĐĂNG KÝ KHAI TỬ", 10).unwrap();
    assert_eq!(hits[0].code, "1.000656");
}

#[test]
fn one_typo_per_word_is_tolerated() {
    let ix = index();
    let hits = ix.search("giay phep xay dumg", 10).unwrap();
    assert_eq!(codes(&hits), ["1.004227"], "{hits:?}");
    let hits = ix.search("thuong tru", 10).unwrap();
    assert_eq!(hits[0].code, "1.003560");
    let hits = ix.search("thuongg tru", 10).unwrap();
    assert_eq!(hits[0].code, "1.003560");
    // Two typos in one word: not found by the strict query.
    assert!(!codes(&ix.search("thuonggg tru", 10).unwrap()).contains(&"1.004227"));
}

#[test]
fn a_code_goes_straight_to_its_procedure() {
    let ix = index();
    assert_eq!(codes(&ix.search("1.001193", 10).unwrap()), ["1.001193"]);
    assert_eq!(codes(&ix.search(" 1.004227 ", 10).unwrap()), ["1.004227"]);
    // An unknown code is searched as words: finds nothing here.
    assert!(ix.search("9.999999", 10).unwrap().is_empty());
}

#[test]
fn documents_and_fields_are_searched() {
    let ix = index();
    assert_eq!(ix.search("giay bao tu", 10).unwrap()[0].code, "1.000656");
    assert_eq!(ix.search("chung thuc", 10).unwrap()[0].code, "2.000908");
}

#[test]
fn odd_queries_do_not_fail() {
    let ix = index();
    for q in [
        "",
        "   ",
        "?!.,;:-–—()[]{}",
        "出生登记",
        "khai sinh 出生",
        "\u{0}\u{7f}",
    ] {
        ix.search(q, 10).unwrap();
        ix.suggest(q, 10).unwrap();
    }
    assert!(ix.search("?!.,", 10).unwrap().is_empty());
    let long = "đăng ký khai sinh ".repeat(500);
    assert_eq!(ix.search(&long, 10).unwrap()[0].code, "1.001193");
    // Mixed script: the Vietnamese words still count.
    assert_eq!(ix.search("khai sinh 出生", 10).unwrap()[0].code, "1.001193");
}

#[test]
fn suggestions_complete_the_last_word() {
    let ix = index();
    let hits = ix.suggest("dang ky thuong t", 5).unwrap();
    assert_eq!(hits[0].code, "1.003560", "{hits:?}");
    let hits = ix.suggest("khai s", 5).unwrap();
    assert_eq!(hits[0].code, "1.001193");
}

#[test]
fn a_suggestion_completes_its_last_word_from_the_names() {
    let ix = index();
    // "báo" is only in a document's name ("Giấy báo tử"), "bản" in a procedure's name.
    assert_eq!(codes(&ix.suggest("giay b", 5).unwrap()), ["2.000908"]);
    // Typed whole, the word is found wherever it is.
    assert_eq!(codes(&ix.search("giay bao", 5).unwrap()), ["1.000656"]);
}

#[test]
fn upsert_and_remove_refresh_the_index() {
    let ix = index();
    let mut changed = catalogue()[0].clone();
    changed.name = "Đăng ký khai sinh có yếu tố nước ngoài".into();
    ix.upsert([&changed]).unwrap();
    assert_eq!(ix.len(), 6);
    assert_eq!(ix.search("nuoc ngoai", 10).unwrap()[0].code, "1.001193");
    ix.remove("1.001193").unwrap();
    assert_eq!(ix.len(), 5);
    assert!(ix.search("1.001193", 10).unwrap().is_empty());
}

#[test]
fn a_word_in_the_name_ranks_above_the_same_word_elsewhere() {
    let ix = SearchIndex::build(&[
        v(
            "1.000101",
            "Cấp phép khai thác",
            "Tài nguyên",
            &["Bản đồ khu vực"],
        ),
        v("1.000102", "Cấp bản đồ", "Đo đạc", &["Tờ khai"]),
    ])
    .unwrap();
    assert_eq!(
        codes(&ix.search("ban do", 10).unwrap()),
        ["1.000102", "1.000101"]
    );
}

/// A deterministic catalogue of `n` procedures whose names mix a few very common words, so
/// that a query's words match thousands of procedures and the first phase has to choose.
fn crowded(n: usize) -> Vec<ProcedureVersion> {
    const WORDS: [&str; 16] = [
        "đăng", "ký", "cấp", "giấy", "phép", "thủ", "tục", "hộ", "tịch", "khai", "sinh", "xây",
        "dựng", "lại", "đổi", "thay",
    ];
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m as u64) as usize
    };
    (0..n)
        .map(|i| {
            let name: Vec<&str> = (0..4 + next(6)).map(|_| WORDS[next(WORDS.len())]).collect();
            let docs: Vec<String> = (0..next(4))
                .map(|_| {
                    (0..3 + next(8))
                        .map(|_| WORDS[next(WORDS.len())])
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect();
            let docs: Vec<&str> = docs.iter().map(String::as_str).collect();
            v(&format!("9.{i:06}"), &name.join(" "), "Hộ tịch", &docs)
        })
        .collect()
}

/// An index of `crowded(n)` and `extra`, searched the large catalogue's way at any size.
fn crowded_with(n: usize, extra: ProcedureVersion) -> SearchIndex {
    let mut all = crowded(n);
    all.push(extra);
    let mut ix = SearchIndex::build(&all).unwrap();
    ix.two_phase_from = 0;
    ix
}

/// The ranking of every ranking clause over every matching procedure, as one boolean query:
/// every word required, or any word when no procedure has them all.
fn exhaustive(ix: &SearchIndex, text: &str, limit: usize, prefix_last: bool) -> Vec<Hit> {
    let searcher = ix.reader.searcher();
    let words = ix.words(text);
    let mut words = query::words(&searcher, &ix.fields, &words, prefix_last).unwrap();
    words.retain(|w| w.matches);
    let mut found = Vec::new();
    for strict in [true, false] {
        if !strict && words.len() == 1 {
            break;
        }
        let plan = query::plan(&ix.fields, &words, strict);
        let q = tantivy::query::BooleanQuery::new(plan.clauses());
        found = searcher
            .search(&q, &TopDocs::with_limit(limit).order_by_score())
            .unwrap();
        if !found.is_empty() {
            break;
        }
    }
    ix.hits(&searcher, found).unwrap()
}

/// The same procedures in the same order with the same scores. The sums' order may differ,
/// so procedures whose scores differ only by rounding may swap places, or swap in and out at
/// the end of the answer.
fn assert_same(fast: &[Hit], full: &[Hit], q: &str) {
    let close = |a: f32, b: f32| (a - b).abs() < 1e-3 * b.abs().max(1.0);
    assert_eq!(fast.len(), full.len(), "{q}: {fast:?} against {full:?}");
    for (a, b) in fast.iter().zip(full) {
        assert!(close(a.score, b.score), "{q}: {a:?} against {b:?}");
        if a.code != b.code {
            let tied = |h: &Hit| close(h.score, a.score);
            let here = |hs: &[Hit], code: &str| hs.iter().any(|h| h.code == code && tied(h));
            let last = full.last().map_or(0.0, |h| h.score);
            assert!(
                (here(full, &a.code) || close(a.score, last))
                    && (here(fast, &b.code) || close(b.score, last)),
                "{q}: {fast:?} against {full:?}"
            );
        }
    }
}

#[test]
fn the_first_phase_keeps_the_exhaustive_ranking_in_a_crowded_catalogue() {
    let mut ix = SearchIndex::build(&crowded(5000)).unwrap();
    ix.two_phase_from = 0;
    for q in [
        "dang ky",
        "cap giay phep",
        "thu tuc ho tich",
        "khai sinh",
        "giay",
        "xay dung lai",
        "doi thay giay phep",
        "dang ky khai sinh lai",
    ] {
        let fast = ix.search(q, 10).unwrap();
        let full = exhaustive(&ix, q, 10, false);
        assert_eq!(fast.len(), 10, "{q}");
        if q.split(' ').count() <= rank::NAME_FIRST_MAX_WORDS {
            assert_same(&fast, &full, q);
            continue;
        }
        // A longer query gathers its candidates (decisions 0033, 0047): not exhaustive, but
        // each hit is scored in full, best first, and most of the exhaustive answer is there.
        let every = exhaustive(&ix, q, 5000, false);
        for h in &fast {
            let s = every
                .iter()
                .find(|e| e.code == h.code)
                .expect("a match")
                .score;
            assert!(
                (h.score - s).abs() < 1e-3 * s.max(1.0),
                "{q}: {h:?} against {s}"
            );
        }
        assert!(
            fast.windows(2).all(|w| w[0].score >= w[1].score),
            "{q}: {fast:?}"
        );
        assert_eq!(fast[0].code, full[0].code, "{q}");
        let shared = fast
            .iter()
            .filter(|h| full.iter().any(|f| f.code == h.code));
        assert!(shared.count() >= 8, "{q}: {fast:?} against {full:?}");
    }
}

/// Random queries over the crowded catalogue: one to three words from its vocabulary (some
/// not in it, some with a typo), searched and suggested, at several answer lengths. The
/// search that goes from the names outwards (decision 0039) must give exactly what scoring
/// every match gives. (Longer queries gather candidates, which is not exhaustive: five-word
/// queries of this test do differ.)
#[test]
fn the_pruned_search_equals_the_exhaustive_one_for_random_queries() {
    let ix = crowded_with(
        6000,
        v(
            "1.009997",
            "Cấp lại giấy phép xây dựng",
            "Hoạt động xây dựng",
            &["Đơn đề nghị cấp lại giấy phép"],
        ),
    );
    const WORDS: [&str; 20] = [
        "dang", "ky", "cap", "giay", "phep", "thu", "tuc", "ho", "tich", "khai", "sinh", "xay",
        "dung", "lai", "doi", "thay", "giayy", "phap", "khongco", "de",
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m as u64) as usize
    };
    let mut compared = 0;
    for _ in 0..300 {
        let n = 1 + next(rank::NAME_FIRST_MAX_WORDS);
        let q: Vec<&str> = (0..n).map(|_| WORDS[next(WORDS.len())]).collect();
        let mut q = q.join(" ");
        let prefix = next(4) == 0;
        if prefix {
            // Cut the last word after one to three letters.
            let keep = q.len()
                - q.rsplit(' ')
                    .next()
                    .map_or(0, |w| w.len().saturating_sub(1 + next(3)));
            q.truncate(keep);
        }
        let limit = [1, 5, 10, 20][next(4)];
        let fast = if prefix {
            ix.suggest(&q, limit).unwrap()
        } else {
            ix.search(&q, limit).unwrap()
        };
        let full = exhaustive(&ix, &q, limit, prefix);
        assert_same(&fast, &full, &q);
        compared += usize::from(!full.is_empty());
    }
    assert!(compared > 250, "{compared}");
}

#[test]
fn the_phrase_in_the_name_ranks_first_in_a_crowded_catalogue() {
    // Every word again and again in the documents of the others; the phrase in this name only.
    let ix = crowded_with(
        5000,
        v(
            "1.009999",
            "Thủ tục gia hạn giấy phép xây dựng trong khu vực biên giới đất liền",
            "Hoạt động xây dựng",
            &["Đơn đề nghị gia hạn"],
        ),
    );
    let hits = ix.search("gia han giay phep xay dung", 10).unwrap();
    assert_eq!(hits[0].code, "1.009999", "{hits:?}");
    let hits = ix.search("giay phep xay dung", 10).unwrap();
    assert_eq!(hits[0].code, "1.009999", "{hits:?}");
}

#[test]
fn typos_and_completions_work_in_a_crowded_catalogue() {
    let ix = crowded_with(
        5000,
        v(
            "1.009998",
            "Đăng ký thường trú",
            "Cư trú",
            &["Tờ khai thay đổi thông tin cư trú"],
        ),
    );
    assert_eq!(
        ix.search("dang ky thuongg tru", 10).unwrap()[0].code,
        "1.009998"
    );
    assert_eq!(
        ix.suggest("dang ky thuong t", 10).unwrap()[0].code,
        "1.009998"
    );
    assert_eq!(ix.search("1.009998", 10).unwrap()[0].code, "1.009998");
    // A word no procedure holds is left out.
    let hits = ix.search("thuong tru khongco", 10).unwrap();
    assert_eq!(hits[0].code, "1.009998", "{hits:?}");
    assert!(hits.iter().all(|h| h.code == "1.009998"), "{hits:?}");
    // No procedure has every word: any word may match, best first.
    let hits = ix.search("thuong tru cap", 10).unwrap();
    assert_eq!(hits[0].code, "1.009998", "{hits:?}");
    assert!(hits.len() > 1, "{hits:?}");
}

#[test]
fn an_expansion_matches_what_the_fuzzy_query_matches() {
    use tantivy::query::FuzzyTermQuery;
    let ix = index();
    let searcher = ix.reader.searcher();
    for (word, prefix) in [
        ("thuongg", false),
        ("dumg", false),
        ("khai", true),
        ("s", true),
    ] {
        let t = Term::from_field_text(ix.fields.all, word);
        let fuzzy = if prefix {
            FuzzyTermQuery::new_prefix(t, u8::from(word.len() >= 4), true)
        } else {
            FuzzyTermQuery::new(t, 1, true)
        };
        let found = expand::Expansion::find(&searcher, ix.fields.all, &fuzzy).unwrap();
        let all = |q: &dyn tantivy::query::Query| {
            let mut hits = searcher
                .search(q, &TopDocs::with_limit(100).order_by_score())
                .unwrap();
            hits.sort_by_key(|(_, a)| *a);
            hits
        };
        let want = all(&fuzzy);
        assert!(!want.is_empty(), "{word}");
        assert_eq!(all(&found), want, "{word}");
    }
}

/// `SearchIndex::exhaustive` (the benchmark's reference for the pruned search) ranks as the
/// tests' own one-query reference does, for searches and suggestions, short and long, on a
/// catalogue searched the large catalogue's way; a code still names its procedure alone.
#[test]
fn the_public_exhaustive_ranking_is_the_reference_one() {
    let ix = crowded_with(
        3000,
        v(
            "1.009997",
            "Cấp lại giấy phép xây dựng",
            "Hoạt động xây dựng",
            &[],
        ),
    );
    for (q, suggest) in [
        ("dang ky", false),
        ("cap giay phep xay dung lai", false),
        ("thu tuc ho tich khai sinh dang ky", false),
        ("cap giay phepp", false),
        ("dang ky khai s", true),
        ("xay dung l", true),
        ("khongco", false),
    ] {
        let public = ix.exhaustive(q, 10, suggest).unwrap();
        let reference = exhaustive(&ix, q, 10, suggest);
        assert_same(&public, &reference, q);
    }
    let code = ix.exhaustive("1.009997", 10, false).unwrap();
    assert_eq!(codes(&code), ["1.009997"]);
    // A long query's pruned search gathers candidates: it may differ from the exhaustive
    // ranking below the first places, never in the phrase match ranked first.
    let fast = ix.search("cap lai giay phep xay dung", 10).unwrap();
    let full = ix
        .exhaustive("cap lai giay phep xay dung", 10, false)
        .unwrap();
    assert_eq!(fast[0].code, "1.009997");
    assert_eq!(full[0].code, "1.009997");
}

/// A typo (expanded) or a short word no procedure holds (left out) leaves its place in the
/// phrase open, and a suggestion's half-typed last word ends it as a prefix. The phrase of the
/// other words at their places still ranks the procedure named so first, in a catalogue where
/// every word is in thousands of other names.
#[test]
fn a_typo_or_a_half_typed_word_keeps_the_rest_of_the_phrase() {
    let ix = crowded_with(
        5000,
        v(
            "1.009996",
            "Cấp giấy phép xây dựng mới đối với công trình",
            "Hoạt động xây dựng",
            &[],
        ),
    );
    for (q, suggest) in [
        ("cap giay phepp xay dung", false),
        ("cap giayy phep xay dung", false),
        ("cap giay phep xzy dung", false),
        ("cap giay phep xay dung mo", true),
        ("cap giay phep xay d", true),
    ] {
        let hits = if suggest {
            ix.suggest(q, 10).unwrap()
        } else {
            ix.search(q, 10).unwrap()
        };
        assert_eq!(hits[0].code, "1.009996", "{q}: {hits:?}");
        if !suggest {
            assert_same(&hits[..1], &ix.exhaustive(q, 1, false).unwrap(), q);
        }
    }
}

/// A suggestion's last word ends the phrase as a prefix, even when it is a whole word of
/// other names ("ho", "hộ", in thousands of them): "cap giay phep ho" suggests "Cấp giấy phép
/// hoạt động ..." first.
#[test]
fn a_suggestion_completes_the_phrase_even_when_its_last_word_is_a_word() {
    let ix = crowded_with(
        5000,
        v(
            "1.009995",
            "Cấp giấy phép hoạt động xây dựng",
            "Hoạt động xây dựng",
            &[],
        ),
    );
    let hits = ix.suggest("cap giay phep ho", 10).unwrap();
    assert_eq!(hits[0].code, "1.009995", "{hits:?}");
    let full = ix.exhaustive("cap giay phep ho", 10, true).unwrap();
    assert_same(&hits, &full, "cap giay phep ho");
}

#[test]
fn a_large_catalogue_forgets_a_changed_or_removed_procedure() {
    // Large-catalogue ranking (name-first passes, gathered long queries) over a segment that
    // still holds the replaced version as deleted: only the current version is found, once,
    // scored as the collector-based ranking (which skips deleted documents) scores it.
    let mut extra = v(
        "1.009999",
        "Cấp giấy phép khai thác nước dưới đất quy mô nhỏ",
        "Tài nguyên",
        &["Đơn đề nghị"],
    );
    let ix = crowded_with(3000, extra.clone());
    let old = ["khai thac nuoc", "cap giay phep khai thac nuoc duoi dat"];
    let new = [
        "gia han xa thai",
        "gia han giay phep xa thai vao nguon nuoc",
    ];
    for q in old {
        assert_eq!(ix.search(q, 5).unwrap()[0].code, "1.009999", "{q}");
    }
    // Each hit of the procedure, with the score the exhaustive ranking gives it (if any).
    let scored = |q: &str| -> (Vec<f32>, Option<f32>) {
        let hits = ix.search(q, 20).unwrap();
        let full = exhaustive(&ix, q, 5000, false);
        let mine = |hs: &[Hit]| -> Vec<f32> {
            hs.iter()
                .filter(|h| h.code == "1.009999")
                .map(|h| h.score)
                .collect()
        };
        (mine(&hits), mine(&full).first().copied())
    };
    let before = scored(old[1]).0[0];
    extra.name = "Gia hạn giấy phép xả thải vào nguồn nước".into();
    ix.upsert([&extra]).unwrap();
    for q in old.into_iter().chain(new) {
        let (found, current) = scored(q);
        assert!(found.len() <= 1, "{q}: found {found:?}");
        if let Some(s) = found.first() {
            assert!(
                (s - current.unwrap()).abs() < 1e-3,
                "{q}: {s} against {current:?}"
            );
        }
    }
    assert!(scored(old[1]).0.iter().all(|s| *s < before / 2.0));
    for q in new {
        assert_eq!(ix.search(q, 5).unwrap()[0].code, "1.009999", "{q}");
    }
    ix.remove("1.009999").unwrap();
    for q in old.into_iter().chain(new) {
        let hits = ix.search(q, 20).unwrap();
        assert!(hits.iter().all(|h| h.code != "1.009999"), "{q}: {hits:?}");
    }
}

#[test]
fn the_conjunction_through_bitsets_is_the_postings_conjunction() {
    use tantivy::collector::DocSetCollector;
    use tantivy::query::{BooleanQuery, Occur, TermQuery};
    use tantivy::schema::IndexRecordOption;
    let extra = v(
        "1.009999",
        "Cấp giấy phép khai thác nước dưới đất",
        "Tài nguyên",
        &["Đơn đề nghị cấp giấy phép"],
    );
    let ix = crowded_with(3000, extra);
    let searcher = ix.reader.searcher();
    let term = |w: &str| Term::from_field_text(ix.fields.all, w);
    let dense = crate::dense::DenseTerms::default();
    for words in [
        vec!["cap", "giay", "phep"],             // every word dense
        vec!["khai", "thac", "nuoc"],            // a dense word and rare ones
        vec!["dang", "ky", "ho", "tich", "lai"], // five dense words
        vec!["giay"],                            // one dense word
        vec!["nuoc"],                            // one rare word
        vec!["giay", "khongco"],                 // a word no procedure holds
    ] {
        let terms: Vec<Term> = words.iter().map(|w| term(w)).collect();
        let q = BooleanQuery::new(
            terms
                .iter()
                .map(|t| {
                    let q: Box<dyn tantivy::query::Query> =
                        Box::new(TermQuery::new(t.clone(), IndexRecordOption::Basic));
                    (Occur::Must, q)
                })
                .collect(),
        );
        let mut expected: Vec<tantivy::DocAddress> = searcher
            .search(&q, &DocSetCollector)
            .unwrap()
            .into_iter()
            .collect();
        expected.sort();
        // Twice: bitsets built, then read from the cache.
        for _ in 0..2 {
            let mut found = Vec::new();
            for (ord, reader) in searcher.segment_readers().iter().enumerate() {
                let refs: Vec<&Term> = terms.iter().collect();
                crate::dense::for_each_with_all(&dense, &searcher, reader, &refs, &mut |d| {
                    found.push(tantivy::DocAddress::new(ord as u32, d))
                })
                .unwrap();
            }
            assert_eq!(found, expected, "{words:?}");
        }
        if words.len() > 1 && words[1] != "khongco" {
            assert!(!expected.is_empty(), "{words:?}");
        }
    }
    // The common words were kept as bitsets, the rare one was not.
    let reader = &searcher.segment_readers()[0];
    assert!(
        dense
            .get(&searcher, reader, &term("giay"))
            .unwrap()
            .is_some()
    );
    assert!(
        dense
            .get(&searcher, reader, &term("thac"))
            .unwrap()
            .is_none()
    );
}

/// Folded, a typo often makes another word ("phep" typed "phap", of "tư pháp"; "ho" typed
/// "hoa", of "hóa chất"): the word is known, so it is not expanded, and every procedure meant
/// lacks it. No name holds it next to its neighbours in the query: it is corrected to the word
/// one edit away that names hold there (decision 0048).
#[test]
fn a_typo_that_makes_another_word_is_corrected_by_its_neighbours() {
    let mut c = catalogue();
    c.extend([
        // A name holds "phap xay" (not "giay phap"): "phap" is still read as "phep" there.
        v(
            "2.001116",
            "Bổ nhiệm và cấp thẻ giám định viên tư pháp xây dựng",
            "Giám định tư pháp",
            &[],
        ),
        v(
            "2.001417",
            "Cấp phiếu lý lịch tư pháp",
            "Lý lịch tư pháp",
            &[],
        ),
        v("1.001612", "Đăng ký hộ kinh doanh", "Hộ kinh doanh", &[]),
        v(
            "1.001266",
            "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh",
            "Hộ kinh doanh",
            &[],
        ),
        v(
            "2.000205",
            "Cấp giấy chứng nhận đủ điều kiện kinh doanh hóa chất",
            "Hóa chất",
            &[],
        ),
        v("1.000894", "Thủ tục đăng ký kết hôn", "Hộ tịch", &[]),
        // More names hold "kết hợp" than "kết hôn": "ket hom" is read by its triples.
        v(
            "1.000689",
            "Thủ tục đăng ký khai sinh kết hợp đăng ký nhận cha, mẹ, con",
            "Hộ tịch",
            &[],
        ),
        v(
            "1.001695",
            "Thủ tục đăng ký khai sinh kết hợp nhận cha, mẹ, con có yếu tố nước ngoài",
            "Hộ tịch",
            &[],
        ),
    ]);
    let ix = SearchIndex::build(&c).unwrap();
    for (q, meant) in [
        ("cap giay phap xay dung", "1.004227"),
        ("giay phap xay dung", "1.004227"),
        ("dang ky hoa kinh doanh", "1.001612"),
        ("dang ki ket hon", "1.000894"),
        ("dang ky ket hom", "1.000894"),
        // As typed: found as before.
        ("cap giay phep xay dung", "1.004227"),
        ("kinh doanh hoa chat", "2.000205"),
        ("ly lich tu phap", "2.001417"),
        ("tu phap xay dung", "2.001116"),
        // A word alone has no neighbour to correct it by.
        ("phap", "2.001417"),
    ] {
        let hits = ix.search(q, 10).unwrap();
        assert_eq!(
            hits.first().map(|h| h.code.as_str()),
            Some(meant),
            "{q}: {hits:?}"
        );
    }
    // A suggestion corrects the words before the one being typed, not that one.
    let hits = ix.suggest("cap giay phap xay d", 10).unwrap();
    assert_eq!(hits[0].code, "1.004227", "{hits:?}");
    let hits = ix.suggest("ly lich tu pha", 10).unwrap();
    assert_eq!(hits[0].code, "2.001417", "{hits:?}");
}
