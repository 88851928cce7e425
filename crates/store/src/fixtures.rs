//! Domain fixtures the store's unit tests share: one published procedure of a provincial
//! department and a citizen's online submission of it, decided as the request path decides it.

use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::agency::{Actor, Role};
use motcua_domain::calendar::Calendar;
use motcua_domain::codes::{AgencyCode, DossierCode};
use motcua_domain::dossier::{
    Applicant, Channel, CodeAllocator, Command, Ctx, DocumentRef, Event, SubmitData, decide,
};
use motcua_domain::procedure::{
    Level, OnlineLevel, ProcedureVersion, TimeLimit, TimeUnit, VersionStatus,
};
use motcua_domain::workflow::WorkflowDef;
use uuid::Uuid;

/// The agency that receives and decides [`procedure`].
pub(crate) fn agency() -> AgencyCode {
    "000.00.10.H40".parse().unwrap()
}

/// A published procedure of [`agency`] with `code`: 10 working days, no fee, fully online.
pub(crate) fn procedure(code: &str) -> ProcedureVersion {
    let limit = TimeLimit {
        amount: 10,
        unit: TimeUnit::WorkingDays,
    };
    ProcedureVersion {
        code: code.parse().unwrap(),
        version: 1,
        status: VersionStatus::Published,
        name: "Cấp giấy phép xây dựng".into(),
        field: "Xây dựng".into(),
        levels: vec![Level::Province],
        online_level: OnlineLevel::Full,
        time_limit: limit,
        fee_vnd: 0,
        documents: vec![],
        decision_no: "1/QĐ-UBND".into(),
        competent_agency: Some(agency()),
        workflow: WorkflowDef::standard(limit.duration(), None),
        details: Default::default(),
        form: None,
    }
}

/// A citizen (user `user`) who submits online.
pub(crate) fn citizen(user: Uuid) -> Actor {
    Actor {
        user_id: user,
        name: "Nguyễn Văn An".into(),
        role: Role::Citizen,
        agency: None,
    }
}

/// A desk officer of [`agency`].
pub(crate) fn desk() -> Actor {
    Actor {
        user_id: Uuid::from_u128(0xde5c),
        name: "Trần Thị Bình".into(),
        role: Role::DeskOfficer,
        agency: Some(agency()),
    }
}

/// The online submission of [`procedure`] `code` with one component, its file given by `file`.
pub(crate) fn submission(code: &str, file: Option<String>) -> Command {
    let agency = agency();
    Command::Submit(Box::new(SubmitData {
        procedure: procedure(code).snapshot(&agency, &agency),
        applicant: Applicant {
            name: "Nguyễn Văn An".into(),
            personal_id: None,
            phone: None,
            email: None,
            address: None,
            notify: None,
        },
        channel: Channel::Online,
        receiving_agency: agency.clone(),
        competent_agency: agency,
        documents: vec![DocumentRef {
            name: "Đơn đề nghị".into(),
            file,
        }],
        form: serde_json::json!({}),
        receive: false,
        postal_tracking: None,
        on_behalf_of: None,
        origin: None,
        postal: None,
    }))
}

/// Numbers dossier codes per agency and day from 1, as the stores do.
#[derive(Default)]
pub(crate) struct Codes(std::collections::HashMap<(String, NaiveDate), u32>);

impl CodeAllocator for Codes {
    fn allocate(&mut self, agency: &AgencyCode, date: NaiveDate) -> Result<DossierCode, String> {
        let n = self.0.entry((agency.to_string(), date)).or_insert(0);
        *n += 1;
        DossierCode::new(agency.clone(), date, *n).map_err(|e| e.to_string())
    }
}

/// What `actor` doing `cmd` at `now` to a dossier in state `before` (none: a new one) decides.
pub(crate) fn decided(
    before: Option<&motcua_domain::dossier::Dossier>,
    cmd: &Command,
    actor: &Actor,
    now: DateTime<Utc>,
    codes: &mut Codes,
) -> Vec<Event> {
    let calendar = Calendar::vietnam_default();
    let mut ctx = Ctx {
        now,
        actor,
        calendar: &calendar,
        codes,
    };
    decide(before, cmd, None, &mut ctx).unwrap()
}
