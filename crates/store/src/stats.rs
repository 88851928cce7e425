//! Reports served from the statistics counters (never from the events): see
//! `docs/statistics.md` and `motcua_domain::stats`.

use crate::{CounterSpan, Result, Store};
use chrono::{Days, NaiveDate};
use motcua_domain::codes::AgencyCode;
use motcua_domain::stats::{Filter, Form06Row, StatKey, Window, flow_spans, stock_spans};
use std::collections::BTreeMap;

impl Store {
    /// Form 06 for local days `from..=to`, one row per agency in `agencies` that has figures.
    pub async fn form06(
        &self,
        agencies: &[AgencyCode],
        from: NaiveDate,
        to: NaiveDate,
        filter: &Filter,
    ) -> Result<BTreeMap<AgencyCode, Form06Row>> {
        let mut spans = Vec::new();
        let mut windows = Vec::new();
        if let Some(before) = from.checked_sub_days(Days::new(1)) {
            for s in stock_spans(before) {
                spans.push(CounterSpan {
                    from: s.from,
                    to: s.to,
                    metric_prefix: format!("{}open_", s.grain.prefix()),
                });
                windows.push(true);
            }
        }
        for s in flow_spans(from, to) {
            spans.push(CounterSpan {
                from: s.from,
                to: s.to,
                metric_prefix: s.grain.prefix().to_string(),
            });
            windows.push(false);
        }
        let rows = self.sum_counter_spans(agencies, &spans).await?;
        let mut out: BTreeMap<AgencyCode, Form06Row> = BTreeMap::new();
        for (i, r) in rows {
            let Some(k) = StatKey::parse(&r.metric) else {
                continue;
            };
            if !filter.admits(&k) || r.value == 0 {
                continue;
            }
            let Ok(agency) = r.agency.parse::<AgencyCode>() else {
                continue;
            };
            let row = out.entry(agency).or_default();
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
