//! File records on SQLite: writes on the writer thread (one transaction per call), reads on the
//! reader pool.

use super::writer::db_err;
use super::{SqliteStore, corrupt, from_ts, ts};
use crate::Result;
use crate::files::{DossierFile, FileRecord, SaveFile, VaultEntry};
use motcua_domain::codes::AgencyCode;
use motcua_domain::files::{AttachmentKind, FileKey, VaultKind};
use rusqlite::{OptionalExtension, Row, params};
use uuid::Uuid;

fn key(s: String) -> Result<FileKey> {
    FileKey::parse_hex(&s).ok_or_else(|| corrupt(format!("file key {s}")))
}

fn uuid(s: String) -> Result<Uuid> {
    s.parse().map_err(corrupt)
}

/// `files` columns at `at..at + 3` (after the sha256 at `sha`).
fn file_at(r: &Row<'_>, sha: usize, at: usize) -> rusqlite::Result<(String, i64, String, i64)> {
    Ok((r.get(sha)?, r.get(at)?, r.get(at + 1)?, r.get(at + 2)?))
}

fn file(raw: (String, i64, String, i64)) -> Result<FileRecord> {
    Ok(FileRecord {
        key: key(raw.0)?,
        size: raw.1.max(0) as u64,
        mime: raw.2,
        created_at: from_ts(raw.3),
    })
}

type VaultRaw = (
    String,
    String,
    String,
    String,
    i64,
    (String, i64, String, i64),
);

const VAULT_COLUMNS: &str =
    "v.owner, v.sha256, v.name, v.kind, v.added_at, f.size, f.mime, f.created_at";

fn vault_row(r: &Row<'_>) -> rusqlite::Result<VaultRaw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        file_at(r, 1, 5)?,
    ))
}

fn vault(raw: VaultRaw) -> Result<(VaultEntry, FileRecord)> {
    let (owner, sha, name, kind, added, f) = raw;
    Ok((
        VaultEntry {
            owner: uuid(owner)?,
            key: key(sha)?,
            name,
            kind: VaultKind::parse(&kind).ok_or_else(|| corrupt(&kind))?,
            added_at: from_ts(added),
        },
        file(f)?,
    ))
}

/// Writes file records, data-store entries and dossier links; rows that exist are kept. Runs
/// inside the caller's transaction (the writer's batch).
pub(crate) fn write_files(c: &rusqlite::Connection, all: &[SaveFile]) -> Result<()> {
    for s in all {
        let f = &s.file;
        c.prepare_cached(
            "INSERT INTO files (sha256, size, mime, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (sha256) DO NOTHING",
        )
        .map_err(db_err)?
        .execute(params![
            f.key.hex(),
            f.size as i64,
            f.mime,
            ts(f.created_at)
        ])
        .map_err(db_err)?;
        let mut v = c
            .prepare_cached(
                "INSERT INTO vault (owner, sha256, name, kind, added_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (owner, sha256) DO NOTHING",
            )
            .map_err(db_err)?;
        for e in &s.vault {
            v.execute(params![
                e.owner.to_string(),
                e.key.hex(),
                e.name,
                e.kind.as_str(),
                ts(e.added_at)
            ])
            .map_err(db_err)?;
        }
        // A link is unique by (dossier, file, kind, slot); no index holds the slot (migration
        // 30), so the writer looks at the dossier's few links first. The check and the insert
        // are two statements, not one `INSERT … SELECT … WHERE NOT EXISTS`: SQLite runs an
        // `INSERT … SELECT` (which may write many rows) in a statement transaction, copying
        // every page it touches into a statement journal first, while a one-row
        // `INSERT … VALUES` checks its foreign keys before writing and needs none (decision
        // 0044).
        let mut seen = c
            .prepare_cached(
                "SELECT 1 FROM dossier_files INDEXED BY dossier_files_dossier
                 WHERE dossier_id = ?1 AND sha256 = ?2 AND kind = ?3 AND slot = ?4",
            )
            .map_err(db_err)?;
        let mut insert = c
            .prepare_cached(
                "INSERT INTO dossier_files (dossier_id, kind, slot, sha256, name, uploaded_by, uploaded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(db_err)?;
        for d in &s.links {
            let dossier = d.dossier_id.to_string();
            let sha = d.key.hex();
            let exists = seen
                .exists(params![dossier, sha, d.kind.as_str(), d.slot])
                .map_err(db_err)?;
            if exists {
                continue;
            }
            insert
                .execute(params![
                    dossier,
                    d.kind.as_str(),
                    d.slot,
                    sha,
                    d.name,
                    d.uploaded_by.to_string(),
                    ts(d.uploaded_at)
                ])
                .map_err(db_err)?;
        }
    }
    Ok(())
}

impl SqliteStore {
    pub(crate) async fn save_file(&self, s: SaveFile) -> Result<()> {
        self.save_files(vec![s]).await
    }

    pub(crate) async fn save_files(&self, all: Vec<SaveFile>) -> Result<()> {
        if all.is_empty() {
            return Ok(());
        }
        self.admin(move |c| write_files(c, &all)).await
    }

    pub(crate) async fn file_record(&self, k: &FileKey) -> Result<Option<FileRecord>> {
        let k = k.hex().to_string();
        self.read(move |c| {
            c.prepare_cached("SELECT sha256, size, mime, created_at FROM files WHERE sha256 = ?1")
                .map_err(db_err)?
                .query_row([k], |r| file_at(r, 0, 1))
                .optional()
                .map_err(db_err)?
                .map(file)
                .transpose()
        })
    }

    pub(crate) async fn vault(
        &self,
        owner: Uuid,
        limit: u32,
    ) -> Result<Vec<(VaultEntry, FileRecord)>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {VAULT_COLUMNS} FROM vault v JOIN files f ON f.sha256 = v.sha256
                     WHERE v.owner = ?1 ORDER BY v.added_at DESC, v.sha256 LIMIT ?2"
                ))
                .map_err(db_err)?;
            let rows = st
                .query_map(params![owner.to_string(), limit], vault_row)
                .map_err(db_err)?;
            rows.map(|r| vault(r.map_err(db_err)?)).collect()
        })
    }

    pub(crate) async fn vault_entry(
        &self,
        owner: Uuid,
        k: &FileKey,
    ) -> Result<Option<(VaultEntry, FileRecord)>> {
        let k = k.hex().to_string();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {VAULT_COLUMNS} FROM vault v JOIN files f ON f.sha256 = v.sha256
                 WHERE v.owner = ?1 AND v.sha256 = ?2"
            ))
            .map_err(db_err)?
            .query_row(params![owner.to_string(), k], vault_row)
            .optional()
            .map_err(db_err)?
            .map(vault)
            .transpose()
        })
    }

    pub(crate) async fn dossier_files(&self, id: Uuid) -> Result<Vec<(DossierFile, FileRecord)>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT d.dossier_id, d.kind, d.slot, d.sha256, d.name, d.uploaded_by, d.uploaded_at,
                            f.size, f.mime, f.created_at
                     FROM dossier_files d JOIN files f ON f.sha256 = d.sha256
                     WHERE d.dossier_id = ?1 ORDER BY d.uploaded_at, d.kind, d.slot, d.sha256",
                )
                .map_err(db_err)?;
            let rows = st
                .query_map([id.to_string()], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, i64>(6)?,
                        file_at(r, 3, 7)?,
                    ))
                })
                .map_err(db_err)?;
            rows.map(|r| {
                let (dossier, kind, slot, name, by, at, f) = r.map_err(db_err)?;
                let f = file(f)?;
                Ok((
                    DossierFile {
                        dossier_id: uuid(dossier)?,
                        kind: AttachmentKind::parse(&kind).ok_or_else(|| corrupt(&kind))?,
                        slot,
                        key: f.key.clone(),
                        name,
                        uploaded_by: uuid(by)?,
                        uploaded_at: from_ts(at),
                    },
                    f,
                ))
            })
            .collect()
        })
    }

    pub(crate) async fn agency_holds_file(&self, agency: &AgencyCode, k: &FileKey) -> Result<bool> {
        let (a, k) = (agency.to_string(), k.hex().to_string());
        self.read(move |c| {
            c.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM vault v JOIN users u ON u.id = v.owner
                                WHERE v.sha256 = ?1 AND u.agency = ?2 AND u.role <> 'citizen')
                     OR EXISTS (SELECT 1 FROM dossier_files d JOIN users u ON u.id = d.uploaded_by
                                WHERE d.sha256 = ?1 AND u.agency = ?2 AND u.role <> 'citizen')",
            )
            .map_err(db_err)?
            .query_row(params![k, a], |r| r.get::<_, bool>(0))
            .map_err(db_err)
        })
    }

    pub(crate) async fn file_in_dossiers(&self, k: &FileKey) -> Result<bool> {
        let k = k.hex().to_string();
        self.read(move |c| {
            c.prepare_cached("SELECT EXISTS (SELECT 1 FROM dossier_files WHERE sha256 = ?1)")
                .map_err(db_err)?
                .query_row(params![k], |r| r.get::<_, bool>(0))
                .map_err(db_err)
        })
    }
}
