//! Agencies, roles and the acting person: who may do what is decided from these.

use crate::codes::{AdminUnitCode, AgencyCode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a user is in the system. An account may hold several roles (each staff role in an
/// agency) but acts as one of them at a time (docs/decisions/0020-multi-role-accounts.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A citizen or a business applying for a procedure.
    Citizen,
    /// One-stop desk officer: receives dossiers, returns results.
    DeskOfficer,
    /// Specialist: processes dossiers of their agency.
    Specialist,
    /// Leader: assigns work, approves, signs.
    Leader,
    /// Administrator: catalogue, agencies, users. Never acts on dossiers.
    Admin,
}

impl Role {
    /// Every role, in the order the interface lists them.
    pub const ALL: [Role; 5] = [
        Role::Citizen,
        Role::DeskOfficer,
        Role::Specialist,
        Role::Leader,
        Role::Admin,
    ];

    /// Stable machine name (as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::DeskOfficer => "desk_officer",
            Role::Specialist => "specialist",
            Role::Leader => "leader",
            Role::Admin => "admin",
        }
    }

    /// Parses the machine name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Vietnamese label for people.
    pub fn label_vi(self) -> &'static str {
        match self {
            Role::Citizen => "Công dân, tổ chức",
            Role::DeskOfficer => "Cán bộ một cửa",
            Role::Specialist => "Chuyên viên xử lý",
            Role::Leader => "Lãnh đạo",
            Role::Admin => "Quản trị hệ thống",
        }
    }

    /// Whether the role is staff of an agency.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::DeskOfficer | Role::Specialist | Role::Leader)
    }
}

/// Kind of agency in the two-level local government (since 1 July 2025).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgencyKind {
    /// Provincial People's Committee (UBND tỉnh).
    ProvincialCommittee,
    /// Provincial Public Administrative Service Centre (TTPVHCC tỉnh): the provincial one-stop desk.
    ServiceCentre,
    /// Department or sector (Sở, ngành) of the province.
    Department,
    /// Commune/ward People's Committee with its one-stop desk (UBND xã/phường).
    CommuneCommittee,
}

/// An agency (cơ quan, đơn vị) identified by its electronic ID code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Agency {
    /// Electronic ID code (QCVN 102:2016).
    #[schema(value_type = String, example = "000.00.01.H40")]
    pub code: AgencyCode,
    /// Name with diacritics.
    pub name: String,
    /// What kind of agency this is.
    pub kind: AgencyKind,
    /// Parent agency, if any.
    #[schema(value_type = Option<String>)]
    pub parent: Option<AgencyCode>,
    /// Administrative unit the agency serves.
    #[schema(value_type = Option<String>)]
    pub admin_unit: Option<AdminUnitCode>,
    /// Whether the agency has a one-stop desk that receives dossiers.
    pub has_desk: bool,
}

/// The person acting on a dossier, as the authorization layer established them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Actor {
    /// User id.
    pub user_id: Uuid,
    /// Display name, kept in the history.
    pub name: String,
    /// Role of the user.
    pub role: Role,
    /// Agency of a staff member; none for citizens and administrators.
    #[schema(value_type = Option<String>)]
    pub agency: Option<AgencyCode>,
}

impl Actor {
    /// Whether the actor is staff with `role` in `agency`.
    pub fn is(&self, role: Role, agency: &AgencyCode) -> bool {
        self.role == role && self.agency.as_ref() == Some(agency)
    }

    /// Whether the actor is staff (any role) of `agency`.
    pub fn works_at(&self, agency: &AgencyCode) -> bool {
        self.role.is_staff() && self.agency.as_ref() == Some(agency)
    }
}
