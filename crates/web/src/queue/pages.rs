//! Queue pages. Public: the kiosk (`/xep-hang/{centre}`), the ticket
//! (`/xep-hang/{centre}/ve/{id}`) and the hall display (`/xep-hang/{centre}/man-hinh`, live over
//! Server-Sent Events, refreshing itself without JavaScript). Staff: the counter console and the
//! leaders' figures section, as functions over an [`Actor`] that the session layer wires to
//! routes (see the module's `counter_page`, `counter_action` and `figures_section`).
//!
//! Vietnamese first, English with `?lang=en`; no external assets.

use super::Centre;
use crate::AppState;
use crate::error::ApiError;
use axum::Router;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{Extensions, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use minijinja::{Environment, Value, context};
use motcua_domain::agency::Actor;
use motcua_domain::queue::{QueueStats, Ticket, TicketAction, TicketState, WaitFigures};
use serde::Deserialize;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

/// Seconds before the ticket page on the kiosk goes back to the start.
pub const KIOSK_BACK_AFTER: u32 = 12;
/// Seconds between refreshes of the display without JavaScript.
pub const DISPLAY_REFRESH: u32 = 10;
/// How often a live display re-reads even when this process saw no change (calls made on
/// other nodes).
const DISPLAY_POLL: Duration = Duration::from_secs(3);

/// Public queue routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/xep-hang/{centre}", get(kiosk).post(take))
        .route("/xep-hang/{centre}/ve/{id}", get(ticket))
        .route("/xep-hang/{centre}/man-hinh", get(display))
        .route("/xep-hang/{centre}/man-hinh/su-kien", get(display_events))
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut e = Environment::new();
        for (name, src) in [
            (
                "queue_base.html",
                include_str!("../../templates/queue_base.html"),
            ),
            (
                "queue_kiosk.html",
                include_str!("../../templates/queue_kiosk.html"),
            ),
            (
                "queue_ticket.html",
                include_str!("../../templates/queue_ticket.html"),
            ),
            (
                "queue_board.html",
                include_str!("../../templates/queue_board.html"),
            ),
            (
                "queue_display.html",
                include_str!("../../templates/queue_display.html"),
            ),
            (
                "queue_counter.html",
                include_str!("../../templates/queue_counter.html"),
            ),
            (
                "queue_stats.html",
                include_str!("../../templates/queue_stats.html"),
            ),
        ] {
            e.add_template(name, src).expect("templates are valid");
        }
        e
    })
}

/// Interface texts; every key exists in both languages.
fn texts(lang: &str) -> Value {
    let vi = [
        ("queue", "Lấy số thứ tự"),
        ("kiosk_title", "Mời chọn lĩnh vực để lấy số thứ tự"),
        (
            "kiosk_hint",
            "Chạm vào lĩnh vực của thủ tục bạn cần làm. Phiếu số thứ tự sẽ hiện ra để in.",
        ),
        ("waiting", "Đang chờ"),
        ("ticket_label", "SỐ THỨ TỰ"),
        ("taken", "Giờ lấy số"),
        ("ahead", "Số người chờ trước bạn"),
        ("go_to", "Mời đến"),
        ("state_done", "Đã được phục vụ"),
        ("state_no_show", "Đã qua lượt. Vui lòng lấy số mới."),
        ("ticket_note", "Vui lòng theo dõi màn hình và loa gọi số."),
        ("print", "In phiếu"),
        (
            "print_nojs",
            "Dùng chức năng In của trình duyệt để in phiếu.",
        ),
        ("another", "Lấy số khác"),
        ("back_soon", "Màn hình sẽ trở về trang đầu sau ít giây."),
        ("display_title", "Mời công dân có số thứ tự đến quầy"),
        ("counter", "Quầy"),
        ("number", "Số"),
        ("recent", "Vừa gọi"),
        ("calls", "Số lần gọi"),
        ("no_ticket", "Chưa gọi số nào."),
        ("state_waiting", "đang chờ"),
        ("state_called", "đã gọi"),
        ("state_serving", "đang phục vụ"),
        ("act_call-next", "Gọi số tiếp theo"),
        ("act_recall", "Gọi lại"),
        ("act_start", "Bắt đầu phục vụ"),
        ("act_finish", "Hoàn thành"),
        ("receive_dossier", "Tiếp nhận hồ sơ"),
        ("act_no-show", "Vắng mặt"),
        ("nobody", "Không còn ai đang chờ."),
        ("stats_title", "Thời gian chờ và phục vụ"),
        ("taken_n", "Số phiếu"),
        ("called_n", "Đã gọi"),
        ("served_n", "Đã phục vụ"),
        ("no_show_n", "Vắng mặt"),
        ("avg_wait", "Chờ trung bình"),
        ("avg_service", "Phục vụ trung bình"),
        ("by_hour", "Thời gian chờ trung bình theo giờ lấy số (phút)"),
        ("hour", "Giờ"),
        ("no_data", "Chưa có số liệu."),
        ("minutes", "phút"),
        ("not_found", "Không tìm thấy"),
        (
            "no_centre",
            "Không có nơi lấy số thứ tự này. Vui lòng kiểm tra lại địa chỉ.",
        ),
        (
            "no_group",
            "Không có lĩnh vực này tại đây. Vui lòng chọn lại.",
        ),
        ("no_ticket_found", "Không tìm thấy phiếu số thứ tự này."),
        ("too_many", "Bạn lấy số quá nhanh"),
        ("too_many_text", "Vui lòng đợi vài giây rồi thử lại."),
        ("bad_form", "Yêu cầu không hợp lệ"),
        (
            "bad_form_text",
            "Vui lòng chọn lại lĩnh vực trên màn hình lấy số.",
        ),
        ("error", "Có lỗi xảy ra"),
        (
            "error_text",
            "Hệ thống đang bận, vui lòng thử lại sau ít phút.",
        ),
    ];
    let en = [
        ("queue", "Queue ticket"),
        ("kiosk_title", "Choose a service to get a queue number"),
        (
            "kiosk_hint",
            "Touch the field of the procedure you need. Your ticket appears, ready to print.",
        ),
        ("waiting", "Waiting"),
        ("ticket_label", "QUEUE NUMBER"),
        ("taken", "Taken at"),
        ("ahead", "People ahead of you"),
        ("go_to", "Please go to"),
        ("state_done", "Served"),
        (
            "state_no_show",
            "Your turn has passed. Please take a new number.",
        ),
        (
            "ticket_note",
            "Please watch the screen and listen for your number.",
        ),
        ("print", "Print"),
        (
            "print_nojs",
            "Use your browser's Print command to print the ticket.",
        ),
        ("another", "Another ticket"),
        (
            "back_soon",
            "This screen returns to the start in a few seconds.",
        ),
        ("display_title", "Now serving"),
        ("counter", "Counter"),
        ("number", "Number"),
        ("recent", "Recently called"),
        ("calls", "Calls"),
        ("no_ticket", "No number called yet."),
        ("state_waiting", "waiting"),
        ("state_called", "called"),
        ("state_serving", "being served"),
        ("act_call-next", "Call next"),
        ("act_recall", "Call again"),
        ("act_start", "Start serving"),
        ("act_finish", "Done"),
        ("receive_dossier", "Receive a dossier"),
        ("act_no-show", "Not present"),
        ("nobody", "Nobody is waiting."),
        ("stats_title", "Waiting and service times"),
        ("taken_n", "Tickets"),
        ("called_n", "Called"),
        ("served_n", "Served"),
        ("no_show_n", "Not present"),
        ("avg_wait", "Average wait"),
        ("avg_service", "Average service"),
        ("by_hour", "Average wait by hour taken (minutes)"),
        ("hour", "Hour"),
        ("no_data", "No figures yet."),
        ("minutes", "min"),
        ("not_found", "Not found"),
        (
            "no_centre",
            "There is no queue here. Please check the address.",
        ),
        (
            "no_group",
            "This service is not offered here. Please choose again.",
        ),
        ("no_ticket_found", "No such ticket."),
        ("too_many", "Too many tickets"),
        ("too_many_text", "Please wait a few seconds and try again."),
        ("bad_form", "Invalid request"),
        (
            "bad_form_text",
            "Please choose a service again on the kiosk.",
        ),
        ("error", "Something went wrong"),
        (
            "error_text",
            "The system is busy; please try again in a few minutes.",
        ),
    ];
    let pick = if lang == "en" { &en } else { &vi };
    Value::from_iter(pick.iter().map(|(k, v)| (*k, *v)))
}

fn text(lang: &str, key: &str) -> String {
    texts(lang)
        .get_attr(key)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// Language of a page.
#[derive(Deserialize, Default)]
pub struct LangParams {
    lang: Option<String>,
    kiosk: Option<String>,
}

fn lang_of(l: Option<&str>) -> &'static str {
    if l == Some("en") { "en" } else { "vi" }
}

fn render_str(name: &str, lang: &str, ctx: Value) -> Result<String, minijinja::Error> {
    let full = context! { lang => lang, t => texts(lang), ..ctx };
    env().get_template(name).and_then(|t| t.render(full))
}

fn render(name: &str, lang: &str, ctx: Value) -> Response {
    match render_str(name, lang, ctx) {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, template = name, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Lỗi hệ thống / internal error",
            )
                .into_response()
        }
    }
}

/// A friendly page for people (never problem+json).
fn problem_page(status: StatusCode, lang: &str, heading_key: &str, text_key: &str) -> Response {
    let mut r = crate::pages::error_page(
        status,
        lang,
        &text(lang, heading_key),
        &text(lang, text_key),
    );
    if status == StatusCode::TOO_MANY_REQUESTS {
        r.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(super::KIOSK_REFILL.as_secs()),
        );
    }
    r
}

fn failed(lang: &str, e: ApiError) -> Response {
    tracing::warn!(problem = ?e.0, "queue page failed");
    problem_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        lang,
        "error",
        "error_text",
    )
}

/// Loads a centre for a public page, or the page to show instead.
async fn public_centre(
    s: &AppState,
    code: Result<String, PathRejection>,
    lang: &str,
) -> Result<Centre, Response> {
    let not_found = || problem_page(StatusCode::NOT_FOUND, lang, "not_found", "no_centre");
    let code = code.map_err(|_| not_found())?;
    match super::centre(s, &code).await {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(not_found()),
        Err(e) => Err(failed(lang, e)),
    }
}

fn local_time(t: DateTime<Utc>) -> String {
    (t + chrono::Duration::hours(motcua_domain::queue::VN_OFFSET_HOURS))
        .format("%H:%M %d/%m/%Y")
        .to_string()
}

fn params(p: Result<Query<LangParams>, QueryRejection>) -> LangParams {
    p.map(|Query(p)| p).unwrap_or_default()
}

/// `GET /xep-hang/{centre}`: the kiosk.
async fn kiosk(
    State(s): State<AppState>,
    code: Result<Path<String>, PathRejection>,
    p: Result<Query<LangParams>, QueryRejection>,
) -> Response {
    let p = params(p);
    let lang = lang_of(p.lang.as_deref());
    let c = match public_centre(&s, code.map(|Path(c)| c), lang).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let waiting = match s.store.queue_waiting(&c.agency.code, super::today()).await {
        Ok(w) => w,
        Err(e) => return failed(lang, e.into()),
    };
    let groups: Vec<Value> = c
        .groups
        .iter()
        .map(|g| {
            let n = waiting
                .iter()
                .find(|(code, _)| *code == g.code)
                .map_or(0, |(_, n)| *n);
            context! { code => g.code, prefix => g.prefix.to_string(), name => g.name(lang), waiting => n }
        })
        .collect();
    render(
        "queue_kiosk.html",
        lang,
        context! { code => c.agency.code.to_string(), centre_name => c.agency.name, groups },
    )
}

/// The kiosk's form.
#[derive(Deserialize)]
pub struct TakeForm {
    nhom: String,
    lang: Option<String>,
}

/// `POST /xep-hang/{centre}`: takes a ticket, then 303 to the ticket page.
async fn take(
    State(s): State<AppState>,
    code: Result<Path<String>, PathRejection>,
    ext: Extensions,
    form: Result<Form<TakeForm>, FormRejection>,
) -> Response {
    let form = form.map(|Form(f)| f);
    let lang = lang_of(form.as_ref().ok().and_then(|f| f.lang.as_deref()));
    let c = match public_centre(&s, code.map(|Path(c)| c), lang).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(form) = form else {
        return problem_page(StatusCode::BAD_REQUEST, lang, "bad_form", "bad_form_text");
    };
    if c.group(&form.nhom).is_none() {
        return problem_page(StatusCode::NOT_FOUND, lang, "not_found", "no_group");
    }
    let ip = ext.get::<ConnectInfo<SocketAddr>>().map(|ci| ci.0.ip());
    if !s.queue.allow_take(ip) {
        return problem_page(
            StatusCode::TOO_MANY_REQUESTS,
            lang,
            "too_many",
            "too_many_text",
        );
    }
    match super::take(&s, &c, &form.nhom).await {
        Ok(t) => Redirect::to(&format!(
            "/xep-hang/{}/ve/{}?lang={lang}&kiosk=1",
            c.agency.code, t.id
        ))
        .into_response(),
        Err(e) if e.status() == StatusCode::NOT_FOUND => {
            problem_page(StatusCode::NOT_FOUND, lang, "not_found", "no_group")
        }
        Err(e) => failed(lang, e),
    }
}

/// `GET /xep-hang/{centre}/ve/{id}`: the ticket, printable on an 80 mm printer.
async fn ticket(
    State(s): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    p: Result<Query<LangParams>, QueryRejection>,
) -> Response {
    let p = params(p);
    let lang = lang_of(p.lang.as_deref());
    let (code, id) = match path {
        Ok(Path(x)) => (Ok(x.0), x.1),
        Err(e) => (Err(e), String::new()),
    };
    let c = match public_centre(&s, code, lang).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let missing = || problem_page(StatusCode::NOT_FOUND, lang, "not_found", "no_ticket_found");
    let Ok(id) = id.parse::<uuid::Uuid>() else {
        return missing();
    };
    let t = match s.store.queue_ticket(id).await {
        Ok(Some(t)) if t.centre == c.agency.code => t,
        Ok(_) => return missing(),
        Err(e) => return failed(lang, e.into()),
    };
    let ahead = if t.state == TicketState::Waiting {
        match s.store.queue_ahead(&t).await {
            Ok(n) => n,
            Err(e) => return failed(lang, e.into()),
        }
    } else {
        0
    };
    let counter_name = t
        .counter
        .and_then(|n| c.counter(n))
        .map(|k| k.name.clone())
        .unwrap_or_default();
    let group = c
        .group(&t.group)
        .map_or(t.group.clone(), |g| g.name(lang).to_string());
    render(
        "queue_ticket.html",
        lang,
        context! {
            code => c.agency.code.to_string(),
            centre_name => c.agency.name,
            number => t.number().to_string(),
            group,
            taken => local_time(t.taken_at),
            state => t.state.as_str(),
            ahead,
            counter_name,
            kiosk => p.kiosk.as_deref() == Some("1"),
            back_after => KIOSK_BACK_AFTER,
        },
    )
}

/// The display's board: the ticket each counter holds (latest call first), the latest calls
/// and how many wait per group.
async fn board(s: &AppState, c: &Centre, lang: &str) -> Result<String, ApiError> {
    let day = super::today();
    let code = &c.agency.code;
    let calls = s.store.queue_recent_calls(code, day, 200).await?;
    let waiting = s.store.queue_waiting(code, day).await?;
    board_html(c, &calls, &waiting, lang)
}

fn board_html(
    c: &Centre,
    calls: &[Ticket],
    waiting: &[(String, u32)],
    lang: &str,
) -> Result<String, ApiError> {
    let name = |n: Option<u16>| {
        n.and_then(|n| c.counter(n))
            .map_or_else(String::new, |k| k.name.clone())
    };
    let mut held: Vec<&Ticket> = Vec::new();
    let mut idle = Vec::new();
    for k in &c.counters {
        match calls
            .iter()
            .find(|t| t.counter == Some(k.number) && t.state.at_counter())
        {
            Some(t) => held.push(t),
            None => idle.push(k),
        }
    }
    // `calls` is latest first, and so is `held` once sorted by the latest call.
    held.sort_by_key(|t| std::cmp::Reverse(t.last_called_at));
    let mut rows: Vec<Value> = held
        .iter()
        .map(|t| context! { counter => name(t.counter), number => t.number().to_string(), state => t.state.as_str() })
        .collect();
    rows.extend(
        idle.iter()
            .map(|k| context! { counter => k.name, number => "—", state => "idle" }),
    );
    let latest = held
        .first()
        .map(|t| context! { number => t.number().to_string(), counter => name(t.counter) });
    let recent: Vec<Value> = calls
        .iter()
        .take(8)
        .map(|t| context! { number => t.number().to_string(), counter => name(t.counter) })
        .collect();
    let groups: Vec<Value> = c
        .groups
        .iter()
        .map(|g| {
            let n = waiting
                .iter()
                .find(|(code, _)| *code == g.code)
                .map_or(0, |(_, n)| *n);
            context! { prefix => g.prefix.to_string(), waiting => n }
        })
        .collect();
    render_str(
        "queue_board.html",
        lang,
        context! { latest, rows, recent, groups },
    )
    .map_err(ApiError::internal)
}

/// `GET /xep-hang/{centre}/man-hinh`: the hall display.
async fn display(
    State(s): State<AppState>,
    code: Result<Path<String>, PathRejection>,
    p: Result<Query<LangParams>, QueryRejection>,
) -> Response {
    let p = params(p);
    let lang = lang_of(p.lang.as_deref());
    let c = match public_centre(&s, code.map(|Path(c)| c), lang).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let board = match board(&s, &c, lang).await {
        Ok(b) => b,
        Err(e) => return failed(lang, e),
    };
    render(
        "queue_display.html",
        lang,
        context! {
            code => c.agency.code.to_string(),
            centre_name => c.agency.name,
            board,
            refresh => DISPLAY_REFRESH,
        },
    )
}

/// `GET /xep-hang/{centre}/man-hinh/su-kien`: the board as Server-Sent Events (`board`
/// events carrying the board's HTML), sent at once and after every change.
async fn display_events(
    State(s): State<AppState>,
    code: Result<Path<String>, PathRejection>,
    p: Result<Query<LangParams>, QueryRejection>,
) -> Response {
    let p = params(p);
    let lang = lang_of(p.lang.as_deref());
    let c = match public_centre(&s, code.map(|Path(c)| c), lang).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let rx = s.queue.subscribe(&c.agency.code);
    struct Live {
        s: AppState,
        c: Centre,
        rx: tokio::sync::watch::Receiver<u64>,
        last: Option<String>,
        lang: &'static str,
    }
    let start = Live {
        s,
        c,
        rx,
        last: None,
        lang,
    };
    let stream = futures_util::stream::unfold(start, |mut l| async move {
        loop {
            if l.last.is_some() {
                tokio::select! {
                    changed = l.rx.changed() => {
                        if changed.is_err() {
                            tokio::time::sleep(DISPLAY_POLL).await;
                        }
                    }
                    _ = tokio::time::sleep(DISPLAY_POLL) => {}
                }
            }
            match board(&l.s, &l.c, l.lang).await {
                Ok(html) if l.last.as_ref() != Some(&html) => {
                    let ev = Event::default().event("board").data(html.clone());
                    l.last = Some(html);
                    return Some((Ok::<_, Infallible>(ev), l));
                }
                Ok(_) => {}
                // A failed read: try again at the next tick.
                Err(_) if l.last.is_none() => l.last = Some(String::new()),
                Err(_) => {}
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Staff pages: functions over an actor, wired to routes by the session layer.

/// The officer's console for counter `number`: the ticket in hand, how many wait, and a form
/// button per action (posting to `/xep-hang/{centre}/quay/{number}/{action}`, each with the
/// session's `csrf` token when given). `message` is shown above (the outcome of the last
/// action). Errors: 403 (not an officer or leader of the centre), 404 (no such centre or counter).
pub async fn counter_page(
    s: &AppState,
    actor: &Actor,
    centre_code: &str,
    number: u16,
    lang: &str,
    csrf: Option<&str>,
    message: Option<&str>,
) -> Result<Response, ApiError> {
    let lang = lang_of(Some(lang));
    let view = super::counter_state(s, actor, centre_code, number, Utc::now()).await?;
    let c = super::centre(s, centre_code)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("centre {centre_code} has no queue")))?;
    let held = view.current.as_ref().map(|t| t.ticket.state);
    let actions: Vec<Value> = TicketAction::ALL
        .into_iter()
        .map(|a| {
            let enabled = match a {
                TicketAction::CallNext => held.is_none() && view.waiting > 0,
                TicketAction::Recall | TicketAction::NoShow => held == Some(TicketState::Called),
                TicketAction::Start => held == Some(TicketState::Called),
                TicketAction::Finish => held.is_some(),
            };
            context! { name => a.as_str(), label => text(lang, &format!("act_{}", a.as_str())), enabled }
        })
        .collect();
    let current = view.current.as_ref().map(|t| {
        context! {
            number => t.number,
            group => c.group(&t.ticket.group).map_or(t.ticket.group.clone(), |g| g.name(lang).to_string()),
            state_label => text(lang, &format!("state_{}", t.ticket.state.as_str())),
            calls => t.ticket.calls,
            id => t.ticket.id.to_string(),
        }
    });
    Ok(render(
        "queue_counter.html",
        lang,
        context! {
            code => c.agency.code.to_string(),
            centre_name => c.agency.name,
            counter_name => view.counter.name,
            number,
            current,
            waiting => view.waiting,
            actions,
            csrf,
            message,
        },
    ))
}

/// Runs a console button's action and answers 303 back to the console (`?lang=`), or the
/// refusal as an error for the caller to show (409 with a Vietnamese-ready message in `detail`).
/// `call-next` with nobody waiting redirects with `?msg=nobody`.
pub async fn counter_action(
    s: &AppState,
    actor: &Actor,
    centre_code: &str,
    number: u16,
    action: &str,
    lang: &str,
) -> Result<Response, ApiError> {
    let lang = lang_of(Some(lang));
    let action = TicketAction::parse(action)
        .ok_or_else(|| ApiError::not_found(format!("no action `{action}`")))?;
    let (t, _) = super::act(s, actor, centre_code, number, action, Utc::now()).await?;
    let msg = if t.is_none() { "&msg=nobody" } else { "" };
    Ok(Redirect::to(&format!(
        "/xep-hang/{centre_code}/quay/{number}?lang={lang}{msg}"
    ))
    .into_response())
}

fn minutes(secs: Option<f64>, lang: &str) -> String {
    match secs {
        Some(s) => format!("{:.1} {}", s / 60.0, text(lang, "minutes")),
        None => "—".into(),
    }
}

/// The leaders' figures of a centre as an HTML section (a table per counter and per hour, and an
/// inline SVG bar chart of the average wait per hour) to include in a leader's page.
/// Errors: 403 (not a leader of the centre), 404, 422 (bad period).
pub async fn figures_section(
    s: &AppState,
    actor: &Actor,
    centre_code: &str,
    from: NaiveDate,
    to: NaiveDate,
    lang: &str,
) -> Result<Html<String>, ApiError> {
    let (c, stats) = super::figures(s, actor, centre_code, from, to).await?;
    Ok(Html(stats_html(&c, &stats, lang_of(Some(lang)))?))
}

/// Renders [`QueueStats`] of a centre as the leaders' section.
pub fn stats_html(c: &Centre, stats: &QueueStats, lang: &str) -> Result<String, ApiError> {
    let fig = |f: &WaitFigures| {
        context! {
            taken => f.taken, called => f.called, served => f.served, no_show => f.no_show,
            wait => minutes(f.avg_wait_seconds, lang), service => minutes(f.avg_service_seconds, lang),
        }
    };
    let counters: Vec<Value> = stats
        .counters
        .iter()
        .map(|k| {
            let name = c
                .counter(k.counter)
                .map_or_else(|| k.counter.to_string(), |x| x.name.clone());
            context! { name, ..fig(&k.figures) }
        })
        .collect();
    // Bars: average wait per hour, scaled to the longest.
    const BAR: u32 = 28;
    const GAP: u32 = 12;
    const TOP: u32 = 18;
    const PLOT: f64 = 160.0;
    let longest = stats
        .hours
        .iter()
        .filter_map(|h| h.figures.avg_wait_seconds)
        .fold(0.0_f64, f64::max);
    let hours: Vec<Value> = stats
        .hours
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let w = h.figures.avg_wait_seconds.unwrap_or(0.0);
            let height = if longest > 0.0 {
                (w / longest * PLOT).round() as u32
            } else {
                0
            };
            let x = GAP + i as u32 * (BAR + GAP);
            context! {
                hour => h.hour, x, cx => x + BAR / 2, h => height,
                y => TOP + (PLOT as u32 - height),
                minutes => format!("{:.0}", w / 60.0),
                ..fig(&h.figures)
            }
        })
        .collect();
    let width = GAP + stats.hours.len() as u32 * (BAR + GAP);
    let chart = context! {
        width => width.max(200), height => TOP + PLOT as u32 + 22, bar => BAR,
        label_y => TOP + PLOT as u32 + 16,
    };
    render_str(
        "queue_stats.html",
        lang,
        context! {
            from => stats.from.format("%d/%m/%Y").to_string(),
            to => stats.to.format("%d/%m/%Y").to_string(),
            total => fig(&stats.total),
            counters,
            hours,
            chart,
        },
    )
    .map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use motcua_domain::agency::{Agency, AgencyKind, Role};
    use motcua_domain::queue::{Counter, ServiceGroup, summarize};

    fn centre() -> Centre {
        Centre {
            agency: Agency {
                code: "000.00.01.H40".parse().unwrap(),
                name: "Trung tâm Phục vụ hành chính công".into(),
                kind: AgencyKind::ServiceCentre,
                parent: None,
                admin_unit: None,
                has_desk: true,
            },
            groups: vec![ServiceGroup {
                code: "tu-phap".into(),
                prefix: 'A',
                name_vi: "Tư pháp - Hộ tịch".into(),
                name_en: "Justice".into(),
                fields: vec![],
            }],
            counters: (1..=3)
                .map(|n| Counter {
                    number: n,
                    name: format!("Quầy {n}"),
                    groups: vec!["tu-phap".into()],
                })
                .collect(),
        }
    }

    fn ticket(seq: u32, taken: DateTime<Utc>) -> Ticket {
        let c = centre();
        Ticket::new(c.agency.code.clone(), &c.groups[0], seq, taken)
    }

    #[test]
    fn the_board_lists_held_tickets_latest_call_first_then_idle_counters() {
        let c = centre();
        let t0 = Utc::now();
        let officer = uuid::Uuid::new_v4();
        let mut a = ticket(1, t0);
        a.apply(
            TicketAction::CallNext,
            1,
            officer,
            t0 + chrono::Duration::minutes(1),
        )
        .unwrap();
        let mut b = ticket(2, t0);
        b.apply(
            TicketAction::CallNext,
            3,
            officer,
            t0 + chrono::Duration::minutes(2),
        )
        .unwrap();
        b.apply(
            TicketAction::Start,
            3,
            officer,
            t0 + chrono::Duration::minutes(3),
        )
        .unwrap();
        let calls = vec![b.clone(), a.clone()];
        let html = board_html(&c, &calls, &[("tu-phap".into(), 4)], "vi").unwrap();
        let (pa, pb, idle) = (
            html.find("A001").unwrap(),
            html.find("A002").unwrap(),
            html.find("Quầy 2").unwrap(),
        );
        assert!(pb < pa && pa < idle, "{html}");
        assert!(
            html.contains("class=\"latest\"><span class=\"num\">A002"),
            "{html}"
        );
        assert!(html.contains("class=\"serving\""), "{html}");
        assert!(html.contains("A 4"), "waiting per group: {html}");
        // Nothing called: no latest, every counter idle.
        let html = board_html(&c, &[], &[], "en").unwrap();
        assert!(!html.contains("class=\"latest\""));
        assert_eq!(html.matches("class=\"idle\"").count(), 3);
        assert!(html.contains("Recently called"));
    }

    #[test]
    fn the_figures_section_has_a_table_and_a_bar_per_hour() {
        let c = centre();
        let officer = uuid::Uuid::new_v4();
        // 08:00 and 09:00 local on 2 March 2026.
        let at = |h: i64, m: i64| {
            chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, 2, 1, 0, 0).unwrap()
                + chrono::Duration::hours(h - 8)
                + chrono::Duration::minutes(m)
        };
        let mut a = ticket(1, at(8, 0));
        a.apply(TicketAction::CallNext, 1, officer, at(8, 10))
            .unwrap();
        a.apply(TicketAction::Finish, 1, officer, at(8, 20))
            .unwrap();
        let mut b = ticket(2, at(9, 0));
        b.apply(TicketAction::CallNext, 2, officer, at(9, 30))
            .unwrap();
        let day = a.day;
        let stats = summarize(day, day, &[a, b]);
        let html = stats_html(&c, &stats, "vi").unwrap();
        assert!(html.contains("<svg"), "{html}");
        assert_eq!(html.matches("<rect").count(), 2);
        assert!(html.contains("Quầy 1") && html.contains("Quầy 2"));
        assert!(
            html.contains("10.0 phút"),
            "counter 1 waited 10 minutes: {html}"
        );
        assert!(html.contains("30.0 phút"), "{html}");
        // minijinja escapes `/` in HTML.
        assert!(html.contains("02&#x2f;03&#x2f;2026"), "{html}");
        // The longest bar is full height, the other a third of it.
        assert!(html.contains("height=\"160\""), "{html}");
        assert!(html.contains("height=\"53\""), "{html}");
        let empty = stats_html(&c, &summarize(day, day, &[]), "en").unwrap();
        assert!(empty.contains("No figures yet.") && !empty.contains("<svg"));
    }

    fn actor(role: Role, agency: Option<&str>) -> Actor {
        Actor {
            user_id: uuid::Uuid::new_v4(),
            name: "Lê Thị Hồng".into(),
            role,
            agency: agency.map(|a| a.parse().unwrap()),
        }
    }

    async fn body(r: Response) -> String {
        let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn the_staff_pages_work_for_the_centres_staff_only() {
        let store = motcua_store::Store::open("sqlite::memory:").await.unwrap();
        let c = centre();
        store.upsert_agencies(vec![c.agency.clone()]).await.unwrap();
        store
            .add_queue_setup(&c.agency.code, c.groups.clone(), c.counters.clone())
            .await
            .unwrap();
        let s = AppState::new(store);
        let code = "000.00.01.H40";
        let desk = actor(Role::DeskOfficer, Some(code));
        let leader = actor(Role::Leader, Some(code));
        super::super::take(&s, &c, "tu-phap").await.unwrap();

        let page = counter_page(&s, &desk, code, 2, "vi", Some("tok"), None)
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = body(page).await;
        assert!(
            html.contains("Quầy 2") && html.contains("Đang chờ: 1"),
            "{html}"
        );
        assert!(html.contains("name=\"csrf\" value=\"tok\""));
        assert!(html.contains("action=\"/xep-hang/000.00.01.H40/quay/2/call-next\""));
        assert_eq!(
            html.matches(" disabled>").count(),
            4,
            "only call-next is possible: {html}"
        );

        let r = counter_action(&s, &desk, code, 2, "call-next", "vi")
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            r.headers()["location"],
            "/xep-hang/000.00.01.H40/quay/2?lang=vi"
        );
        let html = body(
            counter_page(&s, &desk, code, 2, "en", None, None)
                .await
                .unwrap(),
        )
        .await;
        assert!(html.contains("A001") && html.contains("called"), "{html}");
        assert_eq!(
            html.matches(" disabled>").count(),
            1,
            "all but call-next: {html}"
        );
        let r = counter_action(&s, &desk, code, 2, "finish", "vi")
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = counter_action(&s, &desk, code, 2, "call-next", "vi")
            .await
            .unwrap();
        assert!(
            r.headers()["location"]
                .to_str()
                .unwrap()
                .ends_with("&msg=nobody")
        );
        let err = counter_action(&s, &desk, code, 2, "finish", "vi")
            .await
            .unwrap_err();
        assert_eq!(err.status(), StatusCode::CONFLICT);
        let err = counter_action(&s, &desk, code, 2, "dance", "vi")
            .await
            .unwrap_err();
        assert_eq!(err.status(), StatusCode::NOT_FOUND);
        let err = counter_page(&s, &desk, code, 9, "vi", None, None)
            .await
            .unwrap_err();
        assert_eq!(err.status(), StatusCode::NOT_FOUND);

        let today = super::super::today();
        let html = figures_section(&s, &leader, code, today, today, "vi")
            .await
            .unwrap()
            .0;
        assert!(
            html.contains("Thời gian chờ và phục vụ") && html.contains("<svg"),
            "{html}"
        );
        for who in [
            desk.clone(),
            actor(Role::Leader, Some("000.00.03.H40")),
            actor(Role::Citizen, None),
        ] {
            let err = figures_section(&s, &who, code, today, today, "vi")
                .await
                .unwrap_err();
            assert_eq!(err.status(), StatusCode::FORBIDDEN, "{:?}", who.role);
        }
        for who in [
            actor(Role::Specialist, Some(code)),
            actor(Role::Admin, None),
        ] {
            let err = counter_page(&s, &who, code, 2, "vi", None, None)
                .await
                .unwrap_err();
            assert_eq!(err.status(), StatusCode::FORBIDDEN);
            let err = counter_action(&s, &who, code, 2, "call-next", "vi")
                .await
                .unwrap_err();
            assert_eq!(err.status(), StatusCode::FORBIDDEN);
        }
        let err = figures_section(&s, &leader, code, today, today.pred_opt().unwrap(), "vi")
            .await
            .unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}
