//! Server-rendered public pages (Vietnamese first, English with `?lang=en`): the home page,
//! the procedure search and page, and the dossier status lookup. No JavaScript, no external
//! fonts or scripts: they must be fast on a cheap phone.

use crate::AppState;
use crate::api::dossiers::PublicStatus;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use minijinja::{Environment, Value, context};
use motcua_domain::codes::DossierCode;
use motcua_domain::procedure::OnlineLevel;
use motcua_store::ProcedureQuery;
use serde::Deserialize;
use std::sync::OnceLock;

/// Page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/thu-tuc", get(procedures))
        .route("/thu-tuc/{code}", get(procedure))
        .route("/tra-cuu", get(lookup))
        .fallback(not_found)
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut e = Environment::new();
        for (name, src) in [
            ("base.html", include_str!("../templates/base.html")),
            ("home.html", include_str!("../templates/home.html")),
            (
                "procedures.html",
                include_str!("../templates/procedures.html"),
            ),
            (
                "procedure.html",
                include_str!("../templates/procedure.html"),
            ),
            ("lookup.html", include_str!("../templates/lookup.html")),
            ("error.html", include_str!("../templates/error.html")),
        ] {
            e.add_template(name, src).expect("templates are valid");
        }
        e
    })
}

/// Interface texts. Vietnamese is the default; every key exists in both languages.
fn texts(lang: &str) -> Value {
    let vi = [
        ("site", "Hệ thống giải quyết thủ tục hành chính"),
        (
            "province",
            "Tỉnh Lâm Đồng · Trung tâm Phục vụ hành chính công",
        ),
        ("welcome", "Chào mừng bạn đến Cổng dịch vụ công"),
        (
            "intro",
            "Tìm thủ tục bạn cần, xem giấy tờ phải chuẩn bị, thời hạn và lệ phí; nộp hồ sơ trực tuyến hoặc tại bộ phận một cửa; tra cứu tình trạng hồ sơ bằng mã trên giấy hẹn.",
        ),
        ("find_title", "Tìm thủ tục hành chính"),
        (
            "find_placeholder",
            "Ví dụ: đăng ký khai sinh (có thể gõ không dấu)",
        ),
        ("find_button", "Tìm"),
        ("lookup_title", "Tra cứu hồ sơ"),
        ("lookup_button", "Tra cứu"),
        ("card_catalogue", "Danh mục thủ tục"),
        ("card_catalogue_note", "thủ tục đang áp dụng"),
        ("card_lookup", "Tra cứu tình trạng hồ sơ"),
        (
            "card_lookup_note",
            "Nhập mã hồ sơ in trên giấy tiếp nhận và hẹn trả kết quả.",
        ),
        ("card_api", "Dữ liệu mở và API"),
        (
            "card_api_note",
            "Tài liệu OpenAPI cho các hệ thống kết nối.",
        ),
        (
            "agencies_note",
            "cơ quan, đơn vị tiếp nhận và giải quyết hồ sơ.",
        ),
        ("col_code", "Mã"),
        ("col_name", "Tên thủ tục"),
        ("col_time", "Thời hạn giải quyết"),
        (
            "no_results",
            "Không tìm thấy thủ tục phù hợp. Hãy thử từ khóa ngắn hơn.",
        ),
        ("fee", "Phí, lệ phí"),
        ("online", "Mức độ trực tuyến"),
        ("decision", "Quyết định công bố"),
        ("documents", "Thành phần hồ sơ"),
        ("steps", "Quy trình xử lý"),
        ("code", "Mã hồ sơ"),
        ("status", "Tình trạng"),
        ("received", "Ngày tiếp nhận"),
        ("due", "Ngày hẹn trả"),
        ("back_home", "Về trang chủ"),
        ("footer", "Phần mềm mã nguồn mở motcua"),
    ];
    let en = [
        ("site", "Administrative Procedures System"),
        (
            "province",
            "Lâm Đồng Province · Public Administrative Service Centre",
        ),
        ("welcome", "Welcome to the public service portal"),
        (
            "intro",
            "Find the procedure you need, the documents to prepare, time limits and fees; submit online or at a one-stop desk; follow your dossier with the code on your receipt.",
        ),
        ("find_title", "Find a procedure"),
        (
            "find_placeholder",
            "e.g. birth registration (diacritics optional)",
        ),
        ("find_button", "Search"),
        ("lookup_title", "Look up a dossier"),
        ("lookup_button", "Look up"),
        ("card_catalogue", "Procedure catalogue"),
        ("card_catalogue_note", "procedures in force"),
        ("card_lookup", "Dossier status"),
        (
            "card_lookup_note",
            "Enter the dossier code printed on your receipt.",
        ),
        ("card_api", "Open data and API"),
        (
            "card_api_note",
            "OpenAPI description for connected systems.",
        ),
        ("agencies_note", "agencies receive and handle dossiers."),
        ("col_code", "Code"),
        ("col_name", "Procedure"),
        ("col_time", "Time limit"),
        ("no_results", "No matching procedure. Try fewer words."),
        ("fee", "Fees"),
        ("online", "Online level"),
        ("decision", "Published by decision"),
        ("documents", "Documents to submit"),
        ("steps", "Processing steps"),
        ("code", "Dossier code"),
        ("status", "Status"),
        ("received", "Received"),
        ("due", "Appointment"),
        ("back_home", "Back to the home page"),
        ("footer", "motcua open-source software"),
    ];
    let pick = if lang == "en" { &en } else { &vi };
    Value::from_iter(pick.iter().map(|(k, v)| (*k, *v)))
}

/// Language and page parameters.
#[derive(Deserialize, Default)]
pub struct PageParams {
    lang: Option<String>,
    q: Option<String>,
    ma: Option<String>,
}

impl PageParams {
    fn lang(&self) -> &'static str {
        if self.lang.as_deref() == Some("en") {
            "en"
        } else {
            "vi"
        }
    }
}

fn render(name: &str, lang: &str, ctx: Value) -> Response {
    let full = context! { lang => lang, t => texts(lang), ..ctx };
    match env().get_template(name).and_then(|t| t.render(full)) {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Lỗi hệ thống / internal error",
            )
                .into_response()
        }
    }
}

fn error_page(status: StatusCode, lang: &str, heading: &str, message: &str) -> Response {
    let mut r = render(
        "error.html",
        lang,
        context! { heading => heading, message => message },
    );
    *r.status_mut() = status;
    r
}

fn local(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| {
        (t + chrono::Duration::hours(7))
            .format("%H:%M %d/%m/%Y")
            .to_string()
    })
    .unwrap_or_else(|| "—".into())
}

async fn home(State(s): State<AppState>, p: Result<Query<PageParams>, QueryRejection>) -> Response {
    let p = p.map(|Query(p)| p).unwrap_or_default();
    let procedures = s.store.count_procedures().await.unwrap_or(0);
    let agencies = s.store.agencies().await.map(|a| a.len()).unwrap_or(0);
    render("home.html", p.lang(), context! { procedures, agencies })
}

async fn procedures(
    State(s): State<AppState>,
    p: Result<Query<PageParams>, QueryRejection>,
) -> Response {
    let p = p.map(|Query(p)| p).unwrap_or_default();
    let lang = p.lang();
    let q = p.q.clone().unwrap_or_default();
    let q_trim: String = q.trim().chars().take(200).collect();
    match s
        .store
        .list_procedures(&ProcedureQuery {
            text: (!q_trim.is_empty()).then_some(q_trim),
            agency: None,
            limit: 50,
            offset: 0,
        })
        .await
    {
        Ok(items) => render("procedures.html", lang, context! { q, items }),
        Err(e) => {
            tracing::error!(error = %e, "procedure search failed");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                lang,
                "Lỗi",
                "Không tìm được lúc này, vui lòng thử lại.",
            )
        }
    }
}

async fn procedure(
    State(s): State<AppState>,
    Path(code): Path<String>,
    p: Result<Query<PageParams>, QueryRejection>,
) -> Response {
    let p = p.map(|Query(p)| p).unwrap_or_default();
    let lang = p.lang();
    let missing = |lang| {
        error_page(
            StatusCode::NOT_FOUND,
            lang,
            "Không tìm thấy thủ tục",
            "Mã thủ tục không đúng hoặc thủ tục chưa được công bố.",
        )
    };
    let Ok(code) = code.parse::<motcua_domain::codes::ProcedureCode>() else {
        return missing(lang);
    };
    match s.store.published_procedure(&code.to_string()).await {
        Ok(Some(rec)) => {
            let v = rec.version;
            let fee = if v.fee_vnd == 0 {
                "Không thu phí / free".to_string()
            } else {
                format!("{} đồng", group_thousands(v.fee_vnd))
            };
            let online = match v.online_level {
                OnlineLevel::Full => "Toàn trình",
                OnlineLevel::Partial => "Một phần",
                OnlineLevel::None => "Không trực tuyến",
            };
            render(
                "procedure.html",
                lang,
                context! { p => Value::from_serialize(&v), time_limit => v.time_limit.label_vi(), fee, online },
            )
        }
        Ok(None) => missing(lang),
        Err(e) => {
            tracing::error!(error = %e, "procedure page failed");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                lang,
                "Lỗi",
                "Vui lòng thử lại sau.",
            )
        }
    }
}

fn group_thousands(n: i64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

async fn lookup(
    State(s): State<AppState>,
    p: Result<Query<PageParams>, QueryRejection>,
) -> Response {
    let p = p.map(|Query(p)| p).unwrap_or_default();
    let lang = p.lang();
    let ma = p.ma.clone().unwrap_or_default();
    if ma.trim().is_empty() {
        return render("lookup.html", lang, context! { ma });
    }
    let error = |msg: &str| {
        render(
            "lookup.html",
            lang,
            context! { ma => ma.clone(), error => msg },
        )
    };
    let Ok(code) = DossierCode::parse_lenient(&ma) else {
        return error("Mã hồ sơ không đúng định dạng, ví dụ: 000.00.01.H40-261123-0001.");
    };
    match s.store.public_status(&code).await {
        Ok(Some(row)) => {
            let found = PublicStatus::from(row);
            let received = local(found.received_at);
            let due = local(found.due_at);
            render(
                "lookup.html",
                lang,
                context! { ma => ma.clone(), found => Value::from_serialize(&found), received, due },
            )
        }
        Ok(None) => error("Không tìm thấy hồ sơ với mã này."),
        Err(e) => {
            tracing::error!(error = %e, "lookup failed");
            error("Hệ thống đang bận, vui lòng thử lại sau.")
        }
    }
}

/// Friendly 404 page for people.
pub async fn not_found(p: Result<Query<PageParams>, QueryRejection>) -> Response {
    let p = p.map(|Query(p)| p).unwrap_or_default();
    error_page(
        StatusCode::NOT_FOUND,
        p.lang(),
        "Không tìm thấy trang",
        "Trang bạn tìm không tồn tại. Hãy quay về trang chủ để tìm thủ tục hoặc tra cứu hồ sơ.",
    )
}
