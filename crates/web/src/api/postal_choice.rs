//! The applicant's postal choice as it comes in (API field, page forms): its form checked by
//! the domain, its province and commune checked against the administrative units in force
//! (the commune must belong to the province) and their names filled in for display.

use crate::AppState;
use crate::error::ApiError;
use motcua_domain::dossier::{PostalAddress, PostalChoice};
use motcua_domain::forms::UnitLookup;

fn unit_names(
    units: &dyn UnitLookup,
    field: &str,
    mut a: PostalAddress,
) -> Result<PostalAddress, ApiError> {
    a.name = a.name.trim().to_string();
    a.phone = a.phone.trim().to_string();
    a.detail = a.detail.trim().to_string();
    a.email = a
        .email
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty());
    let province = units.province_name(&a.province).ok_or_else(|| {
        ApiError::invalid(field, format!("no province with code `{}`", a.province))
    })?;
    let (commune, of) = units
        .commune(&a.commune)
        .ok_or_else(|| ApiError::invalid(field, format!("no commune with code `{}`", a.commune)))?;
    if of != a.province {
        return Err(ApiError::invalid(
            field,
            format!(
                "commune `{}` is not in province `{}`",
                a.commune, a.province
            ),
        ));
    }
    a.province_name = province;
    a.commune_name = commune;
    Ok(a)
}

/// Checks a choice and fills the units' names (422 naming the address at fault).
pub async fn checked(s: &AppState, c: PostalChoice) -> Result<PostalChoice, ApiError> {
    c.check()?;
    let units = s.units().await?;
    Ok(PostalChoice {
        pickup: c
            .pickup
            .map(|a| unit_names(units.as_ref(), "postal.pickup", a))
            .transpose()?,
        return_to: c
            .return_to
            .map(|a| unit_names(units.as_ref(), "postal.return_to", a))
            .transpose()?,
    })
}
