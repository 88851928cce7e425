//! The two phases of a search: gather candidates with cheap queries tantivy can prune, then
//! score every ranking clause on those candidates alone (decision 0033).

use crate::query::Plan;
use std::cmp::Ordering;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, EnableScoring, Occur, QueryClone, Scorer, Weight};
use tantivy::{DocAddress, DocId, Score, Searcher, TERMINATED};

/// Candidates each gather query contributes beyond the answer's length: enough that the name
/// and phrase boosts reorder the best ones without a full scan of every matching procedure.
pub const EXTRA_CANDIDATES: usize = 100;

/// Below this many procedures a search scores every match in one pass (measured at 2,381:
/// 38,000 q/s in one pass, 17,000 in two phases; at 100,000 two phases were 18 % faster; the
/// crossover in between was not measured).
pub const TWO_PHASE_FROM: usize = 20_000;

/// The best `limit` documents of `plan`, best first (ties: lower address first); in two
/// phases from `two_phase_from` documents.
pub fn top(
    searcher: &Searcher,
    plan: &Plan,
    limit: usize,
    two_phase_from: usize,
) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    if (searcher.num_docs() as usize) < two_phase_from {
        // A small catalogue: one pass over every match costs less than three gathers.
        let q = BooleanQuery::new(
            plan.clauses
                .iter()
                .map(|(o, q)| (*o, q.box_clone()))
                .collect(),
        );
        return searcher.search(&q, &TopDocs::with_limit(limit).order_by_score());
    }
    let pool = limit + EXTRA_CANDIDATES;
    let mut candidates: Vec<DocAddress> = Vec::with_capacity(pool * plan.gather.len());
    for q in &plan.gather {
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

/// Every clause of `plan` on `candidates` (sorted by address): a candidate missing a required
/// clause is dropped, the others score the sum of the clauses they match.
fn rescore(
    searcher: &Searcher,
    plan: &Plan,
    candidates: &[DocAddress],
) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    let scoring = EnableScoring::enabled_from_searcher(searcher);
    let weights = plan
        .clauses
        .iter()
        .map(|(occur, q)| Ok((*occur, q.weight(scoring)?)))
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

/// Moves `s` forward to `doc` if it can; whether `s` matches `doc`.
fn at(s: &mut dyn Scorer, doc: DocId) -> bool {
    let d = s.doc();
    if d == TERMINATED || d > doc {
        return false;
    }
    d == doc || s.seek(doc) == doc
}
