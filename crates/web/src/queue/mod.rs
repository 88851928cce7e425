//! Queue numbers at a one-stop centre: the service code both the JSON API and the pages call
//! (who may act, what to check, whom to tell), the live signal behind the display, and the
//! per-client limit on taking tickets.
//!
//! Staff functions take the [`Actor`] the caller established (a bearer token for the API; a
//! session for the staff pages), so the same checks hold whichever way a request came in.

pub mod pages;

use crate::AppState;
use crate::error::ApiError;
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::agency::{Actor, Agency, Role};
use motcua_domain::codes::AgencyCode;
use motcua_domain::queue::{
    Counter, QueueStats, ServiceGroup, Ticket, TicketAction, local_day, summarize,
};
use motcua_store::{CounterState, QueueAct};
use serde::Serialize;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Longest period of a statistics request, in days.
pub const MAX_STATS_DAYS: i64 = 366;

/// A centre that runs a queue: an agency with a one-stop desk and at least one service group.
#[derive(Clone, Debug)]
pub struct Centre {
    /// The agency.
    pub agency: Agency,
    /// Its service groups, in kiosk order.
    pub groups: Vec<ServiceGroup>,
    /// Its counters, by number.
    pub counters: Vec<Counter>,
}

impl Centre {
    /// A group by code.
    pub fn group(&self, code: &str) -> Option<&ServiceGroup> {
        self.groups.iter().find(|g| g.code == code)
    }

    /// A counter by number.
    pub fn counter(&self, number: u16) -> Option<&Counter> {
        self.counters.iter().find(|c| c.number == number)
    }
}

/// The centre with code `code`, or `None` when the code is malformed, unknown, has no desk or
/// no queue set up.
pub async fn centre(state: &AppState, code: &str) -> Result<Option<Centre>, ApiError> {
    let Ok(code) = code.parse::<AgencyCode>() else {
        return Ok(None);
    };
    let Some(agency) = state.store.agency(&code).await? else {
        return Ok(None);
    };
    if !agency.has_desk {
        return Ok(None);
    }
    let groups = state.store.queue_groups(&code).await?;
    if groups.is_empty() {
        return Ok(None);
    }
    let counters = state.store.queue_counters(&code).await?;
    Ok(Some(Centre {
        agency,
        groups,
        counters,
    }))
}

/// Desk officers and leaders of the centre's agency may work its counters; nobody else.
pub fn may_work_counters(actor: &Actor, centre: &AgencyCode) -> Result<(), ApiError> {
    if actor.is(Role::DeskOfficer, centre) || actor.is(Role::Leader, centre) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only desk officers and leaders of this centre work its counters",
        ))
    }
}

/// Leaders of the centre's agency read its queue figures; nobody else.
pub fn may_read_figures(actor: &Actor, centre: &AgencyCode) -> Result<(), ApiError> {
    if actor.is(Role::Leader, centre) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only leaders of this centre read its waiting and service times",
        ))
    }
}

/// Authorizes first (a 403 does not reveal whether a centre exists), then finds the centre.
async fn staff_centre(
    state: &AppState,
    actor: &Actor,
    code: &str,
    check: fn(&Actor, &AgencyCode) -> Result<(), ApiError>,
) -> Result<Centre, ApiError> {
    let parsed: AgencyCode = code
        .parse()
        .map_err(|_| ApiError::not_found(format!("no centre `{code}`")))?;
    check(actor, &parsed)?;
    centre(state, code)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("centre {code} has no queue")))
}

/// A ticket as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TicketView {
    /// Number printed on the ticket (`A007`).
    #[schema(example = "A007")]
    pub number: String,
    /// The ticket.
    #[serde(flatten)]
    pub ticket: Ticket,
}

impl From<Ticket> for TicketView {
    fn from(ticket: Ticket) -> Self {
        TicketView {
            number: ticket.number().to_string(),
            ticket,
        }
    }
}

/// A counter and what it holds, as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CounterView {
    /// The counter.
    pub counter: Counter,
    /// The ticket called or being served there today.
    pub current: Option<TicketView>,
    /// Tickets of its groups waiting today.
    pub waiting: u32,
}

impl From<CounterState> for CounterView {
    fn from(s: CounterState) -> Self {
        CounterView {
            counter: s.counter,
            current: s.current.map(Into::into),
            waiting: s.waiting,
        }
    }
}

/// What a counter holds after an action by `actor`.
pub async fn counter_state(
    state: &AppState,
    actor: &Actor,
    centre_code: &str,
    number: u16,
    now: DateTime<Utc>,
) -> Result<CounterView, ApiError> {
    let c = staff_centre(state, actor, centre_code, may_work_counters).await?;
    state
        .store
        .queue_counter_state(&c.agency.code, number, now)
        .await?
        .map(Into::into)
        .ok_or_else(|| ApiError::not_found(format!("no counter {number} at {centre_code}")))
}

/// Runs an officer's action at a counter; returns the ticket acted on (`None`: call-next found
/// nobody waiting) and the counter afterwards. Tells the displays.
pub async fn act(
    state: &AppState,
    actor: &Actor,
    centre_code: &str,
    number: u16,
    action: TicketAction,
    now: DateTime<Utc>,
) -> Result<(Option<TicketView>, CounterView), ApiError> {
    let c = staff_centre(state, actor, centre_code, may_work_counters).await?;
    if c.counter(number).is_none() {
        return Err(ApiError::not_found(format!(
            "no counter {number} at {centre_code}"
        )));
    }
    let t = state
        .store
        .queue_act(QueueAct {
            centre: c.agency.code.clone(),
            counter: number,
            action,
            officer: actor.user_id,
            now,
        })
        .await?;
    if t.is_some() {
        state.queue.changed(&c.agency.code);
    }
    let after = state
        .store
        .queue_counter_state(&c.agency.code, number, now)
        .await?
        .map(Into::into)
        .ok_or_else(|| ApiError::not_found(format!("no counter {number} at {centre_code}")))?;
    Ok((t.map(Into::into), after))
}

/// Waiting and service times of a centre from `from` to `to` (local days), for its leaders.
pub async fn figures(
    state: &AppState,
    actor: &Actor,
    centre_code: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(Centre, QueueStats), ApiError> {
    let c = staff_centre(state, actor, centre_code, may_read_figures).await?;
    if to < from {
        return Err(ApiError::invalid("to", "`to` is before `from`"));
    }
    if (to - from).num_days() >= MAX_STATS_DAYS {
        return Err(ApiError::invalid(
            "to",
            format!("at most {MAX_STATS_DAYS} days at a time"),
        ));
    }
    let tickets = state.store.queue_tickets(&c.agency.code, from, to).await?;
    let stats = summarize(from, to, &tickets);
    Ok((c, stats))
}

/// Takes a ticket at the kiosk and tells the displays.
pub async fn take(state: &AppState, c: &Centre, group: &str) -> Result<Ticket, ApiError> {
    let t = state
        .store
        .take_ticket(&c.agency.code, group, Utc::now())
        .await?;
    state.queue.changed(&c.agency.code);
    Ok(t)
}

/// Today's local day.
pub fn today() -> NaiveDate {
    local_day(Utc::now())
}

/// Live signal and kiosk limits, shared by the handlers of one process.
pub struct Shared {
    live: Mutex<HashMap<AgencyCode, watch::Sender<u64>>>,
    limiter: RateLimiter,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            live: Mutex::new(HashMap::new()),
            limiter: RateLimiter::new(KIOSK_BURST, KIOSK_REFILL),
        }
    }
}

impl Shared {
    /// Something changed at `centre`: wake its displays.
    pub fn changed(&self, centre: &AgencyCode) {
        if let Ok(mut m) = self.live.lock() {
            m.entry(centre.clone())
                .or_insert_with(|| watch::channel(0).0)
                .send_modify(|v| *v = v.wrapping_add(1));
        }
    }

    /// A receiver woken on every change at `centre` (changes made by this process; displays
    /// also re-read every few seconds for those of other nodes).
    pub fn subscribe(&self, centre: &AgencyCode) -> watch::Receiver<u64> {
        match self.live.lock() {
            Ok(mut m) => m
                .entry(centre.clone())
                .or_insert_with(|| watch::channel(0).0)
                .subscribe(),
            Err(_) => watch::channel(0).1,
        }
    }

    /// Whether `ip` may take another ticket now.
    pub fn allow_take(&self, ip: Option<IpAddr>) -> bool {
        self.limiter.allow(ip)
    }
}

/// Tickets a client may take in a burst.
pub const KIOSK_BURST: u32 = 10;
/// After the burst, one more ticket per this interval.
pub const KIOSK_REFILL: Duration = Duration::from_secs(3);

/// A token bucket per client address, in memory: enough for one node; each node of a
/// scaled-out deployment limits on its own.
pub struct RateLimiter {
    burst: u32,
    refill: Duration,
    buckets: Mutex<HashMap<Option<IpAddr>, (f64, Instant)>>,
}

impl RateLimiter {
    /// `burst` requests at once, then one per `refill`.
    pub fn new(burst: u32, refill: Duration) -> RateLimiter {
        RateLimiter {
            burst,
            refill,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `ip` if one is left.
    pub fn allow(&self, ip: Option<IpAddr>) -> bool {
        self.allow_at(ip, Instant::now())
    }

    fn allow_at(&self, ip: Option<IpAddr>, now: Instant) -> bool {
        let Ok(mut b) = self.buckets.lock() else {
            return true;
        };
        let burst = self.burst as f64;
        let per_sec = 1.0 / self.refill.as_secs_f64();
        if b.len() > 50_000 {
            // Forget clients whose bucket has refilled: they lose nothing.
            b.retain(|_, (tokens, at)| {
                *tokens + now.saturating_duration_since(*at).as_secs_f64() * per_sec < burst
            });
        }
        let (tokens, at) = b.entry(ip).or_insert((burst, now));
        *tokens = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * per_sec).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_allows_a_burst_then_one_per_interval_per_client() {
        let l = RateLimiter::new(3, Duration::from_secs(2));
        let t = Instant::now();
        let a = Some("10.0.0.1".parse().unwrap());
        let b = Some("10.0.0.2".parse().unwrap());
        assert!((0..3).all(|_| l.allow_at(a, t)));
        assert!(!l.allow_at(a, t), "burst spent");
        assert!(l.allow_at(b, t), "another client has its own bucket");
        assert!(!l.allow_at(a, t + Duration::from_secs(1)));
        assert!(
            l.allow_at(a, t + Duration::from_millis(2100)),
            "refilled one"
        );
        assert!(!l.allow_at(a, t + Duration::from_millis(2200)));
        assert!(
            (0..3).all(|_| l.allow_at(a, t + Duration::from_secs(60))),
            "never more than the burst"
        );
        assert!(!l.allow_at(a, t + Duration::from_secs(60)));
    }

    #[test]
    fn only_desk_officers_and_leaders_of_the_centre_work_counters() {
        let centre: AgencyCode = "000.00.01.H40".parse().unwrap();
        let other: AgencyCode = "000.00.03.H40".parse().unwrap();
        let who = |role, agency: Option<&AgencyCode>| Actor {
            user_id: uuid::Uuid::new_v4(),
            name: "x".into(),
            role,
            agency: agency.cloned(),
        };
        assert!(may_work_counters(&who(Role::DeskOfficer, Some(&centre)), &centre).is_ok());
        assert!(may_work_counters(&who(Role::Leader, Some(&centre)), &centre).is_ok());
        for a in [
            who(Role::DeskOfficer, Some(&other)),
            who(Role::Specialist, Some(&centre)),
            who(Role::Citizen, None),
            who(Role::Admin, None),
        ] {
            assert_eq!(
                may_work_counters(&a, &centre).unwrap_err().status(),
                axum::http::StatusCode::FORBIDDEN
            );
        }
        assert!(may_read_figures(&who(Role::Leader, Some(&centre)), &centre).is_ok());
        assert!(may_read_figures(&who(Role::DeskOfficer, Some(&centre)), &centre).is_err());
        assert!(may_read_figures(&who(Role::Leader, Some(&other)), &centre).is_err());
    }
}
