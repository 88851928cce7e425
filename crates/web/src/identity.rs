//! The identity adapter: who a personal ID (số định danh cá nhân) belongs to, for the desk officer
//! who receives a dossier at the counter and to prefill a citizen's own e-form (`prefill.rs`).
//!
//! [`IdentityProvider`] is the seam where identity sources plug in. [`LocalIdentity`] (the
//! default) answers from the most recent applicant record this system holds for that personal
//! ID (name, phone, e-mail, address as last declared on a dossier); it knows nobody it has not
//! seen. [`crate::population::PopulationDb`] asks the national population database (Cơ sở dữ
//! liệu quốc gia về dân cư) through the province's data-sharing platform. Either way the answer
//! only pre-fills the screen: the officer checks the card.
//!
//! Looking somebody up is processing personal data, so [`lookup_audited`] writes every lookup to
//! the audit trail (action `identity_lookup`: who looked up whose ID, for what purpose, from which
//! source, and whether it was found) before answering; if the trail cannot be written, the answer
//! is withheld.

use crate::AppState;
use crate::error::ApiError;
use chrono::Utc;
use motcua_domain::agency::Actor;
use motcua_domain::codes::PersonalId;
use motcua_store::Store;
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;

/// A boxed future (the trait stays object-safe: `&dyn IdentityProvider`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What an identity source knows about a person.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// Full name.
    pub name: String,
    /// Phone number.
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Date of birth (`yyyy-mm-dd`), when the source knows it.
    pub date_of_birth: Option<String>,
}

/// Why a lookup is made (recorded in the audit trail, and sent to a national provider, which
/// requires a purpose for every query).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Receiving a dossier at the one-stop counter.
    CounterReception,
    /// Filling a citizen's own e-form with what is known of them (their own personal ID).
    OnlineFormPrefill,
}

impl Purpose {
    /// Machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::CounterReception => "counter_reception",
            Purpose::OnlineFormPrefill => "online_form_prefill",
        }
    }
}

/// A source of identities.
pub trait IdentityProvider: Send + Sync {
    /// Short name of the source, for the audit trail (`local`, `csdlqgdc`, ...).
    fn source(&self) -> &'static str;

    /// Who `personal_id` is, if the source knows; `actor` is the officer asking, `purpose` why.
    fn lookup<'a>(
        &'a self,
        personal_id: &'a PersonalId,
        purpose: Purpose,
        actor: &'a Actor,
    ) -> BoxFuture<'a, Result<Option<Identity>, ApiError>>;
}

/// The local provider: the most recent applicant record stored with the personal ID.
pub struct LocalIdentity {
    store: Store,
}

impl LocalIdentity {
    /// Over a store.
    pub fn new(store: Store) -> LocalIdentity {
        LocalIdentity { store }
    }
}

impl IdentityProvider for LocalIdentity {
    fn source(&self) -> &'static str {
        "local"
    }

    fn lookup<'a>(
        &'a self,
        personal_id: &'a PersonalId,
        _purpose: Purpose,
        _actor: &'a Actor,
    ) -> BoxFuture<'a, Result<Option<Identity>, ApiError>> {
        Box::pin(async move {
            Ok(self
                .store
                .latest_applicant(personal_id.as_str())
                .await?
                .map(|a| Identity {
                    name: a.name,
                    phone: a.phone,
                    email: a.email,
                    address: a.address,
                    date_of_birth: None,
                }))
        })
    }
}

/// The provider this deployment uses: the national population database when configured
/// (`[identity] url`), else the local one.
pub fn provider(s: &AppState) -> std::sync::Arc<dyn IdentityProvider> {
    s.identity.clone()
}

/// Looks `personal_id` up through `provider` and writes the lookup to the audit trail; answers
/// only once the trail holds it (an error otherwise, the answer withheld).
pub async fn lookup_audited(
    s: &AppState,
    provider: &dyn IdentityProvider,
    personal_id: &PersonalId,
    purpose: Purpose,
    actor: &Actor,
) -> Result<Option<Identity>, ApiError> {
    let entry = |detail: String| motcua_store::AuditEntry {
        at: Utc::now(),
        user_id: Some(actor.user_id),
        username: actor.name.clone(),
        action: "identity_lookup".into(),
        dossier_id: None,
        detail,
    };
    let found = provider.lookup(personal_id, purpose, actor).await?;
    s.store
        .append_audit(entry(format!(
            "personal_id={} purpose={} source={} found={}",
            personal_id.as_str(),
            purpose.as_str(),
            provider.source(),
            if found.is_some() { "yes" } else { "no" }
        )))
        .await?;
    metrics::counter!("motcua_identity_lookups_total", "found" => if found.is_some() { "yes" } else { "no" })
        .increment(1);
    Ok(found)
}
