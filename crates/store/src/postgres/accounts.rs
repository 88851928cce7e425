//! PostgreSQL: login lockout, sign-out and the audit trail.

use super::PgStore;
use crate::Result;
use crate::accounts::{AuditEntry, AuditQuery, AuditRecord, LoginFailure};
use chrono::{DateTime, Utc};

impl PgStore {
    pub(crate) async fn create_password_reset(
        &self,
        r: crate::accounts::PasswordReset,
        mail: motcua_domain::dossier::OutboxMessage,
    ) -> Result<()> {
        let payload = serde_json::to_string(&mail.payload)
            .map_err(|e| crate::StoreError::Backend(e.to_string()))?;
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(super::pg_err)?;
        tx.execute(
            "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4)",
            &[&r.token_hash, &r.user_id, &r.created_at, &r.expires_at],
        )
        .await
        .map_err(super::pg_err)?;
        tx.execute(
            "INSERT INTO outbox (topic, key, payload, created_at) VALUES ($1, $2, $3, $4)",
            &[&mail.topic, &mail.key, &payload, &r.created_at],
        )
        .await
        .map_err(super::pg_err)?;
        tx.commit().await.map_err(super::pg_err)
    }

    pub(crate) async fn use_password_reset(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<uuid::Uuid>> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(super::pg_err)?;
        let row = tx
            .query_opt(
                "UPDATE password_resets SET used_at = $2
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
                 RETURNING user_id",
                &[&token_hash, &now],
            )
            .await
            .map_err(super::pg_err)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let user: uuid::Uuid = row.get(0);
        tx.execute(
            "UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL
             WHERE id = $1",
            &[&user, &password_hash],
        )
        .await
        .map_err(super::pg_err)?;
        tx.execute("DELETE FROM tokens WHERE user_id = $1", &[&user])
            .await
            .map_err(super::pg_err)?;
        tx.commit().await.map_err(super::pg_err)?;
        Ok(Some(user))
    }

    pub(crate) async fn delete_token(&self, token_hash: &str) -> Result<()> {
        self.query("DELETE FROM tokens WHERE token_hash = $1", &[&token_hash])
            .await
            .map(|_| ())
    }

    pub(crate) async fn login_locked_until(
        &self,
        username: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .query_opt(
                "SELECT locked_until FROM users WHERE username = $1",
                &[&username],
            )
            .await?
            .and_then(|r| r.get::<_, Option<DateTime<Utc>>>(0))
            .filter(|t| *t > now))
    }

    pub(crate) async fn record_login_failure(
        &self,
        username: &str,
        now: DateTime<Utc>,
        max_failures: u32,
        lock_for: chrono::Duration,
    ) -> Result<LoginFailure> {
        let until = now + lock_for;
        let max = i32::try_from(max_failures).unwrap_or(i32::MAX);
        // One statement: count the failure, and lock (resetting the count) when it reaches max.
        let row = self
            .query_opt(
                "UPDATE users SET
                   failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END,
                   locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END
                 WHERE username = $1
                 RETURNING failed_logins",
                &[&username, &max, &until],
            )
            .await?;
        Ok(match row {
            None => LoginFailure {
                failures: 0,
                locked_until: None,
            },
            Some(r) => {
                let n: i32 = r.get(0);
                // Counting never leaves zero unless this failure locked the account.
                if n == 0 {
                    LoginFailure {
                        failures: max_failures,
                        locked_until: Some(until),
                    }
                } else {
                    LoginFailure {
                        failures: u32::try_from(n).unwrap_or(0),
                        locked_until: None,
                    }
                }
            }
        })
    }

    pub(crate) async fn clear_login_failures(&self, username: &str) -> Result<()> {
        self.query(
            "UPDATE users SET failed_logins = 0, locked_until = NULL
             WHERE username = $1 AND (failed_logins <> 0 OR locked_until IS NOT NULL)",
            &[&username],
        )
        .await
        .map(|_| ())
    }

    pub(crate) async fn append_audit(&self, e: AuditEntry) -> Result<()> {
        self.query(
            "INSERT INTO audit_log (at, user_id, username, action, dossier_id, detail)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &e.at,
                &e.user_id,
                &e.username,
                &e.action,
                &e.dossier_id,
                &e.detail,
            ],
        )
        .await
        .map(|_| ())
    }

    pub(crate) async fn audit_trail(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>> {
        let limit = i64::from(q.limit.clamp(1, 500));
        let before = q.before.unwrap_or(i64::MAX);
        // One statement per filter, so each uses its index.
        let rows = match (q.dossier_id, q.user_id) {
            (Some(d), _) => {
                self.query(
                    "SELECT id, at, user_id, username, action, dossier_id, detail FROM audit_log
                     WHERE dossier_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
                    &[&d, &before, &limit],
                )
                .await?
            }
            (None, Some(u)) => {
                self.query(
                    "SELECT id, at, user_id, username, action, dossier_id, detail FROM audit_log
                     WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
                    &[&u, &before, &limit],
                )
                .await?
            }
            (None, None) => {
                self.query(
                    "SELECT id, at, user_id, username, action, dossier_id, detail FROM audit_log
                     WHERE id < $1 ORDER BY id DESC LIMIT $2",
                    &[&before, &limit],
                )
                .await?
            }
        };
        Ok(rows
            .iter()
            .map(|r| AuditRecord {
                id: r.get(0),
                at: r.get(1),
                user_id: r.get(2),
                username: r.get(3),
                action: r.get(4),
                dossier_id: r.get(5),
                detail: r.get(6),
            })
            .collect())
    }
}
