//! Dossier statuses, their mapping to the national portal's codes 1-10, and timeliness.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Our internal status of a dossier. Finer than the national portal's, and each maps to one code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Submitted online (or by post), waiting for the one-stop desk.
    AwaitingReception,
    /// The desk asked for a supplement before receiving it.
    SupplementAtReception,
    /// Refused at reception.
    Refused,
    /// Received with a code and an appointment; not yet moved on.
    Received,
    /// Being processed by the competent agency or a cooperating one.
    Processing,
    /// Supplement requested during processing (clock stopped).
    SupplementRequested,
    /// Waiting for a financial obligation (clock stopped).
    AwaitingPayment,
    /// Withdrawn at the applicant's request (notice to stop processing issued).
    Withdrawn,
    /// Processing stopped by the agency.
    Stopped,
    /// Result ready, not yet returned.
    ResultReady,
    /// Result handed over.
    Returned,
}

/// The one table: our status -> (national code, national name, portal alias).
const NATIONAL: [(Status, u8, &str, &str); 11] = [
    (Status::AwaitingReception, 1, "Mới đăng ký", "receiving"),
    (Status::Received, 2, "Được tiếp nhận", "new"),
    (Status::Refused, 3, "Không được tiếp nhận", "denied"),
    (Status::Processing, 4, "Đang xử lý", "processing"),
    (
        Status::SupplementAtReception,
        5,
        "Yêu cầu bổ sung giấy tờ",
        "waiting",
    ),
    (
        Status::SupplementRequested,
        5,
        "Yêu cầu bổ sung giấy tờ",
        "waiting",
    ),
    (
        Status::AwaitingPayment,
        6,
        "Yêu cầu thực hiện nghĩa vụ tài chính",
        "paying",
    ),
    (
        Status::Withdrawn,
        7,
        "Công dân yêu cầu rút hồ sơ",
        "cancelled",
    ),
    (Status::Stopped, 8, "Dừng xử lý", "unresolved"),
    (Status::ResultReady, 9, "Đã xử lý xong", "releasing"),
    (Status::Returned, 10, "Đã trả kết quả", "done"),
];

impl Status {
    /// Every status.
    pub const ALL: [Status; 11] = [
        Status::AwaitingReception,
        Status::SupplementAtReception,
        Status::Refused,
        Status::Received,
        Status::Processing,
        Status::SupplementRequested,
        Status::AwaitingPayment,
        Status::Withdrawn,
        Status::Stopped,
        Status::ResultReady,
        Status::Returned,
    ];

    fn row(self) -> &'static (Status, u8, &'static str, &'static str) {
        NATIONAL
            .iter()
            .find(|r| r.0 == self)
            .expect("every status is in the national table")
    }

    /// National portal status code (1-10).
    pub fn national_code(self) -> u8 {
        self.row().1
    }

    /// National portal status name (Vietnamese).
    pub fn national_name(self) -> &'static str {
        self.row().2
    }

    /// National portal string alias.
    pub fn national_alias(self) -> &'static str {
        self.row().3
    }

    /// Stable machine name (as in JSON and SQL).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::AwaitingReception => "awaiting_reception",
            Status::SupplementAtReception => "supplement_at_reception",
            Status::Refused => "refused",
            Status::Received => "received",
            Status::Processing => "processing",
            Status::SupplementRequested => "supplement_requested",
            Status::AwaitingPayment => "awaiting_payment",
            Status::Withdrawn => "withdrawn",
            Status::Stopped => "stopped",
            Status::ResultReady => "result_ready",
            Status::Returned => "returned",
        }
    }

    /// Parses the machine name.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether nothing more happens to the dossier's processing (rating aside).
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            Status::Refused | Status::Withdrawn | Status::Stopped | Status::Returned
        )
    }

    /// Whether the dossier was received and its processing has not ended yet.
    pub fn is_in_progress(self) -> bool {
        matches!(
            self,
            Status::Received
                | Status::Processing
                | Status::SupplementRequested
                | Status::AwaitingPayment
        )
    }
}

/// How the end of processing compares with the appointment (national rule, Decision 766 ind. 2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Timeliness {
    /// Finished on an earlier calendar day than the appointment.
    Early,
    /// Finished on the appointment day, not after the appointment time.
    OnTime,
    /// Finished after the appointment, or more than one supplement request.
    Late,
}

impl Timeliness {
    /// Classifies an end of processing against the due time. `local_offset_minutes` gives the
    /// local calendar day (Vietnam: 420). More than one supplement request makes a dossier late.
    pub fn classify(
        finished_at: DateTime<Utc>,
        due_at: DateTime<Utc>,
        supplement_requests: u32,
        local_offset_minutes: i32,
    ) -> Timeliness {
        if supplement_requests > 1 || finished_at > due_at {
            return Timeliness::Late;
        }
        let off = chrono::Duration::minutes(local_offset_minutes as i64);
        if (finished_at + off).date_naive() < (due_at + off).date_naive() {
            Timeliness::Early
        } else {
            Timeliness::OnTime
        }
    }

    /// Stable machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            Timeliness::Early => "early",
            Timeliness::OnTime => "on_time",
            Timeliness::Late => "late",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn every_national_code_is_covered_exactly_by_the_table() {
        let mut codes: Vec<u8> = Status::ALL.iter().map(|s| s.national_code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes, (1..=10).collect::<Vec<u8>>());
    }

    #[test]
    fn mapping_matches_the_national_catalogue() {
        let expect = [
            (Status::AwaitingReception, 1),
            (Status::Received, 2),
            (Status::Refused, 3),
            (Status::Processing, 4),
            (Status::SupplementAtReception, 5),
            (Status::SupplementRequested, 5),
            (Status::AwaitingPayment, 6),
            (Status::Withdrawn, 7),
            (Status::Stopped, 8),
            (Status::ResultReady, 9),
            (Status::Returned, 10),
        ];
        for (s, c) in expect {
            assert_eq!(s.national_code(), c, "{s:?}");
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::Returned.national_name(), "Đã trả kết quả");
        assert_eq!(Status::Refused.national_alias(), "denied");
    }

    #[test]
    fn timeliness_follows_the_766_rule() {
        let due = Utc.with_ymd_and_hms(2026, 3, 10, 10, 0, 0).unwrap(); // 17:00 local
        let same_day = Utc.with_ymd_and_hms(2026, 3, 10, 2, 0, 0).unwrap();
        let day_before = Utc.with_ymd_and_hms(2026, 3, 9, 9, 0, 0).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 3, 10, 10, 1, 0).unwrap();
        assert_eq!(
            Timeliness::classify(same_day, due, 0, 420),
            Timeliness::OnTime
        );
        assert_eq!(
            Timeliness::classify(day_before, due, 1, 420),
            Timeliness::Early
        );
        assert_eq!(Timeliness::classify(after, due, 0, 420), Timeliness::Late);
        assert_eq!(
            Timeliness::classify(day_before, due, 2, 420),
            Timeliness::Late
        );
        assert_eq!(Timeliness::classify(due, due, 0, 420), Timeliness::OnTime);
    }
}
