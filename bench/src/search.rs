//! `search`: catalogue search throughput and latency, in process, with N concurrent clients
//! (threads) over the real catalogue and, with `--grow`, a catalogue grown with synthetic
//! procedures made from the real names' words. Queries mix real names typed without diacritics,
//! names with one typo, two-word fragments and codes (`--mix classic`, the default, so that
//! figures stay comparable); `--mix typing` adds names typed with their diacritics and
//! suggestions for half-typed queries ("dang ky khai s"), as the portal's search box sends them
//! while a person types.

use crate::stats::{self, Op, RunInfo};
use motcua::catalogue::{build, raw::RawProcedure};
use motcua_domain::procedure::ProcedureVersion;
use motcua_domain::text::fold;
use motcua_search::SearchIndex;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Options of the search benchmark.
pub struct SearchArgs {
    /// procedures.jsonl.gz.
    pub catalogue: PathBuf,
    /// Grow the catalogue to this many procedures (0: as imported).
    pub grow: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// Measured time.
    pub duration: Duration,
    /// Results per query.
    pub limit: usize,
    /// Which queries.
    pub mix: Mix,
    /// Time each query alone first and print each kind's figures.
    pub per_kind: bool,
    /// With `per_kind`: print the queries whose first hit is not named as meant.
    pub misses: bool,
    /// Only queries of these kinds (all when empty).
    pub kinds: Vec<String>,
    /// Free label.
    pub label: Option<String>,
    /// JSON lines output.
    pub out: Option<PathBuf>,
}

/// The queries a run sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mix {
    /// Name prefixes without diacritics, the same with one typo, two-word fragments, codes.
    Classic,
    /// The classic queries, plus name prefixes with their diacritics and suggestions for a
    /// name prefix whose last word is cut after 1-3 letters.
    Typing,
}

/// One query of the mix.
pub(crate) struct Query {
    /// Which kind of query (for `--per-kind`).
    pub(crate) kind: &'static str,
    pub(crate) text: String,
    /// The start of the name the query was made from (folded words), when it was made from
    /// one: a procedure whose name starts so is what the person means (`--per-kind` counts
    /// the queries answered with one first).
    pub(crate) intended: Option<String>,
    /// Sent as a suggestion (last word a prefix) rather than a search.
    pub(crate) suggest: bool,
}

/// A small deterministic generator (xorshift), so runs are comparable.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

pub(crate) fn load(path: &PathBuf) -> anyhow::Result<Vec<ProcedureVersion>> {
    let bytes = std::fs::read(path)?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut text)?;
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let raw: RawProcedure = serde_json::from_str(line)?;
        if let Ok(p) = build::parse_record(&raw) {
            out.push(p.version);
        }
    }
    Ok(out)
}

/// Synthetic procedures: names of 5-12 words drawn from the real names, real fields and
/// documents, codes 9.000000 upwards.
fn grow(real: &[ProcedureVersion], to: usize, rng: &mut Rng) -> Vec<ProcedureVersion> {
    let words: Vec<&str> = real
        .iter()
        .flat_map(|v| v.name.split_whitespace())
        .collect();
    let mut out = real.to_vec();
    let mut i = 0;
    while out.len() < to {
        let mut v = real[rng.below(real.len())].clone();
        let n = 5 + rng.below(8);
        v.name = (0..n)
            .map(|_| words[rng.below(words.len())])
            .collect::<Vec<_>>()
            .join(" ");
        v.code = format!("9.{i:06}").parse().expect("a valid code");
        out.push(v);
        i += 1;
    }
    out
}

fn typo(s: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let long: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].is_alphabetic())
        .collect();
    if let Some(&at) = long.get(rng.below(long.len().max(1))) {
        chars[at] = if chars[at] == 'a' { 'e' } else { 'a' };
    }
    chars.into_iter().collect()
}

pub(crate) fn queries(real: &[ProcedureVersion], mix: Mix, rng: &mut Rng) -> Vec<Query> {
    let kinds = match mix {
        Mix::Classic => 4,
        Mix::Typing => 6,
    };
    let mut q = Vec::new();
    for _ in 0..2000 {
        let v = &real[rng.below(real.len())];
        let name = fold(&v.name);
        let words: Vec<&str> = name.split_whitespace().collect();
        let search = |kind: &'static str, text: String, intended: Option<String>| Query {
            kind,
            text,
            intended,
            suggest: false,
        };
        let first = |n: usize| words.iter().take(n).copied().collect::<Vec<_>>().join(" ");
        match rng.below(kinds) {
            0 => q.push(search("name", first(6), Some(first(6)))),
            1 => q.push(search("typo", typo(&first(5), rng), Some(first(5)))),
            2 if words.len() > 3 => {
                let at = rng.below(words.len() - 2);
                q.push(search(
                    "fragment",
                    format!("{} {}", words[at], words[at + 1]),
                    None,
                ));
            }
            4 => q.push(search(
                "accented",
                v.name
                    .split_whitespace()
                    .take(6)
                    .collect::<Vec<_>>()
                    .join(" "),
                Some(first(6)),
            )),
            5 => {
                // A person half-way through typing: 2-5 whole words, then 1-3 letters.
                let n = (2 + rng.below(4)).min(words.len().saturating_sub(1)).max(1);
                let mut text = words[..n.min(words.len())].join(" ");
                if let Some(next) = words.get(n) {
                    let cut: String = next.chars().take(1 + rng.below(3)).collect();
                    text.push(' ');
                    text.push_str(&cut);
                }
                q.push(Query {
                    kind: "suggest",
                    text,
                    intended: Some(first(n + 1)),
                    suggest: true,
                });
            }
            _ => q.push(search("code", v.code.to_string(), None)),
        }
    }
    q
}

/// Writes the catalogue grown to `to` procedures as national records (gzipped JSON lines),
/// by the recipe of [`grow`]: each synthetic record is a real one with a name of 5-12 words
/// drawn from the real names and a code from 9.000000 upwards. Prints the path.
pub fn write_grown(catalogue: &Path, to: usize, out: &Path) -> anyhow::Result<Vec<String>> {
    use std::io::Write;
    let bytes = std::fs::read(catalogue)?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut text)?;
    let real: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    anyhow::ensure!(!real.is_empty(), "no record in {}", catalogue.display());
    let words: Vec<String> = real
        .iter()
        .filter_map(|r| r.get("ten_thu_tuc").and_then(|n| n.as_str()))
        .flat_map(|n| n.split_whitespace().map(String::from).collect::<Vec<_>>())
        .collect();
    let file = std::fs::File::create(out)?;
    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    for r in &real {
        serde_json::to_writer(&mut gz, r)?;
        gz.write_all(b"\n")?;
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..to.saturating_sub(real.len()) {
        let mut r = real[rng.below(real.len())].clone();
        let n = 5 + rng.below(8);
        let name = (0..n)
            .map(|_| words[rng.below(words.len())].as_str())
            .collect::<Vec<_>>()
            .join(" ");
        r["ten_thu_tuc"] = name.into();
        r["ma_thu_tuc"] = format!("9.{i:06}").into();
        serde_json::to_writer(&mut gz, &r)?;
        gz.write_all(b"\n")?;
    }
    gz.finish()?;
    println!("wrote {} records to {}", to.max(real.len()), out.display());
    Ok(Vec::new())
}

/// Runs every query once, alone, and prints each kind's count, mean and slowest time, its
/// mean number of hits, and how its answers compare with the exhaustive ranking (every match
/// scored, [`SearchIndex::exhaustive`]): the share of the exhaustive answer's procedures found
/// (recall) and the queries answered with the same procedures.
fn per_kind(
    index: &SearchIndex,
    qs: &[Query],
    limit: usize,
    all: &[ProcedureVersion],
    misses: bool,
) -> anyhow::Result<()> {
    let names: std::collections::HashMap<String, String> = all
        .iter()
        .map(|v| (v.code.to_string(), fold(&v.name)))
        .collect();
    // Whether the first hit's name starts with the intended words.
    let meant = |hits: &[motcua_search::Hit], intended: &str| {
        hits.first()
            .and_then(|h| names.get(&h.code))
            .is_some_and(|name| {
                let mut have = name.split_whitespace();
                intended.split_whitespace().all(|w| have.next() == Some(w))
            })
    };
    #[derive(Default)]
    struct Kind {
        n: usize,
        total: Duration,
        max: Duration,
        full_total: Duration,
        hits: usize,
        expected: usize,
        found: usize,
        same: usize,
        intended: usize,
        meant_first: usize,
        full_meant_first: usize,
    }
    let mut kinds: std::collections::BTreeMap<&str, Kind> = Default::default();
    for q in qs {
        let t = Instant::now();
        let hits = if q.suggest {
            index.suggest(&q.text, limit)?
        } else {
            index.search(&q.text, limit)?
        };
        let took = t.elapsed();
        let t = Instant::now();
        let full = index.exhaustive(&q.text, limit, q.suggest)?;
        let full_took = t.elapsed();
        let k = kinds.entry(q.kind).or_default();
        k.n += 1;
        k.total += took;
        k.max = k.max.max(took);
        k.full_total += full_took;
        k.hits += hits.len();
        k.expected += full.len();
        let found = full
            .iter()
            .filter(|f| hits.iter().any(|h| h.code == f.code))
            .count();
        k.found += found;
        k.same += usize::from(found == full.len() && hits.len() == full.len());
        if let Some(intended) = &q.intended {
            k.intended += 1;
            let first = meant(&hits, intended);
            k.meant_first += usize::from(first);
            if misses && !first {
                let got = hits.first().and_then(|h| names.get(&h.code));
                eprintln!(
                    "miss {}: {:?} (meant {intended:?}) first {got:?}",
                    q.kind, q.text
                );
            }
            k.full_meant_first += usize::from(meant(&full, intended));
        }
    }
    for (kind, k) in kinds {
        eprintln!(
            "kind {kind}: {} queries, mean {:.3} ms, slowest {:.2} ms, {:.1} hits each, \
             recall {:.2} %, {} / {} answers the exhaustive one's (which took {:.3} ms)",
            k.n,
            k.total.as_secs_f64() * 1e3 / k.n as f64,
            k.max.as_secs_f64() * 1e3,
            k.hits as f64 / k.n as f64,
            100.0 * k.found as f64 / k.expected.max(1) as f64,
            k.same,
            k.n,
            k.full_total.as_secs_f64() * 1e3 / k.n as f64,
        );
        if k.intended > 0 {
            eprintln!(
                "kind {kind}: a procedure named as meant first in {} / {} (exhaustive: {})",
                k.meant_first, k.intended, k.full_meant_first
            );
        }
    }
    Ok(())
}

/// Runs the benchmark and prints the summary line.
pub fn run(a: &SearchArgs) -> anyhow::Result<Vec<String>> {
    let real = load(&a.catalogue)?;
    anyhow::ensure!(
        !real.is_empty(),
        "no procedure in {}",
        a.catalogue.display()
    );
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let all = if a.grow > real.len() {
        grow(&real, a.grow, &mut rng)
    } else {
        real.clone()
    };
    let started = Instant::now();
    let index = SearchIndex::build(&all)?;
    eprintln!(
        "indexed {} procedures in {:.2?} ({} segment(s))",
        index.len(),
        started.elapsed(),
        index.segments()
    );
    let mut qs = queries(&real, a.mix, &mut rng);
    if !a.kinds.is_empty() {
        qs.retain(|q| a.kinds.iter().any(|k| k == q.kind));
        anyhow::ensure!(!qs.is_empty(), "no query of the kinds {:?}", a.kinds);
    }
    if a.per_kind {
        per_kind(&index, &qs, a.limit, &all, a.misses)?;
    }
    let stop = Instant::now() + a.duration;
    let measured = Instant::now();
    let per_client: Vec<Vec<Op>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..a.clients)
            .map(|c| {
                let (index, qs) = (&index, &qs);
                s.spawn(move || {
                    let mut op = Op::new("search");
                    let mut i = c * 7919;
                    while Instant::now() < stop {
                        let q = &qs[i % qs.len()];
                        i += 1;
                        let t = Instant::now();
                        let found = if q.suggest {
                            index.suggest(&q.text, a.limit)
                        } else {
                            index.search(&q.text, a.limit)
                        };
                        match found {
                            Ok(_) => op.ok(t.elapsed()),
                            Err(_) => op.err(),
                        }
                    }
                    vec![op]
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a client thread"))
            .collect()
    });
    let secs = measured.elapsed().as_secs_f64();
    let ops = stats::merge_all(per_client);
    let target = format!("{} procedures, {:?} mix", index.len(), a.mix).to_lowercase();
    stats::report(
        &RunInfo {
            mode: "search",
            label: a.label.as_deref(),
            target: &target,
            clients: a.clients,
            secs,
            cpu: (None, None),
        },
        &ops,
        a.out.as_deref(),
    )
}
