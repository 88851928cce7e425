//! Fees and payments: how a fee was paid, what a payment attempt's state is, the payment
//! reference (`MaThamChieu`) and the national payment platform's checksum (`MaXacThuc`,
//! research notes §7.4). Pure: no I/O.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How a fee was paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// Online, through the national payment platform.
    Online,
    /// Cash at the counter.
    Cash,
    /// Bank card at the counter (POS).
    Card,
    /// Bank transfer to the agency's account.
    Transfer,
}

impl PaymentMethod {
    /// Every method, in the order forms list them.
    pub const ALL: [PaymentMethod; 4] = [
        PaymentMethod::Online,
        PaymentMethod::Cash,
        PaymentMethod::Card,
        PaymentMethod::Transfer,
    ];

    /// Stable machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Online => "online",
            PaymentMethod::Cash => "cash",
            PaymentMethod::Card => "card",
            PaymentMethod::Transfer => "transfer",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<PaymentMethod> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Vietnamese label.
    pub fn label_vi(self) -> &'static str {
        match self {
            PaymentMethod::Online => "trực tuyến",
            PaymentMethod::Cash => "tiền mặt",
            PaymentMethod::Card => "thẻ",
            PaymentMethod::Transfer => "chuyển khoản",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            PaymentMethod::Online => "online",
            PaymentMethod::Cash => "cash",
            PaymentMethod::Card => "card",
            PaymentMethod::Transfer => "bank transfer",
        }
    }
}

/// Where a payment attempt stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Sent to the platform; the applicant has not finished paying (or we have not confirmed).
    Initiated,
    /// Paid and recorded on the dossier. Final.
    Paid,
    /// The platform said it failed.
    Failed,
    /// The applicant cancelled on the platform.
    Cancelled,
}

impl PaymentStatus {
    /// Stable machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Initiated => "initiated",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Cancelled => "cancelled",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<PaymentStatus> {
        [
            PaymentStatus::Initiated,
            PaymentStatus::Paid,
            PaymentStatus::Failed,
            PaymentStatus::Cancelled,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }

    /// Whether the status may move to `next`. Nothing undoes a payment (a "failed" arriving
    /// after "paid" is ignored); a payment the platform confirms is recorded even after an
    /// earlier "failed" or "cancelled" (callbacks arrive out of order; confirmation decides).
    pub fn may_become(self, next: PaymentStatus) -> bool {
        match self {
            PaymentStatus::Initiated => next != PaymentStatus::Initiated,
            PaymentStatus::Failed | PaymentStatus::Cancelled => next == PaymentStatus::Paid,
            PaymentStatus::Paid => false,
        }
    }
}

/// `ThoiGianGD`: the transaction time as the platform writes it, `yyyyMMddHHmmss`, Vietnam time.
pub fn platform_time(at: DateTime<Utc>) -> String {
    (at + chrono::Duration::hours(7))
        .format("%Y%m%d%H%M%S")
        .to_string()
}

/// `MaThamChieu` = "dvc" + the dossier code (or id when none yet) + the transaction time.
/// Unique per dossier and second; the store's unique index refuses a second one.
pub fn make_reference(dossier: &str, at: DateTime<Utc>) -> String {
    format!("dvc{dossier}{}", platform_time(at))
}

/// `MaXacThuc`: SHA-256 (lowercase hex) of the values joined by `|`, with the shared secret as
/// the last value.
pub fn checksum(values: &[&str], secret: &str) -> String {
    let mut h = Sha256::new();
    for v in values {
        h.update(v.as_bytes());
        h.update(b"|");
    }
    h.update(secret.as_bytes());
    hex(&h.finalize())
}

/// The fields of the INIT request whose values `MaXacThuc` covers, in order (research notes
/// §7.4 lists the fields; their order in the checksum is **not confirmed**: it is a setting).
pub const INIT_FIELDS: [&str; 14] = [
    "LoaiBanTin",
    "PhienBan",
    "MaDoiTac",
    "MaThamChieu",
    "SoTien",
    "LoaiHinhThanhToan",
    "MaKenhThanhToan",
    "MaThietBi",
    "NgonNgu",
    "MaTienTe",
    "MaNganHang",
    "ThongTinGiaoDich",
    "ThoiGianGD",
    "Ip",
];

/// The fields of a result (the platform's callback and its answer to a status query) that
/// `MaXacThuc` covers, in order (not confirmed; a setting).
pub const RESULT_FIELDS: [&str; 6] = [
    "MaDoiTac",
    "MaThamChieu",
    "MaGiaoDich",
    "SoTien",
    "MaKetQua",
    "ThoiGianGD",
];

/// The fields of our status query and e-receipt request that `MaXacThuc` covers, in order.
pub const QUERY_FIELDS: [&str; 4] = ["LoaiBanTin", "MaDoiTac", "MaThamChieu", "ThoiGianGD"];

/// `MaKetQua` of a successful payment.
pub const PAID: &str = "00";
/// `MaKetQua` of a payment the applicant cancelled.
pub const CANCELLED: &str = "24";

/// A field of a JSON object as text (numbers as written); empty when absent.
pub fn field(m: &serde_json::Map<String, serde_json::Value>, name: &str) -> String {
    match m.get(name) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

/// `MaXacThuc` of the object `m` over `fields` (in that order).
pub fn checksum_of<S: AsRef<str>>(
    m: &serde_json::Map<String, serde_json::Value>,
    fields: &[S],
    secret: &str,
) -> String {
    let values: Vec<String> = fields.iter().map(|f| field(m, f.as_ref())).collect();
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    checksum(&refs, secret)
}

/// What a result's `MaKetQua` means.
pub fn reported(code: &str) -> PaymentStatus {
    match code.trim() {
        PAID => PaymentStatus::Paid,
        CANCELLED => PaymentStatus::Cancelled,
        _ => PaymentStatus::Failed,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two checksums in time independent of where they differ.
pub fn checksum_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim().to_ascii_lowercase(), b.trim().to_ascii_lowercase());
    if a.len() != b.len() {
        return false;
    }
    a.bytes()
        .zip(b.bytes())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_sha256_of_the_joined_fields_and_the_secret() {
        // echo -n 'a|b|s' | sha256sum
        let expect = hex(&Sha256::digest(b"a|b|s"));
        assert_eq!(checksum(&["a", "b"], "s"), expect);
        assert_ne!(checksum(&["a", "b"], "t"), expect);
        assert_ne!(checksum(&["b", "a"], "s"), expect);
        assert!(checksum_eq(&expect, &expect.to_uppercase()));
        assert!(!checksum_eq(&expect, &expect[1..]));
        assert!(!checksum_eq(&expect, &checksum(&["a", "b"], "t")));
    }

    #[test]
    fn references_carry_the_dossier_code_and_local_time() {
        let at = "2026-12-02T03:04:05Z".parse().unwrap();
        assert_eq!(
            make_reference("000.00.01.H40-261202-0001", at),
            "dvc000.00.01.H40-261202-000120261202100405"
        );
    }

    #[test]
    fn nothing_undoes_a_payment() {
        use PaymentStatus::*;
        assert!(Initiated.may_become(Paid));
        assert!(Initiated.may_become(Failed));
        assert!(!Paid.may_become(Failed));
        assert!(!Paid.may_become(Paid));
        assert!(Failed.may_become(Paid));
        assert!(!Failed.may_become(Cancelled));
        for m in PaymentMethod::ALL {
            assert_eq!(PaymentMethod::parse(m.as_str()), Some(m));
        }
    }
}
