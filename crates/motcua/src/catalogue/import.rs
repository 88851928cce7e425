//! `motcua import procedures FILE [--strict]`: the national catalogue (`procedures.jsonl.gz`,
//! plain or gzip JSON lines) or one of its list exports (CSV) into the store.
//!
//! Re-running is safe: a record equal to the newest stored version is `unchanged`; a different
//! one becomes a new version (published when its time limit could be read, else a draft) that
//! keeps the workflow, deciding agency and receiving agencies the province gave the procedure.
//! Bad records are reported with their line and skipped, or the whole file is refused with
//! `--strict`; nothing is written before every record has been read, and what is published
//! changes only by a new version superseding it.

use super::build::{self, Clean, FIELDS, Parsed};
use super::raw::{ListColumns, ListRow, RawProcedure};
use chrono::{DateTime, Utc};
use motcua_domain::catalogue::{diff, same_content};
use motcua_domain::procedure::{ProcedureVersion, VersionStatus};
use motcua_domain::workflow::WorkflowDef;
use motcua_store::{ProcedureChange, ProcedureRecord, Store, StoreError};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;

/// How to import.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Refuse the whole file when any record is bad.
    pub strict: bool,
    /// Who the changes are attributed to.
    pub actor: String,
    /// When.
    pub now: DateTime<Utc>,
}

/// A record that was not imported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// Line in the (decompressed) file, from 1; 0 for the file as a whole.
    pub line: usize,
    /// Procedure code as written, when it could be read.
    pub code: String,
    /// Why.
    pub reason: String,
}

/// What an import did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportReport {
    /// The file's name.
    pub file: String,
    /// `jsonl` or `csv`.
    pub format: &'static str,
    /// Records read (lines or rows with content).
    pub read: usize,
    /// New procedures.
    pub added: usize,
    /// Procedures given a new version.
    pub changed: usize,
    /// Records equal to the newest stored version.
    pub unchanged: usize,
    /// Of the added and changed, how many were stored as drafts (no readable time limit).
    pub drafts: usize,
    /// Records not imported, with line and reason.
    pub rejected: Vec<Rejected>,
    /// Records that parsed (the base of `clean`).
    pub parsed: usize,
    /// Per field, how many parsed records read cleanly (JSON lines only).
    pub clean: Vec<(&'static str, usize)>,
    /// Whether anything was written (false when `--strict` refused the file).
    pub written: bool,
}

impl ImportReport {
    /// One line for logs and the terminal.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} read, {} added, {} changed, {} unchanged, {} rejected ({} stored as drafts without a time limit){}",
            self.file,
            self.read,
            self.added,
            self.changed,
            self.unchanged,
            self.rejected.len(),
            self.drafts,
            if self.written {
                ""
            } else {
                "; nothing written"
            }
        )
    }
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("cannot read {0}: {1}")]
    Io(String, std::io::Error),
    /// The file is not what an import takes.
    #[error("{0}")]
    Format(String),
    /// `--strict` and some records were bad: nothing was written.
    #[error("refused (--strict): {} bad records, nothing written", .0.rejected.len())]
    Strict(Box<ImportReport>),
    /// The store failed; batches written before stay (each is whole).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One readable record.
#[derive(Clone, Debug)]
enum Candidate {
    Full(Box<Parsed>),
    List(Box<ListRow>),
}

#[derive(Clone, Debug)]
struct Item {
    line: usize,
    code: String,
    what: Candidate,
}

/// Records written per store transaction.
const BATCH: usize = 500;

/// Reads, checks and imports a file.
pub async fn import_file(
    store: &Store,
    path: &std::path::Path,
    opts: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ImportError::Io(name.clone(), e))?;
    import_bytes(store, &name, &bytes, opts).await
}

/// Imports the bytes of a file called `name`.
pub async fn import_bytes(
    store: &Store,
    name: &str,
    bytes: &[u8],
    opts: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let (mut report, items) = read(name, bytes)?;
    if opts.strict && !report.rejected.is_empty() {
        return Err(ImportError::Strict(Box::new(report)));
    }
    apply(store, &mut report, items, opts).await?;
    Ok(report)
}

/// Decompresses when gzip (by magic number; a `.gz` name without it is an error).
fn decode(name: &str, bytes: &[u8]) -> Result<(Vec<u8>, Option<String>), ImportError> {
    let gz = bytes.starts_with(&[0x1f, 0x8b]);
    if !gz {
        if name.ends_with(".gz") {
            return Err(ImportError::Format(format!(
                "{name} is not a gzip file (no gzip header)"
            )));
        }
        return Ok((bytes.to_vec(), None));
    }
    let mut out = Vec::with_capacity(bytes.len() * 10);
    match flate2::read::GzDecoder::new(bytes).read_to_end(&mut out) {
        Ok(_) => Ok((out, None)),
        // Keep the whole lines read before the damage; the last, partial one goes.
        Err(e) => {
            let keep = out.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            out.truncate(keep);
            Ok((out, Some(format!("the gzip stream is damaged: {e}"))))
        }
    }
}

/// Reads every record of the file, rejecting the bad ones, then the conflicting duplicates.
fn read(name: &str, bytes: &[u8]) -> Result<(ImportReport, Vec<Item>), ImportError> {
    let (text, damage) = decode(name, bytes)?;
    let first = text.iter().copied().find(|b| !b.is_ascii_whitespace());
    let mut report = ImportReport {
        file: name.to_owned(),
        ..ImportReport::default()
    };
    let mut items = Vec::new();
    match first {
        None => {
            return Err(ImportError::Format(format!("{name} is empty")));
        }
        Some(b'{') => {
            report.format = "jsonl";
            read_jsonl(&text, &mut report, &mut items);
        }
        Some(_) => {
            report.format = "csv";
            read_csv(name, &text, &mut report, &mut items)?;
        }
    }
    if let Some(why) = damage {
        report.rejected.push(Rejected {
            line: 0,
            code: String::new(),
            reason: why,
        });
    }
    let items = drop_conflicts(items, &mut report);
    if report.format == "jsonl" {
        let mut counts = [0usize; FIELDS.len()];
        for it in &items {
            if let Candidate::Full(p) = &it.what {
                let Clean(flags) = p.clean;
                for (c, f) in counts.iter_mut().zip(flags) {
                    *c += usize::from(f);
                }
            }
        }
        report.clean = FIELDS.iter().copied().zip(counts).collect();
    }
    report.parsed = items.len();
    Ok((report, items))
}

fn read_jsonl(text: &[u8], report: &mut ImportReport, items: &mut Vec<Item>) {
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        let line_no = i + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        report.read += 1;
        let reject = |report: &mut ImportReport, code: String, reason: String| {
            report.rejected.push(Rejected {
                line: line_no,
                code,
                reason,
            })
        };
        let Ok(line) = std::str::from_utf8(line) else {
            reject(report, String::new(), "not UTF-8 text".into());
            continue;
        };
        let raw: RawProcedure = match serde_json::from_str(line) {
            Ok(r) => r,
            Err(e) => {
                // Name the code when the line is JSON with a code, so the report can be acted on.
                let code = serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .and_then(|v| v.get("ma_thu_tuc")?.as_str().map(str::to_owned))
                    .unwrap_or_default();
                reject(report, code, format!("not a procedure record: {e}"));
                continue;
            }
        };
        match build::parse_record(&raw) {
            Ok(p) => items.push(Item {
                line: line_no,
                code: p.version.code.to_string(),
                what: Candidate::Full(Box::new(p)),
            }),
            Err(why) => reject(report, raw.ma_thu_tuc.trim().to_owned(), why),
        }
    }
}

fn read_csv(
    name: &str,
    text: &[u8],
    report: &mut ImportReport,
    items: &mut Vec<Item>,
) -> Result<(), ImportError> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(text);
    let mut records = r.records();
    let header: Vec<String> = match records.next() {
        Some(Ok(h)) => h.iter().map(str::to_owned).collect(),
        _ => {
            return Err(ImportError::Format(format!(
                "{name} is neither JSON lines nor a procedure list CSV"
            )));
        }
    };
    let cols = ListColumns::from_header(&header).map_err(|e| {
        ImportError::Format(format!(
            "{name} is neither JSON lines nor a procedure list CSV: {e}"
        ))
    })?;
    for rec in records {
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                report.read += 1;
                report.rejected.push(Rejected {
                    line,
                    code: String::new(),
                    reason: format!("unreadable CSV row: {e}"),
                });
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let cells: Vec<String> = rec.iter().map(str::to_owned).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        report.read += 1;
        let row = cols.row(&cells);
        let checked = build::code(&row.code).and_then(|c| {
            if row.name.trim().is_empty() {
                Err("no name (Tên)".to_owned())
            } else {
                Ok(c)
            }
        });
        match checked {
            Ok(code) => items.push(Item {
                line,
                code: code.to_string(),
                what: Candidate::List(Box::new(row)),
            }),
            Err(reason) => report.rejected.push(Rejected {
                line,
                code: row.code.trim().to_owned(),
                reason,
            }),
        }
    }
    Ok(())
}

fn same_item(a: &Candidate, b: &Candidate) -> bool {
    match (a, b) {
        (Candidate::Full(a), Candidate::Full(b)) => same_content(&a.version, &b.version),
        (Candidate::List(a), Candidate::List(b)) => a == b,
        _ => false,
    }
}

/// Keeps the first of equal duplicates; rejects every line of a code whose lines disagree.
fn drop_conflicts(items: Vec<Item>, report: &mut ImportReport) -> Vec<Item> {
    let mut first: HashMap<String, usize> = HashMap::new();
    let mut conflicted: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut keep = vec![true; items.len()];
    for (i, it) in items.iter().enumerate() {
        match first.get(&it.code) {
            None => {
                first.insert(it.code.clone(), i);
            }
            Some(&f) => {
                keep[i] = false;
                if !same_item(&items[f].what, &it.what) {
                    conflicted
                        .entry(it.code.clone())
                        .or_insert_with(|| vec![f])
                        .push(i);
                }
            }
        }
    }
    for (code, idx) in &conflicted {
        let lines: Vec<String> = idx.iter().map(|&i| items[i].line.to_string()).collect();
        for &i in idx {
            keep[i] = false;
            report.rejected.push(Rejected {
                line: items[i].line,
                code: code.clone(),
                reason: format!(
                    "duplicate code with conflicting content (lines {})",
                    lines.join(", ")
                ),
            });
        }
    }
    report.rejected.sort_by_key(|r| r.line);
    items
        .into_iter()
        .zip(keep)
        .filter_map(|(it, k)| k.then_some(it))
        .collect()
}

/// The version to store for an imported record, given the newest stored version of its code.
/// Local decisions (workflow, deciding agency, effective date, e-form) are kept from the stored
/// one.
fn merge(latest: Option<&ProcedureVersion>, item: &Item) -> Result<ProcedureVersion, String> {
    let mut v = match (&item.what, latest) {
        (Candidate::Full(p), _) => p.version.clone(),
        (Candidate::List(row), Some(base)) => build::overlay_list(base, row)?,
        (Candidate::List(row), None) => build::parse_record(&build::raw_from_list(row))?.version,
    };
    if let Some(old) = latest {
        v.competent_agency = old.competent_agency.clone();
        v.details.effective_from = old.details.effective_from;
        v.form = old.form.clone();
        if v.time_limit == old.time_limit {
            v.workflow = old.workflow.clone();
        } else {
            let coop = old.workflow.steps.iter().find_map(|s| match &s.agency {
                motcua_domain::workflow::StepAgency::Agency(a) => Some(a.clone()),
                _ => None,
            });
            v.workflow = WorkflowDef::standard(v.time_limit.duration(), coop);
        }
    }
    Ok(v)
}

async fn apply(
    store: &Store,
    report: &mut ImportReport,
    items: Vec<Item>,
    opts: &ImportOptions,
) -> Result<(), ImportError> {
    let mut stored: HashMap<String, ProcedureRecord> = HashMap::new();
    for r in store.all_procedure_versions().await? {
        // Ordered by version: the last one seen is the newest.
        stored.insert(r.version.code.to_string(), r);
    }
    let mut records = Vec::new();
    let mut changes = Vec::new();
    for item in items {
        let latest = stored.get(&item.code);
        let mut v = match merge(latest.map(|r| &r.version), &item) {
            Ok(v) => v,
            Err(reason) => {
                report.rejected.push(Rejected {
                    line: item.line,
                    code: item.code.clone(),
                    reason,
                });
                continue;
            }
        };
        let (action, note) = match latest {
            Some(old) if same_content(&old.version, &v) => {
                report.unchanged += 1;
                continue;
            }
            Some(old) => {
                let fields: Vec<String> = diff(&old.version, &v)
                    .into_iter()
                    .map(|c| c.field)
                    .collect();
                v.version = old.version.version + 1;
                report.changed += 1;
                ("import_changed", fields.join(", "))
            }
            None => {
                v.version = 1;
                report.added += 1;
                ("import_added", String::new())
            }
        };
        if v.status == VersionStatus::Draft || v.time_limit.amount == 0 {
            v.status = VersionStatus::Draft;
            report.drafts += 1;
        }
        changes.push(ProcedureChange {
            code: item.code.clone(),
            version: v.version,
            at: opts.now,
            actor: opts.actor.clone(),
            action: action.into(),
            note: format!(
                "{} line {}{}{}",
                report.file,
                item.line,
                if note.is_empty() { "" } else { ": " },
                note
            ),
        });
        records.push(ProcedureRecord {
            version: v,
            receiving_agencies: latest
                .map(|r| r.receiving_agencies.clone())
                .unwrap_or_default(),
        });
    }
    if opts.strict && !report.rejected.is_empty() {
        return Err(ImportError::Strict(Box::new(report.clone())));
    }
    let mut changes = changes.into_iter();
    for chunk in records.chunks(BATCH) {
        let ch: Vec<ProcedureChange> = changes.by_ref().take(chunk.len()).collect();
        store.save_procedures(chunk.to_vec(), ch).await?;
    }
    report.written = true;
    Ok(())
}
