//! The PostgreSQL backend (being written by a teammate right now).
#![allow(missing_docs, dead_code, unused_variables)]
use crate::*;
use chrono::{DateTime, Utc};
use motcua_domain::agency::Agency;
use motcua_domain::codes::{AgencyCode, DossierCode};
use motcua_domain::dossier::Dossier;
use uuid::Uuid;

#[derive(Clone)]
pub struct PgStore;
fn no<T>() -> Result<T> { Err(StoreError::Backend("PostgreSQL backend not built yet".into())) }
impl PgStore {
    pub async fn open(url: &str) -> Result<PgStore> { no() }
    pub(crate) async fn health(&self) -> Result<()> { no() }
    pub(crate) async fn execute(&self, job: Execute) -> Result<Executed> { no() }
    pub(crate) async fn dossier(&self, id: Uuid) -> Result<Option<Dossier>> { no() }
    pub(crate) async fn dossier_by_code(&self, code: &DossierCode) -> Result<Option<Dossier>> { no() }
    pub(crate) async fn history(&self, id: Uuid) -> Result<Vec<StoredEvent>> { no() }
    pub(crate) async fn list_dossiers(&self, q: &DossierQuery) -> Result<Vec<DossierSummary>> { no() }
    pub(crate) async fn upsert_agencies(&self, agencies: Vec<Agency>) -> Result<()> { no() }
    pub(crate) async fn agencies(&self) -> Result<Vec<Agency>> { no() }
    pub(crate) async fn agency(&self, code: &AgencyCode) -> Result<Option<Agency>> { no() }
    pub(crate) async fn upsert_admin_units(&self, units: Vec<AdminUnit>) -> Result<()> { no() }
    pub(crate) async fn count_admin_units(&self) -> Result<u64> { no() }
    pub(crate) async fn create_user(&self, u: UserRecord) -> Result<()> { no() }
    pub(crate) async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>> { no() }
    pub(crate) async fn user(&self, id: Uuid) -> Result<Option<UserRecord>> { no() }
    pub(crate) async fn create_token(&self, t: TokenRecord) -> Result<()> { no() }
    pub(crate) async fn token_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<UserRecord>> { no() }
    pub(crate) async fn upsert_procedure(&self, p: ProcedureRecord) -> Result<()> { no() }
    pub(crate) async fn published_procedure(&self, code: &str) -> Result<Option<ProcedureRecord>> { no() }
    pub(crate) async fn list_procedures(&self, q: &ProcedureQuery) -> Result<Vec<ProcedureSummary>> { no() }
    pub(crate) async fn count_procedures(&self) -> Result<u64> { no() }
    pub(crate) async fn counters(&self, q: &CounterQuery) -> Result<Vec<CounterRow>> { no() }
    pub(crate) async fn outbox_pending(&self, limit: u32) -> Result<Vec<OutboxRow>> { no() }
    pub(crate) async fn verify(&self) -> Result<VerifyReport> { no() }
}
