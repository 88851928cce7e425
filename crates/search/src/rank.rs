//! The best procedures for a plan without scoring every match: exactly, from the names
//! outwards, for queries of up to [`NAME_FIRST_MAX_WORDS`] words (decision 0039); by gathered
//! candidates for longer ones (decisions 0033, 0047).
//!
//! A procedure's score is the sum of three parts: its words on `all` (A), its words in the name
//! (N, boosted) and the phrase in the name (P, boosted more). In a large catalogue the common
//! words are on `all` of most procedures, so the matches of `all` are many while the names
//! that hold the words are few, and N and P outweigh A. So the search goes from the name
//! outwards, keeping the best `limit` so far and their lowest score θ:
//!
//! 1. the procedures with every word in the name (the only ones a phrase can match), pruned by
//!    tantivy's Block-WAND on N with the threshold θ − max A − max P;
//! 2. the procedures with any word in the name, pruned on N with θ − max A;
//! 3. the matches on `all`, pruned on A with θ, which tantivy ends at once when max A ≤ θ (a
//!    procedure without a word in its name scores A alone).
//!
//! Every procedure a pass offers is scored with every clause, once. A procedure a pass prunes
//! cannot reach θ with any part it lacks, so the answer is the exhaustive one.

use crate::dense::DenseTerms;
use crate::query::{Plan, combine};
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use tantivy::collector::TopDocs;
use tantivy::query::{
    Bm25Weight, BooleanQuery, EnableScoring, Occur, Query, QueryClone, Scorer, Weight,
};
use tantivy::{BitSet, DocAddress, DocId, Score, Searcher, SegmentReader, TERMINATED};

/// Below this many procedures a search scores every match in one pass (at 2,381 a boolean
/// query over every clause is the cheapest).
pub const TWO_PHASE_FROM: usize = 20_000;

/// Queries of at most this many words go from the names outwards; longer ones gather
/// candidates (their name passes meet too many procedures holding one of the words: at
/// 100,000 procedures, 6 words cost 1.7 ms that way against 0.8 ms gathering).
pub const NAME_FIRST_MAX_WORDS: usize = 3;

/// Candidates each gather query contributes beyond the answer's length: enough that the name
/// and phrase boosts reorder the best ones without a full scan of every matching procedure.
pub const EXTRA_CANDIDATES: usize = 100;

/// The best `limit` documents of `plan`, best first (ties: lower address first); found from
/// the names outwards from `two_phase_from` documents.
pub fn top(
    searcher: &Searcher,
    dense: &DenseTerms,
    plan: &Plan,
    limit: usize,
    two_phase_from: usize,
) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    if (searcher.num_docs() as usize) < two_phase_from {
        // A small catalogue: one pass over every match.
        let q = BooleanQuery::new(plan.clauses());
        return searcher.search(&q, &TopDocs::with_limit(limit).order_by_score());
    }
    if plan.words.len() > NAME_FIRST_MAX_WORDS {
        return gathered(searcher, dense, plan, limit);
    }
    let weights = Weights::new(searcher, plan)?;
    let mut best = Best::new(limit);
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        weights.segment(reader, ord as u32, &mut best)?;
    }
    Ok(best.into_sorted())
}

/// The best `limit` of candidates gathered by queries tantivy prunes to their top hits (the
/// words on `all`, the plain words in the name, the phrase in the name), each scored with
/// every clause (decision 0033). Not exhaustive: a procedure outside every gather's best
/// `limit + EXTRA_CANDIDATES` is not seen.
///
/// A strict plan gathers on `all` the shortest procedures holding every word there (decision
/// 0047): with each word once in them, the words' score on `all` falls with the length, so
/// these are its best but for repeated words, found without scoring the conjunction.
fn gathered(
    searcher: &Searcher,
    dense: &DenseTerms,
    plan: &Plan,
    limit: usize,
) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    let pool = limit + EXTRA_CANDIDATES;
    let mut candidates: Vec<DocAddress> = Vec::with_capacity(3 * pool);
    let shortest = match plan.strict {
        true => shortest_with_all(searcher, dense, plan, pool)?,
        false => None,
    };
    if let Some(found) = shortest {
        candidates.extend(found);
    } else if let Some(on_all) = OnAll::new(searcher, plan)? {
        // The words on `all`: their best `pool`.
        let mut best = Best::new(pool);
        for (ord, reader) in searcher.segment_readers().iter().enumerate() {
            let deleted = deleted(reader);
            on_all.for_each(reader, best.prune_below(0.0), &mut |doc, a| {
                if !deleted(doc) {
                    best.offer(a, DocAddress::new(ord as u32, doc));
                }
                best.prune_below(0.0)
            })?;
        }
        candidates.extend(best.into_sorted().into_iter().map(|(_, a)| a));
    }
    let mut gather: Vec<Box<dyn Query>> = Vec::with_capacity(2);
    if plan.strict {
        // A word that needs expanding leaves its name clause out (a typo never scores in
        // the name), so the others stay a conjunction of plain terms.
        gather.extend(combine(
            Occur::Must,
            plan.words
                .iter()
                .filter(|w| w.expansion_weight == 0.0)
                .map(|w| w.name.box_clone())
                .collect(),
        ));
        gather.extend(plan.phrase.as_ref().map(|p| p.box_clone()));
    }
    for q in &gather {
        let found = searcher.search(q.as_ref(), &TopDocs::with_limit(pool).order_by_score())?;
        candidates.extend(found.into_iter().map(|(_, a)| a));
    }
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    candidates.sort_unstable();
    candidates.dedup();
    let mut scored = rescore(searcher, plan, &candidates)?;
    scored.sort_unstable_by(|a, b| {
        b.0.partial_cmp(&a.0)
            .unwrap_or(Ordering::Equal)
            .then(a.1.cmp(&b.1))
    });
    scored.truncate(limit);
    Ok(scored)
}

/// The `pool` procedures with the shortest `all` (lowest address first among equals) that hold
/// every word of the strict `plan` on `all`; `None` when every word is expanded (the walk
/// needs one plain word).
fn shortest_with_all(
    searcher: &Searcher,
    dense: &DenseTerms,
    plan: &Plan,
    pool: usize,
) -> tantivy::Result<Option<Vec<DocAddress>>> {
    let plain: Vec<&tantivy::Term> = plan
        .words
        .iter()
        .filter(|w| w.expansion_weight == 0.0)
        .map(|w| &w.all_term)
        .collect();
    let Some(field) = plain.first().map(|t| t.field()) else {
        return Ok(None);
    };
    // A typo or a completion: its term or one of its expansions, checked on each procedure.
    let membership = EnableScoring::disabled_from_searcher(searcher);
    let expanded = plan
        .words
        .iter()
        .filter(|w| w.expansion_weight != 0.0)
        .map(|w| w.all.weight(membership))
        .collect::<tantivy::Result<Vec<_>>>()?;
    // Worst (longest, then highest address) on top.
    let mut kept: BinaryHeap<(u8, DocAddress)> = BinaryHeap::with_capacity(pool + 1);
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let deleted = deleted(reader);
        let norms = reader.get_fieldnorms_reader(field)?;
        let mut checks = expanded
            .iter()
            .map(|w| w.scorer(reader, 1.0))
            .collect::<tantivy::Result<Vec<_>>>()?;
        crate::dense::for_each_with_all(dense, searcher, reader, &plain, &mut |doc| {
            if deleted(doc) || !checks.iter_mut().all(|s| at(s.as_mut(), doc)) {
                return;
            }
            let e = (norms.fieldnorm_id(doc), DocAddress::new(ord as u32, doc));
            if kept.len() < pool {
                kept.push(e);
            } else if kept.peek().is_some_and(|worst| e < *worst) {
                kept.pop();
                kept.push(e);
            }
        })?;
    }
    Ok(Some(kept.into_iter().map(|(_, a)| a).collect()))
}

/// Every clause of `plan` on `candidates` (sorted by address): a candidate missing a required
/// clause is dropped, the others score the sum of the clauses they match.
fn rescore(
    searcher: &Searcher,
    plan: &Plan,
    candidates: &[DocAddress],
) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    let scoring = EnableScoring::enabled_from_searcher(searcher);
    let weights = plan
        .clauses()
        .into_iter()
        .map(|(occur, q)| Ok((occur, q.weight(scoring)?)))
        .collect::<tantivy::Result<Vec<(Occur, Box<dyn Weight>)>>>()?;
    let mut out = Vec::with_capacity(candidates.len());
    for segment in candidates.chunk_by(|a, b| a.segment_ord == b.segment_ord) {
        let ord = segment[0].segment_ord;
        let reader = searcher.segment_reader(ord);
        let mut scorers = weights
            .iter()
            .map(|(occur, w)| Ok((*occur, w.scorer(reader, 1.0)?)))
            .collect::<tantivy::Result<Vec<(Occur, Box<dyn Scorer>)>>>()?;
        'doc: for a in segment {
            let mut total: Score = 0.0;
            for (occur, s) in scorers.iter_mut() {
                if at(s.as_mut(), a.doc_id) {
                    total += s.score();
                } else if *occur == Occur::Must {
                    continue 'doc;
                }
            }
            out.push((total, *a));
        }
    }
    Ok(out)
}

/// The best documents so far.
struct Best {
    limit: usize,
    /// Worst on top.
    heap: BinaryHeap<Entry>,
}

#[derive(Clone, Copy, PartialEq)]
struct Entry {
    score: Score,
    doc: DocAddress,
}

impl Eq for Entry {}

impl Ord for Entry {
    /// Greater is worse: a lower score, or the same score at a higher address.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .partial_cmp(&self.score)
            .unwrap_or(Ordering::Equal)
            .then(self.doc.cmp(&other.doc))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Best {
    fn new(limit: usize) -> Best {
        Best {
            limit,
            heap: BinaryHeap::with_capacity(limit + 1),
        }
    }

    /// The score to beat: the worst kept once `limit` are kept.
    fn theta(&self) -> Score {
        match self.heap.peek() {
            Some(e) if self.heap.len() >= self.limit => e.score,
            _ => Score::NEG_INFINITY,
        }
    }

    /// The threshold a pass whose score leaves out at most `missing` may prune with: a
    /// little below θ − `missing`, so that a tie with θ is still offered (the lower
    /// address wins it).
    fn prune_below(&self, missing: Score) -> Score {
        let t = self.theta() - missing;
        t - 1e-4 * t.abs().max(1.0)
    }

    fn offer(&mut self, score: Score, doc: DocAddress) {
        let e = Entry { score, doc };
        if self.heap.len() < self.limit {
            self.heap.push(e);
        } else if self.heap.peek().is_some_and(|worst| e < *worst) {
            self.heap.pop();
            self.heap.push(e);
        }
    }

    fn into_sorted(self) -> Vec<(Score, DocAddress)> {
        let mut v: Vec<Entry> = self.heap.into_vec();
        v.sort_unstable();
        v.into_iter().map(|e| (e.score, e.doc)).collect()
    }
}

/// The plan's weights, built once per search.
struct Weights {
    strict: bool,
    /// Each word on `all`.
    all: Vec<Box<dyn Weight>>,
    /// Each word in the name.
    name: Vec<Box<dyn Weight>>,
    phrase: Option<Box<dyn Weight>>,
    /// Every phrase word in the name (pass 1), when there is a phrase.
    every_name: Option<Box<dyn Weight>>,
    /// Whether each word is a plain term of the phrase.
    in_phrase: Vec<bool>,
    /// Any word in the name (pass 2).
    any_name: Option<Box<dyn Weight>>,
    /// The words on `all`, every one when strict (pass 3).
    on_all: Option<OnAll>,
    /// Most the words on `all` may add.
    max_all: Score,
    /// Most the phrase may add.
    max_phrase: Score,
    /// Most the words outside the phrase's plain terms may add in the name (a suggestion's
    /// last word as typed; a typo adds nothing).
    max_open_name: Score,
}

impl Weights {
    fn new(searcher: &Searcher, plan: &Plan) -> tantivy::Result<Weights> {
        let scoring = EnableScoring::enabled_from_searcher(searcher);
        let weight = |q: &dyn Query| q.weight(scoring);
        let all = plan
            .words
            .iter()
            .map(|w| weight(w.all.as_ref()))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let name = plan
            .words
            .iter()
            .map(|w| weight(w.name.as_ref()))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let phrase = plan
            .phrase
            .as_ref()
            .map(|p| weight(p.as_ref()))
            .transpose()?;
        let names = |phrase_only: bool| {
            plan.words
                .iter()
                .filter(|w| w.in_phrase || !phrase_only)
                .map(|w| w.name.box_clone())
                .collect()
        };
        // The phrase can match only where every plain phrase word is in the name (pass 1
        // adds the other words' part in the name).
        let every_name = match &plan.phrase {
            Some(_) => combine(Occur::Must, names(true))
                .map(|q| weight(q.as_ref()))
                .transpose()?,
            None => None,
        };
        let any_name = combine(Occur::Should, names(false))
            .map(|q| weight(q.as_ref()))
            .transpose()?;
        let on_all = OnAll::new(searcher, plan)?;
        let mut max_all = 0.0;
        for w in &plan.words {
            max_all += term_max(searcher, &w.all_term)? + w.expansion_weight;
        }
        let max_phrase = match &plan.phrase {
            Some(_) => {
                let terms: Vec<_> = plan
                    .words
                    .iter()
                    .filter(|w| w.in_phrase)
                    .map(|w| w.name_term.clone())
                    .collect();
                Bm25Weight::for_terms(searcher, &terms)?
                    .boost_by(crate::query::PHRASE_BOOST)
                    .max_score()
            }
            None => 0.0,
        };
        let mut max_open_name = 0.0;
        for w in plan.words.iter().filter(|w| !w.in_phrase) {
            max_open_name += term_max(searcher, &w.name_term)? * crate::query::NAME_BOOST;
        }
        Ok(Weights {
            max_open_name,
            strict: plan.strict,
            all,
            name,
            phrase,
            every_name,
            any_name,
            in_phrase: plan.words.iter().map(|w| w.in_phrase).collect(),
            on_all,
            max_all,
            max_phrase,
        })
    }

    /// The three passes over one segment.
    fn segment(&self, reader: &SegmentReader, ord: u32, best: &mut Best) -> tantivy::Result<()> {
        let mut seen = BitSet::with_max_value(reader.max_doc().max(1));
        let addr = |doc: DocId| DocAddress::new(ord, doc);
        // The walks see the versions an upsert replaced (and the procedures removed) until
        // their segment is merged; a collector would skip them, so the passes do.
        let deleted = deleted(reader);
        // 1. Every phrase word in the name: their N is known; A, P and the other words' N
        // are added.
        if let Some(every) = &self.every_name {
            let mut rest = Rest::new(self, reader)?;
            let missing = self.max_all + self.max_phrase + self.max_open_name;
            every.for_each_pruning(best.prune_below(missing), reader, &mut |doc, n| {
                seen.insert(doc);
                if deleted(doc) {
                    return best.prune_below(missing);
                }
                let n = n + rest.open_names(doc);
                if let Some(score) = rest.all_and_phrase(doc, n, best.theta()) {
                    best.offer(score, addr(doc));
                }
                best.prune_below(missing)
            })?;
        }
        // 2. Any word in the name: N is known, A is added (no phrase: a phrase word is
        // missing from the name, or pass 1 saw the procedure).
        if let Some(any) = &self.any_name {
            let mut rest = Rest::new(self, reader)?;
            let missing = self.max_all;
            any.for_each_pruning(best.prune_below(missing), reader, &mut |doc, n| {
                if seen.insert(doc)
                    && !deleted(doc)
                    && let Some(a) = rest.all(doc)
                {
                    best.offer(a + n, addr(doc));
                }
                best.prune_below(missing)
            })?;
        }
        // 3. The words on `all`: a procedure not seen above has no word in its name, or
        // cannot reach θ with its name; it scores A alone, or is scored whole to be sure.
        if let Some(on_all) = &self.on_all {
            if best.theta() >= self.max_all {
                return Ok(());
            }
            let mut rest = Rest::new(self, reader)?;
            on_all.for_each(reader, best.prune_below(0.0), &mut |doc, a| {
                if !seen.contains(doc) && !deleted(doc) {
                    best.offer(a + rest.name_and_phrase(doc), addr(doc));
                }
                best.prune_below(0.0)
            })?;
        }
        Ok(())
    }
}

/// The clauses a pass does not prune on, as scorers moving forward with it.
struct Rest<'w> {
    weights: &'w Weights,
    all: Vec<Box<dyn Scorer>>,
    name: Vec<Box<dyn Scorer>>,
    phrase: Option<Box<dyn Scorer>>,
}

impl<'w> Rest<'w> {
    fn new(weights: &'w Weights, reader: &SegmentReader) -> tantivy::Result<Rest<'w>> {
        let scorers = |ws: &[Box<dyn Weight>]| {
            ws.iter()
                .map(|w| w.scorer(reader, 1.0))
                .collect::<tantivy::Result<Vec<_>>>()
        };
        Ok(Rest {
            weights,
            all: scorers(&weights.all)?,
            name: scorers(&weights.name)?,
            phrase: weights
                .phrase
                .as_ref()
                .map(|w| w.scorer(reader, 1.0))
                .transpose()?,
        })
    }

    /// A: the words on `all` of `doc`, or `None` when a required one is missing.
    fn all(&mut self, doc: DocId) -> Option<Score> {
        let mut total = 0.0;
        for s in self.all.iter_mut() {
            if at(s.as_mut(), doc) {
                total += s.score();
            } else if self.weights.strict {
                return None;
            }
        }
        Some(total)
    }

    /// The name clauses of the words outside the phrase's plain terms, on `doc`.
    fn open_names(&mut self, doc: DocId) -> Score {
        let mut n = 0.0;
        for (s, in_phrase) in self.name.iter_mut().zip(&self.weights.in_phrase) {
            if !*in_phrase && at(s.as_mut(), doc) {
                n += s.score();
            }
        }
        n
    }

    /// P: the phrase in the name of `doc`.
    fn phrase(&mut self, doc: DocId) -> Option<Score> {
        let s = self.phrase.as_mut()?;
        at(s.as_mut(), doc).then(|| s.score())
    }

    /// A + N + P for a procedure with every word in its name, N given; `None` when it
    /// misses a word on `all` or cannot beat `theta` whatever A is.
    fn all_and_phrase(&mut self, doc: DocId, n: Score, theta: Score) -> Option<Score> {
        let p = self.phrase(doc).unwrap_or(0.0);
        if n + p + self.weights.max_all < theta {
            return None;
        }
        self.all(doc).map(|a| a + n + p)
    }

    /// N + P of a procedure the pass over `all` found.
    fn name_and_phrase(&mut self, doc: DocId) -> Score {
        let mut n = 0.0;
        let mut every = true;
        for (s, in_phrase) in self.name.iter_mut().zip(&self.weights.in_phrase) {
            if at(s.as_mut(), doc) {
                n += s.score();
            } else if *in_phrase {
                every = false;
            }
        }
        let p = if every {
            self.phrase(doc).unwrap_or(0.0)
        } else {
            0.0
        };
        n + p
    }
}

/// The words on `all` as one walk tantivy can prune: when the plan is strict and some words
/// are expanded (typos, completions), the plain words' conjunction is walked with Block-WAND
/// and each procedure it offers is checked against the expanded words' clauses (a typo's
/// expansion is a set of procedures with a constant score), instead of a generic
/// intersection that visits every match.
struct OnAll {
    /// The walk: the plain words when some are expanded, else every word.
    walk: Box<dyn Weight>,
    /// The expanded words' clauses the walk leaves out, and the most they add together.
    checked: Vec<Box<dyn Weight>>,
    checked_max: Score,
}

impl OnAll {
    fn new(searcher: &Searcher, plan: &Plan) -> tantivy::Result<Option<OnAll>> {
        let scoring = EnableScoring::enabled_from_searcher(searcher);
        let occur = plan.occur();
        let (plain, expanded): (Vec<_>, Vec<_>) =
            plan.words.iter().partition(|w| w.expansion_weight == 0.0);
        if !plan.strict || plain.is_empty() || expanded.is_empty() {
            return combine(
                occur,
                plan.words.iter().map(|w| w.all.box_clone()).collect(),
            )
            .map(|q| {
                Ok(OnAll {
                    walk: q.weight(scoring)?,
                    checked: Vec::new(),
                    checked_max: 0.0,
                })
            })
            .transpose();
        }
        let walk = combine(
            Occur::Must,
            plain.iter().map(|w| w.all.box_clone()).collect(),
        )
        .expect("a plain word")
        .weight(scoring)?;
        let mut checked_max = 0.0;
        let mut checked = Vec::with_capacity(expanded.len());
        for w in expanded {
            checked_max += term_max(searcher, &w.all_term)? + w.expansion_weight;
            checked.push(w.all.weight(scoring)?);
        }
        Ok(Some(OnAll {
            walk,
            checked,
            checked_max,
        }))
    }

    /// Calls `offer(doc, A)` for the procedures matching every (strict) or any word on `all`
    /// of `reader`, at least those whose A may exceed the threshold `offer` returns.
    fn for_each(
        &self,
        reader: &SegmentReader,
        threshold: Score,
        offer: &mut dyn FnMut(DocId, Score) -> Score,
    ) -> tantivy::Result<()> {
        if self.checked.is_empty() {
            return self.walk.for_each_pruning(threshold, reader, offer);
        }
        let mut checked = self
            .checked
            .iter()
            .map(|w| w.scorer(reader, 1.0))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let max = self.checked_max;
        let mut threshold = threshold - max;
        self.walk
            .for_each_pruning(threshold, reader, &mut |doc, plain| {
                let mut a = plain;
                for s in checked.iter_mut() {
                    if at(s.as_mut(), doc) {
                        a += s.score();
                    } else {
                        return threshold;
                    }
                }
                threshold = offer(doc, a) - max;
                threshold
            })
    }
}

/// Whether a document of `reader` is deleted (a version an upsert replaced, a procedure
/// removed): scorers walk them until the segment is merged.
fn deleted(reader: &SegmentReader) -> impl Fn(DocId) -> bool + '_ {
    let alive = reader.alive_bitset();
    move |doc| alive.is_some_and(|a| a.is_deleted(doc))
}

/// Most a term's BM25 score may be (0 when no procedure holds it).
fn term_max(searcher: &Searcher, term: &tantivy::Term) -> tantivy::Result<Score> {
    Ok(if searcher.doc_freq(term)? > 0 {
        Bm25Weight::for_terms(searcher, std::slice::from_ref(term))?.max_score()
    } else {
        0.0
    })
}

/// Moves `s` forward to `doc` if it can; whether `s` matches `doc`.
fn at(s: &mut dyn Scorer, doc: DocId) -> bool {
    let d = s.doc();
    if d == TERMINATED || d > doc {
        return false;
    }
    d == doc || s.seek(doc) == doc
}
