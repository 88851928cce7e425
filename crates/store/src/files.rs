//! Uploaded files: the bytes in a blob store ([`Blobs`], through `object_store`: a local folder
//! by default, S3-compatible storage by URL), and their records in the database: each file once
//! by its SHA-256 ([`FileRecord`]), the files linked to dossiers ([`DossierFile`]) and each
//! person's data store, kho dữ liệu ([`VaultEntry`]).

use crate::{Result, StoreError};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use motcua_domain::files::{AttachmentKind, FileKey, VaultKind};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use std::sync::Arc;
use uuid::Uuid;

/// A stored file, once per content.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FileRecord {
    /// Content address.
    #[schema(value_type = String, example = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub key: FileKey,
    /// Size in bytes.
    pub size: u64,
    /// Media type recognised from the bytes.
    pub mime: String,
    /// First stored.
    pub created_at: DateTime<Utc>,
}

/// A file in a person's data store (kho dữ liệu): their uploads and their dossiers' results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultEntry {
    /// Owner (user id).
    pub owner: Uuid,
    /// The file.
    pub key: FileKey,
    /// Name shown (sanitized).
    pub name: String,
    /// Where it came from.
    pub kind: VaultKind,
    /// When it was added.
    pub added_at: DateTime<Utc>,
}

/// A file linked to a dossier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DossierFile {
    /// The dossier.
    pub dossier_id: Uuid,
    /// How it belongs to the dossier.
    pub kind: AttachmentKind,
    /// The slot or component name (thành phần hồ sơ) it fills; may be empty.
    pub slot: String,
    /// The file.
    pub key: FileKey,
    /// Name shown (sanitized).
    pub name: String,
    /// Who linked it.
    pub uploaded_by: Uuid,
    /// When.
    pub uploaded_at: DateTime<Utc>,
}

/// What [`crate::Store::save_file`] writes in one transaction; rows that exist already are kept.
#[derive(Clone, Debug)]
pub struct SaveFile {
    /// The file.
    pub file: FileRecord,
    /// Entries for data stores.
    pub vault: Vec<VaultEntry>,
    /// Links to dossiers.
    pub links: Vec<DossierFile>,
}

/// The blob store holding the bytes, addressed by [`FileKey::object_path`].
#[derive(Clone)]
pub struct Blobs {
    inner: Arc<dyn ObjectStore>,
    describe: String,
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

fn blob_err(e: object_store::Error) -> StoreError {
    StoreError::Backend(format!("file storage: {e}"))
}

impl Blobs {
    /// Blobs in memory (tests; lost on exit).
    pub fn memory() -> Blobs {
        Blobs {
            inner: Arc::new(object_store::memory::InMemory::new()),
            describe: "memory".into(),
        }
    }

    /// Blobs in a local folder (created if missing).
    pub fn local(dir: &std::path::Path) -> Result<Blobs> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Backend(format!("{}: {e}", dir.display())))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir).map_err(blob_err)?;
        Ok(Blobs {
            inner: Arc::new(fs),
            describe: format!("local folder {}", dir.display()),
        })
    }

    /// Opens a blob store from a URL: `memory:`, `file:///PATH` or a plain path (a local folder),
    /// or `s3://BUCKET[/PREFIX][?endpoint=URL&region=R&allow_http=true]` (S3-compatible; the
    /// credentials come from the usual `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` variables).
    pub fn open(url: &str) -> Result<Blobs> {
        if url == "memory:" {
            return Ok(Blobs::memory());
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            return open_s3(rest);
        }
        if url.contains("://") && !url.starts_with("file://") {
            return Err(StoreError::Backend(format!(
                "unsupported file storage URL `{url}`: use a folder, file:///PATH or s3://BUCKET"
            )));
        }
        let path = url.strip_prefix("file://").unwrap_or(url);
        if path.is_empty() {
            return Err(StoreError::Backend("empty file storage path".into()));
        }
        Blobs::local(std::path::Path::new(path))
    }

    /// Where the blobs are, for logs.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// Stores `bytes` under `key` unless an object is there already (same key, same bytes).
    /// Returns whether it was written now.
    pub async fn put(&self, key: &FileKey, bytes: Bytes) -> Result<bool> {
        let path = ObjectPath::from(key.object_path());
        match self.inner.head(&path).await {
            Ok(_) => return Ok(false),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(blob_err(e)),
        }
        self.inner
            .put(&path, PutPayload::from(bytes))
            .await
            .map_err(blob_err)?;
        Ok(true)
    }

    /// The bytes under `key`, if stored.
    pub async fn get(&self, key: &FileKey) -> Result<Option<Bytes>> {
        let path = ObjectPath::from(key.object_path());
        match self.inner.get(&path).await {
            Ok(r) => Ok(Some(r.bytes().await.map_err(blob_err)?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(blob_err(e)),
        }
    }

    /// Whether `key` is stored.
    pub async fn exists(&self, key: &FileKey) -> Result<bool> {
        match self.inner.head(&ObjectPath::from(key.object_path())).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(blob_err(e)),
        }
    }
}

#[cfg(feature = "s3")]
fn open_s3(rest: &str) -> Result<Blobs> {
    use object_store::aws::AmazonS3Builder;
    let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
    if bucket.is_empty() {
        return Err(StoreError::Backend("s3:// URL without a bucket".into()));
    }
    let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        b = match k {
            "endpoint" => b.with_endpoint(v),
            "region" => b.with_region(v),
            "allow_http" => b.with_allow_http(v == "true"),
            "virtual_hosted" => b.with_virtual_hosted_style_request(v == "true"),
            _ => {
                return Err(StoreError::Backend(format!(
                    "s3:// URL: unknown parameter `{k}` (endpoint, region, allow_http, virtual_hosted)"
                )));
            }
        };
    }
    let s3 = b.build().map_err(blob_err)?;
    let prefix = prefix.trim_matches('/');
    let inner: Arc<dyn ObjectStore> = if prefix.is_empty() {
        Arc::new(s3)
    } else {
        Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))
    };
    Ok(Blobs {
        inner,
        describe: format!("s3 bucket {bucket} {prefix}"),
    })
}

#[cfg(not(feature = "s3"))]
fn open_s3(_: &str) -> Result<Blobs> {
    Err(StoreError::Backend(
        "this build has no S3 support: build motcua-store with the `s3` feature (the motcua binary has it)".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blobs_are_content_addressed_and_stored_once() {
        let dir = std::env::temp_dir().join(format!("motcua-blobs-{}", Uuid::new_v4().simple()));
        let data = Bytes::from_static(b"%PDF-1.4 ... %%EOF");
        let key = FileKey::of(&data);
        for b in [Blobs::memory(), Blobs::open(dir.to_str().unwrap()).unwrap()] {
            assert!(!b.exists(&key).await.unwrap());
            assert_eq!(b.get(&key).await.unwrap(), None);
            assert!(b.put(&key, data.clone()).await.unwrap());
            assert!(
                !b.put(&key, data.clone()).await.unwrap(),
                "second put stores nothing"
            );
            assert_eq!(b.get(&key).await.unwrap(), Some(data.clone()));
            assert!(b.exists(&key).await.unwrap());
        }
        // The same folder by URL, as after a restart.
        let again = Blobs::open(&format!("file://{}", dir.display())).unwrap();
        assert_eq!(again.get(&key).await.unwrap(), Some(data.clone()));
        let on_disk = dir.join("sha256");
        let shards: Vec<_> = std::fs::read_dir(&on_disk).unwrap().collect();
        assert_eq!(shards.len(), 1, "one object: sha256/<2 hex>/<hex>");
        let shard = shards[0].as_ref().unwrap().path();
        let files: Vec<_> = std::fs::read_dir(&shard).unwrap().collect();
        assert_eq!(files.len(), 1);
        let name = files[0].as_ref().unwrap().file_name();
        assert!(
            name.to_str()
                .unwrap()
                .starts_with(shard.file_name().unwrap().to_str().unwrap())
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_urls_are_refused_with_a_reason() {
        let e = Blobs::open("ftp://x").unwrap_err().to_string();
        assert!(e.contains("unsupported file storage URL"), "{e}");
        assert!(Blobs::open("").is_err());
        let e = Blobs::open("s3://").unwrap_err().to_string();
        assert!(e.contains("s3"), "{e}");
    }
}
