//! File records on PostgreSQL.

use super::{PgStore, corrupt, pg_err};
use crate::Result;
use crate::files::{DossierFile, FileRecord, SaveFile, VaultEntry};
use motcua_domain::codes::AgencyCode;
use motcua_domain::files::{AttachmentKind, FileKey, VaultKind};
use tokio_postgres::Row;
use uuid::Uuid;

fn key(s: &str) -> Result<FileKey> {
    FileKey::parse_hex(s).ok_or_else(|| corrupt(format!("file key {s}")))
}

/// `files` columns: the sha256 at `sha`, size, mime and created_at from `at`.
fn file(r: &Row, sha: usize, at: usize) -> Result<FileRecord> {
    Ok(FileRecord {
        key: key(r.get(sha))?,
        size: r.get::<_, i64>(at).max(0) as u64,
        mime: r.get(at + 1),
        created_at: r.get(at + 2),
    })
}

const VAULT_COLUMNS: &str =
    "v.owner, v.sha256, v.name, v.kind, v.added_at, f.size, f.mime, f.created_at";

fn vault(r: &Row) -> Result<(VaultEntry, FileRecord)> {
    let kind: &str = r.get(3);
    Ok((
        VaultEntry {
            owner: r.get(0),
            key: key(r.get(1))?,
            name: r.get(2),
            kind: VaultKind::parse(kind).ok_or_else(|| corrupt(kind))?,
            added_at: r.get(4),
        },
        file(r, 1, 5)?,
    ))
}

impl PgStore {
    pub(crate) async fn save_file(&self, s: SaveFile) -> Result<()> {
        self.save_files(vec![s]).await
    }

    pub(crate) async fn save_files(&self, all: Vec<SaveFile>) -> Result<()> {
        if all.is_empty() {
            return Ok(());
        }
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg_err)?;
        for s in &all {
            let f = &s.file;
            let st = tx
                .prepare_cached(
                    "INSERT INTO files (sha256, size, mime, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (sha256) DO NOTHING",
                )
                .await
                .map_err(pg_err)?;
            tx.execute(
                &st,
                &[&f.key.hex(), &(f.size as i64), &f.mime, &f.created_at],
            )
            .await
            .map_err(pg_err)?;
            let st = tx
            .prepare_cached(
                "INSERT INTO vault (owner, sha256, name, kind, added_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (owner, sha256) DO NOTHING",
            )
            .await
            .map_err(pg_err)?;
            for e in &s.vault {
                tx.execute(
                    &st,
                    &[
                        &e.owner,
                        &e.key.hex(),
                        &e.name,
                        &e.kind.as_str(),
                        &e.added_at,
                    ],
                )
                .await
                .map_err(pg_err)?;
            }
            let st = tx
            .prepare_cached(
                "INSERT INTO dossier_files (dossier_id, kind, slot, sha256, name, uploaded_by, uploaded_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (dossier_id, sha256, kind, slot) DO NOTHING",
            )
            .await
            .map_err(pg_err)?;
            for d in &s.links {
                tx.execute(
                    &st,
                    &[
                        &d.dossier_id,
                        &d.kind.as_str(),
                        &d.slot,
                        &d.key.hex(),
                        &d.name,
                        &d.uploaded_by,
                        &d.uploaded_at,
                    ],
                )
                .await
                .map_err(pg_err)?;
            }
        }
        tx.commit().await.map_err(pg_err)
    }

    pub(crate) async fn file_record(&self, k: &FileKey) -> Result<Option<FileRecord>> {
        self.query_opt(
            "SELECT sha256, size, mime, created_at FROM files WHERE sha256 = $1",
            &[&k.hex()],
        )
        .await?
        .map(|r| file(&r, 0, 1))
        .transpose()
    }

    pub(crate) async fn vault(
        &self,
        owner: Uuid,
        limit: u32,
    ) -> Result<Vec<(VaultEntry, FileRecord)>> {
        self.query(
            &format!(
                "SELECT {VAULT_COLUMNS} FROM vault v JOIN files f ON f.sha256 = v.sha256
                 WHERE v.owner = $1 ORDER BY v.added_at DESC, v.sha256 LIMIT $2"
            ),
            &[&owner, &(limit as i64)],
        )
        .await?
        .iter()
        .map(vault)
        .collect()
    }

    pub(crate) async fn vault_entry(
        &self,
        owner: Uuid,
        k: &FileKey,
    ) -> Result<Option<(VaultEntry, FileRecord)>> {
        self.query_opt(
            &format!(
                "SELECT {VAULT_COLUMNS} FROM vault v JOIN files f ON f.sha256 = v.sha256
                 WHERE v.owner = $1 AND v.sha256 = $2"
            ),
            &[&owner, &k.hex()],
        )
        .await?
        .map(|r| vault(&r))
        .transpose()
    }

    pub(crate) async fn dossier_files(&self, id: Uuid) -> Result<Vec<(DossierFile, FileRecord)>> {
        self.query(
            "SELECT d.dossier_id, d.kind, d.slot, d.sha256, d.name, d.uploaded_by, d.uploaded_at,
                    f.size, f.mime, f.created_at
             FROM dossier_files d JOIN files f ON f.sha256 = d.sha256
             WHERE d.dossier_id = $1 ORDER BY d.uploaded_at, d.kind, d.slot, d.sha256",
            &[&id],
        )
        .await?
        .iter()
        .map(|r| {
            let kind: &str = r.get(1);
            let f = file(r, 3, 7)?;
            Ok((
                DossierFile {
                    dossier_id: r.get(0),
                    kind: AttachmentKind::parse(kind).ok_or_else(|| corrupt(kind))?,
                    slot: r.get(2),
                    key: f.key.clone(),
                    name: r.get(4),
                    uploaded_by: r.get(5),
                    uploaded_at: r.get(6),
                },
                f,
            ))
        })
        .collect()
    }

    pub(crate) async fn agency_holds_file(&self, agency: &AgencyCode, k: &FileKey) -> Result<bool> {
        let row = self
            .query_opt(
                "SELECT EXISTS (SELECT 1 FROM vault v JOIN users u ON u.id = v.owner
                                WHERE v.sha256 = $1 AND u.agency = $2 AND u.role <> 'citizen')
                     OR EXISTS (SELECT 1 FROM dossier_files d JOIN users u ON u.id = d.uploaded_by
                                WHERE d.sha256 = $1 AND u.agency = $2 AND u.role <> 'citizen')",
                &[&k.hex(), &agency.to_string()],
            )
            .await?;
        Ok(row.is_some_and(|r| r.get::<_, bool>(0)))
    }

    pub(crate) async fn file_in_dossiers(&self, k: &FileKey) -> Result<bool> {
        let row = self
            .query_opt(
                "SELECT EXISTS (SELECT 1 FROM dossier_files WHERE sha256 = $1)",
                &[&k.hex()],
            )
            .await?;
        Ok(row.is_some_and(|r| r.get::<_, bool>(0)))
    }
}
