//! Queue tickets on SQLite. Every write runs on the writer thread, which serialises takes
//! (consecutive numbers) and calls (one ticket to one counter).

use super::writer::db_err;
use super::{SqliteStore, corrupt, from_ts, ts};
use crate::queue::QueueAct;
use crate::{Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::codes::AgencyCode;
use motcua_domain::queue::{
    Counter, QueueError, ServiceGroup, Ticket, TicketAction, TicketState, local_day,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

const COLUMNS: &str = "id, centre, day, grp, prefix, seq, state, taken_at, called_at, \
    last_called_at, started_at, done_at, counter, officer, calls";

type Raw = (
    String,
    String,
    String,
    String,
    String,
    u32,
    String,
    i64,
    [Option<i64>; 4],
    Option<u16>,
    Option<String>,
    u32,
);

fn raw(r: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        [r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?],
        r.get(12)?,
        r.get(13)?,
        r.get(14)?,
    ))
}

fn ticket(r: Raw) -> Result<Ticket> {
    let (id, centre, day, group, prefix, seq, state, taken, times, counter, officer, calls) = r;
    let [called, last, started, done] = times.map(|t| t.map(from_ts));
    Ok(Ticket {
        id: id.parse().map_err(corrupt)?,
        centre: centre.parse().map_err(corrupt)?,
        day: day.parse().map_err(corrupt)?,
        group,
        prefix: prefix
            .chars()
            .next()
            .ok_or_else(|| corrupt("empty prefix"))?,
        seq,
        state: TicketState::parse(&state).ok_or_else(|| corrupt(&state))?,
        taken_at: from_ts(taken),
        called_at: called,
        last_called_at: last,
        started_at: started,
        done_at: done,
        counter,
        officer: officer.map(|o| o.parse()).transpose().map_err(corrupt)?,
        calls,
    })
}

fn tickets(c: &Connection, sql: &str, args: impl rusqlite::Params) -> Result<Vec<Ticket>> {
    c.prepare_cached(sql)
        .map_err(db_err)?
        .query_map(args, raw)
        .map_err(db_err)?
        .map(|r| ticket(r.map_err(db_err)?))
        .collect()
}

fn counter(c: &Connection, centre: &str, number: u16) -> Result<Counter> {
    let data: Option<String> = c
        .prepare_cached("SELECT data FROM queue_counters WHERE centre = ?1 AND number = ?2")
        .map_err(db_err)?
        .query_row(params![centre, number], |r| r.get(0))
        .optional()
        .map_err(db_err)?;
    let data = data.ok_or_else(|| StoreError::NotFound(format!("counter {number} at {centre}")))?;
    serde_json::from_str(&data).map_err(corrupt)
}

fn current(c: &Connection, centre: &str, number: u16, day: NaiveDate) -> Result<Option<Ticket>> {
    Ok(tickets(
        c,
        &format!(
            "SELECT {COLUMNS} FROM queue_tickets
             WHERE centre = ?1 AND counter = ?2 AND day = ?3 AND state IN ('called', 'serving')
             ORDER BY last_called_at DESC LIMIT 1"
        ),
        params![centre, number, day.to_string()],
    )?
    .pop())
}

fn save(c: &Connection, t: &Ticket) -> Result<()> {
    c.prepare_cached(
        "UPDATE queue_tickets SET state = ?2, called_at = ?3, last_called_at = ?4,
           started_at = ?5, done_at = ?6, counter = ?7, officer = ?8, calls = ?9
         WHERE id = ?1",
    )
    .map_err(db_err)?
    .execute(params![
        t.id.to_string(),
        t.state.as_str(),
        t.called_at.map(ts),
        t.last_called_at.map(ts),
        t.started_at.map(ts),
        t.done_at.map(ts),
        t.counter,
        t.officer.map(|o| o.to_string()),
        t.calls
    ])
    .map_err(db_err)?;
    Ok(())
}

impl SqliteStore {
    pub(crate) async fn add_queue_setup(
        &self,
        centre: &AgencyCode,
        groups: Vec<ServiceGroup>,
        counters: Vec<Counter>,
    ) -> Result<u64> {
        let centre = centre.to_string();
        self.write(move |c| {
            let mut added = 0;
            for (i, g) in groups.iter().enumerate() {
                let taken: Option<String> = c
                    .prepare_cached(
                        "SELECT code FROM queue_groups WHERE centre = ?1 AND prefix = ?2",
                    )
                    .map_err(db_err)?
                    .query_row(params![centre, g.prefix.to_string()], |r| r.get(0))
                    .optional()
                    .map_err(db_err)?;
                if taken.as_ref().is_some_and(|t| *t != g.code) {
                    return Err(StoreError::Duplicate(format!(
                        "prefix {} at {centre}",
                        g.prefix
                    )));
                }
                added += c
                    .prepare_cached(
                        "INSERT INTO queue_groups (centre, code, prefix, position, data)
                         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                    )
                    .map_err(db_err)?
                    .execute(params![
                        centre,
                        g.code,
                        g.prefix.to_string(),
                        i as i64,
                        serde_json::to_string(g).map_err(corrupt)?
                    ])
                    .map_err(db_err)? as u64;
            }
            for k in &counters {
                added += c
                    .prepare_cached(
                        "INSERT INTO queue_counters (centre, number, data) VALUES (?1, ?2, ?3)
                         ON CONFLICT DO NOTHING",
                    )
                    .map_err(db_err)?
                    .execute(params![
                        centre,
                        k.number,
                        serde_json::to_string(k).map_err(corrupt)?
                    ])
                    .map_err(db_err)? as u64;
            }
            Ok(added)
        })
        .await
    }

    pub(crate) async fn queue_groups(&self, centre: &AgencyCode) -> Result<Vec<ServiceGroup>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT data FROM queue_groups WHERE centre = ?1 ORDER BY position, code",
                )
                .map_err(db_err)?;
            let rows = st
                .query_map([centre.as_str()], |r| r.get::<_, String>(0))
                .map_err(db_err)?;
            rows.map(|r| serde_json::from_str(&r.map_err(db_err)?).map_err(corrupt))
                .collect()
        })
    }

    pub(crate) async fn queue_counters(&self, centre: &AgencyCode) -> Result<Vec<Counter>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached("SELECT data FROM queue_counters WHERE centre = ?1 ORDER BY number")
                .map_err(db_err)?;
            let rows = st
                .query_map([centre.as_str()], |r| r.get::<_, String>(0))
                .map_err(db_err)?;
            rows.map(|r| serde_json::from_str(&r.map_err(db_err)?).map_err(corrupt))
                .collect()
        })
    }

    pub(crate) async fn take_ticket(
        &self,
        centre: &AgencyCode,
        group: &str,
        now: DateTime<Utc>,
    ) -> Result<Ticket> {
        let (centre, group) = (centre.clone(), group.to_string());
        self.write(move |c| {
            let data: Option<String> = c
                .prepare_cached("SELECT data FROM queue_groups WHERE centre = ?1 AND code = ?2")
                .map_err(db_err)?
                .query_row(params![centre.as_str(), group], |r| r.get(0))
                .optional()
                .map_err(db_err)?;
            let g: ServiceGroup = serde_json::from_str(
                &data.ok_or_else(|| StoreError::NotFound(format!("group {group} at {centre}")))?,
            )
            .map_err(corrupt)?;
            let day = local_day(now);
            let seq: u32 = c
                .prepare_cached(
                    "INSERT INTO queue_seq (centre, day, grp, last) VALUES (?1, ?2, ?3, 1)
                     ON CONFLICT (centre, day, grp) DO UPDATE SET last = last + 1
                     RETURNING last",
                )
                .map_err(db_err)?
                .query_row(params![centre.as_str(), day.to_string(), g.code], |r| {
                    r.get(0)
                })
                .map_err(db_err)?;
            let t = Ticket::new(centre.clone(), &g, seq, now);
            c.prepare_cached(
                "INSERT INTO queue_tickets (id, centre, day, grp, prefix, seq, state, taken_at, calls)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0)",
            )
            .map_err(db_err)?
            .execute(params![
                t.id.to_string(),
                centre.as_str(),
                t.day.to_string(),
                t.group,
                t.prefix.to_string(),
                t.seq,
                t.state.as_str(),
                ts(t.taken_at)
            ])
            .map_err(db_err)?;
            Ok(t)
        })
        .await
    }

    pub(crate) async fn queue_ticket(&self, id: Uuid) -> Result<Option<Ticket>> {
        self.read(|c| {
            Ok(tickets(
                c,
                &format!("SELECT {COLUMNS} FROM queue_tickets WHERE id = ?1"),
                [id.to_string()],
            )?
            .pop())
        })
    }

    pub(crate) async fn queue_ahead(&self, t: &Ticket) -> Result<u32> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT count(*) FROM queue_tickets
                 WHERE centre = ?1 AND day = ?2 AND grp = ?3 AND state = 'waiting' AND seq < ?4",
            )
            .map_err(db_err)?
            .query_row(
                params![t.centre.as_str(), t.day.to_string(), t.group, t.seq],
                |r| r.get(0),
            )
            .map_err(db_err)
        })
    }

    pub(crate) async fn queue_waiting(
        &self,
        centre: &AgencyCode,
        day: NaiveDate,
    ) -> Result<Vec<(String, u32)>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT grp, count(*) FROM queue_tickets
                     WHERE centre = ?1 AND day = ?2 AND state = 'waiting' GROUP BY grp ORDER BY grp",
                )
                .map_err(db_err)?;
            let rows = st
                .query_map(params![centre.as_str(), day.to_string()], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
    }

    pub(crate) async fn queue_current(
        &self,
        centre: &AgencyCode,
        number: u16,
        day: NaiveDate,
    ) -> Result<Option<Ticket>> {
        self.read(|c| current(c, centre.as_str(), number, day))
    }

    pub(crate) async fn queue_act(&self, act: QueueAct) -> Result<Option<Ticket>> {
        self.write(move |c| {
            let centre = act.centre.as_str();
            let k = counter(c, centre, act.counter)?;
            let day = local_day(act.now);
            let held = current(c, centre, act.counter, day)?;
            let mut t = match (act.action, held) {
                (TicketAction::CallNext, Some(h)) => {
                    return Err(QueueError::CounterBusy {
                        counter: act.counter,
                        ticket: h.number().to_string(),
                    }
                    .into());
                }
                (TicketAction::CallNext, None) => {
                    let groups = serde_json::to_string(&k.groups).map_err(corrupt)?;
                    let next = tickets(
                        c,
                        &format!(
                            "SELECT {COLUMNS} FROM queue_tickets
                             WHERE centre = ?1 AND day = ?2 AND state = 'waiting'
                               AND grp IN (SELECT value FROM json_each(?3))
                             ORDER BY taken_at, seq LIMIT 1"
                        ),
                        params![centre, day.to_string(), groups],
                    )?
                    .pop();
                    match next {
                        Some(t) => t,
                        None => return Ok(None),
                    }
                }
                (_, Some(h)) => h,
                (_, None) => return Err(QueueError::NoCurrentTicket(act.counter).into()),
            };
            t.apply(act.action, act.counter, act.officer, act.now)?;
            save(c, &t)?;
            Ok(Some(t))
        })
        .await
    }

    pub(crate) async fn queue_recent_calls(
        &self,
        centre: &AgencyCode,
        day: NaiveDate,
        limit: u32,
    ) -> Result<Vec<Ticket>> {
        self.read(|c| {
            tickets(
                c,
                &format!(
                    "SELECT {COLUMNS} FROM queue_tickets
                     WHERE centre = ?1 AND day = ?2 AND last_called_at IS NOT NULL
                     ORDER BY last_called_at DESC, seq DESC LIMIT ?3"
                ),
                params![centre.as_str(), day.to_string(), limit],
            )
        })
    }

    pub(crate) async fn queue_tickets(
        &self,
        centre: &AgencyCode,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Ticket>> {
        let centre = centre.to_string();
        self.read_blocking(move |c| {
            tickets(
                c,
                &format!(
                    "SELECT {COLUMNS} FROM queue_tickets
                     WHERE centre = ?1 AND day BETWEEN ?2 AND ?3 ORDER BY taken_at, seq"
                ),
                params![centre, from.to_string(), to.to_string()],
            )
        })
        .await
    }
}
