//! The documents people hold, as PDF (Circular 03/2025 forms 01-06): built from a dossier's
//! state, its history (the record), its procedure snapshot and agency names, for whoever may
//! read the dossier (the same authorization as `GET /dossiers/{id}`).

use crate::AppState;
use crate::api::dossiers::{load_visible, parse_id};
use crate::auth::Auth;
use crate::error::ApiError;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use motcua_documents as docs;
use motcua_domain::agency::{Agency, Role};
use motcua_domain::codes::AgencyCode;
use motcua_domain::dossier::{Channel, Dossier, Event, EventBody};
use motcua_domain::status::Timeliness;
use motcua_store::StoredEvent;
use std::collections::HashMap;

/// Which document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// 01 Giấy tiếp nhận hồ sơ và hẹn trả kết quả.
    Receipt,
    /// 02 Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ.
    Supplement,
    /// 03 Phiếu từ chối tiếp nhận giải quyết hồ sơ.
    Refusal,
    /// 04 Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết.
    Apology,
    /// 05 Thông báo dừng giải quyết hồ sơ.
    Stop,
    /// 06 Phiếu kiểm soát quá trình giải quyết hồ sơ.
    ControlSheet,
}

impl Kind {
    /// Every kind, as named in the URL.
    pub const ALL: [Kind; 6] = [
        Kind::Receipt,
        Kind::Supplement,
        Kind::Refusal,
        Kind::Apology,
        Kind::Stop,
        Kind::ControlSheet,
    ];

    /// Name in the URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Receipt => "receipt",
            Kind::Supplement => "supplement",
            Kind::Refusal => "refusal",
            Kind::Apology => "apology",
            Kind::Stop => "stop",
            Kind::ControlSheet => "control-sheet",
        }
    }

    /// Parses the URL name.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Start of the file name (Vietnamese, without diacritics).
    fn file_prefix(self) -> &'static str {
        match self {
            Kind::Receipt => "giay-hen",
            Kind::Supplement => "phieu-bo-sung",
            Kind::Refusal => "phieu-tu-choi",
            Kind::Apology => "van-ban-xin-loi",
            Kind::Stop => "thong-bao-dung",
            Kind::ControlSheet => "phieu-kiem-soat",
        }
    }

    /// Prefix of the document's number.
    fn number_prefix(self) -> &'static str {
        match self {
            Kind::Receipt => "GTN",
            Kind::Supplement => "PBS",
            Kind::Refusal => "PTC",
            Kind::Apology => "PXL",
            Kind::Stop => "TBD",
            Kind::ControlSheet => "PKS",
        }
    }
}

/// A dossier's document as PDF: `receipt` (01, with a QR code to the public tracking page),
/// `supplement` (02, the latest request), `refusal` (03), `apology` (04, the latest letter),
/// `stop` (05, withdrawal or stop) or `control-sheet` (06, one row per hand-over). A document the
/// dossier does not have (yet) is a 409.
#[utoipa::path(get, path = "/api/v1/dossiers/{id}/documents/{kind}", tag = "dossiers", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("kind" = String, Path, description = "receipt, supplement, refusal, apology, stop, control-sheet")),
    responses((status = 200, description = "The document (A5 PDF)", content_type = "application/pdf", body = Vec<u8>),
        (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
        (status = 404, description = "No such dossier (or not yours), or no such kind", body = crate::error::Problem),
        (status = 409, description = "The dossier has no such document (yet)", body = crate::error::Problem)))]
pub async fn document(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((id, kind)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let kind = Kind::parse(&kind).ok_or_else(|| {
        ApiError::not_found(format!(
            "no document kind `{kind}`; one of: receipt, supplement, refusal, apology, stop, control-sheet"
        ))
        .field("kind")
    })?;
    let v = load_visible(&s, &actor, id).await?;
    let log = s.store.history(id).await?;
    let agencies: HashMap<AgencyCode, Agency> = s
        .store
        .agencies()
        .await?
        .into_iter()
        .map(|a| (a.code.clone(), a))
        .collect();
    let src = Source {
        d: v.get(),
        log: &log,
        agencies: &agencies,
        public_url: s.public_url(),
    };
    let doc = build(&src, kind)?;
    let file = filename(kind, v.get());
    // About 10 ms of CPU: off the request threads.
    let pdf = tokio::task::spawn_blocking(move || doc.render())
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    metrics::counter!("motcua_documents_rendered_total", "kind" => kind.as_str()).increment(1);
    let mut res = (StatusCode::OK, pdf).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("inline; filename=\"{file}\""))
            .map_err(ApiError::internal)?,
    );
    // Personal data: never kept by shared caches.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}

/// `giay-hen-<dossier code>.pdf`, with only ASCII letters, digits, `.` and `-`.
pub fn filename(kind: Kind, d: &Dossier) -> String {
    let id = d
        .code
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| d.id.to_string());
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{}-{safe}.pdf", kind.file_prefix())
}

/// What a document is built from.
pub struct Source<'a> {
    /// The dossier (already authorized).
    pub d: &'a Dossier,
    /// Its history.
    pub log: &'a [StoredEvent],
    /// Agencies by code, for names.
    pub agencies: &'a HashMap<AgencyCode, Agency>,
    /// Public base address for the tracking link.
    pub public_url: &'a str,
}

/// Vietnam is UTC+7 all year; documents show local time.
fn local(t: DateTime<Utc>) -> NaiveDateTime {
    (t + chrono::Duration::hours(7)).naive_utc()
}

fn step_result(t: Timeliness) -> docs::StepResult {
    match t {
        Timeliness::Early => docs::StepResult::Early,
        Timeliness::OnTime => docs::StepResult::OnTime,
        Timeliness::Late => docs::StepResult::Late,
    }
}

fn unavailable(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "document-not-available",
        "Document not available",
        what,
    )
}

impl Source<'_> {
    fn name(&self, code: &AgencyCode) -> String {
        self.agencies
            .get(code)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| code.to_string())
    }

    /// The top of the agency tree (the provincial committee).
    fn root(&self, code: &AgencyCode) -> Option<&Agency> {
        let mut cur = self.agencies.get(code)?;
        // Bounded: a cycle in the data must not hang the request.
        for _ in 0..16 {
            match cur.parent.as_ref().and_then(|p| self.agencies.get(p)) {
                Some(p) => cur = p,
                None => break,
            }
        }
        Some(cur)
    }

    /// The province's name for "<place>, ngày ..." (the root committee's name without its title).
    fn place(&self, code: &AgencyCode) -> String {
        let root = self.root(code).map(|a| a.name.clone()).unwrap_or_default();
        for title in [
            "UBND tỉnh ",
            "UBND thành phố ",
            "Ủy ban nhân dân tỉnh ",
            "Ủy ban nhân dân thành phố ",
        ] {
            if let Some(rest) = root.strip_prefix(title) {
                return rest.to_string();
            }
        }
        root
    }

    fn code(&self) -> Option<String> {
        self.d.code.as_ref().map(ToString::to_string)
    }

    fn code_or_id(&self) -> String {
        self.code().unwrap_or_else(|| self.d.id.to_string())
    }

    fn header(&self, kind: Kind, issuing: &AgencyCode, at: DateTime<Utc>) -> docs::Header {
        let governing = self
            .agencies
            .get(issuing)
            .and_then(|a| a.parent.as_ref())
            .map(|p| self.name(p))
            .unwrap_or_else(|| self.name(issuing));
        docs::Header {
            governing_body: governing,
            issuing_body: self.name(issuing),
            number: format!("{}-{}", kind.number_prefix(), self.code_or_id()),
            place: self.place(issuing),
            date: local(at).date(),
        }
    }

    fn person(&self) -> docs::Person {
        let a = &self.d.applicant;
        docs::Person {
            name: a.name.clone(),
            personal_id: a.personal_id.as_ref().map(ToString::to_string),
            address: a.address.clone(),
            phone: a.phone.clone(),
            email: a.email.clone(),
        }
    }

    /// The latest event matching `f`.
    fn last(&self, f: impl Fn(&EventBody) -> bool) -> Option<&Event> {
        self.log.iter().rev().map(|e| &e.event).find(|e| f(&e.body))
    }

    fn step_label(&self, step: &str) -> String {
        match self.d.procedure.step(step) {
            Some(s) => format!("{} ({})", s.name, self.name(&s.agency)),
            None => step.to_string(),
        }
    }
}

/// Builds the input of `kind` from the dossier, or says why it does not exist.
pub fn build(s: &Source, kind: Kind) -> Result<docs::Document, ApiError> {
    let d = s.d;
    match kind {
        Kind::Receipt => {
            let ev = s
                .last(|b| matches!(b, EventBody::Received { .. }))
                .ok_or_else(|| {
                    unavailable("the dossier has not been received yet: no receipt was issued")
                })?;
            let EventBody::Received { code, due_at, .. } = &ev.body else {
                return Err(ApiError::internal("matched a received event"));
            };
            let desk = s.name(&d.receiving_agency);
            let result_place = match d.channel {
                Channel::Online => format!(
                    "Trực tuyến (tài khoản dịch vụ công của người nộp) hoặc Bộ phận tiếp nhận và trả kết quả {desk}"
                ),
                Channel::Post => format!(
                    "Qua dịch vụ bưu chính công ích, hoặc Bộ phận tiếp nhận và trả kết quả {desk}"
                ),
                Channel::Counter => format!("Bộ phận tiếp nhận và trả kết quả {desk}"),
            };
            Ok(docs::Document::Receipt(docs::Receipt {
                header: s.header(kind, &ev.agency, ev.at),
                dossier_code: code.to_string(),
                receiving_office: desk,
                applicant: s.person(),
                procedure: d.procedure.name.clone(),
                documents: d.documents.iter().map(|x| x.name.clone()).collect(),
                sets: 1,
                time_limit: d.procedure.time_limit.label_vi(),
                received_at: local(ev.at),
                // The receipt's appointment, moved only by pauses (not by apologies).
                appointment: local(d.original_due_at.unwrap_or(*due_at)),
                result_place,
                receiver: ev.actor.name.clone(),
                tracking_url: format!("{}/tra-cuu?ma={code}", s.public_url),
            }))
        }
        Kind::Supplement => {
            let ev = s
                .last(|b| matches!(b, EventBody::SupplementRequested { .. }))
                .ok_or_else(|| unavailable("no supplement was requested for this dossier"))?;
            let EventBody::SupplementRequested { items, reason, .. } = &ev.body else {
                return Err(ApiError::internal("matched a supplement request"));
            };
            let office = s.name(&ev.agency);
            Ok(docs::Document::Supplement(docs::SupplementNotice {
                header: s.header(kind, &ev.agency, ev.at),
                dossier_code: s.code(),
                contact: format!("{} ({office})", ev.actor.name),
                office,
                applicant: s.person(),
                procedure: d.procedure.name.clone(),
                items: items.clone(),
                reason: reason.clone(),
                officer: ev.actor.name.clone(),
            }))
        }
        Kind::Refusal => {
            let ev = s
                .last(|b| matches!(b, EventBody::Refused { .. }))
                .ok_or_else(|| unavailable("the dossier was not refused"))?;
            let EventBody::Refused { reasons } = &ev.body else {
                return Err(ApiError::internal("matched a refusal"));
            };
            Ok(docs::Document::Refusal(docs::RefusalNotice {
                header: s.header(kind, &ev.agency, ev.at),
                dossier_code: s.code(),
                office: s.name(&ev.agency),
                applicant: s.person(),
                procedure: d.procedure.name.clone(),
                reasons: reasons.clone(),
                officer: ev.actor.name.clone(),
            }))
        }
        Kind::Apology => {
            let ev = s
                .last(|b| matches!(b, EventBody::ApologyIssued { .. }))
                .ok_or_else(|| unavailable("no apology letter was issued for this dossier"))?;
            let EventBody::ApologyIssued {
                reason,
                previous_due_at,
                new_due_at,
            } = &ev.body
            else {
                return Err(ApiError::internal("matched an apology"));
            };
            Ok(docs::Document::Apology(docs::ApologyLetter {
                header: s.header(kind, &ev.agency, ev.at),
                dossier_code: s.code_or_id(),
                agency: s.name(&ev.agency),
                applicant: s.person(),
                procedure: d.procedure.name.clone(),
                received_at: local(d.received_at.unwrap_or(d.submitted_at)),
                original_appointment: local(*previous_due_at),
                reason: reason.clone(),
                new_appointment: local(*new_due_at),
                signer: ev.actor.name.clone(),
            }))
        }
        Kind::Stop => {
            let ev = s
                .last(|b| {
                    matches!(
                        b,
                        EventBody::Withdrawn { .. } | EventBody::ProcessingStopped { .. }
                    )
                })
                .ok_or_else(|| {
                    unavailable("processing of this dossier was not stopped or withdrawn")
                })?;
            let (cause, reason) = match &ev.body {
                EventBody::Withdrawn { reason } => (docs::StopCause::Withdrawn, reason),
                EventBody::ProcessingStopped { reason } => (docs::StopCause::Stopped, reason),
                _ => return Err(ApiError::internal("matched a stop")),
            };
            // A withdrawal asked by the citizen online is signed by the desk, by hand.
            let (office, officer) = if ev.actor.role == Role::Citizen {
                (d.receiving_agency.clone(), String::new())
            } else {
                (ev.agency.clone(), ev.actor.name.clone())
            };
            Ok(docs::Document::Stop(docs::StopNotice {
                header: s.header(kind, &office, ev.at),
                dossier_code: s.code(),
                office: s.name(&office),
                applicant: s.person(),
                procedure: d.procedure.name.clone(),
                received_at: local(d.received_at.unwrap_or(d.submitted_at)),
                cause,
                reason: reason.clone(),
                stopped_at: local(ev.at),
                officer,
            }))
        }
        Kind::ControlSheet => {
            let ev = s
                .last(|b| matches!(b, EventBody::Received { .. }))
                .ok_or_else(|| {
                    unavailable("the dossier has not been received yet: it has no control sheet")
                })?;
            let cooperating: Vec<String> = {
                let mut seen: Vec<&AgencyCode> = Vec::new();
                for st in &d.procedure.steps {
                    if st.agency != d.competent_agency
                        && st.agency != d.receiving_agency
                        && !seen.contains(&&st.agency)
                    {
                        seen.push(&st.agency);
                    }
                }
                seen.into_iter().map(|a| s.name(a)).collect()
            };
            Ok(docs::Document::ControlSheet(docs::ControlSheet {
                header: s.header(kind, &d.receiving_agency, ev.at),
                dossier_code: s.code_or_id(),
                applicant: s.person(),
                procedure: d.procedure.name.clone(),
                handling_agency: s.name(&d.competent_agency),
                cooperating,
                received_at: local(ev.at),
                appointment: local(d.due_at.unwrap_or(ev.at)),
                rows: hand_overs(s),
            }))
        }
    }
}

/// One row per hand-over, from the history; the receiver is whoever was assigned next.
fn hand_overs(s: &Source) -> Vec<docs::HandOver> {
    let d = s.d;
    let desk = format!("Bộ phận một cửa ({})", s.name(&d.receiving_agency));
    let mut rows: Vec<docs::HandOver> = Vec::new();
    let row = |from: String, to: String, e: &Event, result, note: &str| docs::HandOver {
        from_unit: from,
        to_unit: to,
        at: local(e.at),
        giver: e.actor.name.clone(),
        receiver: String::new(),
        result,
        note: note.to_string(),
    };
    for e in s.log.iter().map(|x| &x.event) {
        match &e.body {
            EventBody::Received { step, .. } => rows.push(row(
                desk.clone(),
                s.step_label(step),
                e,
                None,
                "Tiếp nhận hồ sơ",
            )),
            EventBody::StepCompleted {
                from,
                to,
                step_timeliness,
                ..
            } => rows.push(row(
                s.step_label(from),
                s.step_label(to),
                e,
                Some(step_result(*step_timeliness)),
                "",
            )),
            EventBody::Approved {
                from,
                to,
                step_timeliness,
                ..
            } => rows.push(row(
                s.step_label(from),
                s.step_label(to),
                e,
                Some(step_result(*step_timeliness)),
                "Lãnh đạo phê duyệt",
            )),
            EventBody::SentBack { from, to, .. } => rows.push(row(
                s.step_label(from),
                s.step_label(to),
                e,
                None,
                "Trả lại bước trước",
            )),
            EventBody::TransferredToAgency {
                from_agency,
                to_agency,
            } => rows.push(row(
                s.name(from_agency),
                s.name(to_agency),
                e,
                None,
                "Chuyển liên thông",
            )),
            EventBody::ResultReady { timeliness, .. } => rows.push(row(
                s.name(&e.agency),
                desk.clone(),
                e,
                Some(step_result(*timeliness)),
                "Có kết quả giải quyết",
            )),
            EventBody::ResultReturned { receiver, .. } => {
                let mut r = row(
                    desk.clone(),
                    d.applicant.name.clone(),
                    e,
                    None,
                    "Trả kết quả",
                );
                r.receiver = receiver.clone();
                rows.push(r);
            }
            EventBody::Assigned { name, .. } => {
                if let Some(last) = rows.last_mut()
                    && last.receiver.is_empty()
                {
                    last.receiver = name.clone();
                }
            }
            _ => {}
        }
    }
    rows
}
