//! The published catalogue in memory: every published procedure by code, its facets (fields,
//! levels, applicant types, online levels, agencies) and the tantivy search index. Loaded from
//! the store when the server starts (or on first use), refreshed in place when a version is
//! published here, and reloaded periodically so imports and other nodes' publications show up.

use motcua_domain::procedure::{Level, OnlineLevel};
use motcua_domain::text::fold;
use motcua_search::SearchIndex;
use motcua_store::{ProcedureRecord, Store, StoreError};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// How often a server reloads the whole catalogue from the store.
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(120);

impl crate::AppState {
    /// The published catalogue (loaded from the store on first use).
    pub async fn catalogue(&self) -> Result<Arc<Catalogue>, StoreError> {
        if let Some(c) = self.catalogue_now() {
            return Ok(c);
        }
        let _loading = self.catalogue_loading.lock().await;
        if let Some(c) = self.catalogue_now() {
            return Ok(c);
        }
        let c = Arc::new(Catalogue::load(&self.store).await?);
        self.set_catalogue(Arc::clone(&c));
        Ok(c)
    }

    fn catalogue_now(&self) -> Option<Arc<Catalogue>> {
        match self.catalogue.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn set_catalogue(&self, c: Arc<Catalogue>) {
        match self.catalogue.write() {
            Ok(mut g) => *g = Some(c),
            Err(p) => *p.into_inner() = Some(c),
        }
    }

    /// Reloads the whole catalogue; rebuilds its index only when the published versions
    /// changed (another node or an import published or withdrew one).
    pub async fn reload_catalogue(&self) -> Result<(), StoreError> {
        let _loading = self.catalogue_loading.lock().await;
        let c = match self.catalogue_now() {
            Some(current) => {
                // Read before the records: they are then at least this generation's.
                let generation = self.store.catalogue_generation().await?;
                if current.generation == Some(generation) {
                    // Nothing written since: reading 100,000 records again costs ~10 s of a
                    // core for nothing.
                    return Ok(());
                }
                let records = self.store.published_procedures().await?;
                tokio::task::spawn_blocking(move || current.reloaded(records, generation))
                    .await
                    .map_err(|e| StoreError::Backend(e.to_string()))??
            }
            None => Catalogue::load(&self.store).await?,
        };
        self.set_catalogue(Arc::new(c));
        Ok(())
    }

    /// Re-reads one procedure after a publication and refreshes the snapshot and the index.
    pub async fn refresh_procedure(&self, code: &str) -> Result<(), StoreError> {
        let current = self.catalogue().await?;
        let _loading = self.catalogue_loading.lock().await;
        let record = self.store.published_procedure(code).await?;
        let current = self.catalogue_now().unwrap_or(current);
        let next = Arc::new(current.with(code, record)?);
        self.set_catalogue(next);
        self.procedures.remove(&code.to_string());
        Ok(())
    }
}

/// A snapshot of the published catalogue.
pub struct Catalogue {
    /// Published procedures, by code.
    records: Vec<Arc<ProcedureRecord>>,
    by_code: HashMap<String, usize>,
    /// Folded `code name` of each record, for the list's word filter.
    folded: Vec<String>,
    /// The search index (shared by successive snapshots, updated in place).
    pub index: Arc<SearchIndex>,
    /// The store's catalogue generation read before the records were (`None`: not read): a
    /// reload skips reading them while the store's is the same.
    generation: Option<i64>,
}

/// Filters of a catalogue listing; every one given must hold.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Folded words that must all appear in the code or name.
    pub words: Vec<String>,
    /// Exact field (lĩnh vực), compared folded.
    pub field: Option<String>,
    /// Implementing level.
    pub level: Option<Level>,
    /// Online level.
    pub online_level: Option<OnlineLevel>,
    /// Applicant type, compared folded.
    pub applicant: Option<String>,
    /// Received at this agency.
    pub agency: Option<String>,
}

impl Filter {
    fn matches(&self, r: &ProcedureRecord, folded: &str) -> bool {
        let v = &r.version;
        self.words.iter().all(|w| folded.contains(w.as_str()))
            && self.field.as_ref().is_none_or(|f| fold(&v.field) == *f)
            && self.level.is_none_or(|l| v.levels.contains(&l))
            && self.online_level.is_none_or(|o| v.online_level == o)
            && self
                .applicant
                .as_ref()
                .is_none_or(|a| v.details.applicant_types.iter().any(|t| fold(t) == *a))
            && self
                .agency
                .as_ref()
                .is_none_or(|a| r.receiving_agencies.iter().any(|x| x.as_str() == a))
    }
}

impl Catalogue {
    /// Builds a snapshot and its index from the store.
    pub async fn load(store: &Store) -> Result<Catalogue, StoreError> {
        let generation = store.catalogue_generation().await?;
        let records = store.published_procedures().await?;
        let built = tokio::task::spawn_blocking(move || {
            let index = SearchIndex::build(records.iter().map(|r| &r.version))
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            Ok::<_, StoreError>(Catalogue::from_parts(
                records.into_iter().map(Arc::new).collect(),
                Arc::new(index),
                Some(generation),
            ))
        })
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))??;
        Ok(built)
    }

    /// A snapshot of `records` (the whole published catalogue, read again), keeping this
    /// snapshot's index when it holds the same versions of the same procedures: a published
    /// version never changes, so only the rest of a record (its receiving agencies) may differ.
    /// Rebuilding the index of 100,000 procedures costs ~6 s of a core, which the reload every
    /// two minutes took from the searches whether or not anything was published.
    pub fn reloaded(
        &self,
        records: Vec<ProcedureRecord>,
        generation: i64,
    ) -> Result<Catalogue, StoreError> {
        let same = records.len() == self.records.len()
            && records.iter().all(|r| {
                self.get(&r.version.code.to_string())
                    .is_some_and(|mine| mine.version.version == r.version.version)
            });
        let index = if same {
            Arc::clone(&self.index)
        } else {
            Arc::new(
                SearchIndex::build(records.iter().map(|r| &r.version))
                    .map_err(|e| StoreError::Backend(e.to_string()))?,
            )
        };
        Ok(Catalogue::from_parts(
            records.into_iter().map(Arc::new).collect(),
            index,
            Some(generation),
        ))
    }

    fn from_parts(
        mut records: Vec<Arc<ProcedureRecord>>,
        index: Arc<SearchIndex>,
        generation: Option<i64>,
    ) -> Catalogue {
        records.sort_by_key(|r| r.version.code.to_string());
        let by_code = records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.version.code.to_string(), i))
            .collect();
        let folded = records
            .iter()
            .map(|r| format!("{} {}", r.version.code, fold(&r.version.name)))
            .collect();
        Catalogue {
            records,
            by_code,
            folded,
            index,
            generation,
        }
    }

    /// A new snapshot with `record` published (or, with `None`, `code` withdrawn); the index is
    /// updated in place.
    pub fn with(
        &self,
        code: &str,
        record: Option<ProcedureRecord>,
    ) -> Result<Catalogue, StoreError> {
        let mut records: Vec<Arc<ProcedureRecord>> = self
            .records
            .iter()
            .filter(|r| r.version.code.to_string() != code)
            .cloned()
            .collect();
        match &record {
            Some(r) => self.index.upsert([&r.version]),
            None => self.index.remove(code),
        }
        .map_err(|e| StoreError::Backend(e.to_string()))?;
        records.extend(record.map(Arc::new));
        // The publication made a newer generation than this snapshot's: the next reload reads
        // the records again (once), which also brings what other nodes wrote meanwhile.
        Ok(Catalogue::from_parts(
            records,
            Arc::clone(&self.index),
            self.generation,
        ))
    }

    /// Every published procedure, by code.
    pub fn all(&self) -> &[Arc<ProcedureRecord>] {
        &self.records
    }

    /// One published procedure.
    pub fn get(&self, code: &str) -> Option<&Arc<ProcedureRecord>> {
        self.by_code.get(code).map(|&i| &self.records[i])
    }

    /// Procedures matching `filter` with a code after `after`, by code, at most `limit`.
    pub fn list(
        &self,
        filter: &Filter,
        after: Option<&str>,
        limit: usize,
    ) -> Vec<&Arc<ProcedureRecord>> {
        let start = match after {
            Some(a) => self
                .records
                .partition_point(|r| r.version.code.to_string().as_str() <= a),
            None => 0,
        };
        self.records[start..]
            .iter()
            .zip(&self.folded[start..])
            .filter(|(r, f)| filter.matches(r, f))
            .map(|(r, _)| r)
            .take(limit)
            .collect()
    }

    /// Whether one record passes `filter`.
    pub fn list_one(&self, filter: &Filter, r: &ProcedureRecord) -> bool {
        let folded = format!("{} {}", r.version.code, fold(&r.version.name));
        filter.matches(r, &folded)
    }

    /// How many procedures each value of a facet has, by value (fields, applicant types).
    pub fn facet(&self, of: impl Fn(&ProcedureRecord) -> Vec<String>) -> Vec<(String, usize)> {
        let mut counts: BTreeMap<String, (String, usize)> = BTreeMap::new();
        for r in &self.records {
            for v in of(r) {
                let e = counts.entry(fold(&v)).or_insert((v, 0));
                e.1 += 1;
            }
        }
        counts.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use motcua_domain::catalogue::ProcedureDetails;
    use motcua_domain::procedure::{ProcedureVersion, TimeLimit, TimeUnit, VersionStatus};
    use motcua_domain::workflow::WorkflowDef;

    fn rec(code: &str, name: &str, field: &str, level: Level, agency: &str) -> ProcedureRecord {
        let limit = TimeLimit {
            amount: 3,
            unit: TimeUnit::WorkingDays,
        };
        ProcedureRecord {
            version: ProcedureVersion {
                code: code.parse().unwrap(),
                version: 1,
                status: VersionStatus::Published,
                name: name.into(),
                field: field.into(),
                levels: vec![level],
                online_level: OnlineLevel::Full,
                time_limit: limit,
                fee_vnd: 0,
                documents: vec![],
                decision_no: String::new(),
                competent_agency: None,
                workflow: WorkflowDef::standard(limit.duration(), None),
                details: ProcedureDetails {
                    applicant_types: vec!["Công dân Việt Nam".into()],
                    ..ProcedureDetails::default()
                },
                form: None,
            },
            receiving_agencies: vec![agency.parse().unwrap()],
        }
    }

    fn cat() -> Catalogue {
        let recs = vec![
            rec(
                "1.000003",
                "Đăng ký kết hôn",
                "Hộ tịch",
                Level::Commune,
                "H40.24781",
            ),
            rec(
                "1.000001",
                "Đăng ký khai sinh",
                "Hộ tịch",
                Level::Commune,
                "H40.24781",
            ),
            rec(
                "1.000002",
                "Cấp phép xây dựng",
                "Xây dựng",
                Level::Province,
                "000.00.01.H40",
            ),
        ];
        let index = SearchIndex::build(recs.iter().map(|r| &r.version)).unwrap();
        Catalogue::from_parts(
            recs.into_iter().map(Arc::new).collect(),
            Arc::new(index),
            None,
        )
    }

    /// The server builds the catalogue when it starts, before anyone searches.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_started_server_builds_the_catalogue_before_the_first_search() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        let state = crate::AppState::new(store);
        assert!(state.catalogue_now().is_none());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = tokio::spawn(crate::serve(listener, state.clone()));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while state.catalogue_now().is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "no catalogue 30 s after the start"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        server.abort();
    }

    /// The periodic reload reads the records only when procedures were written since.
    #[tokio::test]
    async fn a_reload_reads_the_records_only_after_a_write() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        let state = crate::AppState::new(store.clone());
        let first = state.catalogue().await.unwrap();
        state.reload_catalogue().await.unwrap();
        let kept = state.catalogue().await.unwrap();
        assert!(
            Arc::ptr_eq(&first, &kept),
            "nothing written: the same snapshot"
        );
        let r = rec(
            "1.000009",
            "Đăng ký khai sinh",
            "Hộ tịch",
            Level::Commune,
            "H40.24781",
        );
        store.save_procedures(vec![r], Vec::new()).await.unwrap();
        state.reload_catalogue().await.unwrap();
        let next = state.catalogue().await.unwrap();
        assert!(!Arc::ptr_eq(&first, &next));
        assert!(next.get("1.000009").is_some());
        state.reload_catalogue().await.unwrap();
        assert!(Arc::ptr_eq(&next, &state.catalogue().await.unwrap()));
    }

    fn codes(v: Vec<&Arc<ProcedureRecord>>) -> Vec<String> {
        v.iter().map(|r| r.version.code.to_string()).collect()
    }

    #[test]
    fn lists_by_code_with_filters_and_a_cursor() {
        let c = cat();
        let all = Filter::default();
        assert_eq!(codes(c.list(&all, None, 2)), ["1.000001", "1.000002"]);
        assert_eq!(codes(c.list(&all, Some("1.000002"), 2)), ["1.000003"]);
        let f = Filter {
            field: Some(fold("hộ tịch")),
            ..Filter::default()
        };
        assert_eq!(codes(c.list(&f, None, 10)), ["1.000001", "1.000003"]);
        let f = Filter {
            level: Some(Level::Province),
            ..Filter::default()
        };
        assert_eq!(codes(c.list(&f, None, 10)), ["1.000002"]);
        let f = Filter {
            words: vec!["dang".into(), "hon".into()],
            agency: Some("H40.24781".into()),
            applicant: Some(fold("Công dân Việt Nam")),
            ..Filter::default()
        };
        assert_eq!(codes(c.list(&f, None, 10)), ["1.000003"]);
        assert_eq!(
            c.facet(|r| vec![r.version.field.clone()]),
            [("Hộ tịch".to_string(), 2), ("Xây dựng".to_string(), 1)]
        );
    }

    #[test]
    fn publishing_replaces_in_the_snapshot_and_the_index() {
        let c = cat();
        let mut r = rec(
            "1.000001",
            "Đăng ký khai sinh lưu động",
            "Hộ tịch",
            Level::Commune,
            "H40.24781",
        );
        r.version.version = 2;
        let c2 = c.with("1.000001", Some(r)).unwrap();
        assert_eq!(c2.get("1.000001").unwrap().version.version, 2);
        assert_eq!(c2.index.search("luu dong", 5).unwrap()[0].code, "1.000001");
        let c3 = c2.with("1.000002", None).unwrap();
        assert!(c3.get("1.000002").is_none());
        assert_eq!(c3.all().len(), 2);
    }

    #[test]
    fn a_reload_keeps_the_index_unless_the_published_versions_changed() {
        let c = cat();
        let records = || c.all().iter().map(|r| (**r).clone()).collect::<Vec<_>>();
        // The same versions, one with another receiving agency: same index, new records.
        let mut same = records();
        same[0].receiving_agencies.clear();
        let again = c.reloaded(same, 1).unwrap();
        assert!(Arc::ptr_eq(&again.index, &c.index));
        assert!(again.all()[0].receiving_agencies.is_empty());
        // Another node published a new version: a new index that finds it.
        let mut changed = records();
        changed[0].version.version += 1;
        changed[0].version.name = "Đăng ký khai sinh lưu động".into();
        let next = c.reloaded(changed, 2).unwrap();
        assert!(!Arc::ptr_eq(&next.index, &c.index));
        assert_eq!(
            next.index.search("luu dong", 5).unwrap()[0].code,
            next.all()[0].version.code.to_string()
        );
        // One withdrawn: a new index without it.
        let fewer = records().into_iter().skip(1).collect();
        let next = c.reloaded(fewer, 3).unwrap();
        assert!(!Arc::ptr_eq(&next.index, &c.index));
        assert_eq!(next.index.len(), 2);
    }
}
