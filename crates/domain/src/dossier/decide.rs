//! `decide`: checks a command against the dossier's state and the actor, and says which events
//! happen. Pure: time, the calendar and the code counter come in through [`Ctx`].

use super::postal::{POSTAL_SERVICE_ID, PostalChoice, PostalKind, PostalState};
use super::{
    Applicant, Channel, DocumentRef, DomainError, Dossier, Event, EventBody, NotifyChannels,
    PauseKind, ReturnMethod,
};
use crate::agency::{Actor, Role};
use crate::calendar::{Calendar, WorkingDuration};
use crate::codes::{AgencyCode, DossierCode};
use crate::procedure::{ProcedureSnapshot, ResolvedStep};
use crate::status::{Status, Timeliness};
use crate::workflow::StepKind;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Issues dossier codes: a per-agency daily sequence kept by the store in the same transaction.
pub trait CodeAllocator {
    /// Next code for `agency` on the local date `date`. Never returns the same code twice.
    fn allocate(&mut self, agency: &AgencyCode, date: NaiveDate) -> Result<DossierCode, String>;
}

/// What `decide` may consult besides the state.
pub struct Ctx<'a> {
    /// Now.
    pub now: DateTime<Utc>,
    /// Who acts.
    pub actor: &'a Actor,
    /// Working calendar of the receiving agency.
    pub calendar: &'a Calendar,
    /// Dossier code counter.
    pub codes: &'a mut dyn CodeAllocator,
}

/// Data of a new dossier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubmitData {
    /// Procedure version in force, resolved for the agencies below.
    pub procedure: ProcedureSnapshot,
    /// The applicant.
    pub applicant: Applicant,
    /// Channel.
    pub channel: Channel,
    /// Agency whose desk receives it.
    pub receiving_agency: AgencyCode,
    /// Agency competent to decide.
    pub competent_agency: AgencyCode,
    /// Documents.
    pub documents: Vec<DocumentRef>,
    /// E-form data.
    pub form: serde_json::Value,
    /// Desk officers (counter and post): receive on the spot (the default). `false` records a
    /// paper dossier that is checked at the desk and then sent back for a supplement or refused
    /// at reception, never received: no code, no appointment, the on-time clock never starts.
    #[serde(default = "yes")]
    pub receive: bool,
    /// Postal tracking number of a dossier that came by post (9-20 letters and digits).
    #[serde(default)]
    pub postal_tracking: Option<String>,
    /// Desk officers, channel online: the citizen account the dossier is submitted for (a
    /// citizen who came to the desk for help). The account owns the dossier; the event's actor
    /// records the officer who keyed it in. The caller checks it is a citizen's account.
    #[serde(default)]
    pub on_behalf_of: Option<Uuid>,
    /// An online dossier filed on another system (the national portal) and taken in by the
    /// receiving desk's intake: submitted by a desk actor of the receiving agency, owned by
    /// `on_behalf_of` when a local account matched the applicant, else by nobody.
    #[serde(default)]
    pub origin: Option<super::Origin>,
    /// Postal service asked for: pickup of the paper dossier (online dossiers), return of the
    /// result by post.
    #[serde(default)]
    pub postal: Option<PostalChoice>,
}

fn yes() -> bool {
    true
}

/// Checks a postal tracking number: 9 to 20 ASCII letters and digits (VNPost's `EE123456789VN`
/// style and domestic numeric codes).
pub fn valid_postal_tracking(s: &str) -> bool {
    (9..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Everything that can be asked of a dossier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Command {
    /// Submit (citizen online; desk officer at the counter or from the post, which also receives).
    Submit(Box<SubmitData>),
    /// Receive at the desk: issue the code and the appointment.
    Receive,
    /// Ask for a supplement (at reception, or during processing: the clock stops).
    RequestSupplement {
        /// What to complete.
        items: Vec<String>,
        /// Why.
        reason: String,
    },
    /// Supply the supplement.
    ProvideSupplement {
        /// Documents added.
        documents: Vec<DocumentRef>,
    },
    /// Refuse at reception.
    Refuse {
        /// Reasons, at least one.
        reasons: Vec<String>,
    },
    /// Assign a staff member of the current agency.
    Assign {
        /// User id (the caller checks the user belongs to the agency).
        user_id: Uuid,
        /// Name.
        name: String,
    },
    /// Complete the current processing step and move to `to` (or the only next step).
    CompleteStep {
        /// Target step.
        to: Option<String>,
        /// Working files handed on with the step (a report, minutes, a site-visit record);
        /// the caller checks and links them as the dossier's attachments.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        documents: Vec<DocumentRef>,
    },
    /// Send back to the previous step.
    SendBack,
    /// Approve at an approval step.
    Approve,
    /// Ask for a financial obligation; the clock stops.
    RequestPayment {
        /// Amount in đồng.
        amount_vnd: i64,
        /// What for.
        reason: String,
    },
    /// Confirm the payment; the clock runs again.
    ConfirmPayment {
        /// Payment reference.
        reference: String,
    },
    /// Record a fee paid: online once the platform confirmed it (the applicant's own
    /// payment), or at the counter (a desk officer of the receiving agency). Settles a pending
    /// financial obligation once nothing is owed.
    RecordPayment {
        /// Payment reference (unique).
        reference: String,
        /// Amount in đồng.
        amount_vnd: i64,
        /// How.
        method: crate::payment::PaymentMethod,
        /// The platform's transaction id.
        #[serde(default)]
        transaction_id: Option<String>,
        /// Content address of the stored e-receipt.
        #[serde(default)]
        receipt: Option<String>,
        /// Receipt number.
        #[serde(default)]
        receipt_no: Option<String>,
    },
    /// Waive (part of) what is owed on a legal ground.
    ExemptFee {
        /// Amount in đồng.
        amount_vnd: i64,
        /// The legal ground.
        reason: String,
    },
    /// The result is ready.
    MarkResultReady {
        /// What the result is.
        summary: String,
        /// Result documents.
        #[serde(default)]
        documents: Vec<DocumentRef>,
    },
    /// Hand over the result.
    ReturnResult {
        /// How.
        method: ReturnMethod,
        /// Who received it.
        receiver: String,
    },
    /// The applicant withdraws.
    Withdraw {
        /// Reason.
        reason: String,
    },
    /// The agency stops processing.
    StopProcessing {
        /// Reason.
        reason: String,
    },
    /// Apology letter with a new appointment.
    IssueApology {
        /// Reason for the delay.
        reason: String,
        /// New appointment.
        new_due_at: DateTime<Utc>,
    },
    /// Choose how the applicant hears of the dossier (the applicant, or the receiving desk
    /// for them); not once the dossier is closed.
    SetNotifications {
        /// The channels to use from now on.
        channels: NotifyChannels,
    },
    /// Choose or change the postal service (the applicant, or the receiving desk for them);
    /// not once the dossier is closed; pickup only for an online dossier not yet received and
    /// not yet ordered.
    SetPostal {
        /// The choice from now on (boxed: addresses are large, commands are moved around).
        choice: Box<PostalChoice>,
    },
    /// Record a status the post reported about one of the dossier's orders (only the postal
    /// service's actor, after its signature was checked).
    RecordPostalStatus {
        /// Our order number.
        order_number: String,
        /// The tracking number the post issued, if it said.
        #[serde(default)]
        item_code: Option<String>,
        /// The state.
        state: PostalState,
        /// The post's own status code.
        status_code: String,
        /// When it happened, by the post's clock.
        happened_at: DateTime<Utc>,
    },
    /// Rate the service.
    Rate {
        /// 1-5.
        score: u8,
        /// Comment.
        comment: Option<String>,
    },
}

impl Command {
    /// Stable action name (as in the API path).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Submit(_) => "submit",
            Command::Receive => "receive",
            Command::RequestSupplement { .. } => "request_supplement",
            Command::ProvideSupplement { .. } => "provide_supplement",
            Command::Refuse { .. } => "refuse",
            Command::Assign { .. } => "assign",
            Command::CompleteStep { .. } => "complete_step",
            Command::SendBack => "send_back",
            Command::Approve => "approve",
            Command::RequestPayment { .. } => "request_payment",
            Command::ConfirmPayment { .. } => "confirm_payment",
            Command::RecordPayment { .. } => "record_payment",
            Command::ExemptFee { .. } => "exempt_fee",
            Command::MarkResultReady { .. } => "mark_result_ready",
            Command::ReturnResult { .. } => "return_result",
            Command::Withdraw { .. } => "withdraw",
            Command::StopProcessing { .. } => "stop_processing",
            Command::IssueApology { .. } => "issue_apology",
            Command::Rate { .. } => "rate",
            Command::SetNotifications { .. } => "set_notifications",
            Command::SetPostal { .. } => "set_postal",
            Command::RecordPostalStatus { .. } => "record_postal_status",
        }
    }
}

const MAX_TEXT: usize = 4000;

fn text(field: &'static str, s: &str) -> Result<(), DomainError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(DomainError::Invalid {
            field,
            reason: "must not be empty".into(),
        });
    }
    if t.chars().count() > MAX_TEXT {
        return Err(DomainError::Invalid {
            field,
            reason: format!("must be at most {MAX_TEXT} characters"),
        });
    }
    Ok(())
}

fn list(field: &'static str, items: &[String]) -> Result<(), DomainError> {
    if items.is_empty() {
        return Err(DomainError::Invalid {
            field,
            reason: "give at least one".into(),
        });
    }
    if items.len() > 100 {
        return Err(DomainError::Invalid {
            field,
            reason: "at most 100 items".into(),
        });
    }
    items.iter().try_for_each(|i| text(field, i))
}

fn docs(field: &'static str, d: &[DocumentRef]) -> Result<(), DomainError> {
    if d.len() > 200 {
        return Err(DomainError::Invalid {
            field,
            reason: "at most 200 documents".into(),
        });
    }
    d.iter().try_for_each(|x| text(field, &x.name))
}

fn not_allowed(action: &'static str, d: &Dossier) -> DomainError {
    DomainError::NotAllowed {
        action,
        status: d.status.as_str(),
    }
}

fn forbid(msg: impl Into<String>) -> DomainError {
    DomainError::Forbidden(msg.into())
}

/// Checks that the actor may act at the current step; returns the step.
fn at_step<'d>(
    d: &'d Dossier,
    a: &Actor,
    action: &'static str,
) -> Result<&'d ResolvedStep, DomainError> {
    let step = d.current_step().ok_or_else(|| not_allowed(action, d))?;
    let leader_here = a.is(Role::Leader, &step.agency);
    if !(a.is(step.role, &step.agency) || leader_here) {
        return Err(forbid(format!(
            "step `{}` is handled by role {} of agency {}",
            step.id,
            step.role.as_str(),
            step.agency
        )));
    }
    if let Some(assignee) = d.assignee
        && !leader_here
        && assignee != a.user_id
        && step.role == Role::Specialist
    {
        return Err(forbid("the dossier is assigned to another specialist"));
    }
    Ok(step)
}

fn step_grade(d: &Dossier, now: DateTime<Utc>, cal: &Calendar) -> Timeliness {
    match d.step_due_at {
        Some(due) => Timeliness::classify(now, due, 0, offset_minutes(cal, now)),
        None => Timeliness::OnTime,
    }
}

/// Moves from the current step to `to`, emitting the move (and a transfer when the agency changes).
fn move_to(
    d: &Dossier,
    ctx: &Ctx,
    to: &str,
    approved: bool,
) -> Result<Vec<EventBody>, DomainError> {
    let from = d.current_step().ok_or(DomainError::NoDossier)?;
    let target = d.procedure.step(to).ok_or_else(|| DomainError::Invalid {
        field: "to",
        reason: format!("unknown step `{to}`"),
    })?;
    if !from.next.iter().any(|n| n == to) {
        return Err(DomainError::Invalid {
            field: "to",
            reason: format!("step `{}` may move to {:?}, not `{to}`", from.id, from.next),
        });
    }
    let step_due_at = ctx
        .calendar
        .add_working_time(ctx.now, WorkingDuration::minutes(target.budget_minutes));
    let step_timeliness = step_grade(d, ctx.now, ctx.calendar);
    let mut out = vec![if approved {
        EventBody::Approved {
            from: from.id.clone(),
            to: target.id.clone(),
            to_agency: target.agency.clone(),
            step_due_at,
            step_timeliness,
        }
    } else {
        EventBody::StepCompleted {
            from: from.id.clone(),
            to: target.id.clone(),
            to_agency: target.agency.clone(),
            step_due_at,
            step_timeliness,
            documents: Vec::new(),
        }
    }];
    if target.agency != d.current_agency {
        out.push(EventBody::TransferredToAgency {
            from_agency: d.current_agency.clone(),
            to_agency: target.agency.clone(),
        });
    }
    Ok(out)
}

fn pick_next(step: &ResolvedStep, to: Option<&String>) -> Result<String, DomainError> {
    match to {
        Some(t) => Ok(t.clone()),
        None if step.next.len() == 1 => Ok(step.next[0].clone()),
        None => Err(DomainError::Invalid {
            field: "to",
            reason: format!("choose the next step among {:?}", step.next),
        }),
    }
}

/// Resumes a stopped clock: how long it stood still and the shifted deadlines.
fn resume(d: &Dossier, ctx: &Ctx) -> Resumed {
    let since = d.pause.as_ref().map(|p| p.since).unwrap_or(ctx.now);
    let paused = ctx.calendar.working_time_between(since, ctx.now);
    // A zero shift must leave deadlines alone (adding zero snaps 17:00 to the next morning).
    let shift = |t: Option<DateTime<Utc>>| {
        t.map(|t| {
            if paused == WorkingDuration::ZERO {
                t
            } else {
                ctx.calendar.add_working_time(t, paused)
            }
        })
    };
    Resumed {
        paused_minutes: paused.as_minutes(),
        due_at: shift(d.due_at),
        original_due_at: shift(d.original_due_at),
        step_due_at: shift(d.step_due_at),
    }
}

/// Deadlines after a stopped clock runs again.
struct Resumed {
    paused_minutes: i64,
    due_at: Option<DateTime<Utc>>,
    original_due_at: Option<DateTime<Utc>>,
    step_due_at: Option<DateTime<Utc>>,
}

fn receive_events(
    d_proc: &ProcedureSnapshot,
    receiving: &AgencyCode,
    ctx: &mut Ctx,
) -> Result<EventBody, DomainError> {
    let local_date = ctx.calendar.to_local(ctx.now).date();
    let code = ctx
        .codes
        .allocate(receiving, local_date)
        .map_err(DomainError::CodeAllocation)?;
    let clock_start = ctx.calendar.clock_start(ctx.now);
    let due_at = ctx
        .calendar
        .add_working_time(ctx.now, d_proc.time_limit.duration());
    let first = d_proc
        .steps
        .first()
        .ok_or_else(|| DomainError::CorruptLog("procedure has no step".into()))?;
    let step_due_at = ctx
        .calendar
        .add_working_time(ctx.now, WorkingDuration::minutes(first.budget_minutes));
    Ok(EventBody::Received {
        code,
        clock_start,
        due_at,
        step: first.id.clone(),
        step_agency: first.agency.clone(),
        step_due_at,
    })
}

/// Decides what happens when `actor` asks `command` of the dossier in `state` (`None` for a
/// new one). Returns the events to append, or why nothing happens.
pub fn decide(
    state: Option<&Dossier>,
    command: &Command,
    note: Option<String>,
    ctx: &mut Ctx,
) -> Result<Vec<Event>, DomainError> {
    if let Some(n) = &note
        && n.chars().count() > MAX_TEXT
    {
        return Err(DomainError::Invalid {
            field: "note",
            reason: format!("must be at most {MAX_TEXT} characters"),
        });
    }
    let actor = ctx.actor.clone();
    let (agency, bodies) = match (state, command) {
        (None, Command::Submit(data)) => submit(data, ctx)?,
        (Some(_), Command::Submit(_)) => return Err(DomainError::AlreadyExists),
        (None, _) => return Err(DomainError::NoDossier),
        (Some(d), cmd) => (
            actor
                .agency
                .clone()
                .unwrap_or_else(|| d.receiving_agency.clone()),
            act(d, cmd, ctx)?,
        ),
    };
    let n = bodies.len();
    Ok(bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| Event {
            at: ctx.now,
            actor: actor.clone(),
            agency: agency.clone(),
            // The note belongs to the action, shown once on its last event.
            note: if i + 1 == n { note.clone() } else { None },
            body,
        })
        .collect())
}

fn submit(data: &SubmitData, ctx: &mut Ctx) -> Result<(AgencyCode, Vec<EventBody>), DomainError> {
    let a = ctx.actor;
    text("applicant.name", &data.applicant.name)?;
    docs("documents", &data.documents)?;
    match (&data.postal_tracking, data.channel) {
        (Some(t), Channel::Post) if !valid_postal_tracking(t) => {
            return Err(DomainError::Invalid {
                field: "postal_tracking",
                reason: "must be 9 to 20 letters and digits".into(),
            });
        }
        (Some(_), Channel::Counter | Channel::Online) => {
            return Err(DomainError::Invalid {
                field: "postal_tracking",
                reason: "only dossiers sent by post have a tracking number".into(),
            });
        }
        _ => {}
    }
    if let Some(p) = &data.postal {
        p.check()?;
        if p.pickup.is_some() && data.channel != Channel::Online {
            return Err(DomainError::Invalid {
                field: "postal.pickup",
                reason: "the post collects paper dossiers of online submissions only".into(),
            });
        }
    }
    if data.procedure.steps.is_empty() {
        return Err(DomainError::Invalid {
            field: "procedure",
            reason: "has no workflow".into(),
        });
    }
    if data.on_behalf_of.is_some()
        && !(a.role == Role::DeskOfficer && data.channel == Channel::Online)
    {
        return Err(DomainError::Invalid {
            field: "on_behalf_of",
            reason: "only a desk officer submits online on behalf of a citizen".into(),
        });
    }
    if let Some(o) = &data.origin {
        if !(a.role == Role::DeskOfficer && data.channel == Channel::Online) {
            return Err(DomainError::Invalid {
                field: "origin",
                reason: "only online dossiers taken in by a desk come from another system".into(),
            });
        }
        text("origin.system", &o.system)?;
        text("origin.code", &o.code)?;
    }
    let owner = match (a.role, data.channel) {
        (Role::Citizen, Channel::Online) => Some(a.user_id),
        (Role::Citizen, _) => {
            return Err(forbid(
                "citizens submit online; counter and post dossiers are entered by the desk",
            ));
        }
        (Role::DeskOfficer, Channel::Counter | Channel::Post) => {
            if !a.is(Role::DeskOfficer, &data.receiving_agency) {
                return Err(forbid(format!(
                    "only desk officers of {} receive dossiers there",
                    data.receiving_agency
                )));
            }
            None
        }
        // Filed on the national portal and taken in by this desk's intake.
        (Role::DeskOfficer, Channel::Online) if data.origin.is_some() => {
            if !a.is(Role::DeskOfficer, &data.receiving_agency) {
                return Err(forbid(format!(
                    "only the intake of {} takes in dossiers filed elsewhere for it",
                    data.receiving_agency
                )));
            }
            data.on_behalf_of
        }
        (Role::DeskOfficer, Channel::Online) => match data.on_behalf_of {
            // A citizen who came for help: submitted online for their account.
            Some(citizen) if a.is(Role::DeskOfficer, &data.receiving_agency) => Some(citizen),
            Some(_) => {
                return Err(forbid(format!(
                    "only desk officers of {} submit there on behalf of a citizen",
                    data.receiving_agency
                )));
            }
            None => {
                return Err(forbid(
                    "online dossiers are submitted by the applicant (or on their behalf, naming their account)",
                ));
            }
        },
        _ => {
            return Err(forbid(format!(
                "role {} cannot submit dossiers",
                a.role.as_str()
            )));
        }
    };
    let mut out = vec![EventBody::Submitted {
        procedure: data.procedure.clone(),
        applicant: data.applicant.clone(),
        owner,
        channel: data.channel,
        receiving_agency: data.receiving_agency.clone(),
        competent_agency: data.competent_agency.clone(),
        documents: data.documents.clone(),
        form: data.form.clone(),
        postal_tracking: data.postal_tracking.clone(),
        origin: data.origin.clone(),
        postal: data.postal.clone().filter(|p| !p.is_empty()),
        reused: Vec::new(),
        identity: None,
    }];
    // Online dossiers (also those filed elsewhere) wait for the desk to receive them.
    if owner.is_none() && data.receive && data.origin.is_none() {
        // Paper dossiers are checked at the counter and received on the spot (unless the desk
        // asks for a supplement or refuses them there: then they stay awaiting reception).
        out.push(receive_events(
            &data.procedure,
            &data.receiving_agency,
            ctx,
        )?);
    }
    Ok((data.receiving_agency.clone(), out))
}

fn act(d: &Dossier, cmd: &Command, ctx: &mut Ctx) -> Result<Vec<EventBody>, DomainError> {
    let a = ctx.actor;
    let action = cmd.name();
    let desk_here = a.is(Role::DeskOfficer, &d.receiving_agency);
    match cmd {
        Command::Submit(_) => Err(DomainError::AlreadyExists),
        Command::Receive => {
            if d.status != Status::AwaitingReception {
                return Err(not_allowed(action, d));
            }
            if !desk_here {
                return Err(forbid(format!(
                    "only desk officers of {} receive this dossier",
                    d.receiving_agency
                )));
            }
            let recv = receive_events(&d.procedure, &d.receiving_agency, ctx)?;
            Ok(vec![recv])
        }
        Command::Refuse { reasons } => {
            if !matches!(
                d.status,
                Status::AwaitingReception | Status::SupplementAtReception
            ) {
                return Err(not_allowed(action, d));
            }
            if !desk_here {
                return Err(forbid("only the receiving desk refuses at reception"));
            }
            list("reasons", reasons)?;
            Ok(vec![EventBody::Refused {
                reasons: reasons.clone(),
            }])
        }
        Command::RequestSupplement { items, reason } => {
            list("items", items)?;
            text("reason", reason)?;
            let at_reception = match d.status {
                Status::AwaitingReception => {
                    if !desk_here {
                        return Err(forbid(
                            "only the receiving desk checks a dossier at reception",
                        ));
                    }
                    true
                }
                Status::Received | Status::Processing => {
                    let step = d.current_step().ok_or_else(|| not_allowed(action, d))?;
                    if !(a.works_at(&step.agency) || desk_here) {
                        return Err(forbid(format!(
                            "only staff of {} or the receiving desk request a supplement now",
                            step.agency
                        )));
                    }
                    false
                }
                _ => return Err(not_allowed(action, d)),
            };
            Ok(vec![EventBody::SupplementRequested {
                items: items.clone(),
                reason: reason.clone(),
                at_reception,
            }])
        }
        Command::ProvideSupplement { documents } => {
            if !(d.is_owner(a) || desk_here) {
                return Err(forbid(
                    "only the applicant or the receiving desk supplies a supplement",
                ));
            }
            docs("documents", documents)?;
            match d.status {
                Status::SupplementAtReception => Ok(vec![EventBody::Supplemented {
                    documents: documents.clone(),
                    paused_minutes: 0,
                    due_at: None,
                    original_due_at: None,
                    step_due_at: None,
                }]),
                Status::SupplementRequested => {
                    let r = resume(d, ctx);
                    Ok(vec![EventBody::Supplemented {
                        documents: documents.clone(),
                        paused_minutes: r.paused_minutes,
                        due_at: r.due_at,
                        original_due_at: r.original_due_at,
                        step_due_at: r.step_due_at,
                    }])
                }
                _ => Err(not_allowed(action, d)),
            }
        }
        Command::Assign { user_id, name } => {
            if !d.status.is_in_progress() {
                return Err(not_allowed(action, d));
            }
            if !a.is(Role::Leader, &d.current_agency) {
                return Err(forbid(format!(
                    "only leaders of {} assign this dossier",
                    d.current_agency
                )));
            }
            text("name", name)?;
            Ok(vec![EventBody::Assigned {
                user_id: *user_id,
                name: name.clone(),
            }])
        }
        Command::CompleteStep { to, documents } => {
            if !matches!(d.status, Status::Received | Status::Processing) {
                return Err(not_allowed(action, d));
            }
            let step = at_step(d, a, action)?;
            if step.kind != StepKind::Process {
                return Err(DomainError::Invalid {
                    field: "action",
                    reason: format!(
                        "step `{}` is completed by {}",
                        step.id,
                        if step.kind == StepKind::Approve {
                            "approve"
                        } else {
                            "mark_result_ready"
                        }
                    ),
                });
            }
            let to = pick_next(step, to.as_ref())?;
            let mut out = move_to(d, ctx, &to, false)?;
            if let Some(EventBody::StepCompleted {
                documents: docs, ..
            }) = out.first_mut()
            {
                docs.clone_from(documents);
            }
            Ok(out)
        }
        Command::Approve => {
            if !matches!(d.status, Status::Received | Status::Processing) {
                return Err(not_allowed(action, d));
            }
            let step = at_step(d, a, action)?;
            if step.kind != StepKind::Approve || a.role != Role::Leader {
                return Err(forbid(format!(
                    "approval happens at an approval step by a leader; the dossier is at `{}`",
                    step.id
                )));
            }
            let to = pick_next(step, None)?;
            move_to(d, ctx, &to, true)
        }
        Command::SendBack => {
            if !matches!(d.status, Status::Processing | Status::Received) {
                return Err(not_allowed(action, d));
            }
            let step = at_step(d, a, action)?;
            let prev = d.trail.last().ok_or_else(|| DomainError::Invalid {
                field: "action",
                reason: "the dossier is at its first step: there is no step to send it back to"
                    .into(),
            })?;
            let target = d
                .procedure
                .step(prev)
                .ok_or_else(|| DomainError::CorruptLog(format!("unknown step {prev}")))?;
            let step_due_at = ctx
                .calendar
                .add_working_time(ctx.now, WorkingDuration::minutes(target.budget_minutes));
            let mut out = vec![EventBody::SentBack {
                from: step.id.clone(),
                to: target.id.clone(),
                to_agency: target.agency.clone(),
                step_due_at,
            }];
            if target.agency != d.current_agency {
                out.push(EventBody::TransferredToAgency {
                    from_agency: d.current_agency.clone(),
                    to_agency: target.agency.clone(),
                });
            }
            Ok(out)
        }
        Command::RequestPayment { amount_vnd, reason } => {
            if !matches!(d.status, Status::Received | Status::Processing) {
                return Err(not_allowed(action, d));
            }
            let step = d.current_step().ok_or_else(|| not_allowed(action, d))?;
            if !(a.works_at(&step.agency) || desk_here) {
                return Err(forbid("only staff handling the dossier request a payment"));
            }
            if *amount_vnd <= 0 || *amount_vnd > 100_000_000_000 {
                return Err(DomainError::Invalid {
                    field: "amount_vnd",
                    reason: "must be a positive number of đồng (at most 100 billion)".into(),
                });
            }
            text("reason", reason)?;
            Ok(vec![EventBody::PaymentRequested {
                amount_vnd: *amount_vnd,
                reason: reason.clone(),
            }])
        }
        Command::ConfirmPayment { reference } => {
            if d.status != Status::AwaitingPayment {
                return Err(not_allowed(action, d));
            }
            let step = d.current_step().ok_or_else(|| not_allowed(action, d))?;
            if !(a.works_at(&step.agency) || desk_here) {
                return Err(forbid("only staff handling the dossier confirm a payment"));
            }
            text("reference", reference)?;
            let r = resume(d, ctx);
            Ok(vec![EventBody::PaymentConfirmed {
                reference: reference.clone(),
                paused_minutes: r.paused_minutes,
                due_at: r.due_at,
                original_due_at: r.original_due_at,
                step_due_at: r.step_due_at,
            }])
        }
        Command::RecordPayment {
            reference,
            amount_vnd,
            method,
            transaction_id,
            receipt,
            receipt_no,
        } => {
            use crate::payment::PaymentMethod;
            text("reference", reference)?;
            short("reference", reference)?;
            for (field, v) in [
                ("transaction_id", transaction_id),
                ("receipt", receipt),
                ("receipt_no", receipt_no),
            ] {
                if let Some(v) = v {
                    text(field, v)?;
                    short(field, v)?;
                }
            }
            money("amount_vnd", *amount_vnd)?;
            if *method == PaymentMethod::Online {
                // The platform took the money: record it whatever happened to the dossier since.
                if !d.is_owner(a) {
                    return Err(forbid("online payments are the applicant's own"));
                }
            } else {
                if !desk_here {
                    return Err(forbid(format!(
                        "counter payments are recorded by desk officers of {}",
                        d.receiving_agency
                    )));
                }
                if matches!(
                    d.status,
                    Status::Refused | Status::Withdrawn | Status::Stopped
                ) {
                    return Err(not_allowed(action, d));
                }
                let owed = d.owed_vnd();
                if *amount_vnd > owed {
                    return Err(DomainError::Invalid {
                        field: "amount_vnd",
                        reason: format!("only {owed} đồng is owed"),
                    });
                }
            }
            let mut out = vec![EventBody::FeePaid {
                reference: reference.trim().to_string(),
                amount_vnd: *amount_vnd,
                method: *method,
                transaction_id: transaction_id.clone(),
                receipt: receipt.clone(),
                receipt_no: receipt_no.clone(),
            }];
            settle(d, ctx, *amount_vnd, reference.trim(), &mut out);
            Ok(out)
        }
        Command::ExemptFee { amount_vnd, reason } => {
            let leader =
                a.is(Role::Leader, &d.receiving_agency) || a.is(Role::Leader, &d.competent_agency);
            if !(desk_here || leader) {
                return Err(forbid(
                    "fees are waived by the receiving desk or a leader of the dossier's agencies",
                ));
            }
            if matches!(
                d.status,
                Status::Refused | Status::Withdrawn | Status::Stopped
            ) {
                return Err(not_allowed(action, d));
            }
            money("amount_vnd", *amount_vnd)?;
            text("reason", reason)?;
            let owed = d.owed_vnd();
            if *amount_vnd > owed {
                return Err(DomainError::Invalid {
                    field: "amount_vnd",
                    reason: format!("only {owed} đồng is owed"),
                });
            }
            let mut out = vec![EventBody::FeeExempted {
                amount_vnd: *amount_vnd,
                reason: reason.trim().to_string(),
            }];
            settle(d, ctx, *amount_vnd, "miễn, giảm", &mut out);
            Ok(out)
        }
        Command::MarkResultReady { summary, documents } => {
            if !matches!(d.status, Status::Processing | Status::Received) {
                return Err(not_allowed(action, d));
            }
            let step = at_step(d, a, action)?;
            if step.kind != StepKind::Release {
                return Err(DomainError::Invalid {
                    field: "action",
                    reason: format!(
                        "the result is issued at the release step, not at `{}`",
                        step.id
                    ),
                });
            }
            if !d.approved {
                return Err(DomainError::Invalid {
                    field: "action",
                    reason: "a leader has not approved the dossier".into(),
                });
            }
            text("summary", summary)?;
            docs("documents", documents)?;
            let due = d.original_due_at.or(d.due_at).unwrap_or(ctx.now);
            let timeliness = Timeliness::classify(
                ctx.now,
                due,
                d.supplement_requests,
                offset_minutes(ctx.calendar, ctx.now),
            );
            Ok(vec![EventBody::ResultReady {
                summary: summary.clone(),
                documents: documents.clone(),
                timeliness,
            }])
        }
        Command::ReturnResult { method, receiver } => {
            if d.status != Status::ResultReady {
                return Err(not_allowed(action, d));
            }
            let step = d.current_step().ok_or_else(|| not_allowed(action, d))?;
            if !a.works_at(&step.agency) {
                return Err(forbid(format!("the result is returned by {}", step.agency)));
            }
            text("receiver", receiver)?;
            if *method == ReturnMethod::Post && d.postal.return_to.is_none() {
                return Err(DomainError::Invalid {
                    field: "method",
                    reason: "a result returned by post needs the receiver's address: set the postal return first".into(),
                });
            }
            Ok(vec![EventBody::ResultReturned {
                method: *method,
                receiver: receiver.clone(),
            }])
        }
        Command::Withdraw { reason } => {
            if !(d.is_owner(a) || desk_here) {
                return Err(forbid(
                    "only the applicant (or the receiving desk on their written request) withdraws",
                ));
            }
            if !(d.status.is_in_progress()
                || matches!(
                    d.status,
                    Status::AwaitingReception | Status::SupplementAtReception
                ))
            {
                return Err(not_allowed(action, d));
            }
            text("reason", reason)?;
            Ok(vec![EventBody::Withdrawn {
                reason: reason.clone(),
            }])
        }
        Command::StopProcessing { reason } => {
            if !d.status.is_in_progress() {
                return Err(not_allowed(action, d));
            }
            if !a.is(Role::Leader, &d.competent_agency) {
                return Err(forbid(format!(
                    "only leaders of {} stop processing",
                    d.competent_agency
                )));
            }
            text("reason", reason)?;
            Ok(vec![EventBody::ProcessingStopped {
                reason: reason.clone(),
            }])
        }
        Command::IssueApology { reason, new_due_at } => {
            if !matches!(
                d.status,
                Status::Received
                    | Status::Processing
                    | Status::SupplementRequested
                    | Status::AwaitingPayment
            ) {
                return Err(not_allowed(action, d));
            }
            if !(matches!(a.role, Role::Leader | Role::Specialist)
                && (a.works_at(&d.current_agency) || a.works_at(&d.competent_agency)))
            {
                return Err(forbid(
                    "the apology is issued by the agency processing the dossier",
                ));
            }
            text("reason", reason)?;
            let due = d.due_at.ok_or_else(|| not_allowed(action, d))?;
            // Latest moment: one working day before the appointment.
            if ctx
                .calendar
                .add_working_time(ctx.now, WorkingDuration::days(1))
                > due
            {
                let latest = latest_before(ctx.calendar, due, WorkingDuration::days(1));
                return Err(DomainError::ApologyTooLate {
                    due_at: due,
                    latest,
                });
            }
            if *new_due_at <= due {
                return Err(DomainError::Invalid {
                    field: "new_due_at",
                    reason: format!("must be after the current appointment {due}"),
                });
            }
            if *new_due_at > due + chrono::Duration::days(366) {
                return Err(DomainError::Invalid {
                    field: "new_due_at",
                    reason: "must be within a year of the current appointment".into(),
                });
            }
            Ok(vec![EventBody::ApologyIssued {
                reason: reason.clone(),
                previous_due_at: due,
                new_due_at: *new_due_at,
            }])
        }
        Command::Rate { score, comment } => {
            if !d.is_owner(a) {
                return Err(forbid("only the applicant rates the service"));
            }
            if d.status != Status::Returned {
                return Err(not_allowed(action, d));
            }
            if d.rating.is_some() {
                return Err(DomainError::Invalid {
                    field: "score",
                    reason: "the service was already rated".into(),
                });
            }
            if !(1..=5).contains(score) {
                return Err(DomainError::Invalid {
                    field: "score",
                    reason: "must be 1 (very dissatisfied) to 5 (very satisfied)".into(),
                });
            }
            if let Some(c) = comment
                && c.chars().count() > MAX_TEXT
            {
                return Err(DomainError::Invalid {
                    field: "comment",
                    reason: format!("must be at most {MAX_TEXT} characters"),
                });
            }
            Ok(vec![EventBody::Rated {
                score: *score,
                comment: comment.clone(),
            }])
        }
        Command::SetNotifications { channels } => {
            if !(d.is_owner(a) || desk_here) {
                return Err(forbid(
                    "only the applicant (or the receiving desk for them) chooses the notices",
                ));
            }
            if matches!(
                d.status,
                Status::Refused | Status::Withdrawn | Status::Stopped | Status::Returned
            ) {
                return Err(not_allowed(action, d));
            }
            if d.applicant.channels() == *channels {
                return Err(DomainError::Invalid {
                    field: "channels",
                    reason: "these are already the channels in force".into(),
                });
            }
            Ok(vec![EventBody::NotificationsChanged {
                channels: *channels,
            }])
        }
        Command::SetPostal { choice } => {
            if !(d.is_owner(a) || desk_here) {
                return Err(forbid(
                    "only the applicant (or the receiving desk for them) chooses the postal service",
                ));
            }
            if matches!(
                d.status,
                Status::Refused | Status::Withdrawn | Status::Stopped | Status::Returned
            ) {
                return Err(not_allowed(action, d));
            }
            choice.check()?;
            if **choice == d.postal {
                return Err(DomainError::Invalid {
                    field: "postal",
                    reason: "this is already the postal service in force".into(),
                });
            }
            if choice.pickup != d.postal.pickup {
                if d.postal_orders.iter().any(|o| o.kind == PostalKind::Pickup) {
                    return Err(DomainError::Invalid {
                        field: "postal.pickup",
                        reason: "the pickup was already ordered from the post: it cannot change"
                            .into(),
                    });
                }
                if choice.pickup.is_some() && !super::postal::pickup_open(d) {
                    return Err(DomainError::Invalid {
                        field: "postal.pickup",
                        reason: "the post collects paper dossiers of online submissions not yet received only".into(),
                    });
                }
            }
            Ok(vec![EventBody::PostalChoiceChanged {
                choice: (**choice).clone(),
            }])
        }
        Command::RecordPostalStatus {
            order_number,
            item_code,
            state,
            status_code,
            happened_at,
        } => {
            if a.user_id != POSTAL_SERVICE_ID {
                return Err(forbid("only the postal service reports postal statuses"));
            }
            let order = d
                .postal_orders
                .iter()
                .rev()
                .find(|o| o.order_number == *order_number)
                .ok_or_else(|| DomainError::Invalid {
                    field: "OrderNumber",
                    reason: format!("no order {order_number} on this dossier"),
                })?;
            if let Some(c) = item_code {
                if !valid_postal_tracking(c) {
                    return Err(DomainError::Invalid {
                        field: "ItemCode",
                        reason: "must be 9 to 20 letters and digits".into(),
                    });
                }
                if order.item_code.as_ref().is_some_and(|known| known != c) {
                    return Err(DomainError::Invalid {
                        field: "ItemCode",
                        reason: format!(
                            "the order already has the tracking number {}",
                            order.item_code.as_deref().unwrap_or_default()
                        ),
                    });
                }
            }
            if status_code.trim().is_empty() || status_code.chars().count() > 100 {
                return Err(DomainError::Invalid {
                    field: "Status",
                    reason: "must be 1-100 characters".into(),
                });
            }
            if *happened_at > ctx.now + chrono::Duration::hours(1) {
                return Err(DomainError::Invalid {
                    field: "StatusTime",
                    reason: "lies in the future".into(),
                });
            }
            if order.has(*state, *happened_at) {
                return Err(DomainError::Invalid {
                    field: "Status",
                    reason: "this status was already recorded".into(),
                });
            }
            Ok(vec![EventBody::PostalStatusReported {
                order_number: order_number.clone(),
                item_code: item_code.clone(),
                state: *state,
                status_code: status_code.clone(),
                happened_at: *happened_at,
            }])
        }
    }
}

fn money(field: &'static str, amount: i64) -> Result<(), DomainError> {
    if amount <= 0 || amount > 100_000_000_000 {
        return Err(DomainError::Invalid {
            field,
            reason: "must be a positive number of đồng (at most 100 billion)".into(),
        });
    }
    Ok(())
}

fn short(field: &'static str, s: &str) -> Result<(), DomainError> {
    if s.chars().count() > 200 {
        return Err(DomainError::Invalid {
            field,
            reason: "must be at most 200 characters".into(),
        });
    }
    Ok(())
}

/// After `amount` was paid or waived: a pending financial obligation with nothing left owed
/// is confirmed, and the clock runs again.
fn settle(d: &Dossier, ctx: &Ctx, amount: i64, reference: &str, out: &mut Vec<EventBody>) {
    if d.status == Status::AwaitingPayment && d.owed_vnd() - amount <= 0 {
        let r = resume(d, ctx);
        out.push(EventBody::PaymentConfirmed {
            reference: reference.to_string(),
            paused_minutes: r.paused_minutes,
            due_at: r.due_at,
            original_due_at: r.original_due_at,
            step_due_at: r.step_due_at,
        });
    }
}

/// The calendar's UTC offset in minutes (Vietnam: 420).
pub(crate) fn offset_minutes(cal: &Calendar, at: DateTime<Utc>) -> i32 {
    (cal.to_local(at) - at.naive_utc()).num_minutes() as i32
}

/// The last whole minute `t` with `t + d <= due` in working time (binary search).
fn latest_before(cal: &Calendar, due: DateTime<Utc>, d: WorkingDuration) -> DateTime<Utc> {
    let at = |m: i64| due - chrono::Duration::minutes(m);
    // Minutes before `due`: `hi` always works (90 days back), `lo` never does.
    let (mut lo, mut hi) = (0i64, 90 * 24 * 60);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if cal.add_working_time(at(mid), d) <= due {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    at(hi)
}

/// Whether pausing applies to this kind of event body (used by apply).
pub(super) fn pause_kind(body: &EventBody) -> Option<PauseKind> {
    match body {
        EventBody::SupplementRequested {
            at_reception: false,
            ..
        } => Some(PauseKind::Supplement),
        EventBody::PaymentRequested { .. } => Some(PauseKind::Payment),
        _ => None,
    }
}

/// What the web layer attests of a submission beyond what the applicant sent: the components
/// whose file is digitized data of an earlier dossier (766 indicator 4.3) and how the
/// applicant's identity was confirmed (4.5). Never read from a request body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attestation {
    /// Names of submitted components (with a file) that re-use an earlier dossier's file.
    pub reused: Vec<String>,
    /// The identity check, if one was made against a national source.
    pub identity: Option<super::IdentityCheck>,
}

/// Writes `att` into the `Submitted` event among `events` (the output of [`decide`] for a
/// submission), after checking it against that event: each re-used name is a component with a
/// file, and an identity is confirmed only for an applicant with a personal ID from a known
/// source. Events of other commands are left alone.
pub fn attest(events: &mut [Event], att: &Attestation) -> Result<(), DomainError> {
    for ev in events.iter_mut() {
        let EventBody::Submitted {
            documents,
            applicant,
            reused,
            identity,
            ..
        } = &mut ev.body
        else {
            continue;
        };
        for name in &att.reused {
            if !documents
                .iter()
                .any(|d| d.name == *name && d.file.is_some())
            {
                return Err(DomainError::Invalid {
                    field: "reused",
                    reason: format!("«{name}» is not a submitted component with a file"),
                });
            }
        }
        if let Some(i) = &att.identity {
            if i.source != super::IDENTITY_POPULATION_DB && i.source != super::IDENTITY_VNEID {
                return Err(DomainError::Invalid {
                    field: "identity",
                    reason: format!("unknown identity source `{}`", i.source),
                });
            }
            if applicant.personal_id.is_none() {
                return Err(DomainError::Invalid {
                    field: "identity",
                    reason: "an identity is confirmed for a personal ID: the applicant has none"
                        .into(),
                });
            }
        }
        let mut names = att.reused.clone();
        names.sort();
        names.dedup();
        *reused = names;
        *identity = att.identity.clone();
    }
    Ok(())
}
