//! The outbox operator page `/quan-tri/gui-di` (administrators only): each target's queue
//! depth, the age of its oldest undelivered message and its failures over the last seven days,
//! the dead letters with their last error, and "send again" for one dead letter or for every
//! dead letter of a target; the dossiers pulled from the national portal that were not taken
//! (refused, or retrying their files), with the reason; and today's reconciliation of fees
//! paid against the dossiers (`crate::payment::reconcile`); and the holds on targets
//! (decision 0053): hold one with a reason, or release it. The retries are the API's
//! (`api::outbox::retry_one`,
//! `retry_target`), audited the same way. Message bodies (applicants' personal data) are never
//! shown here.

use super::admin::{expired, field, lang_q, refusal, require_admin};
use super::{lang_of, local};
use crate::AppState;
use crate::api::outbox::{hold_target, release_target, retry_one, retry_target};
use crate::session::{MaybeSession, Session};
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use minijinja::{Value, context};
use motcua_store::{OutboxQuery, OutboxStatus};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

const PATH: &str = "/quan-tri/gui-di";
/// Dead letters per page.
const PAGE: u32 = 50;
/// Days of failures shown per target.
const DAYS: i64 = 7;
/// Characters of a last error shown.
const ERROR_CHARS: usize = 300;

const VI: &[(&str, &str)] = &[
    ("title", "Gửi đi: liên thông với hệ thống khác"),
    (
        "intro",
        "Mọi thông điệp gửi ra ngoài (Cổng Dịch vụ công quốc gia, thư điện tử, tin nhắn…) đi qua hàng đợi này. Thư chết là thông điệp đã thử gửi hết số lần cho phép: sửa nguyên nhân rồi gửi lại.",
    ),
    ("queues", "Hàng đợi theo hệ thống nhận"),
    ("target", "Hệ thống nhận"),
    ("pending", "Đang chờ gửi"),
    ("dead", "Thư chết"),
    ("oldest", "Thư cũ nhất chưa gửi được"),
    ("failed", "Lần gửi lỗi (7 ngày)"),
    ("dead_lettered", "Thành thư chết (7 ngày)"),
    ("retried", "Đã gửi lại (7 ngày)"),
    ("retry_all", "Gửi lại tất cả"),
    ("no_queues", "Chưa có thông điệp nào."),
    ("letters", "Thư chết"),
    ("no_letters", "Không có thư chết nào."),
    ("id", "Số"),
    ("dossier", "Hồ sơ"),
    ("attempts", "Số lần thử"),
    ("created", "Tạo lúc"),
    ("last_error", "Lỗi gần nhất"),
    ("retry", "Gửi lại"),
    ("next_page", "Trang sau"),
    ("first_page", "Về đầu danh sách"),
    ("done", "Đã đưa lại vào hàng đợi"),
    ("messages", "thông điệp"),
    ("error", "Chưa gửi lại được"),
    ("ago", "trước"),
    ("inbound", "Hồ sơ nhận về chưa tiếp nhận được"),
    (
        "inbound_intro",
        "Hồ sơ nộp trên Cổng Dịch vụ công quốc gia mà hệ thống không nhận được: bị từ chối (thủ tục không có ở đây, đơn vị không tiếp nhận, dữ liệu sai, tệp không tải được sau nhiều lần) hoặc đang thử tải lại tệp.",
    ),
    ("source", "Nguồn"),
    ("portal_code", "Mã hồ sơ trên Cổng"),
    ("inbound_status", "Tình trạng"),
    ("rejected", "Từ chối"),
    ("failing", "Đang thử lại"),
    ("first_seen", "Thấy lần đầu"),
    ("last_tried", "Thử lần cuối"),
    ("reason", "Lý do"),
    ("no_inbound", "Không có hồ sơ nào."),
    ("pay_h", "Đối soát thanh toán phí, lệ phí hôm nay"),
    ("pay_method", "Hình thức"),
    ("pay_paid", "Khoản đã nộp"),
    ("pay_amount", "Số tiền (đồng)"),
    ("pay_logged", "Ghi trong hồ sơ"),
    ("pay_none", "Hôm nay chưa có khoản nộp nào."),
    ("pay_ok", "Không có chênh lệch."),
    ("pay_diff", "Chênh lệch"),
    ("holds_h", "Tạm dừng gửi"),
    (
        "holds_intro",
        "Tạm dừng gửi tới một hệ thống (ví dụ khi Cổng Dịch vụ công quốc gia thông báo bảo trì): thông điệp chờ trong hàng đợi theo đúng thứ tự, không tốn lượt thử, và đi tiếp khi cho gửi lại. Thông điệp đang gửi dở vẫn gửi xong.",
    ),
    ("held", "Đang tạm dừng"),
    ("held_by", "bởi"),
    ("held_since", "từ"),
    ("sending", "Đang gửi"),
    ("hold_reason", "Lý do tạm dừng"),
    ("hold", "Tạm dừng"),
    ("release", "Cho gửi tiếp"),
    ("held_done", "Đã tạm dừng gửi tới"),
    ("hold_error", "Chưa tạm dừng hay cho gửi tiếp được"),
    ("released_done", "Đã cho gửi tiếp tới"),
];

const EN: &[(&str, &str)] = &[
    ("title", "Outgoing messages: other systems"),
    (
        "intro",
        "Every message to the outside (the national portal, e-mail, SMS…) goes through this queue. A dead letter has used up its delivery attempts: fix the cause, then send it again.",
    ),
    ("queues", "Queues by target"),
    ("target", "Target"),
    ("pending", "Waiting"),
    ("dead", "Dead letters"),
    ("oldest", "Oldest undelivered message"),
    ("failed", "Failed attempts (7 days)"),
    ("dead_lettered", "Became dead letters (7 days)"),
    ("retried", "Sent again (7 days)"),
    ("retry_all", "Send all again"),
    ("no_queues", "No messages yet."),
    ("letters", "Dead letters"),
    ("no_letters", "No dead letters."),
    ("id", "No."),
    ("dossier", "Dossier"),
    ("attempts", "Attempts"),
    ("created", "Created"),
    ("last_error", "Last error"),
    ("retry", "Send again"),
    ("next_page", "Next page"),
    ("first_page", "Back to the start"),
    ("done", "Back in the queue"),
    ("messages", "message(s)"),
    ("error", "Not sent again"),
    ("ago", "ago"),
    ("inbound", "Dossiers pulled in but not taken"),
    (
        "inbound_intro",
        "Dossiers filed on the national public service portal that this system did not take: refused (procedure not here, agency not receiving it, bad data, files not fetched after several tries) or waiting to fetch their files again.",
    ),
    ("source", "Source"),
    ("portal_code", "Code on the portal"),
    ("inbound_status", "State"),
    ("rejected", "Refused"),
    ("failing", "Retrying"),
    ("first_seen", "First seen"),
    ("last_tried", "Last tried"),
    ("reason", "Reason"),
    ("no_inbound", "None."),
    ("pay_h", "Today's reconciliation of fees paid"),
    ("pay_method", "Method"),
    ("pay_paid", "Payments"),
    ("pay_amount", "Amount (đồng)"),
    ("pay_logged", "In the dossiers"),
    ("pay_none", "No payment today yet."),
    ("pay_ok", "No difference."),
    ("pay_diff", "Differences"),
    ("holds_h", "Hold deliveries"),
    (
        "holds_intro",
        "Hold the deliveries to one system (when the national portal announces maintenance, say): its messages wait in the queue in order, spending no attempts, and go once released. Messages already on their way finish.",
    ),
    ("held", "Held"),
    ("held_by", "by"),
    ("held_since", "since"),
    ("sending", "Sending"),
    ("hold_reason", "Reason for the hold"),
    ("hold", "Hold"),
    ("release", "Release"),
    ("held_done", "Deliveries held to"),
    ("hold_error", "Not held or released"),
    ("released_done", "Deliveries released to"),
];

fn at(lang: &str) -> Value {
    Value::from_iter(
        (if lang == "en" { EN } else { VI })
            .iter()
            .map(|(k, v)| (*k, *v)),
    )
}

/// Query of the page.
#[derive(Deserialize, Default)]
pub(crate) struct PageQuery {
    lang: Option<String>,
    sau: Option<String>,
    gui_lai: Option<String>,
    /// A target just held.
    tam_dung: Option<String>,
    /// A target just released.
    gui_tiep: Option<String>,
}

/// One target in the holds table: held (with who, since when and why) or sending.
#[derive(Serialize)]
struct HoldRow {
    topic: &'static str,
    held: bool,
    by: String,
    since: String,
    reason: String,
}

/// One method of the day's payment reconciliation.
#[derive(Serialize)]
struct PayRow {
    method: &'static str,
    paid: u64,
    amount: i64,
    logged: u64,
    logged_amount: i64,
}

#[derive(Serialize)]
struct QueueRow {
    topic: String,
    pending: u64,
    dead: u64,
    oldest: String,
    age: String,
    failed: u64,
    dead_lettered: u64,
    retried: u64,
    held: bool,
}

#[derive(Serialize)]
struct InboundView {
    source: String,
    code: String,
    external_id: String,
    rejected: bool,
    attempts: u32,
    first_at: String,
    last_at: String,
    reason: String,
}

/// Inbound dossiers shown.
const INBOUND: u32 = 50;

#[derive(Serialize)]
struct LetterRow {
    id: i64,
    topic: String,
    partition: String,
    attempts: i32,
    created: String,
    last_error: String,
}

/// How long ago, in days, hours and minutes ("2 ngày 3 giờ", "5 h 12 min").
fn age(since: DateTime<Utc>, now: DateTime<Utc>, lang: &str) -> String {
    let d = (now - since).max(Duration::zero());
    let (days, hours, mins) = (d.num_days(), d.num_hours() % 24, d.num_minutes() % 60);
    let en = lang == "en";
    if days > 0 {
        if en {
            format!("{days} d {hours} h")
        } else {
            format!("{days} ngày {hours} giờ")
        }
    } else if hours > 0 {
        if en {
            format!("{hours} h {mins} min")
        } else {
            format!("{hours} giờ {mins} phút")
        }
    } else if en {
        format!("{mins} min")
    } else {
        format!("{mins} phút")
    }
}

/// What the page says happened, after a redirect.
#[derive(Default)]
struct Notice {
    /// Dead letters sent again.
    done: Option<u64>,
    /// A target held (true) or released (false).
    hold: Option<(String, bool)>,
    /// The error shown is about a hold.
    hold_error: bool,
}

impl Notice {
    fn hold_error() -> Notice {
        Notice {
            hold_error: true,
            ..Notice::default()
        }
    }
}

async fn page(
    s: &AppState,
    sess: &Session,
    lang: &str,
    after: Option<i64>,
    notice: Notice,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let done = notice.done;
    let now = Utc::now();
    let today = (now + Duration::hours(7)).date_naive();
    let list = OutboxQuery {
        status: Some(OutboxStatus::Dead),
        topic: None,
        after_id: after,
        limit: Some(PAGE),
    };
    let (depths, days, dead, inbound, holds) = match tokio::join!(
        s.store.outbox_depths(),
        s.store.outbox_days(today - Duration::days(DAYS - 1), today),
        s.store.outbox_list(list),
        s.store.inbound_list(INBOUND),
        s.store.outbox_holds(),
    ) {
        (Ok(a), Ok(b), Ok(c), Ok(d), Ok(e)) => (a, b, c, d, e),
        _ => return super::busy(lang),
    };
    let hold_rows: Vec<HoldRow> = motcua_store::holds::TOPICS
        .iter()
        .map(|t| match holds.iter().find(|h| h.topic == *t) {
            Some(h) => HoldRow {
                topic: t,
                held: true,
                by: h.by.clone(),
                since: local(Some(h.at)),
                reason: h.reason.clone(),
            },
            None => HoldRow {
                topic: t,
                held: false,
                by: String::new(),
                since: String::new(),
                reason: String::new(),
            },
        })
        .collect();
    let is_held = |t: &str| holds.iter().any(|h| h.topic == t);
    let inbound: Vec<InboundView> = inbound
        .into_iter()
        .map(|r| InboundView {
            rejected: r.status == motcua_store::InboundStatus::Rejected,
            source: r.source,
            code: r.code,
            external_id: r.external_id,
            attempts: r.attempts,
            first_at: local(Some(r.first_at)),
            last_at: local(Some(r.last_at)),
            reason: r.reason.chars().take(ERROR_CHARS).collect(),
        })
        .collect();
    // The day's payments against the dossiers (as `motcua reconcile payments`).
    let payments = match crate::payment::reconcile(&s.store, today).await {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(error = %e, "payment reconciliation failed");
            None
        }
    };
    let pay_rows: Vec<PayRow> = payments
        .as_ref()
        .map(|r| {
            motcua_domain::payment::PaymentMethod::ALL
                .iter()
                .filter_map(|m| {
                    let p = r.payments.iter().find(|t| t.method == *m);
                    let e = r.events.iter().find(|t| t.method == *m);
                    (p.is_some() || e.is_some()).then(|| PayRow {
                        method: if lang == "en" {
                            m.label_en()
                        } else {
                            m.label_vi()
                        },
                        paid: p.map_or(0, |t| t.count),
                        amount: p.map_or(0, |t| t.amount_vnd),
                        logged: e.map_or(0, |t| t.count),
                        logged_amount: e.map_or(0, |t| t.amount_vnd),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let pay_diffs: Vec<String> = payments
        .map(|r| {
            r.differences
                .into_iter()
                .map(|d| format!("{} ({}): {}", d.reference, d.dossier_id, d.what))
                .collect()
        })
        .unwrap_or_default();
    let mut week: HashMap<String, (u64, u64, u64)> = HashMap::new();
    for d in &days {
        let e = week.entry(d.topic.clone()).or_default();
        e.0 += d.failed;
        e.1 += d.dead_lettered;
        e.2 += d.retried;
    }
    let mut queues: BTreeMap<String, QueueRow> = BTreeMap::new();
    for d in depths {
        let (failed, dead_lettered, retried) = week.get(&d.topic).copied().unwrap_or_default();
        queues.insert(
            d.topic.clone(),
            QueueRow {
                held: is_held(&d.topic),
                oldest: d.oldest_at.map(|t| local(Some(t))).unwrap_or_default(),
                age: d.oldest_at.map(|t| age(t, now, lang)).unwrap_or_default(),
                topic: d.topic,
                pending: d.pending,
                dead: d.dead,
                failed,
                dead_lettered,
                retried,
            },
        );
    }
    // Targets with failures this week but nothing queued now still show their figures.
    for (topic, (failed, dead_lettered, retried)) in week {
        queues.entry(topic.clone()).or_insert(QueueRow {
            held: is_held(&topic),
            topic,
            pending: 0,
            dead: 0,
            oldest: String::new(),
            age: String::new(),
            failed,
            dead_lettered,
            retried,
        });
    }
    let next = (dead.len() == PAGE as usize)
        .then(|| dead.last().map(|e| e.id))
        .flatten();
    let letters: Vec<LetterRow> = dead
        .into_iter()
        .map(|e| LetterRow {
            id: e.id,
            topic: e.topic,
            partition: e.partition,
            attempts: e.attempts,
            created: local(Some(e.created_at)),
            last_error: e
                .last_error
                .unwrap_or_default()
                .chars()
                .take(ERROR_CHARS)
                .collect(),
        })
        .collect();
    let mut r = crate::pages::render(
        "admin_outbox.html",
        lang,
        context! {
            at => at(lang), me => &sess.actor, csrf => &sess.csrf, nav => "outbox",
            queues => queues.into_values().collect::<Vec<_>>(), letters, next, inbound,
            paged => after.is_some(), done, error, pay_rows, pay_diffs, hold_rows,
            held_now => notice.hold.as_ref().filter(|h| h.1).map(|h| &h.0),
            hold_error => notice.hold_error,
            released_now => notice.hold.as_ref().filter(|h| !h.1).map(|h| &h.0),
        },
    );
    *r.status_mut() = status;
    r
}

/// `GET /quan-tri/gui-di`.
pub(crate) async fn show(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let sess = match require_admin(session, PATH, lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let after = q.sau.as_deref().and_then(|x| x.parse::<i64>().ok());
    let done = q.gui_lai.as_deref().and_then(|x| x.parse::<u64>().ok());
    let known = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| motcua_store::holds::TOPICS.iter().find(|k| **k == t))
            .map(|t| t.to_string())
    };
    let hold = known(&q.tam_dung)
        .map(|t| (t, true))
        .or_else(|| known(&q.gui_tiep).map(|t| (t, false)));
    let notice = Notice {
        done,
        hold,
        hold_error: false,
    };
    page(&s, &sess, lang, after, notice, None, StatusCode::OK).await
}

/// What every form of the page starts with: the page's language, an administrator's session
/// and the form, its CSRF token checked; or the page that refuses.
#[allow(clippy::result_large_err)]
fn gate(
    session: MaybeSession,
    q: Result<Query<PageQuery>, QueryRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<(&'static str, Session, HashMap<String, String>), Response> {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(q.lang.as_deref());
    let sess = require_admin(session, PATH, lang)?;
    let f = form.map(|Form(f)| f).unwrap_or_default();
    if !sess.csrf_ok(f.get("csrf").map(String::as_str)) {
        return Err(expired(lang));
    }
    Ok((lang, sess, f))
}

fn after_retry(n: u64, lang: &str) -> Response {
    Redirect::to(&format!("{PATH}?gui_lai={n}{}", lang_q(lang))).into_response()
}

/// `POST /quan-tri/gui-di/gui-lai`: sends the dead letter `id` again.
pub(crate) async fn retry(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<PageQuery>, QueryRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let (lang, sess, f) = match gate(session, q, form) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(id) = field(&f, "id").parse::<i64>() else {
        let msg = "Số thông điệp không hợp lệ. / Not a message number.";
        return page(
            &s,
            &sess,
            lang,
            None,
            Notice::default(),
            Some(msg),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match retry_one(&s, &sess.actor, id).await {
        Ok(n) => after_retry(n, lang),
        Err(e) => {
            let (status, msg) = refusal(&e);
            page(&s, &sess, lang, None, Notice::default(), Some(&msg), status).await
        }
    }
}

/// `POST /quan-tri/gui-di/gui-lai-tat-ca`: sends every dead letter of `topic` again.
pub(crate) async fn retry_all(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<PageQuery>, QueryRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let (lang, sess, f) = match gate(session, q, form) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let topic = field(&f, "topic");
    if topic.is_empty() || topic.len() > 100 {
        let msg = "Hãy chọn một hệ thống nhận. / Choose a target.";
        return page(
            &s,
            &sess,
            lang,
            None,
            Notice::default(),
            Some(msg),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match retry_target(&s, &sess.actor, Some(topic)).await {
        Ok(n) => after_retry(n, lang),
        Err(e) => {
            let (status, msg) = refusal(&e);
            page(&s, &sess, lang, None, Notice::default(), Some(&msg), status).await
        }
    }
}

/// `POST /quan-tri/gui-di/tam-dung`: holds the deliveries to `topic`, for `reason`.
pub(crate) async fn hold(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<PageQuery>, QueryRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let (lang, sess, f) = match gate(session, q, form) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let topic = field(&f, "topic");
    match hold_target(&s, &sess.actor, topic, &field(&f, "reason")).await {
        Ok((h, _)) => {
            Redirect::to(&format!("{PATH}?tam_dung={}{}", h.topic, lang_q(lang))).into_response()
        }
        Err(e) => {
            // The API's refusals, said for people in both languages.
            let (status, msg) = match e.status() {
                StatusCode::NOT_FOUND => (
                    e.status(),
                    "Không có hệ thống nhận này. / No such target.".to_string(),
                ),
                StatusCode::UNPROCESSABLE_ENTITY => (
                    e.status(),
                    format!(
                        "Hãy ghi lý do tạm dừng, tối đa {n} ký tự. / Give the reason, at most {n} characters.",
                        n = motcua_store::holds::MAX_REASON_CHARS
                    ),
                ),
                _ => refusal(&e),
            };
            page(
                &s,
                &sess,
                lang,
                None,
                Notice::hold_error(),
                Some(&msg),
                status,
            )
            .await
        }
    }
}

/// `POST /quan-tri/gui-di/gui-tiep`: lifts the hold on `topic`.
pub(crate) async fn release(
    State(s): State<AppState>,
    session: MaybeSession,
    q: Result<Query<PageQuery>, QueryRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let (lang, sess, f) = match gate(session, q, form) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let topic = field(&f, "topic");
    match release_target(&s, &sess.actor, &topic).await {
        Ok(h) => {
            Redirect::to(&format!("{PATH}?gui_tiep={}{}", h.topic, lang_q(lang))).into_response()
        }
        Err(e) => {
            let (status, msg) = if e.status() == StatusCode::NOT_FOUND {
                (
                    e.status(),
                    "Hệ thống này không bị tạm dừng. / This target is not held.".to_string(),
                )
            } else {
                refusal(&e)
            };
            page(
                &s,
                &sess,
                lang,
                None,
                Notice::hold_error(),
                Some(&msg),
                status,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_both_languages() {
        let now = Utc::now();
        assert_eq!(age(now - Duration::minutes(7), now, "vi"), "7 phút");
        assert_eq!(
            age(now - Duration::minutes(135), now, "vi"),
            "2 giờ 15 phút"
        );
        assert_eq!(age(now - Duration::hours(50), now, "en"), "2 d 2 h");
        assert_eq!(age(now + Duration::hours(1), now, "en"), "0 min");
    }
}
