//! The PostgreSQL backend: a pool of connections (deadpool), prepared statements, one
//! transaction per dossier command (`writer.rs`), or optionally group commit (`batch.rs`). Same
//! semantics as the SQLite backend; the conformance suite (`tests/conformance.rs`) runs on all.

mod accounts;
mod batch;
mod drafts;
mod feedback;
mod files;
mod inbound;
mod inbox;
mod outbox;
mod payments;
mod portal;
mod queue;
mod state;
mod stats;
mod users;
mod writer;

use crate::ProcedureChange;
use crate::plan::check_log;
use crate::{
    AdminUnit, CounterQuery, CounterRow, DossierQuery, DossierSummary, Execute, Executed,
    OutboxRow, ProcedureQuery, ProcedureRecord, ProcedureSummary, PublicStatusRow, Result,
    StoreError, StoredEvent, TokenRecord, UserRecord, VerifyReport,
};
use chrono::NaiveDate;
use deadpool_postgres::{Manager, ManagerConfig, Object, RecyclingMethod, Runtime};
use motcua_domain::agency::{Agency, Role};
use motcua_domain::calendar::CalendarSettings;
use motcua_domain::codes::{AgencyCode, DossierCode};
use motcua_domain::dossier::Dossier;
use motcua_domain::procedure::VersionStatus;
use motcua_domain::status::Status;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls, Row};
use uuid::Uuid;

pub(crate) type Pool = deadpool_postgres::Pool;

/// Migrations, in order; migration `n` is `MIGRATIONS[n - 1]`.
const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("migrate_2.sql"),
    include_str!("migrate_6.sql"),
    include_str!("migrate_7.sql"),
    include_str!("migrate_8.sql"),
    include_str!("migrate_9.sql"),
    include_str!("migrate_11.sql"),
    include_str!("migrate_12.sql"),
    include_str!("migrate_13.sql"),
    include_str!("migrate_14.sql"),
    include_str!("migrate_15.sql"),
    include_str!("migrate_16.sql"),
    include_str!("migrate_17.sql"),
    include_str!("migrate_18.sql"),
    include_str!("migrate_20.sql"),
    include_str!("migrate_21.sql"),
    include_str!("migrate_22.sql"),
    include_str!("migrate_23.sql"),
    include_str!("migrate_24.sql"),
    include_str!("migrate_25.sql"),
    include_str!("migrate_26.sql"),
    include_str!("migrate_27.sql"),
    include_str!("migrate_28.sql"),
    include_str!("migrate_29.sql"),
    include_str!("migrate_30.sql"),
    include_str!("migrate_31.sql"),
];
/// Connections in the pool.
const POOL_SIZE: usize = 16;
/// Writer lanes: transactions committing batches at once. Measured on the 2-core machine, one
/// or two lanes beat four or eight (bigger batches, less contention on the code counter row);
/// two keep a batch going while the other waits for its commit.
const LANES: usize = 2;
/// First key of the advisory lock taken while migrating (the second is the schema's hash).
const MIGRATION_LOCK: i32 = 0x6d6f_7463; // "motc"

/// How to run a [`PgStore`].
#[derive(Clone, Debug)]
pub struct PgOptions {
    /// Schema holding the tables, created if missing (lowercase letters, digits, `_`).
    pub schema: String,
    /// Connections in the pool.
    pub pool_size: usize,
    /// On (the default): concurrent dossier commands are committed together, a batch per
    /// transaction in a few writer lanes (group commit, see `batch.rs`); same answers as one
    /// transaction per command (off), which the conformance suite runs too. Measured over HTTP
    /// on the 2-core machine (W1, 2026-12-06), one transaction per command admitted
    /// 1,196-1,434 submissions/s, bound by PostgreSQL's serial WAL write-and-flush (about two
    /// commits per flush), and group commit 2,302-2,396/s; store-level runs with fsync at
    /// 0.14 ms had measured no difference (decision 0004).
    pub group_commit: bool,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            schema: "public".into(),
            pool_size: POOL_SIZE,
            group_commit: true,
        }
    }
}

/// PostgreSQL store handle; cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    writer: Option<batch::GroupWriter>,
    /// How to connect (schema included), for [`PgStore::with_own_pool`].
    config: std::sync::Arc<tokio_postgres::Config>,
}

/// An error with its causes ("db error: ERROR: ..."): tokio-postgres shows only the first.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let s = c.to_string();
        if !out.ends_with(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cause = c.source();
    }
    out
}

pub(crate) fn pg_err(e: tokio_postgres::Error) -> StoreError {
    StoreError::Backend(chain(&e))
}

pub(crate) fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Backend(format!("no database connection: {}", chain(&e)))
}

pub(crate) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

/// Whether `s` can be used unquoted as a schema name (and in `-c search_path=`).
fn valid_schema(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && s.len() <= 63
}

/// Splits an optional `schema=NAME` parameter off a connection URL (tokio-postgres would reject
/// the unknown parameter).
fn split_schema(url: &str) -> (String, Option<String>) {
    split_param(url, "schema")
}

/// Splits an optional `NAME=VALUE` parameter off a connection URL.
fn split_param(url: &str, name: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut value = None;
    let prefix = format!("{name}=");
    let rest: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.strip_prefix(prefix.as_str()) {
            Some(s) => {
                value = Some(s.to_string());
                false
            }
            None => !kv.is_empty(),
        })
        .collect();
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (url, value)
}

/// A pool of at most `size` (at least 2) connections made lazily with `config`.
fn pool_of(config: tokio_postgres::Config, size: usize) -> Result<Pool> {
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size.max(2))
        .runtime(Runtime::Tokio1)
        .create_timeout(Some(Duration::from_secs(10)))
        .wait_timeout(Some(Duration::from_secs(30)))
        .build()
        .map_err(|e| StoreError::Backend(format!("connection pool: {e}")))
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`, optionally `?schema=NAME` and
    /// `group_commit=off`) and runs the migrations. Without `schema` the tables live in
    /// `public`; `group_commit` is on unless turned off (see [`PgOptions::group_commit`]).
    pub async fn open(url: &str) -> Result<PgStore> {
        let (url, schema) = split_schema(url);
        let (url, group_commit) = split_param(&url, "group_commit");
        let group_commit = match group_commit.as_deref() {
            None | Some("on" | "true") => true,
            Some("off" | "false") => false,
            Some(other) => {
                return Err(StoreError::Backend(format!(
                    "group_commit={other} in the database URL: use on or off"
                )));
            }
        };
        Self::open_with(
            &url,
            PgOptions {
                schema: schema.unwrap_or_else(|| "public".into()),
                group_commit,
                ..PgOptions::default()
            },
        )
        .await
    }

    /// Like [`PgStore::open`], with every table in `schema` (created if missing): each pooled
    /// connection's `search_path` is that schema. Tests use it to isolate their data.
    pub async fn open_in_schema(url: &str, schema: &str) -> Result<PgStore> {
        Self::open_with(
            url,
            PgOptions {
                schema: schema.into(),
                ..PgOptions::default()
            },
        )
        .await
    }

    /// Connects with explicit options and runs the migrations. Must be called within a Tokio
    /// runtime, which then runs the writer lanes.
    pub async fn open_with(url: &str, opts: PgOptions) -> Result<PgStore> {
        let schema = opts.schema.as_str();
        if !valid_schema(schema) {
            return Err(StoreError::Backend(format!(
                "schema name `{schema}`: use lowercase letters, digits and `_`"
            )));
        }
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Backend(format!("database URL: {e}")))?;
        // No JIT compilation (the URL's own options may turn it back on): every statement here
        // is short, and compiling a plan the planner thinks costly (a report's join over the
        // counters) took 40-50 ms of a 60 ms query.
        let options = match config.get_options() {
            Some(o) if !o.trim().is_empty() => format!("-c jit=off {o} -c search_path={schema}"),
            _ => format!("-c jit=off -c search_path={schema}"),
        };
        config.options(options);
        if config.get_application_name().is_none() {
            config.application_name("motcua");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let pool = pool_of(config.clone(), opts.pool_size)?;
        let mut store = PgStore {
            pool,
            writer: None,
            config: std::sync::Arc::new(config),
        };
        store.migrate(schema).await?;
        if opts.group_commit {
            // Lanes leave connections for reads and for jobs that must run alone.
            let lanes = (opts.pool_size / 4).clamp(1, LANES);
            store.writer = Some(batch::GroupWriter::start(store.pool.clone(), lanes));
        }
        Ok(store)
    }

    /// The same database through a new pool of at most `size` connections and without the
    /// group-commit writer (see [`crate::Store::with_own_connections`]); no migration.
    pub fn with_own_pool(&self, size: usize) -> Result<PgStore> {
        Ok(PgStore {
            pool: pool_of((*self.config).clone(), size)?,
            writer: None,
            config: self.config.clone(),
        })
    }

    /// Applies missing migrations under an advisory lock, so that two processes starting at
    /// once do not race.
    async fn migrate(&self, schema: &str) -> Result<()> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(pg_err)?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&MIGRATION_LOCK, &schema],
        )
        .await
        .map_err(pg_err)?;
        tx.batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {schema};
             SET LOCAL search_path TO {schema};
             CREATE TABLE IF NOT EXISTS schema_migrations (
                 version integer PRIMARY KEY,
                 applied_at timestamptz NOT NULL DEFAULT now()
             );"
        ))
        .await
        .map_err(pg_err)?;
        let done: i32 = tx
            .query_one(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                &[],
            )
            .await
            .map_err(pg_err)?
            .get(0);
        for (i, sql) in MIGRATIONS.iter().enumerate() {
            let version = i as i32 + 1;
            if version <= done {
                continue;
            }
            tx.batch_execute(sql)
                .await
                .map_err(|e| StoreError::Backend(format!("migration {version}: {}", chain(&e))))?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[&version],
            )
            .await
            .map_err(pg_err)?;
            tracing::info!(version, schema, "applied PostgreSQL migration");
        }
        tx.commit().await.map_err(pg_err)
    }

    async fn conn(&self) -> Result<Object> {
        self.pool.get().await.map_err(pool_err)
    }

    /// Runs one prepared query.
    async fn query(&self, sql: &str, args: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let c = self.conn().await?;
        let st = c.prepare_cached(sql).await.map_err(pg_err)?;
        c.query(&st, args).await.map_err(pg_err)
    }

    /// Runs one prepared query expecting at most one row.
    async fn query_opt(&self, sql: &str, args: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        let c = self.conn().await?;
        let st = c.prepare_cached(sql).await.map_err(pg_err)?;
        c.query_opt(&st, args).await.map_err(pg_err)
    }

    pub(crate) async fn health(&self) -> Result<()> {
        let c = self.conn().await?;
        c.simple_query("SELECT 1").await.map_err(pg_err).map(|_| ())
    }

    pub(crate) async fn execute(&self, job: Execute) -> Result<Executed> {
        match &self.writer {
            Some(w) => w.execute(job).await,
            None => writer::execute_one(self.pool.clone(), job).await,
        }
    }

    pub(crate) async fn dossier(&self, id: Uuid) -> Result<Option<Dossier>> {
        self.query_opt("SELECT state FROM dossiers WHERE id = $1", &[&id])
            .await?
            .map(|r| serde_json::from_str(r.get(0)).map_err(corrupt))
            .transpose()
    }

    pub(crate) async fn latest_dossier_of(&self, personal_id: &str) -> Result<Option<Uuid>> {
        Ok(self
            .query_opt(
                "SELECT id FROM dossiers WHERE applicant_personal_id = $1
                 ORDER BY submitted_at DESC LIMIT 1",
                &[&personal_id],
            )
            .await?
            .map(|r| r.get(0)))
    }

    pub(crate) async fn dossier_head(&self, id: Uuid) -> Result<Option<crate::Head>> {
        self.query_opt(
            "SELECT state, last_hash FROM dossiers WHERE id = $1",
            &[&id],
        )
        .await?
        .map(|r| {
            Ok(crate::Head {
                dossier: serde_json::from_str(r.get(0)).map_err(corrupt)?,
                last_hash: r.get(1),
            })
        })
        .transpose()
    }

    pub(crate) async fn dossier_by_code(&self, code: &DossierCode) -> Result<Option<Dossier>> {
        self.query_opt(
            "SELECT state FROM dossiers WHERE code = $1",
            &[&code.to_string()],
        )
        .await?
        .map(|r| serde_json::from_str(r.get(0)).map_err(corrupt))
        .transpose()
    }

    pub(crate) async fn public_status(
        &self,
        code: &DossierCode,
    ) -> Result<Option<PublicStatusRow>> {
        self.query_opt(
            "SELECT code, procedure_name, status, received_at, due_at, finished_at
             FROM dossiers WHERE code = $1",
            &[&code.to_string()],
        )
        .await?
        .map(|r| {
            let status: String = r.get(2);
            Ok(PublicStatusRow {
                code: r.get(0),
                procedure_name: r.get(1),
                status: Status::parse(&status).ok_or_else(|| corrupt(&status))?,
                received_at: r.get(3),
                due_at: r.get(4),
                finished_at: r.get(5),
            })
        })
        .transpose()
    }

    pub(crate) async fn history(&self, id: Uuid) -> Result<Vec<StoredEvent>> {
        self.query(
            "SELECT seq, body, prev_hash, hash FROM events WHERE dossier_id = $1 ORDER BY seq",
            &[&id],
        )
        .await?
        .into_iter()
        .map(|r| {
            Ok(StoredEvent {
                seq: r.get::<_, i64>(0) as u64,
                event: serde_json::from_str(r.get(1)).map_err(corrupt)?,
                prev_hash: r.get(2),
                hash: r.get(3),
            })
        })
        .collect()
    }

    pub(crate) async fn list_dossiers(&self, q: &DossierQuery) -> Result<Vec<DossierSummary>> {
        let mut sql = String::from(
            "SELECT id, code, procedure_code, procedure_name, applicant_name, status, national_status,
                    receiving_agency, current_agency, submitted_at, due_at, version
             FROM dossiers WHERE true",
        );
        let mut args: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        fn push(
            sql: &mut String,
            args: &mut Vec<Box<dyn ToSql + Sync + Send>>,
            clause: &str,
            v: Box<dyn ToSql + Sync + Send>,
        ) {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("${}", args.len())));
        }
        if let Some(o) = q.owner {
            push(&mut sql, &mut args, " AND owner = ?", Box::new(o));
        }
        if let Some(a) = &q.current_agency {
            push(
                &mut sql,
                &mut args,
                " AND current_agency = ?",
                Box::new(a.to_string()),
            );
        }
        if let Some(a) = &q.agency {
            args.push(Box::new(a.to_string()));
            let n = args.len();
            sql.push_str(&format!(
                " AND (receiving_agency = ${n} OR competent_agency = ${n} OR current_agency = ${n}
                   OR id IN (SELECT dossier_id FROM events WHERE agency = ${n}))"
            ));
        }
        if let Some(s) = q.status {
            push(&mut sql, &mut args, " AND status = ?", Box::new(s.as_str()));
        }
        if let Some((t, id)) = q.before {
            args.push(Box::new(t));
            args.push(Box::new(id));
            let n = args.len();
            sql.push_str(&format!(
                " AND (submitted_at < ${a} OR (submitted_at = ${a} AND id < ${n}))",
                a = n - 1
            ));
        }
        args.push(Box::new(q.limit.clamp(1, 200) as i64));
        sql.push_str(&format!(
            " ORDER BY submitted_at DESC, id DESC LIMIT ${}",
            args.len()
        ));
        let refs: Vec<&(dyn ToSql + Sync)> = args
            .iter()
            .map(|a| a.as_ref() as &(dyn ToSql + Sync))
            .collect();
        self.query(&sql, &refs)
            .await?
            .into_iter()
            .map(|r| summary_of(&r))
            .collect()
    }

    pub(crate) async fn upsert_agencies(&self, agencies: Vec<Agency>) -> Result<()> {
        // One statement for the lot; a code given twice keeps its last value, as row by row would.
        let mut last: HashMap<&str, usize> = HashMap::new();
        for (i, a) in agencies.iter().enumerate() {
            last.insert(a.code.as_str(), i);
        }
        let mut keep: Vec<usize> = last.into_values().collect();
        keep.sort_unstable();
        let (mut code, mut name, mut kind, mut parent, mut unit, mut data) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        for a in keep.into_iter().map(|i| &agencies[i]) {
            code.push(a.code.to_string());
            name.push(a.name.clone());
            kind.push(
                serde_json::to_value(a.kind)
                    .map_err(corrupt)?
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
            parent.push(a.parent.as_ref().map(|p| p.to_string()));
            unit.push(a.admin_unit.as_ref().map(|u| u.to_string()));
            data.push(serde_json::to_string(a).map_err(corrupt)?);
        }
        self.query(
            "INSERT INTO agencies (code, name, kind, parent, admin_unit, data)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind,
               parent = excluded.parent, admin_unit = excluded.admin_unit, data = excluded.data",
            &[&code, &name, &kind, &parent, &unit, &data],
        )
        .await
        .map(|_| ())
    }

    pub(crate) async fn agencies(&self) -> Result<Vec<Agency>> {
        self.query("SELECT data FROM agencies ORDER BY code", &[])
            .await?
            .into_iter()
            .map(|r| serde_json::from_str(r.get(0)).map_err(corrupt))
            .collect()
    }

    pub(crate) async fn agency(&self, code: &AgencyCode) -> Result<Option<Agency>> {
        self.query_opt(
            "SELECT data FROM agencies WHERE code = $1",
            &[&code.as_str()],
        )
        .await?
        .map(|r| serde_json::from_str(r.get(0)).map_err(corrupt))
        .transpose()
    }

    pub(crate) async fn upsert_admin_units(&self, units: Vec<AdminUnit>) -> Result<()> {
        let mut last: HashMap<&str, usize> = HashMap::new();
        for (i, u) in units.iter().enumerate() {
            last.insert(u.code.as_str(), i);
        }
        let mut keep: Vec<usize> = last.into_values().collect();
        keep.sort_unstable();
        let (mut code, mut name, mut full, mut province) = (vec![], vec![], vec![], vec![]);
        for u in keep.into_iter().map(|i| &units[i]) {
            code.push(u.code.as_str());
            name.push(u.name.as_str());
            full.push(u.full_name.as_str());
            province.push(u.province_code.as_deref());
        }
        self.query(
            "INSERT INTO admin_units (code, name, full_name, province_code)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[])
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, full_name = excluded.full_name,
               province_code = excluded.province_code",
            &[&code, &name, &full, &province],
        )
        .await
        .map(|_| ())
    }

    pub(crate) async fn admin_units(&self) -> Result<Vec<AdminUnit>> {
        let rows = self
            .query(
                "SELECT code, name, full_name, province_code FROM admin_units ORDER BY code",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| AdminUnit {
                code: r.get(0),
                name: r.get(1),
                full_name: r.get(2),
                province_code: r.get(3),
            })
            .collect())
    }

    pub(crate) async fn count_admin_units(&self) -> Result<u64> {
        let r = self.query("SELECT count(*) FROM admin_units", &[]).await?;
        Ok(r[0].get::<_, i64>(0) as u64)
    }

    fn user_row(r: &Row) -> Result<UserRecord> {
        let role: &str = r.get(4);
        let agency: Option<String> = r.get(5);
        Ok(UserRecord {
            id: r.get(0),
            username: r.get(1),
            password_hash: r.get(2),
            name: r.get(3),
            role: Role::parse(role).ok_or_else(|| corrupt(role))?,
            agency: agency.map(|a| a.parse().map_err(corrupt)).transpose()?,
            disabled: r.get(6),
        })
    }

    pub(crate) async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>> {
        self.query_opt(
            "SELECT id, username, password_hash, name, role, agency, disabled FROM users WHERE username = $1",
            &[&username],
        )
        .await?
        .map(|r| Self::user_row(&r))
        .transpose()
    }

    pub(crate) async fn user(&self, id: Uuid) -> Result<Option<UserRecord>> {
        self.query_opt(
            "SELECT id, username, password_hash, name, role, agency, disabled FROM users WHERE id = $1",
            &[&id],
        )
        .await?
        .map(|r| Self::user_row(&r))
        .transpose()
    }

    pub(crate) async fn create_token(&self, t: TokenRecord) -> Result<()> {
        self.query(
            "INSERT INTO tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            &[&t.token_hash, &t.user_id, &t.created_at, &t.expires_at],
        )
        .await
        .map(|_| ())
    }

    pub(crate) async fn upsert_procedure(&self, p: ProcedureRecord) -> Result<()> {
        self.save_procedures(vec![p], Vec::new()).await
    }

    pub(crate) async fn save_procedures(
        &self,
        records: Vec<ProcedureRecord>,
        changes: Vec<ProcedureChange>,
    ) -> Result<()> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(pg_err)?;
        let mut codes: Vec<String> = records.iter().map(|p| p.version.code.to_string()).collect();
        codes.sort();
        codes.dedup();
        // Versions of one procedure are written one at a time (SQLite's single writer gives
        // that); locks in code order so two imports cannot deadlock.
        for code in &codes {
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtext('procedure ' || $1))",
                &[code],
            )
            .await
            .map_err(pg_err)?;
        }
        for p in &records {
            write_procedure(&tx, p).await?;
        }
        if !records.is_empty() {
            // Once per write: the row is updated in the import's transaction.
            tx.execute(
                "UPDATE catalogue_generation SET n = n + 1 WHERE id = 1",
                &[],
            )
            .await
            .map_err(pg_err)?;
        }
        if !changes.is_empty() {
            let st = tx
                .prepare_cached(
                    "INSERT INTO procedure_changes (code, version, at, actor, action, note) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .await
                .map_err(pg_err)?;
            for ch in &changes {
                tx.execute(
                    &st,
                    &[
                        &ch.code,
                        &(ch.version as i32),
                        &ch.at,
                        &ch.actor,
                        &ch.action,
                        &ch.note,
                    ],
                )
                .await
                .map_err(pg_err)?;
            }
        }
        tx.commit().await.map_err(pg_err)
    }

    pub(crate) async fn procedure_versions(&self, code: &str) -> Result<Vec<ProcedureRecord>> {
        self.query(
            "SELECT data FROM procedures WHERE code = $1 ORDER BY version",
            &[&code],
        )
        .await?
        .into_iter()
        .map(|r| serde_json::from_str(r.get(0)).map_err(corrupt))
        .collect()
    }

    pub(crate) async fn procedures_where(
        &self,
        published_only: bool,
    ) -> Result<Vec<ProcedureRecord>> {
        let sql = if published_only {
            "SELECT data FROM procedures WHERE status = 'published' ORDER BY code"
        } else {
            "SELECT data FROM procedures ORDER BY code, version"
        };
        self.query(sql, &[])
            .await?
            .into_iter()
            .map(|r| serde_json::from_str(r.get(0)).map_err(corrupt))
            .collect()
    }

    pub(crate) async fn procedure_changes_between(
        &self,
        action: &str,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ProcedureChange>> {
        self.query(
            "SELECT code, version, at, actor, action, note FROM procedure_changes
             WHERE action = $1 AND at >= $2 AND at < $3 ORDER BY id",
            &[&action, &from, &to],
        )
        .await?
        .into_iter()
        .map(|r| {
            Ok(ProcedureChange {
                code: r.get(0),
                version: r.get::<_, i32>(1) as u32,
                at: r.get(2),
                actor: r.get(3),
                action: r.get(4),
                note: r.get(5),
            })
        })
        .collect()
    }

    pub(crate) async fn procedure_changes(&self, code: &str) -> Result<Vec<ProcedureChange>> {
        self.query(
            "SELECT code, version, at, actor, action, note FROM procedure_changes WHERE code = $1 ORDER BY id",
            &[&code],
        )
        .await?
        .into_iter()
        .map(|r| {
            Ok(ProcedureChange {
                code: r.get(0),
                version: r.get::<_, i32>(1) as u32,
                at: r.get(2),
                actor: r.get(3),
                action: r.get(4),
                note: r.get(5),
            })
        })
        .collect()
    }

    pub(crate) async fn published_procedure(&self, code: &str) -> Result<Option<ProcedureRecord>> {
        self.query_opt(
            "SELECT data FROM procedures WHERE code = $1 AND status = 'published' ORDER BY version DESC LIMIT 1",
            &[&code],
        )
        .await?
        .map(|r| serde_json::from_str(r.get(0)).map_err(corrupt))
        .transpose()
    }

    pub(crate) async fn list_procedures(
        &self,
        q: &ProcedureQuery,
    ) -> Result<Vec<ProcedureSummary>> {
        self.list_procedures_where(q, crate::model::PUBLISHED_ROWS)
            .await
    }

    pub(crate) async fn list_unpublished(
        &self,
        q: &ProcedureQuery,
    ) -> Result<Vec<ProcedureSummary>> {
        self.list_procedures_where(q, crate::model::UNPUBLISHED_ROWS)
            .await
    }

    async fn list_procedures_where(
        &self,
        q: &ProcedureQuery,
        rows: &'static str,
    ) -> Result<Vec<ProcedureSummary>> {
        let mut sql = format!("SELECT p.data FROM procedures p WHERE {rows}");
        let mut args: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        if let Some(t) = &q.text {
            for w in motcua_domain::text::fold(t).split_whitespace().take(8) {
                args.push(Box::new(format!("%{}%", w.replace(['%', '_'], ""))));
                // No escape character, as in SQLite: a `\` matches itself.
                sql.push_str(&format!(" AND p.folded LIKE ${} ESCAPE ''", args.len()));
            }
        }
        if let Some(a) = &q.agency {
            args.push(Box::new(a.to_string()));
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM procedure_agencies pa WHERE pa.agency = ${} AND pa.procedure_code = p.code)",
                args.len()
            ));
        }
        args.push(Box::new(q.limit.clamp(1, 200) as i64));
        args.push(Box::new(q.offset as i64));
        sql.push_str(&format!(
            " ORDER BY p.code LIMIT ${} OFFSET ${}",
            args.len() - 1,
            args.len()
        ));
        let refs: Vec<&(dyn ToSql + Sync)> = args
            .iter()
            .map(|a| a.as_ref() as &(dyn ToSql + Sync))
            .collect();
        self.query(&sql, &refs)
            .await?
            .into_iter()
            .map(|r| {
                let p: ProcedureRecord = serde_json::from_str(r.get(0)).map_err(corrupt)?;
                Ok(crate::model::summary(&p))
            })
            .collect()
    }

    pub(crate) async fn catalogue_generation(&self) -> Result<i64> {
        let r = self
            .query("SELECT n FROM catalogue_generation WHERE id = 1", &[])
            .await?;
        Ok(r[0].get::<_, i64>(0))
    }

    pub(crate) async fn count_procedures(&self) -> Result<u64> {
        let r = self
            .query(
                "SELECT count(*) FROM procedures WHERE status = 'published'",
                &[],
            )
            .await?;
        Ok(r[0].get::<_, i64>(0) as u64)
    }

    pub(crate) async fn counters(&self, q: &CounterQuery) -> Result<Vec<CounterRow>> {
        let agency = q.agency.as_ref().map(|a| a.to_string());
        self.query(
            "SELECT agency, metric, sum(value)::int8 FROM counters
             WHERE ($1::text IS NULL OR agency = $1) AND ($2::date IS NULL OR day >= $2)
               AND ($3::date IS NULL OR day <= $3)
             GROUP BY agency, metric ORDER BY agency, metric",
            &[&agency, &q.from, &q.to],
        )
        .await?
        .into_iter()
        .map(|r| {
            Ok(CounterRow {
                agency: r.get(0),
                metric: r.get(1),
                value: r.get(2),
            })
        })
        .collect()
    }

    pub(crate) async fn outbox_pending(&self, limit: u32) -> Result<Vec<OutboxRow>> {
        self.query(
            "SELECT id, topic, key, payload, attempts FROM outbox WHERE status = 'pending' ORDER BY id LIMIT $1",
            &[&(limit as i64)],
        )
        .await?
        .into_iter()
        .map(|r| {
            Ok(OutboxRow {
                id: r.get(0),
                topic: r.get(1),
                key: r.get(2),
                payload: serde_json::from_str(r.get(3)).map_err(corrupt)?,
                attempts: r.get(4),
            })
        })
        .collect()
    }

    pub(crate) async fn calendar_settings(&self) -> Result<Vec<(String, CalendarSettings)>> {
        let rows = self
            .query(
                "SELECT scope, data FROM calendar_settings ORDER BY scope",
                &[],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let data: String = r.get(1);
                Ok((
                    r.get::<_, String>(0),
                    serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                ))
            })
            .collect()
    }

    pub(crate) async fn put_calendar_settings(
        &self,
        scope: String,
        settings: CalendarSettings,
    ) -> Result<()> {
        let data =
            serde_json::to_string(&settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.query(
            "INSERT INTO calendar_settings (scope, data) VALUES ($1, $2)
             ON CONFLICT (scope) DO UPDATE SET data = excluded.data",
            &[&scope, &data],
        )
        .await
        .map(|_| ())
    }

    pub(crate) async fn verify(&self) -> Result<VerifyReport> {
        let mut conn = self.conn().await?;
        // One snapshot for the logs, the states and the counters.
        let tx = conn
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(pg_err)?;
        let mut report = VerifyReport::default();
        let mut implied: BTreeMap<(String, String, String), i64> = BTreeMap::new();
        let st = tx
            .prepare(
                "SELECT d.id, d.state, e.seqs, e.bodies, e.prevs, e.hashes
                 FROM dossiers d
                 LEFT JOIN LATERAL (
                     SELECT array_agg(seq ORDER BY seq) AS seqs, array_agg(body ORDER BY seq) AS bodies,
                            array_agg(prev_hash ORDER BY seq) AS prevs, array_agg(hash ORDER BY seq) AS hashes
                     FROM events WHERE dossier_id = d.id
                 ) e ON true
                 ORDER BY d.id",
            )
            .await
            .map_err(pg_err)?;
        // Read through a cursor, a page at a time, not the whole database at once.
        let portal = tx.bind(&st, &[]).await.map_err(pg_err)?;
        loop {
            let page = tx.query_portal(&portal, 256).await.map_err(pg_err)?;
            if page.is_empty() {
                break;
            }
            for r in page {
                let id: Uuid = r.get(0);
                let state: String = r.get(1);
                let log = postgres_log(&r);
                report.dossiers += 1;
                report.events += log.len() as u64;
                for d in check_log(id, &log, &state, &mut report.problems) {
                    *implied
                        .entry((d.agency.to_string(), d.day.to_string(), d.metric))
                        .or_default() += d.delta;
                }
            }
        }
        let stored: BTreeMap<(String, String, String), i64> = tx
            .query(
                "SELECT agency, day, metric, sum(value)::int8 FROM counters
                 GROUP BY agency, day, metric HAVING sum(value) <> 0",
                &[],
            )
            .await
            .map_err(pg_err)?
            .into_iter()
            .map(|r| {
                let day: NaiveDate = r.get(1);
                ((r.get(0), day.to_string(), r.get(2)), r.get(3))
            })
            .collect();
        // Links to files carry no foreign keys here (decision 0042): look for broken ones.
        for r in tx
            .query(
                "SELECT l.dossier_id, l.sha256, l.uploaded_by, f.sha256 IS NULL
                 FROM dossier_files l
                 LEFT JOIN files f ON f.sha256 = l.sha256
                 LEFT JOIN users u ON u.id = l.uploaded_by
                 WHERE f.sha256 IS NULL OR u.id IS NULL
                 ORDER BY l.dossier_id, l.sha256 LIMIT 100",
                &[],
            )
            .await
            .map_err(pg_err)?
        {
            let (id, sha, by, no_file): (Uuid, String, Uuid, bool) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            report.problems.push(match no_file {
                true => format!("dossier {id}: linked file {sha} has no record in files"),
                false => format!("dossier {id}: file {sha} was linked by {by}, who is not a user"),
            });
        }
        tx.commit().await.map_err(pg_err)?;
        crate::model::compare_counters(&implied, &stored, &mut report.problems);
        Ok(report)
    }
}

/// Writes one procedure version and its receiving agencies inside `tx`; publishing supersedes
/// the version published before.
async fn write_procedure(
    tx: &deadpool_postgres::Transaction<'_>,
    p: &ProcedureRecord,
) -> Result<()> {
    let v = &p.version;
    let code = v.code.to_string();
    let version = v.version as i32;
    let status = serde_json::to_value(v.status).map_err(corrupt)?;
    let status = status.as_str().unwrap_or_default();
    let folded = format!("{} {}", code, motcua_domain::text::fold(&v.name));
    let data = serde_json::to_string(p).map_err(corrupt)?;
    let agencies: Vec<&str> = p.receiving_agencies.iter().map(|a| a.as_str()).collect();
    if v.status == VersionStatus::Published {
        let st = tx
            .prepare_cached(
                "UPDATE procedures SET status = 'superseded',
                   data = jsonb_set(data::jsonb, '{version,status}', '\"superseded\"')::text
                 WHERE code = $1 AND status = 'published' AND version <> $2",
            )
            .await
            .map_err(pg_err)?;
        tx.execute(&st, &[&code, &version]).await.map_err(pg_err)?;
    }
    let st = tx
        .prepare_cached(
            "INSERT INTO procedures (code, version, status, name, folded, field, data) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (code, version) DO UPDATE SET status = excluded.status, name = excluded.name,
               folded = excluded.folded, field = excluded.field, data = excluded.data",
        )
        .await
        .map_err(pg_err)?;
    tx.execute(
        &st,
        &[&code, &version, &status, &v.name, &folded, &v.field, &data],
    )
    .await
    .map_err(pg_err)?;
    // Two statements: an INSERT does not see the rows a DELETE in its own WITH removes.
    let st = tx
        .prepare_cached("DELETE FROM procedure_agencies WHERE procedure_code = $1")
        .await
        .map_err(pg_err)?;
    tx.execute(&st, &[&code]).await.map_err(pg_err)?;
    let st = tx
        .prepare_cached(
            "INSERT INTO procedure_agencies (procedure_code, agency)
             SELECT DISTINCT $1, a FROM UNNEST($2::text[]) AS a
             ON CONFLICT (agency, procedure_code) DO NOTHING",
        )
        .await
        .map_err(pg_err)?;
    tx.execute(&st, &[&code, &agencies]).await.map_err(pg_err)?;
    Ok(())
}

/// A dossier's log as [`check_log`] takes it, from a row whose columns 2-5 are the aggregated
/// seqs, bodies, previous hashes and hashes (empty for a dossier without events).
fn postgres_log(r: &tokio_postgres::Row) -> Vec<(u64, String, String, String)> {
    let seqs: Vec<i64> = r.get::<_, Option<Vec<i64>>>(2).unwrap_or_default();
    let bodies: Vec<String> = r.get::<_, Option<Vec<String>>>(3).unwrap_or_default();
    let prevs: Vec<String> = r.get::<_, Option<Vec<String>>>(4).unwrap_or_default();
    let hashes: Vec<String> = r.get::<_, Option<Vec<String>>>(5).unwrap_or_default();
    seqs.into_iter()
        .zip(bodies)
        .zip(prevs)
        .zip(hashes)
        .map(|(((s, b), p), h)| (s as u64, b, p, h))
        .collect()
}

/// A dossier list row from the columns `id, code, procedure_code, procedure_name,
/// applicant_name, status, national_status, receiving_agency, current_agency, submitted_at,
/// due_at, version` (in that order).
pub(crate) fn summary_of(r: &Row) -> Result<DossierSummary> {
    let status: &str = r.get(5);
    Ok(DossierSummary {
        id: r.get(0),
        code: r.get(1),
        procedure_code: r.get(2),
        procedure_name: r.get(3),
        applicant_name: r.get(4),
        status: Status::parse(status).ok_or_else(|| corrupt(status))?,
        national_status: r.get::<_, i16>(6) as u8,
        receiving_agency: r.get(7),
        current_agency: r.get(8),
        submitted_at: r.get(9),
        due_at: r.get(10),
        version: r.get::<_, i64>(11) as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_parameter_is_split_off() {
        assert_eq!(
            split_schema("postgres://h/db"),
            ("postgres://h/db".into(), None)
        );
        assert_eq!(
            split_schema("postgres://h/db?schema=t_1"),
            ("postgres://h/db".into(), Some("t_1".into()))
        );
        assert_eq!(
            split_schema("postgres://h/db?sslmode=disable&schema=x&connect_timeout=3"),
            (
                "postgres://h/db?sslmode=disable&connect_timeout=3".into(),
                Some("x".into())
            )
        );
        assert_eq!(
            split_param("postgres://h/db?schema=x&group_commit=off", "group_commit"),
            ("postgres://h/db?schema=x".into(), Some("off".into()))
        );
        assert!(valid_schema("t_0a9f"));
        assert!(valid_schema("public"));
        assert!(!valid_schema("T"));
        assert!(!valid_schema("a;drop"));
        assert!(!valid_schema(""));
        assert!(!valid_schema("9a"));
    }
}
