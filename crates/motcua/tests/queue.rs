//! Queue numbers over HTTP: the kiosk, the ticket, the live display, the officers' API and the
//! leaders' figures, with bad input and wrong roles.
//!
//! Tests share one server (and its per-client kiosk limit): each uses its own centre or group so
//! they can run at once, and together they take fewer tickets than the limit's burst. The flood
//! test starts a server of its own.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;

const CENTRE: &str = "000.00.01.H40";
const COMMUNE: &str = "H40.24781";
const DEPT: &str = "000.00.03.H40";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Takes a ticket at the kiosk; returns the ticket page's path.
async fn take(base: &str, centre: &str, group: &str) -> String {
    let res = no_redirects()
        .post(format!("{base}/xep-hang/{centre}"))
        .form(&[("nhom", group), ("lang", "vi")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "take {group} at {centre}"
    );
    let loc = res.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with(&format!("/xep-hang/{centre}/ve/")), "{loc}");
    loc
}

async fn page(path: &str) -> (StatusCode, String) {
    let res = client()
        .get(format!("{}{path}", base()))
        .send()
        .await
        .unwrap();
    let st = res.status();
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/html"), "{path}: {ct}");
    (st, res.text().await.unwrap())
}

async fn counter_act(user: &str, centre: &str, n: u16, action: &str) -> (StatusCode, Value) {
    as_user(
        user,
        "POST",
        &format!("/api/v1/queue/{centre}/counters/{n}/actions/{action}"),
        None,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_takes_a_ticket_at_the_kiosk() {
    let (st, html) = page(&format!("/xep-hang/{CENTRE}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Mời chọn lĩnh vực"), "{html}");
    for g in [
        "Tư pháp - Hộ tịch",
        "Đất đai - Xây dựng",
        "Kinh doanh - Đầu tư",
        "Lao động - Xã hội - Y tế",
        "Lĩnh vực khác",
    ] {
        assert!(html.contains(g), "{g}");
    }
    assert_eq!(html.matches("<form method=\"post\"").count(), 5);
    assert!(!html.contains("<script"), "the kiosk needs no JavaScript");
    let (_, en) = page(&format!("/xep-hang/{CENTRE}?lang=en")).await;
    assert!(en.contains("Choose a service") && en.contains("Business - Investment"));

    let loc = take(base(), CENTRE, "kinh-doanh-dau-tu").await;
    assert!(loc.ends_with("kiosk=1"), "{loc}");
    let (st, ticket) = page(&loc).await;
    assert_eq!(st, StatusCode::OK);
    let number = ticket
        .split("class=\"number\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_string();
    assert!(number.starts_with('C') && number.len() == 4, "{number}");
    assert!(ticket.contains("Kinh doanh - Đầu tư"));
    assert!(ticket.contains("Số người chờ trước bạn"));
    assert!(ticket.contains("window.print()") && ticket.contains("In phiếu"));
    assert!(ticket.contains("@media print") && ticket.contains("80mm"));
    assert!(ticket.contains(&format!(
        "http-equiv=\"refresh\" content=\"12;url=/xep-hang/{CENTRE}"
    )));
    // Opened elsewhere (not on the kiosk) it stays put.
    let (_, plain) = page(loc.trim_end_matches("&kiosk=1")).await;
    assert!(!plain.contains("http-equiv=\"refresh\""));

    // The next one has one more person ahead (nobody calls group C in this test file).
    let loc2 = take(base(), CENTRE, "kinh-doanh-dau-tu").await;
    let (_, t2) = page(&loc2.replace("lang=vi", "lang=en")).await;
    assert!(t2.contains("People ahead of you"));
    let ahead = |html: &str| -> u32 {
        html.split("<strong>")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(ahead(&t2), ahead(&ticket) + 1);

    // The public API counts them.
    let (st, q) = send(None, "GET", &format!("/api/v1/queue/{CENTRE}"), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(q["groups"].as_array().unwrap().len(), 5);
    assert_eq!(q["counters"].as_array().unwrap().len(), 6);
    let c = q["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["code"] == "kinh-doanh-dau-tu")
        .unwrap();
    assert!(c["waiting"].as_u64().unwrap() >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_kiosk_input_gets_a_friendly_page() {
    for path in [
        "/xep-hang/000.00.99.H40".to_string(),
        "/xep-hang/not-a-code".to_string(),
        // An agency without a one-stop desk.
        format!("/xep-hang/{DEPT}"),
        format!("/xep-hang/{DEPT}/man-hinh"),
        format!("/xep-hang/{CENTRE}/ve/not-a-uuid"),
        format!("/xep-hang/{CENTRE}/ve/0193e6a4-0000-7000-8000-000000000000"),
    ] {
        let (st, html) = page(&path).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
        assert!(html.contains("Không tìm thấy"), "{path}: {html}");
    }
    let (st, _) = send(None, "GET", "/api/v1/queue/000.00.99.H40", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    let post = |centre: &str, form: Vec<(&'static str, &'static str)>| {
        no_redirects()
            .post(format!("{}/xep-hang/{centre}", base()))
            .form(&form)
            .send()
    };
    let res = post(CENTRE, vec![("nhom", "khong-co")]).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("Không có lĩnh vực này"));
    let res = post(CENTRE, vec![("lang", "en")]).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("Yêu cầu không hợp lệ"));
    let res = post("000.00.99.H40", vec![("nhom", "khac")]).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // A ticket of one centre is not shown under another.
    let loc = take(base(), CENTRE, "khac").await;
    let elsewhere = loc.replace(CENTRE, COMMUNE);
    let (st, _) = page(&elsewhere).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_takes_is_limited_per_client() {
    // A server of its own, so that the other tests keep their allowance.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let store = motcua_store::Store::open("sqlite::memory:").await.unwrap();
            motcua::seed::seed(&store, &|p: &str| format!("plain:{p}"))
                .await
                .unwrap();
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(format!("http://{}", l.local_addr().unwrap()))
                .unwrap();
            motcua_web::serve(l, motcua_web::AppState::new(store))
                .await
                .unwrap();
        });
    });
    let own = rx.recv().unwrap();
    let mut codes = Vec::new();
    for _ in 0..14 {
        let res = no_redirects()
            .post(format!("{own}/xep-hang/{CENTRE}"))
            .form(&[("nhom", "tu-phap-ho-tich")])
            .send()
            .await
            .unwrap();
        codes.push(res.status());
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(res.headers().get("retry-after").is_some());
            assert!(res.text().await.unwrap().contains("Bạn lấy số quá nhanh"));
        }
    }
    let ok = codes
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    // One more may slip in if the loop outlasts a refill interval on a slow machine.
    let burst = motcua_web::queue::KIOSK_BURST as usize;
    assert!((burst..=burst + 1).contains(&ok), "{codes:?}");
    assert_eq!(codes[13], StatusCode::TOO_MANY_REQUESTS);
    // Reading pages is not limited.
    let res = client()
        .get(format!("{own}/xep-hang/{CENTRE}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_calls_serves_and_finishes_tickets() {
    let user = "motcua.tinh";
    let loc1 = take(base(), CENTRE, "tu-phap-ho-tich").await;
    let loc2 = take(base(), CENTRE, "tu-phap-ho-tich").await;
    let (st, c) = as_user(
        user,
        "GET",
        &format!("/api/v1/queue/{CENTRE}/counters/1"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    assert_eq!(c["counter"]["name"], "Quầy 1");
    assert!(c["current"].is_null());
    assert!(c["waiting"].as_u64().unwrap() >= 2);

    let (st, r) = counter_act(user, CENTRE, 1, "call-next").await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let first = r["ticket"]["number"].as_str().unwrap().to_string();
    assert!(first.starts_with('A'), "{first}");
    assert_eq!(r["ticket"]["state"], "called");
    assert_eq!(r["ticket"]["counter"], 1);
    assert_eq!(r["counter"]["current"]["number"], first.as_str());
    let (_, t1) = page(&loc1).await;
    assert!(
        t1.contains("Mời đến Quầy 1"),
        "the ticket page tells where to go"
    );

    let (st, p) = counter_act(user, CENTRE, 1, "call-next").await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    assert_eq!(p["type"], "https://motcua.dev/problems/counter-busy");
    let (st, r) = counter_act(user, CENTRE, 1, "recall").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(r["ticket"]["calls"], 2);
    let (st, r) = counter_act(user, CENTRE, 1, "start").await;
    assert_eq!(
        (st, r["ticket"]["state"].as_str()),
        (StatusCode::OK, Some("serving"))
    );
    let (st, p) = counter_act(user, CENTRE, 1, "no-show").await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(
        p["type"],
        "https://motcua.dev/problems/ticket-action-not-allowed"
    );
    let (st, r) = counter_act(user, CENTRE, 1, "finish").await;
    assert_eq!(
        (st, r["ticket"]["state"].as_str()),
        (StatusCode::OK, Some("done"))
    );
    assert!(r["ticket"]["done_at"].is_string());
    let (st, p) = counter_act(user, CENTRE, 1, "finish").await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(p["type"], "https://motcua.dev/problems/no-current-ticket");

    // The second ticket does not come; then nobody waits for counter 1.
    let (_, r) = counter_act(user, CENTRE, 1, "call-next").await;
    assert_ne!(r["ticket"]["number"], first.as_str());
    let (st, r) = counter_act(user, CENTRE, 1, "no-show").await;
    assert_eq!(
        (st, r["ticket"]["state"].as_str()),
        (StatusCode::OK, Some("no_show"))
    );
    let (_, t2) = page(&loc2).await;
    assert!(t2.contains("Đã qua lượt"));
    let (st, r) = counter_act(user, CENTRE, 1, "call-next").await;
    assert_eq!(st, StatusCode::OK);
    assert!(r["ticket"].is_null(), "{r}");
    assert_eq!(r["counter"]["waiting"], 0);

    // Bad input.
    let (st, _) = counter_act(user, CENTRE, 1, "dance").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = counter_act(user, CENTRE, 99, "call-next").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = as_user(
        user,
        "GET",
        &format!("/api/v1/queue/{CENTRE}/counters/99"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = as_user(
        user,
        "GET",
        &format!("/api/v1/queue/{CENTRE}/counters/abc"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = counter_act(user, "not-a-code", 1, "call-next").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_centres_officers_and_leaders_work_its_counters() {
    let path = format!("/api/v1/queue/{CENTRE}/counters/3");
    for user in [
        "congdan",
        "chuyenvien.stp",
        "lanhdao.stp",
        "motcua.xa",
        "lanhdao.xa",
        "quantri",
    ] {
        let (st, p) = as_user(user, "GET", &path, None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{user}: {p}");
        for action in ["call-next", "recall", "start", "finish", "no-show"] {
            let (st, _) = counter_act(user, CENTRE, 3, action).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{user} {action}");
        }
    }
    let (st, _) = send(None, "GET", &path, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = send(None, "POST", &format!("{path}/actions/call-next"), None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // The commune's leader works the commune's counters.
    let (st, _) = as_user(
        "lanhdao.xa",
        "GET",
        &format!("/api/v1/queue/{COMMUNE}/counters/3"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
}

/// Reads SSE events until one contains `needle` (or fails after a few seconds).
async fn next_event_with(res: &mut reqwest::Response, needle: &str) -> String {
    let mut buf = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let chunk = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .unwrap_or_else(|_| panic!("no event with {needle}; got {buf}"))
            .unwrap()
            .expect("stream open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(ev) = buf
            .split("\n\n")
            .find(|e| e.contains("event: board") && e.contains(needle))
        {
            return ev.to_string();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_display_shows_calls_live_and_leaders_read_the_figures() {
    let (st, html) = page(&format!("/xep-hang/{COMMUNE}/man-hinh")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Mời công dân có số thứ tự đến quầy"));
    assert!(html.contains("<noscript><meta http-equiv=\"refresh\" content=\"10\"></noscript>"));
    assert!(html.contains(&format!(
        "new EventSource(\"/xep-hang/{COMMUNE}/man-hinh/su-kien?lang=vi\")"
    )));
    for k in 1..=4 {
        assert!(html.contains(&format!("Quầy {k}")));
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external assets"
    );
    let (_, en) = page(&format!("/xep-hang/{COMMUNE}/man-hinh?lang=en")).await;
    assert!(en.contains("Now serving"));

    let mut res = client()
        .get(format!("{}/xep-hang/{COMMUNE}/man-hinh/su-kien", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    next_event_with(&mut res, "Quầy 4").await;

    take(base(), COMMUNE, "dat-dai-xay-dung").await;
    let (st, r) = counter_act("motcua.xa", COMMUNE, 3, "call-next").await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let number = r["ticket"]["number"].as_str().unwrap().to_string();
    let ev = next_event_with(&mut res, &number).await;
    assert!(ev.contains("class=\"latest\""), "{ev}");
    let (_, again) = page(&format!("/xep-hang/{COMMUNE}/man-hinh")).await;
    assert!(
        again.contains(&number),
        "without JavaScript the page shows it too"
    );
    let (st, _) = counter_act("motcua.xa", COMMUNE, 3, "finish").await;
    assert_eq!(st, StatusCode::OK);
    drop(res);

    // The commune's leader reads the figures; nobody else does.
    let today = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive();
    let stats = format!("/api/v1/queue/{COMMUNE}/stats?from={today}&to={today}");
    let (st, s) = as_user("lanhdao.xa", "GET", &stats, None).await;
    assert_eq!(st, StatusCode::OK, "{s}");
    assert!(s["total"]["taken"].as_u64().unwrap() >= 1);
    assert!(s["total"]["served"].as_u64().unwrap() >= 1);
    assert!(s["total"]["avg_wait_seconds"].is_number());
    assert!(
        s["counters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["counter"] == 3)
    );
    assert!(!s["hours"].as_array().unwrap().is_empty());
    let (st, _) = as_user(
        "lanhdao.xa",
        "GET",
        &format!("/api/v1/queue/{COMMUNE}/stats"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "defaults to today");
    for user in [
        "motcua.xa",
        "chuyenvien.xa",
        "lanhdao.stp",
        "congdan",
        "quantri",
    ] {
        let (st, _) = as_user(user, "GET", &stats, None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{user}");
    }
    let (st, _) = as_user(
        "lanhdao.xa",
        "GET",
        &format!("/api/v1/queue/{CENTRE}/stats"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "another centre");
    let (st, p) = as_user(
        "lanhdao.xa",
        "GET",
        &format!("/api/v1/queue/{COMMUNE}/stats?from=2026-03-10&to=2026-03-01"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (st, _) = as_user(
        "lanhdao.xa",
        "GET",
        &format!("/api/v1/queue/{COMMUNE}/stats?from=2024-01-01&to=2026-03-01"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = as_user(
        "lanhdao.xa",
        "GET",
        &format!("/api/v1/queue/{COMMUNE}/stats?from=hôm-qua"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = send(None, "GET", &stats, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_api_is_documented() {
    let (_, spec) = send(None, "GET", "/api/openapi.json", None).await;
    for p in [
        "/api/v1/queue/{centre}",
        "/api/v1/queue/{centre}/stats",
        "/api/v1/queue/{centre}/counters/{number}",
        "/api/v1/queue/{centre}/counters/{number}/actions/{action}",
    ] {
        assert!(spec["paths"].get(p).is_some(), "{p} documented");
    }
}
