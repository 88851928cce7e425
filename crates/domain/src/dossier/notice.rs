//! What a dossier's events mean to the applicant, in plain words (Vietnamese, or English): the
//! history on the tracking page and the public lookup, and the e-mail and SMS notices sent on
//! each status change. Pure text built from the log, so the history shown *is* the record.

use super::{Dossier, Event, EventBody, ReturnMethod};
use crate::codes::AgencyCode;
use crate::status::Status;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Vietnam is UTC+7 all year.
fn local(t: DateTime<Utc>) -> chrono::NaiveDateTime {
    (t + Duration::hours(7)).naive_utc()
}

/// `dd/mm/yyyy`, local.
pub fn date(t: DateTime<Utc>) -> String {
    local(t).format("%d/%m/%Y").to_string()
}

/// `HH:MM dd/mm/yyyy`, local.
pub fn time(t: DateTime<Utc>) -> String {
    local(t).format("%H:%M %d/%m/%Y").to_string()
}

/// Money in whole đồng with `.` between thousands, e.g. `1.500.000 đồng`.
pub fn money(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    if n < 0 {
        out.push('-');
    }
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out.push_str(" đồng");
    out
}

/// The status as the applicant reads it.
pub fn status_text(s: Status, en: bool) -> &'static str {
    use Status::*;
    match (s, en) {
        (AwaitingReception, false) => "Đã nộp, chờ bộ phận một cửa tiếp nhận",
        (AwaitingReception, true) => "Submitted, waiting for the one-stop desk",
        (SupplementAtReception, false) => "Cần bổ sung hồ sơ trước khi tiếp nhận",
        (SupplementAtReception, true) => "Supplement needed before reception",
        (Refused, false) => "Không được tiếp nhận",
        (Refused, true) => "Not accepted",
        (Received, false) => "Đã tiếp nhận",
        (Received, true) => "Received",
        (Processing, false) => "Đang giải quyết",
        (Processing, true) => "Being processed",
        (SupplementRequested, false) => "Cần bổ sung hồ sơ",
        (SupplementRequested, true) => "Supplement needed",
        (AwaitingPayment, false) => "Chờ nộp phí, lệ phí",
        (AwaitingPayment, true) => "Waiting for payment of fees",
        (Withdrawn, false) => "Đã rút hồ sơ",
        (Withdrawn, true) => "Withdrawn",
        (Stopped, false) => "Đã dừng giải quyết",
        (Stopped, true) => "Processing stopped",
        (ResultReady, false) => "Đã có kết quả, chờ nhận",
        (ResultReady, true) => "Result ready for collection",
        (Returned, false) => "Đã trả kết quả",
        (Returned, true) => "Result handed over",
    }
}

/// How a dossier's own agency is named in a sentence: its name when known, else a generic
/// phrase ("the one-stop desk" or "the agency").
pub type AgencyNames<'a> = &'a dyn Fn(&AgencyCode) -> Option<String>;

fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| i.trim())
        .filter(|i| !i.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// One event as a sentence for the applicant, or `None` for internal work they need not see
/// (assignments, hand-overs between officers). `detail`: include what officers wrote (reasons,
/// items, summaries); the public lookup leaves it out, since free text may hold personal data.
pub fn line(ev: &Event, en: bool, detail: bool, names: AgencyNames) -> Option<String> {
    let at = |generic_vi: &str, generic_en: &str, a: &AgencyCode| match names(a) {
        Some(n) if en => format!("at {n}"),
        Some(n) => format!("tại {n}"),
        None if en => generic_en.to_string(),
        None => generic_vi.to_string(),
    };
    let desk = |a: &AgencyCode| at("tại bộ phận một cửa", "at the one-stop desk", a);
    let agency = |a: &AgencyCode| at("tại cơ quan giải quyết", "at the competent agency", a);
    let why = |s: &str| {
        if detail && !s.trim().is_empty() {
            format!(": {}", s.trim())
        } else {
            String::new()
        }
    };
    Some(match &ev.body {
        EventBody::Submitted { channel, .. } => match (channel, en) {
            (super::Channel::Online, false) => "Hồ sơ đã được nộp trực tuyến.".into(),
            (super::Channel::Online, true) => "The dossier was submitted online.".into(),
            (super::Channel::Post, false) => "Hồ sơ đã được gửi qua bưu chính.".into(),
            (super::Channel::Post, true) => "The dossier arrived by post.".into(),
            (super::Channel::Counter, false) => {
                format!("Hồ sơ đã được nộp {}.", desk(&ev.agency))
            }
            (super::Channel::Counter, true) => {
                format!("The dossier was handed in {}.", desk(&ev.agency))
            }
        },
        EventBody::Received { code, due_at, .. } => {
            if en {
                format!(
                    "The dossier was received {} with code {code}; appointment to return the result: {}.",
                    desk(&ev.agency),
                    date(*due_at)
                )
            } else {
                format!(
                    "Hồ sơ đã được tiếp nhận {} với mã {code}; ngày hẹn trả kết quả: {}.",
                    desk(&ev.agency),
                    date(*due_at)
                )
            }
        }
        EventBody::SupplementRequested { items, reason, .. } => {
            let what = if detail { list(items) } else { String::new() };
            match (en, what.is_empty()) {
                (false, false) => format!(
                    "Cơ quan yêu cầu bổ sung: {what}{}. Thời gian chờ bổ sung không tính vào thời hạn giải quyết.",
                    if detail && !reason.trim().is_empty() {
                        format!(" (lý do: {})", reason.trim())
                    } else {
                        String::new()
                    }
                ),
                (false, true) => "Cơ quan yêu cầu bổ sung hồ sơ.".into(),
                (true, false) => format!(
                    "The agency asks for a supplement: {what}{}. The time waiting for it does not count against the time limit.",
                    if detail && !reason.trim().is_empty() {
                        format!(" (reason: {})", reason.trim())
                    } else {
                        String::new()
                    }
                ),
                (true, true) => "The agency asked for a supplement.".into(),
            }
        }
        EventBody::Supplemented { due_at, .. } => {
            let due = due_at.map(date);
            match (en, due) {
                (false, Some(d)) => {
                    format!("Hồ sơ đã được bổ sung; ngày hẹn trả kết quả mới: {d}.")
                }
                (false, None) => "Hồ sơ đã được bổ sung.".into(),
                (true, Some(d)) => {
                    format!("The supplement was provided; new appointment: {d}.")
                }
                (true, None) => "The supplement was provided.".into(),
            }
        }
        EventBody::Refused { reasons } => {
            let r = if detail { list(reasons) } else { String::new() };
            if en {
                format!("The dossier was not accepted{}.", why(&r))
            } else {
                format!("Hồ sơ không được tiếp nhận{}.", why(&r))
            }
        }
        EventBody::Assigned { .. } | EventBody::SentBack { .. } => return None,
        EventBody::StepCompleted { to_agency, .. } | EventBody::Approved { to_agency, .. } => {
            if en {
                format!("The dossier is being processed {}.", agency(to_agency))
            } else {
                format!("Hồ sơ đang được giải quyết {}.", agency(to_agency))
            }
        }
        EventBody::TransferredToAgency { to_agency, .. } => {
            if en {
                format!(
                    "The dossier was sent on for inter-agency processing {}.",
                    agency(to_agency)
                )
            } else {
                format!(
                    "Hồ sơ được chuyển liên thông để giải quyết {}.",
                    agency(to_agency)
                )
            }
        }
        EventBody::PaymentRequested { amount_vnd, reason } => {
            if en {
                format!(
                    "Please pay {}{}; the time limit stops until payment.",
                    money(*amount_vnd),
                    why(reason)
                )
            } else {
                format!(
                    "Đề nghị nộp {}{}; thời hạn giải quyết tạm dừng đến khi nộp.",
                    money(*amount_vnd),
                    why(reason)
                )
            }
        }
        EventBody::PaymentConfirmed { due_at, .. } => {
            let due = due_at.map(date).unwrap_or_default();
            match (en, due.is_empty()) {
                (false, false) => format!("Đã xác nhận nộp phí, lệ phí; ngày hẹn trả: {due}."),
                (false, true) => "Đã xác nhận nộp phí, lệ phí.".into(),
                (true, false) => format!("Payment confirmed; appointment: {due}."),
                (true, true) => "Payment confirmed.".into(),
            }
        }
        EventBody::FeePaid {
            amount_vnd, method, ..
        } => {
            if en {
                format!("{} paid ({}).", money(*amount_vnd), method.label_en())
            } else {
                format!("Đã nộp {} ({}).", money(*amount_vnd), method.label_vi())
            }
        }
        EventBody::FeeExempted { amount_vnd, reason } => {
            if en {
                format!(
                    "{} of the fees was waived{}.",
                    money(*amount_vnd),
                    why(reason)
                )
            } else {
                format!("Được miễn, giảm {}{}.", money(*amount_vnd), why(reason))
            }
        }
        EventBody::ResultReady { summary, .. } => {
            if en {
                format!("The result is ready{}.", why(summary))
            } else {
                format!("Đã có kết quả giải quyết{}.", why(summary))
            }
        }
        EventBody::ResultReturned { method, .. } => match (method, en) {
            (ReturnMethod::Counter, false) => "Kết quả đã được trả tại bộ phận một cửa.".into(),
            (ReturnMethod::Counter, true) => "The result was handed over at the desk.".into(),
            (ReturnMethod::Online, false) => "Kết quả đã được trả trực tuyến.".into(),
            (ReturnMethod::Online, true) => "The result was delivered online.".into(),
            (ReturnMethod::Post, false) => "Kết quả đã được gửi qua bưu chính.".into(),
            (ReturnMethod::Post, true) => "The result was sent by post.".into(),
        },
        EventBody::Withdrawn { reason } => {
            if en {
                format!("The dossier was withdrawn{}.", why(reason))
            } else {
                format!("Hồ sơ đã được rút theo đề nghị{}.", why(reason))
            }
        }
        EventBody::ProcessingStopped { reason } => {
            if en {
                format!("The agency stopped processing the dossier{}.", why(reason))
            } else {
                format!("Cơ quan đã dừng giải quyết hồ sơ{}.", why(reason))
            }
        }
        EventBody::ApologyIssued {
            reason, new_due_at, ..
        } => {
            if en {
                format!(
                    "The agency apologised for the delay{}; new appointment: {}.",
                    why(reason),
                    date(*new_due_at)
                )
            } else {
                format!(
                    "Cơ quan gửi văn bản xin lỗi vì giải quyết chậm{}; ngày hẹn trả mới: {}.",
                    why(reason),
                    date(*new_due_at)
                )
            }
        }
        EventBody::Rated { score, .. } => {
            if en {
                format!("You rated the service {score}/5.")
            } else {
                format!("Bạn đã đánh giá mức độ hài lòng: {score}/5.")
            }
        }
        EventBody::PostalChoiceChanged { choice } => {
            let mut parts: Vec<String> = Vec::new();
            if let Some(a) = &choice.pickup {
                parts.push(match (en, detail) {
                    (false, true) => format!("thu gom hồ sơ tại {}", a.one_line()),
                    (true, true) => format!("pickup of the dossier at {}", a.one_line()),
                    (false, false) => "thu gom hồ sơ tại nhà".into(),
                    (true, false) => "pickup of the dossier at home".into(),
                });
            }
            if let Some(a) = &choice.return_to {
                parts.push(match (en, detail) {
                    (false, true) => format!("trả kết quả qua bưu chính đến {}", a.one_line()),
                    (true, true) => format!("return of the result by post to {}", a.one_line()),
                    (false, false) => "trả kết quả qua bưu chính".into(),
                    (true, false) => "return of the result by post".into(),
                });
            }
            match (parts.is_empty(), en) {
                (true, false) => "Đã bỏ chọn dịch vụ bưu chính công ích.".into(),
                (true, true) => "The postal service is no longer used.".into(),
                (false, false) => format!("Dịch vụ bưu chính công ích: {}.", parts.join("; ")),
                (false, true) => format!("Public postal service: {}.", parts.join("; ")),
            }
        }
        EventBody::PostalStatusReported {
            order_number,
            item_code,
            state,
            happened_at,
            ..
        } => {
            let kind = super::postal::parse_order_number(order_number)
                .map_or(super::PostalKind::Return, |(_, k)| k);
            let item = item_code
                .as_deref()
                .map(|c| {
                    if en {
                        format!(" (tracking number {c})")
                    } else {
                        format!(" (mã vận đơn {c})")
                    }
                })
                .unwrap_or_default();
            let what = match (kind, en) {
                (super::PostalKind::Pickup, false) => "thu gom hồ sơ",
                (super::PostalKind::Pickup, true) => "dossier pickup",
                (super::PostalKind::Return, false) => "trả kết quả",
                (super::PostalKind::Return, true) => "result delivery",
            };
            if en {
                format!(
                    "Post ({what}): {}{item} at {}.",
                    state.text(kind, true),
                    time(*happened_at)
                )
            } else {
                format!(
                    "Bưu điện ({what}): {}{item} lúc {}.",
                    state.text(kind, false),
                    time(*happened_at)
                )
            }
        }
        EventBody::NotificationsChanged { channels } => {
            let mut on: Vec<&str> = Vec::new();
            if channels.email {
                on.push(if en { "e-mail" } else { "thư điện tử" });
            }
            if channels.sms {
                on.push("SMS");
            }
            if channels.zalo {
                on.push("Zalo");
            }
            match (on.is_empty(), en) {
                (true, true) => "You chose to receive no notices (follow the dossier here).".into(),
                (true, false) => {
                    "Bạn đã chọn không nhận thông báo (theo dõi hồ sơ tại trang này).".into()
                }
                (false, true) => format!("Notices now go by {}.", on.join(", ")),
                (false, false) => format!("Thông báo từ nay gửi qua {}.", on.join(", ")),
            }
        }
    })
}

/// One line of the history shown to the applicant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlainEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Local time, `HH:MM dd/mm/yyyy`.
    pub when: String,
    /// What happened, in plain words.
    pub text: String,
}

/// The history in plain words, oldest first; internal work is left out and repeated lines
/// (several steps at one agency) are shown once.
pub fn history<'a>(
    events: impl IntoIterator<Item = &'a Event>,
    en: bool,
    detail: bool,
    names: AgencyNames,
) -> Vec<PlainEntry> {
    let mut out: Vec<PlainEntry> = Vec::new();
    for ev in events {
        let Some(text) = line(ev, en, detail, names) else {
            continue;
        };
        if out.last().is_some_and(|l| l.text == text) {
            continue;
        }
        out.push(PlainEntry {
            at: ev.at,
            when: time(ev.at),
            text,
        });
    }
    out
}

/// An e-mail to the applicant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// Recipient address.
    pub to: String,
    /// Subject, with the dossier code.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// Simple HTML body (every value escaped).
    pub html: String,
}

/// Escapes text for HTML.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn code_or_pending(d: &Dossier) -> String {
    d.code
        .as_ref()
        .map(|c| c.to_string())
        .unwrap_or_else(|| "chưa cấp mã".into())
}

/// The e-mail for `ev` (a status change of `after`), when the applicant gave an address:
/// Vietnamese, with the dossier code in the subject and the event in plain words.
pub fn email(after: &Dossier, ev: &Event) -> Option<Mail> {
    let to = after.applicant.email.as_deref()?.trim();
    if to.is_empty() {
        return None;
    }
    let what = line(ev, false, true, &|_| None)?;
    let code = code_or_pending(after);
    let status = status_text(after.status, false);
    let subject = format!("[Hồ sơ {code}] {status}");
    let due = after.due_at.map(date);
    let mut rows: Vec<(&str, String)> = vec![
        ("Mã hồ sơ", code.clone()),
        ("Thủ tục", after.procedure.name.clone()),
        ("Tình trạng", status.to_string()),
    ];
    if let Some(d) = &due {
        rows.push(("Ngày hẹn trả kết quả", d.clone()));
    }
    let greeting = format!("Kính gửi {},", after.applicant.name.trim());
    let footer = "Đây là thư tự động của hệ thống giải quyết thủ tục hành chính; vui lòng không trả lời thư này. Tra cứu hồ sơ bằng mã hồ sơ cùng số điện thoại hoặc số định danh cá nhân trên Cổng dịch vụ công.";
    let mut text = format!("{greeting}\n\n{what}\n\n");
    for (k, v) in &rows {
        text.push_str(&format!("{k}: {v}\n"));
    }
    text.push_str(&format!("\n{footer}\n"));
    let mut html = format!(
        "<!doctype html><html lang=\"vi\"><body style=\"font-family:Arial,sans-serif\"><p>{}</p><p><strong>{}</strong></p><table>",
        escape_html(&greeting),
        escape_html(&what)
    );
    for (k, v) in &rows {
        html.push_str(&format!(
            "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
            escape_html(k),
            escape_html(v)
        ));
    }
    html.push_str(&format!(
        "</table><p style=\"color:#57606a\">{}</p></body></html>",
        escape_html(footer)
    ));
    Some(Mail {
        to: to.to_string(),
        subject,
        text,
        html,
    })
}

/// Longest SMS text we send (a few concatenated Unicode parts).
pub const SMS_MAX_CHARS: usize = 300;

/// The SMS for `ev`, when the applicant gave a phone number: `(to, text)`.
pub fn sms(after: &Dossier, ev: &Event) -> Option<(String, String)> {
    let to = after.applicant.phone.as_deref()?.trim();
    if to.is_empty() {
        return None;
    }
    // Short: the status and the dates; details are on the tracking page and in the e-mail.
    let what = line(ev, false, false, &|_| None)?;
    let mut text = format!("Hồ sơ {}: {what}", code_or_pending(after));
    if text.chars().count() > SMS_MAX_CHARS {
        text = text.chars().take(SMS_MAX_CHARS - 1).collect::<String>() + "…";
    }
    Some((to.to_string(), text))
}

/// The values a notice template per event may use (SMS gateway or Zalo ZNS templates), all
/// as text: `ma_ho_so`, `ten_thu_tuc` (cut to 100 characters, as ZNS parameters are short),
/// `trang_thai`, `ngay_hen` (dd/mm/yyyy or empty), `ten_nguoi_nop`, `noi_dung` (the event in
/// plain words, without officers' free text).
pub fn params(after: &Dossier, ev: &Event) -> serde_json::Value {
    let cut = |s: &str, n: usize| -> String {
        if s.chars().count() > n {
            s.chars().take(n - 1).collect::<String>() + "…"
        } else {
            s.to_string()
        }
    };
    serde_json::json!({
        "ma_ho_so": code_or_pending(after),
        "ten_thu_tuc": cut(after.procedure.name.trim(), 100),
        "trang_thai": status_text(after.status, false),
        "ngay_hen": after.due_at.map(date).unwrap_or_default(),
        "ten_nguoi_nop": cut(after.applicant.name.trim(), 100),
        "noi_dung": cut(&line(ev, false, false, &|_| None).unwrap_or_default(), 200),
    })
}

/// The applicant's initials only, e.g. "N.T.L." for "Nguyễn Thị Lan" (the public lookup shows
/// nothing more of who they are).
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .flat_map(|c| c.to_uppercase())
        .map(|c| format!("{c}."))
        .collect()
}
