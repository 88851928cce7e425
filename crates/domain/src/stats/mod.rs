//! Exact statistics: the figures of the standard report (form 06 / II.06a), the counters they are
//! served from, and a straightforward reference computation over event logs that the counters
//! must agree with. The definitions are in `docs/statistics.md`; this module is their code.
//!
//! Every figure is attributed to the dossier's competent agency (the one that decides), so a
//! dossier that crosses agencies (liên thông) is counted once. Days are local days in
//! Asia/Ho_Chi_Minh (UTC+7 all year).

mod deltas;
mod form06;
mod index766;
mod keys;
mod reference;
mod spans;

pub use deltas::{
    MONTH_ROW_YEARS_BACK, ROLLUP_DAY_YEARS_BACK, ROLLUP_MONTH_YEARS_BACK, StatBefore,
    StatIncrement, month_row_date, row_date, stat_deltas, stat_increments,
};
pub use form06::{Filter, Form06, Form06Rates, Form06Row, Window};
pub use index766::{CatalogueFacts, Group, IndexWeights, Indicator, ServiceIndex, service_index};
pub use keys::{Detail, Figure, Grain, StatKey, level_str};
pub use reference::{open_bucket, reference_form06};
pub use spans::{EPOCH, Span, flow_spans, stock_spans};

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// Vietnam's offset from UTC; it has no daylight saving time.
pub const LOCAL_OFFSET_HOURS: i64 = 7;

/// The local (Asia/Ho_Chi_Minh) calendar day of an instant.
pub fn local_day(at: DateTime<Utc>) -> NaiveDate {
    (at + Duration::hours(LOCAL_OFFSET_HOURS)).date_naive()
}

#[cfg(test)]
mod tests;
