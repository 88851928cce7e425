//! The dossier (hồ sơ) as an event log: `decide(state, command) -> events` and
//! `apply(state, event) -> state`. The history shown to people *is* this log.

mod apply;
mod by_tag;
mod decide;
mod derive;
pub mod notice;
pub mod postal;

pub use apply::{apply, replay};
pub use decide::{
    Attestation, CodeAllocator, Command, Ctx, SubmitData, attest, decide, valid_postal_tracking,
};
pub use derive::{
    CounterDelta, EMAIL_TOPIC, EMC_TOPIC, OutboxMessage, SMS_TOPIC, ZALO_TOPIC, counter_deltas,
    event_hash, outbox_messages,
};
pub use postal::{PostalAddress, PostalChoice, PostalKind, PostalOrder, PostalState, VNPOST_TOPIC};

use crate::agency::Actor;
use crate::codes::{AgencyCode, DossierCode, PersonalId};
use crate::payment::PaymentMethod;
use crate::procedure::{ProcedureSnapshot, ResolvedStep};
use crate::status::{Status, Timeliness};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How a dossier was submitted (national `KenhThucHien`: 1 counter, 2 online, 3 post).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Trực tiếp, at a one-stop counter.
    Counter,
    /// Trực tuyến.
    Online,
    /// Bưu chính công ích.
    Post,
}

impl Channel {
    /// Stable machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Counter => "counter",
            Channel::Online => "online",
            Channel::Post => "post",
        }
    }
}

/// How the result was handed over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnMethod {
    /// At the counter.
    Counter,
    /// Electronically (portal, applicant data store, e-mail).
    Online,
    /// By public postal service.
    Post,
}

/// The person or organisation the dossier is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Applicant {
    /// Full name or organisation name.
    pub name: String,
    /// 12-digit personal ID, when an individual.
    #[schema(value_type = Option<String>, example = "068095001234")]
    pub personal_id: Option<PersonalId>,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Postal address.
    #[serde(default)]
    pub address: Option<String>,
    /// How the applicant wants to hear of status changes (absent: e-mail and SMS wherever an
    /// address or number was given, no Zalo); kept with the dossier, as the national systems
    /// do (`ThongBaoEmail`, `ThongBaoSMS`, `ThongBaoZalo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<NotifyChannels>,
}

/// The channels an applicant chose for notices about one dossier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotifyChannels {
    /// E-mail (to `email`).
    #[serde(default)]
    pub email: bool,
    /// SMS (to `phone`).
    #[serde(default)]
    pub sms: bool,
    /// Zalo notification (ZNS, to the Zalo account of `phone`).
    #[serde(default)]
    pub zalo: bool,
}

impl NotifyChannels {
    /// What applies when the applicant did not say: e-mail and SMS, not Zalo.
    pub const DEFAULT: NotifyChannels = NotifyChannels {
        email: true,
        sms: true,
        zalo: false,
    };
}

impl Applicant {
    /// The channels in force for this applicant.
    pub fn channels(&self) -> NotifyChannels {
        self.notify.unwrap_or(NotifyChannels::DEFAULT)
    }
}

/// Where an online dossier was filed when it was not filed here: the system (`dvcqg`, the
/// national public service portal) and that system's own dossier code. Kept on the dossier,
/// shown to staff, and sent back when the dossier syncs to that system.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Origin {
    /// The system it came from: `dvcqg` for the national portal.
    pub system: String,
    /// Its dossier code there (the portal's `MaHoSo`).
    pub code: String,
}

/// The system name of the national public service portal in an [`Origin`].
pub const ORIGIN_DVCQG: &str = "dvcqg";

/// How the applicant's identity was confirmed against a national source when the dossier was
/// submitted (766 indicator 4.5, "use of the population database"): set by the web layer where
/// it knows it, never by the client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IdentityCheck {
    /// The source: [`IDENTITY_POPULATION_DB`] (a desk officer's lookup in the national
    /// population database) or [`IDENTITY_VNEID`] (a VNeID-verified account).
    pub source: String,
}

/// [`IdentityCheck::source`] of a lookup in the national population database (CSDLQG về dân cư).
pub const IDENTITY_POPULATION_DB: &str = "csdlqgdc";
/// [`IdentityCheck::source`] of an account verified with VNeID.
pub const IDENTITY_VNEID: &str = "vneid";

/// A document attached to a dossier (a file in the blob store, or a paper component noted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentRef {
    /// Name of the component.
    pub name: String,
    /// Blob key of the digitized file, if any.
    #[serde(default)]
    pub file: Option<String>,
}

/// Why the clock is stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PauseKind {
    /// Waiting for the applicant's supplement.
    Supplement,
    /// Waiting for a financial obligation.
    Payment,
}

/// A stopped clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pause {
    /// Why.
    pub kind: PauseKind,
    /// Since when.
    #[serde(deserialize_with = "crate::instant::de")]
    pub since: DateTime<Utc>,
    /// Status to go back to when the clock runs again.
    pub resume_to: Status,
}

/// A financial obligation asked of the applicant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PaymentRequest {
    /// Amount in whole đồng.
    pub amount_vnd: i64,
    /// What it is for.
    pub reason: String,
    /// Payment reference once confirmed.
    pub reference: Option<String>,
}

/// What was settled of the fees: paid (any method) and waived, in whole đồng.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeeAccount {
    /// Paid so far.
    #[serde(default)]
    pub paid_vnd: i64,
    /// Waived so far (miễn, giảm).
    #[serde(default)]
    pub exempted_vnd: i64,
}

/// The satisfaction rating.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rating {
    /// 1 (very dissatisfied) to 5 (very satisfied).
    pub score: u8,
    /// Free comment.
    pub comment: Option<String>,
}

/// The state of a dossier: what folding its events gives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Dossier {
    /// Internal id.
    pub id: Uuid,
    /// Dossier code, issued at reception.
    #[schema(value_type = Option<String>, example = "000.00.01.H40-261123-0001")]
    pub code: Option<DossierCode>,
    /// The procedure as it was at submission.
    pub procedure: ProcedureSnapshot,
    /// The applicant.
    pub applicant: Applicant,
    /// The citizen account that owns the dossier, if submitted by one.
    pub owner: Option<Uuid>,
    /// How it was submitted.
    pub channel: Channel,
    /// Postal tracking number, when it came by post.
    #[serde(default)]
    pub postal_tracking: Option<String>,
    /// The system it was filed on, when not here (the national portal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// Components whose file is digitized data re-used from an earlier dossier (a component or
    /// a result of it), by name (absent from older states).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reused: Vec<String>,
    /// How the applicant's identity was confirmed at submission, if it was (absent from older
    /// states).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityCheck>,
    /// Agency whose desk received it.
    #[schema(value_type = String)]
    pub receiving_agency: AgencyCode,
    /// Agency competent to decide.
    #[schema(value_type = String)]
    pub competent_agency: AgencyCode,
    /// Agency holding it now.
    #[schema(value_type = String)]
    pub current_agency: AgencyCode,
    /// Current status.
    pub status: Status,
    /// Current workflow step, once received.
    pub step: Option<String>,
    /// Steps passed, most recent last (for sending back).
    pub trail: Vec<String>,
    /// Staff member assigned in the current agency.
    pub assignee: Option<Uuid>,
    /// Documents submitted and supplemented.
    pub documents: Vec<DocumentRef>,
    /// E-form data.
    pub form: serde_json::Value,
    /// Submission time.
    #[serde(deserialize_with = "crate::instant::de")]
    pub submitted_at: DateTime<Utc>,
    /// Reception time.
    #[serde(default, deserialize_with = "crate::instant::de_opt")]
    pub received_at: Option<DateTime<Utc>>,
    /// Appointment (may move with pauses and apologies).
    #[serde(default, deserialize_with = "crate::instant::de_opt")]
    pub due_at: Option<DateTime<Utc>>,
    /// Appointment first given on the receipt, moved only by pauses.
    #[serde(default, deserialize_with = "crate::instant::de_opt")]
    pub original_due_at: Option<DateTime<Utc>>,
    /// When the current step is due.
    #[serde(default, deserialize_with = "crate::instant::de_opt")]
    pub step_due_at: Option<DateTime<Utc>>,
    /// Stopped clock, if any.
    pub pause: Option<Pause>,
    /// Supplement requests after reception (more than one makes it late).
    pub supplement_requests: u32,
    /// Financial obligation, if any.
    pub payment: Option<PaymentRequest>,
    /// Fees paid and waived (absent from states stored before payments were recorded).
    #[serde(default)]
    pub fees: FeeAccount,
    /// Apology letters issued.
    pub apologies: u32,
    /// Whether a leader approved.
    pub approved: bool,
    /// Result summary, once ready.
    pub result: Option<String>,
    /// Result documents.
    pub result_documents: Vec<DocumentRef>,
    /// End of processing (result ready, refusal, withdrawal or stop).
    #[serde(default, deserialize_with = "crate::instant::de_opt")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Early / on time / late, once finished with a result.
    pub timeliness: Option<Timeliness>,
    /// When the result was handed over.
    #[serde(default, deserialize_with = "crate::instant::de_opt")]
    pub returned_at: Option<DateTime<Utc>>,
    /// The rating.
    pub rating: Option<Rating>,
    /// What the applicant asked of the post (pickup, return by post).
    #[serde(default, skip_serializing_if = "postal::PostalChoice::is_empty")]
    pub postal: postal::PostalChoice,
    /// Orders placed with the post, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub postal_orders: Vec<postal::PostalOrder>,
    /// Number of events applied.
    pub version: u64,
}

impl Dossier {
    /// The current step, resolved.
    pub fn current_step(&self) -> Option<&ResolvedStep> {
        self.step.as_deref().and_then(|s| self.procedure.step(s))
    }

    /// What the applicant owes now, in đồng: the procedure's fee (lệ phí, phí) plus the
    /// financial obligation requested, minus what was paid or waived; never below zero. An
    /// obligation confirmed before payments were recorded (no payment, no waiver) counts as
    /// settled.
    pub fn owed_vnd(&self) -> i64 {
        let requested = match &self.payment {
            Some(p)
                if p.reference.is_some()
                    && self.fees.paid_vnd == 0
                    && self.fees.exempted_vnd == 0 =>
            {
                0
            }
            Some(p) => p.amount_vnd,
            None => 0,
        };
        (self.procedure.fee_vnd.max(0) + requested - self.fees.paid_vnd - self.fees.exempted_vnd)
            .max(0)
    }

    /// Whether `actor` is the applicant's own account.
    pub fn is_owner(&self, actor: &Actor) -> bool {
        self.owner == Some(actor.user_id)
    }
}

/// One entry of a dossier's log: who did what, when, where, with a note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// When it happened.
    #[serde(deserialize_with = "crate::instant::de")]
    pub at: DateTime<Utc>,
    /// Who did it.
    pub actor: Actor,
    /// Agency where it happened.
    #[schema(value_type = String)]
    pub agency: AgencyCode,
    /// Free note from the actor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What happened.
    pub body: EventBody,
}

by_tag::event_body! {
/// What happened to a dossier.
// `Submitted` carries the procedure snapshot and is far larger than the rest; events are built
// once and stored, so the size difference costs nothing worth a Box. Written internally tagged
// by "type", read by the tag first (see `by_tag`).
#[allow(clippy::large_enum_variant)]
pub enum EventBody {
    /// The dossier was submitted.
    Submitted {
        /// Procedure snapshot.
        procedure: ProcedureSnapshot,
        /// Applicant.
        applicant: Applicant,
        /// Owning citizen account.
        owner: Option<Uuid>,
        /// Channel.
        channel: Channel,
        /// Receiving agency.
        #[schema(value_type = String)]
        receiving_agency: AgencyCode,
        /// Competent agency.
        #[schema(value_type = String)]
        competent_agency: AgencyCode,
        /// Documents.
        documents: Vec<DocumentRef>,
        /// E-form data.
        form: serde_json::Value,
        /// Postal tracking number (post only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        postal_tracking: Option<String>,
        /// The system it was filed on, when not here (absent from other submissions, so
        /// their hashes are unchanged).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<Origin>,
        /// Postal service asked for at submission (absent from older events).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        postal: Option<postal::PostalChoice>,
        /// Components re-using digitized data of an earlier dossier, by name (absent when none,
        /// so older events keep their hashes).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        reused: Vec<String>,
        /// The applicant's identity as confirmed against a national source (absent when not).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identity: Option<IdentityCheck>,
    },
    /// The desk received it: code and appointment issued (receipt, form 01).
    Received {
        /// Dossier code.
        #[schema(value_type = String)]
        code: DossierCode,
        /// When the clock started.
        #[serde(deserialize_with = "crate::instant::de")]
        clock_start: DateTime<Utc>,
        /// Appointment.
        #[serde(deserialize_with = "crate::instant::de")]
        due_at: DateTime<Utc>,
        /// Entry step.
        step: String,
        /// Entry step's agency.
        #[schema(value_type = String)]
        step_agency: AgencyCode,
        /// Entry step's deadline.
        #[serde(deserialize_with = "crate::instant::de")]
        step_due_at: DateTime<Utc>,
    },
    /// A supplement was requested (form 02).
    SupplementRequested {
        /// What to complete.
        items: Vec<String>,
        /// Why.
        reason: String,
        /// Whether before reception (clock not started).
        at_reception: bool,
    },
    /// The applicant supplied the supplement.
    Supplemented {
        /// Documents added.
        documents: Vec<DocumentRef>,
        /// Working minutes the clock stood still.
        paused_minutes: i64,
        /// New appointment, if the clock had started.
        #[serde(default, deserialize_with = "crate::instant::de_opt")]
        due_at: Option<DateTime<Utc>>,
        /// Receipt appointment moved by the pause.
        #[serde(default, deserialize_with = "crate::instant::de_opt")]
        original_due_at: Option<DateTime<Utc>>,
        /// New step deadline.
        #[serde(default, deserialize_with = "crate::instant::de_opt")]
        step_due_at: Option<DateTime<Utc>>,
    },
    /// Refused at reception (form 03).
    Refused {
        /// Reasons.
        reasons: Vec<String>,
    },
    /// A staff member was assigned.
    Assigned {
        /// User id.
        user_id: Uuid,
        /// Name.
        name: String,
    },
    /// A step was completed and the dossier moved forward.
    StepCompleted {
        /// Step left.
        from: String,
        /// Step entered.
        to: String,
        /// Agency of the step entered.
        #[schema(value_type = String)]
        to_agency: AgencyCode,
        /// Deadline of the step entered.
        #[serde(deserialize_with = "crate::instant::de")]
        step_due_at: DateTime<Utc>,
        /// How the step left compared with its deadline (control sheet, form 06).
        step_timeliness: Timeliness,
        /// Working files handed on with the step (absent from events written before they
        /// existed, so their hashes are unchanged).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        documents: Vec<DocumentRef>,
    },
    /// The dossier went to another agency (inter-agency, liên thông).
    TransferredToAgency {
        /// From.
        #[schema(value_type = String)]
        from_agency: AgencyCode,
        /// To.
        #[schema(value_type = String)]
        to_agency: AgencyCode,
    },
    /// Sent back to the previous step.
    SentBack {
        /// Step left.
        from: String,
        /// Step returned to.
        to: String,
        /// Agency of that step.
        #[schema(value_type = String)]
        to_agency: AgencyCode,
        /// Its new deadline.
        #[serde(deserialize_with = "crate::instant::de")]
        step_due_at: DateTime<Utc>,
    },
    /// A leader approved and the dossier moved on.
    Approved {
        /// Approval step.
        from: String,
        /// Step entered.
        to: String,
        /// Its agency.
        #[schema(value_type = String)]
        to_agency: AgencyCode,
        /// Its deadline.
        #[serde(deserialize_with = "crate::instant::de")]
        step_due_at: DateTime<Utc>,
        /// How the approval step compared with its deadline.
        step_timeliness: Timeliness,
    },
    /// A financial obligation was requested; the clock stops.
    PaymentRequested {
        /// Amount in đồng.
        amount_vnd: i64,
        /// What for.
        reason: String,
    },
    /// Payment confirmed; the clock runs again.
    PaymentConfirmed {
        /// Payment reference.
        reference: String,
        /// Working minutes the clock stood still.
        paused_minutes: i64,
        /// New appointment.
        #[serde(default, deserialize_with = "crate::instant::de_opt")]
        due_at: Option<DateTime<Utc>>,
        /// Receipt appointment moved by the pause.
        #[serde(default, deserialize_with = "crate::instant::de_opt")]
        original_due_at: Option<DateTime<Utc>>,
        /// New step deadline.
        #[serde(default, deserialize_with = "crate::instant::de_opt")]
        step_due_at: Option<DateTime<Utc>>,
    },
    /// A fee was paid: online through the national payment platform (recorded once the
    /// platform confirmed it) or at the counter.
    FeePaid {
        /// Payment reference (`MaThamChieu` online; the desk's reference at the counter).
        reference: String,
        /// Amount in đồng.
        amount_vnd: i64,
        /// How.
        method: PaymentMethod,
        /// The platform's transaction id (`MaGiaoDich`), online only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        transaction_id: Option<String>,
        /// Content address of the e-receipt (biên lai) stored with the dossier.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        receipt: Option<String>,
        /// Number of the paper or e-receipt issued.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        receipt_no: Option<String>,
    },
    /// A fee was waived in whole or in part (miễn, giảm) on a legal ground.
    FeeExempted {
        /// Amount waived in đồng.
        amount_vnd: i64,
        /// The legal ground.
        reason: String,
    },
    /// The result is ready (status 9).
    ResultReady {
        /// What the result is.
        summary: String,
        /// Result documents.
        documents: Vec<DocumentRef>,
        /// Early, on time or late.
        timeliness: Timeliness,
    },
    /// The result was handed over (status 10).
    ResultReturned {
        /// How.
        method: ReturnMethod,
        /// Who received it.
        receiver: String,
    },
    /// The applicant withdrew; notice to stop processing (form 05).
    Withdrawn {
        /// Reason given.
        reason: String,
    },
    /// The agency stopped processing.
    ProcessingStopped {
        /// Reason.
        reason: String,
    },
    /// Apology letter with a new appointment (form 04).
    ApologyIssued {
        /// Reason for the delay.
        reason: String,
        /// Appointment before.
        #[serde(deserialize_with = "crate::instant::de")]
        previous_due_at: DateTime<Utc>,
        /// New appointment.
        #[serde(deserialize_with = "crate::instant::de")]
        new_due_at: DateTime<Utc>,
    },
    /// The applicant (or the desk for them) changed how they hear of the dossier.
    NotificationsChanged {
        /// The channels now in force.
        channels: NotifyChannels,
    },
    /// The applicant (or the desk for them) chose or changed the postal service.
    PostalChoiceChanged {
        /// The choice now in force.
        choice: postal::PostalChoice,
    },
    /// The post reported a status of one of the dossier's orders.
    PostalStatusReported {
        /// Our order number.
        order_number: String,
        /// The tracking number the post issued (ItemCode), when it said.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item_code: Option<String>,
        /// The state.
        state: postal::PostalState,
        /// The post's own status code, as sent.
        status_code: String,
        /// When it happened, by the post's clock.
        #[serde(deserialize_with = "crate::instant::de")]
        happened_at: DateTime<Utc>,
    },
    /// The applicant rated the service.
    Rated {
        /// 1-5.
        score: u8,
        /// Comment.
        comment: Option<String>,
    },
}
}

impl EventBody {
    /// Stable machine name of the event type.
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::Submitted { .. } => "submitted",
            EventBody::Received { .. } => "received",
            EventBody::SupplementRequested { .. } => "supplement_requested",
            EventBody::Supplemented { .. } => "supplemented",
            EventBody::Refused { .. } => "refused",
            EventBody::Assigned { .. } => "assigned",
            EventBody::StepCompleted { .. } => "step_completed",
            EventBody::TransferredToAgency { .. } => "transferred_to_agency",
            EventBody::SentBack { .. } => "sent_back",
            EventBody::Approved { .. } => "approved",
            EventBody::PaymentRequested { .. } => "payment_requested",
            EventBody::PaymentConfirmed { .. } => "payment_confirmed",
            EventBody::FeePaid { .. } => "fee_paid",
            EventBody::FeeExempted { .. } => "fee_exempted",
            EventBody::ResultReady { .. } => "result_ready",
            EventBody::ResultReturned { .. } => "result_returned",
            EventBody::Withdrawn { .. } => "withdrawn",
            EventBody::ProcessingStopped { .. } => "processing_stopped",
            EventBody::ApologyIssued { .. } => "apology_issued",
            EventBody::Rated { .. } => "rated",
            EventBody::NotificationsChanged { .. } => "notifications_changed",
            EventBody::PostalChoiceChanged { .. } => "postal_choice_changed",
            EventBody::PostalStatusReported { .. } => "postal_status_reported",
        }
    }

    /// Vietnamese label for the history.
    pub fn label_vi(&self) -> &'static str {
        match self {
            EventBody::Submitted { .. } => "Nộp hồ sơ",
            EventBody::Received { .. } => "Tiếp nhận hồ sơ, cấp giấy hẹn",
            EventBody::SupplementRequested { .. } => "Yêu cầu bổ sung, hoàn thiện hồ sơ",
            EventBody::Supplemented { .. } => "Bổ sung hồ sơ",
            EventBody::Refused { .. } => "Từ chối tiếp nhận",
            EventBody::Assigned { .. } => "Phân công xử lý",
            EventBody::StepCompleted { .. } => "Chuyển bước xử lý",
            EventBody::TransferredToAgency { .. } => "Chuyển liên thông",
            EventBody::SentBack { .. } => "Trả lại bước trước",
            EventBody::Approved { .. } => "Lãnh đạo phê duyệt",
            EventBody::PaymentRequested { .. } => "Yêu cầu thực hiện nghĩa vụ tài chính",
            EventBody::PaymentConfirmed { .. } => "Xác nhận đã nộp phí, lệ phí",
            EventBody::FeePaid { .. } => "Nộp phí, lệ phí",
            EventBody::FeeExempted { .. } => "Miễn, giảm phí, lệ phí",
            EventBody::ResultReady { .. } => "Có kết quả",
            EventBody::ResultReturned { .. } => "Trả kết quả",
            EventBody::Withdrawn { .. } => "Rút hồ sơ, dừng giải quyết",
            EventBody::ProcessingStopped { .. } => "Dừng xử lý",
            EventBody::ApologyIssued { .. } => "Văn bản xin lỗi, hẹn lại ngày trả",
            EventBody::Rated { .. } => "Đánh giá mức độ hài lòng",
            EventBody::NotificationsChanged { .. } => "Thay đổi cách nhận thông báo",
            EventBody::PostalChoiceChanged { .. } => "Chọn dịch vụ bưu chính công ích",
            EventBody::PostalStatusReported { .. } => "Bưu điện cập nhật trạng thái",
        }
    }
}

/// Why a command was refused. Nothing is written when this is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The action does not apply in the dossier's status (or step).
    #[error("`{action}` is not allowed while the dossier is `{status}`")]
    NotAllowed {
        /// Action name.
        action: &'static str,
        /// Status name.
        status: &'static str,
    },
    /// The actor may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A field of the command is invalid.
    #[error("{field}: {reason}")]
    Invalid {
        /// Field name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Too late to issue an apology letter.
    #[error(
        "an apology letter must be issued at least one working day before the appointment {due_at}; the last moment was {latest}"
    )]
    ApologyTooLate {
        /// Appointment.
        due_at: DateTime<Utc>,
        /// Last moment allowed.
        latest: DateTime<Utc>,
    },
    /// The dossier does not exist (a command other than submit on nothing).
    #[error("the dossier does not exist")]
    NoDossier,
    /// Submitting over an existing dossier.
    #[error("the dossier already exists")]
    AlreadyExists,
    /// The store could not issue a code.
    #[error("could not issue a dossier code: {0}")]
    CodeAllocation(String),
    /// The log cannot be folded (tampering or a bug).
    #[error("inconsistent event log: {0}")]
    CorruptLog(String),
}

#[cfg(test)]
mod tests;
