//! Sign-in safety and the audit trail: the types the store keeps for login lockout and for the
//! record of who looked at or did what (views of dossiers by staff, sign-ins, lookups).

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// One line of the audit trail, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// The user, when known (a failed sign-in of an unknown name has none).
    pub user_id: Option<Uuid>,
    /// Login name as typed (sign-ins) or the person's name (other lines).
    pub username: String,
    /// What happened: `view`, `login`, `login_failed`, `login_locked`, `logout`, ...
    pub action: String,
    /// The dossier concerned, if any.
    pub dossier_id: Option<Uuid>,
    /// Free detail (never a password).
    pub detail: String,
}

/// A stored line of the audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditRecord {
    /// Sequence (increasing).
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// The user, when known.
    pub user_id: Option<Uuid>,
    /// Login name.
    pub username: String,
    /// What happened.
    pub action: String,
    /// The dossier concerned, if any.
    pub dossier_id: Option<Uuid>,
    /// Detail.
    pub detail: String,
}

/// Which part of the audit trail to read, newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only lines about this dossier.
    pub dossier_id: Option<Uuid>,
    /// Only lines by this user.
    pub user_id: Option<Uuid>,
    /// Only lines older than this id (keyset pagination).
    pub before: Option<i64>,
    /// Page size (capped at 500).
    pub limit: u32,
}

/// What the store answers after a failed sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginFailure {
    /// Failures counted since the last success or lock.
    pub failures: u32,
    /// Set when this failure locked the account.
    pub locked_until: Option<DateTime<Utc>>,
}

/// A password reset asked for by e-mail: the secret token only as its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordReset {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Whose password.
    pub user_id: Uuid,
    /// Asked at.
    pub created_at: DateTime<Utc>,
    /// Usable until.
    pub expires_at: DateTime<Utc>,
}
