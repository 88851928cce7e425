//! The working-time calendar: when the clock of a time limit starts, and when it runs out.
//!
//! Vietnamese procedures state their limits in working days or working hours ("… ngày làm việc",
//! "08 giờ làm việc"). A limit is a [`WorkingDuration`] (whole minutes; 8 working hours = 1
//! working day, as in the Thanh Hóa system and OpenCPS). A [`Calendar`] turns it into an instant:
//!
//! - working hours are periods of local time, by default 07:00–11:30 and 13:30–17:00 ([`WorkingHours`]);
//! - Saturday and Sunday are weekly rest days;
//! - dated exceptions override the week: a day off (holiday, day off in lieu, swapped day) or a working
//!   day (a make-up Saturday, "làm bù"), see [`DayKind`]. They are data, seeded from the embedded
//!   `data/holidays/vn_public_holidays_2010_2030.csv` and editable per year ([`Calendar::set_day`]);
//! - something received outside working time starts counting at the next working period; an optional
//!   cut-off ([`Calendar::with_cut_off`]) moves receipts at or after it to the next working day;
//! - a limit that ends exactly at the end of a period ends there (17:00), not at the next start.
//!
//! All arithmetic is done in the calendar's fixed UTC offset (Vietnam: +07:00, no daylight saving).
//! Searches are bounded, so a calendar without any working day cannot make a call loop forever:
//! a search for the next working day gives up after [`MAX_SEARCH_DAYS`] consecutive days off, and
//! [`Calendar::add_working_time`] saturates after [`MAX_SPAN_DAYS`] calendar days.

use std::collections::BTreeMap;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::sync::OnceLock;

use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Utc, Weekday,
};
use serde::{Deserialize, Serialize};

/// The embedded Vietnamese public-holiday table, 2010–2030 (vn-holidays format, MIT, see `data/holidays/SOURCE.md`).
pub const VN_HOLIDAYS_CSV: &str =
    include_str!("../../../data/holidays/vn_public_holidays_2010_2030.csv");

/// Searches for a working day give up after this many consecutive days off (about 20 years).
pub const MAX_SEARCH_DAYS: u32 = 7_305;

/// [`Calendar::add_working_time`] never goes further than this many calendar days (about 100 years).
pub const MAX_SPAN_DAYS: u32 = 36_525;

/// Minutes in one working day (8 working hours).
const MINUTES_PER_DAY: i64 = 8 * 60;

/// Vietnam's UTC offset in minutes (+07:00).
const VN_UTC_OFFSET_MINUTES: i32 = 7 * 60;

// ---------------------------------------------------------------------------------------------
// WorkingDuration
// ---------------------------------------------------------------------------------------------

/// A span of working time, in whole minutes. 8 working hours = 1 working day.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(from = "RawDuration")]
pub struct WorkingDuration {
    minutes: i64,
}

/// Wire form of [`WorkingDuration`]; negative values are clamped to zero on the way in.
#[derive(Deserialize)]
struct RawDuration {
    minutes: i64,
}

impl From<RawDuration> for WorkingDuration {
    fn from(raw: RawDuration) -> Self {
        WorkingDuration::minutes(raw.minutes)
    }
}

impl WorkingDuration {
    /// No working time at all.
    pub const ZERO: WorkingDuration = WorkingDuration { minutes: 0 };

    /// `m` working minutes (negative values become zero).
    pub fn minutes(m: i64) -> Self {
        WorkingDuration { minutes: m.max(0) }
    }

    /// `h` working hours (saturating; negative values become zero).
    pub fn hours(h: i64) -> Self {
        Self::minutes(h.saturating_mul(60))
    }

    /// `d` working days of 8 working hours each (saturating; negative values become zero).
    pub fn days(d: i64) -> Self {
        Self::minutes(d.saturating_mul(MINUTES_PER_DAY))
    }

    /// The duration in whole working minutes.
    pub fn as_minutes(self) -> i64 {
        self.minutes
    }

    /// `floor(minutes × num / den)`, e.g. a step's share of a limit; zero if `den` is zero or the result is negative.
    pub fn mul_ratio(self, num: i64, den: i64) -> Self {
        if den == 0 {
            return Self::ZERO;
        }
        let q = (i128::from(self.minutes) * i128::from(num)).div_euclid(i128::from(den));
        Self::minutes(q.clamp(0, i128::from(i64::MAX)) as i64)
    }
}

impl Add for WorkingDuration {
    type Output = WorkingDuration;
    /// Saturating sum.
    fn add(self, rhs: Self) -> Self {
        WorkingDuration::minutes(self.minutes.saturating_add(rhs.minutes))
    }
}

impl Sub for WorkingDuration {
    type Output = WorkingDuration;
    /// Difference, saturating at zero.
    fn sub(self, rhs: Self) -> Self {
        WorkingDuration::minutes(self.minutes.saturating_sub(rhs.minutes))
    }
}

impl AddAssign for WorkingDuration {
    fn add_assign(&mut self, rhs: Self) {
        *self = *self + rhs;
    }
}

impl SubAssign for WorkingDuration {
    fn sub_assign(&mut self, rhs: Self) {
        *self = *self - rhs;
    }
}

impl std::iter::Sum for WorkingDuration {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::ZERO, Add::add)
    }
}

// ---------------------------------------------------------------------------------------------
// WorkingHours, DayKind, CalendarError
// ---------------------------------------------------------------------------------------------

/// Working hours of one day as periods in local time, e.g. [07:00-11:30, 13:30-17:00].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingHours {
    /// `(start, end)` pairs, in order, non-overlapping, on whole minutes; a period is `[start, end)`.
    pub periods: Vec<(NaiveTime, NaiveTime)>,
}

impl Default for WorkingHours {
    /// The common provincial default: 07:00–11:30 and 13:30–17:00 (8 hours).
    fn default() -> Self {
        WorkingHours {
            periods: vec![(hm(7, 0), hm(11, 30)), (hm(13, 30), hm(17, 0))],
        }
    }
}

impl WorkingHours {
    /// Validated working hours: at least one period, each `start < end`, ordered, non-overlapping, whole minutes.
    pub fn new(periods: Vec<(NaiveTime, NaiveTime)>) -> Result<Self, CalendarError> {
        let hours = WorkingHours { periods };
        hours.validate()?;
        Ok(hours)
    }

    /// Checks the invariants listed on [`WorkingHours::new`].
    pub fn validate(&self) -> Result<(), CalendarError> {
        if self.periods.is_empty() {
            return Err(CalendarError::InvalidHours("no working period".into()));
        }
        let whole = |t: NaiveTime| t.second() == 0 && t.nanosecond() == 0;
        for (i, &(start, end)) in self.periods.iter().enumerate() {
            if !whole(start) || !whole(end) {
                return Err(CalendarError::InvalidHours(format!(
                    "period {start}-{end} is not on whole minutes"
                )));
            }
            if start >= end {
                return Err(CalendarError::InvalidHours(format!(
                    "period {start}-{end} does not end after it starts"
                )));
            }
            if i > 0 && self.periods[i - 1].1 > start {
                return Err(CalendarError::InvalidHours(format!(
                    "period {start}-{end} overlaps or precedes the one before it"
                )));
            }
        }
        Ok(())
    }

    /// Total working time of one working day under these hours.
    pub fn daily_total(&self) -> WorkingDuration {
        WorkingDuration::minutes(
            self.periods
                .iter()
                .map(|&(s, e)| (e - s).num_minutes())
                .sum(),
        )
    }
}

/// What a dated exception does: a day off (holiday, in lieu, swapped) or a working day (make-up Saturday).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DayKind {
    /// No work that day, whatever the weekday.
    DayOff,
    /// A working day even if it falls on a weekly rest day.
    WorkingDay,
}

/// Why a calendar could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A line of the holidays CSV is malformed (line 1 is the header).
    #[error("holidays CSV line {line}: {reason}")]
    BadRow {
        /// 1-based line number in the CSV text.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The working hours are unusable.
    #[error("invalid working hours: {0}")]
    InvalidHours(String),
    /// Some other setting is unusable (UTC offset, weekly rest days).
    #[error("invalid calendar: {0}")]
    Invalid(String),
}

/// One dated exception: a day off or a (make-up) working day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayException {
    /// The date.
    pub date: NaiveDate,
    /// Day off or working day.
    pub kind: DayKind,
    /// Why, e.g. "Nghỉ bù Quốc khánh".
    #[serde(default)]
    pub name: String,
}

/// An agency's own calendar settings over the province calendar (all optional).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarSettings {
    /// Working periods, if the agency keeps other hours.
    #[serde(default)]
    pub hours: Option<WorkingHours>,
    /// Receipt at or after this local time counts from the next working period.
    #[serde(default)]
    pub cut_off: Option<NaiveTime>,
    /// Extra or changed dated exceptions.
    #[serde(default)]
    pub days: Vec<DayException>,
}

// ---------------------------------------------------------------------------------------------
// Calendar
// ---------------------------------------------------------------------------------------------

/// Working hours, weekly rest days and dated exceptions of one agency, in a fixed UTC offset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CalendarRepr")]
pub struct Calendar {
    hours: WorkingHours,
    weekly_rest_days: Vec<Weekday>,
    days: BTreeMap<NaiveDate, (DayKind, String)>,
    utc_offset_minutes: i32,
    cut_off: Option<NaiveTime>,
}

/// Unvalidated wire form of [`Calendar`].
#[derive(Deserialize)]
struct CalendarRepr {
    hours: WorkingHours,
    weekly_rest_days: Vec<Weekday>,
    days: BTreeMap<NaiveDate, (DayKind, String)>,
    utc_offset_minutes: i32,
    cut_off: Option<NaiveTime>,
}

impl TryFrom<CalendarRepr> for Calendar {
    type Error = CalendarError;

    fn try_from(r: CalendarRepr) -> Result<Self, CalendarError> {
        r.hours.validate()?;
        if r.utc_offset_minutes.abs() >= 24 * 60 {
            return Err(CalendarError::Invalid(format!(
                "UTC offset of {} minutes",
                r.utc_offset_minutes
            )));
        }
        let mut rest = Vec::with_capacity(7);
        for d in r.weekly_rest_days {
            if !rest.contains(&d) {
                rest.push(d);
            }
        }
        if rest.len() >= 7 {
            return Err(CalendarError::Invalid("every weekday is a rest day".into()));
        }
        Ok(Calendar {
            hours: r.hours,
            weekly_rest_days: rest,
            days: r.days,
            utc_offset_minutes: r.utc_offset_minutes,
            cut_off: r.cut_off,
        })
    }
}

impl Calendar {
    /// Vietnamese public-sector defaults: Mon–Fri, 07:00–11:30 and 13:30–17:00, UTC+7,
    /// holidays/in-lieu/swapped days and make-up Saturdays from the embedded CSV (2010–2030), no cut-off.
    pub fn vietnam_default() -> Calendar {
        static DEFAULT: OnceLock<Calendar> = OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                Calendar::from_holidays_csv(VN_HOLIDAYS_CSV, WorkingHours::default())
                    .expect("the embedded holidays CSV is valid (checked by tests)")
            })
            .clone()
    }

    /// Builds from a holidays CSV in the vn-holidays format (columns date,weekday,name_vi,name_en,kind,makeup_working_day).
    ///
    /// Kinds `holiday`, `observed_in_lieu`, `substituted_day_off` (and `day_off`) are days off; a
    /// non-empty `makeup_working_day` adds that date as a working day; kind `working_day` rows are
    /// working days. Only `date` and `kind` are required columns. Weekends are Saturday and Sunday,
    /// the offset is UTC+7, there is no cut-off. A date listed both as a day off and as a working
    /// day is an error; repeated rows of the same kind keep the first name.
    pub fn from_holidays_csv(
        csv_text: &str,
        hours: WorkingHours,
    ) -> Result<Calendar, CalendarError> {
        hours.validate()?;
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(csv_text.as_bytes());
        let header_error = |reason: String| CalendarError::BadRow { line: 1, reason };
        let headers = reader
            .headers()
            .map_err(|e| header_error(e.to_string()))?
            .clone();
        let column = |name: &str| headers.iter().position(|h| h == name);
        let date_col =
            column("date").ok_or_else(|| header_error("missing column `date`".into()))?;
        let kind_col =
            column("kind").ok_or_else(|| header_error("missing column `kind`".into()))?;
        let name_vi_col = column("name_vi");
        let name_en_col = column("name_en");
        let makeup_col = column("makeup_working_day");

        let mut days: BTreeMap<NaiveDate, (DayKind, String)> = BTreeMap::new();
        for record in reader.records() {
            let record = record.map_err(|e| CalendarError::BadRow {
                line: e.position().map_or(0, |p| p.line()),
                reason: e.to_string(),
            })?;
            let line = record.position().map_or(0, |p| p.line());
            let bad = |reason: String| CalendarError::BadRow { line, reason };
            let field = |col: Option<usize>| col.and_then(|c| record.get(c)).unwrap_or("");
            let parse_date = |text: &str| {
                NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map_err(|e| bad(format!("bad date `{text}`: {e}")))
            };

            let date = parse_date(field(Some(date_col)))?;
            let kind_text = field(Some(kind_col));
            let kind = match kind_text {
                "holiday" | "observed_in_lieu" | "substituted_day_off" | "day_off" => {
                    DayKind::DayOff
                }
                "working_day" => DayKind::WorkingDay,
                other => return Err(bad(format!("unknown kind `{other}`"))),
            };
            let name = [field(name_vi_col), field(name_en_col), kind_text]
                .into_iter()
                .find(|s| !s.is_empty())
                .unwrap_or_default()
                .to_string();
            insert_exception(&mut days, date, kind, name).map_err(bad)?;

            let makeup = field(makeup_col);
            if !makeup.is_empty() {
                let makeup_date = parse_date(makeup)?;
                let name = format!("Ngày làm bù (cho ngày nghỉ {})", date.format("%d/%m/%Y"));
                insert_exception(&mut days, makeup_date, DayKind::WorkingDay, name).map_err(bad)?;
            }
        }
        Ok(Calendar {
            hours,
            weekly_rest_days: vec![Weekday::Sat, Weekday::Sun],
            days,
            utc_offset_minutes: VN_UTC_OFFSET_MINUTES,
            cut_off: None,
        })
    }

    /// Sets the cut-off: something received at or after it on a working day counts from the next working day's start.
    pub fn with_cut_off(mut self, cut_off: Option<NaiveTime>) -> Calendar {
        self.cut_off = cut_off;
        self
    }

    /// Marks `date` as a day off or a working day named `name`, replacing any previous exception.
    pub fn set_day(&mut self, date: NaiveDate, kind: DayKind, name: &str) {
        self.days.insert(date, (kind, name.to_string()));
    }

    /// This calendar with an agency's own settings layered on top: its working hours and
    /// cut-off if given, and its dated exceptions (which win over the province's).
    pub fn with_settings(&self, s: &CalendarSettings) -> Result<Calendar, CalendarError> {
        let mut c = self.clone();
        if let Some(h) = &s.hours {
            h.validate()?;
            c.hours = h.clone();
        }
        if s.cut_off.is_some() {
            c.cut_off = s.cut_off;
        }
        for d in &s.days {
            c.days.insert(d.date, (d.kind, d.name.clone()));
        }
        Ok(c)
    }

    /// Removes any exception on `date`, so the weekly rule applies again.
    pub fn remove_day(&mut self, date: NaiveDate) {
        self.days.remove(&date);
    }

    /// The working hours of every working day.
    pub fn hours(&self) -> &WorkingHours {
        &self.hours
    }

    /// The cut-off time, if any.
    pub fn cut_off(&self) -> Option<NaiveTime> {
        self.cut_off
    }

    /// The weekly rest days (Saturday and Sunday by default).
    pub fn weekly_rest_days(&self) -> &[Weekday] {
        &self.weekly_rest_days
    }

    /// The offset of local time from UTC, in minutes (+420 for Vietnam).
    pub fn utc_offset_minutes(&self) -> i32 {
        self.utc_offset_minutes
    }

    /// All dated exceptions in date order: `(date, kind, name)`.
    pub fn exceptions(&self) -> impl Iterator<Item = (NaiveDate, DayKind, &str)> + '_ {
        self.days.iter().map(|(d, (k, n))| (*d, *k, n.as_str()))
    }

    /// Whether `date` is a working day (exceptions first, then the weekly rest days).
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.days.get(&date) {
            Some((DayKind::DayOff, _)) => false,
            Some((DayKind::WorkingDay, _)) => true,
            None => !self.is_rest_weekday(date.weekday()),
        }
    }

    /// The name of the dated day off on `date` (holiday, in lieu, swapped), if there is one; `None` for plain weekends.
    pub fn day_off_name(&self, date: NaiveDate) -> Option<&str> {
        match self.days.get(&date) {
            Some((DayKind::DayOff, name)) => Some(name.as_str()),
            _ => None,
        }
    }

    /// When the clock starts for something received at `at`: `at` itself if inside a working period
    /// (and before the cut-off), else the start of the next working period.
    pub fn clock_start(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        self.from_local(self.clock_start_local(self.to_local(at)))
    }

    /// The instant reached after `d` of working time counted from `from` (clock_start applied first).
    /// When the end falls exactly on the end of a period, return that end (17:00), not the next start.
    ///
    /// Costs O(calendar days spanned); saturates [`MAX_SPAN_DAYS`] calendar days after `from`.
    pub fn add_working_time(&self, from: DateTime<Utc>, d: WorkingDuration) -> DateTime<Utc> {
        let start = self.clock_start_local(self.to_local(from));
        self.from_local(self.add_local(start, d))
    }

    /// Working time between two instants (zero if to <= from); inverse of add_working_time.
    ///
    /// This measures the overlap with working periods, rounded down to whole minutes, and ignores the
    /// cut-off, so it is additive over any split point. `working_time_between(clock_start(x),
    /// add_working_time(x, d)) == d` always holds; without a cut-off `clock_start(x)` may be replaced by `x`.
    /// Costs O(log n + exceptions in range).
    pub fn working_time_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> WorkingDuration {
        if to <= from {
            return WorkingDuration::ZERO;
        }
        let (a, b) = (self.to_local(from), self.to_local(to));
        let (da, db) = (a.date(), b.date());
        if da == db {
            return WorkingDuration::minutes(
                self.overlap(da, a.time(), Some(b.time())).num_minutes(),
            );
        }
        let partial =
            self.overlap(da, a.time(), None) + self.overlap(db, NaiveTime::MIN, Some(b.time()));
        let whole_days = match da.succ_opt() {
            Some(next) => self.count_working_days(next, db),
            None => 0,
        };
        let per_day = self.hours.daily_total().as_minutes();
        WorkingDuration::minutes(
            partial
                .num_minutes()
                .saturating_add(whole_days.saturating_mul(per_day)),
        )
    }

    /// Start of the first working period of the next working day strictly after `date`.
    ///
    /// Returns the date; if no working day follows within [`MAX_SEARCH_DAYS`], returns the last date searched.
    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        let mut d = date;
        for _ in 0..MAX_SEARCH_DAYS {
            match d.succ_opt() {
                Some(next) => d = next,
                None => return d,
            }
            if self.is_working_day(d) {
                return d;
            }
        }
        d
    }

    /// The local wall-clock time of `at` in this calendar's offset.
    pub fn to_local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        add_saturating(
            at.naive_utc(),
            TimeDelta::minutes(i64::from(self.utc_offset_minutes)),
        )
    }

    /// The instant of local wall-clock time `local` in this calendar's offset.
    pub fn from_local(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let utc = add_saturating(
            local,
            TimeDelta::minutes(-i64::from(self.utc_offset_minutes)),
        );
        DateTime::from_naive_utc_and_offset(utc, Utc)
    }

    // --- internals, all in local time ------------------------------------------------------

    fn is_rest_weekday(&self, weekday: Weekday) -> bool {
        self.weekly_rest_days.contains(&weekday)
    }

    fn first_start(&self, date: NaiveDate) -> NaiveDateTime {
        date.and_time(self.hours.periods[0].0)
    }

    fn clock_start_local(&self, local: NaiveDateTime) -> NaiveDateTime {
        let (date, time) = (local.date(), local.time());
        if self.is_working_day(date) && self.cut_off.is_none_or(|c| time < c) {
            for &(start, end) in &self.hours.periods {
                if time < end {
                    return if time < start {
                        date.and_time(start)
                    } else {
                        local
                    };
                }
            }
        }
        self.first_start(self.next_working_day(date))
    }

    /// Adds `d` of working time to `start`, which must already be a clock start.
    fn add_local(&self, start: NaiveDateTime, d: WorkingDuration) -> NaiveDateTime {
        // More than MAX_SPAN_DAYS of wall-clock minutes cannot be consumed anyway: cap to keep TimeDelta in range.
        let cap = (i64::from(MAX_SPAN_DAYS) + 1) * 24 * 60;
        let mut remaining = TimeDelta::minutes(d.as_minutes().min(cap));
        let per_day = TimeDelta::minutes(self.hours.daily_total().as_minutes());
        let mut date = start.date();
        let mut from = start;
        let mut days_spanned: u32 = 0;
        loop {
            // Consume the periods of `date` from `from` onwards.
            for &(s, e) in &self.hours.periods {
                let (ps, pe) = (date.and_time(s), date.and_time(e));
                if from >= pe {
                    continue;
                }
                let begin = from.max(ps);
                let available = pe - begin;
                if remaining <= available {
                    return begin + remaining;
                }
                remaining -= available;
            }
            // Whole working days after that, then the day where the limit ends.
            loop {
                let next = self.next_working_day(date);
                let step = u32::try_from((next - date).num_days()).unwrap_or(u32::MAX);
                days_spanned = days_spanned.saturating_add(step);
                if next <= date || days_spanned > MAX_SPAN_DAYS {
                    return next.and_time(NaiveTime::MIN);
                }
                date = next;
                if remaining <= per_day {
                    break;
                }
                remaining -= per_day;
            }
            from = self.first_start(date);
        }
    }

    /// Working time on `date` within `[t0, t1)` (`t1 = None`: to the end of the day).
    fn overlap(&self, date: NaiveDate, t0: NaiveTime, t1: Option<NaiveTime>) -> TimeDelta {
        if !self.is_working_day(date) {
            return TimeDelta::zero();
        }
        let mut total = TimeDelta::zero();
        for &(s, e) in &self.hours.periods {
            let begin = s.max(t0);
            let end = t1.map_or(e, |t1| e.min(t1));
            if end > begin {
                total += end - begin;
            }
        }
        total
    }

    /// Number of working days in `[start, end)`.
    fn count_working_days(&self, start: NaiveDate, end: NaiveDate) -> i64 {
        if end <= start {
            return 0;
        }
        let n = (end - start).num_days();
        let working_per_week = 7 - self.weekly_rest_days.len() as i64;
        let mut count = (n / 7) * working_per_week;
        let mut weekday = start.weekday();
        for _ in 0..n % 7 {
            if !self.is_rest_weekday(weekday) {
                count += 1;
            }
            weekday = weekday.succ();
        }
        for (date, (kind, _)) in self.days.range(start..end) {
            match (kind, self.is_rest_weekday(date.weekday())) {
                (DayKind::DayOff, false) => count -= 1,
                (DayKind::WorkingDay, true) => count += 1,
                _ => {}
            }
        }
        count
    }
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("valid time")
}

fn add_saturating(t: NaiveDateTime, d: TimeDelta) -> NaiveDateTime {
    t.checked_add_signed(d).unwrap_or(if d < TimeDelta::zero() {
        NaiveDateTime::MIN
    } else {
        NaiveDateTime::MAX
    })
}

fn insert_exception(
    days: &mut BTreeMap<NaiveDate, (DayKind, String)>,
    date: NaiveDate,
    kind: DayKind,
    name: String,
) -> Result<(), String> {
    match days.get(&date) {
        Some((existing, _)) if *existing != kind => Err(format!(
            "{date} is listed both as a day off and as a working day"
        )),
        Some(_) => Ok(()),
        None => {
            days.insert(date, (kind, name));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cal() -> Calendar {
        Calendar::vietnam_default()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// An instant given in Vietnamese local time.
    fn vn(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        cal().from_local(date(y, mo, d).and_hms_opt(h, mi, 0).unwrap())
    }

    fn parse_vn(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M%:z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn deadline_cases_from_shared_data() {
        // Copied from /work/shared/data/vn-deadline-cases/cases.csv.
        let cases = [
            (
                "P1",
                "2026-03-03T08:00+07:00",
                5,
                "working_days",
                "2026-03-10T08:00+07:00",
            ),
            (
                "P2",
                "2026-03-07T09:00+07:00",
                1,
                "working_days",
                "2026-03-09T17:00+07:00",
            ),
            (
                "P3",
                "2026-02-16T10:00+07:00",
                2,
                "working_days",
                "2026-02-24T17:00+07:00",
            ),
            (
                "P4",
                "2026-06-10T17:30+07:00",
                1,
                "working_days",
                "2026-06-11T17:00+07:00",
            ),
            (
                "P5",
                "2026-06-12T12:00+07:00",
                4,
                "working_hours",
                "2026-06-15T07:30+07:00",
            ),
            (
                "P6",
                "2026-08-21T10:00+07:00",
                1,
                "working_days",
                "2026-08-22T10:00+07:00",
            ),
        ];
        let c = cal();
        for (id, received, limit, unit, due) in cases {
            let d = match unit {
                "working_days" => WorkingDuration::days(limit),
                "working_hours" => WorkingDuration::hours(limit),
                _ => unreachable!(),
            };
            let received = parse_vn(received);
            let got = c.add_working_time(received, d);
            assert_eq!(got, parse_vn(due), "case {id}");
            assert_eq!(
                c.working_time_between(received, got),
                d,
                "case {id} inverse"
            );
        }
    }

    #[test]
    fn embedded_csv_loads() {
        let c = cal();
        assert_eq!(c.exceptions().count(), 296 + 13);
        assert_eq!(c.utc_offset_minutes(), 420);
        assert_eq!(c.hours(), &WorkingHours::default());
        assert_eq!(c.cut_off(), None);
        assert_eq!(c.weekly_rest_days(), &[Weekday::Sat, Weekday::Sun]);
        assert_eq!(c.hours().daily_total(), WorkingDuration::days(1));
    }

    #[test]
    fn tet_2026() {
        let c = cal();
        for d in 16..=20 {
            assert!(!c.is_working_day(date(2026, 2, d)), "{d} Feb");
        }
        assert_eq!(c.day_off_name(date(2026, 2, 17)), Some("Tết Nguyên Đán"));
        assert_eq!(c.day_off_name(date(2026, 2, 14)), None); // a plain Saturday
        assert_eq!(c.next_working_day(date(2026, 2, 13)), date(2026, 2, 23));
        assert_eq!(
            c.add_working_time(vn(2026, 2, 13, 10, 0), WorkingDuration::days(1)),
            vn(2026, 2, 23, 10, 0)
        );
        assert_eq!(
            c.working_time_between(vn(2026, 2, 13, 7, 0), vn(2026, 2, 24, 7, 0)),
            WorkingDuration::days(2)
        );
    }

    #[test]
    fn reunification_and_labour_day_2026() {
        let c = cal();
        assert!(!c.is_working_day(date(2026, 4, 30)));
        assert!(!c.is_working_day(date(2026, 5, 1)));
        assert!(c.is_working_day(date(2026, 5, 4)));
        assert_eq!(
            c.add_working_time(vn(2026, 4, 29, 10, 0), WorkingDuration::days(1)),
            vn(2026, 5, 4, 10, 0)
        );
    }

    #[test]
    fn national_day_2026_with_makeup_saturday() {
        let c = cal();
        assert!(
            c.is_working_day(date(2026, 8, 22)),
            "Saturday 22/08 is worked"
        );
        assert!(!c.is_working_day(date(2026, 8, 23)));
        assert!(c.day_off_name(date(2026, 8, 22)).is_none());
        for d in [date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2)] {
            assert!(!c.is_working_day(d), "{d}");
            assert!(c.day_off_name(d).is_some());
        }
        assert_eq!(c.next_working_day(date(2026, 8, 21)), date(2026, 8, 22));
        assert_eq!(c.next_working_day(date(2026, 8, 28)), date(2026, 9, 3));
        assert_eq!(
            c.add_working_time(vn(2026, 8, 28, 10, 0), WorkingDuration::days(1)),
            vn(2026, 9, 3, 10, 0)
        );
        // Received on the make-up Saturday itself: it counts.
        assert_eq!(c.clock_start(vn(2026, 8, 22, 9, 0)), vn(2026, 8, 22, 9, 0));
    }

    #[test]
    fn gio_to_2026_in_lieu() {
        let c = cal();
        assert!(!c.is_working_day(date(2026, 4, 26)));
        assert_eq!(
            c.day_off_name(date(2026, 4, 26)),
            Some("Ngày Giỗ Tổ Hùng Vương")
        );
        assert!(!c.is_working_day(date(2026, 4, 27)));
        assert!(c.is_working_day(date(2026, 4, 28)));
        assert_eq!(
            c.add_working_time(vn(2026, 4, 24, 10, 0), WorkingDuration::days(1)),
            vn(2026, 4, 28, 10, 0)
        );
    }

    #[test]
    fn reception_times() {
        let c = cal();
        // Tuesday 9 June 2026.
        let minute = WorkingDuration::minutes(1);
        assert_eq!(
            c.clock_start(vn(2026, 6, 9, 16, 59)),
            vn(2026, 6, 9, 16, 59)
        );
        assert_eq!(
            c.add_working_time(vn(2026, 6, 9, 16, 59), minute),
            vn(2026, 6, 9, 17, 0)
        );
        assert_eq!(
            c.add_working_time(vn(2026, 6, 9, 16, 59), WorkingDuration::minutes(2)),
            vn(2026, 6, 10, 7, 1)
        );
        assert_eq!(c.clock_start(vn(2026, 6, 9, 17, 0)), vn(2026, 6, 10, 7, 0));
        assert_eq!(c.clock_start(vn(2026, 6, 9, 7, 0)), vn(2026, 6, 9, 7, 0));
        assert_eq!(
            c.clock_start(vn(2026, 6, 9, 11, 29)),
            vn(2026, 6, 9, 11, 29)
        );
        assert_eq!(
            c.clock_start(vn(2026, 6, 9, 11, 30)),
            vn(2026, 6, 9, 13, 30)
        );
        assert_eq!(
            c.clock_start(vn(2026, 6, 9, 12, 15)),
            vn(2026, 6, 9, 13, 30)
        );
        assert_eq!(c.clock_start(vn(2026, 6, 9, 6, 30)), vn(2026, 6, 9, 7, 0));
        assert_eq!(c.clock_start(vn(2026, 6, 9, 0, 0)), vn(2026, 6, 9, 7, 0));
        assert_eq!(c.clock_start(vn(2026, 6, 9, 23, 59)), vn(2026, 6, 10, 7, 0));
        // Sunday 14 June and Friday evening 12 June: Monday 07:00.
        assert_eq!(c.clock_start(vn(2026, 6, 14, 10, 0)), vn(2026, 6, 15, 7, 0));
        assert_eq!(c.clock_start(vn(2026, 6, 12, 17, 0)), vn(2026, 6, 15, 7, 0));
        // Ending exactly at the end of the morning / of the day stays there.
        assert_eq!(
            c.add_working_time(vn(2026, 6, 9, 7, 0), WorkingDuration::minutes(270)),
            vn(2026, 6, 9, 11, 30)
        );
        assert_eq!(
            c.add_working_time(vn(2026, 6, 9, 7, 0), WorkingDuration::days(1)),
            vn(2026, 6, 9, 17, 0)
        );
        assert_eq!(
            c.add_working_time(vn(2026, 6, 12, 7, 0), WorkingDuration::days(1)),
            vn(2026, 6, 12, 17, 0)
        );
        // Seconds are kept: the limit runs from the exact moment of receipt.
        let odd = vn(2026, 6, 9, 9, 0) + TimeDelta::seconds(30);
        assert_eq!(c.add_working_time(odd, minute), odd + TimeDelta::minutes(1));
        // UTC round trip of the local view.
        assert_eq!(
            c.to_local(vn(2026, 6, 9, 3, 0)),
            date(2026, 6, 9).and_hms_opt(3, 0, 0).unwrap()
        );
        assert_eq!(
            vn(2026, 6, 9, 3, 0).naive_utc(),
            date(2026, 6, 8).and_hms_opt(20, 0, 0).unwrap()
        );
    }

    #[test]
    fn cut_off_at_15() {
        let c = cal().with_cut_off(Some(hm(15, 0)));
        assert_eq!(c.cut_off(), Some(hm(15, 0)));
        assert_eq!(
            c.clock_start(vn(2026, 6, 9, 14, 59)),
            vn(2026, 6, 9, 14, 59)
        );
        assert_eq!(c.clock_start(vn(2026, 6, 9, 15, 0)), vn(2026, 6, 10, 7, 0));
        assert_eq!(c.clock_start(vn(2026, 6, 9, 16, 0)), vn(2026, 6, 10, 7, 0));
        assert_eq!(c.clock_start(vn(2026, 6, 9, 12, 0)), vn(2026, 6, 9, 13, 30));
        assert_eq!(
            c.clock_start(vn(2026, 6, 12, 15, 30)),
            vn(2026, 6, 15, 7, 0)
        );
        let received = vn(2026, 6, 9, 15, 0);
        let due = c.add_working_time(received, WorkingDuration::days(1));
        assert_eq!(due, vn(2026, 6, 10, 17, 0));
        // The cut-off is a receipt rule; the measurement itself ignores it.
        assert_eq!(
            c.working_time_between(c.clock_start(received), due),
            WorkingDuration::days(1)
        );
        assert_eq!(
            c.working_time_between(received, due),
            WorkingDuration::days(1) + WorkingDuration::hours(2)
        );
        assert_eq!(cal().with_cut_off(None).cut_off(), None);
    }

    #[test]
    fn zero_duration() {
        let c = cal();
        let z = WorkingDuration::ZERO;
        assert_eq!(
            c.add_working_time(vn(2026, 6, 9, 9, 0), z),
            vn(2026, 6, 9, 9, 0)
        );
        assert_eq!(
            c.add_working_time(vn(2026, 6, 9, 12, 0), z),
            vn(2026, 6, 9, 13, 30)
        );
        assert_eq!(
            c.add_working_time(vn(2026, 6, 9, 17, 0), z),
            vn(2026, 6, 10, 7, 0)
        );
        let t = vn(2026, 6, 9, 9, 0);
        assert_eq!(c.working_time_between(t, t), z);
        assert_eq!(c.working_time_between(t, t - TimeDelta::hours(5)), z);
        assert_eq!(
            c.working_time_between(vn(2026, 6, 9, 17, 0), vn(2026, 6, 10, 7, 0)),
            z
        );
    }

    #[test]
    fn hours_limits() {
        let c = cal();
        // 8 working hours = next working day, same time.
        assert_eq!(
            c.add_working_time(vn(2026, 6, 9, 9, 15), WorkingDuration::hours(8)),
            vn(2026, 6, 10, 9, 15)
        );
        assert_eq!(
            c.add_working_time(vn(2026, 6, 9, 14, 0), WorkingDuration::hours(8)),
            vn(2026, 6, 10, 14, 0)
        );
        assert_eq!(
            c.add_working_time(vn(2026, 6, 12, 10, 0), WorkingDuration::hours(8)),
            vn(2026, 6, 15, 10, 0)
        );
        // 2 hours spill over lunch.
        assert_eq!(
            c.add_working_time(vn(2026, 6, 9, 10, 30), WorkingDuration::hours(2)),
            vn(2026, 6, 9, 14, 30)
        );
        assert_eq!(WorkingDuration::hours(8), WorkingDuration::days(1));
        // 60 working days from a Monday morning.
        let from = vn(2026, 3, 2, 7, 0);
        let due = c.add_working_time(from, WorkingDuration::days(60));
        assert_eq!(c.working_time_between(from, due), WorkingDuration::days(60));
        assert_eq!(c.to_local(due).time(), hm(17, 0));
    }

    #[test]
    fn custom_hours_one_period() {
        let hours = WorkingHours::new(vec![(hm(8, 0), hm(12, 0))]).unwrap();
        assert_eq!(hours.daily_total(), WorkingDuration::hours(4));
        let c = Calendar::from_holidays_csv(VN_HOLIDAYS_CSV, hours).unwrap();
        // 8 h = two 4-hour days: Mon 10-12, Tue 8-12, Wed 8-10.
        assert_eq!(
            c.add_working_time(vn(2026, 6, 8, 10, 0), WorkingDuration::days(1)),
            vn(2026, 6, 10, 10, 0)
        );
        assert_eq!(c.clock_start(vn(2026, 6, 8, 13, 0)), vn(2026, 6, 9, 8, 0));
        assert_eq!(c.clock_start(vn(2026, 6, 8, 7, 0)), vn(2026, 6, 8, 8, 0));
        assert_eq!(
            c.add_working_time(vn(2026, 6, 8, 8, 0), WorkingDuration::hours(4)),
            vn(2026, 6, 8, 12, 0)
        );
        assert_eq!(
            c.working_time_between(vn(2026, 6, 8, 0, 0), vn(2026, 6, 13, 0, 0)),
            WorkingDuration::hours(20)
        );
    }

    #[test]
    fn invalid_hours_rejected() {
        let err = |p: Vec<(NaiveTime, NaiveTime)>| WorkingHours::new(p).unwrap_err();
        assert!(matches!(err(vec![]), CalendarError::InvalidHours(_)));
        assert!(matches!(
            err(vec![(hm(9, 0), hm(9, 0))]),
            CalendarError::InvalidHours(_)
        ));
        assert!(matches!(
            err(vec![(hm(7, 0), hm(12, 0)), (hm(11, 0), hm(17, 0))]),
            CalendarError::InvalidHours(_)
        ));
        assert!(matches!(
            err(vec![(hm(13, 0), hm(17, 0)), (hm(7, 0), hm(11, 0))]),
            CalendarError::InvalidHours(_)
        ));
        let seconds = NaiveTime::from_hms_opt(7, 0, 30).unwrap();
        assert!(matches!(
            err(vec![(seconds, hm(11, 0))]),
            CalendarError::InvalidHours(_)
        ));
        let empty = WorkingHours { periods: vec![] };
        assert!(Calendar::from_holidays_csv(VN_HOLIDAYS_CSV, empty).is_err());
    }

    const HEADER: &str = "date,weekday,name_vi,name_en,kind,makeup_working_day\n";

    #[test]
    fn csv_bad_rows_name_the_line() {
        let bad_date = format!(
            "{HEADER}2026-01-01,Thu,Tết Dương lịch,New Year's Day,holiday,\n2026-13-01,Thu,X,X,holiday,\n"
        );
        let e = Calendar::from_holidays_csv(&bad_date, WorkingHours::default()).unwrap_err();
        assert!(matches!(e, CalendarError::BadRow { line: 3, .. }), "{e:?}");
        assert!(e.to_string().contains("line 3"), "{e}");

        let bad_kind = format!("{HEADER}2026-01-01,Thu,A,A,party,\n");
        let e = Calendar::from_holidays_csv(&bad_kind, WorkingHours::default()).unwrap_err();
        assert!(
            matches!(&e, CalendarError::BadRow { line: 2, reason } if reason.contains("party")),
            "{e:?}"
        );

        let bad_makeup = format!("{HEADER}2026-01-01,Thu,A,A,substituted_day_off,someday\n");
        let e = Calendar::from_holidays_csv(&bad_makeup, WorkingHours::default()).unwrap_err();
        assert!(matches!(e, CalendarError::BadRow { line: 2, .. }), "{e:?}");

        let ragged = format!("{HEADER}2026-01-01,Thu,A\n");
        let e = Calendar::from_holidays_csv(&ragged, WorkingHours::default()).unwrap_err();
        assert!(matches!(e, CalendarError::BadRow { line: 2, .. }), "{e:?}");

        let conflict = format!(
            "{HEADER}2026-08-31,Mon,A,A,substituted_day_off,2026-08-22\n2026-08-22,Sat,B,B,holiday,\n"
        );
        let e = Calendar::from_holidays_csv(&conflict, WorkingHours::default()).unwrap_err();
        assert!(matches!(e, CalendarError::BadRow { line: 3, .. }), "{e:?}");

        let no_kind = "date,name_vi\n2026-01-01,A\n";
        let e = Calendar::from_holidays_csv(no_kind, WorkingHours::default()).unwrap_err();
        assert!(matches!(e, CalendarError::BadRow { line: 1, .. }), "{e:?}");
    }

    #[test]
    fn csv_minimal_columns_and_working_day_kind() {
        let text = "kind,date\nholiday,2027-01-01\nworking_day,2027-01-02\n";
        let c = Calendar::from_holidays_csv(text, WorkingHours::default()).unwrap();
        assert!(!c.is_working_day(date(2027, 1, 1)));
        assert_eq!(c.day_off_name(date(2027, 1, 1)), Some("holiday"));
        assert!(c.is_working_day(date(2027, 1, 2)));
        assert!(Calendar::from_holidays_csv(HEADER, WorkingHours::default()).is_ok());
    }

    #[test]
    fn editing_days() {
        let mut c = cal();
        let tue = date(2026, 6, 9);
        c.set_day(tue, DayKind::DayOff, "Nghỉ đột xuất");
        assert!(!c.is_working_day(tue));
        assert_eq!(c.day_off_name(tue), Some("Nghỉ đột xuất"));
        assert_eq!(
            c.add_working_time(vn(2026, 6, 8, 10, 0), WorkingDuration::days(1)),
            vn(2026, 6, 10, 10, 0)
        );
        c.remove_day(tue);
        assert!(c.is_working_day(tue));
        let sat = date(2026, 6, 13);
        c.set_day(sat, DayKind::WorkingDay, "Làm bù");
        assert!(c.is_working_day(sat));
        assert_eq!(c.day_off_name(sat), None);
        c.remove_day(date(2026, 2, 17));
        assert!(c.is_working_day(date(2026, 2, 17)));
        // The shared default is not affected by edits to a clone.
        assert!(!cal().is_working_day(date(2026, 2, 17)));
    }

    #[test]
    fn no_working_day_at_all_is_bounded() {
        let mut c = cal();
        let start = date(2026, 1, 1);
        for i in 0..=i64::from(MAX_SEARCH_DAYS) + 10 {
            c.set_day(start + TimeDelta::days(i), DayKind::DayOff, "x");
        }
        let next = c.next_working_day(start);
        assert_eq!(next, start + TimeDelta::days(i64::from(MAX_SEARCH_DAYS)));
        let _ = c.add_working_time(vn(2026, 1, 1, 8, 0), WorkingDuration::days(3));
        let _ = c.clock_start(vn(2026, 1, 1, 8, 0));
    }

    #[test]
    fn huge_durations_saturate() {
        let c = cal();
        let from = vn(2026, 1, 5, 8, 0);
        let far = c.add_working_time(from, WorkingDuration::minutes(i64::MAX));
        assert!(far > from + TimeDelta::days(36_000));
        assert!(far <= from + TimeDelta::days(i64::from(MAX_SPAN_DAYS) + 2));
        let w = c.working_time_between(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
        assert!(w > WorkingDuration::ZERO);
    }

    #[test]
    fn duration_arithmetic() {
        let d = WorkingDuration::days(2);
        assert_eq!(d.as_minutes(), 960);
        assert_eq!(WorkingDuration::hours(3).as_minutes(), 180);
        assert_eq!(WorkingDuration::minutes(-5), WorkingDuration::ZERO);
        assert_eq!(WorkingDuration::days(-1), WorkingDuration::ZERO);
        assert_eq!(d - WorkingDuration::days(3), WorkingDuration::ZERO);
        assert_eq!(
            d + WorkingDuration::hours(1),
            WorkingDuration::minutes(1020)
        );
        assert_eq!(
            WorkingDuration::minutes(i64::MAX) + WorkingDuration::minutes(1),
            WorkingDuration::minutes(i64::MAX)
        );
        assert_eq!(
            WorkingDuration::days(5).mul_ratio(1, 5),
            WorkingDuration::days(1)
        );
        assert_eq!(
            WorkingDuration::minutes(10).mul_ratio(1, 3),
            WorkingDuration::minutes(3)
        );
        assert_eq!(
            WorkingDuration::minutes(10).mul_ratio(1, 0),
            WorkingDuration::ZERO
        );
        assert_eq!(
            WorkingDuration::minutes(10).mul_ratio(-1, 3),
            WorkingDuration::ZERO
        );
        assert_eq!(
            WorkingDuration::minutes(i64::MAX).mul_ratio(3, 2),
            WorkingDuration::minutes(i64::MAX)
        );
        let mut x = WorkingDuration::hours(1);
        x += WorkingDuration::hours(1);
        x -= WorkingDuration::minutes(30);
        assert_eq!(x, WorkingDuration::minutes(90));
        let total: WorkingDuration = [1, 2, 3].into_iter().map(WorkingDuration::hours).sum();
        assert_eq!(total, WorkingDuration::hours(6));
    }

    #[test]
    fn serde_round_trips() {
        let d = WorkingDuration::hours(2);
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, r#"{"minutes":120}"#);
        assert_eq!(serde_json::from_str::<WorkingDuration>(&json).unwrap(), d);
        let negative: WorkingDuration = serde_json::from_str(r#"{"minutes":-3}"#).unwrap();
        assert_eq!(negative, WorkingDuration::ZERO);

        let c = cal().with_cut_off(Some(hm(15, 0)));
        let json = serde_json::to_string(&c).unwrap();
        let back: Calendar = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);

        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["hours"]["periods"] = serde_json::json!([]);
        assert!(serde_json::from_value::<Calendar>(v.clone()).is_err());
        v["hours"] = serde_json::to_value(WorkingHours::default()).unwrap();
        v["weekly_rest_days"] =
            serde_json::json!(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]);
        assert!(serde_json::from_value::<Calendar>(v.clone()).is_err());
        v["weekly_rest_days"] = serde_json::json!(["Sun"]);
        v["utc_offset_minutes"] = serde_json::json!(5000);
        assert!(serde_json::from_value::<Calendar>(v.clone()).is_err());
        v["utc_offset_minutes"] = serde_json::json!(420);
        let six_day_week: Calendar = serde_json::from_value(v).unwrap();
        assert!(six_day_week.is_working_day(date(2026, 6, 13)));
        let from = vn(2026, 6, 12, 10, 0);
        let due = six_day_week.add_working_time(from, WorkingDuration::days(1));
        assert_eq!(due, vn(2026, 6, 13, 10, 0));
        assert_eq!(
            six_day_week.working_time_between(from, due),
            WorkingDuration::days(1)
        );
    }

    /// Whether `t` is inside a working period or exactly at the end of one.
    fn in_or_at_end_of_period(c: &Calendar, t: DateTime<Utc>) -> bool {
        let local = c.to_local(t);
        c.is_working_day(local.date())
            && c.hours()
                .periods
                .iter()
                .any(|&(s, e)| s <= local.time() && local.time() <= e)
    }

    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        // Whole minutes from 2015-01-01 to the end of 2029 (UTC).
        let base = DateTime::parse_from_rfc3339("2015-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        (0i64..15 * 365 * 24 * 60).prop_map(move |m| base + TimeDelta::minutes(m))
    }

    fn duration() -> impl Strategy<Value = WorkingDuration> {
        (0i64..=120 * 480).prop_map(WorkingDuration::minutes)
    }

    proptest! {
        #[test]
        fn prop_between_inverts_add(from in instant(), d in duration()) {
            let c = cal();
            let to = c.add_working_time(from, d);
            prop_assert_eq!(c.working_time_between(from, to), d);
        }

        #[test]
        fn prop_between_inverts_add_with_cut_off(from in instant(), d in duration()) {
            let c = cal().with_cut_off(Some(hm(15, 0)));
            let to = c.add_working_time(from, d);
            prop_assert_eq!(c.working_time_between(c.clock_start(from), to), d);
        }

        #[test]
        fn prop_add_is_monotonic(from in instant(), a in duration(), b in duration()) {
            let c = cal();
            let (small, large) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(c.add_working_time(from, small) <= c.add_working_time(from, large));
            prop_assert!(c.add_working_time(from, small) >= from);
        }

        #[test]
        fn prop_result_is_in_working_time(from in instant(), d in duration()) {
            let c = cal();
            let to = c.add_working_time(from, d);
            prop_assert!(in_or_at_end_of_period(&c, to), "{} lands at {}", from, c.to_local(to));
            let start = c.clock_start(from);
            prop_assert!(start >= from);
            prop_assert!(in_or_at_end_of_period(&c, start));
            prop_assert_eq!(c.working_time_between(from, start), WorkingDuration::ZERO);
        }

        #[test]
        fn prop_add_composes(from in instant(), a in duration(), b in duration()) {
            let c = cal();
            let mid = c.add_working_time(from, a);
            let total = c.add_working_time(from, a + b);
            if b == WorkingDuration::ZERO {
                // Adding nothing only moves a period end to the next clock start.
                prop_assert_eq!(c.add_working_time(mid, b), c.clock_start(mid));
                prop_assert_eq!(c.working_time_between(total, c.add_working_time(mid, b)), WorkingDuration::ZERO);
            } else {
                prop_assert_eq!(c.add_working_time(mid, b), total);
            }
        }

        #[test]
        fn prop_between_is_additive(a in instant(), b in instant(), m in instant()) {
            let c = cal();
            let mut v = [a, b, m];
            v.sort();
            let [x, y, z] = v;
            prop_assert_eq!(
                c.working_time_between(x, z),
                c.working_time_between(x, y) + c.working_time_between(y, z)
            );
        }

        #[test]
        fn prop_between_matches_day_by_day_walk(a in instant(), days in 0i64..60) {
            // The closed-form count of whole days agrees with walking day by day.
            let c = cal();
            let b = a + TimeDelta::days(days);
            let mut expected = WorkingDuration::ZERO;
            let mut t = a;
            while t < b {
                let next = (t + TimeDelta::days(1)).min(b);
                expected += c.working_time_between(t, next);
                t = next;
            }
            prop_assert_eq!(c.working_time_between(a, b), expected);
        }
    }

    #[test]
    fn agency_settings_layer_over_the_province_calendar() {
        let base = Calendar::vietnam_default();
        let own = CalendarSettings {
            hours: Some(WorkingHours {
                periods: vec![(
                    NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
                    NaiveTime::from_hms_opt(16, 0, 0).unwrap(),
                )],
            }),
            cut_off: Some(NaiveTime::from_hms_opt(15, 0, 0).unwrap()),
            days: vec![DayException {
                date: NaiveDate::from_ymd_opt(2026, 3, 4).unwrap(),
                kind: DayKind::DayOff,
                name: "Nghỉ địa phương".into(),
            }],
        };
        let c = base.with_settings(&own).unwrap();
        assert!(!c.is_working_day(NaiveDate::from_ymd_opt(2026, 3, 4).unwrap()));
        assert!(base.is_working_day(NaiveDate::from_ymd_opt(2026, 3, 4).unwrap()));
        assert_eq!(c.cut_off(), own.cut_off);
        // Tết still comes from the province.
        assert!(!c.is_working_day(NaiveDate::from_ymd_opt(2026, 2, 17).unwrap()));
        let bad = CalendarSettings {
            hours: Some(WorkingHours { periods: vec![] }),
            ..Default::default()
        };
        assert!(base.with_settings(&bad).is_err());
    }
}
