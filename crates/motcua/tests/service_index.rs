//! The Decision 766 indicators of online payment (3.4-3.6), re-used data (4.3) and the
//! population database (4.5) over real HTTP, against the sandbox payment platform and the
//! sandbox population database started here: a citizen pays online, the desk takes cash and
//! waives a fee, a desk officer looks an applicant up before receiving their paper dossier, and
//! a file already linked to an earlier dossier is attached again. The index served from the
//! counters must equal a reference computed from the event logs alone, and `verify` must find
//! no difference.

mod common;

use chrono::{Datelike, NaiveDate};
use common::PASSWORD;
use common::browser::{Browser, answer, raw};
use motcua_domain::agency::Actor;
use motcua_domain::stats::{Filter, Form06Row, reference_form06};
use motcua_integrations::sandbox::payment::PaymentSandbox;
use motcua_integrations::sandbox::population::PopulationSandbox;
use motcua_store::{DossierQuery, Store};
use motcua_web::identity::{Purpose, lookup_audited};
use motcua_web::population::{PopulationDb, PopulationSettings};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

const PARTNER: &str = "MOTCUA";
const SECRET: &str = "s3cret-chi-so";
/// A procedure of the commune desk, made fee-bearing for this test.
const CODE: &str = "1.001193";
const FEE: i64 = 30_000;

struct Server {
    base: String,
    store: Store,
    state: motcua_web::AppState,
    _payment: PaymentSandbox,
    _population: PopulationSandbox,
}

async fn start() -> Server {
    let payment = PaymentSandbox::start("127.0.0.1:0".parse().unwrap(), PARTNER, SECRET)
        .await
        .unwrap();
    let population = PopulationSandbox::start("127.0.0.1:0".parse().unwrap(), "lgsp-token")
        .await
        .unwrap();
    let store = Store::open("sqlite::memory:").await.unwrap();
    motcua::seed::seed(&store, &motcua_web::auth::hash_password)
        .await
        .unwrap();
    let mut p = store.published_procedure(CODE).await.unwrap().unwrap();
    p.version.fee_vnd = FEE;
    store.upsert_procedure(p).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let platform = motcua_web::payment::Platform::new(motcua_web::payment::PaymentSettings {
        base_url: payment.url(),
        partner_code: PARTNER.into(),
        secret: SECRET.into(),
        timeout_ms: 2_000,
        retry_secs: 1,
        ..Default::default()
    })
    .unwrap();
    let db = PopulationDb::new(
        PopulationSettings {
            url: population.url(),
            token: population.token(),
            ma_dvc: "H40".into(),
            ma_tich_hop: "MOTCUA".into(),
            timeout_ms: 2_000,
            cache_secs: 0,
        },
        store.clone(),
    )
    .unwrap();
    let state = motcua_web::AppState::new(store.clone())
        .with_public_url(&base)
        .with_payment(platform)
        .with_identity(Arc::new(db));
    let serving = state.clone();
    tokio::spawn(async move { motcua_web::serve(listener, serving).await.unwrap() });
    Server {
        base,
        store,
        state,
        _payment: payment,
        _population: population,
    }
}

async fn token(s: &Server, user: &str) -> String {
    let r = raw()
        .post(format!("{}/api/v1/auth/token", s.base))
        .json(&json!({"username": user, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn api(
    s: &Server,
    user: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut rb = raw()
        .request(method.parse().unwrap(), format!("{}{path}", s.base))
        .bearer_auth(token(s, user).await);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

fn agency_of(user: &str) -> String {
    motcua::seed::demo_logins()
        .into_iter()
        .find(|l| l.username == user)
        .and_then(|l| l.agency)
        .unwrap()
        .to_string()
}

/// `congdan` submits online; the commune desk receives it. Returns its id.
async fn online_dossier(s: &Server) -> String {
    let body = common::with_required_documents_at(
        &s.base,
        &token(s, "congdan").await,
        json!({
            "procedure_code": CODE,
            "agency": agency_of("motcua.xa"),
            "applicant": {"name": "Nguyễn Thị Lan", "personal_id": "068190004321", "phone": "0912345678"},
            "documents": [{"name": "Tờ khai"}],
            "form": motcua::seed::forms::example(CODE).unwrap(),
        }),
    )
    .await;
    let (st, v) = api(s, "congdan", "POST", "/api/v1/dossiers", Some(body)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["dossier"]["id"].as_str().unwrap().to_string();
    let (st, v) = api(
        s,
        "motcua.xa",
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/receive"),
        Some(json!({})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    id
}

/// The commune desk receives a paper dossier for `applicant` with `file` as its form.
async fn counter_dossier(s: &Server, applicant: Value, file: &str) -> Value {
    let (st, v) = api(
        s,
        "motcua.xa",
        "POST",
        "/api/v1/dossiers",
        Some(json!({
            "procedure_code": CODE,
            "agency": agency_of("motcua.xa"),
            "channel": "counter",
            "applicant": applicant,
            "documents": [{"name": "Tờ khai", "file": file}],
        })),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["dossier"].clone()
}

/// The owner pays what is owed on the sandbox platform, as in the browser.
async fn pay_online(s: &Server, id: &str) {
    let owner = Browser::sign_in_at(&s.base, "congdan", PASSWORD).await;
    let page = format!("/ca-nhan/ho-so/{id}");
    let csrf = owner.csrf(&page).await;
    let (st, pay_page) = owner
        .post_form(&format!("{page}/thanh-toan"), &[("csrf", &csrf)])
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{pay_page}");
    let r = raw()
        .post(&pay_page)
        .form(&[("action", "pay")])
        .send()
        .await
        .unwrap();
    let (st, back) = answer(r).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{back}");
    let back = back.strip_prefix(&s.base).unwrap().to_string();
    let (st, to) = owner.get(&back).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    assert_eq!(to, format!("{page}?xong=da-thanh-toan"));
}

/// The commune desk acts on a dossier from its page (payments and waivers are recorded there).
async fn desk_form(s: &Server, id: &str, fields: &[(&str, &str)]) {
    let desk = Browser::sign_in_at(&s.base, "motcua.xa", PASSWORD).await;
    let page = format!("/can-bo/ho-so/{id}");
    let csrf = desk.csrf(&page).await;
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    let (st, to) = desk.post_form(&page, &all).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{fields:?}: {to}");
}

/// Form 06 figures of the whole province for `from..=to`, from the event logs alone.
async fn reference(store: &Store, from: NaiveDate, to: NaiveDate) -> Form06Row {
    let list = store
        .list_dossiers(&DossierQuery {
            owner: None,
            agency: None,
            current_agency: None,
            status: None,
            limit: 1_000,
            before: None,
        })
        .await
        .unwrap();
    let mut logs = Vec::new();
    for d in list {
        let h = store.history(d.id).await.unwrap();
        logs.push((d.id, h.into_iter().map(|e| e.event).collect::<Vec<_>>()));
    }
    let mut total = Form06Row::default();
    for r in reference_form06(&logs, None, &Filter::default(), from, to).values() {
        total.merge(r);
    }
    total
}

fn indicator<'a>(index: &'a Value, code: &str) -> &'a Value {
    index["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["indicators"].as_array().unwrap())
        .find(|i| i["code"] == code)
        .unwrap_or_else(|| panic!("indicator {code} in {index}"))
}

fn counts(i: &Value) -> (i64, i64) {
    (
        i["numerator"].as_i64().unwrap(),
        i["denominator"].as_i64().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_reuse_and_identity_indicators_equal_the_logs() {
    let s = start().await;
    let xa = agency_of("motcua.xa");

    // 3.6: one fee paid online, one in cash at the desk, one waived whole (left out).
    let online = online_dossier(&s).await;
    pay_online(&s, &online).await;
    let cash = online_dossier(&s).await;
    desk_form(
        &s,
        &cash,
        &[
            ("action", "record_payment"),
            ("amount_vnd", &FEE.to_string()),
            ("method", "cash"),
        ],
    )
    .await;
    let waived = online_dossier(&s).await;
    desk_form(
        &s,
        &waived,
        &[
            ("action", "exempt_fee"),
            ("amount_vnd", &FEE.to_string()),
            ("reason", "Hộ nghèo"),
        ],
    )
    .await;

    // 4.5: the desk officer looks Ms Lan up in the population database, then receives her paper
    // dossier; K' Điểu's is received without a lookup.
    let officer = s
        .store
        .user_by_username("motcua.xa")
        .await
        .unwrap()
        .unwrap();
    let actor = Actor {
        user_id: officer.id,
        name: officer.name.clone(),
        role: officer.role,
        agency: officer.agency.clone(),
    };
    let provider = motcua_web::identity::provider(&s.state);
    let found = lookup_audited(
        &s.state,
        &*provider,
        &"068190004321".parse().unwrap(),
        Purpose::CounterReception,
        &actor,
    )
    .await
    .unwrap();
    assert!(found.is_some(), "the sandbox knows her");
    // 4.3: the scan of the first paper dossier is attached again to the second.
    let desk = token(&s, "motcua.xa").await;
    let scan = common::upload_pdf_at(&s.base, &desk).await;
    let first = counter_dossier(
        &s,
        json!({"name": "Nguyễn Thị Lan", "personal_id": "068190004321"}),
        &scan,
    )
    .await;
    assert_eq!(first["identity"]["source"], "csdlqgdc", "{first}");
    assert!(first.get("reused").is_none(), "a fresh scan: {first}");
    let second = counter_dossier(
        &s,
        json!({"name": "K' Điểu", "personal_id": "068201009876"}),
        &scan,
    )
    .await;
    assert_eq!(second["reused"], json!(["Tờ khai"]), "{second}");
    assert!(
        second.get("identity").is_none(),
        "never looked up: {second}"
    );

    // A client cannot claim either for itself.
    for (field, value) in [
        ("identity", json!({"source": "csdlqgdc"})),
        ("reused", json!(["Tờ khai"])),
    ] {
        let mut body = json!({
            "procedure_code": CODE,
            "agency": xa,
            "channel": "counter",
            "applicant": {"name": "Lê Văn Cường", "personal_id": "068095001234"},
            "documents": [{"name": "Tờ khai"}],
        });
        body[field] = value;
        let (st, v) = api(&s, "motcua.xa", "POST", "/api/v1/dossiers", Some(body)).await;
        assert!(st.is_client_error(), "{field}: {st} {v}");
    }

    // 1.4: the portal acknowledges the sync of two dossiers (as the dispatcher would).
    let mut acked = std::collections::BTreeSet::new();
    let now = chrono::Utc::now();
    let claimed = s
        .store
        .outbox_claim(motcua_store::OutboxClaim {
            owner: "test".into(),
            topic: Some("dvcqg.sync".into()),
            limit: 1_000,
            now,
            lease: chrono::Duration::seconds(60),
        })
        .await
        .unwrap();
    for id in [&online, &cash] {
        let (_, d) = api(
            &s,
            "motcua.xa",
            "GET",
            &format!("/api/v1/dossiers/{id}"),
            None,
        )
        .await;
        let code = d["dossier"]["code"].as_str().unwrap().to_string();
        let m = claimed.iter().find(|m| m.partition == code).unwrap();
        s.store.outbox_ack(vec![m.id], now).await.unwrap();
        acked.insert(code);
    }
    // Reference: the dossiers with a delivered sync message in the outbox.
    let done: std::collections::BTreeSet<String> = s
        .store
        .outbox_list(motcua_store::OutboxQuery {
            status: Some(motcua_store::OutboxStatus::Done),
            topic: Some("dvcqg.sync".into()),
            after_id: None,
            limit: Some(1_000),
        })
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.partition)
        .collect();
    assert_eq!(done, acked);

    // The index served from the counters against the reference from the logs.
    let today = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive();
    let (from, to) = (
        today.with_day(1).unwrap(),
        today
            .with_day(1)
            .unwrap()
            .checked_add_months(chrono::Months::new(1))
            .unwrap()
            .pred_opt()
            .unwrap(),
    );
    let q = format!(
        "/api/v1/reports/service-index?year={}&month={}",
        today.year(),
        today.month()
    );
    let (st, v) = api(&s, "quantri", "GET", &q, None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let idx = &v["total"]["index"];
    let want = reference(&s.store, from, to).await;
    assert_eq!((want.fees_settled, want.fees_settled_online), (2, 1));
    assert_eq!(
        counts(indicator(idx, "3.6")),
        (want.fees_settled_online, want.fees_settled)
    );
    assert_eq!(indicator(idx, "3.6")["full_from"], 30.0);
    assert_eq!(
        indicator(idx, "3.6")["score"],
        6.0,
        "50 % paid online: full points"
    );
    assert_eq!(
        counts(indicator(idx, "4.3")),
        (want.received_reused, want.received_in_period())
    );
    assert_eq!(
        counts(indicator(idx, "4.5")),
        (want.received_identified, want.received_in_period())
    );
    assert!(want.received_reused >= 1 && want.received_identified >= 1);
    assert_eq!(indicator(idx, "4.4")["measured"], false);
    assert_eq!(
        counts(indicator(idx, "1.4")),
        (done.len() as i64, want.received_in_period())
    );
    // 3.4 and 3.5: the procedure carries a fee, is offered online and the platform is set up;
    // and it had a fee paid online this month.
    let (paid, fee_bearing) = counts(indicator(idx, "3.4"));
    let (payable, fee_bearing_too) = counts(indicator(idx, "3.5"));
    assert_eq!(fee_bearing, fee_bearing_too);
    assert!(
        paid >= 1 && payable >= paid && fee_bearing >= payable,
        "{idx}"
    );
    // The deciding agency's own row says the same of its dossiers.
    let (_, d) = api(
        &s,
        "motcua.xa",
        "GET",
        &format!("/api/v1/dossiers/{online}"),
        None,
    )
    .await;
    let decider = d["dossier"]["competent_agency"].clone();
    let row = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == decider)
        .unwrap_or_else(|| panic!("the deciding agency's row: {v}"));
    assert_eq!(counts(indicator(&row["index"], "3.6")), (1, 2));
    // Exports carry the new lines.
    let res = raw()
        .get(format!("{}{q}&format=csv", s.base))
        .bearer_auth(token(&s, "quantri").await)
        .send()
        .await
        .unwrap();
    let csv = res.text().await.unwrap();
    for line in [
        "3.6 Hồ sơ thanh toán trực tuyến",
        "4.3 Hồ sơ tái sử dụng dữ liệu số hóa",
        "4.5 Khai thác CSDL quốc gia về dân cư",
    ] {
        assert!(csv.contains(line), "{line}: {csv}");
    }
    // Every counter equals what the logs give.
    let report = s.store.verify().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

/// Indicators 5.1-5.3 from feedback items whose every step is dated in March 2026, counted by
/// hand below. Limits (Decision 766 defaults, working days from Monday 2 March 09:00):
/// refusal by Wednesday 4 March 09:00, classification by Monday 9 March 09:00, answer by Monday
/// 23 March 09:00, publication two working days after the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_indicators_count_items_by_hand() {
    use chrono::TimeZone;
    use motcua_domain::agency::Role;
    use motcua_domain::feedback::{
        Feedback, FeedbackAction as A, NewFeedback, SubjectKind, decide, receive,
    };
    let s = start().await;
    let at = |m: u32, d: u32, h: u32| {
        chrono::FixedOffset::east_opt(7 * 3600)
            .unwrap()
            .with_ymd_and_hms(2026, m, d, h, 0, 0)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let person = |role: Role, agency: Option<&str>| Actor {
        user_id: uuid::Uuid::new_v4(),
        name: "Người thử".into(),
        role,
        agency: agency.map(|a| a.parse().unwrap()),
    };
    let commune = agency_of("motcua.xa");
    let centre = agency_of("motcua.tinh");
    // Files an item at `agency` received at `received` and runs `steps` on it.
    let item = |agency: String, received, steps: Vec<(A, chrono::DateTime<chrono::Utc>)>| {
        let store = s.store.clone();
        async move {
            let citizen = person(Role::Citizen, None);
            let officer = person(Role::Specialist, Some(&agency));
            let leader = person(Role::Leader, Some(&agency));
            let (mut f, step): (Feedback, _) = receive(
                NewFeedback {
                    id: uuid::Uuid::new_v4(),
                    subject_kind: SubjectKind::Agency,
                    subject: agency.clone(),
                    agency: agency.parse().unwrap(),
                    content: "Phản ánh thử".into(),
                },
                &citizen,
                received,
            )
            .unwrap();
            store.create_feedback(f.clone(), step, None).await.unwrap();
            for (a, when) in steps {
                let who = match &a {
                    A::Publish { .. } => &leader,
                    A::SupplyInfo { .. } | A::Rate { .. } | A::Reraise { .. } => &citizen,
                    _ => &officer,
                };
                let (g, step) = decide(&f, &a, who, when).unwrap();
                store.save_feedback(g.clone(), step, None).await.unwrap();
                f = g;
            }
        }
    };
    let answer = || A::Answer {
        answer: "Trả lời".into(),
    };
    let publish = || A::Publish {
        summary: "Tóm tắt".into(),
    };
    let t0 = at(3, 2, 9);
    // A: on time throughout, satisfied.
    item(
        commune.clone(),
        t0,
        vec![
            (A::Accept, at(3, 3, 9)),
            (answer(), at(3, 10, 9)),
            (publish(), at(3, 11, 9)),
            (A::Rate { satisfied: true }, at(3, 12, 9)),
        ],
    )
    .await;
    // B: refused on Friday 6 March, after the two-day refusal limit.
    item(
        commune.clone(),
        t0,
        vec![(
            A::Refuse {
                reason: "Trùng".into(),
            },
            at(3, 6, 9),
        )],
    )
    .await;
    // C: information requested in time, never supplied (nothing else is due from staff).
    item(
        commune.clone(),
        t0,
        vec![(
            A::RequestInfo {
                missing: "Số hồ sơ".into(),
            },
            at(3, 5, 9),
        )],
    )
    .await;
    // D: on time throughout, dissatisfied.
    item(
        commune.clone(),
        t0,
        vec![
            (A::Accept, at(3, 3, 9)),
            (answer(), at(3, 12, 9)),
            (publish(), at(3, 13, 9)),
            (A::Rate { satisfied: false }, at(3, 14, 9)),
        ],
    )
    .await;
    // E: never classified: late on every count by now.
    item(commune.clone(), t0, vec![]).await;
    // F: classified in time, answered on 30 March, after the 15 days.
    item(
        commune.clone(),
        t0,
        vec![(A::Accept, at(3, 4, 9)), (answer(), at(3, 30, 9))],
    )
    .await;
    // G: on time, but re-raised (answered again in time and published).
    item(
        commune.clone(),
        t0,
        vec![
            (A::Accept, at(3, 3, 9)),
            (answer(), at(3, 10, 9)),
            (
                A::Reraise {
                    reason: "Chưa thỏa đáng".into(),
                },
                at(3, 12, 9),
            ),
            (answer(), at(3, 16, 9)),
            (publish(), at(3, 17, 9)),
        ],
    )
    .await;
    // H: received in April: another period.
    item(commune.clone(), at(4, 1, 9), vec![]).await;
    // I: the centre's, on time and satisfied without a rating.
    item(
        centre.clone(),
        t0,
        vec![
            (A::Accept, at(3, 2, 10)),
            (answer(), at(3, 9, 9)),
            (publish(), at(3, 10, 9)),
        ],
    )
    .await;

    let q = "/api/v1/reports/service-index?year=2026&month=3";
    let (st, v) = api(&s, "quantri", "GET", q, None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let idx = &v["total"]["index"];
    // Province: 8 items (A-G, I); classified in time A C D F G I; every step in time A C D G I;
    // neither late nor dissatisfied nor re-raised A C I.
    assert_eq!(counts(indicator(idx, "5.1")), (6, 8));
    assert_eq!(counts(indicator(idx, "5.2")), (5, 8));
    assert_eq!(counts(indicator(idx, "5.3")), (3, 8));
    assert_eq!(indicator(idx, "5.1")["score"], 3.75, "75 % of 5 points");
    assert_eq!(indicator(idx, "5.2")["score"], 3.13, "62.5 % of 5 points");
    assert_eq!(indicator(idx, "5.3")["score"], 0.75, "37.5 % of 2 points");
    assert_eq!(indicator(idx, "5.1")["max"], 5.0);
    assert_eq!(indicator(idx, "5.3")["max"], 2.0);
    // The commune's leader sees the commune's seven.
    let (st, v) = api(&s, "lanhdao.xa", "GET", q, None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let idx = &v["total"]["index"];
    assert_eq!(counts(indicator(idx, "5.1")), (5, 7));
    assert_eq!(counts(indicator(idx, "5.2")), (4, 7));
    assert_eq!(counts(indicator(idx, "5.3")), (2, 7));
    // April holds one item, unclassified and (judged now) late.
    let (_, v) = api(
        &s,
        "quantri",
        "GET",
        "/api/v1/reports/service-index?year=2026&month=4",
        None,
    )
    .await;
    assert_eq!(counts(indicator(&v["total"]["index"], "5.2")), (0, 1));
}
