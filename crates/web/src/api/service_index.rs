//! The Decision 766 service index per agency and for the whole scope, for a month, quarter or
//! year, next to the raw counts behind each score. Weights not confirmed by the notes come from
//! `MOTCUA_INDEX_WEIGHTS` (JSON with any of [`IndexWeights`]' fields), defaults otherwise.

use crate::AppState;
use crate::api::open_data::calendar_period;
use crate::auth::Auth;
use crate::authz::report_scope;
use crate::error::ApiError;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use motcua_domain::codes::AgencyCode;
use motcua_domain::procedure::OnlineLevel;
use motcua_domain::stats::{
    CatalogueFacts, Filter, Form06Row, IndexWeights, ServiceIndex, service_index,
};
use motcua_store::GroupBy;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// The weights in force: `MOTCUA_INDEX_WEIGHTS` if set and valid, else the defaults.
pub fn weights() -> &'static IndexWeights {
    static W: OnceLock<IndexWeights> = OnceLock::new();
    W.get_or_init(|| match std::env::var("MOTCUA_INDEX_WEIGHTS") {
        Ok(json) => parse_weights(&json).unwrap_or_else(|e| {
            tracing::error!(error = %e, "MOTCUA_INDEX_WEIGHTS is not valid; using the defaults");
            IndexWeights::default()
        }),
        Err(_) => IndexWeights::default(),
    })
}

/// Parses `MOTCUA_INDEX_WEIGHTS`: JSON with any of [`IndexWeights`]' fields. A field it does not
/// know (a typo, or `tttt_procedures`, which `tttt_transactions` and `tttt_payable` replaced
/// when 3.4 and 3.5 came to be scored one by one) is an error rather than silently ignored.
pub fn parse_weights(json: &str) -> Result<IndexWeights, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let known = serde_json::to_value(IndexWeights::default()).map_err(|e| e.to_string())?;
    let obj = v.as_object().ok_or("must be a JSON object")?;
    if let Some(k) = obj.keys().find(|k| known.get(k.as_str()).is_none()) {
        return Err(format!("unknown weight `{k}`"));
    }
    serde_json::from_value(v).map_err(|e| e.to_string())
}

/// Parameters.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct IndexParams {
    /// Year.
    pub year: Option<i32>,
    /// Month 1-12.
    pub month: Option<u32>,
    /// Quarter 1-4.
    pub quarter: Option<u32>,
    /// Agency (leaders: their own by default; administrators: the province).
    pub agency: Option<String>,
    /// Include the agencies below it.
    pub children: Option<bool>,
    /// `json` (default), `csv`, `xlsx` or `pdf`: one line per agency and indicator.
    pub format: Option<String>,
}

/// The index of one agency.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IndexRow {
    /// Agency code (`total` for the whole scope).
    pub key: String,
    /// Agency name.
    pub name: String,
    /// The index.
    pub index: ServiceIndex,
}

/// The answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IndexReport {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// Weights used.
    pub weights: IndexWeights,
    /// One row per agency with dossiers.
    pub rows: Vec<IndexRow>,
    /// The whole scope (the province for administrators).
    pub total: IndexRow,
}

/// Decision 766 service index for a month, quarter or year.
#[utoipa::path(get, path = "/api/v1/reports/service-index", tag = "statistics", params(IndexParams), security(("bearer" = [])),
    responses((status = 200, body = IndexReport, description = "JSON, or CSV / Excel / PDF with `format`"), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn index(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: Result<Query<IndexParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = q?;
    let format = p.format.clone().unwrap_or_else(|| "json".into());
    let report = compute(&s, &actor, &p).await?;
    if format == "json" {
        return Ok(Json(report).into_response());
    }
    let (from, to) = (report.from, report.to);
    let opt = |x: Option<f64>| x.map(|x| format!("{x:.2}")).unwrap_or_default();
    let mut lines = Vec::new();
    for r in report.rows.iter().chain(std::iter::once(&report.total)) {
        for g in &r.index.groups {
            for i in &g.indicators {
                lines.push(vec![
                    r.key.clone(),
                    r.name.clone(),
                    g.code.clone(),
                    format!("{} {}", i.code, i.name),
                    i.numerator.to_string(),
                    i.denominator.to_string(),
                    opt(i.rate),
                    opt(i.full_from),
                    i.max.to_string(),
                    opt(i.score),
                ]);
            }
        }
    }
    crate::export::table_response(
        &format,
        &format!("chi-so-766-{from}-{to}"),
        &format!("Chỉ số phục vụ (Quyết định 766/QĐ-TTg), {from} đến {to}"),
        &[
            "Mã đơn vị",
            "Đơn vị",
            "Nhóm",
            "Chỉ tiêu",
            "Tử số",
            "Mẫu số",
            "Tỷ lệ (%)",
            "Đủ điểm từ (%)",
            "Điểm tối đa",
            "Điểm",
        ],
        &lines,
    )
    .await
}

/// The index for the period, agency and scope `p` names, as `actor` may see it (the page and
/// the API answer the same figures).
pub(crate) async fn compute(
    s: &AppState,
    actor: &motcua_domain::agency::Actor,
    p: &IndexParams,
) -> Result<IndexReport, ApiError> {
    let (from, to) = calendar_period(p.year, p.month, p.quarter)?;
    let requested = p
        .agency
        .as_deref()
        .map(|a| {
            a.trim()
                .parse::<AgencyCode>()
                .map_err(|e| ApiError::invalid("agency", e.to_string()))
        })
        .transpose()?;
    let all = s.store.agencies().await?;
    if let Some(r) = &requested
        && !all.iter().any(|a| a.code == *r)
    {
        return Err(ApiError::not_found(format!("no agency `{r}`")));
    }
    let agencies = report_scope(actor, requested.as_ref(), p.children.unwrap_or(false), &all)?;
    let rows = s
        .store
        .form06(&agencies, from, to, &Filter::default())
        .await?;
    let w = weights();
    let (mut per_agency, mut scope_facts) = catalogue_facts(s, &agencies, from, to).await?;
    // 1.4: received in the period and acknowledged by the national portal.
    for (a, n) in s.store.portal_synced(&agencies, from, to).await? {
        per_agency.entry(a).or_default().portal_synced = n;
        scope_facts.portal_synced += n;
    }
    feedback_facts(s, &agencies, from, to, &mut per_agency, &mut scope_facts).await?;
    let mut total = Form06Row::default();
    let rows = rows
        .into_iter()
        .map(|(c, r)| {
            total.merge(&r);
            IndexRow {
                key: c.to_string(),
                name: all
                    .iter()
                    .find(|a| a.code == c)
                    .map_or_else(|| c.to_string(), |a| a.name.clone()),
                index: service_index(&r, per_agency.get(&c), w),
            }
        })
        .collect();
    Ok(IndexReport {
        from,
        to,
        weights: w.clone(),
        rows,
        total: IndexRow {
            key: "total".into(),
            name: "Tổng hợp".into(),
            index: service_index(&total, Some(&scope_facts), w),
        },
    })
}

/// Indicators 5.1-5.3 and 5.4's dossiers with feedback: the feedback items addressed to
/// `agencies` received in the period (local days `from`..=`to`), each judged now against its
/// limits on its agency's calendar (an item still open past a limit counts as late).
async fn feedback_facts(
    s: &AppState,
    agencies: &[AgencyCode],
    from: NaiveDate,
    to: NaiveDate,
    per: &mut BTreeMap<AgencyCode, CatalogueFacts>,
    total: &mut CatalogueFacts,
) -> Result<(), ApiError> {
    let local = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .checked_sub_signed(chrono::Duration::hours(7))
            .expect("in range")
    };
    let items = s
        .store
        .list_feedback(&motcua_store::FeedbackQuery {
            agencies: agencies.to_vec(),
            received_from: Some(local(from)),
            received_before: Some(local(to.succ_opt().unwrap_or(to))),
            limit: 10_000,
            ..Default::default()
        })
        .await?;
    let limits = s.feedback_limits();
    let calendars = s.calendars();
    let now = chrono::Utc::now();
    let mut dossiers: BTreeMap<AgencyCode, BTreeSet<String>> = BTreeMap::new();
    for r in items {
        let f = r.item;
        let calendar = calendars.for_agency(&f.agency);
        per.entry(f.agency.clone())
            .or_default()
            .feedback
            .add(&f, &calendar, &limits, now);
        total.feedback.add(&f, &calendar, &limits, now);
        if f.subject_kind == motcua_domain::feedback::SubjectKind::Dossier {
            dossiers
                .entry(f.agency.clone())
                .or_default()
                .insert(f.subject.clone());
        }
    }
    // A dossier rated below 4 is among the dislikes already: counted once.
    for (agency, codes) in dossiers {
        let mut n = 0;
        for code in codes {
            let Ok(code) = code.parse::<motcua_domain::codes::DossierCode>() else {
                continue;
            };
            let disliked = s
                .store
                .dossier_by_code(&code)
                .await?
                .and_then(|d| d.rating)
                .is_some_and(|r| r.score < 4);
            n += i64::from(!disliked);
        }
        per.entry(agency).or_default().feedback_dossiers += n;
        total.feedback_dossiers += n;
    }
    Ok(())
}

/// The catalogue's side of the index (indicators 1.1, 1.3, 3.1, 3.2, 3.4 and 3.5) for each agency of
/// `agencies` and for all of them together. An agency's procedures are those it decides: its
/// own competent ones, and those without a competent agency that its desk receives (each
/// commune decides its commune procedures). "Used" means at least one online dossier of that
/// procedure was received in the period at that agency (the statistics counters, as form 06).
/// A version counts as published on time when it was published at least five working days (on
/// the province's calendar) before the date it takes effect.
async fn catalogue_facts(
    s: &AppState,
    agencies: &[AgencyCode],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(BTreeMap<AgencyCode, CatalogueFacts>, CatalogueFacts), ApiError> {
    let cat = s.catalogue().await?;
    let by_procedure = s
        .store
        .form06_by(
            agencies,
            from,
            to,
            &Filter::default(),
            GroupBy::AgencyProcedure,
        )
        .await?;
    let used: BTreeSet<&String> = by_procedure
        .iter()
        .filter(|(_, r)| r.received_online > 0)
        .map(|(k, _)| k)
        .collect();
    // 3.4: a fee settled online in the period (the counters, as 3.6).
    let paid_online: BTreeSet<&String> = by_procedure
        .iter()
        .filter(|(_, r)| r.fees_settled_online > 0)
        .map(|(k, _)| k)
        .collect();
    // 3.5: online payment is offered for the dossiers of online procedures (their owners pay
    // on the national payment platform) when the platform is configured.
    let platform = s.payment.is_some();
    let local = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .checked_sub_signed(chrono::Duration::hours(7))
            .expect("in range")
    };
    let end = to.succ_opt().unwrap_or(to);
    let calendar = s.calendars().province();
    let mut on_time_of: BTreeMap<String, Vec<bool>> = BTreeMap::new();
    for c in s
        .store
        .procedure_changes_between("published", local(from), local(end))
        .await?
    {
        let Some(rec) = cat.get(&c.code) else {
            continue;
        };
        if rec.version.version != c.version {
            // Published in the period and superseded since: judged by the version in force.
            continue;
        }
        let Some(effective) = rec.version.details.effective_from else {
            continue;
        };
        let published = (c.at + chrono::Duration::hours(7)).date_naive();
        let mut fifth = published;
        for _ in 0..5 {
            fifth = calendar.next_working_day(fifth);
        }
        on_time_of
            .entry(c.code.clone())
            .or_default()
            .push(fifth <= effective);
    }
    let in_scope: BTreeSet<&AgencyCode> = agencies.iter().collect();
    let mut per: BTreeMap<AgencyCode, CatalogueFacts> = BTreeMap::new();
    let mut total = CatalogueFacts::default();
    for rec in cat.all() {
        let v = &rec.version;
        let deciders: Vec<&AgencyCode> = match &v.competent_agency {
            Some(a) => vec![a],
            None => rec.receiving_agencies.iter().collect(),
        };
        let deciders: Vec<&AgencyCode> = deciders
            .into_iter()
            .filter(|a| in_scope.contains(a))
            .collect();
        if deciders.is_empty() {
            continue;
        }
        let complete = motcua_domain::catalogue::discloses_all_parts(v);
        let online = v.online_level != OnlineLevel::None;
        let code = v.code.to_string();
        let published = on_time_of.get(&code).map_or(&[][..], Vec::as_slice);
        let fee = v.fee_vnd > 0;
        let payable = fee && online && platform;
        let add = |f: &mut CatalogueFacts, used: bool, paid: bool| {
            f.procedures += 1;
            f.fee_bearing += i64::from(fee);
            f.fee_payable_online += i64::from(payable);
            f.fee_paid_online += i64::from(fee && paid);
            f.complete += i64::from(complete);
            f.online += i64::from(online);
            f.online_used += i64::from(online && used);
            f.published += published.len() as i64;
            f.published_on_time += published.iter().filter(|x| **x).count() as i64;
        };
        let (mut used_anywhere, mut paid_anywhere) = (false, false);
        for a in &deciders {
            let key = format!("{a}|{code}");
            let u = used.contains(&key);
            let p = paid_online.contains(&key);
            used_anywhere |= u;
            paid_anywhere |= p;
            add(per.entry((*a).clone()).or_default(), u, p);
        }
        add(&mut total, used_anywhere, paid_anywhere);
    }
    Ok((per, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_parse_known_fields_and_refuse_others() {
        let w = parse_weights(r#"{"tttt_transactions": 3, "mdsh_population": 4.5}"#).unwrap();
        assert_eq!((w.tttt_transactions, w.mdsh_population), (3.0, 4.5));
        assert_eq!(
            w.tttt_paid_online, 6.0,
            "missing fields keep their defaults"
        );
        let e = parse_weights(r#"{"tttt_procedures": 4}"#).unwrap_err();
        assert!(e.contains("tttt_procedures"), "{e}");
        let e = parse_weights(r#"{"mdhl_feedback": 12}"#).unwrap_err();
        assert!(
            e.contains("mdhl_feedback"),
            "5.1-5.3 are weighted one by one: {e}"
        );
        let w = parse_weights(r#"{"mdhl_on_time": 4}"#).unwrap();
        assert_eq!(
            (w.mdhl_classified, w.mdhl_on_time, w.mdhl_content),
            (5.0, 4.0, 2.0)
        );
        assert!(parse_weights("[1, 2]").is_err());
        assert!(parse_weights(r#"{"mdsh_reuse": "two"}"#).is_err());
        assert!(parse_weights("not json").is_err());
    }
}
