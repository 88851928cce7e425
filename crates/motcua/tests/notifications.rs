//! E-mail and SMS to the applicant on every status change, end to end: a real server with the
//! outbox dispatcher, a real SMTP server (Python's aiosmtpd, started by the test) and the
//! sandbox SMS gateway. The SMTP server starts late and the gateway answers 5xx at first: the
//! messages wait and are retried, none is lost. Without aiosmtpd the test prints SKIPPED —
//! unless `MOTCUA_REQUIRE_SMTP=1` (as CI sets it).

mod common;

use motcua::config::Settings;
use motcua_integrations::sandbox::sms::{SmsFaults, SmsSandbox};
use motcua_store::{OutboxQuery, OutboxStatus, Store};
use serde_json::{Value, json};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const PYTHON: &str = "/usr/bin/python3";

fn aiosmtpd() -> bool {
    Command::new(PYTHON)
        .args(["-c", "import aiosmtpd"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A port nobody listens on (yet).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The SMTP server, stopped when dropped.
struct Smtp(Child);

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The messages of a Maildir, decoded by Python's own e-mail package: to, subject, text,
/// html and message id.
fn mails(dir: &std::path::Path) -> Vec<Value> {
    const DUMP: &str = r#"
import json, mailbox, sys
from email.header import decode_header, make_header
out = []
for m in mailbox.Maildir(sys.argv[1], factory=None, create=False):
    parts = {p.get_content_type(): p.get_payload(decode=True).decode(p.get_content_charset() or 'utf-8')
             for p in m.walk() if not p.is_multipart()}
    out.append({"to": m["To"], "from": str(make_header(decode_header(m["From"]))),
                "subject": str(make_header(decode_header(m["Subject"]))),
                "text": parts.get("text/plain", ""), "html": parts.get("text/html", ""),
                "message_id": m["Message-ID"]})
print(json.dumps(out))
"#;
    if !dir.join("new").exists() {
        return Vec::new();
    }
    let out = Command::new(PYTHON)
        .args(["-c", DUMP])
        .arg(dir)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
}

async fn call(base: &str, token: Option<&str>, method: &str, path: &str, body: Value) -> Value {
    let mut rb = reqwest::Client::new()
        .request(method.parse().unwrap(), format!("{base}{path}"))
        .json(&body);
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let res = rb.send().await.unwrap();
    let st = res.status();
    let v: Value = res.json().await.unwrap_or(Value::Null);
    assert!(st.is_success(), "{method} {path}: {st} {v}");
    v
}

async fn token(base: &str, user: &str) -> String {
    let v = call(
        base,
        None,
        "POST",
        "/api/v1/auth/token",
        json!({"username": user, "password": "motcua@2026"}),
    )
    .await;
    v["token"].as_str().unwrap().to_string()
}

async fn outbox(store: &Store, topic: &str) -> Vec<motcua_store::OutboxEntry> {
    store
        .outbox_list(OutboxQuery {
            topic: Some(topic.into()),
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap()
}

async fn wait_for<F: Fn() -> bool>(what: &str, f: F) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_changes_reach_the_applicant_by_email_and_sms_even_after_outages() {
    if !aiosmtpd() {
        if std::env::var("MOTCUA_REQUIRE_SMTP").as_deref() == Ok("1") {
            panic!("MOTCUA_REQUIRE_SMTP=1 but python3-aiosmtpd is missing");
        }
        eprintln!("SKIPPED (smtp): needs /usr/bin/python3 with aiosmtpd (python3-aiosmtpd)");
        return;
    }
    let smtp_port = free_port();
    let maildir = std::env::temp_dir().join(format!("motcua-mail-{}", uuid::Uuid::new_v4()));
    let sms = SmsSandbox::start("127.0.0.1:0".parse().unwrap(), "sms-test-secret")
        .await
        .unwrap();
    // The gateway fails every message at first.
    sms.set_faults(SmsFaults {
        down: false,
        fail_5xx_percent: 100,
    });

    let store = Store::open("sqlite::memory:").await.unwrap();
    motcua::seed::seed(&store, &motcua_web::auth::hash_password)
        .await
        .unwrap();
    let mut settings = Settings {
        smtp_url: format!("smtp://127.0.0.1:{smtp_port}"),
        mail_from: "Một cửa Lâm Đồng <motcua@lamdong.gov.vn>".into(),
        sms_url: sms.client_settings().url,
        sms_secret: "sms-test-secret".into(),
        ..Default::default()
    };
    let i = &mut settings.integrations;
    i.dispatcher.poll_ms = 50;
    for t in [&mut i.email_delivery, &mut i.sms_delivery] {
        t.timeout_ms = 3_000;
        t.retry.base_ms = 100;
        t.retry.max_ms = 400;
        t.retry.max_attempts = 10_000;
        t.breaker_cooldown_ms = 200;
    }
    let dispatcher = motcua::integrations::start(&store, &settings)
        .unwrap()
        .expect("e-mail and SMS targets are configured");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(motcua_web::serve(
        listener,
        motcua_web::AppState::new(store.clone()),
    ));

    let citizen = token(&base, "congdan").await;
    let desk = token(&base, "motcua.xa").await;
    let commune = motcua::seed::demo_logins()
        .into_iter()
        .find(|l| l.username == "motcua.xa")
        .and_then(|l| l.agency)
        .unwrap()
        .to_string();
    let v = call(
        &base,
        Some(&citizen),
        "POST",
        "/api/v1/dossiers",
        common::with_required_documents_at(
            &base,
            &citizen,
            json!({
                "procedure_code": "1.001193",
                "agency": commune,
                "applicant": {"name": "Nguyễn Thị <Lan>", "personal_id": "068190004321",
                              "phone": "0912345678", "email": "lan@example.vn"},
                "documents": [{"name": "Tờ khai"}],
                "form": motcua::seed::forms::example("1.001193").unwrap(),
            }),
        )
        .await,
    )
    .await;
    let id = v["dossier"]["id"].as_str().unwrap().to_string();

    // SMTP is down and the gateway answers 500: both messages wait, retried, not lost.
    let start = Instant::now();
    loop {
        let mail = outbox(&store, "email").await;
        let texts = outbox(&store, "sms").await;
        if mail.len() == 1 && mail[0].attempts >= 2 && texts.len() == 1 && texts[0].attempts >= 2 {
            assert_eq!(mail[0].status, OutboxStatus::Pending);
            assert_eq!(texts[0].status, OutboxStatus::Pending);
            assert!(mail[0].last_error.as_deref().unwrap_or("").contains("SMTP"));
            assert!(texts[0].last_error.as_deref().unwrap_or("").contains("500"));
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "failed deliveries are retried: {mail:?} {texts:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(sms.state().injected >= 2);
    assert!(sms.state().messages.is_empty());

    // The SMTP server comes up, the gateway recovers: the waiting messages arrive.
    let _smtp = Smtp(
        Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{smtp_port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .spawn()
            .expect("start aiosmtpd"),
    );
    sms.set_faults(SmsFaults::default());
    wait_for("the first e-mail", || mails(&maildir).len() == 1).await;
    wait_for("the first SMS", || sms.state().messages.len() == 1).await;
    let first = &mails(&maildir)[0];
    assert_eq!(first["to"], "lan@example.vn");
    assert_eq!(first["from"], "Một cửa Lâm Đồng <motcua@lamdong.gov.vn>");
    assert_eq!(
        first["subject"],
        "[Hồ sơ chưa cấp mã] Đã nộp, chờ bộ phận một cửa tiếp nhận"
    );
    assert!(
        first["text"]
            .as_str()
            .unwrap()
            .contains("Kính gửi Nguyễn Thị <Lan>,")
    );
    assert!(
        first["html"]
            .as_str()
            .unwrap()
            .contains("Nguyễn Thị &lt;Lan&gt;"),
        "escaped in HTML: {first}"
    );

    // Reception, a supplement asked and supplied: one e-mail and one SMS each.
    let received = call(
        &base,
        Some(&desk),
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/receive"),
        json!({}),
    )
    .await;
    let code = received["dossier"]["code"].as_str().unwrap().to_string();
    call(
        &base,
        Some(&desk),
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/request_supplement"),
        json!({"items": ["Bản sao giấy chứng sinh"], "reason": "Bản cũ bị mờ"}),
    )
    .await;
    call(
        &base,
        Some(&citizen),
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/provide_supplement"),
        json!({"documents": []}),
    )
    .await;
    wait_for("four e-mails", || mails(&maildir).len() == 4).await;
    wait_for("four SMS", || sms.state().messages.len() == 4).await;
    let all = mails(&maildir);
    let subjects: Vec<&str> = all.iter().map(|m| m["subject"].as_str().unwrap()).collect();
    for s in [
        format!("[Hồ sơ {code}] Đã tiếp nhận"),
        format!("[Hồ sơ {code}] Cần bổ sung hồ sơ"),
    ] {
        assert!(subjects.contains(&s.as_str()), "{s} in {subjects:?}");
    }
    assert!(all.iter().all(|m| m["to"] == "lan@example.vn"));
    let asked = all
        .iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .unwrap()
                .ends_with("Cần bổ sung hồ sơ")
        })
        .unwrap();
    let text = asked["text"].as_str().unwrap();
    assert!(text.contains("Bản sao giấy chứng sinh"), "{text}");
    assert!(text.contains(&format!("Mã hồ sơ: {code}")), "{text}");
    let ids: std::collections::BTreeSet<&str> = all
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 4, "one Message-ID per message");
    let texts = sms.state().messages;
    assert!(texts.iter().all(|m| m.to == "0912345678"));
    assert!(
        texts
            .iter()
            .skip(1)
            .all(|m| m.text.starts_with(&format!("Hồ sơ {code}: "))),
        "{texts:?}"
    );
    // Everything acknowledged.
    let start = Instant::now();
    loop {
        let done = outbox(&store, "email")
            .await
            .iter()
            .chain(outbox(&store, "sms").await.iter())
            .all(|m| m.status == OutboxStatus::Done);
        if done {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "not acknowledged"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    dispatcher.stop().await;
    let _ = std::fs::remove_dir_all(&maildir);
}

/// The applicant's own choice of channels, end to end with the sandbox Zalo (ZNS) endpoint and
/// SMS gateway: Zalo only at submission (a template per event), then SMS only from the tracking
/// API; nobody else may change the choice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_applicant_hears_only_through_the_channels_they_chose_zalo_included() {
    use motcua_integrations::sandbox::zalo::ZaloSandbox;
    let sms = SmsSandbox::start("127.0.0.1:0".parse().unwrap(), "sms-secret")
        .await
        .unwrap();
    let zalo = ZaloSandbox::start("127.0.0.1:0".parse().unwrap(), "zalo-token")
        .await
        .unwrap();
    let store = Store::open("sqlite::memory:").await.unwrap();
    motcua::seed::seed(&store, &motcua_web::auth::hash_password)
        .await
        .unwrap();
    let mut settings = Settings {
        sms_url: sms.client_settings().url,
        sms_secret: "sms-secret".into(),
        ..Default::default()
    };
    let i = &mut settings.integrations;
    i.dispatcher.poll_ms = 50;
    i.zalo = zalo.client_settings();
    i.zalo
        .templates
        .insert("submitted".into(), "tpl-nop-ho-so".into());
    i.zalo.default_template = "tpl-trang-thai".into();
    let dispatcher = motcua::integrations::start(&store, &settings)
        .unwrap()
        .expect("SMS and Zalo targets are configured");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(motcua_web::serve(
        listener,
        motcua_web::AppState::new(store.clone()),
    ));
    let citizen = token(&base, "congdan").await;
    let desk = token(&base, "motcua.xa").await;
    let commune = motcua::seed::demo_logins()
        .into_iter()
        .find(|l| l.username == "motcua.xa")
        .and_then(|l| l.agency)
        .unwrap()
        .to_string();
    let v = call(
        &base,
        Some(&citizen),
        "POST",
        "/api/v1/dossiers",
        common::with_required_documents_at(
            &base,
            &citizen,
            json!({
                "procedure_code": "1.001193",
                "agency": commune,
                "applicant": {"name": "Trần Văn Bình", "personal_id": "068190004322",
                              "phone": "0912345678", "email": "binh@example.vn",
                              "notify": {"email": false, "sms": false, "zalo": true}},
                "documents": [{"name": "Tờ khai"}],
                "form": motcua::seed::forms::example("1.001193").unwrap(),
            }),
        )
        .await,
    )
    .await;
    let id = v["dossier"]["id"].as_str().unwrap().to_string();
    assert_eq!(v["dossier"]["applicant"]["notify"]["zalo"], true, "{v}");
    wait_for("the Zalo notice of the submission", || {
        zalo.state().messages.len() == 1
    })
    .await;
    let first = &zalo.state().messages[0];
    assert_eq!(first.phone, "84912345678");
    assert_eq!(first.template_id, "tpl-nop-ho-so");
    assert_eq!(first.template_data["ten_nguoi_nop"], "Trần Văn Bình");
    let received = call(
        &base,
        Some(&desk),
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/receive"),
        json!({}),
    )
    .await;
    let code = received["dossier"]["code"].as_str().unwrap().to_string();
    wait_for("the Zalo notice of the reception", || {
        zalo.state().messages.len() == 2
    })
    .await;
    let second = &zalo.state().messages[1];
    assert_eq!(second.template_id, "tpl-trang-thai");
    assert_eq!(second.template_data["ma_ho_so"], code);
    assert_eq!(second.template_data["trang_thai"], "Đã tiếp nhận");

    // Nobody else changes the choice: another citizen learns nothing, a bad body is refused.
    let other = token(&base, "congdan2").await;
    let res = reqwest::Client::new()
        .post(format!(
            "{base}/api/v1/dossiers/{id}/actions/set_notifications"
        ))
        .bearer_auth(&other)
        .json(&json!({"channels": {"sms": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::NOT_FOUND);
    let res = reqwest::Client::new()
        .post(format!(
            "{base}/api/v1/dossiers/{id}/actions/set_notifications"
        ))
        .bearer_auth(&citizen)
        .json(&json!({"channels": "sms"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    // The owner switches to SMS only: the next status change goes by SMS alone.
    let v = call(
        &base,
        Some(&citizen),
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/set_notifications"),
        json!({"channels": {"email": false, "sms": true, "zalo": false}}),
    )
    .await;
    assert_eq!(v["dossier"]["applicant"]["notify"]["sms"], true, "{v}");
    call(
        &base,
        Some(&desk),
        "POST",
        &format!("/api/v1/dossiers/{id}/actions/request_supplement"),
        json!({"items": ["Bản sao giấy chứng sinh"], "reason": "Bản cũ bị mờ"}),
    )
    .await;
    wait_for("the SMS of the supplement request", || {
        sms.state().messages.len() == 1
    })
    .await;
    assert!(
        sms.state().messages[0]
            .text
            .starts_with(&format!("Hồ sơ {code}: "))
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(zalo.state().messages.len(), 2, "no more Zalo notices");
    assert!(outbox(&store, "email").await.is_empty(), "no e-mail at all");
    let history = call(
        &base,
        Some(&citizen),
        "GET",
        &format!("/api/v1/dossiers/{id}/history"),
        Value::Null,
    )
    .await;
    assert!(
        history.to_string().contains("notifications_changed"),
        "{history}"
    );
    dispatcher.stop().await;
}
