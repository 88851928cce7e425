//! Prefill of a signed-in citizen's new e-form: what is known of them fills the applicant's
//! fields, never what they typed (docs/forms.md, "Prefill").
//!
//! The profile comes from their account (name; the e-mail or phone they sign in with), from
//! the applicant record of their latest own dossier (personal ID, phone, e-mail, address), and
//! then from the identity adapter looked up by that personal ID (audited like the counter's
//! lookups, purpose `online_form_prefill`), which fills only what is still unknown.
//!
//! Which field takes which value: a field tagged `prefill` takes that value (the shipped forms
//! tag their applicant fields); an untagged top-level field of type `personal_id`, `phone` or
//! `email` takes the person's personal ID, phone or e-mail when it is the only field of its type
//! and no field is tagged for that value. Names, dates of birth and addresses fill only tagged
//! fields: an untagged `ho_ten` may be somebody else's (the deceased, the child).

use crate::AppState;
use crate::identity::{self, Purpose};
use motcua_domain::agency::Actor;
use motcua_domain::codes::PersonalId;
use motcua_domain::forms::{FieldKind, FormDefinition, Profile, prefill_missing};
use motcua_store::DossierQuery;
use serde_json::{Map, Value};

/// What is known of the citizen `actor` (see the module's doc). Failures leave a value unknown:
/// prefill is a convenience, the form still opens.
pub async fn citizen_profile(s: &AppState, actor: &Actor) -> Profile {
    let mut p = Profile {
        name: Some(actor.name.clone()).filter(|n| !n.trim().is_empty()),
        ..Default::default()
    };
    if let Ok(Some(u)) = s.store.user(actor.user_id).await {
        if u.username.contains('@') {
            p.email = Some(u.username.clone());
        } else if crate::staff::login_name(&u.username).as_deref() == Some(u.username.as_str()) {
            p.phone = Some(u.username.clone());
        }
    }
    let latest = s
        .store
        .list_dossiers(&DossierQuery {
            owner: Some(actor.user_id),
            limit: 5,
            ..Default::default()
        })
        .await
        .unwrap_or_default();
    for row in latest {
        let Ok(Some(d)) = s.store.dossier(row.id).await else {
            continue;
        };
        let a = d.applicant;
        fill(&mut p.personal_id, a.personal_id.map(|x| x.to_string()));
        fill(&mut p.phone, a.phone);
        fill(&mut p.email, a.email);
        fill(&mut p.address_line, a.address);
        if p.personal_id.is_some() {
            break;
        }
    }
    let pid = p
        .personal_id
        .as_deref()
        .and_then(|x| x.parse::<PersonalId>().ok());
    if let Some(pid) = pid {
        let provider = identity::provider(s);
        match identity::lookup_audited(s, &*provider, &pid, Purpose::OnlineFormPrefill, actor).await
        {
            Ok(Some(found)) => {
                fill(&mut p.name, Some(found.name));
                fill(&mut p.phone, found.phone);
                fill(&mut p.email, found.email);
                fill(&mut p.address_line, found.address);
                // The population database knows the date of birth; the local records do not.
                if p.birth_date.is_none() {
                    p.birth_date = found
                        .date_of_birth
                        .and_then(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(status = %e.status(), "identity lookup for prefill failed"),
        }
    }
    p
}

fn fill(slot: &mut Option<String>, v: Option<String>) {
    if slot.is_none() {
        *slot = v.filter(|v| !v.trim().is_empty());
    }
}

/// Whether a field is of one kind.
type KindTest = fn(&FieldKind) -> bool;

/// Fills the blank applicant fields of `values` from `profile` (see the module's doc); what is
/// there already is kept.
pub fn apply(def: &FormDefinition, profile: &Profile, values: &mut Map<String, Value>) {
    prefill_missing(def, profile, values);
    let tagged = |key: &str| def.fields().any(|(_, f)| f.prefill.as_deref() == Some(key));
    let by_type: [(&str, KindTest, &Option<String>); 3] = [
        (
            "applicant.personal_id",
            |k| matches!(k, FieldKind::PersonalId),
            &profile.personal_id,
        ),
        (
            "applicant.phone",
            |k| matches!(k, FieldKind::Phone),
            &profile.phone,
        ),
        (
            "applicant.email",
            |k| matches!(k, FieldKind::Email),
            &profile.email,
        ),
    ];
    for (key, is_kind, value) in by_type {
        let Some(v) = value else { continue };
        if tagged(key) {
            continue;
        }
        let mut of_kind = def
            .sections
            .iter()
            .flat_map(|s| &s.fields)
            .filter(|f| is_kind(&f.kind));
        let (Some(f), None) = (of_kind.next(), of_kind.next()) else {
            continue;
        };
        let blank = match values.get(&f.id) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(_) => false,
        };
        if blank {
            values.insert(f.id.clone(), Value::String(v.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(fields: Value) -> FormDefinition {
        serde_json::from_value(json!({"id": "t", "title": "T",
            "sections": [{"id": "s", "title": "S", "fields": fields}]}))
        .unwrap()
    }

    fn profile() -> Profile {
        Profile {
            name: Some("Nguyễn Văn An".into()),
            personal_id: Some("001203000123".into()),
            phone: Some("0912345678".into()),
            email: Some("an@example.vn".into()),
            ..Default::default()
        }
    }

    #[test]
    fn tagged_fields_and_lone_typed_fields_fill_typed_values_stay() {
        let d = def(json!([
            {"id": "ho_ten", "label": "Họ tên", "type": "text", "prefill": "applicant.name"},
            {"id": "cccd", "label": "Số định danh", "type": "personal_id"},
            {"id": "dt", "label": "Điện thoại", "type": "phone"},
            {"id": "mail", "label": "Thư", "type": "email"}
        ]));
        let mut v = Map::new();
        v.insert("dt".into(), json!("0987654321"));
        apply(&d, &profile(), &mut v);
        assert_eq!(
            Value::Object(v),
            json!({"ho_ten": "Nguyễn Văn An", "cccd": "001203000123", "dt": "0987654321",
                   "mail": "an@example.vn"})
        );
    }

    #[test]
    fn untagged_names_and_ambiguous_types_are_left_alone() {
        let d = def(json!([
            {"id": "ho_ten", "label": "Họ tên người chết", "type": "text"},
            {"id": "cccd_1", "label": "Số định danh người chết", "type": "personal_id"},
            {"id": "cccd_2", "label": "Số định danh người đi khai", "type": "personal_id"},
            {"id": "dt", "label": "Điện thoại", "type": "phone"},
            {"id": "dt_2", "label": "Điện thoại", "type": "phone", "prefill": "applicant.phone"}
        ]));
        let mut v = Map::new();
        apply(&d, &profile(), &mut v);
        assert_eq!(Value::Object(v), json!({"dt_2": "0912345678"}));
    }
}
