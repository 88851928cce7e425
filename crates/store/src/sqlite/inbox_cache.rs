//! SQLite: recent inbox reads kept in memory until the agency's inbox changes (decision 0040).
//!
//! A reader's page cache starts empty after every write (WAL), so each inbox read fetched its
//! index pages again and turned 50 rows into strings; under the inbox benchmark the page and
//! the per-status counts were ~40 % of the server's CPU. An officer's inbox, though, changes
//! far less often than it is read (a desk refreshes it many times between two of its writes).
//! This cache keeps, per agency, the last pages read (by their exact query) and the appointments
//! of its open dossiers by status (the counts are then computed for the moment asked, since
//! "overdue" moves with the clock).
//!
//! **Correctness.** Dossier rows are written only by the writer thread (`writer::write_plan`),
//! which notes the agency a dossier leaves and the one it is in; after the batch's `COMMIT` and
//! before any reply is sent, [`InboxCache::changed`] gives each of those agencies a new
//! generation and drops what was kept for it. A reader takes the agency's generation *before*
//! it reads the database and keeps what it read only if the generation is still the same
//! afterwards ([`InboxCache::keep_page`]), so a read that may have seen the old rows is never
//! kept past a change, and a request made after a write's reply never sees what came before it.
//! Generations come from one process-wide counter, so an agency dropped from the map and seen
//! again cannot meet an old generation. One process owns a SQLite database; PostgreSQL, whose
//! nodes write beside each other, has no such cache.

use crate::inbox::{InboxCount, InboxQuery, InboxRows};
use motcua_domain::status::Status;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Agencies kept at most (their entries are small; past this the map starts again empty).
const MAX_AGENCIES: usize = 4_096;
/// Distinct queries kept per agency (filters and cursors; past this, that agency's are dropped).
const MAX_PAGES: usize = 32;
/// Page rows and appointments kept in all (~100 MB at most; past this everything is dropped).
const MAX_ROWS: usize = 200_000;

/// The appointments of an agency's open dossiers, per status (status order; within a status,
/// `None` first, then ascending), from which any moment's counts follow.
pub(crate) type Dues = Vec<(Status, Vec<Option<i64>>)>;

#[derive(Default)]
struct Entry {
    generation: u64,
    pages: HashMap<InboxQuery, Arc<InboxRows>>,
    dues: Option<Arc<Dues>>,
}

impl Entry {
    /// Rows this entry holds.
    fn rows(&self) -> usize {
        self.pages.values().map(|p| p.rows().len()).sum::<usize>()
            + self
                .dues
                .as_ref()
                .map_or(0, |d| d.iter().map(|(_, v)| v.len()).sum())
    }

    /// Drops what the entry holds; returns how many rows that was.
    fn drop_kept(&mut self) -> usize {
        let n = self.rows();
        self.pages.clear();
        self.dues = None;
        n
    }

    /// Takes what the entry holds out of it (to be dropped elsewhere) and counts its rows.
    fn take_kept(&mut self, into: &mut Stale) -> usize {
        let n = self.rows();
        if !self.pages.is_empty() {
            into.pages.push(std::mem::take(&mut self.pages));
        }
        into.dues.extend(self.dues.take());
        n
    }
}

/// What a change took out of the cache. Dropping it frees every row of the pages kept for the
/// changed agencies, which is the writer's to avoid: it hands this to the thread that answers
/// the batch, to be dropped after the answers.
#[derive(Default)]
pub(crate) struct Stale {
    pages: Vec<HashMap<InboxQuery, Arc<InboxRows>>>,
    dues: Vec<Arc<Dues>>,
}

#[derive(Default)]
struct Kept {
    agencies: HashMap<String, Entry>,
    rows: usize,
}

impl Kept {
    /// Makes room for `n` more rows: everything goes if they would pass [`MAX_ROWS`].
    fn room(&mut self, n: usize) {
        if self.rows + n > MAX_ROWS {
            for e in self.agencies.values_mut() {
                e.drop_kept();
            }
            self.rows = 0;
        }
        self.rows += n;
    }
}

/// What readers keep of recent inbox reads (see the module's doc).
#[derive(Default)]
pub(crate) struct InboxCache {
    next: AtomicU64,
    kept: Mutex<Kept>,
}

impl InboxCache {
    fn with<T>(&self, f: impl FnOnce(&mut Kept) -> T) -> T {
        let mut k = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut k)
    }

    fn entry<'a>(&self, k: &'a mut Kept, agency: &str) -> &'a mut Entry {
        if k.agencies.len() >= MAX_AGENCIES && !k.agencies.contains_key(agency) {
            k.agencies.clear();
            k.rows = 0;
        }
        k.agencies
            .entry(agency.to_string())
            .or_insert_with(|| Entry {
                generation: self.next.load(Ordering::SeqCst),
                ..Entry::default()
            })
    }

    /// The agency's generation now: take it before reading, hand it back when keeping.
    pub(crate) fn generation(&self, agency: &str) -> u64 {
        self.with(|k| self.entry(k, agency).generation)
    }

    /// A page read earlier for exactly this query, if the agency's inbox has not changed since.
    pub(crate) fn page(&self, q: &InboxQuery) -> Option<Arc<InboxRows>> {
        self.with(|k| k.agencies.get(q.agency.as_str())?.pages.get(q).cloned())
    }

    /// Keeps a page read at `generation`, unless the inbox changed meanwhile.
    pub(crate) fn keep_page(&self, generation: u64, q: &InboxQuery, rows: Arc<InboxRows>) {
        self.with(|k| {
            if self.entry(k, q.agency.as_str()).generation != generation {
                return;
            }
            k.room(rows.rows().len());
            let e = self.entry(k, q.agency.as_str());
            let mut freed = 0;
            if e.pages.len() >= MAX_PAGES {
                freed = e.drop_kept();
            }
            if let Some(old) = e.pages.insert(q.clone(), rows) {
                freed += old.rows().len();
            }
            k.rows -= freed.min(k.rows);
        })
    }

    /// The appointments read earlier for this agency, if its inbox has not changed since.
    pub(crate) fn dues(&self, agency: &str) -> Option<Arc<Dues>> {
        self.with(|k| k.agencies.get(agency)?.dues.clone())
    }

    /// Keeps the appointments read at `generation`, unless the inbox changed meanwhile.
    pub(crate) fn keep_dues(&self, generation: u64, agency: &str, dues: Arc<Dues>) {
        self.with(|k| {
            if self.entry(k, agency).generation != generation {
                return;
            }
            k.room(dues.iter().map(|(_, v)| v.len()).sum());
            let e = self.entry(k, agency);
            let freed = e
                .dues
                .replace(dues)
                .map_or(0, |d| d.iter().map(|(_, v)| v.len()).sum());
            k.rows -= freed.min(k.rows);
        })
    }

    /// These agencies' inboxes changed (called by the writer after its commit, before it
    /// replies): what was kept for them is taken out, returned to be dropped by the caller
    /// when convenient, and later reads start a new generation.
    pub(crate) fn changed<'a>(&self, agencies: impl IntoIterator<Item = &'a str>) -> Stale {
        let mut stale = Stale::default();
        let mut agencies = agencies.into_iter().peekable();
        if agencies.peek().is_none() {
            return stale;
        }
        let generation = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        self.with(|k| {
            for a in agencies {
                if let Some(e) = k.agencies.get_mut(a) {
                    e.generation = generation;
                    let freed = e.take_kept(&mut stale);
                    k.rows -= freed.min(k.rows);
                }
            }
        });
        stale
    }
}

/// The per-status counts at `now` (overdue: due before it; due soon: from it to `soon`).
pub(crate) fn counts(dues: &Dues, now: i64, soon: i64) -> Vec<InboxCount> {
    dues.iter()
        .map(|(status, due)| {
            let at = |t: i64| due.partition_point(|d| *d < Some(t)) as i64;
            let with_date = due.partition_point(|d| d.is_none()) as i64;
            let (before_now, before_soon) = (at(now), at(soon));
            InboxCount {
                status: *status,
                total: due.len() as i64,
                overdue: before_now - with_date,
                due_soon: (before_soon - before_now).max(0),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DossierSummary;

    fn query(agency: &str) -> InboxQuery {
        InboxQuery::first_page(agency.parse().unwrap())
    }

    /// A read that began before a change is not kept; one that began after is; a change to one
    /// agency leaves the others' pages in place; an agency dropped and seen again cannot take
    /// a generation from before a change.
    #[test]
    fn nothing_read_before_a_change_is_served_after_it() {
        let c = InboxCache::default();
        let (a, b) = (query("H40.24781"), query("H40.24782"));
        let rows = Arc::new(InboxRows::new(Vec::new()));
        let ga = c.generation(a.agency.as_str());
        let gb = c.generation(b.agency.as_str());
        c.changed([a.agency.as_str()]);
        c.keep_page(ga, &a, rows.clone());
        c.keep_page(gb, &b, rows.clone());
        assert!(
            c.page(&a).is_none(),
            "read before the change, kept after it"
        );
        assert!(c.page(&b).is_some());
        let ga = c.generation(a.agency.as_str());
        c.keep_page(ga, &a, rows.clone());
        assert!(c.page(&a).is_some());
        c.changed([b.agency.as_str(), a.agency.as_str()]);
        assert!(c.page(&a).is_none() && c.page(&b).is_none());
        // Dropped from the map (as when it is full), then a change, then an old reader.
        let old = c.generation(a.agency.as_str());
        c.with(|k| k.agencies.clear());
        c.changed([b.agency.as_str()]);
        c.keep_page(old, &a, rows);
        assert!(c.page(&a).is_none(), "a generation from before the change");
    }

    /// The rows kept stay within [`MAX_ROWS`], and the running count matches what is kept.
    #[test]
    fn what_is_kept_stays_bounded() {
        let c = InboxCache::default();
        let row = DossierSummary {
            id: uuid::Uuid::nil(),
            code: None,
            procedure_code: "1.000080".into(),
            procedure_name: "Đăng ký khai sinh".into(),
            applicant_name: "Trần Văn Bình".into(),
            status: Status::Received,
            national_status: 2,
            receiving_agency: "H40.24781".into(),
            current_agency: "H40.24781".into(),
            submitted_at: chrono::DateTime::UNIX_EPOCH,
            due_at: None,
            version: 1,
        };
        let page = Arc::new(InboxRows::new(vec![row; 1_000]));
        for i in 0..300 {
            let mut q = query(&format!("H40.{:05}", 10_000 + i % 150));
            q.limit = 1 + (i / 150) as u32;
            let g = c.generation(q.agency.as_str());
            c.keep_page(g, &q, page.clone());
            let g = c.generation(q.agency.as_str());
            c.keep_dues(
                g,
                q.agency.as_str(),
                Arc::new(vec![(Status::Received, vec![None; 10])]),
            );
            let (counted, held): (usize, usize) =
                c.with(|k| (k.rows, k.agencies.values().map(Entry::rows).sum()));
            assert_eq!(counted, held, "after {i}");
            assert!(held <= MAX_ROWS, "{held} rows after {i}");
        }
        c.changed(["H40.10000"]);
        let (counted, held) =
            c.with(|k| (k.rows, k.agencies.values().map(Entry::rows).sum::<usize>()));
        assert_eq!(counted, held);
    }

    #[test]
    fn counts_follow_the_clock() {
        let dues: Dues = vec![
            (Status::AwaitingReception, vec![None, None]),
            (
                Status::Processing,
                vec![None, Some(10), Some(20), Some(30), Some(40)],
            ),
        ];
        let c = counts(&dues, 25, 35);
        assert_eq!((c[0].total, c[0].overdue, c[0].due_soon), (2, 0, 0));
        assert_eq!((c[1].total, c[1].overdue, c[1].due_soon), (5, 2, 1));
        let c = counts(&dues, 5, 10);
        assert_eq!((c[1].overdue, c[1].due_soon), (0, 0));
        let c = counts(&dues, 41, 41);
        assert_eq!((c[1].overdue, c[1].due_soon), (4, 0));
    }
}
