//! Authorization of reads. A handler gets dossier data only as a [`Visible`] value, which only
//! this module constructs, after checking the actor may see that dossier: a citizen their own,
//! staff the dossiers their agency receives, decides, holds or has handled. Writes are
//! authorized by the domain (`decide` checks role and agency against the workflow step).

use crate::error::ApiError;
use motcua_domain::agency::{Actor, Role};
use motcua_domain::codes::AgencyCode;
use motcua_domain::dossier::Dossier;
use motcua_store::DossierQuery;

/// A dossier the actor may see. Constructed only by [`visible`].
pub struct Visible(Dossier);

impl Visible {
    /// The dossier.
    pub fn get(&self) -> &Dossier {
        &self.0
    }

    /// Takes the dossier.
    pub fn into_inner(self) -> Dossier {
        self.0
    }
}

/// Agencies involved with a dossier so far.
fn involved(d: &Dossier) -> impl Iterator<Item = &AgencyCode> {
    [&d.receiving_agency, &d.competent_agency, &d.current_agency]
        .into_iter()
        .chain(
            d.trail
                .iter()
                .filter_map(|s| d.procedure.step(s).map(|st| &st.agency)),
        )
}

/// Checks that `actor` may see `d`. Refusals say 404, not 403, so that nobody learns which
/// dossier ids or codes exist.
pub fn visible(actor: &Actor, d: Dossier) -> Result<Visible, ApiError> {
    let ok = match actor.role {
        Role::Citizen => d.owner == Some(actor.user_id),
        Role::DeskOfficer | Role::Specialist | Role::Leader => actor
            .agency
            .as_ref()
            .is_some_and(|a| involved(&d).any(|x| x == a)),
        Role::Admin => false,
    };
    if ok {
        Ok(Visible(d))
    } else {
        Err(ApiError::not_found("no such dossier"))
    }
}

/// Narrows a list query to what the actor may see.
pub fn scope(actor: &Actor, mut q: DossierQuery) -> Result<DossierQuery, ApiError> {
    match actor.role {
        Role::Citizen => {
            q.owner = Some(actor.user_id);
            q.agency = None;
        }
        Role::DeskOfficer | Role::Specialist | Role::Leader => {
            let a = actor
                .agency
                .clone()
                .ok_or_else(|| ApiError::forbidden("staff account without an agency"))?;
            if let Some(cur) = &q.current_agency
                && *cur != a
            {
                return Err(ApiError::forbidden(
                    "you can list only your own agency's inbox",
                ));
            }
            q.agency = Some(a);
            q.owner = None;
        }
        Role::Admin => {
            return Err(ApiError::forbidden(
                "administrators manage the catalogue and users; they do not read dossiers",
            ));
        }
    }
    Ok(q)
}

/// Leaders and administrators read statistics; leaders only of their own agency.
pub fn statistics_scope(
    actor: &Actor,
    requested: Option<AgencyCode>,
) -> Result<Option<AgencyCode>, ApiError> {
    match actor.role {
        Role::Admin => Ok(requested),
        Role::Leader => {
            let own = actor.agency.clone();
            match requested {
                Some(r) if Some(&r) != own.as_ref() => Err(ApiError::forbidden(
                    "leaders see their own agency's statistics",
                )),
                _ => Ok(own),
            }
        }
        _ => Err(ApiError::forbidden(
            "statistics are for leaders and administrators",
        )),
    }
}

/// The agencies a statistics report may cover for `actor`: administrators any agency or the
/// whole province (no agency asked); leaders their own agency and those below it; nobody else.
/// `children` adds the agencies below the one asked.
pub fn report_scope(
    actor: &Actor,
    requested: Option<&AgencyCode>,
    children: bool,
    all: &[motcua_domain::agency::Agency],
) -> Result<Vec<AgencyCode>, ApiError> {
    let below = |root: &AgencyCode| -> Vec<AgencyCode> {
        let mut out = vec![root.clone()];
        let mut i = 0;
        while i < out.len() {
            let cur = out[i].clone();
            out.extend(
                all.iter()
                    .filter(|a| a.parent.as_ref() == Some(&cur) && !out.contains(&a.code))
                    .map(|a| a.code.clone())
                    .collect::<Vec<_>>(),
            );
            i += 1;
        }
        out
    };
    let pick = |root: &AgencyCode| {
        if children {
            below(root)
        } else {
            vec![root.clone()]
        }
    };
    match actor.role {
        Role::Admin => Ok(match requested {
            Some(r) => pick(r),
            None => all.iter().map(|a| a.code.clone()).collect(),
        }),
        Role::Leader => {
            let own = actor
                .agency
                .clone()
                .ok_or_else(|| ApiError::forbidden("leader account without an agency"))?;
            let r = requested.cloned().unwrap_or_else(|| own.clone());
            if !below(&own).contains(&r) {
                return Err(ApiError::forbidden(
                    "leaders see the statistics of their own agency and the agencies below it",
                ));
            }
            Ok(pick(&r))
        }
        _ => Err(ApiError::forbidden(
            "statistics are for leaders and administrators",
        )),
    }
}
