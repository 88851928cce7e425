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

/// Writes file records, data-store entries and dossier links in one statement; rows that exist
/// are kept. Used alone and pipelined into a dossier command's transaction. A link's only unique
/// index is `dossier_files_link` (migration 30: the dossier and a digest of file, kind and slot).
pub(crate) const WRITE_FILES: &str = "
WITH f AS (
    INSERT INTO files (sha256, size, mime, created_at)
    SELECT * FROM UNNEST($1::text[], $2::int8[], $3::text[], $4::timestamptz[])
    ON CONFLICT (sha256) DO NOTHING
), v AS (
    INSERT INTO vault (owner, sha256, name, kind, added_at)
    SELECT * FROM UNNEST($5::uuid[], $6::text[], $7::text[], $8::text[], $9::timestamptz[])
    ON CONFLICT (owner, sha256) DO NOTHING
)
INSERT INTO dossier_files (dossier_id, kind, slot, sha256, name, uploaded_by, uploaded_at)
SELECT * FROM UNNEST($10::uuid[], $11::text[], $12::text[], $13::text[], $14::text[], $15::uuid[],
                     $16::timestamptz[])
ON CONFLICT DO NOTHING";

/// The arrays [`WRITE_FILES`] takes, each row once (one statement may not insert a key twice).
#[derive(Default)]
pub(crate) struct FileColumns {
    f_sha: Vec<String>,
    f_size: Vec<i64>,
    f_mime: Vec<String>,
    f_at: Vec<chrono::DateTime<chrono::Utc>>,
    v_owner: Vec<Uuid>,
    v_sha: Vec<String>,
    v_name: Vec<String>,
    v_kind: Vec<&'static str>,
    v_at: Vec<chrono::DateTime<chrono::Utc>>,
    l_dossier: Vec<Uuid>,
    l_kind: Vec<&'static str>,
    l_slot: Vec<String>,
    l_sha: Vec<String>,
    l_name: Vec<String>,
    l_by: Vec<Uuid>,
    l_at: Vec<chrono::DateTime<chrono::Utc>>,
}

impl FileColumns {
    /// The columns of `all`, duplicates (same key of each table) dropped.
    pub(crate) fn of<'a>(all: impl Iterator<Item = &'a SaveFile>) -> FileColumns {
        let mut c = FileColumns::default();
        let mut files = std::collections::HashSet::new();
        let mut vault = std::collections::HashSet::new();
        let mut links = std::collections::HashSet::new();
        for s in all {
            let f = &s.file;
            if files.insert(f.key.hex().to_string()) {
                c.f_sha.push(f.key.hex().to_string());
                c.f_size.push(f.size as i64);
                c.f_mime.push(f.mime.clone());
                c.f_at.push(f.created_at);
            }
            for e in &s.vault {
                if vault.insert((e.owner, e.key.hex().to_string())) {
                    c.v_owner.push(e.owner);
                    c.v_sha.push(e.key.hex().to_string());
                    c.v_name.push(e.name.clone());
                    c.v_kind.push(e.kind.as_str());
                    c.v_at.push(e.added_at);
                }
            }
            for d in &s.links {
                let k = (
                    d.dossier_id,
                    d.key.hex().to_string(),
                    d.kind.as_str(),
                    d.slot.clone(),
                );
                if links.insert(k) {
                    c.l_dossier.push(d.dossier_id);
                    c.l_kind.push(d.kind.as_str());
                    c.l_slot.push(d.slot.clone());
                    c.l_sha.push(d.key.hex().to_string());
                    c.l_name.push(d.name.clone());
                    c.l_by.push(d.uploaded_by);
                    c.l_at.push(d.uploaded_at);
                }
            }
        }
        c
    }

    /// Nothing to write.
    pub(crate) fn is_empty(&self) -> bool {
        self.f_sha.is_empty()
    }

    /// [`WRITE_FILES`] prepared on `c`, when there is something to write.
    pub(crate) async fn prepare(
        &self,
        c: &deadpool_postgres::Object,
    ) -> Result<Option<tokio_postgres::Statement>> {
        match self.is_empty() {
            true => Ok(None),
            false => Ok(Some(c.prepare_cached(WRITE_FILES).await.map_err(pg_err)?)),
        }
    }

    /// Runs the statement [`prepare`](Self::prepare) gave (nothing without one): a future to
    /// pipeline, in a command's transaction, before its write.
    pub(crate) async fn write(
        &self,
        c: &deadpool_postgres::Object,
        st: Option<&tokio_postgres::Statement>,
    ) -> std::result::Result<u64, tokio_postgres::Error> {
        match st {
            Some(st) => c.execute(st, &self.params()).await,
            None => Ok(0),
        }
    }

    /// The statement's parameters.
    pub(crate) fn params(&self) -> [&(dyn tokio_postgres::types::ToSql + Sync); 16] {
        [
            &self.f_sha,
            &self.f_size,
            &self.f_mime,
            &self.f_at,
            &self.v_owner,
            &self.v_sha,
            &self.v_name,
            &self.v_kind,
            &self.v_at,
            &self.l_dossier,
            &self.l_kind,
            &self.l_slot,
            &self.l_sha,
            &self.l_name,
            &self.l_by,
            &self.l_at,
        ]
    }
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
        let c = self.conn().await?;
        let st = c.prepare_cached(WRITE_FILES).await.map_err(pg_err)?;
        let cols = FileColumns::of(all.iter());
        // One statement is one implicit transaction.
        c.execute(&st, &cols.params()).await.map_err(pg_err)?;
        Ok(())
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
