//! Dossiers: submit, read, list, act, and the public status lookup.

use crate::AppState;
use crate::auth::Auth;
use crate::authz::{Visible, scope, visible};
use crate::error::ApiError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use motcua_domain::agency::{Actor, Role};
use motcua_domain::codes::{AgencyCode, DossierCode};
use motcua_domain::dossier::{
    Applicant, Channel, Command, Ctx, DocumentRef, Dossier, Event, SubmitData, decide,
};
use motcua_domain::files::AttachmentKind;
use motcua_domain::status::Status;
use motcua_store::{DossierQuery, DossierSummary, Execute, Head, StoredEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A new dossier.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// Procedure code (the published version is used).
    pub procedure_code: String,
    /// Receiving agency (its desk). Optional when the procedure has only one.
    pub agency: Option<String>,
    /// `online` (citizens), `counter` or `post` (desk officers).
    #[serde(default = "online")]
    pub channel: Channel,
    /// The applicant; citizens may omit it to use their account's name.
    pub applicant: Option<Applicant>,
    /// Documents attached.
    #[serde(default)]
    pub documents: Vec<DocumentRef>,
    /// E-form values (a JSON object), checked against the procedure version's form: its own or
    /// the generic one (`GET /api/v1/procedures/{code}/form`). Fields the form fills from the
    /// applicant's profile are taken from `applicant` when left out. Online submissions must
    /// pass the form; at the counter or by post an empty object means the paper declaration
    /// is on file. Files of its upload slots (`_uploads`: slot -> `sha256:` key of the caller's
    /// data store) become documents of the dossier, named after the slot.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub form: serde_json::Value,
    /// Note for the history.
    pub note: Option<String>,
    /// Postal tracking number: required with channel `post` (9-20 letters and digits).
    #[serde(default)]
    pub postal_tracking: Option<String>,
    /// Desk officers: `true` (default) receives the paper dossier on the spot (code and
    /// appointment); `false` records it unreceived, to request a supplement or refuse it at
    /// reception next (the on-time clock never starts).
    #[serde(default = "yes")]
    pub receive: bool,
    /// Desk officers, channel `online`: the user name of the citizen account the dossier is
    /// submitted for (a citizen who came to the desk for help). The account owns it; the
    /// history shows the officer who keyed it in.
    #[serde(default)]
    pub on_behalf_of: Option<String>,
    /// Public postal service: `pickup` of the paper dossier at an address (online only),
    /// `return_to` for the result by post; each with receiver name, phone, province and
    /// commune codes (2025 units) and the address detail.
    #[serde(default)]
    pub postal: Option<motcua_domain::dossier::PostalChoice>,
}

fn online() -> Channel {
    Channel::Online
}

fn yes() -> bool {
    true
}

/// A dossier as the API returns it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DossierView {
    /// The state.
    pub dossier: Dossier,
    /// National status code 1-10.
    pub national_status: u8,
    /// National status name.
    pub national_status_name: &'static str,
    /// Actions the caller may try now.
    pub actions: Vec<&'static str>,
}

/// The actions `actor` may take now: each candidate is tried against the domain's rules (a dry
/// run of `decide` with placeholder fields, nothing written). An action whose only objection is a
/// field the caller has to fill in counts as available.
pub(crate) fn hints(
    d: &Dossier,
    a: &Actor,
    calendar: &motcua_domain::calendar::Calendar,
) -> Vec<&'static str> {
    use motcua_domain::dossier::{CodeAllocator, DomainError, ReturnMethod};
    struct NoCodes;
    impl CodeAllocator for NoCodes {
        fn allocate(
            &mut self,
            _: &AgencyCode,
            _: chrono::NaiveDate,
        ) -> Result<DossierCode, String> {
            Err("dry run".into())
        }
    }
    let now = Utc::now();
    let x = || "x".to_string();
    let next = d.current_step().and_then(|s| s.next.first().cloned());
    let candidates = [
        Command::Receive,
        Command::RequestSupplement {
            items: vec![x()],
            reason: x(),
        },
        Command::ProvideSupplement { documents: vec![] },
        Command::Refuse { reasons: vec![x()] },
        Command::Assign {
            user_id: a.user_id,
            name: x(),
        },
        Command::CompleteStep {
            to: next,
            documents: vec![],
        },
        Command::SendBack,
        Command::Approve,
        Command::RequestPayment {
            amount_vnd: 1,
            reason: x(),
        },
        Command::ConfirmPayment { reference: x() },
        Command::MarkResultReady {
            summary: x(),
            documents: vec![],
        },
        Command::ReturnResult {
            method: ReturnMethod::Counter,
            receiver: x(),
        },
        Command::Withdraw { reason: x() },
        Command::StopProcessing { reason: x() },
        Command::IssueApology {
            reason: x(),
            new_due_at: d.due_at.unwrap_or(now) + chrono::Duration::days(30),
        },
        Command::Rate {
            score: 5,
            comment: None,
        },
        // The channels in force: refused only for being unchanged, so available.
        Command::SetNotifications {
            channels: d.applicant.channels(),
        },
    ];
    candidates
        .iter()
        .filter(|cmd| {
            let mut ctx = Ctx {
                now,
                actor: a,
                calendar,
                codes: &mut NoCodes,
            };
            match decide(Some(d), cmd, None, &mut ctx) {
                Ok(_) | Err(DomainError::CodeAllocation(_)) => true,
                // Only the placeholder fields were wrong (e.g. which step to go to).
                Err(DomainError::Invalid { field, .. }) => field != "action",
                Err(_) => false,
            }
        })
        .map(|c| c.name())
        .collect()
}

fn view(s: &AppState, v: Visible, a: &Actor) -> DossierView {
    let d = v.into_inner();
    let calendar = s.calendars().for_agency(&d.receiving_agency);
    DossierView {
        national_status: d.status.national_code(),
        national_status_name: d.status.national_name(),
        actions: hints(&d, a, &calendar),
        dossier: d,
    }
}

fn idempotency_key(h: &HeaderMap) -> Result<Option<String>, ApiError> {
    match h.get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            let s = v
                .to_str()
                .map_err(|_| ApiError::invalid("Idempotency-Key", "must be printable ASCII"))?
                .trim();
            if s.is_empty() || s.len() > 200 {
                return Err(ApiError::invalid(
                    "Idempotency-Key",
                    "must be 1-200 characters",
                ));
            }
            Ok(Some(s.to_string()))
        }
    }
}

/// Builds the job that runs `cmd` for `actor` inside the store's transaction.
pub(crate) fn job(
    s: &AppState,
    id: Uuid,
    actor: Actor,
    cmd: Command,
    note: Option<String>,
    expected_version: Option<u64>,
    idempotency: Option<(Uuid, String)>,
) -> Execute {
    let calendars = s.calendars();
    let now = Utc::now();
    Execute {
        dossier_id: id,
        expected_version,
        idempotency,
        files: Vec::new(),
        decide: Box::new(move |state, codes| {
            // Deadlines run on the calendar of the agency that received the dossier.
            let receiving = match (state, &cmd) {
                (Some(d), _) => Some(&d.receiving_agency),
                (None, Command::Submit(data)) => Some(&data.receiving_agency),
                (None, _) => None,
            };
            let calendar = match receiving {
                Some(a) => calendars.for_agency(a),
                None => calendars.province(),
            };
            let mut ctx = Ctx {
                now,
                actor: &actor,
                calendar: &calendar,
                codes,
            };
            decide(state, &cmd, note.clone(), &mut ctx)
        }),
    }
}

/// [`job`] for a submission, writing what the web layer attests (`att`: components re-using an
/// earlier dossier's file, a confirmed identity) into its `Submitted` event; the domain checks
/// it against the submission ([`motcua_domain::dossier::attest`]).
pub(crate) fn attested_job(
    s: &AppState,
    id: Uuid,
    actor: Actor,
    cmd: Command,
    att: motcua_domain::dossier::Attestation,
    note: Option<String>,
    idempotency: Option<(Uuid, String)>,
) -> Execute {
    let inner = job(s, id, actor, cmd, note, Some(0), idempotency);
    let decide_inner = inner.decide;
    Execute {
        decide: Box::new(move |state, codes| {
            let mut evs = decide_inner(state, codes)?;
            motcua_domain::dossier::attest(&mut evs, &att)?;
            Ok(evs)
        }),
        ..inner
    }
}

/// What this system knows of a submission beyond what the applicant sent (766 indicators 4.3
/// and 4.5): the components whose file is already linked to an earlier dossier (re-used
/// digitized data: a component or a result of that dossier, e.g. attached in one click from
/// the applicant's data store), and, for a desk officer, whether they looked the applicant's
/// personal ID up in the national population database for this reception within the last
/// [`IDENTITY_CHECK_HOURS`] hours and it was found (the audit trail's `identity_lookup` line).
pub(crate) async fn attestation(
    s: &AppState,
    actor: &Actor,
    applicant: &Applicant,
    documents: &[DocumentRef],
) -> Result<motcua_domain::dossier::Attestation, ApiError> {
    let mut reused = Vec::new();
    // Each file is looked up once, however many components name it.
    let mut known: Vec<(motcua_domain::files::FileKey, bool)> = Vec::new();
    for d in documents {
        let Some(key) = d
            .file
            .as_deref()
            .and_then(motcua_domain::files::FileKey::parse_ref)
        else {
            continue;
        };
        let linked = match known.iter().find(|(k, _)| *k == key) {
            Some((_, linked)) => *linked,
            None => {
                let linked = s.store.file_in_dossiers(&key).await?;
                known.push((key, linked));
                linked
            }
        };
        if linked && !reused.contains(&d.name) {
            reused.push(d.name.clone());
        }
    }
    let mut identity = None;
    if actor.role == Role::DeskOfficer
        && let Some(pid) = &applicant.personal_id
    {
        let want = format!(
            "personal_id={} purpose={} source={} found=yes",
            pid.as_str(),
            crate::identity::Purpose::CounterReception.as_str(),
            motcua_domain::dossier::IDENTITY_POPULATION_DB
        );
        let since = Utc::now() - chrono::Duration::hours(IDENTITY_CHECK_HOURS);
        let lines = s
            .store
            .audit_trail(&motcua_store::AuditQuery {
                dossier_id: None,
                user_id: Some(actor.user_id),
                before: None,
                limit: 200,
            })
            .await?;
        if lines
            .iter()
            .any(|l| l.action == "identity_lookup" && l.at >= since && l.detail == want)
        {
            identity = Some(motcua_domain::dossier::IdentityCheck {
                source: motcua_domain::dossier::IDENTITY_POPULATION_DB.into(),
            });
        }
    }
    Ok(motcua_domain::dossier::Attestation { reused, identity })
}

/// How long a desk officer's population-database lookup of a personal ID vouches for a
/// submission of theirs for that person.
pub const IDENTITY_CHECK_HOURS: i64 = 4;

/// Submits a dossier (citizen online; desk officer at the counter or from the post, which also
/// receives it on the spot). Send `Idempotency-Key` to make retries safe.
#[utoipa::path(post, path = "/api/v1/dossiers", tag = "dossiers", request_body = SubmitRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the same dossier")),
    responses((status = 201, body = DossierView), (status = 200, description = "Repeat of an earlier request with the same key", body = DossierView),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
        (status = 413, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn submit(
    State(s): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    body: Result<Json<SubmitRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<DossierView>), ApiError> {
    let Json(req) = body?;
    let key = idempotency_key(&headers)?;
    // Said before any file or form is looked at (the domain refuses them too).
    if !matches!(actor.role, Role::Citizen | Role::DeskOfficer) {
        return Err(ApiError::forbidden(
            "only citizens and desk officers submit dossiers",
        ));
    }
    if !req.form.is_null() && !req.form.is_object() {
        return Err(ApiError::invalid("form", "must be a JSON object"));
    }
    let code: motcua_domain::codes::ProcedureCode =
        req.procedure_code
            .parse()
            .map_err(|e: motcua_domain::codes::CodeError| {
                ApiError::invalid("procedure_code", e.to_string())
            })?;
    let rec = s
        .published_procedure(&code.to_string())
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("no published procedure {code}")).field("procedure_code")
        })?;
    let receiving: AgencyCode = match &req.agency {
        Some(a) => a.parse().map_err(|e: motcua_domain::codes::CodeError| {
            ApiError::invalid("agency", e.to_string())
        })?,
        None if rec.receiving_agencies.len() == 1 => rec.receiving_agencies[0].clone(),
        None => {
            return Err(ApiError::invalid(
                "agency",
                "this procedure is received at several agencies: say which one",
            ));
        }
    };
    if !rec.receiving_agencies.contains(&receiving) {
        return Err(ApiError::invalid(
            "agency",
            format!("procedure {code} is not received at agency {receiving}"),
        ));
    }
    let competent = rec
        .version
        .competent_agency
        .clone()
        .unwrap_or_else(|| receiving.clone());
    // A citizen who came to the desk for help: their account owns the online dossier.
    let on_behalf_of = match req.on_behalf_of.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(username) => {
            if actor.role != Role::DeskOfficer {
                return Err(ApiError::forbidden(
                    "only desk officers submit on behalf of a citizen",
                ));
            }
            if req.channel != Channel::Online {
                return Err(ApiError::invalid(
                    "on_behalf_of",
                    "a dossier submitted on behalf of a citizen's account is an online dossier: set channel to online",
                ));
            }
            let u = s
                .store
                .user_by_username(username)
                .await?
                .filter(|u| u.role == Role::Citizen)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "on_behalf_of",
                        format!("no citizen account named «{username}»"),
                    )
                })?;
            Some(u)
        }
    };
    let for_self = req.applicant.is_none();
    let mut applicant = match (req.applicant, actor.role) {
        (Some(a), _) => a,
        (None, _) if on_behalf_of.is_some() => Applicant {
            name: on_behalf_of
                .as_ref()
                .map(|u| u.name.clone())
                .unwrap_or_default(),
            personal_id: None,
            phone: None,
            email: None,
            address: None,
            notify: None,
        },
        (None, Role::Citizen) => Applicant {
            name: actor.name.clone(),
            personal_id: None,
            phone: None,
            email: None,
            address: None,
            notify: None,
        },
        (None, _) => return Err(ApiError::invalid("applicant", "say who the applicant is")),
    };
    let postal_tracking = req
        .postal_tracking
        .as_deref()
        .map(|t| t.trim().to_ascii_uppercase())
        .filter(|t| !t.is_empty());
    match (&postal_tracking, req.channel) {
        (None, Channel::Post) => {
            return Err(ApiError::invalid(
                "postal_tracking",
                "a dossier received by post needs its postal tracking number",
            ));
        }
        (Some(t), Channel::Post) if !motcua_domain::dossier::valid_postal_tracking(t) => {
            return Err(ApiError::invalid(
                "postal_tracking",
                "must be 9 to 20 letters and digits",
            ));
        }
        (Some(_), Channel::Counter | Channel::Online) => {
            return Err(ApiError::invalid(
                "postal_tracking",
                "only dossiers sent by post have a tracking number",
            ));
        }
        _ => {}
    }
    let postal = match req.postal {
        Some(p) => Some(crate::api::postal_choice::checked(&s, p).await?),
        None => None,
    };
    // The version's form, built once: a procedure without a form of its own gets the generic
    // one, made from its components (5 % of a submission's request-thread time when it was
    // built three times per submission).
    let def = rec.version.form_or_generic();
    let form = checked_form(&s, &def, req.form, req.channel, &applicant).await?;
    // A citizen submitting for themselves gives their contact in the declaration: status
    // changes reach them there (e-mail, SMS), and the public lookup knows their phone or ID.
    if for_self {
        let c = motcua_domain::forms::declared_contact(&def, &form);
        applicant.phone = c.phone;
        applicant.email = c.email;
        applicant.personal_id = c.personal_id.and_then(|p| p.parse().ok());
    }
    // The declaration's upload slots are documents of the dossier like any other.
    let mut documents = req.documents;
    merge_uploads(&def, &form, &mut documents);
    // A citizen filing online attaches the required documents themselves (the declaration page
    // asks the same): a dossier missing one is refused before anything is stored. A desk
    // officer (at the counter, by post, or filing online for a citizen who came in) holds the
    // paper and ticks the procedure's checklist instead.
    if req.channel == Channel::Online && actor.role == Role::Citizen {
        let missing = missing_required_documents(&def, &documents);
        if !missing.is_empty() {
            return Err(ApiError::form_rejected(&missing));
        }
    }
    // File keys must name files the caller may use: otherwise anyone could claim a component
    // digitized with a made-up key (or someone else's file).
    let checked = crate::api::files::check_documents(&s, &actor, &documents, None).await?;
    // Read before the submission's own links are written: only earlier dossiers count.
    let att = attestation(&s, &actor, &applicant, &documents).await?;
    let id = Uuid::now_v7();
    // The documents are linked in the submission's own transaction.
    let files = crate::api::files::document_links(
        &s,
        &actor,
        // Components land in no data store: the owner is not needed.
        (id, None),
        &documents,
        AttachmentKind::Component,
        &checked,
    )
    .await?;
    let cmd = Command::Submit(Box::new(SubmitData {
        procedure: rec.version.snapshot(&receiving, &competent),
        applicant,
        channel: req.channel,
        receiving_agency: receiving,
        competent_agency: competent,
        documents,
        form,
        receive: req.receive,
        postal_tracking,
        on_behalf_of: on_behalf_of.map(|u| u.id),
        origin: None,
        postal,
    }));
    let mut submit = attested_job(
        &s,
        // A fresh id: nothing may exist under it yet.
        id,
        actor.clone(),
        cmd,
        att,
        req.note,
        key.map(|k| (actor.user_id, k)),
    );
    submit.files = files;
    let done = s.store.execute(submit).await?;
    let status = if done.replayed {
        StatusCode::OK
    } else {
        metrics::counter!("motcua_dossiers_submitted_total", "channel" => done.dossier.channel.as_str()).increment(1);
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(view(&s, visible(&actor, done.dossier)?, &actor)),
    ))
}

/// Puts the files of the declaration's upload slots (`form._uploads`, slot -> key) among the
/// submission's documents: each fills the procedure's document named like its slot when that
/// one has no file yet, or is added under the slot's name. So they are checked (the caller's
/// own files only) and linked to the dossier on the one path every document takes.
pub(crate) fn merge_uploads(
    def: &motcua_domain::forms::FormDefinition,
    form: &serde_json::Value,
    docs: &mut Vec<DocumentRef>,
) {
    let Some(up) = form
        .get(motcua_domain::forms::UPLOADS_KEY)
        .and_then(serde_json::Value::as_object)
    else {
        return;
    };
    for u in &def.uploads {
        let Some(key) = up.get(&u.id).and_then(serde_json::Value::as_str) else {
            continue;
        };
        let name = u.name.get("vi").to_string();
        match docs.iter_mut().find(|d| d.name == name) {
            Some(d) if d.file.is_none() => d.file = Some(key.to_string()),
            Some(d) if d.file.as_deref() == Some(key) => {}
            _ => docs.push(DocumentRef {
                name,
                file: Some(key.to_string()),
            }),
        }
    }
}

/// The required upload slots of `def` that no document of the submission fills with a file
/// (matched like [`merge_uploads`]: by the slot's Vietnamese name), as field errors on
/// `form._uploads.<slot>`.
pub(crate) fn missing_required_documents(
    def: &motcua_domain::forms::FormDefinition,
    docs: &[DocumentRef],
) -> Vec<motcua_domain::forms::FieldError> {
    def.uploads
        .iter()
        .filter(|u| u.required)
        .filter(|u| {
            let name = u.name.get("vi");
            !docs.iter().any(|d| d.name == name && d.file.is_some())
        })
        .map(|u| motcua_domain::forms::FieldError {
            path: format!("{}.{}", motcua_domain::forms::UPLOADS_KEY, u.id),
            message: format!(
                "Chưa đính kèm giấy tờ bắt buộc «{}» (nộp trực tuyến cần tệp của từng giấy tờ bắt buộc)",
                u.name.get("vi")
            ),
            message_en: format!(
                "the required document «{}» has no file (an online submission attaches every required document)",
                u.name.get("en")
            ),
        })
        .collect()
}

/// The e-form values a submission keeps: checked against the version's form `def` (the server
/// is the authority), normalised, and limited to the visible fields. 422 lists every field
/// error.
async fn checked_form(
    s: &AppState,
    def: &motcua_domain::forms::FormDefinition,
    raw: serde_json::Value,
    channel: Channel,
    applicant: &Applicant,
) -> Result<serde_json::Value, ApiError> {
    let mut values = match raw {
        serde_json::Value::Null => serde_json::Map::new(),
        serde_json::Value::Object(m) => m,
        _ => return Err(ApiError::invalid("form", "must be a JSON object")),
    };
    // A desk officer receiving paper keys in nothing: the paper declaration is the record.
    if values.is_empty() && channel != Channel::Online {
        return Ok(serde_json::Value::Object(values));
    }
    let profile = motcua_domain::forms::Profile {
        name: Some(applicant.name.clone()),
        personal_id: applicant.personal_id.as_ref().map(|p| p.to_string()),
        phone: applicant.phone.clone(),
        email: applicant.email.clone(),
        address_line: applicant.address.clone(),
        ..Default::default()
    };
    motcua_domain::forms::prefill_missing(def, &profile, &mut values);
    match s
        .check_form(def, &serde_json::Value::Object(values))
        .await?
    {
        Ok(v) => Ok(v.values),
        Err(errors) => Err(ApiError::form_rejected(&errors)),
    }
}

/// Loads a dossier the actor may see (404 otherwise, as if it did not exist).
pub(crate) async fn load_visible(
    s: &AppState,
    actor: &Actor,
    id: Uuid,
) -> Result<Visible, ApiError> {
    let d = s
        .store
        .dossier(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such dossier"))?;
    visible(actor, d)
}

/// Parses a dossier id from the path (400 when it is not a UUID).
pub(crate) fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::bad_request(format!("`{raw}` is not a dossier id (a UUID)")))
}

/// One dossier.
#[utoipa::path(get, path = "/api/v1/dossiers/{id}", tag = "dossiers", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = DossierView), (status = 404, body = crate::error::Problem)))]
pub async fn get_one(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<DossierView>, ApiError> {
    let v = load_visible(&s, &actor, parse_id(&id)?).await?;
    Ok(Json(view(&s, v, &actor)))
}

/// One dossier by its code.
#[utoipa::path(get, path = "/api/v1/dossiers/by-code/{code}", tag = "dossiers", security(("bearer" = [])),
    params(("code" = String, Path, description = "Dossier code, e.g. 000.00.01.H40-261123-0001")),
    responses((status = 200, body = DossierView), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn by_code(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(code): Path<String>,
) -> Result<Json<DossierView>, ApiError> {
    let code =
        DossierCode::parse_lenient(&code).map_err(|e| ApiError::invalid("code", e.to_string()))?;
    let d = s
        .store
        .dossier_by_code(&code)
        .await?
        .ok_or_else(|| ApiError::not_found("no such dossier"))?;
    Ok(Json(view(&s, visible(&actor, d)?, &actor)))
}

/// One entry of the history shown to people.
#[derive(Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    /// Position in the log.
    pub seq: u64,
    /// Vietnamese label.
    pub label: &'static str,
    /// The event as recorded (actor, time, agency, note, details).
    pub event: Event,
    /// Hash chaining this entry to the previous one.
    pub hash: String,
}

/// The dossier's history: every step with actor, time, agency and note.
#[utoipa::path(get, path = "/api/v1/dossiers/{id}/history", tag = "dossiers", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<HistoryEntry>), (status = 404, body = crate::error::Problem)))]
pub async fn history(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<Vec<HistoryEntry>>, ApiError> {
    let v = load_visible(&s, &actor, parse_id(&id)?).await?;
    let log: Vec<StoredEvent> = s.store.history(v.get().id).await?;
    Ok(Json(
        log.into_iter()
            .map(|e| HistoryEntry {
                seq: e.seq,
                label: e.event.body.label_vi(),
                event: e.event,
                hash: e.hash,
            })
            .collect(),
    ))
}

/// List filters.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Only this status (e.g. `awaiting_reception`).
    pub status: Option<String>,
    /// `true`: only dossiers your agency holds now (staff inbox).
    pub inbox: Option<bool>,
    /// Page size (1-200, default 50).
    pub limit: Option<u32>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// A page of dossiers.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DossierPage {
    /// Rows, newest first.
    pub items: Vec<DossierSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Dossiers you may see: a citizen's own; staff: their agency's.
#[utoipa::path(get, path = "/api/v1/dossiers", tag = "dossiers", params(ListParams), security(("bearer" = [])),
    responses((status = 200, body = DossierPage), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<DossierPage>, ApiError> {
    let Query(p) = q?;
    let status = p
        .status
        .as_deref()
        .map(|st| {
            Status::parse(st)
                .ok_or_else(|| ApiError::invalid("status", format!("unknown status `{st}`")))
        })
        .transpose()?;
    let before = p.cursor.as_deref().map(parse_cursor).transpose()?;
    let limit = p.limit.unwrap_or(50).clamp(1, 200);
    let q = scope(
        &actor,
        DossierQuery {
            status,
            limit,
            before,
            current_agency: if p.inbox == Some(true) {
                actor.agency.clone()
            } else {
                None
            },
            ..Default::default()
        },
    )?;
    let items = s.store.list_dossiers(&q).await?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| {
            items
                .last()
                .map(|l| format!("{}_{}", l.submitted_at.timestamp_micros(), l.id))
        })
        .flatten();
    Ok(Json(DossierPage { items, next_cursor }))
}

fn parse_cursor(c: &str) -> Result<(DateTime<Utc>, Uuid), ApiError> {
    let bad = || ApiError::invalid("cursor", "not a cursor returned by this API");
    let (t, id) = c.split_once('_').ok_or_else(bad)?;
    let t = DateTime::from_timestamp_micros(t.parse().map_err(|_| bad())?).ok_or_else(bad)?;
    Ok((t, id.parse().map_err(|_| bad())?))
}

/// Runs an action on a dossier. The body is the action's fields as a JSON object (may be empty),
/// plus optional `note` and `expected_version` (or send `If-Match: "<version>"`).
#[utoipa::path(post, path = "/api/v1/dossiers/{id}/actions/{action}", tag = "dossiers", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("action" = String, Path, description = "receive, request_supplement, provide_supplement, refuse, assign, complete_step, send_back, approve, request_payment, confirm_payment, mark_result_ready, return_result, withdraw, stop_processing, issue_apology, rate, set_notifications, set_postal"),
        ("If-Match" = Option<String>, Header, description = "Expected version")),
    request_body(content = Object, description = "Fields of the action; see docs/api.md"),
    responses((status = 200, body = DossierView), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn act(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<DossierView>, ApiError> {
    const ACTIONS: [&str; 18] = [
        "receive",
        "request_supplement",
        "provide_supplement",
        "refuse",
        "assign",
        "complete_step",
        "send_back",
        "approve",
        "request_payment",
        "confirm_payment",
        "mark_result_ready",
        "return_result",
        "withdraw",
        "stop_processing",
        "issue_apology",
        "rate",
        "set_notifications",
        "set_postal",
    ];
    if !ACTIONS.contains(&action.as_str()) {
        return Err(ApiError::not_found(format!("unknown action `{action}`")).field("action"));
    }
    let id = parse_id(&id)?;
    let mut fields = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::Map::new()
    } else {
        match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(serde_json::Value::Object(m)) => m,
            Ok(_) => return Err(ApiError::invalid("body", "must be a JSON object")),
            Err(e) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed-json",
                    "Malformed JSON",
                    e.to_string(),
                ));
            }
        }
    };
    let note = match fields.remove("note") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(n)) => Some(n),
        Some(_) => return Err(ApiError::invalid("note", "must be a string")),
    };
    let expected_version = expected_version(&headers, fields.remove("expected_version"))?;
    fields.insert("action".into(), serde_json::Value::String(action.clone()));
    let cmd: Command = serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-body",
            "Invalid request body",
            format!("{action}: {e}"),
        )
    })?;
    let cmd = match cmd {
        Command::SetPostal { choice } => Command::SetPostal {
            choice: Box::new(crate::api::postal_choice::checked(&s, *choice).await?),
        },
        other => other,
    };
    let done = perform(&s, &actor, id, cmd, note, expected_version).await?;
    metrics::counter!("motcua_dossier_actions_total", "action" => action).increment(1);
    Ok(Json(view(&s, done, &actor)))
}

/// Runs `cmd` on dossier `id` as `actor` (the API's and the staff pages' one way to act):
/// nobody learns anything about a dossier they may not see; an assignment must name a staff
/// member of the agency holding the dossier; the domain checks the rest.
pub(crate) async fn perform(
    s: &AppState,
    actor: &Actor,
    id: Uuid,
    cmd: Command,
    note: Option<String>,
    expected_version: Option<u64>,
) -> Result<Visible, ApiError> {
    // Nobody learns anything about a dossier they may not see.
    let Head { dossier, last_hash } = s
        .store
        .dossier_head(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such dossier"))?;
    let current = visible(actor, dossier)?;
    // Only a leader of the holding agency may assign (the domain refuses everyone else); the
    // one assigned must be an enabled specialist there.
    if let Command::Assign { user_id, .. } = &cmd
        && actor.is(Role::Leader, &current.get().current_agency)
    {
        let agency = &current.get().current_agency;
        let enabled = s.store.user(*user_id).await?.is_some_and(|u| !u.disabled);
        let specialist = enabled
            && s.store
                .user_grants(*user_id)
                .await?
                .iter()
                .any(|g| g.role == Role::Specialist && g.agency.as_ref() == Some(agency));
        if !specialist {
            return Err(ApiError::invalid(
                "user_id",
                format!("no enabled specialist with this id works at {agency}"),
            ));
        }
    }
    let carried = match &cmd {
        Command::ProvideSupplement { documents } => {
            Some((documents.clone(), AttachmentKind::Supplement))
        }
        Command::MarkResultReady { documents, .. } => {
            Some((documents.clone(), AttachmentKind::Result))
        }
        Command::CompleteStep { documents, .. } if !documents.is_empty() => {
            Some((documents.clone(), AttachmentKind::Attachment))
        }
        _ => None,
    };
    let mut files = Vec::new();
    if let Some((docs, kind)) = &carried {
        let d = current.get();
        let checked = crate::api::files::check_documents(s, actor, docs, Some(d)).await?;
        files = crate::api::files::document_links(s, actor, (id, d.owner), docs, *kind, &checked)
            .await?;
    }
    // The state just read and authorized is where the command starts (checked again on write).
    let head = Head {
        dossier: current.into_inner(),
        last_hash,
    };
    let mut step = job(s, id, actor.clone(), cmd, note, expected_version, None);
    step.files = files;
    let done = s.store.execute_from(step, head).await?;
    visible(actor, done.dossier)
}

fn expected_version(
    h: &HeaderMap,
    body: Option<serde_json::Value>,
) -> Result<Option<u64>, ApiError> {
    if let Some(v) = body {
        return match v {
            serde_json::Value::Null => Ok(None),
            serde_json::Value::Number(n) if n.as_u64().is_some() => Ok(n.as_u64()),
            _ => Err(ApiError::invalid(
                "expected_version",
                "must be a non-negative integer",
            )),
        };
    }
    match h.get("if-match") {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .map(|s| s.trim().trim_start_matches("W/").trim_matches('"'))
            .and_then(|s| s.parse().ok())
            .map(Some)
            .ok_or_else(|| {
                ApiError::invalid("If-Match", "must be the dossier version, e.g. \"3\"")
            }),
    }
}

/// What anyone may know from a dossier code (no personal data); with the holder's phone number
/// or personal ID also the history in plain words and the applicant's initials.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PublicStatus {
    /// Dossier code.
    pub code: String,
    /// Procedure name.
    pub procedure_name: String,
    /// Status name (national catalogue).
    pub status: &'static str,
    /// National status code.
    pub national_status: u8,
    /// Received.
    pub received_at: Option<DateTime<Utc>>,
    /// Appointment.
    pub due_at: Option<DateTime<Utc>>,
    /// Result ready or processing ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// The applicant's initials (only with `verify`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applicant_initials: Option<String>,
    /// The status in plain words (only with `verify`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_text: Option<&'static str>,
    /// The history in plain words, without officers' notes (only with `verify`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<motcua_domain::dossier::notice::PlainEntry>>,
}

impl From<motcua_store::PublicStatusRow> for PublicStatus {
    fn from(r: motcua_store::PublicStatusRow) -> PublicStatus {
        PublicStatus {
            code: r.code,
            procedure_name: r.procedure_name,
            status: r.status.national_name(),
            national_status: r.status.national_code(),
            received_at: r.received_at,
            due_at: r.due_at,
            finished_at: r.finished_at,
            applicant_initials: None,
            status_text: None,
            history: None,
        }
    }
}

/// The digits of a phone number or personal ID as people type them (spaces, dots, dashes,
/// brackets and a leading `+` allowed); `+84`/`84` phone prefixes become `0`. `None` for
/// anything else or fewer than 9 digits.
fn holder_digits(raw: &str) -> Option<String> {
    let t = raw.trim();
    if t.len() > 40
        || !t
            .chars()
            .all(|c| c.is_ascii_digit() || " .-()+".contains(c))
    {
        return None;
    }
    let mut d: String = t.chars().filter(char::is_ascii_digit).collect();
    if d.len() == 11 && d.starts_with("84") {
        d = format!("0{}", &d[2..]);
    }
    (d.len() >= 9).then_some(d)
}

/// Whether `verify` is the applicant's phone number or personal ID.
pub(crate) fn holder_matches(a: &Applicant, verify: &str) -> bool {
    let Some(v) = holder_digits(verify) else {
        return false;
    };
    let phone = a.phone.as_deref().and_then(holder_digits);
    let id = a.personal_id.as_ref().map(|p| p.to_string());
    [phone, id]
        .into_iter()
        .flatten()
        .any(|x| crate::session::ct_eq(&x, &v))
}

/// The public view of the dossier `code` if `verify` is its applicant's phone number or personal
/// ID; `None` when the code is unknown *or* `verify` is wrong (the same answer, so that the
/// lookup tells nothing about which).
pub(crate) async fn verified_status(
    s: &AppState,
    code: &DossierCode,
    verify: &str,
    en: bool,
) -> Result<Option<PublicStatus>, ApiError> {
    let Some(d) = s.store.dossier_by_code(code).await? else {
        return Ok(None);
    };
    if !holder_matches(&d.applicant, verify) {
        return Ok(None);
    }
    let log = s.store.history(d.id).await?;
    let names: std::collections::HashMap<AgencyCode, String> = s
        .store
        .agencies()
        .await?
        .into_iter()
        .map(|a| (a.code, a.name))
        .collect();
    let history =
        motcua_domain::dossier::notice::history(log.iter().map(|e| &e.event), en, false, &|a| {
            names.get(a).cloned()
        });
    Ok(Some(PublicStatus {
        code: code.to_string(),
        procedure_name: d.procedure.name.clone(),
        status: d.status.national_name(),
        national_status: d.status.national_code(),
        received_at: d.received_at,
        due_at: d.due_at,
        finished_at: d.finished_at,
        applicant_initials: Some(motcua_domain::dossier::notice::initials(&d.applicant.name)),
        status_text: Some(motcua_domain::dossier::notice::status_text(d.status, en)),
        history: Some(history),
    }))
}

/// The public lookup's refusal when an address asks too often.
pub(crate) fn too_many_lookups(wait_secs: u64) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too-many-lookups",
        "Too many lookups",
        format!("too many lookups from your address; try again in {wait_secs} s"),
    )
    .extra(serde_json::json!({ "retry_after": wait_secs }))
}

/// Optional proof of being the applicant.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PublicParams {
    /// The applicant's phone number or personal ID: adds the history in plain words and the
    /// applicant's initials. A wrong value answers 404 exactly as an unknown code does. Limited
    /// to 20 lookups a minute per client address (429).
    pub verify: Option<String>,
}

/// Status of a dossier by code, for anyone holding the receipt (as on the national portal);
/// with `verify` (the applicant's phone number or personal ID) also its history.
#[utoipa::path(get, path = "/api/v1/public/status/{code}", tag = "public",
    params(("code" = String, Path), PublicParams),
    responses((status = 200, body = PublicStatus), (status = 400, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
pub async fn public_status(
    State(s): State<AppState>,
    ext: axum::http::Extensions,
    Path(code): Path<String>,
    q: Result<Query<PublicParams>, QueryRejection>,
) -> Result<Json<PublicStatus>, ApiError> {
    let Query(p) = q?;
    let code =
        DossierCode::parse_lenient(&code).map_err(|e| ApiError::invalid("code", e.to_string()))?;
    let unknown = || ApiError::not_found("no dossier with this code");
    if let Some(v) = p.verify {
        s.lookup_limiter
            .hit(crate::session::client_ip(&ext))
            .map_err(too_many_lookups)?;
        return verified_status(&s, &code, &v, false)
            .await?
            .map(Json)
            .ok_or_else(unknown);
    }
    s.store
        .public_status(&code)
        .await?
        .map(|r| Json(r.into()))
        .ok_or_else(unknown)
}
