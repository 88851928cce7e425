//! Drafts of e-forms (bản nháp): what a signed-in citizen typed into a procedure's form and the
//! files they attached, saved to come back to later. One draft per citizen, procedure and
//! procedure version (saving again replaces it); a submission deletes the drafts of its
//! procedure. Migration 17.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Largest draft kept (the values as JSON text), bytes: well above any real declaration.
pub const MAX_DRAFT_BYTES: usize = 256 * 1024;

/// A saved draft.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    /// Id (stays the same when the draft is saved again).
    pub id: Uuid,
    /// The citizen who owns it.
    pub owner: Uuid,
    /// Procedure code.
    pub procedure_code: String,
    /// Version of the procedure the form belonged to when saved.
    pub procedure_version: u32,
    /// Procedure name when saved (the list shows it).
    pub procedure_name: String,
    /// The form values as the page reads them (a JSON object; `_uploads` holds file keys).
    pub values: serde_json::Value,
    /// First saved.
    pub created_at: DateTime<Utc>,
    /// Last saved.
    pub updated_at: DateTime<Utc>,
}
