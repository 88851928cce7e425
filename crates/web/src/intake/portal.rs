//! The portal's side of intake over HTTP: the list of new online dossiers, file downloads and
//! the acknowledgement. Wire format (paths and names are settings; **not confirmed** by our
//! sources, after the liên thông calls `LayDanhSachHoSo` / `CapNhatDaNhanHoSo`):
//!
//! ```text
//! POST {base_url}{list_path}        {}                      -> {"error_code": "0", "data": [HoSo, ...]}
//! GET  {DuongDanTaiTepTin}                                  -> the file's bytes
//! POST {base_url}{ack_path}         [{"HoSoId", "MaHoSo", "DaTiepNhan": true|false,
//!                                     "MaHoSoDiaPhuong", "LyDo"}] -> {"error_code": "0"}
//! ```

use super::IntakeSettings;
use bytes::Bytes;
use serde_json::{Value, json};
use std::time::Duration;

/// Why a file could not be fetched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetch {
    /// Unreachable, timed out, an HTTP error: try again on a later poll.
    Again(String),
    /// Can never be taken (too large).
    Never(String),
}

/// What the portal is told about one dossier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ack {
    /// The portal's id.
    pub id: String,
    /// The portal's code.
    pub code: String,
    /// Taken (true) or refused.
    pub accepted: bool,
    /// Our reference: the dossier's id here (its code comes at reception, with the sync).
    pub local: String,
    /// Why it was refused (empty when taken).
    pub reason: String,
}

/// The portal, as intake sees it.
pub struct Portal {
    settings: IntakeSettings,
    http: reqwest::Client,
}

fn short(b: &[u8]) -> String {
    String::from_utf8_lossy(b).chars().take(120).collect()
}

impl Portal {
    /// A client with its own timeouts.
    pub fn new(settings: IntakeSettings) -> Result<Portal, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.request_timeout_ms.max(1)))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Portal { settings, http })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.settings.base_url.trim_end_matches('/'), path)
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value, String> {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(t) = &self.settings.token {
            req = req.bearer_auth(t);
        }
        // reqwest's errors carry the URL, never the token (a header).
        let resp = req
            .send()
            .await
            .map_err(|e| format!("portal unreachable: {e}"))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| format!("reading the portal's answer: {e}"))?;
        if !status.is_success() {
            return Err(format!("portal answered HTTP {status}: {}", short(&bytes)));
        }
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|_| format!("malformed answer from the portal: {:?}", short(&bytes)))?;
        let code = match &v["error_code"] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => {
                return Err(format!(
                    "malformed answer from the portal (no error_code): {}",
                    short(v.to_string().as_bytes())
                ));
            }
        };
        if code != "0" {
            return Err(format!(
                "portal refused ({code}): {}",
                v["message"].as_str().unwrap_or_default()
            ));
        }
        Ok(v)
    }

    /// The online dossiers waiting for us. A malformed answer is an error: nothing is taken.
    pub async fn list(&self) -> Result<Vec<Value>, String> {
        let v = self.post(&self.settings.list_path, &json!({})).await?;
        match v.get("data") {
            Some(Value::Array(items)) => Ok(items.clone()),
            _ => Err("malformed list from the portal: no `data` list".into()),
        }
    }

    /// Downloads one file, at most `max_file_bytes`: a larger one is refused for good, any
    /// other failure may pass.
    pub async fn download(&self, url: &str) -> Result<Bytes, Fetch> {
        let mut req = self.http.get(url);
        if let Some(t) = &self.settings.token
            && url.starts_with(&self.settings.base_url)
        {
            req = req.bearer_auth(t);
        }
        let mut resp = req
            .send()
            .await
            .map_err(|e| Fetch::Again(format!("downloading {url}: {e}")))?;
        if !resp.status().is_success() {
            return Err(Fetch::Again(format!(
                "downloading {url}: HTTP {}",
                resp.status()
            )));
        }
        let limit = self.settings.max_file_bytes;
        let too_large = || Fetch::Never(format!("tệp {url} lớn hơn {limit} byte"));
        if resp.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut out = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| Fetch::Again(format!("downloading {url}: {e}")))?
        {
            if (out.len() + chunk.len()) as u64 > limit {
                return Err(too_large());
            }
            out.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(out))
    }

    /// Tells the portal we took (or refused) a dossier.
    pub async fn ack(&self, a: &Ack) -> Result<(), String> {
        let body = json!([{
            "HoSoId": a.id,
            "MaHoSo": a.code,
            "DaTiepNhan": a.accepted,
            "MaHoSoDiaPhuong": a.local,
            "LyDo": a.reason,
        }]);
        self.post(&self.settings.ack_path, &body).await.map(|_| ())
    }
}
