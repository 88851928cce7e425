//! Accounts with several roles (decision 0020): a user holds one or more grants (a role in an
//! agency) and acts as one of them at a time; the session or API token records which. Disabled
//! accounts cannot sign in and their sessions and tokens stop working.

use chrono::{DateTime, Utc};
use motcua_domain::agency::Role;
use motcua_domain::codes::AgencyCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A role held in an agency (none for citizens and administrators).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// The agency, for staff roles.
    #[schema(value_type = Option<String>, example = "H40.24781")]
    pub agency: Option<AgencyCode>,
}

impl Grant {
    /// How the grant is stored: the agency column holds `''` when there is none.
    pub(crate) fn agency_key(&self) -> String {
        self.agency
            .as_ref()
            .map(|a| a.to_string())
            .unwrap_or_default()
    }

    /// Reads a stored grant.
    pub(crate) fn from_row(role: &str, agency: &str) -> crate::Result<Grant> {
        Ok(Grant {
            role: Role::parse(role)
                .ok_or_else(|| crate::StoreError::Corrupt(format!("role `{role}`")))?,
            agency: if agency.is_empty() {
                None
            } else {
                Some(
                    agency
                        .parse()
                        .map_err(|e| crate::StoreError::Corrupt(format!("{e}")))?,
                )
            },
        })
    }
}

/// An account as administrators see it (never the password hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UserSummary {
    /// Id.
    pub id: Uuid,
    /// Login name.
    pub username: String,
    /// Display name.
    pub name: String,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// Last change by an administrator, if any.
    pub updated_at: Option<DateTime<Utc>>,
    /// Roles held, the default one first.
    pub grants: Vec<Grant>,
}

/// Which accounts to list, by login name (keyset pagination).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// Words of the name or login name (diacritics folded).
    pub search: Option<String>,
    /// Only holders of this role.
    pub role: Option<Role>,
    /// Only holders of a role in this agency.
    pub agency: Option<AgencyCode>,
    /// Only login names after this one.
    pub after: Option<String>,
    /// Page size (1 to 200).
    pub limit: u32,
}

impl UserQuery {
    /// Applies the query to every account (sorted by login name).
    pub(crate) fn apply(&self, all: Vec<UserSummary>) -> Vec<UserSummary> {
        let words: Vec<String> = self
            .search
            .as_deref()
            .map(motcua_domain::text::fold)
            .unwrap_or_default()
            .split_whitespace()
            .map(String::from)
            .collect();
        all.into_iter()
            .filter(|u| self.after.as_ref().is_none_or(|a| u.username > *a))
            .filter(|u| {
                self.role
                    .is_none_or(|r| u.grants.iter().any(|g| g.role == r))
            })
            .filter(|u| {
                self.agency
                    .as_ref()
                    .is_none_or(|a| u.grants.iter().any(|g| g.agency.as_ref() == Some(a)))
            })
            .filter(|u| {
                if words.is_empty() {
                    return true;
                }
                let hay = motcua_domain::text::fold(&format!("{} {}", u.username, u.name));
                words.iter().all(|w| hay.contains(w.as_str()))
            })
            .take(self.limit.clamp(1, 200) as usize)
            .collect()
    }
}

/// A staff member holding a role in an agency (for assignment lists).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StaffMember {
    /// User id.
    pub user_id: Uuid,
    /// Login name.
    pub username: String,
    /// Display name.
    pub name: String,
}
