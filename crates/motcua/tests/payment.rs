//! Fees and payments over real HTTP, against the sandbox national payment platform started
//! here (`motcua sandbox thanhtoan`): a citizen pays online from the tracking page (INIT, the
//! platform's pay page, its signed callback, our status confirmation, the e-receipt kept with
//! the dossier and downloadable by the owner only, a history line); forged, replayed,
//! out-of-order and wrong-amount callbacks change nothing; a platform that is down when we
//! confirm leaves the payment "đang xác nhận" and it is recorded later, once; the desk records
//! a cash payment and a waiver; and the day's reconciliation finds no difference.

mod common;

use common::PASSWORD;
use common::browser::{Browser, answer, raw};
use motcua_domain::payment::{RESULT_FIELDS, checksum_of};
use motcua_integrations::sandbox::payment::PaymentSandbox;
use motcua_store::Store;
use reqwest::StatusCode;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

const PARTNER: &str = "MOTCUA";
const SECRET: &str = "s3cret-thanh-toan";

struct Server {
    base: String,
    platform: String,
    store: Store,
}

/// Our server (payment configured, confirmations retried every second) and the sandbox
/// platform, on one runtime thread shared by the tests of this file.
fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let sandbox =
                    PaymentSandbox::start("127.0.0.1:0".parse().unwrap(), PARTNER, SECRET)
                        .await
                        .unwrap();
                let store = Store::open("sqlite::memory:").await.unwrap();
                motcua::seed::seed(&store, &motcua_web::auth::hash_password)
                    .await
                    .unwrap();
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let base = format!("http://{}", listener.local_addr().unwrap());
                let platform =
                    motcua_web::payment::Platform::new(motcua_web::payment::PaymentSettings {
                        base_url: sandbox.url(),
                        partner_code: PARTNER.into(),
                        secret: SECRET.into(),
                        timeout_ms: 2_000,
                        retry_secs: 1,
                        ..Default::default()
                    })
                    .unwrap();
                let state = motcua_web::AppState::new(store.clone())
                    .with_public_url(&base)
                    .with_payment(platform);
                tx.send(Server {
                    base,
                    platform: sandbox.url(),
                    store,
                })
                .unwrap();
                let _keep = sandbox;
                motcua_web::serve(listener, state).await.unwrap();
            });
        });
        rx.recv().expect("server started")
    })
}

/// The sandbox's faults and state are shared: the tests of this file take turns.
async fn turn() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();
    LOCK.get_or_init(Default::default).lock().await
}

async fn faults(f: Value) {
    let r = raw()
        .post(format!("{}/_sandbox/faults", server().platform))
        .json(&f)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
}

async fn platform_state() -> Value {
    raw()
        .get(format!("{}/_sandbox/state", server().platform))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn token(user: &str) -> String {
    let r = raw()
        .post(format!("{}/api/v1/auth/token", server().base))
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

async fn api(user: &str, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut rb = raw()
        .request(method.parse().unwrap(), format!("{}{path}", server().base))
        .bearer_auth(token(user).await);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

async fn browser(user: &str) -> Browser {
    Browser::sign_in_at(&server().base, user, PASSWORD).await
}

fn agency_of(user: &str) -> String {
    motcua::seed::demo_logins()
        .into_iter()
        .find(|l| l.username == user)
        .and_then(|l| l.agency)
        .unwrap()
        .to_string()
}

/// The procedure's own fee (lệ phí) as the catalogue states it.
async fn fee_of(code: &str) -> i64 {
    let r = raw()
        .get(format!("{}/api/v1/procedures/{code}", server().base))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    v["procedure"]["fee_vnd"].as_i64().unwrap_or(0)
}

/// A dossier `congdan` submits online; the desk receives it and asks for `obligation` đồng
/// (the clock stops). Returns its id and what is owed.
async fn dossier_owing(obligation: i64) -> (String, i64) {
    let (st, v) = api(
        "congdan",
        "POST",
        "/api/v1/dossiers",
        Some(
            common::with_required_documents_at(
                &server().base,
                &token("congdan").await,
                json!({
                    "procedure_code": "1.001193",
                    "agency": agency_of("motcua.xa"),
                    "applicant": {"name": "Nguyễn Thị Lan", "personal_id": "068190004321", "phone": "0912345678"},
                    "documents": [{"name": "Tờ khai"}],
                    "form": motcua::seed::forms::example("1.001193").unwrap(),
                }),
            )
            .await,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["dossier"]["id"].as_str().unwrap().to_string();
    let (st, v) = api(
        "motcua.xa",
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/receive"),
        Some(json!({})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = api(
        "motcua.xa",
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/request_payment"),
        Some(json!({"amount_vnd": obligation, "reason": "Lệ phí cấp giấy"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["dossier"]["status"], "awaiting_payment");
    (id, fee_of("1.001193").await + obligation)
}

async fn dossier(id: &str) -> Value {
    let (st, v) = api("motcua.xa", "GET", &format!("/api/v1/dossiers/{id}"), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["dossier"].clone()
}

async fn history(id: &str) -> Vec<Value> {
    let (st, v) = api(
        "motcua.xa",
        "GET",
        &format!("/api/v1/dossiers/{id}/history"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["items"]
        .as_array()
        .or_else(|| v.as_array())
        .cloned()
        .unwrap_or_default()
}

fn kinds(h: &[Value]) -> Vec<String> {
    h.iter()
        .map(|e| {
            e["event"]["body"]["type"]
                .as_str()
                .or_else(|| e["body"]["type"].as_str())
                .or_else(|| e["type"].as_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// The owner presses "Thanh toán trực tuyến": the browser is sent to the platform's pay page.
/// Returns that page's address.
async fn start_paying(owner: &Browser, id: &str) -> String {
    let page = format!("/ca-nhan/ho-so/{id}");
    let csrf = owner.csrf(&page).await;
    let (st, to) = owner
        .post_form(&format!("{page}/thanh-toan"), &[("csrf", &csrf)])
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    assert!(to.starts_with(&server().platform), "{to}");
    to
}

/// On the platform's pay page, the applicant presses a button; the platform notifies us and
/// sends the browser back. Returns where our return page then sends the browser.
async fn press(owner: &Browser, pay_page: &str, action: &str) -> String {
    let r = raw().get(pay_page).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = raw()
        .post(pay_page)
        .form(&[("action", action)])
        .send()
        .await
        .unwrap();
    let (st, back) = answer(r).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{back}");
    let back = back
        .strip_prefix(&server().base)
        .unwrap_or_else(|| panic!("back to us: {back}"))
        .to_string();
    let (st, to) = owner.get(&back).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    to
}

/// A result message for `reference` signed with the shared secret (as only the platform can).
fn signed(
    reference: &str,
    amount: i64,
    tx_time: &str,
    txn: &str,
    code: &str,
) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, v) in [
        ("MaDoiTac", PARTNER.to_string()),
        ("MaThamChieu", reference.to_string()),
        ("MaGiaoDich", txn.to_string()),
        ("SoTien", amount.to_string()),
        ("MaKetQua", code.to_string()),
        ("ThoiGianGD", tx_time.to_string()),
    ] {
        m.insert(k.into(), Value::String(v));
    }
    let sum = checksum_of(&m, &RESULT_FIELDS, SECRET);
    m.insert("MaXacThuc".into(), Value::String(sum));
    m
}

async fn notify(m: &Map<String, Value>) -> (StatusCode, Value, String) {
    let r = raw()
        .post(format!("{}/api/v1/payments/callback", server().base))
        .json(m)
        .send()
        .await
        .unwrap();
    let st = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (st, r.json().await.unwrap_or(Value::Null), ct)
}

async fn payments(id: &str) -> Vec<motcua_store::PaymentRecord> {
    server()
        .store
        .payments_of(id.parse().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_pays_online_and_the_receipt_is_kept_with_the_dossier() {
    let _t = turn().await;
    faults(json!({"duplicate_callbacks": true, "out_of_order": true})).await;
    let (id, owed) = dossier_owing(50_000).await;
    let owner = browser("congdan").await;
    let page = format!("/ca-nhan/ho-so/{id}");
    let (_, html) = owner.get(&page).await;
    assert!(html.contains("Thanh toán trực tuyến"), "{html}");
    assert!(html.contains("Số tiền còn phải nộp"), "{html}");

    let pay_page = start_paying(&owner, &id).await;
    let (st, html) = answer(raw().get(&pay_page).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains(&format!("{owed} đồng")),
        "the platform asks for what is owed: {html}"
    );
    let sent = |v: &Value, k: &str| v[k].as_u64().unwrap();
    let before = platform_state().await;
    let to = press(&owner, &pay_page, "pay").await;
    assert_eq!(to, format!("{page}?xong=da-thanh-toan"));

    // Recorded once, though the platform sent the callback twice and a stale "failed" after.
    let st = platform_state().await;
    assert_eq!(
        sent(&st, "callbacks_sent") - sent(&before, "callbacks_sent"),
        3,
        "{st}"
    );
    assert_eq!(
        sent(&st, "callbacks_ok") - sent(&before, "callbacks_ok"),
        3,
        "every callback is answered 2xx: {st}"
    );
    let list = payments(&id).await;
    assert_eq!(list.len(), 1);
    let p = &list[0];
    assert_eq!(p.status.as_str(), "paid");
    assert_eq!(p.amount_vnd, owed);
    assert!(
        p.callback
            .as_deref()
            .unwrap()
            .contains("\"MaKetQua\":\"00\"")
    );
    let h = history(&id).await;
    let k = kinds(&h);
    assert_eq!(k.iter().filter(|k| *k == "fee_paid").count(), 1, "{k:?}");
    assert_eq!(
        k.last().map(String::as_str),
        Some("payment_confirmed"),
        "{k:?}"
    );
    let d = dossier(&id).await;
    assert_eq!(d["status"], "received", "the clock runs again: {d}");
    assert_eq!(d["fees"]["paid_vnd"], owed);

    // The tracking page: success, nothing owed, the e-receipt; the history line.
    let (_, html) = owner.get(&to).await;
    assert!(html.contains("Thanh toán thành công"), "{html}");
    assert!(
        !html.contains("con-phai-nop"),
        "nothing owed any more: {html}"
    );
    assert!(html.contains("Đã nộp"), "{html}");
    let at = html
        .find(&format!("/api/v1/dossiers/{id}/files/"))
        .unwrap_or_else(|| panic!("a receipt link: {html}"));
    let at = at + format!("/api/v1/dossiers/{id}/files/").len();
    let hex = &html[at..at + 64];
    let receipt = format!("/api/v1/dossiers/{id}/files/{hex}");
    let r = raw()
        .get(format!("{}{receipt}", server().base))
        .header("cookie", &owner.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF-"));
    let other = browser("congdan2").await;
    let (st, _) = other.get(&receipt).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "another citizen learns nothing");
    // The desk sees the payment and the receipt too.
    let desk = browser("motcua.xa").await;
    let (st, html) = desk.get(&format!("/can-bo/ho-so/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Nộp phí, lệ phí ·"), "{html}");
    assert!(html.contains("trực tuyến"), "{html}");
    assert!(html.contains(hex), "{html}");

    // Replayed callback and a late "failed": answered, nothing changes.
    let msg = signed(
        &p.reference,
        p.amount_vnd,
        &p.tx_time,
        p.transaction_id.as_deref().unwrap(),
        "00",
    );
    let (st, v, _) = notify(&msg).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("paid")));
    let late = signed(
        &p.reference,
        p.amount_vnd,
        &p.tx_time,
        p.transaction_id.as_deref().unwrap(),
        "99",
    );
    let (st, v, _) = notify(&late).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("paid")));
    assert_eq!(history(&id).await.len(), h.len());
    assert_eq!(payments(&id).await, list);
    // Nothing more is owed: no second payment.
    let csrf = owner.csrf(&page).await;
    let (st, _) = owner
        .post_form(&format!("{page}/thanh-toan"), &[("csrf", &csrf)])
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    faults(json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_wrong_amount_callbacks_are_refused_and_change_nothing() {
    let _t = turn().await;
    faults(json!({})).await;
    let (id, owed) = dossier_owing(30_000).await;
    let owner = browser("congdan").await;
    let _pay_page = start_paying(&owner, &id).await;
    let before = payments(&id).await;
    assert_eq!(before.len(), 1);
    let p = &before[0];
    assert_eq!(p.status.as_str(), "initiated");
    let h = history(&id).await.len();

    // A wrong checksum (signed with another secret): 403 problem+json.
    let mut forged = signed(&p.reference, owed, &p.tx_time, "GD9", "00");
    let other_sum = checksum_of(&forged, &RESULT_FIELDS, "not-the-secret");
    forged.insert("MaXacThuc".into(), Value::String(other_sum));
    let (st, v, ct) = notify(&forged).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(ct, "application/problem+json");
    // The amount changed after signing: the checksum no longer holds.
    let mut altered = signed(&p.reference, owed, &p.tx_time, "GD9", "00");
    altered.insert("SoTien".into(), Value::String("1000".into()));
    assert_eq!(notify(&altered).await.0, StatusCode::FORBIDDEN);
    // Another partner's message.
    let mut partner = signed(&p.reference, owed, &p.tx_time, "GD9", "00");
    partner.insert("MaDoiTac".into(), Value::String("KHAC".into()));
    assert_eq!(notify(&partner).await.0, StatusCode::FORBIDDEN);
    // Signed, but for another amount than we asked: refused.
    let (st, v, ct) = notify(&signed(&p.reference, owed - 1, &p.tx_time, "GD9", "00")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(ct, "application/problem+json");
    // Signed, for a reference we never issued.
    let (st, _, _) = notify(&signed("dvcKHONGCO", owed, &p.tx_time, "GD9", "00")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    // Not even a message.
    let r = raw()
        .post(format!("{}/api/v1/payments/callback", server().base))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // A forged browser return: an error page, nothing recorded.
    let q: Vec<(String, String)> = forged
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let r = raw()
        .get(format!("{}/thanh-toan/ket-qua", server().base))
        .query(&q)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    assert_eq!(payments(&id).await, before, "nothing changed");
    assert_eq!(history(&id).await.len(), h);
    assert_eq!(dossier(&id).await["status"], "awaiting_payment");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_down_at_confirmation_is_asked_again_and_the_payment_recorded_once() {
    let _t = turn().await;
    faults(json!({})).await;
    let (id, _) = dossier_owing(20_000).await;
    let owner = browser("congdan").await;
    let page = format!("/ca-nhan/ho-so/{id}");
    let pay_page = start_paying(&owner, &id).await;
    // The applicant pays; when we ask the platform to confirm, it is down.
    faults(json!({"down": true})).await;
    let to = press(&owner, &pay_page, "pay").await;
    assert_eq!(to, format!("{page}?xong=dang-xac-nhan"));
    let list = payments(&id).await;
    assert!(list[0].awaiting_confirmation(), "{list:?}");
    let (_, html) = owner.get(&to).await;
    assert!(html.contains("đang được xác nhận"), "{html}");
    assert!(
        !html.contains("/thanh-toan\""),
        "no second payment meanwhile: {html}"
    );
    assert_eq!(dossier(&id).await["status"], "awaiting_payment");
    // A second attempt meanwhile is refused.
    let csrf = owner.csrf(&page).await;
    let (st, _) = owner
        .post_form(&format!("{page}/thanh-toan"), &[("csrf", &csrf)])
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    // The platform comes back: the retry task records it.
    faults(json!({})).await;
    let mut paid = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if payments(&id).await[0].status.as_str() == "paid" {
            paid = true;
            break;
        }
    }
    assert!(paid, "recorded after the platform came back");
    let k = kinds(&history(&id).await);
    assert_eq!(k.iter().filter(|k| *k == "fee_paid").count(), 1, "{k:?}");
    assert_eq!(dossier(&id).await["status"], "received");
    // Asked again later: still once.
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let k = kinds(&history(&id).await);
    assert_eq!(k.iter().filter(|k| *k == "fee_paid").count(), 1, "{k:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_payment_can_be_paid_again() {
    let _t = turn().await;
    faults(json!({})).await;
    let (id, _) = dossier_owing(10_000).await;
    let owner = browser("congdan").await;
    let page = format!("/ca-nhan/ho-so/{id}");
    let pay_page = start_paying(&owner, &id).await;
    let to = press(&owner, &pay_page, "cancel").await;
    assert_eq!(to, format!("{page}?xong=huy-thanh-toan"));
    assert_eq!(payments(&id).await[0].status.as_str(), "cancelled");
    assert_eq!(dossier(&id).await["status"], "awaiting_payment");
    let pay_page = start_paying(&owner, &id).await;
    let to = press(&owner, &pay_page, "pay").await;
    assert_eq!(to, format!("{page}?xong=da-thanh-toan"));
    let list = payments(&id).await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].status.as_str(), "paid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_pays_and_only_with_the_form_token() {
    let _t = turn().await;
    faults(json!({})).await;
    let (id, _) = dossier_owing(10_000).await;
    let path = format!("/ca-nhan/ho-so/{id}/thanh-toan");
    let inits = platform_state().await["inits"].clone();
    // Another citizen (with a valid token of their own session): as if it did not exist.
    let other = browser("congdan2").await;
    let (st, _) = other.post_form(&path, &[("csrf", "x")]).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // The owner without the form's token.
    let owner = browser("congdan").await;
    let (st, _) = owner.post_form(&path, &[("csrf", "forged")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Staff do not pay for the applicant online.
    let desk = browser("motcua.xa").await;
    let (st, _) = desk.post_form(&path, &[("csrf", "x")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(
        platform_state().await["inits"],
        inits,
        "nothing reached the platform"
    );
    assert!(payments(&id).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_records_a_cash_payment_and_a_waiver() {
    let _t = turn().await;
    let (id, owed) = dossier_owing(40_000).await;
    let desk = browser("motcua.xa").await;
    let page = format!("/can-bo/ho-so/{id}");
    let (_, html) = desk.get(&page).await;
    assert!(html.contains("Thu phí, lệ phí tại quầy"), "{html}");
    assert!(html.contains("Miễn, giảm phí, lệ phí"), "{html}");
    let csrf = common::browser::csrf_in(&html);
    let version = dossier(&id).await["version"].to_string();

    // More than is owed: refused, nothing stored, what was typed is explained.
    let too_much = (owed + 1).to_string();
    let (st, html) = desk
        .post_form(
            &page,
            &[
                ("csrf", &csrf),
                ("action", "record_payment"),
                ("amount_vnd", &too_much),
                ("method", "cash"),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("is owed"), "{html}");
    // "Online" is not a counter method.
    let (st, _) = desk
        .post_form(
            &page,
            &[
                ("csrf", &csrf),
                ("action", "record_payment"),
                ("amount_vnd", "1000"),
                ("method", "online"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(payments(&id).await.is_empty());

    // Cash for part, with the paper receipt's number.
    let (st, to) = desk
        .post_form(
            &page,
            &[
                ("csrf", &csrf),
                ("action", "record_payment"),
                ("amount_vnd", "15.000"),
                ("method", "cash"),
                ("receipt_no", "BL-0001234"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    let d = dossier(&id).await;
    assert_eq!(d["status"], "awaiting_payment", "still owes the rest");
    assert_eq!(d["fees"]["paid_vnd"], 15_000);
    // The rest waived on a legal ground: nothing owed, the clock runs again.
    let rest = (owed - 15_000).to_string();
    let (st, to) = desk
        .post_form(
            &page,
            &[
                ("csrf", &csrf),
                ("action", "exempt_fee"),
                ("amount_vnd", &rest),
                (
                    "reason",
                    "Người có công với cách mạng (Điều 5 Thông tư 106/2021)",
                ),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    let d = dossier(&id).await;
    assert_eq!(d["status"], "received");
    assert_eq!(d["fees"]["exempted_vnd"].as_i64(), Some(owed - 15_000));
    let k = kinds(&history(&id).await);
    assert!(
        k.ends_with(&[
            "fee_paid".to_string(),
            "fee_exempted".to_string(),
            "payment_confirmed".to_string()
        ]),
        "{k:?}"
    );
    let list = payments(&id).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].method.as_str(), "cash");
    assert_eq!(list[0].receipt_no.as_deref(), Some("BL-0001234"));
    assert_eq!(list[0].status.as_str(), "paid");
    // In the history as the desk reads it, and in the audit trail.
    let (_, html) = desk.get(&page).await;
    assert!(
        html.contains("15.000 đồng · tiền mặt · Số biên lai: BL-0001234"),
        "{html}"
    );
    assert!(html.contains("Người có công với cách mạng"), "{html}");
    let leader = browser("lanhdao.xa").await;
    let (st, html) = leader.get(&format!("/can-bo/nhat-ky?ho_so={id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("record_payment"), "{html}");
    assert!(html.contains("exempt_fee"), "{html}");
    // The applicant reads it too.
    let owner = browser("congdan").await;
    let (_, html) = owner.get(&format!("/ca-nhan/ho-so/{id}")).await;
    assert!(html.contains("Đã nộp 15.000 đồng (tiền mặt)."), "{html}");
    assert!(html.contains("Được miễn, giảm"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_days_payments_reconcile_with_the_dossiers() {
    let _t = turn().await;
    faults(json!({})).await;
    // At least one online and one counter payment today.
    let (id, _) = dossier_owing(25_000).await;
    let owner = browser("congdan").await;
    let pay_page = start_paying(&owner, &id).await;
    press(&owner, &pay_page, "pay").await;
    let (id2, owed2) = dossier_owing(5_000).await;
    let desk = browser("motcua.xa").await;
    let page = format!("/can-bo/ho-so/{id2}");
    let csrf = desk.csrf(&page).await;
    let (st, _) = desk
        .post_form(
            &page,
            &[
                ("csrf", &csrf),
                ("action", "record_payment"),
                ("amount_vnd", &owed2.to_string()),
                ("method", "card"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let today = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive();
    let r = motcua_web::payment::reconcile(&server().store, today)
        .await
        .unwrap();
    assert!(r.differences.is_empty(), "{:?}", r.differences);
    assert_eq!(r.payments, r.events);
    let methods: Vec<&str> = r.payments.iter().map(|t| t.method.as_str()).collect();
    assert!(
        methods.contains(&"online") && methods.contains(&"card"),
        "{methods:?}"
    );
    // The operator page shows the same, without differences.
    let admin = browser("quantri").await;
    let (st, html) = admin.get("/quan-tri/gui-di").await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(
        html.contains("Đối soát thanh toán phí, lệ phí hôm nay"),
        "{html}"
    );
    assert!(
        html.contains("thẻ") && html.contains("Không có chênh lệch."),
        "{html}"
    );
    // Yesterday had none.
    let r = motcua_web::payment::reconcile(&server().store, today - chrono::Duration::days(1))
        .await
        .unwrap();
    assert!(r.payments.is_empty() && r.differences.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_answering_nonsense_or_5xx_or_late_sends_nobody_to_pay() {
    let _t = turn().await;
    let (id, _) = dossier_owing(12_000).await;
    let owner = browser("congdan").await;
    let page = format!("/ca-nhan/ho-so/{id}");
    for f in [
        json!({"malformed_percent": 100}),
        json!({"fail_5xx_percent": 100}),
        json!({"down": true}),
        json!({"slow_ms": 3_000}),
    ] {
        faults(f.clone()).await;
        let csrf = owner.csrf(&page).await;
        let (st, html) = owner
            .post_form(&format!("{page}/thanh-toan"), &[("csrf", &csrf)])
            .await;
        assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{f}: {html}");
        assert!(html.contains("Nền tảng thanh toán chưa phản hồi"), "{html}");
        assert!(
            html.contains("Thanh toán trực tuyến"),
            "the button stays: {html}"
        );
    }
    faults(json!({})).await;
    // The attempts are closed as failed, with why; none awaits confirmation; nothing is paid.
    let list = payments(&id).await;
    assert_eq!(list.len(), 4);
    assert!(list.iter().all(|p| p.status.as_str() == "failed"
        && p.callback.as_deref().unwrap().starts_with("INIT failed")));
    assert_eq!(dossier(&id).await["status"], "awaiting_payment");
    // Working again: paid.
    let pay_page = start_paying(&owner, &id).await;
    let to = press(&owner, &pay_page, "pay").await;
    assert_eq!(to, format!("{page}?xong=da-thanh-toan"));
}
