//! Reports served from the statistics counters (never from the events): see
//! `docs/statistics.md` and `motcua_domain::stats`.

use crate::{CounterSpan, Result, Store};
use chrono::{Days, NaiveDate};
use motcua_domain::codes::AgencyCode;
use motcua_domain::stats::{Detail, Filter, Form06Row, StatKey, Window, flow_spans, stock_spans};
use std::collections::BTreeMap;

/// What the rows of a report are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    /// One row per competent agency (its code).
    Agency,
    /// One row per field (lĩnh vực).
    Field,
    /// One row per procedure code.
    Procedure,
    /// One row per agency and procedure: `{agency}|{procedure}`.
    AgencyProcedure,
}

impl Store {
    /// Form 06 for local days `from..=to`, one row per agency in `agencies` that has figures.
    pub async fn form06(
        &self,
        agencies: &[AgencyCode],
        from: NaiveDate,
        to: NaiveDate,
        filter: &Filter,
    ) -> Result<BTreeMap<AgencyCode, Form06Row>> {
        Ok(self
            .form06_by(agencies, from, to, filter, GroupBy::Agency)
            .await?
            .into_iter()
            .filter_map(|(k, v)| Some((k.parse().ok()?, v)))
            .collect())
    }

    /// Form 06 for local days `from..=to` over the dossiers of `agencies`, one row per `group`.
    /// Unfiltered rows by agency come from the agency roll-up, anything finer from the rows
    /// with every dimension (the same increments: decision 0036).
    pub async fn form06_by(
        &self,
        agencies: &[AgencyCode],
        from: NaiveDate,
        to: NaiveDate,
        filter: &Filter,
        group: GroupBy,
    ) -> Result<BTreeMap<String, Form06Row>> {
        let detail = if group == GroupBy::Agency && *filter == Filter::default() {
            Detail::Agency
        } else {
            Detail::Full
        };
        let mut spans = Vec::new();
        let mut windows = Vec::new();
        if let Some(before) = from.checked_sub_days(Days::new(1)) {
            for s in stock_spans(before) {
                let (from, to) = s.rows(detail);
                spans.push(CounterSpan {
                    from,
                    to,
                    metric_prefix: format!("{}open_", s.grain.prefix(detail)),
                });
                windows.push(true);
            }
        }
        for s in flow_spans(from, to) {
            let (from, to) = s.rows(detail);
            spans.push(CounterSpan {
                from,
                to,
                metric_prefix: s.grain.prefix(detail).to_string(),
            });
            windows.push(false);
        }
        let rows = self.sum_counter_spans(agencies, &spans).await?;
        let mut out: BTreeMap<String, Form06Row> = BTreeMap::new();
        for (i, r) in rows {
            let Some(k) = StatKey::parse(&r.metric) else {
                continue;
            };
            if !filter.admits(&k) || r.value == 0 {
                continue;
            }
            let key = match group {
                GroupBy::Agency => r.agency,
                GroupBy::Field => k.field.clone(),
                GroupBy::Procedure => k.procedure.clone(),
                GroupBy::AgencyProcedure => format!("{}|{}", r.agency, k.procedure),
            };
            let row = out.entry(key).or_default();
            if windows[i] {
                row.add(&k, Window::CarriedIn, r.value);
                row.add(&k, Window::EndOfPeriod, r.value);
            } else {
                row.add(&k, Window::Period, r.value);
            }
        }
        out.retain(|_, r| *r != Form06Row::default());
        Ok(out)
    }
}
