//! The national public service portal (Cổng Dịch vụ công quốc gia, DVCQG): pushes each dossier
//! and its process steps as they change (topic `dvcqg.sync`). Protocol (§7.1 of the domain
//! notes): JSON POST of a list; the answer is `{error_code, message}` with `"0"` for success;
//! a create answered "đã tồn tại" (already exists) is sent again to the update endpoint; steps
//! go in chunks (10 by default). The endpoint paths are not public: they are settings.
//!
//! Several dossiers go in one request (`batch`, decision 0050): the portal's endpoints take
//! lists. Its answer is one for the whole list, so a list answered "already exists" or refused
//! is sent again one dossier at a time, which finds the dossier concerned. The idempotency
//! keys travel in one `Idempotency-Key` header, comma-separated, in the order of the items.

pub mod payload;

use crate::target::{BatchDelivery, Delivery, DeliveryError, Target};
use motcua_store::OutboxEntry;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// The outbox topic this adapter receives.
pub const TOPIC: &str = "dvcqg.sync";

/// Settings of the portal connection.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DvcqgSettings {
    /// Base URL, e.g. `https://.../api`; empty: the adapter is off.
    pub base_url: String,
    /// Path of the create endpoint (`URLThemMoi`; unconfirmed, configurable).
    pub create_path: String,
    /// Path of the update endpoint (`URLCapNhat`).
    pub update_path: String,
    /// Path of the process-step endpoint (`URLDongBoTienTrinh`).
    pub steps_path: String,
    /// Steps per request.
    pub step_chunk: usize,
    /// Most dossiers per request (1: one at a time). Whether the portal takes more than one
    /// is not confirmed (§7.1 says lists, without a limit): set 1 if it refuses them.
    pub batch: usize,
    /// Text of the portal's "already exists" answer (compared without diacritics or case).
    pub exists_marker: String,
    /// Bearer token, if the portal wants one. A secret: set it with `MOTCUA_DVCQG_TOKEN`
    /// rather than in a file; it is never logged or shown.
    pub token: Option<String>,
    /// Timeout of one HTTP request, in milliseconds.
    pub request_timeout_ms: u64,
    /// URL answering `?day=YYYY-MM-DD` with `{"accepted": N}` (the sandbox's statistics), for
    /// reconciliation; empty when the portal offers none.
    pub stats_url: String,
}

impl std::fmt::Debug for DvcqgSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DvcqgSettings")
            .field("base_url", &self.base_url)
            .field("create_path", &self.create_path)
            .field("update_path", &self.update_path)
            .field("steps_path", &self.steps_path)
            .field("step_chunk", &self.step_chunk)
            .field("batch", &self.batch)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("stats_url", &self.stats_url)
            .finish()
    }
}

impl Default for DvcqgSettings {
    fn default() -> Self {
        DvcqgSettings {
            base_url: String::new(),
            create_path: "/HoSo/ThemMoi".into(),
            update_path: "/HoSo/CapNhat".into(),
            steps_path: "/HoSo/DongBoTienTrinh".into(),
            step_chunk: 10,
            batch: 20,
            exists_marker: "đã tồn tại".into(),
            token: None,
            request_timeout_ms: 10_000,
            stats_url: String::new(),
        }
    }
}

/// Lowercase without Vietnamese diacritics (answers come with or without them).
fn fold(s: &str) -> String {
    motcua_domain::text::fold(s)
}

/// The portal adapter.
pub struct Dvcqg {
    settings: DvcqgSettings,
    http: reqwest::Client,
}

/// An update answered "already exists": the portal contradicts itself; no retry can help.
fn update_exists() -> DeliveryError {
    DeliveryError::Rejected("the update endpoint answered \"already exists\"".into())
}

/// How the portal answered one request.
enum Answer {
    Ok,
    Exists,
}

impl Dvcqg {
    /// An adapter with its own HTTP client (connection pool, timeouts).
    pub fn new(settings: DvcqgSettings) -> Result<Dvcqg, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.request_timeout_ms.max(1)))
            .connect_timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(256)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Dvcqg { settings, http })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.settings.base_url.trim_end_matches('/'), path)
    }

    async fn post(&self, path: &str, key: &str, body: &Value) -> Result<Answer, DeliveryError> {
        let mut req = self
            .http
            .post(self.url(path))
            .header("Idempotency-Key", key)
            .json(body);
        if let Some(t) = &self.settings.token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(|e| {
            // reqwest's message carries the URL, never the token (a header).
            DeliveryError::Unavailable(format!("portal unreachable: {e}"))
        })?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| DeliveryError::Unavailable(format!("reading the answer: {e}")))?;
        if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
            return Err(DeliveryError::Unavailable(format!(
                "portal answered HTTP {status}"
            )));
        }
        if !status.is_success() {
            return Err(DeliveryError::Rejected(format!(
                "portal answered HTTP {status}: {}",
                String::from_utf8_lossy(&bytes)
                    .chars()
                    .take(200)
                    .collect::<String>()
            )));
        }
        let v: Value = serde_json::from_slice(&bytes).map_err(|_| {
            DeliveryError::Unavailable(format!(
                "malformed answer from the portal: {:?}",
                String::from_utf8_lossy(&bytes)
                    .chars()
                    .take(100)
                    .collect::<String>()
            ))
        })?;
        let code = match &v["error_code"] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => {
                return Err(DeliveryError::Unavailable(format!(
                    "malformed answer from the portal (no error_code): {v}"
                )));
            }
        };
        let message = v["message"].as_str().unwrap_or_default();
        if code == "0" {
            Ok(Answer::Ok)
        } else if fold(message).contains(&fold(&self.settings.exists_marker)) {
            Ok(Answer::Exists)
        } else {
            Err(DeliveryError::Rejected(format!(
                "portal refused ({code}): {message}"
            )))
        }
    }

    /// Sends one dossier: a first message is created (updated when the portal answers that it
    /// has it); a later one, or one filed on the portal (never created again), is updated.
    async fn send_dossier(&self, p: &Prepared<'_>) -> Result<(), DeliveryError> {
        let body = Value::Array(vec![p.dossier.clone()]);
        let key = p.message.key.as_str();
        if p.known_there && !p.filed_there {
            // Sent before: an update. Refused (the portal lost it?), a create heals it unless
            // the portal has it, when the update's refusal stands.
            return match self.post(&self.settings.update_path, key, &body).await {
                Ok(Answer::Ok) => Ok(()),
                Ok(Answer::Exists) => Err(update_exists()),
                Err(DeliveryError::Rejected(refused)) => {
                    match self.post(&self.settings.create_path, key, &body).await? {
                        Answer::Ok => Ok(()),
                        Answer::Exists => Err(DeliveryError::Rejected(refused)),
                    }
                }
                Err(e) => Err(e),
            };
        }
        if p.filed_there {
            if let Answer::Exists = self.post(&self.settings.update_path, key, &body).await? {
                return Err(update_exists());
            }
        } else if let Answer::Exists = self.post(&self.settings.create_path, key, &body).await?
            && let Answer::Exists = self.post(&self.settings.update_path, key, &body).await?
        {
            return Err(update_exists());
        }
        Ok(())
    }

    /// Sends `items` (steps with their keys) in chunks of `step_chunk`, in order.
    async fn send_steps(&self, items: &[(String, Value)]) -> Result<(), DeliveryError> {
        for chunk in items.chunks(self.settings.step_chunk.max(1)) {
            let keys = chunk.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>();
            let body = Value::Array(chunk.iter().map(|(_, s)| s.clone()).collect());
            // "Already exists": the portal has these steps already.
            self.post(&self.settings.steps_path, &keys.join(", "), &body)
                .await?;
        }
        Ok(())
    }

    async fn sync(&self, m: &OutboxEntry) -> Result<(), DeliveryError> {
        let p = Prepared::new(m)?;
        self.send_dossier(&p).await?;
        self.send_steps(&p.steps).await
    }

    /// Sends the dossiers of `ms` in lists (creates of first messages, then updates of the
    /// dossiers the portal has: sent before, or filed there), then their steps packed into
    /// chunks, whole messages where they fit; a list the portal refuses or answers "already
    /// exists" goes again one dossier at a time.
    async fn sync_batch(&self, ms: &[OutboxEntry]) -> Vec<Result<(), DeliveryError>> {
        let mut out: Vec<Option<Result<(), DeliveryError>>> = ms.iter().map(|_| None).collect();
        let mut creates = Vec::new();
        let mut updates = Vec::new();
        for (i, m) in ms.iter().enumerate() {
            match Prepared::new(m) {
                Ok(p) if p.filed_there || p.known_there => updates.push((i, p)),
                Ok(p) => creates.push((i, p)),
                Err(e) => out[i] = Some(Err(e)),
            }
        }
        // Dossiers the portal took, whose steps go next.
        let mut sent: Vec<(usize, Prepared)> = Vec::new();
        for (group, path) in [
            (creates, &self.settings.create_path),
            (updates, &self.settings.update_path),
        ] {
            let answer = match group.len() {
                0 => continue,
                1 => None,
                _ => {
                    let keys = group
                        .iter()
                        .map(|(_, p)| p.message.key.as_str())
                        .collect::<Vec<_>>();
                    let body = Value::Array(group.iter().map(|(_, p)| p.dossier.clone()).collect());
                    Some(self.post(path, &keys.join(", "), &body).await)
                }
            };
            match answer {
                Some(Ok(Answer::Ok)) => sent.extend(group),
                Some(Err(DeliveryError::Unavailable(e))) => {
                    for (i, _) in group {
                        out[i] = Some(Err(DeliveryError::Unavailable(e.clone())));
                    }
                }
                // One at a time: which one exists, or which one the portal refuses.
                None | Some(Ok(Answer::Exists)) | Some(Err(DeliveryError::Rejected(_))) => {
                    for (i, p) in group {
                        match self.send_dossier(&p).await {
                            Ok(()) => sent.push((i, p)),
                            Err(e) => out[i] = Some(Err(e)),
                        }
                    }
                }
            }
        }
        sent.sort_by_key(|(i, _)| *i);
        // Steps: whole messages packed into chunks; a message with more steps than a chunk
        // holds goes alone, in several.
        let chunk = self.settings.step_chunk.max(1);
        let mut packs: Vec<Vec<usize>> = Vec::new();
        let mut filled = 0;
        for (n, (_, p)) in sent.iter().enumerate() {
            let len = p.steps.len();
            if len == 0 {
                continue;
            }
            match packs.last_mut() {
                Some(pack) if filled + len <= chunk => pack.push(n),
                _ => {
                    packs.push(vec![n]);
                    filled = 0;
                }
            }
            filled += len;
        }
        let mut down: Option<String> = None;
        for pack in packs {
            if let Some(e) = &down {
                for n in pack {
                    out[sent[n].0] = Some(Err(DeliveryError::Unavailable(e.clone())));
                }
                continue;
            }
            let result = if let [n] = pack[..] {
                self.send_steps(&sent[n].1.steps).await
            } else {
                let items: Vec<(String, Value)> = pack
                    .iter()
                    .flat_map(|&n| sent[n].1.steps.iter().cloned())
                    .collect();
                self.send_steps(&items).await
            };
            match result {
                Ok(()) => {}
                Err(DeliveryError::Unavailable(e)) => {
                    for &n in &pack {
                        out[sent[n].0] = Some(Err(DeliveryError::Unavailable(e.clone())));
                    }
                    down = Some(e);
                }
                Err(DeliveryError::Rejected(e)) if pack.len() == 1 => {
                    out[sent[pack[0]].0] = Some(Err(DeliveryError::Rejected(e)));
                }
                // One message at a time: which one the portal refuses.
                Err(DeliveryError::Rejected(_)) => {
                    for n in pack {
                        if let Err(e) = self.send_steps(&sent[n].1.steps).await {
                            out[sent[n].0] = Some(Err(e));
                        }
                    }
                }
            }
        }
        out.into_iter().map(|o| o.unwrap_or(Ok(()))).collect()
    }
}

/// One message made into the portal's payloads.
struct Prepared<'a> {
    message: &'a OutboxEntry,
    /// The dossier payload.
    dossier: Value,
    /// Its steps, each with its idempotency key (`{message key}/steps/{n}`).
    steps: Vec<(String, Value)>,
    /// Filed on the portal: only ever updated there.
    filed_there: bool,
    /// Not the dossier's first message to the portal: it has the dossier (an update).
    known_there: bool,
}

impl<'a> Prepared<'a> {
    fn new(m: &'a OutboxEntry) -> Result<Prepared<'a>, DeliveryError> {
        let message = payload::as_portal_knows_it(&m.payload);
        let dossier = payload::dossier(&message).map_err(|u| DeliveryError::Rejected(u.0))?;
        let steps = payload::steps(&message)
            .map_err(|u| DeliveryError::Rejected(u.0))?
            .into_iter()
            .enumerate()
            .map(|(n, s)| (format!("{}/steps/{n}", m.key), s))
            .collect();
        Ok(Prepared {
            message: m,
            dossier,
            steps,
            filed_there: payload::portal_code(&m.payload).is_some(),
            known_there: payload::known_there(&m.payload),
        })
    }
}

impl Target for Dvcqg {
    fn topic(&self) -> &str {
        TOPIC
    }

    fn deliver<'a>(&'a self, message: &'a OutboxEntry) -> Delivery<'a> {
        Box::pin(self.sync(message))
    }

    fn batch_limit(&self) -> usize {
        self.settings.batch.max(1)
    }

    fn deliver_batch<'a>(&'a self, messages: &'a [OutboxEntry]) -> BatchDelivery<'a> {
        Box::pin(self.sync_batch(messages))
    }
}

#[cfg(test)]
mod tests;
