//! Feedback items on SQLite (migration 23): writes on the writer thread, reads on the pool.

use super::writer::db_err;
use super::{SqliteStore, corrupt, from_ts, ts};
use crate::feedback::{FeedbackQuery, FeedbackRow};
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use motcua_domain::feedback::{Feedback, FeedbackStep};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use uuid::Uuid;

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(corrupt)
}

fn insert_step(c: &Connection, f: &Feedback, s: &FeedbackStep) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO feedback_steps (feedback, seq, at, agency, body) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .map_err(db_err)?
    .execute(params![
        f.id.to_string(),
        i64::try_from(s.seq).map_err(corrupt)?,
        ts(s.at),
        s.agency.to_string(),
        json(s)?
    ])
    .map_err(db_err)?;
    Ok(())
}

impl SqliteStore {
    pub(crate) async fn create_feedback(
        &self,
        f: Feedback,
        step: FeedbackStep,
        due: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let body = json(&f)?;
        self.admin(move |c| {
            let n = c
                .prepare_cached(
                    "INSERT INTO feedback (id, owner, agency, state, subject_kind, subject,
                                           received_at, due_at, published_at, version, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                     ON CONFLICT (id) DO NOTHING",
                )
                .map_err(db_err)?
                .execute(params![
                    f.id.to_string(),
                    f.owner.to_string(),
                    f.agency.to_string(),
                    f.state.as_str(),
                    f.subject_kind.as_str(),
                    f.subject,
                    ts(f.received_at),
                    due.map(ts),
                    f.published_at.map(ts),
                    i64::try_from(f.version).map_err(corrupt)?,
                    body
                ])
                .map_err(db_err)?;
            if n == 0 {
                return Err(StoreError::Duplicate(format!("feedback item {}", f.id)));
            }
            insert_step(c, &f, &step)
        })
        .await
    }

    pub(crate) async fn save_feedback(
        &self,
        f: Feedback,
        step: FeedbackStep,
        due: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let body = json(&f)?;
        self.admin(move |c| {
            let expected = f.version.saturating_sub(1);
            let n = c
                .prepare_cached(
                    "UPDATE feedback SET state = ?2, due_at = ?3, published_at = ?4, version = ?5,
                                         body = ?6
                     WHERE id = ?1 AND version = ?7",
                )
                .map_err(db_err)?
                .execute(params![
                    f.id.to_string(),
                    f.state.as_str(),
                    due.map(ts),
                    f.published_at.map(ts),
                    i64::try_from(f.version).map_err(corrupt)?,
                    body,
                    i64::try_from(expected).map_err(corrupt)?
                ])
                .map_err(db_err)?;
            if n == 0 {
                let actual: Option<i64> = c
                    .query_row(
                        "SELECT version FROM feedback WHERE id = ?1",
                        [f.id.to_string()],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(db_err)?;
                return Err(match actual {
                    None => StoreError::NotFound(format!("feedback item {}", f.id)),
                    Some(a) => StoreError::VersionConflict {
                        expected,
                        actual: u64::try_from(a).unwrap_or(0),
                    },
                });
            }
            insert_step(c, &f, &step)
        })
        .await
    }

    pub(crate) async fn feedback(&self, id: Uuid) -> Result<Option<FeedbackRow>> {
        self.read(move |c| {
            c.prepare_cached("SELECT body, due_at FROM feedback WHERE id = ?1")
                .map_err(db_err)?
                .query_row([id.to_string()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))
                })
                .optional()
                .map_err(db_err)?
                .map(row)
                .transpose()
        })
    }

    pub(crate) async fn feedback_history(&self, id: Uuid) -> Result<Vec<FeedbackStep>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached("SELECT body FROM feedback_steps WHERE feedback = ?1 ORDER BY seq")
                .map_err(db_err)?;
            let rows = st
                .query_map([id.to_string()], |r| r.get::<_, String>(0))
                .map_err(db_err)?;
            rows.map(|r| serde_json::from_str(&r.map_err(db_err)?).map_err(corrupt))
                .collect()
        })
    }

    pub(crate) async fn list_feedback(&self, q: &FeedbackQuery) -> Result<Vec<FeedbackRow>> {
        let mut sql = String::from("SELECT body, due_at FROM feedback WHERE 1 = 1");
        let mut args: Vec<Value> = Vec::new();
        let mut arg = |sql: &mut String, clause: &str, v: Value| {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
        };
        if let Some(o) = q.owner {
            arg(&mut sql, " AND owner = ?", Value::Text(o.to_string()));
        }
        if !q.agencies.is_empty() {
            sql.push_str(" AND agency IN (");
            for (i, a) in q.agencies.iter().enumerate() {
                arg(
                    &mut sql,
                    if i == 0 { "?" } else { ", ?" },
                    Value::Text(a.to_string()),
                );
            }
            sql.push(')');
        }
        if let Some(s) = q.state {
            arg(&mut sql, " AND state = ?", Value::Text(s.as_str().into()));
        }
        if q.published {
            sql.push_str(" AND published_at IS NOT NULL");
        }
        if let Some((kind, code)) = &q.subject {
            arg(
                &mut sql,
                " AND subject_kind = ?",
                Value::Text(kind.as_str().into()),
            );
            arg(&mut sql, " AND subject = ?", Value::Text(code.clone()));
        }
        if let Some(t) = q.received_from {
            arg(&mut sql, " AND received_at >= ?", Value::Integer(ts(t)));
        }
        if let Some(t) = q.received_before {
            arg(&mut sql, " AND received_at < ?", Value::Integer(ts(t)));
        }
        sql.push_str(&format!(" ORDER BY {} LIMIT {}", q.order_sql(), q.limit()));
        self.read(move |c| {
            let mut st = c.prepare(&sql).map_err(db_err)?;
            let rows = st
                .query_map(params_from_iter(args.iter()), |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))
                })
                .map_err(db_err)?;
            rows.map(|r| row(r.map_err(db_err)?)).collect()
        })
    }
}

fn row((body, due): (String, Option<i64>)) -> Result<FeedbackRow> {
    Ok(FeedbackRow {
        item: serde_json::from_str(&body).map_err(corrupt)?,
        due_at: due.map(from_ts),
    })
}
