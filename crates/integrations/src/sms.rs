//! SMS to applicants (topic `sms`). [`SmsGateway`] is what an SMS provider looks like to us;
//! [`HttpSms`] speaks a generic HTTP gateway protocol that providers' adapters (or a small
//! relay) can implement:
//!
//! `POST {sms_url}` with `Content-Type: application/json`, the header
//! `X-Motcua-Secret: {sms_secret}` (a shared secret) and `Idempotency-Key: {id}`, and the body
//! `{"to": "0912345678", "text": "...", "id": "<dossier id>:<version>"}`. Any 2xx means
//! accepted; the gateway must treat a repeated `id` as the same message (we deliver at least
//! once). 408, 429 and 5xx, or no answer, mean "try again later"; any other 4xx (e.g. 400 bad
//! number, 401 wrong secret) means the message cannot be sent as it is: it becomes a dead
//! letter for an operator.

use crate::target::{Delivery, DeliveryError, Target};
use motcua_store::OutboxEntry;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The outbox topic SMS travel on.
pub const TOPIC: &str = motcua_domain::dossier::SMS_TOPIC;

/// Header carrying the shared secret.
pub const SECRET_HEADER: &str = "x-motcua-secret";

/// One SMS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sms {
    /// Phone number as the applicant gave it.
    pub to: String,
    /// Text (Unicode, Vietnamese).
    pub text: String,
    /// Idempotency id.
    pub id: String,
}

/// An SMS provider.
pub trait SmsGateway: Send + Sync + 'static {
    /// Sends one SMS; `Ok` once the gateway accepted it.
    fn send<'a>(&'a self, sms: &'a Sms) -> Delivery<'a>;
}

/// Settings of the HTTP gateway.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsSettings {
    /// The gateway's URL; empty: no SMS are sent (they wait in the outbox).
    pub url: String,
    /// Shared secret sent in `X-Motcua-Secret` (set it with `MOTCUA_SMS_SECRET`; never logged).
    pub secret: String,
    /// Timeout of one request, in milliseconds (0: 10 s).
    pub request_timeout_ms: u64,
}

impl std::fmt::Debug for SmsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsSettings")
            .field("url", &self.url)
            .field("secret", &"[redacted]")
            .field("request_timeout_ms", &self.request_timeout_ms)
            .finish()
    }
}

/// The generic HTTP SMS gateway client.
pub struct HttpSms {
    settings: SmsSettings,
    http: reqwest::Client,
}

impl HttpSms {
    /// A client with its own connection pool.
    pub fn new(settings: SmsSettings) -> Result<HttpSms, String> {
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
        Ok(HttpSms { settings, http })
    }

    async fn post(&self, sms: &Sms) -> Result<(), DeliveryError> {
        let resp = self
            .http
            .post(&self.settings.url)
            .header(SECRET_HEADER, &self.settings.secret)
            .header("Idempotency-Key", &sms.id)
            .json(sms)
            .send()
            .await
            .map_err(|e| DeliveryError::Unavailable(format!("SMS gateway unreachable: {e}")))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let body: String = resp
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
            Err(DeliveryError::Unavailable(format!(
                "SMS gateway answered HTTP {status}"
            )))
        } else {
            Err(DeliveryError::Rejected(format!(
                "SMS gateway refused (HTTP {status}): {body}"
            )))
        }
    }
}

impl SmsGateway for HttpSms {
    fn send<'a>(&'a self, sms: &'a Sms) -> Delivery<'a> {
        Box::pin(self.post(sms))
    }
}

/// Delivers the `sms` outbox messages through a gateway.
pub struct SmsTarget<G: SmsGateway>(pub G);

impl<G: SmsGateway> Target for SmsTarget<G> {
    fn topic(&self) -> &str {
        TOPIC
    }

    fn deliver<'a>(&'a self, m: &'a OutboxEntry) -> Delivery<'a> {
        Box::pin(async move {
            let field = |k: &str| {
                m.payload[k]
                    .as_str()
                    .map(String::from)
                    .filter(|v| !v.trim().is_empty())
                    .ok_or_else(|| DeliveryError::Rejected(format!("SMS without `{k}`")))
            };
            let sms = Sms {
                to: field("to")?,
                text: field("text")?,
                id: m.key.clone(),
            };
            self.0.send(&sms).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::sms::{SmsFaults, SmsSandbox};

    fn entry(key: &str, to: &str, text: &str) -> OutboxEntry {
        crate::target::pending_entry(TOPIC, key, serde_json::json!({"to": to, "text": text}))
    }

    #[tokio::test]
    async fn the_gateway_protocol_against_the_sandbox() {
        let gw = SmsSandbox::start("127.0.0.1:0".parse().unwrap(), "s3cret")
            .await
            .unwrap();
        let target = SmsTarget(HttpSms::new(gw.client_settings()).unwrap());
        let m = entry("d1:1", "0912345678", "Hồ sơ đã được tiếp nhận.");
        target.deliver(&m).await.unwrap();
        // A repeat (a lost answer) is accepted and kept once.
        target.deliver(&m).await.unwrap();
        let st = gw.state();
        assert_eq!(st.messages.len(), 1);
        assert_eq!(st.duplicates, 1);
        assert_eq!(st.messages[0].id, "d1:1");
        assert_eq!(st.messages[0].text, "Hồ sơ đã được tiếp nhận.");
        // 5xx and down: try again later.
        gw.set_faults(SmsFaults {
            down: false,
            fail_5xx_percent: 100,
        });
        let e = target.deliver(&entry("d1:2", "0912345678", "x")).await;
        assert!(matches!(e, Err(DeliveryError::Unavailable(_))), "{e:?}");
        gw.set_faults(SmsFaults {
            down: true,
            fail_5xx_percent: 0,
        });
        let e = target.deliver(&entry("d1:2", "0912345678", "x")).await;
        assert!(matches!(e, Err(DeliveryError::Unavailable(_))), "{e:?}");
        gw.set_faults(SmsFaults::default());
        // A wrong secret or a message without a number cannot succeed by trying again.
        let wrong = SmsTarget(
            HttpSms::new(SmsSettings {
                secret: "guess".into(),
                ..gw.client_settings()
            })
            .unwrap(),
        );
        let e = wrong.deliver(&entry("d1:3", "0912345678", "x")).await;
        assert!(matches!(e, Err(DeliveryError::Rejected(_))), "{e:?}");
        let e = target.deliver(&entry("d1:4", " ", "x")).await;
        assert!(matches!(e, Err(DeliveryError::Rejected(_))), "{e:?}");
        // Nothing listening: unavailable.
        let gone = SmsTarget(
            HttpSms::new(SmsSettings {
                url: "http://127.0.0.1:9/sms".into(),
                secret: "s3cret".into(),
                request_timeout_ms: 2_000,
            })
            .unwrap(),
        );
        let e = gone.deliver(&entry("d1:5", "0912345678", "x")).await;
        assert!(matches!(e, Err(DeliveryError::Unavailable(_))), "{e:?}");
        assert_eq!(gw.state().messages.len(), 1);
        // The settings never show the secret.
        assert!(!format!("{:?}", gw.client_settings()).contains("s3cret"));
    }
}
