//! SQLite: staff inboxes (see `crate::inbox`), through the inbox cache of file databases
//! (`inbox_cache.rs`, decision 0040).

use super::inbox_cache::{self, Dues};
use super::{SUMMARY_COLUMNS, SqliteStore, corrupt, summary, summary_row, ts};
use crate::Result;
use crate::inbox::{CLOSED_SQL, InboxCount, InboxCursor, InboxQuery, InboxRows};
use crate::sqlite::writer::db_err;
use chrono::{DateTime, Utc};
use motcua_domain::codes::AgencyCode;
use motcua_domain::status::Status;
use rusqlite::types::Value as V;
use std::sync::Arc;

impl SqliteStore {
    pub(crate) async fn inbox_rows(&self, q: &InboxQuery) -> Result<Arc<InboxRows>> {
        let cache = self.inboxes.as_deref();
        if let Some(page) = cache.and_then(|c| c.page(q)) {
            return Ok(page);
        }
        let generation = cache.map(|c| c.generation(q.agency.as_str()));
        let rows = self.read(|c| {
            let (sql, args) = inbox_sql(q);
            let mut st = c.prepare_cached(&sql).map_err(db_err)?;
            let rows = st
                .query_map(rusqlite::params_from_iter(args), summary_row)
                .map_err(db_err)?;
            rows.map(|r| summary(r.map_err(db_err)?))
                .collect::<Result<Vec<_>>>()
        })?;
        let page = Arc::new(InboxRows::new(rows));
        if let (Some(c), Some(g)) = (cache, generation) {
            c.keep_page(g, q, page.clone());
        }
        Ok(page)
    }

    pub(crate) async fn inbox_counts(
        &self,
        agency: &AgencyCode,
        now: DateTime<Utc>,
        soon: DateTime<Utc>,
    ) -> Result<Vec<InboxCount>> {
        let Some(cache) = self.inboxes.as_deref() else {
            return self.inbox_counts_sql(agency, now, soon);
        };
        let dues = match cache.dues(agency.as_str()) {
            Some(d) => d,
            None => {
                let generation = cache.generation(agency.as_str());
                let dues = Arc::new(self.inbox_dues(agency)?);
                cache.keep_dues(generation, agency.as_str(), dues.clone());
                dues
            }
        };
        Ok(inbox_cache::counts(&dues, ts(now), ts(soon)))
    }

    /// The appointments of the agency's open dossiers by status, in the counts index's order.
    fn inbox_dues(&self, agency: &AgencyCode) -> Result<Dues> {
        let a = agency.as_str();
        self.read(move |c| {
            let mut st = c.prepare_cached(&dues_sql()).map_err(db_err)?;
            let mut rows = st.query([a]).map_err(db_err)?;
            let mut dues: Dues = Vec::new();
            while let Some(r) = rows.next().map_err(db_err)? {
                let s = r.get_ref(0).map_err(db_err)?.as_str().map_err(corrupt)?;
                let due: Option<i64> = r.get(1).map_err(db_err)?;
                match dues.last_mut() {
                    Some((st, v)) if st.as_str() == s => v.push(due),
                    _ => dues.push((Status::parse(s).ok_or_else(|| corrupt(s))?, vec![due])),
                }
            }
            Ok(dues)
        })
    }

    /// The per-status counts straight from the database (in-memory stores, which keep no cache).
    fn inbox_counts_sql(
        &self,
        agency: &AgencyCode,
        now: DateTime<Utc>,
        soon: DateTime<Utc>,
    ) -> Result<Vec<InboxCount>> {
        let a = agency.to_string();
        self.read(move |c| {
            let mut st = c.prepare_cached(&counts_sql()).map_err(db_err)?;
            let rows = st
                .query_map(rusqlite::params![a, ts(now), ts(soon)], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                })
                .map_err(db_err)?;
            rows.map(|r| {
                let (s, total, overdue, due_soon) = r.map_err(db_err)?;
                Ok(InboxCount {
                    status: Status::parse(&s).ok_or_else(|| corrupt(&s))?,
                    total,
                    overdue,
                    due_soon,
                })
            })
            .collect()
        })
    }
}

/// The statement and arguments of an inbox page (a function of its own, so that the test below
/// can check the plan SQLite picks for every shape of it).
fn inbox_sql(q: &InboxQuery) -> (String, Vec<V>) {
    let mut args: Vec<V> = vec![V::Text(q.agency.to_string())];
    let mut sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM dossiers INDEXED BY dossiers_inbox
         WHERE current_agency = ?1 AND status NOT IN {CLOSED_SQL}"
    );
    if !q.statuses.is_empty() {
        // Our own constants, inlined: a fixed set of statements for the statement cache.
        let list: Vec<String> = q
            .statuses
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        sql.push_str(&format!(" AND status IN ({})", list.join(", ")));
    }
    {
        let mut push = |clause: &str, v: V| {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
        };
        if let Some(p) = &q.procedure_code {
            push(" AND procedure_code = ?", V::Text(p.clone()));
        }
        if let Some(ch) = q.channel {
            push(" AND channel = ?", V::Text(ch.as_str().into()));
        }
        if let Some(a) = q.assignee {
            push(" AND assignee = ?", V::Text(a.to_string()));
        }
        if let Some(t) = q.submitted_from {
            push(" AND submitted_at >= ?", V::Integer(ts(t)));
        }
        if let Some(t) = q.submitted_to {
            push(" AND submitted_at < ?", V::Integer(ts(t)));
        }
    }
    if let Some(cur) = q.after {
        let key = InboxCursor::due_key(cur.due_at);
        args.push(V::Integer(key));
        args.push(V::Text(cur.id.to_string()));
        let n = args.len();
        sql.push_str(&format!(
            " AND (IFNULL(due_at, 0) > ?{k} OR (IFNULL(due_at, 0) = ?{k} AND id > ?{n}))",
            k = n - 1
        ));
    }
    sql.push_str(&format!(
        " ORDER BY IFNULL(due_at, 0), id LIMIT {}",
        q.limit.clamp(1, 200)
    ));
    (sql, args)
}

/// The statement of the appointments of an agency's open dossiers by status (`?1` agency), in
/// the counts index's own order.
fn dues_sql() -> String {
    format!(
        "SELECT status, due_at FROM dossiers INDEXED BY dossiers_inbox_counts
         WHERE current_agency = ?1 AND status NOT IN {CLOSED_SQL}
         ORDER BY status, due_at"
    )
}

/// The statement of the per-status counts of an agency's inbox (`?1` agency, `?2` now, `?3` the
/// due-soon limit), from the narrow counts index (migration 25) in its own order: no sort, and
/// 2-3 pages for an agency's 200 open dossiers instead of the wide inbox index's ten.
fn counts_sql() -> String {
    format!(
        "SELECT status, count(*),
                sum(due_at IS NOT NULL AND due_at < ?2),
                sum(due_at IS NOT NULL AND due_at >= ?2 AND due_at < ?3)
         FROM dossiers INDEXED BY dossiers_inbox_counts
         WHERE current_agency = ?1 AND status NOT IN {CLOSED_SQL}
         GROUP BY status ORDER BY status"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbox::InboxCursor;
    use crate::sqlite::tests::plan;
    use motcua_domain::dossier::Channel;
    use uuid::Uuid;

    /// Every shape of an inbox read is answered from the inbox index alone (decision 0021): a
    /// column added to the inbox but not to the index would send each read back to the table.
    #[test]
    fn inbox_reads_never_leave_the_inbox_index() {
        let store = SqliteStore::open_memory().unwrap();
        let agency: AgencyCode = "H40.24781".parse().unwrap();
        let base = InboxQuery::first_page(agency.clone());
        let now = Utc::now();
        let shapes = [
            base.clone(),
            InboxQuery {
                statuses: vec![Status::Received, Status::Processing],
                ..base.clone()
            },
            InboxQuery {
                procedure_code: Some("1.001193".into()),
                channel: Some(Channel::Post),
                assignee: Some(Uuid::nil()),
                submitted_from: Some(now),
                submitted_to: Some(now),
                ..base.clone()
            },
            InboxQuery {
                after: Some(InboxCursor {
                    due_at: Some(now),
                    id: Uuid::nil(),
                }),
                ..base.clone()
            },
        ];
        for q in &shapes {
            let (sql, args) = inbox_sql(q);
            let p = plan(&store, &sql, args);
            assert!(p.contains("COVERING INDEX dossiers_inbox"), "{q:?}: {p}");
        }
        let args = vec![
            V::Text(agency.to_string()),
            V::Integer(ts(now)),
            V::Integer(ts(now)),
        ];
        let p = plan(&store, &counts_sql(), args);
        assert!(
            p.contains("COVERING INDEX dossiers_inbox_counts") && !p.contains("TEMP B-TREE"),
            "counts: {p}"
        );
        let p = plan(&store, &dues_sql(), vec![V::Text(agency.to_string())]);
        assert!(
            p.contains("COVERING INDEX dossiers_inbox_counts") && !p.contains("TEMP B-TREE"),
            "appointments: {p}"
        );
    }
}
