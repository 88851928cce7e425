//! The public postal service end to end: a real server with the outbox dispatcher and its
//! status callback, and the sandbox post (VNPost through the LGSP) calling back as it walks
//! each order. A pickup ordered with an online submission waits while the post is down and
//! goes once it is up; a result handed to the post becomes a return order; every status the
//! post reports lands in the dossier's history once, in the order of its time, even when the
//! post repeats itself or reports out of order; forged callbacks store nothing; bad input and
//! strangers are refused.

use motcua::config::Settings;
use motcua_integrations::sandbox::vnpost::{VnpostFaults, VnpostSandbox};
use motcua_store::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const PASSWORD: &str = "motcua@2026";
const SECRET: &str = "buu-dien-bi-mat";
const CALLBACK: &str = "/api/v1/integrations/vnpost/status";

struct World {
    base: String,
    post: VnpostSandbox,
    _dispatcher: motcua_integrations::dispatcher::DispatcherHandle,
}

async fn start(faults: VnpostFaults) -> World {
    let store = Store::open("sqlite::memory:").await.unwrap();
    motcua::seed::seed(&store, &motcua_web::auth::hash_password)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let post = VnpostSandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SECRET,
        Some(format!("{base}{CALLBACK}")),
    )
    .await
    .unwrap();
    post.set_faults(faults);
    let mut settings = Settings::default();
    let i = &mut settings.integrations;
    i.dispatcher.poll_ms = 50;
    i.vnpost = post.client_settings();
    i.vnpost_delivery.retry.base_ms = 100;
    i.vnpost_delivery.retry.max_ms = 400;
    i.vnpost_delivery.breaker_cooldown_ms = 200;
    let callback = motcua::integrations::postal_callback(&i.vnpost).unwrap();
    let dispatcher = motcua::integrations::start(&store, &settings)
        .unwrap()
        .expect("the post is configured");
    tokio::spawn(motcua_web::serve(
        listener,
        motcua_web::AppState::new(store).with_postal(callback),
    ));
    World {
        base,
        post,
        _dispatcher: dispatcher,
    }
}

impl World {
    async fn call(
        &self,
        user: Option<&str>,
        method: &str,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let mut rb = reqwest::Client::new()
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .json(&body);
        if let Some(u) = user {
            rb = rb.bearer_auth(self.token(u).await);
        }
        let res = rb.send().await.unwrap();
        let st = res.status();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let text = res.text().await.unwrap();
        if st.is_client_error() || st.is_server_error() {
            assert_eq!(
                ct, "application/problem+json",
                "{method} {path} -> {st}: {text}"
            );
        }
        (st, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn token(&self, user: &str) -> String {
        let res = reqwest::Client::new()
            .post(format!("{}/api/v1/auth/token", self.base))
            .json(&json!({"username": user, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        let v: Value = res.json().await.unwrap();
        v["token"].as_str().unwrap().to_string()
    }

    async fn act(&self, user: &str, id: &str, action: &str, body: Value) -> Value {
        let (st, v) = self
            .call(
                Some(user),
                "POST",
                &format!("/api/v1/dossiers/{id}/actions/{action}"),
                body,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{user} {action}: {v}");
        v
    }

    async fn dossier(&self, id: &str) -> Value {
        let (st, v) = self
            .call(
                Some("congdan"),
                "GET",
                &format!("/api/v1/dossiers/{id}"),
                Value::Null,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        v["dossier"].clone()
    }

    async fn history(&self, id: &str) -> Vec<Value> {
        let (st, v) = self
            .call(
                Some("congdan"),
                "GET",
                &format!("/api/v1/dossiers/{id}/history"),
                Value::Null,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        v.as_array()
            .cloned()
            .unwrap_or_else(|| v["events"].as_array().cloned().unwrap_or_default())
    }

    /// A signed callback, as the post sends it.
    async fn callback(&self, body: &Value, secret: Option<&str>) -> (StatusCode, Value) {
        let bytes = body.to_string().into_bytes();
        let mut rb = reqwest::Client::new()
            .post(format!("{}{CALLBACK}", self.base))
            .header("content-type", "application/json");
        if let Some(s) = secret {
            rb = rb.header(
                "x-vnpost-signature",
                motcua_domain::dossier::postal::hmac_sha256_hex(s.as_bytes(), &bytes),
            );
        }
        let res = rb.body(bytes).send().await.unwrap();
        let st = res.status();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let text = res.text().await.unwrap();
        if !st.is_success() {
            assert_eq!(ct, "application/problem+json", "{st}: {text}");
        }
        (st, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn commune() -> String {
    motcua::seed::demo_logins()
        .into_iter()
        .find(|l| l.username == "motcua.xa")
        .and_then(|l| l.agency)
        .unwrap()
        .to_string()
}

fn address(detail: &str) -> Value {
    json!({"name": "Nguyễn Thị Lan", "phone": "0912345678", "province": "68",
           "commune": "24781", "detail": detail})
}

async fn submit(w: &World, postal: Option<Value>) -> String {
    let mut body = json!({
        "procedure_code": "1.001193",
        "agency": commune(),
        "applicant": {"name": "Nguyễn Thị Lan", "phone": "0912345678"},
        "documents": [{"name": "Tờ khai"}],
        "form": motcua::seed::forms::example("1.001193").unwrap(),
    });
    if let Some(p) = postal {
        body["postal"] = p;
    }
    let body = common::with_required_documents_at(&w.base, &w.token("congdan").await, body).await;
    let (st, v) = w
        .call(Some("congdan"), "POST", "/api/v1/dossiers", body)
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["dossier"]["id"].as_str().unwrap().to_string()
}

async fn wait_for<F: std::future::Future<Output = bool>>(what: &str, mut f: impl FnMut() -> F) {
    let start = Instant::now();
    while !f().await {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn postal_events(h: &[Value]) -> Vec<Value> {
    h.iter()
        .filter(|e| {
            e["type"] == "postal_status_reported"
                || e["event"]["body"]["type"] == "postal_status_reported"
                || e["body"]["type"] == "postal_status_reported"
        })
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pickup_waits_for_the_post_and_its_statuses_land_once_in_time_order() {
    // The post is down at first; later it repeats every callback and sends them out of order.
    let w = start(VnpostFaults {
        down: true,
        duplicate_callbacks: true,
        out_of_order: true,
        step_ms: 50,
        ..VnpostFaults::default()
    })
    .await;
    let id = submit(
        &w,
        Some(json!({"pickup": address("12 Trần Phú"), "return_to": address("12 Trần Phú")})),
    )
    .await;
    let d = w.dossier(&id).await;
    assert_eq!(
        d["postal"]["pickup"]["commune_name"], "Phường Xuân Hương - Đà Lạt",
        "{d}"
    );
    assert_eq!(d["postal_orders"][0]["kind"], "pickup");
    let number = d["postal_orders"][0]["order_number"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for("attempts on the post while it is down", || async {
        w.post.state().injected >= 2
    })
    .await;
    assert!(w.post.state().orders.is_empty());
    w.post.set_faults(VnpostFaults {
        duplicate_callbacks: true,
        out_of_order: true,
        step_ms: 50,
        ..VnpostFaults::default()
    });
    wait_for("the order at the post", || async {
        w.post.state().orders.len() == 1
    })
    .await;
    let placed = w.post.state().orders[0].clone();
    assert_eq!(placed.order.order_number, number);
    assert_eq!(
        placed.order.sender_address,
        "12 Trần Phú, Phường Xuân Hương - Đà Lạt, Tỉnh Lâm Đồng"
    );
    assert_eq!(placed.order.sender_tel, "0912345678");
    assert_eq!(
        placed.order.receiver_name,
        "Trung tâm Phục vụ hành chính công"
    );
    // Every status, each twice, some out of order: five events, the state delivered.
    wait_for("the post's ten callbacks", || async {
        w.post
            .state()
            .callbacks
            .iter()
            .filter(|c| c.answer == 200)
            .count()
            >= 10
    })
    .await;
    let d = w.dossier(&id).await;
    let o = &d["postal_orders"][0];
    assert_eq!(o["state"], "delivered", "{d}");
    assert_eq!(o["item_code"], placed.item_code.as_str());
    assert_eq!(
        d["postal_tracking"],
        placed.item_code.as_str(),
        "the tracking number is linked"
    );
    let steps: Vec<&str> = o["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "registered",
            "collected",
            "in_transit",
            "delivering",
            "delivered"
        ]
    );
    assert!(
        o["registered_at"].is_string() && o["delivered_at"].is_string(),
        "{o}"
    );
    let h = w.history(&id).await;
    assert_eq!(postal_events(&h).len(), 5, "{h:?}");
    let text = serde_json::to_string(&h).unwrap();
    assert!(text.contains("Bưu điện"), "{text}");
    // The order went once; the desk receives the paper dossier.
    assert_eq!(w.post.state().orders.len(), 1);
    let v = w.act("motcua.xa", &id, "receive", json!({})).await;
    assert_eq!(v["dossier"]["status"], "received");
    assert_eq!(w.post.state().orders.len(), 1, "reception orders nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_result_goes_by_post_once_the_desk_hands_it_over() {
    let w = start(VnpostFaults {
        step_ms: 20,
        ..VnpostFaults::default()
    })
    .await;
    let id = submit(&w, None).await;
    assert!(w.dossier(&id).await.get("postal_orders").is_none());
    w.act("motcua.xa", &id, "receive", json!({})).await;
    // Bad input and strangers change nothing.
    let path = format!("/api/v1/dossiers/{id}/actions/set_postal");
    let mut no_phone = address("5 Hùng Vương");
    no_phone["phone"] = json!("");
    let mut far = address("5 Hùng Vương");
    far["commune"] = json!("99999");
    let mut not_there = address("5 Hùng Vương");
    not_there["province"] = json!("01");
    for (body, field) in [
        (
            json!({"choice": {"return_to": no_phone}}),
            "postal.return_to",
        ),
        (json!({"choice": {"return_to": far}}), "postal.return_to"),
        (
            json!({"choice": {"return_to": not_there}}),
            "postal.return_to",
        ),
        (json!({"choice": {"return_to": {"name": "A"}}}), ""),
        (
            json!({"choice": {"pickup": address("1 A")}}),
            "postal.pickup",
        ),
    ] {
        let (st, v) = w.call(Some("congdan"), "POST", &path, body.clone()).await;
        assert!(
            st == StatusCode::UNPROCESSABLE_ENTITY || st == StatusCode::BAD_REQUEST,
            "{body}: {st} {v}"
        );
        if !field.is_empty() {
            assert!(v.to_string().contains(field), "{body}: {v}");
        }
    }
    let good = json!({"choice": {"return_to": address("5 Hùng Vương")}});
    for who in ["congdan2", "motcua.tinh"] {
        let (st, v) = w.call(Some(who), "POST", &path, good.clone()).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{who}: {v}");
    }
    assert!(w.dossier(&id).await.get("postal").is_none());
    // To the result; by post without an address is refused.
    w.act("lanhdao.xa", &id, "complete_step", json!({})).await;
    w.act("chuyenvien.xa", &id, "complete_step", json!({}))
        .await;
    w.act("lanhdao.xa", &id, "approve", json!({})).await;
    w.act(
        "motcua.xa",
        &id,
        "mark_result_ready",
        json!({"summary": "Giấy khai sinh", "documents": [{"name": "Giấy khai sinh bản chính"}]}),
    )
    .await;
    let by_post = json!({"method": "post", "receiver": "Bưu điện Đà Lạt"});
    let (st, v) = w
        .call(
            Some("motcua.xa"),
            "POST",
            &format!("/api/v1/dossiers/{id}/actions/return_result"),
            by_post.clone(),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // The desk sets the return address for the applicant, and hands the result to the post.
    let v = w.act("motcua.xa", &id, "set_postal", good.clone()).await;
    assert_eq!(
        v["dossier"]["postal"]["return_to"]["province_name"], "Tỉnh Lâm Đồng",
        "{v}"
    );
    assert!(w.post.state().orders.is_empty(), "choosing orders nothing");
    let v = w.act("motcua.xa", &id, "return_result", by_post).await;
    assert_eq!(v["national_status"], 10);
    let code = v["dossier"]["code"].as_str().unwrap().to_string();
    wait_for("the return order", || async {
        w.post.state().orders.len() == 1
    })
    .await;
    let o = w.post.state().orders[0].order.clone();
    assert_eq!(o.order_number, format!("{code}-TRAKQ"));
    assert_eq!(o.receiver_name, "Nguyễn Thị Lan");
    assert_eq!(o.receiver_district, "24781");
    assert!(o.description.contains("Giấy khai sinh"), "{o:?}");
    wait_for("delivery", || async {
        w.dossier(&id).await["postal_orders"][0]["state"] == "delivered"
    })
    .await;
    let h = w.history(&id).await;
    let states: Vec<Value> = postal_events(&h)
        .iter()
        .map(|e| e["event"]["body"]["state"].clone())
        .collect();
    assert!(states.contains(&json!("delivered")), "{h:?}");
    // Closed: the choice no longer changes.
    let (st, _) = w
        .call(Some("congdan"), "POST", &path, json!({"choice": {}}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_malformed_callbacks_store_nothing() {
    let w = start(VnpostFaults {
        no_walk: true,
        ..VnpostFaults::default()
    })
    .await;
    let id = submit(&w, Some(json!({"pickup": address("3 Lê Lợi")}))).await;
    let number = w.dossier(&id).await["postal_orders"][0]["order_number"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for("the order at the post", || async {
        w.post.state().orders.len() == 1
    })
    .await;
    let before = w.history(&id).await.len();
    let now = (chrono::Utc::now() + chrono::Duration::hours(7))
        .format("%Y%m%d%H%M%S")
        .to_string();
    let good = json!({"OrderNumber": number, "ItemCode": "EN123456789VN", "Status": "collected",
                      "StatusTime": now, "Note": "Đã thu gom"});
    // Unsigned, signed with another secret: 401, nothing stored.
    for secret in [None, Some("doan-bua")] {
        let (st, v) = w.callback(&good, secret).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");
    }
    let mut bad_status = good.clone();
    bad_status["Status"] = json!("lost-in-space");
    let mut bad_time = good.clone();
    bad_time["StatusTime"] = json!("hôm qua");
    let mut bad_item = good.clone();
    bad_item["ItemCode"] = json!("EN-1");
    let mut unknown = good.clone();
    unknown["OrderNumber"] = json!(format!("{}-THUGOM", uuid::Uuid::now_v7().simple()));
    let mut not_ours = good.clone();
    not_ours["OrderNumber"] = json!("ABC");
    for (body, want) in [
        (bad_status, StatusCode::UNPROCESSABLE_ENTITY),
        (bad_time, StatusCode::UNPROCESSABLE_ENTITY),
        (bad_item, StatusCode::UNPROCESSABLE_ENTITY),
        (unknown, StatusCode::NOT_FOUND),
        (not_ours, StatusCode::NOT_FOUND),
        (json!({"OrderNumber": number}), StatusCode::BAD_REQUEST),
    ] {
        let (st, v) = w.callback(&body, Some(SECRET)).await;
        assert_eq!(st, want, "{body}: {v}");
    }
    // Not JSON at all, signed.
    let res = reqwest::Client::new()
        .post(format!("{}{CALLBACK}", w.base))
        .header(
            "x-vnpost-signature",
            motcua_domain::dossier::postal::hmac_sha256_hex(SECRET.as_bytes(), b"<xml/>"),
        )
        .body("<xml/>")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(w.history(&id).await.len(), before, "nothing stored");
    // The genuine one is stored once; its repeat is acknowledged and changes nothing.
    let (st, v) = w.callback(&good, Some(SECRET)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["recorded"], true);
    let (st, v) = w.callback(&good, Some(SECRET)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["recorded"], false);
    assert_eq!(w.history(&id).await.len(), before + 1);
    assert_eq!(w.dossier(&id).await["postal_tracking"], "EN123456789VN");
}

mod common;

/// The pages: the applicant chooses on the tracking page, the desk on the dossier page; bad
/// input keeps what was typed, a stale form and strangers change nothing; the statuses show
/// on both pages, in Vietnamese and English.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_show_and_change_the_postal_service() {
    use common::browser::{Browser, csrf_in};
    let w = start(VnpostFaults {
        no_walk: true,
        ..VnpostFaults::default()
    })
    .await;
    let id = submit(&w, None).await;
    let track = format!("/ca-nhan/ho-so/{id}");
    let post_to = format!("{track}/buu-chinh");
    let owner = Browser::sign_in_at(&w.base, "congdan", PASSWORD).await;
    let (st, html) = owner.get(&track).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Dịch vụ bưu chính công ích"), "{html}");
    assert!(
        html.contains("name=\"p_detail\""),
        "pickup is offered: {html}"
    );
    let csrf = csrf_in(&html);
    let fields = |csrf: &str, phone: &str| -> Vec<(String, String)> {
        [
            ("csrf", csrf),
            ("pickup", "1"),
            ("p_name", "Nguyễn Thị Lan"),
            ("p_phone", phone),
            ("p_province", "68"),
            ("p_commune", "24781"),
            ("p_detail", "12 Trần Phú"),
            ("return_to", "1"),
            ("r_name", "Nguyễn Thị Lan"),
            ("r_phone", "0912345678"),
            ("r_province", "68"),
            ("r_commune", "24781"),
            ("r_detail", "45 Hai Bà Trưng"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    let as_refs = |f: &[(String, String)]| -> Vec<(String, String)> { f.to_vec() };
    let post = |b: &Browser, path: String, f: Vec<(String, String)>| {
        let refs: Vec<(String, String)> = f;
        let base = b.base.clone();
        let cookie = b.cookie.clone();
        async move {
            let res = common::browser::raw()
                .post(format!("{base}{path}"))
                .header("cookie", cookie)
                .form(&refs)
                .send()
                .await
                .unwrap();
            common::browser::answer(res).await
        }
    };
    // A stale form: refused, nothing stored.
    let (st, _) = post(
        &owner,
        post_to.clone(),
        as_refs(&fields("stale", "0912345678")),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // A bad phone: the page again, with the error and what was typed.
    let (st, html) = post(&owner, post_to.clone(), fields(&csrf, "12")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("role=\"alert\""), "{html}");
    assert!(html.contains("value=\"12\""), "{html}");
    assert!(html.contains("45 Hai Bà Trưng"), "{html}");
    // A commune that does not exist.
    let mut far = fields(&csrf, "0912345678");
    far.iter_mut().find(|(k, _)| k == "r_commune").unwrap().1 = "99999".into();
    let (st, html) = post(&owner, post_to.clone(), far).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("99999"), "{html}");
    // Another citizen, a desk officer: nothing learnt, nothing changed.
    let other = Browser::sign_in_at(&w.base, "congdan2", PASSWORD).await;
    let other_csrf = csrf_in(&other.get("/ca-nhan").await.1);
    let (st, _) = post(&other, post_to.clone(), fields(&other_csrf, "0912345678")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(w.dossier(&id).await.get("postal").is_none());
    // The good one: saved, and the pickup is ordered.
    let (st, to) = post(&owner, post_to.clone(), fields(&csrf, "0912345678")).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    assert_eq!(to, format!("{track}?xong=buu-chinh"));
    let (_, html) = owner.get(&to).await;
    assert!(
        html.contains("Đã lưu lựa chọn dịch vụ bưu chính."),
        "{html}"
    );
    assert!(
        html.contains("45 Hai Bà Trưng, Phường Xuân Hương - Đà Lạt, Tỉnh Lâm Đồng"),
        "{html}"
    );
    assert!(
        html.contains("Đang gửi đơn hàng cho bưu điện") || html.contains("THUGOM"),
        "{html}"
    );
    wait_for("the pickup order", || async {
        w.post.state().orders.len() == 1
    })
    .await;
    // The post collects and delivers to the desk.
    let number = w.post.state().orders[0].order.order_number.clone();
    let stamp = |min: i64| {
        (chrono::Utc::now() - chrono::Duration::minutes(min) + chrono::Duration::hours(7))
            .format("%Y%m%d%H%M%S")
            .to_string()
    };
    for (status, at) in [("collected", stamp(30)), ("delivered", stamp(5))] {
        let (st, v) = w
            .callback(
                &json!({"OrderNumber": number, "ItemCode": "EN987654321VN", "Status": status, "StatusTime": at}),
                Some(SECRET),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let (_, html) = owner.get(&track).await;
    assert!(html.contains("EN987654321VN"), "{html}");
    assert!(
        html.contains("đã phát thành công đến bộ phận một cửa"),
        "{html}"
    );
    assert!(
        html.contains("Bưu điện (thu gom hồ sơ): đã thu gom hồ sơ (mã vận đơn EN987654321VN)"),
        "{html}"
    );
    assert!(
        html.contains("Bưu điện đã nhận đơn thu gom"),
        "the pickup is locked: {html}"
    );
    let (_, html) = owner.get(&format!("{track}?lang=en")).await;
    assert!(html.contains("Public postal service"), "{html}");
    assert!(html.contains("delivered to the one-stop desk"), "{html}");
    // The desk sees it arrived, with the tracking number; another agency's desk sees nothing.
    let staff_page = format!("/can-bo/ho-so/{id}");
    let desk = Browser::sign_in_at(&w.base, "motcua.xa", PASSWORD).await;
    let (st, html) = desk.get(&staff_page).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("Bưu điện đã giao hồ sơ giấy đến bộ phận một cửa"),
        "{html}"
    );
    assert!(html.contains("EN987654321VN"), "{html}");
    let far_desk = Browser::sign_in_at(&w.base, "motcua.tinh", PASSWORD).await;
    let (st, _) = far_desk.get(&staff_page).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let far_csrf = csrf_in(&far_desk.get("/can-bo").await.1);
    let mut by_far = fields(&far_csrf, "0912345678");
    by_far.push(("action".into(), "set_postal".into()));
    let (st, _) = post(&far_desk, staff_page.clone(), by_far).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // The desk changes the return address; a bad one keeps what was typed.
    let desk_csrf = csrf_in(&html);
    let mut bad = fields(&desk_csrf, "0912345678");
    bad.push(("action".into(), "set_postal".into()));
    bad.iter_mut().find(|(k, _)| k == "r_phone").unwrap().1 = "".into();
    bad.iter_mut().find(|(k, _)| k == "r_detail").unwrap().1 = "9 Phan Chu Trinh".into();
    let (st, html) = post(&desk, staff_page.clone(), bad.clone()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("9 Phan Chu Trinh"), "{html}");
    let mut good = bad;
    good.iter_mut().find(|(k, _)| k == "r_phone").unwrap().1 = "0987654321".into();
    let (st, to) = post(&desk, staff_page.clone(), good).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    let d = w.dossier(&id).await;
    assert_eq!(
        d["postal"]["return_to"]["detail"], "9 Phan Chu Trinh",
        "{d}"
    );
    assert_eq!(d["postal"]["return_to"]["phone"], "0987654321");
    assert_eq!(
        d["postal"]["pickup"]["detail"], "12 Trần Phú",
        "the pickup stays"
    );
    assert_eq!(w.post.state().orders.len(), 1, "no second pickup");
    // The desk receives the paper dossier the post brought.
    let v = w.act("motcua.xa", &id, "receive", json!({})).await;
    assert_eq!(v["dossier"]["postal_tracking"], "EN987654321VN");
}

/// The declaration page: the postal service asked for with the online submission; a refused
/// address still submits the dossier, whose page shows the form as typed and why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postal_service_is_chosen_with_the_declaration() {
    use common::browser::{Browser, answer, csrf_in, raw};
    let w = start(VnpostFaults {
        no_walk: true,
        ..VnpostFaults::default()
    })
    .await;
    let citizen = Browser::sign_in_at(&w.base, "congdan", PASSWORD).await;
    let csrf = csrf_in(&citizen.get("/ca-nhan").await.1);
    // With the required birth certificate attached (uploaded to their data store first).
    let scan = common::upload_pdf_at(&w.base, &w.token("congdan").await).await;
    let mut values = motcua::seed::forms::example("1.001193").unwrap();
    values["_uploads"] = json!({"giay_chung_sinh": scan});
    let values = values.to_string();
    let submit = |key: &str, phone: &str| {
        let fields: Vec<(String, String)> = [
            ("csrf", csrf.as_str()),
            ("key", key),
            ("values", values.as_str()),
            ("agency", commune().as_str()),
            ("pickup", "1"),
            ("p_name", "Nguyễn Thị Lan"),
            ("p_phone", phone),
            ("p_province", "68"),
            ("p_commune", "24781"),
            ("p_detail", "12 Trần Phú"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let url = format!("{}/thu-tuc/1.001193/nop", w.base);
        let cookie = citizen.cookie.clone();
        async move {
            answer(
                raw()
                    .post(url)
                    .header("cookie", cookie)
                    .form(&fields)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (st, to) = submit("0123456789abcdef", "0912345678").await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{to}");
    let id = to
        .trim_start_matches("/ca-nhan/ho-so/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let d = w.dossier(&id).await;
    assert_eq!(d["postal"]["pickup"]["detail"], "12 Trần Phú", "{d}");
    wait_for("the pickup order", || async {
        w.post.state().orders.len() == 1
    })
    .await;
    // A bad phone: the dossier is submitted without it; its page keeps what was typed.
    let (st, html) = submit("fedcba9876543210", "12").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("role=\"alert\""), "{html}");
    assert!(html.contains("value=\"12\""), "{html}");
    assert!(html.contains("12 Trần Phú"), "{html}");
    assert_eq!(
        w.post.state().orders.len(),
        1,
        "no order without a valid address"
    );
}
