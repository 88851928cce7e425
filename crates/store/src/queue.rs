//! Queue numbers at one-stop centres: service groups, counters and tickets (issue 5).
//!
//! Ticket numbers come from a counter row per centre, day and group, incremented in the
//! transaction that inserts the ticket, so two takes never get the same number. "Call next"
//! picks the oldest waiting ticket of the counter's groups and marks it called in one
//! transaction: on SQLite the writer thread serialises it, on PostgreSQL the counter row is
//! locked and the ticket is picked `FOR UPDATE SKIP LOCKED`, so two counters calling at once
//! never get the same ticket.

use crate::{Result, Store};
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::codes::AgencyCode;
use motcua_domain::queue::{Counter, ServiceGroup, Ticket, TicketAction};
use uuid::Uuid;

/// A counter with what it holds now.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CounterState {
    /// The counter.
    pub counter: Counter,
    /// The ticket it has called or is serving today, if any.
    pub current: Option<Ticket>,
    /// Tickets of its groups waiting today.
    pub waiting: u32,
}

/// An officer's action at a counter.
#[derive(Clone, Debug)]
pub struct QueueAct {
    /// The centre.
    pub centre: AgencyCode,
    /// The counter's number.
    pub counter: u16,
    /// What to do.
    pub action: TicketAction,
    /// Who does it.
    pub officer: Uuid,
    /// When.
    pub now: DateTime<Utc>,
}

impl Store {
    /// Adds service groups and counters to a centre's set-up; those that exist already (same
    /// group code, same counter number) are left as they are. Returns how many rows were added.
    /// A new group whose prefix another group of the centre already uses is a `Duplicate`.
    pub async fn add_queue_setup(
        &self,
        centre: &AgencyCode,
        groups: Vec<ServiceGroup>,
        counters: Vec<Counter>,
    ) -> Result<u64> {
        match self {
            Store::Sqlite(s) => s.add_queue_setup(centre, groups, counters).await,
            Store::Postgres(s) => s.add_queue_setup(centre, groups, counters).await,
        }
    }

    /// A centre's service groups, in kiosk order.
    pub async fn queue_groups(&self, centre: &AgencyCode) -> Result<Vec<ServiceGroup>> {
        match self {
            Store::Sqlite(s) => s.queue_groups(centre).await,
            Store::Postgres(s) => s.queue_groups(centre).await,
        }
    }

    /// A centre's counters, by number.
    pub async fn queue_counters(&self, centre: &AgencyCode) -> Result<Vec<Counter>> {
        match self {
            Store::Sqlite(s) => s.queue_counters(centre).await,
            Store::Postgres(s) => s.queue_counters(centre).await,
        }
    }

    /// Takes a ticket of `group` at `centre`: the next number of the group on the local day of
    /// `now`. `NotFound` if the centre has no such group.
    pub async fn take_ticket(
        &self,
        centre: &AgencyCode,
        group: &str,
        now: DateTime<Utc>,
    ) -> Result<Ticket> {
        match self {
            Store::Sqlite(s) => s.take_ticket(centre, group, now).await,
            Store::Postgres(s) => s.take_ticket(centre, group, now).await,
        }
    }

    /// One ticket.
    pub async fn queue_ticket(&self, id: Uuid) -> Result<Option<Ticket>> {
        match self {
            Store::Sqlite(s) => s.queue_ticket(id).await,
            Store::Postgres(s) => s.queue_ticket(id).await,
        }
    }

    /// Tickets of the same group still waiting that were taken before `t` (same day).
    pub async fn queue_ahead(&self, t: &Ticket) -> Result<u32> {
        match self {
            Store::Sqlite(s) => s.queue_ahead(t).await,
            Store::Postgres(s) => s.queue_ahead(t).await,
        }
    }

    /// Waiting tickets per group code on `day`.
    pub async fn queue_waiting(
        &self,
        centre: &AgencyCode,
        day: NaiveDate,
    ) -> Result<Vec<(String, u32)>> {
        match self {
            Store::Sqlite(s) => s.queue_waiting(centre, day).await,
            Store::Postgres(s) => s.queue_waiting(centre, day).await,
        }
    }

    /// An officer's action at a counter, in one transaction. `CallNext` marks the oldest
    /// waiting ticket of the counter's groups (today) as called there and returns it, or `None`
    /// when nobody waits; it is refused while the counter still holds a ticket. The other
    /// actions apply to the ticket the counter holds today. `NotFound` if there is no such
    /// counter; refusals are `StoreError::Queue`.
    pub async fn queue_act(&self, act: QueueAct) -> Result<Option<Ticket>> {
        match self {
            Store::Sqlite(s) => s.queue_act(act).await,
            Store::Postgres(s) => s.queue_act(act).await,
        }
    }

    /// A counter and what it holds on the local day of `now`; `None` if there is no such
    /// counter.
    pub async fn queue_counter_state(
        &self,
        centre: &AgencyCode,
        counter: u16,
        now: DateTime<Utc>,
    ) -> Result<Option<CounterState>> {
        let Some(c) = self
            .queue_counters(centre)
            .await?
            .into_iter()
            .find(|c| c.number == counter)
        else {
            return Ok(None);
        };
        let day = motcua_domain::queue::local_day(now);
        let current = match self {
            Store::Sqlite(s) => s.queue_current(centre, counter, day).await?,
            Store::Postgres(s) => s.queue_current(centre, counter, day).await?,
        };
        let waiting = self
            .queue_waiting(centre, day)
            .await?
            .into_iter()
            .filter(|(g, _)| c.groups.contains(g))
            .map(|(_, n)| n)
            .sum();
        Ok(Some(CounterState {
            counter: c,
            current,
            waiting,
        }))
    }

    /// Tickets called on `day` (latest call first), at most `limit`: what the display shows.
    pub async fn queue_recent_calls(
        &self,
        centre: &AgencyCode,
        day: NaiveDate,
        limit: u32,
    ) -> Result<Vec<Ticket>> {
        match self {
            Store::Sqlite(s) => s.queue_recent_calls(centre, day, limit).await,
            Store::Postgres(s) => s.queue_recent_calls(centre, day, limit).await,
        }
    }

    /// Every ticket of a centre taken from `from` to `to` (local days, inclusive), oldest first.
    pub async fn queue_tickets(
        &self,
        centre: &AgencyCode,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Ticket>> {
        match self {
            Store::Sqlite(s) => s.queue_tickets(centre, from, to).await,
            Store::Postgres(s) => s.queue_tickets(centre, from, to).await,
        }
    }
}
