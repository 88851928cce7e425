//! SQLite: login lockout, sign-out and the audit trail.

use super::{SqliteStore, corrupt, from_ts, ts};
use crate::Result;
use crate::accounts::{AuditEntry, AuditQuery, AuditRecord, LoginFailure};
use crate::sqlite::writer::db_err;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use std::sync::{Arc, Mutex};

impl SqliteStore {
    pub(crate) async fn create_password_reset(
        &self,
        r: crate::accounts::PasswordReset,
        mail: motcua_domain::dossier::OutboxMessage,
    ) -> Result<()> {
        let payload = serde_json::to_string(&mail.payload).map_err(corrupt)?;
        self.admin(move |c| {
            c.prepare_cached(
                "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(db_err)?
            .execute(params![
                r.token_hash,
                r.user_id.to_string(),
                ts(r.created_at),
                ts(r.expires_at)
            ])
            .map_err(db_err)?;
            c.prepare_cached(
                "INSERT INTO outbox (topic, key, payload, created_at) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(db_err)?
            .execute(params![mail.topic, mail.key, payload, ts(r.created_at)])
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn use_password_reset(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<uuid::Uuid>> {
        let (h, p) = (token_hash.to_string(), password_hash.to_string());
        let out = Arc::new(Mutex::new(None));
        let put = Arc::clone(&out);
        self.admin(move |c| {
            let user: Option<String> = c
                .prepare_cached(
                    "UPDATE password_resets SET used_at = ?2
                     WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2
                     RETURNING user_id",
                )
                .map_err(db_err)?
                .query_row(params![h, ts(now)], |r| r.get(0))
                .optional()
                .map_err(db_err)?;
            let Some(user) = user else { return Ok(()) };
            c.prepare_cached(
                "UPDATE users SET password_hash = ?2, failed_logins = 0, locked_until = NULL
                 WHERE id = ?1",
            )
            .map_err(db_err)?
            .execute(params![user, p])
            .map_err(db_err)?;
            c.prepare_cached("DELETE FROM tokens WHERE user_id = ?1")
                .map_err(db_err)?
                .execute([&user])
                .map_err(db_err)?;
            *put.lock().map_err(corrupt)? = Some(user.parse::<uuid::Uuid>().map_err(corrupt)?);
            Ok(())
        })
        .await?;
        let v = *out.lock().map_err(corrupt)?;
        Ok(v)
    }

    pub(crate) async fn delete_token(&self, token_hash: &str) -> Result<()> {
        let h = token_hash.to_string();
        self.admin(move |c| {
            c.prepare_cached("DELETE FROM tokens WHERE token_hash = ?1")
                .map_err(db_err)?
                .execute([h])
                .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn login_locked_until(
        &self,
        username: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        let u = username.to_string();
        let until: Option<Option<i64>> = self.read(move |c| {
            c.prepare_cached("SELECT locked_until FROM users WHERE username = ?1")
                .map_err(db_err)?
                .query_row([u], |r| r.get(0))
                .optional()
                .map_err(db_err)
        })?;
        Ok(until.flatten().map(from_ts).filter(|t| *t > now))
    }

    pub(crate) async fn record_login_failure(
        &self,
        username: &str,
        now: DateTime<Utc>,
        max_failures: u32,
        lock_for: chrono::Duration,
    ) -> Result<LoginFailure> {
        let u = username.to_string();
        let out = Arc::new(Mutex::new(LoginFailure {
            failures: 0,
            locked_until: None,
        }));
        let put = Arc::clone(&out);
        self.admin(move |c| {
            let n: Option<i64> = c
                .prepare_cached(
                    "UPDATE users SET failed_logins = failed_logins + 1 WHERE username = ?1
                     RETURNING failed_logins",
                )
                .map_err(db_err)?
                .query_row([&u], |r| r.get(0))
                .optional()
                .map_err(db_err)?;
            let Some(n) = n else { return Ok(()) };
            let mut res = LoginFailure {
                failures: u32::try_from(n).map_err(corrupt)?,
                locked_until: None,
            };
            if res.failures >= max_failures {
                let until = now + lock_for;
                c.prepare_cached(
                    "UPDATE users SET failed_logins = 0, locked_until = ?2 WHERE username = ?1",
                )
                .map_err(db_err)?
                .execute(params![u, ts(until)])
                .map_err(db_err)?;
                res.locked_until = Some(until);
            }
            *put.lock().map_err(corrupt)? = res;
            Ok(())
        })
        .await?;
        let res = *out.lock().map_err(corrupt)?;
        Ok(res)
    }

    pub(crate) async fn clear_login_failures(&self, username: &str) -> Result<()> {
        let u = username.to_string();
        self.admin(move |c| {
            c.prepare_cached(
                "UPDATE users SET failed_logins = 0, locked_until = NULL
                 WHERE username = ?1 AND (failed_logins <> 0 OR locked_until IS NOT NULL)",
            )
            .map_err(db_err)?
            .execute([u])
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn append_audit(&self, e: AuditEntry) -> Result<()> {
        self.admin(move |c| {
            c.prepare_cached(
                "INSERT INTO audit_log (at, user_id, username, action, dossier_id, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(db_err)?
            .execute(params![
                ts(e.at),
                e.user_id.map(|u| u.to_string()),
                e.username,
                e.action,
                e.dossier_id.map(|d| d.to_string()),
                e.detail
            ])
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn audit_trail(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>> {
        let q = q.clone();
        self.read(move |c| {
            // One statement per filter, so each uses its index.
            let (filter, arg) = match (q.dossier_id, q.user_id) {
                (Some(d), _) => ("dossier_id = ?1", Some(d.to_string())),
                (None, Some(u)) => ("user_id = ?1", Some(u.to_string())),
                (None, None) => ("?1 IS NULL", None),
            };
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT id, at, user_id, username, action, dossier_id, detail FROM audit_log
                     WHERE {filter} AND id < ?2 ORDER BY id DESC LIMIT ?3"
                ))
                .map_err(db_err)?;
            let rows = st
                .query_map(
                    params![
                        arg,
                        q.before.unwrap_or(i64::MAX),
                        i64::from(q.limit.clamp(1, 500))
                    ],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, Option<String>>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, Option<String>>(5)?,
                            r.get::<_, String>(6)?,
                        ))
                    },
                )
                .map_err(db_err)?;
            rows.map(|r| {
                let (id, at, user_id, username, action, dossier_id, detail) = r.map_err(db_err)?;
                Ok(AuditRecord {
                    id,
                    at: from_ts(at),
                    user_id: user_id.map(|u| u.parse().map_err(corrupt)).transpose()?,
                    username,
                    action,
                    dossier_id: dossier_id.map(|d| d.parse().map_err(corrupt)).transpose()?,
                    detail,
                })
            })
            .collect()
        })
    }
}
