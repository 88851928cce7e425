//! The national public service portal (Cổng Dịch vụ công quốc gia, DVCQG): pushes each dossier
//! and its process steps as they change (topic `dvcqg.sync`). Protocol (§7.1 of the domain
//! notes): JSON POST of a list; the answer is `{error_code, message}` with `"0"` for success;
//! a create answered "đã tồn tại" (already exists) is sent again to the update endpoint; steps
//! go in chunks (10 by default). The endpoint paths are not public: they are settings.

pub mod payload;

use crate::target::{Delivery, DeliveryError, Target};
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

    async fn sync(&self, m: &OutboxEntry) -> Result<(), DeliveryError> {
        let message = payload::as_portal_knows_it(&m.payload);
        let dossier = payload::dossier(&message).map_err(|u| DeliveryError::Rejected(u.0))?;
        let steps = payload::steps(&message).map_err(|u| DeliveryError::Rejected(u.0))?;
        let body = Value::Array(vec![dossier]);
        // A dossier filed on the portal is there already: never created again, only updated.
        let filed_there = payload::portal_code(&m.payload).is_some();
        if filed_there {
            if let Answer::Exists = self.post(&self.settings.update_path, &m.key, &body).await? {
                return Err(DeliveryError::Rejected(
                    "the update endpoint answered \"already exists\"".into(),
                ));
            }
        } else if let Answer::Exists = self.post(&self.settings.create_path, &m.key, &body).await? {
            match self.post(&self.settings.update_path, &m.key, &body).await? {
                Answer::Ok => {}
                Answer::Exists => {
                    return Err(DeliveryError::Rejected(
                        "the update endpoint answered \"already exists\"".into(),
                    ));
                }
            }
        }
        for (i, chunk) in steps.chunks(self.settings.step_chunk.max(1)).enumerate() {
            let key = format!("{}/steps/{i}", m.key);
            match self
                .post(
                    &self.settings.steps_path,
                    &key,
                    &Value::Array(chunk.to_vec()),
                )
                .await?
            {
                Answer::Ok => {}
                Answer::Exists => {} // the portal has these steps already
            }
        }
        Ok(())
    }
}

impl Target for Dvcqg {
    fn topic(&self) -> &str {
        TOPIC
    }

    fn deliver<'a>(&'a self, message: &'a OutboxEntry) -> Delivery<'a> {
        Box::pin(self.sync(message))
    }
}
