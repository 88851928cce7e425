//! Persistence for motcua behind one [`Store`] API with two backends: SQLite (embedded default,
//! one writer thread that group-commits, a pool of readers) and PostgreSQL (scale-out). Both pass
//! the same conformance suite (`tests/conformance.rs`).
//!
//! Every change to a dossier goes through [`Store::execute`]: in one transaction it runs the
//! domain's decision on the current state, appends the events with their hash chain, updates the
//! read models and statistics counters, and writes the outbox. Nothing else writes those tables.

pub mod accounts;
pub mod drafts;
pub mod feedback;
pub mod files;
#[cfg(test)]
mod fixtures;
pub mod holds;
pub mod inbound;
pub mod inbox;
pub mod json_time;
mod model;
pub mod outbox;
pub mod payments;
mod plan;
pub mod portal;
pub mod postgres;
pub mod priority;
mod queue;
mod rebuild;
mod snapshot;
pub mod sqlite;
pub mod state;
mod stats;
mod users;

pub use accounts::{AuditEntry, AuditQuery, AuditRecord, LoginFailure, PasswordReset};
pub use drafts::{Draft, MAX_DRAFT_BYTES};
pub use feedback::{FeedbackOrder, FeedbackQuery, FeedbackRow};
pub use files::{Blobs, DossierFile, FileRecord, SaveFile, VaultEntry};
pub use holds::OutboxHold;
pub use inbound::{InboundNote, InboundRow, InboundStatus};
pub use inbox::{InboxCount, InboxCursor, InboxQuery, InboxRows};
pub use model::*;
pub use outbox::{
    OutboxClaim, OutboxDay, OutboxDepth, OutboxEntry, OutboxFailure, OutboxQuery, OutboxStatus,
};
pub use payments::{PaymentCallback, PaymentRecord};
pub use queue::{CounterState, QueueAct};
pub use stats::GroupBy;
pub use users::{Grant, StaffMember, UserQuery, UserSummary};

use motcua_domain::agency::Role;
use motcua_domain::calendar::CalendarSettings;
use motcua_domain::codes::{AgencyCode, DossierCode};
use motcua_domain::dossier::{DomainError, Dossier};
use uuid::Uuid;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The domain refused the command; nothing was written.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The caller's expected version is stale.
    #[error("the dossier changed meanwhile: expected version {expected}, it is at {actual}")]
    VersionConflict {
        /// What the caller expected.
        expected: u64,
        /// What is stored.
        actual: u64,
    },
    /// A unique value already exists (user name, ...).
    #[error("already exists: {0}")]
    Duplicate(String),
    /// Something the call refers to does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The database failed or is unreachable.
    #[error("database error: {0}")]
    Backend(String),
    /// A queue rule refused the action; nothing was written.
    #[error(transparent)]
    Queue(#[from] motcua_domain::queue::QueueError),
    /// Stored data could not be decoded (a bug or tampering).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// Result alias.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The store: one of the two backends.
#[derive(Clone)]
pub enum Store {
    /// Embedded SQLite.
    Sqlite(sqlite::SqliteStore),
    /// PostgreSQL.
    Postgres(postgres::PgStore),
}

macro_rules! dispatch {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Store::Sqlite($s) => $e,
            Store::Postgres($s) => $e,
        }
    };
}

impl Store {
    /// Opens a store from a URL: `sqlite://PATH` (created if missing), `sqlite::memory:`, or
    /// `postgres://...`. Runs migrations.
    pub async fn open(url: &str) -> Result<Store> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            Ok(Store::Sqlite(sqlite::SqliteStore::open(path)?))
        } else if url == "sqlite::memory:" {
            Ok(Store::Sqlite(sqlite::SqliteStore::open_memory()?))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Store::Postgres(postgres::PgStore::open(url).await?))
        } else {
            Err(StoreError::Backend(format!(
                "unsupported database URL `{url}`: use sqlite://PATH or postgres://..."
            )))
        }
    }

    /// The same database for a background worker on its own Tokio runtime: on PostgreSQL a
    /// separate pool of at most `connections` (created lazily, so each connection is driven by
    /// the runtime that uses it, never by the request path's), no group-commit writer; on
    /// SQLite the same store (its one writer thread and read connections serve every caller).
    pub fn with_own_connections(&self, connections: usize) -> Result<Store> {
        match self {
            Store::Sqlite(s) => Ok(Store::Sqlite(s.clone())),
            Store::Postgres(p) => Ok(Store::Postgres(p.with_own_pool(connections)?)),
        }
    }

    /// Name of the backend, for logs and metrics.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Answers when the database does.
    pub async fn health(&self) -> Result<()> {
        dispatch!(self, s => s.health().await)
    }

    /// Runs a command on a dossier: see the crate documentation.
    pub async fn execute(&self, job: Execute) -> Result<Executed> {
        dispatch!(self, s => s.execute(job).await)
    }

    /// A dossier's current state.
    pub async fn dossier(&self, id: Uuid) -> Result<Option<Dossier>> {
        dispatch!(self, s => s.dossier(id).await)
    }

    /// The applicant of the most recent dossier submitted for this personal ID (the local
    /// answer of the desk's identity lookup).
    pub async fn latest_applicant(
        &self,
        personal_id: &str,
    ) -> Result<Option<motcua_domain::dossier::Applicant>> {
        let Some(id) = dispatch!(self, s => s.latest_dossier_of(personal_id).await)? else {
            return Ok(None);
        };
        Ok(self.dossier(id).await?.map(|d| d.applicant))
    }

    /// A dossier's current state with the hash its log ends with, to hand to
    /// [`Store::execute_from`].
    pub async fn dossier_head(&self, id: Uuid) -> Result<Option<Head>> {
        dispatch!(self, s => s.dossier_head(id).await)
    }

    /// Like [`Store::execute`], on a dossier the caller has just read: the backend may start
    /// from `head` instead of reading it again (it still writes only if nothing moved meanwhile).
    pub async fn execute_from(&self, job: Execute, head: Head) -> Result<Executed> {
        match self {
            Store::Sqlite(s) => s.execute_from(job, Some(head)).await,
            // Each command reads its row under a lock in the same round trip anyway.
            Store::Postgres(s) => s.execute(job).await,
        }
    }

    /// A dossier's current state by its code.
    pub async fn dossier_by_code(&self, code: &DossierCode) -> Result<Option<Dossier>> {
        dispatch!(self, s => s.dossier_by_code(code).await)
    }

    /// The public status of a dossier by code.
    pub async fn public_status(&self, code: &DossierCode) -> Result<Option<PublicStatusRow>> {
        dispatch!(self, s => s.public_status(code).await)
    }

    /// A dossier's log, oldest first.
    pub async fn history(&self, id: Uuid) -> Result<Vec<StoredEvent>> {
        dispatch!(self, s => s.history(id).await)
    }

    /// Lists dossiers from the read model.
    pub async fn list_dossiers(&self, q: &DossierQuery) -> Result<Vec<DossierSummary>> {
        dispatch!(self, s => s.list_dossiers(q).await)
    }

    /// Inserts or replaces agencies.
    pub async fn upsert_agencies(
        &self,
        agencies: Vec<motcua_domain::agency::Agency>,
    ) -> Result<()> {
        dispatch!(self, s => s.upsert_agencies(agencies).await)
    }

    /// All agencies, by code.
    pub async fn agencies(&self) -> Result<Vec<motcua_domain::agency::Agency>> {
        dispatch!(self, s => s.agencies().await)
    }

    /// One agency.
    pub async fn agency(&self, code: &AgencyCode) -> Result<Option<motcua_domain::agency::Agency>> {
        dispatch!(self, s => s.agency(code).await)
    }

    /// Inserts or replaces administrative units.
    pub async fn upsert_admin_units(&self, units: Vec<AdminUnit>) -> Result<()> {
        dispatch!(self, s => s.upsert_admin_units(units).await)
    }

    /// Every administrative unit (provinces and communes), by code.
    pub async fn admin_units(&self) -> Result<Vec<AdminUnit>> {
        dispatch!(self, s => s.admin_units().await)
    }

    /// Number of administrative units stored.
    pub async fn count_admin_units(&self) -> Result<u64> {
        dispatch!(self, s => s.count_admin_units().await)
    }

    /// Creates a user holding its `role` in its `agency`; fails with `Duplicate` if the user
    /// name is taken.
    pub async fn create_user(&self, user: UserRecord) -> Result<()> {
        let g = Grant {
            role: user.role,
            agency: user.agency.clone(),
        };
        self.create_user_with_grants(user, vec![g]).await
    }

    /// Creates a user holding `grants` (the first is the default; the user's `role` and
    /// `agency` are taken from it), all or nothing; `Duplicate` if the user name is taken.
    pub async fn create_user_with_grants(
        &self,
        mut user: UserRecord,
        grants: Vec<Grant>,
    ) -> Result<()> {
        let Some(first) = grants.first() else {
            return Err(StoreError::NotFound("a grant for the new user".into()));
        };
        user.role = first.role;
        user.agency = first.agency.clone();
        dispatch!(self, s => s.create_user_with_grants(user, grants).await)
    }

    /// The roles a user holds, the default one first.
    pub async fn user_grants(&self, id: Uuid) -> Result<Vec<Grant>> {
        dispatch!(self, s => s.user_grants(id).await)
    }

    /// Accounts by login name, filtered (see [`UserQuery`]). Filtering and search run over
    /// every account in memory: a province has thousands of staff, not millions.
    pub async fn list_users(&self, q: &UserQuery) -> Result<Vec<UserSummary>> {
        let all = dispatch!(self, s => s.all_users().await)?;
        Ok(q.apply(all))
    }

    /// One account as administrators see it.
    pub async fn user_summary(&self, id: Uuid) -> Result<Option<UserSummary>> {
        let Some(u) = self.user(id).await? else {
            return Ok(None);
        };
        let updated_at = dispatch!(self, s => s.user_updated_at(id).await)?;
        Ok(Some(UserSummary {
            id: u.id,
            username: u.username,
            name: u.name,
            disabled: u.disabled,
            updated_at,
            grants: self.user_grants(id).await?,
        }))
    }

    /// Changes a user's display name; `NotFound` for an unknown user.
    pub async fn rename_user(
        &self,
        id: Uuid,
        name: String,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        dispatch!(self, s => s.rename_user(id, name, now).await)
    }

    /// Adds a grant; `Duplicate` if the user holds it already, `NotFound` for an unknown user.
    pub async fn add_grant(
        &self,
        id: Uuid,
        grant: Grant,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        dispatch!(self, s => s.add_grant(id, grant, now).await)
    }

    /// Removes a grant; `NotFound` if the user does not hold it. Sessions and tokens acting
    /// as that grant stop working; the first remaining grant becomes the default.
    pub async fn remove_grant(
        &self,
        id: Uuid,
        grant: Grant,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        dispatch!(self, s => s.remove_grant(id, grant, now).await)
    }

    /// Disables (ending every session and token of the user) or enables an account;
    /// `NotFound` for an unknown user.
    pub async fn set_user_disabled(
        &self,
        id: Uuid,
        disabled: bool,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        dispatch!(self, s => s.set_user_disabled(id, disabled, now).await)
    }

    /// Replaces a user's password hash and ends every session and token of the user;
    /// `NotFound` for an unknown user.
    pub async fn set_password(
        &self,
        id: Uuid,
        password_hash: String,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        dispatch!(self, s => s.set_password(id, password_hash, now).await)
    }

    /// Makes a session or token act as `grant`; `NotFound` if the token is unknown or its user
    /// does not hold the grant.
    pub async fn choose_grant(&self, token_hash: &str, grant: Grant) -> Result<()> {
        dispatch!(self, s => s.choose_grant(token_hash, grant).await)
    }

    /// Enabled users holding `role` in `agency`, by name.
    pub async fn agency_staff(&self, agency: &AgencyCode, role: Role) -> Result<Vec<StaffMember>> {
        dispatch!(self, s => s.agency_staff(agency, role).await)
    }

    /// Records a password reset and the e-mail that carries its link, in one transaction (the
    /// mail goes out through the outbox like every message).
    pub async fn create_password_reset(
        &self,
        reset: PasswordReset,
        mail: motcua_domain::dossier::OutboxMessage,
    ) -> Result<()> {
        dispatch!(self, s => s.create_password_reset(reset, mail).await)
    }

    /// Uses a reset: when `token_hash` names an unused reset not expired at `now`, sets the
    /// user's password hash, lifts a lockout, ends every session of the user and marks the reset
    /// used, in one transaction. The user's id, or `None` (unknown, used or expired).
    pub async fn use_password_reset(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<uuid::Uuid>> {
        dispatch!(self, s => s.use_password_reset(token_hash, password_hash, now).await)
    }

    /// A user by login name.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>> {
        dispatch!(self, s => s.user_by_username(username).await)
    }

    /// A user by id.
    pub async fn user(&self, id: Uuid) -> Result<Option<UserRecord>> {
        dispatch!(self, s => s.user(id).await)
    }

    /// Stores an API token (only its hash).
    pub async fn create_token(&self, token: TokenRecord) -> Result<()> {
        dispatch!(self, s => s.create_token(token).await)
    }

    /// The user of a token hash, if the token is valid now and its user enabled, with the role
    /// and agency the token acts as (`None` as well when the user no longer holds that grant).
    pub async fn token_user(
        &self,
        token_hash: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<UserRecord>> {
        dispatch!(self, s => s.token_user(token_hash, now).await)
    }

    /// Forgets a token (sign-out); unknown tokens are ignored.
    pub async fn delete_token(&self, token_hash: &str) -> Result<()> {
        dispatch!(self, s => s.delete_token(token_hash).await)
    }

    /// Until when the account `username` is locked after repeated failed sign-ins, if it is
    /// locked at `now`.
    pub async fn login_locked_until(
        &self,
        username: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        dispatch!(self, s => s.login_locked_until(username, now).await)
    }

    /// Counts a failed sign-in of `username` (nothing for an unknown name); the
    /// `max_failures`-th failure in a row locks the account for `lock_for` and starts counting
    /// again.
    pub async fn record_login_failure(
        &self,
        username: &str,
        now: chrono::DateTime<chrono::Utc>,
        max_failures: u32,
        lock_for: chrono::Duration,
    ) -> Result<LoginFailure> {
        dispatch!(self, s => s.record_login_failure(username, now, max_failures, lock_for).await)
    }

    /// A successful sign-in: forgets earlier failures and any lock.
    pub async fn clear_login_failures(&self, username: &str) -> Result<()> {
        dispatch!(self, s => s.clear_login_failures(username).await)
    }

    /// An agency's inbox, most urgent first (see [`inbox`]).
    pub async fn inbox(&self, q: &InboxQuery) -> Result<Vec<DossierSummary>> {
        Ok(self.inbox_rows(q).await?.rows().to_vec())
    }

    /// An agency's inbox as a shared page (its JSON written once; see [`InboxRows`]).
    pub async fn inbox_rows(&self, q: &InboxQuery) -> Result<std::sync::Arc<InboxRows>> {
        dispatch!(self, s => s.inbox_rows(q).await)
    }

    /// Per status, the open dossiers an agency holds: in all, past their appointment at `now`,
    /// and due before `soon`.
    pub async fn inbox_counts(
        &self,
        agency: &AgencyCode,
        now: chrono::DateTime<chrono::Utc>,
        soon: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<InboxCount>> {
        dispatch!(self, s => s.inbox_counts(agency, now, soon).await)
    }

    /// Appends a line to the audit trail.
    pub async fn append_audit(&self, entry: AuditEntry) -> Result<()> {
        dispatch!(self, s => s.append_audit(entry).await)
    }

    /// Reads the audit trail, newest first.
    pub async fn audit_trail(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>> {
        dispatch!(self, s => s.audit_trail(q).await)
    }

    /// Inserts or replaces a procedure version and the agencies that receive it.
    pub async fn upsert_procedure(&self, p: ProcedureRecord) -> Result<()> {
        dispatch!(self, s => s.upsert_procedure(p).await)
    }

    /// The published version of a procedure.
    pub async fn published_procedure(&self, code: &str) -> Result<Option<ProcedureRecord>> {
        dispatch!(self, s => s.published_procedure(code).await)
    }

    /// Published procedures, filtered.
    pub async fn list_procedures(&self, q: &ProcedureQuery) -> Result<Vec<ProcedureSummary>> {
        dispatch!(self, s => s.list_procedures(q).await)
    }

    /// Procedures never published (only a draft, e.g. imported without a readable time
    /// limit), filtered and paged like [`Store::list_procedures`]: for administrators.
    pub async fn list_unpublished(&self, q: &ProcedureQuery) -> Result<Vec<ProcedureSummary>> {
        dispatch!(self, s => s.list_unpublished(q).await)
    }

    /// The catalogue's generation: one more after every write of procedures (a publication,
    /// an import, an assignment of agencies). A reader that read it before reading the
    /// catalogue has read at least that generation's catalogue.
    pub async fn catalogue_generation(&self) -> Result<i64> {
        dispatch!(self, s => s.catalogue_generation().await)
    }

    /// Number of published procedures.
    pub async fn count_procedures(&self) -> Result<u64> {
        dispatch!(self, s => s.count_procedures().await)
    }

    /// Writes procedure versions and their change records in one transaction: all or nothing.
    /// A published version supersedes the one published before it.
    pub async fn save_procedures(
        &self,
        records: Vec<ProcedureRecord>,
        changes: Vec<ProcedureChange>,
    ) -> Result<()> {
        dispatch!(self, s => s.save_procedures(records, changes).await)
    }

    /// Every version of a procedure (draft, published, superseded), oldest first.
    pub async fn procedure_versions(&self, code: &str) -> Result<Vec<ProcedureRecord>> {
        dispatch!(self, s => s.procedure_versions(code).await)
    }

    /// Every published procedure, by code: the public catalogue.
    pub async fn published_procedures(&self) -> Result<Vec<ProcedureRecord>> {
        dispatch!(self, s => s.procedures_where(true).await)
    }

    /// Every version of every procedure, by code then version (imports compare against it).
    pub async fn all_procedure_versions(&self) -> Result<Vec<ProcedureRecord>> {
        dispatch!(self, s => s.procedures_where(false).await)
    }

    /// The catalogue changes with `action` (e.g. `published`) made at `from..to`, oldest first.
    pub async fn procedure_changes_between(
        &self,
        action: &str,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ProcedureChange>> {
        dispatch!(self, s => s.procedure_changes_between(action, from, to).await)
    }

    /// The recorded changes to a procedure, oldest first.
    pub async fn procedure_changes(&self, code: &str) -> Result<Vec<ProcedureChange>> {
        dispatch!(self, s => s.procedure_changes(code).await)
    }

    /// Statistics counters summed over a period, per agency and metric (the simple metrics; the
    /// dimensioned report metrics, which contain `|`, are read through [`Store::form06`]).
    pub async fn counters(&self, q: &CounterQuery) -> Result<Vec<CounterRow>> {
        let mut rows = dispatch!(self, s => s.counters(q).await)?;
        rows.retain(|r| !r.metric.contains('|'));
        Ok(rows)
    }

    /// Counters summed per span of dates and metric prefix, per agency and metric, all read in
    /// one snapshot. Each row comes with the index of its span.
    pub async fn sum_counter_spans(
        &self,
        agencies: &[AgencyCode],
        spans: &[CounterSpan],
    ) -> Result<Vec<(usize, CounterRow)>> {
        dispatch!(self, s => s.sum_counter_spans(agencies, spans).await)
    }

    /// Recomputes every statistics counter from the event logs and replaces the stored ones (after
    /// an upgrade that adds figures, or to repair), folding the logs on all cores. Refuses when a
    /// log does not replay (an event that does not decode or apply); the hash chains and stored
    /// states are `verify`'s to check.
    pub async fn rebuild_counters(&self) -> Result<RebuildReport> {
        dispatch!(self, s => s.rebuild_counters().await)
    }

    /// Folds the statistics counter rows of closed periods into one row per key, and returns
    /// how many rows it removed. PostgreSQL spreads each key over up to 16 shard rows, so that
    /// concurrent writers do not queue on one row; a report over past months then reads 16 rows
    /// per key. Here the rows of days before `before`, and of months that ended before its month,
    /// from `since` on (every past row when `None`), are summed into shard 0 in the transaction
    /// that deletes them, agency by agency; a row a writer holds at that moment is skipped and
    /// folded next time. No sum ever changes (decision 0037). SQLite keeps one row per key:
    /// nothing to fold, 0.
    pub async fn fold_counters(
        &self,
        since: Option<chrono::NaiveDate>,
        before: chrono::NaiveDate,
    ) -> Result<u64> {
        use motcua_domain::stats::{Detail, EPOCH, Grain, row_date};
        let since = since.unwrap_or(EPOCH).max(EPOCH);
        let ranges: Vec<(chrono::NaiveDate, chrono::NaiveDate)> = [
            (Grain::Day, Detail::Full),
            (Grain::Month, Detail::Full),
            (Grain::Day, Detail::Agency),
            (Grain::Month, Detail::Agency),
        ]
        .into_iter()
        .map(|(g, d)| (row_date(g, d, since), row_date(g, d, before)))
        .filter(|(lo, hi)| lo < hi)
        .collect();
        match self {
            Store::Sqlite(_) => Ok(0),
            Store::Postgres(s) => s.fold_counters(&ranges).await,
        }
    }

    /// Received, unfinished dossiers decided by `agencies` whose appointment is at or before
    /// `until` (about to be late, or already late), soonest first, at most `limit` (≤ 200).
    pub async fn due_soon(
        &self,
        agencies: &[AgencyCode],
        until: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<Vec<DossierSummary>> {
        dispatch!(self, s => s.due_soon(agencies, until, limit).await)
    }

    /// Pending outbox messages, oldest first.
    pub async fn outbox_pending(&self, limit: u32) -> Result<Vec<OutboxRow>> {
        dispatch!(self, s => s.outbox_pending(limit).await)
    }

    /// Leases up to `q.limit` deliverable messages (oldest first, only the oldest undelivered
    /// one of each dossier and target) to `q.owner` until `q.now + q.lease`.
    pub async fn outbox_claim(&self, q: OutboxClaim) -> Result<Vec<OutboxEntry>> {
        dispatch!(self, s => s.outbox_claim(q).await)
    }

    /// Marks messages delivered and acknowledged; returns how many changed.
    pub async fn outbox_ack(
        &self,
        ids: Vec<i64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64> {
        dispatch!(self, s => s.outbox_ack(ids, now).await)
    }

    /// Records a failed attempt: the message waits until `retry_at`, or becomes a dead letter at
    /// `max_attempts`. `None` if the reporter no longer holds the lease (nothing changed).
    pub async fn outbox_fail(&self, f: OutboxFailure) -> Result<Option<OutboxStatus>> {
        dispatch!(self, s => s.outbox_fail(f).await)
    }

    /// Sends dead letters back to the queue (one by id, or all, optionally of one target);
    /// returns how many.
    pub async fn outbox_retry(
        &self,
        id: Option<i64>,
        topic: Option<String>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64> {
        dispatch!(self, s => s.outbox_retry(id, topic, now).await)
    }

    /// Deletes up to `limit` delivered messages acknowledged before `before`, oldest first;
    /// returns how many. Pending and dead messages are never deleted, and the per-day counts
    /// that reconciliation reads (`outbox_days`) are kept apart, so they do not change.
    pub async fn outbox_prune(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<u64> {
        dispatch!(self, s => s.outbox_prune(before, limit).await)
    }

    /// Messages with their delivery state, by id.
    pub async fn outbox_list(&self, q: OutboxQuery) -> Result<Vec<OutboxEntry>> {
        dispatch!(self, s => s.outbox_list(q).await)
    }

    /// One message.
    pub async fn outbox_get(&self, id: i64) -> Result<Option<OutboxEntry>> {
        dispatch!(self, s => s.outbox_get(id).await)
    }

    /// Each target's queue now: pending, dead and the oldest undelivered message.
    pub async fn outbox_depths(&self) -> Result<Vec<OutboxDepth>> {
        dispatch!(self, s => s.outbox_depths().await)
    }

    /// Per target and local day from `from` to `to` (inclusive): what was written, acknowledged,
    /// failed, dead-lettered and retried.
    pub async fn outbox_days(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<OutboxDay>> {
        dispatch!(self, s => s.outbox_days(from, to).await)
    }

    /// Every stored calendar setting: scope (`province` or an agency code) and settings.
    pub async fn calendar_settings(&self) -> Result<Vec<(String, CalendarSettings)>> {
        dispatch!(self, s => s.calendar_settings().await)
    }

    /// Replaces the calendar settings of a scope (`province` or an agency code).
    pub async fn put_calendar_settings(
        &self,
        scope: String,
        settings: CalendarSettings,
    ) -> Result<()> {
        dispatch!(self, s => s.put_calendar_settings(scope, settings).await)
    }

    /// Records an uploaded file (once per content) with its data-store entries and dossier
    /// links, in one transaction; rows that exist already are left as they are.
    pub async fn save_file(&self, f: SaveFile) -> Result<()> {
        dispatch!(self, s => s.save_file(f).await)
    }

    /// [`Store::save_file`] for several files in one transaction (a dossier's documents).
    pub async fn save_files(&self, all: Vec<SaveFile>) -> Result<()> {
        dispatch!(self, s => s.save_files(all).await)
    }

    /// The record of a stored file.
    pub async fn file_record(
        &self,
        key: &motcua_domain::files::FileKey,
    ) -> Result<Option<FileRecord>> {
        dispatch!(self, s => s.file_record(key).await)
    }

    /// A person's data store (kho dữ liệu), newest first, at most `limit` entries.
    pub async fn vault(&self, owner: Uuid, limit: u32) -> Result<Vec<(VaultEntry, FileRecord)>> {
        dispatch!(self, s => s.vault(owner, limit).await)
    }

    /// One file of a person's data store.
    pub async fn vault_entry(
        &self,
        owner: Uuid,
        key: &motcua_domain::files::FileKey,
    ) -> Result<Option<(VaultEntry, FileRecord)>> {
        dispatch!(self, s => s.vault_entry(owner, key).await)
    }

    /// The files linked to a dossier, oldest first.
    pub async fn dossier_files(&self, dossier: Uuid) -> Result<Vec<(DossierFile, FileRecord)>> {
        dispatch!(self, s => s.dossier_files(dossier).await)
    }

    /// Whether staff of `agency` uploaded `key` (it is in the data store of one of them, or one
    /// of them linked it to a dossier).
    pub async fn agency_holds_file(
        &self,
        agency: &AgencyCode,
        key: &motcua_domain::files::FileKey,
    ) -> Result<bool> {
        dispatch!(self, s => s.agency_holds_file(agency, key).await)
    }

    /// Whether `key` is linked to any dossier already (a component, supplement, attachment or
    /// result of it): a later dossier naming it re-uses digitized data (766 indicator 4.3).
    pub async fn file_in_dossiers(&self, key: &motcua_domain::files::FileKey) -> Result<bool> {
        dispatch!(self, s => s.file_in_dossiers(key).await)
    }

    /// The integration state stored under `name` (see [`state`]).
    pub async fn state(&self, name: &str) -> Result<Option<state::StateEntry>> {
        dispatch!(self, s => s.state(name).await)
    }

    /// Sets the integration state `name` to `value` if it is still at version `expected`
    /// (`None`: only if nothing is stored yet); `false` when another writer got there first.
    pub async fn swap_state(&self, name: &str, expected: Option<i64>, value: &str) -> Result<bool> {
        dispatch!(self, s => s.swap_state(name, expected, value).await)
    }

    /// Saves a citizen's draft: a new one, or (same owner, procedure and version) replaces the
    /// values of the existing one, which keeps its id and creation time.
    pub async fn save_draft(&self, d: Draft) -> Result<()> {
        dispatch!(self, s => s.save_draft(d).await)
    }

    /// A citizen's drafts, last saved first.
    pub async fn drafts(&self, owner: Uuid) -> Result<Vec<Draft>> {
        dispatch!(self, s => s.drafts(owner).await)
    }

    /// One draft of `owner` (`None` when it does not exist or is someone else's).
    pub async fn draft(&self, owner: Uuid, id: Uuid) -> Result<Option<Draft>> {
        dispatch!(self, s => s.draft(owner, id).await)
    }

    /// Deletes a draft of `owner`; `false` when there was none (or it is someone else's).
    pub async fn delete_draft(&self, owner: Uuid, id: Uuid) -> Result<bool> {
        dispatch!(self, s => s.delete_draft(owner, id).await)
    }

    /// Stores a new feedback item with its first step and the deadline it runs against
    /// ([`StoreError::Duplicate`] when the id exists).
    pub async fn create_feedback(
        &self,
        item: motcua_domain::feedback::Feedback,
        step: motcua_domain::feedback::FeedbackStep,
        due: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<()> {
        dispatch!(self, s => s.create_feedback(item, step, due).await)
    }

    /// Replaces a feedback item by its next version (`item.version` one more than stored) and
    /// appends `step`, in one transaction; [`StoreError::VersionConflict`] when it moved
    /// meanwhile, [`StoreError::NotFound`] when it does not exist.
    pub async fn save_feedback(
        &self,
        item: motcua_domain::feedback::Feedback,
        step: motcua_domain::feedback::FeedbackStep,
        due: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<()> {
        dispatch!(self, s => s.save_feedback(item, step, due).await)
    }

    /// One feedback item.
    pub async fn feedback(&self, id: Uuid) -> Result<Option<FeedbackRow>> {
        dispatch!(self, s => s.feedback(id).await)
    }

    /// A feedback item's steps, oldest first.
    pub async fn feedback_history(
        &self,
        id: Uuid,
    ) -> Result<Vec<motcua_domain::feedback::FeedbackStep>> {
        dispatch!(self, s => s.feedback_history(id).await)
    }

    /// Feedback items matching `q`.
    pub async fn list_feedback(&self, q: &FeedbackQuery) -> Result<Vec<FeedbackRow>> {
        dispatch!(self, s => s.list_feedback(q).await)
    }

    /// Notes that an inbound dossier (pulled from `source`) was not taken: one more attempt,
    /// the latest reason; rejected when `rejected` or after `reject_after` attempts. Returns the
    /// row as it stands now.
    pub async fn note_inbound(&self, n: InboundNote) -> Result<InboundRow> {
        dispatch!(self, s => s.note_inbound(n).await)
    }

    /// The row of an inbound dossier not taken, if any.
    pub async fn inbound(&self, source: &str, external_id: &str) -> Result<Option<InboundRow>> {
        dispatch!(self, s => s.inbound(source, external_id).await)
    }

    /// Inbound dossiers not taken, last tried first (at most `limit`, up to 1,000).
    pub async fn inbound_list(&self, limit: u32) -> Result<Vec<InboundRow>> {
        dispatch!(self, s => s.inbound_list(limit).await)
    }

    /// The dossier an idempotency key of `actor` created, if any (without running anything).
    pub async fn idempotent_dossier(&self, actor: Uuid, key: &str) -> Result<Option<Uuid>> {
        dispatch!(self, s => s.idempotent_dossier(actor, key).await)
    }

    /// Forgets an inbound dossier's failures (it was taken after all).
    pub async fn clear_inbound(&self, source: &str, external_id: &str) -> Result<()> {
        let (source, id) = (source.to_string(), external_id.to_string());
        dispatch!(self, s => s.clear_inbound(source, id).await)
    }

    /// Records a new payment attempt; [`StoreError::Duplicate`] when its reference exists.
    pub async fn create_payment(&self, p: PaymentRecord) -> Result<()> {
        dispatch!(self, s => s.create_payment(p).await)
    }

    /// One payment attempt by reference.
    pub async fn payment(&self, reference: &str) -> Result<Option<PaymentRecord>> {
        dispatch!(self, s => s.payment(reference).await)
    }

    /// A dossier's payment attempts, oldest first.
    pub async fn payments_of(&self, dossier: Uuid) -> Result<Vec<PaymentRecord>> {
        dispatch!(self, s => s.payments_of(dossier).await)
    }

    /// Keeps a verified callback: the first one's body is kept for audit; a reported failure
    /// or cancellation moves an `initiated` attempt and nothing else (never a paid one).
    /// Returns the attempt as it is afterwards (`None`: no such reference).
    pub async fn note_payment_callback(
        &self,
        cb: PaymentCallback,
    ) -> Result<Option<PaymentRecord>> {
        let reference = cb.reference.clone();
        dispatch!(self, s => s.note_payment_callback(cb).await)?;
        self.payment(&reference).await
    }

    /// Online attempts whose "paid" callback came but which are not recorded as paid yet
    /// (the platform could not confirm them), oldest change first.
    pub async fn payments_awaiting_confirmation(&self, limit: u32) -> Result<Vec<PaymentRecord>> {
        dispatch!(self, s => s.payments_awaiting_confirmation(limit).await)
    }

    /// Payments recorded as paid in `[from, to)`.
    pub async fn payments_paid_between(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<PaymentRecord>> {
        dispatch!(self, s => s.payments_paid_between(from, to).await)
    }

    /// Dossiers with a `fee_paid` event in `[from, to)`.
    pub async fn dossiers_with_fee_events(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Uuid>> {
        dispatch!(self, s => s.dossiers_with_fee_events(from, to).await)
    }

    /// Checks every dossier's hash chain and that folding its events gives the stored state and
    /// the stored counters; and that the dossiers counted as synced to the national portal
    /// agree with the dossiers and the outbox ([`portal`]).
    pub async fn verify(&self) -> Result<VerifyReport> {
        let mut r = dispatch!(self, s => s.verify().await)?;
        r.problems.extend(self.check_portal_synced().await?);
        Ok(r)
    }

    /// The statistics part of [`Store::verify`], on all cores: every counter against what the
    /// logs give (folded as [`Store::rebuild_counters`] folds them, read in one snapshot), and
    /// the `portal_synced` rows against the dossiers and the outbox. It does not check hash
    /// chains nor stored states, and fails (naming the first dossiers) if a log does not replay.
    pub async fn verify_counters(&self) -> Result<VerifyReport> {
        let mut r = dispatch!(self, s => s.verify_counters().await)?;
        r.problems.extend(self.check_portal_synced().await?);
        Ok(r)
    }
}
