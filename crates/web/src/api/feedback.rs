//! Feedback and complaints (phản ánh, kiến nghị) over the API: a citizen files an item about one
//! of their dossiers, a procedure or an agency, follows it, supplies what is missing, rates the
//! answer and may re-raise it once; staff of the agency it is addressed to classify and answer
//! it; a leader publishes the answer. Everyone reads the published answers. The rules are
//! `motcua_domain::feedback`; who sees what is [`may_see`].

use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use motcua_domain::agency::{Actor, Role};
use motcua_domain::codes::{AgencyCode, DossierCode};
use motcua_domain::feedback::{
    Deadlines, Feedback, FeedbackAction, FeedbackState, FeedbackStep, NewFeedback, SubjectKind,
    deadlines, decide, next_due, receive,
};
use motcua_store::{FeedbackOrder, FeedbackQuery};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A new feedback item.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFeedbackRequest {
    /// `dossier` (one of yours, by code), `procedure` (by code) or `agency` (by code).
    pub subject_kind: SubjectKind,
    /// The dossier, procedure or agency code.
    pub subject: String,
    /// For a procedure received by several agencies: the one you write to.
    #[serde(default)]
    pub agency: Option<String>,
    /// What happened, what you ask (1-5,000 characters).
    pub content: String,
}

/// An item as the API returns it, with its deadlines on the agency's calendar.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FeedbackView {
    /// The item.
    pub item: Feedback,
    /// Vietnamese name of its state.
    pub state_label: &'static str,
    /// Its deadlines.
    pub deadlines: Deadlines,
    /// The deadline its current state runs against, if any.
    pub due_at: Option<DateTime<Utc>>,
    /// Whether that deadline has passed.
    pub overdue: bool,
    /// Actions the caller may take now.
    pub actions: Vec<&'static str>,
}

/// One item with its history.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FeedbackDetail {
    /// The item.
    pub feedback: FeedbackView,
    /// Every step: who, when, which agency, what they wrote.
    pub history: Vec<FeedbackStep>,
}

/// A published answer, without personal data.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PublicAnswer {
    /// Item id.
    pub id: Uuid,
    /// The agency that answered.
    pub agency: String,
    /// Its name.
    pub agency_name: String,
    /// What it was about: `dossier`, `procedure` or `agency`.
    pub subject_kind: SubjectKind,
    /// The procedure or agency code (never a dossier code).
    pub subject: Option<String>,
    /// The question, restated by the leader without personal data.
    pub summary: String,
    /// The answer.
    pub answer: String,
    /// Received.
    pub received_at: DateTime<Utc>,
    /// Answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// Published.
    pub published_at: Option<DateTime<Utc>>,
}

/// Whether `actor` may see `f`: the citizen who filed it, staff of the agency it is addressed to.
pub fn may_see(actor: &Actor, f: &Feedback) -> bool {
    match actor.role {
        Role::Citizen => f.owner == actor.user_id,
        Role::DeskOfficer | Role::Specialist | Role::Leader => {
            actor.agency.as_ref() == Some(&f.agency)
        }
        Role::Admin => false,
    }
}

/// Actions `actor` may take on `f` now (a dry run of the domain's rules with placeholder text).
pub(crate) fn hints(f: &Feedback, actor: &Actor) -> Vec<&'static str> {
    let x = || "x".to_string();
    let candidates = [
        ("accept", FeedbackAction::Accept),
        ("refuse", FeedbackAction::Refuse { reason: x() }),
        ("request_info", FeedbackAction::RequestInfo { missing: x() }),
        ("supply_info", FeedbackAction::SupplyInfo { info: x() }),
        ("answer", FeedbackAction::Answer { answer: x() }),
        ("publish", FeedbackAction::Publish { summary: x() }),
        ("rate", FeedbackAction::Rate { satisfied: true }),
        ("reraise", FeedbackAction::Reraise { reason: x() }),
    ];
    let now = Utc::now();
    candidates
        .into_iter()
        .filter(|(_, a)| decide(f, a, actor, now).is_ok())
        .map(|(n, _)| n)
        .collect()
}

/// The view of `f` for `actor`.
pub(crate) fn view(s: &AppState, f: Feedback, actor: &Actor) -> FeedbackView {
    let calendar = s.calendars().for_agency(&f.agency);
    let limits = s.feedback_limits();
    let d = deadlines(&f, &calendar, &limits);
    let due = next_due(&f, &calendar, &limits);
    FeedbackView {
        state_label: f.state.label_vi(),
        deadlines: d,
        due_at: due,
        overdue: due.is_some_and(|d| d < Utc::now()),
        actions: hints(&f, actor),
        item: f,
    }
}

fn parse_id(p: Result<Path<String>, PathRejection>) -> Result<Uuid, ApiError> {
    let Path(raw) = p?;
    raw.parse()
        .map_err(|_| ApiError::bad_request(format!("`{raw}` is not a feedback id (a UUID)")))
}

/// The agency an item goes to, after checking its subject exists (and, for a dossier, is the
/// citizen's own: another's and an unknown code get the same answer).
async fn addressee(
    s: &AppState,
    actor: &Actor,
    req: &NewFeedbackRequest,
) -> Result<(String, AgencyCode), ApiError> {
    let raw = req.subject.trim();
    if raw.is_empty() {
        return Err(ApiError::invalid(
            "subject",
            "name the dossier, procedure or agency",
        ));
    }
    match req.subject_kind {
        SubjectKind::Dossier => {
            let code = DossierCode::parse_lenient(raw)
                .map_err(|e| ApiError::invalid("subject", e.to_string()))?;
            let d = s
                .store
                .dossier_by_code(&code)
                .await?
                .filter(|d| d.owner == Some(actor.user_id))
                .ok_or_else(|| {
                    ApiError::invalid("subject", format!("you have no dossier `{code}`"))
                })?;
            Ok((code.to_string(), d.competent_agency))
        }
        SubjectKind::Procedure => {
            let p = s.published_procedure(raw).await?.ok_or_else(|| {
                ApiError::invalid("subject", format!("no published procedure `{raw}`"))
            })?;
            let mut candidates: Vec<AgencyCode> =
                p.version.competent_agency.iter().cloned().collect();
            candidates.extend(p.receiving_agencies.iter().cloned());
            candidates.dedup();
            let agency = match req.agency.as_deref().map(str::trim) {
                Some(a) => {
                    let a: AgencyCode =
                        a.parse().map_err(|e: motcua_domain::codes::CodeError| {
                            ApiError::invalid("agency", e.to_string())
                        })?;
                    if !candidates.contains(&a) {
                        return Err(ApiError::invalid(
                            "agency",
                            format!("`{a}` neither decides nor receives procedure `{raw}`"),
                        ));
                    }
                    a
                }
                None => match (&p.version.competent_agency, candidates.as_slice()) {
                    (Some(c), _) => c.clone(),
                    (None, [only]) => only.clone(),
                    _ => {
                        return Err(ApiError::invalid(
                            "agency",
                            "several agencies receive this procedure: name the one you write to",
                        ));
                    }
                },
            };
            Ok((p.version.code.to_string(), agency))
        }
        SubjectKind::Agency => {
            let a: AgencyCode = raw.parse().map_err(|e: motcua_domain::codes::CodeError| {
                ApiError::invalid("subject", e.to_string())
            })?;
            if s.store.agency(&a).await?.is_none() {
                return Err(ApiError::invalid("subject", format!("no agency `{a}`")));
            }
            Ok((a.to_string(), a))
        }
    }
}

/// Files a feedback item (signed-in citizens).
#[utoipa::path(post, path = "/api/v1/feedback", tag = "feedback", security(("bearer" = [])),
    request_body = NewFeedbackRequest,
    responses((status = 201, body = FeedbackView), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    State(s): State<AppState>,
    Auth(actor): Auth,
    body: Result<Json<NewFeedbackRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<FeedbackView>), ApiError> {
    if actor.role != Role::Citizen {
        return Err(ApiError::forbidden(
            "feedback is filed by citizens from their own account",
        ));
    }
    let Json(req) = body?;
    Ok((StatusCode::CREATED, Json(file(&s, &actor, req).await?)))
}

/// Files `req` for `actor` (the API and the page share it).
pub(crate) async fn file(
    s: &AppState,
    actor: &Actor,
    req: NewFeedbackRequest,
) -> Result<FeedbackView, ApiError> {
    if actor.role != Role::Citizen {
        return Err(ApiError::forbidden(
            "feedback is filed by citizens from their own account",
        ));
    }
    let (subject, agency) = addressee(s, actor, &req).await?;
    let (item, step) = receive(
        NewFeedback {
            id: Uuid::new_v4(),
            subject_kind: req.subject_kind,
            subject,
            agency,
            content: req.content,
        },
        actor,
        Utc::now(),
    )?;
    let calendar = s.calendars().for_agency(&item.agency);
    let due = next_due(&item, &calendar, &s.feedback_limits());
    s.store.create_feedback(item.clone(), step, due).await?;
    Ok(view(s, item, actor))
}

/// The caller's own items, newest first (citizens).
#[utoipa::path(get, path = "/api/v1/feedback/mine", tag = "feedback", security(("bearer" = [])),
    responses((status = 200, body = Vec<FeedbackView>), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
pub async fn mine(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<Vec<FeedbackView>>, ApiError> {
    if actor.role != Role::Citizen {
        return Err(ApiError::forbidden(
            "this is a citizen's list; staff use GET /api/v1/feedback",
        ));
    }
    let rows = s
        .store
        .list_feedback(&FeedbackQuery {
            owner: Some(actor.user_id),
            ..Default::default()
        })
        .await?;
    Ok(Json(
        rows.into_iter().map(|r| view(&s, r.item, &actor)).collect(),
    ))
}

/// Filters of the staff list.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Only items in this state: received, accepted, refused, info_requested, answered, published.
    pub state: Option<String>,
    /// At most this many (1-1,000, default 200).
    pub limit: Option<u32>,
}

/// Items addressed to the caller's agency, earliest deadline first (desk officers, specialists,
/// leaders).
#[utoipa::path(get, path = "/api/v1/feedback", tag = "feedback", params(ListParams), security(("bearer" = [])),
    responses((status = 200, body = Vec<FeedbackView>), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn agency_list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<Vec<FeedbackView>>, ApiError> {
    let Query(p) = q?;
    let agency = match (actor.role, &actor.agency) {
        (Role::DeskOfficer | Role::Specialist | Role::Leader, Some(a)) => a.clone(),
        (Role::Citizen, _) => {
            return Err(ApiError::forbidden(
                "citizens list their own items at GET /api/v1/feedback/mine",
            ));
        }
        _ => {
            return Err(ApiError::forbidden(
                "feedback is handled by the staff of the agency it is addressed to",
            ));
        }
    };
    let state = p
        .state
        .as_deref()
        .map(|s| {
            FeedbackState::parse(s.trim())
                .ok_or_else(|| ApiError::invalid("state", format!("unknown state `{s}`")))
        })
        .transpose()?;
    let limit = p.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "1-1000"));
    }
    let rows = s
        .store
        .list_feedback(&FeedbackQuery {
            agencies: vec![agency],
            state,
            order: FeedbackOrder::Due,
            limit,
            ..Default::default()
        })
        .await?;
    Ok(Json(
        rows.into_iter().map(|r| view(&s, r.item, &actor)).collect(),
    ))
}

async fn load(s: &AppState, actor: &Actor, id: Uuid) -> Result<Feedback, ApiError> {
    s.store
        .feedback(id)
        .await?
        .map(|r| r.item)
        .filter(|f| may_see(actor, f))
        .ok_or_else(|| ApiError::not_found("no such feedback item"))
}

/// One item with its history (its citizen, staff of its agency).
#[utoipa::path(get, path = "/api/v1/feedback/{id}", tag = "feedback", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = FeedbackDetail), (status = 400, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn get_one(
    State(s): State<AppState>,
    Auth(actor): Auth,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<FeedbackDetail>, ApiError> {
    let f = load(&s, &actor, parse_id(id)?).await?;
    let history = s.store.feedback_history(f.id).await?;
    Ok(Json(FeedbackDetail {
        feedback: view(&s, f, &actor),
        history,
    }))
}

/// Runs `action` on item `id` for `actor`: the domain decides, the store keeps the new version
/// and the step (409 when someone acted meanwhile).
pub(crate) async fn act(
    s: &AppState,
    actor: &Actor,
    id: Uuid,
    action: FeedbackAction,
) -> Result<FeedbackView, ApiError> {
    let f = load(s, actor, id).await?;
    let (g, step) = decide(&f, &action, actor, Utc::now())?;
    let calendar = s.calendars().for_agency(&g.agency);
    let due = next_due(&g, &calendar, &s.feedback_limits());
    s.store.save_feedback(g.clone(), step, due).await?;
    Ok(view(s, g, actor))
}

/// How staff classify an item.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassifyRequest {
    /// `accept`, `refuse` (with `reason`) or `request_info` (with `missing`).
    pub decision: String,
    /// Why it is refused.
    #[serde(default)]
    pub reason: Option<String>,
    /// What is missing.
    #[serde(default)]
    pub missing: Option<String>,
}

/// Classifies a received item: accept it for handling, refuse it with a reason, or ask for what
/// is missing (staff of its agency).
#[utoipa::path(post, path = "/api/v1/feedback/{id}/classify", tag = "feedback", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ClassifyRequest,
    responses((status = 200, body = FeedbackView), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn classify(
    State(s): State<AppState>,
    Auth(actor): Auth,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<ClassifyRequest>, JsonRejection>,
) -> Result<Json<FeedbackView>, ApiError> {
    let id = parse_id(id)?;
    let Json(req) = body?;
    let action = match req.decision.as_str() {
        "accept" => FeedbackAction::Accept,
        "refuse" => FeedbackAction::Refuse {
            reason: req.reason.unwrap_or_default(),
        },
        "request_info" => FeedbackAction::RequestInfo {
            missing: req.missing.unwrap_or_default(),
        },
        other => {
            return Err(ApiError::invalid(
                "decision",
                format!("`{other}`: use accept, refuse or request_info"),
            ));
        }
    };
    Ok(Json(act(&s, &actor, id, action).await?))
}

/// A text the caller sends.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextRequest {
    /// The text (1-5,000 characters).
    pub text: String,
}

/// Supplies the information asked for; the item is accepted (its citizen).
#[utoipa::path(post, path = "/api/v1/feedback/{id}/supply-info", tag = "feedback", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = TextRequest,
    responses((status = 200, body = FeedbackView), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn supply_info(
    State(s): State<AppState>,
    Auth(actor): Auth,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<TextRequest>, JsonRejection>,
) -> Result<Json<FeedbackView>, ApiError> {
    let id = parse_id(id)?;
    let Json(req) = body?;
    let action = FeedbackAction::SupplyInfo { info: req.text };
    Ok(Json(act(&s, &actor, id, action).await?))
}

/// Answers an accepted item (staff of its agency).
#[utoipa::path(post, path = "/api/v1/feedback/{id}/answer", tag = "feedback", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = TextRequest,
    responses((status = 200, body = FeedbackView), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn answer(
    State(s): State<AppState>,
    Auth(actor): Auth,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<TextRequest>, JsonRejection>,
) -> Result<Json<FeedbackView>, ApiError> {
    let id = parse_id(id)?;
    let Json(req) = body?;
    let action = FeedbackAction::Answer { answer: req.text };
    Ok(Json(act(&s, &actor, id, action).await?))
}

/// Publishes an answer with the question restated without personal data in `text` (a leader of
/// its agency).
#[utoipa::path(post, path = "/api/v1/feedback/{id}/publish", tag = "feedback", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = TextRequest,
    responses((status = 200, body = FeedbackView), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn publish(
    State(s): State<AppState>,
    Auth(actor): Auth,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<TextRequest>, JsonRejection>,
) -> Result<Json<FeedbackView>, ApiError> {
    let id = parse_id(id)?;
    let Json(req) = body?;
    let action = FeedbackAction::Publish { summary: req.text };
    Ok(Json(act(&s, &actor, id, action).await?))
}

/// A rating.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateRequest {
    /// Satisfied with the answer or not.
    pub satisfied: bool,
}

/// Rates the answer, once per answer (its citizen).
#[utoipa::path(post, path = "/api/v1/feedback/{id}/rate", tag = "feedback", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = RateRequest,
    responses((status = 200, body = FeedbackView), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn rate(
    State(s): State<AppState>,
    Auth(actor): Auth,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<RateRequest>, JsonRejection>,
) -> Result<Json<FeedbackView>, ApiError> {
    let id = parse_id(id)?;
    let Json(req) = body?;
    let action = FeedbackAction::Rate {
        satisfied: req.satisfied,
    };
    Ok(Json(act(&s, &actor, id, action).await?))
}

/// Raises an answered item again, once, saying why in `text` (its citizen).
#[utoipa::path(post, path = "/api/v1/feedback/{id}/reraise", tag = "feedback", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = TextRequest,
    responses((status = 200, body = FeedbackView), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn reraise(
    State(s): State<AppState>,
    Auth(actor): Auth,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<TextRequest>, JsonRejection>,
) -> Result<Json<FeedbackView>, ApiError> {
    let id = parse_id(id)?;
    let Json(req) = body?;
    let action = FeedbackAction::Reraise { reason: req.text };
    Ok(Json(act(&s, &actor, id, action).await?))
}

/// Published answers, latest first (open to everyone; no personal data).
pub(crate) async fn published(s: &AppState, limit: u32) -> Result<Vec<PublicAnswer>, ApiError> {
    let rows = s
        .store
        .list_feedback(&FeedbackQuery {
            published: true,
            order: FeedbackOrder::Published,
            limit,
            ..Default::default()
        })
        .await?;
    let agencies = s.store.agencies().await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let f = r.item;
            PublicAnswer {
                id: f.id,
                agency_name: agencies
                    .iter()
                    .find(|a| a.code == f.agency)
                    .map_or_else(|| f.agency.to_string(), |a| a.name.clone()),
                agency: f.agency.to_string(),
                subject_kind: f.subject_kind,
                subject: (f.subject_kind != SubjectKind::Dossier).then_some(f.subject),
                summary: f.public_summary.unwrap_or_default(),
                answer: f.answer.unwrap_or_default(),
                received_at: f.received_at,
                answered_at: f.answered_at,
                published_at: f.published_at,
            }
        })
        .collect())
}

/// Published answers to feedback, latest first (no sign-in; no personal data).
#[utoipa::path(get, path = "/api/v1/public/feedback", tag = "feedback",
    responses((status = 200, body = Vec<PublicAnswer>)))]
pub async fn public_list(State(s): State<AppState>) -> Result<Json<Vec<PublicAnswer>>, ApiError> {
    Ok(Json(published(&s, 200).await?))
}
