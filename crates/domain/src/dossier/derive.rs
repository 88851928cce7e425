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
/// Outbox topic of the EMC tracking calls (monitoring of online-service use, §7.2).
pub const EMC_TOPIC: &str = "emc.tracking";

/// EMC's `Status` for an event: 1 reception, 2 processing, 4 assignment, 3 result; `None`
/// for events EMC does not track.
fn emc_status(body: &EventBody) -> Option<u8> {
    match body {
        EventBody::Received { .. } => Some(1),
        EventBody::StepCompleted { .. }
        | EventBody::SentBack { .. }
        | EventBody::Approved { .. }
        | EventBody::TransferredToAgency { .. } => Some(2),
        EventBody::Assigned { .. } => Some(4),
        EventBody::ResultReady { .. } => Some(3),
        _ => None,
    }
}

/// The EMC tracking message of `ev` (`TrackingMCDT` body without `SiteId`, which the adapter
/// adds from its settings), for a dossier with a code.
fn emc_message(after: &Dossier, ev: &Event) -> Option<OutboxMessage> {
    let status = emc_status(&ev.body)?;
    let code = after.code.as_ref()?;
    let channel = after.channel;
    Some(OutboxMessage {
        topic: EMC_TOPIC.into(),
        key: format!("{code}:{}", after.version),
        payload: serde_json::json!({
            "CodeProfile": code.to_string(),
            "MaHoSo": code.to_string(),
            "CodeTTHC": after.procedure.code.to_string(),
            "NameTTHC": after.procedure.name,
            "Status": status,
            // 1 online, 2 direct (counter and post).
            "FormsReception": if channel == super::Channel::Online { 1 } else { 2 },
            // 0 no payment, 2 paid directly (online payment is not recorded as such yet).
            "FormsPayments": if after.payment.as_ref().is_some_and(|p| p.reference.is_some()) { 2 } else { 0 },
            // Online service level: 4 full (toàn trình), 3 partial, 2 none (§4; unconfirmed).
            "Level": match after.procedure.online_level {
                crate::procedure::OnlineLevel::Full => 4,
                crate::procedure::OnlineLevel::Partial => 3,
                crate::procedure::OnlineLevel::None => 2,
            },
            "IsFromDVCQG": u8::from(after.origin.as_ref().is_some_and(|o| o.system == super::ORIGIN_DVCQG)),
            // 0 in person, 1 VNPost, 2 other (online).
            "IsDVCBC": match channel {
                super::Channel::Counter => 0,
                super::Channel::Post => 1,
                super::Channel::Online => 2,
            },
            "User": serde_json::json!({
                "ID_local": after.owner.map(|o| o.to_string()).unwrap_or_default(),
                "ID_QG": "",
                "TYPE": if after.applicant.personal_id.is_some() { 1 } else { 4 },
                "LOCATION": ev.agency.to_string(),
            }).to_string(),
            "Data": "",
            "ThoiDiem": ev.at,
        }),
    })
}

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
        let mut payload = serde_json::json!({
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
        });
        // The dossier's first message to the portal (this event gave it its code) creates it
        // there; later ones update it: delivered in order per dossier, the first has arrived
        // before a later one goes (a dead letter holds the later ones back).
        payload["LanDauDongBo"] =
            serde_json::Value::Bool(before.and_then(|b| b.code.as_ref()).is_none());
        // Filed on the portal: the portal has the dossier already under its own code (update
        // it, never create it again).
        if let Some(o) = after
            .origin
            .as_ref()
            .filter(|o| o.system == super::ORIGIN_DVCQG)
        {
            payload["MaHoSoQG"] = serde_json::Value::String(o.code.clone());
        }
        out.push(OutboxMessage {
            topic: "dvcqg.sync".into(),
            key: format!("{code}:{}", after.version),
            payload,
        });
    }
    out.extend(emc_message(after, ev));
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
