//! Orders to the public postal service (topic `vnpost.order`): pickup of paper dossiers and
//! return of results, sent to VNPost through the provincial LGSP, as the provinces' systems do
//! (research notes §7.5).
//!
//! The protocol as far as our sources show it: `POST {base_url}{order_path}` with a JSON body
//! of `CustomerCode`, `ItemCode` (empty: the post issues it), `OrderNumber` (our idempotency
//! key: the dossier code, or id before reception, and the kind), `CODAmount`, `Sender*` and
//! `Receiver*` `Province`/`District`/`Address`/`Name`/`Tel`/`Email`, `Description` and
//! `FlagConfig`; the answer is `RespondLGSP {Status, Message}`. Not confirmed, hence settings:
//! the path, which `Status` values mean success (`success_statuses`), which words in `Message`
//! mean "already exists" (`exists_phrases`, a success: the order was placed by an earlier
//! attempt whose answer was lost), how requests are authenticated (we sign the body with the
//! shared secret, HMAC-SHA256 in hex, in `signature_header`), and what goes in `District`
//! since the districts were abolished on 1 July 2025 (the commune code). The tracking number
//! (ItemCode) reaches the dossier through the status callback (`POST
//! /api/v1/integrations/vnpost/status`), so this adapter writes nothing but the order.

use crate::target::{Delivery, DeliveryError, Target};
use motcua_domain::dossier::postal::hmac_sha256_hex;
use motcua_store::OutboxEntry;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The outbox topic orders travel on.
pub const TOPIC: &str = motcua_domain::dossier::VNPOST_TOPIC;

/// The centre's side of an order (the sender of results, the receiver of picked-up dossiers).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CentreAddress {
    /// Name (e.g. "Trung tâm Phục vụ hành chính công tỉnh").
    pub name: String,
    /// Phone.
    pub phone: String,
    /// E-mail.
    pub email: String,
    /// Province code.
    pub province: String,
    /// Commune code.
    pub commune: String,
    /// Street address.
    pub address: String,
}

/// `[integrations.vnpost]`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VnpostSettings {
    /// The LGSP's base address; empty: no orders are sent (they wait in the outbox).
    pub base_url: String,
    /// Path of the order endpoint.
    pub order_path: String,
    /// Our customer code with the post.
    pub customer_code: String,
    /// Shared secret: signs our orders and the post's status callbacks (set it with
    /// `MOTCUA_VNPOST_SECRET`; never logged).
    pub secret: String,
    /// Header carrying the HMAC-SHA256 signature (hex) of a body, both ways.
    pub signature_header: String,
    /// `Status` values meaning success.
    pub success_statuses: Vec<String>,
    /// Words in `Message` meaning "the order already exists" (compared ignoring case).
    pub exists_phrases: Vec<String>,
    /// `FlagConfig` sent with every order.
    pub flag_config: String,
    /// The centre's side of orders.
    pub centre: CentreAddress,
    /// The post's status codes and the state each means (`registered`, `collected`,
    /// `in_transit`, `delivering`, `delivered`, `failed`, `returned`); our own names are
    /// always understood.
    pub status_codes: std::collections::BTreeMap<String, String>,
    /// Timeout of one request, in milliseconds (0: 10 s).
    pub request_timeout_ms: u64,
}

impl Default for VnpostSettings {
    fn default() -> Self {
        VnpostSettings {
            base_url: String::new(),
            order_path: "/api/vnpost/order".into(),
            customer_code: String::new(),
            secret: String::new(),
            signature_header: "x-vnpost-signature".into(),
            success_statuses: vec!["200".into(), "1".into(), "OK".into(), "true".into()],
            exists_phrases: vec![
                "đã tồn tại".into(),
                "already exists".into(),
                "da ton tai".into(),
            ],
            flag_config: String::new(),
            centre: CentreAddress::default(),
            status_codes: Default::default(),
            request_timeout_ms: 0,
        }
    }
}

impl std::fmt::Debug for VnpostSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VnpostSettings")
            .field("base_url", &self.base_url)
            .field("order_path", &self.order_path)
            .field("customer_code", &self.customer_code)
            .field("secret", &"[redacted]")
            .field("signature_header", &self.signature_header)
            .field("success_statuses", &self.success_statuses)
            .field("exists_phrases", &self.exists_phrases)
            .field("flag_config", &self.flag_config)
            .field("centre", &self.centre)
            .field("status_codes", &self.status_codes)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .finish()
    }
}

/// One order as the LGSP receives it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VnpostOrder {
    /// Our customer code.
    pub customer_code: String,
    /// Tracking number (empty: the post issues one).
    pub item_code: String,
    /// Our order number (idempotency key).
    pub order_number: String,
    /// Cash on delivery, in đồng.
    #[serde(rename = "CODAmount")]
    pub cod_amount: i64,
    /// Sender's province code.
    pub sender_province: String,
    /// Sender's district (the commune code since July 2025).
    pub sender_district: String,
    /// Sender's address.
    pub sender_address: String,
    /// Sender's name.
    pub sender_name: String,
    /// Sender's phone.
    pub sender_tel: String,
    /// Sender's e-mail.
    pub sender_email: String,
    /// Receiver's province code.
    pub receiver_province: String,
    /// Receiver's district (the commune code since July 2025).
    pub receiver_district: String,
    /// Receiver's address.
    pub receiver_address: String,
    /// Receiver's name.
    pub receiver_name: String,
    /// Receiver's phone.
    pub receiver_tel: String,
    /// Receiver's e-mail.
    pub receiver_email: String,
    /// What is carried.
    pub description: String,
    /// Service flags.
    pub flag_config: String,
}

/// The LGSP's answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RespondLgsp {
    /// Outcome code (text or number on the wire).
    #[serde(rename = "Status")]
    pub status: serde_json::Value,
    /// Why.
    #[serde(rename = "Message", default)]
    pub message: String,
}

/// The order client.
pub struct Vnpost {
    settings: VnpostSettings,
    http: reqwest::Client,
}

fn text(v: &serde_json::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

impl Vnpost {
    /// A client with its own connection pool (rustls, timeouts).
    pub fn new(settings: VnpostSettings) -> Result<Vnpost, String> {
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
        Ok(Vnpost { settings, http })
    }

    /// The order for an outbox message, or why it cannot be sent as it is.
    pub fn order(&self, m: &OutboxEntry) -> Result<VnpostOrder, DeliveryError> {
        let p = &m.payload;
        let number = p["OrderNumber"].as_str().unwrap_or_default();
        if number.is_empty() {
            return Err(DeliveryError::Rejected(
                "the message has no OrderNumber".into(),
            ));
        }
        let a = &p["address"];
        let s = |k: &str| a[k].as_str().unwrap_or_default().to_string();
        let line = [s("detail"), s("commune_name"), s("province_name")]
            .into_iter()
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        let c = &self.settings.centre;
        let mut o = VnpostOrder {
            customer_code: self.settings.customer_code.clone(),
            item_code: String::new(),
            order_number: number.to_string(),
            cod_amount: p["CODAmount"].as_i64().unwrap_or(0),
            description: p["Description"].as_str().unwrap_or_default().to_string(),
            flag_config: self.settings.flag_config.clone(),
            ..VnpostOrder::default()
        };
        let applicant = (
            s("province"),
            s("commune"),
            line,
            s("name"),
            s("phone"),
            s("email"),
        );
        let centre = (
            c.province.clone(),
            c.commune.clone(),
            c.address.clone(),
            c.name.clone(),
            c.phone.clone(),
            c.email.clone(),
        );
        let (from, to) = match p["kind"].as_str() {
            Some("pickup") => (applicant, centre),
            Some("return") => (centre, applicant),
            other => {
                return Err(DeliveryError::Rejected(format!(
                    "unknown order kind {other:?}"
                )));
            }
        };
        (
            o.sender_province,
            o.sender_district,
            o.sender_address,
            o.sender_name,
            o.sender_tel,
            o.sender_email,
        ) = from;
        (
            o.receiver_province,
            o.receiver_district,
            o.receiver_address,
            o.receiver_name,
            o.receiver_tel,
            o.receiver_email,
        ) = to;
        Ok(o)
    }

    /// What an answer means.
    pub fn outcome(&self, r: &RespondLgsp) -> Result<(), DeliveryError> {
        let status = text(&r.status);
        if self
            .settings
            .success_statuses
            .iter()
            .any(|s| s.eq_ignore_ascii_case(status.trim()))
        {
            return Ok(());
        }
        let msg = r.message.to_lowercase();
        if self
            .settings
            .exists_phrases
            .iter()
            .any(|p| !p.is_empty() && msg.contains(&p.to_lowercase()))
        {
            // Placed by an earlier attempt whose answer was lost: the post knows it.
            return Ok(());
        }
        let short: String = r.message.chars().take(200).collect();
        if status.starts_with('5') {
            return Err(DeliveryError::Unavailable(format!(
                "the post answered Status {status}: {short}"
            )));
        }
        Err(DeliveryError::Rejected(format!(
            "the post refused the order (Status {status}): {short}"
        )))
    }

    async fn post(&self, order: &VnpostOrder) -> Result<(), DeliveryError> {
        let body = serde_json::to_vec(order)
            .map_err(|e| DeliveryError::Rejected(format!("cannot encode the order: {e}")))?;
        let url = format!(
            "{}{}",
            self.settings.base_url.trim_end_matches('/'),
            self.settings.order_path
        );
        let resp = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                self.settings.signature_header.as_str(),
                hmac_sha256_hex(self.settings.secret.as_bytes(), &body),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| DeliveryError::Unavailable(format!("the post is unreachable: {e}")))?;
        let status = resp.status();
        if status.is_server_error() || matches!(status.as_u16(), 408 | 429) {
            return Err(DeliveryError::Unavailable(format!(
                "the post answered HTTP {status}"
            )));
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| DeliveryError::Unavailable(format!("the post's answer was cut: {e}")))?;
        match serde_json::from_slice::<RespondLgsp>(&bytes) {
            Ok(r) => self.outcome(&r),
            // An answer we cannot read: the order may or may not be placed; the order number
            // makes the next attempt safe.
            Err(e) if status.is_success() => Err(DeliveryError::Unavailable(format!(
                "the post's answer is not RespondLGSP: {e}"
            ))),
            Err(_) => Err(DeliveryError::Rejected(format!(
                "the post refused the order (HTTP {status})"
            ))),
        }
    }
}

impl Target for Vnpost {
    fn topic(&self) -> &str {
        TOPIC
    }

    fn deliver<'a>(&'a self, m: &'a OutboxEntry) -> Delivery<'a> {
        Box::pin(async move {
            let order = self.order(m)?;
            self.post(&order).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::vnpost::{VnpostFaults, VnpostSandbox};

    fn entry(number: &str, kind: &str) -> OutboxEntry {
        crate::target::pending_entry(
            TOPIC,
            &format!("d1:{number}"),
            serde_json::json!({
                "OrderNumber": number, "kind": kind, "CODAmount": 0,
                "Description": "Trả kết quả hồ sơ",
                "address": {"name": "Nguyễn Văn An", "phone": "0912345678", "province": "68",
                    "commune": "24781", "detail": "12 Trần Phú", "province_name": "Tỉnh Lâm Đồng",
                    "commune_name": "Phường Xuân Hương - Đà Lạt"},
            }),
        )
    }

    #[tokio::test]
    async fn orders_against_the_sandbox_with_its_failures() {
        let post = VnpostSandbox::start("127.0.0.1:0".parse().unwrap(), "s3cret", None)
            .await
            .unwrap();
        let settings = post.client_settings();
        assert!(!format!("{settings:?}").contains("s3cret"));
        let target = Vnpost::new(settings.clone()).unwrap();
        target.deliver(&entry("H40-TRAKQ", "return")).await.unwrap();
        let st = post.state();
        assert_eq!(st.orders.len(), 1);
        let o = &st.orders[0].order;
        assert_eq!(o.receiver_name, "Nguyễn Văn An");
        assert_eq!(o.receiver_district, "24781");
        assert!(o.receiver_address.contains("Trần Phú"));
        assert_eq!(o.sender_name, settings.centre.name);
        assert_eq!(o.customer_code, settings.customer_code);
        // A repeat (a lost answer) is "already exists": a success, kept once.
        target.deliver(&entry("H40-TRAKQ", "return")).await.unwrap();
        assert_eq!(post.state().orders.len(), 1);
        assert_eq!(post.state().duplicates, 1);
        // A pickup goes from the applicant to the centre.
        target
            .deliver(&entry("abc-THUGOM", "pickup"))
            .await
            .unwrap();
        assert_eq!(post.state().orders[1].order.sender_tel, "0912345678");
        // Down, 5xx, malformed, slow: tried again later.
        for faults in [
            VnpostFaults {
                down: true,
                ..VnpostFaults::default()
            },
            VnpostFaults {
                fail_5xx_percent: 100,
                ..VnpostFaults::default()
            },
            VnpostFaults {
                malformed_percent: 100,
                ..VnpostFaults::default()
            },
            VnpostFaults {
                slow_ms: 1_500,
                ..VnpostFaults::default()
            },
        ] {
            post.set_faults(faults.clone());
            let quick = Vnpost::new(VnpostSettings {
                request_timeout_ms: 500,
                ..settings.clone()
            })
            .unwrap();
            let e = quick.deliver(&entry("N-TRAKQ", "return")).await;
            assert!(
                matches!(e, Err(DeliveryError::Unavailable(_))),
                "{faults:?}: {e:?}"
            );
        }
        post.set_faults(VnpostFaults::default());
        // A missing phone: refused for good (a dead letter).
        let mut bad = entry("P-TRAKQ", "return");
        bad.payload["address"]["phone"] = serde_json::json!("");
        let e = target.deliver(&bad).await;
        assert!(matches!(e, Err(DeliveryError::Rejected(_))), "{e:?}");
        // A wrong secret: refused.
        let wrong = Vnpost::new(VnpostSettings {
            secret: "guess".into(),
            ..settings.clone()
        })
        .unwrap();
        let e = wrong.deliver(&entry("Q-TRAKQ", "return")).await;
        assert!(matches!(e, Err(DeliveryError::Rejected(_))), "{e:?}");
        // Nothing listening: unavailable.
        let gone = Vnpost::new(VnpostSettings {
            base_url: "http://127.0.0.1:9".into(),
            request_timeout_ms: 2_000,
            ..settings.clone()
        })
        .unwrap();
        let e = gone.deliver(&entry("R-TRAKQ", "return")).await;
        assert!(matches!(e, Err(DeliveryError::Unavailable(_))), "{e:?}");
        assert_eq!(post.state().orders.len(), 2);
    }

    #[test]
    fn answers_are_read_by_the_settings() {
        let t = Vnpost::new(VnpostSettings::default()).unwrap();
        let r = |s: serde_json::Value, m: &str| RespondLgsp {
            status: s,
            message: m.into(),
        };
        assert!(t.outcome(&r(serde_json::json!("200"), "")).is_ok());
        assert!(t.outcome(&r(serde_json::json!(1), "")).is_ok());
        assert!(
            t.outcome(&r(serde_json::json!("409"), "Đơn hàng ĐÃ TỒN TẠI"))
                .is_ok()
        );
        assert!(matches!(
            t.outcome(&r(serde_json::json!("500"), "lỗi")),
            Err(DeliveryError::Unavailable(_))
        ));
        assert!(matches!(
            t.outcome(&r(serde_json::json!("400"), "Thiếu số điện thoại")),
            Err(DeliveryError::Rejected(_))
        ));
        assert!(
            t.order(&OutboxEntry {
                payload: serde_json::json!({"OrderNumber": "X", "kind": "other"}),
                ..entry("X", "return")
            })
            .is_err()
        );
    }
}
