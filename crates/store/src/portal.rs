//! Dossiers whose sync to the national public service portal was acknowledged (Decision 766
//! indicator 1.4). An acknowledgement is an outbox delivery, not a dossier event, so it is not a
//! statistics counter: the backends write one `portal_synced` row per dossier in the transaction
//! that marks the dossier's first `dvcqg.sync` message delivered (messages of one dossier are
//! delivered in order, so the first is the one its reception wrote), keyed by the dossier's
//! competent agency and the local day it was received. [`crate::Store::verify`] checks the rows
//! against the dossiers and the outbox.

use crate::{Result, Store};
use chrono::NaiveDate;
use motcua_domain::codes::AgencyCode;
use std::collections::BTreeMap;

/// The outbox topic of the national portal's sync.
pub const TOPIC: &str = "dvcqg.sync";

/// The agency and local day of reception a `portal_synced` row should carry for a dossier, from
/// its read-model row (competent agency, reception time); `None` when it was never received.
pub(crate) fn key_of(
    agency: String,
    received_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Option<(String, NaiveDate)> {
    received_at.map(|t| (agency, crate::outbox::local_day(t)))
}

/// A stored `portal_synced` row (dossier, agency, day) with what its dossier says (`None`: no
/// received dossier has that code).
pub(crate) type CheckedRow = (String, String, NaiveDate, Option<(String, NaiveDate)>);

/// Problems of the `portal_synced` rows: `rows` as stored with what the dossiers say; `missing`
/// the dossiers with a delivered sync message still in the outbox but no row.
pub(crate) fn problems(rows: Vec<CheckedRow>, missing: Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    for (dossier, agency, day, want) in rows {
        match want {
            None => out.push(format!(
                "counter portal_synced {dossier}: no received dossier has this code"
            )),
            Some((a, d)) if a != agency || d != day => out.push(format!(
                "counter portal_synced {dossier}: stored {agency} {day}, the dossier says {a} {d}"
            )),
            Some(_) => {}
        }
    }
    for dossier in missing {
        out.push(format!(
            "counter portal_synced {dossier}: its sync was acknowledged (outbox) but it is not counted"
        ));
    }
    out
}

impl Store {
    /// Per agency of `agencies`: dossiers received on local days `from..=to` whose sync to the
    /// national portal was acknowledged (so far).
    pub async fn portal_synced(
        &self,
        agencies: &[AgencyCode],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<BTreeMap<AgencyCode, i64>> {
        let rows = match self {
            Store::Sqlite(s) => s.portal_synced(agencies, from, to).await?,
            Store::Postgres(s) => s.portal_synced(agencies, from, to).await?,
        };
        Ok(rows
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .filter_map(|(a, n)| Some((a.parse().ok()?, n)))
            .collect())
    }

    /// Checks the `portal_synced` rows against the dossiers and the outbox (see the module).
    pub async fn check_portal_synced(&self) -> Result<Vec<String>> {
        match self {
            Store::Sqlite(s) => s.check_portal_synced().await,
            Store::Postgres(s) => s.check_portal_synced().await,
        }
    }
}
