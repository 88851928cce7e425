//! Feedback and complaints (phản ánh, kiến nghị — PAKN): a signed-in citizen writes about one of
//! their dossiers, a procedure or an agency; the agency classifies it (accepts it for handling,
//! refuses it with a reason, or asks for what is missing), answers it, and a leader publishes the
//! answer without personal data. The citizen may rate the answer and re-raise the item once.
//!
//! Every step is decided here by [`decide`], a pure function returning the new item and the step
//! to append to its history; an action that does not fit the state or the actor is an error and
//! changes nothing. Deadlines are counted in working days on the agency's [`Calendar`] with the
//! limits of [`FeedbackLimits`] (the Decision 766 time rules by default). See
//! docs/decisions/0032-feedback.md.

use crate::agency::{Actor, Role};
use crate::calendar::{Calendar, WorkingDuration};
use crate::codes::AgencyCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest text accepted in any field (content, answer, reason), in characters.
pub const MAX_TEXT_CHARS: usize = 5_000;

/// Time limits in working days (configurable; defaults are the Decision 766 rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FeedbackLimits {
    /// A refusal within this many working days of receipt (2).
    pub refuse_days: u32,
    /// A request for more information (and, here, an acceptance) within this many (5).
    pub info_days: u32,
    /// The answer within this many working days of receipt, or of the information supplied or
    /// the re-raise when later (15).
    pub answer_days: u32,
    /// Publication within this many working days of the answer (2).
    pub publish_days: u32,
}

impl Default for FeedbackLimits {
    fn default() -> Self {
        FeedbackLimits {
            refuse_days: 2,
            info_days: 5,
            answer_days: 15,
            publish_days: 2,
        }
    }
}

impl FeedbackLimits {
    /// Checks the limits are usable (each 1-365 working days, refusal no later than information).
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("refuse_days", self.refuse_days),
            ("info_days", self.info_days),
            ("answer_days", self.answer_days),
            ("publish_days", self.publish_days),
        ] {
            if !(1..=365).contains(&v) {
                return Err(format!("{name} must be 1-365 working days, not {v}"));
            }
        }
        if self.refuse_days > self.info_days {
            return Err("refuse_days must not exceed info_days".into());
        }
        Ok(())
    }
}

/// What the item is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// One of the citizen's dossiers (by dossier code).
    Dossier,
    /// A procedure (by procedure code).
    Procedure,
    /// An agency (by agency code).
    Agency,
}

impl SubjectKind {
    /// Machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Dossier => "dossier",
            SubjectKind::Procedure => "procedure",
            SubjectKind::Agency => "agency",
        }
    }

    /// Parses the machine name.
    pub fn parse(s: &str) -> Option<SubjectKind> {
        [
            SubjectKind::Dossier,
            SubjectKind::Procedure,
            SubjectKind::Agency,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Where an item stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackState {
    /// Received, not classified yet.
    Received,
    /// Accepted for handling (also after information supplied or a re-raise).
    Accepted,
    /// Refused, with a reason (final).
    Refused,
    /// Waiting for the citizen to supply what is missing.
    InfoRequested,
    /// Answered, not published yet.
    Answered,
    /// Answer made public.
    Published,
}

impl FeedbackState {
    /// Every state.
    pub const ALL: [FeedbackState; 6] = [
        FeedbackState::Received,
        FeedbackState::Accepted,
        FeedbackState::Refused,
        FeedbackState::InfoRequested,
        FeedbackState::Answered,
        FeedbackState::Published,
    ];

    /// Machine name (as in JSON and storage).
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackState::Received => "received",
            FeedbackState::Accepted => "accepted",
            FeedbackState::Refused => "refused",
            FeedbackState::InfoRequested => "info_requested",
            FeedbackState::Answered => "answered",
            FeedbackState::Published => "published",
        }
    }

    /// Parses the machine name.
    pub fn parse(s: &str) -> Option<FeedbackState> {
        FeedbackState::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Vietnamese label.
    pub fn label_vi(self) -> &'static str {
        match self {
            FeedbackState::Received => "Đã tiếp nhận",
            FeedbackState::Accepted => "Đang xử lý",
            FeedbackState::Refused => "Từ chối xử lý",
            FeedbackState::InfoRequested => "Yêu cầu bổ sung thông tin",
            FeedbackState::Answered => "Đã trả lời",
            FeedbackState::Published => "Đã công khai",
        }
    }
}

/// How the item was classified at first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// Accepted for handling.
    Accepted,
    /// Refused.
    Refused,
    /// More information requested.
    InfoRequested,
}

/// A feedback item (phản ánh, kiến nghị).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Feedback {
    /// Id.
    pub id: Uuid,
    /// The citizen who filed it.
    pub owner: Uuid,
    /// Their name when filed.
    pub owner_name: String,
    /// What it is about.
    pub subject_kind: SubjectKind,
    /// Dossier, procedure or agency code.
    pub subject: String,
    /// The agency it is addressed to (handles it).
    #[schema(value_type = String)]
    pub agency: AgencyCode,
    /// What the citizen wrote.
    pub content: String,
    /// Where it stands.
    pub state: FeedbackState,
    /// Received.
    pub received_at: DateTime<Utc>,
    /// First classification, and when.
    pub classification: Option<Classification>,
    /// When first classified.
    pub classified_at: Option<DateTime<Utc>>,
    /// Why it was refused.
    pub refusal_reason: Option<String>,
    /// What is missing (information requested).
    pub missing_info: Option<String>,
    /// What the citizen supplied.
    pub supplied_info: Option<String>,
    /// When the information was supplied.
    pub info_supplied_at: Option<DateTime<Utc>>,
    /// The answer (the latest round's).
    pub answer: Option<String>,
    /// The officer who answered.
    pub answered_by: Option<String>,
    /// When answered (the latest round).
    pub answered_at: Option<DateTime<Utc>>,
    /// The question as published, without personal data (the leader writes it).
    pub public_summary: Option<String>,
    /// When published.
    pub published_at: Option<DateTime<Utc>>,
    /// The citizen's rating of the current answer: `true` satisfied.
    pub satisfied: Option<bool>,
    /// Whether the citizen re-raised it (once).
    pub reraised: bool,
    /// When re-raised.
    pub reraised_at: Option<DateTime<Utc>>,
    /// Number of steps so far (the history's length; optimistic concurrency).
    pub version: u64,
}

/// One step of an item's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeedbackStep {
    /// Position, from 1.
    pub seq: u64,
    /// Machine name of the action (`received`, `accepted`, `refused`, ...).
    pub action: String,
    /// Who acted.
    pub actor: Uuid,
    /// Their name.
    pub actor_name: String,
    /// Their role.
    pub role: Role,
    /// The agency concerned (the item's).
    #[schema(value_type = String)]
    pub agency: AgencyCode,
    /// When.
    pub at: DateTime<Utc>,
    /// The text of the step (content, reason, answer, ...), if any.
    pub note: Option<String>,
}

/// What someone does to an item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum FeedbackAction {
    /// Staff: accept for handling.
    Accept,
    /// Staff: refuse, with a reason.
    Refuse {
        /// Why.
        reason: String,
    },
    /// Staff: ask for what is missing.
    RequestInfo {
        /// What is missing.
        missing: String,
    },
    /// The citizen: supply the information asked for (the item is accepted).
    SupplyInfo {
        /// The information.
        info: String,
    },
    /// Staff: answer.
    Answer {
        /// The answer.
        answer: String,
    },
    /// A leader: make the answer public with the question restated without personal data.
    Publish {
        /// The question without personal data.
        summary: String,
    },
    /// The citizen: rate the answer.
    Rate {
        /// Satisfied or not.
        satisfied: bool,
    },
    /// The citizen: raise it again once answered (once).
    Reraise {
        /// Why the answer does not settle it.
        reason: String,
    },
}

impl FeedbackAction {
    /// Machine name of the step it records.
    pub fn name(&self) -> &'static str {
        match self {
            FeedbackAction::Accept => "accepted",
            FeedbackAction::Refuse { .. } => "refused",
            FeedbackAction::RequestInfo { .. } => "info_requested",
            FeedbackAction::SupplyInfo { .. } => "info_supplied",
            FeedbackAction::Answer { .. } => "answered",
            FeedbackAction::Publish { .. } => "published",
            FeedbackAction::Rate { .. } => "rated",
            FeedbackAction::Reraise { .. } => "reraised",
        }
    }
}

/// Why an action was refused; nothing changes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FeedbackError {
    /// The action does not fit the item's state.
    #[error("`{action}` is not allowed while the feedback item is `{state}`")]
    NotAllowed {
        /// The action.
        action: &'static str,
        /// The state.
        state: &'static str,
    },
    /// The actor may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A field is invalid.
    #[error("{field}: {reason}")]
    Invalid {
        /// Field name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Trims `text` and checks it is neither empty nor too long.
pub fn text(field: &'static str, raw: &str) -> Result<String, FeedbackError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(FeedbackError::Invalid {
            field,
            reason: "must not be empty".into(),
        });
    }
    if t.chars().count() > MAX_TEXT_CHARS {
        return Err(FeedbackError::Invalid {
            field,
            reason: format!("at most {MAX_TEXT_CHARS} characters"),
        });
    }
    Ok(t.to_string())
}

/// What a new item needs.
#[derive(Clone, Debug)]
pub struct NewFeedback {
    /// Id to give it.
    pub id: Uuid,
    /// What it is about.
    pub subject_kind: SubjectKind,
    /// Dossier, procedure or agency code (checked by the caller: it exists and, for a dossier,
    /// belongs to the citizen).
    pub subject: String,
    /// The agency it goes to.
    pub agency: AgencyCode,
    /// The text.
    pub content: String,
}

/// Files a new item for the citizen `actor` at `now`: the item and its first step.
pub fn receive(
    n: NewFeedback,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Feedback, FeedbackStep), FeedbackError> {
    if actor.role != Role::Citizen {
        return Err(FeedbackError::Forbidden(
            "feedback is filed by a signed-in citizen".into(),
        ));
    }
    let content = text("content", &n.content)?;
    if n.subject.trim().is_empty() {
        return Err(FeedbackError::Invalid {
            field: "subject",
            reason: "must not be empty".into(),
        });
    }
    let f = Feedback {
        id: n.id,
        owner: actor.user_id,
        owner_name: actor.name.clone(),
        subject_kind: n.subject_kind,
        subject: n.subject.trim().to_string(),
        agency: n.agency,
        content: content.clone(),
        state: FeedbackState::Received,
        received_at: now,
        classification: None,
        classified_at: None,
        refusal_reason: None,
        missing_info: None,
        supplied_info: None,
        info_supplied_at: None,
        answer: None,
        answered_by: None,
        answered_at: None,
        public_summary: None,
        published_at: None,
        satisfied: None,
        reraised: false,
        reraised_at: None,
        version: 1,
    };
    let step = step_of(&f, "received", actor, now, Some(content));
    Ok((f, step))
}

fn step_of(
    f: &Feedback,
    action: &str,
    actor: &Actor,
    now: DateTime<Utc>,
    note: Option<String>,
) -> FeedbackStep {
    FeedbackStep {
        seq: f.version,
        action: action.into(),
        actor: actor.user_id,
        actor_name: actor.name.clone(),
        role: actor.role,
        agency: f.agency.clone(),
        at: now,
        note,
    }
}

fn staff_of(f: &Feedback, actor: &Actor) -> Result<(), FeedbackError> {
    let staff = matches!(
        actor.role,
        Role::DeskOfficer | Role::Specialist | Role::Leader
    );
    if staff && actor.agency.as_ref() == Some(&f.agency) {
        Ok(())
    } else {
        Err(FeedbackError::Forbidden(
            "only staff of the agency the item is addressed to may do this".into(),
        ))
    }
}

fn owner_of(f: &Feedback, actor: &Actor) -> Result<(), FeedbackError> {
    if actor.role == Role::Citizen && actor.user_id == f.owner {
        Ok(())
    } else {
        Err(FeedbackError::Forbidden(
            "only the citizen who filed the item may do this".into(),
        ))
    }
}

/// Decides `action` by `actor` at `now` on `f`: the item after it and the step to record.
pub fn decide(
    f: &Feedback,
    action: &FeedbackAction,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Feedback, FeedbackStep), FeedbackError> {
    use FeedbackState as S;
    let name = action.name();
    let not_allowed = || FeedbackError::NotAllowed {
        action: name,
        state: f.state.as_str(),
    };
    let mut g = f.clone();
    let note = match action {
        FeedbackAction::Accept
        | FeedbackAction::Refuse { .. }
        | FeedbackAction::RequestInfo { .. } => {
            staff_of(f, actor)?;
            if f.state != S::Received {
                return Err(not_allowed());
            }
            g.classified_at = Some(now);
            match action {
                FeedbackAction::Refuse { reason } => {
                    let r = text("reason", reason)?;
                    g.state = S::Refused;
                    g.classification = Some(Classification::Refused);
                    g.refusal_reason = Some(r.clone());
                    Some(r)
                }
                FeedbackAction::RequestInfo { missing } => {
                    let m = text("missing", missing)?;
                    g.state = S::InfoRequested;
                    g.classification = Some(Classification::InfoRequested);
                    g.missing_info = Some(m.clone());
                    Some(m)
                }
                _ => {
                    g.state = S::Accepted;
                    g.classification = Some(Classification::Accepted);
                    None
                }
            }
        }
        FeedbackAction::SupplyInfo { info } => {
            owner_of(f, actor)?;
            if f.state != S::InfoRequested {
                return Err(not_allowed());
            }
            let i = text("info", info)?;
            g.state = S::Accepted;
            g.supplied_info = Some(i.clone());
            g.info_supplied_at = Some(now);
            Some(i)
        }
        FeedbackAction::Answer { answer } => {
            staff_of(f, actor)?;
            if f.state != S::Accepted {
                return Err(not_allowed());
            }
            let a = text("answer", answer)?;
            g.state = S::Answered;
            g.answer = Some(a.clone());
            g.answered_by = Some(actor.name.clone());
            g.answered_at = Some(now);
            Some(a)
        }
        FeedbackAction::Publish { summary } => {
            staff_of(f, actor)?;
            if actor.role != Role::Leader {
                return Err(FeedbackError::Forbidden(
                    "only a leader of the agency publishes answers".into(),
                ));
            }
            if f.state != S::Answered {
                return Err(not_allowed());
            }
            let s = text("summary", summary)?;
            g.state = S::Published;
            g.public_summary = Some(s.clone());
            g.published_at = Some(now);
            Some(s)
        }
        FeedbackAction::Rate { satisfied } => {
            owner_of(f, actor)?;
            if !matches!(f.state, S::Answered | S::Published) || f.satisfied.is_some() {
                return Err(not_allowed());
            }
            g.satisfied = Some(*satisfied);
            Some(
                if *satisfied {
                    "hài lòng"
                } else {
                    "không hài lòng"
                }
                .into(),
            )
        }
        FeedbackAction::Reraise { reason } => {
            owner_of(f, actor)?;
            if !matches!(f.state, S::Answered | S::Published) || f.reraised {
                return Err(not_allowed());
            }
            let r = text("reason", reason)?;
            g.state = S::Accepted;
            g.reraised = true;
            g.reraised_at = Some(now);
            // A new round: the next answer is judged and rated on its own; the published one
            // stays in the history.
            g.answer = None;
            g.answered_by = None;
            g.answered_at = None;
            g.published_at = None;
            g.public_summary = None;
            g.satisfied = None;
            Some(r)
        }
    };
    g.version = f.version + 1;
    let step = step_of(&g, name, actor, now, note);
    Ok((g, step))
}

/// The deadlines of an item on `calendar` under `limits` (each `None` when it does not apply).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Deadlines {
    /// Last moment to refuse.
    pub refuse_by: DateTime<Utc>,
    /// Last moment to request information or accept.
    pub classify_by: DateTime<Utc>,
    /// Last moment to answer (none while refused or waiting for information).
    pub answer_by: Option<DateTime<Utc>>,
    /// Last moment to publish (once answered).
    pub publish_by: Option<DateTime<Utc>>,
}

fn plus(calendar: &Calendar, at: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    calendar.add_working_time(at, WorkingDuration::days(i64::from(days)))
}

/// The deadlines of `f`.
pub fn deadlines(f: &Feedback, calendar: &Calendar, limits: &FeedbackLimits) -> Deadlines {
    let answer_from = [Some(f.received_at), f.info_supplied_at, f.reraised_at]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(f.received_at);
    let answering = matches!(
        f.state,
        FeedbackState::Received
            | FeedbackState::Accepted
            | FeedbackState::Answered
            | FeedbackState::Published
    );
    Deadlines {
        refuse_by: plus(calendar, f.received_at, limits.refuse_days),
        classify_by: plus(calendar, f.received_at, limits.info_days),
        answer_by: answering.then(|| plus(calendar, answer_from, limits.answer_days)),
        publish_by: f
            .answered_at
            .map(|a| plus(calendar, a, limits.publish_days)),
    }
}

/// The next deadline of `f` in its state (what staff lists are ordered by): classification while
/// received, the answer while accepted, publication while answered; none otherwise.
pub fn next_due(
    f: &Feedback,
    calendar: &Calendar,
    limits: &FeedbackLimits,
) -> Option<DateTime<Utc>> {
    let d = deadlines(f, calendar, limits);
    match f.state {
        FeedbackState::Received => Some(d.classify_by),
        FeedbackState::Accepted => d.answer_by,
        FeedbackState::Answered => d.publish_by,
        _ => None,
    }
}

/// How an item stands against its limits at `as_of` (for the service index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, utoipa::ToSchema)]
pub struct Timeliness {
    /// Classified within its limit (refusal: refusal limit; acceptance or information request:
    /// information limit).
    pub classified_on_time: bool,
    /// Every step so far met its limit, and no step still open is past its limit.
    pub all_on_time: bool,
}

/// Judges `f` at `as_of`.
pub fn timeliness(
    f: &Feedback,
    calendar: &Calendar,
    limits: &FeedbackLimits,
    as_of: DateTime<Utc>,
) -> Timeliness {
    let d = deadlines(f, calendar, limits);
    let classified_on_time = match (f.classification, f.classified_at) {
        (Some(Classification::Refused), Some(at)) => at <= d.refuse_by,
        (Some(_), Some(at)) => at <= d.classify_by,
        _ => false,
    };
    let classify_ok = match f.classified_at {
        Some(_) => classified_on_time,
        None => as_of <= d.classify_by,
    };
    let answer_ok = match d.answer_by {
        None => true,
        Some(by) => match f.answered_at {
            Some(at) => at <= by,
            // Received but unclassified: its answer clock runs too.
            None => as_of <= by,
        },
    };
    let publish_ok = match d.publish_by {
        None => true,
        Some(by) => match f.published_at {
            Some(at) => at <= by,
            None => as_of <= by,
        },
    };
    Timeliness {
        classified_on_time,
        all_on_time: classify_ok && answer_ok && publish_ok,
    }
}

/// Counts behind indicators 5.1-5.3 for a set of items received in a period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeedbackFacts {
    /// Items received in the period.
    pub received: i64,
    /// Of them, classified within their limit (5.1).
    pub classified_on_time: i64,
    /// Of them, every step within its limit, none open past one (5.2).
    pub on_time: i64,
    /// Of them, neither rated dissatisfied, nor late, nor re-raised (5.3; each item once).
    pub content: i64,
}

impl FeedbackFacts {
    /// Adds one item judged at `as_of`.
    pub fn add(
        &mut self,
        f: &Feedback,
        calendar: &Calendar,
        limits: &FeedbackLimits,
        as_of: DateTime<Utc>,
    ) {
        let t = timeliness(f, calendar, limits, as_of);
        self.received += 1;
        self.classified_on_time += i64::from(t.classified_on_time);
        self.on_time += i64::from(t.all_on_time);
        let unhappy = f.satisfied == Some(false) || !t.all_on_time || f.reraised;
        self.content += i64::from(!unhappy);
    }

    /// Adds another scope's counts.
    pub fn merge(&mut self, o: &FeedbackFacts) {
        self.received += o.received;
        self.classified_on_time += o.classified_on_time;
        self.on_time += o.on_time;
        self.content += o.content;
    }
}

#[cfg(test)]
mod tests;
