//! Intake from the national public service portal: online dossiers filed there are pulled
//! (a poller in `motcua serve`, or `motcua dvcqg pull` once), checked, their files fetched and
//! stored like uploads (sniffed, content-addressed), and submitted through the same domain
//! path as our own online dossiers (channel online, origin `dvcqg` with the portal's code),
//! **exactly once**: the submission's idempotency key is derived from the portal's id and
//! written in the submission's transaction. Then the portal is told (acknowledgement). A lost
//! acknowledgement is repeated on the next poll, which finds the key and creates nothing.
//! Dossiers we cannot take are recorded (`inbound` table) with the reason for operators and,
//! where the setting says so, acknowledged as refused; a file that cannot be fetched is tried
//! again on later polls, up to `file_attempts`.
//!
//! Ownership: accounts here carry no verified personal ID yet, so such a dossier has no local
//! owner; the applicant follows it on the portal and through the public status lookup, and
//! hears of it by e-mail and SMS (docs/decisions/0027-portal-intake.md).

pub mod map;
pub mod portal;
mod take;

use crate::AppState;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

pub use portal::{Ack, Fetch, Portal};
pub use take::{INTAKE_USER, SOURCE};

/// `[integrations.dvcqg_intake]`: pulling online dossiers from the national portal.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntakeSettings {
    /// Run the poller in `motcua serve`.
    pub enabled: bool,
    /// The portal's base URL (empty: the one of `[integrations.dvcqg]`).
    pub base_url: String,
    /// Path of the list of new online dossiers (`LayDanhSachHoSo`-like; unconfirmed).
    pub list_path: String,
    /// Path of the acknowledgement (`CapNhatDaNhanHoSo`-like; unconfirmed).
    pub ack_path: String,
    /// Bearer token (empty: the portal's sync token). A secret: never logged.
    pub token: Option<String>,
    /// Pause between polls, seconds.
    pub poll_secs: u64,
    /// Timeout of one request (list, file, acknowledgement), milliseconds.
    pub request_timeout_ms: u64,
    /// Largest file taken, bytes.
    pub max_file_bytes: u64,
    /// Polls on which a dossier's files could not be fetched before it is refused.
    pub file_attempts: u32,
    /// Acknowledge refused dossiers as refused (`DaTiepNhan: false`); off: they are only
    /// recorded here and the portal keeps listing them.
    pub ack_refusals: bool,
    /// The portal's receiving unit (`MaDonViTiepNhan`) -> our agency code, where they differ.
    pub agencies: BTreeMap<String, String>,
}

impl Default for IntakeSettings {
    fn default() -> Self {
        IntakeSettings {
            enabled: false,
            base_url: String::new(),
            list_path: "/HoSo/LayDanhSachHoSo".into(),
            ack_path: "/HoSo/CapNhatDaNhanHoSo".into(),
            token: None,
            poll_secs: 60,
            request_timeout_ms: 10_000,
            max_file_bytes: crate::api::files::DEFAULT_MAX_BYTES,
            file_attempts: 5,
            ack_refusals: true,
            agencies: BTreeMap::new(),
        }
    }
}

impl std::fmt::Debug for IntakeSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntakeSettings")
            .field("enabled", &self.enabled)
            .field("base_url", &self.base_url)
            .field("list_path", &self.list_path)
            .field("ack_path", &self.ack_path)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("poll_secs", &self.poll_secs)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("max_file_bytes", &self.max_file_bytes)
            .field("file_attempts", &self.file_attempts)
            .field("ack_refusals", &self.ack_refusals)
            .field("agencies", &self.agencies)
            .finish()
    }
}

/// What one poll did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullReport {
    /// Items the portal listed (duplicates included).
    pub listed: u64,
    /// Dossiers submitted here by this poll.
    pub taken: u64,
    /// Dossiers taken earlier and listed again (acknowledged again, nothing created).
    pub again: u64,
    /// Dossiers refused (now or earlier).
    pub rejected: u64,
    /// Dossiers whose files could not be fetched this time (tried again later).
    pub failing: u64,
    /// Items without an id or a code (skipped).
    pub unidentified: u64,
    /// Acknowledgements that failed (the next poll repeats them).
    pub ack_failed: u64,
    /// The list could not be had or read, or our store failed: what went wrong.
    pub errors: Vec<String>,
}

impl PullReport {
    /// One line for logs and the command.
    pub fn summary(&self) -> String {
        format!(
            "listed {}, taken {}, already taken {}, refused {}, files failing {}, unidentified {}, acknowledgements failed {}, errors {}",
            self.listed,
            self.taken,
            self.again,
            self.rejected,
            self.failing,
            self.unidentified,
            self.ack_failed,
            self.errors.len()
        )
    }
}

/// Pulls once: lists, takes what is new, acknowledges. Never fails as a whole: what went
/// wrong is in the report (and nothing is half-stored: each dossier is one transaction).
pub async fn pull_once(s: &AppState, portal: &Portal, settings: &IntakeSettings) -> PullReport {
    let mut r = PullReport::default();
    let items = match portal.list().await {
        Ok(items) => items,
        Err(e) => {
            metrics::counter!("motcua_intake_poll_failures_total").increment(1);
            r.errors.push(e);
            return r;
        }
    };
    if let Err(e) = take::ensure_intake_user(s).await {
        r.errors.push(e);
        return r;
    }
    let mut seen = std::collections::HashSet::new();
    for item in &items {
        r.listed += 1;
        // The same dossier listed twice in one answer is taken (and acknowledged) once.
        let key = (item["HoSoId"].to_string(), item["MaHoSo"].to_string());
        if !seen.insert(key) {
            continue;
        }
        take::one(s, portal, settings, item, &mut r).await;
    }
    metrics::counter!("motcua_intake_taken_total").increment(r.taken);
    metrics::counter!("motcua_intake_rejected_total").increment(r.rejected);
    r
}

/// Runs [`pull_once`] every `poll_secs` until the task is aborted.
pub fn spawn_poller(
    s: AppState,
    settings: IntakeSettings,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let portal = Portal::new(settings.clone())?;
    Ok(tokio::spawn(async move {
        loop {
            let r = pull_once(&s, &portal, &settings).await;
            if r.listed > 0 || !r.errors.is_empty() {
                tracing::info!(target: "motcua::intake", "{}", r.summary());
            }
            for e in &r.errors {
                tracing::warn!(target: "motcua::intake", error = %e, "portal intake");
            }
            tokio::time::sleep(Duration::from_secs(settings.poll_secs.max(1))).await;
        }
    }))
}
