//! Accounts with several roles on SQLite (see `crate::users`).

use super::{SqliteStore, corrupt, from_ts, ts};
use crate::sqlite::writer::db_err;
use crate::{Grant, Result, StaffMember, StoreError, UserRecord, UserSummary};
use chrono::{DateTime, Utc};
use motcua_domain::agency::Role;
use motcua_domain::codes::AgencyCode;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

/// Keeps `users.role`/`users.agency` on the user's first grant and stamps the change.
fn sync_default(c: &Connection, id: &str, now: DateTime<Utc>) -> Result<()> {
    c.prepare_cached(
        "UPDATE users SET
           role = COALESCE((SELECT role FROM user_roles WHERE user_id = ?1 ORDER BY position LIMIT 1), role),
           agency = CASE WHEN EXISTS (SELECT 1 FROM user_roles WHERE user_id = ?1)
             THEN (SELECT NULLIF(agency, '') FROM user_roles WHERE user_id = ?1 ORDER BY position LIMIT 1)
             ELSE agency END,
           updated_at = ?2
         WHERE id = ?1",
    )
    .map_err(db_err)?
    .execute(params![id, ts(now)])
    .map_err(db_err)?;
    Ok(())
}

fn user_exists(c: &Connection, id: &str) -> Result<()> {
    c.prepare_cached("SELECT 1 FROM users WHERE id = ?1")
        .map_err(db_err)?
        .query_row([id], |_| Ok(()))
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("user {id}")))
}

fn unique(e: rusqlite::Error, what: String) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Duplicate(what)
        }
        e => db_err(e),
    }
}

impl SqliteStore {
    pub(crate) async fn create_user_with_grants(
        &self,
        u: UserRecord,
        grants: Vec<Grant>,
    ) -> Result<()> {
        self.admin(move |c| {
            c.prepare_cached(
                "INSERT INTO users (id, username, password_hash, name, role, agency, disabled) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(db_err)?
            .execute(params![
                u.id.to_string(),
                u.username,
                u.password_hash,
                u.name,
                u.role.as_str(),
                u.agency.as_ref().map(|a| a.to_string()),
                u.disabled,
            ])
            .map_err(|e| unique(e, format!("user `{}`", u.username)))?;
            let mut ins = c
                .prepare_cached(
                    "INSERT INTO user_roles (user_id, role, agency, position) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(db_err)?;
            for (i, g) in grants.iter().enumerate() {
                ins.execute(params![u.id.to_string(), g.role.as_str(), g.agency_key(), i as i64])
                    .map_err(|e| unique(e, format!("role {} twice", g.role.as_str())))?;
            }
            Ok(())
        })
        .await
    }

    pub(crate) async fn token_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRecord>> {
        let h = token_hash.to_string();
        let found: Option<(String, String, String)> = self.read(move |c| {
            c.prepare_cached(
                "SELECT t.user_id, r.role, r.agency FROM tokens t
                 JOIN users u ON u.id = t.user_id
                 JOIN user_roles r ON r.user_id = t.user_id
                 WHERE t.token_hash = ?1 AND t.expires_at > ?2 AND u.disabled = 0
                   AND (t.role IS NULL OR (r.role = t.role AND r.agency = IFNULL(t.agency, '')))
                 ORDER BY r.position LIMIT 1",
            )
            .map_err(db_err)?
            .query_row(params![h, ts(now)], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
            .map_err(db_err)
        })?;
        let Some((uid, role, agency)) = found else {
            return Ok(None);
        };
        let g = Grant::from_row(&role, &agency)?;
        Ok(self.user_where("id = ?1", uid)?.map(|mut u| {
            u.role = g.role;
            u.agency = g.agency;
            u
        }))
    }

    pub(crate) async fn user_grants(&self, id: Uuid) -> Result<Vec<Grant>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT role, agency FROM user_roles WHERE user_id = ?1 ORDER BY position",
                )
                .map_err(db_err)?;
            let rows = st
                .query_map([id.to_string()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(db_err)?;
            rows.map(|r| {
                let (role, agency) = r.map_err(db_err)?;
                Grant::from_row(&role, &agency)
            })
            .collect()
        })
    }

    pub(crate) async fn all_users(&self) -> Result<Vec<UserSummary>> {
        self.read_blocking(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT u.id, u.username, u.name, u.disabled, u.updated_at, r.role, r.agency
                     FROM users u LEFT JOIN user_roles r ON r.user_id = u.id
                     ORDER BY u.username, r.position",
                )
                .map_err(db_err)?;
            let mut rows = st.query([]).map_err(db_err)?;
            let mut out: Vec<UserSummary> = Vec::new();
            while let Some(r) = rows.next().map_err(db_err)? {
                let id: String = r.get(0).map_err(db_err)?;
                let id: Uuid = id.parse().map_err(corrupt)?;
                if out.last().is_none_or(|u| u.id != id) {
                    out.push(UserSummary {
                        id,
                        username: r.get(1).map_err(db_err)?,
                        name: r.get(2).map_err(db_err)?,
                        disabled: r.get(3).map_err(db_err)?,
                        updated_at: r.get::<_, Option<i64>>(4).map_err(db_err)?.map(from_ts),
                        grants: Vec::new(),
                    });
                }
                let role: Option<String> = r.get(5).map_err(db_err)?;
                let agency: Option<String> = r.get(6).map_err(db_err)?;
                if let (Some(role), Some(agency), Some(u)) = (role, agency, out.last_mut()) {
                    u.grants.push(Grant::from_row(&role, &agency)?);
                }
            }
            Ok(out)
        })
        .await
    }

    pub(crate) async fn user_updated_at(&self, id: Uuid) -> Result<Option<DateTime<Utc>>> {
        self.read(move |c| {
            c.prepare_cached("SELECT updated_at FROM users WHERE id = ?1")
                .map_err(db_err)?
                .query_row([id.to_string()], |r| r.get::<_, Option<i64>>(0))
                .optional()
                .map_err(db_err)
                .map(|v| v.flatten().map(from_ts))
        })
    }

    pub(crate) async fn rename_user(
        &self,
        id: Uuid,
        name: String,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.admin(move |c| {
            let n = c
                .prepare_cached("UPDATE users SET name = ?2, updated_at = ?3 WHERE id = ?1")
                .map_err(db_err)?
                .execute(params![id.to_string(), name, ts(now)])
                .map_err(db_err)?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("user {id}")));
            }
            Ok(())
        })
        .await
    }

    pub(crate) async fn add_grant(&self, id: Uuid, g: Grant, now: DateTime<Utc>) -> Result<()> {
        self.admin(move |c| {
            let id = id.to_string();
            user_exists(c, &id)?;
            c.prepare_cached(
                "INSERT INTO user_roles (user_id, role, agency, position)
                 SELECT ?1, ?2, ?3, COALESCE(MAX(position), -1) + 1 FROM user_roles WHERE user_id = ?1",
            )
            .map_err(db_err)?
            .execute(params![id, g.role.as_str(), g.agency_key()])
            .map_err(|e| unique(e, format!("the role {} in `{}`", g.role.as_str(), g.agency_key())))?;
            sync_default(c, &id, now)
        })
        .await
    }

    pub(crate) async fn remove_grant(&self, id: Uuid, g: Grant, now: DateTime<Utc>) -> Result<()> {
        self.admin(move |c| {
            let id = id.to_string();
            let n = c
                .prepare_cached(
                    "DELETE FROM user_roles WHERE user_id = ?1 AND role = ?2 AND agency = ?3",
                )
                .map_err(db_err)?
                .execute(params![id, g.role.as_str(), g.agency_key()])
                .map_err(db_err)?;
            if n == 0 {
                return Err(StoreError::NotFound(format!(
                    "the role {} in `{}` of user {id}",
                    g.role.as_str(),
                    g.agency_key()
                )));
            }
            sync_default(c, &id, now)
        })
        .await
    }

    pub(crate) async fn set_user_disabled(
        &self,
        id: Uuid,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.admin(move |c| {
            let id = id.to_string();
            let n = c
                .prepare_cached("UPDATE users SET disabled = ?2, updated_at = ?3 WHERE id = ?1")
                .map_err(db_err)?
                .execute(params![id, disabled, ts(now)])
                .map_err(db_err)?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("user {id}")));
            }
            if disabled {
                c.prepare_cached("DELETE FROM tokens WHERE user_id = ?1")
                    .map_err(db_err)?
                    .execute([&id])
                    .map_err(db_err)?;
            }
            Ok(())
        })
        .await
    }

    pub(crate) async fn set_password(
        &self,
        id: Uuid,
        hash: String,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.admin(move |c| {
            let id = id.to_string();
            let n = c
                .prepare_cached(
                    "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
                )
                .map_err(db_err)?
                .execute(params![id, hash, ts(now)])
                .map_err(db_err)?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("user {id}")));
            }
            c.prepare_cached("DELETE FROM tokens WHERE user_id = ?1")
                .map_err(db_err)?
                .execute([&id])
                .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn choose_grant(&self, token_hash: &str, g: Grant) -> Result<()> {
        let h = token_hash.to_string();
        self.admin(move |c| {
            let n = c
                .prepare_cached(
                    "UPDATE tokens SET role = ?2, agency = ?3 WHERE token_hash = ?1
                     AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = tokens.user_id
                                 AND r.role = ?2 AND r.agency = ?3)",
                )
                .map_err(db_err)?
                .execute(params![h, g.role.as_str(), g.agency_key()])
                .map_err(db_err)?;
            if n == 0 {
                return Err(StoreError::NotFound("a session holding that role".into()));
            }
            Ok(())
        })
        .await
    }

    pub(crate) async fn agency_staff(
        &self,
        agency: &AgencyCode,
        role: Role,
    ) -> Result<Vec<StaffMember>> {
        let agency = agency.to_string();
        self.read(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT u.id, u.username, u.name FROM user_roles r JOIN users u ON u.id = r.user_id
                     WHERE r.agency = ?1 AND r.role = ?2 AND u.disabled = 0
                     ORDER BY u.name, u.username",
                )
                .map_err(db_err)?;
            let rows = st
                .query_map(params![agency, role.as_str()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
                })
                .map_err(db_err)?;
            rows.map(|r| {
                let (id, username, name) = r.map_err(db_err)?;
                Ok(StaffMember {
                    user_id: id.parse().map_err(corrupt)?,
                    username,
                    name,
                })
            })
            .collect()
        })
    }
}
