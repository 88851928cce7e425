//! E-forms as data (biểu mẫu điện tử): a declarative definition per procedure version
//! ([`FormDefinition`]), checked when saved ([`FormDefinition::check`]), validated on the server
//! ([`validate`]), filled from the applicant's profile ([`prefill`]), and a generic form for
//! procedures without their own ([`generic_form`]). Rendering is the web crate's job.

mod check;
mod generic;
mod model;
mod prefill;
mod validate;

#[cfg(test)]
mod tests;

pub use check::MAX_FIELDS;
pub use generic::generic_form;
pub use model::*;
pub use prefill::{
    PREFILL_KEYS, Profile, ProfileAddress, declared_contact, prefill, prefill_missing,
};
pub use validate::{
    FieldError, UPLOADS_KEY, UnitLookup, Validated, is_blob_key, normalize_phone, validate,
    validate_at,
};
