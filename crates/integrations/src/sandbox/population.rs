//! A local population-database lookup speaking the protocol of `motcua_web::population`
//! (JSON request with `SoDinhDanh`, SOAP-style XML answer `Envelope/Body/CongdanCollection`),
//! with a few synthetic citizens (Lâm Đồng addresses, invented numbers) and failure injection:
//! down (503), slow answers, a percentage of HTTP 500, a percentage of malformed answers. A
//! wrong bearer token answers 401. Control and inspection under `/_sandbox/`: `GET requests`
//! (how many lookups, and the last request body), `POST faults` (a [`PopulationFaults`] JSON).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Path of the lookup endpoint.
pub const PATH: &str = "/csdldancu/tra-cuu";

/// Failures to inject.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PopulationFaults {
    /// Answer 503 to every request.
    pub down: bool,
    /// Answer this many milliseconds late.
    pub slow_ms: u64,
    /// Percentage of requests answered with HTTP 500.
    pub fail_5xx_percent: u8,
    /// Percentage of requests answered with a document that is not the protocol's.
    pub malformed_percent: u8,
}

/// One synthetic citizen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleCitizen {
    /// Personal ID.
    pub so_dinh_danh: String,
    /// Family name, middle names, given name.
    pub ho: String,
    /// Middle names.
    pub chu_dem: String,
    /// Given name.
    pub ten: String,
    /// 1 male, 2 female.
    pub gioi_tinh: u8,
    /// yyyyMMdd.
    pub ngay_sinh: String,
    /// Current residence: street and number.
    pub chi_tiet: String,
    /// Commune code and name.
    pub ma_phuong_xa: String,
    /// Commune name.
    pub ten_phuong_xa: String,
}

/// The sandbox's citizens (invented numbers; real Lâm Đồng communes).
pub fn samples() -> Vec<SampleCitizen> {
    let c =
        |id: &str, ho: &str, dem: &str, ten: &str, g: u8, d: &str, ct: &str, ma: &str, px: &str| {
            SampleCitizen {
                so_dinh_danh: id.into(),
                ho: ho.into(),
                chu_dem: dem.into(),
                ten: ten.into(),
                gioi_tinh: g,
                ngay_sinh: d.into(),
                chi_tiet: ct.into(),
                ma_phuong_xa: ma.into(),
                ten_phuong_xa: px.into(),
            }
        };
    vec![
        c(
            "068190004321",
            "Nguyễn",
            "Thị",
            "Lan",
            2,
            "19900512",
            "12 Trần Phú",
            "24781",
            "Phường Xuân Hương - Đà Lạt",
        ),
        c(
            "068085001234",
            "Trần",
            "Văn",
            "Bình",
            1,
            "19850303",
            "45 Phan Đình Phùng",
            "24781",
            "Phường Xuân Hương - Đà Lạt",
        ),
        c(
            "068201009876",
            "K'",
            "",
            "Điểu",
            2,
            "20011120",
            "Thôn 2",
            "24820",
            "Xã Lạc Dương",
        ),
    ]
}

fn xml_escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// The protocol's answer for `found` (an empty collection for nobody).
pub fn answer(found: Option<&SampleCitizen>) -> String {
    let mut body = String::new();
    if let Some(c) = found {
        body = format!(
            "<CongDan><SoDinhDanh>{}</SoDinhDanh><SoCMND/><HoVaTen><Ho>{}</Ho><ChuDem>{}</ChuDem><Ten>{}</Ten></HoVaTen>\
             <GioiTinh>{}</GioiTinh><NgayThangNamSinh><NgayThangNam>{}</NgayThangNam><Nam>{}</Nam></NgayThangNamSinh>\
             <QuocTich>VN</QuocTich><NoiOHienTai><MaTinhThanh>68</MaTinhThanh><TenTinhThanh>Lâm Đồng</TenTinhThanh>\
             <MaPhuongXa>{}</MaPhuongXa><TenPhuongXa>{}</TenPhuongXa><ChiTiet>{}</ChiTiet><QuocGia>VN</QuocGia></NoiOHienTai>\
             </CongDan>",
            xml_escape(&c.so_dinh_danh),
            xml_escape(&c.ho),
            xml_escape(&c.chu_dem),
            xml_escape(&c.ten),
            c.gioi_tinh,
            xml_escape(&c.ngay_sinh),
            c.ngay_sinh.get(..4).unwrap_or_default(),
            xml_escape(&c.ma_phuong_xa),
            xml_escape(&c.ten_phuong_xa),
            xml_escape(&c.chi_tiet),
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
         <soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>\
         <CongdanCollection>{body}</CongdanCollection></soap:Body></soap:Envelope>"
    )
}

/// What the sandbox saw.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PopulationState {
    /// Lookups answered (failures included).
    pub requests: u64,
    /// Requests refused by injected failures.
    pub injected: u64,
    /// The last request's JSON body.
    pub last: serde_json::Value,
}

struct Shared {
    token: String,
    people: Vec<SampleCitizen>,
    state: Mutex<PopulationState>,
    faults: Mutex<PopulationFaults>,
}

/// A running sandbox lookup.
pub struct PopulationSandbox {
    server: super::Served,
    shared: Arc<Shared>,
}

fn roll(percent: u8) -> bool {
    percent > 0 && rand::random::<u8>() % 100 < percent.min(100)
}

async fn lookup(State(s): State<Arc<Shared>>, h: HeaderMap, body: axum::body::Bytes) -> Response {
    let f = s.faults.lock().map(|f| f.clone()).unwrap_or_default();
    if f.slow_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(f.slow_ms)).await;
    }
    let Ok(mut st) = s.state.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    st.requests += 1;
    if f.down {
        st.injected += 1;
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    if roll(f.fail_5xx_percent) {
        st.injected += 1;
        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
    }
    let auth = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if auth != format!("Bearer {}", s.token) {
        return (StatusCode::UNAUTHORIZED, "wrong token").into_response();
    }
    let Ok(req) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "expected JSON").into_response();
    };
    st.last = req.clone();
    if roll(f.malformed_percent) {
        st.injected += 1;
        return (
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>502 Bad Gateway</body></html>",
        )
            .into_response();
    }
    let id = req["SoDinhDanh"].as_str().unwrap_or_default();
    let found = s.people.iter().find(|c| c.so_dinh_danh == id);
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        answer(found),
    )
        .into_response()
}

async fn requests(State(s): State<Arc<Shared>>) -> Json<PopulationState> {
    Json(s.state.lock().map(|g| g.clone()).unwrap_or_default())
}

async fn set_faults(
    State(s): State<Arc<Shared>>,
    Json(f): Json<PopulationFaults>,
) -> Json<PopulationFaults> {
    if let Ok(mut cur) = s.faults.lock() {
        *cur = f.clone();
    }
    Json(f)
}

impl PopulationSandbox {
    /// Starts a lookup on `addr` (port 0: any free port) accepting `token`, knowing
    /// [`samples`].
    pub async fn start(addr: SocketAddr, token: &str) -> std::io::Result<PopulationSandbox> {
        let shared = Arc::new(Shared {
            token: token.to_string(),
            people: samples(),
            state: Mutex::new(PopulationState::default()),
            faults: Mutex::new(PopulationFaults::default()),
        });
        let app = Router::new()
            .route(PATH, post(lookup))
            .route("/_sandbox/requests", get(requests))
            .route("/_sandbox/faults", post(set_faults))
            .with_state(shared.clone());
        let server = super::Served::start(addr, app).await?;
        Ok(PopulationSandbox { server, shared })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The lookup URL.
    pub fn url(&self) -> String {
        format!("http://{}{PATH}", self.server.addr())
    }

    /// The token it accepts.
    pub fn token(&self) -> String {
        self.shared.token.clone()
    }

    /// Sets the failures to inject.
    pub fn set_faults(&self, f: PopulationFaults) {
        if let Ok(mut cur) = self.shared.faults.lock() {
            *cur = f;
        }
    }

    /// What it saw so far.
    pub fn state(&self) -> PopulationState {
        self.shared
            .state
            .lock()
            .map(|g| g.clone())
            .unwrap_or_default()
    }

    /// Runs until the server stops.
    pub async fn wait(&mut self) {
        self.server.wait().await;
    }
}
