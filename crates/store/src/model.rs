//! The values that cross the store's API.

use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::agency::Role;
use motcua_domain::codes::AgencyCode;
use motcua_domain::dossier::{CodeAllocator, DomainError, Dossier, Event};
use motcua_domain::procedure::ProcedureVersion;
use motcua_domain::status::Status;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The domain decision to run inside the transaction, on the dossier's current state. It may be
/// called more than once (a backend may probe for a code first), so it must be pure.
pub type Decision = Box<
    dyn Fn(Option<&Dossier>, &mut dyn CodeAllocator) -> Result<Vec<Event>, DomainError>
        + Send
        + Sync,
>;

/// One command to run on a dossier.
pub struct Execute {
    /// Dossier id (a new one for a submission).
    pub dossier_id: Uuid,
    /// If given, the dossier must be at this version (optimistic concurrency); `Some(0)` says
    /// it must not exist yet (a submission under a fresh id), which spares a read.
    pub expected_version: Option<u64>,
    /// For submissions: (actor, key). A repeat returns the dossier first created with it.
    pub idempotency: Option<(Uuid, String)>,
    /// The decision.
    pub decide: Decision,
    /// Files to link to the dossier (and data-store entries) in the same transaction as the
    /// events, so a submission and its documents commit together. Dropped when the command is
    /// an idempotent repeat or appends no event.
    pub files: Vec<crate::SaveFile>,
}

/// A dossier as read before a command: its state and the hash its log ends with. Handing it
/// back to [`crate::Store::execute_from`] spares the backend reading and decoding it again; the
/// backend still checks, when it writes, that the dossier has not moved since.
#[derive(Clone, Debug)]
pub struct Head {
    /// The state.
    pub dossier: Dossier,
    /// Hash of the last event.
    pub last_hash: String,
}

/// What an execution did.
#[derive(Clone, Debug)]
pub struct Executed {
    /// State after the command.
    pub dossier: Dossier,
    /// Events appended (empty for an idempotent repeat).
    pub events: Vec<Event>,
    /// Whether this was a repeat of an earlier request with the same idempotency key.
    pub replayed: bool,
}

/// An event as stored, with its place in the hash chain.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredEvent {
    /// 1-based position in the dossier's log.
    pub seq: u64,
    /// The event.
    pub event: Event,
    /// Hash of the previous event ("" for the first).
    pub prev_hash: String,
    /// This event's hash.
    pub hash: String,
}

/// Filters for dossier lists. Authorization narrows these before they reach the store.
#[derive(Clone, Debug, Default)]
pub struct DossierQuery {
    /// Only dossiers owned by this citizen.
    pub owner: Option<Uuid>,
    /// Only dossiers this agency is involved in (receiving, competent or holding now).
    pub agency: Option<AgencyCode>,
    /// Only dossiers held now by this agency (an inbox).
    pub current_agency: Option<AgencyCode>,
    /// Only this status.
    pub status: Option<Status>,
    /// Page size (capped at 200).
    pub limit: u32,
    /// Cursor: dossiers submitted strictly before this (submitted_at, id).
    pub before: Option<(DateTime<Utc>, Uuid)>,
}

/// A row of a dossier list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DossierSummary {
    /// Id.
    pub id: Uuid,
    /// Code, once received.
    pub code: Option<String>,
    /// Procedure code.
    pub procedure_code: String,
    /// Procedure name.
    pub procedure_name: String,
    /// Applicant name.
    pub applicant_name: String,
    /// Status.
    pub status: Status,
    /// National status code.
    pub national_status: u8,
    /// Receiving agency.
    pub receiving_agency: String,
    /// Agency holding it.
    pub current_agency: String,
    /// Submitted.
    #[serde(serialize_with = "crate::json_time::instant")]
    pub submitted_at: DateTime<Utc>,
    /// Appointment.
    #[serde(serialize_with = "crate::json_time::instant_opt")]
    pub due_at: Option<DateTime<Utc>>,
    /// Version (for optimistic concurrency).
    pub version: u64,
}

/// An administrative unit (province or commune).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdminUnit {
    /// Official code (2 or 5 digits).
    pub code: String,
    /// Short name, e.g. "Xuân Hương - Đà Lạt".
    pub name: String,
    /// Full name, e.g. "Phường Xuân Hương - Đà Lạt".
    pub full_name: String,
    /// Province code for communes.
    pub province_code: Option<String>,
}

/// A user account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Id.
    pub id: Uuid,
    /// Login name (unique).
    pub username: String,
    /// Argon2 PHC string.
    pub password_hash: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Agency of staff.
    pub agency: Option<AgencyCode>,
    /// Disabled accounts cannot sign in; their sessions and tokens do not work.
    #[serde(default)]
    pub disabled: bool,
}

/// An API token (bearer), stored as a hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Owner.
    pub user_id: Uuid,
    /// Issued.
    pub created_at: DateTime<Utc>,
    /// Expires.
    pub expires_at: DateTime<Utc>,
}

/// A procedure version with the agencies where it can be submitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcedureRecord {
    /// The version.
    pub version: ProcedureVersion,
    /// Agencies whose desks receive it.
    pub receiving_agencies: Vec<AgencyCode>,
}

/// A recorded change to the procedure catalogue: who did what to which version, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProcedureChange {
    /// Procedure code.
    pub code: String,
    /// Version changed.
    pub version: u32,
    /// When.
    pub at: DateTime<Utc>,
    /// Who: a user name, or `import:FILE` for an import.
    pub actor: String,
    /// What: `import_added`, `import_changed`, `draft_created`, `draft_edited`, `published`,
    /// `agencies_assigned`.
    pub action: String,
    /// Free text (the import's file and line, the fields changed, ...).
    pub note: String,
}

/// The rows of the `procedures` table (alias `p`) a published-procedure list reads.
pub(crate) const PUBLISHED_ROWS: &str = "p.status = 'published'";

/// The rows of procedures never published: drafts of a code with no published or superseded
/// version (e.g. imported without a readable time limit).
pub(crate) const UNPUBLISHED_ROWS: &str = "p.status = 'draft' AND NOT EXISTS \
    (SELECT 1 FROM procedures o WHERE o.code = p.code AND o.status <> 'draft')";

/// Filters for procedure lists.
#[derive(Clone, Debug, Default)]
pub struct ProcedureQuery {
    /// Folded words that must all appear in the folded name or code.
    pub text: Option<String>,
    /// Only those receivable at this agency.
    pub agency: Option<AgencyCode>,
    /// Page size (capped at 200).
    pub limit: u32,
    /// Offset.
    pub offset: u32,
}

/// A row of a procedure list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProcedureSummary {
    /// Code.
    pub code: String,
    /// Version.
    pub version: u32,
    /// Name.
    pub name: String,
    /// Field.
    pub field: String,
    /// Online level.
    pub online_level: motcua_domain::procedure::OnlineLevel,
    /// Time limit, e.g. "5 ngày làm việc".
    pub time_limit: String,
    /// Fee.
    pub fee_vnd: i64,
}

/// Which counters to sum.
#[derive(Clone, Debug, Default)]
pub struct CounterQuery {
    /// Only this agency.
    pub agency: Option<AgencyCode>,
    /// First day (inclusive).
    pub from: Option<NaiveDate>,
    /// Last day (inclusive).
    pub to: Option<NaiveDate>,
}

/// Counter rows dated `from..=to` whose metric starts with `metric_prefix`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterSpan {
    /// First date.
    pub from: NaiveDate,
    /// Last date.
    pub to: NaiveDate,
    /// Metric prefix, e.g. `m|` for monthly statistics rows.
    pub metric_prefix: String,
}

impl CounterSpan {
    /// The smallest string above every metric with the prefix (its last byte plus one).
    pub(crate) fn metric_end(&self) -> String {
        let mut b = self.metric_prefix.clone().into_bytes();
        if let Some(last) = b.last_mut() {
            *last += 1;
        }
        String::from_utf8(b).unwrap_or_default()
    }
}

/// What a counter rebuild did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RebuildReport {
    /// Dossiers replayed.
    pub dossiers: u64,
    /// Events replayed.
    pub events: u64,
    /// Counter rows the logs imply.
    pub counter_rows: u64,
    /// Counter keys whose stored value differed and were written back.
    pub changed_rows: u64,
    /// Seconds reading the logs and folding them (the workers fold while the logs are read).
    pub fold_secs: f64,
    /// Seconds merging the workers' sums.
    pub merge_secs: f64,
    /// Seconds bringing the stored counters to the folded values.
    pub write_secs: f64,
}

/// A summed counter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CounterRow {
    /// Agency.
    pub agency: String,
    /// Metric.
    pub metric: String,
    /// Sum.
    pub value: i64,
}

/// A pending outbox message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxRow {
    /// Id.
    pub id: i64,
    /// Topic.
    pub topic: String,
    /// Idempotency key.
    pub key: String,
    /// Body.
    pub payload: serde_json::Value,
    /// Attempts so far.
    pub attempts: i32,
}

/// Result of `verify`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Dossiers checked.
    pub dossiers: u64,
    /// Events checked.
    pub events: u64,
    /// Problems found, one line each.
    pub problems: Vec<String>,
}

/// The list row of a procedure record.
pub(crate) fn summary(p: &ProcedureRecord) -> ProcedureSummary {
    let v = &p.version;
    ProcedureSummary {
        code: v.code.to_string(),
        version: v.version,
        name: v.name.clone(),
        field: v.field.clone(),
        online_level: v.online_level,
        time_limit: v.time_limit.label_vi(),
        fee_vnd: v.fee_vnd,
    }
}

/// Reports every (agency, day, metric) where the counters implied by the logs and the stored
/// counters differ.
pub(crate) fn compare_counters(
    implied: &std::collections::BTreeMap<(String, String, String), i64>,
    stored: &std::collections::BTreeMap<(String, String, String), i64>,
    problems: &mut Vec<String>,
) {
    for (k, v) in implied {
        let s = stored.get(k).copied().unwrap_or(0);
        if s != *v {
            problems.push(crate::rebuild::counter_problem(&k.0, &k.1, &k.2, s, *v));
        }
    }
    for (k, s) in stored {
        if !implied.contains_key(k) {
            problems.push(crate::rebuild::counter_problem(&k.0, &k.1, &k.2, *s, 0));
        }
    }
}

/// What anyone holding a receipt may see of a dossier, read from the list columns (no personal
/// data, no JSON decoding: this is the hot public lookup).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicStatusRow {
    /// Dossier code.
    pub code: String,
    /// Procedure name.
    pub procedure_name: String,
    /// Status.
    pub status: Status,
    /// Received.
    pub received_at: Option<DateTime<Utc>>,
    /// Appointment.
    pub due_at: Option<DateTime<Utc>>,
    /// End of processing.
    pub finished_at: Option<DateTime<Utc>>,
}
