//! `reports`: times the standard report (form 06) served from the counters of a filled database,
//! warm, for a month, a year, and the whole province over a year; then optionally the full
//! rebuild of every counter from the events (folded on all cores). Prints p50/p95 per report and
//! the rebuild seconds.

use crate::stats::{self, Op};
use anyhow::Context;
use chrono::{Datelike, Days, NaiveDate, Utc};
use motcua_domain::codes::AgencyCode;
use motcua_domain::stats::Filter;
use motcua_store::Store;
use std::path::PathBuf;
use std::time::Instant;

/// Options.
pub struct ReportArgs {
    pub database_url: String,
    pub repeat: usize,
    pub rebuild: bool,
    /// Then `Store::verify` (chains, states, every counter against the logs): must find nothing.
    pub verify: bool,
    /// First fold the counter shards of past days, as a running server does (decision 0037).
    pub fold: bool,
    pub label: Option<String>,
    pub out: Option<PathBuf>,
}

/// Runs the report benchmark.
pub async fn run(a: &ReportArgs) -> anyhow::Result<Vec<String>> {
    crate::fill::check_local(&a.database_url)?;
    let store = Store::open(&a.database_url)
        .await
        .with_context(|| format!("opening {}", a.database_url))?;
    let all: Vec<AgencyCode> = store
        .agencies()
        .await?
        .into_iter()
        .map(|x| x.code)
        .collect();
    // The busiest agency (most rows in the province's yearly report) stands for "an agency".
    let today = (Utc::now() + chrono::Duration::hours(7)).date_naive();
    let year_start = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
    let year_end = NaiveDate::from_ymd_opt(today.year(), 12, 31).unwrap_or(today);
    let month_start = today.with_day(1).unwrap_or(today);
    let month_end = month_start
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.checked_sub_days(Days::new(1)))
        .unwrap_or(today);
    // What a running server does in the background (decision 0037): the counter shards of the
    // days before yesterday folded into one row per key (PostgreSQL; SQLite has none).
    if a.fold {
        let t = Instant::now();
        let folded = store
            .fold_counters(None, today - Days::new(1))
            .await
            .context("folding the counter shards of past days")?;
        println!(
            "reports: past days' counter shards folded: {folded} rows removed in {:.2}s",
            t.elapsed().as_secs_f64()
        );
    }
    let province = store
        .form06(&all, year_start, year_end, &Filter::default())
        .await?;
    let busiest = province
        .iter()
        .max_by_key(|(_, r)| r.received_total())
        .map(|(a, _)| a.clone())
        .or_else(|| all.first().cloned())
        .ok_or_else(|| anyhow::anyhow!("no agency in the database"))?;
    println!(
        "reports: {} agencies; province received {} this year; busiest agency {busiest}",
        all.len(),
        province
            .values()
            .map(|r| r.received_in_period())
            .sum::<i64>()
    );
    let cases: Vec<(&str, Vec<AgencyCode>, NaiveDate, NaiveDate)> = vec![
        (
            "report.agency_month",
            vec![busiest.clone()],
            month_start,
            month_end,
        ),
        (
            "report.agency_year",
            vec![busiest.clone()],
            year_start,
            year_end,
        ),
        ("report.province_year", all.clone(), year_start, year_end),
        (
            "report.province_ragged",
            all.clone(),
            year_start + Days::new(10),
            today,
        ),
    ];
    let started = Instant::now();
    let mut ops = Vec::new();
    for (name, agencies, from, to) in cases {
        // Warm-up.
        store
            .form06(&agencies, from, to, &Filter::default())
            .await?;
        let mut op = Op::new(name);
        for _ in 0..a.repeat.max(1) {
            let t = Instant::now();
            match store.form06(&agencies, from, to, &Filter::default()).await {
                Ok(_) => op.ok(t.elapsed()),
                Err(_) => op.err(),
            }
        }
        let p95 = op.hist.value_at_quantile(0.95) as f64 / 1000.0;
        println!("  {name}: p95={p95:.2}ms over {} runs", op.hist.len());
        ops.push(op);
    }
    let secs = started.elapsed().as_secs_f64();
    let mut lines = stats::report(
        &stats::RunInfo {
            mode: "reports",
            label: a.label.as_deref(),
            target: &a.database_url,
            clients: 1,
            secs,
            cpu: (None, None),
        },
        &ops,
        a.out.as_deref(),
    )?;
    if a.rebuild {
        let t = Instant::now();
        let r = store.rebuild_counters().await?;
        let secs = t.elapsed().as_secs_f64();
        let line = format!(
            "rebuild dossiers={} events={} counter_rows={} changed_rows={} secs={secs:.2} events_per_s={:.0} fold_secs={:.2} merge_secs={:.2} write_secs={:.2} workers={}",
            r.dossiers,
            r.events,
            r.counter_rows,
            r.changed_rows,
            r.events as f64 / secs.max(1e-9),
            r.fold_secs,
            r.merge_secs,
            r.write_secs,
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        println!("{line}");
        lines.push(line);
    }
    if a.verify {
        let t = Instant::now();
        let r = store.verify().await?;
        let line = format!(
            "verify dossiers={} events={} problems={} secs={:.2}",
            r.dossiers,
            r.events,
            r.problems.len(),
            t.elapsed().as_secs_f64()
        );
        println!("{line}");
        for p in r.problems.iter().take(5) {
            println!("  PROBLEM {p}");
        }
        if !r.problems.is_empty() {
            anyhow::bail!("verify found {} problems", r.problems.len());
        }
        lines.push(line);
    }
    Ok(lines)
}
