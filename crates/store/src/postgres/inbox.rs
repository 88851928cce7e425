//! PostgreSQL: staff inboxes (see `crate::inbox`).

use super::{PgStore, corrupt, summary_of};
use crate::inbox::{CLOSED_SQL, InboxCount, InboxQuery, InboxRows};
use crate::{DossierSummary, Result};
use chrono::{DateTime, Utc};
use motcua_domain::codes::AgencyCode;
use motcua_domain::status::Status;
use tokio_postgres::types::ToSql;

/// The sort key of an appointment: none (not yet received) sorts first.
const DUE_KEY: &str = "COALESCE(due_at, 'epoch'::timestamptz)";

impl PgStore {
    pub(crate) async fn inbox_rows(&self, q: &InboxQuery) -> Result<std::sync::Arc<InboxRows>> {
        Ok(std::sync::Arc::new(InboxRows::new(self.inbox(q).await?)))
    }

    pub(crate) async fn inbox(&self, q: &InboxQuery) -> Result<Vec<DossierSummary>> {
        let mut sql = format!(
            "SELECT id, code, procedure_code, procedure_name, applicant_name, status, national_status,
                    receiving_agency, current_agency, submitted_at, due_at, version
             FROM dossiers WHERE current_agency = $1 AND status NOT IN {CLOSED_SQL}"
        );
        if !q.statuses.is_empty() {
            let list: Vec<String> = q
                .statuses
                .iter()
                .map(|s| format!("'{}'", s.as_str()))
                .collect();
            sql.push_str(&format!(" AND status IN ({})", list.join(", ")));
        }
        let mut args: Vec<Box<dyn ToSql + Sync + Send>> = vec![Box::new(q.agency.to_string())];
        {
            let mut push = |clause: &str, v: Box<dyn ToSql + Sync + Send>| {
                args.push(v);
                sql.push_str(&clause.replace('?', &format!("${}", args.len())));
            };
            if let Some(p) = &q.procedure_code {
                push(" AND procedure_code = ?", Box::new(p.clone()));
            }
            if let Some(ch) = q.channel {
                push(" AND channel = ?", Box::new(ch.as_str()));
            }
            if let Some(a) = q.assignee {
                push(" AND assignee = ?", Box::new(a));
            }
            if let Some(t) = q.submitted_from {
                push(" AND submitted_at >= ?", Box::new(t));
            }
            if let Some(t) = q.submitted_to {
                push(" AND submitted_at < ?", Box::new(t));
            }
        }
        if let Some(cur) = q.after {
            let key = cur.due_at.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
            args.push(Box::new(key));
            args.push(Box::new(cur.id));
            let n = args.len();
            sql.push_str(&format!(" AND ({DUE_KEY}, id) > (${k}, ${n})", k = n - 1));
        }
        sql.push_str(&format!(
            " ORDER BY {DUE_KEY}, id LIMIT {}",
            q.limit.clamp(1, 200)
        ));
        let refs: Vec<&(dyn ToSql + Sync)> = args
            .iter()
            .map(|a| a.as_ref() as &(dyn ToSql + Sync))
            .collect();
        self.query(&sql, &refs)
            .await?
            .iter()
            .map(summary_of)
            .collect()
    }

    pub(crate) async fn inbox_counts(
        &self,
        agency: &AgencyCode,
        now: DateTime<Utc>,
        soon: DateTime<Utc>,
    ) -> Result<Vec<InboxCount>> {
        let rows = self
            .query(
                &format!(
                    "SELECT status, count(*),
                            count(*) FILTER (WHERE due_at < $2),
                            count(*) FILTER (WHERE due_at >= $2 AND due_at < $3)
                     FROM dossiers
                     WHERE current_agency = $1 AND status NOT IN {CLOSED_SQL}
                     GROUP BY status ORDER BY status"
                ),
                &[&agency.to_string(), &now, &soon],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let s: &str = r.get(0);
                Ok(InboxCount {
                    status: Status::parse(s).ok_or_else(|| corrupt(s))?,
                    total: r.get(1),
                    overdue: r.get(2),
                    due_soon: r.get(3),
                })
            })
            .collect()
    }
}
