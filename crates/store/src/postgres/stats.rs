//! Statistics reads: counter sums over spans of dates, in one statement (one snapshot).

use super::PgStore;
use crate::{CounterRow, CounterSpan, Result};
use chrono::NaiveDate;
use motcua_domain::codes::AgencyCode;

impl PgStore {
    pub(crate) async fn sum_counter_spans(
        &self,
        agencies: &[AgencyCode],
        spans: &[CounterSpan],
    ) -> Result<Vec<(usize, CounterRow)>> {
        let agencies: Vec<String> = agencies.iter().map(|a| a.to_string()).collect();
        let from: Vec<NaiveDate> = spans.iter().map(|s| s.from).collect();
        let to: Vec<NaiveDate> = spans.iter().map(|s| s.to).collect();
        let lo: Vec<String> = spans.iter().map(|s| s.metric_prefix.clone()).collect();
        let hi: Vec<String> = spans.iter().map(|s| s.metric_end()).collect();
        let rows = self
            .query(
                "SELECT s.i::int8, c.agency, c.metric, sum(c.value)::int8
                 FROM unnest($2::date[], $3::date[], $4::text[], $5::text[]) WITH ORDINALITY AS s(f, t, lo, hi, i)
                 JOIN counters c ON c.agency = ANY($1::text[]) AND c.day >= s.f AND c.day <= s.t
                      AND c.metric >= (s.lo COLLATE \"C\") AND c.metric < (s.hi COLLATE \"C\")
                 GROUP BY s.i, c.agency, c.metric",
                &[&agencies, &from, &to, &lo, &hi],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.get::<_, i64>(0) as usize - 1,
                    CounterRow {
                        agency: r.get(1),
                        metric: r.get(2),
                        value: r.get(3),
                    },
                )
            })
            .collect())
    }
}
