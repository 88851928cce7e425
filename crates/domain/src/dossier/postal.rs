//! The public postal service (bưu chính công ích) on a dossier: the applicant's choice (pickup
//! of the paper dossier at an address, return of the result by post), the orders placed with
//! the post (VNPost, through the provincial LGSP) and the statuses the post reports back.
//! Pure: the orders are derived from events (see `derive.rs`), the statuses arrive as events.

use super::DomainError;
use crate::agency::{Actor, Role};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Outbox topic of orders to the post.
pub const VNPOST_TOPIC: &str = "vnpost.order";

/// The fixed user id of the postal service in dossier histories (no account has it: account
/// ids are random). Only the status callback, after checking the post's signature, acts as it.
pub const POSTAL_SERVICE_ID: Uuid = Uuid::from_u128(0x7b75_6469_656e_4000_8000_766e_706f_7374);

/// The actor the post's status callbacks are recorded as.
pub fn postal_actor() -> Actor {
    Actor {
        user_id: POSTAL_SERVICE_ID,
        name: "Bưu điện (VNPost)".into(),
        role: Role::Admin,
        agency: None,
    }
}

/// Where the post collects or delivers: receiver, phone and an address in the administrative
/// units in force since 1 July 2025 (province and commune codes, no district) plus the detail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PostalAddress {
    /// Person to collect from or deliver to.
    pub name: String,
    /// Their phone number (10 digits starting with 0, or +84).
    pub phone: String,
    /// Their e-mail address, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Province code (2 digits).
    pub province: String,
    /// Commune code (5 digits) of that province.
    pub commune: String,
    /// House number, street, hamlet.
    pub detail: String,
    /// Province name (filled from the units by the caller, for display).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub province_name: String,
    /// Commune name (filled from the units by the caller, for display).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub commune_name: String,
}

/// Whether `phone` is a Vietnamese number: 10 digits starting with 0, or `84`/`+84` and 9
/// digits (spaces, dots and dashes allowed between digits).
pub fn valid_phone(phone: &str) -> bool {
    if !phone
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '+'))
    {
        return false;
    }
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let national = if phone.trim_start().starts_with('+') || digits.starts_with("84") {
        digits.strip_prefix("84").map(|r| format!("0{r}"))
    } else {
        Some(digits)
    };
    national.is_some_and(|n| n.len() == 10 && n.starts_with('0') && !n.starts_with("00"))
}

fn bad(field: &'static str, reason: impl Into<String>) -> DomainError {
    DomainError::Invalid {
        field,
        reason: reason.into(),
    }
}

impl PostalAddress {
    /// Checks the fields' form (whether the codes name real units is the caller's check).
    pub fn check(&self, field: &'static str) -> Result<(), DomainError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(bad(field, "the receiver's name must be 1-200 characters"));
        }
        if !valid_phone(&self.phone) {
            return Err(bad(
                field,
                "the phone number must be a Vietnamese number (10 digits starting with 0)",
            ));
        }
        if let Some(e) = &self.email
            && (e.len() > 200 || !e.contains('@'))
        {
            return Err(bad(field, "the e-mail address is not valid"));
        }
        if self.province.len() != 2 || !self.province.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(field, "the province code must be 2 digits"));
        }
        if self.commune.len() != 5 || !self.commune.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(field, "the commune code must be 5 digits"));
        }
        let detail = self.detail.trim();
        if detail.is_empty() || detail.chars().count() > 500 {
            return Err(bad(
                field,
                "the address detail (house number, street) must be 1-500 characters",
            ));
        }
        Ok(())
    }

    /// The address on one line: detail, commune, province.
    pub fn one_line(&self) -> String {
        [
            self.detail.trim(),
            self.commune_name.as_str(),
            self.province_name.as_str(),
        ]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// Whether the post may still collect the paper dossier: an online dossier not yet received.
pub fn pickup_open(d: &super::Dossier) -> bool {
    d.channel == super::Channel::Online
        && matches!(
            d.status,
            crate::status::Status::AwaitingReception | crate::status::Status::SupplementAtReception
        )
}

/// What the applicant asked of the post.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PostalChoice {
    /// Pickup of the paper dossier at this address (thu gom hồ sơ tại nhà); online dossiers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup: Option<PostalAddress>,
    /// Return of the result by post to this address (trả kết quả qua bưu chính).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<PostalAddress>,
}

impl PostalChoice {
    /// Whether nothing was asked.
    pub fn is_empty(&self) -> bool {
        self.pickup.is_none() && self.return_to.is_none()
    }

    /// Checks both addresses.
    pub fn check(&self) -> Result<(), DomainError> {
        if let Some(a) = &self.pickup {
            a.check("postal.pickup")?;
        }
        if let Some(a) = &self.return_to {
            a.check("postal.return_to")?;
        }
        Ok(())
    }
}

/// What an order asks the post to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PostalKind {
    /// Collect the paper dossier from the applicant and bring it to the desk.
    Pickup,
    /// Carry the result from the desk to the applicant.
    Return,
}

impl PostalKind {
    /// The suffix of its order number.
    pub fn suffix(self) -> &'static str {
        match self {
            PostalKind::Pickup => "THUGOM",
            PostalKind::Return => "TRAKQ",
        }
    }

    /// Stable machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            PostalKind::Pickup => "pickup",
            PostalKind::Return => "return",
        }
    }
}

/// The order number (the post's idempotency key): the dossier code and the kind, e.g.
/// `000.00.01.H40-261202-0001-TRAKQ`; a pickup is ordered before the dossier has a code, so
/// its number is the dossier id (32 hex digits) and the kind.
pub fn order_number(
    id: Uuid,
    code: Option<&crate::codes::DossierCode>,
    kind: PostalKind,
) -> String {
    match code {
        Some(c) => format!("{c}-{}", kind.suffix()),
        None => format!("{}-{}", id.simple(), kind.suffix()),
    }
}

/// Which dossier an order number belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderRef {
    /// By dossier id.
    Id(Uuid),
    /// By dossier code.
    Code(crate::codes::DossierCode),
}

/// Reads an order number back: the dossier it names and the kind; `None` when it is not one of
/// ours.
pub fn parse_order_number(s: &str) -> Option<(OrderRef, PostalKind)> {
    let (head, suffix) = s.trim().rsplit_once('-')?;
    let kind = [PostalKind::Pickup, PostalKind::Return]
        .into_iter()
        .find(|k| k.suffix().eq_ignore_ascii_case(suffix))?;
    if head.len() == 32
        && let Ok(id) = Uuid::try_parse(head)
    {
        return Some((OrderRef::Id(id), kind));
    }
    crate::codes::DossierCode::parse_lenient(head)
        .ok()
        .map(|c| (OrderRef::Code(c), kind))
}

/// Where an order is, as the post reports it.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PostalState {
    /// The post accepted the order and issued an item code.
    Registered,
    /// Collected (the dossier from the applicant, or the result from the desk).
    Collected,
    /// On its way.
    InTransit,
    /// Out for delivery.
    Delivering,
    /// Delivered (the pickup to the desk, the result to the applicant).
    Delivered,
    /// Delivery failed (nobody home, wrong address); the post tries again or sends it back.
    Failed,
    /// Sent back to the sender.
    Returned,
}

impl PostalState {
    /// Every state.
    pub const ALL: [PostalState; 7] = [
        PostalState::Registered,
        PostalState::Collected,
        PostalState::InTransit,
        PostalState::Delivering,
        PostalState::Delivered,
        PostalState::Failed,
        PostalState::Returned,
    ];

    /// Stable machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            PostalState::Registered => "registered",
            PostalState::Collected => "collected",
            PostalState::InTransit => "in_transit",
            PostalState::Delivering => "delivering",
            PostalState::Delivered => "delivered",
            PostalState::Failed => "failed",
            PostalState::Returned => "returned",
        }
    }

    /// From its machine name.
    pub fn parse(s: &str) -> Option<PostalState> {
        PostalState::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// In words, for the history.
    pub fn text(self, kind: PostalKind, en: bool) -> &'static str {
        use PostalState::*;
        match (self, kind, en) {
            (Registered, _, false) => "đã nhận đơn hàng",
            (Registered, _, true) => "order accepted",
            (Collected, PostalKind::Pickup, false) => "đã thu gom hồ sơ",
            (Collected, PostalKind::Pickup, true) => "dossier collected",
            (Collected, PostalKind::Return, false) => "đã nhận kết quả từ bộ phận một cửa",
            (Collected, PostalKind::Return, true) => "result collected from the desk",
            (InTransit, _, false) => "đang vận chuyển",
            (InTransit, _, true) => "in transit",
            (Delivering, _, false) => "đang phát",
            (Delivering, _, true) => "out for delivery",
            (Delivered, PostalKind::Pickup, false) => "đã phát thành công đến bộ phận một cửa",
            (Delivered, PostalKind::Pickup, true) => "delivered to the one-stop desk",
            (Delivered, PostalKind::Return, false) => "đã phát thành công",
            (Delivered, PostalKind::Return, true) => "delivered",
            (Failed, _, false) => "phát không thành công",
            (Failed, _, true) => "delivery failed",
            (Returned, _, false) => "đã chuyển hoàn",
            (Returned, _, true) => "returned to sender",
        }
    }
}

/// One status of an order, at the post's time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PostalStep {
    /// The state.
    pub state: PostalState,
    /// When it happened (the post's time).
    pub at: DateTime<Utc>,
}

/// An order placed with the post, and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PostalOrder {
    /// Pickup or return.
    pub kind: PostalKind,
    /// Our order number (the post's idempotency key).
    pub order_number: String,
    /// When we placed it (the event that caused it).
    pub ordered_at: DateTime<Utc>,
    /// The applicant's side: where to collect, or where to deliver.
    pub address: PostalAddress,
    /// The tracking number the post issued, once it reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_code: Option<String>,
    /// The latest state by the post's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<PostalState>,
    /// When the latest state happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_at: Option<DateTime<Utc>>,
    /// Date of postal registration (the earliest status reported), for the national portal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_at: Option<DateTime<Utc>>,
    /// When it was delivered, for the national portal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    /// Every status reported, in the order of the post's time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<PostalStep>,
}

impl PostalOrder {
    /// A new order.
    pub fn new(
        kind: PostalKind,
        order_number: String,
        address: PostalAddress,
        at: DateTime<Utc>,
    ) -> PostalOrder {
        PostalOrder {
            kind,
            order_number,
            ordered_at: at,
            address,
            item_code: None,
            state: None,
            state_at: None,
            registered_at: None,
            delivered_at: None,
            steps: Vec::new(),
        }
    }

    /// Whether this status was already recorded (a repeated callback).
    pub fn has(&self, state: PostalState, at: DateTime<Utc>) -> bool {
        self.steps.iter().any(|s| s.state == state && s.at == at)
    }

    /// Folds in a status: kept among the steps in time order; the current state moves only
    /// to a later time (an older status arriving late does not move it backwards).
    pub fn record(&mut self, state: PostalState, at: DateTime<Utc>, item_code: Option<&str>) {
        if self.item_code.is_none()
            && let Some(c) = item_code
        {
            self.item_code = Some(c.to_string());
        }
        let pos = self.steps.partition_point(|s| s.at <= at);
        self.steps.insert(pos, PostalStep { state, at });
        if self.state_at.is_none_or(|t| at >= t) {
            self.state = Some(state);
            self.state_at = Some(at);
        }
        if self.registered_at.is_none_or(|t| at < t) {
            self.registered_at = Some(at);
        }
        if state == PostalState::Delivered && self.delivered_at.is_none_or(|t| at < t) {
            self.delivered_at = Some(at);
        }
    }
}

/// HMAC-SHA256 (RFC 2104) of `body` under `key`, hex-encoded: the signature of the post's
/// status callbacks.
pub fn hmac_sha256_hex(key: &[u8], body: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(body);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    hex::encode(outer.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2 and test case 6 (a key longer than a block).
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hmac_sha256_hex(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn phone_numbers() {
        for ok in [
            "0912345678",
            "091 234 5678",
            "+84 912 345 678",
            "84912345678",
        ] {
            assert!(valid_phone(ok), "{ok}");
        }
        for bad in [
            "",
            "12345",
            "0012345678",
            "091234567",
            "09123456789",
            "abc0912345678",
        ] {
            assert!(!valid_phone(bad), "{bad}");
        }
    }

    fn addr() -> PostalAddress {
        PostalAddress {
            name: "Nguyễn Văn An".into(),
            phone: "0912345678".into(),
            email: None,
            province: "68".into(),
            commune: "24781".into(),
            detail: "12 Trần Phú".into(),
            province_name: "Tỉnh Lâm Đồng".into(),
            commune_name: "Phường Xuân Hương - Đà Lạt".into(),
        }
    }

    #[test]
    fn addresses_are_checked() {
        assert!(addr().check("a").is_ok());
        assert_eq!(
            addr().one_line(),
            "12 Trần Phú, Phường Xuân Hương - Đà Lạt, Tỉnh Lâm Đồng"
        );
        let cases: [fn(&mut PostalAddress); 6] = [
            |a| a.name = " ".into(),
            |a| a.phone = String::new(),
            |a| a.province = "6".into(),
            |a| a.commune = "2478A".into(),
            |a| a.detail = String::new(),
            |a| a.email = Some("no-at".into()),
        ];
        for f in cases {
            let mut a = addr();
            f(&mut a);
            assert!(
                matches!(
                    a.check("postal.pickup"),
                    Err(DomainError::Invalid {
                        field: "postal.pickup",
                        ..
                    })
                ),
                "{a:?}"
            );
        }
    }

    #[test]
    fn order_numbers_round_trip() {
        let id = Uuid::now_v7();
        let n = order_number(id, None, PostalKind::Pickup);
        assert_eq!(
            parse_order_number(&n),
            Some((OrderRef::Id(id), PostalKind::Pickup))
        );
        let code: crate::codes::DossierCode = "000.00.01.H40-261202-0001".parse().unwrap();
        let n = order_number(id, Some(&code), PostalKind::Return);
        assert_eq!(n, "000.00.01.H40-261202-0001-TRAKQ");
        assert_eq!(
            parse_order_number(&n),
            Some((OrderRef::Code(code), PostalKind::Return))
        );
        for bad in ["", "TRAKQ", "abc-TRAKQ", "000.00.01.H40-261202-0001-XX"] {
            assert_eq!(parse_order_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_late_older_status_is_kept_in_time_order_but_does_not_move_the_state_back() {
        let t = |m: u32| Utc.with_ymd_and_hms(2026, 12, 2, 3, m, 0).unwrap();
        let mut o = PostalOrder::new(PostalKind::Return, "X-TRAKQ".into(), addr(), t(0));
        o.record(PostalState::Collected, t(10), Some("EE123456789VN"));
        o.record(PostalState::Delivered, t(30), None);
        o.record(PostalState::InTransit, t(20), Some("OTHER"));
        assert_eq!(o.state, Some(PostalState::Delivered));
        assert_eq!(o.state_at, Some(t(30)));
        assert_eq!(o.item_code.as_deref(), Some("EE123456789VN"));
        let order: Vec<_> = o.steps.iter().map(|s| s.state).collect();
        assert_eq!(
            order,
            [
                PostalState::Collected,
                PostalState::InTransit,
                PostalState::Delivered
            ]
        );
        assert_eq!(o.registered_at, Some(t(10)));
        assert_eq!(o.delivered_at, Some(t(30)));
        assert!(o.has(PostalState::InTransit, t(20)));
        assert!(!o.has(PostalState::InTransit, t(21)));
    }
}
