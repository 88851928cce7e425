//! File records on every backend: SQLite in memory, SQLite in a file, and PostgreSQL when
//! `MOTCUA_TEST_DATABASE_URL` is set (in a fresh schema, dropped at the end).

use chrono::{Duration, TimeZone, Utc};
use motcua_domain::agency::Role;
use motcua_domain::files::{AttachmentKind, FileKey, VaultKind};
use motcua_store::postgres::PgStore;
use motcua_store::{DossierFile, FileRecord, SaveFile, Store, UserRecord, VaultEntry};
use uuid::Uuid;

const PG_ENV: &str = "MOTCUA_TEST_DATABASE_URL";

/// The stores under test, and the PostgreSQL schema to drop.
async fn backends() -> Vec<(String, Store, Option<(String, String)>)> {
    let path = std::env::temp_dir().join(format!("motcua-files-{}.db", Uuid::new_v4().simple()));
    let mut out = vec![
        (
            "sqlite memory".to_string(),
            Store::open("sqlite::memory:").await.unwrap(),
            None,
        ),
        (
            "sqlite file".to_string(),
            Store::open(&format!("sqlite://{}", path.display()))
                .await
                .unwrap(),
            None,
        ),
    ];
    match std::env::var(PG_ENV).ok().filter(|u| !u.trim().is_empty()) {
        Some(url) => {
            let schema = format!("t_{}", Uuid::new_v4().simple());
            let pg = PgStore::open_in_schema(&url, &schema).await.unwrap();
            out.push((
                "postgres".to_string(),
                Store::Postgres(pg),
                Some((url, schema)),
            ));
        }
        None => println!("SKIPPED (PostgreSQL): set {PG_ENV} to run the file tests there"),
    }
    out
}

async fn drop_schema(url: &str, schema: &str) {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .unwrap();
}

fn user(name: &str, role: Role, agency: Option<&str>) -> UserRecord {
    UserRecord {
        id: Uuid::new_v4(),
        username: format!("{name}-{}", Uuid::new_v4().simple()),
        password_hash: "x".into(),
        name: name.into(),
        role,
        agency: agency.map(|a| a.parse().unwrap()),
        disabled: false,
    }
}

fn record(bytes: &[u8], mime: &str, at: chrono::DateTime<Utc>) -> FileRecord {
    FileRecord {
        key: FileKey::of(bytes),
        size: bytes.len() as u64,
        mime: mime.into(),
        created_at: at,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_vault_and_dossier_links_on_every_backend() {
    for (name, s, pg) in backends().await {
        check(&name, &s).await;
        if let Some((url, schema)) = pg {
            drop_schema(&url, &schema).await;
        }
    }
}

async fn check(backend: &str, s: &Store) {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 2, 2, 0, 0).unwrap();
    let citizen = user("Công dân", Role::Citizen, None);
    let other = user("Người khác", Role::Citizen, None);
    let desk = user("Một cửa", Role::DeskOfficer, Some("000.00.01.H40"));
    let elsewhere = user("Phường", Role::DeskOfficer, Some("000.00.21.H40"));
    for u in [&citizen, &other, &desk, &elsewhere] {
        s.create_user(u.clone()).await.unwrap();
    }
    let pdf = record(b"%PDF-1.4 a", "application/pdf", t0);
    let png = record(b"png b", "image/png", t0 + Duration::seconds(1));
    assert_eq!(s.file_record(&pdf.key).await.unwrap(), None, "{backend}");

    // A citizen uploads the same bytes twice, under two names: one file, one vault entry.
    let entry = |owner: Uuid, f: &FileRecord, name: &str, kind, at| VaultEntry {
        owner,
        key: f.key.clone(),
        name: name.into(),
        kind,
        added_at: at,
    };
    for (n, at) in [("CCCD.pdf", t0), ("khac.pdf", t0 + Duration::hours(1))] {
        s.save_file(SaveFile {
            file: pdf.clone(),
            vault: vec![entry(citizen.id, &pdf, n, VaultKind::Upload, at)],
            links: vec![],
        })
        .await
        .unwrap();
    }
    assert_eq!(
        s.file_record(&pdf.key).await.unwrap(),
        Some(pdf.clone()),
        "{backend}"
    );
    let dossier = Uuid::new_v4();
    let link = DossierFile {
        dossier_id: dossier,
        kind: AttachmentKind::Result,
        slot: "Giấy khai sinh".into(),
        key: png.key.clone(),
        name: "ket-qua.png".into(),
        uploaded_by: desk.id,
        uploaded_at: t0 + Duration::hours(2),
    };
    // The desk links a result to a dossier; it also lands in the citizen's data store.
    s.save_file(SaveFile {
        file: png.clone(),
        vault: vec![entry(
            citizen.id,
            &png,
            "ket-qua.png",
            VaultKind::Result,
            t0 + Duration::hours(2),
        )],
        links: vec![link.clone()],
    })
    .await
    .unwrap();
    let v = s.vault(citizen.id, 100).await.unwrap();
    assert_eq!(v.len(), 2, "{backend}: {v:?}");
    assert_eq!(v[0].0.key, png.key, "{backend}: newest first");
    assert_eq!(v[0].0.kind, VaultKind::Result);
    assert_eq!(v[0].1, png);
    assert_eq!(v[1].0.name, "CCCD.pdf", "{backend}: the first name is kept");
    assert_eq!(v[1].0.added_at, t0);
    assert_eq!(s.vault(citizen.id, 1).await.unwrap().len(), 1);
    assert!(s.vault(other.id, 100).await.unwrap().is_empty());
    assert_eq!(
        s.vault_entry(citizen.id, &pdf.key)
            .await
            .unwrap()
            .map(|e| e.1),
        Some(pdf.clone())
    );
    assert_eq!(
        s.vault_entry(other.id, &pdf.key).await.unwrap(),
        None,
        "{backend}"
    );

    // Linking twice keeps one row; another slot is another row.
    s.save_file(SaveFile {
        file: png.clone(),
        vault: vec![],
        links: vec![
            link.clone(),
            DossierFile {
                kind: AttachmentKind::Component,
                slot: "Tờ khai".into(),
                uploaded_at: t0 + Duration::hours(3),
                ..link.clone()
            },
        ],
    })
    .await
    .unwrap();
    let files = s.dossier_files(dossier).await.unwrap();
    assert_eq!(files.len(), 2, "{backend}: {files:?}");
    assert_eq!(files[0].0, link);
    assert_eq!(files[0].1, png);
    assert_eq!(files[1].0.kind, AttachmentKind::Component);
    assert!(s.dossier_files(Uuid::new_v4()).await.unwrap().is_empty());

    // Which agency's staff hold which file.
    let centre = "000.00.01.H40".parse().unwrap();
    let ward = "000.00.21.H40".parse().unwrap();
    assert!(
        s.agency_holds_file(&centre, &png.key).await.unwrap(),
        "{backend}: linked by the desk"
    );
    assert!(
        !s.agency_holds_file(&ward, &png.key).await.unwrap(),
        "{backend}"
    );
    assert!(
        !s.agency_holds_file(&centre, &pdf.key).await.unwrap(),
        "{backend}: only in a citizen's store"
    );
    let scan = record(b"scan", "image/jpeg", t0);
    s.save_file(SaveFile {
        file: scan.clone(),
        vault: vec![entry(
            elsewhere.id,
            &scan,
            "scan.jpg",
            VaultKind::Upload,
            t0,
        )],
        links: vec![],
    })
    .await
    .unwrap();
    assert!(
        s.agency_holds_file(&ward, &scan.key).await.unwrap(),
        "{backend}: in a ward officer's store"
    );
    assert!(!s.agency_holds_file(&centre, &scan.key).await.unwrap());

    // A vault entry of an unknown user breaks a foreign key: nothing of the call is written,
    // its link included. (The in-memory SQLite store, for tests only, does not enforce
    // foreign keys; on PostgreSQL links have none, decision 0042, and `verify` reports a link
    // by an unknown user.)
    if backend == "sqlite memory" {
        return;
    }
    let ghost = record(b"ghost", "image/png", t0);
    let err = s
        .save_file(SaveFile {
            file: ghost.clone(),
            vault: vec![entry(
                Uuid::new_v4(),
                &ghost,
                "ghost.png",
                VaultKind::Upload,
                t0,
            )],
            links: vec![DossierFile {
                key: ghost.key.clone(),
                ..link.clone()
            }],
        })
        .await;
    assert!(err.is_err(), "{backend}");
    assert!(
        s.dossier_files(link.dossier_id)
            .await
            .unwrap()
            .iter()
            .all(|(l, _)| l.key != ghost.key),
        "{backend}: the link is not written"
    );
    assert_eq!(
        s.file_record(&ghost.key).await.unwrap(),
        None,
        "{backend}: all or nothing"
    );
}

/// Three links of one dossier: one file in two slots (one of them a long component name, as
/// the real procedures have), and a working attachment.
fn three_links(dossier: Uuid, by: Uuid, file: &FileRecord) -> SaveFile {
    let at = Utc.with_ymd_and_hms(2026, 11, 2, 3, 0, 0).unwrap();
    let link = |kind, slot: &str| DossierFile {
        dossier_id: dossier,
        kind,
        slot: slot.into(),
        key: file.key.clone(),
        name: "giay-to.pdf".into(),
        uploaded_by: by,
        uploaded_at: at,
    };
    let long = "Giấy tờ có giá trị chứng minh thông tin về cư trú trong trường hợp cơ quan \
                đăng ký hộ tịch không thể khai thác được thông tin về nơi cư trú của công dân";
    SaveFile {
        file: file.clone(),
        vault: vec![],
        links: vec![
            link(AttachmentKind::Component, "Tờ khai"),
            link(AttachmentKind::Component, long),
            link(AttachmentKind::Attachment, "Tờ khai"),
        ],
    }
}

/// What migration 30 must keep: the links as they were, one row per (dossier, file, kind,
/// slot) however often a link is saved, and a new slot as a new row.
async fn links_hold(backend: &str, s: &Store, dossier: Uuid, by: Uuid, file: &FileRecord) {
    let before = s.dossier_files(dossier).await.unwrap();
    assert_eq!(before.len(), 3, "{backend}: {before:?}");
    s.save_file(three_links(dossier, by, file)).await.unwrap();
    assert_eq!(s.dossier_files(dossier).await.unwrap(), before, "{backend}");
    let mut more = three_links(dossier, by, file);
    more.links.truncate(1);
    more.links[0].slot = "Bản sao".into();
    s.save_file(more).await.unwrap();
    assert_eq!(
        s.dossier_files(dossier).await.unwrap().len(),
        4,
        "{backend}"
    );
}

/// Migration 30 on a database written before it: SQLite rebuilds the table without the
/// slot in any index, PostgreSQL keys the links by a digest; the links survive and stay unique.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_30_keeps_the_links_and_their_uniqueness() {
    let path = std::env::temp_dir().join(format!("motcua-m30-{}.db", Uuid::new_v4().simple()));
    let url = format!("sqlite://{}", path.display());
    let s = Store::open(&url).await.unwrap();
    let who = user("Công dân", Role::Citizen, None);
    s.create_user(who.clone()).await.unwrap();
    let file = record(b"%PDF-1.7 m30", "application/pdf", Utc::now());
    let dossier = Uuid::now_v7();
    s.save_file(three_links(dossier, who.id, &file))
        .await
        .unwrap();
    // Back to the table as migration 11 made it, before migration 30 (the one before last:
    // migration 31, the catalogue's generation, is undone too and runs again).
    let c = rusqlite::Connection::open(&path).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    let version: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    c.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         CREATE TABLE old_links (
             dossier_id TEXT NOT NULL, kind TEXT NOT NULL, slot TEXT NOT NULL,
             sha256 TEXT NOT NULL REFERENCES files(sha256), name TEXT NOT NULL,
             uploaded_by TEXT NOT NULL REFERENCES users(id), uploaded_at INTEGER NOT NULL,
             PRIMARY KEY (dossier_id, sha256, kind, slot));
         INSERT INTO old_links SELECT dossier_id, kind, slot, sha256, name, uploaded_by,
             uploaded_at FROM dossier_files;
         DROP TABLE dossier_files;
         ALTER TABLE old_links RENAME TO dossier_files;
         CREATE INDEX dossier_files_sha ON dossier_files(sha256, uploaded_by);
         DROP TABLE catalogue_generation;
         PRAGMA user_version = {};
         COMMIT;",
        version - 2
    ))
    .unwrap();
    let indexes = |c: &rusqlite::Connection| -> Vec<String> {
        let mut q = c
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'dossier_files'
                 ORDER BY name",
            )
            .unwrap();
        q.query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    assert_eq!(
        indexes(&c),
        ["dossier_files_sha", "sqlite_autoindex_dossier_files_1"]
    );
    let again = Store::open(&url).await.unwrap();
    assert_eq!(
        c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
            .unwrap(),
        version
    );
    assert_eq!(
        indexes(&c),
        ["dossier_files_dossier", "dossier_files_sha"],
        "the slot is in no index"
    );
    links_hold("sqlite", &again, dossier, who.id, &file).await;
    drop((s, again, c));
    let _ = std::fs::remove_file(&path);

    let Some(url) = std::env::var(PG_ENV).ok().filter(|u| !u.trim().is_empty()) else {
        return println!("SKIPPED (PostgreSQL): set {PG_ENV} to run the migration test there");
    };
    let schema = format!("t_{}", Uuid::new_v4().simple());
    let pg = Store::Postgres(PgStore::open_in_schema(&url, &schema).await.unwrap());
    pg.create_user(who.clone()).await.unwrap();
    pg.save_file(three_links(dossier, who.id, &file))
        .await
        .unwrap();
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!(
            "DROP INDEX {schema}.dossier_files_link;
             ALTER TABLE {schema}.dossier_files ADD PRIMARY KEY (dossier_id, sha256, kind, slot);
             DROP TABLE {schema}.catalogue_generation;
             DELETE FROM {schema}.schema_migrations
             WHERE version >= (SELECT max(version) - 1 FROM {schema}.schema_migrations)"
        ))
        .await
        .unwrap();
    let again = Store::Postgres(PgStore::open_in_schema(&url, &schema).await.unwrap());
    let unique: Vec<String> = client
        .query(
            "SELECT c.relname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
             WHERE n.nspname = $1 AND t.relname = 'dossier_files' AND i.indisunique",
            &[&schema],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(unique, ["dossier_files_link"]);
    links_hold("postgres", &again, dossier, who.id, &file).await;
    drop((pg, again));
    drop_schema(&url, &schema).await;
}
