//! Which counter rows a period needs: whole months from the monthly rows, the ragged edges from
//! the daily rows, so a year is twelve rows per key rather than 365.

use super::deltas::{month_start, row_date};
use super::keys::{Detail, Grain};
use chrono::{Datelike, Days, Months, NaiveDate};

/// Rows of one grain for the days `from..=to` (for monthly rows, the months starting on `from`
/// to `to`; [`Span::rows`] gives the dates their rows carry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// Day or month rows.
    pub grain: Grain,
    /// First row date.
    pub from: NaiveDate,
    /// Last row date.
    pub to: NaiveDate,
}

impl Span {
    /// The first and last row dates to read in the rows of `detail` (every kind of row but the
    /// full daily ones is dated back, see [`super::deltas::row_date`]).
    pub fn rows(&self, detail: Detail) -> (NaiveDate, NaiveDate) {
        (
            row_date(self.grain, detail, self.from),
            row_date(self.grain, detail, self.to),
        )
    }
}

fn month_end(d: NaiveDate) -> NaiveDate {
    month_start(d)
        .checked_add_months(Months::new(1))
        .and_then(|n| n.pred_opt())
        .unwrap_or(NaiveDate::MAX)
}

/// Spans covering exactly the days `from..=to`.
pub fn flow_spans(from: NaiveDate, to: NaiveDate) -> Vec<Span> {
    let mut out = Vec::new();
    let mut cur = from;
    while cur <= to {
        let me = month_end(cur);
        if cur.day() == 1 && me <= to {
            let mut last = cur;
            while let Some(next) = last.checked_add_months(Months::new(1))
                && month_end(next) <= to
            {
                last = next;
            }
            out.push(Span {
                grain: Grain::Month,
                from: cur,
                to: last,
            });
            match month_end(last).checked_add_days(Days::new(1)) {
                Some(n) => cur = n,
                None => break,
            }
        } else {
            let end = me.min(to);
            out.push(Span {
                grain: Grain::Day,
                from: cur,
                to: end,
            });
            match end.checked_add_days(Days::new(1)) {
                Some(n) => cur = n,
                None => break,
            }
        }
    }
    out
}

/// The earliest day a counter can carry (the calendar data starts long after).
pub const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};

/// Spans covering every day up to and including `day`.
pub fn stock_spans(day: NaiveDate) -> Vec<Span> {
    flow_spans(EPOCH, day)
}
