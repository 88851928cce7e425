//! Server-rendered public pages (Vietnamese first, English with `?lang=en`): the home page,
//! the procedure search and page, and the dossier status lookup. No JavaScript, no external
//! fonts or scripts: they must be fast on a cheap phone.

use crate::AppState;
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
use motcua_domain::text::fold;
use serde::Deserialize;
use std::sync::OnceLock;

/// Page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/thu-tuc", get(procedures))
        .route("/thu-tuc/goi-y", get(suggest))
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
            ("suggest.html", include_str!("../templates/suggest.html")),
            ("error.html", include_str!("../templates/error.html")),
            ("login.html", include_str!("../templates/login.html")),
            ("signup.html", include_str!("../templates/signup.html")),
            ("reset.html", include_str!("../templates/reset.html")),
            ("inbox.html", include_str!("../templates/inbox.html")),
            (
                "staff_dossier.html",
                include_str!("../templates/staff_dossier.html"),
            ),
            ("audit.html", include_str!("../templates/audit.html")),
            ("postal.html", include_str!("../templates/postal.html")),
            ("mine.html", include_str!("../templates/mine.html")),
            (
                "feedback_mine.html",
                include_str!("../templates/feedback_mine.html"),
            ),
            (
                "feedback_staff.html",
                include_str!("../templates/feedback_staff.html"),
            ),
            (
                "feedback_public.html",
                include_str!("../templates/feedback_public.html"),
            ),
            (
                "citizen_dossier.html",
                include_str!("../templates/citizen_dossier.html"),
            ),
            (
                "queue_figures.html",
                include_str!("../templates/queue_figures.html"),
            ),
            ("form.html", include_str!("../templates/form.html")),
            (
                "admin_users.html",
                include_str!("../templates/admin_users.html"),
            ),
            (
                "admin_user.html",
                include_str!("../templates/admin_user.html"),
            ),
            (
                "admin_agencies.html",
                include_str!("../templates/admin_agencies.html"),
            ),
            (
                "admin_nav.html",
                include_str!("../templates/admin_nav.html"),
            ),
            (
                "admin_procedures.html",
                include_str!("../templates/admin_procedures.html"),
            ),
            (
                "admin_procedure.html",
                include_str!("../templates/admin_procedure.html"),
            ),
            (
                "admin_draft.html",
                include_str!("../templates/admin_draft.html"),
            ),
            (
                "admin_diff.html",
                include_str!("../templates/admin_diff.html"),
            ),
            (
                "admin_outbox.html",
                include_str!("../templates/admin_outbox.html"),
            ),
            (
                "choose_role.html",
                include_str!("../templates/choose_role.html"),
            ),
            (
                "bulk_result.html",
                include_str!("../templates/bulk_result.html"),
            ),
            (
                "reception.html",
                include_str!("../templates/reception.html"),
            ),
            (
                "reception_done.html",
                include_str!("../templates/reception_done.html"),
            ),
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
        (
            "lookup_verify",
            "Số điện thoại hoặc số định danh cá nhân của người nộp",
        ),
        (
            "lookup_intro",
            "Nhập mã hồ sơ (in trên giấy tiếp nhận) và số điện thoại hoặc số định danh cá nhân đã khai khi nộp.",
        ),
        ("lookup_applicant", "Người nộp"),
        ("lookup_history", "Quá trình giải quyết"),
        ("card_catalogue", "Danh mục thủ tục"),
        ("card_catalogue_note", "thủ tục đang áp dụng"),
        ("card_lookup", "Tra cứu tình trạng hồ sơ"),
        (
            "card_lookup_note",
            "Nhập mã hồ sơ in trên giấy tiếp nhận và hẹn trả kết quả, cùng số điện thoại hoặc số định danh cá nhân của người nộp.",
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
        ("browse", "Duyệt theo lĩnh vực, cấp, cơ quan"),
        ("any", "Tất cả"),
        ("field", "Lĩnh vực"),
        ("level", "Cấp thực hiện"),
        ("applicant", "Đối tượng thực hiện"),
        ("agency", "Cơ quan tiếp nhận"),
        ("results", "thủ tục"),
        ("next_page", "Trang sau"),
        ("version", "phiên bản"),
        ("effective", "hiệu lực từ"),
        ("channels", "Cách thức thực hiện"),
        ("channel", "Hình thức nộp"),
        ("where", "Nơi tiếp nhận hồ sơ"),
        ("more_agencies", "cơ quan khác"),
        ("not_stated", "Không có thông tin"),
        ("form", "Mẫu đơn, tờ khai"),
        ("fill_form", "Điền tờ khai trực tuyến"),
        ("blank_form", "Tải mẫu tờ khai (PDF)"),
        ("how", "Trình tự thực hiện"),
        ("results_h", "Kết quả giải quyết"),
        ("legal", "Căn cứ pháp lý"),
        ("conditions", "Yêu cầu, điều kiện"),
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
        (
            "lookup_verify",
            "The applicant's phone number or personal ID",
        ),
        (
            "lookup_intro",
            "Enter the dossier code (printed on the receipt) and the phone number or personal ID given when submitting.",
        ),
        ("lookup_applicant", "Applicant"),
        ("lookup_history", "History"),
        ("card_catalogue", "Procedure catalogue"),
        ("card_catalogue_note", "procedures in force"),
        ("card_lookup", "Dossier status"),
        (
            "card_lookup_note",
            "Enter the dossier code printed on your receipt and the applicant's phone number or personal ID.",
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
        ("browse", "Browse by field, level, agency"),
        ("any", "All"),
        ("field", "Field"),
        ("level", "Level"),
        ("applicant", "Who may apply"),
        ("agency", "Receiving agency"),
        ("results", "procedures"),
        ("next_page", "Next page"),
        ("version", "version"),
        ("effective", "in force from"),
        ("channels", "How to submit"),
        ("channel", "Channel"),
        ("where", "Where to submit"),
        ("more_agencies", "more agencies"),
        ("not_stated", "Not stated"),
        ("form", "Form"),
        ("fill_form", "Fill in the form online"),
        ("blank_form", "Download the blank form (PDF)"),
        ("how", "Steps for the applicant"),
        ("results_h", "Result"),
        ("legal", "Legal basis"),
        ("conditions", "Requirements"),
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
    /// Phone number or personal ID proving the lookup is the applicant's.
    xac_minh: Option<String>,
    linh_vuc: Option<String>,
    cap: Option<String>,
    truc_tuyen: Option<String>,
    doi_tuong: Option<String>,
    co_quan: Option<String>,
    sau: Option<String>,
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

/// Renders a page template with the layout's texts (the e-form page uses it too).
pub(crate) fn render_page(name: &str, lang: &str, ctx: Value) -> Response {
    render(name, lang, ctx)
}

pub(crate) fn render(name: &str, lang: &str, ctx: Value) -> Response {
    let full = context! { lang => lang, t => texts(lang), ..ctx };
    match env().get_template(name).and_then(|t| t.render(full)) {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = ?e, template = name, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Lỗi hệ thống / internal error",
            )
                .into_response()
        }
    }
}

pub(crate) fn error_page(status: StatusCode, lang: &str, heading: &str, message: &str) -> Response {
    let mut r = render(
        "error.html",
        lang,
        context! { heading => heading, message => message },
    );
    *r.status_mut() = status;
    r
}

/// Local (Asia/Ho_Chi_Minh) time as `HH:MM dd/mm/yyyy`, or `—`.
pub(crate) fn local(t: Option<DateTime<Utc>>) -> String {
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

/// Results per page of the catalogue pages.
const PAGE: usize = 50;

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(|x| x.trim().chars().take(200).collect::<String>())
        .filter(|x| !x.is_empty())
}

async fn procedures(
    State(s): State<AppState>,
    p: Result<Query<PageParams>, QueryRejection>,
) -> Response {
    let p = p.map(|Query(p)| p).unwrap_or_default();
    let lang = p.lang();
    let q = nonempty(&p.q).unwrap_or_default();
    let cat = match s.catalogue().await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "catalogue unavailable");
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                lang,
                "Lỗi",
                "Không tìm được lúc này, vui lòng thử lại.",
            );
        }
    };
    // Typing a code opens that procedure.
    if motcua_search::is_code(&q)
        && let Ok(hits) = cat.index.search(&q, 1)
        && let Some(h) = hits.first()
    {
        return axum::response::Redirect::to(&format!("/thu-tuc/{}?lang={lang}", h.code))
            .into_response();
    }
    let field = nonempty(&p.linh_vuc);
    let level = nonempty(&p.cap);
    let online = nonempty(&p.truc_tuyen);
    let applicant = nonempty(&p.doi_tuong);
    let agency = nonempty(&p.co_quan);
    let filter = crate::catalogue::Filter {
        words: Vec::new(),
        field: field.as_deref().map(fold),
        level: level
            .as_deref()
            .and_then(crate::api::catalogue::parse_level),
        online_level: online
            .as_deref()
            .and_then(crate::api::catalogue::parse_online),
        applicant: applicant.as_deref().map(fold),
        agency: agency.clone(),
    };
    let filtered = field.is_some()
        || level.is_some()
        || online.is_some()
        || applicant.is_some()
        || agency.is_some();
    let mut next = None;
    let items: Vec<motcua_store::ProcedureSummary> = if q.is_empty() {
        let rows = cat.list(&filter, nonempty(&p.sau).as_deref(), PAGE + 1);
        if rows.len() > PAGE {
            let last = rows[PAGE - 1].version.code.to_string();
            let mut url = url_of(lang, &p);
            url.push_str(&format!("&sau={}", enc(&last)));
            next = Some(url);
        }
        rows.iter()
            .take(PAGE)
            .map(|r| crate::api::catalogue::summary(r))
            .collect()
    } else {
        // Ranked: the best 200, then the filters.
        match cat.index.search(&q, 200) {
            Ok(hits) => hits
                .iter()
                .filter_map(|h| cat.get(&h.code))
                .filter(|r| cat.list_one(&filter, r))
                .take(PAGE)
                .map(|r| crate::api::catalogue::summary(r))
                .collect(),
            Err(e) => {
                tracing::error!(error = %e, "search failed");
                Vec::new()
            }
        }
    };
    let fields = cat.facet(|r| vec![r.version.field.clone()]);
    let applicants = cat.facet(|r| r.version.details.applicant_types.clone());
    let levels: Vec<(&str, &str)> = motcua_domain::procedure::Level::ALL
        .iter()
        .map(|l| {
            (
                l.as_str(),
                if lang == "en" {
                    l.label_en()
                } else {
                    l.label_vi()
                },
            )
        })
        .collect();
    let online_levels: Vec<(&str, &str)> = OnlineLevel::ALL
        .iter()
        .map(|l| {
            (
                l.as_str(),
                if lang == "en" {
                    l.label_en()
                } else {
                    l.label_vi()
                },
            )
        })
        .collect();
    let agencies: Vec<(String, String)> = s
        .store
        .agencies()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a.has_desk)
        .map(|a| (a.code.to_string(), a.name))
        .collect();
    let sel = context! {
        field => field.unwrap_or_default(), level => level.unwrap_or_default(),
        online => online.unwrap_or_default(), applicant => applicant.unwrap_or_default(),
        agency => agency.unwrap_or_default(),
    };
    let shown = items.len();
    render(
        "procedures.html",
        lang,
        context! { q, items, next, fields, applicants, levels, online_levels, agencies, sel, filtered, shown },
    )
}

fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The current listing's URL without the cursor.
fn url_of(lang: &str, p: &PageParams) -> String {
    let mut url = format!("/thu-tuc?lang={lang}");
    for (k, v) in [
        ("linh_vuc", &p.linh_vuc),
        ("cap", &p.cap),
        ("truc_tuyen", &p.truc_tuyen),
        ("doi_tuong", &p.doi_tuong),
        ("co_quan", &p.co_quan),
    ] {
        if let Some(v) = nonempty(v) {
            url.push_str(&format!("&{k}={}", enc(&v)));
        }
    }
    url
}

/// The suggestion fragment for htmx (`hx-get` as the person types).
async fn suggest(
    State(s): State<AppState>,
    p: Result<Query<PageParams>, QueryRejection>,
) -> Response {
    let p = p.map(|Query(p)| p).unwrap_or_default();
    let lang = p.lang();
    let q = nonempty(&p.q).unwrap_or_default();
    let items = if q.chars().count() < 2 {
        Vec::new()
    } else {
        match crate::api::catalogue::run_search(&s, &q, 8, true).await {
            Ok(r) => r.items.into_iter().map(|h| h.procedure).collect(),
            Err(_) => Vec::new(),
        }
    };
    match env()
        .get_template("suggest.html")
        .and_then(|t| t.render(context! { lang, items }))
    {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The friendly 404 page for a procedure code that is wrong or not published.
pub(crate) fn procedure_missing(lang: &str) -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        lang,
        if lang == "en" {
            "Procedure not found"
        } else {
            "Không tìm thấy thủ tục"
        },
        if lang == "en" {
            "The procedure code is wrong or the procedure is not published. Search the catalogue instead."
        } else {
            "Mã thủ tục không đúng hoặc thủ tục chưa được công bố. Hãy tìm trong danh mục thủ tục."
        },
    )
}

async fn procedure(
    State(s): State<AppState>,
    Path(code): Path<String>,
    p: Result<Query<PageParams>, QueryRejection>,
) -> Response {
    let p = p.map(|Query(p)| p).unwrap_or_default();
    let lang = p.lang();
    let missing = procedure_missing;
    let Ok(code) = code.parse::<motcua_domain::codes::ProcedureCode>() else {
        return missing(lang);
    };
    let cat = match s.catalogue().await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "procedure page failed");
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                lang,
                "Lỗi",
                "Vui lòng thử lại sau.",
            );
        }
    };
    let Some(rec) = cat.get(&code.to_string()) else {
        return missing(lang);
    };
    let v = &rec.version;
    let en = lang == "en";
    let money = |f: Option<i64>| match f {
        Some(0) => {
            if en {
                "Free".to_string()
            } else {
                "Miễn phí".to_string()
            }
        }
        Some(n) => format!("{} đồng", group_thousands(n)),
        None => {
            if en {
                "Not stated".into()
            } else {
                "Không có thông tin".into()
            }
        }
    };
    // 0 is "free" unless the catalogue's channels state no fee at all (then it is unknown).
    let fee_unknown = v.fee_vnd == 0
        && !v.details.channels.is_empty()
        && v.details.channels.iter().all(|c| c.fee_vnd.is_none());
    let fee = money((!fee_unknown).then_some(v.fee_vnd));
    let online = if en {
        v.online_level.label_en()
    } else {
        v.online_level.label_vi()
    };
    let levels: Vec<&str> = v
        .levels
        .iter()
        .map(|l| if en { l.label_en() } else { l.label_vi() })
        .collect();
    let channels: Vec<Value> = v
        .details
        .channels
        .iter()
        .map(|c| {
            context! {
                name => if en { c.channel.label_en() } else { c.channel.label_vi() },
                time => c.time_limit.map(|t| t.label_vi()).unwrap_or_else(|| money(None)),
                fee => money(c.fee_vnd),
            }
        })
        .collect();
    let names: std::collections::HashMap<String, String> = s
        .store
        .agencies()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|a| (a.code.to_string(), a.name))
        .collect();
    const AGENCIES_SHOWN: usize = 30;
    let agencies: Vec<String> = rec
        .receiving_agencies
        .iter()
        .take(AGENCIES_SHOWN)
        .map(|a| {
            names
                .get(a.as_str())
                .cloned()
                .unwrap_or_else(|| a.to_string())
        })
        .collect();
    let more_agencies = rec.receiving_agencies.len().saturating_sub(AGENCIES_SHOWN);
    // Documents with their forms when the catalogue has them, else the names alone.
    let docs: Vec<Value> = if v.details.documents.is_empty() {
        v.documents
            .iter()
            .map(|d| context! { name => d.name.clone() })
            .collect()
    } else {
        v.details
            .documents
            .iter()
            .map(Value::from_serialize)
            .collect()
    };
    render(
        "procedure.html",
        lang,
        context! {
            p => Value::from_serialize(v), time_limit => v.time_limit.label_vi(), fee, online,
            levels => levels.join(", "), channels, agencies, more_agencies, docs,
            field_url => format!("/thu-tuc?lang={lang}&linh_vuc={}", enc(&v.field)),
        },
    )
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

/// Longest dossier code or phone/ID accepted from the lookup form (longer input is cut).
const LOOKUP_MAX_CHARS: usize = 64;

/// `GET /tra-cuu?ma=CODE&xac_minh=PHONE_OR_ID`: the public lookup. Without an account, the
/// dossier code and the applicant's phone number or personal ID show the status, the
/// appointment and the history in plain words, with the applicant's initials only. A wrong
/// phone/ID answers exactly like an unknown code; each address has 20 tries a minute.
async fn lookup(
    State(s): State<AppState>,
    ext: axum::http::Extensions,
    p: Result<Query<PageParams>, QueryRejection>,
) -> Response {
    let p = p.map(|Query(p)| p).unwrap_or_default();
    let lang = p.lang();
    let en = lang == "en";
    let cut = |v: &Option<String>| {
        v.as_deref()
            .unwrap_or_default()
            .trim()
            .chars()
            .take(LOOKUP_MAX_CHARS)
            .collect::<String>()
    };
    let ma = cut(&p.ma);
    let xac_minh = cut(&p.xac_minh);
    let page = |status: StatusCode, error: Option<&str>, found: Option<Value>| {
        let mut r = render(
            "lookup.html",
            lang,
            context! { ma => ma.clone(), xac_minh => xac_minh.clone(), error, found },
        );
        *r.status_mut() = status;
        let h = r.headers_mut();
        // Phone numbers and IDs travel in the query: keep them out of caches and referrers.
        h.insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
        h.insert(
            axum::http::header::REFERRER_POLICY,
            axum::http::HeaderValue::from_static("no-referrer"),
        );
        r
    };
    if ma.is_empty() {
        return page(StatusCode::OK, None, None);
    }
    let Ok(code) = DossierCode::parse_lenient(&ma) else {
        return page(
            StatusCode::OK,
            Some(if en {
                "The dossier code is not in the right form, e.g. 000.00.01.H40-261123-0001."
            } else {
                "Mã hồ sơ không đúng định dạng, ví dụ: 000.00.01.H40-261123-0001."
            }),
            None,
        );
    };
    if xac_minh.is_empty() {
        // The QR code on the receipt opens this: ask for the proof.
        return page(StatusCode::OK, None, None);
    }
    if let Err(wait) = s.lookup_limiter.hit(crate::session::client_ip(&ext)) {
        let msg = if en {
            format!("Too many lookups from this device. Please try again in {wait} seconds.")
        } else {
            format!("Quá nhiều lượt tra cứu từ máy này. Vui lòng thử lại sau {wait} giây.")
        };
        return page(StatusCode::TOO_MANY_REQUESTS, Some(&msg), None);
    }
    match crate::api::dossiers::verified_status(&s, &code, &xac_minh, en).await {
        Ok(Some(found)) => {
            let due = found.due_at.map(motcua_domain::dossier::notice::date);
            let received = found.received_at.map(|t| local(Some(t)));
            let found = context! {
                code => found.code, procedure_name => found.procedure_name,
                status => found.status_text, initials => found.applicant_initials,
                history => Value::from_serialize(&found.history), due, received,
            };
            page(StatusCode::OK, None, Some(found))
        }
        // Unknown code or wrong phone/ID: one answer.
        Ok(None) => page(
            StatusCode::OK,
            Some(if en {
                "No dossier matches this code and phone number or personal ID."
            } else {
                "Không tìm thấy hồ sơ khớp với mã hồ sơ và số điện thoại hoặc số định danh cá nhân này."
            }),
            None,
        ),
        Err(e) => {
            tracing::error!(error = %e.detail(), "lookup failed");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                Some(if en {
                    "The system is busy, please try again later."
                } else {
                    "Hệ thống đang bận, vui lòng thử lại sau."
                }),
                None,
            )
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
