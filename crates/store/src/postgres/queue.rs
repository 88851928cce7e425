//! Queue tickets on PostgreSQL. A take increments its counter row (`queue_seq`) in the
//! transaction that inserts the ticket: concurrent takes queue on that row and get consecutive
//! numbers. An officer's action locks the counter's row first (one action per counter at a
//! time), and "call next" picks the oldest waiting ticket `FOR UPDATE SKIP LOCKED`, so two
//! counters calling at once never get the same ticket.

use super::{PgStore, corrupt, is_unique_violation, pg_err};
use crate::queue::QueueAct;
use crate::{Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::GenericClient;
use motcua_domain::codes::AgencyCode;
use motcua_domain::queue::{
    Counter, QueueError, ServiceGroup, Ticket, TicketAction, TicketState, local_day,
};
use tokio_postgres::Row;
use uuid::Uuid;

const COLUMNS: &str = "id, centre, day, grp, prefix, seq, state, taken_at, called_at, \
    last_called_at, started_at, done_at, counter, officer, calls";

fn ticket(r: &Row) -> Result<Ticket> {
    let prefix: String = r.get(4);
    let state: String = r.get(6);
    Ok(Ticket {
        id: r.get(0),
        centre: r.get::<_, String>(1).parse().map_err(corrupt)?,
        day: r.get(2),
        group: r.get(3),
        prefix: prefix
            .chars()
            .next()
            .ok_or_else(|| corrupt("empty prefix"))?,
        seq: r.get::<_, i32>(5) as u32,
        state: TicketState::parse(&state).ok_or_else(|| corrupt(&state))?,
        taken_at: r.get(7),
        called_at: r.get(8),
        last_called_at: r.get(9),
        started_at: r.get(10),
        done_at: r.get(11),
        counter: r.get::<_, Option<i32>>(12).map(|c| c as u16),
        officer: r.get(13),
        calls: r.get::<_, i32>(14) as u32,
    })
}

async fn current(
    c: &impl GenericClient,
    centre: &str,
    number: u16,
    day: NaiveDate,
    lock: bool,
) -> Result<Option<Ticket>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM queue_tickets
         WHERE centre = $1 AND counter = $2 AND day = $3 AND state IN ('called', 'serving')
         ORDER BY last_called_at DESC LIMIT 1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let st = c.prepare_cached(&sql).await.map_err(pg_err)?;
    c.query_opt(&st, &[&centre, &(number as i32), &day])
        .await
        .map_err(pg_err)?
        .map(|r| ticket(&r))
        .transpose()
}

impl PgStore {
    pub(crate) async fn add_queue_setup(
        &self,
        centre: &AgencyCode,
        groups: Vec<ServiceGroup>,
        counters: Vec<Counter>,
    ) -> Result<u64> {
        let centre = centre.as_str();
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg_err)?;
        let mut added = 0;
        for (i, g) in groups.iter().enumerate() {
            let prefix = g.prefix.to_string();
            let taken = tx
                .query_opt(
                    "SELECT code FROM queue_groups WHERE centre = $1 AND prefix = $2",
                    &[&centre, &prefix],
                )
                .await
                .map_err(pg_err)?;
            if taken.is_some_and(|r| r.get::<_, String>(0) != g.code) {
                return Err(StoreError::Duplicate(format!(
                    "prefix {prefix} at {centre}"
                )));
            }
            added += tx
                .execute(
                    "INSERT INTO queue_groups (centre, code, prefix, position, data)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (centre, code) DO NOTHING",
                    &[
                        &centre,
                        &g.code,
                        &prefix,
                        &(i as i32),
                        &serde_json::to_string(g).map_err(corrupt)?,
                    ],
                )
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::Duplicate(format!("prefix {prefix} at {centre}"))
                    } else {
                        pg_err(e)
                    }
                })?;
        }
        for k in &counters {
            added += tx
                .execute(
                    "INSERT INTO queue_counters (centre, number, data) VALUES ($1, $2, $3)
                     ON CONFLICT (centre, number) DO NOTHING",
                    &[
                        &centre,
                        &(k.number as i32),
                        &serde_json::to_string(k).map_err(corrupt)?,
                    ],
                )
                .await
                .map_err(pg_err)?;
        }
        tx.commit().await.map_err(pg_err)?;
        Ok(added)
    }

    pub(crate) async fn queue_groups(&self, centre: &AgencyCode) -> Result<Vec<ServiceGroup>> {
        self.query(
            "SELECT data FROM queue_groups WHERE centre = $1 ORDER BY position, code",
            &[&centre.as_str()],
        )
        .await?
        .iter()
        .map(|r| serde_json::from_str(r.get(0)).map_err(corrupt))
        .collect()
    }

    pub(crate) async fn queue_counters(&self, centre: &AgencyCode) -> Result<Vec<Counter>> {
        self.query(
            "SELECT data FROM queue_counters WHERE centre = $1 ORDER BY number",
            &[&centre.as_str()],
        )
        .await?
        .iter()
        .map(|r| serde_json::from_str(r.get(0)).map_err(corrupt))
        .collect()
    }

    pub(crate) async fn take_ticket(
        &self,
        centre: &AgencyCode,
        group: &str,
        now: DateTime<Utc>,
    ) -> Result<Ticket> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg_err)?;
        let data = tx
            .query_opt(
                "SELECT data FROM queue_groups WHERE centre = $1 AND code = $2",
                &[&centre.as_str(), &group],
            )
            .await
            .map_err(pg_err)?
            .ok_or_else(|| StoreError::NotFound(format!("group {group} at {centre}")))?;
        let g: ServiceGroup = serde_json::from_str(data.get(0)).map_err(corrupt)?;
        let day = local_day(now);
        let seq: i32 = tx
            .query_one(
                "INSERT INTO queue_seq (centre, day, grp, last) VALUES ($1, $2, $3, 1)
                 ON CONFLICT (centre, day, grp) DO UPDATE SET last = queue_seq.last + 1
                 RETURNING last",
                &[&centre.as_str(), &day, &g.code],
            )
            .await
            .map_err(pg_err)?
            .get(0);
        let t = Ticket::new(centre.clone(), &g, seq as u32, now);
        tx.execute(
            "INSERT INTO queue_tickets (id, centre, day, grp, prefix, seq, state, taken_at, calls)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0)",
            &[
                &t.id,
                &centre.as_str(),
                &t.day,
                &t.group,
                &t.prefix.to_string(),
                &seq,
                &t.state.as_str(),
                &t.taken_at,
            ],
        )
        .await
        .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        Ok(t)
    }

    pub(crate) async fn queue_ticket(&self, id: Uuid) -> Result<Option<Ticket>> {
        self.query_opt(
            &format!("SELECT {COLUMNS} FROM queue_tickets WHERE id = $1"),
            &[&id],
        )
        .await?
        .map(|r| ticket(&r))
        .transpose()
    }

    pub(crate) async fn queue_ahead(&self, t: &Ticket) -> Result<u32> {
        let n: i64 = self
            .query_opt(
                "SELECT count(*) FROM queue_tickets
                 WHERE centre = $1 AND day = $2 AND grp = $3 AND state = 'waiting' AND seq < $4",
                &[&t.centre.as_str(), &t.day, &t.group, &(t.seq as i32)],
            )
            .await?
            .map_or(0, |r| r.get(0));
        Ok(n as u32)
    }

    pub(crate) async fn queue_waiting(
        &self,
        centre: &AgencyCode,
        day: NaiveDate,
    ) -> Result<Vec<(String, u32)>> {
        Ok(self
            .query(
                "SELECT grp, count(*) FROM queue_tickets
                 WHERE centre = $1 AND day = $2 AND state = 'waiting' GROUP BY grp ORDER BY grp",
                &[&centre.as_str(), &day],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get::<_, i64>(1) as u32))
            .collect())
    }

    pub(crate) async fn queue_current(
        &self,
        centre: &AgencyCode,
        number: u16,
        day: NaiveDate,
    ) -> Result<Option<Ticket>> {
        let c = self.conn().await?;
        current(&c, centre.as_str(), number, day, false).await
    }

    pub(crate) async fn queue_act(&self, act: QueueAct) -> Result<Option<Ticket>> {
        let centre = act.centre.as_str();
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg_err)?;
        // One action per counter at a time: the counter's row is the lock.
        let row = tx
            .query_opt(
                "SELECT data FROM queue_counters WHERE centre = $1 AND number = $2 FOR UPDATE",
                &[&centre, &(act.counter as i32)],
            )
            .await
            .map_err(pg_err)?
            .ok_or_else(|| StoreError::NotFound(format!("counter {} at {centre}", act.counter)))?;
        let k: Counter = serde_json::from_str(row.get(0)).map_err(corrupt)?;
        let day = local_day(act.now);
        let held = current(&tx, centre, act.counter, day, true).await?;
        let mut t = match (act.action, held) {
            (TicketAction::CallNext, Some(h)) => {
                return Err(QueueError::CounterBusy {
                    counter: act.counter,
                    ticket: h.number().to_string(),
                }
                .into());
            }
            (TicketAction::CallNext, None) => {
                let next = tx
                    .query_opt(
                        &format!(
                            "SELECT {COLUMNS} FROM queue_tickets
                             WHERE centre = $1 AND day = $2 AND state = 'waiting'
                               AND grp = ANY($3)
                             ORDER BY taken_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED"
                        ),
                        &[&centre, &day, &k.groups],
                    )
                    .await
                    .map_err(pg_err)?;
                match next {
                    Some(r) => ticket(&r)?,
                    None => return Ok(None),
                }
            }
            (_, Some(h)) => h,
            (_, None) => return Err(QueueError::NoCurrentTicket(act.counter).into()),
        };
        t.apply(act.action, act.counter, act.officer, act.now)?;
        tx.execute(
            "UPDATE queue_tickets SET state = $2, called_at = $3, last_called_at = $4,
               started_at = $5, done_at = $6, counter = $7, officer = $8, calls = $9
             WHERE id = $1",
            &[
                &t.id,
                &t.state.as_str(),
                &t.called_at,
                &t.last_called_at,
                &t.started_at,
                &t.done_at,
                &t.counter.map(i32::from),
                &t.officer,
                &(t.calls as i32),
            ],
        )
        .await
        .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        Ok(Some(t))
    }

    pub(crate) async fn queue_recent_calls(
        &self,
        centre: &AgencyCode,
        day: NaiveDate,
        limit: u32,
    ) -> Result<Vec<Ticket>> {
        self.query(
            &format!(
                "SELECT {COLUMNS} FROM queue_tickets
                 WHERE centre = $1 AND day = $2 AND last_called_at IS NOT NULL
                 ORDER BY last_called_at DESC, seq DESC LIMIT $3"
            ),
            &[&centre.as_str(), &day, &(limit as i64)],
        )
        .await?
        .iter()
        .map(ticket)
        .collect()
    }

    pub(crate) async fn queue_tickets(
        &self,
        centre: &AgencyCode,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Ticket>> {
        self.query(
            &format!(
                "SELECT {COLUMNS} FROM queue_tickets
                 WHERE centre = $1 AND day BETWEEN $2 AND $3 ORDER BY taken_at, seq"
            ),
            &[&centre.as_str(), &from, &to],
        )
        .await?
        .iter()
        .map(ticket)
        .collect()
    }
}
