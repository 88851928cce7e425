//! Queue numbers at a one-stop centre (bốc số thứ tự): service groups, counters (quầy) and the
//! tickets a visitor takes at the kiosk.
//!
//! A centre is an agency with a one-stop desk. Each service group has a letter prefix; a ticket's
//! number is that prefix and the day's sequence of the group at the centre (`A007`), the day
//! counted in Asia/Ho_Chi_Minh. A ticket moves `waiting -> called -> serving -> done`, or
//! `called -> no_show`; an officer may call it again (recall) while it is called. Why it is built
//! this way: `docs/decisions/0016-queue-tickets.md`.

use crate::codes::AgencyCode;
use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use uuid::Uuid;

/// Offset of Asia/Ho_Chi_Minh from UTC (no daylight saving time since 1975).
pub const VN_OFFSET_HOURS: i64 = 7;

/// The local (Asia/Ho_Chi_Minh) day of an instant: ticket numbers restart every such day.
pub fn local_day(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::hours(VN_OFFSET_HOURS)).date_naive()
}

/// The local hour (0-23) of an instant.
pub fn local_hour(t: DateTime<Utc>) -> u32 {
    (t + Duration::hours(VN_OFFSET_HOURS)).hour()
}

/// Why a queue operation was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// A definition (group or counter) is not valid.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The action does not apply to the ticket's state.
    #[error("cannot {action} a ticket that is {state}")]
    NotAllowed {
        /// What was asked.
        action: TicketAction,
        /// The ticket's state.
        state: TicketState,
    },
    /// The counter still has a ticket in hand: finish it or mark it absent before calling the next.
    #[error(
        "counter {counter} is still serving {ticket}: finish it or mark it as not present first"
    )]
    CounterBusy {
        /// The counter's number.
        counter: u16,
        /// The ticket in hand.
        ticket: String,
    },
    /// The counter has no ticket in hand to act on.
    #[error("counter {0} has no called ticket")]
    NoCurrentTicket(u16),
}

fn invalid(field: &'static str, reason: impl Into<String>) -> QueueError {
    QueueError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// A service group (nhóm dịch vụ) the kiosk offers: the procedures of some fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServiceGroup {
    /// Stable code within the centre: lowercase letters, digits and `-` (`tu-phap-ho-tich`).
    pub code: String,
    /// Letter that starts every ticket number of the group (`A`).
    pub prefix: char,
    /// Vietnamese name shown on the kiosk.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// Procedure fields (lĩnh vực) the group covers, as the catalogue names them; empty for a
    /// catch-all group.
    pub fields: Vec<String>,
}

impl ServiceGroup {
    /// Checks the definition.
    pub fn validate(&self) -> Result<(), QueueError> {
        let c = &self.code;
        if c.is_empty() || c.len() > 40 {
            return Err(invalid("code", "must be 1 to 40 characters"));
        }
        if !c
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
        {
            return Err(invalid(
                "code",
                "only lowercase letters, digits and `-` are allowed",
            ));
        }
        if !self.prefix.is_ascii_uppercase() {
            return Err(invalid("prefix", "must be one letter A-Z"));
        }
        for (field, name) in [("name_vi", &self.name_vi), ("name_en", &self.name_en)] {
            if name.trim().is_empty() || name.chars().count() > 120 {
                return Err(invalid(field, "must be 1 to 120 characters"));
            }
        }
        Ok(())
    }

    /// The name in `lang` (`en`, otherwise Vietnamese).
    pub fn name(&self, lang: &str) -> &str {
        if lang == "en" {
            &self.name_en
        } else {
            &self.name_vi
        }
    }
}

/// A counter (quầy) of a centre, serving some groups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Counter {
    /// Number shown above the desk (1, 2, ...).
    pub number: u16,
    /// Name shown on the display (`Quầy 1`).
    pub name: String,
    /// Codes of the groups it calls, in no particular order.
    pub groups: Vec<String>,
}

impl Counter {
    /// Checks the definition against the centre's groups.
    pub fn validate(&self, groups: &[ServiceGroup]) -> Result<(), QueueError> {
        if self.number == 0 || self.number > 999 {
            return Err(invalid("number", "must be 1 to 999"));
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 60 {
            return Err(invalid("name", "must be 1 to 60 characters"));
        }
        if self.groups.is_empty() {
            return Err(invalid("groups", "a counter serves at least one group"));
        }
        if let Some(g) = self
            .groups
            .iter()
            .find(|g| !groups.iter().any(|x| &x.code == *g))
        {
            return Err(invalid("groups", format!("no group `{g}` at this centre")));
        }
        Ok(())
    }
}

/// Checks a centre's whole set-up: every definition valid, codes, prefixes and counter numbers
/// unique.
pub fn validate_setup(groups: &[ServiceGroup], counters: &[Counter]) -> Result<(), QueueError> {
    let mut codes = BTreeSet::new();
    let mut prefixes = BTreeSet::new();
    for g in groups {
        g.validate()?;
        if !codes.insert(&g.code) {
            return Err(invalid("code", format!("group `{}` given twice", g.code)));
        }
        if !prefixes.insert(g.prefix) {
            return Err(invalid(
                "prefix",
                format!("prefix {} used by two groups", g.prefix),
            ));
        }
    }
    let mut numbers = BTreeSet::new();
    for c in counters {
        c.validate(groups)?;
        if !numbers.insert(c.number) {
            return Err(invalid(
                "number",
                format!("counter {} given twice", c.number),
            ));
        }
    }
    Ok(())
}

/// A ticket number: the group's prefix and the day's sequence, at least three digits (`A007`,
/// `A1000` on a very busy day).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TicketNumber {
    /// The group's letter.
    pub prefix: char,
    /// 1 for the day's first ticket of the group.
    pub seq: u32,
}

impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:03}", self.prefix, self.seq)
    }
}

/// Where a ticket is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    /// Taken, waiting to be called.
    Waiting,
    /// Called to a counter; the visitor is on the way.
    Called,
    /// The visitor is at the counter.
    Serving,
    /// Served.
    Done,
    /// Called, but the visitor did not come.
    NoShow,
}

impl TicketState {
    /// Machine name, as stored and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::Waiting => "waiting",
            TicketState::Called => "called",
            TicketState::Serving => "serving",
            TicketState::Done => "done",
            TicketState::NoShow => "no_show",
        }
    }

    /// Parses the machine name.
    pub fn parse(s: &str) -> Option<TicketState> {
        [
            TicketState::Waiting,
            TicketState::Called,
            TicketState::Serving,
            TicketState::Done,
            TicketState::NoShow,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// Whether the ticket is in a counter's hands (called or serving).
    pub fn at_counter(self) -> bool {
        matches!(self, TicketState::Called | TicketState::Serving)
    }
}

impl fmt::Display for TicketState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an officer does to the ticket at their counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketAction {
    /// Call the next waiting ticket (not an action on a ticket in hand).
    CallNext,
    /// Call the ticket in hand again.
    Recall,
    /// The visitor arrived: start serving.
    Start,
    /// Served.
    Finish,
    /// The visitor did not come.
    NoShow,
}

impl TicketAction {
    /// Every action, as the API names them.
    pub const ALL: [TicketAction; 5] = [
        TicketAction::CallNext,
        TicketAction::Recall,
        TicketAction::Start,
        TicketAction::Finish,
        TicketAction::NoShow,
    ];

    /// Name in URLs (`call-next`, `no-show`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            TicketAction::CallNext => "call-next",
            TicketAction::Recall => "recall",
            TicketAction::Start => "start",
            TicketAction::Finish => "finish",
            TicketAction::NoShow => "no-show",
        }
    }

    /// Parses the URL name.
    pub fn parse(s: &str) -> Option<TicketAction> {
        TicketAction::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl fmt::Display for TicketAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TicketAction::CallNext => "call",
            TicketAction::Recall => "recall",
            TicketAction::Start => "start serving",
            TicketAction::Finish => "finish",
            TicketAction::NoShow => "mark as not present",
        })
    }
}

/// A queue ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ticket {
    /// Id (in the ticket page's URL).
    pub id: Uuid,
    /// The centre.
    #[schema(value_type = String, example = "000.00.01.H40")]
    pub centre: AgencyCode,
    /// Local day the ticket belongs to.
    pub day: NaiveDate,
    /// Group code.
    pub group: String,
    /// The group's prefix at the time.
    pub prefix: char,
    /// Sequence of the day in the group (1-based).
    pub seq: u32,
    /// Where the ticket is.
    pub state: TicketState,
    /// When it was taken.
    pub taken_at: DateTime<Utc>,
    /// First call.
    pub called_at: Option<DateTime<Utc>>,
    /// Latest call (a recall moves it; the display orders by it).
    pub last_called_at: Option<DateTime<Utc>>,
    /// Service started.
    pub started_at: Option<DateTime<Utc>>,
    /// Done or marked as not present.
    pub done_at: Option<DateTime<Utc>>,
    /// Counter that called it.
    pub counter: Option<u16>,
    /// Officer who called it.
    pub officer: Option<Uuid>,
    /// How many times it was called.
    pub calls: u32,
}

impl Ticket {
    /// A new waiting ticket.
    pub fn new(
        centre: AgencyCode,
        group: &ServiceGroup,
        seq: u32,
        taken_at: DateTime<Utc>,
    ) -> Ticket {
        Ticket {
            id: Uuid::now_v7(),
            centre,
            day: local_day(taken_at),
            group: group.code.clone(),
            prefix: group.prefix,
            seq,
            state: TicketState::Waiting,
            taken_at,
            called_at: None,
            last_called_at: None,
            started_at: None,
            done_at: None,
            counter: None,
            officer: None,
            calls: 0,
        }
    }

    /// The number printed on it.
    pub fn number(&self) -> TicketNumber {
        TicketNumber {
            prefix: self.prefix,
            seq: self.seq,
        }
    }

    /// Applies `action` by `officer` at `counter` at `now`. `CallNext` applies to a waiting
    /// ticket (the store picks which); the others to the ticket the counter holds.
    pub fn apply(
        &mut self,
        action: TicketAction,
        counter: u16,
        officer: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), QueueError> {
        use TicketAction as A;
        use TicketState as S;
        let state = self.state;
        if action != A::CallNext && self.counter != Some(counter) {
            return Err(QueueError::NoCurrentTicket(counter));
        }
        match (action, self.state) {
            (A::CallNext, S::Waiting) => {
                self.called_at = Some(now);
                self.last_called_at = Some(now);
                self.counter = Some(counter);
                self.officer = Some(officer);
                self.calls = 1;
            }
            (A::Recall, S::Called) => {
                self.last_called_at = Some(now);
                self.calls += 1;
            }
            (A::Start, S::Called) => self.started_at = Some(now),
            (A::Finish, S::Called | S::Serving) => self.done_at = Some(now),
            (A::NoShow, S::Called) => self.done_at = Some(now),
            _ => return Err(QueueError::NotAllowed { action, state }),
        }
        self.state = match action {
            A::CallNext | A::Recall => S::Called,
            A::Start => S::Serving,
            A::Finish => S::Done,
            A::NoShow => S::NoShow,
        };
        Ok(())
    }

    /// Time from taking the ticket to its first call.
    pub fn wait(&self) -> Option<Duration> {
        self.called_at.map(|c| c - self.taken_at)
    }

    /// Time at the counter: from the start of service (or the call, if service was not
    /// started explicitly) to done. None for tickets not served.
    pub fn service(&self) -> Option<Duration> {
        if self.state != TicketState::Done {
            return None;
        }
        let from = self.started_at.or(self.called_at)?;
        self.done_at.map(|d| d - from)
    }
}

/// Averages over a set of tickets.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WaitFigures {
    /// Tickets taken.
    pub taken: u32,
    /// Tickets called at least once.
    pub called: u32,
    /// Tickets served to the end.
    pub served: u32,
    /// Tickets whose visitor did not come.
    pub no_show: u32,
    /// Average wait (taken -> first call), seconds; none when nothing was called.
    pub avg_wait_seconds: Option<f64>,
    /// Longest wait, seconds.
    pub max_wait_seconds: Option<f64>,
    /// Average service time (start or call -> done), seconds; none when nothing was served.
    pub avg_service_seconds: Option<f64>,
}

#[derive(Default)]
struct Acc {
    taken: u32,
    waits: Vec<f64>,
    services: Vec<f64>,
    served: u32,
    no_show: u32,
}

impl Acc {
    fn add(&mut self, t: &Ticket) {
        self.taken += 1;
        if let Some(w) = t.wait() {
            self.waits.push(w.num_milliseconds() as f64 / 1000.0);
        }
        if let Some(s) = t.service() {
            self.services.push(s.num_milliseconds() as f64 / 1000.0);
            self.served += 1;
        }
        if t.state == TicketState::NoShow {
            self.no_show += 1;
        }
    }

    fn figures(&self) -> WaitFigures {
        let avg = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        WaitFigures {
            taken: self.taken,
            called: self.waits.len() as u32,
            served: self.served,
            no_show: self.no_show,
            avg_wait_seconds: avg(&self.waits),
            max_wait_seconds: self.waits.iter().copied().reduce(f64::max),
            avg_service_seconds: avg(&self.services),
        }
    }
}

/// Figures of one counter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CounterFigures {
    /// Counter number.
    pub counter: u16,
    /// Its figures (tickets it called).
    #[serde(flatten)]
    pub figures: WaitFigures,
}

/// Figures of one local hour of the day (by the time tickets were taken).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HourFigures {
    /// Local hour, 0-23.
    pub hour: u32,
    /// Its figures.
    #[serde(flatten)]
    pub figures: WaitFigures,
}

/// Wait and service times of a centre over some days: what leaders read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueueStats {
    /// First local day.
    pub from: NaiveDate,
    /// Last local day (inclusive).
    pub to: NaiveDate,
    /// Every ticket of the period.
    pub total: WaitFigures,
    /// Per counter (tickets called there), by number.
    pub counters: Vec<CounterFigures>,
    /// Per hour the tickets were taken, only hours with tickets.
    pub hours: Vec<HourFigures>,
}

/// Sums up tickets of `from..=to`. Tickets outside the period are ignored.
pub fn summarize(from: NaiveDate, to: NaiveDate, tickets: &[Ticket]) -> QueueStats {
    let mut total = Acc::default();
    let mut counters: BTreeMap<u16, Acc> = BTreeMap::new();
    let mut hours: BTreeMap<u32, Acc> = BTreeMap::new();
    for t in tickets.iter().filter(|t| t.day >= from && t.day <= to) {
        total.add(t);
        if let Some(c) = t.counter {
            counters.entry(c).or_default().add(t);
        }
        hours.entry(local_hour(t.taken_at)).or_default().add(t);
    }
    QueueStats {
        from,
        to,
        total: total.figures(),
        counters: counters
            .into_iter()
            .map(|(counter, a)| CounterFigures {
                counter,
                figures: a.figures(),
            })
            .collect(),
        hours: hours
            .into_iter()
            .map(|(hour, a)| HourFigures {
                hour,
                figures: a.figures(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn group(code: &str, prefix: char) -> ServiceGroup {
        ServiceGroup {
            code: code.into(),
            prefix,
            name_vi: "Tư pháp - Hộ tịch".into(),
            name_en: "Justice - Civil status".into(),
            fields: vec!["Hộ tịch".into()],
        }
    }

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        // Local time on 2 March 2026.
        Utc.with_ymd_and_hms(2026, 3, 2, h, m, 0).unwrap() - Duration::hours(7)
    }

    fn ticket(seq: u32, taken: DateTime<Utc>) -> Ticket {
        Ticket::new(
            "000.00.01.H40".parse().unwrap(),
            &group("a", 'A'),
            seq,
            taken,
        )
    }

    #[test]
    fn numbers_have_a_prefix_and_at_least_three_digits() {
        assert_eq!(
            TicketNumber {
                prefix: 'A',
                seq: 7
            }
            .to_string(),
            "A007"
        );
        assert_eq!(
            TicketNumber {
                prefix: 'E',
                seq: 123
            }
            .to_string(),
            "E123"
        );
        assert_eq!(
            TicketNumber {
                prefix: 'B',
                seq: 1000
            }
            .to_string(),
            "B1000"
        );
    }

    #[test]
    fn the_day_is_the_local_day_in_ho_chi_minh_city() {
        // 23:30 UTC on 1 March is 06:30 on 2 March in Việt Nam.
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 23, 30, 0).unwrap();
        assert_eq!(local_day(t), NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
        assert_eq!(local_hour(t), 6);
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 16, 59, 0).unwrap();
        assert_eq!(local_day(t), NaiveDate::from_ymd_opt(2026, 3, 1).unwrap());
        assert_eq!(
            ticket(1, t).day,
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        );
    }

    #[test]
    fn definitions_are_checked() {
        assert!(group("tu-phap", 'A').validate().is_ok());
        assert!(matches!(
            group("Tư pháp", 'A').validate(),
            Err(QueueError::Invalid { field: "code", .. })
        ));
        assert!(matches!(
            group("a", 'a').validate(),
            Err(QueueError::Invalid {
                field: "prefix",
                ..
            })
        ));
        let mut g = group("a", 'A');
        g.name_vi = "  ".into();
        assert!(matches!(
            g.validate(),
            Err(QueueError::Invalid {
                field: "name_vi",
                ..
            })
        ));
        let groups = vec![group("a", 'A'), group("b", 'B')];
        let counter = |n: u16, gs: &[&str]| Counter {
            number: n,
            name: format!("Quầy {n}"),
            groups: gs.iter().map(|s| s.to_string()).collect(),
        };
        assert!(validate_setup(&groups, &[counter(1, &["a"]), counter(2, &["a", "b"])]).is_ok());
        assert!(matches!(
            validate_setup(&groups, &[counter(1, &["c"])]),
            Err(QueueError::Invalid {
                field: "groups",
                ..
            })
        ));
        assert!(matches!(
            validate_setup(&groups, &[counter(1, &[])]),
            Err(QueueError::Invalid {
                field: "groups",
                ..
            })
        ));
        assert!(matches!(
            validate_setup(&groups, &[counter(0, &["a"])]),
            Err(QueueError::Invalid {
                field: "number",
                ..
            })
        ));
        assert!(matches!(
            validate_setup(&groups, &[counter(1, &["a"]), counter(1, &["b"])]),
            Err(QueueError::Invalid {
                field: "number",
                ..
            })
        ));
        assert!(matches!(
            validate_setup(&[group("a", 'A'), group("b", 'A')], &[]),
            Err(QueueError::Invalid {
                field: "prefix",
                ..
            })
        ));
        assert!(matches!(
            validate_setup(&[group("a", 'A'), group("a", 'B')], &[]),
            Err(QueueError::Invalid { field: "code", .. })
        ));
    }

    #[test]
    fn a_ticket_is_called_served_and_done() {
        let officer = Uuid::new_v4();
        let mut t = ticket(7, at(8, 0));
        assert_eq!(t.state, TicketState::Waiting);
        assert_eq!(t.number().to_string(), "A007");
        t.apply(TicketAction::CallNext, 3, officer, at(8, 10))
            .unwrap();
        assert_eq!(
            (t.state, t.counter, t.officer, t.calls),
            (TicketState::Called, Some(3), Some(officer), 1)
        );
        t.apply(TicketAction::Recall, 3, officer, at(8, 12))
            .unwrap();
        assert_eq!(t.calls, 2);
        assert_eq!(
            t.called_at,
            Some(at(8, 10)),
            "a recall keeps the first call for the wait"
        );
        assert_eq!(t.last_called_at, Some(at(8, 12)));
        t.apply(TicketAction::Start, 3, officer, at(8, 13)).unwrap();
        assert_eq!(t.state, TicketState::Serving);
        assert!(matches!(
            t.apply(TicketAction::Recall, 3, officer, at(8, 14)),
            Err(QueueError::NotAllowed {
                action: TicketAction::Recall,
                state: TicketState::Serving
            })
        ));
        assert!(matches!(
            t.apply(TicketAction::NoShow, 3, officer, at(8, 14)),
            Err(QueueError::NotAllowed { .. })
        ));
        t.apply(TicketAction::Finish, 3, officer, at(8, 25))
            .unwrap();
        assert_eq!(t.state, TicketState::Done);
        assert_eq!(t.wait(), Some(Duration::minutes(10)));
        assert_eq!(t.service(), Some(Duration::minutes(12)));
        for a in TicketAction::ALL {
            assert!(
                t.apply(a, 3, officer, at(9, 0)).is_err(),
                "{a:?} after done"
            );
        }
    }

    #[test]
    fn a_called_ticket_may_be_absent_and_only_its_counter_acts_on_it() {
        let officer = Uuid::new_v4();
        let mut t = ticket(1, at(8, 0));
        assert!(matches!(
            t.apply(TicketAction::Start, 1, officer, at(8, 1)),
            Err(QueueError::NoCurrentTicket(1))
        ));
        t.apply(TicketAction::CallNext, 1, officer, at(8, 5))
            .unwrap();
        assert!(matches!(
            t.apply(TicketAction::NoShow, 2, officer, at(8, 6)),
            Err(QueueError::NoCurrentTicket(2))
        ));
        assert!(matches!(
            t.apply(TicketAction::CallNext, 1, officer, at(8, 6)),
            Err(QueueError::NotAllowed { .. })
        ));
        t.apply(TicketAction::NoShow, 1, officer, at(8, 8)).unwrap();
        assert_eq!(t.state, TicketState::NoShow);
        assert_eq!(t.service(), None, "not served");
        // Finishing straight from the call counts service from the call.
        let mut u = ticket(2, at(8, 0));
        u.apply(TicketAction::CallNext, 1, officer, at(8, 30))
            .unwrap();
        u.apply(TicketAction::Finish, 1, officer, at(8, 40))
            .unwrap();
        assert_eq!(u.service(), Some(Duration::minutes(10)));
    }

    #[test]
    fn actions_and_states_round_trip_their_names() {
        for a in TicketAction::ALL {
            assert_eq!(TicketAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(TicketAction::parse("call"), None);
        for s in ["waiting", "called", "serving", "done", "no_show"] {
            assert_eq!(TicketState::parse(s).unwrap().as_str(), s);
        }
        assert_eq!(TicketState::parse("gone"), None);
    }

    #[test]
    fn figures_per_counter_and_hour() {
        let officer = Uuid::new_v4();
        let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let mut a = ticket(1, at(8, 0));
        a.apply(TicketAction::CallNext, 1, officer, at(8, 10))
            .unwrap();
        a.apply(TicketAction::Start, 1, officer, at(8, 11)).unwrap();
        a.apply(TicketAction::Finish, 1, officer, at(8, 21))
            .unwrap();
        let mut b = ticket(2, at(8, 30));
        b.apply(TicketAction::CallNext, 2, officer, at(9, 0))
            .unwrap();
        b.apply(TicketAction::NoShow, 2, officer, at(9, 5)).unwrap();
        let mut c = ticket(3, at(9, 15));
        c.apply(TicketAction::CallNext, 1, officer, at(9, 35))
            .unwrap();
        c.apply(TicketAction::Finish, 1, officer, at(9, 55))
            .unwrap();
        let d = ticket(4, at(9, 40));
        let mut other_day = ticket(5, at(8, 0) + Duration::days(1));
        other_day.day = day.succ_opt().unwrap();
        let s = summarize(day, day, &[a, b, c, d, other_day]);
        assert_eq!(s.total.taken, 4);
        assert_eq!(s.total.called, 3);
        assert_eq!(s.total.served, 2);
        assert_eq!(s.total.no_show, 1);
        // Waits 10, 30 and 20 minutes.
        assert_eq!(s.total.avg_wait_seconds, Some(1200.0));
        assert_eq!(s.total.max_wait_seconds, Some(1800.0));
        // Service 10 (from start) and 20 (from call) minutes.
        assert_eq!(s.total.avg_service_seconds, Some(900.0));
        assert_eq!(s.counters.len(), 2);
        assert_eq!(s.counters[0].counter, 1);
        assert_eq!(s.counters[0].figures.avg_wait_seconds, Some(900.0));
        assert_eq!(s.counters[0].figures.avg_service_seconds, Some(900.0));
        assert_eq!(s.counters[1].figures.no_show, 1);
        assert_eq!(s.counters[1].figures.avg_service_seconds, None);
        let hours: Vec<(u32, u32)> = s.hours.iter().map(|h| (h.hour, h.figures.taken)).collect();
        assert_eq!(hours, vec![(8, 2), (9, 2)]);
        assert_eq!(s.hours[1].figures.called, 1);
        assert_eq!(s.hours[1].figures.avg_wait_seconds, Some(1200.0));
        let empty = summarize(day, day, &[]);
        assert_eq!(empty.total, WaitFigures::default());
        assert!(empty.counters.is_empty() && empty.hours.is_empty());
    }
}
