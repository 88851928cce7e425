//! Prefill: fields tagged with a `prefill` key take their value from the applicant's profile
//! (their account, or identity data looked up through the identity adapter).

use super::model::{FieldKind, FormDefinition};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The profile values a field may be filled from.
pub const PREFILL_KEYS: [&str; 8] = [
    "applicant.name",
    "applicant.personal_id",
    "applicant.birth_date",
    "applicant.gender",
    "applicant.phone",
    "applicant.email",
    "applicant.address",
    "applicant.tax_code",
];

/// A structured address: codes of the administrative units and the street line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileAddress {
    /// Province code (2 digits).
    pub province: String,
    /// Commune code (5 digits).
    pub commune: String,
    /// House number, street, hamlet.
    #[serde(default)]
    pub street: String,
}

/// What is known of the applicant.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Full name.
    pub name: Option<String>,
    /// 12-digit personal ID.
    pub personal_id: Option<String>,
    /// Date of birth.
    pub birth_date: Option<NaiveDate>,
    /// `nam` or `nu` (as the forms' gender selects spell it).
    pub gender: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Address as units and street (fills address fields).
    pub address: Option<ProfileAddress>,
    /// Address as one line (fills text fields tagged `applicant.address`).
    pub address_line: Option<String>,
    /// Tax code.
    pub tax_code: Option<String>,
}

impl Profile {
    fn value(&self, key: &str, kind: &FieldKind) -> Option<Value> {
        let s = |v: &Option<String>| {
            v.clone()
                .filter(|s| !s.trim().is_empty())
                .map(Value::String)
        };
        match key {
            "applicant.name" => s(&self.name),
            "applicant.personal_id" => s(&self.personal_id),
            "applicant.birth_date" => self
                .birth_date
                .map(|d| Value::String(d.format("%Y-%m-%d").to_string())),
            "applicant.gender" => s(&self.gender),
            "applicant.phone" => s(&self.phone),
            "applicant.email" => s(&self.email),
            "applicant.tax_code" => s(&self.tax_code),
            "applicant.address" => match kind {
                FieldKind::Address { .. } => self.address.as_ref().map(|a| {
                    serde_json::json!({"province": a.province, "commune": a.commune, "street": a.street})
                }),
                _ => s(&self.address_line).or_else(|| {
                    self.address
                        .as_ref()
                        .filter(|a| !a.street.is_empty())
                        .map(|a| Value::String(a.street.clone()))
                }),
            },
            _ => None,
        }
    }
}

/// Initial values of a form for `profile`: every tagged top-level field the profile knows.
pub fn prefill(def: &FormDefinition, profile: &Profile) -> Value {
    let mut values = Map::new();
    prefill_missing(def, profile, &mut values);
    Value::Object(values)
}

/// Fills the tagged fields of `values` that are missing or blank; typed values are kept.
pub fn prefill_missing(def: &FormDefinition, profile: &Profile, values: &mut Map<String, Value>) {
    for (_, f) in def.fields() {
        let Some(key) = &f.prefill else { continue };
        let blank = match values.get(&f.id) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(_) => false,
        };
        if blank && let Some(v) = profile.value(key, &f.kind) {
            values.insert(f.id.clone(), v);
        }
    }
}

/// The applicant's contact as a declaration gives it — the reverse of prefill: the top-level
/// fields tagged `applicant.phone`, `applicant.email` and `applicant.personal_id`, when filled.
/// A citizen submitting for themselves is told of status changes at these.
pub fn declared_contact(def: &FormDefinition, values: &Value) -> Profile {
    let mut p = Profile::default();
    for (_, f) in def.fields() {
        let Some(key) = &f.prefill else { continue };
        let Some(v) = values
            .get(&f.id)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
        else {
            continue;
        };
        let slot = match key.as_str() {
            "applicant.phone" => &mut p.phone,
            "applicant.email" => &mut p.email,
            "applicant.personal_id" => &mut p.personal_id,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(v.to_string());
        }
    }
    p
}
