//! Feedback items on PostgreSQL (migration 23).

use super::{PgStore, corrupt, pg_err};
use crate::feedback::{FeedbackQuery, FeedbackRow};
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use motcua_domain::feedback::{Feedback, FeedbackStep};
use tokio_postgres::types::ToSql;
use uuid::Uuid;

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(corrupt)
}

fn version(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(corrupt)
}

fn row(r: &tokio_postgres::Row) -> Result<FeedbackRow> {
    let body: &str = r.get(0);
    Ok(FeedbackRow {
        item: serde_json::from_str(body).map_err(corrupt)?,
        due_at: r.get(1),
    })
}

const INSERT_STEP: &str =
    "INSERT INTO feedback_steps (feedback, seq, at, agency, body) VALUES ($1, $2, $3, $4, $5)";

impl PgStore {
    pub(crate) async fn create_feedback(
        &self,
        f: Feedback,
        step: FeedbackStep,
        due: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg_err)?;
        let n = tx
            .execute(
                "INSERT INTO feedback (id, owner, agency, state, subject_kind, subject,
                                       received_at, due_at, published_at, version, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (id) DO NOTHING",
                &[
                    &f.id,
                    &f.owner,
                    &f.agency.to_string(),
                    &f.state.as_str(),
                    &f.subject_kind.as_str(),
                    &f.subject,
                    &f.received_at,
                    &due,
                    &f.published_at,
                    &version(f.version)?,
                    &json(&f)?,
                ],
            )
            .await
            .map_err(pg_err)?;
        if n == 0 {
            return Err(StoreError::Duplicate(format!("feedback item {}", f.id)));
        }
        tx.execute(
            INSERT_STEP,
            &[
                &f.id,
                &version(step.seq)?,
                &step.at,
                &step.agency.to_string(),
                &json(&step)?,
            ],
        )
        .await
        .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)
    }

    pub(crate) async fn save_feedback(
        &self,
        f: Feedback,
        step: FeedbackStep,
        due: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let expected = f.version.saturating_sub(1);
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg_err)?;
        let n = tx
            .execute(
                "UPDATE feedback SET state = $2, due_at = $3, published_at = $4, version = $5,
                                     body = $6
                 WHERE id = $1 AND version = $7",
                &[
                    &f.id,
                    &f.state.as_str(),
                    &due,
                    &f.published_at,
                    &version(f.version)?,
                    &json(&f)?,
                    &version(expected)?,
                ],
            )
            .await
            .map_err(pg_err)?;
        if n == 0 {
            let actual = tx
                .query_opt("SELECT version FROM feedback WHERE id = $1", &[&f.id])
                .await
                .map_err(pg_err)?;
            return Err(match actual {
                None => StoreError::NotFound(format!("feedback item {}", f.id)),
                Some(r) => StoreError::VersionConflict {
                    expected,
                    actual: u64::try_from(r.get::<_, i64>(0)).unwrap_or(0),
                },
            });
        }
        tx.execute(
            INSERT_STEP,
            &[
                &f.id,
                &version(step.seq)?,
                &step.at,
                &step.agency.to_string(),
                &json(&step)?,
            ],
        )
        .await
        .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)
    }

    pub(crate) async fn feedback(&self, id: Uuid) -> Result<Option<FeedbackRow>> {
        self.query_opt("SELECT body, due_at FROM feedback WHERE id = $1", &[&id])
            .await?
            .map(|r| row(&r))
            .transpose()
    }

    pub(crate) async fn feedback_history(&self, id: Uuid) -> Result<Vec<FeedbackStep>> {
        self.query(
            "SELECT body FROM feedback_steps WHERE feedback = $1 ORDER BY seq",
            &[&id],
        )
        .await?
        .iter()
        .map(|r| serde_json::from_str(r.get::<_, &str>(0)).map_err(corrupt))
        .collect()
    }

    pub(crate) async fn list_feedback(&self, q: &FeedbackQuery) -> Result<Vec<FeedbackRow>> {
        let mut sql = String::from("SELECT body, due_at FROM feedback WHERE true");
        let mut args: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        let mut arg = |sql: &mut String, clause: &str, v: Box<dyn ToSql + Sync + Send>| {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("${}", args.len())));
        };
        if let Some(o) = q.owner {
            arg(&mut sql, " AND owner = ?", Box::new(o));
        }
        if !q.agencies.is_empty() {
            let list: Vec<String> = q.agencies.iter().map(|a| a.to_string()).collect();
            arg(&mut sql, " AND agency = ANY(?)", Box::new(list));
        }
        if let Some(s) = q.state {
            arg(&mut sql, " AND state = ?", Box::new(s.as_str().to_string()));
        }
        if q.published {
            sql.push_str(" AND published_at IS NOT NULL");
        }
        if let Some((kind, code)) = &q.subject {
            arg(
                &mut sql,
                " AND subject_kind = ?",
                Box::new(kind.as_str().to_string()),
            );
            arg(&mut sql, " AND subject = ?", Box::new(code.clone()));
        }
        if let Some(t) = q.received_from {
            arg(&mut sql, " AND received_at >= ?", Box::new(t));
        }
        if let Some(t) = q.received_before {
            arg(&mut sql, " AND received_at < ?", Box::new(t));
        }
        sql.push_str(&format!(" ORDER BY {} LIMIT {}", q.order_sql(), q.limit()));
        let refs: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a.as_ref() as _).collect();
        self.query(&sql, &refs).await?.iter().map(row).collect()
    }
}
