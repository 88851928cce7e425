//! Zalo notifications to applicants (topic `zalo`) through Zalo's ZNS (Zalo Notification
//! Service) template API, as the provinces' systems send them (an Official Account with one
//! approved template per kind of notice).
//!
//! The protocol, as Zalo publishes it for `POST https://business.openapi.zalo.me/message/template`:
//! the header `access_token: {OA access token}`, `Content-Type: application/json`, and the body
//! `{"phone": "84912345678", "template_id": "...", "template_data": {...}, "tracking_id": "..."}`.
//! The answer is HTTP 200 with `{"error": 0, "message": "Success", "data": {"msg_id": "..."}}`,
//! or a non-zero `error` and a `message` saying why. Zalo does not document an idempotency
//! key: `tracking_id` carries our message key (`{dossier}:{version}`) so a repeat can be
//! recognised in its delivery reports.
//!
//! Which template a notice uses is a setting per event kind (`templates`, e.g. `received =
//! "<template id>"`), with `default_template` for the others; the template's parameters are
//! filled from the message's `params` (`ma_ho_so`, `ten_thu_tuc`, `trang_thai`, `ngay_hen`,
//! `ten_nguoi_nop`, `noi_dung`: see `motcua_domain::dossier::notice::params`). Zalo's numeric
//! error codes are not confirmed in our sources: those in `retry_errors` (default -1 "unknown
//! error", -32 "rate limit", -124 "access token invalid or expired") are tried again later;
//! any other non-zero `error` becomes a dead letter for an operator.
//!
//! The OA access token expires within a day. With `app_id`, `secret_key` and a first
//! `refresh_token` set, [`crate::zalo_oauth::TokenKeeper`] refreshes it before it expires (and
//! when ZNS answers -124), keeping the single-use refresh-token chain in the store; otherwise
//! the fixed `access_token` is sent and an operator keeps it current.

use crate::target::{Delivery, DeliveryError, Target};
use motcua_store::OutboxEntry;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The outbox topic Zalo notices travel on.
pub const TOPIC: &str = motcua_domain::dossier::ZALO_TOPIC;

/// Header carrying the OA access token.
pub const TOKEN_HEADER: &str = "access_token";

/// ZNS `error` for an invalid or expired access token.
pub const ACCESS_TOKEN_INVALID: i64 = -124;

/// Zalo's production endpoint.
pub const ZNS_URL: &str = "https://business.openapi.zalo.me/message/template";

/// One ZNS request body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZnsMessage {
    /// Phone number in international form without `+` (`84912345678`).
    pub phone: String,
    /// The approved template.
    pub template_id: String,
    /// The template's parameters.
    pub template_data: BTreeMap<String, String>,
    /// Our message key.
    pub tracking_id: String,
}

/// Settings of the ZNS client (`[integrations.zalo]`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ZaloSettings {
    /// The ZNS endpoint; empty: no Zalo notices are sent (they wait in the outbox).
    pub url: String,
    /// The Official Account's access token (set it with `MOTCUA_ZALO_ACCESS_TOKEN`; never
    /// logged).
    pub access_token: String,
    /// Template id per event kind (`submitted`, `received`, `supplement_requested`,
    /// `refused`, `payment_requested`, `result_ready`, `result_returned`, ...).
    pub templates: BTreeMap<String, String>,
    /// Template for event kinds without their own (empty: those are not sent, and become
    /// dead letters saying so).
    pub default_template: String,
    /// Non-zero `error` codes that mean "try again later".
    pub retry_errors: Vec<i64>,
    /// Timeout of one request, in milliseconds (0: 10 s).
    pub request_timeout_ms: u64,
    /// The Zalo app's id, for refreshing the access token (with `secret_key` and
    /// `refresh_token`; empty: `access_token` is used as it is).
    pub app_id: String,
    /// The app's secret key (set it with `MOTCUA_ZALO_SECRET_KEY`; never logged).
    pub secret_key: String,
    /// The first refresh token of the chain (set it with `MOTCUA_ZALO_REFRESH_TOKEN`; never
    /// logged). Later ones live in the store.
    pub refresh_token: String,
    /// Zalo's OAuth token endpoint.
    pub oauth_url: String,
}

impl Default for ZaloSettings {
    fn default() -> Self {
        ZaloSettings {
            url: String::new(),
            access_token: String::new(),
            templates: BTreeMap::new(),
            default_template: String::new(),
            retry_errors: vec![-1, -32, -124],
            request_timeout_ms: 0,
            app_id: String::new(),
            secret_key: String::new(),
            refresh_token: String::new(),
            oauth_url: crate::zalo_oauth::OAUTH_URL.into(),
        }
    }
}

impl std::fmt::Debug for ZaloSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZaloSettings")
            .field("url", &self.url)
            .field("access_token", &"[redacted]")
            .field("templates", &self.templates)
            .field("default_template", &self.default_template)
            .field("retry_errors", &self.retry_errors)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("app_id", &self.app_id)
            .field("secret_key", &"[redacted]")
            .field("refresh_token", &"[redacted]")
            .field("oauth_url", &self.oauth_url)
            .finish()
    }
}

/// A Vietnamese phone number as ZNS wants it: `84` and the national number without its
/// leading 0 (`0912345678`, `+84 912 345 678` and `84912345678` all give `84912345678`);
/// `None` when it is not a 10-digit mobile number.
pub fn international(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let national = if let Some(rest) = digits.strip_prefix("84") {
        rest.to_string()
    } else if let Some(rest) = digits.strip_prefix('0') {
        rest.to_string()
    } else {
        return None;
    };
    (national.len() == 9 && !national.starts_with('0')).then(|| format!("84{national}"))
}

/// The ZNS client.
pub struct Zns {
    settings: ZaloSettings,
    http: reqwest::Client,
    tokens: Option<crate::zalo_oauth::TokenKeeper>,
}

impl Zns {
    /// A client with its own connection pool (rustls, timeouts).
    pub fn new(settings: ZaloSettings) -> Result<Zns, String> {
        let ms = if settings.request_timeout_ms == 0 {
            10_000
        } else {
            settings.request_timeout_ms
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(ms))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Zns {
            settings,
            http,
            tokens: None,
        })
    }

    /// Whether the settings ask for refreshed access tokens (app id, secret key and a first
    /// refresh token).
    pub fn refreshes(settings: &ZaloSettings) -> bool {
        !settings.app_id.trim().is_empty()
            && !settings.secret_key.is_empty()
            && !settings.refresh_token.trim().is_empty()
    }

    /// Refreshes the access token through Zalo's OAuth endpoint when [`Zns::refreshes`], keeping
    /// the token chain in `store` (see [`crate::zalo_oauth`]).
    pub fn with_store(mut self, store: motcua_store::Store) -> Zns {
        if Zns::refreshes(&self.settings) {
            let client = crate::zalo_oauth::OAuthClient {
                url: self.settings.oauth_url.clone(),
                app_id: self.settings.app_id.trim().to_string(),
                secret_key: self.settings.secret_key.clone(),
                refresh_token: self.settings.refresh_token.trim().to_string(),
            };
            self.tokens = Some(crate::zalo_oauth::TokenKeeper::new(
                store,
                self.http.clone(),
                client,
            ));
        }
        self
    }

    /// The request for an outbox message, or why it cannot be sent as it is.
    pub fn message(&self, m: &OutboxEntry) -> Result<ZnsMessage, DeliveryError> {
        let to = m.payload["to"].as_str().unwrap_or_default();
        let phone = international(to).ok_or_else(|| {
            DeliveryError::Rejected(format!("`{to}` is not a mobile number Zalo can reach"))
        })?;
        let event = m.payload["event"].as_str().unwrap_or_default();
        let template_id = self
            .settings
            .templates
            .get(event)
            .filter(|t| !t.trim().is_empty())
            .cloned()
            .or_else(|| {
                Some(self.settings.default_template.clone()).filter(|t| !t.trim().is_empty())
            })
            .ok_or_else(|| {
                DeliveryError::Rejected(format!(
                    "no ZNS template for `{event}` (set integrations.zalo.templates.{event} or default_template)"
                ))
            })?;
        let template_data = m.payload["params"]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| {
                        let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                        (k.clone(), text)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(ZnsMessage {
            phone,
            template_id,
            template_data,
            tracking_id: m.key.clone(),
        })
    }

    async fn post(&self, msg: &ZnsMessage) -> Result<(), DeliveryError> {
        let token = match &self.tokens {
            Some(k) => k.token().await?,
            None => self.settings.access_token.clone(),
        };
        let resp = self
            .http
            .post(&self.settings.url)
            .header(TOKEN_HEADER, &token)
            .json(msg)
            .send()
            .await
            .map_err(|e| DeliveryError::Unavailable(format!("Zalo unreachable: {e}")))?;
        let status = resp.status();
        if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
            return Err(DeliveryError::Unavailable(format!(
                "Zalo answered HTTP {status}"
            )));
        }
        let body: serde_json::Value = match resp.json().await {
            Ok(v) => v,
            Err(e) if status.is_success() => {
                return Err(DeliveryError::Unavailable(format!(
                    "Zalo's answer is not JSON: {e}"
                )));
            }
            Err(_) => serde_json::Value::Null,
        };
        if !status.is_success() {
            return Err(DeliveryError::Rejected(format!(
                "Zalo refused (HTTP {status}): {}",
                short(&body)
            )));
        }
        let code = body["error"].as_i64();
        if code == Some(ACCESS_TOKEN_INVALID)
            && let Some(k) = &self.tokens
        {
            k.refused(&token);
        }
        match code {
            Some(0) => Ok(()),
            Some(code) if self.settings.retry_errors.contains(&code) => Err(
                DeliveryError::Unavailable(format!("Zalo error {code}: {}", short(&body))),
            ),
            Some(code) => Err(DeliveryError::Rejected(format!(
                "Zalo error {code}: {}",
                short(&body)
            ))),
            None => Err(DeliveryError::Unavailable(format!(
                "Zalo's answer has no `error`: {}",
                short(&body)
            ))),
        }
    }
}

fn short(v: &serde_json::Value) -> String {
    v["message"]
        .as_str()
        .map_or_else(|| v.to_string(), str::to_string)
        .chars()
        .take(200)
        .collect()
}

impl Target for Zns {
    fn topic(&self) -> &str {
        TOPIC
    }

    fn deliver<'a>(&'a self, m: &'a OutboxEntry) -> Delivery<'a> {
        Box::pin(async move {
            let msg = self.message(m)?;
            self.post(&msg).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::zalo::{ZaloFaults, ZaloSandbox};

    fn entry(key: &str, to: &str, event: &str) -> OutboxEntry {
        crate::target::pending_entry(
            TOPIC,
            key,
            serde_json::json!({
                "to": to, "event": event, "text": "Hồ sơ H40-261202-0001: đã tiếp nhận.",
                "params": {"ma_ho_so": "H40-261202-0001", "ngay_hen": "05/12/2026"},
            }),
        )
    }

    #[test]
    fn phone_numbers_in_international_form() {
        for ok in [
            "0912345678",
            "+84 912 345 678",
            "84912345678",
            "091.234.5678",
        ] {
            assert_eq!(international(ok).as_deref(), Some("84912345678"), "{ok}");
        }
        for bad in ["", "12345", "0012345678", "091234567", "09123456789", "abc"] {
            assert_eq!(international(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn the_zns_protocol_against_the_sandbox() {
        let zalo = ZaloSandbox::start("127.0.0.1:0".parse().unwrap(), "tok3n")
            .await
            .unwrap();
        let mut settings = zalo.client_settings();
        settings
            .templates
            .insert("received".into(), "tpl-received".into());
        let target = Zns::new(settings.clone()).unwrap();
        target
            .deliver(&entry("d1:2", "0912345678", "received"))
            .await
            .unwrap();
        // A repeat (a lost answer) is kept once.
        target
            .deliver(&entry("d1:2", "0912345678", "received"))
            .await
            .unwrap();
        let st = zalo.state();
        assert_eq!(st.messages.len(), 1);
        assert_eq!(st.duplicates, 1);
        let m = &st.messages[0];
        assert_eq!(m.phone, "84912345678");
        assert_eq!(m.template_id, "tpl-received");
        assert_eq!(m.tracking_id, "d1:2");
        assert_eq!(m.template_data["ma_ho_so"], "H40-261202-0001");
        // No template for this event and no default: a dead letter, not a retry.
        let e = target
            .deliver(&entry("d1:3", "0912345678", "refused"))
            .await;
        assert!(
            matches!(e, Err(DeliveryError::Rejected(ref m)) if m.contains("refused")),
            "{e:?}"
        );
        let with_default = Zns::new(ZaloSettings {
            default_template: "tpl-any".into(),
            ..settings.clone()
        })
        .unwrap();
        with_default
            .deliver(&entry("d1:3", "0912345678", "refused"))
            .await
            .unwrap();
        assert_eq!(zalo.state().messages[1].template_id, "tpl-any");
        // A number that is not a mobile number, or not on Zalo: dead letters.
        let e = target.deliver(&entry("d1:4", "12345", "received")).await;
        assert!(matches!(e, Err(DeliveryError::Rejected(_))), "{e:?}");
        let e = target
            .deliver(&entry("d1:5", "0912340000", "received"))
            .await;
        assert!(
            matches!(e, Err(DeliveryError::Rejected(ref m)) if m.contains("-118")),
            "{e:?}"
        );
        // Down, 5xx, Zalo's "unknown error", a wrong token: tried again later.
        for faults in [
            ZaloFaults {
                down: true,
                ..ZaloFaults::default()
            },
            ZaloFaults {
                fail_5xx_percent: 100,
                ..ZaloFaults::default()
            },
            ZaloFaults {
                unknown_error_percent: 100,
                ..ZaloFaults::default()
            },
        ] {
            zalo.set_faults(faults.clone());
            let e = target
                .deliver(&entry("d1:6", "0912345678", "received"))
                .await;
            assert!(
                matches!(e, Err(DeliveryError::Unavailable(_))),
                "{faults:?}: {e:?}"
            );
        }
        zalo.set_faults(ZaloFaults::default());
        let wrong = Zns::new(ZaloSettings {
            access_token: "guess".into(),
            ..settings.clone()
        })
        .unwrap();
        let e = wrong
            .deliver(&entry("d1:6", "0912345678", "received"))
            .await;
        assert!(
            matches!(e, Err(DeliveryError::Unavailable(ref m)) if m.contains("-124")),
            "{e:?}"
        );
        // Nothing listening: unavailable.
        let gone = Zns::new(ZaloSettings {
            url: "http://127.0.0.1:9/message/template".into(),
            request_timeout_ms: 2_000,
            ..settings.clone()
        })
        .unwrap();
        let e = gone.deliver(&entry("d1:7", "0912345678", "received")).await;
        assert!(matches!(e, Err(DeliveryError::Unavailable(_))), "{e:?}");
        assert_eq!(zalo.state().messages.len(), 2);
        // The settings never show the token.
        assert!(!format!("{settings:?}").contains("tok3n"));
    }
}
