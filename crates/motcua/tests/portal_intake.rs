//! Intake from the national portal, from outside: the real server (HTTP API, SQLite file or
//! `MOTCUA_TEST_SERVER_DB`), the sandbox portal with dossiers filed on it and failures injected,
//! intake's `pull_once` as the poller and `motcua dvcqg pull` run it, the dispatcher with the
//! portal and EMC targets as `motcua serve` starts it. Dossiers arrive once, with their files,
//! in the desk's inbox; lost acknowledgements, outages, malformed and duplicated lists do no
//! harm; dossiers we cannot take are refused visibly; the sync back is an update; EMC hears of
//! each event once and reconciles.

mod common;

use common::browser::Browser;
use motcua::integrations::IntegrationSettings;
use motcua_integrations::TargetSettings;
use motcua_integrations::dispatcher::DispatcherSettings;
use motcua_integrations::dvcqg::DvcqgSettings;
use motcua_integrations::policy::RetryPolicy;
use motcua_integrations::reconcile::{RemoteCounts, local_day, reconcile};
use motcua_integrations::sandbox::emc::EmcSandbox;
use motcua_integrations::sandbox::inbound::pdf_with;
use motcua_integrations::sandbox::{InboundFaults, SandboxHandle};
use motcua_store::Store;
use motcua_web::intake::{IntakeSettings, Portal, PullReport, pull_once};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const PASSWORD: &str = "motcua@2026";
const DESK: &str = "motcua.tinh";

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct World {
    base: String,
    http: reqwest::Client,
    tokens: HashMap<&'static str, String>,
    store: Store,
    state: motcua_web::AppState,
    portal: SandboxHandle,
    emc: EmcSandbox,
    intake: IntakeSettings,
    client: Portal,
    procedure: String,
    centre: String,
    /// The dispatcher, on its own runtime: stopped when the world goes.
    _dispatcher: motcua_integrations::dispatcher::DispatcherHandle,
    _dir: TempDir,
}

fn delivery() -> TargetSettings {
    TargetSettings {
        concurrency: 8,
        timeout_ms: 2_000,
        retry: RetryPolicy {
            base_ms: 50,
            max_ms: 400,
            max_attempts: 10_000,
        },
        breaker_threshold: 5,
        breaker_cooldown_ms: 200,
        rate_per_sec: 0,
    }
}

impl World {
    async fn start() -> World {
        let dir =
            std::env::temp_dir().join(format!("motcua-intake-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = std::env::var("MOTCUA_TEST_SERVER_DB")
            .unwrap_or_else(|_| format!("sqlite://{}/motcua.db", dir.display()));
        let store = Store::open(&url).await.expect("open store");
        motcua::seed::seed(&store, &motcua_web::auth::hash_password)
            .await
            .expect("seed");
        let portal = SandboxHandle::start("127.0.0.1:0".parse().unwrap(), DvcqgSettings::default())
            .await
            .unwrap();
        let emc = EmcSandbox::start("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let mut settings = motcua::config::Settings {
            integrations: IntegrationSettings {
                dispatcher: DispatcherSettings {
                    poll_ms: 20,
                    lease_secs: 30,
                    depth_every_secs: 1,
                    ..DispatcherSettings::default()
                },
                dvcqg: portal.adapter_settings(),
                dvcqg_delivery: delivery(),
                dvcqg_intake: IntakeSettings {
                    enabled: true,
                    request_timeout_ms: 2_000,
                    file_attempts: 2,
                    ..IntakeSettings::default()
                },
                emc: emc.client_settings("lamdong-test"),
                emc_delivery: delivery(),
                ..IntegrationSettings::default()
            },
            ..Default::default()
        };
        settings.integrations.dispatcher.node = "intake-test".into();
        let _ = motcua_web::prometheus_handle();
        let dispatcher = motcua::integrations::start(&store, &settings)
            .unwrap()
            .expect("targets configured");
        let intake = settings.integrations.intake();
        let client = Portal::new(intake.clone()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = motcua_web::AppState::new(store.clone());
        let served = state.clone();
        tokio::spawn(async move { motcua_web::serve(listener, served).await.unwrap() });
        let mut w = World {
            base,
            http: reqwest::Client::new(),
            tokens: HashMap::new(),
            store,
            state,
            portal,
            emc,
            intake,
            client,
            procedure: String::new(),
            centre: String::new(),
            _dispatcher: dispatcher,
            _dir: TempDir(dir),
        };
        for u in [DESK, "lanhdao.stp", "chuyenvien.stp", "quantri", "congdan"] {
            let (st, v) = w
                .send(
                    None,
                    "POST",
                    "/api/v1/auth/token",
                    Some(json!({"username": u, "password": PASSWORD})),
                )
                .await;
            assert_eq!(st, StatusCode::OK, "{u}: {v}");
            w.tokens.insert(u, v["token"].as_str().unwrap().to_string());
        }
        let (code, centre) = w.local_procedure().await;
        w.procedure = code;
        w.centre = centre;
        w
    }

    async fn send(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut rb = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let res = rb.send().await.unwrap();
        let st = res.status();
        let text = res.text().await.unwrap();
        (
            st,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn as_user(
        &self,
        user: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.send(Some(&self.tokens[user]), method, path, body)
            .await
    }

    /// A procedure received at the province centre whose steps all stay local.
    async fn local_procedure(&self) -> (String, String) {
        let (_, me) = self.as_user(DESK, "GET", "/api/v1/me", None).await;
        let centre = me["agency"].as_str().unwrap().to_string();
        let (_, me) = self.as_user("lanhdao.stp", "GET", "/api/v1/me", None).await;
        let stp = me["agency"].as_str().unwrap().to_string();
        let (_, page) = self
            .send(
                None,
                "GET",
                &format!("/api/v1/procedures?agency={centre}&limit=200"),
                None,
            )
            .await;
        for it in page["items"].as_array().unwrap() {
            let code = it["code"].as_str().unwrap();
            let (_, d) = self
                .send(None, "GET", &format!("/api/v1/procedures/{code}"), None)
                .await;
            let local = d["procedure"]["workflow"]["steps"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["agency"]["type"] != "agency");
            if local && d["procedure"]["competent_agency"] == stp.as_str() {
                return (code.to_string(), centre);
            }
        }
        panic!("no suitable procedure");
    }

    /// Files a dossier on the sandbox portal, with one PDF; returns its `HoSoId`.
    fn file(&self, name: &str, procedure: &str) -> String {
        self.portal.file_inbound(
            json!({
                "MaTTHC": procedure, "MaDonViTiepNhan": self.centre, "ChuHoSo": name,
                "SoGiayToChuHoSo": "068190004321", "LoaiDoiTuong": 1,
                "SoDienThoai": "0912345678", "Email": "binh@example.vn",
                "DiaChiChiTiet": "12 Lê Lợi, Đà Lạt", "DuLieuBieuMau": {"ghi_chu": "Nộp trực tuyến"},
            }),
            vec![(
                "Đơn đề nghị".into(),
                "don-de-nghi.pdf".into(),
                pdf_with(&format!("Don cua {name}")),
            )],
        )
    }

    fn code_of(&self, id: &str) -> String {
        self.portal.inbound(id).unwrap().payload["MaHoSo"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn pull(&self) -> PullReport {
        pull_once(&self.state, &self.client, &self.intake).await
    }

    /// The desk's online inbox, every page (the database may be shared with other tests).
    async fn inbox(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor = String::new();
        loop {
            let (st, v) = self
                .as_user(
                    DESK,
                    "GET",
                    &format!("/api/v1/inbox?channel=online&limit=200{cursor}"),
                    None,
                )
                .await;
            assert_eq!(st, StatusCode::OK, "{v}");
            out.extend(v["items"].as_array().unwrap().iter().cloned());
            match v["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => return out,
            }
        }
    }

    /// Our dossiers filed on the portal under `code` (read in full).
    async fn ours(&self, code: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for it in self.inbox().await {
            let id = it["id"].as_str().unwrap();
            let (st, d) = self
                .as_user(DESK, "GET", &format!("/api/v1/dossiers/{id}"), None)
                .await;
            assert_eq!(st, StatusCode::OK, "{d}");
            if d["dossier"]["origin"]["code"] == code {
                out.push(d["dossier"].clone());
            }
        }
        out
    }

    async fn until(&self, what: &str, mut f: impl FnMut() -> bool) {
        let t = Instant::now();
        while !f() {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "waited too long for {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_dossiers_arrive_once_with_files_sync_back_as_updates_and_reach_emc() {
    let w = World::start().await;
    let a = w.file("Trần Thị Bình", &w.procedure);
    let b = w.file("Lê Văn Cường", &w.procedure);
    let r = w.pull().await;
    assert_eq!((r.listed, r.taken, r.rejected), (2, 2, 0), "{r:?}");
    assert!(r.errors.is_empty(), "{r:?}");
    for id in [&a, &b] {
        let f = w.portal.inbound(id).unwrap();
        assert!(f.accepted, "acknowledged as taken: {f:?}");
        assert_eq!(f.acks.len(), 1);
    }
    // Nothing left to take: the next poll lists nothing.
    let r = w.pull().await;
    assert_eq!((r.listed, r.taken), (0, 0), "{r:?}");

    let code = w.code_of(&a);
    let mine = w.ours(&code).await;
    assert_eq!(mine.len(), 1, "exactly one dossier for {code}");
    let d = &mine[0];
    assert_eq!(d["channel"], "online");
    assert_eq!(d["status"], "awaiting_reception");
    assert_eq!(d["applicant"]["name"], "Trần Thị Bình");
    assert_eq!(d["applicant"]["personal_id"], "068190004321");
    assert_eq!(d["origin"]["system"], "dvcqg");
    assert!(d["owner"].is_null());
    let id = d["id"].as_str().unwrap().to_string();
    assert_eq!(
        w.portal.inbound(&a).unwrap().acks[0]["MaHoSoDiaPhuong"],
        id.as_str()
    );
    // Its file, fetched, sniffed and linked as a component.
    let (st, files) = w
        .as_user(DESK, "GET", &format!("/api/v1/dossiers/{id}/files"), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{files}");
    let items = files["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{files}");
    assert_eq!(items[0]["mime"], "application/pdf");
    assert_eq!(items[0]["kind"], "component");
    assert_eq!(items[0]["slot"], "Đơn đề nghị");
    // The staff page shows where it came from; nobody signed in sees nothing.
    let desk = Browser::sign_in_at(&w.base, DESK, PASSWORD).await;
    let (st, html) = desk.get(&format!("/can-bo/ho-so/{id}")).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains(&code), "the portal's code is shown");
    let page = w
        .http
        .get(format!("{}/api/v1/dossiers/{id}", w.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        StatusCode::UNAUTHORIZED,
        "not without signing in"
    );
    // Another citizen does not see it.
    let (st, _) = w
        .as_user("congdan", "GET", &format!("/api/v1/dossiers/{id}"), None)
        .await;
    assert!(
        st == StatusCode::NOT_FOUND || st == StatusCode::FORBIDDEN,
        "{st}"
    );

    // The desk receives it: the sync goes back to the portal as an update of ITS dossier.
    let (st, v) = w
        .as_user(
            DESK,
            "POST",
            &format!("/api/v1/dossiers/{id}/actions/receive"),
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let ours = v["dossier"]["code"].as_str().unwrap().to_string();
    w.until("the portal's copy updated", || {
        w.portal
            .dossier(&code)
            .is_some_and(|d| d.payload["TrangThaiHoSo"] == 2 && !d.steps.is_empty())
    })
    .await;
    let on_portal = w.portal.dossier(&code).unwrap();
    assert_eq!(on_portal.payload["MaHoSoKhac"], ours.as_str());
    assert_eq!(w.portal.summary().recreated, 0, "never created again");
    assert!(w.portal.dossier(&ours).is_none(), "not under our code");

    // EMC: reception (1), then assignment (4), each once.
    w.until("EMC reception", || w.emc.state().calls.len() == 1)
        .await;
    let call = &w.emc.state().calls[0];
    assert_eq!(call["Status"], 1);
    assert_eq!(call["CodeProfile"], ours.as_str());
    assert_eq!(call["SiteId"], "lamdong-test");
    assert_eq!(call["IsFromDVCQG"], 1);
    assert_eq!(call["FormsReception"], 1);
    let (_, sp) = w.as_user("chuyenvien.stp", "GET", "/api/v1/me", None).await;
    let (st, v) = w
        .as_user(
            "lanhdao.stp",
            "POST",
            &format!("/api/v1/dossiers/{id}/actions/assign"),
            Some(json!({"user_id": sp["user_id"], "name": sp["name"]})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    w.until("EMC assignment", || w.emc.state().calls.len() == 2)
        .await;
    assert_eq!(w.emc.state().calls[1]["Status"], 4);
    assert_eq!(w.emc.state().duplicates, 0);
    // Reconciled: every EMC message written is delivered and accepted once. Only on this
    // test's own database: a shared one holds other runs' messages and figures.
    if std::env::var("MOTCUA_TEST_SERVER_DB").is_ok() {
        return;
    }
    let today = local_day(chrono::Utc::now());
    let remote =
        RemoteCounts::new(&w.portal.adapter_settings()).with_emc(&w.emc.client_settings("x"));
    let t = Instant::now();
    loop {
        let lines = reconcile(&w.store, &remote, today, today).await.unwrap();
        let emc = lines
            .iter()
            .find(|l| l.ours.topic == "emc.tracking")
            .expect("an EMC line");
        if emc.unexplained == 0 && emc.ours.created_pending == 0 {
            assert_eq!(emc.remote_accepted, Some(emc.ours.acked));
            assert_eq!(emc.ours.acked as usize, w.emc.state().calls.len());
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "EMC not reconciled: {emc:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(w.emc.state().duplicates, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_acks_outages_malformed_and_duplicated_lists_never_make_a_second_dossier() {
    let w = World::start().await;
    // The acknowledgement is lost: the dossier is taken, the portal lists it again.
    w.portal.set_inbound_faults(InboundFaults {
        ack_fail_percent: 100,
        ..Default::default()
    });
    let a = w.file("Phạm Thị Dung", &w.procedure);
    let r = w.pull().await;
    assert_eq!((r.taken, r.ack_failed), (1, 1), "{r:?}");
    assert!(!w.portal.inbound(&a).unwrap().accepted);
    let r = w.pull().await;
    assert_eq!((r.taken, r.again, r.ack_failed), (0, 1, 1), "{r:?}");
    // The portal recovers, lists it twice in one answer: acknowledged, still one dossier.
    w.portal.set_inbound_faults(InboundFaults {
        duplicates: true,
        ..Default::default()
    });
    let r = w.pull().await;
    assert_eq!(
        (r.listed, r.taken, r.again, r.ack_failed),
        (2, 0, 1, 0),
        "{r:?}"
    );
    assert!(w.portal.inbound(&a).unwrap().accepted);
    assert_eq!(w.ours(&w.code_of(&a)).await.len(), 1);

    // Down for a while: nothing happens, nothing is lost; taken when it is back.
    let b = w.file("Hoàng Văn Em", &w.procedure);
    w.portal.set_down(true).await.unwrap();
    let r = w.pull().await;
    assert_eq!((r.listed, r.taken, r.errors.len()), (0, 0, 1), "{r:?}");
    w.portal.set_down(false).await.unwrap();
    // A malformed list: no harm either.
    w.portal.set_inbound_faults(InboundFaults {
        malformed_list_percent: 100,
        ..Default::default()
    });
    let r = w.pull().await;
    assert_eq!((r.taken, r.errors.len()), (0, 1), "{r:?}");
    assert!(r.errors[0].contains("malformed"), "{r:?}");
    // Duplicates listed on a fresh dossier: taken once.
    w.portal.set_inbound_faults(InboundFaults {
        duplicates: true,
        ..Default::default()
    });
    let r = w.pull().await;
    assert_eq!((r.listed, r.taken), (2, 1), "{r:?}");
    assert_eq!(w.ours(&w.code_of(&b)).await.len(), 1);
    assert!(w.portal.inbound(&b).unwrap().accepted);

    // The poller `motcua serve` runs takes a new dossier by itself.
    w.portal.set_inbound_faults(InboundFaults::default());
    let poller = motcua_web::intake::spawn_poller(
        w.state.clone(),
        IntakeSettings {
            poll_secs: 1,
            ..w.intake.clone()
        },
    )
    .unwrap();
    // Filed through the sandbox portal's own page, as in a demo.
    let portal = format!("http://{}", w.portal.addr());
    let page = w
        .http
        .get(format!("{portal}/_sandbox/nop-ho-so"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("name=\"ma_tthc\""), "{page}");
    let done = w
        .http
        .post(format!("{portal}/_sandbox/nop-ho-so"))
        .form(&[
            ("ma_tthc", w.procedure.as_str()),
            ("ma_don_vi", w.centre.as_str()),
            ("chu_ho_so", "Đinh Thị Hoa"),
            ("so_giay_to", "068190004321"),
            ("so_dien_thoai", "0912345678"),
            ("email", ""),
            ("dia_chi", "Bảo Lộc"),
            ("kem_tep", "1"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let c = done
        .split("HoSoId ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap_or_else(|| panic!("{done}"))
        .to_string();
    w.until("the poller took it", || {
        w.portal.inbound(&c).is_some_and(|f| f.accepted)
    })
    .await;
    poller.abort();
    let mine = w.ours(&w.code_of(&c)).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["applicant"]["name"], "Đinh Thị Hoa");
    assert_eq!(mine[0]["documents"][0]["name"], "Đơn đề nghị");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dossiers_we_cannot_take_are_refused_visibly_and_nothing_is_stored() {
    let w = World::start().await;
    // An unknown procedure.
    let unknown = w.file("Vũ Thị Giang", "9.999999");
    // Bad data: no applicant name.
    let bad = w.portal.file_inbound(
        json!({"MaTTHC": w.procedure, "MaDonViTiepNhan": w.centre, "LoaiDoiTuong": 1}),
        vec![],
    );
    // An agency that does not receive the procedure.
    let elsewhere = w.portal.file_inbound(
        json!({"MaTTHC": w.procedure, "MaDonViTiepNhan": "000.00.99.H40", "ChuHoSo": "Đỗ Văn Hải"}),
        vec![],
    );
    // A file that is not a PDF, JPEG or PNG.
    let exe = w.portal.file_inbound(
        json!({"MaTTHC": w.procedure, "MaDonViTiepNhan": w.centre, "ChuHoSo": "Ngô Thị Yến"}),
        vec![(
            "Đơn".into(),
            "don.exe".into(),
            bytes::Bytes::from_static(b"MZ\x90\x00 not a document"),
        )],
    );
    let r = w.pull().await;
    assert_eq!((r.taken, r.rejected), (0, 4), "{r:?}");
    for id in [&unknown, &bad, &elsewhere, &exe] {
        let f = w.portal.inbound(id).unwrap();
        assert!(f.refused && !f.accepted, "{f:?}");
        assert_eq!(f.acks[0]["DaTiepNhan"], false);
        assert!(!f.acks[0]["LyDo"].as_str().unwrap().is_empty());
    }
    let row = w.store.inbound("dvcqg", &unknown).await.unwrap().unwrap();
    assert!(row.reason.contains("9.999999"), "{row:?}");
    assert!(
        w.store
            .inbound("dvcqg", &bad)
            .await
            .unwrap()
            .unwrap()
            .reason
            .contains("ChuHoSo")
    );

    // A file that cannot be fetched: tried again on the next poll, then refused (2 attempts).
    w.portal.set_inbound_faults(InboundFaults {
        file_fail_percent: 100,
        ..Default::default()
    });
    let flaky = w.file("Lý Văn Khoa", &w.procedure);
    let r = w.pull().await;
    assert_eq!((r.taken, r.failing), (0, 1), "{r:?}");
    assert!(
        !w.portal.inbound(&flaky).unwrap().refused,
        "not refused yet"
    );
    let r = w.pull().await;
    assert_eq!((r.taken, r.rejected), (0, 1), "{r:?}");
    assert!(w.portal.inbound(&flaky).unwrap().refused);
    // Nothing stored half-way: no dossier for any of them.
    let inbox = w.inbox().await;
    for id in [&unknown, &bad, &elsewhere, &exe, &flaky] {
        let code = w.code_of(id);
        assert!(
            inbox
                .iter()
                .all(|d| d["applicant_name"] != w.portal.inbound(id).unwrap().payload["ChuHoSo"]),
            "{code} was stored"
        );
    }

    // The operator sees them on /quan-tri/gui-di (and the desk's staff shows its own origin).
    let admin = Browser::sign_in_at(&w.base, "quantri", PASSWORD).await;
    let (st, html) = admin.get("/quan-tri/gui-di").await;
    assert_eq!(st, StatusCode::OK);
    let desk = Browser::sign_in_at(&w.base, DESK, PASSWORD).await;
    let (st, _) = desk.get("/quan-tri/gui-di").await;
    assert_ne!(st, StatusCode::OK, "administrators only");
    assert!(html.contains("Hồ sơ nhận về chưa tiếp nhận được"), "{html}");
    assert!(html.contains(&w.code_of(&unknown)), "{html}");
    assert!(html.contains("9.999999"));
    assert!(html.contains("Từ chối"));
}
