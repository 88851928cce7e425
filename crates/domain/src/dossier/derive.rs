//! What follows from an event besides the state: statistics counter increments, outbox
//! messages for national systems and notifications, and the hash chain. All pure, so that
//! statistics can be rebuilt from the log and must equal the live counters.

use super::{Dossier, Event, EventBody};
use crate::codes::AgencyCode;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One increment of a statistics counter, keyed by agency, local day and metric.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CounterDelta {
    /// Agency the figure belongs to.
    pub agency: AgencyCode,
    /// Local (Vietnam) calendar day.
    pub day: NaiveDate,
    /// Metric name, e.g. `received_online`, `resolved_on_time`, `rating_sum`.
    pub metric: String,
    /// Amount to add.
    pub delta: i64,
}

/// A message to deliver outside, written in the same transaction as the event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// Target, e.g. `dvcqg.sync` (national portal), `email` or `sms`.
    pub topic: String,
    /// Idempotency key for the receiver.
    pub key: String,
    /// Body.
    pub payload: serde_json::Value,
}

/// Vietnam is UTC+7 all year; statistics days are local days.
fn local_day(ev: &Event) -> NaiveDate {
    (ev.at + Duration::hours(7)).date_naive()
}

/// Counter increments caused by `ev`, given the state after it.
pub fn counter_deltas(after: &Dossier, ev: &Event) -> Vec<CounterDelta> {
    let day = local_day(ev);
    let one = |agency: &AgencyCode, metric: String| CounterDelta {
        agency: agency.clone(),
        day,
        metric,
        delta: 1,
    };
    match &ev.body {
        EventBody::Submitted { channel, .. } => {
            vec![one(
                &after.receiving_agency,
                format!("submitted_{}", channel.as_str()),
            )]
        }
        EventBody::Received { .. } => vec![one(
            &after.receiving_agency,
            format!("received_{}", after.channel.as_str()),
        )],
        EventBody::Refused { .. } => vec![one(&after.receiving_agency, "refused".into())],
        EventBody::ResultReady { timeliness, .. } => vec![one(
            &after.competent_agency,
            format!("resolved_{}", timeliness.as_str()),
        )],
        EventBody::ResultReturned { .. } => vec![one(&after.receiving_agency, "returned".into())],
        EventBody::Withdrawn { .. } => vec![one(&after.competent_agency, "withdrawn".into())],
        EventBody::ProcessingStopped { .. } => vec![one(&after.competent_agency, "stopped".into())],
        EventBody::ApologyIssued { .. } => vec![one(&after.competent_agency, "apologies".into())],
        EventBody::SupplementRequested { .. } => {
            vec![one(&after.current_agency, "supplement_requests".into())]
        }
        EventBody::Rated { score, .. } => vec![
            one(&after.receiving_agency, "rated".into()),
            CounterDelta {
                agency: after.receiving_agency.clone(),
                day,
                metric: "rating_sum".into(),
                delta: *score as i64,
            },
        ],
        _ => Vec::new(),
    }
}

/// Outbox topic of e-mails to applicants.
pub const EMAIL_TOPIC: &str = "email";
/// Outbox topic of SMS to applicants.
pub const SMS_TOPIC: &str = "sms";
/// Outbox topic of Zalo notifications (ZNS) to applicants.
pub const ZALO_TOPIC: &str = "zalo";

/// Outbox messages caused by `ev`: a national-portal sync whenever a received dossier's national
/// status changes or it moves between agencies, and an e-mail and an SMS to the applicant on status changes (when they gave an address or
/// number).
pub fn outbox_messages(
    before: Option<&Dossier>,
    after: &Dossier,
    ev: &Event,
) -> Vec<OutboxMessage> {
    let mut out = Vec::new();
    let status_changed = before.is_none_or(|b| b.status != after.status);
    let moved = matches!(ev.body, EventBody::TransferredToAgency { .. });
    // A process step on the national portal: the dossier moved between workflow steps.
    let stepped = matches!(
        ev.body,
        EventBody::StepCompleted { .. } | EventBody::SentBack { .. }
    );
    if let Some(code) = &after.code
        && (status_changed || moved || stepped)
    {
        out.push(OutboxMessage {
            topic: "dvcqg.sync".into(),
            key: format!("{code}:{}", after.version),
            payload: serde_json::json!({
                "MaHoSo": code.to_string(),
                "MaTTHC": after.procedure.code.to_string(),
                "TrangThaiHoSo": after.status.national_code(),
                "KenhThucHien": match after.channel {
                    super::Channel::Counter => 1,
                    super::Channel::Online => 2,
                    super::Channel::Post => 3,
                },
                "DonViXuLy": after.current_agency.to_string(),
                "NgayTiepNhan": after.received_at,
                "NgayHenTra": after.due_at,
                "NgayKetThucXuLy": after.finished_at,
                "SuKien": ev.body.kind(),
                "ThoiDiem": ev.at,
                "TenTTHC": after.procedure.name,
                "ChuHoSo": after.applicant.name,
                "SoGiayToChuHoSo": after.applicant.personal_id.as_ref().map(|p| p.to_string()),
                "SoDienThoai": after.applicant.phone,
                "Email": after.applicant.email,
                "NgayNopHoSo": after.submitted_at,
                "NgayTra": after.returned_at,
                // The process step this event is (QuaTrinhXuLyDongBoDVC); the processing
                // dates are mandatory on the portal, so the deadline falls back to the
                // appointment and then to the event's own time.
                "QuaTrinh": [{
                    "NguoiXuLy": ev.actor.name,
                    "ChucDanh": ev.actor.role.label_vi(),
                    "ThoiDiemXuLy": ev.at,
                    "PhongBanXuLy": ev.agency.to_string(),
                    "NoiDungXuLy": ev.note.clone().unwrap_or_else(|| ev.body.label_vi().to_string()),
                    "TrangThai": after.status.national_code(),
                    "NgayBatDau": ev.at,
                    "NgayKetThucTheoQuyDinh": after.step_due_at.or(after.due_at).unwrap_or(ev.at),
                }],
            }),
        });
    }
    // Orders to the post: each order the event placed (a pickup with an online submission, a
    // return when the result is handed to the post), keyed by its order number.
    let placed = before.map_or(0, |b| b.postal_orders.len());
    for o in after.postal_orders.iter().skip(placed) {
        out.push(postal_order_message(after, o));
    }
    // The applicant hears of every status change through the channels they chose (by default
    // e-mail and SMS) when they gave an address or number (keys start with the dossier:
    // delivery is in order per dossier).
    let channels = after.applicant.channels();
    if status_changed {
        if channels.email
            && let Some(mail) = super::notice::email(after, ev)
        {
            out.push(OutboxMessage {
                topic: EMAIL_TOPIC.into(),
                key: format!("{}:{}", after.id, after.version),
                payload: serde_json::json!({
                    "dossier_id": after.id,
                    "code": after.code.as_ref().map(|c| c.to_string()),
                    "status": after.status.as_str(),
                    "event": ev.body.kind(),
                    "to": mail.to,
                    "subject": mail.subject,
                    "text": mail.text,
                    "html": mail.html,
                }),
            });
        }
        if let Some((to, text)) = super::notice::sms(after, ev) {
            // The template parameters travel with the text, so that a gateway's or Zalo's
            // templates per event can be filled (`params`), the text being the fallback.
            let params = super::notice::params(after, ev);
            if channels.sms {
                out.push(OutboxMessage {
                    topic: SMS_TOPIC.into(),
                    key: format!("{}:{}", after.id, after.version),
                    payload: serde_json::json!({
                        "dossier_id": after.id,
                        "code": after.code.as_ref().map(|c| c.to_string()),
                        "status": after.status.as_str(),
                        "event": ev.body.kind(),
                        "to": to,
                        "text": text,
                        "params": params,
                    }),
                });
            }
            if channels.zalo {
                out.push(OutboxMessage {
                    topic: ZALO_TOPIC.into(),
                    key: format!("{}:{}", after.id, after.version),
                    payload: serde_json::json!({
                        "dossier_id": after.id,
                        "code": after.code.as_ref().map(|c| c.to_string()),
                        "status": after.status.as_str(),
                        "event": ev.body.kind(),
                        "to": to,
                        "text": text,
                        "params": params,
                    }),
                });
            }
        }
    }
    out
}

/// The outbox message of one order to the post (the adapter adds the centre's side and the
/// customer code from its settings).
fn postal_order_message(d: &Dossier, o: &super::PostalOrder) -> OutboxMessage {
    let code = d.code.as_ref().map(|c| c.to_string());
    let description = match o.kind {
        super::PostalKind::Pickup => format!("Thu gom hồ sơ: {}", d.procedure.name),
        super::PostalKind::Return => format!(
            "Trả kết quả hồ sơ {}: {}",
            code.as_deref().unwrap_or_default(),
            d.result.as_deref().unwrap_or(&d.procedure.name)
        ),
    };
    let items: Vec<&str> = match o.kind {
        super::PostalKind::Pickup => d.documents.iter().map(|x| x.name.as_str()).collect(),
        super::PostalKind::Return => d.result_documents.iter().map(|x| x.name.as_str()).collect(),
    };
    OutboxMessage {
        topic: super::VNPOST_TOPIC.into(),
        // The dossier first: delivery is in order per dossier; the post's key is OrderNumber.
        key: format!("{}:{}", d.id, o.order_number),
        payload: serde_json::json!({
            "OrderNumber": o.order_number,
            "kind": o.kind.as_str(),
            "dossier_id": d.id,
            "code": code,
            "agency": d.receiving_agency.to_string(),
            "address": o.address,
            "Description": description,
            "items": items,
            "CODAmount": 0,
        }),
    }
}

/// Hash of an event in its dossier's chain: SHA-256 over the previous hash, the sequence number
/// and the event's canonical JSON, hex-encoded. The first event's previous hash is empty.
pub fn event_hash(prev_hash: &str, seq: u64, event_json: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"|");
    h.update(seq.to_string().as_bytes());
    h.update(b"|");
    h.update(event_json.as_bytes());
    hex::encode(h.finalize())
}
