//! Accounts with several roles on PostgreSQL (see `crate::users`).

use super::{PgStore, is_unique_violation, pg_err};
use crate::{Grant, Result, StaffMember, StoreError, UserRecord, UserSummary};
use chrono::{DateTime, Utc};
use motcua_domain::agency::Role;
use motcua_domain::codes::AgencyCode;
use uuid::Uuid;

/// Keeps `users.role`/`users.agency` on the user's first grant and stamps the change.
const SYNC_DEFAULT: &str = "UPDATE users SET
   role = COALESCE((SELECT role FROM user_roles WHERE user_id = $1 ORDER BY position LIMIT 1), role),
   agency = CASE WHEN EXISTS (SELECT 1 FROM user_roles WHERE user_id = $1)
     THEN (SELECT NULLIF(agency, '') FROM user_roles WHERE user_id = $1 ORDER BY position LIMIT 1)
     ELSE agency END,
   updated_at = $2
 WHERE id = $1";

fn unique(e: tokio_postgres::Error, what: String) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Duplicate(what)
    } else {
        pg_err(e)
    }
}

impl PgStore {
    pub(crate) async fn create_user_with_grants(
        &self,
        u: UserRecord,
        grants: Vec<Grant>,
    ) -> Result<()> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(pg_err)?;
        tx.execute(
            "INSERT INTO users (id, username, password_hash, name, role, agency, disabled) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &u.id,
                &u.username,
                &u.password_hash,
                &u.name,
                &u.role.as_str(),
                &u.agency.as_ref().map(|a| a.to_string()),
                &u.disabled,
            ],
        )
        .await
        .map_err(|e| unique(e, format!("user `{}`", u.username)))?;
        for (i, g) in grants.iter().enumerate() {
            tx.execute(
                "INSERT INTO user_roles (user_id, role, agency, position) VALUES ($1, $2, $3, $4)",
                &[&u.id, &g.role.as_str(), &g.agency_key(), &(i as i32)],
            )
            .await
            .map_err(|e| unique(e, format!("role {} twice", g.role.as_str())))?;
        }
        tx.commit().await.map_err(pg_err)
    }

    pub(crate) async fn token_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRecord>> {
        let Some(r) = self
            .query_opt(
                "SELECT u.id, u.username, u.password_hash, u.name, r.role, NULLIF(r.agency, ''), u.disabled
                 FROM tokens t JOIN users u ON u.id = t.user_id
                 JOIN user_roles r ON r.user_id = t.user_id
                 WHERE t.token_hash = $1 AND t.expires_at > $2 AND NOT u.disabled
                   AND (t.role IS NULL OR (r.role = t.role AND r.agency = COALESCE(t.agency, '')))
                 ORDER BY r.position LIMIT 1",
                &[&token_hash, &now],
            )
            .await?
        else {
            return Ok(None);
        };
        Self::user_row(&r).map(Some)
    }

    pub(crate) async fn user_grants(&self, id: Uuid) -> Result<Vec<Grant>> {
        self.query(
            "SELECT role, agency FROM user_roles WHERE user_id = $1 ORDER BY position",
            &[&id],
        )
        .await?
        .iter()
        .map(|r| Grant::from_row(r.get(0), r.get(1)))
        .collect()
    }

    pub(crate) async fn all_users(&self) -> Result<Vec<UserSummary>> {
        let rows = self
            .query(
                "SELECT u.id, u.username, u.name, u.disabled, u.updated_at, r.role, r.agency
                 FROM users u LEFT JOIN user_roles r ON r.user_id = u.id
                 ORDER BY u.username COLLATE \"C\", r.position",
                &[],
            )
            .await?;
        let mut out: Vec<UserSummary> = Vec::new();
        for r in &rows {
            let id: Uuid = r.get(0);
            if out.last().is_none_or(|u| u.id != id) {
                out.push(UserSummary {
                    id,
                    username: r.get(1),
                    name: r.get(2),
                    disabled: r.get(3),
                    updated_at: r.get(4),
                    grants: Vec::new(),
                });
            }
            let role: Option<&str> = r.get(5);
            let agency: Option<&str> = r.get(6);
            if let (Some(role), Some(agency), Some(u)) = (role, agency, out.last_mut()) {
                u.grants.push(Grant::from_row(role, agency)?);
            }
        }
        Ok(out)
    }

    pub(crate) async fn user_updated_at(&self, id: Uuid) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .query_opt("SELECT updated_at FROM users WHERE id = $1", &[&id])
            .await?
            .and_then(|r| r.get(0)))
    }

    pub(crate) async fn rename_user(
        &self,
        id: Uuid,
        name: String,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let c = self.conn().await?;
        let n = c
            .execute(
                "UPDATE users SET name = $2, updated_at = $3 WHERE id = $1",
                &[&id, &name, &now],
            )
            .await
            .map_err(pg_err)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("user {id}")));
        }
        Ok(())
    }

    pub(crate) async fn add_grant(&self, id: Uuid, g: Grant, now: DateTime<Utc>) -> Result<()> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(pg_err)?;
        // Locks the user row: concurrent grants get distinct positions.
        if tx
            .query_opt("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", &[&id])
            .await
            .map_err(pg_err)?
            .is_none()
        {
            return Err(StoreError::NotFound(format!("user {id}")));
        }
        tx.execute(
            "INSERT INTO user_roles (user_id, role, agency, position)
             SELECT $1, $2, $3, COALESCE(MAX(position), -1) + 1 FROM user_roles WHERE user_id = $1",
            &[&id, &g.role.as_str(), &g.agency_key()],
        )
        .await
        .map_err(|e| {
            unique(
                e,
                format!("the role {} in `{}`", g.role.as_str(), g.agency_key()),
            )
        })?;
        tx.execute(SYNC_DEFAULT, &[&id, &now])
            .await
            .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)
    }

    pub(crate) async fn remove_grant(&self, id: Uuid, g: Grant, now: DateTime<Utc>) -> Result<()> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(pg_err)?;
        let n = tx
            .execute(
                "DELETE FROM user_roles WHERE user_id = $1 AND role = $2 AND agency = $3",
                &[&id, &g.role.as_str(), &g.agency_key()],
            )
            .await
            .map_err(pg_err)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "the role {} in `{}` of user {id}",
                g.role.as_str(),
                g.agency_key()
            )));
        }
        tx.execute(SYNC_DEFAULT, &[&id, &now])
            .await
            .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)
    }

    pub(crate) async fn set_user_disabled(
        &self,
        id: Uuid,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(pg_err)?;
        let n = tx
            .execute(
                "UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1",
                &[&id, &disabled, &now],
            )
            .await
            .map_err(pg_err)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("user {id}")));
        }
        if disabled {
            tx.execute("DELETE FROM tokens WHERE user_id = $1", &[&id])
                .await
                .map_err(pg_err)?;
        }
        tx.commit().await.map_err(pg_err)
    }

    pub(crate) async fn set_password(
        &self,
        id: Uuid,
        hash: String,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(pg_err)?;
        let n = tx
            .execute(
                "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
                &[&id, &hash, &now],
            )
            .await
            .map_err(pg_err)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("user {id}")));
        }
        tx.execute("DELETE FROM tokens WHERE user_id = $1", &[&id])
            .await
            .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)
    }

    pub(crate) async fn choose_grant(&self, token_hash: &str, g: Grant) -> Result<()> {
        let c = self.conn().await?;
        let n = c
            .execute(
                "UPDATE tokens SET role = $2, agency = $3 WHERE token_hash = $1
                 AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = tokens.user_id
                             AND r.role = $2 AND r.agency = $3)",
                &[&token_hash, &g.role.as_str(), &g.agency_key()],
            )
            .await
            .map_err(pg_err)?;
        if n == 0 {
            return Err(StoreError::NotFound("a session holding that role".into()));
        }
        Ok(())
    }

    pub(crate) async fn agency_staff(
        &self,
        agency: &AgencyCode,
        role: Role,
    ) -> Result<Vec<StaffMember>> {
        self.query(
            "SELECT u.id, u.username, u.name FROM user_roles r JOIN users u ON u.id = r.user_id
             WHERE r.agency = $1 AND r.role = $2 AND NOT u.disabled
             ORDER BY u.name, u.username",
            &[&agency.as_str(), &role.as_str()],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(StaffMember {
                user_id: r.get(0),
                username: r.get(1),
                name: r.get(2),
            })
        })
        .collect()
    }
}
