//! EMC (hệ thống giám sát, đo lường mức độ cung cấp và sử dụng dịch vụ số): each reception,
//! assignment, processing step and result of a dossier is reported with a `TrackingMCDT` call
//! (topic `emc.tracking`, derived in `motcua_domain::dossier`), §7.2 of the domain notes:
//!
//! ```text
//! POST {url}                    (default host: https://f-emc.ngsp.gov.vn/TrackingMCDT)
//! Content-Type: application/json
//! Idempotency-Key: {code}:{version}
//!
//! {"CodeProfile", "SiteId", "CodeTTHC", "NameTTHC", "MaHoSo", "Status" (1 reception,
//!  2 processing, 4 assignment, 3 result), "FormsReception", "FormsPayments", "Level",
//!  "IsFromDVCQG", "IsDVCBC", "Data", "User": "{\"ID_local\",\"ID_QG\",\"TYPE\",\"LOCATION\"}"}
//! ```
//!
//! The answer's format is **not confirmed**: any 2xx is accepted, unless `ok_field` names a
//! field of a JSON answer whose value must be one of `ok_values`. 408, 429, 5xx and no answer
//! are retried; other 4xx and a wrong `ok_field` make a dead letter.

use crate::target::{Delivery, DeliveryError, Target};
use motcua_store::OutboxEntry;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// The outbox topic this adapter receives.
pub const TOPIC: &str = motcua_domain::dossier::EMC_TOPIC;

/// `[integrations.emc]`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmcSettings {
    /// The `TrackingMCDT` URL; empty: off (messages wait in the outbox).
    pub url: String,
    /// This system's `SiteId` on EMC.
    pub site_id: String,
    /// Bearer token, if EMC wants one (`MOTCUA_EMC_TOKEN`; never logged).
    pub token: Option<String>,
    /// Timeout of one call, milliseconds.
    pub request_timeout_ms: u64,
    /// A field of the JSON answer that says success (empty: any 2xx is success).
    pub ok_field: String,
    /// Its values meaning success.
    pub ok_values: Vec<String>,
    /// A URL answering `?day=YYYY-MM-DD` with `{"accepted": N}`, for reconciliation.
    pub stats_url: String,
}

impl Default for EmcSettings {
    fn default() -> Self {
        EmcSettings {
            url: String::new(),
            site_id: String::new(),
            token: None,
            request_timeout_ms: 10_000,
            ok_field: String::new(),
            ok_values: vec!["0".into(), "200".into(), "true".into()],
            stats_url: String::new(),
        }
    }
}

impl std::fmt::Debug for EmcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmcSettings")
            .field("url", &self.url)
            .field("site_id", &self.site_id)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("ok_field", &self.ok_field)
            .field("ok_values", &self.ok_values)
            .field("stats_url", &self.stats_url)
            .finish()
    }
}

/// The body EMC receives for one message: ours plus `SiteId`, without our own fields.
pub fn body(payload: &Value, site_id: &str) -> Result<Value, String> {
    let Some(o) = payload.as_object() else {
        return Err("the message is not an object".into());
    };
    if o.get("CodeProfile")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err("no CodeProfile".into());
    }
    let mut o = o.clone();
    o.remove("ThoiDiem");
    o.insert("SiteId".into(), Value::String(site_id.to_string()));
    Ok(Value::Object(o))
}

/// The EMC adapter.
pub struct Emc {
    settings: EmcSettings,
    http: reqwest::Client,
}

impl Emc {
    /// An adapter with its own HTTP client.
    pub fn new(settings: EmcSettings) -> Result<Emc, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.request_timeout_ms.max(1)))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Emc { settings, http })
    }

    fn success(&self, bytes: &[u8]) -> Result<(), DeliveryError> {
        if self.settings.ok_field.is_empty() {
            return Ok(());
        }
        let v: Value = serde_json::from_slice(bytes)
            .map_err(|_| DeliveryError::Unavailable("malformed answer from EMC".into()))?;
        let got = match &v[&self.settings.ok_field] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        if self.settings.ok_values.contains(&got) {
            Ok(())
        } else {
            Err(DeliveryError::Rejected(format!(
                "EMC refused ({}={got}): {}",
                self.settings.ok_field,
                String::from_utf8_lossy(bytes)
                    .chars()
                    .take(200)
                    .collect::<String>()
            )))
        }
    }

    async fn track(&self, m: &OutboxEntry) -> Result<(), DeliveryError> {
        let body = body(&m.payload, &self.settings.site_id).map_err(DeliveryError::Rejected)?;
        let mut req = self
            .http
            .post(&self.settings.url)
            .header("Idempotency-Key", &m.key)
            .json(&body);
        if let Some(t) = &self.settings.token {
            req = req.bearer_auth(t);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| DeliveryError::Unavailable(format!("EMC unreachable: {e}")))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| DeliveryError::Unavailable(format!("reading EMC's answer: {e}")))?;
        if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
            return Err(DeliveryError::Unavailable(format!(
                "EMC answered HTTP {status}"
            )));
        }
        if !status.is_success() {
            return Err(DeliveryError::Rejected(format!(
                "EMC answered HTTP {status}: {}",
                String::from_utf8_lossy(&bytes)
                    .chars()
                    .take(200)
                    .collect::<String>()
            )));
        }
        self.success(&bytes)
    }
}

impl Target for Emc {
    fn topic(&self) -> &str {
        TOPIC
    }

    fn deliver<'a>(&'a self, message: &'a OutboxEntry) -> Delivery<'a> {
        Box::pin(self.track(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_body_gets_the_site_and_loses_our_own_fields() {
        let b = body(
            &json!({"CodeProfile": "000.00.01.H40-261202-0001", "Status": 1, "ThoiDiem": "x"}),
            "site-7",
        )
        .unwrap();
        assert_eq!(b["SiteId"], "site-7");
        assert!(b.get("ThoiDiem").is_none());
        assert!(body(&json!({"Status": 1}), "s").is_err());
        assert!(body(&json!([1]), "s").is_err());
    }

    #[test]
    fn success_by_field_when_configured() {
        let mut s = EmcSettings::default();
        let e = Emc::new(s.clone()).unwrap();
        assert!(e.success(b"<html>").is_ok(), "any 2xx without ok_field");
        s.ok_field = "status".into();
        let e = Emc::new(s).unwrap();
        assert!(e.success(br#"{"status": 200}"#).is_ok());
        assert!(matches!(
            e.success(br#"{"status": 500}"#),
            Err(DeliveryError::Rejected(_))
        ));
        assert!(matches!(
            e.success(b"garbage"),
            Err(DeliveryError::Unavailable(_))
        ));
        assert!(
            !format!(
                "{:?}",
                EmcSettings {
                    token: Some("s3cret".into()),
                    ..Default::default()
                }
            )
            .contains("s3cret")
        );
    }
}
